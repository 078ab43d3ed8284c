"""The derivative with respect to a reduction's ``initial=`` (a differentiated 0-d array): numpy's
sum adds it once per result element and prod multiplies by it. On autograd, sum, prod, nansum and
nanprod raised numpy's 'setting an array element with a sequence' (see NOTE [A differentiated
initial= of sum and prod on autograd])."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

x = np.array([[0.3, -0.7, 1.1], [2.0, -0.1, 0.4]])
s0 = np.array(0.5)
mask = np.array([True, False, True])
w = np.array([1.0, -2.0, 0.5])

CASES: list[tuple[str, dict[str, Any]]] = [
    ("sum", {"axis": 0}),
    ("prod", {"axis": 0}),
    ("nansum", {"axis": np.int64(0)}),
    ("nanprod", {"axis": 0}),
    ("sum", {"axis": 1, "where": mask}),
    ("prod", {"axis": 1, "where": mask, "keepdims": True}),
    ("max", {"axis": 0}),
    ("min", {"axis": 1, "where": mask}),
]


def _fd(fn: Any, at: np.ndarray, h: float = 1e-6) -> float:
    return float((fn(at + h) - fn(at - h)) / (2 * h))


@pytest.mark.parametrize(("name", "kwargs"), CASES)
def test_grad_with_respect_to_initial(backend: Any, name: str, kwargs: dict[str, Any]) -> None:
    def f(m: Any, s: Any) -> Any:
        r = getattr(m, name)(x, initial=s, **kwargs)
        return m.sum(m.reshape(r, (-1,)) * w[: int(np.prod(np.shape(r)))])

    want = _fd(lambda s: f(np, s), s0)
    with multiad.use_backend(backend.name):
        value = float(multiad.to_numpy(f(mnp, s0)))
        g = float(multiad.to_numpy(multiad.grad(lambda s: f(mnp, s))(s0)))
    np.testing.assert_allclose(value, f(np, s0), rtol=1e-12)
    np.testing.assert_allclose(g, want, atol=1e-6)


def test_positional_initial_of_sum(backend: Any) -> None:
    # sum(a, axis, dtype, out, keepdims, initial): d/ds sum(sum(x, 0, ..., s)) = number of columns
    with multiad.use_backend(backend.name):
        g = multiad.to_numpy(multiad.grad(lambda s: mnp.sum(mnp.sum(x, 0, None, None, False, s)))(s0))
    np.testing.assert_allclose(g, 3.0, atol=1e-6)
