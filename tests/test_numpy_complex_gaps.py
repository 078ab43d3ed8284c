"""numpy's answers where multiad.numpy raised on valid input: isclose/allclose of complex torch
tensors (torch's <= of a complex bound), interp of an integer or bool tensor with numpy xp/fp
(numpy's * of an array and a tensor: a bare TypeError), linalg.multi_dot of bool tensors
(torch's product has no bool kernel), nanmedian of complex numbers (numpy's quantile check
refused them) and argmax/argmin of complex JAX arrays (jax.numpy's TypeError). Each is
compared with numpy on the same values."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp


def _host(x: Any) -> Any:
    return multiad.to_numpy(x) if not isinstance(x, (bool, np.ndarray, np.generic)) else np.asarray(x)


@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
def test_isclose_of_complex_tensors(dtype: Any) -> None:
    torch = pytest.importorskip("torch")
    a = np.array([1 + 2j, 3 - 1j, 1j, np.nan * 1j, 5], dtype)
    b = np.array([1 + 2j + 1e-7, 3 - 1.1j, 1j + 1e-9j, np.nan * 1j, 5 + 1e-3j], dtype)
    ta, tb = torch.as_tensor(a), torch.as_tensor(b)
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.05, "atol": 1e-12}):
        np.testing.assert_array_equal(_host(mnp.isclose(ta, tb, **kw)), np.isclose(a, b, **kw))
        assert mnp.allclose(ta[:3], tb[:3], **kw) == np.allclose(a[:3], b[:3], **kw)
        assert mnp.allclose(ta, tb, **kw) == np.allclose(a, b, **kw)
    np.testing.assert_array_equal(_host(mnp.isclose(ta, b)), np.isclose(a, b))


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int32", "int64", "float32"])
def test_interp_of_an_integer_tensor_with_numpy_knots(dtype: str) -> None:
    torch = pytest.importorskip("torch")
    x = np.array([1, 0, 2, 1], dtype)
    xp, fp = np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 2.0])
    got = mnp.interp(torch.as_tensor(x), xp, fp)
    assert isinstance(got, torch.Tensor)
    np.testing.assert_array_equal(_host(got), np.interp(x, xp, fp))
    np.testing.assert_array_equal(_host(mnp.interp(torch.as_tensor(x), xp, torch.as_tensor(fp))), np.interp(x, xp, fp))


def test_multi_dot_of_bool_tensors() -> None:
    torch = pytest.importorskip("torch")
    m = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1]], bool)
    n = np.array([[0, 1, 0], [0, 0, 0], [1, 0, 1]], bool)
    v, w = np.array([True, False, False]), np.array([False, False, True])
    for arrays in ([m, n], [m, n, m], [v, m, n], [m, n, w], [v, m, n, w], [n, n, n, n]):
        got = mnp.linalg.multi_dot([torch.as_tensor(a) for a in arrays])
        want = np.linalg.multi_dot(arrays)
        assert got.dtype == torch.bool
        np.testing.assert_array_equal(_host(got), want)


def _complex_sample() -> np.ndarray:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 4, 5)) + 1j * rng.normal(size=(3, 4, 5))
    z[0, 1, 2] = complex(np.nan, 1)
    z[1, :, 3] = np.nan  # a slice of nan only
    z[2, 2, 2] = complex(1, np.nan)
    return z


def _native(lib: str, z: np.ndarray) -> Any:
    if lib == "numpy":
        return z
    return pytest.importorskip(lib + ".numpy" if lib == "jax" else lib).asarray(z)


@pytest.mark.parametrize("lib", ["numpy", "jax"])
@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
def test_nanmedian_of_complex_numbers(lib: str, dtype: Any) -> None:
    z = _complex_sample().astype(dtype)
    native = _native(lib, z)
    for axis in (None, 0, 1, 2, -1, (0, 2)):
        for keepdims in (False, True):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "All-NaN slice encountered"
                want = np.nanmedian(z, axis=axis, keepdims=keepdims)
            got = _host(mnp.nanmedian(native, axis=axis, keepdims=keepdims))
            assert got.shape == np.shape(want) and got.dtype == want.dtype, (axis, keepdims, got.shape, got.dtype)
            np.testing.assert_allclose(got, want, rtol=1e-15 if dtype == np.complex128 else 1e-6)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_of_complex_jax_arrays(name: str) -> None:
    jnp = pytest.importorskip("jax.numpy")
    rng = np.random.default_rng(1)
    for trial in range(30):  # small integers: many ties in the real parts
        z = rng.integers(-2, 3, size=(4, 5)) + 1j * rng.integers(-2, 3, size=(4, 5))
        if trial % 3 == 0:
            z[rng.integers(4), rng.integers(5)] = complex(np.nan, 1) if trial % 2 else complex(1, np.nan)
        for axis in (None, 0, 1, -1):
            for keepdims in (False, True):
                want = getattr(np, name)(z, axis=axis, keepdims=keepdims)
                got = _host(getattr(mnp, name)(jnp.asarray(z), axis=axis, keepdims=keepdims))
                assert got.shape == np.shape(want), (axis, keepdims)
                np.testing.assert_array_equal(got, want, err_msg=f"{z}, axis={axis}")
    np.testing.assert_array_equal(_host(getattr(mnp, name)(jnp.asarray([1.0, 3.0, 2.0]))), 1 if name == "argmax" else 0)
