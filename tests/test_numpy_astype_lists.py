"""mnp.astype of ragged list data raises numpy's ValueError with the call in front."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp


def test_ragged_list_names_the_call(backend: Any) -> None:
    with multiad.use_backend(backend.name), pytest.raises(ValueError, match=r"^mnp\.astype: .*inhomogeneous"):
        mnp.astype([np.ones(2), np.ones(3)], np.float64)


def test_list_values(backend: Any) -> None:
    with multiad.use_backend(backend.name):
        got = multiad.to_numpy(mnp.astype([1.7, -2.2], np.int32))
    np.testing.assert_array_equal(got, np.array([1.7, -2.2]).astype(np.int32))
    assert got.dtype == np.int32
