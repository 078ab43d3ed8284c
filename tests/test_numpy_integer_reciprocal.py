"""mnp.reciprocal of integers and booleans is numpy's on every backend: an integer result in the
input's dtype (jax.numpy's divided in floating point: 0.5 for 2)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import BACKENDS

import multiad
import multiad.numpy as mnp


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8", "bool"])
def test_reciprocal_of_integers_is_numpys(backend_name: str, dtype: str) -> None:
    values = [True, False] if dtype == "bool" else [0, 1, 2, 7] + ([] if dtype == "uint8" else [-1, -5])
    x = np.array(values, dtype=dtype)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.reciprocal(x)
        got = np.asarray(multiad.to_numpy(mnp.reciprocal(multiad.asarray(x, backend=backend_name))))
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_array_equal(got, want)
