"""multiad.custom_vjp and multiad.custom_jvp on every backend, against closed forms.

The numpy backend (finite differences) declares no custom rules: differentiating through a
custom function raises UnsupportedOperationError there, and plain evaluation works.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp
from multiad.testing._custom_rules import (
    clip_gradient,
    log1pexp,
    scaled_sin,
    sigmoid,
    sqrt_by_fixed_point,
)


def _sum_log1pexp(x: Any) -> Any:
    return mnp.sum(log1pexp(x))


def _clipped(x: Any) -> Any:
    return mnp.sum(5.0 * clip_gradient(x))


@multiad.custom_vjp
def sin_saving_cos(x: Any) -> Any:
    return mnp.sin(x)


sin_saving_cos.defvjp(lambda x: (mnp.sin(x), mnp.cos(x)), lambda c, g: (g * c,))


@pytest.fixture(autouse=True)
def _select_backend(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests parametrized by ``backend`` run with it selected (numpy arrays infer nothing)."""
    if "backend" not in request.fixturenames:
        yield
        return
    with multiad.use_backend(request.getfixturevalue("backend").name):
        yield


def _unsupported_on_numpy(backend: Case, fn: Any) -> bool:
    """On numpy, checks that ``fn()`` raises as declared and returns True."""
    if backend.name != "numpy":
        return False
    with pytest.raises(multiad.UnsupportedOperationError, match="does not support custom derivative rules"):
        fn()
    return True


def test_clip_gradient_grad_is_all_ones(backend: Case) -> None:
    x = backend.array([0.3, -2.0, 4.0])
    g = lambda: multiad.grad(_clipped, backend=backend.name)(x)  # noqa: E731
    if not _unsupported_on_numpy(backend, g):
        backend.close(g(), np.ones(3))
        backend.close(
            multiad.vmap(multiad.grad(_clipped), backend=backend.name)(backend.array(np.ones((2, 3)))), np.ones((2, 3))
        )


def test_log1pexp_first_derivatives_use_the_rule(backend: Case) -> None:
    x = backend.array([100.0, 0.0, 1000.0])  # exp(1000) overflows: without the rule, nan
    expected = sigmoid(np.array([100.0, 0.0, 1000.0]))
    if _unsupported_on_numpy(backend, lambda: multiad.grad(_sum_log1pexp, backend=backend.name)(x)):
        return
    g = multiad.grad(_sum_log1pexp)(x)
    assert np.all(np.isfinite(multiad.to_numpy(g)))
    backend.close(g, expected)
    backend.close(multiad.jacrev(log1pexp)(x), np.diag(expected))
    backend.close(multiad.jacfwd(log1pexp)(x), np.diag(expected))
    backend.close(multiad.jvp(log1pexp, (x,), (backend.array(np.ones(3)),))[1], expected)
    backend.close(multiad.vjp(log1pexp, x)[1](backend.array(np.ones(3)))[0], expected)
    xs = backend.array([[100.0], [0.0]])
    backend.close(multiad.vmap(multiad.grad(_sum_log1pexp))(xs), np.array([[1.0], [0.5]]))


def test_log1pexp_second_derivatives_go_through_the_rule(backend: Case) -> None:
    x = backend.array([0.0, 0.0, 1.0])
    s = sigmoid(np.array([0.0, 0.0, 1.0]))
    h = np.diag(s * (1.0 - s))  # 0.25 at 0
    if _unsupported_on_numpy(backend, lambda: multiad.hessian(_sum_log1pexp, backend=backend.name)(x)):
        return
    backend.close(multiad.hessian(_sum_log1pexp)(x), h)
    backend.close(multiad.jacrev(multiad.grad(_sum_log1pexp))(x), h)
    v = np.array([1.0, -2.0, 0.5])
    backend.close(multiad.hvp(_sum_log1pexp, (x,), (backend.array(v),))[0], h @ v)
    backend.close(multiad.vhp(_sum_log1pexp, (x,), (backend.array(v),))[0], h @ v)


