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


Other = collections.namedtuple("Other", ["p", "q"])
#: (prefix, tree) whose containers differ in kind at some place; optree's broadcast refuses each.
OTHER_KINDS: list[Any] = [
    ((0, 0), [x, x]),
    ([0, 0], (x, x)),
    ((0, 0), Pair(x, x)),
    (Pair(0, 0), (x, x)),
    (Other(0, 0), Pair(x, x)),
    ({"p": 0, "q": 0}, [x, x]),
    ([0, None], {"p": x, "q": x}),
    ({"a": (0, 0)}, {"a": [x, x]}),
    ([0, [0, None]], [x, (x, x)]),
    ((0, 0), x),
    ({"a": 1, "n": (0,)}, {"a": x, "n": None}),
]


@pytest.mark.parametrize("case", range(len(OTHER_KINDS)))
def test_the_walk_refuses_another_kind_of_container_in_the_broadcasts_words(case: int) -> None:
    # NOTE [Prefixes walked by path under a compiler]: the walk followed a tuple's indices into a
    # list, so a compiled vmap accepted a prefix that the same call refused eagerly
    prefix, tree = OTHER_KINDS[case]
    with pytest.raises(ValueError) as broadcast:
        _tree.leaf_axes(prefix, tree)  # not traced: optree's broadcast
    with pytest.raises(ValueError) as walk:
        _tree._leaf_axes_by_path(prefix, tree)
    assert str(walk.value) == str(broadcast.value)


def _batched_sum(t: Any) -> Any:
    leaves = t.values() if isinstance(t, dict) else t
    return sum(v.sum() for v in leaves) if isinstance(t, (dict, list, tuple)) else t.sum()


def _refusal(fn: Any, *args: Any) -> str:
    with pytest.raises(multiad.InvalidArgumentError) as info:
        fn(*args)
    return str(info.value)


@pytest.mark.parametrize("case", range(len(OTHER_KINDS) - 1))  # the last holds None, not an array
def test_a_compiled_vmap_refuses_another_kind_of_container_as_eagerly(case: int) -> None:
    torch = pytest.importorskip("torch")
    prefix, tree = OTHER_KINDS[case]
    arg = multiad.tree_map(lambda v: torch.ones(2, 3, dtype=torch.float64), tree)
    f = (lambda d: _batched_sum(d["a"])) if isinstance(tree, dict) and "a" in tree else _batched_sum

    def call(arg: Any) -> Any:
        return multiad.vmap(f, in_dims=(prefix,))(arg)

    eager = _refusal(call, arg)
    assert "in_dims[0]" in eager and ("Expected an instance" in eager or "type mismatch" in eager)
    torch._dynamo.reset()
    assert _refusal(torch.compile(call, backend="eager"), arg) == eager


def test_a_compiled_vmap_refuses_another_kind_of_container_in_out_dims_as_eagerly() -> None:
    torch = pytest.importorskip("torch")
    a = torch.ones(2, 3, dtype=torch.float64)

    def call(a: Any) -> Any:
        return multiad.vmap(lambda v: [v, 2 * v], out_dims=(0, 1))(a)

    eager = _refusal(call, a)
    assert "out_dims=(0, 1)" in eager and "Expected an instance of tuple" in eager
    torch._dynamo.reset()
    assert _refusal(torch.compile(call, backend="eager"), a) == eager
