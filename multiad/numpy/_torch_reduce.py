"""numpy's reductions, scans, arg-extrema and sorts on torch tensors (numpy's signatures)."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from . import _torch_dtypes as _dt
from ._torch import _INT_RANGE, tensor

Fn = Callable[..., Any]


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        a = int(a)
        if not -builtins.max(ndim, 1) <= a < builtins.max(ndim, 1):
            raise np.exceptions.AxisError(a, ndim)
        out.append(a % builtins.max(ndim, 1))
    return tuple(out)


_NOT_GIVEN: Any = np._NoValue  # numpy's own marker for an absent ``initial``
# The value a masked-out element (``where=False``) contributes, per reduction.
_IDENTITY: dict[str, Any] = {"sum": 0, "prod": 1, "all": True, "any": False, "mean": 0}


_RESULT_DTYPES: dict[tuple[str, torch.dtype, Any], torch.dtype | None] = {}


def _result_dtype(name: str, of: torch.dtype, dtype: Any) -> torch.dtype | None:
    """The dtype of numpy's reduction ``name`` of ``of`` values with ``dtype=`` (cached); None
    keeps torch's for an input dtype numpy lacks (bfloat16)."""
    key = (name, of, dtype)
    if key in _RESULT_DTYPES:
        return _RESULT_DTYPES[key]
    asked = None if dtype is None else _dt.torch_dtype(dtype, f"mnp.{name}")
    kind, asked_np = _dt.numpy_dtype(of), None if asked is None else _dt.numpy_dtype(asked)
    if kind is None or (asked is not None and asked_np is None):
        want = asked
    else:
        kwargs = {} if asked_np is None else {"dtype": asked_np}
        want = _dt.as_torch(_dt.result(name, (kind,), reduction=True, **kwargs))
    if not torch.compiler.is_compiling():  # NOTE [Tables a trace reads and does not fill] in multiad/_ops.py
        _RESULT_DTYPES[key] = want
    return want


def _no_out(name: str, out: Any) -> None:
    if out is not None:
        raise NotImplementedError(
            f"mnp.{name}: out= is not supported on torch (traced and JAX arrays cannot be written in place); "
            "use the returned array"
        )


def _reduce(name: str, op: Fn) -> Fn:
    """numpy's reduction ``name`` (``axis``, ``dtype``, ``keepdims``, ``initial``, ``where``) by
    ``op(tensor, dims, keepdim)``; dtypes as numpy's (NOTE [numpy dtypes on torch]), positional
    arguments in numpy's order for ``name`` (see NOTE [Reductions' positional order])."""
    extremum = name in ("max", "amax", "min", "amin")

    def reduce(
        a: Any,
        axis: Any = None,
        dtype: Any = None,
        out: None = None,
        keepdims: bool = False,
        initial: Any = _NOT_GIVEN,
        where: Any = True,
    ) -> Any:
        _no_out(name, out)
        if initial is None:  # numpy's ufunc.reduce reads initial=None as no initial value
            initial = _NOT_GIVEN
        t = tensor(a)
        want = _result_dtype(name, t.dtype, dtype)
        if dtype is not None:
            t = t.to(_dt.torch_dtype(dtype, f"mnp.{name}"))
        elif want is not None and want.is_floating_point and not t.is_floating_point():
            t = t.to(want)  # the mean of integers, in float64
        if type(initial) is int:
            _check_int_initial(name, initial, want if want is not None else t.dtype)
        if t.ndim == 0:
            t = t.reshape(1)
            axis, squeeze = None, True
        else:
            squeeze = False
        dims = _axes(axis, t.ndim)
        mask = None
        if where is not True:
            mask = torch.broadcast_to(tensor(where, t).to(torch.bool), t.shape)
            if extremum and initial is _NOT_GIVEN:
                raise ValueError(
                    f"mnp.{name}: reducing with a where= mask needs initial= (the value of an all-masked "
                    "reduction), as in numpy"
                )
            fill = initial if extremum else _IDENTITY[name]
            t = torch.where(mask, t, torch.as_tensor(fill, dtype=t.dtype, device=t.device))
        if not dims:  # axis=(): numpy reduces over no axis; torch's dim=() means every axis
            t, dims, keepdims = t.unsqueeze(-1), (t.ndim,), False
            mask = None if mask is None else mask.unsqueeze(-1)
        if extremum and initial is not _NOT_GIVEN and _count(t, dims) == 0:  # torch raises on no values
            shape = [1 if d in dims else n for d, n in enumerate(t.shape) if keepdims or d not in dims]
            r = torch.full(shape, initial, dtype=t.dtype, device=t.device)
        else:
            r = op(t, dims, keepdims)
        if name == "mean" and mask is not None:
            r = r * (_count(t, dims) / torch.sum(mask, dim=dims, keepdim=keepdims).to(r.dtype))
        if initial is not _NOT_GIVEN:
            if name not in _INITIAL:
                raise TypeError(f"mnp.{name}: numpy's {name} takes no initial=")
            # in the result's dtype, then in r's (the same bits: torch sums uint8 in int64)
            init = torch.as_tensor(initial, dtype=want if want is not None else r.dtype, device=r.device)
            r = _INITIAL[name](r, init.to(r.dtype))
        if squeeze:
            r = r.reshape(())
        return r if want is None or r.dtype == want else r.to(want)

    # NOTE [Reductions' positional order]
    # numpy's max, min, amax, amin, all and any take no dtype=: their third positional argument
    # is out= and the fourth keepdims= (``np.max(x, 1, None, True)``), where sum, prod and mean
    # take (axis, dtype, out, keepdims). all and any take where= only by keyword, and no initial=.
    if extremum:

        def extreme(
            a: Any,
            axis: Any = None,
            out: None = None,
            keepdims: bool = False,
            initial: Any = _NOT_GIVEN,
            where: Any = True,
        ) -> Any:
            return reduce(a, axis, None, out, keepdims, initial, where)

        return extreme
    if name in ("all", "any"):

        def logical(a: Any, axis: Any = None, out: None = None, keepdims: bool = False, *, where: Any = True) -> Any:
            return reduce(a, axis, None, out, keepdims, _NOT_GIVEN, where)

        return logical
    return reduce


