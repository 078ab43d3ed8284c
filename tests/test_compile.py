"""Under ``torch.compile`` and ``jax.jit``, multiad's transforms trace to the framework's own program.

NOTE [Compiled regions] (multiad/_select.py): the per-context selection is kept out of traced
code, so ``torch.compile(multiad.X, fullgraph=True)`` traces one graph. These tests count the
operations of the traced graph (``torch._dynamo.testing.CompileCounter``) and the equations of
the jaxpr, against the same computation written with torch.func and jax, and check the values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad

torch = pytest.importorskip("torch")
dynamo_testing = pytest.importorskip("torch._dynamo.testing")
if not hasattr(torch, "compile"):
    pytest.skip("torch.compile is not available", allow_module_level=True)

tf = torch.func


def _f(x: Any) -> Any:
    return torch.sin(x).sum()


def _g(x: Any) -> Any:
    return torch.sin(x) * x[0]


#: transform -> (multiad's version, torch.func's, whether multiad's derivation may use fewer ops).
TORCH_PAIRS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any], bool]] = {
    "grad": (lambda x: multiad.grad(_f)(x), lambda x: tf.grad(_f)(x), False),
    "value_and_grad": (lambda x: multiad.value_and_grad(_f)(x)[1], lambda x: tf.grad_and_value(_f)(x)[0], False),
    "jacrev": (lambda x: multiad.jacrev(_g)(x), lambda x: tf.jacrev(_g)(x), False),
    # jacfwd and hessian: multiad's vmap of jvp over the basis traces a few ops fewer than torch.func's.
    "jacfwd": (lambda x: multiad.jacfwd(_g)(x), lambda x: tf.jacfwd(_g)(x), True),
    "jacobian": (lambda x: multiad.jacobian(_g, mode="rev")(x), lambda x: tf.jacrev(_g)(x), False),
    "hessian": (lambda x: multiad.hessian(_f)(x), lambda x: tf.hessian(_f)(x), True),
    "hvp": (lambda x: multiad.hvp(_f, (x,), (x,))[0], lambda x: tf.jvp(tf.grad(_f), (x,), (x,))[1], False),
    "vhp": (lambda x: multiad.vhp(_f, (x,), (x,))[0], lambda x: tf.vjp(tf.grad(_f), x)[1](x)[0], False),
    "vjp": (lambda x: multiad.vjp(_g, x)[1](x)[0], lambda x: tf.vjp(_g, x)[1](x)[0], False),
    "jvp": (lambda x: multiad.jvp(_g, (x,), (x,))[1], lambda x: tf.jvp(_g, (x,), (x,))[1], False),
    "vmap": (lambda x: multiad.vmap(_g)(x[None]), lambda x: tf.vmap(_g)(x[None]), False),
}


def _compiled(fn: Callable[[Any], Any], x: Any) -> tuple[Any, int, int]:
    torch._dynamo.reset()
    counter = dynamo_testing.CompileCounter()
    out = torch.compile(fn, backend=counter, fullgraph=True)(x)
    return out, counter.frame_count, counter.op_count


@pytest.mark.parametrize("name", sorted(TORCH_PAIRS))
def test_torch_compile_fullgraph_traces_the_same_program(name: str) -> None:
    ours, theirs, fewer_allowed = TORCH_PAIRS[name]
    x = torch.linspace(-1.0, 1.0, 5, dtype=torch.float64)
    got, frames, ops = _compiled(ours, x)
    want, want_frames, want_ops = _compiled(theirs, x)
    assert frames == want_frames == 1
    if fewer_allowed:
        assert 0 < ops <= want_ops, (ops, want_ops)
    else:
        assert ops == want_ops, (ops, want_ops)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)


def _f2(a: Any, b: Any) -> Any:
    return (torch.sin(a).sum() * b).sum()


def _with_aux(a: Any) -> Any:
    return torch.sin(a) * a[0], {"total": a.sum()}


def _scalar_with_aux(a: Any) -> Any:
    return torch.sin(a).sum(), {"cos": a.cos()}


def _of_tree(p: Any) -> Any:
    return torch.sin(p["a"]).sum() + (p["b"] ** 2).sum()


def _scaled(p: Any) -> Any:
    return torch.sin(p["a"]) * p["b"].sum()


def _nested(p: Any) -> Any:
    return torch.sin(p["a"]) * p["b"]["w"].sum()


def _to_nested(x: Any) -> Any:
    return {"s": torch.sin(x), "t": {"u": x * 2.0, "w": x[:2]}}


def _to_tree(a: Any, b: Any) -> Any:
    return {"u": torch.sin(a), "v": a[:3] * b}


def _linearized(f: Callable[..., Any], *xs: Any) -> Callable[..., Any]:
    """torch.func's jvp at ``xs``, the pushforward a traced linearize runs (NOTE [Linearize under
    a compiler])."""
    return lambda *ts: tf.jvp(f, xs, ts)[1]


def _reused(pair: tuple[Any, Callable[..., Any]], x: Any) -> Any:
    return pair[1](x), pair[1](2 * x)  # a vjp_fn called twice inside the compiled function


_X = (torch.linspace(-1.0, 1.0, 5, dtype=torch.float64),)
_XY = (*_X, torch.linspace(0.5, 2.0, 3, dtype=torch.float64))
_P = ({"a": _XY[0], "b": _XY[1]},)
_ONE = torch.tensor(1.0, dtype=torch.float64)

#: form -> (multiad's version, torch.func's, arguments, the op count multiad's may differ by:
#: 0 equal, "fewer" at most torch.func's).
TORCH_FORMS: dict[str, tuple[Callable[..., Any], Callable[..., Any], tuple[Any, ...], int | str]] = {
    "grad has_aux": (
        lambda x: multiad.grad(_scalar_with_aux, has_aux=True)(x),
        lambda x: tf.grad(_scalar_with_aux, has_aux=True)(x),
        _X,
        0,
    ),
    "grad argnums tuple": (
        lambda x, y: multiad.grad(_f2, argnums=(0, 1))(x, y),
        lambda x, y: tf.grad(_f2, argnums=(0, 1))(x, y),
        _XY,
        0,
    ),
    # multiad wraps only the differentiated argument for torch.func (one op fewer).
    "grad argnums 1": (
        lambda x, y: multiad.grad(_f2, argnums=1)(x, y),
        lambda x, y: tf.grad(_f2, argnums=1)(x, y),
        _XY,
        "fewer",
    ),
    "grad pytree": (lambda p: multiad.grad(_of_tree)(p), lambda p: tf.grad(_of_tree)(p), _P, 0),
    "value_and_grad has_aux": (
        lambda x: multiad.value_and_grad(_scalar_with_aux, has_aux=True)(x),
        lambda x: tf.grad_and_value(_scalar_with_aux, has_aux=True)(x)[::-1],
        _X,
        0,
    ),
    "vjp has_aux": (
        lambda x: multiad.vjp(_with_aux, x, has_aux=True)[1](x),
        lambda x: tf.vjp(_with_aux, x, has_aux=True)[1](x),
        _X,
        0,
    ),
    "vjp tree output": (
        lambda x, y: multiad.vjp(_to_tree, x, y)[1]({"u": x, "v": y}),
        lambda x, y: tf.vjp(_to_tree, x, y)[1]({"u": x, "v": y}),
        _XY,
        0,
    ),
    "vjp tree input": (
        lambda p: multiad.vjp(_of_tree, p)[1](_ONE),
        lambda p: tf.vjp(_of_tree, p)[1](_ONE),
        _P,
        0,
    ),
    "vjp_fn called twice": (
        lambda x: _reused(multiad.vjp(torch.sin, x), x),
        lambda x: _reused(tf.vjp(torch.sin, x), x),
        _X,
        0,
    ),
    "jvp tuples": (
        lambda x, y: multiad.jvp(_to_tree, (x, y), (x, y)),
        lambda x, y: tf.jvp(_to_tree, (x, y), (x, y)),
        _XY,
        0,
    ),
    "jvp has_aux": (
        lambda x: multiad.jvp(_with_aux, (x,), (x,), has_aux=True),
        lambda x: tf.jvp(_with_aux, (x,), (x,), has_aux=True),
        _X,
        0,
    ),
    "jvp pytree": (lambda p: multiad.jvp(_of_tree, (p,), (p,)), lambda p: tf.jvp(_of_tree, (p,), (p,)), _P, 0),
    # linearize: f once more, for out (NOTE [Linearize under a compiler]): sin, and _to_tree's 3 ops.
    "linearize": (lambda x: multiad.linearize(torch.sin, x)[1](x), lambda x: _linearized(torch.sin, x)(x), _X, 1),
    "linearize tuples": (
        lambda x, y: multiad.linearize(_to_tree, x, y)[1](x, y),
        lambda x, y: _linearized(_to_tree, x, y)(x, y),
        _XY,
        3,
    ),
    "hvp tuples": (
        lambda x, y: multiad.hvp(_f2, (x, y), (x, y)),
        lambda x, y: tf.jvp(tf.grad(_f2, argnums=(0, 1)), (x, y), (x, y))[1],
        _XY,
        0,
    ),
    "vhp tuples": (
        lambda x, y: multiad.vhp(_f2, (x, y), (x, y)),
        lambda x, y: tf.vjp(tf.grad(_f2, argnums=(0, 1)), x, y)[1]((x, y)),
        _XY,
        0,
    ),
    "hvp pytree": (
        lambda p: multiad.hvp(_of_tree, (p,), (p,)),
        lambda p: tf.jvp(tf.grad(_of_tree), (p,), (p,))[1],
        _P,
        0,
    ),
    "vhp pytree": (lambda p: multiad.vhp(_of_tree, (p,), (p,)), lambda p: tf.vjp(tf.grad(_of_tree), p)[1](p), _P, 0),
    "jacrev argnums tuple": (
        lambda x, y: multiad.jacrev(_to_tree, argnums=(0, 1))(x, y),
        lambda x, y: tf.jacrev(_to_tree, argnums=(0, 1))(x, y),
        _XY,
        0,
    ),
    "jacrev has_aux": (
        lambda x: multiad.jacrev(_with_aux, has_aux=True)(x),
        lambda x: tf.jacrev(_with_aux, has_aux=True)(x),
        _X,
        0,
    ),
    "jacrev pytree": (lambda p: multiad.jacrev(_of_tree)(p), lambda p: tf.jacrev(_of_tree)(p), _P, 0),
    "jacfwd argnums tuple": (
        lambda x, y: multiad.jacfwd(_to_tree, argnums=(0, 1))(x, y),
        lambda x, y: tf.jacfwd(_to_tree, argnums=(0, 1))(x, y),
        _XY,
        "fewer",
    ),
    "jacfwd has_aux": (
        lambda x: multiad.jacfwd(_with_aux, has_aux=True)(x),
        lambda x: tf.jacfwd(_with_aux, has_aux=True)(x),
        _X,
        "fewer",
    ),
    "hessian argnums tuple": (
        lambda x, y: multiad.hessian(_f2, argnums=(0, 1))(x, y),
        lambda x, y: tf.hessian(_f2, argnums=(0, 1))(x, y),
        _XY,
        "fewer",
    ),
    "hessian pytree": (lambda p: multiad.hessian(_of_tree)(p), lambda p: tf.hessian(_of_tree)(p), _P, "fewer"),
    # NOTE [Automatic mode]: f evaluated once more for its output size (5 ops here), dead code
    # to the compiler.
    "jacobian auto pytree": (lambda p: multiad.jacobian(_of_tree)(p), lambda p: tf.jacrev(_of_tree)(p), _P, 5),
    "vmap in_dims": (
        lambda x, y: multiad.vmap(lambda a, b: a * b.sum(), in_dims=(0, None))(x[:, None], y),
        lambda x, y: tf.vmap(lambda a, b: a * b.sum(), in_dims=(0, None))(x[:, None], y),
        _XY,
        0,
    ),
    # A dict in in_dims and out_dims: their entries were checked with optree calls the compiler
    # cannot trace (NOTE [Axes of a prefix under a compiler] in multiad/_tree.py).
    "vmap dict in_dims": (
        lambda p: multiad.vmap(_scaled, in_dims=({"a": 0, "b": None},))(p),
        lambda p: tf.vmap(_scaled, in_dims=({"a": 0, "b": None},))(p),
        ({"a": torch.stack([_XY[0], 2 * _XY[0]]), "b": _XY[1]},),
        0,
    ),
    "vmap dict out_dims": (
        lambda p: multiad.vmap(_to_tree, in_dims=(0, None), out_dims={"u": 1, "v": 0})(*p),
        lambda p: tf.vmap(_to_tree, in_dims=(0, None), out_dims={"u": 1, "v": 0})(*p),
        ((torch.stack([_XY[0], 2 * _XY[0]]), _XY[1]),),
        1,  # multiad moves the batch axis of "u" after torch.func's vmap: one transpose
    ),
    # One int standing for a dict nested in the argument or output (NOTE [Prefixes walked by path
    # under a compiler]): the compiler's copy of optree failed with "length mismatch".
    "vmap int for a nested dict in in_dims": (
        lambda p: multiad.vmap(_nested, in_dims=({"a": 0, "b": 0},))(p),
        lambda p: tf.vmap(_nested, in_dims=({"a": 0, "b": 0},))(p),
        ({"a": torch.stack([_XY[0], 2 * _XY[0]]), "b": {"w": torch.stack([_XY[0], -_XY[0]])}},),
        0,
    ),
    "vmap int for a nested dict in out_dims": (
        lambda x: multiad.vmap(_to_nested, out_dims={"s": 0, "t": 1})(x),
        lambda x: tf.vmap(_to_nested, out_dims={"s": 0, "t": 1})(x),
        (torch.stack([_XY[0], 2 * _XY[0]]),),
        2,  # multiad moves the batch axis of the two leaves of "t" after torch.func's vmap
    ),
    "vmap chunk_size": (
        lambda x: multiad.vmap(torch.sin, chunk_size=2)(x),
        lambda x: tf.vmap(torch.sin, chunk_size=2)(x),
        _X,
        0,
    ),
    "grad of grad": (
        lambda x: multiad.grad(lambda a: multiad.grad(lambda v: torch.sin(v).sum())(a).sum())(x),
        lambda x: tf.grad(lambda a: tf.grad(lambda v: torch.sin(v).sum())(a).sum())(x),
        _X,
        0,
    ),
}


@pytest.mark.parametrize("form", sorted(TORCH_FORMS))
def test_torch_compile_fullgraph_of_the_forms_users_write(form: str) -> None:
    ours, theirs, args, extra = TORCH_FORMS[form]
    leaves = torch.utils._pytree.tree_leaves
    results = []
    for fn in (ours, theirs):
        torch._dynamo.reset()
        counter = dynamo_testing.CompileCounter()
        results.append((torch.compile(fn, backend=counter, fullgraph=True)(*args), counter))
    (got, mine), (want, ref) = results
    assert mine.frame_count == ref.frame_count == 1
    if extra == "fewer":
        assert 0 < mine.op_count <= ref.op_count, (mine.op_count, ref.op_count)
    else:
        assert mine.op_count == ref.op_count + extra, (mine.op_count, ref.op_count)
    assert len(leaves(got)) == len(leaves(want))
    for g, w in zip(leaves(got), leaves(want)):
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_torch_compile_linearize_and_auto_jacobian_trace_one_graph() -> None:
    """linearize evaluates f once more than jvp, and jacobian(mode="auto") once more than the
    mode it picks, on its first call for a shape (NOTE [Automatic mode]); both trace one graph."""
    x = torch.linspace(-1.0, 1.0, 5, dtype=torch.float64)
    ref = tf.jacrev(_g)(x)
    got, frames, _ = _compiled(lambda x: multiad.linearize(_g, x)[1](x), x)
    assert frames == 1
    np.testing.assert_allclose(got.numpy(), (ref @ x).numpy(), rtol=1e-12)
    got, frames, _ = _compiled(lambda x: multiad.jacobian(_g)(x), x)
    assert frames == 1
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-12)


@pytest.mark.parametrize("backend", ["aot_eager", "eager"])
def test_torch_compile_of_linearize_returning_jvp_fn(backend: str) -> None:
    # NOTE [Linearize under a compiler]: jvp_fn returned from the compiled function held the
    # trace's wrapped tensors, which aot_eager could not make outputs (BackendCompilerFailed).
    x = torch.linspace(-1.0, 1.0, 5, dtype=torch.float64)
    v = torch.linspace(0.5, 2.0, 5, dtype=torch.float64)
    torch._dynamo.reset()
    out, jvp_fn = torch.compile(lambda z: multiad.linearize(torch.sin, z), backend=backend, fullgraph=True)(x)
    np.testing.assert_allclose(out.numpy(), np.sin(x.numpy()), rtol=1e-12)
    for t in (v, -3 * v):
        np.testing.assert_allclose(jvp_fn(t).numpy(), np.cos(x.numpy()) * t.numpy(), rtol=1e-12)


def test_torch_compile_of_auto_jacobian_after_eager_calls_of_a_pytree_function() -> None:
    # NOTE [Automatic mode]: the eager call caches its choice under a key holding the pytree's
    # structure; the compiled call neither reads nor writes that cache.
    def f(p: Any) -> Any:
        return torch.sin(p["a"]) * p["b"].sum()

    p = {"a": torch.linspace(-1.0, 1.0, 3, dtype=torch.float64), "b": torch.ones(2, dtype=torch.float64)}
    want = {
        "a": np.diag(2 * np.cos(np.linspace(-1.0, 1.0, 3))),
        "b": np.sin(np.linspace(-1.0, 1.0, 3))[:, None] * np.ones(2),
    }
    jac = multiad.jacobian(f)
    torch._dynamo.reset()  # transform objects share one code object: from below Dynamo's recompile limit
    for call in (jac, torch.compile(jac, backend=dynamo_testing.CompileCounter(), fullgraph=True)):
        got = call(p)
        for k in want:
            np.testing.assert_allclose(got[k].numpy(), want[k], rtol=1e-12, atol=1e-12)


def test_torch_compile_of_the_core_array_operations_warns_nothing() -> None:
    # NOTE [Operations looked up by type] (multiad/_ops.py): the core's reshape, transpose and
    # concatenate are looked up by the array's type, not through autoray's lru_cache, which
    # Dynamo traces with a UserWarning.
    import warnings

    x = torch.linspace(-1.0, 1.0, 5, dtype=torch.float64)
    multiad.hessian(_f, chunk_size=2)(x)  # eager calls first, as usual
    multiad.jacfwd(_g)(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        _compiled(lambda x: multiad.jacfwd(_g)(x), x)
        _compiled(lambda x: multiad.hessian(_f, chunk_size=2)(x), x)


def test_use_backend_outside_a_compiled_call_still_applies_eagerly() -> None:
    x = torch.ones(3, dtype=torch.float64)
    compiled = torch.compile(lambda x: multiad.grad(_f)(x), backend="eager", fullgraph=True)
    with multiad.use_backend("torch"):
        g = compiled(x)
        assert multiad.get_backend().name == "torch"
    np.testing.assert_allclose(g.numpy(), np.cos(np.ones(3)), rtol=1e-12)


def _jax_pairs() -> dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]]:
    import jax
    import jax.numpy as jnp

    def f(x: Any) -> Any:
        return jnp.sum(jnp.sin(x))

    def g(x: Any) -> Any:
        return jnp.sin(x) * x[0]

    return {
        "grad": (lambda x: multiad.grad(f)(x), lambda x: jax.grad(f)(x)),
        "value_and_grad": (lambda x: multiad.value_and_grad(f)(x)[1], lambda x: jax.value_and_grad(f)(x)[1]),
        "jacrev": (lambda x: multiad.jacrev(g)(x), lambda x: jax.jacrev(g)(x)),
        "jacfwd": (lambda x: multiad.jacfwd(g)(x), lambda x: jax.jacfwd(g)(x)),
        "hessian": (lambda x: multiad.hessian(f)(x), lambda x: jax.hessian(f)(x)),
        "hvp": (lambda x: multiad.hvp(f, (x,), (x,))[0], lambda x: jax.jvp(jax.grad(f), (x,), (x,))[1]),
        "vhp": (lambda x: multiad.vhp(f, (x,), (x,))[0], lambda x: jax.vjp(jax.grad(f), x)[1](x)[0]),
        "vjp": (lambda x: multiad.vjp(g, x)[1](x)[0], lambda x: jax.vjp(g, x)[1](x)[0]),
        "jvp": (lambda x: multiad.jvp(g, (x,), (x,))[1], lambda x: jax.jvp(g, (x,), (x,))[1]),
        "linearize": (lambda x: multiad.linearize(g, x)[1](x), lambda x: jax.linearize(g, x)[1](x)),
        "vmap": (lambda x: multiad.vmap(g)(x[None]), lambda x: jax.vmap(g)(x[None])),
    }


JAX_NAMES = ("grad", "value_and_grad", "jacrev", "jacfwd", "hessian", "hvp", "vhp", "vjp", "jvp", "linearize", "vmap")


@pytest.mark.parametrize("name", JAX_NAMES)
def test_jax_jit_traces_the_same_jaxpr(name: str) -> None:
    jax = pytest.importorskip("jax")
    ours, theirs = _jax_pairs()[name]
    x = jax.numpy.linspace(-1.0, 1.0, 5)
    assert len(jax.make_jaxpr(ours)(x).eqns) == len(jax.make_jaxpr(theirs)(x).eqns)
    np.testing.assert_allclose(np.asarray(jax.jit(ours)(x)), np.asarray(theirs(x)), rtol=1e-12)


def _jax_forms() -> dict[str, tuple[Callable[..., Any], Callable[..., Any], tuple[Any, ...]]]:
    import jax
    import jax.numpy as jnp

    def f2(a: Any, b: Any) -> Any:
        return (jnp.sin(a).sum() * b).sum()

    def with_aux(a: Any) -> Any:
        return jnp.sin(a) * a[0], {"total": a.sum()}

    def scalar_with_aux(a: Any) -> Any:
        return jnp.sin(a).sum(), {"cos": jnp.cos(a)}

    def of_tree(p: Any) -> Any:
        return jnp.sin(p["a"]).sum() + (p["b"] ** 2).sum()

    def to_tree(a: Any, b: Any) -> Any:
        return {"u": jnp.sin(a), "v": a[:3] * b}

    x, y = jnp.linspace(-1.0, 1.0, 5), jnp.linspace(0.5, 2.0, 3)
    xy, p = (x, y), ({"a": x, "b": y},)
    m, j = multiad, jax
    return {
        "grad has_aux": (
            lambda x: m.grad(scalar_with_aux, has_aux=True)(x),
            j.grad(scalar_with_aux, has_aux=True),
            (x,),
        ),
        "grad argnums tuple": (lambda x, y: m.grad(f2, argnums=(0, 1))(x, y), j.grad(f2, argnums=(0, 1)), xy),
        "grad pytree": (lambda p: m.grad(of_tree)(p), j.grad(of_tree), p),
        "value_and_grad has_aux": (
            lambda x: m.value_and_grad(scalar_with_aux, has_aux=True)(x),
            j.value_and_grad(scalar_with_aux, has_aux=True),
            (x,),
        ),
        "vjp has_aux": (
            lambda x: m.vjp(with_aux, x, has_aux=True)[1](x),
            lambda x: j.vjp(with_aux, x, has_aux=True)[1](x),
            (x,),
        ),
        "vjp tree output": (
            lambda x, y: m.vjp(to_tree, x, y)[1]({"u": x, "v": y}),
            lambda x, y: j.vjp(to_tree, x, y)[1]({"u": x, "v": y}),
            xy,
        ),
        "vjp_fn called twice": (
            lambda x: (lambda pb: (pb(x), pb(2 * x)))(m.vjp(jnp.sin, x)[1]),
            lambda x: (lambda pb: (pb(x), pb(2 * x)))(j.vjp(jnp.sin, x)[1]),
            (x,),
        ),
        "jvp tuples": (lambda x, y: m.jvp(to_tree, (x, y), (x, y)), lambda x, y: j.jvp(to_tree, (x, y), (x, y)), xy),
        "jvp has_aux": (
            lambda x: m.jvp(with_aux, (x,), (x,), has_aux=True),
            lambda x: j.jvp(with_aux, (x,), (x,), has_aux=True),
            (x,),
        ),
        "linearize tuples": (
            lambda x, y: m.linearize(to_tree, x, y)[1](x, y),
            lambda x, y: j.linearize(to_tree, x, y)[1](x, y),
            xy,
        ),
        "hvp tuples": (
            lambda x, y: m.hvp(f2, (x, y), (x, y)),
            lambda x, y: j.jvp(j.grad(f2, argnums=(0, 1)), (x, y), (x, y))[1],
            xy,
        ),
        "vhp tuples": (
            lambda x, y: m.vhp(f2, (x, y), (x, y)),
            lambda x, y: j.vjp(j.grad(f2, argnums=(0, 1)), x, y)[1]((x, y)),
            xy,
        ),
        "hvp pytree": (lambda p: m.hvp(of_tree, (p,), (p,)), lambda p: j.jvp(j.grad(of_tree), (p,), (p,))[1], p),
        "vhp pytree": (lambda p: m.vhp(of_tree, (p,), (p,)), lambda p: j.vjp(j.grad(of_tree), p)[1](p), p),
        "jacrev argnums tuple": (
            lambda x, y: m.jacrev(to_tree, argnums=(0, 1))(x, y),
            j.jacrev(to_tree, argnums=(0, 1)),
            xy,
        ),
        "jacrev has_aux": (lambda x: m.jacrev(with_aux, has_aux=True)(x), j.jacrev(with_aux, has_aux=True), (x,)),
        "jacfwd argnums tuple": (
            lambda x, y: m.jacfwd(to_tree, argnums=(0, 1))(x, y),
            j.jacfwd(to_tree, argnums=(0, 1)),
            xy,
        ),
        "jacfwd pytree": (lambda p: m.jacfwd(of_tree)(p), j.jacfwd(of_tree), p),
        "hessian argnums tuple": (lambda x, y: m.hessian(f2, argnums=(0, 1))(x, y), j.hessian(f2, argnums=(0, 1)), xy),
        "hessian has_aux": (
            lambda x: m.hessian(scalar_with_aux, has_aux=True)(x),
            j.hessian(scalar_with_aux, has_aux=True),
            (x,),
        ),
        "vmap in_dims": (
            lambda x, y: m.vmap(lambda a, b: a * b.sum(), in_dims=(0, None))(x[:, None], y),
            lambda x, y: j.vmap(lambda a, b: a * b.sum(), in_axes=(0, None))(x[:, None], y),
            xy,
        ),
    }


JAX_FORMS = (
    "grad has_aux", "grad argnums tuple", "grad pytree", "value_and_grad has_aux", "vjp has_aux", "vjp tree output",
    "vjp_fn called twice", "jvp tuples", "jvp has_aux", "linearize tuples", "hvp tuples", "vhp tuples", "hvp pytree",
    "vhp pytree", "jacrev argnums tuple", "jacrev has_aux", "jacfwd argnums tuple", "jacfwd pytree",
    "hessian argnums tuple", "hessian has_aux", "vmap in_dims",
)  # fmt: skip


@pytest.mark.parametrize("form", JAX_FORMS)
def test_jax_jit_of_the_forms_users_write_traces_the_same_jaxpr(form: str) -> None:
    jax = pytest.importorskip("jax")
    ours, theirs, args = _jax_forms()[form]
    assert len(jax.make_jaxpr(ours)(*args).eqns) == len(jax.make_jaxpr(theirs)(*args).eqns)
    got, want = jax.tree_util.tree_leaves(jax.jit(ours)(*args)), jax.tree_util.tree_leaves(theirs(*args))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["jacrev", "jacfwd", "hessian"])
def test_chunked_jax_jacobians_eager_and_under_jit(name: str) -> None:
    # NOTE [Chunked Jacobians]: the blocks are written chunk by chunk; eager JAX donates the
    # block to each write (NOTE [Writing into a JAX array]); under jax.jit the chunks are one
    # lax.fori_loop writing into the blocks it carries (NOTE [Rolled chunks]).
    jax = pytest.importorskip("jax")
    jnp = jax.numpy

    def f(v: Any) -> Any:
        return jnp.sum(jnp.sin(v)) if name == "hessian" else jnp.sin(v)

    x = np.linspace(-1.0, 1.0, 5)
    expected = np.diag(-np.sin(x)) if name == "hessian" else np.diag(np.cos(x))
    jx = jnp.asarray(x, dtype=jnp.float32)
    for fn in (getattr(multiad, name)(f, chunk_size=2), jax.jit(getattr(multiad, name)(f, chunk_size=2))):
        for _ in range(2):  # a second call: nothing the first call donated is used again
            np.testing.assert_allclose(np.asarray(fn(jx)), expected, rtol=1e-6, atol=1e-6)


def test_torch_compile_of_a_multiad_numpy_function_traces_the_same_program() -> None:
    # NOTE [Dtypes of compiled calls]: numpy's dtype answers enter the program as constants.
    import multiad.numpy as mnp

    for dtype in (torch.float64, torch.float32):
        x = torch.linspace(-1.0, 1.0, 5, dtype=dtype)
        got, frames, ops = _compiled(lambda x: multiad.grad(lambda v: mnp.sum(mnp.sin(v) ** 2))(x), x)
        _, _, want_ops = _compiled(lambda x: tf.grad(lambda v: (torch.sin(v) ** 2).sum())(x), x)
        assert (frames, ops) == (1, want_ops)
        assert got.dtype == dtype
        xs = np.linspace(-1.0, 1.0, 5)
        np.testing.assert_allclose(got.numpy(), 2 * np.sin(xs) * np.cos(xs), rtol=1e-5, atol=1e-6)


def _chunked_jacfwd(f: Callable[[Any], Any], chunk_size: int) -> Callable[[Any], Any]:
    """torch.func.jacfwd (which has no chunk_size) with its basis chunked as torch.func.jacrev
    chunks its own: zeros with one diagonal set per chunk, the chunks' results joined once."""

    def jac(x: Any) -> Any:
        n, parts = x.numel(), []
        for start in range(0, n, chunk_size):
            k = min(chunk_size, n - start)
            basis = x.new_zeros(k, n)
            basis.diagonal(start).fill_(1)
            parts.append(tf.vmap(lambda t: tf.jvp(f, (x,), (t,))[1])(basis.view(k, *x.shape)))
        return torch.cat(parts, 0).movedim(0, -1)

    return jac


