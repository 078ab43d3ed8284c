"""``mnp.take`` with indices that ``vmap`` batches (per-example labels, ``loss = lse(z) - take(z, y)``).

References: numpy's ``take`` per row, and the closed-form gradient of ``sum(take(z, i) ** 2)``.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp

Z = np.arange(12.0).reshape(4, 3) - 5.0
IDX = np.array([0, 2, 1, -1])


def test_vmap_of_take_with_batched_indices(backend: Case) -> None:
    # torch read the batched indices' values for its range check and raised vmap's
    # "data-dependent control flow" error.
    got = multiad.vmap(lambda z, i: mnp.take(z, i), backend=backend.name)(Z, IDX)
    np.testing.assert_array_equal(multiad.to_numpy(got), [np.take(z, i) for z, i in zip(Z, IDX)])


def test_per_example_gradient_of_take_with_batched_indices(backend: Case) -> None:
    g = multiad.vmap(multiad.grad(lambda z, i: mnp.take(z, i) ** 2), in_dims=(0, 0), backend=backend.name)(Z, IDX)
    want = np.zeros_like(Z)
    for r, i in enumerate(IDX):
        want[r, i] = 2.0 * Z[r, i]
    np.testing.assert_allclose(multiad.to_numpy(g), want, **backend.tol())


@pytest.mark.parametrize("index", [3, -4])
def test_take_out_of_range_names_the_index_as_numpy(backend: Case, index: int) -> None:
    with pytest.raises(IndexError, match=rf"index {index} is out of bounds for axis 0 with size 3"):
        np.take(Z[0], index)
    with pytest.raises(IndexError, match=rf"^mnp\.take: index {index} is out of bounds for axis 0 with size 3"):
        with multiad.use_backend(backend.name):
            mnp.take(multiad.asarray(Z[0]), np.array(index))