def test_nondiff_argnums(backend: Case) -> None:
    x = backend.array([0.2, -0.7])
    xn = np.array([0.2, -0.7])
    f = lambda x: mnp.sum(scaled_sin(3.0, x))  # noqa: E731
    if _unsupported_on_numpy(backend, lambda: multiad.grad(f, backend=backend.name)(x)):
        return
    backend.close(multiad.grad(f)(x), 3.0 * np.cos(3.0 * xn))
    backend.close(multiad.hessian(f)(x), np.diag(-9.0 * np.sin(3.0 * xn)))
    # keyword arguments bind by name, as in the undecorated function
    backend.close(multiad.grad(lambda x: mnp.sum(scaled_sin(k=3.0, x=x)))(x), 3.0 * np.cos(3.0 * xn))


def test_custom_jvp_with_nondiff_argnums(backend: Case) -> None:
    @functools.partial(multiad.custom_jvp, nondiff_argnums=(1,))
    def power(x: Any, n: int) -> Any:
        return x**n

    @power.defjvp
    def power_jvp(n: int, primals: Any, tangents: Any) -> Any:
        (x,), (t,) = primals, tangents
        return power(x, n), n * power(x, n - 1) * t

    x = backend.array([0.5, -2.0])
    xn = np.array([0.5, -2.0])
    f = lambda x: mnp.sum(power(x, 3))  # noqa: E731
    if _unsupported_on_numpy(backend, lambda: multiad.grad(f, backend=backend.name)(x)):
        return
    backend.close(multiad.grad(f)(x), 3 * xn**2)
    backend.close(multiad.hessian(f)(x), np.diag(6 * xn))
    backend.close(multiad.jvp(lambda x: power(x, 3), (x,), (x,))[1], 3 * xn**3)


def test_implicit_differentiation_of_a_fixed_point(backend: Case) -> None:
    a = backend.array([2.0, 3.0, 0.5])
    an = np.array([2.0, 3.0, 0.5])
    f = lambda a: mnp.sum(sqrt_by_fixed_point(a))  # noqa: E731
    backend.close(sqrt_by_fixed_point(a), np.sqrt(an))
    if _unsupported_on_numpy(backend, lambda: multiad.grad(f, backend=backend.name)(a)):
        return
    backend.close(multiad.grad(f)(a), 0.5 / np.sqrt(an))
    backend.close(multiad.jacrev(sqrt_by_fixed_point)(a), np.diag(0.5 / np.sqrt(an)))
    backend.close(multiad.hessian(f)(a), np.diag(-0.25 * an**-1.5))


def test_forward_mode_through_custom_vjp(backend: Case) -> None:
    """jvp and linearize raise; jacfwd, jacobian, hessian and hvp compute it in reverse mode."""
    x = backend.array([0.3, 2.0])
    xn = np.array([0.3, 2.0])
    f = lambda x: mnp.sum(sin_saving_cos(x))  # noqa: E731
    if _unsupported_on_numpy(backend, lambda: multiad.jacfwd(sin_saving_cos, backend=backend.name)(x)):
        return
    # the message starts with the call (docs/reliability.md), then names the custom function
    with pytest.raises(
        multiad.UnsupportedOperationError,
        match=r"^jvp\(sin_saving_cos\): sin_saving_cos: a custom_vjp function cannot be differentiated in forward mode",
    ):
        multiad.jvp(sin_saving_cos, (x,), (x,))
    with pytest.raises(
        multiad.UnsupportedOperationError,
        match=r"^linearize\(sin_saving_cos\): sin_saving_cos: a custom_vjp function cannot be differentiated",
    ):
        multiad.linearize(sin_saving_cos, x)[1](x)
    backend.close(multiad.jacfwd(sin_saving_cos)(x), np.diag(np.cos(xn)))
    backend.close(multiad.jacobian(sin_saving_cos, mode="fwd")(x), np.diag(np.cos(xn)))
    backend.close(multiad.hessian(f)(x), np.diag(-np.sin(xn)))
    backend.close(multiad.hvp(f, (x,), (x,))[0], -np.sin(xn) * xn)
    # an enclosing forward-mode transform still cannot go through it
    with pytest.raises(multiad.UnsupportedOperationError, match="forward mode"):
        multiad.jvp(multiad.jacfwd(sin_saving_cos), (x,), (x,))


@multiad.custom_jvp
def _cube_by_rule(x: Any) -> Any:
    return x**3


@_cube_by_rule.defjvp
def _cube_rule(primals: Any, tangents: Any) -> Any:
    # deliberately not the cube's derivative (3 x^2): 5 x t, so that results show the rule was used
    (x,), (t,) = primals, tangents
    return x**3, 5.0 * x * t


