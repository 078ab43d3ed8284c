"""The plugin API's helpers that the in-tree backends use, as a backend outside the repository uses them.

docs/plugins.md, *Custom rules*: the rule ``custom_vjp`` and ``custom_jvp`` receive has
``refuse_closed_over(carries)`` and ``transposing()`` (the torch and autograd backends' checks);
``multiad.Backend.numpy_function`` gives multiad.numpy's function for a framework's arrays (the
torch backend's ``__array_ufunc__``). References are closed forms or numpy.
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


def test_numpy_function_is_multiad_numpys_without_dispatch() -> None:
    a, b = np.array([2.0, 3.0]), np.array([[1.0, 0.5], [0.0, 2.0]])
    np.testing.assert_array_equal(multiad.Backend.numpy_function("multiply", "numpy")(a, a), a * a)
    np.testing.assert_array_equal(multiad.Backend.numpy_function("linalg.inv", "numpy")(b), np.linalg.inv(b))
    with pytest.raises(ValueError, match=r"numpy_function\('multiply', 'tensorflow'\): framework must be"):
        multiad.Backend.numpy_function("multiply", "tensorflow")
    with pytest.raises(ValueError, match=r"multiad\.numpy has no no_such_function for numpy"):
        multiad.Backend.numpy_function("no_such_function", "numpy")


def test_numpy_function_on_torch_follows_numpys_promotion() -> None:
    torch = pytest.importorskip("torch")
    multiply = multiad.Backend.numpy_function("multiply", "torch")
    out = multiply(np.array([2.0, 3.0]), torch.tensor([1.0, 0.5], dtype=torch.float32))
    assert out.dtype == torch.float64  # numpy's result dtype; torch's own multiply gives float32
    np.testing.assert_array_equal(out.numpy(), [2.0, 1.5])


def test_load_imported_loads_the_plugins_own_class_and_no_other() -> None:
    # A compiler probe that finds its compiler tracing before its backend is loaded calls
    # cls.load_imported() (docs/plugins.md, NOTE [First use under a compiler]).
    from multiad_numpy import NumpyBackend

    loads: list[str] = []

    class Late(NumpyBackend):
        name: ClassVar[str] = "numpy-late-probe"

        def load(self) -> None:
            loads.append(self.name)

    class Other(NumpyBackend):
        name: ClassVar[str] = "numpy-other-probe"

        def load(self) -> None:
            loads.append(self.name)

    multiad.register_backend("numpy-late-probe", Late)
    multiad.register_backend("numpy-other-probe", Other)
    assert multiad.Backend.load_imported() is True
    assert loads == []  # multiad's own backends only
    assert Late.load_imported() is True
    assert loads == ["numpy-late-probe"]
    assert Late.load_imported() is True  # loaded once
    assert loads == ["numpy-late-probe"]
