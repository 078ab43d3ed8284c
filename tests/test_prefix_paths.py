"""The prefix walk used while a compiler traces (NOTE [Prefixes walked by path under a compiler]
in multiad/_tree.py) gives what optree's broadcast gives, and refuses what it refuses."""

from __future__ import annotations

import collections
from typing import Any

import numpy as np
import pytest

import multiad
from multiad import _tree

x = np.arange(3.0)
Pair = collections.namedtuple("Pair", ["p", "q"])
TREES: list[Any] = [
    {"a": x, "b": {"w": x, "v": x}},
    (x, {"w": x}),
    [x, (x, x)],
    {"s": x, "t": {"u": x, "w": [x, x]}},
    Pair(x, {"k": x}),
    {"a": x, "n": None},
]
PREFIXES: list[Any] = [
    {"a": 0, "b": 0},
    {"a": 0, "b": {"w": None, "v": 1}},
    {"a": 0, "b": {"w": 0}},  # a key missing
    {"a": 0, "b": 0, "c": 0},  # a key the tree lacks
    (0, 0),
    (0, {"w": None}),
    (0, 0, 0),  # one entry too many
    [0, None],
    [0, (None, 1)],
    {"s": 0, "t": 1},
    {"s": 0, "t": {"u": 1, "w": [0, None]}},
    {"s": 0, "t": {"u": 1, "w": 0, "z": 0}},
    Pair(0, {"k": 1}),
    Pair(None, 0),
    {"a": 1, "n": None},
    {"a": 1, "n": 0},
]


def _outcome(fn: Any, prefix: Any, tree: Any) -> Any:
    try:
        return fn(prefix, tree)
    except ValueError:
        return ValueError


@pytest.mark.parametrize("tree", range(len(TREES)))
def test_the_walk_agrees_with_the_broadcast(tree: int) -> None:
    t = TREES[tree]
    agreed = 0
    for prefix in PREFIXES:
        want = _outcome(_tree.leaf_axes, prefix, t)  # not traced: optree's broadcast
        if want is ValueError and type(prefix) is not type(t):
            continue  # another container kind at the same place: the walk follows its indices
        got = _outcome(_tree._leaf_axes_by_path, prefix, t)
        assert got == want, (prefix, t, got, want)
        agreed += want is not ValueError
    assert agreed >= 1


def test_a_compiled_vmap_refuses_a_key_the_argument_lacks() -> None:
    torch = pytest.importorskip("torch")
    p = {"a": torch.ones(2, 3, dtype=torch.float64), "b": {"w": torch.ones(2, 3, dtype=torch.float64)}}
    torch._dynamo.reset()
    with pytest.raises(multiad.InvalidArgumentError, match=r"in_dims\[0\]"):
        torch.compile(
            lambda p: multiad.vmap(lambda d: d["a"] * d["b"]["w"], in_dims=({"a": 0, "b": 0, "c": 0},))(p),
            backend="eager",
        )(p)
