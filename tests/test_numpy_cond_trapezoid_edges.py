"""mnp.linalg.cond by the inverse (orders 1, -1, inf, -inf, 'fro', 'nuc') on matrices that are not
square or hold nan, and mnp.trapezoid along an axis of fewer than two samples, against numpy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

ORDERS = [1, -1, np.inf, -np.inf, "fro", "nuc"]


@pytest.mark.parametrize("p", ORDERS, ids=str)
@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (2, 2, 3), (3,)], ids=str)
def test_cond_by_inverse_refuses_non_square(backend: Any, p: Any, shape: tuple[int, ...]) -> None:
    # numpy raises LinAlgError; the inverse's LinAlgError was read as a singular matrix: inf
    x = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.cond(x, p)
    with multiad.use_backend(backend.name), pytest.raises(np.linalg.LinAlgError, match=r"^mnp\.linalg\.cond: .*square"):
        mnp.linalg.cond(mnp.asarray(x), p)


@pytest.mark.parametrize("p", ORDERS[:-1], ids=str)  # numpy's 'nuc' raises: its SVD does not converge
def test_cond_of_matrix_holding_nan_is_nan(backend: Any, p: Any) -> None:
    # numpy: nan (inf only for a singular matrix without nan); autograd and numpy gave inf
    x = np.array([[np.nan, 1.0], [1.0, 1.0]])
    assert np.isnan(np.linalg.cond(x, p))
    with multiad.use_backend(backend.name):
        got = multiad.to_numpy(mnp.linalg.cond(mnp.asarray(x), p))
    assert np.isnan(got), got


@pytest.mark.parametrize(
    ("y", "axis"),
    [(np.array([]), -1), (np.array([5.0]), -1), (np.array([5]), -1), (np.ones((2, 1)), -1), (np.ones((1, 3)), 0)],
    ids=["empty", "one", "one int", "(2, 1)", "(1, 3) axis 0"],
)
def test_trapezoid_of_fewer_than_two_samples_is_zero(backend: Any, y: Any, axis: int) -> None:
    # numpy's integral over no interval is 0.0; torch, autograd and numpy read the empty list of
    # indices as float indices and raised
    expected = np.trapezoid(y, axis=axis)
    with multiad.use_backend(backend.name):
        got = multiad.to_numpy(mnp.trapezoid(mnp.asarray(y), axis=axis))
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.float64


def test_trapezoid_derivative_of_one_sample_is_zero(ad_backend: Any) -> None:
    g = multiad.grad(lambda y: mnp.trapezoid(y) + mnp.sum(y**2), backend=ad_backend.name)(np.array([1.5]))
    np.testing.assert_allclose(multiad.to_numpy(g), [3.0])  # only sum(y**2) contributes: 2y
