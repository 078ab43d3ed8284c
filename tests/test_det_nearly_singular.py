"""linalg.det's derivatives on torch at matrices singular only to rounding (NOTE [det at a
nearly singular matrix on torch]), against the closed forms of the Leibniz polynomial."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

torch = pytest.importorskip("torch")


def _sign(p: tuple[int, ...]) -> int:
    s, q = 1, list(p)
    for i in range(len(q)):
        while q[i] != i:
            j = q[i]
            q[i], q[j] = q[j], q[i]
            s = -s
    return s


def _derivative(a: np.ndarray, k: int) -> np.ndarray:
    """The k-th derivative of det at ``a``, term by term of det = sum_p sign(p) prod_i a[i, p(i)]."""
    n = a.shape[0]
    out = np.zeros((n, n) * k)
    for p in itertools.permutations(range(n)):
        pairs = [(i, p[i]) for i in range(n)]
        for rows in itertools.permutations(range(n), k):
            rest = [pairs[i] for i in range(n) if i not in rows]
            out[sum((pairs[i] for i in rows), ())] += _sign(p) * np.prod([a[i, j] for i, j in rest])
    return out


def det(a: object) -> object:
    return mnp.linalg.det(a)


# [[1..9]] has, in float64 on torch, an LU pivot near 1e-16 (not exactly zero); the shifted one near 1e-9.
MATRICES = [
    np.arange(1.0, 10.0).reshape(3, 3),
    np.arange(1.0, 10.0).reshape(3, 3) + 1e-9 * np.eye(3),
]
SECOND = {
    "hessian": lambda: multiad.hessian(det),
    "jacfwd(jacfwd)": lambda: multiad.jacfwd(multiad.jacfwd(det)),
    "jacfwd(jacrev)": lambda: multiad.jacfwd(multiad.jacrev(det)),
    "jacrev(jacfwd)": lambda: multiad.jacrev(multiad.jacfwd(det)),
}


@pytest.mark.parametrize("a", MATRICES, ids=["rounding", "1e-9"])
@pytest.mark.parametrize("name", list(SECOND))
def test_second_derivatives(a: np.ndarray, name: str) -> None:
    with multiad.use_backend("torch"):
        got = SECOND[name]()(torch.tensor(a)).numpy()
    np.testing.assert_allclose(got, _derivative(a, 2), rtol=0, atol=1e-9)


@pytest.mark.parametrize("a", MATRICES, ids=["rounding", "1e-9"])
def test_first_and_third_derivatives_and_value(a: np.ndarray) -> None:
    x = torch.tensor(a)
    with multiad.use_backend("torch"):
        value = mnp.linalg.det(x)
        first = multiad.jacfwd(det)(x).numpy()
        third = multiad.jacfwd(multiad.jacrev(multiad.jacfwd(det)))(x).numpy()
    np.testing.assert_allclose(value.item(), np.linalg.det(a), rtol=1e-6, atol=1e-15)
    np.testing.assert_allclose(first, _derivative(a, 1), rtol=0, atol=1e-9)
    np.testing.assert_allclose(third, _derivative(a, 3), rtol=0, atol=1e-9)


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0)])
def test_empty_matrices(shape: tuple[int, ...]) -> None:
    x = torch.zeros(shape, dtype=torch.float64)
    with multiad.use_backend("torch"):
        value = mnp.linalg.det(x)
        grad = multiad.grad(lambda a: mnp.sum(mnp.linalg.det(a)))(x)
    np.testing.assert_array_equal(value.numpy(), np.linalg.det(np.zeros(shape)))
    assert tuple(grad.shape) == shape


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0)])
def test_empty_matrices_jax(shape: tuple[int, ...]) -> None:
    jnp = pytest.importorskip("jax.numpy")
    x = jnp.zeros(shape)
    with multiad.use_backend("jax"):
        value = mnp.linalg.det(x)
        grad = multiad.grad(lambda a: mnp.sum(mnp.linalg.det(a)))(x)
    np.testing.assert_array_equal(np.asarray(value), np.linalg.det(np.zeros(shape)))
    assert tuple(grad.shape) == shape
