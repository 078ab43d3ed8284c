"""Public pytree utilities over multiad's registry (NOTE [Why optree]).

NOTE [Public tree utilities]: these see exactly the containers multiad's transforms see: the
built-in ones (tuple, list, dict, namedtuple, OrderedDict, defaultdict, deque) plus whatever was
registered with :func:`multiad.register_pytree_node` or :func:`multiad.register_dataclass`.
Arrays of every framework are leaves, and ``None`` is an empty subtree (as in JAX). Argument
order follows JAX and optree (``tree_unflatten(structure, leaves)``), not
``torch.utils._pytree`` (leaves first); swapped arguments get an error saying so. Two trees
that differ in structure raise :class:`multiad.InvalidArgumentError` before ``fn`` runs, so an
error raised by ``fn`` itself reaches the caller unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import optree

from ._errors import InvalidArgumentError, InvalidTypeError
from ._flat import fname
from ._tree import NAMESPACE, PyTree, TreeSpec

IsLeaf = Callable[[Any], bool] | None


def tree_flatten(tree: PyTree, is_leaf: IsLeaf = None) -> tuple[list[Any], TreeSpec]:
    """The leaves of ``tree`` in multiad's order and its structure.

    Dict keys are visited in sorted order, as in JAX, on every backend.

    Args:
        tree: any pytree.
        is_leaf: optional predicate; a subtree for which it returns True is kept whole as a leaf.

    Returns:
        ``(leaves, structure)``; ``tree_unflatten(structure, leaves)`` rebuilds ``tree``.

    Example:
        >>> import multiad
        >>> leaves, structure = multiad.tree_flatten({"w": 1.0, "b": (2.0, None)})
        >>> leaves
        [2.0, 1.0]
        >>> multiad.tree_unflatten(structure, [20.0, 10.0])
        {'w': 10.0, 'b': (20.0, None)}
    """
    return optree.tree_flatten(tree, is_leaf, namespace=NAMESPACE)


def tree_leaves(tree: PyTree, is_leaf: IsLeaf = None) -> list[Any]:
    """The leaves of ``tree``, in the order :func:`tree_flatten` gives them.

    Example:
        >>> import multiad, numpy as np
        >>> params = {"w": np.ones((2, 3)), "b": np.zeros(2)}
        >>> sum(leaf.size for leaf in multiad.tree_leaves(params))
        8
    """
    return optree.tree_leaves(tree, is_leaf, namespace=NAMESPACE)


def tree_structure(tree: PyTree, is_leaf: IsLeaf = None) -> TreeSpec:
    """The structure of ``tree`` without its leaves; structures compare with ``==``.

    ``tree_structure(t).num_leaves`` is the number of leaves.

    Example:
        >>> import multiad
        >>> multiad.tree_structure({"a": 1, "b": 2}) == multiad.tree_structure({"b": 3.0, "a": 4.0})
        True
    """
    return optree.tree_structure(tree, is_leaf, namespace=NAMESPACE)


def tree_unflatten(structure: TreeSpec, leaves: Any) -> PyTree:
    """The tree of ``structure`` (from :func:`tree_flatten` or :func:`tree_structure`) holding
    ``leaves`` (an iterable, in the flattened order).

    Raises:
        InvalidTypeError: ``structure`` is not a tree structure (for instance the arguments were
            given leaves first, as ``torch.utils._pytree`` takes them).
        InvalidArgumentError: the number of leaves does not match the structure.
    """
    if not isinstance(structure, TreeSpec):
        hint = "; pass the structure first (JAX order)" if isinstance(leaves, TreeSpec) else ""
        raise InvalidTypeError(
            f"tree_unflatten(structure, leaves): structure must be a tree structure from "
            f"multiad.tree_flatten or multiad.tree_structure, got {type(structure).__name__}{hint}"
        )
    leaves = list(leaves)
    if len(leaves) != structure.num_leaves:
        raise InvalidArgumentError(
            f"tree_unflatten(structure, leaves): the structure holds {structure.num_leaves} leaves, "
            f"got {len(leaves)}; pass one leaf per position of tree_leaves(tree)"
        )
    return optree.tree_unflatten(structure, leaves)


def tree_map(fn: Callable[..., Any], tree: PyTree, *rest: PyTree, is_leaf: IsLeaf = None) -> PyTree:
    """``fn`` applied leaf by leaf: ``fn(leaf, *matching leaves of rest)``, in the structure of ``tree``.

    Every tree in ``rest`` must have the structure of ``tree`` (or have ``tree`` as a prefix, its
    subtree then passed whole to ``fn``). One optimizer step over a dict of parameters is one line:
    ``params = multiad.tree_map(lambda p, g: p - lr * g, params, grads)``.

    Args:
        fn: a function of ``1 + len(rest)`` leaves.
        tree: the pytree whose structure the result has.
        *rest: more pytrees, matched to ``tree`` leaf by leaf.
        is_leaf: optional predicate; a subtree for which it returns True is passed to ``fn`` whole.

    Raises:
        InvalidArgumentError: a tree in ``rest`` differs from ``tree`` in structure (raised before
            ``fn`` is called; errors raised by ``fn`` pass through unchanged).

    Example:
        >>> import multiad, multiad.numpy as mnp, numpy as np
        >>> def loss(p):
        ...     return mnp.sum((p["w"] * 2.0 + p["b"]) ** 2)
        >>> params = {"w": np.array([1.0, -1.0]), "b": np.array([0.5, 0.5])}
        >>> grads = multiad.grad(loss, backend="autograd")(params)
        >>> params = multiad.tree_map(lambda p, g: p - 0.1 * g, params, grads)
        >>> np.round(params["w"], 6).tolist(), np.round(params["b"], 6).tolist()
        ([0.0, -0.4], [0.0, 0.8])
    """
    leaves, structure = optree.tree_flatten(tree, is_leaf, namespace=NAMESPACE)
    others = []
    for k, other in enumerate(rest, start=1):
        try:
            others.append(structure.flatten_up_to(other))
        except ValueError as exc:
            mine = optree.tree_structure(other, is_leaf, namespace=NAMESPACE)
            raise InvalidArgumentError(
                f"tree_map({fname(fn)}): tree {k} of rest has structure {mine}, which does not match the "
                f"first tree's {structure} ({exc}); pass trees with the same containers and keys"
            ) from None
    return optree.tree_unflatten(structure, [fn(*xs) for xs in zip(leaves, *others)])
