"""``tril``/``triu`` of a 1-d array (numpy: the rows of a square matrix) differentiate to the
vector's shape, and of a 0-d array raise numpy's TypeError, on every backend (autograd's
gradient had the matrix's shape, without an error; torch returned ``[[x]]``)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import Case, central_gradient

import multiad
import multiad.numpy as mnp

NAMES = ["tril", "triu"]
KS = [-1, 0, 1]


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("name", NAMES)
def test_triangle_of_a_vector_has_the_vectors_gradient(backend: Case, name: str, k: int) -> None:
    x = np.array([1.0, -2.0, 3.0])
    w = np.arange(9.0).reshape(3, 3) - 4.0

    def reference(v: np.ndarray) -> float:
        return float(np.sum(getattr(np, name)(v, k) * w))

    f = multiad.grad(lambda v: mnp.sum(getattr(mnp, name)(v, k) * w), backend=backend.name)
    got = np.asarray(multiad.to_numpy(f(x)))
    assert got.shape == x.shape
    np.testing.assert_allclose(got, central_gradient(reference, x), **backend.tol())


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("name", NAMES)
def test_triangle_of_a_vector_jacobian(backend: Case, name: str, k: int) -> None:
    x = np.array([1.0, -2.0, 3.0, 0.5])
    want = np.zeros((4, 4, 4))
    for i in np.ndindex(4, 4):
        want[i] = central_gradient(lambda v, i=i: float(getattr(np, name)(v, k)[i]), x)
    got = np.asarray(multiad.to_numpy(multiad.jacrev(lambda v: getattr(mnp, name)(v, k), backend=backend.name)(x)))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, **backend.tol())


@pytest.mark.parametrize("name", NAMES)
def test_triangle_of_a_0d_array_raises_numpys_type_error(backend: Case, name: str) -> None:
    with pytest.raises(TypeError):
        getattr(np, name)(np.float64(2.0))
    with pytest.raises(TypeError, match=f"^mnp.{name}: a 0-d array"):
        getattr(mnp, name)(backend.array(2.0))
