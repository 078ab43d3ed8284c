"""A reduction's ``initial=`` of every numpy scalar type, read as numpy reads it (NOTE [Initial
values as numpy reads them]), on every backend against numpy's own result or error."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS, central_gradient

import multiad
import multiad.numpy as mnp

ARRAY_DTYPES = ["int8", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64", "bool"]
INITIALS: list[Any] = [
    np.uint64(5),
    np.uint64(2**63 + 5),  # above int64: torch compares uint64 as shifted int64 bits
    np.int8(-1),  # into unsigned: numpy wraps it
    np.int16(300),  # into int8: numpy's OverflowError
    np.int64(-1),
    np.uint8(3),
    np.uint32(7),
    np.float16(5.5),  # into integers: truncated
    np.float32(-1.0),
    np.float64(2.0**63),
    np.bool_(True),
    5.5,
    -1.0,  # a Python float numpy bounds-checks as a Python int
    2**63 + 5,
    float("nan"),
]
WHERE = np.array([True, False, True])


def _outcome(fn: Any, x: Any, kwargs: dict[str, Any]) -> Any:
    """``fn(x, **kwargs)`` as a numpy array, or the error it raised."""
    try:
        with warnings.catch_warnings(), np.errstate(over="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # numpy's cast warnings
            return multiad.to_numpy(fn(x, **kwargs))
    except (TypeError, ValueError, OverflowError) as exc:
        return exc


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", ["max", "min", "amax", "amin", "sum", "prod", "nanmax", "nanmin", "nansum"])
def test_initial_of_numpy_scalar_types(backend_name: str, name: str) -> None:
    """torch raised a TypeError for a float or bool numpy scalar into an integer reduction and
    gave ``2**63 + 5`` for ``max`` of uint64 ``[1, 3, 2]`` with ``initial=np.uint64(5)``; JAX
    saturated or wrapped where numpy wraps or raises (NOTE [Initial values as numpy reads them])."""
    mismatches = []
    for dtype in ARRAY_DTYPES:
        x = np.array([1, 3, 2], dtype=dtype)
        a = multiad.asarray(x, backend=backend_name)
        for initial in INITIALS:
            for kwargs in (
                {"initial": initial},
                {"initial": initial, "axis": 0, "keepdims": True},
                {"initial": initial, "where": WHERE},
            ):
                want = _outcome(getattr(np, name), x, kwargs)
                got = _outcome(getattr(mnp, name), a, kwargs)
                if isinstance(want, Exception):
                    if not isinstance(got, type(want)):
                        mismatches.append((dtype, initial, kwargs, want, got))
                    continue
                g, w = np.asarray(got), np.asarray(want)
                if isinstance(got, Exception) or g.dtype != w.dtype or g.shape != w.shape:
                    mismatches.append((dtype, initial, kwargs, want, got))
                elif not np.array_equal(g, w, equal_nan=True):
                    mismatches.append((dtype, initial, kwargs, want, got))
    assert not mismatches, mismatches[:5]


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_infinite_initial_into_integers_is_refused(backend_name: str) -> None:
    """numpy's value for an infinite initial into an unsigned dtype is a C cast the platform
    decides; mnp refuses it, as numpy does for signed dtypes."""
    a = multiad.asarray(np.array([1, 3], dtype="uint8"), backend=backend_name)
    with pytest.raises(OverflowError, match=r"mnp\.max: initial=np\.float16\(inf\)"):
        mnp.max(a, initial=np.float16(np.inf))
    with pytest.raises(ValueError, match=r"mnp\.sum: initial=nan"):
        mnp.sum(a, initial=float("nan"))


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", ["nanmax", "nanmin"])
def test_nan_initial_of_nan_extrema_is_skipped(backend_name: str, name: str) -> None:
    """numpy's nanmax skips a NaN initial as it skips NaN values; mnp gave nan."""
    for x in (np.array([1.0, 3.0, 2.0]), np.array([[np.nan, 1.0], [np.nan, np.nan]], dtype="float32")):
        a = multiad.asarray(x, backend=backend_name)
        for kwargs in ({}, {"axis": 0}, {"axis": -1, "keepdims": True}, {"where": np.arange(x.shape[-1]) > 0}):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # All-NaN slice: numpy's and mnp's
                want = getattr(np, name)(x, initial=np.nan, **kwargs)
                got = multiad.to_numpy(getattr(mnp, name)(a, initial=np.float32(np.nan), **kwargs))
            assert got.dtype == want.dtype and got.shape == np.shape(want)
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("backend_name", ["torch", "jax", "autograd", "numpy"])
@pytest.mark.parametrize("name", ["max", "sum", "nanmax"])
def test_initial_of_numpy_scalar_differentiates(backend_name: str, name: str) -> None:
    """A numpy scalar initial leaves the reduction differentiable: the derivative is numpy's
    ``max`` with ``initial`` differenced centrally."""
    x = np.array([[0.2, 0.9], [0.4, -0.3]])
    initial = np.float32(0.5) if name != "nanmax" else np.float64(np.nan)

    def f(t: Any) -> Any:
        return mnp.sum(getattr(mnp, name)(t, axis=0, initial=initial) ** 2)

    got = multiad.to_numpy(multiad.grad(f, backend=backend_name)(x))
    ref = getattr(np, name)
    want = central_gradient(lambda v: np.sum(ref(v, axis=0, initial=initial) ** 2), x)
    tol = 1e-4 if backend_name == "numpy" else 1e-7
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
