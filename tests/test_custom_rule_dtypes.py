"""Derivatives a custom rule returns must be real floating arrays (NOTE [Derivative kinds of
custom rules] in multiad/_custom_rules.py): jax and autograd returned int64 or complex128
gradients of a float64 argument, torch failed in its own code, autograd gave zeros for an
integer tangent. References are closed forms."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


X = np.array([0.5, 1.0, 2.0])

BAD: dict[str, Callable[[Any, Any], Any]] = {
    "integer": lambda r, g: mnp.astype(g * 0 + 1, "int64"),
    "complex": lambda r, g: g * mnp.cos(r) + 0j,
    "numpy integer": lambda r, g: np.ones(3, dtype=np.int64),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_bwd_rule_returning_a_non_floating_cotangent(ad_backend: Case, kind: str) -> None:
    @multiad.custom_vjp
    def f(x: Any) -> Any:
        return mnp.sin(x)

    f.defvjp(lambda x: (mnp.sin(x), x), lambda r, g: (BAD[kind](r, g),))
    with pytest.raises(multiad.InvalidArgumentError) as err:
        multiad.grad(lambda x: mnp.sum(f(x)))(X)
    assert str(err.value).startswith("f: the bwd rule returned an array of dtype "), str(err.value)
    assert "for argument leaf 0 of dtype float" in str(err.value)


def test_a_bwd_rule_returning_a_python_number_is_cast(ad_backend: Case) -> None:
    @multiad.custom_vjp
    def f(x: Any) -> Any:
        return 3.0 * x

    f.defvjp(lambda x: (3.0 * x, None), lambda r, g: (3,))  # scalar argument: d(3x)/dx = 3
    np.testing.assert_allclose(multiad.to_numpy(multiad.grad(f)(np.float64(0.5))), 3.0)


def test_a_jvp_rule_returning_an_integer_tangent(ad_backend: Case) -> None:
    # autograd returned zeros; torch failed an internal assertion in forward mode
    @multiad.custom_jvp
    def g(x: Any) -> Any:
        return mnp.sin(x)

    @g.defjvp
    def g_jvp(p: Any, t: Any) -> Any:
        return mnp.sin(p[0]), mnp.astype(t[0], "int64")

    for call in (
        lambda: multiad.jvp(g, (X,), (np.ones(3),)),
        lambda: multiad.grad(lambda x: mnp.sum(g(x)))(X),
    ):
        with pytest.raises(multiad.InvalidArgumentError, match=r"^g: the jvp rule returned an array of dtype int"):
            call()


def test_a_float_rule_is_unchanged(ad_backend: Case) -> None:
    @multiad.custom_jvp
    def g(x: Any) -> Any:
        return mnp.sin(x)

    @g.defjvp
    def g_jvp(p: Any, t: Any) -> Any:
        return mnp.sin(p[0]), mnp.cos(p[0]) * t[0]

    np.testing.assert_allclose(multiad.to_numpy(multiad.grad(lambda x: mnp.sum(g(x)))(X)), np.cos(X), rtol=1e-12)


def test_a_parameter_left_at_its_default_gets_no_cotangent(ad_backend: Case) -> None:
    # NOTE [Parameters left at their defaults]: bwd returns one entry per argument the call passed
    @multiad.custom_vjp
    def kw(x: Any, s: Any = 2.0) -> Any:
        return x * s

    kw.defvjp(lambda x, s=2.0: (x * s, s), lambda s, g: (g * s, None))
    g = multiad.grad(lambda x: mnp.sum(kw(x, 3.0)))(X)  # d(3x)/dx = 3
    np.testing.assert_allclose(multiad.to_numpy(g), np.full(3, 3.0))
    with pytest.raises(multiad.InvalidArgumentError) as err:
        multiad.grad(lambda x: mnp.sum(kw(x)))(X)
    assert str(err.value).startswith("kw: the bwd rule must return a tuple with one entry per differentiated")
    assert "this call passed 1 argument(s), and a parameter left at its default is not passed" in str(err.value)
