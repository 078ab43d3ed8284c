"""Chunked Jacobians traced by jax.jit run as one lax.fori_loop (NOTE [Rolled chunks] in
multiad/_rolled.py): the same values as JAX's own transforms and the closed forms, a program
whose size does not depend on ``n / chunk_size``, and XLA's buffer plan near one Jacobian."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

RNG = np.random.default_rng(0)
X = RNG.standard_normal(5)
Y = RNG.standard_normal((2, 3))
CHUNKS = [1, 2, 3, 4, 5, 7, 11, 40]  # dividing 5 or 11 or not, and larger than every leaf


def tree_f(x: Any, y: Any) -> Any:
    return {"p": x**2, "q": jnp.sin(y) * x.sum()}


def tree_jacobian(x: np.ndarray, y: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """d tree_f / d(x, y) in closed form."""
    dq_dy = (x.sum() * np.cos(y))[:, :, None, None] * np.eye(6).reshape(2, 3, 2, 3)
    return {
        "p": (np.diag(2 * x), np.zeros((5, 2, 3))),
        "q": (np.sin(y)[:, :, None] * np.ones(5), dq_dy),
    }


def scalar_g(x: Any, y: Any) -> Any:
    return (x**3).sum() + x.sum() * (y**2).sum()


def scalar_hessian(x: np.ndarray, y: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The Hessian of scalar_g in closed form, ((xx, xy), (yx, yy))."""
    xy = np.broadcast_to(2 * y, (5, 2, 3))
    yx = np.moveaxis(xy, 0, -1)
    yy = 2 * x.sum() * np.eye(6).reshape(2, 3, 2, 3)
    return (np.diag(6 * x), xy), (yx, yy)


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize("transform", ["jacrev", "jacfwd", "jacobian"])
def test_pytree_jacobian_under_jit_matches_closed_form_and_jax(transform: str, chunk: int) -> None:
    jac = getattr(multiad, transform)(tree_f, argnums=(0, 1), chunk_size=chunk, backend="jax")
    got = jax.jit(jac)(jnp.asarray(X), jnp.asarray(Y))
    want = tree_jacobian(X, Y)
    ref = getattr(jax, "jacrev" if transform == "jacobian" else transform)(tree_f, argnums=(0, 1))(X, Y)
    for k in ("p", "q"):
        for j in range(2):
            np.testing.assert_allclose(np.asarray(got[k][j]), want[k][j], rtol=1e-13, atol=1e-14)
            np.testing.assert_allclose(np.asarray(got[k][j]), np.asarray(ref[k][j]), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("chunk", [3, 5, 40])
@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
def test_dict_argument_and_tuple_output_under_jit(transform: str, chunk: int) -> None:
    def f(d: Any) -> Any:
        out = tree_f(d["a"], d["b"])
        return out["p"], out["q"]

    got = jax.jit(getattr(multiad, transform)(f, chunk_size=chunk, backend="jax"))({"a": X, "b": Y})
    want = tree_jacobian(X, Y)
    ref = getattr(jax, transform)(f)({"a": X, "b": Y})
    for k, name in enumerate(("p", "q")):
        for j, leaf in enumerate(("a", "b")):
            np.testing.assert_allclose(np.asarray(got[k][leaf]), want[name][j], rtol=1e-13, atol=1e-14)
            np.testing.assert_allclose(np.asarray(got[k][leaf]), np.asarray(ref[k][leaf]), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 5, 40])
