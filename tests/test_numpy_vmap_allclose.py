"""``mnp.allclose`` under ``vmap``: one bool per example, as JAX gives.

Reference: numpy's ``allclose`` row by row.
"""

from __future__ import annotations

import numpy as np
from conftest import Case

import multiad
import multiad.numpy as mnp


def test_vmap_of_allclose_gives_one_bool_per_example(backend: Case) -> None:
    # numpy's allclose returns a Python bool; under vmap torch's bool() of the batched result
    # raised vmap's data-dependent control flow error, where JAX returns a bool per example.
    a = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]])
    b = np.array([[1.0, 2.0 + 1e-9], [1.0, 2.5], [0.0, 1e-12]])
    got = multiad.vmap(lambda x, y: mnp.allclose(x, y), backend=backend.name)(a, b)
    want = [np.allclose(x, y) for x, y in zip(a, b)]
    assert multiad.to_numpy(got).tolist() == want
    with multiad.use_backend(backend.name):
        assert mnp.allclose(multiad.asarray(a[0]), multiad.asarray(b[0])) is True or backend.name == "jax"
