"""The numpy backend's ``hvp``/``vhp``/``jvp(grad)`` beside a kink of the gradient that the nested
differences smooth (NOTE [Kinks a nested level smooths] in ``multiad_numpy/_fd.py``): they warn
where ``hessian`` does, and smooth functions along tangents of mixed sizes neither warn nor cost
more than they need.

References are closed-form Hessians. The warning tests failed before the check was built (the
results below are off by 15 to 47% without a warning).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import multiad_numpy
import numpy as np
import pytest
from conftest import Counted

import multiad
import multiad.numpy as mnp

NP = "numpy"
STEP = float(np.finfo(np.float64).eps ** (1 / 3))


def relu_squared(v: Any) -> Any:
    return mnp.sum(mnp.maximum(v, 0.0) ** 2)


def weighted_relu_squared(v: Any) -> Any:
    return mnp.sum(mnp.maximum(v, 0.0) ** 2 * mnp.asarray([1.0, 2.0, 3.0]))


def huber(v: Any) -> Any:
    a = mnp.abs(v)
    return mnp.sum(mnp.where(a < 1.0, 0.5 * v * v, a - 0.5))


def huber_hessian(x: np.ndarray) -> np.ndarray:
    return np.diag((np.abs(x) < 1.0).astype(np.float64))


def products(f: Callable[..., Any], x: np.ndarray, t: np.ndarray) -> dict[str, Callable[[], Any]]:
    return {
        "hvp": lambda: multiad.hvp(f, (x,), (t,), backend=NP)[0],
        "vhp": lambda: multiad.vhp(f, (x,), (t,), backend=NP)[0],
        "jvp(grad)": lambda: multiad.jvp(multiad.grad(f, backend=NP), (x,), (t,), backend=NP)[1],
    }


def warned_and_error(call: Callable[[], Any], exact: np.ndarray) -> tuple[bool, float]:
    """Whether ``call`` warned, and its error relative to ``max(1, |exact|)``."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        got = np.asarray(call())
    warned = any(issubclass(w.category, multiad.AccuracyWarning) for w in seen)
    return warned, float(np.max(np.abs(got - exact)) / max(1.0, float(np.max(np.abs(exact)))))


KINKED = [
    # relu(v)**2 with v[0] inside the nested step of the kink, a tangent of two sizes: [0.33, 1.2]
    ("relu squared", relu_squared, np.array([6e-7, 0.5]), np.array([0.3, 0.6]), np.diag([2.0, 2.0])),
    # element 0 was -0.54 for -1.01
    (
        "weighted relu squared",
        weighted_relu_squared,
        np.array([3.956228635467859e-07, 0.5000137899160804, -0.2]),
        np.array([-0.5062916583143148, 0.5937480717858228, 0.8911669542823284]),
        np.diag([2.0, 4.0, 0.0]),
    ),
    # the last element was -0.235 for -0.397
    (
        "huber",
        huber,
        np.array([0.8390536522388322, -0.8068121596797956, 0.6106409992957679, 0.9999988941587252]),
        np.array([-0.3365255299285121, -0.9148298592004128, 0.735687023006662, -0.3971572496742207]),
        np.diag([1.0, 1.0, 1.0, 1.0]),
    ),
]


@pytest.mark.parametrize("how", ["hvp", "vhp", "jvp(grad)"])
@pytest.mark.parametrize("name, f, x, t, hessian", KINKED, ids=[k[0] for k in KINKED])
def test_a_product_beside_a_smoothed_kink_warns(
    how: str, name: str, f: Callable[..., Any], x: np.ndarray, t: np.ndarray, hessian: np.ndarray
) -> None:
    warned, error = warned_and_error(products(f, x, t)[how], hessian @ t)
    assert error > 0.1  # the kink is within the nested step: the value is off ...
    assert warned  # ... and the call says so, as hessian does at the same point
    with pytest.warns(multiad.AccuracyWarning, match=r"order-2"):
        multiad.hessian(f, backend=NP)(x)


