"""numpy arrays as operands of tensors inside f: torch.Tensor's ``__array_ufunc__`` and numpy-to-tensor conversion."""

from __future__ import annotations

from typing import Any

import numpy as np

import multiad

from ._guard import _state

#: torch, set by :meth:`TorchBackend.load`.
torch: Any = None


#: numpy ufuncs with a numpy array operand that f may apply to tensors; each runs as
#: ``multiad.numpy``'s function of the same name on torch (NOTE [numpy arrays inside f]).
_UFUNCS = frozenset(
    "add subtract multiply divide true_divide power matmul maximum minimum "
    "greater greater_equal less less_equal equal not_equal".split()
)


def _from_numpy(x: np.ndarray, device: Any = None) -> Any:
    """A numpy array as a tensor, sharing its memory where torch can: a read-only array (torch
    warns) or one with negative strides (``x[::-1]``, which torch cannot wrap) is copied, and
    one in non-native byte order (``'>f8'``, which torch cannot wrap either) converted."""
    if not x.dtype.isnative:
        return torch.from_numpy(x.astype(x.dtype.newbyteorder("="))).to(device)
    try:
        return torch.from_numpy(x if x.flags.writeable and min(x.strides, default=0) >= 0 else x.copy()).to(device)
    except TypeError:
        named = named_integers(x)  # NOTE [numpy's long long arrays]
        if named is None:
            raise
        return _from_numpy(named, device)


def named_integers(x: np.ndarray) -> np.ndarray | None:
    """``x`` viewed as its dtype's named type where it is numpy's C long long (``'q'``, ``'Q'``,
    which torch refuses: "can't convert np.ndarray of type numpy.ulonglong"), else None (NOTE
    [numpy's long long arrays] in ``multiad/_arrays.py``, where multiad.numpy does the same)."""
    if x.dtype.char not in "qQ":
        return None
    named = np.dtype(x.dtype.name)
    return None if named.char == x.dtype.char else x.view(named)


