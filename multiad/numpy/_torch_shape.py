"""numpy's reductions, shape functions and linear algebra on torch tensors (numpy's signatures)."""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from . import _torch_dtypes as _dt
from ._composite import strong
from ._det import det_one_minus
from ._fixes import tensordot_axes
from ._torch import _INT_RANGE, floating, promoted, tensor, tensors

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
            r = _INITIAL[name](r, torch.as_tensor(initial, dtype=r.dtype, device=r.device))
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
    # an integer dtype= (numpy sums in it, divides in float64, casts back)
    return _sum(t, dims, keep).to(torch.float64) / _count(t, dims)


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


# -- shapes -----------------------------------------------------------------------------------


def _reversed(t: torch.Tensor) -> torch.Tensor:
    return t.permute(*reversed(range(t.ndim)))


def _fortran(t: torch.Tensor) -> bool:
    """numpy's ``flags.fnc``: laid out in Fortran order and not in C order (False where a
    transform's tensor has no strides)."""
    try:
        return t.ndim > 1 and not t.is_contiguous() and _reversed(t).is_contiguous()
    except (RuntimeError, NotImplementedError):
        return False


def _order(name: str, order: Any, t: torch.Tensor, k: bool) -> str:
    """numpy's ``order=`` as "C", "F" or (ravel only) "K" (NOTE [order= on torch])."""
    order = "C" if order is None else order
    allowed = ("C", "F", "A", "K") if k else ("C", "F", "A")
    if order not in allowed:
        raise ValueError(f"mnp.{name}: order must be one of {', '.join(map(repr, allowed))}, not {order!r}")
    if order == "A":
        return "F" if _fortran(t) else "C"
    return str(order)


# NOTE [order= on torch]: numpy's order="F" reads and writes elements with the first index
# varying fastest, which is order="C" on the reversed axes: ravel(a, "F") is ravel(a.T) and
# reshape(a, s, "F") is reshape(a.T, reversed(s)).T. "A" is "F" for a tensor laid out in
# Fortran order (numpy's flags.fnc), and ravel's "K" reads in memory order: the axes sorted by
# decreasing stride (torch's strides are never negative). A tensor inside a transform that
# has no strides counts as laid out in C order, as JAX arrays always are.


def _reshape(a: Any, *args: Any, **kwargs: Any) -> Any:
    shape = kwargs.pop("shape", kwargs.pop("newshape", args[0] if args else None))
    t = tensor(a)
    order = _order("reshape", kwargs.pop("order", args[1] if len(args) > 1 else "C"), t, k=False)
    copy = kwargs.pop("copy", None)
    if kwargs or shape is None:
        raise TypeError(
            f"mnp.reshape: give the shape, and no other arguments than order= and copy= (got {sorted(kwargs)})"
        )
    dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if order == "F":
        out = _reversed(torch.reshape(_reversed(t), dims[::-1]))
    elif copy is False:  # numpy's copy=False: a view, or an error where none exists
        try:
            return t.view(dims)
        except RuntimeError as exc:
            raise ValueError(f"mnp.reshape: cannot reshape without copying ({exc}); use copy=None") from exc
    else:
        out = torch.reshape(t, dims)
    # copy=True: a new array, never a view that writes through to ``a`` (torch returns views)
    return out.clone() if copy else out


def _transpose(a: Any, axes: Any = None) -> Any:
    t = tensor(a)
    if getattr(axes, "ndim", 0) >= 1:  # an array or tensor of axes, as numpy reads it
        axes = tuple(axes.tolist())
    if t.ndim == 0 and not axes:  # numpy: a 0-d array is its own transpose
        return t
    return t.permute(*(reversed(range(t.ndim)) if axes is None else _axes(axes, t.ndim)))


def _expand_dims(a: Any, axis: Any) -> Any:
    t = tensor(a)
    n = t.ndim + (len(axis) if isinstance(axis, (tuple, list)) else 1)
    shape = iter(t.shape)
    new = _axes(axis, n)
    return t.reshape([1 if d in new else next(shape) for d in range(n)])


def _squeeze(a: Any, axis: Any = None) -> Any:
    t = tensor(a)
    if axis is None:
        return t.reshape([s for s in t.shape if s != 1])
    dims = _axes(axis, t.ndim)
    if any(t.shape[d] != 1 for d in dims):
        raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return t.reshape([s for d, s in enumerate(t.shape) if d not in dims])


