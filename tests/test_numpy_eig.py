"""``linalg.eig`` and ``linalg.eigvals`` (NOTE [Eigenvalues of general matrices]): numpy's real
results for real spectra on every backend, derivatives against the closed form of an eigenvalue's
derivative, and the errors for complex spectra, traced calls and bad shapes. test_numpy_namespace
checks values and derivatives against numpy's finite differences too."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import AD_BACKENDS, BACKENDS

import multiad
import multiad.numpy as mnp

P = np.array([[2.0, 0.3, -0.5], [0.1, 1.5, 0.4], [-0.2, 0.6, 2.5]])
A = P @ np.diag([0.5, -1.5, 3.0]) @ np.linalg.inv(P)  # not symmetric; real, distinct eigenvalues
ROTATION = np.array([[0.0, -1.0], [1.0, 0.0]])  # eigenvalues +-i


def on(backend: str, x: Any) -> Any:
    return multiad.asarray(x, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_real_spectra_give_numpys_real_arrays(backend: str) -> None:
    for a in (A, A.astype(np.float32), np.stack([A, A.T, np.diag([1.0, 2.0, 3.0])]), np.array([[2, 1], [0, 3]])):
        want_w, want_v = np.linalg.eig(a)
        w, v = mnp.linalg.eig(on(backend, a))
        got_w, got_v = np.asarray(multiad.to_numpy(w)), np.asarray(multiad.to_numpy(v))
        if backend != "jax":
            assert got_w.dtype == want_w.dtype and got_v.dtype == want_v.dtype
        rtol = 1e-4 if a.dtype == np.float32 else 1e-10
        np.testing.assert_allclose(got_w, want_w, rtol=rtol, atol=rtol)
        # unit-norm eigenvectors, defined up to sign: compared through |v| and A v = w v
        np.testing.assert_allclose(np.abs(got_v), np.abs(want_v), rtol=rtol, atol=rtol)
        np.testing.assert_allclose(a @ got_v, got_v * got_w[..., None, :], rtol=rtol, atol=rtol)
        np.testing.assert_allclose(multiad.to_numpy(mnp.linalg.eigvals(on(backend, a))), want_w, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("backend", AD_BACKENDS)
def test_eigenvalue_derivatives_have_their_closed_form(backend: str) -> None:
    # d lambda_k / dA = u_k v_k^T / (u_k^T v_k), u_k the left and v_k the right eigenvector
    v = np.linalg.eig(A).eigenvectors
    u = np.linalg.inv(v).T  # left eigenvectors, scaled so that u_k^T v_k = 1
    weights = np.array([0.3, -0.7, 1.1])
    want = sum(c * np.outer(u[:, k], v[:, k]) for k, c in enumerate(weights))
    for f in (mnp.linalg.eigvals, lambda a: mnp.linalg.eig(a).eigenvalues):
        g = multiad.grad(lambda a, f=f: mnp.sum(f(a) * weights), backend=backend)(A)
        np.testing.assert_allclose(multiad.to_numpy(g), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_complex_spectra_and_bad_shapes_raise(backend: str) -> None:
    for call in (mnp.linalg.eig, mnp.linalg.eigvals):
        with pytest.raises(ValueError, match=r"^mnp\.linalg\.eig(vals)?: the matrix has complex eigenvalues"):
            call(on(backend, ROTATION))
        with pytest.raises(
            np.linalg.LinAlgError, match=r"^multiad\.numpy\.linalg\.eig(vals)?: expected square matrices"
        ):
            call(on(backend, np.ones((2, 3))))


def test_traced_calls_raise_rather_than_guess() -> None:
    import jax

    with pytest.raises(multiad.UnsupportedOperationError, match=r"^mnp\.linalg\.eigvals: whether the eigenvalues"):
        jax.jit(mnp.linalg.eigvals)(A)
    for backend in ("jax", "torch"):
        with pytest.raises(multiad.UnsupportedOperationError, match=r"mnp\.linalg\.eig: whether the eigenvalues"):
            multiad.vmap(lambda a: mnp.linalg.eig(a).eigenvalues, backend=backend)(on(backend, np.stack([A, A])))


def _native(backend: str, a: np.ndarray) -> Any:
    if backend == "torch":
        import torch

        return torch.as_tensor(a)
    if backend == "jax":
        import jax.numpy as jnp

        return jnp.asarray(a)
    return a


@pytest.mark.parametrize("backend", BACKENDS)
def test_complex_matrices_raise_even_with_real_eigenvalues(backend: str) -> None:
    # eigenvalues 2 and 3 (real), eigenvector (1, -1j) / sqrt(2) (complex): taking real parts of a
    # complex decomposition would return vectors that are not eigenvectors
    hermitian = np.array([[2.0, 1j], [-1j, 3.0]])
    triangular = np.array([[2.0, 1j], [0.0, 3.0]])
    for a in (hermitian, triangular):
        for call in (mnp.linalg.eig, mnp.linalg.eigvals):
            with pytest.raises(TypeError, match=r"^mnp\.linalg\.eig(vals)?: complex matrices are not supported"):
                call(_native(backend, a))