def _install_numpy_operands() -> None:
    """NOTE [numpy arrays inside f]: torch's tensor operators reject a numpy array operand, and
    Python then hands the operation to numpy: ``t * a`` converts ``t`` with ``__array__`` (for
    a tensor that carries a derivative the conversion guard raises, as the numpy result would
    drop the derivative), and ``a + t`` fails outright (numpy defers to the tensor's
    ``__radd__``, which rejects the array). JAX and autograd accept numpy operands, so code
    closing over numpy arrays (weights bound with ``functools.partial``) works there.

    ``torch.Tensor`` gets an ``__array_ufunc__``, so that numpy hands such operations to it:
    while f runs under this backend's transforms, a binary ufunc of the table above runs as
    ``multiad.numpy``'s function of the same name on torch, which turns the numpy operands
    into constant tensors on the tensor's device, so the derivative flows through the tensor.
    It computes in numpy's result dtype, as numpy does outside the transforms and as JAX (with
    x64) and autograd do: ``A @ x`` of a float64 array and a float32 tensor is float64 (the
    derivative is cast back to x's float32). torch's own functions, called here before, gave
    torch's promotion, which differed from numpy's (an int64 array times a float32 tensor was
    float32), and ``torch.matmul`` does not promote at all: ``A @ x`` raised torch's "addmv
    input tensors must have the same dtype" inside the transforms, where it returned a float64
    tensor outside them. The dtypes are planned once per ufunc and argument dtypes
    (``numpy_operands`` in ``multiad/numpy/_torch.py``; the functions are those of
    ``multiad.Backend.numpy_function``, multiad.numpy's own, ``power`` with its derivative
    conventions at 0 included). Outside the transforms, see NOTE
    [numpy operands outside the transforms]. Tensor-with-tensor operators are untouched and
    cost nothing more.
    """
    if hasattr(torch.Tensor, "__array_ufunc__"):
        return
    compiling = torch.compiler.is_compiling
    numpy_ops = {name: multiad.Backend.numpy_function(name, "torch") for name in _UFUNCS}

    def __array_ufunc__(self: Any, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "__call__" and not kwargs:
            name = ufunc.__name__
            op = numpy_ops.get(name)
            if _state.active and not compiling():
                if op is not None:
                    return op(*inputs)
            elif len(inputs) == 2 and name in _REFLECTED and isinstance(inputs[1], torch.Tensor):
                # NOTE [numpy operands outside the transforms]
                left = inputs[0]
                if type(left) is np.ndarray and left.ndim == 0 and name in _COMPARISONS:
                    left = left[()]  # numpy hands a scalar's comparison over as a 0-d array
                if isinstance(left, np.generic):
                    return _reflected(name, left, inputs[1])
            if op is not None and any(isinstance(x, np.ndarray) for x in inputs):
                return op(*inputs)
        return _as_without_array_ufunc(ufunc, method, inputs, kwargs)

    torch.Tensor.__array_ufunc__ = __array_ufunc__


# NOTE [numpy operands outside the transforms]: the ``__array_ufunc__`` of NOTE [numpy arrays
# inside f] is torch.Tensor's for the whole process, so outside multiad's transforms (and while
# torch.compile traces) it has to leave plain PyTorch code as it was without it. With the method,
# numpy no longer defers to the tensor: a numpy scalar operator ``np.float64(2.0) * t``, which
# Python answered with ``t.__rmul__`` (torch's own operator: float32, the derivative kept), and
# ``np.float64(1.0) > t`` (``t.__lt__``: bool) reach it as ``numpy.multiply(s, t)`` and
# ``numpy.greater(s, t)``. Converting the tensor there, as numpy does without the method, gave a
# float64 result, a RuntimeError for a tensor that requires grad (``0.5 * loss`` in training code
# with ``np.float64(0.5)``, also inside ``torch.func.grad`` and ``vmap``), and torch's legacy
# ``__array_wrap__`` made comparisons ``uint8``, where ``~mask`` is 254/255 and ``t[~mask]``
# selects everything. So outside the transforms:
#
# - a numpy scalar (``np.generic``) left of a tensor on a ufunc that is a Python operator runs as
#   the tensor's reflected operator, which is what Python ran without the method. The call
#   ``numpy.multiply(s, t)`` cannot be told from ``s * t``, so it gives the same (without the
#   method numpy computed it, in numpy's dtype). A tensor left of a numpy scalar never gets here
#   from an operator (torch's own operators take numpy scalars): ``numpy.multiply(t, s)`` is numpy's.
#   numpy hands a scalar's comparison over as a 0-d array, so a 0-d array left of a tensor on a
#   comparison is taken as its scalar (``np.array(1.1) < t``, which raised, is ``t > 1.1``).
# - a numpy array with a tensor on a ufunc of the table runs as ``multiad.numpy``'s function, as
#   inside the transforms: numpy's dtype, bool comparisons, the tensor's derivative kept. Without the
#   method most of these raised (``a + t``, ``a > t``, ``t > a``), or gave numpy's value with
#   comparisons ``uint8`` and a RuntimeError for a tensor that requires grad (``t + a``,
#   ``numpy.greater(a, t)``), or, for ``a == t`` and ``a != t``, Python's identity comparison (a
#   single bool), and ``a / t`` was ``a * t.reciprocal()``, rounded in the tensor's dtype.
# - everything else (another ufunc, a method such as ``reduce`` or ``at``, keywords, Python numbers
#   or only tensors as operands) runs as numpy runs it without the method, by calling the ufunc
#   again with each tensor in a stand-in that has the tensor's ``__array__``, ``__array_wrap__`` and
#   ``__array_priority__`` and no ``__array_ufunc__`` (:class:`_WithoutArrayUfunc`): the same
#   conversion, the same wrapping (``uint8`` for ``numpy.isfinite(t)``, torch's own), the same
#   errors (``numpy.add.at(t, ...)`` refuses a non-array, where converting the tensor by hand wrote
#   into it through the memory the array shares). So ``a % t``, which raised, is numpy's value as
#   ``t % a`` always was (``uint8`` for ``a & t`` of bools, as for ``t & a``). Where another operand
#   has an ``__array_ufunc__`` of its own, NotImplemented lets numpy ask it, as it did.
#
# Inside the transforms a numpy scalar keeps numpy's promotion (``np.float64(0.5) * x`` is float64
# there, float32 outside), and other ufuncs of a tensor that carries a derivative raise the
# conversion guard's error (NOTE [numpy functions on tensors]). torch.compile traces numpy
# operations on tensors itself and does not call the method.

#: numpy ufuncs that are Python binary operators: the tensor's method Python calls when a numpy
#: scalar on the left defers to it, and the operator's name in Python's TypeError.
_REFLECTED: dict[str, tuple[str, str]] = {
    "add": ("__radd__", "+"),
    "subtract": ("__rsub__", "-"),
    "multiply": ("__rmul__", "*"),
    "divide": ("__rtruediv__", "/"),
    "floor_divide": ("__rfloordiv__", "//"),
    "remainder": ("__rmod__", "%"),
    "divmod": ("__rdivmod__", "divmod()"),
    "power": ("__rpow__", "** or pow()"),
    "matmul": ("__rmatmul__", "@"),
    "bitwise_and": ("__rand__", "&"),
    "bitwise_or": ("__ror__", "|"),
    "bitwise_xor": ("__rxor__", "^"),
    "left_shift": ("__rlshift__", "<<"),
    "right_shift": ("__rrshift__", ">>"),
    "greater": ("__lt__", ">"),
    "greater_equal": ("__le__", ">="),
    "less": ("__gt__", "<"),
    "less_equal": ("__ge__", "<="),
    "equal": ("__eq__", "=="),
    "not_equal": ("__ne__", "!="),
}


_COMPARISONS = frozenset("greater greater_equal less less_equal equal not_equal".split())


def _reflected(name: str, scalar: Any, t: Any) -> Any:
    """``scalar <op> t`` as Python evaluates it when ``scalar`` defers to ``t`` (NOTE [numpy
    operands outside the transforms])."""
    method, symbol = _REFLECTED[name]
    bound = getattr(t, method, None)
    result = NotImplemented if bound is None else bound(scalar)
    if result is not NotImplemented:
        return result
    if name in ("equal", "not_equal"):  # Python's identity comparison
        return (scalar is t) == (name == "equal")
    a, b = f"numpy.{type(scalar).__name__}", type(t).__name__
    if symbol[0] in "<>":
        raise TypeError(f"'{symbol}' not supported between instances of '{a}' and '{b}'")
    raise TypeError(f"unsupported operand type(s) for {symbol}: '{a}' and '{b}'")


class _WithoutArrayUfunc:
    """A tensor as numpy sees it without ``torch.Tensor.__array_ufunc__`` (NOTE [numpy operands
    outside the transforms]): its conversion, its wrapping of results and its priority, with
    torch's signatures, so that numpy calls them as it called the tensor's."""

    __slots__ = ("__array_priority__", "tensor")

    def __init__(self, tensor: Any) -> None:
        self.tensor = tensor
        self.__array_priority__ = tensor.__array_priority__

    def __array__(self, dtype: Any = None) -> Any:
        return self.tensor.__array__() if dtype is None else self.tensor.__array__(dtype)

    def __array_wrap__(self, array: Any) -> Any:
        return self.tensor.__array_wrap__(array)


_NDARRAY_UFUNC = np.ndarray.__array_ufunc__


def _as_without_array_ufunc(ufunc: Any, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``getattr(ufunc, method)(*inputs, **kwargs)`` as numpy ran it before torch.Tensor had an
    ``__array_ufunc__`` (NOTE [numpy operands outside the transforms])."""
    for x in (*inputs, *kwargs.get("out", ())):
        own = getattr(type(x), "__array_ufunc__", _NDARRAY_UFUNC)
        if own is not _NDARRAY_UFUNC and not isinstance(x, torch.Tensor):
            return NotImplemented  # numpy asks that operand's own __array_ufunc__ next

    def plain(x: Any) -> Any:
        return _WithoutArrayUfunc(x) if isinstance(x, torch.Tensor) else x

    kwargs = {k: tuple(map(plain, v)) if k == "out" else plain(v) for k, v in kwargs.items()}
    return getattr(ufunc, method)(*map(plain, inputs), **kwargs)
