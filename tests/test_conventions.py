"""The derivative conventions of multiad.numpy (docs/api-numpy.md) on every backend.

One row per kink or singular point: the function, the point, the documented first derivative
and, where it means something, the second. Expected values are closed forms. The exact
backends (torch, jax, autograd) must give them; the numpy backend's finite differences see
only values, so each row says what it gives: the same value (``FD_SAME``), or an
:class:`multiad.AccuracyWarning` (``FD_WARNS``: at a jump, at a kink whose convention is not
the average of the one-sided slopes, or where the stencil leaves the domain).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS

import multiad
import multiad.numpy as mnp

FD_SAME, FD_WARNS = "same", "warns"

# A symmetric positive definite matrix and the closed forms of its functions.
A = np.array([[2.0, 0.5, 0.1], [0.5, 3.0, 0.2], [0.1, 0.2, 4.0]])
A_INV = np.linalg.inv(A)
_W, _V = np.linalg.eigh(A)
TOP = np.outer(_V[:, -1], _V[:, -1])  # gradient of the largest eigenvalue
I3 = np.eye(3)
# Hessian of sum((a + a.T) / 2 ** 2) and of logdet((a + a.T) / 2), as (3, 3, 3, 3) arrays.
SQ_HESS = np.einsum("km,ln->klmn", I3, I3) + np.einsum("kn,lm->klmn", I3, I3)
LOGDET_HESS = -(np.einsum("km,nl->klmn", A_INV, A_INV) + np.einsum("kn,ml->klmn", A_INV, A_INV)) / 2


@dataclass(frozen=True)
class Kink:
    id: str
    f: Callable[[Any], Any]
    x: Any
    d1: Any
    d2: Any = None  # None: not checked
    fd: str = FD_SAME


def _v(*xs: float) -> np.ndarray:
    return np.array(xs, dtype=np.float64)


KINKS = [
    # abs and sign: sign(0) = 0.
    Kink("abs(0)", mnp.abs, 0.0, 0.0, 0.0),
    Kink("absolute(0)", mnp.absolute, 0.0, 0.0, 0.0),
    Kink("fabs(0)", mnp.fabs, 0.0, 0.0, 0.0),
    Kink("3*abs(0)", lambda x: 3 * mnp.abs(x), 0.0, 0.0, 0.0),
    Kink("abs(-2)", mnp.abs, -2.0, -1.0, 0.0),
    Kink("sign(0)", mnp.sign, 0.0, 0.0, 0.0, FD_WARNS),
    Kink("sign(2)", mnp.sign, 2.0, 0.0, 0.0),
    # Ties share the derivative equally.
    Kink("maximum(x, 1) at 1", lambda x: mnp.maximum(x, 1.0), 1.0, 0.5, 0.0),
    Kink("minimum(x, 1) at 1", lambda x: mnp.minimum(x, 1.0), 1.0, 0.5, 0.0),
    Kink("maximum tie", lambda x: mnp.maximum(x[0], x[1]), _v(2, 2), _v(0.5, 0.5), np.zeros((2, 2))),
    Kink("minimum tie", lambda x: mnp.minimum(x[0], x[1]), _v(2, 2), _v(0.5, 0.5), np.zeros((2, 2))),
    Kink("fmax tie", lambda x: mnp.fmax(x[0], x[1]), _v(2, 2), _v(0.5, 0.5), np.zeros((2, 2))),
    Kink("fmin tie", lambda x: mnp.fmin(x[0], x[1]), _v(2, 2), _v(0.5, 0.5), np.zeros((2, 2))),
    Kink("max ties", mnp.max, _v(1, 3, 3), _v(0, 0.5, 0.5), np.zeros((3, 3))),
    Kink("min ties", mnp.min, _v(2, 0, 0), _v(0, 0.5, 0.5), np.zeros((3, 3))),
    Kink("amax ties", mnp.amax, _v(3, 3, 3), _v(1, 1, 1) / 3, np.zeros((3, 3)), FD_WARNS),
    Kink("amin ties", mnp.amin, _v(1, 1, 4), _v(0.5, 0.5, 0), np.zeros((3, 3))),
    Kink("ptp ties", mnp.ptp, _v(1, 3, 3, 1), _v(-0.5, 0.5, 0.5, -0.5), np.zeros((4, 4))),
    # clip: 1 for x at a bound, 0 for the bound.
    Kink("clip at lower", lambda x: mnp.clip(x, 0.0, 1.0), 0.0, 1.0, 0.0, FD_WARNS),
    Kink("clip at upper", lambda x: mnp.clip(x, 0.0, 1.0), 1.0, 1.0, 0.0, FD_WARNS),
    Kink("clip: the bound", lambda lo: mnp.clip(0.0, lo, 1.0), 0.0, 0.0, 0.0, FD_WARNS),
    # std and norm at zero spread / the zero vector: 0, also at second order.
    Kink("std constant", mnp.std, _v(2, 2, 2), _v(0, 0, 0), np.zeros((3, 3))),
    Kink("std 0-d", mnp.std, np.array(3.5), 0.0, 0.0),
    Kink("nanstd constant", mnp.nanstd, _v(2, 2), _v(0, 0), np.zeros((2, 2))),
    Kink("norm(0)", mnp.linalg.norm, _v(0, 0), _v(0, 0), np.zeros((2, 2))),
    Kink("norm fro (0)", mnp.linalg.norm, np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 2, 2, 2))),
    Kink("hypot(0, 0)", lambda x: mnp.hypot(x[0], x[1]), _v(0, 0), _v(0, 0), np.zeros((2, 2))),
    Kink("hypot(x, 0) at 0", lambda x: mnp.hypot(x, 0.0), 0.0, 0.0, 0.0),
    Kink("hypot(3, 4)", lambda x: mnp.hypot(x[0], x[1]), _v(3, 4), _v(0.6, 0.8), np.array([[16, -12], [-12, 9]]) / 125),
    Kink("arctan2(0, 0)", lambda x: mnp.arctan2(x[0], x[1]), _v(0, 0), _v(0, 0), np.zeros((2, 2)), FD_WARNS),
    Kink("arctan2(1, 1)", lambda x: mnp.arctan2(x[0], x[1]), _v(1, 1), _v(0.5, -0.5), np.array([[-0.5, 0], [0, 0.5]])),
    Kink("norm ord=3 (0)", lambda x: mnp.linalg.norm(x, 3), _v(0, 0), _v(0, 0), np.zeros((2, 2))),
    Kink("norm ord=0.5, a zero element", lambda x: mnp.linalg.norm(x, 0.5), _v(0, 1), _v(0, 1)),
    Kink("norm ord=1 (0)", lambda x: mnp.linalg.norm(x, 1), _v(0, 0), _v(0, 0)),
    Kink("norm ord=inf ties", lambda x: mnp.linalg.norm(x, np.inf), _v(1, -1), _v(0.5, -0.5)),
    Kink("nanmax ties", mnp.nanmax, _v(1, 1, np.nan), _v(0.5, 0.5, 0)),
    Kink("copysign(x, 1) at 0", lambda x: mnp.copysign(x, 1.0), 0.0, 0.0, 0.0),
    Kink("copysign(2, y)", lambda y: mnp.copysign(2.0, y), -1.0, 0.0, 0.0),
    # sinc: smooth at 0, at every order, and near it.
    Kink("sinc(0)", mnp.sinc, 0.0, 0.0, -(np.pi**2) / 3),
    Kink("sinc(1e-9)", mnp.sinc, 1e-9, -(np.pi**2) * 1e-9 / 3, -(np.pi**2) / 3),
    Kink("sinc(0.5)", mnp.sinc, 0.5, -4 / np.pi, 16 / np.pi - 2 * np.pi),
    # power: 0 in x where y == 0; 0 in y where x == 0.
    Kink("power(x, 0) at 0", lambda x: mnp.power(x, 0.0), 0.0, 0.0, 0.0),
    Kink("power(x, 0) at 2", lambda x: mnp.power(x, 0.0), 2.0, 0.0, 0.0),
    Kink("power(0, y) at 0.3", lambda y: mnp.power(0.0, y), 0.3, 0.0, 0.0),
    Kink("power(0, y) at 2", lambda y: mnp.power(0.0, y), 2.0, 0.0, 0.0),
    Kink("float_power(x, 0) at 0", lambda x: mnp.float_power(x, 0.0), 0.0, 0.0, 0.0),
    Kink("float_power(0, y) at 0.3", lambda y: mnp.float_power(0.0, y), 0.3, 0.0, 0.0),
    # Edges of the domain: the limit of the formula; finite differences warn.
    Kink("sqrt(0)", mnp.sqrt, 0.0, np.inf, -np.inf, FD_WARNS),
    Kink("log(0)", mnp.log, 0.0, np.inf, -np.inf, FD_WARNS),
    Kink("reciprocal(0)", mnp.reciprocal, 0.0, -np.inf, np.inf, FD_WARNS),
    Kink("log1p(-1)", mnp.log1p, -1.0, np.inf, -np.inf, FD_WARNS),
    Kink("power(x, 0.5) at 0", lambda x: mnp.power(x, 0.5), 0.0, np.inf, -np.inf, FD_WARNS),
    Kink("cbrt(0)", mnp.cbrt, 0.0, np.inf, None, FD_WARNS),
    Kink("cbrt(-8)", mnp.cbrt, -8.0, 1 / 12, 1 / 144),
    Kink("arccos(1)", mnp.arccos, 1.0, -np.inf, None, FD_WARNS),
    Kink("arctanh(1)", mnp.arctanh, 1.0, np.inf, None, FD_WARNS),
    Kink("arcsin(1)", mnp.arcsin, 1.0, np.inf, None, FD_WARNS),
    # Steps: 0 everywhere, at the jump too.
    Kink("floor(1)", mnp.floor, 1.0, 0.0, 0.0, FD_WARNS),
    Kink("floor(1.3)", mnp.floor, 1.3, 0.0, 0.0),
    Kink("ceil(1)", mnp.ceil, 1.0, 0.0, 0.0, FD_WARNS),
    Kink("round(0.5)", mnp.round, 0.5, 0.0, 0.0, FD_WARNS),
    Kink("rint(1.5)", mnp.rint, 1.5, 0.0, 0.0, FD_WARNS),
    Kink("trunc(1)", mnp.trunc, 1.0, 0.0, 0.0, FD_WARNS),
    Kink("fix(1)", mnp.fix, 1.0, 0.0, 0.0, FD_WARNS),
    Kink("floor_divide(x, 1) at 1", lambda x: mnp.floor_divide(x, 1.0), 1.0, 0.0, 0.0, FD_WARNS),
    Kink("mod(x, 1) at 1", lambda x: mnp.mod(x, 1.0), 1.0, 1.0, 0.0, FD_WARNS),
    Kink("fmod(x, 1) at 1", lambda x: mnp.fmod(x, 1.0), 1.0, 1.0, 0.0, FD_WARNS),
    Kink("remainder(5.5, y) at 2", lambda y: mnp.remainder(5.5, y), 2.0, -2.0, 0.0),
    Kink("heaviside(0)", lambda x: mnp.heaviside(x, 0.5), 0.0, 0.0, 0.0, FD_WARNS),
    Kink("heaviside(-1)", lambda x: mnp.heaviside(x, 0.5), -1.0, 0.0, 0.0),
    Kink("heaviside: x2 at 0", lambda h: mnp.heaviside(0.0, h), 0.5, 1.0, 0.0),
    Kink("heaviside: x2 at 1", lambda h: mnp.heaviside(1.0, h), 0.5, 0.0, 0.0),
    Kink("heaviside vector", lambda x: mnp.sum(mnp.heaviside(x, 0.5)), _v(-1, 0, 2), _v(0, 0, 0), None, FD_WARNS),
    # where: the branch the condition picks.
    Kink("where(x > 0, x, 0) at 0", lambda x: mnp.where(x > 0, x, 0.0), 0.0, 0.0, 0.0, FD_WARNS),
    Kink("where(x >= 0, x, 0) at 0", lambda x: mnp.where(x >= 0, x, 0.0), 0.0, 1.0, 0.0, FD_WARNS),
    Kink(
        "where, the branch not picked kept in its domain",
        lambda x: mnp.where(x > 0, mnp.sqrt(mnp.where(x > 0, x, 1.0)), 0.0),
        0.0,
        0.0,
        0.0,
        FD_WARNS,
    ),
    # sort and median at ties: the order the stable sort picks.
    Kink(
        "sort ties", lambda x: mnp.sum(mnp.sort(x) * _v(1, 2, 3)), _v(2, 1, 2), _v(2, 1, 3), np.zeros((3, 3)), FD_WARNS
    ),
    Kink("median ties", mnp.median, _v(1, 2, 2), _v(0, 1, 0), np.zeros((3, 3)), FD_WARNS),
    Kink("median even ties", mnp.median, _v(1, 2, 2, 3), _v(0, 0.5, 0.5, 0)),
    # prod and cumprod with zeros: the products of the other factors.
    Kink("prod one zero", mnp.prod, _v(2, 0, 3), _v(0, 6, 0), np.array([[0, 3, 0], [3, 0, 2], [0, 2, 0]])),
    Kink("prod two zeros", mnp.prod, _v(2, 0, 0), _v(0, 0, 0), np.array([[0, 0, 0], [0, 0, 2], [0, 2, 0]])),
    Kink(
        "prod axis",
        lambda x: mnp.sum(mnp.prod(x, axis=0)),
        np.array([[2.0, 0.0], [0.0, 5.0]]),
        np.array([[0.0, 5.0], [2.0, 0.0]]),
    ),
    Kink(
        "cumprod zero",
        lambda x: mnp.sum(mnp.cumprod(x)),
        _v(2, 0, 3),
        _v(1, 8, 0),
        np.array([[0, 4, 0], [4, 0, 2], [0, 2, 0]]),
    ),
    # Functions of symmetric matrices: symmetric gradients.
    Kink("eigvalsh", lambda a: mnp.sum(mnp.linalg.eigvalsh(a) ** 2), A, 2 * A, SQ_HESS),
    Kink("eigvalsh largest", lambda a: mnp.linalg.eigvalsh(a)[-1], A, TOP),
    Kink("eigh values", lambda a: mnp.sum(mnp.linalg.eigh(a)[0] ** 2), A, 2 * A, SQ_HESS),
    Kink(
        "cholesky logdet", lambda a: 2 * mnp.sum(mnp.log(mnp.diagonal(mnp.linalg.cholesky(a)))), A, A_INV, LOGDET_HESS
    ),
]


def _direction(x: np.ndarray) -> np.ndarray:
    """A fixed direction for the second derivative (Hessian-vector products are cheaper than
    Hessians, for JAX above all, whose first call of each operation compiles it)."""
    return np.linspace(1.0, 2.0, x.size).reshape(x.shape)


def _derivatives(kink: Kink, backend: str, x: np.ndarray, t: np.ndarray) -> tuple[Any, Any]:
    """The gradient at ``x`` and, where the row gives one, the Hessian times ``t`` (None).

    JAX runs the row under ``jax.jit``: eagerly it compiles every operation on its first call,
    and one compilation per row halves the test's time. The derivatives are the same programs.
    """
    second = kink.d2 is not None and backend != "numpy"

    def both(x: Any, t: Any) -> tuple[Any, Any]:
        g = multiad.grad(kink.f)(x)
        return g, (multiad.hvp(kink.f, (x,), (t,))[0] if second else g)

    if backend == "jax":
        import jax

        both = jax.jit(both)
    g, h = both(x, t)
    return multiad.to_numpy(g), (multiad.to_numpy(h) if second else None)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kink", KINKS, ids=[k.id for k in KINKS])
def test_documented_derivative(kink: Kink, backend: str) -> None:
    x = np.asarray(kink.x, dtype=np.float64)
    t = _direction(x)
    with warnings.catch_warnings(record=True) as caught, multiad.use_backend(backend):
        warnings.simplefilter("always")
        g, h = _derivatives(kink, backend, x, t)
    accuracy = [w for w in caught if issubclass(w.category, multiad.AccuracyWarning)]
    if backend == "numpy" and kink.fd == FD_WARNS:
        assert accuracy, f"{kink.id}: the numpy backend gave {g} without an AccuracyWarning"
        return
    tol = 1e-4 if backend == "numpy" else 1e-9
    np.testing.assert_allclose(g, kink.d1, rtol=tol, atol=tol, err_msg=f"{kink.id} on {backend}")
    if h is not None:
        want = np.tensordot(np.asarray(kink.d2, dtype=np.float64), t, axes=t.ndim)
        np.testing.assert_allclose(h, want, rtol=tol, atol=tol, err_msg=f"second derivative, {kink.id} on {backend}")


@pytest.mark.parametrize("transform", ["grad", "jvp", "jacfwd"])
def test_finite_differences_leaving_the_domain_warn(transform: str) -> None:
    # sqrt at 0: the stencil evaluates sqrt(-h), nan; the element at 4 is unaffected.
    x = _v(0.0, 4.0)
    f = lambda x: mnp.sum(mnp.sqrt(x))  # noqa: E731
    with pytest.warns(multiad.AccuracyWarning, match="nan or inf at x or within a finite-difference step"):
        if transform == "grad":
            g = multiad.grad(f, backend="numpy")(x)
        elif transform == "jvp":
            g = multiad.jvp(lambda x: mnp.sqrt(x), (x,), (_v(1, 1),), backend="numpy")[1]
        else:
            g = multiad.jacfwd(f, backend="numpy")(x)
    assert np.isnan(g[0])
    np.testing.assert_allclose(g[1], 0.25, rtol=1e-6)


def test_nested_finite_differences_meeting_a_pole_warn() -> None:
    # The inner level's values near the pole are finite and meaningless; the outer level warns.
    with pytest.warns(multiad.AccuracyWarning, match="nan or inf at x or within a finite-difference step"):
        multiad.hessian(lambda x: 1.0 / x, backend="numpy")(np.array(0.0))


@pytest.mark.parametrize("backend", BACKENDS)
def test_values_follow_numpy(backend: str) -> None:
    def arr(x: Any) -> Any:
        return multiad.asarray(np.asarray(x, dtype=np.float64), backend=backend)

    def check(got: Any, want: Any) -> None:
        np.testing.assert_allclose(multiad.to_numpy(got), want, rtol=1e-12, atol=0.0)

    a, b = _v(np.nan, 1.0, 2.0, np.nan, 0.0), _v(0.0, np.nan, 3.0, np.nan, 0.0)
    check(mnp.fmax(arr(a), arr(b)), np.fmax(a, b))
    check(mnp.fmin(arr(a), arr(b)), np.fmin(a, b))
    for order in (0.5, 3, -1, -np.inf):
        v = _v(0.0, -2.0, 3.0)
        check(mnp.linalg.norm(arr(v), order), np.linalg.norm(v, order))
    big = _v(1e200, 0.0, np.inf, np.nan, 3.0)
    other = _v(1e200, 0.0, np.nan, 0.0, -4.0)
    check(mnp.hypot(arr(big), arr(other)), np.hypot(big, other))
    steps = _v(-1.0, 0.0, 2.0, np.nan)
    check(mnp.heaviside(arr(steps), 0.5), np.heaviside(steps, 0.5))
    check(mnp.heaviside(arr(steps), arr(_v(0.1, 0.2, 0.3, 0.4))), np.heaviside(steps, _v(0.1, 0.2, 0.3, 0.4)))
    check(mnp.prod(arr([[2.0, 0.0, 3.0], [1.0, 2.0, 3.0]]), axis=1, keepdims=True), [[0.0], [6.0]])
    # Symmetric matrices: numpy's values; a matrix that is not symmetric is read as its symmetric part.
    check(mnp.linalg.eigvalsh(arr(A)), np.linalg.eigvalsh(A))
    check(mnp.linalg.cholesky(arr(A)), np.linalg.cholesky(A))
    check(mnp.linalg.cholesky(arr(A), upper=True), np.linalg.cholesky(A, upper=True))
    skew = A + np.triu(np.ones((3, 3)), 1)
    check(mnp.linalg.eigvalsh(arr(skew)), np.linalg.eigvalsh((skew + skew.T) / 2))
    huge = A * 2.5e307  # elements above half the largest float: no overflow in reading them
    check(mnp.linalg.eigvalsh(arr(huge)), np.linalg.eigvalsh(huge))
    with pytest.raises(ValueError, match=r"mnp\.linalg\.eigh: UPLO"):
        mnp.linalg.eigh(arr(A), UPLO="X")
    with pytest.raises(ValueError, match=r"^multiad\.numpy\.linalg\.cholesky: expected square"):
        mnp.linalg.cholesky(arr(np.ones((2, 3))))
