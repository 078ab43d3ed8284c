"""Second derivatives through a custom_vjp whose ``fwd`` keeps a 0-d residual computed from x.

On autograd such a residual (``cos`` of a 0-d input, ``sum``/``mean``/``max``/``norm`` of a
vector) is a NumPy scalar at the primitive's own call and an array box at the call that a second
derivative makes, and every second derivative raised a bare StopIteration (NOTE [Residuals that
are NumPy scalars] in multiad/_custom_rules.py). torch's hessian at an empty input with such a
residual raised IndexError (NOTE [Empty Jacobians] in multiad/_derive.py). Compared with closed
forms.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp


def _sin_keeping(residuals: Callable[[Any], Any], use: Callable[[Any, Any], Any]) -> Any:
    @multiad.custom_vjp
    def f(x: Any) -> Any:
        return mnp.sin(x)

    f.defvjp(lambda x: (mnp.sin(x), residuals(x)), lambda r, g: (g * use(r, g),))
    return f


# Residual layouts of sin's rule; each bwd computes cos(x) from them.
LAYOUTS: dict[str, tuple[Callable[[Any], Any], Callable[[Any, Any], Any]]] = {
    "cos": (lambda x: mnp.cos(x), lambda r, g: r),
    "(cos, x)": (lambda x: (mnp.cos(x), x), lambda r, g: r[0]),
    "(x, cos)": (lambda x: (x, mnp.cos(x)), lambda r, g: r[1]),
    "(x, x+0)": (lambda x: (x, x + 0.0), lambda r, g: mnp.cos(r[1])),
    "dict": (lambda x: {"a": x, "b": mnp.cos(x)}, lambda r, g: r["b"]),
    "(3.0, cos)": (lambda x: (3.0, mnp.cos(x)), lambda r, g: r[1] * r[0] / 3.0),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("x", [0.7, np.array(0.7)], ids=["float", "0-d"])
def test_hessian_of_a_scalar_rule_with_a_computed_residual(ad_backend: Case, layout: str, x: Any) -> None:
    f = _sin_keeping(*LAYOUTS[layout])
    h = multiad.hessian(lambda x: f(x) ** 2, backend=ad_backend.name)(x)
    ad_backend.close(h, 2 * np.cos(1.4), order=2)  # d2/dx2 sin(x)^2


def test_second_derivatives_of_a_scalar_rule(ad_backend: Case) -> None:
    f = _sin_keeping(lambda x: mnp.cos(x), lambda c, g: c)

    def loss(x: Any, y: Any) -> Any:
        return f(x * y) * y

    x, y = 0.7, 1.0
    mixed = 2 * y * np.cos(x * y) - x * y**2 * np.sin(x * y)  # d2 loss / dx dy
    with multiad.use_backend(ad_backend.name):
        ad_backend.close(multiad.grad(lambda x: multiad.grad(loss, argnums=1)(x, y))(x), mixed, order=2)
        ad_backend.close(multiad.hessian(loss, argnums=(0, 1))(x, y)[0][1], mixed, order=2)
        ad_backend.close(multiad.jacfwd(lambda x: multiad.grad(loss, argnums=1)(x, y))(x), mixed, order=2)
        ad_backend.close(multiad.hessian(lambda x: f(x) * x)(x), 2 * np.cos(x) - x * np.sin(x), order=2)
        hv = multiad.hvp(lambda x: f(x) ** 2, (np.array(x),), (np.array(2.0),))
        ad_backend.close(hv, (4 * np.cos(2 * x),), order=2)
        xs = np.array([0.7, -0.3, 1.2])
        per_example = multiad.vmap(multiad.hessian(lambda x: f(x) ** 2))(xs)
        ad_backend.close(per_example, 2 * np.cos(2 * xs), order=2)


# Statistics equal to sum(x) near X, each computed by another reduction: the rule below is f's
# derivative with every one of them.
STATISTICS: dict[str, Callable[[Any], Any]] = {
    "sum": mnp.sum,
    "mean": lambda x: mnp.mean(x) * 3.0,
    "max": lambda x: mnp.max(mnp.stack([mnp.sum(x), mnp.sum(x) - 1.0])),
    "norm": lambda x: mnp.sqrt(mnp.sum(x) ** 2),
    "dot": lambda x: mnp.dot(x, mnp.ones_like(x)),
}
X = np.array([0.3, -0.2, 0.9])


def _times_sum(stat: Callable[[Any], Any]) -> Any:
    """f(x) = x * sum(x), whose bwd uses the sum kept by fwd as a 0-d residual."""

    @multiad.custom_vjp
    def f(x: Any) -> Any:
        return x * mnp.sum(x)

    def fwd(x: Any) -> Any:
        s = stat(x)
        return x * s, (x, s)

    f.defvjp(fwd, lambda r, g: (g * r[1] + mnp.sum(g * r[0]),))
    return f


@pytest.mark.parametrize("stat", list(STATISTICS))
def test_hessian_through_a_kept_statistic(ad_backend: Case, stat: str) -> None:
    f = _times_sum(STATISTICS[stat])
    h = multiad.hessian(lambda x: 0.5 * mnp.sum(f(x) ** 2), backend=ad_backend.name)(X)
    # 0.5 * sum((x S)^2) with S = sum(x): gradient x S^2 + S sum(x^2), Hessian
    # S^2 I + 2 S x 1^T + sum(x^2) 1 1^T + 2 S 1 x^T.
    s, ones = np.sum(X), np.ones(3)
    ref = s**2 * np.eye(3) + 2 * s * np.outer(X, ones) + np.sum(X**2) * np.outer(ones, ones) + 2 * s * np.outer(ones, X)
    ad_backend.close(h, ref, order=2)


def test_hessian_at_an_empty_input(ad_backend: Case) -> None:
    f = _sin_keeping(lambda x: (x + 0.0, mnp.sum(x) * 0.0 + 1.0), lambda r, g: mnp.cos(r[0]) * r[1])
    h = multiad.hessian(lambda x: mnp.sum(f(x) ** 2), backend=ad_backend.name)(np.zeros(0))
    assert tuple(h.shape) == (0, 0)
    # The same route without a custom rule (torch.func's jacrev of jacrev failed there too).
    h = multiad.jacrev(multiad.jacrev(lambda x: mnp.sum(x) ** 2), backend=ad_backend.name)(np.zeros(0))
    assert tuple(h.shape) == (0, 0)


def test_a_residual_layout_that_changes_between_calls_is_refused() -> None:
    calls: list[int] = []

    @multiad.custom_vjp
    def f(x: Any) -> Any:
        return mnp.sin(x)

    def fwd(x: Any) -> Any:
        calls.append(1)
        return mnp.sin(x), ((mnp.cos(x),) if len(calls) == 1 else (mnp.cos(x), x))

    f.defvjp(fwd, lambda r, g: (g * r[0],))
    with pytest.raises(multiad.InvalidArgumentError, match="f: the fwd rule returned residuals laid out differently"):
        multiad.hessian(lambda x: f(x) ** 2, backend="autograd")(0.7)
