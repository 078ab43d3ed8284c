"""Python ints, unsigned numpy scalars and narrow numpy arrays beside integer arrays (uint64 values above int64's
too), on every backend against numpy's own result or error: NOTE [Python ints beside JAX integer
arrays], NOTE [Python int bounds of clip], NOTE [Integer fill values as numpy casts them], NOTE
[Unsigned numpy scalars beside uint64]."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS, central_gradient

import multiad
import multiad.numpy as mnp

ARRAYS = {
    "uint64": np.array([0, 5, 2**63 + 7, 2**64 - 1], dtype=np.uint64),
    "uint8": np.array([0, 5, 200, 255], dtype=np.uint8),
    "uint16": np.array([0, 5, 40000, 65535], dtype=np.uint16),
    "int8": np.array([-128, 0, 5, 127], dtype=np.int8),
    "int64": np.array([-(2**63), 0, 5, 2**63 - 1]),
    "float64": np.array([-1.5, 0.0, 5.0, 1e19]),
}
VALUES: list[Any] = [
    2**63 + 5,
    2**64 - 1,
    3,
    -1,
    300,
    -300,
    2**64,
    np.uint64(2**63 + 5),
    np.uint64(3),
    np.uint32(2**32 - 1),
    np.True_,
    True,  # a Python bool beside uint64 on torch compared unflipped (maximum(uint64 x, True) was 2**63 + 1)
    False,
    # numpy arrays of bools or uint8 (a list of bools arrives as one) beside uint64 on torch were
    # flipped after their conversion: maximum(uint64 x, np.array([1], np.uint8)) was 2**63 + 1
    np.array([1], dtype=np.uint8),
    np.array(200, dtype=np.uint8),
    np.array([True, False, True, False]),
    [True, False, False, True],
]
CASES: dict[str, Callable[[Any, Any, Any], Any]] = {
    "clip_max": lambda m, a, v: m.clip(a, 0, v),
    "clip_min": lambda m, a, v: m.clip(a, v, None),
    "add": lambda m, a, v: m.add(a, v),
    "subtract": lambda m, a, v: m.subtract(v, a),
    "multiply": lambda m, a, v: m.multiply(a, v),
    "maximum": lambda m, a, v: m.maximum(a, v),
    "minimum": lambda m, a, v: m.minimum(v, a),
    "fmax": lambda m, a, v: m.fmax(a, v),
    "where": lambda m, a, v: m.where(m.greater(a, 3), a, v),
    "where_first": lambda m, a, v: m.where(m.greater(a, 3), v, a),
    "full_like": lambda m, a, v: m.full_like(a, v),
    "less": lambda m, a, v: m.less(a, v),
    "greater_equal": lambda m, a, v: m.greater_equal(v, a),
    "equal": lambda m, a, v: m.equal(a, v),
    "not_equal": lambda m, a, v: m.not_equal(a, v),
}


def _outcome(fn: Callable[[], Any]) -> Any:
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # where's overflow in cast: numpy's and mnp's
            return multiad.to_numpy(fn())
    except (OverflowError, TypeError, ValueError, NotImplementedError) as exc:
        return exc


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", list(CASES))
def test_python_ints_beside_integer_arrays(backend_name: str, name: str) -> None:
    """JAX wrapped an int the dtype cannot hold (``add(uint8 x, -1)``: 255 + x) and refused one
    above ``2**63 - 1`` (``clip(uint64 x, 0, 2**63 + 5)``); torch and JAX's clip and full_like
    wrapped ``-1`` into an unsigned dtype; torch compared uint64 values with an unflipped
    ``np.uint64`` or ``np.True_`` (``less(uint64 [0, 5], np.uint64(3))`` gave ``[True, True]``),
    refused uint8 with ``np.uint64`` and computed uint16 with it in float64 (NOTE [Wide unsigned
    numpy operands]); int64 with ``np.uint64`` compared in float64 (NOTE [Signed integers
    compared with uint64])."""
    mismatches = []
    for dtype, x in ARRAYS.items():
        a = multiad.asarray(x, backend=backend_name)
        for value in VALUES:
            want = _outcome(lambda: CASES[name](np, x, value))  # noqa: B023 - called at once
            got = _outcome(lambda: CASES[name](mnp, a, value))  # noqa: B023 - called at once
            if isinstance(want, Exception):
                if not isinstance(got, type(want)):
                    mismatches.append((dtype, value, want, got))
                continue
            if isinstance(got, Exception):
                mismatches.append((dtype, value, want, got))
                continue
            g, w = np.asarray(got), np.asarray(want)
            if g.dtype != w.dtype or g.shape != w.shape or not np.array_equal(g, w):
                mismatches.append((dtype, value, want, got))
    assert not mismatches, mismatches[:4]


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_uint64_clip_and_comparisons_above_int64(backend_name: str) -> None:
    """The case reported: numpy clips uint64 values to a bound above ``2**63 - 1``."""
    x = np.array([0, 5, 2**63 + 7, 2**64 - 1], dtype=np.uint64)
    a = multiad.asarray(x, backend=backend_name)
    for hi in (2**63 + 5, np.uint64(2**63 + 5)):
        got = multiad.to_numpy(mnp.clip(a, 0, hi))
        assert got.dtype == np.uint64
        np.testing.assert_array_equal(got, np.clip(x, 0, hi))
        np.testing.assert_array_equal(multiad.to_numpy(mnp.less(a, hi)), np.less(x, hi))


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_clip_with_python_int_bounds_differentiates(backend_name: str) -> None:
    """clip of float values with Python int bounds (one beyond int64) keeps its derivative: 1
    inside the bounds, 0 outside, against central differences of numpy's clip."""
    x = np.array([-3.5, 0.25, 1.5, 4.0])

    def f(m: Any, t: Any) -> Any:
        return m.sum(m.clip(t, -1, 2) ** 2 + m.clip(t, 0, 2**64) * 3.0)

    got = multiad.to_numpy(multiad.grad(lambda t: f(mnp, t), backend=backend_name)(x))
    want = central_gradient(lambda t: f(np, t), x)
    tol = 1e-4 if backend_name == "numpy" else 1e-7
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


