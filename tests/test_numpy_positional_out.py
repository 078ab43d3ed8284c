"""numpy takes a ufunc's ``out`` positionally after the operands (``np.add(x, y, out)``); multiad.numpy
refuses it as it refuses ``out=`` (it wrote into the array and returned a numpy array on every
backend, and inside a transform failed with an unrelated 'takes 1 positional argument')."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

x = np.array([1.0, 4.0])


def test_positional_out_refused(backend: Any) -> None:
    out = np.full(2, -7.0)
    with multiad.use_backend(backend.name):
        with pytest.raises(NotImplementedError, match=r"^mnp\.add: out .*not supported"):
            mnp.add(x, x, out)
        with pytest.raises(NotImplementedError, match=r"^mnp\.sqrt: out .*not supported"):
            mnp.sqrt(x, out)
        with pytest.raises(NotImplementedError, match=r"^mnp\.sqrt: out .*not supported"):
            multiad.grad(lambda t: mnp.sum(mnp.sqrt(t, out)))(x)
    np.testing.assert_array_equal(out, np.full(2, -7.0))  # not written


def test_positional_none_out_accepted(backend: Any) -> None:
    with multiad.use_backend(backend.name):
        s = multiad.to_numpy(mnp.add(x, x, None))
        g = multiad.to_numpy(multiad.grad(lambda t: mnp.sum(mnp.sqrt(t, None)))(x))
    np.testing.assert_array_equal(s, 2 * x)
    np.testing.assert_allclose(g, 0.5 / np.sqrt(x), rtol=1e-6)


def test_too_many_positional(backend: Any) -> None:
    with multiad.use_backend(backend.name), pytest.raises(TypeError, match=r"^mnp\.add: takes at most 3"):
        mnp.add(x, x, None, None)


def test_dtype_in_a_reductions_out_slot_advises_what_runs_on_every_backend(backend: Any) -> None:
    """The advice was ``mnp.max(x, axis).astype(dtype)``: torch tensors have no ``.astype``."""
    m = np.array([[1.5, -2.0], [0.25, 3.0]])
    a = backend.array(m)
    with pytest.raises(TypeError) as info:
        mnp.max(a, 1, np.float32)
    advice = "mnp.astype(mnp.max(x, axis), dtype)"
    assert advice in str(info.value)
    got = mnp.astype(mnp.max(a, 1), np.float32)  # the advice, followed
    want = np.max(m, 1).astype(np.float32)
    assert multiad.to_numpy(got).dtype == want.dtype
    np.testing.assert_array_equal(multiad.to_numpy(got), want)
