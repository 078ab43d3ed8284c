"""The numpy backend's second derivatives where the nested gradient's own truncation error is the
result's error (NOTE [Truncation a nested level leaves] in ``multiad_numpy/_fd.py``): the nested
level's plain central difference ``g + h**2 g'' / 6`` is differentiated by the outer level, whose
refinement removes its own truncation but not that one. Where ``f`` varies on a few hundred
steps or less (``sin(3e4 x)``: 5.5e-3 off) or is aliased by the step (``sin(1e6 x)`` at ``1e-7``:
700 times too small), such results warn; second derivatives of slower functions stay silent and
cost what they cost before.

References are closed forms. The warning tests failed before (the results below are as far off
without a warning).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import multiad_numpy
import numpy as np
import pytest
from conftest import Counted

import multiad
import multiad.numpy as mnp

NP = "numpy"


def wave(k: float) -> Callable[[Any], Any]:
    def f(x: Any) -> Any:
        return mnp.sum(mnp.sin(k * x))

    return f


def exact(k: float, x: Any) -> Any:
    """The Hessian of ``sum(sin(k x))``."""
    return np.diag(-(k**2) * np.sin(k * x))


SECOND: dict[str, Callable[[Callable[[Any], Any], Any], Any]] = {
    "hessian": lambda f, x: multiad.hessian(f, backend=NP)(x),
    "jacfwd(jacrev)": lambda f, x: multiad.jacfwd(multiad.jacrev(f), backend=NP)(x),
    "jacrev(jacrev)": lambda f, x: multiad.jacrev(multiad.jacrev(f), backend=NP)(x),
    "jacfwd(grad)": lambda f, x: multiad.jacfwd(multiad.grad(f), backend=NP)(x),
    "hvp": lambda f, x: np.diag(multiad.hvp(f, (x,), (np.ones_like(x),), backend=NP)[0]),
}
ALIASED = np.array([1e-7, 2e-7, 3e-7])  # 1e6 x + a step of 6.06 rad: 2 pi - 0.22
FAST = np.array([1.0, 1.3, 0.7])  # 3e4 x: 0.18 rad a step


@pytest.mark.parametrize("name", sorted(SECOND))
def test_an_aliased_hessian_warns(name: str) -> None:
    with pytest.warns(multiad.AccuracyWarning, match="order-2"):
        got = np.diag(np.asarray(SECOND[name](wave(1e6), ALIASED)))
    ref = np.diag(exact(1e6, ALIASED))
    assert np.all(np.abs(got) < 0.01 * np.abs(ref))  # about 700 times too small: hence the warning


@pytest.mark.parametrize("name", sorted(SECOND))
def test_a_hessian_off_by_its_nested_truncation_warns(name: str) -> None:
    with pytest.warns(multiad.AccuracyWarning, match="order-2"):
        got = np.diag(np.asarray(SECOND[name](wave(3e4), FAST)))
    ref = np.diag(exact(3e4, FAST))
    err = np.max(np.abs(got - ref)) / np.max(np.abs(ref))
    assert 3e-3 < err < 1e-2  # (k h)**2 / 6 = 5.5e-3, above the tolerance 7.4e-4


def test_the_estimate_is_the_nested_truncation() -> None:
    with multiad_numpy.record_errors() as records, pytest.warns(multiad.AccuracyWarning):
        got = multiad.hessian(wave(3e4), backend=NP)(FAST)
    (rec,) = records
    ref = exact(3e4, FAST)
    err = float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))
    assert rec.order == 2 and 0.5 * err < rec.relative < 2 * err  # 5.4e-3 for 5.5e-3 (was 5.4e-5)


def test_several_primals_and_a_vector_output_warn() -> None:
    k, x, y = 3e4, np.array([1.0, 1.3]), np.array([0.7, 0.2])
    with pytest.warns(multiad.AccuracyWarning):
        h = multiad.hessian(lambda x, y: mnp.sum(mnp.sin(k * x)) + mnp.sum(mnp.sin(k * y) * x), (0, 1), backend=NP)(
            x, y
        )
    ref = -(k**2) * np.sin(k * x[0])
    assert abs(np.asarray(h[0][0])[0, 0] - ref) > 3e-3 * abs(ref)  # off by 5.5e-3
    with pytest.warns(multiad.AccuracyWarning):
        h = multiad.hessian(lambda x: mnp.sin(k * x) * x[0], backend=NP)(x)
    ref = -(k**2) * np.sin(k * x[1]) * x[0]
    assert abs(np.asarray(h)[1, 1, 1] - ref) > 3e-3 * abs(ref)


@pytest.mark.parametrize("k", [1.0, 100.0, 1e3, 3e3])
@pytest.mark.parametrize("name", sorted(SECOND))
def test_slower_functions_are_silent(strict: None, name: str, k: float) -> None:
    got = np.asarray(SECOND[name](wave(k), FAST))
    ref = exact(k, FAST)
    np.testing.assert_allclose(got, ref, atol=2e-4 * np.max(np.abs(ref)))


def test_a_smooth_hessian_costs_no_more(strict: None) -> None:
    # the check reads the outer level's own differences: no evaluation of f is added
    f = Counted(lambda x: mnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))
    x = np.array([-1.2, 1.0, 0.5])
    multiad.hessian(f, backend=NP)(x)
    assert f.calls == 91  # 1 + 4 * 3 nested gradients of 7 evaluations each, as before
    f.calls = 0
    multiad.hvp(f, (x,), (np.ones(3),), backend=NP)
    assert f.calls == 35  # 1 + 4 nested gradients
