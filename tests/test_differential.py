"""Differential testing: random smooth functions through every transform on every backend.

Hypothesis builds random compositions of ``multiad.numpy`` operations (sin, exp, tanh,
products, sums, matmul with fixed matrices) of a 3-vector. Each is evaluated exactly, with
its Jacobian and second derivatives, by forward propagation of derivatives in plain numpy
(the chain rule applied to the same expression tree), which is the reference every
transform on every backend is compared with. The exact backends must also agree with each
other to rounding, the finite-difference backend must not warn on these smooth functions,
and the whole comparison is run again from several threads at once.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from conftest import AD_BACKENDS, BACKENDS, tolerance
from hypothesis import given, settings
from hypothesis import strategies as st

import multiad
import multiad.numpy as mnp

N = 3
A = np.array([[0.6, -0.3, 0.2], [0.1, 0.5, -0.4], [-0.2, 0.3, 0.7]])
B = np.array([[0.2, 0.9, 0.0], [-0.5, 0.1, 0.3], [0.4, 0.0, -0.6]])
W = np.array([0.7, -1.1, 0.4])  # weights of the scalar output
MATRICES = {"A": A, "B": B}

Expr = tuple[Any, ...]

leaves = st.sampled_from([("x",), ("const", 0.5), ("const", -1.5)])


def extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    unary = st.tuples(st.sampled_from(["sin", "exp", "tanh"]), children)
    binary = st.tuples(st.sampled_from(["mul", "add"]), children, children)
    matmul = st.tuples(st.just("matmul"), st.sampled_from(sorted(MATRICES)), children)
    total = st.tuples(st.just("sum"), children)
    return st.one_of(unary, binary, matmul, total)


# At least two operations deep above random subtrees (the first examples hypothesis tries are
# the smallest), and using x at least once: x enters at the root.
exprs = extend(extend(st.recursive(leaves, extend, max_leaves=4))).map(lambda e: ("add", ("x",), e))


def build(e: Expr) -> Callable[[Any], Any]:
    """The function of ``x`` that ``e`` describes, written with multiad.numpy."""
    op = e[0]
    if op == "x":
        return lambda x: x
    if op == "const":
        c = e[1]
        return lambda x: c * mnp.ones_like(x)
    if op in ("sin", "exp", "tanh"):
        inner, fn = build(e[1]), getattr(mnp, op)
        if op == "exp":  # keeps nested exponentials in range
            return lambda x: fn(mnp.tanh(inner(x)))
        return lambda x: fn(inner(x))
    if op in ("mul", "add"):
        a, b = build(e[1]), build(e[2])
        return (lambda x: a(x) * b(x)) if op == "mul" else (lambda x: a(x) + b(x))
    if op == "matmul":
        m, inner = MATRICES[e[1]], build(e[2])
        return lambda x: mnp.matmul(mnp.asarray(m), inner(x))
    inner = build(e[1])  # sum, broadcast back to a vector
    return lambda x: mnp.sum(inner(x)) * mnp.ones_like(x)


Jet = tuple[np.ndarray, np.ndarray, np.ndarray]  # value (3,), Jacobian (3, n), Hessians (3, n, n)


def jet(e: Expr, x: np.ndarray) -> Jet:
    """Value, Jacobian and second derivatives of ``e`` at ``x`` by the chain rule."""
    n = x.size
    op = e[0]
    if op == "x":
        return x.copy(), np.eye(n), np.zeros((n, n, n))
    if op == "const":
        return np.full(n, e[1]), np.zeros((n, n)), np.zeros((n, n, n))
    if op in ("sin", "exp", "tanh"):
        v, j, h = jet(e[1], x)
        if op == "exp":
            v, j, h = _unary(v, j, h, np.tanh(v), 1 - np.tanh(v) ** 2, -2 * np.tanh(v) * (1 - np.tanh(v) ** 2))
            return _unary(v, j, h, np.exp(v), np.exp(v), np.exp(v))
        if op == "sin":
            return _unary(v, j, h, np.sin(v), np.cos(v), -np.sin(v))
        t = np.tanh(v)
        return _unary(v, j, h, t, 1 - t**2, -2 * t * (1 - t**2))
    if op in ("mul", "add"):
        (va, ja, ha), (vb, jb, hb) = jet(e[1], x), jet(e[2], x)
        if op == "add":
            return va + vb, ja + jb, ha + hb
        cross = np.einsum("ij,ik->ijk", ja, jb)
        return (
            va * vb,
            va[:, None] * jb + vb[:, None] * ja,
            va[:, None, None] * hb + vb[:, None, None] * ha + cross + cross.transpose(0, 2, 1),
        )
    if op == "matmul":
        m = MATRICES[e[1]]
        v, j, h = jet(e[2], x)
        return m @ v, m @ j, np.einsum("ij,jkl->ikl", m, h)
    v, j, h = jet(e[1], x)
    return np.full(n, v.sum()), np.tile(j.sum(0), (n, 1)), np.tile(h.sum(0), (n, 1, 1))


def _unary(v: np.ndarray, j: np.ndarray, h: np.ndarray, f: np.ndarray, df: np.ndarray, d2f: np.ndarray) -> Jet:
    return f, df[:, None] * j, df[:, None, None] * h + d2f[:, None, None] * np.einsum("ij,ik->ijk", j, j)


def np_of(x: Any) -> np.ndarray:
    return np.asarray(multiad.to_numpy(x), dtype=np.float64)


def results(name: str, f: Callable[[Any], Any], x: np.ndarray, t: np.ndarray, u: np.ndarray) -> dict[str, Any]:
    """Every transform of ``f`` (vector output) and ``s = W . f`` (scalar) on backend ``name``."""

    def s(x: Any) -> Any:
        return mnp.sum(f(x) * mnp.asarray(W))

    b = name
    batch = np.stack([x, 0.5 * x])
    out: dict[str, Any] = {
        "grad": multiad.grad(s, backend=b)(x),
        "value_and_grad": multiad.value_and_grad(s, backend=b)(x)[1],
        "vjp": multiad.vjp(f, x, backend=b)[1](u)[0],
        "jvp": multiad.jvp(f, (x,), (t,), backend=b)[1],
        "linearize": multiad.linearize(f, x, backend=b)[1](t),
        "jacrev": multiad.jacrev(f, backend=b)(x),
        "jacfwd": multiad.jacfwd(f, backend=b)(x),
        "jacobian": multiad.jacobian(f, backend=b)(x),
        "hessian": multiad.hessian(s, backend=b)(x),
        "hvp": multiad.hvp(s, (x,), (t,), backend=b)[0],
        "vhp": multiad.vhp(s, (x,), (t,), backend=b)[0],
        "vmap": multiad.vmap(f, backend=b)(batch),
        "vmap(grad)": multiad.vmap(multiad.grad(s, backend=b), backend=b)(batch),
    }
    return {k: np_of(v) for k, v in out.items()}


def references(e: Expr, x: np.ndarray, t: np.ndarray, u: np.ndarray) -> dict[str, tuple[np.ndarray, int]]:
    """The exact values of :func:`results`, each with its derivative order."""
    v, j, h = jet(e, x)
    hs = np.einsum("i,ijk->jk", W, h)
    gs = W @ j
    half_v, half_j, _ = jet(e, 0.5 * x)
    return {
        "grad": (gs, 1),
        "value_and_grad": (gs, 1),
        "vjp": (u @ j, 1),
        "jvp": (j @ t, 1),
        "linearize": (j @ t, 1),
        "jacrev": (j, 1),
        "jacfwd": (j, 1),
        "jacobian": (j, 1),
        "hessian": (hs, 2),
        "hvp": (hs @ t, 2),
        "vhp": (t @ hs, 2),
        "vmap": (np.stack([v, half_v]), 0),
        "vmap(grad)": (np.stack([gs, W @ half_j]), 1),
    }


def check(e: Expr, x: np.ndarray, t: np.ndarray, u: np.ndarray) -> None:
    f = build(e)
    refs = references(e, x, t, u)
    got = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", multiad.AccuracyWarning)  # smooth functions: no warning
        for name in BACKENDS:
            got[name] = results(name, f, x, t, u)
    for name, res in got.items():
        for key, (ref, order) in refs.items():
            tol = tolerance(name, max(order, 1))
            scale = max(1.0, float(np.max(np.abs(ref), initial=0.0)))
            np.testing.assert_allclose(
                res[key], ref, rtol=tol["rtol"], atol=tol["atol"] * scale, err_msg=f"{name} {key} of {e}"
            )
    for name in AD_BACKENDS[1:]:  # exact backends agree with each other to rounding
        for key in refs:
            np.testing.assert_allclose(got[name][key], got[AD_BACKENDS[0]][key], rtol=1e-10, atol=1e-10)


vectors = st.lists(st.floats(-1.0, 1.0, allow_nan=False, width=64), min_size=N, max_size=N).map(np.array)


# autograd remarks on second derivatives of functions that are linear in x; they are right.
INDEPENDENT = "ignore:Output seems independent of input:UserWarning"


@pytest.mark.filterwarnings(INDEPENDENT)
@settings(max_examples=8, deadline=None, derandomize=True)
@given(e=exprs, x=vectors, t=vectors, u=vectors)
def test_random_functions_through_every_transform(e: Expr, x: np.ndarray, t: np.ndarray, u: np.ndarray) -> None:
    check(e, x, t, u)


@pytest.mark.filterwarnings(INDEPENDENT)
@settings(max_examples=2, deadline=None, derandomize=True)
@given(e=exprs, x=vectors, t=vectors, u=vectors)
def test_random_functions_from_several_threads(e: Expr, x: np.ndarray, t: np.ndarray, u: np.ndarray) -> None:
    shifts = [0.1 * k for k in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(check, e, x + d, t, u) for d in shifts for _ in range(2)]
        for fut in futures:
            fut.result()


def test_the_reference_is_the_chain_rule() -> None:
    # The jet of sin(A x) * x, against its derivative written out by hand.
    e: Expr = ("mul", ("sin", ("matmul", "A", ("x",))), ("x",))
    x = np.array([0.3, -0.7, 0.5])
    v, j, _ = jet(e, x)
    ax = A @ x
    np.testing.assert_allclose(v, np.sin(ax) * x)
    np.testing.assert_allclose(j, np.cos(ax)[:, None] * A * x[:, None] + np.diag(np.sin(ax)))
