"""The float dtypes multiad differentiates are the same on every backend (NOTE [Differentiated
float dtypes] in multiad/_arrays.py): float128 is refused by multiad, and the message says so
rather than blaming the backend, whose framework may compute it."""

from __future__ import annotations

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp


@pytest.mark.skipif(np.dtype(np.longdouble) == np.dtype(np.float64), reason="longdouble is float64 here")
@pytest.mark.parametrize("name", ["numpy", "autograd"])
def test_float128_is_refused_by_multiad_naming_the_dtypes(name: str) -> None:
    pytest.importorskip(name)
    x = np.array([0.5, 1.5], dtype=np.longdouble)
    with pytest.raises(multiad.InvalidTypeError) as info:
        multiad.grad(lambda a: mnp.sum(mnp.sin(a) * a), backend=name)(x)
    msg = str(info.value)
    assert msg.startswith("grad(<lambda>): argument 0 has dtype float128; multiad differentiates float16, bfloat16, float32 and float64 only, on every backend")  # fmt: skip
    assert "backend does not differentiate" not in msg
    # the conversion the message names gives the closed form, cos(x) x + sin(x)
    got = multiad.grad(lambda a: mnp.sum(mnp.sin(a) * a), backend=name)(
        multiad.asarray(x, dtype="float64", backend=name)
    )
    np.testing.assert_allclose(multiad.to_numpy(got), np.cos([0.5, 1.5]) * [0.5, 1.5] + np.sin([0.5, 1.5]), rtol=1e-6)
