"""Instances of subclasses of numpy.ndarray as arguments (NOTE [numpy array subclasses] in
multiad/_arrays.py): masked arrays are refused on every backend, with one message; a
numpy.matrix, whose * is a matrix product, is refused on every backend too."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS

import multiad
import multiad.numpy as mnp


def _masked() -> np.ma.MaskedArray:
    return np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False])


def _sum_sq(x: Any) -> Any:
    return mnp.sum(x**2)


CALLS: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    # name: (the start of the message, the call with the masked array)
    "grad": ("grad(_sum_sq): argument 0 is a numpy masked array", lambda b, m: multiad.grad(_sum_sq, backend=b)(m)),
    "value_and_grad": (
        "value_and_grad(_sum_sq): argument 0 is a numpy masked array",
        lambda b, m: multiad.value_and_grad(_sum_sq, backend=b)(m),
    ),
    "jacobian, not differentiated": (
        "jacobian(<lambda>): argument 1 is a numpy masked array",
        lambda b, m: multiad.jacobian(lambda x, w: x * w, backend=b)(np.ones(3), m),
    ),
    "in a dict": (
        "grad(<lambda>): argument 0 at ['a'] is a numpy masked array",
        lambda b, m: multiad.grad(lambda d: mnp.sum(d["a"] * d["b"]), backend=b)({"a": m, "b": np.ones(3)}),
    ),
    "vmap": (
        "vmap(<lambda>): leaf 0 of the arguments is a numpy masked array",
        lambda b, m: multiad.vmap(lambda x: x * 2.0, backend=b)(m),
    ),
    "jvp tangent": (
        "jvp(_sum_sq): tangents leaf 0 is a numpy masked array",
        lambda b, m: multiad.jvp(_sum_sq, (np.ones(3),), (m,), backend=b),
    ),
    "vjp cotangent": (
        "vjp(<lambda>) vjp_fn: cotangent leaf 0 is a numpy masked array",
        lambda b, m: multiad.vjp(lambda x: x * 2.0, np.ones(3), backend=b)[1](m),
    ),
    "hvp tangent": (
        "hvp(_sum_sq): tangents leaf 0 is a numpy masked array",
        lambda b, m: multiad.hvp(_sum_sq, (np.ones(3),), (m,), backend=b),
    ),
    "asarray": ("asarray(x): x is a numpy masked array", lambda b, m: multiad.asarray(m, backend=b)),
    "asarray in a dict": (
        "asarray(x): leaf 0 of x is a numpy masked array",
        lambda b, m: multiad.asarray({"a": m}, backend=b),
    ),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(CALLS))
def test_masked_arrays_are_refused(backend: str, case: str) -> None:
    # Before, torch and numpy dropped the mask: value_and_grad(sum(x**2)) gave 14 where numpy's
    # f gives 10 (sum over the unmasked 1 and 3), without an error.
    start, run = CALLS[case]
    with pytest.raises(multiad.InvalidTypeError) as info:
        run(backend, _masked())
    msg = str(info.value)
    assert msg.startswith(start), msg
    assert "arr.filled(" in msg and "mask separately" in msg, msg


@pytest.mark.parametrize("backend", BACKENDS)
def test_masked_arrays_are_refused_on_every_call(backend: str) -> None:
    # A signature seen before (plain arrays, then a masked one of the same shape, twice) is no way round.
    g = multiad.grad(_sum_sq, backend=backend)
    np.testing.assert_allclose(multiad.to_numpy(g(np.array([1.0, 2.0, 3.0]))), [2.0, 4.0, 6.0], rtol=1e-6)
    for _ in range(2):
        with pytest.raises(multiad.InvalidTypeError, match="masked array"):
            g(_masked())


@pytest.mark.parametrize("backend", BACKENDS)
def test_filled_masked_array_matches_numpy(backend: str) -> None:
    # The fix the message names: the filled array, differentiated as numpy's f computes it.
    m = _masked()
    v, g = multiad.value_and_grad(_sum_sq, backend=backend)(m.filled(0.0))
    assert float(multiad.to_numpy(v)) == pytest.approx(float(np.sum(m**2)))  # 10, as numpy's masked sum
    np.testing.assert_allclose(multiad.to_numpy(g), [2.0, 0.0, 6.0], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("backend", BACKENDS)
def test_matrix_is_refused(backend: str) -> None:
    # numpy's f(m) of a matrix multiplies x * x as a matrix product: [[7, 10], [15, 22]], sum 54,
    # where the plain array's elementwise square sums to 30. torch, JAX and numpy differentiated
    # the elementwise function without an error; every backend refuses the matrix now.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        m = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    assert float(np.sum(m * m)) == 54.0
    for run in (
        lambda: multiad.grad(lambda x: mnp.sum(x * x), backend=backend)(m),
        lambda: multiad.vmap(lambda x: x * x, backend=backend)(m),
        lambda: multiad.asarray(m, backend=backend),
    ):
        with pytest.raises(multiad.InvalidTypeError, match=r"is a numpy\.matrix.*numpy\.asarray\(m\)"):
            run()
    g = multiad.grad(lambda x: mnp.sum(x * x), backend=backend)(np.asarray(m))  # the fix the message names
    np.testing.assert_allclose(multiad.to_numpy(g), 2.0 * np.asarray(m), rtol=1e-6)
