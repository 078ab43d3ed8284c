"""On the numpy backend mnp.stop_gradient raises only while that backend differentiates (finite
differences cannot hold a value constant); under use_backend alone and inside a vmap (no
derivative taken) it returns the value (both raised before)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

x = np.array([1.0, 2.0, 3.0])


def test_value_outside_transforms() -> None:
    with multiad.use_backend("numpy"):
        np.testing.assert_array_equal(mnp.stop_gradient(x), x)
        assert mnp.stop_gradient({"a": "label"}) == {"a": "label"}


def test_vmap_evaluates() -> None:
    with multiad.use_backend("numpy"):
        got = multiad.vmap(lambda t: mnp.stop_gradient({"a": 2 * t})["a"] + t)(x)
    np.testing.assert_array_equal(got, 3 * x)


def _f(t: Any) -> Any:
    return mnp.sum(t * mnp.stop_gradient(t))


TRANSFORMS: list[tuple[str, Callable[[], Any]]] = [
    ("grad", lambda: multiad.grad(_f)(x)),
    ("jacfwd", lambda: multiad.jacfwd(_f)(x)),
    ("hessian", lambda: multiad.hessian(_f)(x)),
    ("vjp", lambda: multiad.vjp(_f, x)),
    ("jvp", lambda: multiad.jvp(_f, (x,), (x,))),
    ("grad of vmap", lambda: multiad.grad(lambda t: mnp.sum(multiad.vmap(_f)(mnp.stack([t, t]))))(x)),
    ("vmap of grad", lambda: multiad.vmap(multiad.grad(_f))(np.stack([x, x]))),
]


@pytest.mark.parametrize(("name", "run"), TRANSFORMS, ids=[t[0] for t in TRANSFORMS])
def test_differentiating_transforms_refuse(name: str, run: Callable[[], Any]) -> None:
    # multiad's own error (every multiad error derives from MultiADError), still a NotImplementedError
    with (
        multiad.use_backend("numpy"),
        pytest.raises(NotImplementedError, match=r"^mnp\.stop_gradient: the 'numpy'") as info,
    ):
        run()
    assert isinstance(info.value, multiad.UnsupportedOperationError), type(info.value)