def _ravel(a: Any, order: str = "C") -> Any:
    t = tensor(a)
    order = _order("ravel", order, t, k=True)
    if order == "F":
        return _reversed(t).reshape(-1)
    if order == "K" and t.ndim > 1:
        try:
            strides = t.stride()
        except (RuntimeError, NotImplementedError):
            return t.reshape(-1)
        return t.permute(*sorted(range(t.ndim), key=lambda d: -strides[d])).reshape(-1)
    return t.reshape(-1)


def _joined(name: str, arrays: Sequence[Any], dtype: Any, casting: Any) -> list[torch.Tensor]:
    """The arrays to join (concatenate, stack, ...) as tensors of numpy's result dtype for
    ``dtype=`` and ``casting=``, with numpy's casting errors (numpy makes each input an array
    first, so Python numbers count as float64 or int64, not as weak scalars)."""
    from ._fixes import join_dtype

    xs = [strong(a) for a in arrays]
    asked = None if dtype is None else _dt.torch_dtype(dtype, f"mnp.{name}")
    kinds = _dt.kinds(tuple(xs))
    if kinds is None or (asked is not None and _dt.numpy_dtype(asked) is None):  # bfloat16: torch's rules
        ts = promoted(*xs)
        return ts if asked is None else [t.to(asked) for t in ts]
    same = isinstance(kinds[0], np.dtype) and all(k == kinds[0] for k in kinds)
    if same and asked is None and casting in ("no", "equiv", "safe", "same_kind", "unsafe"):
        return tensors(*xs)  # one dtype, numpy's result too (no numpy call: torch.compile traces them)
    want = _dt.as_torch(join_dtype(name, list(kinds), None if asked is None else _dt.numpy_dtype(asked), casting))
    return [t if t.dtype == want else t.to(want) for t in tensors(*xs)]


def _stack(
    arrays: Sequence[Any], axis: int = 0, out: None = None, *, dtype: Any = None, casting: Any = "same_kind"
) -> Any:
    _no_out("stack", out)
    ts = _joined("stack", arrays, dtype, casting)
    return torch.stack(ts, dim=_axes(axis, ts[0].ndim + 1)[0])


def _concatenate(
    arrays: Sequence[Any], axis: Any = 0, out: None = None, *, dtype: Any = None, casting: Any = "same_kind"
) -> Any:
    _no_out("concatenate", out)
    ts = _joined("concatenate", arrays, dtype, casting)
    if axis is None:
        return torch.cat([t.reshape(-1) for t in ts])
    return torch.cat(ts, dim=_axes(axis, ts[0].ndim)[0])


def _atleast(n: int) -> Fn:
    def one(t: torch.Tensor) -> torch.Tensor:
        if t.ndim >= n:
            return t
        if n == 3 and t.ndim == 2:
            return t[:, :, None]
        if n == 3:
            return t.reshape(1, -1, 1) if t.ndim == 1 else t.reshape(1, 1, 1)
        return t.reshape((1,) * (n - t.ndim) + tuple(t.shape))

    def fn(*arys: Any) -> Any:
        out = [one(t) for t in tensors(*arys)]
        return out[0] if len(out) == 1 else tuple(out)

    return fn


def _vstack(tup: Sequence[Any], *, dtype: Any = None, casting: Any = "same_kind") -> Any:
    return torch.cat([_atleast(2)(t) for t in _joined("vstack", tup, dtype, casting)], dim=0)


def _hstack(tup: Sequence[Any], *, dtype: Any = None, casting: Any = "same_kind") -> Any:
    ts = [_atleast(1)(t) for t in _joined("hstack", tup, dtype, casting)]
    return torch.cat(ts, dim=0 if ts[0].ndim == 1 else 1)


def _dstack(tup: Sequence[Any]) -> Any:
    return torch.cat(promoted(*[_atleast(3)(t) for t in tensors(*tup)]), dim=2)


def _column_stack(tup: Sequence[Any]) -> Any:
    ts = [t.reshape(-1, 1) if t.ndim < 2 else t for t in tensors(*tup)]
    return torch.cat(promoted(*ts), dim=1)


