"""The torch backend's compiler probe until the backend is loaded (torch imported)."""

from __future__ import annotations

import sys
from typing import Any


def _not_loaded() -> bool:
    """The compiler probe until the backend is loaded. torch may be imported after multiad's
    first use, when the backends of the frameworks imported then were loaded (NOTE [First use
    under a compiler] in ``multiad/_select.py``); if the first torch call is then traced, this
    loads the backends of the frameworks imported now (``multiad.Backend.load_imported``), run
    as ordinary Python (the mark below).
    A torch that another thread is still importing answers False (NOTE [Probing a torch being
    imported])."""
    t = sys.modules.get("torch")
    if t is None or _importing(t) or not t.compiler.is_compiling():
        return False
    from multiad_torch import TorchBackend

    return TorchBackend.load_imported()


# NOTE [Probing a torch being imported]: ``sys.modules`` holds a module from the start of its
# import, so while one thread imports torch (the first torch call loading this backend, or the
# program's own ``import torch``) the probe above saw a partially initialized torch, and every
# multiad call in other threads, on any backend, raised "partially initialized module 'torch'
# has no attribute 'compiler'" (the probe runs on every call once this module is imported): a
# grad on numpy beside the first torch grad failed in 3 runs of 3 with 7 threads. The loading
# itself was serialised already (the registry's per-backend lock, and Python's per-module import
# lock for ``import torch``); only this read of ``sys.modules`` bypassed both. A torch still
# being imported cannot be tracing anything, so the probe answers False without waiting for it
# (a thread that needs torch waits in the registry's load); the test is importlib's own flag for
# a module whose code is still running, the one behind that error message.
def _importing(module: Any) -> bool:
    """Whether ``module``'s code is still running (its import, in some thread, is not done)."""
    return bool(getattr(getattr(module, "__spec__", None), "_initializing", False))


setattr(_not_loaded, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


def _true() -> bool:
    return True
