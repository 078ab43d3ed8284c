"""The numpy backend's float16 tolerances (docs/reliability.md's table): ``sqrt(eps)`` = 3.1e-2 for
first derivatives and ``eps ** (1/5)`` = 0.25 for nested ones, from float16's own eps. A float16
Hessian of ``sum(z**3)`` at ``[1.5, 3]`` is about 1% off the closed form ``diag(6 z)``, within
that tolerance, so it passes without a warning, and its estimate bounds the true error; a kink
beyond it warns."""

from __future__ import annotations

import warnings

import multiad_numpy
import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

X = np.array([1.5, 3.0], np.float16)
EPS16 = float(np.finfo(np.float16).eps)


def _cube_sum(z: object) -> object:
    return mnp.sum(z**3)  # type: ignore[operator]


def test_float16_results_within_the_documented_tolerance_pass_quietly() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", multiad.AccuracyWarning)
        with multiad_numpy.record_errors() as records:
            H = multiad.hessian(_cube_sum, backend="numpy")(X)
            g = multiad.grad(_cube_sum, backend="numpy")(X)
    assert H.dtype == g.dtype == np.float16
    est_h, est_g = records
    assert est_h.tolerance == pytest.approx(EPS16**0.2) and est_h.tolerance == pytest.approx(0.25)
    assert est_g.tolerance == pytest.approx(EPS16**0.5) and est_g.tolerance == pytest.approx(0.03125)
    x = X.astype(np.float64)
    # relative to the largest element, as the estimate's scale is (NOTE [Finite-difference error estimate])
    true_h = np.abs(H.astype(np.float64) - np.diag(6 * x)).max() / np.abs(6 * x).max()
    true_g = np.abs(g.astype(np.float64) - 3 * x**2).max() / np.abs(3 * x**2).max()
    assert 1e-3 < true_h <= est_h.relative < est_h.tolerance  # about 1% off, and the estimate says so
    assert true_g <= est_g.relative < est_g.tolerance


def test_float16_kink_beyond_the_tolerance_warns() -> None:
    with pytest.warns(multiad.AccuracyWarning, match=r"float16 tolerance"):
        multiad.grad(lambda z: mnp.sum(mnp.maximum(z, 0.0)), backend="numpy")(np.array([0.0, 2.0], np.float16))
