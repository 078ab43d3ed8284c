"""Quantiles written once for every backend: ``quantile``, ``percentile``, their nan-ignoring
versions and ``nanmedian``.

NOTE [Quantiles as a sort and a lerp]: numpy's quantile of ``n`` values at ``q`` is, for every
one of its 13 methods, the sorted values at two neighbouring positions ``lo <= hi`` combined as
``lerp(s[lo], s[hi], gamma)``, where ``lo``, ``hi`` and ``gamma`` depend on ``n``, ``q`` and the
method only, never on the values (the discrete methods pick one position). So the values are
sorted with ``mnp.sort`` (whose derivative is the permutation the sort picks, NOTE [Derivative
conventions]), the positions are computed with numpy from ``n`` and ``q`` (``_positions``,
numpy's formulas), and the result is numpy's lerp of the picked values: piecewise linear in the
values, so every backend differentiates it, at ties as the sort orders them. ``q`` must be known
values (numbers, lists, numpy arrays, or a framework's array outside a transform): positions
are chosen from it, so a traced ``q`` raises NonDifferentiableError rather than getting a zero
derivative. The nan-ignoring functions count the values that are not nan in each slice, ``c``
(traced like the values), take the positions of every count ``0..n`` from numpy as tables and
each slice's row of them by ``take_along_axis`` with ``c`` (a gather by integer indices, which
``jax.jit`` and ``vmap`` trace, and whose derivative reaches the values only); sorting puts nan
last on every framework, so the first ``c`` sorted values are the ones numpy keeps. A slice with
no value gives nan, as in numpy.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._errors import NonDifferentiableError
from . import _dispatch
from ._composite import (
    _arr,
    _m,
    _ndim,
    _normalized,
    cast_as_numpy,
    dtype_name,
    inexact,
    median,
    no_out,
    on_host,
    warn_where,
)

_METHODS = (
    "inverted_cdf averaged_inverted_cdf closest_observation interpolated_inverted_cdf hazen weibull "
    "linear median_unbiased normal_unbiased lower higher midpoint nearest"
).split()
_PICK_ONE = frozenset("inverted_cdf closest_observation lower higher nearest".split())
_ALPHA_BETA = {
    "interpolated_inverted_cdf": (0.0, 1.0),
    "hazen": (0.5, 0.5),
    "weibull": (0.0, 0.0),
    "median_unbiased": (1 / 3.0, 1 / 3.0),
    "normal_unbiased": (3 / 8.0, 3 / 8.0),
}


def _positions(n: np.ndarray, q: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """numpy's positions ``lo``, ``hi`` (in ``[0, n - 1]``) and weight ``gamma`` of ``hi`` for ``n``
    values at quantiles ``q`` (broadcast together), by numpy's formulas
    (``numpy.lib._function_base_impl._QuantileMethods``)."""
    with np.errstate(all="ignore"):
        nf = n.astype(np.float64)
        if method in _PICK_ONE:
            if method in ("lower", "higher", "nearest"):
                at_n = (nf - 1) * q
                idx = np.floor(at_n) if method == "lower" else np.ceil(at_n) if method == "higher" else np.around(at_n)
            else:
                v = nf * q - 1 - (0.5 if method == "closest_observation" else 0.0)
                prev = np.floor(v)
                at = (v - prev) == 0
                if method == "closest_observation":
                    at &= np.floor(v) % 2 == 1
                idx = np.maximum(np.where(at, prev, prev + 1), 0)
            idx = np.clip(idx, 0, np.maximum(n - 1, 0)).astype(np.intp)
            return idx, idx, np.zeros(idx.shape)
        if method == "linear":
            v = (nf - 1) * q
        elif method == "averaged_inverted_cdf":
            v = nf * q - 1
        elif method == "midpoint":
            v = 0.5 * (np.floor((nf - 1) * q) + np.ceil((nf - 1) * q))
        else:
            alpha, beta = _ALPHA_BETA[method]
            v = nf * q + (alpha + q * (1 - alpha - beta)) - 1
        prev = np.floor(v)
        nxt = prev + 1
        above = v >= nf - 1
        below = v < 0
        prev = np.where(above, -1.0, np.where(below, 0.0, prev))  # numpy's -1: the last value
        nxt = np.where(above, -1.0, np.where(below, 0.0, nxt))
        gamma = v - prev
        if method == "averaged_inverted_cdf":
            gamma = np.where(gamma == 0, 0.5, 1.0)
        elif method == "midpoint":
            gamma = np.where(v % 1 == 0, 0.0, 0.5)
        last = np.maximum(n - 1, 0)
        lo = np.where(prev < 0, last, prev).astype(np.intp)
        hi = np.where(nxt < 0, last, nxt).astype(np.intp)
        return lo, hi, gamma


def traced(x: Any) -> bool:
    """Whether ``x``, an array of any framework, is being traced (differentiated, or under
    jit/vmap), so that its values cannot be read."""
    lib = _dispatch.like(x)
    if lib == "torch":
        import torch

        if torch.compiler.is_compiling():  # under torch.compile every tensor is traced
            return True
        return bool(torch._C._functorch.is_functorch_wrapped_tensor(x)) or bool(x.requires_grad)
    if lib == "jax":
        import jax

        return isinstance(x, jax.core.Tracer)
    if lib == "autograd":
        from autograd.tracer import Box

        return isinstance(x, Box)
    return False


def _known(call: str, q: Any) -> Any:
    """``q`` as values numpy can read: numbers and numpy arrays as they are, a framework's
    array by its values where it is not traced (NOTE [Quantiles as a sort and a lerp])."""
    if isinstance(q, (list, tuple)):
        return [_known(call, v) for v in q]
    lib = _dispatch.like(q, call=call)
    if lib == "numpy":
        return q
    if traced(q):
        raise NonDifferentiableError(
            f"{call}: q is traced (differentiated, or under jit/vmap); the positions of the quantiles are "
            "chosen from q's values, so q must be known values: pass numbers, a list or a numpy array "
            "made outside the transform"
        )
    from .._arrays import to_numpy

    return to_numpy(q)


def _check(name: str, numpy_name: str, x: Any, q: Any, method: str) -> str | None:
    """numpy's verdict on the arguments (its errors, prefixed with the call), from a stand-in
    of ``x``'s dtype; the name of numpy's result dtype (None for a dtype numpy lacks)."""
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(f"mnp.{name}: {method!r} is not a valid method; use one of {', '.join(_METHODS)}")
    return _numpy_verdict(name, numpy_name, dtype_name(x), q, method)


@on_host
def _numpy_verdict(name: str, numpy_name: str, dt: str | None, q: Any, method: str) -> str | None:
    """:func:`_check`'s numpy call, on Python values only (NOTE [numpy answers in compiled code])."""
    try:
        stand_in = np.zeros(2, dt)
    except TypeError:
        stand_in = np.zeros(2)
        dt = None
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = getattr(np, numpy_name)(stand_in, q, method=method)
    except (TypeError, ValueError) as e:
        raise type(e)(f"mnp.{name}: {e}") from None
    return np.asarray(want).dtype.name if dt is not None else None


