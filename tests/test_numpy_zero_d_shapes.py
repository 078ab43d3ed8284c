"""Shape functions of 0-d arrays as numpy: ravel/reshape with order="F" of a 0-d tensor crashed
in torch's permute(); sort and flipud of a 0-d tensor returned the value where numpy raises;
squeeze(0-d, 0) raised IndexError where numpy returns the value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

CASES: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("ravel_F", lambda m, x: m.ravel(x, order="F")),
    ("reshape_F", lambda m, x: m.reshape(x, (1,), order="F")),
    ("squeeze_0", lambda m, x: m.squeeze(x, 0)),
    ("squeeze_-1", lambda m, x: m.squeeze(x, -1)),
    ("squeeze_()", lambda m, x: m.squeeze(x, ())),
    ("squeeze_1", lambda m, x: m.squeeze(x, 1)),
    ("squeeze_(0,)", lambda m, x: m.squeeze(x, (0,))),
    ("sort", lambda m, x: m.sort(x)),
    ("sort_None", lambda m, x: m.sort(x, axis=None)),
    ("flipud", lambda m, x: m.flipud(x)),
    ("fliplr_1d", lambda m, x: m.fliplr(m.reshape(x, (1,)))),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_zero_d_shape_functions_on_torch_are_numpys(case: tuple[str, Callable[[Any, Any], Any]]) -> None:
    name, call = case
    try:
        want: Any = np.asarray(call(np, np.array(2.5)))
    except (ValueError, IndexError) as e:  # numpy's AxisError is both
        want = type(e)
    x = multiad.asarray(np.array(2.5), backend="torch")
    if isinstance(want, type):
        with pytest.raises(want):
            call(mnp, x)
        return
    got = np.asarray(multiad.to_numpy(call(mnp, x)))
    assert got.shape == want.shape and got.dtype == want.dtype, (name, got, want)
    np.testing.assert_array_equal(got, want)
