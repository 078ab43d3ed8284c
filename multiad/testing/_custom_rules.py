"""Custom derivative rules the conformance suite differentiates, with closed forms.

Each rule is written once with :mod:`multiad.custom_vjp`/:mod:`multiad.custom_jvp` and
:mod:`multiad.numpy`. The closed forms are those of the *rule*: for ``clip_gradient`` the
rule deliberately differs from the function's true derivative, which is how a test tells that
the rule, and not the function, was differentiated (``surrogate_floor`` does the same for a
forward-mode rule).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

import multiad
import multiad.numpy as mnp

# -- clip_gradient: identity forward, clipped cotangent backward -----------------------------


@multiad.custom_vjp
def clip_gradient(x: Any) -> Any:
    """``x``, with the cotangent clipped to [-1, 1] on the way back."""
    return x


def _clip_fwd(x: Any) -> tuple[Any, None]:
    return x, None


def _clip_bwd(_: None, g: Any) -> tuple[Any]:
    return (mnp.clip(g, -1.0, 1.0),)


clip_gradient.defvjp(_clip_fwd, _clip_bwd)

# -- log1pexp: a numerically stable derivative ------------------------------------------------


@multiad.custom_jvp
def log1pexp(x: Any) -> Any:
    """``log(1 + exp(x))``; its derivative ``1 - 1 / (1 + exp(x))`` is finite for large ``x``."""
    return mnp.log(1.0 + mnp.exp(x))


@log1pexp.defjvp
def _log1pexp_jvp(primals: Any, tangents: Any) -> tuple[Any, Any]:
    (x,), (t,) = primals, tangents
    return log1pexp(x), t * (1.0 - 1.0 / (1.0 + mnp.exp(x)))


# -- surrogate_floor: a forward-mode rule that is not the function's derivative ---------------


@multiad.custom_jvp
def surrogate_floor(x: Any) -> Any:
    """``floor(x)``, differentiated as ``arctan(x)`` (a surrogate gradient: the function's own
    derivative is zero almost everywhere). As with ``clip_gradient``, differentiating the
    function instead of the rule gives other numbers, so a backend that ignores custom_jvp rules
    fails even in float64."""
    return mnp.floor(x)


@surrogate_floor.defjvp
def _surrogate_floor_jvp(primals: Any, tangents: Any) -> tuple[Any, Any]:
    (x,), (t,) = primals, tangents
    return surrogate_floor(x), t / (1.0 + x * x)


def sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return out


# -- a rule with nondiff_argnums -------------------------------------------------------------


@functools.partial(multiad.custom_vjp, nondiff_argnums=(0,))
def scaled_sin(k: float, x: Any) -> Any:
    """``sin(k * x)`` with ``k`` a Python number that is not differentiated."""
    return mnp.sin(k * x)


def _scaled_sin_fwd(k: float, x: Any) -> tuple[Any, Any]:
    return scaled_sin(k, x), mnp.cos(k * x)


def _scaled_sin_bwd(k: float, cos_kx: Any, g: Any) -> tuple[Any]:
    return (k * cos_kx * g,)


scaled_sin.defvjp(_scaled_sin_fwd, _scaled_sin_bwd)

# -- implicit differentiation of a fixed-point solve -----------------------------------------

ITERATIONS = 12


@functools.partial(multiad.custom_vjp, nondiff_argnums=(0,))
def fixed_point(f: Callable[[Any, Any], Any], a: Any, z0: Any) -> Any:
    """The fixed point ``z = f(a, z)`` reached by iterating from ``z0``."""
    z = z0
    for _ in range(ITERATIONS):
        z = f(a, z)
    return z


def _fixed_point_fwd(f: Callable[[Any, Any], Any], a: Any, z0: Any) -> tuple[Any, Any]:
    z = fixed_point(f, a, z0)
    return z, (a, z)


def _fixed_point_bwd(f: Callable[[Any, Any], Any], res: Any, g: Any) -> tuple[Any, None]:
    # Implicit function theorem: with z = f(a, z), dz/da = (I - df/dz)^-1 df/da, so the
    # cotangent of a is (df/da)^T w with w = g + (df/dz)^T w, solved by iteration.
    a, z = res
    _, vjp_a = multiad.vjp(lambda a: f(a, z), a)
    _, vjp_z = multiad.vjp(lambda z: f(a, z), z)
    w = g
    for _ in range(ITERATIONS):
        w = g + vjp_z(w)[0]
    return vjp_a(w)[0], None


fixed_point.defvjp(_fixed_point_fwd, _fixed_point_bwd)


def babylonian(a: Any, z: Any) -> Any:
    """One Babylonian step towards ``sqrt(a)``: its fixed point is ``sqrt(a)``."""
    return 0.5 * (z + a / z)


def sqrt_by_fixed_point(a: Any) -> Any:
    return fixed_point(babylonian, a, a * 0.0 + 1.0)


# -- a solver with a stopping test in fwd -------------------------------------------------------

MAX_STEPS = 60


@multiad.custom_vjp
def sqrt_until_converged(a: Any) -> Any:
    """``sqrt(a)`` by Babylonian steps until they stop changing it: the stopping test turns an
    array into a Python number with ``float()``, as the solvers of docs/library-authors.md do."""
    z = a * 0.0 + 1.0
    for _ in range(MAX_STEPS):
        new = babylonian(a, z)
        change = float(mnp.max(mnp.abs(new - z)))
        z = new
        if change <= 1e-6 * float(mnp.max(mnp.abs(z))):
            return babylonian(a, z)  # one more step: quadratic convergence, to rounding
    return z


def _sqrt_until_fwd(a: Any) -> tuple[Any, Any]:
    z = sqrt_until_converged(a)
    return z, z


def _sqrt_until_bwd(z: Any, g: Any) -> tuple[Any]:
    return (0.5 * g / z,)


sqrt_until_converged.defvjp(_sqrt_until_fwd, _sqrt_until_bwd)
