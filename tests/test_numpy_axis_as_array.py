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


A = np.arange(12.0).reshape(3, 4)


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("transpose", lambda m, a: m.transpose(a, np.array([1, 0]))),
        ("permute_dims", lambda m, a: m.permute_dims(a, axes=np.array([1, 0]))),
        ("roll 0-d shift", lambda m, a: m.roll(a, np.array(1), axis=1)),
        ("roll shift array", lambda m, a: m.roll(a, np.array([1, 2]), axis=(0, 1))),
        ("take int16", lambda m, a: m.take(a, np.array([3, -1, 0], dtype=np.int16), axis=1)),
        ("take uint8 flat", lambda m, a: m.take(a, np.array([11, 0, 5], dtype=np.uint8))),
    ],
)
def test_arrays_as_axes_shifts_and_small_integer_indices(backend: Any, name: str, call: Any) -> None:
    # numpy reads these arguments from arrays of any integer dtype; on torch transpose and
    # permute_dims raised "only 0-dimensional arrays can be converted to Python scalars", roll
    # "'int' object is not iterable", take "index_select(): Expected dtype int32 or int64".
    want = call(np, A)
    with multiad.use_backend(backend.name):
        got = multiad.to_numpy(call(mnp, multiad.asarray(A)))
    assert got.shape == want.shape, name
    np.testing.assert_array_equal(got, want)
