"""``linalg.solve`` broadcasts as numpy 2 does: a ``b`` of two or more axes is a stack of
matrices, also where its shape is ``a.shape[:-1]`` (NOTE [solve's b of shape a.shape[:-1]] in
multiad/numpy/_torch_linalg.py: torch gave a result with b's batch axes twice, without an error).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import Case

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
