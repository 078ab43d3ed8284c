"""A custom_jvp rule that calls its own function on the tangents (NOTE [Rules that call their
own function on tangents] in multiad/_custom_rules.py), against closed forms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp


@pytest.fixture(autouse=True)
def _selected(ad_backend: Case) -> Iterator[None]:
    with multiad.use_backend(ad_backend.name):
        yield


@multiad.custom_jvp
def scale(s: Any, r: Any) -> Any:
    return s * r


@scale.defjvp
def _scale_jvp(primals: Any, tangents: Any) -> Any:
    (s, r), (ds, dr) = primals, tangents
    return scale(s, r), scale(ds, r) + scale(s, dr)  # JAX's custom_jvp allows this


R = np.array([1.0, 3.0])


def test_reverse_mode(ad_backend: Case) -> None:
    # d/ds sum(s r) = sum(r) = 4 (JAX); torch ran without end, its memory growing, autograd hit RecursionError
    grad = multiad.grad(lambda s: mnp.sum(scale(s, R)))
    if ad_backend.name == "jax":
        np.testing.assert_allclose(multiad.to_numpy(grad(np.float64(2.0))), 4.0, rtol=1e-12)
        return
    with pytest.raises(multiad.UnsupportedOperationError, match="scale: its jvp rule calls scale on the tangents"):
        grad(np.float64(2.0))


def test_forward_mode(ad_backend: Case) -> None:
    jvp = lambda: multiad.jvp(lambda s: scale(s, R), (np.float64(2.0),), (np.float64(1.0),))  # noqa: E731
    if ad_backend.name == "autograd":  # autograd runs the rule on boxed tangents: the same regress
        with pytest.raises(multiad.UnsupportedOperationError, match="scale: its jvp rule calls scale"):
            jvp()
        return
    out, tangent = jvp()
    np.testing.assert_allclose(multiad.to_numpy(out), 2.0 * R, rtol=1e-12)
    np.testing.assert_allclose(multiad.to_numpy(tangent), R, rtol=1e-12)
