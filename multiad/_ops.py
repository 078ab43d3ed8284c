"""Array operations the core needs on any backend's arrays, through autoray.

autoray is imported on first use rather than with multiad: its import pulls in opt_einsum and
would double the cost of ``import multiad``.

NOTE [Operations resolved eagerly]: autoray finds a library's function by importing it the first
time it is asked for, which a compiler that traces Python (torch.compile) cannot trace. The
first time a call uses a backend, :func:`prepare` resolves every operation the core uses for the
backend's array modules, outside any compiled region, so that traced calls only look them up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._backend import Backend

#: The operations the core calls through :func:`do`.
CORE_OPS = ("reshape", "transpose", "concatenate", "stack", "zeros_like", "ones_like")

_do: Callable[..., Any] | None = None
_prepared: set[str] = set()


def do(name: str, *args: Any, **kwargs: Any) -> Any:
    """autoray's ``do``: numpy's function ``name`` for the library of the first argument."""
    global _do
    if _do is None:
        from autoray import do as autoray_do

        _do = autoray_do
    return _do(name, *args, **kwargs)


def prepare(b: Backend) -> None:
    """Resolves :data:`CORE_OPS` for ``b``'s array modules once (NOTE [Operations resolved eagerly])."""
    if b.name in _prepared:
        return
    _prepared.add(b.name)
    from autoray import get_lib_fn

    for module in b.array_modules:
        for name in CORE_OPS:
            try:
                get_lib_fn(module, name)
            except Exception:  # noqa: BLE001 - only a cache warm-up: do() resolves it when called
                pass
