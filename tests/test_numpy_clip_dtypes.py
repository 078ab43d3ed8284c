"""mnp.clip's result dtype against numpy's, over a grid of array dtypes and bound kinds.

NOTE [clip promotes its three operands at once] in multiad/numpy/_composite.py: numpy's clip
promotes the array and both bounds together (Python numbers weak); promoted one bound at a
time, ``clip(bool x, 0, np.uint8(1))`` was int64 where numpy gives uint8. JAX arrays keep
jax.numpy's promotion (docs/api-numpy.md), so there the dtype is jax.numpy's clip's and the
values are numpy's.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

DTYPES = ("bool", "uint8", "int8", "int32", "float32", "float64")
#: Python numbers, then numpy scalars of each dtype.
BOUNDS: tuple[Any, ...] = (0, 1, 0.5, True, *(np.dtype(d).type(1) for d in DTYPES))


def array(dtype: str) -> np.ndarray:
    if dtype == "bool":
        return np.array([True, False])
    return np.array([0, 1, 2], dtype=dtype)


def reference(backend: str, a: np.ndarray, lo: Any, hi: Any) -> np.ndarray:
    want = np.clip(a, lo, hi)
    if backend == "jax":
        import jax.numpy as jnp

        want = want.astype(jnp.clip(jnp.asarray(a), lo, hi).dtype)
    return want


@pytest.mark.parametrize("backend", ["numpy", "torch", "autograd", "jax"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_gives_numpys_dtype_and_values(backend: str, dtype: str) -> None:
    a = array(dtype)
    wrong = []
    for lo, hi in itertools.product(BOUNDS, BOUNDS):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = reference(backend, a, lo, hi)
            got = np.asarray(multiad.to_numpy(mnp.clip(multiad.asarray(a, backend=backend), lo, hi)))
        if got.dtype != want.dtype or not np.array_equal(got, want):
            wrong.append(f"clip({dtype}, {lo!r}, {hi!r}): {got!r}, numpy {want!r}")
    assert not wrong, "\n".join(wrong)


def test_a_bool_array_with_a_python_and_a_uint8_bound_is_uint8() -> None:
    x = np.array([True, False])
    assert np.clip(x, 0, np.uint8(1)).dtype == np.uint8  # numpy's, by NEP 50
    for backend in ("numpy", "torch", "autograd"):
        got = mnp.clip(multiad.asarray(x, backend=backend), 0, np.uint8(1))
        assert np.asarray(multiad.to_numpy(got)).dtype == np.uint8, backend
    assert mnp.clip(x, np.uint8(0), np.uint8(1)).dtype == np.uint8
