"""Property-based tests (hypothesis): random shapes and values on every backend.

Properties: jvp and vjp agree with closed-form float64 derivatives and are linear in the
tangent/cotangent; the dot-product identity ``<v, J u> = <J^T v, u>`` links forward and reverse
mode; and the four backends agree with each other on the same function (differential testing).
Examples are few (``max_examples`` 15) and derandomized, so the file is quick and repeatable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS, tolerance
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import multiad
import multiad.numpy as mnp

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)

# Shapes from a small pool: JAX compiles each operation once per shape, and compiling for many
# shapes would dominate the run time. The pool has a scalar, vectors and matrices.
shapes = st.sampled_from([(), (1,), (3,), (2, 2), (2, 3)])
values = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False, width=64)
scales = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


def arrays(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=values)


@st.composite
def same_shape(draw: st.DrawFn, n: int) -> list[np.ndarray]:
    """``n`` arrays of one random shape."""
    shape = draw(shapes)
    return [draw(arrays(shape)) for _ in range(n)]


# -- functions with closed-form derivatives -----------------------------------------------------


def coupled(x: Any) -> Any:
    """``tanh(x) * sum(x**2) + sin(x) * x``: every output depends on every input."""
    return mnp.tanh(x) * mnp.sum(x * x) + mnp.sin(x) * x


def coupled_jvp(x: np.ndarray, u: np.ndarray) -> np.ndarray:
    s, t = np.sum(x * x), np.tanh(x)
    return (1 - t**2) * u * s + t * 2 * np.sum(x * u) + (np.cos(x) * x + np.sin(x)) * u  # type: ignore[no-any-return]


def coupled_vjp(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    s, t = np.sum(x * x), np.tanh(x)
    return (1 - t**2) * v * s + 2 * x * np.sum(t * v) + (np.cos(x) * x + np.sin(x)) * v  # type: ignore[no-any-return]


def two_args(x: Any, y: Any) -> Any:
    """Outputs shaped like ``x``; ``y`` may have another shape."""
    return mnp.sin(x) * mnp.sum(y * y) + mnp.exp(-x * x) * mnp.sum(mnp.cos(y))


def energy(x: Any) -> Any:
    """A scalar: ``sum(sin(x) * x) + sum(x)**2 / 4``."""
    return mnp.sum(mnp.sin(x) * x) + mnp.sum(x) ** 2 / 4.0


def energy_grad(x: np.ndarray) -> np.ndarray:
    return np.cos(x) * x + np.sin(x) + np.sum(x) / 2.0  # type: ignore[no-any-return]


def energy_hvp(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    return (2 * np.cos(x) - x * np.sin(x)) * t + np.sum(t) / 2.0  # type: ignore[no-any-return]


def np_of(x: Any) -> np.ndarray:
    return np.asarray(multiad.to_numpy(x), dtype=np.float64)


def close(actual: Any, expected: Any, name: str, order: int = 1, scale: float = 1.0) -> None:
    tol = tolerance(name, order)
    np.testing.assert_allclose(np_of(actual), expected, rtol=tol["rtol"], atol=tol["atol"] * max(1.0, scale))


# -- jvp and vjp: closed forms and linearity ----------------------------------------------------


@pytest.mark.parametrize("name", BACKENDS)
@SETTINGS
@given(xs=same_shape(3), a=scales, b=scales)
def test_jvp_is_the_closed_form_and_linear(name: str, xs: list[np.ndarray], a: float, b: float) -> None:
    x, u, v = xs
    _, ju = multiad.jvp(coupled, (x,), (u,), backend=name)
    _, jv = multiad.jvp(coupled, (x,), (v,), backend=name)
    _, jw = multiad.jvp(coupled, (x,), (a * u + b * v,), backend=name)
    assert tuple(np_of(ju).shape) == x.shape
    close(ju, coupled_jvp(x, u), name, scale=float(np.abs(u).max(initial=0)) * 10)
    close(jw, a * np_of(ju) + b * np_of(jv), name, scale=10 * (abs(a) + abs(b)))


@pytest.mark.parametrize("name", BACKENDS)
@SETTINGS
@given(xs=same_shape(3), a=scales, b=scales)
def test_vjp_is_the_closed_form_and_linear(name: str, xs: list[np.ndarray], a: float, b: float) -> None:
    x, p, q = xs
    _, vjp_fn = multiad.vjp(coupled, x, backend=name)
    (gp,) = vjp_fn(p)
    (gq,) = vjp_fn(q)
    (gw,) = vjp_fn(a * p + b * q)
    close(gp, coupled_vjp(x, p), name, scale=10)
    close(gw, a * np_of(gp) + b * np_of(gq), name, scale=10 * (abs(a) + abs(b)))


@st.composite
def dot_case(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    sx, sy = draw(shapes), draw(shapes)
    return draw(arrays(sx)), draw(arrays(sy)), draw(arrays(sx)), draw(arrays(sy)), draw(arrays(sx))


@pytest.mark.parametrize("name", BACKENDS)
@SETTINGS
@given(case=dot_case())
def test_dot_product_identity(name: str, case: tuple[np.ndarray, ...]) -> None:
    # <v, J u> = <J^T v, u> with J the Jacobian of two_args in both of its arguments.
    x, y, ux, uy, v = case
    _, ju = multiad.jvp(two_args, (x, y), (ux, uy), backend=name)
    _, vjp_fn = multiad.vjp(two_args, x, y, backend=name)
    jtv_x, jtv_y = vjp_fn(v)
    left = float(np.sum(v * np_of(ju)))
    right = float(np.sum(np_of(jtv_x) * ux) + np.sum(np_of(jtv_y) * uy))
    tol = tolerance(name)
    size = 1.0 + float(np.abs(v).sum() * np.abs(np_of(ju)).max(initial=0))
    assert abs(left - right) <= tol["rtol"] * size + tol["atol"] * 10, (left, right)


# -- the backends agree with each other ---------------------------------------------------------


@SETTINGS
@given(x=shapes.flatmap(arrays))
def test_backends_agree_on_gradients(x: np.ndarray) -> None:
    grads = {name: np_of(multiad.grad(energy, backend=name)(x)) for name in BACKENDS}
    expected = energy_grad(x)
    for name, g in grads.items():
        close(g, expected, name, scale=10)
    # Differential: every exact backend agrees with torch to rounding.
    for name in ("jax", "autograd"):
        np.testing.assert_allclose(grads[name], grads["torch"], rtol=1e-12, atol=1e-12)


@SETTINGS
@given(xs=same_shape(1))
def test_backends_agree_on_jacobians(xs: list[np.ndarray]) -> None:
    (x,) = xs
    n = x.size
    reference = np.stack([coupled_jvp(x, e.reshape(x.shape)).reshape(-1) for e in np.eye(n)], axis=1)
    for name in BACKENDS:
        for transform in (multiad.jacrev, multiad.jacfwd):
            jac = np_of(transform(coupled, backend=name)(x))
            assert jac.shape == x.shape + x.shape
            close(jac.reshape(n, n), reference, name, scale=10)


@SETTINGS
@given(xs=same_shape(2))
def test_backends_agree_on_second_order(xs: list[np.ndarray]) -> None:
    x, t = xs
    expected = energy_hvp(x, t)
    results = {}
    for name in BACKENDS:
        (hv,) = multiad.hvp(energy, (x,), (t,), backend=name)
        (vh,) = multiad.vhp(energy, (x,), (t,), backend=name)
        close(hv, expected, name, order=2, scale=10)
        close(vh, expected, name, order=2, scale=10)
        results[name] = np_of(hv)
    for name in ("jax", "autograd"):
        np.testing.assert_allclose(results[name], results["torch"], rtol=1e-10, atol=1e-10)


@SETTINGS
@given(xs=same_shape(1), batch=st.integers(1, 3))
def test_backends_agree_on_vmap(xs: list[np.ndarray], batch: int) -> None:
    (x,) = xs
    stacked = np.stack([x * (k + 1) / batch for k in range(batch)])
    expected = np.stack([np_of(multiad.grad(energy, backend="numpy")(row)) for row in stacked])
    for name in BACKENDS:
        out = multiad.vmap(multiad.grad(energy, backend=name), backend=name)(stacked)
        assert np_of(out).shape == stacked.shape
        close(out, np.stack([energy_grad(row) for row in stacked]), name, scale=10)
        close(out, expected, "numpy", scale=10)  # and with the numpy backend's loop of gradients
