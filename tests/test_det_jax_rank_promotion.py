"""``linalg.det``'s derivative at a stack holding a singular matrix, on JAX with
``jax_numpy_rank_promotion="raise"`` (a setting JAX's users and JAX's own tests choose).

NOTE [det at a singular matrix] (multiad/numpy/_det.py) adds the identity to a stack of
factors; an implicit ``(n, n) + (..., n, n)`` broadcast raised under that setting, where JAX's
own ``det`` computes.
"""

from __future__ import annotations

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

jax = pytest.importorskip("jax")

SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]])
COFACTORS = np.array([[-2.0, -2.0, 2.0], [1.0, 1.0, -1.0], [0.0, 0.0, 0.0]])  # by hand: minors with signs
REGULAR = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.5, 0.0, 1.0]])


@pytest.mark.parametrize("transform", ["grad", "jacfwd", "jacrev"])
def test_det_of_a_stack_with_a_singular_matrix_under_rank_promotion_raise(transform: str) -> None:
    stack = jax.numpy.asarray(np.stack([SINGULAR, REGULAR]))
    want = np.stack([COFACTORS, np.linalg.det(REGULAR) * np.linalg.inv(REGULAR).T])
    with jax.numpy_rank_promotion("raise"):
        got = getattr(multiad, transform)(lambda a: mnp.sum(mnp.linalg.det(a)), backend="jax")(stack)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-12)