def _traced_ops(fn: Callable[[Any], Any], x: Any) -> tuple[Any, dict[str, int]]:
    """``fn(x)`` compiled with fullgraph=True, and its traced graphs' operations by name (with
    ``"graphs"``, their number). A functorch transform's bookkeeping calls count as operations,
    as ``CompileCounter`` counts them."""
    names: dict[str, int] = {"graphs": 0}

    def backend(gm: Any, _: Any) -> Any:
        names["graphs"] += 1
        for node in gm.graph.nodes:
            if node.op in ("call_function", "call_method"):
                name = (
                    node.target if isinstance(node.target, str) else getattr(node.target, "__name__", str(node.target))
                )
                names[name] = names.get(name, 0) + 1
        return gm.forward

    torch._dynamo.reset()
    return torch.compile(fn, backend=backend, fullgraph=True)(x), names


#: chunked transform -> (multiad's version, torch.func's with the same chunk_size).
CHUNKED_PAIRS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "jacrev": (lambda x: multiad.jacrev(_g, chunk_size=2)(x), lambda x: tf.jacrev(_g, chunk_size=2)(x)),
    "jacfwd": (lambda x: multiad.jacfwd(_g, chunk_size=2)(x), lambda x: _chunked_jacfwd(_g, 2)(x)),
    "jacobian-rev": (
        lambda x: multiad.jacobian(_g, mode="rev", chunk_size=2)(x),
        lambda x: tf.jacrev(_g, chunk_size=2)(x),
    ),
    "jacobian-fwd": (
        lambda x: multiad.jacobian(_g, mode="fwd", chunk_size=2)(x),
        lambda x: _chunked_jacfwd(_g, 2)(x),
    ),
    "hessian": (
        lambda x: multiad.hessian(_f, chunk_size=2)(x),
        lambda x: _chunked_jacfwd(tf.jacrev(_f, chunk_size=2), 2)(x),
    ),
}


