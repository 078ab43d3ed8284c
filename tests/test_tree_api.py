"""The public tree utilities: multiad's registry and leaf order, on every backend's arrays."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import Any, NamedTuple

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp


class Pair(NamedTuple):
    left: Any
    right: Any


@dataclasses.dataclass
class Box:
    """Registered for multiad only, below."""

    inside: Any
    label: str


multiad.register_pytree_node(Box, lambda b: ((b.inside,), b.label), lambda label, c: Box(c[0], label))


def test_flatten_order_and_roundtrip() -> None:
    tree = {"z": [1.0, (2.0, None)], "a": Pair(3.0, OrderedDict(q=4.0, p=5.0)), "m": Box(6.0, "kept")}
    leaves, structure = multiad.tree_flatten(tree)
    # Dict keys sorted (a, m, z); OrderedDict keeps its own order (q, p); None is no leaf.
    assert leaves == [3.0, 4.0, 5.0, 6.0, 1.0, 2.0]
    assert multiad.tree_leaves(tree) == leaves
    assert structure.num_leaves == 6 and multiad.tree_structure(tree) == structure
    back = multiad.tree_unflatten(structure, [10 * v for v in leaves])
    assert list(back) == ["z", "a", "m"]  # the caller's key order comes back
    assert back["z"] == [10.0, (20.0, None)] and back["a"] == Pair(30.0, OrderedDict(q=40.0, p=50.0))
    assert isinstance(back["m"], Box) and back["m"].inside == 60.0 and back["m"].label == "kept"


def test_is_leaf_keeps_subtrees_whole() -> None:
    tree = {"a": Pair(1.0, 2.0), "b": [3.0]}
    assert multiad.tree_leaves(tree, is_leaf=lambda n: isinstance(n, Pair)) == [Pair(1.0, 2.0), 3.0]
    summed = multiad.tree_map(
        lambda n: sum(n) if isinstance(n, Pair) else -n, tree, is_leaf=lambda n: isinstance(n, Pair)
    )
    assert summed == {"a": 3.0, "b": [-3.0]}


def test_optimizer_step_over_a_dict_of_params(backend: Case) -> None:
    """One line of tree_map does a gradient-descent step; checked against the closed form."""
    w, b, x = np.array([[0.5, -0.2], [0.3, 0.8]]), np.array([0.1, -0.3]), np.array([1.0, -2.0])

    def loss(p: dict[str, Any]) -> Any:
        return mnp.sum(mnp.tanh(mnp.matmul(p["w"], multiad.asarray(x)) + p["b"]) ** 2)

    params = {"w": backend.array(w), "b": backend.array(b)}
    grads = multiad.grad(loss, backend=backend.name)(params)
    params = multiad.tree_map(lambda p, g: p - 0.5 * g, params, grads)
    t = np.tanh(w @ x + b)
    dz = 2 * t * (1 - t**2)
    backend.close(params, {"w": w - 0.5 * np.outer(dz, x), "b": b - 0.5 * dz})


def test_structure_mismatch_is_a_clear_error() -> None:
    with pytest.raises(multiad.InvalidArgumentError, match=r"^tree_map\(<lambda>\): tree 1 of rest .*same containers"):
        multiad.tree_map(lambda p, g: p - g, {"w": 1.0, "b": 2.0}, {"w": 1.0})
    with pytest.raises(multiad.InvalidTypeError, match=r"pass the structure first"):
        multiad.tree_unflatten([1.0], multiad.tree_structure([0.0]))  # type: ignore[arg-type]
    with pytest.raises(multiad.InvalidArgumentError, match=r"holds 2 leaves, got 3"):
        multiad.tree_unflatten(multiad.tree_structure((0.0, 0.0)), [1.0, 2.0, 3.0])


def test_errors_from_fn_pass_through() -> None:
    def fails(_: Any) -> Any:
        raise ValueError("from fn")

    with pytest.raises(ValueError, match=r"^from fn$") as info:
        multiad.tree_map(fails, [1.0])
    assert not isinstance(info.value, multiad.MultiADError)
