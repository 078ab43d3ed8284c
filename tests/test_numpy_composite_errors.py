"""Errors of ``multiad.numpy`` functions written from other ones start with the call the user made.

NOTE [Errors of composite functions]: ``nansum`` on JAX raised ``mnp.sum: ...``, ``full_like``
with a list as fill ``mnp.broadcast_to: ...``. numpy's own answers are the references.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

FRAMEWORKS = ("torch", "jax")


def _array(name: str, x: Any) -> Any:
    return multiad.asarray(np.asarray(x, dtype=np.float64), backend=name)


BAD_CALLS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "nansum axis out of range": ("nansum", lambda a: mnp.nansum(a, axis=5)),
    "nansum repeated axis": ("nansum", lambda a: mnp.nansum(a, axis=(0, 0))),
    "nansum unknown dtype": ("nansum", lambda a: mnp.nansum(a, dtype="foo")),
    "nansum where of another shape": ("nansum", lambda a: mnp.nansum(a, where=np.ones(2, bool))),
    "nanprod repeated axis": ("nanprod", lambda a: mnp.nanprod(a, axis=(0, 0))),
    "nanmean repeated axis": ("nanmean", lambda a: mnp.nanmean(a, axis=(0, 0))),
    "nanstd repeated axis": ("nanstd", lambda a: mnp.nanstd(a, axis=(0, 0))),
    "full_like fill of another shape": ("full_like", lambda a: mnp.full_like(a, [1.0, 2.0])),
}


@pytest.mark.parametrize("case", BAD_CALLS)
@pytest.mark.parametrize("name", FRAMEWORKS)
def test_errors_start_with_the_call_made(name: str, case: str) -> None:
    call, bad = BAD_CALLS[case]
    with pytest.raises(Exception) as info:
        bad(_array(name, [1.0, np.nan, 3.0]))
    message = str(info.value)
    assert message.startswith(f"mnp.{call}: "), message
    with pytest.raises(type(info.value).__mro__[1] if type(info.value).__name__.startswith("Shape") else Exception):
        bad(np.array([1.0, np.nan, 3.0]))  # numpy raises too


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_full_like_of_a_0d_array_with_a_one_element_list(name: str) -> None:
    # numpy's copyto drops leading axes of length 1: [1.0] and [[1.0]] fill a 0-d array
    for fill in ([2.5], [[2.5]], np.array([2.5])):
        got = mnp.full_like(_array(name, 1.0), fill)
        want = np.full_like(np.array(1.0), fill)
        assert got.shape == want.shape == ()
        assert float(multiad.to_numpy(got)) == float(want)
    with pytest.raises(ValueError, match=r"^mnp\.full_like: could not broadcast input array from shape \(2,\)"):
        mnp.full_like(_array(name, 1.0), [1.0, 2.0])
    with pytest.raises(ValueError):
        np.full_like(np.array(1.0), [1.0, 2.0])


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_full_with_a_traced_fill_of_a_wrong_shape_names_full(name: str) -> None:
    def f(v: Any) -> Any:
        return mnp.sum(mnp.full((3,), v))

    np.testing.assert_allclose(multiad.to_numpy(multiad.grad(f, backend=name)(np.array([2.0]))), [3.0])
    with pytest.raises(
        ValueError, match=r"^mnp\.full: could not broadcast input array from shape \(2,\) into shape \(3,\)"
    ):
        multiad.grad(f, backend=name)(np.array([1.0, 2.0]))


@pytest.mark.parametrize("backend_name", ["autograd", "torch"])
def test_cross_of_two_component_vectors_names_the_call(backend_name: str) -> None:
    # numpy 2 deprecates 2-component vectors in cross; on autograd they raised a bare AxisError
    # ("source: axis -1 is out of bounds for array of dimension 0") from inside its cross.
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    with pytest.raises(ValueError, match=r"^mnp\.cross: on \w+ the vectors must have 3 components"):
        multiad.grad(lambda v: mnp.sum(mnp.cross(v, b)), backend=backend_name)(a)


@pytest.mark.parametrize("kind", ["numpy", "torch", "jax"])
@pytest.mark.parametrize("name", ["diagonal", "trace"])
def test_one_axis_given_twice_to_diagonal_and_trace(kind: str, name: str) -> None:
    # numpy: ValueError "axis1 and axis2 cannot be the same"; torch raised RuntimeError and JAX a
    # TypeError about a transpose permutation.
    from numpy_specs import as_kind

    x = np.arange(12.0).reshape(2, 3, 2)
    with pytest.raises(ValueError, match="axis1 and axis2 cannot be the same"):
        getattr(np, name)(x, axis1=1, axis2=-2)
    with pytest.raises(ValueError, match=rf"^mnp\.{name}: axis1 and axis2 cannot be the same"):
        getattr(mnp, name)(as_kind(kind, x), axis1=1, axis2=-2)


@pytest.mark.parametrize("kind", ["numpy", "torch", "jax"])
def test_broadcast_to_fewer_dimensions_raises_value_error(kind: str) -> None:
    # numpy: ValueError; torch's expand raised a RuntimeError only ("the number of sizes provided
    # (2) must be greater or equal to the number of dimensions in the tensor (3)").
    from numpy_specs import as_kind

    x = np.ones((3, 2, 2))
    with pytest.raises(ValueError):
        np.broadcast_to(x, (2, 2))
    with pytest.raises(ValueError, match=r"^mnp\.broadcast_to: "):
        mnp.broadcast_to(as_kind(kind, x), (2, 2))