def test_products_near_relu_kinks_warn_or_are_right() -> None:
    # points within 3 nested steps of relu's kink, random tangents (0 of 40 may be off silently)
    rng = np.random.default_rng(1)
    silent = []
    for _ in range(40):
        x = np.array([rng.uniform(-3, 3) * STEP, 0.5 + rng.uniform(-3, 3) * STEP * 1.5, -0.2])
        t = rng.standard_normal(3)
        exact = np.diag(2 * np.array([1.0, 2.0, 3.0]) * (x > 0)) @ t
        warned, error = warned_and_error(products(weighted_relu_squared, x, t)["hvp"], exact)
        if error > 1e-3 and not warned:
            silent.append((x.tolist(), t.tolist(), error))
    assert not silent


def test_products_near_huber_kinks_warn_or_are_right() -> None:
    # one input within 3 nested steps of |x| = 1, random tangents (10 of 150 were off silently)
    rng = np.random.default_rng(3)
    silent = []
    for trial in range(60):
        x = rng.standard_normal(4)
        x[trial % 4] = 1.0 + rng.uniform(-3, 3) * STEP
        t = rng.standard_normal(4)
        warned, error = warned_and_error(products(huber, x, t)["hvp"], huber_hessian(x) @ t)
        if error > 1e-3 and not warned:
            silent.append((x.tolist(), t.tolist(), error))
    assert not silent


def sin_times_x(x: Any) -> Any:
    return mnp.sum(mnp.sin(x) * x)


def sin_times_x_hessian(x: np.ndarray) -> np.ndarray:
    return np.diag(2 * np.cos(x) - x * np.sin(x))


@pytest.mark.parametrize("span", [1.0, 10.0, 1e2, 1e3])
def test_smooth_products_along_mixed_tangents_do_not_warn(strict: None, span: float) -> None:
    rng = np.random.default_rng(5)
    for n in (2, 5, 16):
        x = rng.standard_normal(n)
        t = rng.standard_normal(n) * span ** -rng.uniform(0, 1, n)
        counted = Counted(sin_times_x)
        (got,) = multiad.hvp(counted, (x,), (t,), backend=NP)
        exact = sin_times_x_hessian(x) @ t
        np.testing.assert_allclose(got, exact, rtol=0, atol=1e-5 * float(np.max(np.abs(exact))))
        # 5 nested gradients, 4 more where the check runs (and 2 per refinement)
        assert counted.calls <= 13 * (2 * n + 1)


def test_a_hessian_that_is_zero_at_the_point_does_not_warn(strict: None) -> None:
    # x**3 at 0: the nested gradients are a parabola there, as a smoothed kink's are; the check
    # along every component's own step finds no kink
    x, t = np.zeros(3), np.array([1e-3, 0.3, 1.0])
    counted = Counted(lambda v: mnp.sum(v**3))
    (got,) = multiad.hvp(counted, (x,), (t,), backend=NP)
    np.testing.assert_allclose(got, 0.0, atol=1e-4)
    # the check ran: 4 nested gradients beside the 5, and each difference refined once (2 more)
    assert 9 * (2 * 3 + 1) <= counted.calls <= 13 * (2 * 3 + 1)


def test_a_tangent_of_one_size_costs_no_check(strict: None) -> None:
    # every component moves by its nested step: the stencil is the columns' own
    x, t = np.array([6e-7, 0.5, -0.3]), np.ones(3)
    counted = Counted(sin_times_x)
    multiad.hvp(counted, (x,), (t,), backend=NP)
    assert counted.calls == 5 * (2 * 3 + 1)


def test_the_check_is_recorded_in_the_estimate() -> None:
    _, f, x, t, _ = KINKED[0]
    with multiad_numpy.record_errors() as records, pytest.warns(multiad.AccuracyWarning):
        multiad.hvp(f, (x,), (t,), backend=NP)
    (rec,) = records
    assert rec.order == 2 and rec.relative > rec.tolerance
    assert rec.error >= 0.27 * 0.5  # the true error is 0.27; the bound is an upper estimate
    # 5 nested gradients, 4 for the check, 2 to refine it; and 2 evaluations of f one input's magnitude
    # away where a nested gradient's relu is off on both sides (NOTE [Values a nested level rounds away])
    assert rec.evaluations == 11 * (2 * 2 + 1) + 2
