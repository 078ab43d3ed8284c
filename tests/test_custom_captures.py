"""Custom rules that reach a differentiated value other than as an argument or a closure cell.

NOTE [Captured differentiated values at run time] in backends/torch/multiad_torch/_captures.py
and NOTE [Captured traced values in autograd rules]: torch returned a derivative of 0 for a value
reached through a default argument, functools.partial, an object's attribute, a helper, a global
or a callable/object in nondiff_argnums (the docs' fixed_point with a parametrised step); autograd
raised an unrelated error about a plain numpy call. Both now raise InvalidArgumentError naming
the call; JAX's tracer escapes. Where the value is a constant, the rule's derivative is right.
References are closed forms and central differences.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from conftest import Case, central_gradient

import multiad
import multiad.numpy as mnp


@pytest.fixture(autouse=True)
def _selected(ad_backend: Case) -> Iterator[None]:
    with multiad.use_backend(ad_backend.name):
        yield


X = np.array([0.2, 1.0, -0.7])


def by_default(y: Any) -> Any:
    @multiad.custom_vjp
    def h(z: Any, _y: Any = y) -> Any:
        return _y * mnp.sin(z)

    h.defvjp(lambda z, _y=y: (h(z), mnp.cos(z)), lambda r, g, _y=y: (g * _y * r,))
    return h


def by_partial(y: Any) -> Any:
    h = multiad.custom_vjp(functools.partial(lambda y_, z: y_ * mnp.sin(z), y))
    h.defvjp(lambda z: (h(z), mnp.cos(z)), lambda r, g: (2.0 * g * r,))  # y = 2 where it is a constant
    return h


class _Layer:
    def __init__(self, w: Any) -> None:
        self.w = w


def by_attribute(y: Any) -> Any:
    layer = _Layer(y)

    @multiad.custom_jvp
    def h(z: Any) -> Any:
        return layer.w * mnp.sin(z)

    @h.defjvp
    def h_jvp(p: Any, t: Any) -> Any:
        return h(p[0]), layer.w * mnp.cos(p[0]) * t[0]

    return h


def by_helper(y: Any) -> Any:
    helper = functools.partial(mnp.multiply, y)

    @multiad.custom_jvp
    def h(z: Any) -> Any:
        return helper(mnp.sin(z))

    @h.defjvp
    def h_jvp(p: Any, t: Any) -> Any:
        return h(p[0]), helper(mnp.cos(p[0])) * t[0]

    return h


_GLOBAL: dict[str, Any] = {}


def _global_h(z: Any) -> Any:
    return _GLOBAL["y"] * mnp.sin(z)


_global_custom = multiad.custom_vjp(_global_h)
_global_custom.defvjp(lambda z: (_global_custom(z), z), lambda r, g: (g * _GLOBAL["y"] * mnp.cos(r),))


def by_global(y: Any) -> Any:
    _GLOBAL["y"] = y
    return _global_custom


@functools.partial(multiad.custom_jvp, nondiff_argnums=(0,))
def _apply(fn: Any, z: Any) -> Any:
    return fn(z)


@_apply.defjvp
def _apply_jvp(fn: Any, p: Any, t: Any) -> Any:
    return _apply(fn, p[0]), multiad.jvp(fn, p, t)[1]


def by_nondiff_callable(y: Any) -> Any:
    return functools.partial(_apply, lambda z: y * mnp.sin(z))


ROUTES: list[Callable[[Any], Any]] = [by_default, by_partial, by_attribute, by_helper, by_global, by_nondiff_callable]
NAMES = {by_partial: "partial", by_global: "_global_h", by_nondiff_callable: "_apply"}


@pytest.mark.parametrize("route", ROUTES)
def test_a_captured_differentiated_value_raises(ad_backend: Case, route: Any) -> None:
    # d/dy of sum(y sin(x)) is sum(sin(x)); torch returned 0 without an error
    grad = multiad.grad(lambda y, x: mnp.sum(route(y)(x)), argnums=(0, 1))
    if ad_backend.name == "jax":  # JAX's tracer escapes its trace
        with pytest.raises(multiad.NonDifferentiableError):
            grad(np.float64(2.0), X)
        return
    with pytest.raises(multiad.InvalidArgumentError) as err:
        grad(np.float64(2.0), X)
    name = NAMES.get(route, "h")
    assert str(err.value).startswith(f"{name}: "), str(err.value)
    assert "uses a value being differentiated" in str(err.value)
    assert f"pass that value to {name} as a differentiated argument" in str(err.value)


@pytest.mark.parametrize("route", ROUTES)
def test_a_captured_constant_gets_the_rule_s_derivative(ad_backend: Case, route: Any) -> None:
    g = multiad.grad(lambda x: mnp.sum(route(np.float64(2.0))(x)))(X)
    np.testing.assert_allclose(multiad.to_numpy(g), 2.0 * np.cos(X), rtol=1e-12)
    h = multiad.hessian(lambda x: mnp.sum(route(np.float64(2.0))(x)))(X)
    np.testing.assert_allclose(multiad.to_numpy(h), np.diag(-2.0 * np.sin(X)), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("route", [by_default, by_attribute])
def test_a_captured_value_batched_but_not_differentiated(ad_backend: Case, route: Any) -> None:
    # vmap over y, grad over x: row b is y_b cos(x)
    ys = np.array([2.0, 3.0, -1.0])
    g = multiad.vmap(lambda y: multiad.grad(lambda x: mnp.sum(route(y)(x)))(X))(ys)
    np.testing.assert_allclose(multiad.to_numpy(g), ys[:, None] * np.cos(X), rtol=1e-12)


@pytest.mark.parametrize("route", [by_default, by_attribute])
def test_a_hessian_through_a_captured_differentiated_value_raises(ad_backend: Case, route: Any) -> None:
    # y = x0**2 captured: torch returned an asymmetric, wrong Hessian
    def f(x: Any) -> Any:
        return mnp.sum(route(x[0] ** 2)(x))

    if ad_backend.name == "jax":
        with pytest.raises(multiad.NonDifferentiableError):
            multiad.hessian(f)(X)
        return
    with pytest.raises(multiad.InvalidArgumentError, match=r"^h: .* uses a value being differentiated"):
        multiad.hessian(f)(X)


def test_an_outer_differentiated_value(ad_backend: Case) -> None:
    # the function's value loses its dependence on y at the outer level on torch (the rule runs
    # with that level lowered): d/dy of h(x), taken with the inner gradient, is sum(sin(x)); torch
    # gave 0. autograd differentiates the captured value at a trace that boxes no argument through
    # the function's own operations, correctly.
    def outer(y: Any) -> Any:
        value, _ = multiad.value_and_grad(lambda x: mnp.sum(by_default(y)(x)))(X)
        return value

    if ad_backend.name == "autograd":
        g = multiad.grad(outer)(np.float64(2.0))
        np.testing.assert_allclose(multiad.to_numpy(g), np.sum(np.sin(X)), rtol=1e-12)
        return
    with pytest.raises((multiad.InvalidArgumentError, multiad.NonDifferentiableError)):
        multiad.grad(outer)(np.float64(2.0))


def test_a_fwd_that_differentiates_inside_is_not_refused(ad_backend: Case) -> None:
    # fwd opens transforms of its own; their traced values are not captured ones
    @multiad.custom_vjp
    def s(x: Any) -> Any:
        return mnp.sum(x**3)

    s.defvjp(lambda x: (s(x), multiad.grad(lambda z: mnp.sum(z**3))(x)), lambda r, g: (g * r,))
    np.testing.assert_allclose(multiad.to_numpy(multiad.grad(s)(X)), 3 * X**2, rtol=1e-12)
    np.testing.assert_allclose(multiad.to_numpy(multiad.hessian(s)(X)), np.diag(6 * X), rtol=1e-12)


# docs/custom-rules.md's fixed_point
@functools.partial(multiad.custom_vjp, nondiff_argnums=(0,))
def fixed_point(f: Any, a: Any, z0: Any) -> Any:
    z = z0
    for _ in range(30):
        z = f(a, z)
    return z


def _fixed_point_fwd(f: Any, a: Any, z0: Any) -> Any:
    z = fixed_point(f, a, z0)
    return z, (a, z)


def _fixed_point_bwd(f: Any, residuals: Any, g: Any) -> Any:
    a, z = residuals
    _, vjp_a = multiad.vjp(lambda a: f(a, z), a)
    _, vjp_z = multiad.vjp(lambda z: f(a, z), z)
    w = g
    for _ in range(30):
        w = g + vjp_z(w)[0]
    return vjp_a(w)[0], None


fixed_point.defvjp(_fixed_point_fwd, _fixed_point_bwd)


def _fixed_point_loss(c: Any, a: Any) -> Any:
    # the step's parameter passed as a differentiated argument (in a tuple with a)
    step = lambda a_c, z: 0.5 * (z + a_c[1] * a_c[0] / z)  # noqa: E731
    return mnp.sum(fixed_point(step, (a, c), mnp.ones_like(a)))


def test_the_docs_fixed_point_with_a_captured_parameter(ad_backend: Case) -> None:
    a, c = np.array([2.0, 3.0, 0.5]), np.float64(1.5)

    def captured(c: Any, a: Any) -> Any:
        return mnp.sum(fixed_point(lambda a, z: 0.5 * (z + c * a / z), a, mnp.ones_like(a)))

    if ad_backend.name == "jax":
        with pytest.raises(multiad.NonDifferentiableError):
            multiad.grad(captured, argnums=(0, 1))(c, a)
    else:  # torch returned d/dc = 0 (true 1.573)
        with pytest.raises(multiad.InvalidArgumentError, match=r"^fixed_point: its fwd rule uses a value"):
            multiad.grad(captured, argnums=(0, 1))(c, a)
    # passed as a differentiated argument instead, both derivatives are right
    gc, ga = multiad.grad(_fixed_point_loss, argnums=(0, 1))(c, a)
    np.testing.assert_allclose(multiad.to_numpy(gc), np.sum(a / (2 * np.sqrt(c * a))), rtol=1e-9)
    want = central_gradient(lambda a: float(np.sum(np.sqrt(c * a))), a)
    np.testing.assert_allclose(multiad.to_numpy(ga), want, rtol=1e-7)


def test_torch_a_captured_tensor_that_requires_grad_raises(ad_backend: Case) -> None:
    # plain torch autograd (loss.backward()): w.grad stayed None where it is sum(sin(x))
    if ad_backend.name != "torch":
        pytest.skip("torch's own autograd")
    import torch

    w = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    x = torch.tensor(X, requires_grad=True)
    with pytest.raises(multiad.InvalidArgumentError, match=r"^h: its fwd rule uses a value"):
        by_default(w)(x).sum().backward()
    constant = torch.tensor(2.0, dtype=torch.float64)
    by_default(constant)(x).sum().backward()
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.numpy(), 2.0 * np.cos(X), rtol=1e-12)


def test_torch_a_tensor_constant_made_inside_f_is_not_refused(ad_backend: Case) -> None:
    # made under the transform, it is wrapped by its level but carries no derivative
    if ad_backend.name != "torch":
        pytest.skip("torch's functorch wrappers")
    import torch

    def f(x: Any) -> Any:
        return mnp.sum(by_default(torch.tensor(2.0, dtype=torch.float64))(x))

    np.testing.assert_allclose(multiad.to_numpy(multiad.grad(f)(X)), 2.0 * np.cos(X), rtol=1e-12)
