"""autograd's own transforms of a multiad custom function at a Python float.

autograd boxes a Python float argument in an ArrayBox around the float itself, which has no
dtype: ``autograd.grad(lambda x: f(x) ** 2)(0.7)`` raised AttributeError where plain autograd
and multiad.grad at the same float work (NOTE [Boxed Python numbers] in backends/autograd).
Compared with closed forms of d/dx sin(x)^2 = sin(2x) and d2/dx2 = 2 cos(2x).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp


def _vjp_sin() -> Any:
    @multiad.custom_vjp
    def f(x: Any) -> Any:
        return mnp.sin(x)

    f.defvjp(lambda x: (mnp.sin(x), mnp.cos(x)), lambda c, g: (g * c,))
    return f


def _jvp_sin() -> Any:
    @multiad.custom_jvp
    def f(x: Any) -> Any:
        return mnp.sin(x)

    f.defjvp(lambda p, t: (mnp.sin(p[0]), mnp.cos(p[0]) * t[0]))
    return f


@pytest.mark.parametrize("make", [_vjp_sin, _jvp_sin], ids=["custom_vjp", "custom_jvp"])
@pytest.mark.parametrize(
    "x", [0.7, np.float64(0.7), np.float32(0.7), np.array(0.7)], ids=["float", "np64", "np32", "0-d"]
)
def test_autograd_grad_at_a_python_number(make: Any, x: Any) -> None:
    import autograd

    f = make()
    g = autograd.grad(lambda x: f(x) ** 2)(x)
    np.testing.assert_allclose(g, np.sin(1.4), rtol=1e-6)
    h = autograd.grad(autograd.grad(lambda x: f(x) ** 2))(x)
    np.testing.assert_allclose(h, 2 * np.cos(1.4), rtol=1e-6)
