"""The numpy backend refuses to differentiate through a jax.custom_vjp / jax.custom_jvp function,
whose rule its finite differences would ignore (NOTE [JAX custom rules under finite differences]
in backends/numpy/multiad_numpy/_rules.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

pytest.importorskip("jax")

X = np.array([1.0, 2.0])


def scaled_rules() -> tuple[Any, Any]:
    """``x**2`` with a reverse rule ``100 * g`` and with a forward rule ``100 * t``: not its derivative."""
    import jax

    @jax.custom_vjp
    def square_vjp(x: Any) -> Any:
        return x**2

    square_vjp.defvjp(lambda x: (x**2, x), lambda r, g: (100.0 * g,))

    @jax.custom_jvp
    def square_jvp(x: Any) -> Any:
        return x**2

    square_jvp.defjvp(lambda p, t: (p[0] ** 2, 100.0 * t[0]))
    return square_vjp, square_jvp


CALLS: list[tuple[str, Callable[[Callable[[Any], Any]], Any]]] = [
    ("grad", lambda f: multiad.grad(lambda x: mnp.sum(f(x)))(X)),
    ("vjp", lambda f: multiad.vjp(f, X)[1](np.ones(2))),
    ("jvp", lambda f: multiad.jvp(f, (X,), (np.ones(2),))),
    ("jacrev", lambda f: multiad.jacrev(f)(X)),
    ("jacfwd", lambda f: multiad.jacfwd(f)(X)),
    ("hessian", lambda f: multiad.hessian(lambda x: mnp.sum(f(x)))(X)),
    ("grad of jit", lambda f: multiad.grad(lambda x: mnp.sum(_jit(f)(x)))(X)),
]


def _jnp_sum(y: Any) -> Any:
    import jax.numpy as jnp

    return jnp.sum(y)


# f returns a JAX array (jnp.sum of the rule's output): the nested level's conversion of that
# output raises before it reports its name, and the composed transforms' outer levels, whose
# function is the core's own, named the call "finite differences" (NOTE [Names of composed levels]).
JAX_OUTPUT_CALLS: list[tuple[str, Callable[[Callable[[Any], Any]], Any]]] = [
    ("grad", lambda f: multiad.grad(lambda x: _jnp_sum(f(x)))(X)),
    ("hessian", lambda f: multiad.hessian(lambda x: _jnp_sum(f(x)))(X)),
    ("hvp", lambda f: multiad.hvp(lambda x: _jnp_sum(f(x)), (X,), (np.ones(2),))),
    ("vhp", lambda f: multiad.vhp(lambda x: _jnp_sum(f(x)), (X,), (np.ones(2),))),
    ("jacfwd", lambda f: multiad.jacfwd(multiad.grad(lambda x: _jnp_sum(f(x))))(X)),
    ("linearize", lambda f: multiad.linearize(lambda x: _jnp_sum(f(x)), X)),
    ("value_and_grad", lambda f: multiad.value_and_grad(lambda x: _jnp_sum(f(x)))(X)),
]


@pytest.mark.parametrize("kind", ["custom_vjp", "custom_jvp"])
@pytest.mark.parametrize(("name", "run"), JAX_OUTPUT_CALLS, ids=[c[0] for c in JAX_OUTPUT_CALLS])
def test_refusal_names_the_call_where_f_returns_a_jax_array(
    kind: str, name: str, run: Callable[[Callable[[Any], Any]], Any]
) -> None:
    f = scaled_rules()[kind == "custom_jvp"]
    with (
        multiad.use_backend("numpy"),
        pytest.raises(multiad.UnsupportedOperationError, match=rf"^{name}\(<lambda>\): .*jax\.{kind} function"),
    ):
        run(f)
    assert sys.getprofile() is None


def test_vmap_of_hessian_names_hessian() -> None:
    f = scaled_rules()[0]
    hess = multiad.hessian(lambda x: _jnp_sum(f(x)))
    with (
        multiad.use_backend("numpy"),
        pytest.raises(multiad.UnsupportedOperationError, match=r"^hessian\(<lambda>\): .*jax\.custom_vjp function"),
    ):
        multiad.vmap(hess)(np.stack([X, 2 * X]))


def _jit(f: Callable[[Any], Any]) -> Any:
    import jax

    return jax.jit(f)


@pytest.mark.parametrize("kind", ["custom_vjp", "custom_jvp"])
@pytest.mark.parametrize(("name", "run"), CALLS, ids=[c[0] for c in CALLS])
def test_numpy_backend_refuses(kind: str, name: str, run: Callable[[Callable[[Any], Any]], Any]) -> None:
    f = scaled_rules()[kind == "custom_jvp"]
    call = name.split()[0]
    with (
        multiad.use_backend("numpy"),
        pytest.raises(multiad.UnsupportedOperationError, match=rf"^{call}\(.*jax\.{kind} function.*backend='jax'"),
    ):
        run(f)
    assert sys.getprofile() is None


@pytest.mark.parametrize("kind", ["custom_vjp", "custom_jvp"])
def test_jax_backend_uses_the_rule(kind: str) -> None:
    f = scaled_rules()[kind == "custom_jvp"]
    g = multiad.grad(lambda x: mnp.sum(f(x)), backend="jax")(X)
    np.testing.assert_allclose(multiad.to_numpy(g), [100.0, 100.0])


def test_plain_jax_code_still_differentiated() -> None:
    """JAX code without a custom rule is still black-box code to the numpy backend."""
    import jax.numpy as jnp

    with multiad.use_backend("numpy"):
        g = multiad.grad(lambda x: mnp.sum(np.asarray(jnp.sin(x))))(X)
    np.testing.assert_allclose(g, np.cos(X), rtol=1e-8)


def test_vmap_evaluates() -> None:
    """vmap takes no derivative: the function is evaluated."""
    f = scaled_rules()[0]
    with multiad.use_backend("numpy"):
        np.testing.assert_allclose(multiad.vmap(f)(np.stack([X, 2 * X])), [X**2, 4 * X**2])


@pytest.mark.parametrize("kind", ["custom_vjp", "custom_jvp"])
@pytest.mark.parametrize("transform", ["vmap", "jacobian"])
def test_a_jax_output_names_both_causes(kind: str, transform: str) -> None:
    """vmap evaluates f (the rule does not matter) and jacobian's automatic mode evaluates it
    first; an f that returns a JAX array computed it with JAX's functions, closing over nothing,
    and the error says so (NOTE [Outputs of another framework] in multiad/_flat.py)."""
    f = scaled_rules()[kind == "custom_jvp"]
    with (
        multiad.use_backend("numpy"),
        pytest.raises(
            multiad.MixedBackendError,
            match=rf"^{transform}\(<lambda>\): f returned a jax array .* made by jax's own functions from f's "
            r"arguments \(a jax custom-rule function among them\) or from a jax array f closes over.*"
            r"write f with multiad\.numpy.*select the 'jax' backend",
        ),
    ):
        if transform == "vmap":
            multiad.vmap(lambda x: _jnp_sum(f(x)))(np.stack([X, 2 * X]))
        else:
            multiad.jacobian(lambda x: _jnp_sum(f(x)))(X)


def test_vmap_on_the_jax_backend_evaluates() -> None:
    f = scaled_rules()[0]
    out = multiad.vmap(lambda x: _jnp_sum(f(x)), backend="jax")(np.stack([X, 2 * X]))
    np.testing.assert_allclose(multiad.to_numpy(out), [5.0, 20.0])


def test_profiler_left_alone() -> None:
    """An installed profile function is kept (the watch does not run under it)."""
    calls: list[str] = []

    def mine(frame: Any, event: str, arg: Any) -> None:
        calls.append(event)

    sys.setprofile(mine)
    try:
        with multiad.use_backend("numpy"):
            g = multiad.grad(lambda x: mnp.sum(x**2))(X)
        assert sys.getprofile() is mine
    finally:
        sys.setprofile(None)
    np.testing.assert_allclose(g, 2 * X, rtol=1e-8)
    assert calls
