"""Shape functions written once for every backend (the frameworks' own versions differ from
numpy's in their options or lack derivatives for some of them)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _dispatch
from ._composite import _arr, _m, _ndim, _normalized, cast_as_numpy, default_float, dtype_name, inexact, no_out, on_host


def _float(x: Any) -> Any:
    """Integers and booleans as float64, as numpy's ``norm`` and ``gradient`` take them; on JAX,
    as its default float (kept as integers, unsigned differences and squares wrapped around)."""
    if inexact(x):
        return x
    x = cast_as_numpy(x, "float64")
    return x if inexact(x) else default_float(x)


def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    """Pads an array: ``constant`` (with ``constant_values``), or any of numpy's index modes
    (``edge``, ``reflect``, ``symmetric``, ``wrap``), which pick existing elements
    (``reflect_type="odd"``: numpy's ``2 * edge - mirrored`` instead)."""
    mnp = _m()
    x = _arr(array)
    nd = _ndim(x)
    if isinstance(pad_width, dict):
        pad_width = _widths_of_dict(pad_width, nd)
    if _negative(pad_width):
        raise ValueError(f"mnp.pad: negative pad widths {pad_width!r} (numpy refuses them too); give widths >= 0")
    if mode == "constant":
        values = kwargs.pop("constant_values", 0)
        if kwargs:
            raise TypeError(f"mnp.pad: unexpected keyword arguments {sorted(kwargs)}")
        if _dispatch.like(values, call="mnp.pad") == "numpy":
            widths, fills = _constant_plan(pad_width, nd, values)
        else:  # values of a framework (being differentiated): each side's fill a 0-d array of it
            widths = _constant_plan(pad_width, nd, 0)[0]
            if not inexact(x):  # cast to x's integers, piecewise constant: derivative 0 (autograd raised)
                values = mnp.stop_gradient(values)
            table = mnp.broadcast_to(mnp.asarray(values), (nd, 2))
            fills = tuple((table[d, 0], table[d, 1]) for d in range(nd))
        for d in range(nd):
            parts = []
            for side in (0, 1):
                if widths[d][side]:
                    block = mnp.full_like(mnp.take(x, [0] * widths[d][side], axis=d), fills[d][side])
                    parts.append(block)
                else:
                    parts.append(None)
            pieces = [p for p in (parts[0], x, parts[1]) if p is not None]
            x = mnp.concatenate(pieces, axis=d) if len(pieces) > 1 else x
        return x
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise NotImplementedError(f"mnp.pad: mode {mode!r} is not supported (constant, edge, reflect, symmetric, wrap)")
    reflect_type = kwargs.get("reflect_type", "even")
    if mode in ("reflect", "symmetric") and reflect_type not in ("even", "odd"):
        raise ValueError(f"mnp.pad: reflect_type must be 'even' or 'odd' (as in numpy), got {reflect_type!r}")
    if mode in ("reflect", "symmetric") and reflect_type == "odd" and len(kwargs) == 1:
        for d, terms in enumerate(_odd_plan(pad_width, tuple(x.shape), mode)):
            x = _combine(x, terms, d)
        return x
    for d, idx in enumerate(_index_plan(pad_width, tuple(x.shape), mode, tuple(sorted(kwargs.items())))):
        x = mnp.take(x, idx, axis=d)
    return x


def _widths_of_dict(pad_width: dict[Any, Any], nd: int) -> list[tuple[int, int]]:
    """numpy's ``pad_width`` as a dict: an axis (negative ones count from the end) to its width
    or its ``(before, after)`` pair; axes not named get no padding."""
    seq = [(0, 0)] * nd
    for axis, width in pad_width.items():
        if not isinstance(axis, (int, np.integer)) or not -nd <= int(axis) < nd:
            raise ValueError(f"mnp.pad: pad_width's key {axis!r} is not an axis of a {nd}-d array")
        if isinstance(width, (int, np.integer)):
            seq[int(axis)] = (int(width), int(width))
        elif isinstance(width, tuple) and len(width) == 2 and all(isinstance(w, (int, np.integer)) for w in width):
            seq[int(axis)] = (int(width[0]), int(width[1]))
        else:
            raise TypeError(
                f"mnp.pad: pad_width[{axis!r}] must be an int or a pair (before, after) of ints, got {width!r}"
            )
    return seq


# NOTE [Odd reflection]: with ``reflect_type="odd"`` numpy pads with ``2 * edge - mirrored``,
# chunk after chunk when the width exceeds the length, so a padded element is a combination of
# several input elements with integer coefficients, not one element: the index plan (numpy's pad
# of ``arange(n)``) then held values that are not indices (wrong values for ``symmetric``, an
# IndexError for ``reflect``). numpy's pad of the identity matrix gives the coefficients, which
# are applied term by term (at most a few per element); a zero coefficient selects nothing
# rather than multiplying, so an inf elsewhere in the row does not make a nan.


@on_host
def _odd_plan(
    pad_width: Any, shape: tuple[int, ...], mode: str
) -> tuple[tuple[tuple[np.ndarray, np.ndarray], ...], ...]:
    """For each axis, the terms ``(indices, coefficients)`` of numpy's odd reflection along it
    (NOTE [Odd reflection])."""
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (len(shape), 2))
    plans: list[tuple[tuple[np.ndarray, np.ndarray], ...]] = []
    for n, w in zip(shape, widths, strict=True):
        if n == 0 or not w.any():  # numpy: nothing to reflect (an empty axis raises in numpy's own pad)
            plans.append(((np.pad(np.arange(n), w.tolist(), mode=mode), np.ones(n + int(w.sum()))),))  # type: ignore[call-overload]
            continue
        coef = np.pad(np.eye(n), (w.tolist(), (0, 0)), mode=mode, reflect_type="odd")  # type: ignore[call-overload]
        order = np.argsort(coef == 0, axis=1, kind="stable")  # each row's nonzero columns first
        k = max(int(np.count_nonzero(coef, axis=1).max()), 1)
        idx = order[:, :k]
        plans.append(tuple((idx[:, j], np.take_along_axis(coef, idx[:, j : j + 1], axis=1)[:, 0]) for j in range(k)))
    return tuple(plans)


