"""tree_unflatten of a dict: sorted leaves, the original key order (docs/migration.md)."""

from __future__ import annotations

import multiad


def test_unflatten_of_a_dict_keeps_its_key_order_with_sorted_leaves() -> None:
    # docs/migration.md: leaves in sorted key order as in JAX; the rebuilt dict keeps the
    # original key order (JAX sorts it); the value under each key is the same.
    d = {"b": 1.0, "a": 2.0}
    leaves, structure = multiad.tree_flatten(d)
    assert leaves == [2.0, 1.0]
    rebuilt = multiad.tree_unflatten(structure, [5.0, 6.0])
    assert list(rebuilt) == ["b", "a"] and rebuilt == {"a": 5.0, "b": 6.0}
