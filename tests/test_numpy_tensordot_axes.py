"""numpy reads tensordot's ``axes`` through ``__index__``: a numpy integer count (``np.int64(1)``)
and a pair of numpy integers (``(np.int64(2), np.int64(2))``) are valid. torch and JAX refused the
pair, and autograd's derivative failed on the numpy integer count (see NOTE [tensordot's axes])."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import central_gradient

import multiad
import multiad.numpy as mnp

x = np.linspace(-1.0, 1.5, 24).reshape(2, 3, 4)
Y = {
    "pair": np.linspace(0.5, -2.0, 24).reshape(2, 3, 4),
    "count": np.linspace(0.5, -2.0, 8).reshape(4, 2),
}
AXES: list[tuple[str, Any]] = [
    ("pair", (np.int64(2), np.int64(2))),
    ("pair", (np.int32(1), [np.int64(1)])),
    ("pair", ((np.int64(1), 2), np.array([1, 2]))),
    ("count", np.int64(1)),
    ("count", np.array(1)),
]


@pytest.mark.parametrize(("kind", "axes"), AXES)
def test_tensordot_numpy_integer_axes(backend: Any, kind: str, axes: Any) -> None:
    y = Y[kind]
    want = np.tensordot(x, y, axes=axes)
    w = np.cos(np.arange(want.size)).reshape(want.shape)
    with multiad.use_backend(backend.name):
        got = multiad.to_numpy(mnp.tensordot(multiad.asarray(x), y, axes=axes))
        g = multiad.to_numpy(multiad.grad(lambda t: mnp.sum(mnp.tensordot(t, y, axes=axes) * w))(x))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(
        g, central_gradient(lambda t: float(np.sum(np.tensordot(t, y, axes=axes) * w)), x), atol=1e-6
    )
