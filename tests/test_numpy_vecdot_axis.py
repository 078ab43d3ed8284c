"""``vecdot``'s ``axis`` is taken in each argument before the other axes broadcast.

NOTE [vecdot's axis] in multiad/numpy/_extras.py. numpy's ``vecdot`` is the gufunc
``(n),(n)->()``: ``axis=0`` of a (2, 3, 4) and a (3, 4) array is the first axis of each (sizes 2
and 3 would not match; (3, 2, 4) and (3, 4) do). Broadcasting first and summing over the
broadcast shape's axis gave other numbers, without an error, whenever the ranks differ.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp

RNG = np.random.default_rng(7)
A3 = RNG.standard_normal((2, 2, 2))
B2 = RNG.standard_normal((2, 2))
C3 = RNG.standard_normal((3, 2, 4))
D2 = RNG.standard_normal((3, 4))

# (x1, x2, axis): ranks differ, so the axis names different axes of each argument
CASES = {
    "3d-2d-axis0": (A3, B2, 0),
    "3d-2d-axis1": (A3, B2, 1),
    "2d-3d-axis0": (B2, A3, 0),
    "3d-2d-axis-2": (A3, B2, -2),
    "sizes-3d-2d-axis0": (C3, D2, 0),
}


def _by_loops(x1: np.ndarray, x2: np.ndarray, axis: int) -> np.ndarray:
    """The gufunc written out: move each argument's axis last, broadcast the rest, sum."""
    a, b = np.moveaxis(x1, axis, -1), np.moveaxis(x2, axis, -1)
    batch = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    a = np.broadcast_to(a, batch + a.shape[-1:])
    b = np.broadcast_to(b, batch + b.shape[-1:])
    out = np.empty(batch)
    for i in np.ndindex(batch):
        out[i] = sum(a[i][k] * b[i][k] for k in range(a.shape[-1]))
    return out


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("where", ["vecdot", "linalg.vecdot"])
def test_vecdot_axis_of_arguments_of_different_ranks(backend: Case, case: str, where: str) -> None:
    x1, x2, axis = CASES[case]
    want = _by_loops(x1, x2, axis)
    np.testing.assert_allclose(np.linalg.vecdot(x1, x2, axis=axis), want, rtol=1e-12)  # the reference is numpy's
    fn = mnp.linalg.vecdot if where == "linalg.vecdot" else mnp.vecdot
    got = fn(backend.array(x1), backend.array(x2), axis=axis)
    np.testing.assert_allclose(multiad.to_numpy(got), want, rtol=1e-12, atol=1e-12)


def test_vecdot_axis_derivative(backend: Case) -> None:
    # d/dx1 sum(vecdot(x1, x2, axis=0)) for x1 (2, 2, 2), x2 (2, 2): x2[k, j] at x1[k, i, j]
    g = multiad.grad(lambda a: mnp.sum(mnp.vecdot(a, backend.array(B2), axis=0)), backend=backend.name)
    want = np.broadcast_to(B2[:, None, :], (2, 2, 2))
    np.testing.assert_allclose(multiad.to_numpy(g(backend.array(A3))), want, **backend.tol())


@pytest.mark.parametrize("shapes", [((3,), (1,)), ((2, 3), (2, 1))])
def test_vecdot_mismatched_vector_lengths_raise(backend: Case, shapes: tuple[tuple[int, ...], ...]) -> None:
    x1, x2 = np.ones(shapes[0]), np.ones(shapes[1])
    with pytest.raises(ValueError):
        np.vecdot(x1, x2)  # numpy: core dimensions do not broadcast
    with pytest.raises(ValueError, match=r"^mnp\.vecdot: "):
        mnp.vecdot(backend.array(x1), backend.array(x2))