def _quantiles(
    name: str,
    a: Any,
    q: Any,
    axis: Any,
    method: str,
    keepdims: bool,
    skip_nan: bool,
    scale: float = 1.0,
    numpy_name: str | None = None,
) -> Any:
    mnp = _m()
    x = _arr(a)
    q = _known(f"mnp.{name}", q)
    want = _check(name, numpy_name or name, x, q, method)
    skip_nan = skip_nan and inexact(x)
    nd = _ndim(x)
    if method not in _PICK_ONE:  # numpy's float dtype (float64 for integers); JAX's own float
        x = cast_as_numpy(x, want)
        if not inexact(x):
            x = mnp.multiply(x, 1.0) if want is None or _dispatch.like(x) == "jax" else mnp.astype(x, want)
    # the reduced axes moved last and merged into one
    axes = tuple(range(nd)) if axis is None else _normalized(name, axis, nd)
    rest = [d for d in range(nd) if d not in axes]
    # the merged length counted, not -1: an array of no elements has no single length for -1
    merged = mnp.reshape(mnp.transpose(x, (*rest, *axes)), (*[x.shape[d] for d in rest], _length(x, axes)))
    s = mnp.sort(merged, axis=-1)
    n = int(s.shape[-1])
    q_shape, flat_q, lo, hi, gamma = _tables(n, q, scale, method, skip_nan)
    if n == 0 and not skip_nan:
        raise IndexError(
            f"mnp.{name}: no values to take quantiles of (an axis of length 0, an IndexError in numpy too); "
            "give at least one value along the axis"
        )
    if n == 0:  # no value in any slice: nan, as numpy gives
        res = mnp.sum(mnp.astype(s, "float64") if not inexact(s) else s, axis=-1, keepdims=True) + np.full(
            flat_q.shape, np.nan
        )
    elif not skip_nan:
        low = mnp.take(s, lo, axis=-1)
        res = low if method in _PICK_ONE else _lerp(low, mnp.take(s, hi, axis=-1), _like(gamma, s))
        if inexact(s) and n > 0:  # a slice holding nan: nan, as in numpy
            res = mnp.where(mnp.isnan(mnp.take(s, [n - 1], axis=-1)), np.nan, res)
    elif n == 0:  # numpy: nan for an empty slice, with a warning
        warnings.warn(f"mnp.{name}: all-NaN slice encountered (an empty slice)", RuntimeWarning, stacklevel=3)
        res = mnp.broadcast_to(mnp.sum(s, axis=-1, keepdims=True) * np.nan, (*s.shape[:-1], flat_q.size))
    elif 0 in tuple(s.shape[:-1]):  # no slice at all ((0, 3) along axis 1): numpy's empty result, no warning
        res = mnp.broadcast_to(mnp.sum(s, axis=-1, keepdims=True), (*s.shape[:-1], flat_q.size))
    else:
        res = _nan_quantiles(s, flat_q, method, lo, hi, gamma, median=name == "nanmedian")
    res = mnp.moveaxis(res, -1, 0)  # numpy: q's axes first
    shape = [x.shape[d] for d in rest] if not keepdims else [1 if d in axes else x.shape[d] for d in range(nd)]
    res = mnp.reshape(res, (*[int(d) for d in q_shape], *shape))  # NOTE [Numbers of a host answer]
    if want is not None:
        res = cast_as_numpy(res, want)
    return np.asarray(res) if keepdims and isinstance(res, np.generic) else res  # numpy: a 0-d array, not a scalar