def _split(equal: bool, fixed_axis: int | None = None) -> Fn:
    def fn(ary: Any, indices_or_sections: Any, axis: int = 0) -> Any:
        t = tensor(ary)
        ax = fixed_axis if fixed_axis is not None else axis
        if fixed_axis == 1 and t.ndim == 1:
            ax = 0
        ax = _axes(ax, t.ndim)[0]
        sec = indices_or_sections
        if isinstance(sec, (int, np.integer)) or getattr(sec, "ndim", None) == 0:  # numpy: a 0-d array too
            if equal and t.shape[ax] % int(sec):
                raise ValueError("array split does not result in an equal division")
            return list(torch.tensor_split(t, int(sec), dim=ax))
        return list(torch.tensor_split(t, [int(i) for i in sec], dim=ax))

    return fn


def _tile(A: Any, reps: Any) -> Any:
    return torch.tile(tensor(A), _int_tuple(reps))


def _int_tuple(v: Any) -> tuple[int, ...]:
    """An int, a numpy integer, or a sequence, array or tensor of them, as a tuple of ints."""
    if isinstance(v, (int, np.integer)) or getattr(v, "ndim", None) == 0:  # 0-d arrays too
        return (int(v),)
    return tuple(int(u) for u in (v.tolist() if hasattr(v, "tolist") else v))


def _repeat(a: Any, repeats: Any, axis: Any = None) -> Any:
    t, ax = _flat_or(a, axis)
    if isinstance(repeats, int):
        return torch.repeat_interleave(t, repeats, dim=ax)
    counts = repeats.tolist() if isinstance(repeats, torch.Tensor) else np.asarray(repeats)
    idx = np.repeat(np.arange(t.shape[ax]), counts)
    return torch.index_select(t, ax, torch.as_tensor(idx, device=t.device))


def _flip(m: Any, axis: Any = None) -> Any:
    t = tensor(m)
    return torch.flip(t, dims=_axes(axis, t.ndim))


def _roll(a: Any, shift: Any, axis: Any = None) -> Any:
    t = tensor(a)
    shifts = _int_tuple(shift)
    if axis is None:
        return torch.roll(t.reshape(-1), shifts[0] if len(shifts) == 1 else sum(shifts)).reshape(t.shape)
    dims = _int_tuple(axis)
    if len(shifts) != len(dims):  # numpy broadcasts one against the other
        wide_shifts, wide_dims = np.broadcast_arrays(np.asarray(shifts), np.asarray(dims))
        shifts, dims = tuple(wide_shifts.tolist()), tuple(wide_dims.tolist())
    return torch.roll(t, shifts, dims=dims)


def _broadcast_to(array: Any, shape: Any, subok: bool = False) -> Any:
    return torch.broadcast_to(tensor(array), (shape,) if isinstance(shape, int) else tuple(shape))


def _broadcast_arrays(*args: Any, subok: bool = False) -> Any:
    return tuple(torch.broadcast_tensors(*tensors(*args)))  # type: ignore[no-untyped-call]


def _moveaxis(a: Any, source: Any, destination: Any) -> Any:
    # torch.movedim, not its alias torch.moveaxis: vmap has no batching rule for moveaxis.int
    return torch.movedim(tensor(a), source, destination)


def _swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    return torch.swapaxes(tensor(a), axis1, axis2)


def _append(arr: Any, values: Any, axis: Any = None) -> Any:
    return _concatenate([strong(arr), strong(values)], axis=axis)


def _take(a: Any, indices: Any, axis: Any = None, out: None = None, mode: str = "raise") -> Any:
    _no_out("take", out)
    t, ax = _flat_or(a, axis)
    n = t.shape[ax]
    idx = torch.as_tensor(indices, device=t.device) if not isinstance(indices, torch.Tensor) else indices
    if not (idx.dtype.is_floating_point or idx.dtype.is_complex or idx.dtype == torch.bool):
        idx = idx.long()  # index_select takes int32 and int64 only (numpy: any integer dtype); uint8 < -n wrapped
    if mode == "wrap":
        idx = idx % n
    elif mode == "clip":
        idx = idx.clamp(0, n - 1)
    else:  # no value check in a graph or under vmap (see the table in docs/api-numpy.md)
        _check_in_range("take", idx, n, ax)
    idx = idx % n
    picked = torch.index_select(t, ax, idx.reshape(-1))
    return picked.reshape((*t.shape[:ax], *idx.shape, *t.shape[ax + 1 :]))


