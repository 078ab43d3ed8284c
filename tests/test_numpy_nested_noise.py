"""Second derivatives beside a large first derivative on the numpy backend: the nested gradients'
rounding noise is taken element by element from the nested level, and a column it swamps is
differenced again with a wider step (NOTE [Noise of each nested element], NOTE [Steps widened
from the noise] in backends/numpy). Every result is compared with its closed form."""

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


def _tolerance(dtype: Any) -> float:
    return float(np.finfo(dtype).eps) ** 0.2  # second derivatives


def linear_and_square(c: float) -> Callable[[Any], Any]:
    return lambda x: mnp.sum(c * x + x**2)


# (c, x): the Hessian is 2 I, the gradient c + 2 x; the gradients' noise eps |f| / h swamped
# the outer difference (hessian of 1e3 x + x**2 was 0.1 % off, 1e4 0.6 %, float32 100 x 10 %)
ACCURATE = [
    (1e3, np.array([1.0, 2.0])),
    (1e4, np.array([1.0, 2.0])),
    (1e5, np.array([1.0, 2.0])),
    (1e3, np.array([-3.0, 0.5, 7.0])),
    (100.0, np.array([1.0, 2.0], np.float32)),
]


@pytest.mark.parametrize("c, x", ACCURATE, ids=[f"{x.dtype}-{c:g}-{x.size}" for c, x in ACCURATE])
def test_second_derivatives_beside_a_large_linear_term_are_accurate(c: float, x: np.ndarray) -> None:
    tol = _tolerance(x.dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error", multiad.AccuracyWarning)
        h = multiad.hessian(linear_and_square(c), backend=NP)(x)
        (hv,) = multiad.hvp(linear_and_square(c), (x,), (np.ones_like(x),), backend=NP)
    assert np.max(np.abs(h - 2 * np.eye(x.size))) / 2 <= tol
    assert np.max(np.abs(hv - 2)) / 2 <= tol


# Beyond the widest step (eps ** (1/10) of the input's scale) the noise still swamps 2 and the
# call warns; before, hessian of 1e6 x + x**2 was [5.99, 1.42] on the diagonal without a warning.
BEYOND = [
    ("hessian", 1e7, np.float64),
    ("hessian", 1e8, np.float64),
    ("hvp", 1e8, np.float64),
    ("hvp", 1e4, np.float32),
]


@pytest.mark.parametrize("how, c, dtype", BEYOND, ids=[f"{h}-{np.dtype(d).name}-{c:g}" for h, c, d in BEYOND])
def test_second_derivatives_beyond_the_widest_step_warn(how: str, c: float, dtype: Any) -> None:
    x = np.array([1.0, 2.0], dtype)
    with pytest.warns(multiad.AccuracyWarning, match=rf"^{how}\(<lambda>\): .*order-2.*rounding noise"):
        if how == "hessian":
            got = np.diag(multiad.hessian(linear_and_square(c), backend=NP)(x))
        else:
            (got,) = multiad.hvp(linear_and_square(c), (x,), (np.ones(2, dtype),), backend=NP)
    assert np.max(np.abs(got - 2.0)) / 2.0 > _tolerance(dtype)  # the warning is needed


@pytest.mark.parametrize("c", [1e5, 1e6])
def test_hvp_beside_a_large_linear_term_is_accurate(c: float) -> None:
    x = np.array([1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", multiad.AccuracyWarning)
        (hv,) = multiad.hvp(linear_and_square(c), (x,), (np.ones(2),), backend=NP)
        h = multiad.hessian(linear_and_square(c), backend=NP)(x)
    assert np.max(np.abs(hv - 2.0)) / 2.0 <= _tolerance(np.float64)
    assert np.max(np.abs(h - 2 * np.eye(2))) / 2.0 <= _tolerance(np.float64)


def test_a_float32_hessian_zero_everywhere_does_not_warn() -> None:
    # sum(w) = 0: the Hessian -sum(w) diag(sin x) is 0; its columns are differenced with a wider step
    w = np.array([0.7, -1.1, 0.4], np.float32)
    x = np.array([0.3, -0.8, 2.0], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", multiad.AccuracyWarning)
        h = multiad.hessian(lambda x: mnp.sum(w * (x + mnp.sum(mnp.sin(x)))), backend=NP)(x)
    np.testing.assert_allclose(h, np.zeros((3, 3)), atol=1e-3)


def rosenbrock(x: Any) -> Any:
    return mnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


@pytest.mark.parametrize(
    "name, f, x",
    [
        ("rosenbrock", rosenbrock, np.array([-1.2, 1.0, 0.7])),
        ("sin-exp", lambda x: mnp.sum(mnp.sin(x) * mnp.exp(x)), np.array([0.1, 0.7, -0.4])),
        ("cube", lambda x: mnp.sum(x**3), np.array([0.0, 1.0])),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_hessian_whose_nested_noise_is_small_costs_no_more(name: str, f: Callable[[Any], Any], x: Any) -> None:
    n = x.size
    with warnings.catch_warnings(), multiad_numpy.record_errors() as records:
        warnings.simplefilter("error", multiad.AccuracyWarning)
        multiad.hessian(f, backend=NP)(x)
    assert [r.evaluations for r in records] == [(1 + 4 * n) * (2 * n + 1)]


def test_a_nested_result_f_transforms_keeps_one_noise_for_every_element() -> None:
    # the outer level sees 3 g, not the nested result itself: its noise stays one worst-case
    # number, judged as before (no widening, no warning on this smooth f)
    f = lambda x: mnp.sum(mnp.sin(x) * mnp.exp(x))  # noqa: E731
    x = np.array([0.1, 0.7, -0.4])
    with warnings.catch_warnings():
        warnings.simplefilter("error", multiad.AccuracyWarning)
        h = multiad.jacobian(lambda x: 3.0 * multiad.grad(f, backend=NP)(x), backend=NP)(x)
    np.testing.assert_allclose(h, 3 * np.diag(2 * np.exp(x) * np.cos(x)), rtol=1e-4, atol=1e-4)


W = np.array([0.7, -1.1, 0.4])  # sums to 0: f's intermediates are larger than |f|


@pytest.mark.parametrize(
    ("offset", "x"),
    [
        (lambda x: mnp.sum(-1.5 * mnp.ones_like(x)) * mnp.ones_like(x), [0.5, 0.0, 0.0]),
        (lambda x: mnp.sum(mnp.exp(0.5 * mnp.ones_like(x))) * mnp.ones_like(x), [0.0, 0.0, 0.25]),
    ],
)
def test_a_linear_f_with_large_intermediates_has_a_zero_hessian_without_a_warning(
    offset: Callable[[Any], Any], x: list[float]
) -> None:
    # The nested gradients' noise is larger than eps |f| / h (W @ offset is 0 up to rounding):
    # the noise the values show keeps the floor of a zero Hessian, found by tests/test_differential.
    def s(z: Any) -> Any:
        return mnp.sum((z + offset(z)) * mnp.asarray(W))

    with warnings.catch_warnings():
        warnings.simplefilter("error", multiad.AccuracyWarning)
        h = multiad.hessian(s, backend=NP)(np.array(x))
    np.testing.assert_allclose(multiad.to_numpy(h), np.zeros((3, 3)), atol=1e-4)


def sum_of_sums(z: Any) -> Any:
    # x + sum(sum(-1.5)): every output is x_i - 13.5; W @ that is W @ x, its Hessian exactly 0
    return mnp.sum(
        (z + mnp.sum(mnp.sum(-1.5 * mnp.ones_like(z)) * mnp.ones_like(z)) * mnp.ones_like(z)) * mnp.asarray(W)
    )


# Points where the Hessian (or hvp along x reversed) of sum_of_sums warned "rounding noise swamps"
# with the noise shown at one step only (relative 8.3e-4, 0.013, 0.15, 8.9e-4, 1.2e-3, 7.8e-4 for
# the tolerance 7.4e-4): the gradients are quantized at 30 times the model's noise (NOTE [Zeros at both steps]).
ZEROS_AT_BOTH_STEPS = [
    ("hessian", [0.0, 0.48584099241443535, 1.0]),  # tests/test_differential's falsifying examples
    ("hessian", [1.0, 0.48584099241443535, 0.0]),
    ("hessian", [-0.5212611140140957, 0.7529684616214076, -0.8828639303896113]),
    ("hessian", [-0.7514334470008721, 0.34124882938726064, 0.2943790231485002]),
    ("hessian", [-0.28440960658185954, 0.14305966145952187, -0.3562612178481157]),
    ("hvp", [-0.34053656700181567, 0.5768574068568086, -0.39361034141671003]),
]


@pytest.mark.parametrize(("how", "x"), ZEROS_AT_BOTH_STEPS)
def test_a_zero_hessian_whose_noise_the_model_underrates_does_not_warn(how: str, x: list[float]) -> None:
    z = np.array(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error", multiad.AccuracyWarning)
        if how == "hessian":
            got = multiad.hessian(sum_of_sums, backend=NP)(z)
        else:
            got = multiad.hvp(sum_of_sums, (z,), (z[::-1].copy(),), backend=NP)[0]
    np.testing.assert_allclose(multiad.to_numpy(got), np.zeros(got.shape), atol=1e-4)


@pytest.mark.parametrize("x", [[1e-3, 1.0], [1e-3, 2.0]])
def test_a_kink_within_the_wider_step_still_warns(x: list[float]) -> None:
    # relu(x)**2 has a second derivative of 2 for x > 0 and 0 below: the widest step (about 0.025)
    # reaches the kink at 0; the floor of a zero at both steps is capped by the default step's
    # noise, so the kink's E does not raise it (NOTE [Zeros at both steps])
    def f(z: Any) -> Any:
        return mnp.sum(1e5 * z + mnp.maximum(z, 0.0) ** 2)

    z = np.array(x)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        h = multiad.to_numpy(multiad.hessian(f, backend=NP)(z))
    wrong = abs(float(h[0, 0]) - 2.0) > _tolerance(np.float64) * 2.0
    warned = any(issubclass(w.category, multiad.AccuracyWarning) for w in seen)
    assert warned or not wrong, h
