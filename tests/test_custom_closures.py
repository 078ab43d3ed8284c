"""Custom rules whose functions close over a value an enclosing transform differentiates.

NOTE [Rules closing over differentiated values] in multiad/_custom_rules.py: torch and autograd
cannot differentiate a custom rule with respect to a value it closes over and raise; JAX's
custom_jvp differentiates through the closure. References are closed forms.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp


@pytest.fixture(autouse=True)
def _selected(ad_backend: Case) -> Iterator[None]:
    with multiad.use_backend(ad_backend.name):
        yield


def _jvp_closing_over(y: Any, x: Any) -> Any:
    @multiad.custom_jvp
    def f(x: Any) -> Any:
        return y * mnp.sin(x)

    @f.defjvp
    def f_jvp(primals: Any, tangents: Any) -> Any:
        return f(primals[0]), y * mnp.cos(primals[0]) * tangents[0]

    return f(x)


def _vjp_closing_over(y: Any, x: Any) -> Any:
    @multiad.custom_vjp
    def f(x: Any) -> Any:
        return y * mnp.sin(x)

    f.defvjp(lambda x: (f(x), mnp.cos(x)), lambda c, g: (y * c * g,))
    return f(x)


@pytest.mark.parametrize("outer", [_jvp_closing_over, _vjp_closing_over])
def test_a_closure_over_a_constant_is_differentiated_by_the_rule(ad_backend: Case, outer: Any) -> None:
    # y is not differentiated: the rule's derivative y cos(x), nothing refused
    g = multiad.grad(lambda x: outer(np.float64(2.0), x))(np.float64(1.0))
    np.testing.assert_allclose(multiad.to_numpy(g), 2.0 * np.cos(1.0), rtol=1e-12)


@pytest.mark.parametrize("outer", [_jvp_closing_over, _vjp_closing_over])
def test_a_closure_over_a_differentiated_value(ad_backend: Case, outer: Any) -> None:
    # d/dy of y sin(x) at x = 1 is sin(1); torch's autograd.Function returned 0 without an error
    grad = multiad.grad(outer, argnums=(0, 1))
    if ad_backend.name == "jax":  # JAX's tracer escapes: its error, translated
        with pytest.raises(multiad.NonDifferentiableError, match="a custom function or its rule closes over"):
            grad(np.float64(2.0), np.float64(1.0))
        return
    with pytest.raises(multiad.InvalidArgumentError) as err:
        grad(np.float64(2.0), np.float64(1.0))
    assert str(err.value).startswith("f: the function closes over 'y', a value being differentiated")
    assert "pass 'y' to f as an argument" in str(err.value)


def test_a_fwd_rule_closing_over_a_differentiated_value(ad_backend: Case) -> None:
    # JAX's test_fwd_closes_over_tracer: d/dy of grad(f)(1) with f's residual y is -2 sin(y)
    def outer(y: Any) -> Any:
        @multiad.custom_vjp
        def f(x: Any) -> Any:
            return 2.0 * mnp.sin(x)

        f.defvjp(lambda x: (f(x), y), lambda y, g: (2.0 * mnp.cos(y) * g,))
        return multiad.grad(f)(np.float64(1.0))

    np.testing.assert_allclose(multiad.to_numpy(outer(np.float64(4.0))), 2.0 * np.cos(4.0), rtol=1e-12)
    if ad_backend.name == "jax":
        np.testing.assert_allclose(multiad.to_numpy(multiad.grad(outer)(np.float64(4.0))), -2.0 * np.sin(4.0))
        return
    # torch raised an internal assertion of functorch here
    with pytest.raises(multiad.InvalidArgumentError, match="f: its fwd rule closes over 'y'"):
        multiad.grad(outer)(np.float64(4.0))


@pytest.mark.parametrize("outer", [_jvp_closing_over, _vjp_closing_over])
def test_a_closure_with_constant_arguments_is_the_function_s_own_code(ad_backend: Case, outer: Any) -> None:
    # x is a constant: the rule gives no derivative here, and d/dy of y sin(1) is sin(1) through f's code
    g = multiad.grad(lambda y: outer(y, np.float64(1.0)))(np.float64(2.0))
    np.testing.assert_allclose(multiad.to_numpy(g), np.sin(1.0), rtol=1e-12)
