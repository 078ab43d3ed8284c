"""Instances of subclasses of numpy.ndarray as arguments (NOTE [numpy array subclasses] in
multiad/_arrays.py): masked arrays are refused on every backend, with one message; a
numpy.matrix is taken as the plain 2-D array of its data on every backend."""

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
def test_matrix_is_taken_as_its_array(backend: str) -> None:
    # f sees the plain 2-D array on every backend (autograd refused it before): x * x is
    # elementwise, so the gradient of sum(x * x) is 2 x.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        m = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    seen: list[type] = []

    def f(x: Any) -> Any:
        seen.append(type(x))
        return mnp.sum(x * x)

    g = multiad.grad(f, backend=backend)(m)
    np.testing.assert_allclose(multiad.to_numpy(g), 2.0 * np.asarray(m), rtol=1e-6)
    assert np.matrix not in seen
    out = multiad.vmap(lambda x: x * x, backend=backend)(m)
    assert type(out) is not np.matrix
    np.testing.assert_allclose(multiad.to_numpy(out), np.asarray(m) ** 2)
    assert type(multiad.asarray(m, backend=backend)) is not np.matrix
