"""Second derivatives of ``linalg.solve``, ``linalg.slogdet`` and ``linalg.det`` in every order of modes.

NOTE [Linear algebra through the LU factors on torch]: torch's forward-mode rules for them reuse
LU factors it does not differentiate, so ``jacfwd(jacfwd(f))`` and ``jacrev(jacfwd(f))`` gave
wrong Hessians without an error. Each composition is checked against the closed forms below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import AD_BACKENDS

import multiad
import multiad.numpy as mnp

RNG = np.random.default_rng(7)
A = RNG.standard_normal((3, 3)) + 3.0 * np.eye(3)
B = RNG.standard_normal(3)
W = np.array([1.0, -2.0, 0.5])
AINV = np.linalg.inv(A)

COMPOSITIONS: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "jacfwd(jacfwd)": lambda f: multiad.jacfwd(multiad.jacfwd(f)),
    "jacrev(jacfwd)": lambda f: multiad.jacrev(multiad.jacfwd(f)),
    "jacfwd(jacrev)": lambda f: multiad.jacfwd(multiad.jacrev(f)),
    "jacrev(jacrev)": lambda f: multiad.jacrev(multiad.jacrev(f)),
    "hessian": multiad.hessian,
}


def logabsdet(a: Any) -> Any:
    return mnp.linalg.slogdet(a)[1]


def weighted_solution(a: Any) -> Any:
    return mnp.sum(mnp.linalg.solve(a, B) * W)


def determinant(a: Any) -> Any:
    return mnp.linalg.det(a)


def determinant_hessian() -> Any:
    # d det / dA_ij = det Ainv[j, i], so d2 / dA_ij dA_kl = det (Ainv[j, i] Ainv[l, k] - Ainv[j, k] Ainv[l, i])
    return np.linalg.det(A) * (np.einsum("ji,lk->ijkl", AINV, AINV) - np.einsum("jk,li->ijkl", AINV, AINV))


def logabsdet_hessian() -> Any:
    # d/dA log|det A| = A^-T, so d2 / dA_ij dA_kl = -Ainv[j, k] Ainv[l, i]
    return -np.einsum("jk,li->ijkl", AINV, AINV)


def weighted_solution_hessian() -> Any:
    # g = w . A^-1 b, x = A^-1 b, u = A^-T w: dg/dA_ij = -u_i x_j, and
    # d2g / dA_ij dA_kl = Ainv[l, i] u_k x_j + u_i Ainv[j, k] x_l
    x, u = AINV @ B, AINV.T @ W
    return np.einsum("li,k,j->ijkl", AINV, u, x) + np.einsum("i,jk,l->ijkl", u, AINV, x)


@pytest.mark.parametrize("composition", COMPOSITIONS)
@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (logabsdet, logabsdet_hessian),
        (weighted_solution, weighted_solution_hessian),
        (determinant, determinant_hessian),
    ],
    ids=["slogdet", "solve", "det"],
)
@pytest.mark.parametrize("name", AD_BACKENDS)
def test_second_derivatives_in_every_order_of_modes(
    name: str, f: Callable[..., Any], expected: Callable[[], Any], composition: str
) -> None:
    with multiad.use_backend(name):
        got = multiad.to_numpy(COMPOSITIONS[composition](f)(A))
    np.testing.assert_allclose(got, expected(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", AD_BACKENDS)
def test_per_example_second_derivatives_and_singular_matrices(name: str) -> None:
    stack = np.stack([A, A.T, A + np.eye(3)])
    got = multiad.to_numpy(multiad.vmap(multiad.jacfwd(multiad.jacfwd(logabsdet)), backend=name)(stack))
    for k, a in enumerate(stack):
        inv = np.linalg.inv(a)
        np.testing.assert_allclose(got[k], -np.einsum("jk,li->ijkl", inv, inv), rtol=1e-9, atol=1e-12)
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]])
    with pytest.raises(np.linalg.LinAlgError, match="solve: Singular matrix"):
        multiad.jacfwd(lambda a: mnp.linalg.solve(a, B), backend=name)(singular)
    sign, logdet = mnp.linalg.slogdet(multiad.asarray(np.stack([singular, A]), backend=name))
    np.testing.assert_allclose(multiad.to_numpy(sign), np.linalg.slogdet(np.stack([singular, A]))[0])
    np.testing.assert_allclose(multiad.to_numpy(logdet), np.linalg.slogdet(np.stack([singular, A]))[1])


# NOTE [det at a singular matrix]: torch's forward mode gave det a zero derivative at an exactly
# singular matrix and wrong second derivatives there; JAX nan second derivatives from 4 x 4 on. The closed forms: the first
# derivative is the cofactor matrix (nonzero at rank n - 1, zero below), the second derivative
# d2 det / dA_ij dA_kl the signed minor without rows i, k and columns j, l (nonzero at rank n - 2).
SINGULAR = {
    "rank 1 of 2": np.array([[1.0, 2.0], [2.0, 4.0]]),
    "rank 2 of 3": np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]]),
    "rank 1 of 3": np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]]),
    "zero 3 x 3": np.zeros((3, 3)),
    "rank 3 of 4": np.array([[2.0, 1.0, 0.0, 1.0], [1.0, 3.0, 1.0, 4.0], [0.0, 1.0, 2.0, 1.0], [3.0, 4.0, 1.0, 5.0]]),
}


def _minor(a: Any, rows: list[int], cols: list[int]) -> float:
    m = np.delete(np.delete(a, rows, 0), cols, 1)
    return float(np.linalg.det(m)) if m.size else 1.0


def cofactors(a: Any) -> Any:
    n = a.shape[0]
    return np.array([[(-1) ** (i + j) * _minor(a, [i], [j]) for j in range(n)] for i in range(n)])


def det_second_derivatives(a: Any) -> Any:
    n = a.shape[0]
    h = np.zeros((n, n, n, n))
    for i, j, k, m in np.ndindex(n, n, n, n):
        if i != k and j != m:
            sign = 1 if (i < k) == (j < m) else -1
            h[i, j, k, m] = (-1) ** (i + j + k + m) * sign * _minor(a, [i, k], [j, m])
    return h


@pytest.mark.parametrize("matrix", SINGULAR)
@pytest.mark.parametrize("name", AD_BACKENDS)
def test_det_first_derivatives_at_singular_matrices(name: str, matrix: str) -> None:
    a = SINGULAR[matrix]
    direction = np.arange(1.0, a.size + 1).reshape(a.shape)
    with multiad.use_backend(name):
        for transform in (multiad.jacfwd, multiad.jacrev, multiad.grad):
            got = multiad.to_numpy(transform(determinant)(a))
            np.testing.assert_allclose(got, cofactors(a), rtol=1e-9, atol=1e-12, err_msg=transform.__name__)
        value, tangent = multiad.jvp(determinant, (a,), (direction,))
    # det of a singular matrix is 0 up to the LU's rounding (-1.8e-15 with one CPU's LAPACK path)
    assert abs(float(multiad.to_numpy(value))) <= 1e-12 * max(1.0, float(np.abs(a).max())) ** a.shape[0]
    np.testing.assert_allclose(float(multiad.to_numpy(tangent)), np.sum(cofactors(a) * direction), atol=1e-12)


@pytest.mark.parametrize("composition", COMPOSITIONS)
@pytest.mark.parametrize("matrix", SINGULAR)
@pytest.mark.parametrize("name", AD_BACKENDS)
def test_det_second_derivatives_at_singular_matrices(name: str, matrix: str, composition: str) -> None:
    a = SINGULAR[matrix]
    with multiad.use_backend(name):
        got = multiad.to_numpy(COMPOSITIONS[composition](determinant)(a))
    np.testing.assert_allclose(got, det_second_derivatives(a), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", AD_BACKENDS)
def test_det_derivatives_of_a_stack_holding_singular_matrices(name: str) -> None:
    # one regular matrix beside singular ones, also under vmap (where torch cannot read values)
    stack = np.stack([A, SINGULAR["rank 2 of 3"], SINGULAR["rank 1 of 3"]])
    total = lambda s: mnp.sum(mnp.linalg.det(s))  # noqa: E731
    with multiad.use_backend(name):
        forward = multiad.to_numpy(multiad.jacfwd(total)(stack))
        mapped = multiad.to_numpy(multiad.vmap(multiad.jacfwd(determinant))(stack))
        second = multiad.to_numpy(multiad.vmap(multiad.jacrev(multiad.jacfwd(determinant)))(stack))
        values = multiad.to_numpy(mnp.linalg.det(stack))
    np.testing.assert_allclose(values, np.linalg.det(stack), rtol=1e-12, atol=0)
    want = np.stack([cofactors(m) for m in stack])
    np.testing.assert_allclose(forward, want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(mapped, want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(second, np.stack([det_second_derivatives(m) for m in stack]), rtol=1e-9, atol=1e-12)
