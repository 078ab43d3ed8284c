"""hessian of any output (as torch.func.hessian and jax.hessian): closed forms on every backend.

For an output leaf ``y`` and differentiated leaves ``x_i``, ``x_j`` the block has shape
``y.shape + x_i.shape + x_j.shape``; argnums, pytrees, has_aux and chunk_size behave as in jacfwd.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from conftest import AD_BACKENDS, Case

import multiad
import multiad.numpy as mnp

RNG = np.random.default_rng(12)
W = RNG.standard_normal((5, 4))
B = RNG.standard_normal(5)
XS = RNG.standard_normal((3, 4))
X = np.array([0.3, -1.2, 2.0])
Y = np.array([1.5, 0.4, -0.7])


def predict(w: Any, b: Any, x: Any) -> Any:
    return mnp.tanh(mnp.matmul(w, x) + b)


def predict_hess(x: np.ndarray) -> np.ndarray:
    """d2 tanh(w x + b)_o / dx_i dx_j = -2 t_o (1 - t_o^2) w_oi w_oj."""
    t = np.tanh(W @ x + B)
    return np.einsum("o,oi,oj->oij", -2.0 * t * (1.0 - t**2), W, W)


def diag3(v: np.ndarray) -> np.ndarray:
    """The (n, n, n) array with v on its diagonal: d2 (c * x_k^2) / dx_i dx_j for all k."""
    n = len(v)
    out = np.zeros((n, n, n))
    out[np.arange(n), np.arange(n), np.arange(n)] = v
    return out


def test_vector_output(backend: Case) -> None:
    h = multiad.hessian(predict, argnums=2, backend=backend.name)(W, B, XS[0])
    backend.close(h, predict_hess(XS[0]), order=2)


def test_vmap_of_hessian_of_vector_output(backend: Case) -> None:
    batched = multiad.vmap(multiad.hessian(predict, argnums=2), in_dims=(None, None, 0), backend=backend.name)
    backend.close(batched(W, B, XS), np.stack([predict_hess(x) for x in XS]), order=2)


def test_argnums_tuple_vector_output(backend: Case) -> None:
    # g_k = x_k^2 y_k: d2/dx2 = 2 y_k, d2/dxdy = 2 x_k, d2/dy2 = 0, all on the (k, k, k) diagonal.
    h = multiad.hessian(lambda x, y: x * x * y, argnums=(0, 1), backend=backend.name)(X, Y)
    assert isinstance(h, tuple) and all(isinstance(row, tuple) and len(row) == 2 for row in h)
    expected = ((diag3(2 * Y), diag3(2 * X)), (diag3(2 * X), np.zeros((3, 3, 3))))
    backend.close(h, expected, order=2)


def test_pytree_output_and_input(backend: Case) -> None:
    def f(p: dict[str, Any]) -> Any:
        return {"cube": p["a"] ** 3, "total": mnp.sum(p["a"] * p["c"])}

    a, c = X, Y
    h = multiad.hessian(f, backend=backend.name)({"a": a, "c": c})
    z = np.zeros((3, 3, 3))
    expected = {
        "cube": {"a": {"a": diag3(6 * a), "c": z}, "c": {"a": z, "c": z}},
        "total": {"a": {"a": np.zeros((3, 3)), "c": np.eye(3)}, "c": {"a": np.eye(3), "c": np.zeros((3, 3))}},
    }
    backend.close(h, expected, order=2)


def test_has_aux_and_chunk_size(backend: Case) -> None:
    def f(w: Any, b: Any, x: Any) -> Any:
        return predict(w, b, x), {"note": "kept", "x": x}

    for chunk_size in (None, 2):
        h, aux = multiad.hessian(f, argnums=2, has_aux=True, chunk_size=chunk_size, backend=backend.name)(W, B, XS[1])
        backend.close(h, predict_hess(XS[1]), order=2)
        assert aux["note"] == "kept"
        backend.close(aux["x"], XS[1])


def test_scalar_output_unchanged(backend: Case) -> None:
    h = multiad.hessian(lambda x: mnp.sum(x**3), backend=backend.name)(X)
    backend.close(h, np.diag(6 * X), order=2)


@pytest.mark.parametrize("transform", [multiad.hvp, multiad.vhp])
def test_hvp_vhp_stay_scalar_and_point_to_hessian(transform: Any) -> None:
    with pytest.raises(multiad.InvalidArgumentError, match=r"jacfwd\(jacrev\(f\)\)") as info:
        transform(lambda x: 2.0 * x, (X,), (X,), backend="autograd")
    assert "f must return a scalar" in str(info.value)


def test_hessian_rejects_bad_chunk_size() -> None:
    with pytest.raises(multiad.InvalidArgumentError, match=r"hessian\(predict\): chunk_size must be"):
        multiad.hessian(predict, chunk_size=0)


@pytest.mark.parametrize("name", AD_BACKENDS)
def test_linear_function_has_zero_hessian_without_a_warning(name: str) -> None:
    # autograd's own tracer warns "Output seems independent of input" for the inner gradient
    # of a linear function; its zeros are right, and no backend warns about them.
    x = np.array([1.0, -2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        h = multiad.hessian(lambda r: mnp.sum(3.0 * r), backend=name)(x)
        j = multiad.jacrev(lambda r: mnp.ones(3), backend=name)(x)
    np.testing.assert_array_equal(multiad.to_numpy(h), np.zeros((2, 2)))
    np.testing.assert_array_equal(multiad.to_numpy(j), np.zeros((3, 2)))
