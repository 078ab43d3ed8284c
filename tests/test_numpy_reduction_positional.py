"""numpy's max, min, amax, amin, all and any take (axis, out, keepdims, initial) positionally, with
no dtype (``np.max(x, 1, None, True)``); on torch mnp read the third as out= and refused the call.
``initial=None`` is numpy's "no initial value"; on torch mnp raised 'must be real number'."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

x = np.array([[0.5, -2.0, 3.0], [1.5, 4.0, -1.0]])

CASES: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("max", (1, None, True), {}),
    ("max", (0, None, False, 3.5), {}),
    ("min", (None, None, False, np.float64(-5.0)), {}),
    ("amax", (1, None, True), {}),
    ("amin", (-1, None, True, 0.0), {}),
    ("any", (1, None, True), {}),
    ("all", (0, None, False), {}),
    ("sum", (), {"initial": None}),
    ("prod", (1,), {"initial": None}),
    ("max", (1,), {"initial": None}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), CASES)
def test_reduction_positional_as_numpy(backend: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    want = getattr(np, name)(x, *args, **kwargs)
    with multiad.use_backend(backend.name):
        got = multiad.to_numpy(getattr(mnp, name)(multiad.asarray(x), *args, **kwargs))
    assert got.shape == np.shape(want)
    np.testing.assert_array_equal(got, want)


def test_grad_of_positional_max(backend: Any) -> None:
    # d/dx sum(max(x, axis=1, keepdims=True) * w) is w at each row's largest entry, 0 elsewhere
    w = np.array([[2.0], [-3.0]])
    with multiad.use_backend(backend.name):
        g = multiad.to_numpy(multiad.grad(lambda t: mnp.sum(mnp.max(t, 1, None, True) * w))(x))
    want = np.array([[0.0, 0.0, 2.0], [0.0, -3.0, 0.0]])
    np.testing.assert_allclose(g, want, atol=1e-6)


def test_max_takes_no_dtype_positionally(backend: Any) -> None:
    # numpy: the third positional argument of max is out=, so a dtype there is refused
    with pytest.raises(TypeError):
        np.max(x, 1, np.float32)
    with multiad.use_backend(backend.name), pytest.raises((TypeError, NotImplementedError)):
        mnp.max(multiad.asarray(x), 1, np.float32)
