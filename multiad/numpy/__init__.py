"""Numpy-named functions that run on every backend.

Each function dispatches on its arguments' types, also while they are traced by a backend's
transforms (torch.func's wrapped tensors, JAX tracers, autograd boxes), so a function written
once with ``multiad.numpy`` runs on every backend. Creation functions (``zeros``, ``eye``, ...)
have no array argument to follow: they make arrays of the selected backend (see
``multiad.get_backend``) in its default float dtype.

Example:
    >>> import multiad.numpy as mnp, numpy as np
    >>> float(mnp.sum(mnp.sin(np.zeros(3)) + 1.0))
    3.0
"""

from __future__ import annotations

from typing import Any

from . import linalg as linalg
from ._creation import arange as arange
from ._creation import array as array
from ._creation import asarray as asarray
from ._creation import eye as eye
from ._creation import full as full
from ._creation import linspace as linspace
from ._creation import ones as ones
from ._creation import zeros as zeros
from ._dispatch import call as _call
from ._dispatch import dispatching as _d

# Elementwise math.
sin = _d("sin", "Sine")
cos = _d("cos", "Cosine")
tan = _d("tan", "Tangent")
arcsin = _d("arcsin", "Inverse sine")
arccos = _d("arccos", "Inverse cosine")
arctan = _d("arctan", "Inverse tangent")
arctan2 = _d("arctan2", "Two-argument inverse tangent")
sinh = _d("sinh", "Hyperbolic sine")
cosh = _d("cosh", "Hyperbolic cosine")
tanh = _d("tanh", "Hyperbolic tangent")
arctanh = _d("arctanh", "Inverse hyperbolic tangent")
exp = _d("exp", "Exponential")
expm1 = _d("expm1", "exp(x) - 1")
log = _d("log", "Natural logarithm")
log1p = _d("log1p", "log(1 + x)")
log2 = _d("log2", "Base-2 logarithm")
log10 = _d("log10", "Base-10 logarithm")
sqrt = _d("sqrt", "Square root")
square = _d("square", "Square")
abs = _d("abs", "Absolute value")  # noqa: A001 - numpy's name
sign = _d("sign", "Sign")
floor = _d("floor", "Floor")
ceil = _d("ceil", "Ceiling")
power = _d("power", "Power")
maximum = _d("maximum", "Elementwise maximum")
minimum = _d("minimum", "Elementwise minimum")
clip = _d("clip", "Clip to an interval")
where = _d("where", "Select by a condition")
# Reductions.
sum = _d("sum", "Sum")  # noqa: A001 - numpy's name
prod = _d("prod", "Product")
mean = _d("mean", "Mean")
max = _d("max", "Maximum")  # noqa: A001 - numpy's name
min = _d("min", "Minimum")  # noqa: A001 - numpy's name
# Linear algebra and shapes.
matmul = _d("matmul", "Matrix product")
einsum = _d("einsum", "Einstein summation")
tensordot = _d("tensordot", "Tensor dot product")
outer = _d("outer", "Outer product of two vectors")
trace = _d("trace", "Sum of the diagonal")
reshape = _d("reshape", "Reshape")
transpose = _d("transpose", "Permute axes")
moveaxis = _d("moveaxis", "Move an axis")
expand_dims = _d("expand_dims", "Insert an axis")
squeeze = _d("squeeze", "Remove length-one axes")
stack = _d("stack", "Stack along a new axis")
concatenate = _d("concatenate", "Join along an axis")
zeros_like = _d("zeros_like", "Zeros shaped like the argument")
ones_like = _d("ones_like", "Ones shaped like the argument")
full_like = _d("full_like", "A constant shaped like the argument")


def dot(a: Any, b: Any) -> Any:
    """numpy's ``dot``: the inner product of vectors, the matrix product of matrices, and for
    higher dimensions the sum over the last axis of ``a`` and the second-to-last of ``b``."""
    if len(a.shape) <= 2 and len(b.shape) <= 2:
        return _call("matmul", a, b)
    return _call("tensordot", a, b, axes=([-1], [-2 if len(b.shape) > 1 else 0]))


def var(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Variance with numpy's convention (divides by n, not n - 1)."""
    centered = x - mean(x, axis=axis, keepdims=True)
    return mean(centered * centered, axis=axis, keepdims=keepdims)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Standard deviation with numpy's convention (divides by n)."""
    return sqrt(var(x, axis=axis, keepdims=keepdims))


# isidentifier: pytest's assertion rewriting (multiad ships a pytest plugin) adds "@py_builtins".
__all__ = [n for n in dir() if n.isidentifier() and not n.startswith("_") and n not in ("annotations", "Any")]
