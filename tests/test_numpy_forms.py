"""multiad.numpy follows numpy on argument forms with layout and dtype keywords (``order=``,
``dtype=``/``casting=`` of the joining functions), on every backend, checked against numpy
itself and, for derivatives, against closed forms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS

import multiad
import multiad.numpy as mnp

A = np.arange(1.0, 7.0).reshape(2, 3)
B = np.arange(24.0).reshape(2, 3, 4)


def same(got: Any, want: Any) -> None:
    g, w = np.asarray(multiad.to_numpy(got)), np.asarray(want)
    assert g.dtype == w.dtype, f"dtype {g.dtype}, numpy gives {w.dtype}"
    assert g.shape == w.shape, f"shape {g.shape}, numpy gives {w.shape}"
    np.testing.assert_array_equal(g, w)


def _layouts() -> list[tuple[np.ndarray, Any]]:
    """numpy arrays and torch tensors of the same memory layouts (C, transposed, Fortran)."""
    import torch

    return [
        (A, torch.tensor(A)),
        (A.T, torch.tensor(A).T),
        (np.asfortranarray(A), torch.tensor(np.ascontiguousarray(A.T)).T),
        (B.transpose(1, 0, 2), torch.tensor(B).permute(1, 0, 2)),
        (B.transpose(2, 0, 1), torch.tensor(B).permute(2, 0, 1)),
    ]


@pytest.mark.parametrize("order", ["C", "F", "A", "K"])
def test_ravel_and_reshape_order_on_torch_follow_the_layout(order: str) -> None:
    pytest.importorskip("torch")
    for ref, t in _layouts():
        same(mnp.ravel(t, order=order), np.ravel(ref, order=order))
        if order != "K":
            for shape in [(ref.size,), ref.shape[::-1], (1, ref.size)]:
                same(mnp.reshape(t, shape, order=order), np.reshape(ref, shape, order=order))


@pytest.mark.parametrize("backend_name", [b for b in BACKENDS if b != "torch"])
@pytest.mark.parametrize("order", ["C", "F", "A", "K"])
def test_ravel_and_reshape_order(backend_name: str, order: str) -> None:
    # JAX arrays are laid out in C order whatever numpy array they came from
    for ref in (A, B.transpose(2, 0, 1)):
        x = multiad.asarray(ref, backend=backend_name)
        ref_c = np.ascontiguousarray(ref) if backend_name == "jax" else ref
        same(mnp.ravel(x, order=order), np.ravel(ref_c, order=order))
        if order != "K":
            same(mnp.reshape(x, ref.shape[::-1], order=order), np.reshape(ref_c, ref.shape[::-1], order=order))


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_order_f_derivatives(backend_name: str) -> None:
    w = np.arange(6.0)
    g = multiad.grad(lambda z: mnp.sum(mnp.ravel(z, order="F") * w), backend=backend_name)(A)
    np.testing.assert_allclose(multiad.to_numpy(g), [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]], atol=1e-6)
    g = multiad.grad(lambda z: mnp.sum(mnp.reshape(z, (3, 2), order="F") * w.reshape(3, 2)), backend=backend_name)(A)
    # element k of z in Fortran order lands at position k of the result in Fortran order
    np.testing.assert_allclose(
        multiad.to_numpy(g), np.reshape(np.ravel(w.reshape(3, 2), order="F"), (2, 3), order="F"), atol=1e-6
    )


def test_bad_order_is_a_clear_error() -> None:
    pytest.importorskip("torch")
    import torch

    with pytest.raises(ValueError, match=r"mnp\.ravel: order"):
        mnp.ravel(torch.ones(2, 2), order="X")
    with pytest.raises(ValueError, match=r"mnp\.reshape: order"):
        mnp.reshape(torch.ones(2, 2), (4,), order="K")


JOINS = ["concatenate", "stack", "hstack", "vstack"]
FRAMEWORKS = [b for b in ("torch", "jax") if b in BACKENDS]


@pytest.mark.parametrize("name", JOINS)
@pytest.mark.parametrize("backend_name", BACKENDS)
def test_joining_dtype_and_casting(name: str, backend_name: str) -> None:
    f64 = np.array([[1.5, 2.0], [3.0, 4.0]])
    inputs = [(f64, f64), (f64, np.array([[1, 2], [3, 4]])), (f64.astype(np.float32), f64)]
    for ins in inputs:
        for dtype in (None, "int64", "float32", "bool"):
            for casting in ("no", "safe", "same_kind", "unsafe"):
                kw: dict[str, Any] = {"casting": casting} if dtype is None else {"dtype": dtype, "casting": casting}
                xs = [multiad.asarray(x, backend=backend_name) for x in ins]
                try:
                    want = getattr(np, name)(list(ins), **kw)
                except TypeError as e:
                    with pytest.raises(TypeError) as info:
                        getattr(mnp, name)(xs, **kw)
                    assert str(e) in str(info.value)
                    continue
                same(getattr(mnp, name)(xs, **kw), want)


@pytest.mark.parametrize("backend_name", FRAMEWORKS)
def test_joining_casting_errors_start_with_the_call(backend_name: str) -> None:
    x = multiad.asarray(np.ones(2), backend=backend_name)
    with pytest.raises(
        TypeError, match=r"^mnp.concatenate: Cannot cast array data from dtype\('float64'\) to dtype\('int64'\)"
    ):
        mnp.concatenate([x, x], dtype="int64")
    with pytest.raises(ValueError, match=r"^mnp\.stack: casting must be one of"):
        mnp.stack([x, x], casting="bad")


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_joining_with_dtype_derivative(backend_name: str) -> None:
    def f(z: Any) -> Any:
        return mnp.sum(mnp.concatenate([z, 2 * z], dtype="float64", casting="same_kind") ** 2)

    g = multiad.grad(f, backend=backend_name)(A)
    np.testing.assert_allclose(multiad.to_numpy(g), 10 * A, rtol=1e-5)
