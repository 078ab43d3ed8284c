"""Mistakes in registering a pytree node raise errors naming the call and the fix (NOTE
[Registrations checked]); optree's own messages named neither, and children returned as an
array were accepted, each element becoming a separate leaf."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

import multiad


def _fresh() -> type:
    class Node:
        def __init__(self, a: Any) -> None:
            self.a = a

    return Node


def test_not_a_class() -> None:
    node = _fresh()
    with pytest.raises(
        multiad.InvalidTypeError, match=r"^register_pytree_node\('Node', \.\.\.\): cls must be a class, got the string"
    ):
        multiad.register_pytree_node("Node", lambda x: ((x.a,), None), lambda aux, c: node(*c))  # type: ignore[arg-type]
    with pytest.raises(multiad.InvalidTypeError, match=r"got a Node instance; pass the class itself \(type\(x\)"):
        multiad.register_pytree_node(node(1.0), lambda x: ((x.a,), None), lambda aux, c: node(*c))  # type: ignore[arg-type]
    with pytest.raises(multiad.InvalidTypeError, match=r"^register_dataclass\('x'\): cls must be a class"):
        multiad.register_dataclass("x", ["w"], [])  # type: ignore[type-var]


def test_functions_checked() -> None:
    node = _fresh()
    with pytest.raises(
        multiad.InvalidTypeError, match=r"register_pytree_node\(Node, \.\.\.\): flatten_fn must be callable"
    ):
        multiad.register_pytree_node(node, 3, lambda aux, c: node(*c))  # type: ignore[arg-type]
    with pytest.raises(
        multiad.InvalidTypeError,
        match=r"unflatten_fn cannot be called with 2 argument\(s\).*write unflatten_fn\(aux, children\)",
    ):
        multiad.register_pytree_node(node, lambda x: ((x.a,), None), lambda c: node(*c))  # type: ignore[arg-type]


def test_registered_twice() -> None:
    node = _fresh()
    multiad.register_pytree_node(node, lambda x: ((x.a,), None), lambda aux, c: node(*c))
    with pytest.raises(multiad.InvalidArgumentError, match=r"Node is already registered as a pytree node for multiad"):
        multiad.register_pytree_node(node, lambda x: ((x.a,), None), lambda aux, c: node(*c))

    @dataclasses.dataclass
    class D:
        w: Any

    multiad.register_dataclass(D)
    with pytest.raises(multiad.InvalidArgumentError, match=r"^register_dataclass\('D'\): D is already registered"):
        multiad.register_dataclass(D)
    with pytest.raises(multiad.InvalidArgumentError, match=r"tuple is a built-in container"):
        multiad.register_pytree_node(tuple, lambda x: (x, None), lambda aux, c: tuple(c))


@pytest.mark.parametrize(
    ("flatten", "match"),
    [
        (lambda x: x.a, r"flatten_fn returned ndarray for a Node; it must return a pair \(children, aux\)"),
        (lambda x: ((x.a,), None, 3), r"flatten_fn returned a tuple of length 3"),
        (lambda x: (x.a, None), r"flatten_fn returned children of type ndarray for a Node; return them as a tuple"),
        (lambda x: (5, None), r"flatten_fn returned children of type int"),
    ],
    ids=["not-a-pair", "triple", "array-children", "number-children"],
)
def test_flatten_results_checked(flatten: Any, match: str) -> None:
    node = _fresh()
    multiad.register_pytree_node(node, flatten, lambda aux, c: node(*c))
    x = node(np.ones(2))
    with pytest.raises(multiad.InvalidTypeError, match=r"^register_pytree_node\(Node, \.\.\.\): " + match):
        multiad.tree_flatten(x)
    with pytest.raises(multiad.InvalidTypeError, match=match):
        multiad.grad(lambda n: (n.a**2).sum(), backend="autograd")(x)


def test_right_registration_differentiates() -> None:
    node = _fresh()
    multiad.register_pytree_node(node, lambda x: ([x.a], None), lambda aux, c: node(*c))
    g = multiad.grad(lambda n: (n.a**2).sum(), backend="autograd")(node(np.array([1.0, 3.0])))
    np.testing.assert_allclose(g.a, [2.0, 6.0])  # d/da sum(a^2)
