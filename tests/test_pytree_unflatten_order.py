"""An unflatten_fn taking its parameters in the wrong order, or failing otherwise, raises an
error naming the registration and the signature to write (NOTE [unflatten_fn checked at the
rebuild]); it was Python's bare TypeError from inside optree at the first rebuild, as
jax.tree_util and optree themselves give."""

from __future__ import annotations

from typing import Any

import numpy as np
import optree
import pytest

import multiad
import multiad.numpy as mnp

FORM = (
    r"write unflatten_fn\(aux, children\) -> x, aux the second element flatten_fn returns and children a tuple "
    r"of the children, as optree and jax.tree_util call it"
)


def _fresh() -> type:
    class Pair:
        def __init__(self, a: Any, b: Any) -> None:
            self.a, self.b = a, b

    return Pair


def _loss(p: Any) -> Any:
    return mnp.sum(p.a * p.b)


A, B = np.array([1.0, 2.0]), np.array([3.0, -1.0])


@pytest.mark.parametrize("backend", ["torch", "jax", "autograd", "numpy"])
def test_swapped_parameters_at_the_rebuild(backend: str) -> None:
    pair = _fresh()
    multiad.register_pytree_node(pair, lambda p: ((p.a, p.b), None), lambda c, a: pair(*c))
    with pytest.raises(
        multiad.InvalidTypeError,
        match=r"^register_pytree_node\(Pair, \.\.\.\): unflatten_fn takes its parameters in the wrong order: called "
        r"as unflatten_fn\(aux, children\) it raised TypeError: .*argument after \* must be an iterable, not "
        r"NoneType, and called as unflatten_fn\(children, aux\) it returns a Pair; " + FORM + "$",
    ):
        multiad.grad(_loss, backend=backend)(pair(A, B))


def test_swapped_parameters_in_tree_functions() -> None:
    pair = _fresh()
    multiad.register_pytree_node(pair, lambda p: ((p.a, p.b), "meta"), lambda c, a: pair(*c))
    with pytest.raises(multiad.InvalidTypeError, match=r"unflatten_fn takes its parameters in the wrong order"):
        multiad.tree_map(lambda x: x, pair(1.0, 2.0))
    leaves, spec = multiad.tree_flatten(pair(1.0, 2.0))
    assert leaves == [1.0, 2.0]
    with pytest.raises(multiad.InvalidTypeError, match=r"unflatten_fn takes its parameters in the wrong order"):
        multiad.tree_unflatten(spec, leaves)


def test_the_frameworks_give_a_bare_error() -> None:
    # what multiad's own message replaces: optree (and jax.tree_util) name neither the registration nor the order
    pair = _fresh()
    optree.register_pytree_node(pair, lambda p: ((p.a, p.b), None), lambda c, a: pair(*c), namespace="rawerr-test")
    with pytest.raises(TypeError, match=r"argument after \* must be an iterable") as info:
        optree.tree_map(lambda x: x, pair(1.0, 2.0), namespace="rawerr-test")
    assert "unflatten_fn" not in str(info.value)


@pytest.mark.parametrize(
    ("names", "fn"),
    [
        ("children, aux", lambda children, aux: None),
        ("leaves, aux_data", lambda leaves, aux_data: None),
        ("children, metadata", lambda children, metadata: None),
    ],
)
def test_swapped_parameter_names_at_the_registration(names: str, fn: Any) -> None:
    # aux a tuple of two: the swapped unflatten_fn would not raise, but build a Pair of the aux data
    pair = _fresh()
    with pytest.raises(
        multiad.InvalidTypeError,
        match=r"^register_pytree_node\(Pair, \.\.\.\): unflatten_fn takes \(" + names + r"\), the children first; "
        r"it is called with the auxiliary data first: " + FORM + "$",
    ):
        multiad.register_pytree_node(pair, lambda p: ((p.a, p.b), ("x", "y")), fn)
    # not registered: a right registration afterwards works, and its gradient is (b, a) (closed form)
    multiad.register_pytree_node(pair, lambda p: ((p.a, p.b), ("x", "y")), lambda aux, children: pair(*children))
    g = multiad.grad(_loss, backend="autograd")(pair(A, B))
    np.testing.assert_allclose(multiad.to_numpy(g.a), B)
    np.testing.assert_allclose(multiad.to_numpy(g.b), A)


def test_otherwise_wrong_unflatten() -> None:
    # children as one argument where the class takes two: not an order mistake, named as a failing rebuild
    pair = _fresh()
    multiad.register_pytree_node(pair, lambda p: ((p.a, p.b), None), lambda aux, c: pair(c))
    with pytest.raises(
        multiad.InvalidTypeError,
        match=r"^register_pytree_node\(Pair, \.\.\.\): unflatten_fn raised TypeError: .*missing 1 required positional "
        r"argument: 'b', rebuilding a Pair from aux None and 2 child\(ren\); " + FORM + ", returning a Pair",
    ) as info:
        multiad.grad(_loss, backend="numpy")(pair(A, B))
    assert isinstance(info.value.__cause__, TypeError)


def test_errors_of_frameworks_and_multiad_pass_unchanged() -> None:
    # an exception that is not one of Python's built-in ones is the class's own: not rewritten
    class Refused(TypeError):
        pass

    pair = _fresh()

    def unflatten(aux: Any, c: Any) -> Any:
        raise Refused("the class's own check")

    multiad.register_pytree_node(pair, lambda p: ((p.a, p.b), None), unflatten)
    with pytest.raises(Refused, match="the class's own check"):
        multiad.tree_map(lambda x: x, pair(1.0, 2.0))


def test_right_order_unchanged() -> None:
    pair = _fresh()
    multiad.register_pytree_node(pair, lambda p: ((p.a, p.b), None), lambda aux, c: pair(*c))
    for backend in ("torch", "jax", "autograd", "numpy"):
        g = multiad.grad(_loss, backend=backend)(pair(A, B))
        np.testing.assert_allclose(multiad.to_numpy(g.a), B, rtol=1e-6)
        np.testing.assert_allclose(multiad.to_numpy(g.b), A, rtol=1e-6)
