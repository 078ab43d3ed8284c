"""vmap's in_dims and out_dims mismatch messages show the user's tree and the arrays by shape
and dtype (multiad/_tree.py ``mismatch``), on one line: not a tree of zeros standing for the
output, nor an array's multi-line repr."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS

import multiad

X = np.arange(6.0).reshape(2, 3)
Y = np.array([1.0, 2.0, 3.0])


def _message(run: Any) -> str:
    with pytest.raises(multiad.InvalidArgumentError) as info:
        run()
    msg = str(info.value)
    assert "\n" not in msg, msg
    return msg


@pytest.mark.parametrize("backend", BACKENDS)
def test_out_dims_mismatch_shows_the_output(backend: str) -> None:
    msg = _message(lambda: multiad.vmap(lambda x: (x, x), out_dims=(0, 0, 0), backend=backend)(X))
    assert msg.startswith("vmap(<lambda>): out_dims=(0, 0, 0) does not match the output: tuple arity mismatch"), msg
    row = "array(shape=(2, 3), dtype=float64)"
    assert f"expected: 3, got: 2; tuple: ({row}, {row}); give one int for every output" in msg, msg
    assert "(0, 0)" not in msg.replace("(0, 0, 0)", ""), msg


@pytest.mark.parametrize("backend", BACKENDS)
def test_in_dims_mismatch_shows_shapes_not_values(backend: str) -> None:
    msg = _message(lambda: multiad.vmap(lambda p: p[0] * p[1], in_dims=([0, None],), backend=backend)((X, Y)))
    assert msg.startswith("vmap(<lambda>): in_dims[0]=[0, None] does not match argument 0: "), msg
    assert "got (array(shape=(2, 3), dtype=float64), array(shape=(3,), dtype=float64)); give one int" in msg, msg
    msg = _message(
        lambda: multiad.vmap(lambda d: d["a"] * d["b"], in_dims=({"a": 0},), backend=backend)({"a": X, "b": Y})
    )
    assert "extra key(s): ['b']; dict: {'a': array(shape=(2, 3), dtype=float64), 'b': array(shape=(3,)" in msg, msg
    assert "[3., 4., 5.]" not in msg
