"""multiad.numpy of integers at the ends of their dtype's range, against numpy on every backend:
``sinc`` of the most negative integer (its absolute value overflowed to itself, below the
series' threshold), and ``round`` of narrow integers to negative decimals (twice a remainder
overflowed: int8 -7 rounded to -100)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BACKENDS

import multiad
import multiad.numpy as mnp


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8", "bool"])
def test_sinc_of_integers_at_the_ends_of_the_range(backend_name: str, dtype: str) -> None:
    if dtype == "bool":
        x = np.array([True, False])
    else:
        info = np.iinfo(dtype)
        x = np.array([info.min, info.min + 1, max(info.min, -3), 0, 2, info.max], dtype=dtype)
    want = np.sinc(x)
    got = multiad.to_numpy(mnp.sinc(multiad.asarray(x, backend=backend_name)))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-15)


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("dtype", ["int8", "int16", "uint8", "uint16"])
def test_round_of_narrow_integers_to_negative_decimals(backend_name: str, dtype: str) -> None:
    info = np.iinfo(dtype)
    x = np.unique(np.r_[np.arange(max(info.min, -400), min(info.max, 400) + 1), info.min, info.max]).astype(dtype)
    for decimals in (-1, -2, -3):
        with np.errstate(all="ignore"):
            want = np.round(x, decimals)
        got = multiad.to_numpy(mnp.round(multiad.asarray(x, backend=backend_name), decimals))
        assert got.dtype == want.dtype
        bad = got != want
        assert not bad.any(), (decimals, x[bad][:5], got[bad][:5], want[bad][:5])


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_copysign_of_the_most_negative_integer(backend_name: str) -> None:
    """The magnitude of int8 -128 is 128: it was taken in int8 (-128), so JAX and a traced sign
    on autograd gave +128 for a negative sign and -128 for a positive one."""
    x = np.array([-128, -128, 5, 5], dtype=np.int8)
    s = np.array([1.0, -1.0, 1.0, -1.0])
    want = np.copysign(x, s)
    got = multiad.to_numpy(
        mnp.copysign(multiad.asarray(x, backend=backend_name), multiad.asarray(s, backend=backend_name))
    )
    np.testing.assert_array_equal(got, want)
    value, grad = multiad.value_and_grad(lambda t: mnp.sum(mnp.copysign(x, t) * t), backend=backend_name)(s)
    np.testing.assert_allclose(multiad.to_numpy(value), np.sum(want * s))
    np.testing.assert_allclose(multiad.to_numpy(grad), want, rtol=1e-6)


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16"])
def test_mean_accumulates_in_an_integer_dtype(backend_name: str, dtype: str) -> None:
    """numpy's mean with an integer dtype= sums in that dtype, wrapping (mean(uint8 [200, 100,
    10], dtype="uint8") is 54 // 3 = 18); torch summed in int64 and gave 103."""
    x = np.array([[200, 100, 10], [100, 100, 1]], dtype=np.uint8).astype(dtype)
    for axis in (None, 0, 1):
        want = np.mean(x, axis=axis, dtype=dtype)
        got = multiad.to_numpy(mnp.mean(multiad.asarray(x, backend=backend_name), axis=axis, dtype=dtype))
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
