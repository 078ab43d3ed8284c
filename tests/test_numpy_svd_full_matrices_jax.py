"""JAX has no derivative of the full SVD of a non-square matrix (numpy's default
``full_matrices=True``): the error names the call and what to differentiate instead, and the
advice gives numpy's derivative (central differences)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import central_gradient

import multiad
import multiad.numpy as mnp

M = np.random.default_rng(0).standard_normal((3, 4))


@pytest.mark.parametrize("shape", [(3, 4), (4, 3)])
def test_full_svd_derivative_on_jax_names_the_call_and_the_fix(shape: tuple[int, int]) -> None:
    pytest.importorskip("jax")
    a = np.random.default_rng(1).standard_normal(shape)
    with pytest.raises(NotImplementedError, match=r"^mnp\.linalg\.svd: .*full_matrices=False"):
        multiad.grad(lambda x: mnp.sum(mnp.linalg.svd(x)[1]), backend="jax")(a)


@pytest.mark.parametrize("advice", ["full_matrices=False", "compute_uv=False", "svdvals"])
def test_the_advised_calls_differentiate_on_jax(advice: str) -> None:
    pytest.importorskip("jax")

    def singular_values(x: object) -> object:
        if advice == "svdvals":
            return mnp.linalg.svdvals(x)
        if advice == "compute_uv=False":
            return mnp.linalg.svd(x, compute_uv=False)
        return mnp.linalg.svd(x, full_matrices=False)[1]

    w = np.array([1.0, 2.0, 3.0])
    got = multiad.grad(lambda x: mnp.sum(singular_values(x) * w), backend="jax")(M)
    want = central_gradient(lambda x: float(np.sum(np.linalg.svd(x, compute_uv=False) * w)), M)
    np.testing.assert_allclose(np.asarray(multiad.to_numpy(got)), want, rtol=1e-6, atol=1e-8)
