"""Integers other than Python ints (numpy integers) as argnums, chunk_size, nondiff_argnums and
vmap axes: accepted as JAX accepts them (``operator.index``), booleans refused
(NOTE [Integers by __index__] in multiad/_flat.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp
from tests.conftest import Case

X = np.array([1.0, 2.0, 3.0])
Y = np.array([0.5, -1.0, 2.0])


def f2(x: Any, y: Any) -> Any:
    return mnp.sum(x * y**2)


def g2(x: Any, y: Any) -> Any:
    return x * y**2


@pytest.mark.parametrize("argnums", [np.int64(1), np.int32(1), np.uint8(1), np.int64(-1)])
def test_grad_numpy_int_argnums(backend: Case, argnums: Any) -> None:
    x, y = backend.array(X), backend.array(Y)
    grad = multiad.grad(f2, argnums=argnums, backend=backend.name)
    for _ in range(3):  # the general path, then the prepared one
        backend.close(grad(x, y), 2 * X * Y)
    value, g = multiad.value_and_grad(f2, argnums=argnums, backend=backend.name)(x, y)
    backend.close((value, g), (np.sum(X * Y**2), 2 * X * Y))


def test_grad_tuple_of_numpy_ints(backend: Case) -> None:
    x, y = backend.array(X), backend.array(Y)
    grad = multiad.grad(f2, argnums=(np.int64(0), np.int32(1)), backend=backend.name)
    for _ in range(3):
        backend.close(grad(x, y), (Y**2, 2 * X * Y))


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd", "jacobian"])
def test_jacobians_numpy_ints(backend: Case, transform: str) -> None:
    x, y = backend.array(X), backend.array(Y)
    jac = getattr(multiad, transform)(g2, argnums=np.int64(1), chunk_size=np.int64(2), backend=backend.name)
    for _ in range(3):
        backend.close(jac(x, y), np.diag(2 * X * Y))
    both = getattr(multiad, transform)(g2, argnums=(np.int64(0), 1), chunk_size=np.int16(1), backend=backend.name)
    backend.close(both(x, y), (np.diag(Y**2), np.diag(2 * X * Y)))


def test_hessian_numpy_ints(backend: Case) -> None:
    x, y = backend.array(X), backend.array(Y)
    hess = multiad.hessian(f2, argnums=np.int64(1), chunk_size=np.int64(2), backend=backend.name)
    for _ in range(3):
        backend.close(hess(x, y), np.diag(2 * X), order=2)


def test_vmap_numpy_int_axes(backend: Case) -> None:
    m, v = backend.array(np.arange(6.0).reshape(2, 3)), backend.array([2.0, -1.0])
    mapped = multiad.vmap(
        lambda a, b: a * b, in_dims=(np.int64(1), None), out_dims=np.int64(1), chunk_size=np.int64(2),
        backend=backend.name,
    )  # fmt: skip
    for _ in range(3):
        backend.close(mapped(m, v), np.arange(6.0).reshape(2, 3) * np.array([[2.0], [-1.0]]))
    tree = multiad.vmap(lambda d: d["a"] * 2.0, in_dims=({"a": np.int64(0)},), backend=backend.name)
    backend.close(tree({"a": backend.array(Y)}), 2 * Y)


def test_custom_vjp_numpy_int_nondiff_argnums(ad_backend: Case) -> None:
    def scale(k: float, x: Any) -> Any:
        return k * x

    f = multiad.custom_vjp(scale, nondiff_argnums=(np.int64(0),))
    f.defvjp(lambda k, x: (k * x, None), lambda k, res, g: (3.0 * g,))  # a rule that differs from k
    g = multiad.grad(lambda x: mnp.sum(f(2.0, x)), backend=ad_backend.name)(ad_backend.array(X))
    ad_backend.close(g, np.full(3, 3.0))


@pytest.mark.parametrize("bad", [np.True_, (0, np.True_), np.float64(1.0), np.array([0, 1])])
def test_argnums_refused(bad: Any) -> None:
    with pytest.raises(multiad.InvalidTypeError, match=r"^grad\(f2\): argnums must be an int or a non-empty tuple"):
        multiad.grad(f2, argnums=bad, backend="numpy")(X, Y)


def test_chunk_size_refused() -> None:
    with pytest.raises(
        multiad.InvalidArgumentError, match=r"^jacrev\(g2\): chunk_size must be None or a positive int, got 0"
    ):
        multiad.jacrev(g2, chunk_size=np.int64(0), backend="numpy")(X, Y)
    with pytest.raises(
        multiad.InvalidArgumentError, match=r"^vmap\(g2\): chunk_size must be None or a positive int, got np.True_"
    ):
        multiad.vmap(g2, chunk_size=np.True_, backend="numpy")(X, Y)
    with pytest.raises(
        multiad.InvalidTypeError, match=r"^vmap\(g2\): in_dims entries must be ints or None, got np.True_"
    ):
        multiad.vmap(g2, in_dims=(np.True_, 0), backend="numpy")(X, Y)


@pytest.mark.parametrize("argnums", [(0, 0), (np.int64(1), -1)])
def test_argnums_twice_refused(backend: Case, argnums: Any) -> None:
    # torch.func.grad refuses a repeated position; jax.grad fails inside with an unrelated TypeError
    with pytest.raises(multiad.InvalidArgumentError, match="names an argument twice; list each once"):
        multiad.grad(f2, argnums=argnums, backend=backend.name)(backend.array(X), backend.array(Y))
