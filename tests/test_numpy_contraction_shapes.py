"""Products whose operands do not fit raise numpy's ValueError on every backend, naming the call.

NOTE [tensordot's summed lengths] in multiad/numpy/_fixes_common.py: torch.tensordot broadcast a
summed axis of length 1 (tensordot, inner and dot of a column vector against a vector gave
numbers). NOTE [Core dimensions of vecdot, matvec and vecmat] in multiad/numpy/_extras.py: an
operand with fewer dimensions than the gufunc's core ones was accepted. vdot of arrays of
different sizes broadcast; JAX's einsum took a diagonal of a (1, 3) operand for "ii->i".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp

o = np.ones

# (name, operands, keywords): numpy raises ValueError for each
REFUSED: dict[str, tuple[str, tuple[Any, ...], dict[str, Any]]] = {
    "tensordot-count1": ("tensordot", (o((2, 1)), o((3, 4))), {"axes": 1}),
    "tensordot-default": ("tensordot", (o((5, 2, 3)), o((1, 3, 4))), {}),
    "tensordot-pairs": ("tensordot", (o((2, 3, 1)), o((3, 4, 5))), {"axes": ([1, 2], [0, 1])}),
    "tensordot-vector": ("tensordot", (o(3), o(1)), {"axes": 1}),
    "linalg.tensordot": ("linalg.tensordot", (o((2, 1)), o((3, 4))), {"axes": 1}),
    "inner-column": ("inner", (o((2, 1)), o((3, 3))), {}),
    "inner-vectors": ("inner", (o(1), o(3)), {}),
    "inner-second": ("inner", (o((2, 3)), o((4, 1))), {}),
    "dot-3d": ("dot", (o((2, 3, 1)), o((4, 3, 2))), {}),
    "vdot-sizes": ("vdot", (o(1), np.array([1.0, 2.0, 3.0])), {}),
    "vdot-0d": ("vdot", (np.array(2.0), o(3)), {}),
    "vdot-rows": ("vdot", (o((1, 3)), o((2, 3))), {}),
    "matvec-vectors": ("matvec", (np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])), {}),
    "matvec-0d": ("matvec", (o((2, 3)), np.array(2.0)), {}),
    "vecmat-vectors": ("vecmat", (o(3), o(3)), {}),
    "vecmat-0d": ("vecmat", (np.array(2.0), o((3, 2))), {}),
    "vecdot-0d-first": ("vecdot", (np.array(2.0), o(3)), {}),
    "vecdot-0d-second": ("vecdot", (o(3), np.array(2.0)), {}),
    "linalg.vecdot-0d": ("linalg.vecdot", (np.array(2.0), o(3)), {}),
    "einsum-diagonal": ("einsum", ("ii->i", o((1, 3))), {}),
    "einsum-trace": ("einsum", ("ii", o((3, 1))), {}),
    "einsum-ellipsis": ("einsum", ("...ii->...i", o((2, 1, 3))), {}),
}

# (name, operands, keywords): valid calls near the refused ones, compared with numpy's values
ACCEPTED: dict[str, tuple[str, tuple[Any, ...], dict[str, Any]]] = {
    "tensordot-count1": ("tensordot", (np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)), {"axes": 1}),
    "tensordot-pairs": (
        "tensordot",
        (np.arange(6.0).reshape(2, 3, 1), np.arange(3.0).reshape(3, 1, 1)),
        {"axes": ([1, 2], [0, 1])},
    ),
    "inner-size1": ("inner", (np.arange(2.0).reshape(2, 1), np.arange(3.0).reshape(3, 1)), {}),
    "dot-3d": ("dot", (np.arange(6.0).reshape(1, 2, 3), np.arange(12.0).reshape(2, 3, 2)), {}),
    "vdot-shapes": ("vdot", (np.arange(3.0).reshape(1, 3), np.arange(3.0).reshape(3, 1)), {}),
    "vdot-numbers": ("vdot", (2.0, 3.0), {}),
    "matvec-batch": ("matvec", (np.arange(12.0).reshape(2, 2, 3), np.arange(3.0)), {}),
    "vecmat-batch": ("vecmat", (np.arange(2.0), np.arange(12.0).reshape(2, 2, 3)), {}),
    "vecdot-broadcast": ("vecdot", (np.arange(6.0).reshape(2, 3), np.arange(3.0)), {}),
    "einsum-diagonal": ("einsum", ("ii->i", np.arange(9.0).reshape(3, 3)), {}),
    "einsum-ellipsis": ("einsum", ("...ii->...i", np.arange(8.0).reshape(2, 2, 2)), {}),
    "einsum-broadcast": ("einsum", ("i,i->", o(1), np.arange(3.0)), {}),  # numpy broadcasts across operands
}


def _fn(module: Any, name: str) -> Any:
    for part in name.split("."):
        module = getattr(module, part)
    return module


def _on(backend: Case, args: tuple[Any, ...]) -> list[Any]:
    return [backend.array(a) if isinstance(a, np.ndarray) else a for a in args]


@pytest.mark.parametrize("case", REFUSED)
def test_operands_that_do_not_fit_raise_value_error(backend: Case, case: str) -> None:
    name, args, kw = REFUSED[case]
    with pytest.raises(ValueError):  # the reference: numpy refuses them
        _fn(np, name)(*args, **kw)
    with pytest.raises(ValueError, match=rf"^mnp\.{name}: "):
        _fn(mnp, name)(*_on(backend, args), **kw)


@pytest.mark.parametrize("case", ACCEPTED)
def test_operands_that_fit_agree_with_numpy(backend: Case, case: str) -> None:
    name, args, kw = ACCEPTED[case]
    want = _fn(np, name)(*args, **kw)
    got = multiad.to_numpy(_fn(mnp, name)(*_on(backend, args), **kw))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert np.shape(got) == np.shape(want)
