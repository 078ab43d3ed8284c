"""The numpy backend's finite differences warn where the rounding noise of f's values swamps a
derivative (NOTE [Rounding against the element's own size], NOTE [Values too coarse to change],
NOTE [Values coarser than the inputs] in backends/numpy), and stay silent on smooth, well-scaled
functions. Every result is compared with its closed form."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import multiad_numpy
import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

NP = "numpy"


def squares(x: Any) -> Any:
    return mnp.sum(x**2)


def _tolerance(dtype: Any, order: int = 1) -> float:
    return float(np.finfo(dtype).eps) ** (0.5 if order == 1 else 0.2)


# A small component beside a large one: f = sum(x**2) is dominated by the large one, and the
# noise eps |f| / h swamps the small one's derivative (or rounds its change away entirely).
MIXED = [
    np.array([30.0, 0.01], np.float32),
    np.array([300.0, 0.01], np.float32),
    np.array([1e5, 0.5]),
    np.array([1e8, 3.0]),
    np.array([1e6, 1.0]),  # every value of the second column rounds to f(x): a derivative of exactly 0
]


@pytest.mark.parametrize("x", MIXED, ids=[f"{x.dtype}-{x[0]:g}-{x[1]:g}" for x in MIXED])
def test_a_small_component_beside_a_large_one_warns(x: np.ndarray) -> None:
    with pytest.warns(multiad.AccuracyWarning, match=r"^grad\(squares\): .*estimated error"):
        g = multiad.grad(squares, backend=NP)(x)
    exact = 2 * x.astype(np.float64)
    assert abs(g[1] / exact[1] - 1) > _tolerance(x.dtype)  # the warning is needed: that element is off


def test_a_jacobian_entry_rounded_away_warns() -> None:
    x = np.array([1e6, 0.5])
    with pytest.warns(multiad.AccuracyWarning, match=r"^jacobian\("):
        jac = multiad.jacobian(lambda x: mnp.stack([x[0] ** 2 + x[1], x[1]]), backend=NP)(x)
    assert abs(jac[0, 1] - 1.0) > 1e-3  # 0 for 1


@pytest.mark.parametrize("x", [np.array([1e8, 3.0]), np.array([1e6, 1.0])], ids=["noisy", "flat"])
def test_jvp_along_a_small_component_warns(x: np.ndarray) -> None:
    with pytest.warns(multiad.AccuracyWarning, match=r"^jvp\("):
        _, t = multiad.jvp(squares, (x,), (np.array([0.0, 1.0]),), backend=NP)
    assert abs(t - 2 * x[1]) > 1e-3


def test_a_large_offset_warns() -> None:
    # the reliability page's former known limit: 1e8 + 1e-3 sin(x) at 0.3 gave -4.1e-4 for 9.6e-4
    x = np.array(0.3)
    with pytest.warns(multiad.AccuracyWarning, match="rounding noise"):
        g = multiad.grad(lambda x: 1e8 + 1e-3 * mnp.sin(x), backend=NP)(x)
    assert abs(g - 1e-3 * np.cos(0.3)) > 1e-5


def float16_inside(x: Any) -> Any:
    return mnp.sum(mnp.sin(mnp.astype(x, "float16")))


def test_values_coarser_than_the_input_get_their_own_step() -> None:
    # float16 values of a float64 input: a float64-sized step rounded away, the gradient was 0
    x = np.array([0.5, 1.5, -0.7])
    with warnings.catch_warnings():
        warnings.simplefilter("error", multiad.AccuracyWarning)
        with multiad_numpy.record_errors() as records:
            g = multiad.grad(float16_inside, backend=NP)(x)
    np.testing.assert_allclose(g, np.cos(x), atol=1e-2)  # float16's resolution, not 0
    assert records[0].tolerance == pytest.approx(_tolerance(np.float16))
    assert g.dtype == np.float64


def test_an_input_f_ignores_costs_one_probe_and_no_warning() -> None:
    # The unused input's column is flat while |f| is 1e3: one more evaluation shows f ignores it.
    calls = []

    def f(x: Any) -> Any:
        calls.append(1)
        return 1e3 + x[0] ** 2

    x = np.array([1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", multiad.AccuracyWarning)
        g = multiad.grad(f, backend=NP)(x)
    np.testing.assert_allclose(g, [2.0, 0.0], rtol=1e-8, atol=0)
    assert len(calls) == 1 + 4 * 2 + 1


rng = np.random.default_rng(3)
X = rng.uniform(-1.5, 1.5, 5)
A = rng.normal(size=(5, 5))
A = A + A.T

SMOOTH: list[tuple[str, Callable[[Any], Any], Any, Any]] = [
    ("poly", lambda x: mnp.sum(x**3 - 2 * x + 0.5 * x**2), X, 3 * X**2 - 2 + X),
    ("sin*exp", lambda x: mnp.sum(mnp.sin(x) * mnp.exp(x)), X, np.exp(X) * (np.sin(X) + np.cos(X))),
    ("log", lambda x: mnp.sum(mnp.log(x)), np.abs(X) + 0.5, 1 / (np.abs(X) + 0.5)),
    ("cos at 0", lambda x: mnp.sum(mnp.cos(x)), np.zeros(50), np.zeros(50)),
    ("minimum", lambda x: 1.0 + mnp.sum((x - 1.0) ** 2), np.ones(3), np.zeros(3)),
    ("cubic at 0", lambda x: mnp.sum(x**2 + x**3), np.zeros(3), np.zeros(3)),
    ("x**3 at 0", lambda x: mnp.sum(x**3), np.zeros(3), np.zeros(3)),
    ("logsumexp", lambda x: mnp.log(mnp.sum(mnp.exp(x))), X, np.exp(X) / np.exp(X).sum()),
    ("offset 50", lambda x: 50.0 + mnp.sum(x**2), X, 2 * X),
    ("large x", squares, np.array([100.0, 250.0, -30.0]), np.array([200.0, 500.0, -60.0])),
    ("sin(x/100)", lambda x: mnp.sum(mnp.sin(x / 100.0)), np.array([100.0, 250.0, -30.0]), None),
    ("mse", lambda x: mnp.mean((x - 0.3) ** 2), np.linspace(-1, 1, 200), 2 * (np.linspace(-1, 1, 200) - 0.3) / 200),
    ("relu with an offset", lambda x: mnp.sum(mnp.maximum(x, 0.0)) + 5.0, np.array([2.0, -1.5]), np.array([1.0, 0.0])),
]


@pytest.mark.parametrize("name, f, x, df", SMOOTH, ids=[s[0] for s in SMOOTH])
def test_smooth_well_scaled_gradients_do_not_warn(name: str, f: Callable[[Any], Any], x: Any, df: Any) -> None:
    if df is None:
        df = np.cos(x / 100.0) / 100.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", multiad.AccuracyWarning)
        g = multiad.grad(f, backend=NP)(x)
    np.testing.assert_allclose(g, df, rtol=1e-7, atol=1e-7 * max(1.0, float(np.max(np.abs(df)))))


@pytest.mark.parametrize(
    "name, f, x, hess",
    [
        ("poly", lambda x: mnp.sum(x**3 - 2 * x), X, np.diag(6 * X)),
        ("sin*exp", lambda x: mnp.sum(mnp.sin(x) * mnp.exp(x)), X, np.diag(2 * np.exp(X) * np.cos(X))),
        ("quadratic form", lambda x: 0.5 * x @ A @ x, X, A),
    ],
    ids=["poly", "sin*exp", "quadratic form"],
)
def test_smooth_hessians_do_not_warn(name: str, f: Callable[[Any], Any], x: Any, hess: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", multiad.AccuracyWarning)
        h = multiad.hessian(f, backend=NP)(x)
    np.testing.assert_allclose(h, hess, atol=1e-4 * float(np.max(np.abs(hess))))


def test_a_zero_hessian_does_not_warn() -> None:
    # Every second derivative is 0 at x = 0 (sin''(0) = 0): the nested gradients' noise alone has
    # no size of its own to be held to, and is held to eps**(1/3) |g| / s instead.
    w = np.array([0.3, -0.5, 0.9])
    with warnings.catch_warnings():
        warnings.simplefilter("error", multiad.AccuracyWarning)
        h = multiad.hessian(lambda x: w @ (x + mnp.sum(mnp.sin(x))), backend=NP)(np.zeros(3))
    np.testing.assert_allclose(h, np.zeros((3, 3)), atol=1e-6)


def test_a_zero_row_of_a_hessian_beside_a_nonzero_one_does_not_warn() -> None:
    # diag(0, 0, -sin(1) sum(w)): the nested gradients' noise is one number for every element
    w = np.array([0.3, -0.5, 0.9])
    x = np.array([0.0, 0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", multiad.AccuracyWarning)
        h = multiad.hessian(lambda x: w @ (x + mnp.sum(mnp.sin(x))), backend=NP)(x)
    np.testing.assert_allclose(h, np.diag(-np.sin(x) * w.sum()), atol=1e-5)


def test_a_hessian_zero_everywhere_does_not_warn() -> None:
    # sum(w) = 0: the Hessian -sum(w) diag(sin x) is 0 at every x; its entries are the noise
    # (about 1e-6) of gradients of size 1 (tests/test_differential found it)
    w = np.array([0.7, -1.1, 0.4])
    with warnings.catch_warnings():
        warnings.simplefilter("error", multiad.AccuracyWarning)
        h = multiad.hessian(lambda x: mnp.sum(w * (x + mnp.sum(mnp.sin(x)))), backend=NP)(np.array([0.0, 0.0, 1.0]))
    np.testing.assert_allclose(h, np.zeros((3, 3)), atol=1e-5)
