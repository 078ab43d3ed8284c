"""``hessian`` of a float32 and a float64 argument gives block ``[i][j]`` in argument ``i``'s
dtype on every backend, by forward over reverse and by reverse over reverse alike (NOTE
[Hessian blocks in the row argument's dtype] in multiad/_api_jac.py): autograd gave
``[[f32, f64], [f32, f64]]``. Values against the closed form of ``sum(sin(a) * c**2)``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp

A = np.array([0.5, -1.0, 2.0], np.float32)
C = np.array([0.5, -1.0, 2.0])


@multiad.custom_vjp
def _sin(x: Any) -> Any:
    return mnp.sin(x)


_sin.defvjp(lambda x: (mnp.sin(x), x), lambda x, g: (g * mnp.cos(x),))


def _expected() -> list[list[np.ndarray]]:
    a, c = A.astype(np.float64), C
    cross = np.diag(2 * c * np.cos(a))
    return [[np.diag(-np.sin(a) * c**2), cross], [cross, np.diag(2 * np.sin(a))]]


def _check(H: Any, tol: dict[str, float]) -> None:
    expected = _expected()
    dtypes = [[str(multiad.to_numpy(H[i][j]).dtype) for j in range(2)] for i in range(2)]
    assert dtypes == [["float32", "float32"], ["float64", "float64"]]
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(multiad.to_numpy(H[i][j]), expected[i][j], **tol)


def test_hessian_blocks_take_the_row_arguments_dtype(backend: Case) -> None:
    H = multiad.hessian(lambda a, c: mnp.sum(mnp.sin(a) * c**2), argnums=(0, 1), backend=backend.name)(A, C)
    # float32 rounding of the first argument's gradient (and finite differences on numpy)
    _check(H, {"rtol": 2e-2, "atol": 2e-2} if backend.name == "numpy" else {"rtol": 1e-5, "atol": 1e-6})


@pytest.mark.parametrize("name", ["torch", "jax", "autograd"])
def test_hessian_through_custom_vjp_takes_the_row_arguments_dtype(name: str) -> None:
    # a custom_vjp function routes hessian to reverse over reverse on every backend
    H = multiad.hessian(lambda a, c: mnp.sum(_sin(a) * c**2), argnums=(0, 1), backend=name)(A, C)
    _check(H, {"rtol": 1e-5, "atol": 1e-6})
