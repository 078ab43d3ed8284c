"""The core's derived transforms (NOTE [Derivation table]) on real frameworks.

Each real backend is wrapped by ``multiad._restricted.restricted`` so that it declares only vjp
(optionally also jvp or vmap) and no native overrides; every transform then goes through the
core's derivations (jvp by double vjp, loop vmap, core chunking, Jacobians from a basis,
reverse-over-reverse Hessians) while the arithmetic stays the framework's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import assert_tree_close

import multiad
import multiad.numpy as mnp
from multiad._backend import Backend
from multiad._restricted import restricted

X = np.array([0.3, -1.2, 2.0])
Y = np.array([1.5, 0.4, -0.7])
XS = np.array([[0.3, -1.2, 2.0], [1.0, 0.5, -0.4], [-0.7, 0.2, 0.9], [0.05, 1.5, -1.1]])
W = np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.6]])
B = np.array([0.1, -0.3])

VARIANTS = [
    ("torch", {}),
    ("torch", {"jvp": True}),
    ("torch", {"vmap": True}),
    ("jax", {}),
    ("jax", {"jvp": True}),
    ("jax", {"vmap": True}),
    ("autograd", {}),
]


@pytest.fixture(params=VARIANTS, ids=[f"{n}-{'-'.join(k) or 'vjp'}" for n, k in VARIANTS])
def derived(request: pytest.FixtureRequest) -> Backend:
    name, flags = request.param
    with multiad.use_backend(name) as real:
        pass
    b = restricted(real, **flags)
    assert b.name == f"{name}[primitives]"
    assert not b.native and b.has_vjp
    assert b.has_jvp == bool(flags.get("jvp")) and b.has_vmap == bool(flags.get("vmap"))
    return b


def close(actual: Any, expected: Any, b: Backend) -> None:
    assert_tree_close(actual, expected, b.name)


def sin_x(x: Any) -> Any:
    return mnp.sum(mnp.sin(x) * x)


def sin_x_hess(x: np.ndarray) -> np.ndarray:
    return np.diag(2 * np.cos(x) - x * np.sin(x))


def square_prod(x: Any, y: Any) -> Any:
    return mnp.sum(x * x * y)


def predict(w: Any, b: Any, x: Any) -> Any:
    return mnp.tanh(mnp.matmul(w, x) + b)


def predict_dx(x: np.ndarray) -> np.ndarray:
    return (1.0 - np.tanh(W @ x + B) ** 2)[:, None] * W


def test_grad_and_vjp(derived: Backend) -> None:
    close(multiad.grad(sin_x, backend=derived)(X), np.sin(X) + X * np.cos(X), derived)
    out, vjp_fn = multiad.vjp(lambda x, y: x * y, X, Y, backend=derived)
    close(out, X * Y, derived)
    close(vjp_fn(np.ones(3)), (Y, X), derived)


def test_jvp_and_linearize(derived: Backend) -> None:
    u, v = np.array([0.2, 1.0, -0.3]), np.array([-1.0, 0.1, 2.0])
    out, tout = multiad.jvp(lambda x, y: x * y + mnp.sin(x), (X, Y), (u, v), backend=derived)
    close(out, X * Y + np.sin(X), derived)
    close(tout, u * (Y + np.cos(X)) + X * v, derived)
    _, tout, aux = multiad.jvp(lambda x: (mnp.exp(x), "a"), (X,), (u,), has_aux=True, backend=derived)
    assert aux == "a"
    close(tout, np.exp(X) * u, derived)
    _, jvp_fn = multiad.linearize(lambda x, y: x * y, X, Y, backend=derived)
    close(jvp_fn(u, v), u * Y + X * v, derived)


@pytest.mark.parametrize("chunk_size", [None, 3])
def test_vmap(derived: Backend, chunk_size: int | None) -> None:
    out = multiad.vmap(predict, in_dims=(None, None, 0), chunk_size=chunk_size, backend=derived)(W, B, XS)
    close(out, np.tanh(XS @ W.T + B), derived)
    s, d = multiad.vmap(lambda x: (mnp.sin(x), 2.0 * x), out_dims=(0, 1), backend=derived)(XS)
    close((s, d), (np.sin(XS), 2.0 * XS.T), derived)


@pytest.mark.parametrize("chunk_size", [None, 1, 4])
def test_jacobians(derived: Backend, chunk_size: int | None) -> None:
    for transform in (multiad.jacrev, multiad.jacfwd):
        jac = transform(predict, argnums=(1, 2), chunk_size=chunk_size, backend=derived)(W, B, X)
        s = 1.0 - np.tanh(W @ X + B) ** 2
        close(jac, (np.diag(s), predict_dx(X)), derived)
    for mode in ("auto", "fwd", "rev"):
        jac = multiad.jacobian(predict, argnums=2, mode=mode, backend=derived)
        close(jac(W, B, X), predict_dx(X), derived)
        close(jac(W, B, Y), predict_dx(Y), derived)


@pytest.mark.parametrize("chunk_size", [1, 3])
def test_batched_chunked_jacobian_of_an_unbatched_argument(derived: Backend, chunk_size: int) -> None:
    # Under vmap a chunk's rows carry the batch dimension, while the block for b (not batched)
    # is made without it: NOTE [Chunked Jacobians].
    s = 1.0 - np.tanh(XS @ W.T + B) ** 2
    expected = (np.stack([np.diag(r) for r in s]), np.stack([predict_dx(x) for x in XS]))
    for transform in (multiad.jacrev, multiad.jacfwd):
        jac = transform(predict, argnums=(1, 2), chunk_size=chunk_size)
        close(multiad.vmap(jac, in_dims=(None, None, 0), backend=derived)(W, B, XS), expected, derived)


def test_second_order(derived: Backend) -> None:
    close(multiad.hessian(sin_x, backend=derived)(X), sin_x_hess(X), derived)
    h = multiad.hessian(square_prod, argnums=(0, 1), backend=derived)(X, Y)
    close(h, ((np.diag(2 * Y), np.diag(2 * X)), (np.diag(2 * X), np.zeros((3, 3)))), derived)
    u, v = np.array([0.2, 1.0, -0.3]), np.array([-1.0, 0.1, 2.0])
    for transform in (multiad.hvp, multiad.vhp):
        close(transform(square_prod, (X, Y), (u, v), backend=derived), (2 * Y * u + 2 * X * v, 2 * X * u), derived)


def test_batched_jacobian_and_per_sample_gradients(derived: Backend) -> None:
    jac = multiad.vmap(multiad.jacrev(predict, argnums=2), in_dims=(None, None, 0), backend=derived)(W, B, XS)
    close(jac, np.stack([predict_dx(x) for x in XS]), derived)
    g = multiad.vmap(multiad.grad(sin_x), backend=derived)(XS)
    close(g, np.sin(XS) + XS * np.cos(XS), derived)


def test_restricted_refuses_backend_without_vjp() -> None:
    class ForwardOnly(Backend):
        name = "forward-only"
        has_jvp = True

    with pytest.raises(ValueError, match="has no vjp"):
        restricted(ForwardOnly())


def test_jacobian_auto_picks_forward_for_tall() -> None:
    """NOTE [Automatic mode]: on a backend with jvp but no vmap, reverse mode calls f once (one
    vjp) and forward mode once per input element (a jvp per basis vector, in a loop), so the
    number of calls tells which mode a later call of ``jacobian(mode="auto")`` took."""
    with multiad.use_backend("torch") as real:
        pass
    b = restricted(real, jvp=True)
    a = np.arange(10.0).reshape(5, 2) / 7.0
    calls: list[int] = []

    def counted(m: np.ndarray) -> Any:
        def f(x: Any) -> Any:
            calls.append(1)
            return mnp.sin(mnp.matmul(multiad.asarray(m, backend=b), x))

        return f

    x2, x5 = np.array([0.4, -0.9]), np.linspace(-1.0, 1.0, 5)
    for m, x, expected_calls in ((a, x2, len(x2)), (a.T, x5, 1)):  # tall: forward; wide: reverse
        jac = multiad.jacobian(counted(m), mode="auto", backend=b)
        close(jac(x), np.cos(m @ x)[:, None] * m, b)  # the first call learns the shapes in reverse mode
        calls.clear()
        close(jac(x), np.cos(m @ x)[:, None] * m, b)
        assert len(calls) == expected_calls
