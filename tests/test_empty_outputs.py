"""Functions with an output of size 0 (``diff`` along an axis of length 1, ``repeat`` by 0) beside
other outputs: every backend's vjp, jacrev and jacfwd give empty blocks of the right shapes and the
other outputs' closed-form derivatives (the numpy backend raised "cannot reshape array of size 0")."""

from __future__ import annotations

from typing import Any

import numpy as np
from conftest import Case

import multiad
import multiad.numpy as mnp

X = np.array([[0.3], [-1.2], [2.0]])


def f(x: Any) -> Any:
    return mnp.diff(x, axis=1), mnp.sin(x), mnp.repeat(x, 0, axis=0)


def sin_jacobian() -> np.ndarray:
    return np.diag(np.cos(X).ravel()).reshape(3, 1, 3, 1)


def test_vjp_with_an_empty_output(backend: Case) -> None:
    outs, pull = multiad.vjp(f, X, backend=backend.name)
    assert [np.shape(multiad.to_numpy(o)) for o in outs] == [(3, 0), (3, 1), (0, 1)]
    u = np.array([[1.0], [2.0], [-1.0]])
    (g,) = pull((np.zeros((3, 0)), u, np.zeros((0, 1))))
    np.testing.assert_allclose(multiad.to_numpy(g), np.cos(X) * u, **backend.tol())


def test_jacobians_with_an_empty_output(backend: Case) -> None:
    for jac in (multiad.jacrev, multiad.jacfwd):
        empty, middle, none = jac(f, backend=backend.name)(X)
        assert np.shape(multiad.to_numpy(empty)) == (3, 0, 3, 1)
        assert np.shape(multiad.to_numpy(none)) == (0, 1, 3, 1)
        np.testing.assert_allclose(multiad.to_numpy(middle), sin_jacobian(), **backend.tol())
