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
