"""Operators of autograd's boxes refuse another framework's arrays (NOTE [Arrays of another framework as operands]).

NOTE [Arrays of another framework as operands]: arguments are converted to the backend at the
call, arrays ``f`` closes over are not. With ``o`` a JAX array, torch refuses ``x * o`` with
Python's "unsupported operand type(s)", which multiad names as ``o``, an array of another
backend, with its conversion (NOTE [Operators on closed-over arrays] in multiad/_foreign.py).
autograd's box took ``o`` in: numpy read it as a numpy array, so ``sum(x * o)`` gave a gradient
(a JAX array inside autograd's trace) and ``sum(sin(x) * x * o)`` autograd's internal "Can't find
vector space for value ... of type ArrayImpl" from the backward pass. The box's arithmetic
operators (``+ - * / ** % @`` and their reflected forms) now return NotImplemented for an operand
that is an array of another framework (an array-API or DLPack array that is not numpy's), as
torch's do: the other array's own operator refuses the box too, and Python raises the same
TypeError in ``f``'s frame, which multiad turns into the same MixedBackendError as on torch.
numpy arrays, numpy scalars, Python numbers, boxes and other objects pass as before (one type
lookup per operator).

The refusal holds only while a trace of multiad's own runs in the thread (the trace stack's
``own``, counted by the backend's ``new_own_trace``): autograd's operators belong to every user
of autograd in the process, and a plain ``autograd.grad`` outside multiad's calls keeps
autograd's own behaviour after the backend has loaded (``x * o`` with a JAX array ``o`` is
accepted there as before).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_OPERATORS = (
    "add", "sub", "mul", "truediv", "div", "pow", "mod", "matmul",
    "radd", "rsub", "rmul", "rtruediv", "rdiv", "rpow", "rmod", "rmatmul",
)  # fmt: skip
#: Operand types that are never another framework's arrays: the check is one set lookup for them.
_PLAIN: set[type] = {np.ndarray, float, int, bool, complex, np.float64, np.float32}
#: numpy's array and scalar types, and autograd's box (its base class, set by :func:`install`).
_OWN: list[tuple[type, ...]] = [(np.ndarray, np.generic)]
#: The backend's per-thread trace stack, whose ``own`` counts multiad's traces (set by :func:`install`).
_STACK: list[Any] = [None]


def _other_framework(x: Any) -> bool:
    """Whether ``x`` is an array of a framework other than numpy and autograd."""
    if isinstance(x, _OWN[0]):
        return False
    cls = type(x)
    return hasattr(cls, "__array_namespace__") or hasattr(cls, "__dlpack__")


def _refusing(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def operator(self: Any, other: Any) -> Any:
        if type(other) not in _PLAIN and _STACK[0].own and _other_framework(other):
            return NotImplemented
        return op(self, other)

    operator._multiad_refusing = True  # type: ignore[attr-defined]
    operator.__name__, operator.__qualname__, operator.__doc__ = op.__name__, op.__qualname__, op.__doc__
    return operator


def install(array_box: type, box: type, stack: Any) -> None:
    """Wraps ``array_box``'s arithmetic operators, once per process; ``box``: autograd's ``Box``;
    ``stack``: the backend's trace stack, with the per-thread count ``own`` of multiad's traces."""
    _STACK[0] = stack
    _PLAIN.add(array_box)
    _OWN[0] = (np.ndarray, np.generic, box)
    for name in _OPERATORS:
        op = getattr(array_box, f"__{name}__", None)
        if op is not None and not getattr(op, "_multiad_refusing", False):
            setattr(array_box, f"__{name}__", _refusing(op))