@pytest.mark.parametrize("name", sorted(CHUNKED_PAIRS))
def test_torch_compile_of_chunked_jacobians_traces_torch_funcs_program(name: str) -> None:
    # NOTE [Chunked Jacobians under a compiler]: no preallocated block while traced; torch.func's
    # own chunking (5 inputs in chunks of 2, 2 and 1), operation for operation, except for views:
    # multiad does not reshape a basis chunk whose shape is final already, and moves the columns
    # of a nested Jacobian with permute where the reference uses movedim.
    ours, theirs = CHUNKED_PAIRS[name]
    x = torch.linspace(-1.0, 1.0, 5, dtype=torch.float64)
    got, mine = _traced_ops(ours, x)
    _, ref = _traced_ops(theirs, x)
    assert mine.pop("graphs") == ref.pop("graphs") == 1
    views = ("view", "reshape", "permute", "movedim")
    assert sum(mine.values()) <= sum(ref.values()), (mine, ref)
    assert {k: n for k, n in mine.items() if k not in views} == {k: n for k, n in ref.items() if k not in views}
    xs = np.linspace(-1.0, 1.0, 5)
    if name == "hessian":
        want = np.diag(-np.sin(xs))
    else:  # d/dx_j sin(x_i) x_0
        want = np.diag(np.cos(xs) * xs[0])
        want[:, 0] += np.sin(xs)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours(x).numpy(), want, rtol=1e-12, atol=1e-12)  # eager: written chunk by chunk


