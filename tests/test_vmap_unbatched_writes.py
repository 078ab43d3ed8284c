"""vmap on the numpy backend gives f its unbatched arguments (in_dims None, keyword arguments)
read-only, so a write into one raises instead of changing the caller's array at every batch
element, as torch refuses it and JAX cannot write at all (NOTE [Unbatched arguments f may not
change] in multiad/_api_vmap.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

XS = np.arange(6.0).reshape(3, 2)


def _overwrite(x: Any, c: Any) -> Any:
    c[:] = x
    return c * 2.0


def _accumulate(x: Any, c: Any) -> Any:
    c += x
    return mnp.sum(c)


def _keyword(x: Any, *, c: Any) -> Any:
    return _overwrite(x, c)


def _leaf(x: Any, p: Any) -> Any:
    return _overwrite(x, p["c"]) * p["scale"]


CALLS: dict[str, Callable[[Any], Any]] = {
    "overwrite": lambda c: multiad.vmap(_overwrite, in_dims=(0, None), backend="numpy")(XS, c),
    "accumulate": lambda c: multiad.vmap(_accumulate, in_dims=(0, None), backend="numpy")(XS, c),
    "keyword": lambda c: multiad.vmap(_keyword, backend="numpy")(XS, c=c),
    "leaf": lambda c: multiad.vmap(_leaf, in_dims=(0, {"c": None, "scale": None}), backend="numpy")(
        XS, {"c": c, "scale": 2.0}
    ),
    "axis 1": lambda c: multiad.vmap(_overwrite, in_dims=(1, None), backend="numpy")(XS.T.copy(), c),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_write_into_an_unbatched_argument_raises_and_leaves_it(name: str) -> None:
    c = np.zeros(2)
    for _ in range(2):  # the first call, then the prepared plan
        with pytest.raises(multiad.NonDifferentiableError, match=r"^vmap\(_\w+\): .*changes in place.*x = x\.copy\(\)"):
            CALLS[name](c)
        assert c.tolist() == [0.0, 0.0] and c.flags.writeable


def test_reads_and_copies_of_unbatched_arguments_work() -> None:
    c = np.array([0.5, -2.0])

    def copied(x: Any, c: Any) -> Any:
        c = c.copy()
        c[:] = x
        return c * 2.0

    mapped = multiad.vmap(lambda x, c: x * c, in_dims=(0, None), backend="numpy")
    for _ in range(2):
        np.testing.assert_array_equal(mapped(XS, c), XS * c)
    np.testing.assert_array_equal(multiad.vmap(copied, in_dims=(0, None), backend="numpy")(XS, c), 2.0 * XS)
    assert c.tolist() == [0.5, -2.0]


def test_torch_refuses_the_same_write() -> None:
    pytest.importorskip("torch")
    c = multiad.asarray(np.zeros(2), backend="torch")
    with pytest.raises(multiad.NonDifferentiableError, match=r"^vmap\(_overwrite\): "):
        multiad.vmap(_overwrite, in_dims=(0, None), backend="torch")(multiad.asarray(XS, backend="torch"), c)
