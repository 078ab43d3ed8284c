"""Prepared calls on the jax backend (NOTE [Prepared JAX transforms] in backends/jax): JAX's own
transform built once per transform object and signature must give what the general path gives,
with the same checks and errors, on every call, not only the first two."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import run_threads

import multiad

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

X = np.array([0.5, -1.0, 2.0])
CALLS = 4  # the first call of a signature takes the general path, the second prepares it


def a(x: Any) -> Any:
    return jnp.asarray(np.asarray(x, dtype=np.float64))


def test_first_order_results_match_closed_forms_on_every_call() -> None:
    jrev = multiad.jacrev(lambda x: x**3)
    jfwd = multiad.jacfwd(lambda w, x: w * x**2, argnums=1)
    grad = multiad.grad(lambda x: (x**3).sum())
    vg = multiad.value_and_grad(lambda x, y: (x * y).sum(), argnums=(0, 1))
    both = multiad.jacfwd(lambda x, y: {"b": x * y, "a": (x**2).sum()}, argnums=(0, 1))
    for _ in range(CALLS):
        x = a(X)
        np.testing.assert_allclose(np.asarray(jrev(x)), np.diag(3 * X**2), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(jfwd(2.0, x)), np.diag(4 * X), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(grad(x)), 3 * X**2, rtol=1e-12)
        value, (gx, gy) = vg(x, a(2 * X))
        np.testing.assert_allclose(float(value), 2 * (X * X).sum(), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(gx), 2 * X, rtol=1e-12)
        np.testing.assert_allclose(np.asarray(gy), X, rtol=1e-12)
        out = both(x, a(3 * X))
        assert list(out) == ["b", "a"]  # the output's own key order, as on the general path
        np.testing.assert_allclose(np.asarray(out["a"][0]), 2 * X, rtol=1e-12)
        np.testing.assert_allclose(np.asarray(out["a"][1]), 0 * X, atol=0)
        np.testing.assert_allclose(np.asarray(out["b"][0]), np.diag(3 * X), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(out["b"][1]), np.diag(X), rtol=1e-12)


def cube_sum(x: Any) -> Any:
    return (x**3).sum()


def test_second_order_results_match_closed_forms_on_every_call() -> None:
    def f(x: Any, y: Any) -> Any:
        return (x**3 * y).sum()

    hess = multiad.hessian(f, argnums=(0, 1))
    vector = multiad.hessian(lambda x: x**3)
    nested = multiad.jacfwd(multiad.jacfwd(lambda x: (x**3).sum()))
    x, y, v, w = a(X), a(2 * X), a([1.0, 2.0, -1.0]), a([0.5, 0.0, 1.0])
    for _ in range(CALLS):
        (hxx, hxy), (hyx, hyy) = hess(x, y)
        np.testing.assert_allclose(np.asarray(hxx), np.diag(6 * X * 2 * X), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(hxy), np.diag(3 * X**2), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(hyx), np.diag(3 * X**2), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(hyy), np.zeros((3, 3)), atol=0)
        expected = np.zeros((3, 3, 3))
        expected[np.arange(3), np.arange(3), np.arange(3)] = 6 * X
        np.testing.assert_allclose(np.asarray(vector(x)), expected, rtol=1e-12)
        np.testing.assert_allclose(np.asarray(nested(x)), np.diag(6 * X), rtol=1e-12)
        for transform in (multiad.hvp, multiad.vhp):
            hx, hy = transform(f, (x, y), (v, w))
            np.testing.assert_allclose(np.asarray(hx), 12 * X**2 * np.asarray(v) + 3 * X**2 * np.asarray(w))
            np.testing.assert_allclose(np.asarray(hy), 3 * X**2 * np.asarray(v), rtol=1e-12)
            (h,) = transform(cube_sum, (x,), (v,))
            np.testing.assert_allclose(np.asarray(h), 6 * X * np.asarray(v), rtol=1e-12)


def test_checks_run_on_every_call() -> None:
    jac = multiad.jacrev(lambda x: x * 2.0)
    fwd = multiad.jacfwd(lambda x: x * 2.0)
    hess = multiad.hessian(lambda x: (x**3).sum())
    out_int = multiad.jacfwd(lambda x: (x > 0).astype(jnp.int64))
    hess_int = multiad.hessian(lambda x: (x > 0).astype(jnp.int64).sum())
    for _ in range(CALLS):
        jac(a(X)), fwd(a(X)), hess(a(X))
        for name, transform in (("jacrev", jac), ("jacfwd", fwd)):
            with pytest.raises(multiad.InvalidTypeError, match=rf"^{name}\(<lambda>\): argument 0 has dtype int64"):
                transform(jnp.asarray([1, 2]))
        with pytest.raises(multiad.InvalidTypeError, match=r"^jacfwd\(<lambda>\): f's output has integer dtype"):
            out_int(a(X))
        with pytest.raises(multiad.InvalidTypeError, match=r"^hessian\(<lambda>\): f's output has integer dtype"):
            hess_int(a(X))
        assert fwd(jnp.zeros(0)).shape == (0, 0)  # NOTE [Empty Jacobians]


def dropped(x: Any) -> Any:
    return (x**2).sum() * x[0].item()


def converted(x: Any) -> Any:
    return (x**2).sum() * float(x[0])


@pytest.mark.parametrize("f", [dropped, converted])
@pytest.mark.parametrize("name", ["grad", "jacrev", "jacfwd", "hessian", "hvp", "vhp"])
def test_dropped_derivatives_raise_on_every_call(name: str, f: Any) -> None:
    # NOTE [item() of a traced value]: a frame of the backend is on the stack on the short path too.
    transform = getattr(multiad, name)
    run = (lambda x: transform(f, (x,), (x,))) if name in ("hvp", "vhp") else transform(f)
    op = "x.item()" if f is dropped else "ConcretizationTypeError"
    for _ in range(CALLS):
        with pytest.raises(multiad.NonDifferentiableError, match=rf"^{name}\({f.__name__}\): .*{op}"):
            run(a(X))


def test_forward_mode_through_a_custom_vjp_function_on_every_call() -> None:
    @multiad.custom_vjp
    def square(x: Any) -> Any:
        return x * x

    square.defvjp(lambda x: (x * x, x), lambda x, g: (2.0 * x * g,))
    fwd = multiad.jacfwd(square)
    hess = multiad.hessian(lambda x: square(x).sum())
    for _ in range(CALLS):  # forward mode cannot pass the rule: computed in reverse mode instead
        np.testing.assert_allclose(np.asarray(fwd(a(X))), np.diag(2 * X), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(hess(a(X))), 2 * np.eye(3), rtol=1e-12)
        (hv,) = multiad.hvp(lambda x: square(x).sum(), (a(X),), (a([1.0, 2.0, 3.0]),))
        np.testing.assert_allclose(np.asarray(hv), [2.0, 4.0, 6.0], rtol=1e-12)


def test_closure_shapes_and_dtypes_change_between_calls() -> None:
    scale = [2.0]
    jac = multiad.jacfwd(lambda x: scale[0] * x**2)
    for k in range(CALLS):
        scale[0] = float(k)
        for n in (2, 3):
            x = np.linspace(0.5, 1.5, n)
            np.testing.assert_allclose(np.asarray(jac(a(x))), np.diag(2 * k * x), rtol=1e-12)
        got = jac(jnp.asarray(X, dtype=jnp.float32))
        assert got.dtype == jnp.float32
        np.testing.assert_allclose(np.asarray(got), np.diag(2 * k * X), rtol=1e-6)


def test_under_vmap_and_jit() -> None:
    hess = multiad.hessian(lambda w, x: (jnp.tanh(w @ x)).sum(), argnums=1)
    batched = multiad.vmap(hess, in_dims=(None, 0))
    jitted = jax.jit(multiad.jacfwd(lambda x: jnp.sin(x)))
    w = a(np.arange(6.0).reshape(2, 3) / 6)
    xs = a(np.linspace(-1, 1, 12).reshape(4, 3))
    for _ in range(CALLS):
        got = np.asarray(batched(w, xs))
        for i in range(4):
            t = np.tanh(np.asarray(w) @ np.asarray(xs[i]))
            expected = np.einsum("k,ki,kj->ij", -2 * t * (1 - t**2), np.asarray(w), np.asarray(w))
            np.testing.assert_allclose(got[i], expected, rtol=1e-12, atol=1e-14)
    for n in range(1, CALLS + 1):  # a new shape traces again: the prepared call runs under jax.jit
        x = np.linspace(-1.0, 1.0, n)
        np.testing.assert_allclose(np.asarray(jitted(a(x))), np.diag(np.cos(x)), rtol=1e-12)


def test_one_transform_object_from_many_threads() -> None:
    def f(x: Any) -> Any:  # the output structure differs with the input size
        return {"y": x**3} if x.shape[0] == 2 else x**3

    jacs = [multiad.jacrev(f), multiad.jacfwd(f)]
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            rng = np.random.default_rng(k)
            for i in range(20):
                n = 2 + (i + k) % 2
                x = rng.uniform(-1, 1, size=n)
                got = jacs[i % 2](a(x))
                block = got["y"] if n == 2 else got
                np.testing.assert_allclose(np.asarray(block), np.diag(3 * x**2), rtol=1e-12)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    run_threads(worker, errors, 4)


def test_jacobian_auto_on_every_call() -> None:
    jac = multiad.jacobian(lambda w, x: jnp.tanh(w @ x), argnums=1)
    for n_in, n_out in [(2, 5), (5, 2)] * CALLS:  # tall and wide: forward, then reverse mode
        w = np.arange(n_out * n_in, dtype=np.float64).reshape(n_out, n_in) / 10
        x = np.linspace(-1.0, 1.0, n_in)
        expected = (1 - np.tanh(w @ x) ** 2)[:, None] * w
        np.testing.assert_allclose(np.asarray(jac(a(w), a(x))), expected, rtol=1e-12)
    with pytest.raises(multiad.InvalidTypeError, match=r"^jacobian\(<lambda>\): argument 1 has dtype int64"):
        jac(a(w), jnp.ones(2, dtype=jnp.int64))