@pytest.mark.parametrize("name", ["jacrev", "jacfwd", "hessian"])
def test_torch_compile_of_chunked_jacobians_of_several_leaves(name: str) -> None:
    # Chunks that straddle leaves (sizes 3 and 2, chunks of 2), outputs of two leaves.
    def f(a: Any, b: Any) -> Any:
        return {"s": torch.sin(a) * b[0], "t": (a[:2] * b).sum()}

    def scalar(a: Any, b: Any) -> Any:
        return (torch.sin(a) * b[0]).sum() + (a[:2] * b).sum()

    a = torch.tensor([0.3, -0.5, 0.9], dtype=torch.float64)
    b = torch.tensor([1.5, -0.7], dtype=torch.float64)
    if name == "hessian":

        def ours(a: Any, b: Any) -> Any:
            return multiad.hessian(scalar, argnums=(0, 1), chunk_size=2)(a, b)

        want = tf.hessian(scalar, argnums=(0, 1))(a, b)
    else:

        def ours(a: Any, b: Any) -> Any:
            return getattr(multiad, name)(f, argnums=(0, 1), chunk_size=2)(a, b)

        want = getattr(tf, name)(f, argnums=(0, 1))(a, b)
    torch._dynamo.reset()
    counter = dynamo_testing.CompileCounter()
    got = torch.compile(ours, backend=counter, fullgraph=True)(a, b)
    assert counter.frame_count == 1
    for g, w in zip(torch.utils._pytree.tree_leaves(got), torch.utils._pytree.tree_leaves(want)):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12, atol=1e-12)
    for g, w in zip(torch.utils._pytree.tree_leaves(ours(a, b)), torch.utils._pytree.tree_leaves(want)):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12, atol=1e-12)


