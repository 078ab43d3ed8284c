"""``linalg.solve`` broadcasts as numpy 2 does: a ``b`` of two or more axes is a stack of
matrices, also where its shape is ``a.shape[:-1]`` (NOTE [solve's b of shape a.shape[:-1]] in
multiad/numpy/_torch_linalg.py: torch gave a result with b's batch axes twice, without an error).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import Case, central_gradient

import multiad
import multiad.numpy as mnp

LHS = [(2, 2), (2, 2, 2), (2, 2, 2, 2), (2, 2, 2, 2, 2), (3, 2, 2)]
RHS = [(2,), (2, 2), (2, 2, 2), (2, 2, 2, 2), (3, 2, 1), (1, 2, 3)]
PAIRS = list(itertools.product(LHS, RHS))


def _numpy_or_none(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    try:
        return np.asarray(np.linalg.solve(a, b))
    except ValueError:
        return None


@pytest.mark.parametrize(("lhs", "rhs"), PAIRS, ids=str)
def test_solve_shapes_and_values_are_numpys(backend: Case, lhs: tuple[int, ...], rhs: tuple[int, ...]) -> None:
    rng = np.random.default_rng(3)
    a = rng.standard_normal(lhs) + 3 * np.eye(lhs[-1])
    b = rng.standard_normal(rhs)
    want = _numpy_or_none(a, b)
    if want is None:
        with pytest.raises(ValueError):
            mnp.linalg.solve(backend.array(a), backend.array(b))
        return
    # the reference written out: a @ x == b, with x of numpy's shape
    got = np.asarray(multiad.to_numpy(mnp.linalg.solve(backend.array(a), backend.array(b))))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    back = np.einsum("...ij,...j->...i", a, got) if len(rhs) == 1 else np.matmul(a, got)
    np.testing.assert_allclose(back, np.broadcast_to(b, back.shape), rtol=1e-10, atol=1e-10)


# a broadcast against a stack, a stack against a 1-d b, batches of another size than n, batch
# axes of size 1 on either side (NOTE [solve's derivative on autograd]: autograd's cotangents
# had the broadcast result's shape, or raised)
BROADCAST = [
    ((2, 2), (4, 2, 1)),
    ((2, 2, 2), (2,)),
    ((2, 3, 3), (3,)),
    ((3, 3), (2, 3, 2)),
    ((2, 3, 3), (1, 3, 1)),
    ((1, 3, 3), (2, 3, 2)),
    ((2, 1, 3, 3), (4, 3, 1)),
]


def _operands(lhs: tuple[int, ...], rhs: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    a = rng.standard_normal(lhs) + 3 * np.eye(lhs[-1])
    b = rng.standard_normal(rhs)
    w = rng.standard_normal(np.linalg.solve(a, b).shape)
    return a, b, w


@pytest.mark.parametrize("argnum", [0, 1])
@pytest.mark.parametrize(("lhs", "rhs"), BROADCAST, ids=str)
def test_solve_gradient_has_the_operands_shape(
    backend: Case, lhs: tuple[int, ...], rhs: tuple[int, ...], argnum: int
) -> None:
    a, b, w = _operands(lhs, rhs)
    args = [a, b]

    def reference(x: np.ndarray) -> float:
        operands = list(args)
        operands[argnum] = x
        return float(np.sum(np.linalg.solve(*operands) * w))

    want = central_gradient(reference, args[argnum])
    f = multiad.grad(lambda a, b: mnp.sum(mnp.linalg.solve(a, b) * w), argnums=argnum, backend=backend.name)
    got = np.asarray(multiad.to_numpy(f(a, b)))
    assert got.shape == args[argnum].shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("argnum", [0, 1])
@pytest.mark.parametrize(("lhs", "rhs"), BROADCAST, ids=str)
def test_solve_jacobian_is_the_central_differences(
    backend: Case, lhs: tuple[int, ...], rhs: tuple[int, ...], argnum: int
) -> None:
    a, b, _ = _operands(lhs, rhs)
    args = [a, b]
    out_shape = np.linalg.solve(a, b).shape
    want = np.zeros(out_shape + args[argnum].shape)
    for i in np.ndindex(out_shape):

        def entry(x: np.ndarray, i: tuple[int, ...] = i) -> float:
            operands = list(args)
            operands[argnum] = x
            return float(np.linalg.solve(*operands)[i])

        want[i] = central_gradient(entry, args[argnum])
    got = multiad.jacrev(mnp.linalg.solve, argnums=argnum, backend=backend.name)(a, b)
    got = np.asarray(multiad.to_numpy(got))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_solve_second_derivative_with_a_broadcast_operand(ad_backend: Case) -> None:
    """The rule's own derivative (a Hessian) sums over the broadcast axes as well."""
    a, b, w = _operands((2, 2), (3, 2, 1))

    def first(x: np.ndarray) -> np.ndarray:
        # the closed form: -sum over the stack of solve(x.T, w) @ solve(x, b).T
        return -np.sum(np.linalg.solve(x.T, w) @ np.swapaxes(np.linalg.solve(x, b), -1, -2), axis=0)

    want = np.stack([central_gradient(lambda x, k=k: float(first(x).flat[k]), a).ravel() for k in range(a.size)])
    got = multiad.hessian(lambda a: mnp.sum(mnp.linalg.solve(a, b) * w), backend=ad_backend.name)(a)
    got = np.asarray(multiad.to_numpy(got)).reshape(a.size, a.size)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