@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
def test_one_argnum_with_aux_under_jit(transform: str, chunk: int) -> None:
    def f(w: Any, x: Any) -> Any:
        return jnp.tanh(w @ x), {"s": 2 * x.sum()}

    w = RNG.standard_normal((4, 5))
    jac, aux = jax.jit(getattr(multiad, transform)(f, argnums=1, has_aux=True, chunk_size=chunk, backend="jax"))(
        jnp.asarray(w), jnp.asarray(X)
    )
    want = (1 - np.tanh(w @ X) ** 2)[:, None] * w
    np.testing.assert_allclose(np.asarray(jac), want, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(float(aux["s"]), 2 * X.sum(), rtol=1e-14)


@pytest.mark.parametrize("chunk", [1, 2, 4, 5, 6, 11, 40])
def test_hessian_under_jit_matches_closed_form_and_jax(chunk: int) -> None:
    got = jax.jit(multiad.hessian(scalar_g, argnums=(0, 1), chunk_size=chunk, backend="jax"))(
        jnp.asarray(X), jnp.asarray(Y)
    )
    want = scalar_hessian(X, Y)
    ref = jax.hessian(scalar_g, argnums=(0, 1))(X, Y)
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(np.asarray(got[i][j]), want[i][j], rtol=1e-13, atol=1e-13)
            np.testing.assert_allclose(np.asarray(got[i][j]), np.asarray(ref[i][j]), rtol=1e-13, atol=1e-13)


def test_hessian_with_aux_under_jit() -> None:
    def g(x: Any, y: Any) -> Any:
        return scalar_g(x, y), {"n": jnp.sum(x**2)}

    (hess, aux) = jax.jit(multiad.hessian(g, argnums=(0, 1), has_aux=True, chunk_size=2, backend="jax"))(
        jnp.asarray(X), jnp.asarray(Y)
    )
    want = scalar_hessian(X, Y)
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(np.asarray(hess[i][j]), want[i][j], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(float(aux["n"]), (X**2).sum(), rtol=1e-14)


@pytest.mark.parametrize("chunk", [2, 3])
def test_hessian_of_a_vector_function_nests_the_loops(chunk: int) -> None:
    # The inner reverse-mode Jacobian is chunked too: a loop inside the outer loop's vmap.
    got = jax.jit(multiad.hessian(lambda x: x**3, chunk_size=chunk, backend="jax"))(jnp.asarray(X))
    want = np.zeros((5, 5, 5))
    for k in range(5):
        want[k, k, k] = 6 * X[k]
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-13, atol=1e-14)


def test_rolled_jacobian_under_vmap_and_grad() -> None:
    jac = multiad.jacrev(lambda x: x**3, chunk_size=2, backend="jax")
    xs = RNG.standard_normal((3, 5))
    got = jax.jit(jax.vmap(jac))(jnp.asarray(xs))
    np.testing.assert_allclose(np.asarray(got), np.stack([np.diag(3 * x**2) for x in xs]), rtol=1e-13)
    # d/dx sum(diag(3 x**2)) = 6 x, through the loop's own derivative
    g = jax.jit(jax.grad(lambda x: multiad.jacfwd(lambda x: x**3, chunk_size=2, backend="jax")(x).sum()))
    np.testing.assert_allclose(np.asarray(g(jnp.asarray(X))), 6 * X, rtol=1e-13)


def _equations(jaxpr: Any) -> int:
    """The equations of ``jaxpr``, those of the loop bodies (and any other inner jaxpr) included."""
    count = 0
    for eqn in jaxpr.eqns:
        count += 1
        for value in eqn.params.values():
            for inner in value if isinstance(value, (tuple, list)) else (value,):
                inner = getattr(inner, "jaxpr", inner)  # a ClosedJaxpr's own
                if hasattr(inner, "eqns"):
                    count += _equations(inner)
    return count


def _program_size(fn: Any, *args: Any) -> int:
    return _equations(jax.make_jaxpr(fn)(*args).jaxpr)


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd", "hessian"])
def test_program_size_does_not_grow_with_the_number_of_chunks(transform: str) -> None:
    def program(n: int, chunk: int) -> int:
        w = jnp.ones((n, n), jnp.float32) / n
        t = getattr(multiad, transform)
        f = (lambda x: jnp.sum(jnp.tanh(w @ x) ** 2)) if transform == "hessian" else (lambda x: jnp.tanh(w @ x))
        return _program_size(t(f, chunk_size=chunk, backend="jax"), jnp.ones(n, jnp.float32))

    sizes = {program(n, c) for n, c in [(20, 2), (200, 2), (200, 20), (203, 20)]}
    assert len(sizes) == 1, sizes  # 10, 100, 10 and 11 chunks: the same program
    (size,) = sizes
    assert size < 150, size  # unrolled: 10 to 12 equations per chunk (1000 to 1200 at 100 chunks)


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd", "jacobian", "hessian"])
def test_buffer_plan_holds_about_one_jacobian(transform: str) -> None:
    # XLA's own plan (deterministic, not a timing): output plus temporaries, over the Jacobian's
    # bytes. Unrolled chunks planned 2.0 to 2.1 Jacobians here, as the unchunked jax.jacrev
    # does; in the loop, the Jacobian, one chunk of the basis and one chunk of results (1.10).
    n, chunk = 1000, 50
    x = jnp.ones(n, jnp.float32)
    w = jnp.ones((n, n), jnp.float32) / n
    f = (lambda x, w: jnp.sum(jnp.tanh(w @ x) ** 2)) if transform == "hessian" else (lambda x, w: jnp.tanh(w @ x))
    jac = getattr(multiad, transform)(f, chunk_size=chunk, backend="jax")
    plan = jax.jit(jac).lower(x, w).compile().memory_analysis()
    if plan is None:
        pytest.skip("this jaxlib gives no memory analysis")
    ratio = (plan.output_size_in_bytes + plan.temp_size_in_bytes) / (4 * n * n)
    assert ratio < 1.3, ratio


def test_only_traced_calls_take_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    # Outside a trace (and under an eager vmap) the basis is concrete and the chunks are pushed
    # one by one as before; make_jaxpr and jax.jit trace the basis and take the loop.
    from multiad_jax import JaxBackend

    loops: list[int] = []
    original = JaxBackend.loop_chunks

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        loops.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(JaxBackend, "loop_chunks", counted)
    jac = multiad.jacrev(lambda x: x**3, chunk_size=2, backend="jax")
    np.testing.assert_allclose(np.asarray(jac(jnp.asarray(X))), np.diag(3 * X**2), rtol=1e-13)
    jax.vmap(jac)(jnp.asarray(np.stack([X, X])))
    assert not loops
    jaxpr = str(jax.make_jaxpr(jac)(jnp.asarray(X)))
    assert loops and ("while" in jaxpr or "scan" in jaxpr)


def test_default_loop_chunks_is_a_python_loop_over_same_shaped_chunks() -> None:
    # What a third-party backend declaring rolls_chunks gets without a loop of its own: every
    # chunk has `chunk` rows of the identity, the last one ending at `total`.
    from multiad_numpy import NumpyBackend

    seen: list[tuple[int, np.ndarray]] = []

    def body(start: Any, rows: Any, carry: int) -> int:
        seen.append((start, np.asarray(rows)))
        return carry + 1

    b = NumpyBackend()
    assert multiad.Backend.loop_chunks(b, 5, 2, body, 0, np.zeros(5)) == 3
    assert [s for s, _ in seen] == [0, 2, 3]
    for start, rows in seen:
        np.testing.assert_array_equal(rows, np.eye(5)[start : start + 2])
    seen.clear()
    assert multiad.Backend.loop_chunks(b, 5, 2, body, 0, np.zeros(5), first=1) == 2
    assert [s for s, _ in seen] == [2, 3]
