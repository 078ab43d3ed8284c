"""NumPy arrays that a function closes over, under torch.compile of a transform.

NOTE [NumPy arrays closed over in compiled transforms]: torch.compile takes a NumPy array that
the traced code reads from a global or a closure (weights ``A`` in ``mnp.matmul(A, x)``) as an
input of the graph: it converts the array to a tensor once while tracing, records that tensor's
dispatch keys in a guard, and on every call converts the array again and checks the guard.
Inside ``torch.func.grad``, ``vjp``, ``jvp``, ``jacrev`` or ``vmap`` the tracer runs with the
transform's level entered, so that first conversion makes a functorch wrapper (dispatch key
``FuncTorchGradWrapper``), while the conversion on each call makes a plain tensor: the guard
fails on the frame that made it ("Guard failed on the same frame it was created ... dispatch key
set mismatch"), with or without ``fullgraph``. This is torch's (``torch.func.grad`` of a function
reading ``torch.as_tensor(A)`` fails alike), and every multiad transform on torch runs f inside
such a level.

A closed-over torch tensor has no such problem: it exists before the level is entered and is a
constant of the transform. :func:`prepare` makes NumPy arrays the same: it wraps the tracer's
conversion of a NumPy array (``VariableBuilder.wrap_numpy_ndarray``) so that, while a functorch
level is entered, it runs with functorch's dispatch keys excluded (``torch._C._DisableFuncTorch``),
and the array becomes a plain tensor, an input of the graph that the transform does not
differentiate, as in eager mode: each call reads the array's values then, so an array changed in
place between calls gives the new values' derivatives. A read-only array is left read-only (the
tracer makes it writable to convert it, and torch warns once that it shares memory with a
read-only array; no transform writes to it). Outside a level the tracer's own conversion runs
unchanged.

:func:`prepare` runs where the torch backend's compiler probe answers True (every transform
asks before it runs f), as ordinary Python while torch.compile traces (the mark below), so it
imports nothing: the tracer's module is loaded then. It wraps once (and empties the tracer's
cached table of methods by type, which holds the method as it was); where a torch release lacks
the method it does nothing, and the tracer's own error stands.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import torch

from . import _callbacks

_WRAPPED = "_multiad_original"


def prepare() -> bool:
    """Wraps the tracer's conversion of NumPy arrays once (NOTE [NumPy arrays closed over in
    compiled transforms]); True, the probe's answer."""
    _callbacks.mark()  # NOTE [Callbacks run eagerly after a graph break]
    builder = sys.modules.get("torch._dynamo.variables.builder")
    cls = getattr(builder, "VariableBuilder", None)
    original = getattr(cls, "wrap_numpy_ndarray", None)
    if original is None or hasattr(original, _WRAPPED):
        return True
    setattr(cls, "wrap_numpy_ndarray", _outside_levels(original))  # noqa: B010 - a class of torch's
    # The tracer keeps its methods by type in a cached table, built on its first use.
    table = getattr(cls, "_type_dispatch_impl", None)
    clear = getattr(getattr(table, "__func__", table), "cache_clear", None)
    if clear is not None:
        clear()
    return True


setattr(prepare, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


def _outside_levels(original: Callable[..., Any]) -> Callable[..., Any]:
    current_level = torch._C._functorch.maybe_current_level
    disable = torch._C._DisableFuncTorch

    def wrap_numpy_ndarray(self: Any, value: Any) -> Any:
        if current_level() is None:
            return original(self, value)
        read_only = not value.flags.writeable  # the tracer makes it writable to convert it
        try:
            with disable():
                return original(self, value)
        finally:
            if read_only:
                value.flags.writeable = False

    wrap_numpy_ndarray.__doc__ = original.__doc__
    setattr(wrap_numpy_ndarray, _WRAPPED, original)
    return wrap_numpy_ndarray