def _length(x: Any, axes: tuple[int, ...]) -> int:
    """The number of values in each slice over ``axes``."""
    n = 1
    for d in axes:
        n *= int(x.shape[d])
    return n


def _like(gamma: np.ndarray, s: Any) -> np.ndarray:
    """The weights in the sorted values' float dtype (a float64 array would promote float32)."""
    dt = dtype_name(s)
    try:
        return gamma.astype(dt)
    except TypeError:
        return gamma


def _lerp(a: Any, b: Any, t: Any) -> Any:
    """numpy's lerp: ``a + (b - a) t``, from ``b`` for ``t >= 0.5`` (exact at both ends)."""
    mnp = _m()
    d = mnp.subtract(b, a)
    return mnp.where(mnp.greater_equal(t, 0.5), mnp.subtract(b, mnp.multiply(d, 1 - t)), mnp.add(a, mnp.multiply(d, t)))


# NOTE [Numbers of a host answer]: under torch.compile, :func:`_tables`'s answer enters the
# program as a constant (NOTE [numpy answers in compiled code]), and a number of it whose type
# the traced code asks (the torch fast path of ``reshape`` checks each dimension) is a guard the
# compiler cannot make on a constant (torch 2.13: NotImplementedError from its make_guard, with
# or without fullgraph). A scalar ``q`` has no dimension to ask about; ``q`` given as a list
# failed. ``q``'s shape is therefore made again of ints in the trace before it is used.
@on_host
def _tables(
    n: int, q: Any, scale: float, method: str, by_count: bool
) -> tuple[tuple[int, ...], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``q``'s shape, ``q / scale`` flat, and :func:`_positions` for ``n`` values (for each count
    of values from 0 to ``n``, as rows, where ``by_count``): computed from Python values alone
    (NOTE [numpy answers in compiled code])."""
    qf = np.asarray(q, dtype=np.float64) / scale
    flat = qf.reshape(-1)
    if by_count:  # (n + 1, nq), by count
        lo, hi, gamma = _positions(np.arange(n + 1)[:, None], flat[None, :], method)
    else:
        lo, hi, gamma = _positions(np.array(n), flat, method)
    return qf.shape, flat, lo, hi, gamma


def _nan_quantiles(
    s: Any, q: np.ndarray, method: str, lo: np.ndarray, hi: np.ndarray, gamma: np.ndarray, median: bool = False
) -> Any:
    """Quantiles of the first ``c`` sorted values of each slice, ``c`` the count of values that
    are not nan (NOTE [Quantiles as a sort and a lerp]); ``lo``, ``hi`` and ``gamma`` by count
    (:func:`_tables`). ``median`` (``q = 0.5``, ``method="linear"``): the middle value, or the
    mean of the two, as numpy's ``nanmedian`` takes them (the lerp gives nan at an infinite
    middle value: ``inf + 0 * (inf - inf)``)."""
    mnp = _m()
    count = mnp.sum(mnp.logical_not(mnp.isnan(s)), axis=-1)  # (...,), traced like the values
    nq = q.shape[0]
    lead = tuple(s.shape[:-1])
    # each slice's row of the tables: flat indices count * nq + j, gathered along one axis
    rows = mnp.reshape(mnp.multiply(mnp.expand_dims(count, -1), nq) + np.arange(nq), (-1,))

    def row(table: np.ndarray) -> Any:
        return mnp.reshape(mnp.take_along_axis(table.reshape(-1), rows, axis=0), (*lead, nq))

    safe = mnp.where(mnp.isnan(s), 0.0, s)  # nan is never picked; 0 keeps where's derivative finite
    low = mnp.take_along_axis(safe, row(lo), axis=-1)
    if method in _PICK_ONE:
        res = low
    elif median:
        two = mnp.mean(mnp.stack([low, mnp.take_along_axis(safe, row(hi), axis=-1)], axis=-1), axis=-1)
        res = mnp.where(mnp.equal(row(gamma), 0.0), low, two)
    else:
        res = _lerp(low, mnp.take_along_axis(safe, row(hi), axis=-1), row(_like(gamma, s)))
    none = mnp.equal(count, 0)
    warn_where(none, "All-NaN slice encountered")  # NOTE [Warnings of empty slices]
    return mnp.where(mnp.expand_dims(none, -1), np.nan, res)


def quantile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: None = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    *,
    weights: Any = None,
    interpolation: Any = None,
) -> Any:
    """The ``q``-th quantiles (``q`` in ``[0, 1]``) along an axis, with any of numpy's 13
    methods; piecewise linear in ``a`` and differentiable in it on every backend (at tied values
    the derivative follows the order the sort picks). ``q`` must be known values (numbers,
    lists, numpy arrays, a framework's array outside a transform): a ``q`` traced by a transform
    raises NonDifferentiableError."""
    # NOTE [Quantiles as a sort and a lerp]
    return _entry("quantile", a, q, axis, out, method, keepdims, weights, interpolation, False, 1.0)


def percentile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: None = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    *,
    weights: Any = None,
    interpolation: Any = None,
) -> Any:
    """The ``q``-th percentiles (``q`` in ``[0, 100]``) along an axis; see ``quantile``."""
    return _entry("percentile", a, q, axis, out, method, keepdims, weights, interpolation, False, 100.0)


def nanquantile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: None = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    *,
    weights: Any = None,
    interpolation: Any = None,
) -> Any:
    """``quantile`` ignoring nan (nan for a slice of nan only)."""
    return _entry("nanquantile", a, q, axis, out, method, keepdims, weights, interpolation, True, 1.0)


def nanpercentile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: None = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    *,
    weights: Any = None,
    interpolation: Any = None,
) -> Any:
    """``percentile`` ignoring nan (nan for a slice of nan only)."""
    return _entry("nanpercentile", a, q, axis, out, method, keepdims, weights, interpolation, True, 100.0)


def nanmedian(a: Any, axis: Any = None, out: None = None, overwrite_input: bool = False, keepdims: bool = False) -> Any:
    """Median ignoring nan (nan for a slice of nan only); numpy's median for integers and booleans."""
    no_out("nanmedian", out)
    x = _arr(a)
    if not inexact(x):  # numpy: median (no nan to skip; quantiles of booleans are refused, their median is not)
        return median(a, axis=axis, keepdims=keepdims)
    if dtype_name(x).startswith("complex"):  # numpy's quantiles refuse complex numbers, its nanmedian does not
        return _complex_nanmedian(x, axis, keepdims)
    return _quantiles("nanmedian", a, 0.5, axis, "linear", keepdims, True, numpy_name="nanquantile")


def _complex_nanmedian(x: Any, axis: Any, keepdims: bool) -> Any:
    """numpy's nanmedian of complex numbers: the median (in numpy's lexicographic order, the
    mean of the two middle values for an even count) of the values with no nan part; nan for a
    slice without one."""
    mnp = _m()
    nd = _ndim(x)
    axes = tuple(range(nd)) if axis is None else _normalized("nanmedian", axis, nd)
    rest = [d for d in range(nd) if d not in axes]
    merged = mnp.reshape(mnp.transpose(x, (*rest, *axes)), (*[x.shape[d] for d in rest], -1))
    if merged.shape[-1] == 0:  # numpy: nan, with its warning
        return median(x, axis=axis, keepdims=keepdims)
    nan = mnp.isnan(merged)
    # values with a nan part after every other (JAX's sort keeps 1+nanj among them)
    s = mnp.sort(mnp.where(nan, complex(np.inf, np.inf), merged), axis=-1)
    n = mnp.sum(mnp.logical_not(nan), axis=-1, keepdims=True)
    lo = mnp.take_along_axis(s, mnp.maximum((n - 1) // 2, 0), axis=-1)
    hi = mnp.take_along_axis(s, mnp.minimum(n // 2, merged.shape[-1] - 1), axis=-1)
    out = (mnp.where(n == 0, complex(np.nan, 0.0), lo + hi) / 2)[..., 0]  # a slice of nan only: nan
    if keepdims:
        out = mnp.reshape(out, tuple(1 if d in axes else x.shape[d] for d in range(nd)))
    return out


def _entry(
    name: str,
    a: Any,
    q: Any,
    axis: Any,
    out: Any,
    method: str,
    keepdims: bool,
    weights: Any,
    interpolation: Any,
    skip_nan: bool,
    scale: float,
) -> Any:
    if out is not None:
        raise NotImplementedError(f"mnp.{name}: out= is not supported; use the returned array")
    if weights is not None:
        raise NotImplementedError(f"mnp.{name}: weights= is not supported; repeat values to weight them, or use numpy")
    if interpolation is not None:
        if method != "linear":
            raise TypeError(f"mnp.{name}: give method= only (interpolation= is its deprecated name)")
        warnings.warn(
            f"mnp.{name}: the interpolation= argument is deprecated (as in numpy); use method= instead",
            DeprecationWarning,
            stacklevel=3,
        )
        method = interpolation
    return _quantiles(name, a, q, axis, method, keepdims, skip_nan, scale)