@pytest.mark.parametrize("chunk_size", [None, 1, 2, 3])
def test_chunked_forward_transforms_use_a_custom_jvp_rule(backend: Case, chunk_size: int | None) -> None:
    """jacfwd, jacobian(mode="fwd") and hessian with and without chunk_size give the rule's
    derivatives (diag(5 x); the Hessian of the sum: diag(5)), also where a backend pushes chunked
    columns through the pullback (NOTE [Chunked forward mode by the pullback])."""
    xn = np.array([0.5, -1.0, 2.0])
    x = backend.array(xn)
    if _unsupported_on_numpy(backend, lambda: multiad.jacfwd(_cube_by_rule, backend=backend.name)(x)):
        return
    backend.close(multiad.jacfwd(_cube_by_rule, chunk_size=chunk_size)(x), np.diag(5.0 * xn))
    backend.close(multiad.jacobian(_cube_by_rule, mode="fwd", chunk_size=chunk_size)(x), np.diag(5.0 * xn))
    total = lambda v: mnp.sum(_cube_by_rule(v))  # noqa: E731
    backend.close(multiad.hessian(total, chunk_size=chunk_size)(x), np.diag([5.0, 5.0, 5.0]))


@multiad.custom_vjp
def affine(p: Any, x: Any) -> Any:
    return {"y": p["w"] * x + p["b"], "s": mnp.sum(x)}


def _affine_fwd(p: Any, x: Any) -> Any:
    return affine(p, x), {"p": p, "x": x, "tag": "static", "n": 3}


def _affine_bwd(res: Any, g: Any) -> Any:
    assert res["tag"] == "static" and res["n"] == 3  # non-array residual leaves come back as they were
    p, x, gy = res["p"], res["x"], g["y"]
    return {"w": mnp.sum(gy * x), "b": None}, gy * p["w"] + g["s"]


affine.defvjp(_affine_fwd, _affine_bwd)


def test_pytree_arguments_outputs_and_residuals(backend: Case) -> None:
    p = {"w": backend.array(2.0), "b": backend.array(0.5)}
    x = backend.array([1.0, 3.0])
    xn = np.array([1.0, 3.0])
    f = lambda p, x: mnp.sum(affine(p, x)["y"] ** 2) + affine(p, x)["s"]  # noqa: E731
    if _unsupported_on_numpy(backend, lambda: multiad.grad(f, argnums=(0, 1), backend=backend.name)(p, x)):
        return
    y = 2.0 * xn + 0.5
    gp, gx = multiad.grad(f, argnums=(0, 1))(p, x)
    # "b": None in the rule is a zero cotangent (the true derivative would be sum(2y) + 0)
    backend.close(gp, {"w": np.sum(2 * y * xn), "b": 0.0})
    backend.close(gx, 4 * y + 1.0)
    backend.close(multiad.jacrev(lambda x: affine(p, x))(x), {"y": 2.0 * np.eye(2), "s": np.ones(2)})


def test_plain_calls_evaluate_the_function(backend: Case) -> None:
    x = np.array([0.5, -1.0])
    with multiad.use_backend(backend.name):
        assert isinstance(log1pexp(x), np.ndarray)  # numpy in, numpy out: nothing to differentiate
        np.testing.assert_allclose(log1pexp(x), np.log1p(np.exp(x)))
    out = log1pexp(backend.array(x))
    assert isinstance(out, backend.array_type)
    np.testing.assert_allclose(multiad.to_numpy(out), np.log1p(np.exp(x)))


def test_torch_compile_and_raw_torch_func() -> None:
    import torch

    x = torch.tensor([100.0, 0.0], dtype=torch.float64)
    np.testing.assert_allclose(torch.func.grad(_sum_log1pexp)(x).numpy(), [1.0, 0.5])
    np.testing.assert_allclose(torch.func.grad(_clipped)(x).numpy(), [1.0, 1.0])
    np.testing.assert_allclose(
        torch.func.hessian(_sum_log1pexp)(torch.zeros(2, dtype=torch.float64)).numpy(), 0.25 * np.eye(2)
    )
    np.testing.assert_allclose(
        torch.func.vmap(torch.func.grad(_clipped))(torch.ones(3, 2, dtype=torch.float64)).numpy(), np.ones((3, 2))
    )
    xr = x.clone().requires_grad_()
    _sum_log1pexp(xr).backward()
    assert xr.grad is not None
    np.testing.assert_allclose(xr.grad.numpy(), [1.0, 0.5])
    compiled = torch.compile(multiad.grad(_sum_log1pexp), backend="aot_eager")
    np.testing.assert_allclose(compiled(x).numpy(), [1.0, 0.5])


