"""``linalg.pinv`` and ``linalg.svd`` with ``hermitian=True``: one gradient on every backend.

NOTE [hermitian=True reads the symmetric part] in multiad/numpy/_conventions.py. The numpy
backend differentiated numpy's reading of the lower triangle, torch and JAX gave the symmetric
gradient, and autograd's pinv raised a TypeError from its derivative rule.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import Case

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