def _combine(x: Any, terms: tuple[tuple[np.ndarray, np.ndarray], ...], axis: int) -> Any:
    """The sum over ``terms`` of ``coefficients * take(x, indices, axis)``, coefficients along
    ``axis`` (NOTE [Odd reflection])."""
    mnp = _m()
    nd = _ndim(x)
    out = None
    for idx, coef in terms:
        part = mnp.take(x, idx, axis=axis)
        if not np.all(coef == 1):
            c = coef.reshape((-1,) + (1,) * (nd - 1 - axis))
            safe = np.where(c == 0, 1, c).astype(dtype_name(x))  # no 0 * inf (and its warning)
            part = mnp.where(c != 0, mnp.multiply(part, safe), mnp.zeros_like(part))
        out = part if out is None else mnp.add(out, part)
    return out


@on_host
def _constant_plan(
    pad_width: Any, nd: int, values: Any
) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[float, float], ...]]:
    """numpy's widths and fill values for each axis and side, as Python numbers (NOTE [numpy
    answers in compiled code])."""
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (nd, 2))
    fills = np.broadcast_to(np.asarray(values, dtype=float), (nd, 2))
    return (
        tuple((int(a), int(b)) for a, b in widths),
        tuple((float(a), float(b)) for a, b in fills),
    )


@on_host
def _index_plan(
    pad_width: Any, shape: tuple[int, ...], mode: str, options: tuple[tuple[str, Any], ...]
) -> tuple[np.ndarray, ...]:
    """For each axis, the indices of the elements numpy's index ``mode`` puts along it."""
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (len(shape), 2))
    return tuple(
        np.pad(np.arange(n), w.tolist(), mode=mode, **dict(options))  # type: ignore[call-overload]
        for n, w in zip(shape, widths, strict=True)
    )


