"""Forward mode derived from reverse mode (NOTE [Linearize once]) keeps every term.

autograd's pullback of ``eigh`` skips the eigenvector term when its cotangent is all zeros; a
pushforward built by transposing the pullback at a zero cotangent therefore lost that term and
returned zero. The reference is a central difference of numpy's own ``eigh``.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BACKENDS

import multiad
import multiad.numpy as mnp

A = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 3.0]])
T = np.array([[0.5, -0.2, 0.4], [-0.2, 0.1, 0.3], [0.4, 0.3, -0.6]])  # symmetric direction
W = np.array([1.0, 2.0, 3.0])


def first_vector_weighted(a: np.ndarray) -> np.ndarray:
    """Sign-independent function of the smallest eigenvalue's eigenvector."""
    _, v = mnp.linalg.eigh(a)
    return mnp.sum(W * v[:, 0] ** 2)


def numpy_reference(a: np.ndarray) -> float:
    return float(np.sum(W * np.linalg.eigh(a)[1][:, 0] ** 2))


@pytest.mark.parametrize("name", [b for b in BACKENDS if b != "numpy"])
def test_jvp_through_eigenvectors(name: str) -> None:
    h = 1e-6
    expected = (numpy_reference(A + h * T) - numpy_reference(A - h * T)) / (2 * h)
    assert abs(expected) > 0.1  # the eigenvector term is what this checks
    _, t = multiad.jvp(first_vector_weighted, (A,), (T,), backend=name)
    assert np.allclose(multiad.to_numpy(t), expected, rtol=1e-6, atol=1e-8)
    _, push = multiad.linearize(first_vector_weighted, A, backend=name)
    assert np.allclose(multiad.to_numpy(push(T)), expected, rtol=1e-6, atol=1e-8)
