"""A dtype (or another value that is not an array) in the positional ``out`` slot of numpy's
reductions (``np.max(x, 1, np.float32)``: max takes ``(a, axis, out, ...)``) is numpy's TypeError
on every backend, starting with the call and saying what to do; numpy said "return arrays must be
of ArrayType" without the call, JAX that it could not read the value as an array, torch that
out= is not supported."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad.numpy as mnp

X = np.arange(1.0, 7.0).reshape(2, 3)

CALLS: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "max": ("max", lambda m, x: m.max(x, 1, np.float32)),
    "min": ("min", lambda m, x: m.min(x, 0, "float32")),
    "amax": ("amax", lambda m, x: m.amax(x, 1, np.float64)),
    "any": ("any", lambda m, x: m.any(x, 1, bool)),
    "argmax": ("argmax", lambda m, x: m.argmax(x, 1, np.int64)),
    "sum": ("sum", lambda m, x: m.sum(x, 1, None, np.float32)),
    "cumsum": ("cumsum", lambda m, x: m.cumsum(x, 1, None, np.float32)),
}


@pytest.mark.parametrize("case", CALLS)
def test_dtype_in_the_out_slot(backend: Case, case: str) -> None:
    call, run = CALLS[case]
    with pytest.raises(TypeError) as numpys:
        run(np, X)
    with pytest.raises(TypeError) as info:
        run(mnp, backend.array(X))
    assert isinstance(info.value, type(numpys.value))
    message = str(info.value)
    assert message.startswith(f"mnp.{call}: out (positional argument "), message
    assert "must be an array or None" in message and "mnp.astype(" in message, message


def test_value_that_is_no_dtype_in_the_out_slot(backend: Case) -> None:
    with pytest.raises(TypeError):
        np.max(X, 1, [0.0, 0.0])
    with pytest.raises(TypeError, match=r"^mnp\.max: out \(positional argument 3\) must be an array or None, got \["):
        mnp.max(backend.array(X), 1, [0.0, 0.0])


def test_dtype_in_its_own_slot_still_works(backend: Case) -> None:
    np.testing.assert_allclose(np.asarray(mnp.sum(backend.array(X), 1, np.float64)), X.sum(1))
