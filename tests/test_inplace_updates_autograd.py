"""An in-place update of a numpy array with a value autograd traces (``dy += y``) raises
NonDifferentiableError saying so (NOTE [In-place updates with a traced value] in the autograd
backend); it said that a plain numpy function had been applied. The rewritten function's
gradient is the closed form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

Y = np.array([1.0, 2.0])


def _add(y: Any) -> Any:
    dy = mnp.zeros_like(y)
    dy += y
    return mnp.sum(dy * y)


def _multiply(y: Any) -> Any:
    dy = mnp.ones_like(y)
    dy *= y
    return mnp.sum(dy)


def _into_numpy(y: Any) -> Any:
    dy = np.zeros(2)
    dy -= y
    return mnp.sum(dy)


@pytest.mark.parametrize("f", [_add, _multiply, _into_numpy])
@pytest.mark.parametrize("how", ["grad", "jacrev", "hessian"])
def test_in_place_update_with_a_traced_value(f: Callable[[Any], Any], how: str) -> None:
    transform = getattr(multiad, how)
    with pytest.raises(
        multiad.NonDifferentiableError,
        match=rf"^{how}\({f.__name__}\): .*f updates a numpy array in place with a traced value .*\(x = x \+ v\)",
    ):
        transform(f, backend="autograd")(Y)


def test_the_rewritten_function() -> None:
    def f(y: Any) -> Any:
        dy = mnp.zeros_like(y)
        dy = dy + y
        return mnp.sum(dy * y)

    np.testing.assert_allclose(multiad.grad(f, backend="autograd")(Y), 2.0 * Y)  # d/dy sum(y^2)
