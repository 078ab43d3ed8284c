"""The torch backend's transforms inside torch's own modes: under ``torch.inference_mode()``,
where torch.func's own run (NOTE [Forward mode under inference_mode] in backends/torch), forward
mode raised torch's bare "Inference tensors do not track version counter"; inside the caller's
``forward_ad.dual_level()``, where torch cannot nest forward mode, torch's bare error named no
call and no way out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

torch = pytest.importorskip("torch")

X = np.array([0.5, 1.5, -0.7])
V = np.array([1.0, -2.0, 0.5])


def _cube_sum(z: Any) -> Any:
    return mnp.sum(z**3)


def _cube(z: Any) -> Any:
    return z**3


# each call against its closed form: d/dx sum(x**3) = 3x**2, d2 = diag(6x), jvp of x**3 = 3x**2 v
CASES: dict[str, tuple[Callable[[Any], Any], Callable[[], np.ndarray]]] = {
    "jvp": (lambda x: multiad.jvp(_cube, (x,), (V,), backend="torch")[1], lambda: 3 * X**2 * V),
    "jacfwd": (lambda x: multiad.jacfwd(_cube, backend="torch")(x), lambda: np.diag(3 * X**2)),
    "jacobian": (lambda x: multiad.jacobian(_cube, backend="torch")(x), lambda: np.diag(3 * X**2)),
    "hessian": (lambda x: multiad.hessian(_cube_sum, backend="torch")(x), lambda: np.diag(6 * X)),
    "hvp": (lambda x: multiad.hvp(_cube_sum, (x,), (V,), backend="torch")[0], lambda: 6 * X * V),
    "vhp": (lambda x: multiad.vhp(_cube_sum, (x,), (V,), backend="torch")[0], lambda: 6 * X * V),
    "grad": (lambda x: multiad.grad(_cube_sum, backend="torch")(x), lambda: 3 * X**2),
    "vjp": (
        lambda x: multiad.vjp(_cube, x, backend="torch")[1](multiad.asarray(V, backend="torch"))[0],
        lambda: 3 * X**2 * V,
    ),
}


@pytest.mark.parametrize("given", ["numpy", "tensor"])
@pytest.mark.parametrize("name", list(CASES))
def test_transforms_under_inference_mode(name: str, given: str) -> None:
    call, expected = CASES[name]
    with torch.inference_mode():
        x = X.copy() if given == "numpy" else torch.tensor(X)
        got = call(x)
    np.testing.assert_allclose(multiad.to_numpy(got), expected(), rtol=1e-12, atol=1e-12)
    if given == "numpy":
        np.testing.assert_array_equal(x, X)


def test_a_change_in_place_under_inference_mode_is_named() -> None:
    """torch's own error for it ("Inplace update to inference tensor outside InferenceMode")
    came out of jvp bare."""

    def f(z: Any) -> Any:
        z.mul_(2.0)
        return z**3

    x = X.copy()
    with (
        torch.inference_mode(),
        pytest.raises(multiad.NonDifferentiableError, match=r"^jvp\(f\): .*in place under torch\.inference_mode\(\)"),
    ):
        multiad.jvp(f, (x,), (V,), backend="torch")
    np.testing.assert_array_equal(x, X)


@pytest.mark.parametrize("name", ["jacfwd", "hessian", "hvp", "jvp"])
def test_forward_mode_inside_a_dual_level_is_named(name: str) -> None:
    import torch.autograd.forward_ad as fw

    call = CASES[name][0]
    with (
        fw.dual_level(),
        pytest.raises(
            multiad.NonDifferentiableError, match=rf"^{name}\(.*forward_ad\.dual_level\(\).*use reverse mode"
        ),
    ):
        call(X.copy())


@pytest.mark.parametrize("name", ["jacrev", "hessian", "vhp"])
def test_reverse_mode_inside_a_dual_level_as_the_error_advises(name: str) -> None:
    import torch.autograd.forward_ad as fw

    forms = {
        "jacrev": (lambda x: multiad.jacrev(_cube, backend="torch")(x), np.diag(3 * X**2)),
        "hessian": (
            lambda x: multiad.jacrev(multiad.jacrev(_cube_sum, backend="torch"), backend="torch")(x),
            np.diag(6 * X),
        ),
        "vhp": (lambda x: multiad.vhp(_cube_sum, (x,), (V,), backend="torch")[0], 6 * X * V),
    }
    call, expected = forms[name]
    with fw.dual_level():
        got = call(X.copy())
    np.testing.assert_allclose(multiad.to_numpy(got), expected, rtol=1e-12, atol=1e-12)
