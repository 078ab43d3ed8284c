"""docs/api-numpy.md, "time grids on torch": ``mnp.arange(n) * dt`` is float32 on torch (torch's
operator promotion), and a float64 parameter times it is computed in float32; the two fixes the
docs give are float64 and match the closed form to 1e-15."""

from __future__ import annotations

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

N, DT, K = 1000, 0.01, 0.5
T = np.arange(N) * DT
EXACT = float(-np.sum(T * np.exp(-K * T)))  # d/dk sum(exp(-k t))


def test_operator_grid_is_float32_and_the_documented_fixes_are_float64() -> None:
    torch = pytest.importorskip("torch")
    with multiad.use_backend("torch"):
        assert (mnp.arange(N) * DT).dtype == torch.float32
        g = multiad.grad(lambda k: mnp.sum(mnp.exp(-k * (mnp.arange(N) * DT))))(K)
        assert 1e-8 < abs(float(g) / EXACT - 1) < 1e-6  # float32 arithmetic, documented: 5.6e-8
        for grid in (lambda: mnp.arange(N, dtype="float64") * DT, lambda: mnp.multiply(mnp.arange(N), DT)):
            assert grid().dtype == torch.float64
            g = multiad.grad(lambda k, grid=grid: mnp.sum(mnp.exp(-k * grid())))(K)
            assert abs(float(g) / EXACT - 1) < 1e-14
