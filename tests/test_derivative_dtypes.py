"""A derivative with respect to an argument has that argument's dtype, whichever transform.

NOTE [Derivatives in their input's dtype]: with ``x`` a Python float (float32 on torch) and a
float64 constant in ``f``, ``jacfwd`` and ``jacobian`` in forward mode gave float64 blocks where
``grad`` and ``jacrev`` gave float32; JAX's and autograd's ``jacfwd`` did the same for a float32
input. The expected dtypes are the documented rule (docs/migration.md: a Python float becomes
the backend's default float dtype), the values closed forms.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np
import pytest
import torch
from conftest import Case

import multiad

C = np.float64(3.0)  # a float64 constant: f's output is float64


def f(x: Any) -> Any:
    return x * x * C  # d/dx = 6 x, d2/dx2 = 6


TRANSFORMS: dict[str, Callable[[Any, str], Any]] = {
    "grad": lambda g, b: multiad.grad(g, backend=b),
    "jacrev": lambda g, b: multiad.jacrev(g, backend=b),
    "jacfwd": lambda g, b: multiad.jacfwd(g, backend=b),
    "jacobian": lambda g, b: multiad.jacobian(g, backend=b),
    "jacobian fwd": lambda g, b: multiad.jacobian(g, mode="fwd", backend=b),
    "jacobian rev": lambda g, b: multiad.jacobian(g, mode="rev", backend=b),
}


def python_float_dtype(name: str) -> str:
    """The documented dtype of a Python float argument: the backend's default float dtype."""
    if name == "torch":
        return str(torch.get_default_dtype()).rsplit(".", 1)[-1]
    if name == "jax":
        return "float64" if jax.config.jax_enable_x64 else "float32"
    return "float64"


def _dtype(a: Any) -> str:
    return str(a.dtype).rsplit(".", 1)[-1]


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_python_float_argument(backend: Case, transform: str) -> None:
    d = TRANSFORMS[transform](f, backend.name)
    for _ in range(3):  # the first call and the prepared ones
        got = d(2.0)
        assert _dtype(got) == python_float_dtype(backend.name), transform
        np.testing.assert_allclose(float(multiad.to_numpy(got)), 12.0, rtol=1e-5)
    h = multiad.hessian(f, backend=backend.name)(2.0)
    assert _dtype(h) == python_float_dtype(backend.name)
    np.testing.assert_allclose(float(multiad.to_numpy(h)), 6.0, rtol=1e-3)


@pytest.mark.parametrize("transform", [t for t in TRANSFORMS if t != "grad"])
def test_float32_array_argument(backend: Case, transform: str) -> None:
    x = np.array([1.0, 2.0], np.float32)
    native = multiad.asarray(x, backend=backend.name)  # the framework's own array: the prepared calls
    d = TRANSFORMS[transform](f, backend.name)
    for arg in (x, native, native, native):
        got = d(arg)
        assert _dtype(got) == "float32", transform
        np.testing.assert_allclose(multiad.to_numpy(got), np.diag(6.0 * x.astype(np.float64)), rtol=1e-3, atol=1e-3)


def test_two_arguments_keep_their_own_dtypes(backend: Case) -> None:
    def g(x: Any, y: Any) -> Any:
        return x * y * C

    x, y = np.array([2.0], np.float32), np.array([5.0], np.float64)
    for transform in ("jacfwd", "jacrev"):
        jx, jy = getattr(multiad, transform)(g, argnums=(0, 1), backend=backend.name)(x, y)
        assert (_dtype(jx), _dtype(jy)) == ("float32", "float64"), transform
        np.testing.assert_allclose(multiad.to_numpy(jx), [[15.0]], rtol=1e-4)
        np.testing.assert_allclose(multiad.to_numpy(jy), [[6.0]], rtol=1e-4)
