"""Zeros of numpy's sign from mnp.modf and mnp.cbrt on every backend, derivatives unchanged."""

from __future__ import annotations

import numpy as np

import multiad
import multiad.numpy as mnp
from tests.conftest import Case

A = np.array([-0.0, 0.0, -4.0, 4.0, -4.5, 4.5, np.inf, -np.inf, -1e-300])


def _same_bits(got: object, want: np.ndarray) -> None:
    g = np.asarray(multiad.to_numpy(got), dtype=np.float64)
    np.testing.assert_array_equal(g, want)
    np.testing.assert_array_equal(np.signbit(g), np.signbit(want))


def test_modf_signs(backend: Case) -> None:
    frac, whole = mnp.modf(backend.array(A))
    want_frac, want_whole = np.modf(A)  # (-0.0, -4.0) for -4.0
    _same_bits(frac, want_frac)
    _same_bits(whole, want_whole)


def test_cbrt_of_negative_zero(backend: Case) -> None:
    x = np.array([-0.0, 0.0, -8.0, 27.0])
    _same_bits(mnp.cbrt(backend.array(x)), np.cbrt(x))  # cbrt(-0.0) is -0.0


def test_derivatives(ad_backend: Case) -> None:
    x = ad_backend.array([-4.5, -3.25, 2.5])
    g = multiad.grad(lambda v: mnp.sum(mnp.modf(v)[0]), backend=ad_backend.name)(x)
    ad_backend.close(g, np.ones(3))
    c = multiad.grad(lambda v: mnp.sum(mnp.cbrt(v)), backend=ad_backend.name)(ad_backend.array([-8.0, 27.0]))
    ad_backend.close(c, np.array([1.0 / 12.0, 1.0 / 27.0]))


def test_cbrt_within_an_ulp(backend: Case) -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(2000) * 10.0 ** rng.integers(-300, 300, 2000), np.arange(-50.0, 51.0) ** 3])
    got = np.asarray(multiad.to_numpy(mnp.cbrt(backend.array(x))), dtype=np.float64)
    want = np.cbrt(x)
    assert np.all(np.abs(got - want) <= np.spacing(np.abs(want)))  # a ** (1/3) was off by up to ~100 ulp
    np.testing.assert_array_equal(got[-101:], np.arange(-50.0, 51.0))  # exact cubes exact