def _take_along_axis(arr: Any, indices: Any, axis: Any = -1) -> Any:
    t = tensor(arr)
    idx = torch.as_tensor(indices, device=t.device) if not isinstance(indices, torch.Tensor) else indices
    if idx.dtype.is_floating_point or idx.dtype.is_complex or idx.dtype == torch.bool:
        raise IndexError("mnp.take_along_axis: `indices` must be an integer array")
    idx = idx.long()  # torch.take_along_dim takes int64 indices only (numpy: any integer dtype)
    from ._fixes import check_take_along_axis

    check_take_along_axis(t.ndim, idx.ndim, axis)
    ax = 0 if axis is None else _axes(axis, t.ndim)[0]
    n = t.numel() if axis is None else t.shape[ax]
    _check_in_range("take_along_axis", idx, n, ax)
    if axis is None:
        return torch.take_along_dim(t.reshape(-1), idx.reshape(-1) % n)
    return torch.take_along_dim(t, idx % n, dim=ax)


def _check_in_range(name: str, idx: torch.Tensor, n: int, axis: int) -> None:
    """numpy's IndexError for indices outside ``[-n, n)``, which the ``% n`` that follows would
    wrap into range silently; indices whose values a graph or ``vmap`` hides are not checked."""
    if torch.compiler.is_compiling() or _batched(idx) or idx.numel() == 0:
        return
    low, high = int(idx.min()), int(idx.max())
    if low < -n or high >= n:
        bad = high if high >= n else low
        raise IndexError(f"mnp.{name}: index {bad} is out of bounds for axis {axis} with size {n}")


def _batched(t: torch.Tensor) -> bool:
    """Whether ``t`` is batched by ``torch.func.vmap`` at some level (its values per batch
    element cannot be read as one Python number)."""
    from torch._C import _functorch

    while _functorch.is_functorch_wrapped_tensor(t):
        if _functorch.is_batchedtensor(t):
            return True
        t = _functorch.get_unwrapped(t)
    return False


def _diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Any:
    t = tensor(a)
    pre = None if prepend is None else torch.broadcast_to(tensor(prepend, t), _edge(t, axis))
    app = None if append is None else torch.broadcast_to(tensor(append, t), _edge(t, axis))
    return torch.diff(t, n=n, dim=axis, prepend=pre, append=app)


def _edge(t: torch.Tensor, axis: int) -> list[int]:
    shape = list(t.shape)
    shape[_axes(axis, t.ndim)[0]] = 1
    return shape


