"""An f that changes in place an argument it does not differentiate (a keyword argument, an
argument outside argnums): within one call every evaluation of f sees the caller's value, on
every backend. The backends that evaluate f many times per call (numpy's finite differences,
autograd's loop vmap and its arguments as plain numpy arrays) refuse the write; torch and JAX
evaluate f once per call and give it the caller's array, as a plain call of f does (NOTE
[Arguments changed in place, per backend] in multiad/_flat.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

BACKENDS = ["numpy", "autograd", "torch", "jax"]
REFUSING = {"numpy", "autograd"}
X = np.array([0.5, 1.5])


def _by_keyword(x: Any, y: Any = None) -> Any:
    y *= 2.0
    return mnp.sum(x * y)


def _positional(x: Any, y: Any) -> Any:
    y *= 2.0
    return mnp.sum(x * y)


def _skip(backend: str) -> None:
    if backend != "numpy":
        pytest.importorskip(backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_keyword_argument_changed_in_place(backend: str) -> None:
    _skip(backend)
    y = np.ones(2)
    grad = multiad.grad(_by_keyword, backend=backend)
    if backend in REFUSING:
        with pytest.raises(multiad.NonDifferentiableError, match=r"^grad\(_by_keyword\): .*changes in place"):
            grad(X, y=y)
        assert y.tolist() == [1.0, 1.0]
        return
    # f's own semantics, as f(X, y=y) called twice: each call sees the y it is given, once
    first = multiad.to_numpy(grad(X, y=y))
    np.testing.assert_array_equal(first, [2.0, 2.0])  # 2 y at the call
    assert y.tolist() == [2.0, 2.0]  # changed once, as a plain call of f would
    np.testing.assert_array_equal(multiad.to_numpy(grad(X, y=y)), [4.0, 4.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_argument_outside_argnums_changed_in_place(backend: str) -> None:
    _skip(backend)
    y = np.ones(2)
    try:
        g = multiad.to_numpy(multiad.grad(_positional, backend=backend)(X, y))
    except multiad.NonDifferentiableError as exc:
        assert str(exc).startswith("grad(_positional): ")
        assert backend != "jax"
        assert y.tolist() == [1.0, 1.0]
    else:
        assert backend == "jax"  # converted to a JAX array: the caller's y is out of reach
        np.testing.assert_array_equal(g, [2.0, 2.0])
        assert y.tolist() == [1.0, 1.0]
