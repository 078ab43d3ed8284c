"""Arguments numpy rejects raise numpy's exception type, starting with the call, on every
backend, plainly and under ``grad``: ``cov`` with a fractional ``ddof`` (computed a value),
``polyval`` with operands that do not broadcast (the frameworks' RuntimeError/TypeError),
``gradient`` of an axis too short (an IndexError), ``einsum`` with another number of operands
than its subscripts name (torch's RuntimeError)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp

M = np.random.default_rng(0).standard_normal((3, 4))

# name: (the call, numpy's function of a module ``m``, the array it is called on)
BAD: dict[str, tuple[str, Callable[[Any, Any], Any], np.ndarray]] = {
    "cov ddof=0.5": ("cov", lambda m, a: m.cov(a, ddof=0.5), M),
    "polyval not broadcasting": ("polyval", lambda m, a: m.polyval(a, a[0, :2] * 0 + 1.0), np.ones((2, 3))),
    "polyval not broadcasting, x first": ("polyval", lambda m, a: m.polyval(a[:, :2], a), np.ones((2, 3))),
    "gradient of one element": ("gradient", lambda m, a: m.gradient(a), np.array([1.0])),
    "gradient edge_order=2 of two": ("gradient", lambda m, a: m.gradient(a, edge_order=2), np.array([1.0, 2.0])),
    "gradient of a short axis": ("gradient", lambda m, a: m.gradient(a, axis=1), np.ones((3, 1))),
    "einsum too few operands": ("einsum", lambda m, a: m.einsum("ij,jk->ik", a), np.ones((2, 2))),
    "einsum too many operands": ("einsum", lambda m, a: m.einsum("ij->ij", a, a), np.ones((2, 2))),
}


@pytest.mark.parametrize("case", BAD)
def test_numpy_raises_value_error(case: str) -> None:
    _, bad, x = BAD[case]
    with pytest.raises(ValueError):
        bad(np, x)


@pytest.mark.parametrize("case", BAD)
def test_plain_call_raises_numpys_value_error(backend: Case, case: str) -> None:
    call, bad, x = BAD[case]
    with pytest.raises(ValueError, match=f"^mnp.{call}: "):
        bad(mnp, backend.array(x))


@pytest.mark.parametrize("case", BAD)
def test_differentiated_call_raises_numpys_value_error(backend: Case, case: str) -> None:
    call, bad, x = BAD[case]
    with pytest.raises(ValueError, match=f"^mnp.{call}: "):
        multiad.grad(lambda a: mnp.sum(bad(mnp, a)), backend=backend.name)(x)


def test_cov_takes_an_integral_float_ddof_as_numpy(backend: Case) -> None:
    want = np.cov(M, ddof=2.0)
    got = multiad.to_numpy(mnp.cov(backend.array(M), ddof=2.0))
    np.testing.assert_allclose(got, want, rtol=1e-12)
