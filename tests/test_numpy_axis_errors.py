"""An axis out of range is numpy's AxisError on every backend, its message starting with the call.

NOTE [Framework errors name the call]: on torch, numpy and autograd arrays the AxisError had no
call's name (``axis 5 is out of bounds ...``), JAX raised a ValueError, torch's own functions an
IndexError; ``gradient`` and ``unwrap`` took ``axis % ndim`` (another axis, no error) and
``var``/``std`` raised ``IndexError: tuple index out of range``. numpy itself is the reference:
each call raises AxisError (or IndexError, of which AxisError is a subclass) on numpy arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad.numpy as mnp

X = np.arange(1.0, 7.0).reshape(2, 3)

# the call's name, and the call given numpy's module or multiad.numpy
CALLS: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "sum": ("sum", lambda m, x: m.sum(x, axis=5)),
    "prod tuple": ("prod", lambda m, x: m.prod(x, axis=(0, 5))),
    "max negative": ("max", lambda m, x: m.max(x, axis=-3)),
    "any": ("any", lambda m, x: m.any(x, axis=5)),
    "cumsum": ("cumsum", lambda m, x: m.cumsum(x, axis=5)),
    "sort": ("sort", lambda m, x: m.sort(x, axis=5)),
    "count_nonzero": ("count_nonzero", lambda m, x: m.count_nonzero(x, axis=5)),
    "std": ("std", lambda m, x: m.std(x, axis=5)),
    "var tuple": ("var", lambda m, x: m.var(x, axis=(0, 5))),
    "ptp": ("ptp", lambda m, x: m.ptp(x, axis=5)),
    "nansum": ("nansum", lambda m, x: m.nansum(x, axis=5)),
    "nanmean": ("nanmean", lambda m, x: m.nanmean(x, axis=5)),
    "nanmin": ("nanmin", lambda m, x: m.nanmin(x, axis=-3)),
    "median": ("median", lambda m, x: m.median(x, axis=5)),
    "flip": ("flip", lambda m, x: m.flip(x, axis=5)),
    "expand_dims": ("expand_dims", lambda m, x: m.expand_dims(x, 5)),
    "squeeze": ("squeeze", lambda m, x: m.squeeze(x, axis=5)),
    "moveaxis": ("moveaxis", lambda m, x: m.moveaxis(x, 5, 0)),
    "roll": ("roll", lambda m, x: m.roll(x, 1, axis=5)),
    "diagonal": ("diagonal", lambda m, x: m.diagonal(x, axis1=0, axis2=5)),
    "cross": ("cross", lambda m, x: m.cross(x, x, axis=5)),
    "concatenate": ("concatenate", lambda m, x: m.concatenate([x, x], axis=5)),
    "stack": ("stack", lambda m, x: m.stack([x, x], axis=5)),
    "repeat": ("repeat", lambda m, x: m.repeat(x, 2, axis=5)),
    "vecdot": ("vecdot", lambda m, x: m.vecdot(x, x, axis=5)),
    "cumulative_sum": ("cumulative_sum", lambda m, x: m.cumulative_sum(x, axis=5)),
    "gradient": ("gradient", lambda m, x: m.gradient(x, axis=5)),
    "unwrap": ("unwrap", lambda m, x: m.unwrap(x, axis=5)),
    "swapaxes": ("swapaxes", lambda m, x: m.swapaxes(x, 0, 5)),  # JAX: IndexError
    "swapaxes negative": ("swapaxes", lambda m, x: m.swapaxes(x, -3, 0)),
    "trapezoid": ("trapezoid", lambda m, x: m.trapezoid(x, axis=5)),  # every backend: unnamed IndexError
}


def test_swapaxes_names_the_axis_as_numpy(backend: Case) -> None:
    for args in [(0, 5), (-3, 0)]:
        with pytest.raises(np.exceptions.AxisError) as numpys:
            np.swapaxes(X, *args)
        with pytest.raises(np.exceptions.AxisError) as info:
            mnp.swapaxes(backend.array(X), *args)
        assert str(info.value) == f"mnp.swapaxes: {numpys.value}"


@pytest.mark.parametrize("case", CALLS)
def test_axis_out_of_range_is_numpys_axis_error_named(backend: Case, case: str) -> None:
    call, run = CALLS[case]
    with pytest.raises(IndexError) as numpys:  # AxisError, or IndexError (numpy's cross)
        run(np, X)
    with pytest.raises(np.exceptions.AxisError) as info:
        run(mnp, backend.array(X))
    assert isinstance(info.value, type(numpys.value))
    assert str(info.value).startswith(f"mnp.{call}: "), str(info.value)
    assert "5" in str(info.value) or "-3" in str(info.value), str(info.value)


def test_except_axis_error_still_catches_it(backend: Case) -> None:
    caught = False
    try:
        mnp.sum(backend.array(X), axis=5)
    except np.exceptions.AxisError as e:
        caught = str(e) == "mnp.sum: axis 5 is out of bounds for array of dimension 2"
    assert caught