def _meshgrid(*xi: Any, indexing: str = "xy", copy: bool = True, sparse: bool = False) -> Any:
    """numpy's meshgrid: each input keeps its dtype (torch.meshgrid requires one), ``sparse``
    gives the length-one axes unbroadcast."""
    from ._fixes import meshgrid_shapes

    if indexing not in ("xy", "ij"):
        raise ValueError(f"mnp.meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    parts = [t.reshape(s) for t, s in zip(tensors(*xi), meshgrid_shapes(len(xi), indexing), strict=True)]
    return tuple(parts) if sparse else tuple(torch.broadcast_tensors(*parts))  # type: ignore[no-untyped-call]


# -- linear algebra ---------------------------------------------------------------------------


def _matmul(x1: Any, x2: Any, /, *, dtype: Any = None) -> Any:
    a, b = promoted(x1, x2)
    if dtype is not None:  # numpy's dtype=: the product computed in it (numpy's casting check)
        asked = _dt.torch_dtype(dtype, "mnp.matmul")
        kinds, asked_np = _dt.kinds((x1, x2)), _dt.numpy_dtype(asked)
        want = asked if kinds is None or asked_np is None else _dt.as_torch(_dt.result("matmul", kinds, dtype=asked_np))
        a, b = a.to(want), b.to(want)
    if a.dtype == torch.bool:  # numpy: or of ands
        return torch.matmul(a.to(torch.int64), b.to(torch.int64)) != 0
    return torch.matmul(a, b)


def _tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    x, y = promoted(a, b)
    if x.dtype == torch.bool:  # numpy: or of ands
        return _tensordot(x.to(torch.int64), y.to(torch.int64), axes) != 0
    axes = tensordot_axes(axes, (x.ndim, y.ndim))
    if isinstance(axes, int):
        return torch.tensordot(x, y, dims=axes)
    ax, bx = axes
    return torch.tensordot(x, y, dims=(list(_axes(ax, x.ndim)), list(_axes(bx, y.ndim))))


def _einsum(subscripts: str, *operands: Any, **kw: Any) -> Any:
    ts = promoted(*operands)
    if ts and ts[0].dtype == torch.bool:  # numpy: or of ands
        return torch.einsum(subscripts, *[t.to(torch.int64) for t in ts]) != 0
    r = torch.einsum(subscripts, *ts)
    return r if not ts or r.dtype == ts[0].dtype else r.to(ts[0].dtype)  # numpy: the operands' dtype (int32 traces too)


def _diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    t = tensor(a)
    if _axes(axis1, t.ndim) == _axes(axis2, t.ndim):  # numpy's ValueError (torch: RuntimeError)
        raise ValueError("axis1 and axis2 cannot be the same")
    return torch.diagonal(t, offset, axis1, axis2)


def _diag(v: Any, k: int = 0) -> Any:
    return torch.diag(tensor(v), k)


def _diagflat(v: Any, k: int = 0) -> Any:
    return torch.diag(tensor(v).reshape(-1), k)


def _tri(op: Fn) -> Fn:
    def fn(m: Any, k: int = 0) -> Any:
        t = tensor(m)
        if t.ndim < 2:
            t = torch.broadcast_to(t, (t.shape[-1] if t.ndim else 1,) * 2)
        return op(t, diagonal=k)

    return fn


def _kron(a: Any, b: Any) -> Any:
    x, y = promoted(strong(a), strong(b))
    return torch.kron(x, y)


def _cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: Any = None) -> Any:
    x, y = promoted(a, b)
    if axis is not None:
        axisa = axisb = axisc = axis
    x, y = torch.movedim(x, axisa, -1), torch.movedim(y, axisb, -1)
    if x.shape[-1] != 3 or y.shape[-1] != 3:
        raise ValueError("mnp.cross: on torch the vectors must have 3 components")
    x, y = torch.broadcast_tensors(x, y)  # type: ignore[no-untyped-call]
    return torch.movedim(torch.linalg.cross(x, y, dim=-1), -1, axisc)


def _inexact(t: torch.Tensor) -> torch.Tensor:
    """NOTE [Integer matrices in linalg on torch]: numpy's linear algebra computes integer and
    boolean matrices in float64 (``inv``, ``solve``, ``det``, ``svd``, ... of an int matrix are
    float64); torch's refuses them, or (``eigh``, ``cholesky``) computes in its default float,
    float32. They are converted to float64 first, as numpy does."""
    return t if t.is_floating_point() or t.is_complex() else t.to(torch.float64)


# NOTE [Linear algebra through the LU factors on torch]: torch's forward-mode rules for
# ``linalg.solve`` and ``linalg.slogdet`` reuse the LU factors of the value, which torch marks as
# not differentiable, so a derivative of their tangents (``jacfwd(jacfwd(f))``,
# ``jacrev(jacfwd(f))``, a ``jacobian`` of a ``jacobian`` that chose forward mode) treated the
# factors as constants and returned wrong second derivatives without an error (Hessians off by
# 0.3 to 0.5 for a 3 x 3 system; ``hessian``, forward over reverse, was right). Both are computed
# here from ``linalg.lu_factor_ex`` and ``linalg.lu_solve``, whose factors are differentiable
# outputs, so every order and every order of modes agrees. A singular matrix still raises
# torch's own error for ``linalg.solve`` (LAPACK's check, also under ``vmap``), which
# NOTE [Singular matrices] turns into numpy's.
def _lu_solve(x: torch.Tensor, y: torch.Tensor, vector: bool) -> Any:
    try:
        lu, pivots, _ = torch.linalg.lu_factor_ex(x, check_errors=True)  # under vmap too
    except RuntimeError:
        torch.linalg.solve(x, y)  # torch's own error for a singular matrix, which numpy's replaces
        raise
    if vector:
        return torch.linalg.lu_solve(lu, pivots, y.unsqueeze(-1)).squeeze(-1)
    return torch.linalg.lu_solve(lu, pivots, y)


