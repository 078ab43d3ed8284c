"""``linalg.cond(a, p)`` for the orders computed through the inverse, differentiated at a
singular matrix: NOTE [cond at a singular matrix] (multiad/numpy/_extras.py).

The value there is numpy's inf, a constant whose derivative was 0 on every exact backend:
a number where cond has none. It now raises numpy's LinAlgError, as ``slogdet`` does.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import Case, central_gradient

import multiad
import multiad.numpy as mnp

SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])
REGULAR = np.array([[2.0, 1.0], [0.5, 3.0]])
ORDERS = [1, -1, np.inf, -np.inf, "fro", "nuc"]


@pytest.mark.parametrize("p", ORDERS, ids=str)
def test_cond_derivative_at_a_singular_matrix_raises(ad_backend: Case, p: object) -> None:
    assert float(multiad.to_numpy(mnp.linalg.cond(ad_backend.array(SINGULAR), p))) == np.inf  # the value stays numpy's
    with pytest.raises(np.linalg.LinAlgError, match=r"^multiad\.numpy\.linalg\.cond: the matrix is singular"):
        multiad.grad(lambda a: mnp.linalg.cond(a, p), backend=ad_backend.name)(ad_backend.array(SINGULAR))
    stack = ad_backend.array(np.stack([REGULAR, SINGULAR]))
    with pytest.raises(np.linalg.LinAlgError, match=r"^multiad\.numpy\.linalg\.cond: "):
        multiad.grad(lambda a: mnp.sum(mnp.linalg.cond(a, p)), backend=ad_backend.name)(stack)


@pytest.mark.parametrize("p", ORDERS, ids=str)
def test_cond_derivative_at_a_regular_matrix_is_numpys_by_differences(backend: Case, p: object) -> None:
    want = central_gradient(lambda v: np.linalg.cond(v, p), REGULAR)
    got = multiad.grad(lambda a: mnp.linalg.cond(a, p), backend=backend.name)(backend.array(REGULAR))
    np.testing.assert_allclose(multiad.to_numpy(got), want, rtol=1e-5, atol=1e-6)