SIGNED = {
    "int64": np.array([2**53 + 1, 2**53, -(2**53) - 1, 2**63 - 1, -(2**63)]),
    "int8": np.array([-128, -1, 0, 5, 127], dtype=np.int8),
    "int64 0-d": np.array(2**63 - 1),
}
UNSIGNED: dict[str, Any] = {
    "uint64": np.array([2**53, 2**53 + 1, 2**63, 2**63 - 1, 2**64 - 1], dtype=np.uint64),
    "uint64 0-d": np.array(2**63, dtype=np.uint64),
    "np.uint64 big": np.uint64(2**63 + 5),
    "np.uint64 2**63": np.uint64(2**63),
    "np.uint64 2**53": np.uint64(2**53),
}
COMPARED = ("less", "less_equal", "greater", "greater_equal", "equal", "not_equal")


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", COMPARED)
def test_signed_integers_compared_with_uint64_exactly(backend_name: str, name: str) -> None:
    """NOTE [Signed integers compared with uint64]: numpy 2 compares a signed integer with a
    uint64 exactly, where torch and JAX compared in float64 (numpy's common dtype):
    ``less(int64 2**63 - 1, np.uint64(2**63 + 5))`` gave False, ``equal(int64 2**53 + 1,
    uint64 2**53)`` True. Both orders, arrays, 0-d arrays and numpy scalars."""
    fn = getattr(mnp, name)
    for s in SIGNED.values():
        for u in UNSIGNED.values():
            sa = multiad.asarray(s, backend=backend_name)
            ua = multiad.asarray(u, backend=backend_name) if isinstance(u, np.ndarray) else u
            for got, want in ((fn(sa, ua), getattr(np, name)(s, u)), (fn(ua, sa), getattr(np, name)(u, s))):
                got = multiad.to_numpy(got)
                assert got.dtype == np.bool_ and got.shape == np.shape(want), (s, u, got)
                np.testing.assert_array_equal(got, want, err_msg=f"{name}({s!r}, {u!r})")
            if not isinstance(u, np.ndarray) or u.ndim == 0:  # a uint64 operand of numpy beside the array
                got = multiad.to_numpy(fn(sa, np.asarray(u)))
                np.testing.assert_array_equal(got, getattr(np, name)(s, np.asarray(u)))