def _solve(a: Any, b: Any) -> Any:
    x, y = (_inexact(t) for t in promoted(a, b))
    if y.ndim == 1:
        return _lu_solve(x, y, True)
    if y.shape == x.shape[:-1]:  # numpy 2: a 2-d or higher b holds matrices, not a batch of vectors
        # NOTE [solve's b of shape a.shape[:-1]]: torch would read b as a batch of vectors; its
        # stack of matrices is broadcast to the batch of both, so torch sees matrices. Prepending
        # a's whole batch to b's shape instead kept b's own batch axes twice: a (2, 2, 2, 2) and b
        # (2, 2, 2) gave a (2, 2, 2, 2, 2) result where numpy's is (2, 2, 2, 2).
        batch = torch.broadcast_shapes(x.shape[:-2], y.shape[:-2])  # type: ignore[no-untyped-call]
        y = torch.broadcast_to(y, (*batch, *y.shape[-2:]))
    return _lu_solve(x, y, y.ndim == x.ndim - 1 and y.shape == x.shape[:-1])


def _svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    t = _inexact(tensor(a))
    if not compute_uv:
        return torch.linalg.svdvals(t)
    return tuple(torch.linalg.svd(t, full_matrices=full_matrices))


def _eigh(a: Any, UPLO: str = "L") -> Any:
    return tuple(torch.linalg.eigh(_inexact(tensor(a)), UPLO=UPLO))


def _pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = None) -> Any:
    if rcond is not None and rtol is not None:  # numpy's error (rtol silently won here)
        raise ValueError("mnp.linalg.pinv: `rtol` and `rcond` can't be both set.")
    tol = rtol if rtol is not None else rcond
    return torch.linalg.pinv(_inexact(tensor(a)), rtol=tol, hermitian=hermitian)


def _qr(a: Any, mode: str = "reduced") -> Any:
    # NOTE [QR's mode="r" on torch]: torch's mode="r" computes no Q, and its derivative, which
    # needs Q, raises; the reduced factorization has the same R (LAPACK's), so R comes from it.
    if mode == "raw":  # LAPACK's Householder form, as numpy gives it (transposed, Fortran's order)
        h, tau = torch.geqrf(_inexact(tensor(a)))
        return h.mT, tau
    q, r = torch.linalg.qr(_inexact(tensor(a)), mode="reduced" if mode == "r" else mode)
    return r if mode == "r" else (q, r)


def _slogdet(a: Any) -> Any:
    # NOTE [Linear algebra through the LU factors on torch]
    x = _inexact(tensor(a))
    lu, pivots, _ = torch.linalg.lu_factor_ex(x)
    d = torch.diagonal(lu, dim1=-2, dim2=-1)
    return torch.prod(torch.sgn(d), -1) * _swap_sign(pivots, d.dtype), torch.sum(torch.log(torch.abs(d)), -1)


def _det(a: Any) -> Any:
    """NOTE [Linear algebra through the LU factors on torch]: the determinant from the LU factors
    (``det`` of torch shares slogdet's forward-mode flaw); at an exactly singular matrix, through
    a nonsingular matrix next to it (NOTE [det at a singular matrix])."""
    x = _inexact(tensor(a))
    lu, pivots, _ = torch.linalg.lu_factor_ex(x)
    d = torch.diagonal(lu, dim1=-2, dim2=-1)
    zero = d == 0  # LAPACK's exactly zero pivots
    if x.shape[-1] == 0:  # numpy's 1.0 for an empty matrix
        return _lu_det(lu, pivots)
    scale = x.detach().abs().amax(dim=(-2, -1))
    scale = torch.where(scale == 0, torch.ones_like(scale), scale)
    # NOTE [det at a nearly singular matrix on torch]
    small = d.detach().abs() <= _SMALL_PIVOT[x.dtype.itemsize if x.is_complex() else 2 * x.dtype.itemsize] * (
        scale.unsqueeze(-1)
    )
    terms = _zero_pivots(x, small)
    plain = torch.where(zero.any(-1), torch.zeros((), dtype=d.dtype, device=d.device), _lu_det(lu, pivots))
    if terms == 0:  # nothing singular, or nothing differentiated: the value alone, +0.0 as numpy's
        return plain
    value = plain.detach()
    p, l_, _ = torch.lu_unpack(lu.detach(), pivots)
    c = torch.matmul(p, l_) * (small.to(x.dtype) * scale.unsqueeze(-1).to(x.dtype)).unsqueeze(-2)
    lu_b, pivots_b, _ = torch.linalg.lu_factor_ex(x + c)
    k = torch.linalg.lu_solve(lu_b, pivots_b, c)
    ones = torch.ones(k.shape[:-2], dtype=k.dtype, device=k.device)
    y = _lu_det(lu_b, pivots_b) * det_one_minus(k, terms, ones, torch.matmul, _trace)
    return torch.where(small.any(-1), value + (y - y.detach()), y)  # numpy's value, and y's derivatives


