"""Forward mode derived from reverse mode (NOTE [Linearize once]) keeps every term, and
falls back to the framework's forward mode where reverse mode cannot follow ``f``.

autograd's pullback of ``eigh`` skips the eigenvector term when its cotangent is all zeros; a
pushforward built by transposing the pullback at a zero cotangent therefore lost that term and
returned zero. The reference is a central difference of numpy's own ``eigh``.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS, Case

import multiad
import multiad.numpy as mnp

A = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 3.0]])
T = np.array([[0.5, -0.2, 0.4], [-0.2, 0.1, 0.3], [0.4, 0.3, -0.6]])  # symmetric direction
W = np.array([1.0, 2.0, 3.0])


def first_vector_weighted(a: np.ndarray) -> np.ndarray:
    """Sign-independent function of the smallest eigenvalue's eigenvector."""
    _, v = mnp.linalg.eigh(a)
    return mnp.sum(W * v[:, 0] ** 2)


def numpy_reference(a: np.ndarray) -> float:
    return float(np.sum(W * np.linalg.eigh(a)[1][:, 0] ** 2))


@pytest.mark.parametrize("name", [b for b in BACKENDS if b != "numpy"])
def test_jvp_through_eigenvectors(name: str) -> None:
    h = 1e-6
    expected = (numpy_reference(A + h * T) - numpy_reference(A - h * T)) / (2 * h)
    assert abs(expected) > 0.1  # the eigenvector term is what this checks
    _, t = multiad.jvp(first_vector_weighted, (A,), (T,), backend=name)
    assert np.allclose(multiad.to_numpy(t), expected, rtol=1e-6, atol=1e-8)
    _, push = multiad.linearize(first_vector_weighted, A, backend=name)
    assert np.allclose(multiad.to_numpy(push(T)), expected, rtol=1e-6, atol=1e-8)


def _scaled_after_use(x: Any) -> Any:
    y = mnp.exp(x)
    z = y * x
    y *= 2.0  # in place on torch and numpy, after exp saved y for reverse mode; a new array on jax and autograd
    return z + y


@pytest.mark.parametrize("chunk_size", [None, 1, 2, 3])
def test_forward_mode_follows_an_in_place_change_of_a_saved_value(backend: Case, chunk_size: int | None) -> None:
    """jacfwd, jacobian(mode="fwd") and linearize give d/dx (exp(x) x + 2 exp(x)) =
    diag(exp(x) (x + 1) + 2 exp(x)) with every chunk size, also on a backend that pushes chunked
    columns through the pullback (NOTE [Chunked forward mode by the pullback]), where reverse
    mode cannot follow the in-place change."""
    xn = np.array([0.1, 0.2, 0.3])
    d = np.exp(xn) * (xn + 1.0) + 2.0 * np.exp(xn)
    x, name = backend.array(xn), backend.name
    backend.close(multiad.jacfwd(_scaled_after_use, chunk_size=chunk_size, backend=name)(x), np.diag(d))
    jacobian = multiad.jacobian(_scaled_after_use, mode="fwd", chunk_size=chunk_size, backend=name)
    backend.close(jacobian(x), np.diag(d))
    if chunk_size is None:  # linearize has no chunks
        out, jvp_fn = multiad.linearize(_scaled_after_use, x, backend=name)
        backend.close(out, np.exp(xn) * xn + 2.0 * np.exp(xn))
        t = np.array([1.0, -2.0, 0.5])
        backend.close(jvp_fn(backend.array(t)), d * t)
        backend.close(jvp_fn(backend.array(2.0 * t)), 2.0 * d * t)


def _scaled_by_a_draw(x: Any) -> Any:
    return x * np.random.standard_normal() + mnp.sin(x)  # a new scale on every evaluation of f


@pytest.mark.parametrize("name", ["torch", "autograd"])  # JAX evaluates f once per chunk (docs/reliability.md)
@pytest.mark.parametrize("chunk_size", [None, 1, 2, 3])
def test_chunks_by_the_pullback_evaluate_f_once(name: str, chunk_size: int | None) -> None:
    """The Jacobian of x * s + sin(x), s drawn anew per evaluation, is diag(s + cos(x)) with one
    s for all columns, whatever the chunks, where they go through the pullback (NOTE [Chunked
    forward mode by the pullback], NOTE [Columns by a loop])."""
    xn = np.array([0.1, 0.2, 0.3, 0.4])
    case = Case(name)
    x = case.array(xn)
    for jac in (multiad.jacfwd, functools.partial(multiad.jacobian, mode="fwd")):
        got = multiad.to_numpy(jac(_scaled_by_a_draw, chunk_size=chunk_size, backend=name)(x))
        s = got[0, 0] - np.cos(xn[0])
        case.close(case.array(got), np.diag(s + np.cos(xn)))
    cubes = lambda v: mnp.sum(v**3) * np.random.standard_normal()  # noqa: E731
    hess = multiad.to_numpy(multiad.hessian(cubes, chunk_size=chunk_size, backend=name)(x))
    s = hess[0, 0] / (6.0 * xn[0])
    case.close(case.array(hess), np.diag(6.0 * xn * s))
