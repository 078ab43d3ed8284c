"""mnp.real, mnp.imag and mnp.angle (NOTE [Parts of complex arrays]): numpy's values and dtypes
on every backend, derivatives against closed forms and central differences.

They were absent (listed as "complex numbers: multiad differentiates real inputs only"), although
complex intermediates of a real function are differentiated on torch, jax and autograd.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import Case, central_gradient

import multiad
import multiad.numpy as mnp

INPUTS = [
    np.array([1.0, -2.0, -0.0, 0.5]),
    np.array([1, -2, 0]),
    np.array([True, False]),
    np.array([1.5, -2.0], dtype=np.float32),
    np.array([1 + 2j, -3 - 1j, -1 + 0j, 0j]),
    np.array([1 + 2j, -3 - 1j], dtype=np.complex64),
    np.array(-4.0),
]


@pytest.mark.parametrize("x", INPUTS, ids=lambda x: f"{x.dtype}{x.shape}")
@pytest.mark.parametrize("name", ["real", "imag", "angle", "angle-deg", "conj", "conjugate"])
def test_values_and_dtypes_are_numpys(backend: Case, name: str, x: np.ndarray) -> None:
    fn, kw = (name.removesuffix("-deg"), {"deg": True} if name.endswith("-deg") else {})
    if backend.name == "jax" and name.startswith("conj") and x.dtype == bool:
        pytest.skip("jax.numpy's conj keeps bool where numpy gives int8 (not this change)")
    got = getattr(mnp, fn)(multiad.asarray(x, backend=backend.name), **kw)
    want = getattr(np, fn)(x, **kw)
    # a 0-d result on numpy arrays is numpy's scalar, as numpy's own is
    assert isinstance(got, (backend.array_type, np.generic) if x.ndim == 0 else backend.array_type)
    got_np = np.asarray(multiad.to_numpy(got))
    assert got_np.dtype == want.dtype and got_np.shape == want.shape
    np.testing.assert_allclose(got_np, want, rtol=1e-6)


def test_real_of_a_real_array_is_the_array(backend: Case) -> None:
    a = multiad.asarray(np.array([1.0, 2.0]), backend=backend.name)
    got = mnp.real(a)
    np.testing.assert_array_equal(multiad.to_numpy(got), [1.0, 2.0])
    np.testing.assert_array_equal(multiad.to_numpy(mnp.imag(a)), [0.0, 0.0])


X = np.array([0.3, -0.7, 2.1])

# f (on mnp), the same f on numpy, and its gradient in closed form (None: central differences only)
CASES: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any], Callable[[Any], Any] | None]] = [
    (
        "real and imag of exp(ix)",
        lambda x: mnp.sum(mnp.real(mnp.exp(1j * x)) + 2.0 * mnp.imag(mnp.exp(1j * x))),
        lambda x: np.sum(np.real(np.exp(1j * x)) + 2.0 * np.imag(np.exp(1j * x))),
        lambda x: -np.sin(x) + 2.0 * np.cos(x),
    ),
    (
        "angle of exp(ix)",
        lambda x: mnp.sum(mnp.angle(mnp.exp(1j * x)) ** 2),
        lambda x: np.sum(np.angle(np.exp(1j * x)) ** 2),
        lambda x: 2.0 * x,
    ),
    (
        "angle in degrees of x + 2i",
        lambda x: mnp.sum(mnp.angle(x + 2j, deg=True)),
        lambda x: np.sum(np.angle(x + 2j, deg=True)),
        lambda x: (180.0 / np.pi) * (-2.0 / (x**2 + 4.0)),
    ),
    (
        "real, imag and angle of a real array",
        lambda x: mnp.sum(mnp.real(x) ** 2 + mnp.imag(x) + mnp.angle(x)),
        lambda x: np.sum(np.real(x) ** 2 + np.imag(x) + np.angle(x)),
        lambda x: 2.0 * x,
    ),
    (
        "imag of (x + i x^2)^2",
        lambda x: mnp.sum(mnp.imag((x + 1j * x**2) ** 2)),
        lambda x: np.sum(np.imag((x + 1j * x**2) ** 2)),
        lambda x: 6.0 * x**2,
    ),
]


@pytest.mark.parametrize(("label", "f", "f_np", "closed"), CASES, ids=[c[0] for c in CASES])
def test_gradients(backend: Case, label: str, f: Any, f_np: Any, closed: Any) -> None:
    with multiad.use_backend(backend.name):
        got = multiad.to_numpy(multiad.grad(f)(X))
    np.testing.assert_allclose(got, central_gradient(f_np, X), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got, closed(X), **backend.tol())


def test_second_derivative(ad_backend: Case) -> None:
    # hessian of sum(real(exp(ix))) = sum(cos x): diag(-cos x)
    with multiad.use_backend(ad_backend.name):
        h = multiad.hessian(lambda x: mnp.sum(mnp.real(mnp.exp(1j * x))))(X)
    ad_backend.close(h, np.diag(-np.cos(X)), order=2)
