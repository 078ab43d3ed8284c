"""dtype= of reductions of traced arrays on autograd, against numpy: a float dtype= is the
accumulator's (prod of float16 [300, 300, 2] with dtype=float64 was inf), an integer one gives
numpy's value with no derivative (it raised "Can't differentiate w.r.t. type numpy.int64")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

pytest.importorskip("autograd")

CASES: list[Any] = [
    ("prod", np.array([300.0, 300.0, 2.0], np.float16), "float64"),
    ("cumsum", np.array([100.0, 100.0, 100.0]), "uint8"),
    ("cumprod", np.array([10.0, 10.0, 10.0]), "int8"),
    ("sum", np.array([1.5, 2.5, -0.5]), "int64"),
    ("mean", np.array([1.5, 2.5, -0.5]), "int64"),
    ("prod", np.array([1.5, 2.5, -0.5]), "int64"),
    ("nansum", np.array([1.5, np.nan, -0.5]), "int32"),
    ("cumsum", np.array([1.5, 2.5], np.float32), "float64"),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_autograd_reduction_dtype_of_a_traced_array_is_numpys(case: Any) -> None:
    import autograd

    name, x, dtype = case
    with np.errstate(all="ignore"):
        want = getattr(np, name)(x, dtype=dtype)
    _, got = autograd.make_vjp(lambda v: getattr(mnp, name)(v, dtype=dtype))(x)
    got = np.asarray(got)
    assert got.dtype == want.dtype, (got, want)
    np.testing.assert_allclose(got.astype(np.float64), np.asarray(want, np.float64), rtol=1e-6)


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "cumsum", "cumprod", "nansum"])
def test_autograd_integer_dtype_of_a_differentiated_array_has_no_derivative(name: str) -> None:
    x = np.array([1.5, 2.5, -0.5])
    value, g = multiad.value_and_grad(
        lambda v: mnp.sum(v * v) + mnp.sum(getattr(mnp, name)(v, dtype="int64")), backend="autograd"
    )(x)  # TypeError: Can't differentiate w.r.t. type <class 'numpy.int64'>
    np.testing.assert_allclose(value, np.sum(x * x) + np.sum(getattr(np, name)(x, dtype="int64")))
    np.testing.assert_allclose(g, 2 * x)
