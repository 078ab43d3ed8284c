"""Corrections to ``autograd.numpy``: reductions and scans (``where=``, ``initial=``, ``dtype=``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._composite import no_out
from ._fixes_ag import _ag_where
from ._fixes_common import Fn, _ag


def _ag_cumsum(a: Any, axis: Any = None, dtype: Any = None, out: None = None) -> Any:
    no_out("cumsum", out)
    if dtype is not None:
        a = _ag_dtype_input(a, dtype)
        if type(a) is np.ndarray:  # no derivative (or none to begin with): numpy's own accumulation
            return np.cumsum(a, axis=axis, dtype=dtype)
    # autograd's cumsum derivative takes no dtype=: numpy accumulates in it, so cast first.
    return _ag().cumsum(_ag_accumulator(a, "cumsum", dtype), axis=axis)


def _ag_dtype_input(a: Any, dtype: Any) -> Any:
    """NOTE [dtype= of reductions of traced arrays on autograd]: autograd reduces a traced array
    in its own dtype and casts after (prod of float16 [300, 300, 2] with dtype=float64 was inf),
    and an integer result of a traced array failed in the derivative ("Can't differentiate
    w.r.t. type numpy.int64"). A float dtype= is applied to the elements first (numpy
    accumulates in it); for an integer or bool one the reduction runs on the values, with no
    derivative (0 through it, as ``astype`` and the other backends)."""
    from autograd.tracer import getval, isbox

    if not isbox(a):
        return a
    want = np.dtype(dtype)
    if want.kind in "biu":
        return getval(a)
    return a if np.result_type(getval(a)) == want else a.astype(want)


def _ag_accumulator(a: Any, name: str, dtype: Any) -> Any:
    """``a`` in the dtype numpy's scan ``name`` accumulates in (int64 for small integers)."""
    from autograd.tracer import getval

    want = getattr(np, name)(np.ones(1, np.result_type(getval(a))), dtype=dtype).dtype
    return a if np.result_type(getval(a)) == want else a.astype(want)


def _ag_cumprod(a: Any, axis: Any = None, dtype: Any = None, out: None = None) -> Any:
    no_out("cumprod", out)
    anp = _ag()
    if dtype is not None:
        a = _ag_dtype_input(a, dtype)
        if type(a) is np.ndarray:  # no derivative (or none to begin with): numpy's own accumulation
            return np.cumprod(a, axis=axis, dtype=dtype)
    a = _ag_accumulator(a, "cumprod", dtype)
    x = anp.ravel(a) if axis is None else anp.moveaxis(a, axis, 0)
    if x.shape[0] == 0:  # numpy's empty result (x[0] raised IndexError)
        return anp.ravel(a) if axis is None else a
    parts = [x[0]]
    for i in range(1, x.shape[0]):
        parts.append(parts[-1] * x[i])
    out_ = anp.stack(parts)
    return out_ if axis is None else anp.moveaxis(out_, 0, axis)


def _ag_prod(
    a: Any, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False, **kwargs: Any
) -> Any:
    """autograd's ``prod`` divides by the factors for its derivative (nan at a zero factor): the
    product of floats is taken here as a tree of pairwise products, whose derivatives are
    products of the other factors at every order."""
    from autograd.tracer import getval

    no_out("prod", out)
    anp = _ag()
    shape = tuple(np.shape(a))
    nd = len(shape)
    axes = tuple(range(nd)) if axis is None else tuple(ax % nd for ax in (axis if isinstance(axis, tuple) else (axis,)))
    n = int(np.prod([shape[d] for d in axes], dtype=np.int64))
    floating = np.issubdtype(np.result_type(getval(a)), np.floating) and (
        dtype is None or np.issubdtype(dtype, np.floating)
    )
    if kwargs or n == 0 or not floating:  # initial=, where=, empty or exact products: autograd's own
        return anp.prod(a, axis=axis, dtype=dtype, keepdims=keepdims, **kwargs)
    kept = [d for d in range(nd) if d not in axes]
    x = anp.reshape(anp.transpose(a, kept + list(axes)), [shape[d] for d in kept] + [n])
    while x.shape[-1] > 1:
        half = x.shape[-1] // 2
        pairs = x[..., :half] * x[..., half : 2 * half]
        x = pairs if x.shape[-1] % 2 == 0 else anp.concatenate([pairs, x[..., 2 * half :]], axis=-1)
    res = x[..., 0]
    if keepdims:
        res = anp.reshape(res, [1 if d in axes else shape[d] for d in range(nd)])
    return res if dtype is None else res.astype(dtype)


