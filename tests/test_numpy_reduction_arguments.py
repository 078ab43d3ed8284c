"""Reductions check ``axis=``, ``keepdims=``, ``initial=``, ``ddof=`` and ``where=`` as numpy does.

NOTE [Reduction arguments as numpy checks them]: torch's functions read ``axis=0.5`` as axis 0
and added an ``initial=`` vector to every sum; JAX took ``keepdims="x"`` by its truth; numpy's
own errors on numpy and autograd arrays did not name the call. numpy on numpy arrays is the
reference: where it raises, every backend raises an exception of numpy's type whose message
starts with the call; where it accepts, every backend gives numpy's values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp

X = np.arange(1.0, 7.0).reshape(2, 3)

FUNCTIONS = (
    "sum prod mean max min amax amin all any cumsum cumprod argmax argmin count_nonzero sort argsort "
    "std var ptp average median nansum nanprod nanmean nanmax nanmin nanstd nanvar nancumsum nanmedian"
).split()

BAD: dict[str, dict[str, Any]] = {
    "axis=0.5": {"axis": 0.5},
    "axis='a'": {"axis": "a"},
    "axis=np.float64(1)": {"axis": np.float64(1.0)},
    "axis=(0.0,)": {"axis": (0.0,)},
    "axis=(0, 0)": {"axis": (0, 0)},
    "axis=(0, -2)": {"axis": (0, -2)},
    "axis=(0, 5)": {"axis": (0, 5)},
    "axis=[0, 1]": {"axis": [0, 1]},
    "axis=True": {"axis": True},
    "keepdims='x'": {"keepdims": "x"},
    "keepdims=None": {"keepdims": None},
    "keepdims=2": {"keepdims": 2},
    "initial=array": {"initial": np.ones(2)},
    "initial=[1.0]": {"initial": [1.0]},
    "initial='a'": {"initial": "a"},
    "initial=0-d array": {"initial": np.array(2.0)},
    "where of shape (4,)": {"where": np.ones(4, bool)},
    "ddof='a'": {"ddof": "a"},
}


def _numpys(fn: str, kwargs: dict[str, Any]) -> tuple[type[BaseException] | None, Any]:
    try:
        return None, getattr(np, fn)(X, **kwargs)
    except Exception as e:  # noqa: BLE001 - numpy's verdict, whatever its type
        return type(e), None


@pytest.mark.parametrize("case", BAD)
@pytest.mark.parametrize("fn", FUNCTIONS)
def test_reduction_arguments_as_numpy_checks_them(backend: Case, fn: str, case: str) -> None:
    kwargs = BAD[case]
    numpys, want = _numpys(fn, kwargs)
    if numpys is None:
        got = getattr(mnp, fn)(backend.array(X), **kwargs)
        np.testing.assert_allclose(np.asarray(multiad.to_numpy(got), dtype=float), np.asarray(want, dtype=float))
        assert np.shape(multiad.to_numpy(got)) == np.shape(want)
        return
    # numpy's UFuncTypeError for ddof='a' is a TypeError: that is the type asked of the others
    kind = TypeError if issubclass(numpys, TypeError) else numpys
    with pytest.raises(kind) as info:
        getattr(mnp, fn)(backend.array(X), **kwargs)
    assert str(info.value).startswith(f"mnp.{fn}: "), str(info.value)


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_a_float_axis_inside_grad_is_refused_not_rounded(name: str) -> None:
    # torch summed over int(0.5) == 0: a gradient of the wrong shape's meaning, without an error
    with pytest.raises(TypeError, match=r"^mnp\.sum: axis=0\.5 is not an integer"):
        multiad.grad(lambda x: mnp.sum(mnp.sum(x, axis=0.5) ** 2), backend=name)(X)


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_keepdims_numpy_accepts_is_read_as_a_bool(name: str) -> None:
    got = mnp.sum(multiad.asarray(X, backend=name), axis=1, keepdims=np.array(1))
    np.testing.assert_allclose(multiad.to_numpy(got), np.sum(X, axis=1, keepdims=np.array(1)))
    assert mnp.argmax(multiad.asarray(X, backend=name), axis=1, keepdims=None).shape == (2,)


def test_the_table_of_positions_is_numpys() -> None:
    import inspect

    from multiad.numpy._axis_args import CHECKED, POSITIONS

    assert set(POSITIONS) == CHECKED
    for name, table in POSITIONS.items():
        params = list(inspect.signature(getattr(np, name)).parameters.values())
        numpys = {
            p.name: i
            for i, p in enumerate(params)
            if p.kind is p.POSITIONAL_OR_KEYWORD and p.name in ("axis", "keepdims", "initial")
        }
        assert table == numpys, name
