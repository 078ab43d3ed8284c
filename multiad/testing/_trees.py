"""numpy-side pytree helpers for references: ravel, unravel and Jacobian blocks.

References are written as dense float64 matrices over the *raveled* leaves (in multiad's leaf
order, see multiad/_tree.py); these helpers lay them out in the structure multiad returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import optree

NAMESPACE = "multiad"


def leaves(tree: Any) -> list[Any]:
    return optree.tree_leaves(tree, namespace=NAMESPACE)  # type: ignore[no-any-return]


def structure(tree: Any) -> Any:
    return optree.tree_structure(tree, namespace=NAMESPACE)


def unflatten(spec: Any, items: list[Any]) -> Any:
    return optree.tree_unflatten(spec, items)


def tree_map(fn: Callable[..., Any], tree: Any, *rest: Any) -> Any:
    return optree.tree_map(fn, tree, *rest, namespace=NAMESPACE)


def ravel(tree: Any) -> np.ndarray:
    """All leaves of ``tree`` as one float64 vector."""
    parts = [np.asarray(x, dtype=np.float64).reshape(-1) for x in leaves(tree)]
    return np.concatenate(parts) if parts else np.zeros(0)


def unravel(vec: np.ndarray, like: Any) -> Any:
    """``vec`` cut into leaves shaped like those of ``like``, in ``like``'s structure."""
    out, off = [], 0
    for x in leaves(like):
        shape = np.shape(x)
        n = int(np.prod(shape, dtype=np.int64))
        out.append(np.asarray(vec[off : off + n], dtype=np.float64).reshape(shape))
        off += n
    if off != vec.size:
        raise ValueError(f"unravel: vector of size {vec.size} for a tree of {off} elements")
    return unflatten(structure(like), out)


def size(tree: Any) -> int:
    return sum(int(np.size(x)) for x in leaves(tree))


def blocks(dense: np.ndarray, out_like: Any, in_like: Any) -> Any:
    """A dense (n_out, n_in) matrix as multiad's Jacobian layout: the output tree of input trees,
    each leaf of shape ``out_leaf.shape + in_leaf.shape``."""
    in_spec = structure(in_like)
    rows, r = [], 0
    for o in leaves(out_like):
        m = int(np.size(o))
        cols, c = [], 0
        for x in leaves(in_like):
            n = int(np.size(x))
            cols.append(dense[r : r + m, c : c + n].reshape(np.shape(o) + np.shape(x)))
            c += n
        rows.append(unflatten(in_spec, cols))
        r += m
    return unflatten(structure(out_like), rows)


def select(args: tuple[Any, ...], argnums: int | tuple[int, ...]) -> tuple[Any, np.ndarray]:
    """The differentiated arguments as multiad arranges them, and their dense column indices."""
    offsets = np.cumsum([0] + [size(a) for a in args])
    picks = (argnums,) if isinstance(argnums, int) else argnums
    cols = np.concatenate([np.arange(offsets[a], offsets[a + 1]) for a in picks])
    tree = args[argnums] if isinstance(argnums, int) else tuple(args[a] for a in argnums)
    return tree, cols
