"""vmap: in_dims/out_dims forms, chunking, nesting, and composition with the derivative transforms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp

XS = np.array([[0.3, -1.2, 2.0], [1.0, 0.5, -0.4], [-0.7, 0.2, 0.9], [0.05, 1.5, -1.1], [2.2, -0.3, 0.6]])
W = np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.6]])
B = np.array([0.1, -0.3])


def sin_x(x: Any) -> Any:
    return mnp.sum(mnp.sin(x) * x)


def predict(w: Any, b: Any, x: Any) -> Any:
    return mnp.tanh(mnp.matmul(w, x) + b)


def test_in_dims_int(backend: Case) -> None:
    out = multiad.vmap(sin_x, backend=backend.name)(XS)
    backend.close(out, np.sum(np.sin(XS) * XS, axis=1), order=0)
    out = multiad.vmap(sin_x, in_dims=1, backend=backend.name)(XS.T)
    backend.close(out, np.sum(np.sin(XS) * XS, axis=1), order=0)


def test_in_dims_tuple_with_none(backend: Case) -> None:
    out = multiad.vmap(predict, in_dims=(None, None, 0), backend=backend.name)(W, B, XS)
    backend.close(out, np.tanh(XS @ W.T + B), order=0)
    # Batch along axis 1 of the second argument, the first unbatched.
    out = multiad.vmap(lambda v, m: mnp.sum(v * m), in_dims=(None, 1), backend=backend.name)(XS[0], XS.T)
    backend.close(out, XS @ XS[0], order=0)


def test_in_dims_pytree_prefix(backend: Case) -> None:
    def f(p: Any, x: Any) -> Any:
        return mnp.tanh(mnp.matmul(p["w"], x) + p["b"])

    bs = np.stack([B, 2 * B, -B, B + 1.0, 0 * B])
    out = multiad.vmap(f, in_dims=({"w": None, "b": 0}, 0), backend=backend.name)({"w": W, "b": bs}, XS)
    backend.close(out, np.tanh(XS @ W.T + bs), order=0)
    # A prefix over a tuple argument: first element batched, second not.
    out = multiad.vmap(lambda t: t[0] * t[1], in_dims=((0, None),), backend=backend.name)((XS, XS[1]))
    backend.close(out, XS * XS[1], order=0)


def test_out_dims(backend: Case) -> None:
    def f(x: Any) -> Any:
        return mnp.sin(x), x * 2.0

    xs = XS[:, :2]  # (5, 2)
    s, d = multiad.vmap(f, out_dims=1, backend=backend.name)(xs)
    backend.close((s, d), (np.sin(xs).T, 2 * xs.T), order=0)
    s, d = multiad.vmap(f, out_dims=(0, 1), backend=backend.name)(xs)
    backend.close((s, d), (np.sin(xs), 2 * xs.T), order=0)
    s, d = multiad.vmap(f, out_dims=-1, backend=backend.name)(xs)
    backend.close((s, d), (np.sin(xs).T, 2 * xs.T), order=0)


@pytest.mark.parametrize("chunk_size", [1, 2, 5, 8])
def test_chunk_size(backend: Case, chunk_size: int) -> None:
    out = multiad.vmap(predict, in_dims=(None, None, 0), chunk_size=chunk_size, backend=backend.name)(W, B, XS)
    backend.close(out, np.tanh(XS @ W.T + B), order=0)


def test_nested_vmap(backend: Case) -> None:
    x, y = np.array([1.0, 2.0, -3.0]), np.array([0.5, -1.0])
    inner = multiad.vmap(lambda a, b: mnp.sin(a) * b, in_dims=(None, 0), backend=backend.name)
    out = multiad.vmap(inner, in_dims=(0, None), backend=backend.name)(x, y)
    backend.close(out, np.outer(np.sin(x), y), order=0)


def test_per_sample_gradients(backend: Case) -> None:
    def sq_err(w: Any, x: Any, y: Any) -> Any:
        r = mnp.sum(w * x) - y
        return r * r

    w = np.array([0.2, -0.4, 1.0])
    ys = np.array([0.5, -1.0, 2.0, 0.0, 1.5])
    g = multiad.vmap(multiad.grad(sq_err), in_dims=(None, 0, 0), backend=backend.name)(w, XS, ys)
    backend.close(g, 2 * (XS @ w - ys)[:, None] * XS)


@pytest.mark.parametrize("transform", [multiad.jacrev, multiad.jacfwd])
def test_batched_jacobian(backend: Case, transform: Any) -> None:
    jac = multiad.vmap(transform(predict, argnums=2), in_dims=(None, None, 0), backend=backend.name)(W, B, XS)
    s = 1.0 - np.tanh(XS @ W.T + B) ** 2  # (5, 2)
    backend.close(jac, s[:, :, None] * W[None])


def test_batched_hessian(backend: Case) -> None:
    h = multiad.vmap(multiad.hessian(sin_x), backend=backend.name)(XS)
    expected = np.stack([np.diag(2 * np.cos(x) - x * np.sin(x)) for x in XS])
    backend.close(h, expected, order=2)


def test_vmap_errors(backend: Case) -> None:
    with pytest.raises(
        multiad.InvalidArgumentError, match=r"^vmap\(<lambda>\): mapped axes must all have the same size"
    ):
        multiad.vmap(lambda a, b: a * b, backend=backend.name)(XS, XS[:3])
    with pytest.raises(multiad.InvalidArgumentError, match=r"^vmap\(sin_x\): in_dims has 2 entries"):
        multiad.vmap(sin_x, in_dims=(0, 0), backend=backend.name)(XS)