def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = np._NoValue, append: Any = np._NoValue) -> Any:
    """n-th discrete difference along an axis (with values to prepend or append)."""
    mnp = _m()
    x = _arr(a)
    if n == 0:  # numpy: the array itself, before prepend and append
        return x
    nd = _ndim(x)
    if nd == 0:
        raise ValueError("mnp.diff: diff requires input that is at least one dimensional")
    if not -nd <= axis < nd:  # a wrapped index into the shape list below raised IndexError
        raise np.exceptions.AxisError(f"mnp.diff: axis {axis} is out of bounds for array of dimension {nd}")
    for key, value in (("prepend", prepend), ("append", append)):
        if value is None:  # numpy joins None as a value and fails to subtract it; left out means none
            raise TypeError(f"mnp.diff: {key}=None is not a value to join (numpy raises too); leave {key} out for none")
    prepend, append = (None if v is np._NoValue else v for v in (prepend, append))
    if prepend is not None or append is not None:
        shape = list(x.shape)
        shape[axis] = 1

        def edge(v: Any) -> Any:  # numpy broadcasts a 0-d value, and joins an array as it is
            v = _arr(v)
            return mnp.broadcast_to(v, shape) if _ndim(v) == 0 else v

        parts = [edge(prepend)] if prepend is not None else []
        parts.append(x)
        if append is not None:
            parts.append(edge(append))
        x = mnp.concatenate(parts, axis=axis)
    from ._dispatch import call

    return call("diff", x, n=n, axis=axis)


def _negative(widths: Any) -> bool:
    """Whether pad widths (an int or nested tuples and lists of them) hold a negative one:
    plain Python, which torch.compile traces (numpy's object arrays it does not)."""
    if isinstance(widths, (tuple, list)):
        return any(_negative(w) for w in widths)
    return isinstance(widths, (int, np.integer)) and bool(widths < 0)


def rot90(m: Any, k: int = 1, axes: Any = (0, 1)) -> Any:
    """Rotates by 90 degrees ``k`` times in the plane of ``axes``."""
    mnp = _m()
    x = _arr(m)
    a0, a1 = axes
    nd = _ndim(x)
    if a0 % max(nd, 1) == a1 % max(nd, 1) or not (-nd <= a0 < nd and -nd <= a1 < nd):
        raise ValueError(f"mnp.rot90: axes {tuple(axes)} must be two different axes of the array (as in numpy)")
    k %= 4
    if k == 0:
        return x
    if k == 2:
        return mnp.flip(mnp.flip(x, a0), a1)
    perm = list(range(_ndim(x)))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return mnp.transpose(mnp.flip(x, a1), perm)
    return mnp.flip(mnp.transpose(x, perm), a1)


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: None = None) -> Any:
    """Sum along a diagonal."""
    mnp = _m()
    no_out("trace", out)
    return mnp.sum(mnp.diagonal(a, offset=offset, axis1=axis1, axis2=axis2), axis=-1, dtype=dtype)


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002
    """Vector or matrix norm with numpy's ``ord`` options; the 2-norm and Frobenius norm have
    derivative 0 at zero on every backend (the frameworks disagree there), and so have the
    ``p``-norms with ``p > 0`` at a zero vector or element."""
    fast = _dispatch.FAST_NORM.get(type(x))
    if fast is not None:  # NOTE [Common calls on torch] in _torch_fast.py
        out = fast(x, ord, axis, keepdims)
        if out is not _dispatch.SLOW:
            return out
    # NOTE [Derivative conventions]
    from ._composite import _safe_sqrt

    mnp = _m()
    x = _float(_arr(x))
    nd = _ndim(x)
    # NOTE [Norms of complex arrays]: numpy's norms are of |x| (sqrt(sum(|z|**2)), not
    # sqrt(sum(z**2)), which is complex); every norm but the singular-value ones (2, -2, 'nuc'
    # of a matrix) depends on |x| only, so those take the magnitudes first.
    matrix_svd = ord in (2, -2, "nuc") and (
        nd == 2 if axis is None else isinstance(axis, (tuple, list)) and len(axis) == 2
    )
    if dtype_name(x).startswith("complex") and not matrix_svd:
        x = mnp.abs(x)
    if axis is None:
        if ord is None:
            out = _safe_sqrt(mnp.sum(x * x))
            return mnp.reshape(out, (1,) * nd) if keepdims else out
        axis = tuple(range(nd))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    if len(axes) not in (1, 2):
        raise ValueError("mnp.linalg.norm: improper number of dimensions to norm")
    axes = _normalized("linalg.norm", axes, nd)  # numpy's AxisError, not a reduction's error
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    return _matrix_norm(x, ord, (axes[0], axes[1]), keepdims)


