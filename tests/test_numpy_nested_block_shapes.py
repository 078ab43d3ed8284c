"""The numpy backend's second derivatives of a function with several outputs and several
differentiated inputs, where nested results of one size but different shapes hold the same
values (NOTE [Noise of each nested element] in ``multiad_numpy/_levels.py``): ``f(s, v) = (s**2,
v**2)`` has the blocks ``d(s**2)/dv`` of shape ``(2,)`` and ``d(v**2)/ds`` of shape ``(2,)`` as
the nested level returns them as ``(1, 2)`` and ``(2, 1)``, both zero. Their noises were combined
by broadcasting into a ``(2, 2)`` array, and the outer level raised numpy's "operands could not
be broadcast together". References are closed forms.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import multiad

NP = "numpy"
S = np.array(0.4)
V = np.array([0.3, 0.7])


def separable(s: Any, v: Any) -> Any:
    return (s**2, v**2)


def exact() -> Any:
    """Blocks ``[i][j][k]``: the second derivative of output ``i`` by inputs ``j`` and ``k``."""
    z2, z22 = np.zeros(2), np.zeros((2, 2))
    h1 = np.zeros((2, 2, 2))
    h1[0, 0, 0] = h1[1, 1, 1] = 2.0
    return (
        ((np.array(2.0), z2), (z2, z22)),
        ((z2, z22), (z22, h1)),
    )


def close(got: Any, want: Any) -> None:
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            close(g, w)
        return
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "make",
    [
        lambda c: multiad.hessian(separable, argnums=(0, 1), chunk_size=c, backend=NP),
        lambda c: multiad.jacrev(
            multiad.jacfwd(separable, argnums=(0, 1), chunk_size=c, backend=NP),
            argnums=(0, 1),
            chunk_size=c,
            backend=NP,
        ),
        lambda c: multiad.jacfwd(
            multiad.jacrev(separable, argnums=(0, 1), chunk_size=c, backend=NP),
            argnums=(0, 1),
            chunk_size=c,
            backend=NP,
        ),
    ],
    ids=["hessian", "jacrev(jacfwd)", "jacfwd(jacrev)"],
)
@pytest.mark.parametrize("chunk", [None, 1])
def test_blocks_of_one_size_and_different_shapes(make: Any, chunk: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # smooth polynomials: no accuracy warning either
        got = make(chunk)(S, V)
    close(got, exact())


def test_one_tuple_argument() -> None:
    f = lambda q: (q[0] * 1.0 + q[0] ** 2, q[1] ** 2)  # noqa: E731
    got = multiad.hessian(f, backend=NP)((S, V))
    close(got, exact())


def test_an_empty_argument_and_outputs_of_two_sizes() -> None:
    f = lambda e: (e.sum() * np.ones(3), e.sum() * np.ones(4))  # noqa: E731
    got = multiad.hessian(f, backend=NP)(np.zeros((0,)))
    assert isinstance(got, tuple) and [np.shape(h) for h in got] == [(3, 0, 0), (4, 0, 0)]
