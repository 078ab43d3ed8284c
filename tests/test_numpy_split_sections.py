"""mnp's split functions read a 0-d array of sections as numpy does: as the number of sections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

X = np.arange(16.0).reshape(4, 4)

CASES: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("hsplit", lambda m, x: m.hsplit(x, np.array(2))),
    ("vsplit", lambda m, x: m.vsplit(x, np.array(2))),
    ("split", lambda m, x: m.split(x, np.array(4), axis=1)),
    ("array_split", lambda m, x: m.array_split(x, np.array(3))),
    ("split np.int64", lambda m, x: m.split(x, np.int64(2))),
]


@pytest.mark.parametrize(("name", "call"), CASES, ids=[c[0] for c in CASES])
def test_zero_d_sections(backend: Any, name: str, call: Callable[[Any, Any], Any]) -> None:
    # torch raised "mnp.hsplit: iteration over a 0-d array"
    expected = call(np, X)
    with multiad.use_backend(backend.name):
        got = [multiad.to_numpy(p) for p in call(mnp, mnp.asarray(X))]
    assert len(got) == len(expected), name
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)