def _extreme(x: Any, largest: bool, axis: int, keepdims: bool) -> Any:
    """The maximum (numpy's ``initial=0``: 0 over no values, as ``x >= 0`` here) or minimum
    (numpy's ValueError over no values) of ``x`` along ``axis``, for the norms."""
    mnp = _m()
    if x.shape[axis] == 0:
        if not largest:
            raise ValueError(
                "mnp.linalg.norm: zero-size array to reduction operation minimum which has no identity (as in numpy)"
            )
        return mnp.sum(x, axis=axis, keepdims=keepdims)  # zeros of the result's shape and dtype
    return (mnp.max if largest else mnp.min)(x, axis=axis, keepdims=keepdims)


def _vector_norm(x: Any, order: Any, axis: int, keepdims: bool) -> Any:
    from ._composite import _safe_sqrt

    mnp = _m()
    if order is None or order == 2:
        return _safe_sqrt(mnp.sum(x * x, axis=axis, keepdims=keepdims))
    ax = mnp.abs(x)
    if order in (np.inf, -np.inf):
        return _extreme(ax, order > 0, axis, keepdims)
    if order == 0:
        return mnp.sum(mnp.astype(mnp.not_equal(x, 0), dtype_name(x)), axis=axis, keepdims=keepdims)  # x's float
    if order == 1:
        return mnp.sum(ax, axis=axis, keepdims=keepdims)
    if isinstance(order, str):
        raise ValueError(f"mnp.linalg.norm: invalid norm order {order!r} for vectors")
    if order != order:  # nan: numpy's sum(|x|**nan)**(1/nan) is nan (the p > 0 branch below gave 0)
        return mnp.sum(ax, axis=axis, keepdims=keepdims) * np.nan
    if order < 0:
        return mnp.sum(ax**order, axis=axis, keepdims=keepdims) ** (1.0 / order)
    # p > 0: |x|**p and s**(1/p) are taken where the base is positive only, so that a zero
    # element (|x|**(p-1) * sign(0): inf * 0 for p < 1) and the zero vector (s**(1/p - 1) * 0
    # for p > 1) have derivative 0, as the 2-norm does, and not nan.
    nz = mnp.greater(ax, 0)
    powered = mnp.where(nz, mnp.power(mnp.where(nz, ax, 1.0), float(order)), 0.0)
    total = mnp.sum(powered, axis=axis, keepdims=keepdims)
    pos = mnp.greater(total, 0)
    return mnp.where(pos, mnp.power(mnp.where(pos, total, 1.0), 1.0 / order), 0.0)


def _matrix_norm(x: Any, order: Any, axes: tuple[int, int], keepdims: bool) -> Any:
    from ._composite import _safe_sqrt

    mnp = _m()
    r, c = axes
    if order is None or order == "fro":
        return _safe_sqrt(mnp.sum(x * x, axis=axes, keepdims=keepdims))
    if order in (1, -1, np.inf, -np.inf):
        along, across = (r, c) if order in (1, -1) else (c, r)
        sums = mnp.sum(mnp.abs(x), axis=along, keepdims=True)
        out = _extreme(sums, order > 0, across, True)
    elif order in (2, -2, "nuc"):
        s = mnp.linalg.svd(mnp.moveaxis(x, (r, c), (-2, -1)), compute_uv=False)
        if order == 2 and s.shape[-1] == 0:  # numpy's maximum of no singular values: 0
            s = mnp.sum(s, axis=-1, keepdims=True)
        elif order == -2 and s.shape[-1] == 0:  # numpy's error (torch raised IndexError)
            raise ValueError(
                "multiad.numpy.linalg.norm: the -2 norm of an empty matrix is the minimum of no singular values "
                "(numpy: zero-size array to reduction operation minimum which has no identity)"
            )
        out = mnp.max(s, axis=-1) if order == 2 else mnp.min(s, axis=-1) if order == -2 else mnp.sum(s, axis=-1)
        return mnp.expand_dims(out, tuple(sorted(axes))) if keepdims else out
    else:
        raise ValueError(f"mnp.linalg.norm: invalid norm order {order!r} for matrices")
    return out if keepdims else mnp.squeeze(out, axis=axes)


