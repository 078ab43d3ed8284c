"""Quantiles (``quantile``, ``percentile``, their nan versions, ``nanmedian``), the nan scans and
two corrections of numpy's semantics (``ptp`` of booleans, ``fmax`` with a huge Python int),
against numpy itself and closed-form derivatives. test_numpy_namespace checks every name's values
and derivatives against numpy's finite differences; this file covers every method, dtype and nan
pattern, the traced paths (``jax.jit``, ``vmap``) and the errors."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from conftest import AD_BACKENDS, BACKENDS

import multiad
import multiad.numpy as mnp

METHODS = (
    "inverted_cdf averaged_inverted_cdf closest_observation interpolated_inverted_cdf hazen weibull "
    "linear median_unbiased normal_unbiased lower higher midpoint nearest"
).split()

rng = np.random.default_rng(3)
X = rng.normal(size=(3, 5, 4))
XNAN = X.copy()
XNAN[0, 1, 2] = np.nan
XNAN[1, :, 0] = np.nan  # an all-nan slice along axis 1
XNAN[2, 0, :] = np.nan


def _same(got: Any, want: Any, backend: str, what: str, rtol: float = 1e-12) -> None:
    g, w = np.asarray(multiad.to_numpy(got)), np.asarray(want)
    assert g.shape == w.shape, f"{what}: shape {g.shape}, numpy {w.shape}"
    if backend != "jax":  # JAX keeps its own promotion (docs/api-numpy.md)
        assert g.dtype == w.dtype, f"{what}: dtype {g.dtype}, numpy {w.dtype}"
    np.testing.assert_allclose(g, w, rtol=1e-6 if w.dtype == np.float32 else rtol, equal_nan=True, err_msg=what)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["quantile", "percentile", "nanquantile", "nanpercentile"])
def test_every_method_dtype_and_axis_matches_numpy(backend: str, name: str) -> None:
    scale = 100.0 if "percentile" in name else 1.0
    datas = [XNAN, X.astype(np.float32), (X * 10).astype(np.int32)]
    forms: list[dict[str, Any]] = [{}, {"axis": 1}, {"axis": (0, 2), "keepdims": True}]
    for method in METHODS:
        for data in datas:
            for q in (0.3 * scale, [0.0, 0.1 * scale, 0.5 * scale, 1.0 * scale]):
                for kw in forms:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's all-nan slice warning
                        want = getattr(np, name)(data, q, method=method, **kw)
                    got = getattr(mnp, name)(multiad.asarray(data, backend=backend), q, method=method, **kw)
                    # float32 values: numpy subtracts them in float32 before its float64 lerp
                    rtol = 1e-6 if data.dtype == np.float32 else 1e-12
                    _same(got, want, backend, f"mnp.{name}({data.dtype}, {q}, method={method!r}, {kw})", rtol)


@pytest.mark.parametrize("backend", BACKENDS)
def test_nanmedian_and_nan_scans_match_numpy(backend: str) -> None:
    for kw in ({}, {"axis": 1}, {"axis": (0, 2), "keepdims": True}, {"axis": -1, "keepdims": True}):
        for data in (XNAN, (X * 10).astype(np.int32), XNAN.astype(np.float32)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                want = np.nanmedian(data, **kw)
            _same(mnp.nanmedian(multiad.asarray(data, backend=backend), **kw), want, backend, f"nanmedian {kw}")
    empty = np.zeros((2, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for kw in ({}, {"axis": 1}):
            _same(
                mnp.nanmedian(multiad.asarray(empty, backend=backend), **kw),
                np.nanmedian(empty, **kw),
                backend,
                "empty",
            )
    for name in ("nancumsum", "nancumprod"):
        for kw in ({}, {"axis": 1}, {"axis": 0, "dtype": "float32"}):
            for data in (XNAN, (X * 10).astype(np.int32)):
                if backend == "jax" and data.dtype.kind == "i" and name == "nancumprod":
                    continue  # JAX multiplies int32 in int32 (its promotion): the product overflows
                want = getattr(np, name)(data, **kw)
                got = getattr(mnp, name)(multiad.asarray(data, backend=backend), **kw)
                _same(got, want, backend, f"{name} {data.dtype} {kw}")


# Closed forms: x = [3, nan, 1, 2, 6]; without the nan the sorted values are s = [1, 2, 3, 6].
# quantile(s, 0.3, linear): position 0.9, 0.1 s[0] + 0.9 s[1]; the derivative is 0.1 at the 1
# and 0.9 at the 2. nanmedian: s[1] / 2 + s[2] / 2. percentile 80 "lower": s[2] (position 2.4).
XC = np.array([3.0, np.nan, 1.0, 2.0, 6.0])
CLOSED = [
    ("nanquantile 0.3", lambda x: mnp.nanquantile(x, 0.3), [0.0, 0.0, 0.1, 0.9, 0.0]),
    ("nanmedian", mnp.nanmedian, [0.5, 0.0, 0.0, 0.5, 0.0]),
    ("nanpercentile 80 lower", lambda x: mnp.nanpercentile(x, 80, method="lower"), [1.0, 0, 0, 0, 0]),
    ("quantile without the nan", lambda x: mnp.quantile(mnp.take(x, [0, 2, 3, 4]), 0.3), [0, 0, 0.1, 0.9, 0]),
    ("nancumsum", lambda x: mnp.sum(mnp.nancumsum(x)), [5.0, 0.0, 3.0, 2.0, 1.0]),
    ("nancumprod", lambda x: mnp.nancumprod(x)[-1], [12.0, 0.0, 36.0, 18.0, 6.0]),
]


@pytest.mark.parametrize("backend", AD_BACKENDS)
@pytest.mark.parametrize(("what", "f", "want"), CLOSED, ids=[c[0] for c in CLOSED])
def test_derivatives_have_their_closed_forms(backend: str, what: str, f: Any, want: list[float]) -> None:
    g = multiad.grad(f, backend=backend)(XC)
    np.testing.assert_allclose(multiad.to_numpy(g), want, rtol=1e-12, atol=1e-15)


def test_nan_quantiles_trace_under_jit_and_vmap() -> None:
    import jax

    rows = np.array([[3.0, np.nan, 1.0, 2.0], [np.nan, np.nan, np.nan, np.nan], [4.0, 0.5, np.nan, np.nan]])
    want = np.array([2.0, np.nan, 2.25])
    for backend in ("jax", "torch"):
        got = multiad.vmap(mnp.nanmedian, backend=backend)(multiad.asarray(rows, backend=backend))
        np.testing.assert_allclose(multiad.to_numpy(got), want, equal_nan=True)
    jitted = jax.jit(lambda x: mnp.nanquantile(x, [0.5, 1.0], axis=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_allclose(jitted(rows), np.nanquantile(rows, [0.5, 1.0], axis=1), equal_nan=True)
    g = jax.jit(jax.grad(lambda x: mnp.nanmedian(x)))(rows[0])
    np.testing.assert_allclose(g, [0.0, 0.0, 0.0, 1.0])


@pytest.mark.parametrize("backend", AD_BACKENDS)
def test_a_traced_q_raises_rather_than_a_zero_derivative(backend: str) -> None:
    x = multiad.asarray(np.array([1.0, 4.0, 2.0]), backend=backend)
    with pytest.raises(multiad.NonDifferentiableError, match=r"^mnp\.quantile: q is traced"):
        multiad.grad(lambda q: mnp.quantile(x, q), backend=backend)(0.5)


ERRORS = [
    (lambda x: mnp.quantile(x, 1.5), ValueError, r"^mnp\.quantile: Quantiles must be in the range \[0, 1\]"),
    (lambda x: mnp.percentile(x, -1), ValueError, r"^mnp\.percentile: Percentiles must be in the range"),
    (lambda x: mnp.quantile(x, 0.5, method="cubic"), ValueError, r"^mnp\.quantile: 'cubic' is not a valid method"),
    (lambda x: mnp.nanquantile(x, 0.5, weights=x), NotImplementedError, r"^mnp\.nanquantile: weights= "),
    (lambda x: mnp.quantile(x, 0.5, out=x), NotImplementedError, r"^mnp\.quantile: out= "),
    (lambda x: mnp.quantile(x > 0, 0.5), TypeError, r"^mnp\.quantile: numpy boolean subtract"),
    (lambda x: mnp.nanmedian(x, axis=2), np.exceptions.AxisError, r"^mnp\.nanmedian: axis 2 is out of bounds"),
    (lambda x: mnp.quantile(x[:, :0], 0.5, axis=1), IndexError, r"^mnp\.quantile: no values to take quantiles of"),
    (lambda x: mnp.ptp(x > 0), TypeError, r"^mnp\.ptp: numpy does not subtract booleans"),
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_input_raises_numpys_error_with_the_call(backend: str) -> None:
    x = multiad.asarray(np.array([[1.0, 4.0], [2.0, 0.5]]), backend=backend)
    for call, kind, pattern in ERRORS:
        with pytest.raises(kind, match=pattern):
            call(x)
    with pytest.raises(TypeError):  # numpy's own verdict, for the reference
        np.ptp(np.array([True, False]))
    with pytest.warns(DeprecationWarning, match=r"^mnp\.quantile: the interpolation= argument"):
        got = mnp.quantile(x, 0.5, interpolation="lower")
    _same(got, np.quantile(np.asarray(multiad.to_numpy(x)), 0.5, method="lower"), backend, "interpolation=")


@pytest.mark.parametrize("backend", ["torch", "autograd", "numpy"])
def test_fmax_and_fmin_with_a_python_int_beyond_int64_follow_numpy(backend: str) -> None:
    # numpy converts the int to the array's float dtype (inf in float16); its isnan refuses the int
    x16 = np.array([1.0, np.nan, -3.0], dtype=np.float16)
    for name in ("fmax", "fmin"):
        for x in (x16, x16.astype(np.float32)):
            for k in (2**70, -(2**70), 2**63, 7, True):
                with np.errstate(over="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    want = getattr(np, name)(x, k)
                    got = getattr(mnp, name)(multiad.asarray(x, backend=backend), k)
                    got_swapped = getattr(mnp, name)(k, multiad.asarray(x, backend=backend))
                _same(got, want, backend, f"{name}({x.dtype}, {k})")
                _same(got_swapped, want, backend, f"{name}({k}, {x.dtype})")
