"""A scalar output comes back as a 0-d array of the backend from every transform, on every
backend, whether f returns a backend array, a numpy scalar or a Python float (docs/api.md)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp
from tests.conftest import Case

X = np.array([1.0, -2.0, 0.5])


def _sum_sq(x: Any) -> Any:
    return mnp.sum(x**2)


def _numpy_scalar(x: Any) -> Any:  # a numpy scalar where numpy runs f, as np.sum gives
    out = mnp.sum(x**2)
    return np.float64(out) if type(out) is np.ndarray else out


def _zero_d(backend: Case, v: Any, want: float) -> None:
    assert isinstance(v, backend.array_type), type(v)
    assert tuple(v.shape) == ()
    assert float(multiad.to_numpy(v)) == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("f", [_sum_sq, _numpy_scalar])
def test_scalar_outputs_are_zero_d_arrays(backend: Case, f: Any) -> None:
    want = float(np.sum(X**2))
    for arg in (X, backend.array(X)):  # numpy input converted, and the backend's own
        vag = multiad.value_and_grad(f, backend=backend.name)
        for _ in range(3):  # the general path, then the prepared one
            v, g = vag(arg)
            _zero_d(backend, v, want)
            backend.close(g, 2 * X)
        out, vjp_fn = multiad.vjp(f, arg, backend=backend.name)
        _zero_d(backend, out, want)
        backend.close(vjp_fn(1.0)[0], 2 * X)
        out, tangent = multiad.jvp(f, (arg,), (np.ones(3),), backend=backend.name)
        _zero_d(backend, out, want)
        _zero_d(backend, tangent, float(np.sum(2 * X)))
        out, jvp_fn = multiad.linearize(f, arg, backend=backend.name)
        _zero_d(backend, out, want)
        _zero_d(backend, jvp_fn(np.ones(3)), float(np.sum(2 * X)))