def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """Derivative estimates by central differences inside and one-sided differences (first or
    second order) at the edges, along each axis; uniform spacings given as numbers."""
    mnp = _m()
    x = _arr(f)
    if dtype_name(x) == "bool":
        raise TypeError("mnp.gradient: numpy does not subtract booleans; convert f to a number dtype first")
    x = _float(x)
    nd = _ndim(x)
    axes = list(range(nd)) if axis is None else list(_normalized("gradient", axis, nd))  # numpy's AxisError
    varargs = tuple(float(v) if isinstance(v, (np.integer, np.floating)) else v for v in varargs)
    if any(not isinstance(v, (int, float)) for v in varargs):
        raise NotImplementedError("mnp.gradient: spacings must be numbers (uniform grids)")
    steps = [float(v) for v in varargs] if len(varargs) > 1 else [float(varargs[0]) if varargs else 1.0] * len(axes)
    if edge_order not in (1, 2):
        raise ValueError("mnp.gradient: edge_order must be 1 or 2")
    for a in axes:
        if x.shape[a] < edge_order + 1:  # numpy's ValueError (an index out of range before)
            raise ValueError(
                f"mnp.gradient: shape of array too small to calculate a numerical gradient along axis {a} "
                f"(size {x.shape[a]}): at least edge_order + 1 = {edge_order + 1} elements are required (as in numpy)"
            )
    outs = [_gradient_1d(mnp, x, a, h, edge_order) for a, h in zip(axes, steps, strict=True)]
    return outs[0] if len(outs) == 1 else tuple(outs)


def _gradient_1d(mnp: Any, x: Any, axis: int, h: float, edge_order: int) -> Any:
    n = x.shape[axis]

    def at(i: Any) -> Any:
        return mnp.take(x, np.asarray(i), axis=axis)

    inner = (at(np.arange(2, n)) - at(np.arange(0, n - 2))) / (2.0 * h)
    if edge_order == 1:
        first = (at([1]) - at([0])) / h
        last = (at([n - 1]) - at([n - 2])) / h
    elif edge_order == 2:
        first = (-3.0 * at([0]) + 4.0 * at([1]) - at([2])) / (2.0 * h)
        last = (3.0 * at([n - 1]) - 4.0 * at([n - 2]) + at([n - 3])) / (2.0 * h)
    else:
        raise ValueError("mnp.gradient: edge_order must be 1 or 2")
    return mnp.concatenate([first, inner, last], axis=axis)


def block(arrays: Any) -> Any:
    """An array assembled from nested lists of blocks (numpy's ``block``): the innermost lists
    are joined along the last axis, the next ones along the second-to-last, and so on; blocks
    are arrays or numbers."""
    mnp = _m()
    depth, ndim = _block_shape(arrays, "arrays")
    lib = _dispatch.like(arrays, call="mnp.block")
    result_ndim = max(depth, ndim)

    def assemble(x: Any, level: int) -> Any:
        if level < depth:
            return mnp.concatenate([assemble(v, level + 1) for v in x], axis=-(depth - level))
        v = x if hasattr(x, "shape") else _dispatch.to_array(lib, x)
        missing = result_ndim - _ndim(v)
        return mnp.reshape(v, (1,) * missing + tuple(v.shape)) if missing else mnp.copy(v)

    return assemble(arrays, 0)


def _block_shape(x: Any, where: str) -> tuple[int, int]:
    """The nesting depth of lists in ``x`` (the same for every block, as numpy requires) and the
    largest number of axes of a block; numpy's errors otherwise."""
    if type(x) is tuple:
        raise TypeError(
            f"mnp.block: {where} is a tuple; only lists can arrange blocks (numpy's block does not convert "
            "a tuple to an array): use a list, or mnp.asarray for an array"
        )
    if type(x) is not list:
        return 0, _ndim(x)
    if not x:
        raise ValueError(f"mnp.block: the list at {where} cannot be empty")
    found = [_block_shape(v, f"{where}[{i}]") for i, v in enumerate(x)]
    depths = {d for d, _ in found}
    if len(depths) > 1:
        raise ValueError(
            f"mnp.block: list depths are mismatched at {where}: blocks at depths {sorted(d + 1 for d in depths)}; "
            "nest every block equally deep"
        )
    return found[0][0] + 1, max(n for _, n in found)
