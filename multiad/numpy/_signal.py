"""Signal and interpolation functions written once for every backend: ``convolve``,
``correlate``, ``interp``, ``unwrap`` and ``i0``.

NOTE [Sliding products without gathers by value]: ``convolve``/``correlate`` and ``interp`` pick
elements by positions, and the frameworks' gathers by traced indices differ (autograd's need
numpy indices, torch's under ``vmap`` need batching rules). Here every position is either known
from the shapes alone (the lags of a correlation: an index table built with numpy, then
``mnp.take``) or selected by comparisons and ``where`` (the segment of ``xp`` holding each ``x``
in ``interp``), so one definition traces under ``jax.jit`` and ``vmap`` and differentiates on every
backend: ``convolve``/``correlate`` are bilinear in their two arguments, ``interp`` is linear in
``fp`` and piecewise smooth in ``x`` and ``xp`` (at a knot the segment to its right gives the
derivative in ``x``; at ``xp[-1]`` itself the value is ``fp[-1]``, as numpy returns). Products
outside the overlap, and segments that do not hold ``x``, are removed with ``where`` rather than
multiplied by 0, so an infinite value elsewhere does not turn a result into nan. The cost is
memory of ``len(a) * len(v)`` (correlations) and ``len(x) * len(xp)`` (``interp``) elements.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _dispatch
from ._composite import _arr, _m, _ndim, _normalized, cast_as_numpy, dtype_name, inexact, on_host, result_type_name

_MODES = {"valid": 0, "same": 1, "full": 2}


def _vector(call: str, x: Any, what: str) -> Any:
    """``x`` as a 1-d array (numpy's ``ndmin=1``); numpy's errors for other shapes."""
    mnp = _m()
    v = _arr(x)
    if _ndim(v) == 0:
        v = mnp.reshape(v, (1,)) if hasattr(v, "shape") else np.asarray([v])
    if _ndim(v) != 1:
        raise ValueError(
            f"mnp.{call}: {what} must be 1-d (numpy: object too deep for desired array), got shape {tuple(v.shape)}"
        )
    if v.shape[0] == 0:
        raise ValueError(f"mnp.{call}: {what} cannot be empty")
    return v


def _mode(call: str, mode: Any) -> int:
    if isinstance(mode, str) and mode in _MODES:
        return _MODES[mode]
    if isinstance(mode, (int, np.integer)) and not isinstance(mode, bool) and 0 <= int(mode) <= 2:
        return int(mode)
    raise ValueError(f"mnp.{call}: mode must be 'valid', 'same' or 'full' (or 0, 1, 2), not {mode!r}")


def _result_dtype(call: str, a: Any, v: Any) -> str | None:
    return _correlate_dtype(dtype_name(a), dtype_name(v))


@on_host
def _correlate_dtype(a: str, v: str) -> str | None:
    """numpy's dtype of a correlation of arrays of dtypes ``a`` and ``v``, None where numpy
    lacks one (NOTE [numpy answers in compiled code])."""
    try:
        return np.correlate(np.ones(1, a), np.ones(1, v)).dtype.name
    except TypeError:
        return None


def _correlation(call: str, x: Any, y: Any, mode: int) -> Any:
    """numpy's ``multiarray.correlate(x, y, mode)``: the longer argument first, the output reversed
    where the shorter one came first (NOTE [Sliding products without gathers by value])."""
    mnp = _m()
    want = _result_dtype(call, x, y)
    inverted = x.shape[0] < y.shape[0]
    if inverted:
        x, y = y, x
    n, m = int(x.shape[0]), int(y.shape[0])
    if not inexact(x) or not inexact(y):  # integers and booleans: summed exactly in int64 or float
        x, y = (mnp.astype(t, "int64") if not inexact(t) else t for t in (x, y))
    lags = np.arange(n + m - 1)[:, None] + np.arange(m)[None, :] - (m - 1)  # x's index of y[j] at each lag
    overlap = (lags >= 0) & (lags < n)
    products = mnp.multiply(mnp.take(x, np.clip(lags, 0, n - 1), axis=0), y)
    full = mnp.sum(mnp.where(overlap, products, 0), axis=1)
    left = {0: 0, 1: m // 2, 2: m - 1}[mode]
    right = {0: 0, 1: m - m // 2 - 1, 2: m - 1}[mode]
    start = m - 1 - left
    out = mnp.take(full, np.arange(start, start + n - m + 1 + left + right), axis=0)
    if inverted:
        out = mnp.flip(out, 0)
    if want == "bool":  # numpy's sum of products of booleans: or of ands
        return mnp.not_equal(out, 0)
    return cast_as_numpy(out, want)


def correlate(a: Any, v: Any, mode: Any = "valid") -> Any:
    """Cross-correlation of two 1-d sequences, ``c[k] = sum_n a[n + k] conj(v[n])`` (numpy's
    conjugate of a complex ``v``), with numpy's modes; bilinear, differentiable in both arguments."""
    y = _vector("correlate", v, "v")
    if dtype_name(y).startswith("complex"):  # numpy conjugates v (1-2j for numpy's 19 without)
        y = _m().conj(y)
    return _correlation("correlate", _vector("correlate", a, "a"), y, _mode("correlate", mode))


def convolve(a: Any, v: Any, mode: Any = "full") -> Any:
    """Discrete linear convolution of two 1-d sequences, with numpy's modes; bilinear,
    differentiable in both arguments."""
    x, y = _vector("convolve", a, "a"), _vector("convolve", v, "v")
    m = _mode("convolve", mode)
    if y.shape[0] > x.shape[0]:
        x, y = y, x
    return _correlation("convolve", x, _m().flip(y, 0), m)


def _float64(lib: str, x: Any) -> Any:
    """``x`` in float64, numpy's computing dtype of ``interp``; JAX's own float for JAX."""
    if lib == "jax":
        return x if inexact(x) else _m().multiply(x, 1.0)
    return cast_as_numpy(x, "float64")


def interp(x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None, period: Any = None) -> Any:
    """Piecewise linear interpolation of the points ``(xp, fp)`` (``xp`` increasing) at ``x``;
    differentiable in ``x``, ``xp`` and ``fp`` on every backend, also under ``jax.jit`` and
    ``vmap``. At a knot the derivative in ``x`` is the slope of the segment to its right; at
    ``xp[-1]`` the value is ``fp[-1]``, as in numpy. It takes memory of ``len(x) * len(xp)``
    elements."""
    # NOTE [Sliding products without gathers by value]
    mnp = _m()
    lib = _dispatch.like(x, xp, fp, left, right, call="mnp.interp")
    arrays = []
    ref = next((v for v in (x, xp, fp) if _dispatch.like(v) == lib), None)
    for v in (x, xp, fp):
        v = _arr(v)
        if lib == "torch" and type(v) is np.ndarray:
            # numpy's operators come first between a numpy array and a tensor (slope * (x - lo)
            # raised a bare TypeError for an integer x): every array a tensor
            v = mnp.asarray(v, like=ref)
        if dtype_name(v).startswith("complex"):  # the float64 conversion below dropped the imaginary part
            raise TypeError(
                "mnp.interp: complex values are not supported (complex numbers: multiad differentiates real "
                "inputs only); interpolate the real and imaginary parts separately"
            )
        arrays.append(_float64(lib, v if hasattr(v, "shape") else _dispatch.to_array(lib, v)))
    xv, xpv, fpv = arrays
    if _ndim(xpv) != 1 or _ndim(fpv) != 1:
        raise ValueError("mnp.interp: xp and fp must be 1-d sequences (numpy: Data points must be 1-D sequences)")
    if xpv.shape[0] != fpv.shape[0]:
        raise ValueError(f"mnp.interp: fp and xp are not of the same length ({fpv.shape[0]} and {xpv.shape[0]})")
    if xpv.shape[0] == 0:
        raise ValueError("mnp.interp: array of sample points is empty")
    if period is None and _decreasing(xpv):
        raise ValueError(
            "mnp.interp: xp must be increasing, with no nan (numpy does not check, and its results are then meaningless); "
            "sort xp and fp together, for instance with mnp.argsort(xp) and mnp.take"
        )
    if period is not None:
        if period == 0:
            raise ValueError("mnp.interp: period must be a non-zero value")
        period = abs(period)
        left = right = None
        xv, xpv = mnp.mod(xv, period), mnp.mod(xpv, period)
        order = mnp.argsort(xpv)
        xpv, fpv = mnp.take(xpv, order), mnp.take(fpv, order)
        xpv = mnp.concatenate([mnp.take(xpv, [-1]) - period, xpv, mnp.take(xpv, [0]) + period])
        fpv = mnp.concatenate([mnp.take(fpv, [-1]), fpv, mnp.take(fpv, [0])])
    shape = tuple(xv.shape)
    flat = mnp.reshape(xv, (-1, 1))
    k = int(xpv.shape[0])
    first, last = mnp.take(xpv, [0]), mnp.take(xpv, [k - 1])
    f_first, f_last = mnp.take(fpv, [0]), mnp.take(fpv, [k - 1])
    if k > 1:
        lo, hi = mnp.take(xpv, np.arange(k - 1)), mnp.take(xpv, np.arange(1, k))
        f_lo, f_hi = mnp.take(fpv, np.arange(k - 1)), mnp.take(fpv, np.arange(1, k))
        width = hi - lo
        empty = mnp.equal(width, 0)  # repeated xp: a segment no x falls in
        slope = (f_hi - f_lo) / mnp.where(empty, 1.0, width)
        holds = mnp.logical_and(mnp.less_equal(lo, flat), mnp.less(flat, hi))
        # NOTE [interp at infinite values]: numpy's fallbacks where the formula from the left
        # end is nan (an infinite fp or xp, 0 * inf): fp at a knot, the formula from the right
        # end, then the common value of equal ends. Finite values take the first formula only.
        value = slope * (flat - lo) + f_lo
        bad = mnp.isnan(value)
        value = mnp.where(bad, mnp.where(mnp.equal(flat, lo), f_lo, slope * (flat - hi) + f_hi), value)
        value = mnp.where(mnp.logical_and(mnp.isnan(value), mnp.equal(f_lo, f_hi)), f_lo, value)
        inside = mnp.sum(mnp.where(holds, value, 0.0), axis=1)
    else:
        inside = f_first * mnp.ones_like(flat[:, 0])
    col = flat[:, 0]
    out = mnp.where(mnp.equal(col, last), f_last, inside)
    out = mnp.where(mnp.greater(col, last), f_last if right is None else right, out)
    out = mnp.where(mnp.less(col, first), f_first if left is None else left, out)
    if k > 1:  # numpy: nan stays nan, except with one point (its value then, as numpy gives)
        out = mnp.where(mnp.isnan(col), col, out)
    return mnp.reshape(out, shape)


def _decreasing(xp: Any) -> bool:
    """Whether ``xp``'s values are known and decrease somewhere (traced values cannot be read:
    they are not checked)."""
    from .._arrays import to_numpy
    from ._quantile import traced

    if traced(xp):
        return False
    known = np.asarray(to_numpy(xp))
    return bool(np.any(np.diff(known) < 0) or np.any(np.isnan(known)))  # nan is not in order either


def unwrap(p: Any, discont: Any = None, axis: int = -1, *, period: Any = 2 * math.pi) -> Any:
    """Unwraps jumps larger than ``discont`` (default ``period / 2``) by multiples of ``period``
    along an axis. The corrections are piecewise constant: the derivative is the identity."""
    mnp = _m()
    x = _arr(p)
    nd = _ndim(x)
    if nd == 0:
        raise np.exceptions.AxisError(f"mnp.unwrap: axis {axis} is out of bounds for array of dimension 0")
    ax = _normalized("unwrap", axis, nd)[0]  # numpy's AxisError (``axis % nd`` unwrapped along another axis)
    dt = result_type_name(dtype_name(x), period)
    up = cast_as_numpy(x, dt)
    n = int(x.shape[ax])
    if n <= 1:
        return up
    # The differences in p's own dtype, as numpy takes them: booleans by xor, unsigned ones wrapped.
    dd = cast_as_numpy(mnp.diff(x, axis=ax), dt)
    if discont is None:
        discont = period / 2
    if np.issubdtype(np.dtype(dt), np.integer):
        high, rem = divmod(period, 2)
        ambiguous = rem == 0
    else:
        high, ambiguous = period / 2, True
    ddmod = mnp.mod(dd + high, period) - high
    if ambiguous:
        ddmod = mnp.where(mnp.logical_and(mnp.equal(ddmod, -high), mnp.greater(dd, 0)), high, ddmod)
    correction = mnp.where(mnp.less(mnp.abs(dd), discont), 0, ddmod - dd)
    head = mnp.take(up, [0], axis=ax)
    rest = mnp.take(up, np.arange(1, n), axis=ax) + mnp.cumsum(correction, axis=ax)
    return mnp.concatenate([head, rest], axis=ax)


# Chebyshev coefficients of exp(-x) i0(x) on [0, 8] and of exp(-x) sqrt(x) i0(x) on (8, inf)
# (Cephes, as numpy's i0 uses them).
_I0A = (
    -4.41534164647933937950e-18, 3.33079451882223809783e-17, -2.43127984654795469359e-16,
    1.71539128555513303061e-15, -1.16853328779934516808e-14, 7.67618549860493561688e-14,
    -4.85644678311192946090e-13, 2.95505266312963983461e-12, -1.72682629144155570723e-11,
    9.67580903537323691224e-11, -5.18979560163526290666e-10, 2.65982372468238665035e-9,
    -1.30002500998624804212e-8, 6.04699502254191894932e-8, -2.67079385394061173391e-7,
    1.11738753912010371815e-6, -4.41673835845875056359e-6, 1.64484480707288970893e-5,
    -5.75419501008210370398e-5, 1.88502885095841655729e-4, -5.76375574538582365885e-4,
    1.63947561694133579842e-3, -4.32430999505057594430e-3, 1.05464603945949983183e-2,
    -2.37374148058994688156e-2, 4.93052842396707084878e-2, -9.49010970480476444210e-2,
    1.71620901522208775349e-1, -3.04682672343198398683e-1, 6.76795274409476084995e-1,
)  # fmt: skip
_I0B = (
    -7.23318048787475395456e-18, -4.83050448594418207126e-18, 4.46562142029675999901e-17,
    3.46122286769746109310e-17, -2.82762398051658348494e-16, -3.42548561967721913462e-16,
    1.77256013305652638360e-15, 3.81168066935262242075e-15, -9.55484669882830764870e-15,
    -4.15056934728722208663e-14, 1.54008621752140982691e-14, 3.85277838274214270114e-13,
    7.18012445138366623367e-13, -1.79417853150680611778e-12, -1.32158118404477131188e-11,
    -3.14991652796324136454e-11, 1.18891471078464383424e-11, 4.94060238822496958910e-10,
    3.39623202570838634515e-9, 2.26666899049817806459e-8, 2.04891858946906374183e-7,
    2.89137052083475648297e-6, 6.88975834691682398426e-5, 3.36911647825569408990e-3,
    8.04490411014108831608e-1,
)  # fmt: skip


def _chebyshev(t: Any, coefficients: tuple[float, ...]) -> Any:
    b0, b1, b2 = coefficients[0], 0.0, 0.0
    for c in coefficients[1:]:
        b2, b1 = b1, b0
        b0 = t * b1 - b2 + c
    return 0.5 * (b0 - b2)


def i0(x: Any) -> Any:
    """Modified Bessel function of the first kind, order 0, by numpy's Chebyshev expansions; its
    derivative is that of the expansion (``i1``, to rounding), 0 at 0."""
    mnp = _m()
    v = _arr(x)
    lib = _dispatch.like(v, call="mnp.i0")
    if not hasattr(v, "shape"):
        v = _dispatch.to_array(lib, v)
    if dtype_name(v).startswith("complex"):
        raise TypeError("mnp.i0: i0 not supported for complex values (as in numpy)")
    if not inexact(v):
        v = _float64(lib, v)
    a = mnp.abs(v)
    small = mnp.less_equal(a, 8.0)
    # each branch sees inputs inside its own range, so the branch not taken has finite derivatives
    near = mnp.where(small, a, 0.0)
    far = mnp.where(small, 9.0, a)
    inner = mnp.exp(near) * _chebyshev(near / 2.0 - 2, _I0A)
    outer = mnp.exp(far) * _chebyshev(32.0 / far - 2.0, _I0B) / mnp.sqrt(far)
    return mnp.where(small, inner, outer)
