"""Vector norms of unusual orders as numpy gives them: ord=nan is nan (it gave 0)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

A = np.array([[3.0, -4.0], [1.0, 0.5]])


@pytest.mark.parametrize("axis", [None, 0, (0, 1)])
def test_nan_order_is_nan(backend: Any, axis: Any) -> None:
    with np.errstate(all="ignore"):
        expected = np.linalg.vector_norm(A, ord=np.nan, axis=axis)
    with multiad.use_backend(backend.name), np.errstate(all="ignore"):
        got = multiad.to_numpy(mnp.linalg.vector_norm(A, ord=np.nan, axis=axis))
    assert np.all(np.isnan(expected))
    assert got.shape == np.shape(expected)
    assert np.all(np.isnan(got))


@pytest.mark.parametrize("axis", [None, 0, (0, 1)])
def test_string_order_names_vector_norm(backend: Any, axis: Any) -> None:
    with pytest.raises(ValueError, match="Invalid norm order 'fro' for vectors"):
        np.linalg.vector_norm(A, ord="fro", axis=axis)
    with (
        multiad.use_backend(backend.name),
        pytest.raises(ValueError, match=r"^mnp\.linalg\.vector_norm: invalid norm order"),
    ):
        mnp.linalg.vector_norm(A, ord="fro", axis=axis)
