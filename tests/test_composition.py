"""multiad's transforms inside and around the frameworks' own: jax.jit, jax.vmap, jax.grad,
torch.func and torch.compile, checked against closed forms (docs/migration.md documents them)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import central_gradient

import multiad
import multiad.numpy as mnp

W = np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.6]])
X = np.array([0.3, -1.2, 2.0])
XS = np.array([[0.3, -1.2, 2.0], [1.0, 0.5, -0.4]])


def loss(w: Any, x: Any) -> Any:
    return mnp.sum(mnp.tanh(w @ x) ** 2)


def loss_grad_x(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    t = np.tanh(w @ x)
    return w.T @ (2 * t * (1 - t**2))  # type: ignore[no-any-return]


def predict_hess(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    t = np.tanh(w @ x)
    return np.einsum("o,oi,oj->oij", -2 * t * (1 - t**2), w, w)


def keep_doubling(x: Any) -> Any:
    y = 2.0 * x
    while mnp.linalg.norm(y) < 1000.0:
        y = 2.0 * y
    return y


def close(a: Any, b: Any) -> None:
    np.testing.assert_allclose(multiad.to_numpy(a), b, rtol=1e-10, atol=1e-12)


def test_jax_jit_jax_vmap_and_jax_grad_around_multiad() -> None:
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    w, x, xs = jnp.asarray(W), jnp.asarray(X), jnp.asarray(XS)
    g = multiad.grad(loss, argnums=1)
    close(jax.jit(g)(w, x), loss_grad_x(W, X))
    close(jax.jit(multiad.hessian(lambda w, x: mnp.tanh(w @ x), argnums=1))(w, x), predict_hess(W, X))
    close(jax.vmap(g, in_axes=(None, 0))(w, xs), np.stack([loss_grad_x(W, r) for r in XS]))
    # jax.grad of a multiad gradient: d/dx sum(grad) = H @ 1, checked by central differences of the closed form.
    hv = jax.grad(lambda x: jnp.sum(g(w, x)))(x)
    fd = central_gradient(lambda v: loss_grad_x(W, v).sum(), X)
    np.testing.assert_allclose(np.asarray(hv), fd, rtol=1e-6)
    # and multiad around a jitted function
    close(multiad.grad(jax.jit(loss), argnums=1)(w, x), loss_grad_x(W, X))


def test_torch_func_around_and_inside_multiad() -> None:
    torch = pytest.importorskip("torch")
    w, x, xs = torch.tensor(W), torch.tensor(X), torch.tensor(XS)
    g = multiad.grad(loss, argnums=1)
    close(torch.func.vmap(g, in_dims=(None, 0))(w, xs), np.stack([loss_grad_x(W, r) for r in XS]))
    hv = torch.func.grad(lambda x: g(w, x).sum())(x)
    close(hv, torch.func.hessian(lambda x: loss(w, x))(x).sum(1).numpy())
    close(
        multiad.jacrev(torch.func.grad(loss, argnums=1), argnums=1)(w, x),
        torch.func.hessian(loss, argnums=1)(w, x).numpy(),
    )


def test_torch_compile_fullgraph_of_a_torch_function() -> None:
    torch = pytest.importorskip("torch")
    w, x = torch.tensor(W), torch.tensor(X)

    def torch_loss(w: Any, x: Any) -> Any:
        return torch.sum(torch.tanh(w @ x) ** 2)

    # From Dynamo's reset state: every transform object's call shares one code object, on which
    # Dynamo stops compiling after its recompile limit (8), as for torch.func's own transforms.
    torch._dynamo.reset()
    compiled = torch.compile(multiad.grad(torch_loss, argnums=1), backend="eager", fullgraph=True)
    close(compiled(w, x), loss_grad_x(W, X))


def test_data_dependent_while_under_jit_names_the_cause() -> None:
    jax = pytest.importorskip("jax")
    x = jax.numpy.asarray(np.array([0.3, -0.2, 0.5]))
    with pytest.raises(multiad.NonDifferentiableError) as info:
        jax.jit(multiad.jacrev(keep_doubling))(x)
    text = str(info.value)
    assert "an `if` or `while` in f branches on the value of a traced array" in text
    assert "jax.lax.while_loop" in text and "mnp.where" in text
    assert "write it with multiad.numpy" not in text
    # The same loop runs eagerly, where its values are concrete: the Jacobian is 2**k I.
    k = 1
    while np.linalg.norm(2.0**k * np.asarray(x)) < 1000.0:
        k += 1
    close(multiad.jacrev(keep_doubling)(x), 2.0**k * np.eye(3))


def test_fixed_iteration_count_runs_under_jit() -> None:
    jax = pytest.importorskip("jax")

    def doubled(x: Any) -> Any:
        y = 2.0 * x
        for _ in range(16):  # a count known when tracing, enough for this input
            y = mnp.where(mnp.linalg.norm(y) < 1000.0, 2.0 * y, y)
        return y

    x0 = np.array([0.3, -0.2, 0.5])
    k = 1
    while np.linalg.norm(2.0**k * x0) < 1000.0:
        k += 1
    x = jax.numpy.asarray(x0)
    close(jax.jit(multiad.jacrev(doubled))(x), 2.0**k * np.eye(3))
