"""JAX: mnp.power of a float32 array and a NumPy integer scalar exponent was float64 holding a
float32 computation (float32's overflow and underflow: -3.4e38 ** 3 was -inf in a float64)."""

from __future__ import annotations

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

pytest.importorskip("jax")


@pytest.mark.parametrize("exponent", [np.int32(3), np.int64(3), np.uint64(3), np.int8(2)])
def test_jax_power_of_float32_and_a_numpy_integer_scalar_is_consistent(exponent: np.generic) -> None:
    import jax.numpy as jnp

    x = np.array([-3.4e38, 1e-30, 1.1, 0.0, -2.0], dtype=np.float32)
    got = mnp.power(multiad.asarray(x, backend="jax"), exponent)
    # JAX's own dtype (as jax.numpy's and as with an array exponent), never float64 of float32 values
    assert got.dtype == jnp.power(jnp.asarray(x), exponent).dtype == np.float32
    with np.errstate(over="ignore", under="ignore"):
        want = np.power(x, exponent).astype(np.float32)  # numpy's values, rounded to that dtype
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)