def test_jax_jit_and_raw_jax() -> None:
    import jax
    import jax.numpy as jnp

    x = jnp.asarray([100.0, 0.0])
    np.testing.assert_allclose(jax.jit(multiad.grad(_sum_log1pexp))(x), [1.0, 0.5])
    np.testing.assert_allclose(jax.jit(multiad.grad(_clipped))(x), [1.0, 1.0])
    np.testing.assert_allclose(jax.jit(multiad.hessian(_sum_log1pexp))(jnp.zeros(2)), 0.25 * np.eye(2))
    np.testing.assert_allclose(jax.jit(multiad.hessian(lambda x: mnp.sum(sin_saving_cos(x))))(x * 0), np.zeros((2, 2)))
    np.testing.assert_allclose(jax.hessian(_sum_log1pexp)(jnp.zeros(2)), 0.25 * np.eye(2))
    np.testing.assert_allclose(jax.grad(_clipped)(x), [1.0, 1.0])


def test_raw_autograd() -> None:
    import autograd

    np.testing.assert_allclose(autograd.grad(_sum_log1pexp)(np.array([100.0, 0.0])), [1.0, 0.5])
    np.testing.assert_allclose(autograd.hessian(_sum_log1pexp)(np.zeros(2)), 0.25 * np.eye(2))
    np.testing.assert_allclose(autograd.grad(_clipped)(np.array([1.0, 2.0])), [1.0, 1.0])


def test_a_backend_without_the_capability_raises() -> None:
    from multiad_numpy import NumpyBackend

    class ExactNumpy(NumpyBackend):
        name = "numpy-nocustom"
        exact = True

    b = ExactNumpy()
    with pytest.raises(multiad.UnsupportedOperationError, match="declares no has_custom_rules"):
        multiad.grad(_sum_log1pexp, backend=b)(np.zeros(2))
    np.testing.assert_allclose(log1pexp(np.zeros(2)), np.log(2.0) * np.ones(2))


@pytest.mark.parametrize("name", ["torch", "jax", "autograd"])
def test_rule_errors_name_the_function(name: str) -> None:
    x = multiad.asarray(np.ones(2), backend=name)

    @multiad.custom_vjp
    def undefined(x: Any) -> Any:
        return x

    with pytest.raises(
        multiad.InvalidArgumentError, match=r"undefined: no derivative rule is defined; call undefined\.defvjp"
    ):
        undefined(x)

    @multiad.custom_vjp
    def bad(x: Any) -> Any:
        return 2.0 * x

    bad.defvjp(lambda x: (2.0 * x, None), lambda r, g: (g, g))
    with pytest.raises(
        multiad.InvalidArgumentError,
        match="bad: the bwd rule must return a tuple with one entry per differentiated argument",
    ):
        multiad.grad(lambda x: mnp.sum(bad(x)))(x)
    bad.defvjp(lambda x: (2.0 * x, None), lambda r, g: (mnp.sum(g),))
    with pytest.raises(
        multiad.InvalidArgumentError,
        match=r"bad: the bwd rule returned shape \(\) for an argument leaf of shape \(2,\)",
    ):
        multiad.grad(lambda x: mnp.sum(bad(x)))(x)
    bad.defvjp(lambda x: 2.0 * x, lambda r, g: (g,))
    with pytest.raises(multiad.InvalidArgumentError, match="bad: the fwd rule must return a pair"):
        multiad.grad(lambda x: mnp.sum(bad(x)))(x)
    with pytest.raises(multiad.InvalidArgumentError, match=r"nondiff_argnums=\(5,\) is out of range"):
        out_of_range = multiad.custom_vjp(lambda x: x, nondiff_argnums=(5,))
        out_of_range.defvjp(lambda x: (x, None), lambda r, g: (g,))
        out_of_range(x)
    two = multiad.custom_vjp(lambda x, how: x)
    two.defvjp(lambda x, how: (x, None), lambda r, g: (g, None))
    if name != "autograd":  # autograd's arrays are numpy arrays: a plain call just evaluates
        with pytest.raises(multiad.InvalidTypeError, match=r"argument leaf 1 is a str.* named in nondiff_argnums"):
            two(x, "text")
    with pytest.raises(multiad.InvalidTypeError, match="nondiff_argnums must be a tuple of ints"):
        multiad.custom_jvp(lambda x: x, nondiff_argnums=1)  # type: ignore[arg-type]


