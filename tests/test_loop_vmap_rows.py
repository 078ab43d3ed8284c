"""The loop vmap takes rows by index (NOTE [Rows by index] in multiad/_derive.py): arrays that
refuse iteration, as a symbolic TensorFlow tensor under tf.function does, are mapped too."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from multiad import _derive, _registry


class NoIteration(np.ndarray):
    """An array whose rows can be indexed but not iterated (TensorFlow's symbolic tensors)."""

    def __iter__(self) -> Any:
        raise TypeError("iterating over this array is not allowed")


def _no_iteration(a: np.ndarray) -> NoIteration:
    return np.asarray(a).view(NoIteration)


@pytest.mark.parametrize("in_axes", [(0, 0), (0, None)])
def test_loop_vmap_indexes_rows(in_axes: tuple[int | None, ...]) -> None:
    b = _registry.get("autograd")
    x = np.arange(6.0).reshape(3, 2)
    y = np.array([[1.0, -1.0], [2.0, 0.5], [0.0, 3.0]])
    other = y if in_axes[1] == 0 else y[0]
    batched = _derive.loop_vmap(b, lambda u, v: (u * v, u.sum()), in_axes, "vmap(f)")
    prod, sums = batched(_no_iteration(x), _no_iteration(other))
    np.testing.assert_array_equal(np.asarray(prod), x * (y if in_axes[1] == 0 else y[0]))
    np.testing.assert_array_equal(np.asarray(sums), x.sum(axis=1))


def test_columns_by_loop_indexes_rows() -> None:
    b = _registry.get("autograd")
    m = np.array([[2.0, 0.0], [1.0, 3.0]])
    columns = _derive._columns_by_loop(b, lambda ts: (m @ np.asarray(ts[0]),), (np.zeros(2),), "jacfwd(f)")
    (cols,) = columns(_no_iteration(np.eye(2)))
    np.testing.assert_array_equal(np.asarray(cols), m.T)  # row k: m applied to basis vector k