BIG = 2**63 + 5
MADE: dict[str, Callable[[Any], Any]] = {
    "full uint64": lambda m: m.full(3, BIG, dtype="uint64"),
    "full uint64 max": lambda m: m.full((2,), 2**64 - 1, dtype=np.uint64),
    "full of a big int": lambda m: m.full(3, BIG),
    "full -1 uint64": lambda m: m.full(3, -1, dtype="uint64"),
    "full big int64": lambda m: m.full(3, BIG, dtype="int64"),
    "asarray uint64 list": lambda m: m.asarray([0, BIG, 2**64 - 1], dtype="uint64"),
    "array uint64 nested": lambda m: m.array([[1, 2], [3, 2**63 + 1]], dtype="uint64"),
    "asarray big int": lambda m: m.asarray(BIG),
    "asarray -1 uint64": lambda m: m.asarray([-1], dtype="uint64"),
    "array 200 int8": lambda m: m.array((1, 200), dtype="int8"),
    "full_like np.uint64 dtype": lambda m: m.full_like(m.zeros(3, dtype="int64"), np.uint64(BIG), dtype="uint64"),
    "full_like -1 dtype": lambda m: m.full_like(m.zeros(2, dtype="int64"), -1, dtype="uint64"),
    "full_like bool np.uint64": lambda m: m.full_like(m.zeros(2, dtype="bool"), np.uint64(2**64 - 1)),
    "full_like bool 2**63": lambda m: m.full_like(m.zeros(2, dtype="bool"), 2**63),
    "full_like bool -1": lambda m: m.full_like(m.zeros(2, dtype="bool"), -1),
}


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("case", list(MADE))
def test_integers_made_in_the_dtype_asked_for(backend_name: str, case: str) -> None:
    """NOTE [Values made in the dtype asked for], NOTE [numpy's long long arrays]: numpy makes
    the values in the dtype asked for, or raises OverflowError; they were made in numpy's own
    dtype and cast (``asarray([0, 2**63 + 5, 2**64 - 1], dtype="uint64")`` was float64 first:
    ``[0, 2**63, 0]``; ``full(3, -1, dtype="uint64")`` wrapped), and torch refused numpy's
    ``ulonglong`` arrays (``full(3, 2**63 + 5)``) and a numpy scalar fill of ``full_like``."""
    want = _outcome(lambda: MADE[case](np))
    with multiad.use_backend(backend_name):
        got = _outcome(lambda: MADE[case](mnp))
    if isinstance(want, Exception):
        assert isinstance(got, type(want)) and str(got).startswith("mnp."), got
        return
    assert not isinstance(got, Exception), got
    got = np.asarray(got)
    assert got.dtype == want.dtype and got.shape == want.shape, (got, want)
    np.testing.assert_array_equal(got, want)


