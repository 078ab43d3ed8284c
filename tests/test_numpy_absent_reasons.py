"""The reasons multiad.numpy gives for names it leaves out hold (NOTE [Absent names with a derivative]),
and the replacements they name are right."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp
from multiad.numpy._absent import ABSENT, WITH_DERIVATIVE


@pytest.mark.parametrize("name", ["partition", "resize", "frexp", "nextafter", "linalg.lstsq"])
def test_names_with_a_derivative_do_not_claim_none(name: str) -> None:
    reason = ABSENT[name]
    assert reason in WITH_DERIVATIVE
    assert "no derivative" not in reason and "depends on the values" not in reason
    module, attr = (mnp.linalg, "lstsq") if name.startswith("linalg.") else (mnp, name)
    with pytest.raises(AttributeError, match="has a derivative"):
        getattr(module, attr)


def test_sort_has_partitions_kth_entry_with_its_derivative() -> None:
    x = np.array([3.0, -1.0, 2.5, 0.5, 7.0])
    k = 2
    assert multiad.to_numpy(mnp.sort(multiad.asarray(x, backend="numpy")))[k] == np.partition(x, k)[k]
    g = multiad.grad(lambda v: mnp.sort(v)[k], backend="autograd")(x)
    np.testing.assert_array_equal(multiad.to_numpy(g), (x == np.partition(x, k)[k]).astype(float))


@pytest.mark.parametrize("name", ["torch", "jax", "autograd"])
def test_lstsq_replacement_is_the_solution_with_its_derivative(name: str) -> None:
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((6, 3)), rng.standard_normal(6)

    def solution(a: Any, b: Any) -> Any:
        return mnp.linalg.solve(a.T @ a, a.T @ b)

    np.testing.assert_allclose(
        multiad.to_numpy(solution(*(multiad.asarray(v, backend=name) for v in (a, b)))),
        np.linalg.lstsq(a, b, rcond=None)[0],
        rtol=1e-10,
    )
    jac = multiad.to_numpy(multiad.jacrev(solution, argnums=1, backend=name)(a, b))
    np.testing.assert_allclose(jac, np.linalg.pinv(a), rtol=1e-9, atol=1e-12)  # d x / d b = pinv(a)