def _runs_in_a_fresh_process(code: str) -> None:
    """Runs ``code`` in a new interpreter with this one's path and no MULTIAD_BACKEND; it must print ok."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.pop("MULTIAD_BACKEND", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]


def test_torch_compile_of_the_first_multiad_call_in_a_process() -> None:
    # NOTE [First use under a compiler]: a fresh process whose first multiad call is traced.
    code = (
        "import numpy as np, torch, multiad, multiad.numpy as mnp\n"
        "x = torch.linspace(-1.0, 1.0, 5, dtype=torch.float64)\n"
        "g = torch.compile(multiad.grad(lambda v: mnp.sum(mnp.sin(v))), fullgraph=True, backend='eager')(x)\n"
        "np.testing.assert_allclose(g.numpy(), np.cos(np.linspace(-1.0, 1.0, 5)), rtol=1e-12)\n"
        "print('ok')\n"
    )
    _runs_in_a_fresh_process(code)


@pytest.mark.parametrize("first", ["traced", "eager"])
def test_torch_compile_of_the_first_multiad_call_with_a_graph_break(first: str) -> None:
    # NOTE [First use traced twice]: Dynamo traces the frame again after the graph break; the
    # first use, run during the first pass, had changed what the second saw, which raised
    # SpeculationLogDivergence (the case "eager" makes the first call outside the compiler).
    code = (
        "import numpy as np, torch, multiad, multiad.numpy as mnp\n"
        "x = torch.linspace(-1.0, 1.0, 5, dtype=torch.float64)\n"
        "f = lambda v: mnp.sum(mnp.exp(mnp.sin(v)))\n"
        f"if {first == 'eager'}: multiad.grad(f)(x)\n"
        "def h(v):\n"
        "    g = multiad.grad(f)(v)\n"
        "    torch._dynamo.graph_break()\n"
        "    return 2 * g\n"
        "for _ in range(2):\n"
        "    g = torch.compile(h, backend='eager')(x).numpy()\n"
        "    np.testing.assert_allclose(g, 2 * np.cos(x.numpy()) * np.exp(np.sin(x.numpy())), rtol=1e-12)\n"
        "multiad.grad(f)(x)\n"
        "print('ok')\n"
    )
    _runs_in_a_fresh_process(code)


def test_torch_compile_when_torch_is_imported_after_the_first_multiad_call() -> None:
    # NOTE [First use under a compiler]: the first use loaded only numpy's and autograd's
    # backends; torch's, loaded by its compiler probe outside the trace, still traces one graph.
    code = (
        "import numpy as np, multiad\n"
        "multiad.grad(lambda v: (v ** 2).sum(), backend='numpy')(np.ones(2))\n"
        "import torch\n"
        "x = torch.linspace(-1.0, 1.0, 5, dtype=torch.float64)\n"
        "g = torch.compile(multiad.grad(lambda v: torch.sin(v).sum()), fullgraph=True, backend='eager')(x)\n"
        "np.testing.assert_allclose(g.numpy(), np.cos(np.linspace(-1.0, 1.0, 5)), rtol=1e-12)\n"
        "print('ok')\n"
    )
    _runs_in_a_fresh_process(code)


@pytest.mark.parametrize("first", ["traced", "compiled"])
def test_torch_compile_of_numpy_results_when_the_guard_is_installed_after_dynamo_starts(first: str) -> None:
    # NOTE [Guard installed after Dynamo's tables]: the torch backend loaded while Dynamo traces
    # (numpy selected, case "traced"), or after an earlier torch.compile (case "compiled"), made
    # Dynamo's conversion of mnp.eye's numpy result and the Tensor.numpy guard call each other
    # until a RecursionError. The guard must still raise afterwards, outside the compiler.
    code = (
        "import numpy as np, torch, multiad, multiad.numpy as mnp\n"
        f"if {first == 'compiled'}:\n"
        "    torch.compile(lambda v: v.sin(), backend='eager')(torch.ones(2))\n"
        "    multiad.asarray(np.ones(2), backend='torch')\n"
        "multiad.set_backend('numpy')\n"
        "f = torch.compile(lambda x: mnp.sum(mnp.eye(3) * x), backend='eager')\n"
        "for _ in range(2):\n"
        "    assert float(f(torch.ones(3, 3))) == 3.0\n"
        "x = torch.linspace(-1.0, 1.0, 5, dtype=torch.float64)\n"
        "try:\n"
        "    multiad.grad(lambda v: torch.tensor(v.sum().item()) * v.sum(), backend='torch')(x)\n"
        "except multiad.NonDifferentiableError as e:\n"
        "    assert 'Tensor.item()' in str(e), e\n"
        "else:\n"
        "    raise AssertionError('Tensor.item() of a differentiated tensor did not raise')\n"
        "print('ok')\n"
    )
    _runs_in_a_fresh_process(code)


MNP_WITH_AXES: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "sum axis": (lambda a: _mnp().sum(a, axis=0), lambda a: np.sum(a, axis=0)),
    "mean axis keepdims": (lambda a: _mnp().mean(a, axis=-1, keepdims=True), lambda a: np.mean(a, -1, keepdims=True)),
    "max axes": (lambda a: _mnp().max(a, axis=(0, 1)), lambda a: np.max(a, axis=(0, 1))),
    "std axis": (lambda a: _mnp().std(a, axis=1), lambda a: np.std(a, axis=1)),
    "var ddof": (lambda a: _mnp().var(a, ddof=1), lambda a: np.var(a, ddof=1)),
    "median": (lambda a: _mnp().median(a, axis=0), lambda a: np.median(a, axis=0)),
    "clip": (lambda a: _mnp().clip(a, -0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5)),
    "median axes": (lambda a: _mnp().median(a, axis=(0, 1)), lambda a: np.median(a, axis=(0, 1))),
    "concatenate": (lambda a: _mnp().concatenate([a, 2 * a], axis=1), lambda a: np.concatenate([a, 2 * a], axis=1)),
    "stack": (lambda a: _mnp().stack([a, a], axis=-1), lambda a: np.stack([a, a], axis=-1)),
    "average of weights": (lambda a: _mnp().average(a, weights=a * a), lambda a: np.average(a, weights=a * a)),
    "grad of a reduction": (
        multiad.grad(lambda a: _mnp().sum(_mnp().sum(a**2, axis=0) ** 2), backend="torch"),
        lambda a: 4 * a * np.sum(a**2, axis=0),
    ),
}


def _mnp() -> Any:
    import multiad.numpy as mnp

    return mnp


@pytest.mark.parametrize("name", sorted(MNP_WITH_AXES))
def test_torch_compile_fullgraph_of_multiad_numpy_with_axes(name: str) -> None:
    # np.ndim, np.prod, normalize_axis_tuple, np.concatenate of empty arrays (for the joined
    # dtype) and a value check of take's indices broke the graph: "torch.* op returned
    # non-Tensor" for every reduction given an axis.
    ours, reference = MNP_WITH_AXES[name]
    a = np.arange(12.0).reshape(3, 4) / 7.0 - 0.8
    got, frames, _ = _compiled(ours, torch.from_numpy(a))
    assert frames == 1
    np.testing.assert_allclose(got.detach().numpy(), reference(a), rtol=1e-12, atol=1e-12)


#: form -> (the compiled call of x, its closed form of x as numpy), for the test below.
_ONCE_FORMS = {
    "grad multiad.numpy": (
        "lambda x: multiad.grad(lambda v: mnp.sum(mnp.sin(v) ** 2))(x)",
        "lambda x: np.sin(2 * x)",
    ),
    "jacobian of a dict output": (
        "lambda x: multiad.jacobian(lambda v: {'a': torch.sin(v), 'b': v[:2] * 2})(x)['b']",
        "lambda x: 2 * np.eye(2, 5)",
    ),
    "hessian chunk_size": (
        "lambda x: multiad.hessian(lambda v: (torch.sin(v) ** 2).sum(), chunk_size=2)(x)",
        "lambda x: np.diag(2 * np.cos(2 * x))",
    ),
    "grad of a dict": (
        "lambda x: multiad.grad(lambda p: (torch.sin(p['a']) * p['b']).sum())({'a': x, 'b': x + 1})['a']",
        "lambda x: np.cos(x) * (x + 1)",
    ),
    "vmap out_dims": (
        "lambda x: multiad.vmap(torch.sin, out_dims=1)(x[None])",
        "lambda x: np.sin(x)[:, None]",
    ),
}


@pytest.mark.parametrize("form", sorted(_ONCE_FORMS))
def test_torch_compile_traces_a_transform_once_in_a_fresh_process(form: str) -> None:
    # NOTE [Tables a trace reads and does not fill] in multiad/_ops.py: the first trace of a
    # process found entries of multiad's tables missing and added them, which failed its own guard
    # and traced the second call again (two frames, where torch.func's transforms have one).
    call, closed = _ONCE_FORMS[form]
    code = (
        "import numpy as np, torch, multiad, multiad.numpy as mnp\n"
        "from torch._dynamo.testing import CompileCounter\n"
        "counter = CompileCounter()\n"
        f"compiled = torch.compile({call}, backend=counter, fullgraph=True)\n"
        "for k in range(1, 4):\n"
        "    x = k * torch.linspace(-1.0, 1.0, 5, dtype=torch.float64)\n"
        f"    np.testing.assert_allclose(compiled(x).numpy(), ({closed})(x.numpy()), rtol=1e-12, atol=1e-12)\n"
        "assert counter.frame_count == 1, counter.frame_count\n"
        "print('ok')\n"
    )
    _runs_in_a_fresh_process(code)


def _printing_total(v: Any) -> Any:
    print("f runs")  # a graph break
    return torch.sin(v).sum()


def _printing_sin(v: Any) -> Any:
    print("f runs")  # a graph break
    return torch.sin(v)


_V5 = torch.linspace(0.5, -0.7, 5, dtype=torch.float64)
#: transform -> (multiad's call of x, its closed form of x as numpy), f breaking the graph.
_BREAKING: dict[str, tuple[Callable[[Any], Any], Callable[[np.ndarray], Any]]] = {
    "grad": (lambda x: multiad.grad(_printing_total)(x), np.cos),
    "value_and_grad": (lambda x: multiad.value_and_grad(_printing_total)(x)[1], np.cos),
    "hessian": (lambda x: multiad.hessian(_printing_total)(x), lambda x: np.diag(-np.sin(x))),
    "vjp": (lambda x: multiad.vjp(_printing_sin, x)[1](_V5)[0], lambda x: np.cos(x) * _V5.numpy()),
    "jacrev": (lambda x: multiad.jacrev(_printing_sin)(x), lambda x: np.diag(np.cos(x))),
    "hvp": (lambda x: multiad.hvp(_printing_total, (x,), (_V5,))[0], lambda x: -np.sin(x) * _V5.numpy()),
    "vhp": (lambda x: multiad.vhp(_printing_total, (x,), (_V5,))[0], lambda x: -np.sin(x) * _V5.numpy()),
    "linearize": (lambda x: multiad.linearize(_printing_sin, x)[1](_V5), lambda x: np.cos(x) * _V5.numpy()),
}


@pytest.mark.parametrize("name", sorted(_BREAKING))
def test_torch_compile_of_a_transform_of_f_with_a_graph_break(name: str) -> None:
    # NOTE [Callbacks run eagerly after a graph break] in the torch backend's _callbacks.py: under
    # backend="eager" the compiler made a frame of multiad's callback after f's graph break, and
    # failed there (AssertionError: False != True), where torch.func.grad of the same f works.
    ours, closed = _BREAKING[name]
    x = torch.linspace(-1.0, 1.0, 5, dtype=torch.float64)
    torch._dynamo.reset()
    for backend in ("eager", "aot_eager"):
        got = torch.compile(ours, backend=backend)(x)
        np.testing.assert_allclose(got.detach().numpy(), closed(x.numpy()), rtol=1e-12, atol=1e-12)


def test_a_failed_compiled_vmap_of_hessian_leaves_multiads_state_as_it_was() -> None:
    # torch.compile of vmap(hessian(f)) fails in torch's fake tensors, for torch.func's as well;
    # the state torch keeps afterwards can fail later compiled transforms of either (docs/migration.md,
    # "Transforms under torch.compile"). multiad's own per-thread and per-context state is left
    # as it was. In a fresh process: the failure changes torch's state for what follows.
    code = (
        "import torch, multiad, multiad._api_vmap as av, multiad._prepared as pr, multiad._select as se\n"
        "import multiad._custom_state as cs, multiad_torch._guard as gd\n"
        "x = torch.linspace(-1.0, 1.0, 12, dtype=torch.float64).reshape(3, 4)\n"
        "f = lambda v: (torch.sin(v) ** 2).sum()\n"
        "multiad.grad(f)(x[0])\n"
        "def state():\n"
        "    flag = multiad._registry._records['torch'].backend.active_flag\n"
        "    return (gd._state.active, flag.active, av._slot.spec, av._slot.tree, pr._slot.spec,\n"
        "            se._context.get(), cs._forward.get(), cs._without_rules.get())\n"
        "before = state()\n"
        "try:\n"
        "    torch.compile(lambda x: multiad.vmap(multiad.hessian(f))(x), fullgraph=True, backend='eager')(x)\n"
        "except Exception as e:\n"
        "    assert 'fake tensor' in str(e), e\n"
        "else:\n"
        "    raise AssertionError('torch.compile of vmap(hessian(f)) now works: update docs/migration.md')\n"
        "assert state() == before, (state(), before)\n"
        "print('ok')\n"
    )
    _runs_in_a_fresh_process(code)


def test_vjp_fn_and_jvp_fn_of_dicts_returned_from_a_compiled_function() -> None:
    # NOTE [Structures made in a trace, used after it] in multiad/_tree.py: their structures were
    # torch.compile's stand-ins, which optree refused outside the trace ("registered nodes ... hold
    # data that cannot be compared"), where torch.func.vjp's vjp_fn works.
    def f(p: Any) -> Any:
        return {"u": torch.sin(p["a"]) * p["b"]}

    a = torch.linspace(-1.0, 1.0, 5, dtype=torch.float64)
    b = torch.linspace(0.5, 2.0, 5, dtype=torch.float64)
    ct = torch.linspace(1.0, -1.0, 5, dtype=torch.float64)
    torch._dynamo.reset()
    out, vjp_fn = torch.compile(lambda p: multiad.vjp(f, p), backend="eager")({"a": a, "b": b})
    (grads,) = vjp_fn({"u": ct})
    an, bn, cn = a.numpy(), b.numpy(), ct.numpy()
    np.testing.assert_allclose(out["u"].numpy(), np.sin(an) * bn, rtol=1e-12)
    np.testing.assert_allclose(grads["a"].numpy(), np.cos(an) * bn * cn, rtol=1e-12)
    np.testing.assert_allclose(grads["b"].numpy(), np.sin(an) * cn, rtol=1e-12)
    with pytest.raises(multiad.InvalidArgumentError, match=r"cotangent has structure"):
        vjp_fn({"w": ct})
    _, jvp_fn = torch.compile(lambda p: multiad.linearize(f, p), backend="eager")({"a": a, "b": b})
    got = jvp_fn({"a": ct, "b": b})["u"]
    np.testing.assert_allclose(got.numpy(), np.cos(an) * bn * cn + np.sin(an) * bn, rtol=1e-12)


@pytest.mark.parametrize("fullgraph", [False, True])
def test_torch_compile_of_the_first_call_on_a_plugin_backend(fullgraph: bool) -> None:
    # NOTE [Backends loaded under a compiler]: a plugin is loaded by its first lookup; traced, the
    # registry's lock split the graph, and multiad's argument handling then raised "Expected a(n)
    # tuple of PyTreeSpec(s)" (or, with fullgraph, torch's "Unsupported context manager").
    code = (
        "import numpy as np, torch, multiad, multiad.numpy as mnp\n"
        "from multiad_torch import TorchBackend\n"
        "class Copy(TorchBackend):\n"
        "    name = 'torch-copy'\n"
        "    array_modules = ()\n"
        "    def is_array(self, x):\n"
        "        return isinstance(x, torch.Tensor)\n"
        "multiad.register_backend('torch-copy', Copy)\n"
        "x = torch.tensor([0.3, 0.7], dtype=torch.float64)\n"
        "v = torch.tensor([1.0, -2.0], dtype=torch.float64)\n"
        "h = lambda x, v: multiad.jvp(lambda x: mnp.sin(x) * x, (x,), (v,), backend='torch-copy')\n"
        "xn, vn = x.numpy(), v.numpy()\n"
        "for _ in range(2):\n"
        f"    out, t = torch.compile(h, fullgraph={fullgraph}, backend='eager')(x, v)\n"
        "    np.testing.assert_allclose(out.numpy(), np.sin(xn) * xn, rtol=1e-12)\n"
        "    np.testing.assert_allclose(t.numpy(), (np.cos(xn) * xn + np.sin(xn)) * vn, rtol=1e-12)\n"
        "print('ok')\n"
    )
    _runs_in_a_fresh_process(code)


def test_torch_compile_naming_an_unknown_backend_raises_backend_error() -> None:
    # NOTE [Backends loaded under a compiler]: the load runs as ordinary Python and answers a
    # string; the error is raised by the lookup, as outside the compiler, not from inside Dynamo.
    code = (
        "import torch, multiad, multiad.numpy as mnp\n"
        "f = lambda x: multiad.grad(lambda x: mnp.sum(x), backend='nosuch')(x)\n"
        "try:\n"
        "    torch.compile(f, backend='eager')(torch.ones(2, dtype=torch.float64))\n"
        "except multiad.BackendError as e:\n"
        "    assert str(e).startswith(\"grad(<lambda>): unknown backend 'nosuch'\"), e\n"
        "    print('ok')\n"
    )
    _runs_in_a_fresh_process(code)


def test_torch_compile_of_the_first_inference_with_a_plugin_not_imported_yet(tmp_path: Any) -> None:
    # NOTE [Backends loaded under a compiler]: inferring the backend from an array type imports
    # every plugin first; traced, the registry's locks split the graph, and the torch backend's
    # own jvp raised "Expected a(n) tuple of PyTreeSpec(s)" where a plugin was installed and not
    # yet imported (the first use imports only multiad's own backends).
    import os
    import sys

    (tmp_path / "unused_plugin.py").write_text(
        "import multiad\n"
        "class Unused(multiad.Backend):\n"
        "    name = 'unused'\n"
        "    has_vjp = True\n"
        "    def asarray(self, x, dtype=None, device=None):\n"
        "        raise NotImplementedError\n"
    )
    info = tmp_path / "unused_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: unused-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[multiad.backends]\nunused = unused_plugin:Unused\n")
    code = (
        "import sys, numpy as np, torch, multiad, multiad.numpy as mnp\n"
        "x = torch.tensor([0.3, 0.7], dtype=torch.float64)\n"
        "v = torch.tensor([1.0, -2.0], dtype=torch.float64)\n"
        "h = lambda x, v: multiad.jvp(lambda x: mnp.sin(x) * x, (x,), (v,))\n"
        "out, t = torch.compile(h, backend='eager')(x, v)\n"
        "xn, vn = x.numpy(), v.numpy()\n"
        "np.testing.assert_allclose(t.numpy(), (np.cos(xn) * xn + np.sin(xn)) * vn, rtol=1e-12)\n"
        "assert 'unused_plugin' in sys.modules\n"
        "print('ok')\n"
    )
    path = os.pathsep.join([str(tmp_path), *(p for p in sys.path if p)])
    import subprocess

    env = {**os.environ, "PYTHONPATH": path}
    env.pop("MULTIAD_BACKEND", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]
