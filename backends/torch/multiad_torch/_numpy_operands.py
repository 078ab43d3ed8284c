"""numpy arrays as operands of tensors inside f: torch.Tensor's ``__array_ufunc__`` and numpy-to-tensor conversion."""

from __future__ import annotations

from typing import Any

import numpy as np

from multiad._arrays import named_integers

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
    (``numpy_operands`` in ``multiad/numpy/_torch.py``). Anything else (another ufunc, outside
    multiad's transforms, while torch.compile traces) does what numpy does for an object
    without ``__array_ufunc__``: convert the tensors with ``__array__`` (guarded as above),
    compute in numpy, and return a tensor as ``Tensor.__array_wrap__`` does. Tensor-with-tensor
    operators are untouched and cost nothing more; ``a + t`` outside the transforms now gives
    that tensor instead of a TypeError.
    """
    if hasattr(torch.Tensor, "__array_ufunc__"):
        return
    compiling = torch.compiler.is_compiling
    from multiad.numpy._torch import IMPL

    numpy_ops = {name: IMPL[name] for name in _UFUNCS}

    def __array_ufunc__(self: Any, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        op = numpy_ops.get(ufunc.__name__)
        if op is not None and method == "__call__" and not kwargs and _state.active:
            if not compiling():
                return op(*inputs)
        arrays = [np.asarray(x) if isinstance(x, torch.Tensor) else x for x in inputs]
        result = getattr(ufunc, method)(*arrays, **kwargs)
        if "out" in kwargs or not isinstance(result, (np.ndarray, np.generic)):
            return result
        return self.__array_wrap__(np.asarray(result))

    torch.Tensor.__array_ufunc__ = __array_ufunc__
