"""The common forms of ``sum``, ``mean``, ``reshape`` and ``linalg.norm`` of one torch tensor, run
without the general dispatch (NOTE [Common calls on torch]).

NOTE [Common calls on torch]: a call of ``mnp.sum(x)`` on a 1 to 2 us tensor spent three to four
times torch's own time in ``call``'s library search, its keyword, axis and 0-d checks and the
general reduction (numpy's dtype rules, ``initial=``, ``where=``), and ``mnp.linalg.norm(x)``
27 times, through the composite's five dispatched calls. For the forms most code writes, one
tensor of class ``torch.Tensor`` (not a subclass, not an array of another framework, so no
library is to be found and no mix to refuse) with

- ``sum``/``mean``: ``axis`` None, an int or a tuple of ints in range and without repeats,
  ``keepdims`` a bool, ``dtype`` None; a floating tensor (``sum`` also of signed integers,
  bool and uint8, whose numpy dtype, int64 or uint64, the general path's table gives); a
  ``mean`` only of a tensor with elements (numpy warns over none);
- ``reshape``: a shape of ints (or one int) that fits, no keywords (order 'C');
- ``linalg.norm``: ``ord`` and ``axis`` None, a real floating tensor of at least one dimension,

the functions here do what the general path does for them, with the same torch operations in
the same order (the same values, dtypes and derivatives, the 2-norm's derivative 0 at zero
included), and answer :data:`SLOW` for anything else, which then takes the general path and its
errors unchanged (an axis out of range, a shape that does not fit, a 0-d tensor, keywords).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from . import _dispatch
from ._torch_reduce import _result_dtype

#: What a function here answers for a call it leaves to the general path.
SLOW: Any = _dispatch.SLOW
_Tensor = torch.Tensor
_sum, _mean, _reshape, _where, _sqrt = torch.sum, torch.mean, torch.reshape, torch.where, torch.sqrt
#: Dtypes whose sum torch takes as the general path does (``_torch_reduce._sum``): no uint16-64.
_SUMMED = frozenset({torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8, torch.bool})
#: ``tuple(range(n))``, the dims of a reduction over every axis (what ``_torch_reduce._axes`` gives).
_ALL = [tuple(range(n)) for n in range(33)]


def _dims(axis: Any, nd: int) -> Any:
    """``axis`` of a tensor of ``nd`` >= 1 dimensions as the general reduction's dims, or None
    where the general path is to check it (out of range, repeated, empty, not ints)."""
    if axis is None:
        return _ALL[nd] if nd < 33 else None
    if type(axis) is int:
        return (axis % nd,) if -nd <= axis < nd else None
    if type(axis) is not tuple or not axis:
        return None
    out = []
    for a in axis:
        if type(a) is not int or not -nd <= a < nd:
            return None
        out.append(a % nd)
    dims = tuple(out)
    return dims if len(set(dims)) == len(dims) else None


def _reduction(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any, bool] | None:
    """``(tensor, dims, keepdims)`` of a ``sum``/``mean`` call of the common form, else None."""
    n = len(args)
    if n == 0 or n > 2:
        return None
    a = args[0]
    if type(a) is not _Tensor:
        return None
    axis = args[1] if n == 2 else None
    keepdims = False
    for k, v in kwargs.items():
        if k == "axis" and n == 1:
            axis = v
        elif k == "keepdims" and type(v) is bool:
            keepdims = v
        elif not (k == "dtype" and v is None):
            return None
    nd = a.ndim
    if nd == 0:
        return None
    dims = _dims(axis, nd)
    if dims is None:
        return None
    return a, dims, keepdims


def sum_(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    found = _reduction(args, kwargs)
    if found is None:
        return SLOW
    a, dims, keepdims = found
    dt = a.dtype
    if a.is_floating_point():
        return _sum(a, dim=dims, keepdim=keepdims)
    if dt not in _SUMMED:
        return SLOW
    want = _result_dtype("sum", dt, None)
    r = _sum(a.to(torch.int64) if dt is torch.bool else a, dim=dims, keepdim=keepdims)
    return r if want is None or r.dtype == want else r.to(want)


def mean(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    found = _reduction(args, kwargs)
    if found is None:
        return SLOW
    a, dims, keepdims = found
    if not a.is_floating_point() or a.numel() == 0:
        return SLOW
    return _mean(a, dim=dims, keepdim=keepdims)


def reshape(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if kwargs or len(args) != 2:
        return SLOW
    a, shape = args
    if type(a) is not _Tensor:
        return SLOW
    if type(shape) is int:
        dims: Any = (shape,)
    elif type(shape) is tuple:
        for d in shape:
            if type(d) is not int:
                return SLOW
        dims = shape
    else:
        return SLOW
    try:
        return _reshape(a, dims)
    except RuntimeError:  # a shape that does not fit: the general path raises numpy's error
        return SLOW


def norm(x: Any, ord: Any, axis: Any, keepdims: bool) -> Any:  # noqa: A002 - numpy's name
    """``linalg.norm``'s 2-norm of every element, as ``_layout.norm`` computes it (``_safe_sqrt``
    of the sum of squares), or SLOW."""
    if ord is not None or axis is not None or type(x) is not _Tensor or not x.is_floating_point():
        return SLOW
    nd = x.ndim
    if nd == 0 or nd >= 33:
        return SLOW
    v = _sum(x * x, dim=_ALL[nd], keepdim=False)
    zero = v == 0
    out = _where(zero, 0.0, _sqrt(_where(zero, 1.0, v)))
    return _reshape(out, (1,) * nd) if keepdims else out


FAST: dict[str, Callable[[tuple[Any, ...], dict[str, Any]], Any]] = {"sum": sum_, "mean": mean, "reshape": reshape}
