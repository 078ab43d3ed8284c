"""Derivatives that are zero because a forward-mode tangent does not depend on the primal
(reverse mode over forward mode of a linear function) are ordinary arrays on every backend:
``numpy.asarray`` reads them and they equal the closed form (NOTE [ZeroTensors] in the torch
backend, where they were torch's immutable ZeroTensors and ``numpy.asarray`` raised)."""

from __future__ import annotations

from typing import Any

import numpy as np
from conftest import Case

import multiad
import multiad.numpy as mnp

RNG = np.random.default_rng(3)
X = RNG.standard_normal(3)
V = RNG.standard_normal(3)
U = RNG.standard_normal(3)


def lin(x: Any) -> Any:
    return mnp.multiply(x, 2.0)


def total(x: Any) -> Any:
    return mnp.sum(lin(x))


def tangent(x: Any) -> Any:
    return multiad.jvp(total, (x,), (V,))[1]


def read(x: Any) -> np.ndarray:
    out = np.asarray(x)
    assert out.dtype == np.float64
    return out


def test_jacrev_of_jacfwd_of_linear(ad_backend: Case) -> None:
    jac = multiad.jacrev(multiad.jacfwd(lin), backend=ad_backend.name)
    for _ in range(2):  # the second call may take the prepared path
        np.testing.assert_array_equal(read(jac(X)), np.zeros((3, 3, 3)))


def test_grad_of_tangent(ad_backend: Case) -> None:
    g = multiad.grad(tangent, backend=ad_backend.name)
    for _ in range(2):
        np.testing.assert_array_equal(read(g(X)), np.zeros(3))
    value, grad = multiad.value_and_grad(tangent, backend=ad_backend.name)(X)
    np.testing.assert_allclose(float(read(value)), 2.0 * V.sum(), rtol=1e-12)
    np.testing.assert_array_equal(read(grad), np.zeros(3))


def test_vjp_of_jvp(ad_backend: Case) -> None:
    def push(x: Any, v: Any) -> Any:
        return multiad.jvp(lin, (x,), (v,))[1]

    _, pull = multiad.vjp(push, X, V, backend=ad_backend.name)
    gx, gv = pull(U)
    np.testing.assert_array_equal(read(gx), np.zeros(3))
    np.testing.assert_allclose(read(gv), 2.0 * U, rtol=1e-12)
    jx, jv = multiad.jacrev(push, argnums=(0, 1), backend=ad_backend.name)(X, V)
    np.testing.assert_array_equal(read(jx), np.zeros((3, 3)))
    np.testing.assert_allclose(read(jv), 2.0 * np.eye(3), rtol=1e-12)


def test_vjp_of_jvp_one_primal(ad_backend: Case) -> None:
    # One primal and one output: vjp_fn's pullback of a bare cotangent (NOTE [One gradient
    # checked in the pullback's frame] in the torch backend), called more than once.
    _, pull = multiad.vjp(tangent, X, backend=ad_backend.name)
    for _ in range(2):
        (g,) = pull(np.ones(()))
        np.testing.assert_array_equal(read(g), np.zeros(3))
