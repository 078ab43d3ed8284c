"""Small places where ``multiad.numpy`` differed from numpy 2 itself, checked on every backend
against numpy's own result or error (autograd: inside ``multiad.grad``, on its boxed values)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

X = np.array([1.0, 2.0, 4.0, 7.5])


def on_backend(backend: Any, fn: Callable[[Any], Any], x: np.ndarray = X) -> Any:
    """``fn`` of ``x`` as an array of ``backend`` (autograd: its boxed value while
    differentiating), returned as a numpy array."""
    if backend.name != "autograd":
        return multiad.to_numpy(fn(backend.array(x)))
    seen: list[Any] = []

    def f(t: Any) -> Any:
        seen.append(fn(t))
        return mnp.sum(t)

    multiad.grad(f, backend="autograd")(x)
    out = seen[0]
    return np.asarray(getattr(out, "_value", out))


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")  # numpy's own nanvar
@pytest.mark.parametrize("name", ["var", "std", "nanvar", "nanstd"])
@pytest.mark.parametrize("dtype", [complex, np.complex64, np.complex128])
@pytest.mark.parametrize("where", [True, np.array([True, False, True, True])])
def test_variance_in_complex_dtype(backend: Any, name: str, dtype: Any, where: Any) -> None:
    """numpy computes ``var(x, dtype=complex)`` in that dtype and gives it: complex128 with a
    zero imaginary part (complex64 for ``dtype=np.complex64``); mnp gave the real dtype."""
    want = getattr(np, name)(X, dtype=dtype, where=where)
    got = on_backend(backend, lambda t: getattr(mnp, name)(t, dtype=dtype, where=where))
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6 if want.dtype == np.complex64 else 1e-12)
