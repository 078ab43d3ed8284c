"""The numpy backend's Jacobian blocks are the columns transposed (NOTE [Transposes through a
padded copy] in backends/numpy): copied directly, or through rows padded by a cache line where
the rows lie a multiple of 4 KiB apart. Both ways give the closed form, in the output's dtype,
C-contiguous."""

from __future__ import annotations

import warnings
from typing import Any

import multiad_numpy
import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

# (inputs, outputs, dtype): padded (32 rows of 2048 float32, 16 of 1024 float64, 128 of 256
# float32), and direct (few rows, or strides that are not a multiple of a large power of two)
SHAPES = [
    (32, 2048, np.float32),
    (16, 1024, np.float64),
    (128, 256, np.float32),
    (4, 2048, np.float32),
    (32, 1000, np.float64),
    (3, 5, np.float64),
]


@pytest.mark.parametrize(("n_in", "n_out", "dtype"), SHAPES)
@pytest.mark.parametrize("transform", ["jacfwd", "jacrev", "jacobian"])
def test_linear_map_blocks_are_the_matrix(n_in: int, n_out: int, dtype: Any, transform: str) -> None:
    rng = np.random.default_rng(n_in * n_out)
    w = rng.standard_normal((n_out, n_in)).astype(dtype)
    x = rng.standard_normal(n_in).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a linear map is exact up to rounding: no warning either
        jac = getattr(multiad, transform)(lambda x: w @ x, backend="numpy")(x)
    assert jac.shape == (n_out, n_in)
    assert jac.dtype == dtype
    assert jac.flags.c_contiguous
    tol = 1e-3 if dtype == np.float32 else 1e-8
    np.testing.assert_allclose(jac, w, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_layer_blocks_are_the_closed_form(dtype: Any) -> None:
    """The tall benchmark's predict, 32 -> 2048: d tanh(W x + b) / dx = (1 - t**2)[:, None] W."""
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((2048, 32)) / np.sqrt(32)).astype(dtype)
    b = rng.standard_normal(2048).astype(dtype)
    x = rng.standard_normal(32).astype(dtype)
    t = np.tanh(w.astype(np.float64) @ x.astype(np.float64) + b)
    want = (1 - t**2)[:, None] * w
    got = multiad.jacfwd(lambda x: mnp.tanh(x @ w.T + b), backend="numpy")(x)
    tol = 2e-3 if dtype == np.float32 else 1e-8
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_padded_and_direct_transposes_agree() -> None:
    """The helper itself: the padded copy and the direct one are the same transpose."""
    rng = np.random.default_rng(1)
    for rows, size, dtype, out in [
        (32, 2048, np.float32, np.float32),
        (16, 1024, np.float64, np.float32),
        (3, 7, np.float64, np.float64),
    ]:
        values = rng.standard_normal((rows, size)).astype(dtype)
        got = multiad_numpy._transposed(values, out)
        assert got.flags.c_contiguous and got.dtype == out
        np.testing.assert_array_equal(got, values.T.astype(out))
