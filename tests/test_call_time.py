"""Functions returned by vjp and linearize depend only on the values at the call.

NOTE [Values at call time]: changing a primal in place after the call changes nothing;
NOTE [Linearize once]: linearize evaluates f once, so that tangents match ``out``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import AD_BACKENDS, BACKENDS

import multiad
import multiad.numpy as mnp

X0 = np.array([0.5, -1.0, 2.0])


def cube(x: Any) -> Any:
    return x**3


def _mutate(x: Any) -> None:
    if isinstance(x, np.ndarray):
        x[:] = 10.0
    else:
        x.mul_(10.0)  # a torch tensor


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("given", ["numpy", "native"])
def test_vjp_and_linearize_ignore_later_in_place_changes(name: str, given: str) -> None:
    if given == "native" and name == "jax":
        pytest.skip("jax arrays cannot be changed in place")
    x = X0.copy() if given == "numpy" else multiad.asarray(X0.copy(), backend=name)
    out, vjp_fn = multiad.vjp(cube, x, backend=name)
    lin_out, jvp_fn = multiad.linearize(cube, x, backend=name)
    _mutate(x)
    tol = {"rtol": 1e-5} if name == "numpy" else {"rtol": 1e-12}
    np.testing.assert_allclose(multiad.to_numpy(vjp_fn(np.ones(3))[0]), 3 * X0**2, **tol)
    np.testing.assert_allclose(multiad.to_numpy(jvp_fn(np.ones(3))), 3 * X0**2, **tol)
    np.testing.assert_allclose(multiad.to_numpy(out), X0**3, rtol=1e-12)
    np.testing.assert_allclose(multiad.to_numpy(lin_out), X0**3, rtol=1e-12)


@pytest.mark.parametrize("name", AD_BACKENDS)
def test_linearize_evaluates_f_once(name: str) -> None:
    rng = np.random.default_rng(0)
    calls = [0]

    def noisy(x: Any) -> Any:  # a new random scale at every evaluation
        calls[0] += 1
        return mnp.sin(x) * multiad.asarray(rng.uniform(1.0, 2.0, size=3), backend=name)

    out, jvp_fn = multiad.linearize(noisy, X0, backend=name)
    scale = multiad.to_numpy(out) / np.sin(X0)
    for t in (np.ones(3), np.array([2.0, 0.0, -1.0])):
        np.testing.assert_allclose(multiad.to_numpy(jvp_fn(t)), np.cos(X0) * scale * t, rtol=1e-12)
    assert calls[0] == 1


def _exp_twice(x: Any) -> Any:
    y = mnp.exp(x)  # exp's derivative reads its result: torch and autograd save it
    return y, y


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("changed", ["out", "aux", "outputs", "linearized"])
def test_vjp_and_linearize_ignore_later_in_place_changes_of_their_results(name: str, changed: str) -> None:
    if name == "jax":
        pytest.skip("jax arrays cannot be changed in place")
    x = multiad.asarray(X0.copy(), backend=name)
    ones = multiad.asarray(np.ones(3), backend=name)
    tol = {"rtol": 1e-5} if name == "numpy" else {"rtol": 1e-12}
    if changed == "linearized":
        out, jvp_fn = multiad.linearize(mnp.exp, x, backend=name)
        _mutate(out)
        np.testing.assert_allclose(multiad.to_numpy(jvp_fn(ones)), np.exp(X0), **tol)
        return
    if changed == "outputs":  # several outputs (the general pullback)
        outs, vjp_fn = multiad.vjp(_exp_twice, x, backend=name)
        _mutate(outs[0])
        _mutate(outs[1])
        grads = vjp_fn((ones, 0.0 * ones))
    else:
        out, vjp_fn, aux = multiad.vjp(_exp_twice, x, has_aux=True, backend=name)
        _mutate(out if changed == "out" else aux)
        grads = vjp_fn(ones)
    np.testing.assert_allclose(multiad.to_numpy(grads[0]), np.exp(X0), **tol)


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("made_by", ["vjp", "linearize"])
def test_a_pullback_kept_past_its_transform_is_right_or_refused(name: str, made_by: str) -> None:
    # NOTE [Boxes of a finished trace]: a vjp_fn (or jvp_fn) made inside grad and returned as aux.
    # d/dy sum(sin(y) * x) at y = x is cos(x) * x, whichever way it is pushed.
    x0 = np.array([0.3, 0.7])

    def f(x: Any) -> Any:
        make = multiad.vjp if made_by == "vjp" else multiad.linearize
        out, kept = make(lambda y: mnp.sin(y) * x, x)
        return mnp.sum(out), kept

    g, kept = multiad.grad(f, has_aux=True, backend=name)(x0)
    np.testing.assert_allclose(multiad.to_numpy(g), np.cos(x0) * x0 + np.sin(x0), rtol=1e-5)
    try:
        got = kept(np.ones(2))
    except multiad.MultiADError as exc:  # jax and autograd refuse; the message names the cause
        assert name in ("jax", "autograd"), exc
        assert ("tracer" if name == "jax" else "transform that has returned") in str(exc)
        return
    value = got[0] if made_by == "vjp" else got
    assert type(value) is type(multiad.asarray(x0, backend=name)), type(value)
    np.testing.assert_allclose(multiad.to_numpy(value), np.cos(x0) * x0, rtol=1e-5)