def test_registration_checks_the_custom_rules_declaration() -> None:
    from multiad_numpy import NumpyBackend

    class Half(NumpyBackend):
        name = "numpy-half-custom"
        has_custom_rules = True  # but neither custom_vjp nor custom_jvp

    with pytest.raises(multiad.BackendError, match="declares has_custom_rules but does not implement"):
        multiad.register_backend("numpy-half-custom", Half)


@pytest.mark.parametrize("name", ["torch", "jax", "autograd"])
@pytest.mark.parametrize("outputs", [1, 2])
def test_vjp_fn_runs_the_rule_under_vjps_backend(name: str, outputs: int) -> None:
    """vjp_fn runs a custom rule with vjp's backend selected, whatever is selected where vjp_fn
    is called (NOTE [Rules run under their backend]): with one output array through the
    framework's pullback directly (NOTE [Pullbacks of one output]), with two through the general
    vjp_fn, also once the signature is known (NOTE [Calls of arrays alone]); the selection where
    vjp_fn was called is in force again after it."""
    pytest.importorskip({"torch": "torch", "jax": "jax", "autograd": "autograd"}[name])
    seen: list[str] = []

    @multiad.custom_vjp
    def sine(x: Any) -> Any:
        return mnp.sin(x)

    def bwd(c: Any, g: Any) -> tuple[Any, ...]:
        seen.append(multiad.get_backend().name)
        # a numpy constant: converted to the rule's backend only while that backend is selected
        return (g * c * mnp.asarray(np.array([1.0, 1.0])),)

    sine.defvjp(lambda x: (mnp.sin(x), mnp.cos(x)), bwd)
    x = multiad.asarray(np.array([0.5, 1.0]), backend=name)
    ct = multiad.asarray(np.array([1.0, -1.0]), backend=name)

    def f(v: Any) -> Any:
        return 2.0 * sine(v) if outputs == 1 else (2.0 * sine(v), v)

    for _ in range(3):
        _, vjp_fn = multiad.vjp(f, x, backend=name)
        with multiad.use_backend("numpy"):
            (g,) = vjp_fn(ct if outputs == 1 else (ct, mnp.zeros_like(ct)))
            assert multiad.get_backend().name == "numpy"
        np.testing.assert_allclose(multiad.to_numpy(g), [2.0 * np.cos(0.5), -2.0 * np.cos(1.0)], rtol=1e-12)
    assert seen == [name] * 3


@pytest.mark.parametrize("name", ["torch", "jax", "autograd"])
def test_float64_rule_results_for_float32_values_are_cast(name: str) -> None:
    """A rule computing in float64 gives float32 derivatives of float32 values, on every backend."""

    @multiad.custom_vjp
    def double(x: Any) -> Any:
        return 2.0 * x

    double.defvjp(lambda x: (2.0 * x, None), lambda r, g: (4.0 * mnp.astype(g, "float64"),))

    @multiad.custom_jvp
    def cube(x: Any) -> Any:
        return x**3

    @cube.defjvp
    def cube_jvp(primals: Any, tangents: Any) -> Any:
        (x,), (t,) = primals, tangents
        return cube(x), 5.0 * mnp.astype(x * t, "float64")  # deliberately not 3 x^2 t

    x32 = multiad.asarray(np.array([0.5, -2.0], dtype=np.float32), backend=name)
    g = multiad.to_numpy(multiad.grad(lambda x: mnp.sum(double(x)))(x32))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, [4.0, 4.0])
    t = multiad.to_numpy(multiad.jvp(cube, (x32,), (mnp.ones_like(x32),))[1])
    assert t.dtype == np.float32
    np.testing.assert_allclose(t, [2.5, -10.0])
    h = multiad.to_numpy(multiad.hessian(lambda x: mnp.sum(cube(x)))(x32))
    assert h.dtype == np.float32
    np.testing.assert_allclose(h, 5.0 * np.eye(2))