# NOTE [det at a nearly singular matrix on torch]: the LU route's derivatives of det divide by the
# pivots, so at a matrix singular only to rounding (LAPACK's LU of [[1, 2, 3], [4, 5, 6], [7, 8,
# 9]] in float64 on torch has a last pivot near 1e-16, not 0) rounding errors are multiplied by
# 1 / pivot: the Hessian was off by 4 and 10 (forward over reverse, forward over forward), and
# third derivatives by 1e17; at a pivot near 1e-9 off by 1e-6. NOTE [det at a singular matrix]'s
# identity holds for any constant c, so pivots below the square root of the dtype's epsilon
# times the matrix's largest element are treated as zero pivots there: the derivatives are
# exact, and the value stays the LU product's (numpy's, 0.0 at an exactly zero pivot).
#: sqrt(eps) of the real dtype, by twice the item size of a real dtype (a complex one's own).
_SMALL_PIVOT = {2 * np.dtype(t).itemsize: float(np.sqrt(np.finfo(t).eps)) for t in (np.float16, np.float32, np.float64)}


def _lu_det(lu: torch.Tensor, pivots: torch.Tensor) -> torch.Tensor:
    d = torch.diagonal(lu, dim1=-2, dim2=-1)
    return torch.prod(d, -1) * _swap_sign(pivots, d.dtype)


