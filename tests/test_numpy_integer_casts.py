"""An integer or bool cast is piecewise constant: its derivative is 0 on every exact backend
(autograd's astype passed the cotangent back whatever the target dtype: derivative 1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

x0 = np.array([3.7, -1.2])

CASES: list[tuple[str, Callable[[Any], Any], Any]] = [
    ("int32", lambda x: mnp.sum(mnp.astype(x, np.int32) * 1.0), [0.0, 0.0]),
    ("int64 list", lambda x: mnp.sum(mnp.astype([x, 2 * x], np.int64) * 1.0), [0.0, 0.0]),
    ("uint8 name", lambda x: mnp.sum(mnp.astype(x * x, "uint8") * 1.0), [0.0, 0.0]),
    # bool(x) * x: d/dx = bool(x) = 1 for nonzero x (the cast contributes nothing)
    ("bool times x", lambda x: mnp.sum(mnp.astype(x, bool) * x), [1.0, 1.0]),
    ("ufunc dtype unsafe", lambda x: mnp.sum(mnp.add(x, x, dtype=np.int64, casting="unsafe") * 1.0), [0.0, 0.0]),
    # constant_values cast to an integer array's dtype (autograd raised 'Can't differentiate w.r.t. int64')
    ("pad int array", lambda x: mnp.sum(mnp.pad(np.array([1, 2]), 1, constant_values=x[0]) * 1.0), [0.0, 0.0]),
    # a float cast keeps its derivative
    ("float32 then float64", lambda x: mnp.sum(mnp.astype(mnp.astype(x, np.float32), np.float64) * x), 2 * x0),
]


@pytest.mark.parametrize(("name", "f", "expected"), CASES, ids=[c[0] for c in CASES])
def test_cast_derivative(ad_backend: Any, name: str, f: Callable[[Any], Any], expected: Any) -> None:
    with multiad.use_backend(ad_backend.name):
        g = multiad.to_numpy(multiad.grad(f)(x0))
    np.testing.assert_allclose(g, np.asarray(expected), rtol=1e-6, atol=1e-6, err_msg=name)


def test_cast_value(ad_backend: Any) -> None:
    with multiad.use_backend(ad_backend.name):
        value, _ = multiad.value_and_grad(lambda x: mnp.sum(mnp.astype([x, 2 * x], np.int32) * 1.0))(x0)
    assert float(multiad.to_numpy(value)) == float(np.sum(np.array([x0, 2 * x0]).astype(np.int32)))