@pytest.mark.parametrize("name", ["torch", "autograd"])
def test_a_traced_nondiff_argument_is_refused(name: str) -> None:
    """A nondiff argument computed from the differentiated input would lose its derivative."""
    x = np.array([0.3, -1.2])
    with (
        multiad.use_backend(name),
        pytest.raises(multiad.InvalidArgumentError, match=r"scaled_sin: an argument in nondiff_argnums depends"),
    ):
        multiad.grad(lambda x: mnp.sum(scaled_sin(x[0], x)))(x)
    # a constant one is fine: d/dx sum(sin(3 x)) = 3 cos(3 x)
    with multiad.use_backend(name):
        g = multiad.to_numpy(multiad.grad(lambda x: mnp.sum(scaled_sin(3.0, x)))(x))
    np.testing.assert_allclose(g, 3.0 * np.cos(3.0 * x))


@pytest.mark.parametrize("name", ["torch", "jax", "autograd"])
def test_rules_may_close_over_numpy_arrays(name: str) -> None:
    """A rule multiplying by a NumPy array it closes over works as f itself does (NOTE [numpy
    arrays inside f]); on torch the rules run in the backward pass, after f has returned."""
    w = np.array([2.0, 3.0])

    @multiad.custom_vjp
    def scale(x: Any) -> Any:
        return x * w

    scale.defvjp(lambda x: (x * w, None), lambda r, g: (g * w,))

    @multiad.custom_jvp
    def scale_jvp(x: Any) -> Any:
        return x * w

    @scale_jvp.defjvp
    def scale_jvp_rule(primals: Any, tangents: Any) -> Any:
        (x,), (t,) = primals, tangents
        return scale_jvp(x), t * w

    x = np.array([1.0, -1.0])
    for fn in (scale, scale_jvp):
        with multiad.use_backend(name):
            g = multiad.to_numpy(multiad.grad(lambda x: mnp.sum(fn(x)))(x))  # noqa: B023
            h = multiad.to_numpy(multiad.hessian(lambda x: mnp.sum(fn(x) ** 2))(x))  # noqa: B023
        np.testing.assert_allclose(g, w, rtol=1e-12)
        np.testing.assert_allclose(h, np.diag(2 * w**2), rtol=1e-12)


def test_a_traced_nondiff_argument_on_jax_says_how_to_fix() -> None:
    """JAX's own error for it is about side effects; multiad's says what to change."""
    x = np.array([0.3, -1.2])
    with multiad.use_backend("jax"), pytest.raises(multiad.NonDifferentiableError) as info:
        multiad.grad(lambda x: mnp.sum(scaled_sin(x[0], x)))(x)
    assert "UnexpectedTracerError" in str(info.value)
    assert "nondiff_argnums" in str(info.value)
    assert "numpy.asarray" not in str(info.value)  # the hint for conversions does not apply


def test_vmap_evaluates_custom_functions_on_every_backend(backend: Case) -> None:
    # vmap takes no derivative: the numpy backend evaluates the function (it raised
    # UnsupportedOperationError as if differentiating); its transforms still refuse the rule.
    x = np.array([[0.1, 0.5], [1.0, -2.0], [0.3, 0.3]])
    out = multiad.vmap(lambda r: sin_saving_cos(r) + log1pexp(r), backend=backend.name)(x)
    backend.close(out, np.sin(x) + np.log1p(np.exp(x)))
    inner = multiad.vmap(lambda r: mnp.sum(sin_saving_cos(r)), backend=backend.name)
    if _unsupported_on_numpy(backend, lambda: multiad.grad(lambda v: mnp.sum(inner(v)), backend="numpy")(x)):
        with pytest.raises(multiad.UnsupportedOperationError, match="does not support custom derivative rules"):
            multiad.vmap(multiad.grad(lambda r: mnp.sum(sin_saving_cos(r)), backend="numpy"), backend="numpy")(x)
        return
    g = multiad.grad(lambda v: mnp.sum(inner(v)), backend=backend.name)(x)
    backend.close(g, np.cos(x))
