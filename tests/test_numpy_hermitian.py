"""``linalg.pinv`` and ``linalg.svd`` with ``hermitian=True``: one gradient on every backend.

NOTE [hermitian=True reads the symmetric part] in multiad/numpy/_conventions.py. The numpy
backend differentiated numpy's reading of the lower triangle, torch and JAX gave the symmetric
gradient, and autograd's pinv raised a TypeError from its derivative rule.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import Case, central_gradient

import multiad
import multiad.numpy as mnp

A = np.array([[2.0, 1.0], [1.0, 3.0]])  # symmetric, invertible
B = np.array([[2.0, 1.0, 0.0], [1.0, -3.0, 1.0], [0.0, 1.0, 1.0]])  # symmetric, indefinite


def test_pinv_hermitian_gradient_is_symmetric_everywhere(backend: Case) -> None:
    # pinv(A) = inv(A) = P; d sum(P) = -1^T P dA P 1, so the gradient is -(P 1)(P 1)^T, symmetric
    p1 = np.linalg.inv(A) @ np.ones(2)
    want = -np.outer(p1, p1)
    for call in (
        lambda a: mnp.sum(mnp.linalg.pinv(a, hermitian=True)),
        lambda a: mnp.sum(mnp.linalg.pinv(a, None, True)),
    ):
        got = multiad.grad(call, backend=backend.name)(backend.array(A))
        np.testing.assert_allclose(multiad.to_numpy(got), want, **backend.tol())


def test_pinv_hermitian_values_are_numpys(backend: Case) -> None:
    got = mnp.linalg.pinv(backend.array(B), hermitian=True)
    np.testing.assert_allclose(multiad.to_numpy(got), np.linalg.pinv(B, hermitian=True), rtol=1e-12, atol=1e-12)


def test_svd_hermitian_singular_values_gradient(backend: Case) -> None:
    # the singular values of a symmetric matrix are |w|: d sum|w| = V sign(w) V^T (symmetric)
    w, v = np.linalg.eigh(B)
    want = (v * np.sign(w)) @ v.T
    f = lambda a: mnp.sum(mnp.linalg.svd(a, hermitian=True, compute_uv=False))  # noqa: E731
    if backend.name == "autograd":
        with pytest.raises(NotImplementedError, match="hermitian=True"):
            multiad.grad(f, backend="autograd")(backend.array(B))
        return
    got = multiad.grad(f, backend=backend.name)(backend.array(B))
    np.testing.assert_allclose(multiad.to_numpy(got), want, **backend.tol())
    s = mnp.linalg.svd(backend.array(B), hermitian=True, compute_uv=False)
    np.testing.assert_allclose(multiad.to_numpy(s), np.linalg.svd(B, hermitian=True, compute_uv=False), rtol=1e-12)


def test_pinv_rcond_and_rtol_together_raise(backend: Case) -> None:
    with pytest.raises(ValueError):
        np.linalg.pinv(A, rcond=1e-2, rtol=1e-5)
    with pytest.raises(ValueError, match=r"^mnp\.linalg\.pinv: "):
        mnp.linalg.pinv(backend.array(A), rcond=1e-2, rtol=1e-5)


@pytest.mark.parametrize("keywords", [{"rcond": 1e-10}, {"rtol": 1e-10}, {}])
def test_pinv_gradient_with_tolerance_keywords(backend: Case, keywords: dict[str, float]) -> None:
    # NOTE [pinv's keywords on autograd]: autograd's rule took the matrix alone and raised TypeError
    c = np.array([[2.0, 1.0], [0.5, 3.0]])  # invertible, not symmetric: pinv = inv = P
    p = np.linalg.inv(c)
    want = -np.outer(p.T @ np.ones(2), p @ np.ones(2))
    got = multiad.grad(lambda a: mnp.sum(mnp.linalg.pinv(a, **keywords)), backend=backend.name)(backend.array(c))
    np.testing.assert_allclose(multiad.to_numpy(got), want, **backend.tol())


@pytest.mark.parametrize("shape", [(5, 2), (2, 5), (3, 3)])
def test_pinv_derivative_of_tall_and_wide_matrices_by_differences(backend: Case, shape: tuple[int, int]) -> None:
    # NOTE [pinv's derivative in small products]: the rule rewritten without its identities
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape)
    w = rng.standard_normal(shape[::-1])
    want = central_gradient(lambda v: np.sum(w * np.linalg.pinv(v)), x)
    f = lambda a: mnp.sum(mnp.linalg.pinv(a, rcond=1e-12) * backend.array(w))  # noqa: E731
    got = multiad.grad(f, backend=backend.name)(backend.array(x))
    np.testing.assert_allclose(multiad.to_numpy(got), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["jax", "autograd"])
def test_pinv_derivative_of_a_very_tall_matrix_needs_no_square_of_its_rows(name: str) -> None:
    # autograd's rule made a (400000, 400000) identity: MemoryError (1.2 TiB). torch's own
    # derivative of pinv does the same (a RuntimeError from its allocator): not covered here.
    ad_backend = Case(name)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((400_000, 2))
    f = lambda a: mnp.sum(mnp.linalg.pinv(a, rcond=1e-12)[0])  # noqa: E731
    got = np.asarray(multiad.to_numpy(multiad.grad(f, backend=ad_backend.name)(ad_backend.array(x))))
    # d sum(P[0]) along x: P = (x^T x)^-1 x^T, checked by one directional difference
    v = rng.standard_normal(x.shape)
    h = 1e-6
    fd = (np.linalg.pinv(x + h * v)[0].sum() - np.linalg.pinv(x - h * v)[0].sum()) / (2 * h)
    np.testing.assert_allclose(np.sum(got * v), fd, rtol=1e-5)
