"""mnp.mean of no values with an integer dtype= on JAX: XLA divided the integer 0 by 0 while
compiling and the process died (SIGFPE); numpy's value is a C-undefined cast of nan."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

pytest.importorskip("jax")


@pytest.mark.parametrize(
    "shape,kwargs",
    [((0,), {"dtype": "int64"}), ((0, 3), {"dtype": "int8", "axis": 0}), ((0, 3), {"dtype": np.uint8})],
)
def test_jax_mean_of_no_values_in_an_integer_dtype_raises_naming_the_call(shape: Any, kwargs: Any) -> None:
    x = multiad.asarray(np.zeros(shape, np.float32), backend="jax")
    with pytest.raises(ValueError, match=r"^mnp\.mean: "):
        mnp.mean(x, **kwargs)


def test_jax_mean_of_no_values_in_a_float_dtype_or_over_values_is_numpys() -> None:
    x = np.zeros((0, 3), np.int8)
    got = mnp.mean(multiad.asarray(x, backend="jax"), axis=1, dtype="int64")  # no values lost: empty result
    want = np.mean(x, axis=1, dtype="int64")
    assert np.asarray(got).shape == want.shape and np.asarray(got).dtype == want.dtype
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        f = mnp.mean(multiad.asarray(x, backend="jax"), dtype="float32")
    assert np.isnan(np.asarray(f)) and np.asarray(f).dtype == np.float32
