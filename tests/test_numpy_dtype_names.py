"""numpy's dtype names in multiad.numpy (NOTE [Dtype names in multiad.numpy]): ``mnp.float32`` is
numpy's own type, taken as a dtype by mnp functions on every backend; ``finfo``/``iinfo`` read any
backend's dtype and give numpy's answer; the dtype-related names left out say why."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp
from multiad.numpy._dtype_names import DTYPE_NAMES

SIZED = ["bool", "int8", "int32", "int64", "uint8", "float16", "float32", "float64", "complex64"]


def test_the_dtype_names_are_numpys_own_types() -> None:
    assert "float32" in DTYPE_NAMES and "int64" in DTYPE_NAMES
    for name in DTYPE_NAMES:
        assert getattr(mnp, name) is getattr(np, name), name
    exported_types = {n for n in mnp.__all__ if isinstance(getattr(mnp, n), type)}
    assert exported_types == set(DTYPE_NAMES)


@pytest.mark.parametrize("name", SIZED)
def test_functions_take_the_dtype_names_on_every_backend(backend: Case, name: str) -> None:
    dtype = getattr(mnp, name)
    values = np.array([0.0, 1.0, 2.0])
    x = backend.array(values)
    want = values.astype(getattr(np, name))
    for got in (mnp.astype(x, dtype), mnp.asarray(x, dtype=dtype), mnp.zeros(3, dtype=dtype, like=x) + x * 0):
        got_np = multiad.to_numpy(mnp.astype(got, dtype))
        assert got_np.dtype == want.dtype
    np.testing.assert_array_equal(multiad.to_numpy(mnp.astype(x, dtype)), want)


def test_finfo_and_iinfo_read_every_frameworks_dtypes() -> None:
    torch = pytest.importorskip("torch")
    jnp = pytest.importorskip("jax.numpy")
    for spelling in (np.float32, "float32", np.dtype("float32"), torch.float32, jnp.float32, mnp.float32):
        assert mnp.finfo(spelling).eps == np.finfo(np.float32).eps
    assert mnp.finfo(torch.float64).tiny == np.finfo(np.float64).tiny
    assert mnp.finfo(float).eps == np.finfo(float).eps
    assert mnp.finfo(torch.bfloat16).eps == 2.0**-7  # bfloat16 keeps 8 significant bits
    for spelling in (np.int32, torch.int32, jnp.int32, "int32"):
        assert mnp.iinfo(spelling).max == np.iinfo(np.int32).max
    assert mnp.iinfo(torch.uint8).max == 255


def test_finfo_of_a_backends_array_dtype(backend: Case) -> None:
    x = backend.array([1.0, 2.0])
    assert mnp.finfo(x.dtype).eps == np.finfo(np.float64).eps
    assert mnp.finfo(mnp.astype(x, mnp.float32).dtype).eps == np.finfo(np.float32).eps
    assert mnp.iinfo(mnp.astype(x, mnp.int16).dtype).min == np.iinfo(np.int16).min


def test_finfo_and_iinfo_refuse_as_numpy() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        np.finfo(np.int64)
    with pytest.raises(ValueError, match=r"^mnp\.finfo: data type int64 not inexact"):
        mnp.finfo(torch.int64)
    with pytest.raises(ValueError):
        np.iinfo(np.float32)
    with pytest.raises(ValueError, match=r"^mnp\.iinfo: invalid integer data type .float32."):
        mnp.iinfo(torch.float32)
    with pytest.raises(TypeError, match=r"^mnp.finfo: give a dtype \(x.dtype\), not an array"):
        mnp.finfo(torch.ones(2))
    with pytest.raises(TypeError, match=r"^mnp\.finfo: .foo. is not a dtype"):
        mnp.finfo("foo")


@pytest.mark.parametrize("name", ["ndarray", "dtype", "errstate", "vectorize", "floating", "longdouble"])
def test_names_left_out_say_why(name: str) -> None:
    assert hasattr(np, name)
    with pytest.raises(AttributeError, match=f"has no attribute '{name}': .+"):
        getattr(mnp, name)
