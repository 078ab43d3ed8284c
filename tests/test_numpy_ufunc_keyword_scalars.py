"""Ufunc keywords with numpy scalar operands: np.float64 is a Python float subclass but numpy 2
takes it as a strong float64; dtype=/casting= with one raised "Provided dtype must be a valid
NumPy dtype" (and so did vmap on autograd and numpy, which hand f numpy scalars)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

f32 = np.array([1.0], np.float32)

CASES: list[tuple[str, Callable[[Any], Any]]] = [
    ("multiply dtype", lambda m: m.multiply(np.float64(1.5), np.float64(1.5), dtype=np.float32)),
    ("sqrt dtype", lambda m: m.sqrt(np.float64(2.0), dtype=np.float32)),
    ("add casting safe", lambda m: m.add(f32, np.float64(1e-10), casting="safe")),
    ("add casting same_kind", lambda m: m.add(f32, np.float64(0.25), casting="same_kind")),
    ("add float32 scalar dtype", lambda m: m.add(np.float32(1.5), np.float64(2.0), dtype=np.float64)),
]


@pytest.mark.parametrize(("name", "call"), CASES, ids=[c[0] for c in CASES])
def test_numpy_scalars_with_keywords(backend: Any, name: str, call: Callable[[Any], Any]) -> None:
    expected = np.asarray(call(np))
    with multiad.use_backend(backend.name):
        got = multiad.to_numpy(call(mnp))
    assert got.dtype == expected.dtype, f"{name}: {got.dtype} != numpy's {expected.dtype}"
    np.testing.assert_array_equal(got, expected, err_msg=name)


def test_casting_safe_refuses_float64_scalar_into_float32(backend: Any) -> None:
    with pytest.raises(TypeError), np.errstate(all="ignore"):
        np.add(f32, np.float64(1.0), dtype=np.float32, casting="safe")
    with multiad.use_backend(backend.name), pytest.raises(TypeError, match=r"^mnp\.add: Cannot cast"):
        mnp.add(f32, np.float64(1.0), dtype=np.float32, casting="safe")


def test_vmap_with_dtype_keyword(backend: Any) -> None:
    x = np.array([1.5, 2.5])
    with multiad.use_backend(backend.name):
        got = multiad.to_numpy(multiad.vmap(lambda t: mnp.multiply(t, t, dtype=np.float32))(x))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.array([2.25, 6.25], np.float32))
