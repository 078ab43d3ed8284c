"""vmap on the numpy and autograd backends gives f its unbatched arguments (in_dims None, keyword arguments)
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


CALLS: dict[str, Callable[[Any, str], Any]] = {
    "overwrite": lambda c, b: multiad.vmap(_overwrite, in_dims=(0, None), backend=b)(XS, c),
    "accumulate": lambda c, b: multiad.vmap(_accumulate, in_dims=(0, None), backend=b)(XS, c),
    "keyword": lambda c, b: multiad.vmap(_keyword, backend=b)(XS, c=c),
    "leaf": lambda c, b: multiad.vmap(_leaf, in_dims=(0, {"c": None, "scale": None}), backend=b)(
        XS, {"c": c, "scale": 2.0}
    ),
    "axis 1": lambda c, b: multiad.vmap(_overwrite, in_dims=(1, None), backend=b)(XS.T.copy(), c),
}


# autograd's vmap is the core's loop over the caller's numpy arrays, as the numpy backend's
# (NOTE [Arguments autograd's f may not change] in its backend)
@pytest.mark.parametrize("backend", ["numpy", "autograd"])
@pytest.mark.parametrize("name", list(CALLS))
def test_write_into_an_unbatched_argument_raises_and_leaves_it(name: str, backend: str) -> None:
    if backend == "autograd":
        pytest.importorskip("autograd")
    c = np.zeros(2)
    for _ in range(2):  # the first call, then the prepared plan
        with pytest.raises(multiad.NonDifferentiableError, match=r"^vmap\(_\w+\): .*changes in place.*x = x\.copy\(\)"):
            CALLS[name](c, backend)
        assert c.tolist() == [0.0, 0.0] and c.flags.writeable


def _doubling(x: Any, y: Any) -> Any:
    y *= 2.0
    return mnp.sum(x * y)


@pytest.mark.parametrize("backend", ["numpy", "autograd", "torch", "jax"])
def test_an_unbatched_argument_changed_in_place_is_refused_or_harmless(backend: str) -> None:
    # Every batch element must see the caller's y: sum(x * 2y) = 6 and a gradient of 2y = 2, or
    # an error naming the call; never 6, 12, 24, 48 (the loop handing on the changed y).
    pytest.importorskip({"numpy": "numpy", "autograd": "autograd", "torch": "torch", "jax": "jax"}[backend])
    xs = np.ones((4, 3))
    for fn in (_doubling, multiad.grad(_doubling, backend=backend)):
        y = np.ones(3)
        try:
            out = multiad.to_numpy(multiad.vmap(fn, in_dims=(0, None), backend=backend)(xs, y))
        except multiad.NonDifferentiableError as exc:
            assert str(exc).startswith("vmap(")
            assert backend != "jax"
        else:
            assert backend in ("torch", "jax")
            want = np.full(4, 6.0) if fn is _doubling else np.full((4, 3), 2.0)
            np.testing.assert_array_equal(out, want)
            if backend == "jax":
                assert y.tolist() == [1.0, 1.0, 1.0]
        if backend != "torch":  # torch's plain vmap writes through the tensor sharing y's memory once
            assert y.tolist() == [1.0, 1.0, 1.0]


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