WIDE: dict[str, Callable[[Any], Any]] = {
    "mnp.asarray": lambda m: m.asarray(2**64),
    "mnp.array": lambda m: m.array(-(2**63) - 1),
    "mnp.full": lambda m: m.full(2, 2**64),
    "mnp.asarray list": lambda m: m.asarray([1, 2**70]),
}


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("case", list(WIDE))
def test_python_ints_no_dtype_holds(backend_name: str, case: str) -> None:
    """NOTE [Python ints no dtype holds]: numpy makes an object array of an int outside int64 and
    uint64; torch and JAX raised their own errors for it, without the call's name. numpy and
    autograd keep numpy's object array; torch and JAX raise OverflowError naming the call."""
    want = WIDE[case](np)
    assert want.dtype == object  # numpy's own result
    with multiad.use_backend(backend_name):
        if backend_name in ("torch", "jax"):
            with pytest.raises(OverflowError, match=rf"^{case.split()[0]}: Python int {want.flat[-1]} "):
                WIDE[case](mnp)
            return
        got = WIDE[case](mnp)
    assert isinstance(got, np.ndarray) and got.dtype == object and got.shape == want.shape
    assert got.tolist() == want.tolist()


CLIP_BOUNDS: list[tuple[Any, Any]] = [
    (0, np.array([0, 1, 200], dtype=np.uint8)),
    (0, np.array([0, 1, 100], dtype=np.int8)),
    (0, np.array([0, 1, 200], dtype=np.int64)),
    (np.array([0, 1, 200], dtype=np.uint8), None),
    (np.uint8(0), np.uint8(3)),
    (0, np.array([0.5, 1.0, 2.0], dtype=np.float32)),
]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("value", [2**63 + 1, 5, 2.5])
def test_clip_of_a_python_number(backend_name: str, value: Any) -> None:
    """NOTE [clip of a Python number]: numpy's clip makes an array of a Python number ``a``
    (``clip(2**63 + 1, 0, uint8 x)`` is uint64, ``clip(5, 0, uint8 x)`` int64); it took the
    bound's dtype, and ``2**63 + 1`` was cast into uint8 with an overflow warning numpy does
    not give."""
    for lo, hi in CLIP_BOUNDS:
        want = np.asarray(np.clip(value, lo, hi))
        blo, bhi = (multiad.asarray(b, backend=backend_name) if isinstance(b, np.ndarray) else b for b in (lo, hi))
        with multiad.use_backend(backend_name), warnings.catch_warnings():
            warnings.simplefilter("error")
            got = np.asarray(multiad.to_numpy(mnp.clip(value, blo, bhi)))
        if backend_name == "jax" and isinstance(value, int) and getattr(hi, "dtype", None) == np.float32:
            want = want.astype(np.float32)  # JAX's promotion of integers with float32 (docs/api-numpy.md)
        assert got.dtype == want.dtype and got.shape == want.shape, (value, lo, hi, got, want)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", ["arctan2", "copysign", "heaviside", "hypot", "divide"])
def test_float_loops_take_python_ints_beyond_the_integer_dtype(backend_name: str, name: str) -> None:
    """NOTE [Float loops of integer arrays]: numpy computes these ufuncs of an int8 array and a
    Python int in a float dtype, so an int int8 cannot hold is a value, not an error; JAX refused
    it as out of bounds for int8. Compared with numpy's values to float16's precision (numpy's
    own dtype there; each backend computes in its float dtype)."""
    x = np.array([1, -3, 0, 100], dtype=np.int8)
    a = multiad.asarray(x, backend=backend_name)
    for v in (255, -129, 300, 40000):
        with np.errstate(all="ignore"):
            want = getattr(np, name)(x, v)
        got = multiad.to_numpy(getattr(mnp, name)(a, v))
        assert got.dtype.kind == "f", (v, got.dtype)
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=2e-3, err_msg=f"{name} {v}")


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_uint64_to_signed_integer_powers_are_floats(backend_name: str) -> None:
    """numpy computes a uint64 base with a signed integer exponent in float64 (no integer dtype
    holds both), so a negative exponent is a value; on JAX it was refused as an integer to a
    negative integer power."""
    e = np.array([-1, 2, -3], dtype=np.int8)
    want = np.power(np.uint64(2), e)
    got = multiad.to_numpy(mnp.power(np.uint64(2), multiad.asarray(e, backend=backend_name)))
    np.testing.assert_allclose(got, want)