def _swap_sign(pivots: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The sign of the permutation of LAPACK's ``pivots`` (1-based row swaps), in ``dtype``."""
    n = pivots.shape[-1]
    swaps = (pivots != torch.arange(1, n + 1, dtype=pivots.dtype, device=pivots.device)).sum(-1)
    return (1 - 2 * (swaps % 2)).to(dtype)


def _trace(m: torch.Tensor) -> torch.Tensor:
    return torch.diagonal(m, dim1=-2, dim2=-1).sum(-1)


def _zero_pivots(x: torch.Tensor, zero: torch.Tensor) -> int:
    """The most exactly zero pivots of one matrix in the stack, where ``x`` is differentiated (0
    where it is not: the value needs none of NOTE [det at a singular matrix]); the
    matrix's size where the count cannot be read (torch's vmap, which ``jacfwd`` uses, and
    ``torch.compile``), which is never too few."""
    n = x.shape[-1]
    if n == 0:
        return 0
    if torch.compiler.is_compiling():
        return n
    if not (x.requires_grad or torch._C._functorch.is_functorch_wrapped_tensor(x)):
        return 0
    try:
        return int(zero.sum(-1).max())
    except RuntimeError:  # torch's vmap hides the values
        return n


def _lin(name: str) -> Fn:
    op = getattr(torch.linalg, name)

    def fn(a: Any, *args: Any, **kwargs: Any) -> Any:
        return op(_inexact(tensor(a)), *args, **kwargs)

    return fn


def _matrix_power(a: Any, n: Any) -> Any:
    """numpy's ``matrix_power``: integer and boolean matrices stay integers and booleans for
    ``n >= 0`` (booleans multiply as ``or`` of ``and``, which torch's matmul lacks), and are
    inverted in float64 for ``n < 0`` (NOTE [Integer matrices in linalg on torch])."""
    t = tensor(a)
    n = operator.index(n)
    if n < 0:
        return torch.linalg.matrix_power(_inexact(t), n)
    if t.dtype != torch.bool:
        return torch.linalg.matrix_power(t, n)
    result = torch.eye(t.shape[-1], dtype=torch.bool, device=t.device).expand(t.shape).clone()
    square_ = t
    while n:  # binary powers, each product back to booleans (counts of paths would overflow)
        if n & 1:
            result = torch.matmul(result.to(torch.int64), square_.to(torch.int64)) != 0
        n >>= 1
        if n:
            square_ = torch.matmul(square_.to(torch.int64), square_.to(torch.int64)) != 0
    return result


def _multi_dot(arrays: Sequence[Any], *, out: None = None) -> Any:
    _no_out("linalg.multi_dot", out)
    return torch.linalg.multi_dot(promoted(*arrays))


IMPL: dict[str, Fn] = {
    "sum": _reduce("sum", _sum),
    "prod": _reduce("prod", _prod),
    "mean": _reduce("mean", _mean),
    "max": _reduce("max", _amax),
    "amax": _reduce("amax", _amax),
    "min": _reduce("min", _amin),
    "amin": _reduce("amin", _amin),
    "all": _reduce("all", _all),
    "any": _reduce("any", _any),
    "cumsum": _scan("cumsum", torch.cumsum),
    "cumprod": _scan("cumprod", torch.cumprod),
    "argmax": _arg(torch.argmax),
    "argmin": _arg(torch.argmin),
    "sort": _sort,
    "argsort": _argsort,
    "count_nonzero": _count_nonzero,
    "reshape": _reshape,
    "transpose": _transpose,
    "expand_dims": _expand_dims,
    "squeeze": _squeeze,
    "ravel": _ravel,
    "stack": _stack,
    "concatenate": _concatenate,
    "atleast_1d": _atleast(1),
    "atleast_2d": _atleast(2),
    "atleast_3d": _atleast(3),
    "vstack": _vstack,
    "hstack": _hstack,
    "dstack": _dstack,
    "column_stack": _column_stack,
    "split": _split(True),
    "array_split": _split(False),
    "vsplit": _split(True, 0),
    "hsplit": _split(True, 1),
    "dsplit": _split(True, 2),
    "tile": _tile,
    "repeat": _repeat,
    "flip": _flip,
    "fliplr": lambda m: _flip(m, 1),
    "flipud": lambda m: _flip(m, 0),
    "roll": _roll,
    "broadcast_to": _broadcast_to,
    "broadcast_arrays": _broadcast_arrays,
    "moveaxis": _moveaxis,
    "swapaxes": _swapaxes,
    "append": _append,
    "take": _take,
    "take_along_axis": _take_along_axis,
    "diff": _diff,
    "meshgrid": _meshgrid,
    "matmul": _matmul,
    "tensordot": _tensordot,
    "einsum": _einsum,
    "diagonal": _diagonal,
    "diag": _diag,
    "diagflat": _diagflat,
    "tril": _tri(torch.tril),
    "triu": _tri(torch.triu),
    "kron": _kron,
    "cross": _cross,
    "linalg.solve": _solve,
    "linalg.svd": _svd,
    "linalg.eigh": _eigh,
    "linalg.pinv": _pinv,
    "linalg.qr": _qr,
    "linalg.slogdet": _slogdet,
    "linalg.multi_dot": _multi_dot,
    "linalg.inv": _lin("inv"),
    "linalg.det": _det,
    "linalg.cholesky": _lin("cholesky"),
    "linalg.eigvalsh": _lin("eigvalsh"),
    "linalg.matrix_power": _matrix_power,
}


def _gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    t = floating(tensor(f))
    dims = _axes(axis, t.ndim)
    varargs = tuple(float(v) if isinstance(v, (np.integer, np.floating)) else v for v in varargs)
    if any(not isinstance(v, (int, float)) for v in varargs):
        raise NotImplementedError("mnp.gradient: on torch the spacings must be numbers")
    spacing: Any = [float(v) for v in varargs] if len(varargs) > 1 else float(varargs[0]) if varargs else 1.0
    out = torch.gradient(t, spacing=spacing, dim=list(dims), edge_order=edge_order)
    return out[0] if len(out) == 1 else tuple(out)


def _like(fill: Any) -> Fn:
    def fn(a: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None, **kw: Any) -> Any:
        return _filled(a, fill, dtype, shape)

    return fn


def _full_like(
    a: Any, fill_value: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None, **kw: Any
) -> Any:
    return _filled(a, fill_value, dtype, shape)


def _filled(a: Any, value: Any, dtype: Any, shape: Any) -> torch.Tensor:
    """numpy's ``*_like``: ``a``'s dtype and shape unless ``dtype`` or ``shape`` is given."""
    t = tensor(a)
    dt = t.dtype if dtype is None else _dt.torch_dtype(dtype)
    if shape is None:
        return torch.full_like(t, value, dtype=dt)
    return torch.full((shape,) if isinstance(shape, int) else tuple(shape), value, dtype=dt, device=t.device)


IMPL.update(
    {
        "gradient": _gradient,
        "zeros_like": _like(0),
        "ones_like": _like(1),
        "empty_like": _like(0),
        "full_like": _full_like,
    }
)