def _check_int_initial(name: str, initial: int, dtype: torch.dtype) -> None:
    """numpy's OverflowError for an ``initial`` the result's integer dtype cannot hold (torch
    wraps it: ``max`` of uint8 values with ``initial=-2`` was 254)."""
    bounds = _INT_RANGE.get(dtype)
    if bounds is not None and not bounds[0] <= initial <= bounds[1]:
        raise OverflowError(
            f"mnp.{name}: Python integer {initial} out of bounds for {_dt.numpy_dtype(dtype)} (as in numpy); "
            "give an initial value the dtype holds, or convert the array to a wider dtype first"
        )


def _count(t: torch.Tensor, dims: tuple[int, ...]) -> int:
    n = 1
    for d in dims:
        n *= t.shape[d]
    return n


_INITIAL: dict[str, Fn] = {
    "sum": torch.add,
    "prod": torch.multiply,
    "max": torch.maximum,
    "amax": torch.maximum,
    "min": torch.minimum,
    "amin": torch.minimum,
}


def _sum(t: torch.Tensor, dims: tuple[int, ...], keep: bool) -> torch.Tensor:
    if t.dtype == torch.bool:
        t = t.to(torch.int64)
    return torch.sum(t, dim=dims, keepdim=keep)


def _prod(t: torch.Tensor, dims: tuple[int, ...], keep: bool) -> torch.Tensor:
    rest = [d for d in range(t.ndim) if d not in dims]
    moved = t.permute(*rest, *dims).reshape(*[t.shape[d] for d in rest], _count(t, dims))
    out = torch.prod(moved, dim=-1)
    if keep:
        out = out.reshape([1 if d in dims else t.shape[d] for d in range(t.ndim)])
    return out


def _amax(t: torch.Tensor, dims: tuple[int, ...], keep: bool) -> torch.Tensor:
    return torch.amax(t, dim=dims, keepdim=keep)


def _amin(t: torch.Tensor, dims: tuple[int, ...], keep: bool) -> torch.Tensor:
    return torch.amin(t, dim=dims, keepdim=keep)


def _mean(t: torch.Tensor, dims: tuple[int, ...], keep: bool) -> torch.Tensor:
    if t.is_floating_point() or t.is_complex():
        return torch.mean(t, dim=dims, keepdim=keep)
    # an integer dtype= (numpy sums in it, wrapping, divides in float64, casts back); torch sums
    # narrow integers in int64, so the sum is cast to t's dtype first: mean(uint8 [200, 100, 10],
    # dtype="uint8") is 18, as numpy's (54 // 3), not 103
    return _sum(t, dims, keep).to(t.dtype).to(torch.float64) / _count(t, dims)


def _all(t: torch.Tensor, dims: tuple[int, ...], keep: bool) -> torch.Tensor:
    return torch.all(t.to(torch.bool), dim=dims, keepdim=keep)


def _any(t: torch.Tensor, dims: tuple[int, ...], keep: bool) -> torch.Tensor:
    return torch.any(t.to(torch.bool), dim=dims, keepdim=keep)


def _flat_or(a: Any, axis: Any) -> tuple[torch.Tensor, int]:
    t = tensor(a)
    if axis is None:
        return t.reshape(-1), 0
    return t, _axes(axis, t.ndim)[0]


_WIDE_UNSIGNED = tuple(getattr(torch, n) for n in ("uint16", "uint32", "uint64") if hasattr(torch, n))


def _scan(name: str, op: Fn) -> Fn:
    def fn(a: Any, axis: Any = None, dtype: Any = None, out: None = None) -> Any:
        _no_out(name, out)
        t, ax = _flat_or(a, axis)
        want = _result_dtype(name, t.dtype, dtype)
        if want in _WIDE_UNSIGNED:  # torch scans these in int64: the same bits modulo 2**64
            return op(t.to(torch.int64), dim=ax).to(want)
        if want is not None and t.dtype != want:
            t = t.to(want)  # numpy accumulates in the result's dtype
        r = op(t, dim=ax)
        return r if want is None or r.dtype == want else r.to(want)

    return fn


def _arg(op: Fn) -> Fn:
    def fn(a: Any, axis: Any = None, out: None = None, keepdims: bool = False) -> Any:
        _no_out(op.__name__, out)
        t, ax = _flat_or(a, axis)
        if t.dtype == torch.bool:
            t = t.to(torch.uint8)
        r = op(t, dim=ax, keepdim=keepdims and axis is not None)
        if keepdims and axis is None:
            r = r.reshape((1,) * tensor(a).ndim)
        return r

    return fn


def _sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, stable: Any = None) -> Any:
    t, ax = _flat_or(a, axis)
    if t.ndim == 0:  # numpy: no axis of a 0-d array to sort along (axis=None sorts it flattened)
        raise np.exceptions.AxisError(int(axis), 0)
    return torch.sort(t, dim=ax, stable=True).values


def _argsort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, stable: Any = None) -> Any:
    t, ax = _flat_or(a, axis)
    return torch.argsort(t, dim=ax, stable=True)


def _count_nonzero(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    t = tensor(a)
    dims = _axes(axis, t.ndim)
    if not dims:  # axis=(): per element (torch's dim=() means every axis)
        return (t != 0).to(torch.int64)
    return torch.sum(t != 0, dim=dims, keepdim=keepdims)
