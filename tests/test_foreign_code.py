"""A function calling another framework's own code names the backend it runs on (NOTE [Foreign framework code])."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from conftest import central_gradient

import multiad
import multiad.numpy as mnp
from multiad import _registry

X = np.array([1.0, -2.0, 0.5])


def linear_module() -> Any:
    import torch

    torch.manual_seed(0)
    return torch.nn.Linear(3, 2).double()


def test_functional_call_runs_on_torch() -> None:
    from torch.func import functional_call

    module = linear_module()
    w = module.weight.detach().numpy().copy()
    params = {"weight": w, "bias": module.bias.detach().numpy().copy()}

    def loss(p: dict[str, Any], x: Any) -> Any:
        return mnp.sum(mnp.tanh(functional_call(module, p, (x,))))

    g = multiad.grad(loss, backend="torch")(params, X)
    s = 1.0 - np.tanh(w @ X + params["bias"]) ** 2
    np.testing.assert_allclose(multiad.to_numpy(g["weight"]), np.outer(s, X), rtol=1e-12)
    np.testing.assert_allclose(multiad.to_numpy(g["bias"]), s, rtol=1e-12)


@pytest.mark.parametrize("name", ["jax", "autograd", "numpy"])
def test_torch_module_elsewhere_names_the_torch_backend(name: str) -> None:
    from torch.func import functional_call

    module = linear_module()
    params = {k: v.detach().numpy().copy() for k, v in module.named_parameters()}

    def loss(p: dict[str, Any], x: Any) -> Any:
        return mnp.sum(functional_call(module, p, (x,)))

    def direct(x: Any) -> Any:
        return mnp.sum(module(x))

    expected = rf"runs only on the 'torch' backend, not on '{name}'; select backend='torch'"
    with pytest.raises(multiad.MixedBackendError, match=r"^grad\(loss\): f calls torch code \(torch\.") as info:
        multiad.grad(loss, backend=name)(params, X)
    assert expected.replace("\\", "") in str(info.value)
    assert "[[" not in str(info.value)  # no array dump
    with pytest.raises(multiad.MixedBackendError, match=r"^jacrev\(direct\): f calls torch code"):
        multiad.jacrev(direct, backend=name)(X)


def test_autograd_code_on_jax_names_the_autograd_backend() -> None:
    import autograd.numpy as anp

    def f(x: Any) -> Any:
        return anp.sum(anp.sin(x))

    with pytest.raises(multiad.MixedBackendError, match=r"f calls autograd code .* select backend='autograd'"):
        multiad.grad(f, backend="jax")(X)


@pytest.mark.parametrize("name", ["torch", "jax", "autograd", "numpy"])
def test_own_type_errors_pass_unchanged(name: str) -> None:
    def f(x: Any) -> Any:
        raise TypeError("the user's own")

    with pytest.raises(TypeError) as info:
        multiad.grad(f, backend=name)(X)
    assert type(info.value) is TypeError and str(info.value) == "the user's own"


@pytest.fixture
def torch_unclaimed() -> Iterator[str]:
    """A backend over torch that leaves torch's arrays to the in-tree backend (``array_modules``
    empty), as a third-party plugin over the same framework does; the registry is restored after."""
    _registry.records()
    state = _registry.snapshot()
    base = type(_registry.get("torch"))
    cls = type("Unclaimed", (base,), {"name": "rt_unclaimed", "array_modules": (), "__module__": __name__})
    multiad.register_backend("rt_unclaimed", cls)
    try:
        yield "rt_unclaimed"
    finally:
        _registry.restore(state)


def test_own_framework_code_is_not_foreign(torch_unclaimed: str) -> None:
    # torch code raising inside f runs on this backend's own arrays: the error is f's own, not a
    # sign that f needs the 'torch' backend.
    def f(x: Any) -> Any:
        return sum(mnp.sum(x))  # iterating over a 0-d tensor: torch raises TypeError

    with pytest.raises(TypeError, match="iteration over a 0-d tensor") as info:
        multiad.grad(f, backend=torch_unclaimed)(X)
    assert not isinstance(info.value, multiad.MixedBackendError)
    g = multiad.grad(lambda x: mnp.sum(mnp.sin(x)), backend=torch_unclaimed)(X)
    np.testing.assert_allclose(g.detach().numpy(), np.cos(X), rtol=1e-12)


@pytest.mark.parametrize(
    ("owner", "name"), [("torch", "jax"), ("jax", "torch"), ("jax", "autograd"), ("torch", "autograd")]
)
def test_an_operator_on_a_closed_over_array_names_it(owner: str, name: str) -> None:
    """``x * c`` with ``c`` another framework's array that f closes over: both frameworks
    refuse the operator; the error names ``c``, its framework and the conversion."""
    c = multiad.asarray(np.ones(3), backend=owner)

    def scaled(x: Any) -> Any:
        return mnp.sum(x * c)

    with pytest.raises(
        multiad.MixedBackendError, match=rf"^grad\(scaled\): f combines .*'c', {_an(owner)} array"
    ) as info:
        multiad.grad(scaled, backend=name)(X)
    assert f"multiad.asarray(c, backend='{name}')" in str(info.value)
    # converted first, it runs: d/dx sum(x * 1) = 1
    c = multiad.asarray(c, backend=name)
    np.testing.assert_allclose(multiad.to_numpy(multiad.grad(scaled, backend=name)(X)), np.ones(3))


OPERATORS: dict[str, Any] = {
    "x * c": lambda x, c: x * c,
    "c * x": lambda x, c: c * x,
    "sin(x) * x * c": lambda x, c: mnp.sin(x) * x * c,
    "x + c": lambda x, c: x + c,
    "c - x": lambda x, c: c - x,
    "x / c": lambda x, c: x / c,
    "c ** x": lambda x, c: c**x,
    "x @ c": lambda x, c: x @ c,
}


@pytest.mark.parametrize("owner", ["jax", "torch"])
@pytest.mark.parametrize("op", list(OPERATORS))
def test_autograd_operators_refuse_a_closed_over_array(owner: str, op: str) -> None:
    """NOTE [Arrays of another framework as operands] in backends/autograd: autograd's box took
    a JAX array in (``x * c`` gave a gradient, ``sin(x) * x * c`` autograd's internal "Can't find
    vector space" TypeError), where torch and the numpy backend refuse it."""
    c = multiad.asarray(np.full(3, 2.0), backend=owner)
    fn = OPERATORS[op]

    def scaled(x: Any) -> Any:
        return mnp.sum(fn(x, c))

    with pytest.raises(
        multiad.MixedBackendError, match=r"^grad\(scaled\): f combines the 'autograd' backend's arrays with 'c', "
    ) as info:
        multiad.grad(scaled, backend="autograd")(X)
    assert "multiad.asarray(c, backend='autograd')" in str(info.value)
    # converted first, it runs: against central differences of the same function on numpy arrays
    c = multiad.asarray(c, backend="autograd")
    got = multiad.to_numpy(multiad.grad(scaled, backend="autograd")(X))
    np.testing.assert_allclose(got, central_gradient(lambda x: np.sum(fn(x, np.full(3, 2.0))), X), rtol=1e-6)


def test_plain_autograd_keeps_its_operators_after_the_backend_loads() -> None:
    """The refusal of NOTE [Arrays of another framework as operands] holds inside multiad's calls
    only: ``autograd.grad`` called directly, in the same process and after the backend has
    loaded, takes a JAX array in ``x * c`` as autograd does without multiad (d/dx sum(x * c) = c).
    Before, the backend's operator wrappers refused it everywhere ("unsupported operand type(s)")."""
    import autograd
    import autograd.numpy as anp
    import jax.numpy as jnp

    c = jnp.asarray(np.array([2.0, -1.0, 3.0], dtype=np.float32))
    multiad.grad(lambda x: mnp.sum(x * x), backend="autograd")(X)  # the backend is loaded
    for _ in range(2):  # before and after a refused multiad call
        got = autograd.grad(lambda x: anp.sum(x * c))(X)
        np.testing.assert_allclose(np.asarray(got), [2.0, -1.0, 3.0])
        with pytest.raises(multiad.MixedBackendError, match=r"f combines the 'autograd' backend's arrays with 'c'"):
            multiad.grad(lambda x: mnp.sum(x * c), backend="autograd")(X)


def _an(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


@pytest.mark.parametrize("mode", ["auto", "quiet_remove_frames", "remove_frames", "off"])
@pytest.mark.parametrize("name", ["torch", "autograd"])
def test_jax_code_elsewhere_names_the_jax_backend(name: str, mode: str) -> None:
    """JAX removes its own frames from a TypeError's traceback (jax_traceback_filtering, on by
    default), so the frame walk finds none of them: NOTE [Frames a framework removed]."""
    import jax

    @jax.custom_vjp
    def ident(x: Any) -> Any:
        return x

    ident.defvjp(lambda x: (x, None), lambda _, g: (g,))

    def with_rule(x: Any) -> Any:
        return mnp.sum(ident(x))

    def with_jnp(x: Any) -> Any:
        return jax.numpy.sum(jax.numpy.sin(x))

    before = jax.config.jax_traceback_filtering
    jax.config.update("jax_traceback_filtering", mode)
    try:
        for f in (with_rule, with_jnp):
            with pytest.raises(multiad.MixedBackendError, match=rf"^grad\({f.__name__}\): f calls jax code") as info:
                multiad.grad(f, backend=name)(X)
            assert f"runs only on the 'jax' backend, not on '{name}'; select backend='jax'" in str(info.value)
    finally:
        jax.config.update("jax_traceback_filtering", before)
