"""numpy reads ``axis`` through ``__index__``: a 0-d integer array is an axis. JAX's count_nonzero
hashes its axis and refused it ("Non-hashable static arguments")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

x = np.array([[[0.0, 1.0, 2.0, 0.0], [3.0, 0.0, 0.0, 4.0], [0.0, 0.0, 5.0, 6.0]]] * 2)


@pytest.mark.parametrize("name", ["count_nonzero", "sum", "max", "any", "argmax"])
@pytest.mark.parametrize("axis", [np.array(2), np.array(-2), np.uint8(1)])
def test_axis_as_numpy_integer(backend: Any, name: str, axis: Any) -> None:
    want = getattr(np, name)(x, axis=axis)
    with multiad.use_backend(backend.name):
        got = multiad.to_numpy(getattr(mnp, name)(multiad.asarray(x), axis=axis))
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_count_nonzero_axis_tuple_of_arrays(backend: Any) -> None:
    axis = (np.array(0), np.int64(2))
    want = np.count_nonzero(x, axis=axis, keepdims=True)
    with multiad.use_backend(backend.name):
        got = multiad.to_numpy(mnp.count_nonzero(multiad.asarray(x), axis=axis, keepdims=True))
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
