"""mnp.polyval of torch's uint16/uint32/uint64 tensors, which torch's operators refuse (a bare
NotImplementedError "add_stub" not implemented for 'UInt16'), against numpy."""

from __future__ import annotations

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["uint16", "uint32", "uint64"])
def test_torch_polyval_of_wide_unsigned_integers_is_numpys(dtype: str) -> None:
    p = np.array([2, 3, 7], dtype=dtype)
    x = np.array([0, 1, 2, 1000], dtype=dtype)
    want = np.polyval(p, x)
    got = np.asarray(multiad.to_numpy(mnp.polyval(*(multiad.asarray(a, backend="torch") for a in (p, x)))))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
