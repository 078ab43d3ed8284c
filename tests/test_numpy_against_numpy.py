"""multiad.numpy against numpy itself on the inputs of numpy's own tests that once went wrong.

Each case compares a backend's result, converted with ``multiad.to_numpy``, with numpy's result
for the same numpy inputs (values, dtype and shape), or checks that numpy's error is raised.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS

import multiad
import multiad.numpy as mnp


def _on(backend_name: str, *arrays: np.ndarray) -> list[Any]:
    return [multiad.asarray(a, backend=backend_name) for a in arrays]


def _same(got: Any, want: Any) -> None:
    got, want = np.asarray(multiad.to_numpy(got)), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got, want)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_linspace_of_integer_arrays_does_not_wrap(backend_name: str) -> None:
    start, stop = np.array([-120, 120], dtype="int8"), np.array([100, -100], dtype="int8")
    a, b = _on(backend_name, start, stop)
    _same(mnp.linspace(a, b, 5), np.linspace(start, stop, 5))  # -65 after -120, not -129
    _same(mnp.linspace(a, b, 5, axis=-1), np.linspace(start, stop, 5, axis=-1))


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_linalg_outer_takes_vectors_only(backend_name: str) -> None:
    (a,) = _on(backend_name, np.arange(3.0))
    _same(mnp.linalg.outer(a, a), np.linalg.outer(np.arange(3.0), np.arange(3.0)))
    with pytest.raises(ValueError, match=r"mnp\.linalg\.outer: Input arrays must be one-dimensional"):
        mnp.linalg.outer(a[:, None], a)  # mnp.outer flattens it; numpy.linalg.outer raises


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_linalg_trace_takes_dtype(backend_name: str) -> None:
    x = np.arange(4, dtype="int32").reshape(2, 2)
    (a,) = _on(backend_name, x)
    _same(mnp.linalg.trace(a, dtype="float32"), np.linalg.trace(x, dtype="float32"))
