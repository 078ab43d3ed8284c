"""A chunked vmap traced by jax.jit runs its chunks as one lax.fori_loop (NOTE [Rolled vmap
chunks] in multiad/_rolled.py): the values of jax.vmap and of the closed forms for every form of
in_dims, out_dims, pytree and unbatched argument, also under grad, jacrev and hessian; a program
whose size does not depend on ``n / chunk_size``; and XLA's buffer plan bounded by the chunk."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

RNG = np.random.default_rng(1)
N = 11
X = RNG.standard_normal((N, 3))
W = RNG.standard_normal((4, 3))
CHUNKS = [1, 2, 3, 4, 5, 10, 11, 40]  # dividing 11 or not, one chunk, larger than the batch


@pytest.fixture(autouse=True)
def _x64() -> Any:
    # float64, so that the closed forms compare at 1e-12
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


def _close(got: Any, want: Any) -> None:
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-13)


def f(x: Any, w: Any) -> Any:
    return jnp.tanh(w @ x)


@pytest.mark.parametrize("chunk", CHUNKS)
def test_one_array_with_an_unbatched_argument(chunk: int) -> None:
    g = jax.jit(multiad.vmap(f, in_dims=(0, None), chunk_size=chunk, backend="jax"))
    got = g(jnp.asarray(X), jnp.asarray(W))
    _close(got, np.tanh(X @ W.T))
    _close(got, jax.vmap(f, (0, None))(X, W))


@pytest.mark.parametrize("chunk", CHUNKS)
def test_batch_axes_other_than_the_first_and_out_dims(chunk: int) -> None:
    # x batched along its last axis, w along its first, the output's batch axis at 1
    def h(x: Any, w: Any) -> Any:
        return w @ x

    ws = RNG.standard_normal((N, 4, 3))
    g = jax.jit(multiad.vmap(h, in_dims=(-1, 0), out_dims=1, chunk_size=chunk, backend="jax"))
    got = g(jnp.asarray(X.T), jnp.asarray(ws))
    assert got.shape == (4, N)
    _close(got, np.einsum("nij,nj->in", ws, X))
    _close(got, jax.vmap(h, (-1, 0), 1)(X.T, ws))


@pytest.mark.parametrize("chunk", CHUNKS)
def test_pytree_arguments_outputs_and_out_dims(chunk: int) -> None:
    def h(d: Any, scale: Any) -> Any:
        y = d["x"] * d["s"] * scale
        return {"y": y, "n": (y**2).sum(), "m": jnp.outer(y, y)}

    s = RNG.standard_normal(N)
    arg = {"x": jnp.asarray(X.T), "s": jnp.asarray(s)}
    in_dims = ({"x": 1, "s": 0}, None)
    out_dims = {"y": 0, "n": 0, "m": 2}
    g = jax.jit(multiad.vmap(h, in_dims=in_dims, out_dims=out_dims, chunk_size=chunk, backend="jax"))
    got = g(arg, jnp.asarray(2.0))
    y = X * s[:, None] * 2.0
    _close(got["y"], y)
    _close(got["n"], (y**2).sum(1))
    _close(got["m"], np.einsum("ni,nj->ijn", y, y))
    ref = jax.vmap(h, in_dims, out_dims)(arg, 2.0)
    for k in ("y", "n", "m"):
        _close(got[k], ref[k])


@pytest.mark.parametrize("chunk", [3, 11, 40])
def test_tuple_outputs_integer_arguments_and_keywords(chunk: int) -> None:
    def h(x: Any, i: Any, power: int = 1) -> Any:
        return x[i] ** power, i * 2

    idx = np.arange(N) % 3
    g = jax.jit(multiad.vmap(lambda x, i: h(x, i, power=3), chunk_size=chunk, backend="jax"))
    a, b = g(jnp.asarray(X), jnp.asarray(idx))
    _close(a, X[np.arange(N), idx] ** 3)
    np.testing.assert_array_equal(np.asarray(b), 2 * idx)
    assert b.dtype == jnp.asarray(idx).dtype


@pytest.mark.parametrize("chunk", [1, 3, 4, 40])
def test_nested_under_grad_jacrev_and_hessian(chunk: int) -> None:
    def loss(x: Any) -> Any:
        return multiad.vmap(lambda r: jnp.sum(r**3), chunk_size=chunk, backend="jax")(x).sum()

    x = jnp.asarray(X)
    _close(jax.jit(multiad.grad(loss, backend="jax"))(x), 3 * X**2)
    _close(jax.jit(jax.grad(loss))(x), 3 * X**2)
    per_row = jax.jit(
        multiad.jacrev(multiad.vmap(f, in_dims=(0, None), chunk_size=chunk, backend="jax"), backend="jax")
    )
    jac = per_row(x, jnp.asarray(W))  # (N, 4, N, 3): nonzero where the rows agree
    want = np.zeros((N, 4, N, 3))
    for n in range(N):
        want[n, :, n, :] = (1 - np.tanh(W @ X[n]) ** 2)[:, None] * W
    _close(jac, want)
    hess = jax.jit(multiad.hessian(lambda v: loss(v.reshape(N, 3)), backend="jax"))(x.reshape(-1))
    _close(hess, np.diag(6 * X.reshape(-1)))


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


def _pytree(d: Any, w: Any) -> Any:
    y = jnp.tanh(w @ d["x"]) * d["s"]
    return {"y": y, "n": jnp.sum(y**2)}


FORMS: dict[str, Any] = {
    "array": lambda n, c: (
        multiad.vmap(f, in_dims=(0, None), chunk_size=c, backend="jax"),
        (jnp.ones((n, 3)), jnp.ones((4, 3))),
    ),
    "pytree": lambda n, c: (
        multiad.vmap(_pytree, in_dims=({"x": 1, "s": 0}, None), out_dims={"y": 1, "n": 0}, chunk_size=c, backend="jax"),
        ({"x": jnp.ones((3, n)), "s": jnp.ones(n)}, jnp.ones((4, 3))),
    ),
    "grad": lambda n, c: (
        jax.grad(lambda x, w: multiad.vmap(f, in_dims=(0, None), chunk_size=c, backend="jax")(x, w).sum()),
        (jnp.ones((n, 3)), jnp.ones((4, 3))),
    ),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_program_size_does_not_grow_with_the_number_of_chunks(form: str) -> None:
    def program(n: int, chunk: int) -> int:
        fn, args = FORMS[form](n, chunk)
        return _equations(jax.make_jaxpr(fn)(*args).jaxpr)

    sizes = {program(n, c) for n, c in [(20, 2), (200, 2), (203, 20)]}
    assert len(sizes) == 1, sizes  # 10, 100 and 11 chunks: the same program
    (size,) = sizes
    assert size < 200, size  # unrolled: 4 to 12 equations per chunk (401 to 1203 at 100 chunks)


def test_buffer_plan_holds_about_one_chunk_of_the_intermediates() -> None:
    # XLA's own plan (deterministic, not a timing): f makes an m by m intermediate per example,
    # the outputs are m per example. Unrolled, the plan held 101 chunks' intermediates at
    # n = 1000, chunks of 10 (jax.vmap unchunked: 200); in the loop, two.
    n, chunk, m = 1000, 10, 100

    def h(x: Any, w: Any) -> Any:
        return jnp.sin(jnp.tanh(jnp.outer(x, x)) @ w) @ w[0]

    x = jnp.ones((n, m), jnp.float32)
    w = jnp.ones((m, m), jnp.float32)
    g = multiad.vmap(h, in_dims=(0, None), chunk_size=chunk, backend="jax")
    plan = jax.jit(g).lower(x, w).compile().memory_analysis()
    if plan is None:
        pytest.skip("this jaxlib gives no memory analysis")
    assert plan.output_size_in_bytes == 4 * n * m
    ratio = plan.temp_size_in_bytes / (4 * chunk * m * m)
    assert ratio < 3, ratio


def test_only_traced_calls_take_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    # Outside a trace (and under an eager jax.vmap or grad) the chunks run one by one as before;
    # make_jaxpr and jax.jit take the loop.
    from multiad_jax import JaxBackend

    loops: list[int] = []
    original = JaxBackend.loop_chunks

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        loops.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(JaxBackend, "loop_chunks", counted)
    g = multiad.vmap(f, in_dims=(0, None), chunk_size=3, backend="jax")
    x, w = jnp.asarray(X), jnp.asarray(W)
    _close(g(x, w), np.tanh(X @ W.T))
    _close(jax.vmap(g, (0, None))(jnp.stack([x, x]), w)[1], np.tanh(X @ W.T))
    jax.grad(lambda x: g(x, w).sum())(x)
    assert not loops
    jaxpr = str(jax.make_jaxpr(g)(x, w))
    assert loops and ("while" in jaxpr or "scan" in jaxpr)


def test_default_read_chunk_slices_along_the_axis() -> None:
    from multiad_numpy import NumpyBackend

    a = np.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(multiad.Backend.read_chunk(NumpyBackend(), a, 2, 1, 2), a[:, :, 1:3])
    np.testing.assert_array_equal(multiad.Backend.read_chunk(NumpyBackend(), a, 0, 1, 1), a[1:2])
