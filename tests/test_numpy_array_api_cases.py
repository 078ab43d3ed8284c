"""Values of multiad.numpy against numpy's own at the edge cases the Array API's special cases list
(signed zeros, infinities, unsigned integers), on every backend's arrays and on the values a
backend traces while it differentiates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp
from tests.conftest import AD_BACKENDS, BACKENDS, central_gradient


def _same_bits(got: Any, want: Any) -> None:
    """Equal values, dtypes and shapes, nan where numpy has nan, and the signs of zeros."""
    g, w = np.asarray(multiad.to_numpy(got)), np.asarray(want)
    assert g.dtype == w.dtype and g.shape == w.shape, (g, w)
    np.testing.assert_array_equal(g, w)
    if w.dtype.kind == "f":
        np.testing.assert_array_equal(np.signbit(g), np.signbit(w))


def _traced(backend_name: str, f: Callable[[Any], Any], x: np.ndarray) -> Any:
    """``f(x)`` computed while ``backend_name`` differentiates it (autograd's boxes, JAX's
    tracers, torch.func's tensors), as the forward value of ``multiad.vjp``."""
    out, _ = multiad.vjp(f, multiad.asarray(x, backend=backend_name), backend=backend_name)
    return out


NEG_ZERO = np.array([-0.0, -0.0, -0.0, -1.0, 0.0, -0.0])
SIGNED_ZERO_CALLS: dict[str, tuple[Callable[[Any], Any], Callable[[np.ndarray], Any]]] = {
    "where": (lambda x: mnp.where(x > 5.0, 1.0, x), lambda x: np.where(x > 5.0, 1.0, x)),
    "arctan2": (
        lambda x: mnp.arctan2(x, np.array([1.0, 0.0, -1.0, np.inf, -0.0, -np.inf])),
        lambda x: np.arctan2(x, np.array([1.0, 0.0, -1.0, np.inf, -0.0, -np.inf])),
    ),
    "power": (lambda x: mnp.power(x, 3.0), lambda x: np.power(x, 3.0)),
    "power_of_one": (lambda x: mnp.power(x, 1.0), lambda x: np.power(x, 1.0)),
    "power_traced_exponent": (lambda x: mnp.power(x, mnp.abs(x) * 0.0 + 3.0), lambda x: np.power(x, 3.0)),
    "broadcast_to": (lambda x: mnp.broadcast_to(x, (2, 6)), lambda x: np.broadcast_to(x, (2, 6))),
    "broadcast_arrays": (
        lambda x: mnp.broadcast_arrays(x, np.zeros((3, 1)))[0],
        lambda x: np.broadcast_arrays(x, np.zeros((3, 1)))[0],
    ),
    "clip": (lambda x: mnp.clip(x, -2.0, 2.0), lambda x: np.clip(x, -2.0, 2.0)),
    "positive": (mnp.positive, np.positive),  # autograd's was x + 0: +0.0 for -0.0
    "sign": (mnp.sign, np.sign),  # JAX's was -0.0 at -0.0, numpy's +0.0
}


@pytest.mark.parametrize("name", list(SIGNED_ZERO_CALLS))
@pytest.mark.parametrize("backend_name", AD_BACKENDS)
def test_negative_zeros_of_traced_values(backend_name: str, name: str) -> None:
    # autograd broadcast by adding False, and -0.0 + 0 is +0.0: where(c, 1.0, x) of a traced -0.0
    # was +0.0, and arctan2(-0.0, -1.0) +pi where numpy gives -pi
    f, ref = SIGNED_ZERO_CALLS[name]
    _same_bits(_traced(backend_name, f, NEG_ZERO), ref(NEG_ZERO))
    x32 = NEG_ZERO.astype(np.float32)
    _same_bits(_traced(backend_name, f, x32), ref(x32))  # the dtype kept too


@pytest.mark.parametrize("backend_name", AD_BACKENDS)
def test_derivatives_through_broadcasting_where(backend_name: str) -> None:
    x = np.array([[-0.5], [2.0], [-3.0]])

    def f(v: Any) -> Any:
        return mnp.sum(mnp.where(v > 0.0, v * v, mnp.broadcast_to(v, (3, 4)) ** 3)) + mnp.sum(mnp.arctan2(v, -1.0))

    def ref(v: np.ndarray) -> float:
        return float(np.sum(np.where(v > 0.0, v * v, np.broadcast_to(v, (3, 4)) ** 3)) + np.sum(np.arctan2(v, -1.0)))

    g = np.asarray(multiad.to_numpy(multiad.grad(f, backend=backend_name)(x)))
    fd = central_gradient(ref, x)
    np.testing.assert_allclose(g, fd, rtol=1e-6)
    np.testing.assert_allclose(g, np.where(x > 0, 4 * 2 * x, 4 * 3 * x**2) - 1.0 / (1.0 + x**2), rtol=1e-12)


U64 = np.array([0, 7, 2**63 + 5, 2**64 - 1], dtype=np.uint64)
BESIDE_U64 = [
    np.array([0, 5, 3, 255], dtype=np.uint8),
    np.array([0, 9, 3, 65535], dtype=np.uint16),
    np.array([0, 9, 2**32 - 1, 1], dtype=np.uint32),
    np.array([False, True, True, False]),
]


@pytest.mark.parametrize("name", ["less", "less_equal", "greater", "greater_equal", "equal", "maximum", "minimum"])
@pytest.mark.parametrize("other", BESIDE_U64, ids=lambda a: str(a.dtype))
@pytest.mark.parametrize("backend_name", BACKENDS)
def test_uint64_beside_narrower_unsigned(backend_name: str, other: np.ndarray, name: str) -> None:
    # torch compared the flipped bits of the uint64 operand with the other's values:
    # mnp.less(uint64 0, uint8 0) was True; uint16 and uint32 raised NotImplementedError
    a, b = (multiad.asarray(v, backend=backend_name) for v in (U64, other))
    f, ref = getattr(mnp, name), getattr(np, name)
    _same_bits(f(a, b), ref(U64, other))
    _same_bits(f(b, a), ref(other, U64))


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_uint64_beside_narrower_unsigned_moved(backend_name: str) -> None:
    u16 = BESIDE_U64[1]
    a, b = (multiad.asarray(v, backend=backend_name) for v in (U64, u16))
    _same_bits(mnp.add(a, b), np.add(U64, u16))
    _same_bits(mnp.where(np.array([True, False, True, False]), a, b), np.where([True, False, True, False], U64, u16))
    _same_bits(mnp.concatenate([a, b]), np.concatenate([U64, u16]))


DIVIDENDS = np.array([-0.0, 0.0, 0.0, -0.0, 4.0, -4.0, 3.5, -1.0, 1.0, -0.0, np.inf, 5.0, 1e17, -7.25])
DIVISORS = np.array([1.0, -1.0, 2.0, -3.0, -2.0, 2.0, 1.0, np.inf, -np.inf, np.inf, 2.0, np.nan, 3.0, -2.0])


@pytest.mark.parametrize("name", ["remainder", "mod", "fmod", "floor_divide"])
@pytest.mark.parametrize("backend_name", BACKENDS)
def test_division_signed_zeros_and_infinite_divisors(backend_name: str, name: str) -> None:
    # numpy's zero remainders have the divisor's sign (torch's and JAX's the dividend's), its zero
    # quotients the sign of x1 / x2 (JAX's the other one); autograd's fmod of traced values was
    # x1 - x2 * trunc(x1 / x2): +0.0 for fmod(-4.0, 2.0), nan for fmod(-1.0, inf), 0.0 for fmod(1e17, 3.0)
    f, ref = getattr(mnp, name), getattr(np, name)
    with np.errstate(invalid="ignore", divide="ignore"):
        want = ref(DIVIDENDS, DIVISORS)
        a, b = (multiad.asarray(v, backend=backend_name) for v in (DIVIDENDS, DIVISORS))
        _same_bits(f(a, b), want)
        if backend_name in AD_BACKENDS:
            _same_bits(_traced(backend_name, lambda x: f(x, DIVISORS), DIVIDENDS), want)
            _same_bits(_traced(backend_name, lambda y: f(DIVIDENDS, y), DIVISORS), want)
        x32 = DIVIDENDS.astype(np.float32)
        _same_bits(f(multiad.asarray(x32, backend=backend_name), -2.0), ref(x32, -2.0))


@pytest.mark.parametrize("name", ["remainder", "fmod"])
@pytest.mark.parametrize("backend_name", AD_BACKENDS)
def test_division_derivatives(backend_name: str, name: str) -> None:
    # d/dx1 is 1, also where the remainder is zero; d/dx2 is -floor(x1 / x2) (remainder) or
    # -trunc(x1 / x2) (fmod); second derivatives 0
    x1 = np.array([[-7.25], [4.0], [5.5]])
    x2 = np.array([[2.0, -3.0]])
    f, ref = getattr(mnp, name), getattr(np, name)
    rounded = np.floor if name == "remainder" else np.trunc

    def total(a: Any, b: Any) -> Any:
        return mnp.sum(f(a, b) * np.array([[1.0, 2.0]]))

    g1, g2 = multiad.grad(total, argnums=(0, 1), backend=backend_name)(x1, x2)
    np.testing.assert_allclose(multiad.to_numpy(g1), np.full((3, 1), 3.0), rtol=1e-12)
    np.testing.assert_allclose(
        multiad.to_numpy(g2), np.sum(-rounded(x1 / x2) * np.array([[1.0, 2.0]]), axis=0, keepdims=True), rtol=1e-12
    )
    x1b = np.array([[-7.25], [4.5], [5.5]])  # away from the jumps at multiples of x2
    g2b = multiad.grad(lambda b: total(x1b, b), backend=backend_name)(x2)
    h, w = 1e-6, np.array([[1.0, 2.0]])
    fd = [(np.sum(ref(x1b, x2 + h * e) * w) - np.sum(ref(x1b, x2 - h * e) * w)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(np.ravel(multiad.to_numpy(g2b)), fd, rtol=1e-6, atol=1e-6)
    hess = multiad.hessian(lambda a: total(a, x2), backend=backend_name)(x1)
    np.testing.assert_array_equal(np.asarray(multiad.to_numpy(hess)), np.zeros((3, 1, 3, 1)))
    _, tangent = multiad.jvp(lambda a: f(a, x2), (x1,), (np.ones_like(x1),), backend=backend_name)
    np.testing.assert_allclose(multiad.to_numpy(tangent), np.ones((3, 2)), rtol=1e-12)


@pytest.mark.parametrize("backend_name", AD_BACKENDS)
def test_joining_and_scanning_traced_values(backend_name: str) -> None:
    # autograd: concatenate with axis=None raised TypeError ("tuple indices must be integers or
    # slices, not NoneType"), cumprod and cumulative_prod of an empty axis IndexError
    x = np.arange(6.0).reshape(2, 3)
    _same_bits(
        _traced(backend_name, lambda v: mnp.concatenate([v, v[:1]], axis=None), x),
        np.concatenate([x, x[:1]], axis=None),
    )
    _same_bits(_traced(backend_name, lambda v: mnp.concat([v[0, 0], v[1, 1]], axis=None), x), np.array([0.0, 4.0]))
    e = np.zeros((0, 3))
    _same_bits(_traced(backend_name, lambda v: mnp.cumprod(v, axis=0), e), np.cumprod(e, axis=0))
    _same_bits(_traced(backend_name, lambda v: mnp.cumprod(v), e), np.cumprod(e))
    _same_bits(
        _traced(backend_name, lambda v: mnp.cumulative_prod(v, axis=0, include_initial=True), e),
        np.cumulative_prod(e, axis=0, include_initial=True),
    )
    g = multiad.grad(lambda v: mnp.sum(mnp.concatenate([v, 2.0 * v], axis=None) ** 2), backend=backend_name)(x)
    np.testing.assert_allclose(multiad.to_numpy(g), 2 * x + 8 * x, rtol=1e-12)


@pytest.mark.parametrize("backend_name", AD_BACKENDS)
def test_take_along_axis_checks_the_indices_axes(backend_name: str) -> None:
    # autograd broadcast 1-d indices against a matrix and computed, torch raised RuntimeError;
    # numpy raises ValueError
    x = np.arange(6.0).reshape(2, 3)
    for idx, axis in [(np.array([0, 2]), 1), (np.array([[[0, 2]]]), 1), (np.array([[0, 2]]), None)]:
        with pytest.raises(ValueError):
            np.take_along_axis(x, idx, axis=axis)
        with pytest.raises(ValueError, match=r"^mnp\.take_along_axis: "):
            mnp.take_along_axis(multiad.asarray(x, backend=backend_name), idx, axis=axis)
        with pytest.raises(ValueError, match=r"^mnp\.take_along_axis: "):
            _traced(backend_name, lambda v, i=idx, a=axis: mnp.take_along_axis(v, i, axis=a), x)
    _same_bits(_traced(backend_name, lambda v: mnp.take_along_axis(v, np.array([[0, 2]]), axis=1), x), x[:, [0, 2]])


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_take_along_axis_default_axis_is_the_last(backend_name: str) -> None:
    # numpy 2.3's take_along_axis(arr, indices, axis=-1); torch, JAX and autograd required axis
    x, idx = np.arange(6.0).reshape(2, 3), np.array([[2, 0], [1, 1]])
    _same_bits(mnp.take_along_axis(multiad.asarray(x, backend=backend_name), idx), np.take_along_axis(x, idx, axis=-1))
    if backend_name in AD_BACKENDS:
        _same_bits(_traced(backend_name, lambda v: mnp.take_along_axis(v, idx), x), np.take_along_axis(x, idx, axis=-1))


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_copysign_of_float32_by_float64_is_float64(backend_name: str) -> None:
    # JAX's gave float32 (the signs were weak numbers); numpy and jax.numpy give float64
    x1, x2 = np.array([1.5, -2.0, 0.0], np.float32), np.array([-0.0, 3.0, -1.0])
    a, b = (multiad.asarray(v, backend=backend_name) for v in (x1, x2))
    _same_bits(mnp.copysign(a, b), np.copysign(x1, x2))
    _same_bits(mnp.copysign(b, a), np.copysign(x2, x1))
    if backend_name in AD_BACKENDS:
        g = multiad.grad(lambda v: mnp.sum(mnp.copysign(v, x2)), backend=backend_name)(np.array([1.5, -2.0, 0.5]))
        np.testing.assert_array_equal(multiad.to_numpy(g), [-1.0, -1.0, -1.0])  # d/dx |x| * sign(y)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_sign_and_positive_of_negative_zero(backend_name: str) -> None:
    x = np.array([-0.0, 0.0, -2.5, np.nan, -np.inf])
    for f, ref in ((mnp.sign, np.sign), (mnp.positive, np.positive)):
        _same_bits(f(multiad.asarray(x, backend=backend_name)), ref(x))
        _same_bits(f(multiad.asarray(x.astype(np.float32), backend=backend_name)), ref(x.astype(np.float32)))
    _same_bits(mnp.sign(multiad.asarray(np.array([-3, 0, 2]), backend=backend_name)), np.sign(np.array([-3, 0, 2])))


@pytest.mark.parametrize("x1", [0, 2, 2.5, True])
@pytest.mark.parametrize("backend_name", AD_BACKENDS)
def test_copysign_of_a_python_number_by_traced_float32(backend_name: str, x1: Any) -> None:
    # autograd gave float64: abs of the Python number was a numpy float64 scalar (not weak)
    y = np.array([-1.0, 2.0, -0.0], np.float32)
    _same_bits(_traced(backend_name, lambda v: mnp.copysign(x1, v), y), np.copysign(x1, y))
