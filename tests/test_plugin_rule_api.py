"""A plugin's custom rules check closures and transpositions through the rule's public methods.

docs/plugins.md, *Custom rules*: the rule ``custom_vjp`` and ``custom_jvp`` receive has
``refuse_closed_over(carries)`` and ``transposing()``, which the in-tree torch and autograd
backends use; a backend outside the repository reaches them the same way. References are
closed forms.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

pytest.importorskip("autograd")

from multiad_autograd import AutogradBackend


class _Refusing(AutogradBackend):
    """autograd, refusing every array a custom function closes over (its own test of ``carries``)."""

    name: ClassVar[str] = "autograd-refusing"

    def custom_vjp(self, rule: Any) -> Any:
        rule.refuse_closed_over(lambda v: isinstance(v, np.ndarray))
        return super().custom_vjp(rule)


def test_refuse_closed_over_uses_the_plugins_test() -> None:
    y = np.array([2.0])

    @multiad.custom_vjp
    def f(x: Any) -> Any:
        return y * mnp.sin(x)

    f.defvjp(lambda x: (f(x), mnp.cos(x)), lambda c, g: (y * c * g,))
    with pytest.raises(multiad.InvalidArgumentError, match=r"f: the function closes over 'y'.*pass 'y' to f"):
        multiad.grad(lambda x: mnp.sum(f(x)), backend=_Refusing())(np.array([1.0]))
    # the in-tree backend's own test: y is a constant, the rule's derivative y cos(x)
    g = multiad.grad(lambda x: mnp.sum(f(x)), backend="autograd")(np.array([1.0]))
    np.testing.assert_allclose(multiad.to_numpy(g), 2.0 * np.cos([1.0]), rtol=1e-12)


class _Recording(AutogradBackend):
    """autograd, keeping the rules its ``custom_jvp`` receives."""

    name: ClassVar[str] = "autograd-recording"
    rules: ClassVar[list[Any]] = []

    def custom_jvp(self, rule: Any) -> Any:
        self.rules.append(rule)
        return super().custom_jvp(rule)


def test_transposing_limits_a_rule_transposed_within_itself() -> None:
    @multiad.custom_jvp
    def scale(x: Any) -> Any:
        return 3.0 * x

    @scale.defjvp
    def scale_jvp(primals: Any, tangents: Any) -> Any:
        return scale(primals[0]), 3.0 * tangents[0]

    # reverse mode of the rule, by its transposition inside rule.transposing(): d(3x)/dx = 3
    g = multiad.grad(lambda x: mnp.sum(scale(x)), backend=_Recording())(np.array([1.0, 2.0]))
    np.testing.assert_allclose(multiad.to_numpy(g), [3.0, 3.0], rtol=0)
    rule = _Recording.rules[-1]
    depths: list[int] = []

    def nest(depth: int) -> None:
        with rule.transposing():
            depths.append(depth)
            nest(depth + 1)

    with pytest.raises(multiad.UnsupportedOperationError, match="scale: its jvp rule calls scale on the tangents"):
        nest(0)
    assert depths == [0, 1, 2, 3, 4, 5]  # six levels, as deep as any derivative of a few orders
    with rule.transposing():  # the count is back to 0 after the error
        pass