def _ag_mask(where: Any, a: Any) -> np.ndarray:
    from autograd.tracer import getval

    return np.broadcast_to(np.asarray(getval(where), dtype=bool), np.shape(a))


def _ag_reduction(name: str, identity: float | None, base: Fn | None = None) -> Fn:
    """autograd's ``name`` (or ``base``) with numpy's ``where=`` by filling masked elements
    (autograd's own derivatives of ``sum``/``prod``/``mean``/``max`` ignore the mask)."""

    def fn(a: Any, axis: Any = None, *args: Any, where: Any = True, **kwargs: Any) -> Any:
        from autograd.tracer import getval, isbox

        reduce = base if base is not None else getattr(_ag(), name)
        if identity is None:  # max and min: initial= applied after the reduction
            return _ag_extremum(
                name, reduce, a, axis, where, **dict(zip(("out", "keepdims", "initial"), args)), **kwargs
            )
        kwargs.update(zip(("dtype", "out", "keepdims", "initial"), args))
        if kwargs.get("dtype") is not None:
            a = _ag_dtype_input(a, kwargs["dtype"])
        initial = kwargs.get("initial", np._NoValue)
        if isbox(initial):  # see NOTE [A differentiated initial= of sum and prod on autograd]
            del kwargs["initial"]
            r = fn(a, axis, where=where, **kwargs)
            start = initial.astype(np.result_type(getval(r)))
            return r + start if name == "sum" else r * start
        if where is True:
            return reduce(a, axis, **kwargs)
        return reduce(_ag_where(_ag_mask(where, a), a, identity), axis, **kwargs)

    # NOTE [A differentiated initial= of sum and prod on autograd]
    # numpy's sum and prod take initial= as the first term or factor; autograd passes it on to
    # numpy, which fails on an ArrayBox ("setting an array element with a sequence") where the
    # initial value is itself differentiated. The reduction then runs without it and adds
    # (multiplies by) it after, cast to the result's dtype as numpy casts it.
    return fn


def _ag_extremum(name: str, reduce: Fn, a: Any, axis: Any, where: Any, **kwargs: Any) -> Any:
    """autograd's max or min with numpy's ``initial=`` and ``where=``.

    NOTE [initial= of max and min on autograd]: autograd's derivative of ``max`` sends the
    cotangent to the elements equal to the result, divided by their count; where ``initial``
    wins, no element equals it and the derivative was 0 / 0 = nan. The reduction runs without
    ``initial``, which then enters through ``maximum``/``minimum``: derivative 0 where it wins,
    shared equally on a tie (NOTE [Derivative conventions]), as on the other backends.
    """
    anp = _ag()
    initial = kwargs.pop("initial", np._NoValue)
    if where is not True:
        if initial is np._NoValue:
            raise ValueError(
                f"mnp.{name}: reducing with a where= mask needs initial= (the value of an all-masked "
                "reduction), as in numpy"
            )
        a = _ag_where(_ag_mask(where, a), a, initial)
    if initial is np._NoValue:
        return reduce(a, axis, **kwargs)
    shape = np.shape(a)
    axes = range(len(shape)) if axis is None else np.atleast_1d(axis)
    if any(shape[int(d)] == 0 for d in axes):  # no element to differentiate: numpy's value
        return reduce(a, axis, initial=initial, **kwargs)
    pick = anp.maximum if name in ("max", "amax") else anp.minimum
    return pick(reduce(a, axis, **kwargs), initial)


def _ag_mean(
    a: Any, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False, *, where: Any = True
) -> Any:
    no_out("mean", out)
    anp = _ag()
    if dtype is not None:
        a = _ag_dtype_input(a, dtype)
    if where is True:
        return anp.mean(a, axis=axis, dtype=dtype, keepdims=keepdims)
    w = _ag_mask(where, a)
    total = anp.sum(_ag_where(w, a, 0), axis=axis, dtype=dtype, keepdims=keepdims)
    want = np.mean(np.ones(1, dtype=np.result_type(a)), dtype=dtype).dtype
    return anp.divide(total, np.sum(w, axis=axis, keepdims=keepdims).astype(want)).astype(want)
