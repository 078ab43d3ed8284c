"""A framework's own functions and array methods in f, run on another backend, name the backend
they run on (NOTE [Framework functions and methods in f])."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])
X = np.array([1.0, -2.0, 0.5])
OTHERS = {"torch": ["jax", "autograd", "numpy"], "jax": ["torch", "autograd", "numpy"]}


def torch_functions() -> dict[str, Callable[[Any], Any]]:
    import torch
    import torch.nn.functional as F

    linear = torch.nn.functional.linear  # a C function reached through a closure, not a module
    w = torch.as_tensor(W)

    return {
        "F.linear": lambda x: F.linear(x, w).tanh().sum(),
        "torch.sin": lambda x: torch.sin(x).sum(),
        "imported linear": lambda x: linear(x, w).sum(),
    }


def torch_methods() -> dict[str, Callable[[Any], Any]]:
    import torch  # noqa: F401 - torch's arrays are known once torch is imported

    def doubled_norm(x: Any) -> Any:
        y = x * 2
        return y.norm()

    return {".sin()": lambda x: x.sin().sum(), ".norm()": doubled_norm}


def _check(err: BaseException, owner: str, name: str, cause: type[BaseException]) -> None:
    assert isinstance(err, multiad.MixedBackendError)
    text = str(err)
    assert f"runs only on the {owner!r} backend, not on {name!r}; select backend={owner!r}" in text
    assert "multiad.numpy" in text
    assert isinstance(err.__cause__, cause)


TRANSFORMS: dict[str, Callable[[Callable[..., Any], str], Any]] = {
    "grad": lambda f, name: multiad.grad(f, backend=name)(X),
    "jacrev": lambda f, name: multiad.jacrev(f, backend=name)(X),
    "jacfwd": lambda f, name: multiad.jacfwd(f, backend=name)(X),
    "vmap": lambda f, name: multiad.vmap(f, backend=name)(np.stack([X, 2 * X])),
}


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
@pytest.mark.parametrize("name", OTHERS["torch"])
def test_torch_functions_elsewhere_name_the_torch_backend(name: str, transform: str) -> None:
    for label, f in torch_functions().items():
        with pytest.raises(multiad.MixedBackendError, match=r"f calls torch code \(") as info:
            TRANSFORMS[transform](f, name)
        _check(info.value, "torch", name, TypeError)
        assert "[[" not in str(info.value), label  # no array dump


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
@pytest.mark.parametrize("name", OTHERS["torch"])
def test_torch_methods_elsewhere_name_the_torch_backend(name: str, transform: str) -> None:
    for label, f in torch_methods().items():
        attr = label.strip(".()")
        with pytest.raises(multiad.MixedBackendError, match=rf"f uses \.{attr} of an array, which torch's") as info:
            TRANSFORMS[transform](f, name)
        _check(info.value, "torch", name, AttributeError)


@pytest.mark.parametrize("name", OTHERS["jax"])
def test_jax_methods_elsewhere_name_the_jax_backend(name: str) -> None:
    import jax  # noqa: F401 - jax's arrays are known once jax is imported

    def f(x: Any) -> Any:
        return mnp.sum(x.at[0].set(1.0))

    with pytest.raises(multiad.MixedBackendError, match=r"f uses \.at of an array, which jax's") as info:
        multiad.grad(f, backend=name)(X)
    _check(info.value, "jax", name, AttributeError)


def test_torch_code_runs_on_torch() -> None:
    """The functions refused elsewhere are right on their own backend (closed forms)."""
    fs = {**torch_functions(), **torch_methods()}
    s = 1.0 - np.tanh(W @ X) ** 2
    expected = {
        "F.linear": W.T @ s,
        "torch.sin": np.cos(X),
        "imported linear": W.sum(axis=0),
        ".sin()": np.cos(X),
        ".norm()": 2 * X / np.linalg.norm(X),
    }
    for label, f in fs.items():
        g = multiad.grad(f, backend="torch")(X)
        np.testing.assert_allclose(multiad.to_numpy(g), expected[label], rtol=1e-12, atol=1e-15, err_msg=label)


@pytest.mark.parametrize("name", ["torch", "jax", "autograd", "numpy"])
def test_errors_of_f_itself_pass_unchanged(name: str) -> None:
    """A misspelt method, an error of f's own framework and f's own error, in a function that
    names another framework, are not taken for foreign code."""
    import jax.numpy as jnp
    import torch

    def misspelt(x: Any) -> Any:
        return torch.tanh(x) if name == "torch" else x.sinn()

    def own(x: Any) -> Any:
        if name == "torch":
            return torch.sin(x, 3).sum()  # torch's own TypeError on the torch backend
        if name == "jax":
            return jnp.reshape(x, "bad").sum()
        raise TypeError(f"the user's own: {type(x).__name__}")

    for f in (misspelt, own):
        if name == "torch" and f is misspelt:
            continue
        with pytest.raises(Exception) as info:
            multiad.grad(f, backend=name)(X)
        assert not isinstance(info.value, multiad.MixedBackendError), (f.__name__, info.value)
    with pytest.raises(AttributeError, match="sinn"):
        multiad.grad(lambda x: x.sinn(), backend="torch")(X)
