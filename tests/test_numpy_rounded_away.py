"""The numpy backend's second derivatives where a nested gradient's element is rounded away (NOTE
[Values a nested level rounds away] in ``multiad_numpy/_fd.py``): its values did not change across
the nested step though ``f`` depends on the input, and the element came back 0 with no noise to
judge. Such results warn, as ``grad`` at the same point does; second derivatives the rounding does
not reach stay silent.

References are closed forms. The warning tests failed before the check (the results below are 0
for 0.06 and 6, without a warning).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import multiad_numpy
import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

NP = "numpy"
X = np.array([1e4, 1e-2, 1.0])  # f = sum(x**3) is 1e12: its rounding (1e-4) hides a nested step's change at 1e-2 and 1


def cube(x: Any) -> Any:
    return mnp.sum(x**3)


SECOND: dict[str, Callable[[Any], Any]] = {
    "hessian": lambda x: multiad.hessian(cube, backend=NP)(x),
    "jacfwd(jacrev)": lambda x: multiad.jacfwd(multiad.jacrev(cube), backend=NP)(x),
    "jacrev(jacrev)": lambda x: multiad.jacrev(multiad.jacrev(cube), backend=NP)(x),
    "jacfwd(grad)": lambda x: multiad.jacfwd(multiad.grad(cube), backend=NP)(x),
}


@pytest.mark.parametrize("name", sorted(SECOND))
def test_a_hessian_of_rounded_away_gradients_warns(name: str) -> None:
    with pytest.warns(multiad.AccuracyWarning, match="below the rounding of f's value"):
        got = np.diag(np.asarray(SECOND[name](X)))
    exact = 6 * X
    assert abs(got[0] - exact[0]) < 1e-3 * exact[0]  # the large element is right
    assert np.max(np.abs(got[1:] - exact[1:]) / exact[1:]) > 0.5  # the small ones are not: hence the warning


def test_hvp_along_a_rounded_away_input_warns() -> None:
    t = np.array([0.0, 1.0, 0.0])
    with pytest.warns(multiad.AccuracyWarning):
        (got,) = multiad.hvp(cube, (X,), (t,), backend=NP)
    assert abs(np.asarray(got)[1] - 0.06) > 0.03  # 0 for 0.06


def test_the_estimate_records_the_ratio() -> None:
    with multiad_numpy.record_errors() as records, pytest.warns(multiad.AccuracyWarning):
        multiad.hessian(cube, backend=NP)(X)
    (rec,) = records
    # 0.5 eps |f| / (c**2 |f(x + s) - f(x)|): 1e12 against a change of about 1 at x = 1e-2
    assert rec.order == 2 and rec.relative > 1e5 * rec.tolerance


def test_the_same_hessian_without_the_large_input_is_silent(strict: None) -> None:
    x = X[1:]
    np.testing.assert_allclose(np.diag(multiad.hessian(cube, backend=NP)(x)), 6 * x, rtol=1e-4)


def test_a_rounded_away_zero_that_does_not_matter_is_silent(strict: None) -> None:
    # 10 + x**3 at [0, 1]: the nested gradients at x round 3 h**2 away (grad warns there), but that
    # noise is 3e-5 of the second derivative the change over the input's magnitude shows
    f = lambda x: 10.0 + mnp.sum(x**3)  # noqa: E731
    x = np.array([0.0, 1.0])
    np.testing.assert_allclose(multiad.hessian(f, backend=NP)(x), np.diag(6 * x), atol=1e-4)
    (got,) = multiad.hvp(f, (x,), (np.array([1.0, -1.0]),), backend=NP)
    np.testing.assert_allclose(got, [0.0, -6.0], atol=1e-4)


def test_an_input_f_ignores_and_an_off_relu_are_silent(strict: None) -> None:
    # values that do not change because f does not depend on the input there: the 0 stands
    f = lambda x: 1e6 + x[0] ** 2 + mnp.sum(mnp.maximum(x[1:], 0.0) ** 2)  # noqa: E731
    x = np.array([1.5, 7.0, -0.5])
    exact = np.diag([2.0, 2.0, 0.0])
    np.testing.assert_allclose(multiad.hessian(f, backend=NP)(x), exact, atol=1e-3)
    g = lambda x: mnp.sum(x[:1] ** 3) + 0.0 * x[1]  # noqa: E731
    np.testing.assert_allclose(multiad.hessian(g, backend=NP)(np.array([2.0, 5.0])), np.diag([12.0, 0.0]), atol=1e-4)


def test_a_jacobian_of_a_rounded_away_jvp_warns() -> None:
    # the nested level steps along a tangent (a directional difference) rather than by columns
    t = np.array([0.0, 1.0, 0.0])
    with pytest.warns(multiad.AccuracyWarning):
        got = multiad.jacfwd(lambda y: multiad.jvp(cube, (y,), (t,), backend=NP)[1], backend=NP)(X)
    assert abs(np.asarray(got)[1] - 0.06) > 0.03  # 0 for 0.06
