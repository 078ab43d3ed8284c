"""nanmedian of booleans and integers is numpy's median; an axis with no slices gives numpy's empty
result; a 0-d NumPy array's median with keepdims=True is a 0-d array, as numpy's.

nanmedian of a bool array raised numpy's "boolean subtract" TypeError on every backend (numpy's
nanmedian calls median for dtypes without nan); nanmedian of a (0, 3) array along axis 1 raised
ValueError, RuntimeError or ZeroDivisionError by backend.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp

B = np.array([[True, False, True], [False, False, True]])
INTS = np.array([[3, 1, 2], [5, 4, 4]])


def _on(backend: Case, x: np.ndarray) -> object:
    return multiad.asarray(x, backend=backend.name)


@pytest.mark.parametrize("x", [B, INTS], ids=["bool", "int"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_nanmedian_of_booleans_and_integers_is_numpys(
    backend: Case, x: np.ndarray, axis: int | None, keepdims: bool
) -> None:
    want = np.nanmedian(x, axis=axis, keepdims=keepdims)
    got = multiad.to_numpy(mnp.nanmedian(_on(backend, x), axis=axis, keepdims=keepdims))
    np.testing.assert_array_equal(got, want)
    assert np.shape(got) == np.shape(want)


@pytest.mark.parametrize(("shape", "axis"), [((0, 3), 1), ((0, 3), -1), ((2, 0, 3), 2), ((0, 3), (1,))])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("q", [None, 0.3])  # numpy gives shape (0,) for q=[0.2, 0.7], quantile (2, 0)
def test_nan_quantiles_without_slices_are_empty(
    backend: Case, shape: tuple[int, ...], axis: object, keepdims: bool, q: object
) -> None:
    x = np.zeros(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns of nothing: there is no slice
        if q is None:
            want = np.nanmedian(x, axis=axis, keepdims=keepdims)
            got = mnp.nanmedian(_on(backend, x), axis=axis, keepdims=keepdims)
        else:
            want = np.nanquantile(x, q, axis=axis, keepdims=keepdims)
            got = mnp.nanquantile(_on(backend, x), q, axis=axis, keepdims=keepdims)
    assert multiad.to_numpy(got).shape == want.shape


@pytest.mark.parametrize("fn", ["median", "nanmedian"])
def test_median_of_a_0d_numpy_array_with_keepdims_is_a_0d_array(fn: str) -> None:
    x = np.array(1.5)
    want = getattr(np, fn)(x, keepdims=True)
    got = getattr(mnp, fn)(x, keepdims=True)
    assert type(got) is type(want) is np.ndarray and got.shape == () and got == want
    assert type(getattr(mnp, fn)(x)) is type(getattr(np, fn)(x))  # without keepdims: numpy's scalar
