"""A differentiated Python float is a float64 0-d array on every backend (NOTE [Python float
arguments] in multiad/_arrays.py): torch took its default float32, so ``grad(lambda z: z**2)(1.0
+ 1e-7)`` gave ``2.0000002384`` in float32 where the closed form is ``2.0000002``. Results are
compared with closed forms; JAX without x64 is in tests/test_jax_x64_warning.py."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad

X = 1.0 + 1e-7  # float32 rounds it to 1.00000012


def _f64(case: Case, out: Any, expected: float, order: int = 1) -> None:
    got = multiad.to_numpy(out)
    assert got.dtype == np.float64, (case.name, got.dtype)
    tol = case.tol(order) if case.name == "numpy" else {"rtol": 1e-13, "atol": 0.0}
    np.testing.assert_allclose(got, expected, **tol)


def test_f_sees_float64_and_grad_is_float64(backend: Case) -> None:
    seen = []

    def f(z: Any) -> Any:
        seen.append(str(z.dtype))
        return z**2

    _f64(backend, multiad.grad(f, backend=backend.name)(X), 2 * X)
    assert seen and all(s.endswith("float64") for s in seen), seen
    value, g = multiad.value_and_grad(lambda z: z**3, backend=backend.name)(X)
    _f64(backend, value, X**3)
    _f64(backend, g, 3 * X**2)


def test_python_floats_in_pytrees(backend: Case) -> None:
    g = multiad.grad(lambda t: t["a"] ** 2 * t["b"][0], backend=backend.name)({"a": X, "b": (3.0,)})
    _f64(backend, g["a"], 6 * X)
    _f64(backend, g["b"][0], X**2)


def test_python_float_beside_a_float32_array(backend: Case) -> None:
    y = np.array([1.5, 2.0], np.float32)
    gx, gy = multiad.grad(lambda z, v: z**2 * (v * v).sum(), argnums=(0, 1), backend=backend.name)(X, y)
    _f64(backend, gx, 2 * X * 6.25)
    assert multiad.to_numpy(gy).dtype == np.float32


def test_python_float_tangents_and_cotangents(backend: Case) -> None:
    out, t = multiad.jvp(lambda z: z**2, (X,), (1.0,), backend=backend.name)
    _f64(backend, out, X**2)
    _f64(backend, t, 2 * X)
    out, vjp_fn = multiad.vjp(lambda z: z**2, X, backend=backend.name)
    _f64(backend, out, X**2)
    _f64(backend, vjp_fn(1.0)[0], 2 * X)
    (hv,) = multiad.hvp(lambda z: z**3, (X,), (1.0,), backend=backend.name)
    _f64(backend, hv, 6 * X, order=2)
    (vh,) = multiad.vhp(lambda z: z**3, (X,), (1.0,), backend=backend.name)
    _f64(backend, vh, 6 * X, order=2)
    _f64(backend, multiad.hessian(lambda z: z**3, backend=backend.name)(X), 6 * X, order=2)
    _f64(backend, multiad.jacfwd(lambda z: z**2, backend=backend.name)(X), 2 * X)


@pytest.mark.parametrize("number", [1, True])
def test_python_ints_and_bools_stay_refused(backend: Case, number: Any) -> None:
    with pytest.raises(multiad.InvalidTypeError, match="derivatives need floating-point inputs"):
        multiad.grad(lambda z: z**2, backend=backend.name)(number)


def test_vmap_none_python_float_is_a_weak_scalar(backend: Case) -> None:
    # not differentiated, so not converted: it keeps the batched array's dtype, as numpy's x * 0.5
    for dtype in (np.float32, np.float64):
        a = np.array([1.0, 2.0], dtype)
        out = multiad.to_numpy(multiad.vmap(lambda v, s: v * s, in_dims=(0, None), backend=backend.name)(a, 0.5))
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, a * 0.5)


def test_asarray_of_a_python_float_is_float64(backend: Case) -> None:
    for x in (X, {"a": X}):
        got = multiad.asarray(x, backend=backend.name)
        leaf = got["a"] if isinstance(x, dict) else got
        assert isinstance(leaf, backend.array_type)
        _f64(backend, leaf, X)
    assert multiad.to_numpy(multiad.asarray(X, backend=backend.name, dtype="float32")).dtype == np.float32


def test_python_complex_is_complex128(backend: Case) -> None:
    # numpy's dtype for a Python complex, as a Python float is float64: torch's own conversion
    # gave complex64, rounding 0.1 + 1e-9j by 1.5e-9
    z = 0.1 + 1e-9j
    for got in (multiad.asarray(z, backend=backend.name), multiad.asarray({"a": z}, backend=backend.name)["a"]):
        host = multiad.to_numpy(got)
        assert host.dtype == np.complex128, (backend.name, host.dtype)
        assert complex(host) == z
    with pytest.raises(multiad.InvalidTypeError, match="complex128"):
        multiad.jvp(lambda v: v * 2, (X,), (z,), backend=backend.name)
