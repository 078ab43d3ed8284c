"""The containers of results of several arrays (tuple, list, numpy's named tuples with their
field names) on every backend against numpy's own, with the arrays' values, dtypes and shapes
(NOTE [Several arrays as numpy's tuple]; autograd: inside ``multiad.grad``, on its boxed values)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS, central_gradient

import multiad
import multiad.numpy as mnp

A = np.arange(1.0, 13.0).reshape(3, 4)
S = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])
V = np.array([0.0, 1.5, 0.0, 2.0, -3.0])

# each case: (m, c) -> result (numpy's functions of several results that mnp has; the others,
# unravel_index, frexp, histogram, ..., are in mnp.ABSENT), with m the namespace (numpy or multiad.numpy) and c the
# function making the backend's array of a numpy array
CASES: dict[str, Callable[[Any, Any], Any]] = {
    "broadcast_arrays": lambda m, c: m.broadcast_arrays(c(V[:, None]), c(V[None, :3])),
    "broadcast_arrays_one": lambda m, c: m.broadcast_arrays(c(V)),
    "atleast_1d": lambda m, c: m.atleast_1d(c(V), c(np.float64(2.0))),
    "atleast_1d_one": lambda m, c: m.atleast_1d(c(np.float64(2.0))),
    "atleast_2d": lambda m, c: m.atleast_2d(c(V), c(A)),
    "atleast_3d": lambda m, c: m.atleast_3d(c(V), c(A), c(np.float64(2.0))),
    "split": lambda m, c: m.split(c(A), 2, axis=1),
    "split_at": lambda m, c: m.split(c(A), [1, 3], axis=1),
    "array_split": lambda m, c: m.array_split(c(A), 3, axis=1),
    "hsplit": lambda m, c: m.hsplit(c(A), 2),
    "vsplit": lambda m, c: m.vsplit(c(A), 3),
    "dsplit": lambda m, c: m.dsplit(c(np.stack([A, A], 2)), 2),
    "unstack": lambda m, c: m.unstack(c(A)),
    "meshgrid": lambda m, c: m.meshgrid(c(V), c(V[:2])),
    "meshgrid_sparse": lambda m, c: m.meshgrid(c(V), c(V[:2]), sparse=True, indexing="ij"),
    "where_one": lambda m, c: m.where(c(A) > 5),
    "divmod": lambda m, c: m.divmod(c(V), 2.0),
    "modf": lambda m, c: m.modf(c(V)),
    "gradient": lambda m, c: m.gradient(c(A)),
    "average_returned": lambda m, c: m.average(c(A), axis=0, returned=True),
    "slogdet": lambda m, c: m.linalg.slogdet(c(S)),
    "eigh": lambda m, c: m.linalg.eigh(c(S)),
    "svd": lambda m, c: m.linalg.svd(c(S)),
    "qr": lambda m, c: m.linalg.qr(c(S)),
    "qr_complete": lambda m, c: m.linalg.qr(c(A.T), mode="complete"),
}


def _shape_of(result: Any) -> Any:
    """The containers of ``result``: type name and field names of named tuples, nested."""
    if isinstance(result, tuple) and hasattr(result, "_fields"):
        return (type(result).__name__, result._fields, [_shape_of(r) for r in result])
    if isinstance(result, (tuple, list)):
        return (type(result).__name__, [_shape_of(r) for r in result])
    return "array"


def _leaves(result: Any) -> list[Any]:
    if isinstance(result, (tuple, list)):
        return [leaf for r in result for leaf in _leaves(r)]
    return [result]


def _on(backend_name: str, case: Callable[[Any, Any], Any]) -> Any:
    """``case`` on arrays of the backend (autograd: float arrays boxed inside ``multiad.grad``)."""
    if backend_name != "autograd":
        return case(mnp, lambda a: multiad.asarray(np.asarray(a), backend=backend_name))
    seen: list[Any] = []

    def f(t: Any) -> Any:
        def boxed(a: Any) -> Any:
            a = np.asarray(a)
            return a + 0.0 * t if a.dtype.kind == "f" else a

        seen.append(case(mnp, boxed))
        return t * 1.0

    multiad.grad(f, backend="autograd")(np.float64(1.0))
    floats = any(np.asarray(getattr(leaf, "_value", leaf)).dtype.kind == "f" for leaf in _leaves(seen[0]))
    boxed_out = any(type(leaf).__name__.endswith("Box") for leaf in _leaves(seen[0]))
    assert boxed_out or not floats, "float results of boxed arguments are boxed"
    return seen[0]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", list(CASES))
def test_result_container_is_numpys(backend_name: str, name: str) -> None:
    """jax's broadcast_arrays and atleast_1d/2d/3d of several arrays returned a list where numpy
    2 returns a tuple; autograd's atleast_1d of several traced arrays raised."""
    want = CASES[name](np, np.asarray)
    got = _on(backend_name, CASES[name])
    assert _shape_of(got) == _shape_of(want)
    if name == "qr_complete":
        # Q's columns past R's rank complete it arbitrarily (docs/api-numpy.md): which completion
        # depends on the LAPACK build. Those columns are checked as an orthonormal completion.
        (q, r), (wq, wr) = (
            [np.asarray(multiad.to_numpy(getattr(v, "_value", v))) for v in _leaves(t)] for t in (got, want)
        )
        diagonal = np.abs(np.diagonal(wr))
        k = int(np.sum(diagonal > 1e-10 * diagonal.max()))  # A's rank (2 here)
        np.testing.assert_allclose(q.T @ q, np.eye(q.shape[0]), atol=1e-12)
        np.testing.assert_allclose(np.abs(q[:, :k]), np.abs(wq[:, :k]), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.abs(r[:k]), np.abs(wr[:k]), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(q @ r, wq @ wr, rtol=1e-12, atol=1e-12)  # both factor A
        assert q.dtype == wq.dtype and r.dtype == wr.dtype
        return
    for g, w in zip(_leaves(got), _leaves(want), strict=True):
        g_np, w_np = np.asarray(multiad.to_numpy(getattr(g, "_value", g))), np.asarray(w)
        assert g_np.dtype == w_np.dtype and g_np.shape == w_np.shape, (g_np, w_np)
        if name in ("eigh", "svd", "qr", "qr_complete"):  # vectors up to sign: compared by abs
            g_np, w_np = np.abs(g_np), np.abs(w_np)
        np.testing.assert_allclose(g_np, w_np, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", ["broadcast_arrays", "atleast_1d", "atleast_2d", "atleast_3d"])
def test_tuple_results_differentiate(backend_name: str, name: str) -> None:
    """The derivative through the fixed functions, against central differences of numpy's."""
    x = np.array([0.3, -1.2, 0.7])

    def loss(m: Any, t: Any) -> Any:
        a, b = getattr(m, name)(t * t, m.sin(t[:1]))
        return m.sum(a * b)

    got = multiad.to_numpy(multiad.grad(lambda t: loss(mnp, t), backend=backend_name)(x))
    want = central_gradient(lambda t: loss(np, t), x)
    tol = 1e-4 if backend_name == "numpy" else 1e-7
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
