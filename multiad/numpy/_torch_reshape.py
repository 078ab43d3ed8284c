"""numpy's shape functions, joins, splits and take on torch tensors (numpy's signatures)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from . import _torch_dtypes as _dt
from ._composite import strong
from ._torch import promoted, tensor, tensors
from ._torch_reduce import Fn, _axes, _flat_or, _no_out


def _reversed(t: torch.Tensor) -> torch.Tensor:
    return t.permute(tuple(reversed(range(t.ndim))))  # a tuple: permute() of a 0-d tensor takes ()


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
    if t.ndim == 0:  # numpy: an int axis 0 or -1 of a 0-d array removes nothing, (0,) is out of bounds
        axes = tuple(axis) if isinstance(axis, (tuple, list)) else None
        if axes == () or (axes is None and int(axis) in (0, -1)):
            return t
        raise np.exceptions.AxisError(int(axes[0] if axes else axis), 0)
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


_CASTINGS = ("no", "equiv", "safe", "same_kind", "unsafe")


def _joined(name: str, arrays: Sequence[Any], dtype: Any, casting: Any) -> list[torch.Tensor]:
    """The arrays to join (concatenate, stack, ...) as tensors of numpy's result dtype for
    ``dtype=`` and ``casting=``, with numpy's casting errors (numpy makes each input an array
    first, so Python numbers count as float64 or int64, not as weak scalars)."""
    if dtype is None and casting in _CASTINGS and arrays and isinstance(arrays[0], torch.Tensor):
        first = arrays[0].dtype  # tensors of one dtype, the common call: joined as they are
        if all(isinstance(a, torch.Tensor) and a.dtype == first for a in arrays):
            return list(arrays)
    from ._fixes_common import join_dtype

    xs = [strong(a) for a in arrays]
    asked = None if dtype is None else _dt.torch_dtype(dtype, f"mnp.{name}")
    kinds = _dt.kinds(tuple(xs))
    if kinds is None or (asked is not None and _dt.numpy_dtype(asked) is None):  # bfloat16: torch's rules
        ts = promoted(*xs)
        return ts if asked is None else [t.to(asked) for t in ts]
    same = isinstance(kinds[0], np.dtype) and all(k == kinds[0] for k in kinds)
    if same and asked is None and casting in _CASTINGS:
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
    from ._fixes_common import check_take_along_axis

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
    from ._fixes_common import meshgrid_shapes

    if indexing not in ("xy", "ij"):
        raise ValueError(f"mnp.meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    parts = [t.reshape(s) for t, s in zip(tensors(*xi), meshgrid_shapes(len(xi), indexing), strict=True)]
    return tuple(parts) if sparse else tuple(torch.broadcast_tensors(*parts))  # type: ignore[no-untyped-call]
