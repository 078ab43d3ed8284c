"""The "custom rules" family: transforms of functions built on multiad.custom_vjp/custom_jvp.

NOTE [Custom rules both ways]: every case here uses the capability ``custom_rules``. A backend
declaring ``has_custom_rules`` must give the rule's closed-form results (for ``clip_gradient``
and ``surrogate_floor`` those differ from the function's true derivative, so differentiating
the function instead of the rule fails, in reverse and in forward mode); a backend that does not declare it must raise UnsupportedOperationError, as
for a transform named in ``unsupported``. The closed forms of ``clip_gradient`` are the rule's
own, so tests/test_conformance_refs.py does not compare them with differences of the value
(:data:`RULE_DEFINED`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

import multiad.numpy as mnp

from .._backend import Backend
from . import _cases as v
from ._custom_rules import (
    clip_gradient,
    log1pexp,
    scaled_sin,
    sigmoid,
    sqrt_by_fixed_point,
    sqrt_until_converged,
    surrogate_floor,
)
from ._fns import Fn, drawn

FAMILY = "custom rules"
CAPABILITY = "custom_rules"


#: The transforms that need reverse mode (multiad/_plan.py, NOTE [Derivation table]).
REVERSE_MODE = frozenset({"grad", "value_and_grad", "vjp", "jacrev", "hessian", "hvp", "vhp"})


def unsupported(b: Backend) -> frozenset[str]:
    """What ``b`` declares it cannot do, the custom-rule capability and, without ``has_vjp``,
    reverse mode included (NOTE [Declared without has_vjp])."""
    # NOTE [Declared without has_vjp]: a backend needs a vjp or a jvp, and one with forward
    # mode only declares the lack of reverse mode by leaving has_vjp unset: multiad then refuses
    # every transform that needs it (docs/plugins.md, "Declaring capabilities"). The suite
    # counts those as declared unsupported, as it counts the custom rules of a backend without
    # has_custom_rules, unless a native override (jacrev, value_and_grad) gives a route anyway.
    gaps = b.unsupported if b.has_custom_rules else b.unsupported | {CAPABILITY}
    if not b.has_vjp and not set(b.native) & {"jacrev", "value_and_grad"}:
        gaps |= REVERSE_MODE
    return gaps


def _clip(x: Any) -> Any:
    return mnp.sum(5.0 * clip_gradient(x))


def _log1pexp(x: Any) -> Any:
    return mnp.sum(log1pexp(x))


def _log1pexp_hess(x: np.ndarray) -> np.ndarray:
    s = sigmoid(x)
    return np.diag(s * (1.0 - s))


def _surrogate_floor(x: Any) -> Any:
    return mnp.sum(surrogate_floor(x))


def _scaled_sin(x: Any) -> Any:
    return mnp.sum(scaled_sin(3.0, x))


def _fixed_point(a: Any) -> Any:
    return mnp.sum(sqrt_by_fixed_point(a))


def _solver(a: Any) -> Any:
    return mnp.sum(sqrt_until_converged(a))


# clip_gradient's jac is the rule's (the clipped cotangent 5 -> 1). At 100 log1pexp's derivative
# needs the rule in float32 (exp(100) overflows); only derivatives are compared there, since the
# value itself overflows float32.
CLIP = Fn(
    "custom.clip_gradient",
    FAMILY,
    _clip,
    value=lambda x: 5.0 * np.sum(x),
    jac=lambda x: np.ones((1, x.size)),
    hess=lambda x: np.zeros((x.size, x.size)),
    make_args=drawn(lambda rng: np.array([0.3, -2.0, 4.0])),
)
LOG1PEXP = Fn(
    "custom.log1pexp",
    FAMILY,
    _log1pexp,
    value=lambda x: np.sum(np.logaddexp(0.0, x)),
    jac=lambda x: sigmoid(x)[None, :],
    hess=_log1pexp_hess,
    make_args=drawn(lambda rng: np.array([0.0, 0.0, 1.5])),
)
LOG1PEXP_LARGE = dataclasses.replace(
    LOG1PEXP, name="custom.log1pexp[large]", hess=None, make_args=drawn(lambda rng: np.array([100.0, 0.0]))
)
# surrogate_floor's derivatives are the rule's (arctan's), not floor's (zero almost everywhere).
SURROGATE = Fn(
    "custom.surrogate_floor",
    FAMILY,
    _surrogate_floor,
    value=lambda x: np.sum(np.floor(x)),
    jac=lambda x: (1.0 / (1.0 + x * x))[None, :],
    hess=lambda x: np.diag(-2.0 * x / (1.0 + x * x) ** 2),
    make_args=drawn(lambda rng: np.array([0.3, -1.7, 2.4])),
)
NONDIFF = Fn(
    "custom.nondiff_argnums",
    FAMILY,
    _scaled_sin,
    value=lambda x: np.sum(np.sin(3.0 * x)),
    jac=lambda x: (3.0 * np.cos(3.0 * x))[None, :],
    hess=lambda x: np.diag(-9.0 * np.sin(3.0 * x)),
    make_args=drawn(lambda rng: np.asarray(0.5 * rng.standard_normal(3))),
)
FIXED_POINT = Fn(
    "custom.fixed_point",
    FAMILY,
    _fixed_point,
    value=lambda a: np.sum(np.sqrt(a)),
    jac=lambda a: (0.5 / np.sqrt(a))[None, :],
    hess=lambda a: np.diag(-0.25 * a**-1.5),
    make_args=drawn(lambda rng: np.asarray(0.5 + 2.5 * rng.random(3))),
)

# NOTE [A solver inside fwd]: the rule's fwd runs a solver whose stopping test calls float() on
# its iterates (docs/library-authors.md differentiates a Newton solver so). A custom rule means
# the solver is not differentiated: fwd must see values that carry no derivative, as torch's
# Function.forward (no grad), JAX's and autograd's fwd do. A plugin whose fwd ran under its
# framework's tape refused float() there (NonDifferentiableError) or, where float() is not
# intercepted, would differentiate the iterations. First derivatives only: a Hessian
# differentiates bwd's residuals, which a backend may recompute through fwd.
SOLVER = Fn(
    "custom.solver_in_fwd",
    FAMILY,
    _solver,
    value=lambda a: np.sum(np.sqrt(a)),
    jac=lambda a: (0.5 / np.sqrt(a))[None, :],
    make_args=drawn(lambda rng: np.asarray(0.5 + 2.5 * rng.random(3))),
    concrete=True,
)

#: Functions whose closed-form derivatives are a rule's, not the function's.
RULE_DEFINED = frozenset({CLIP.name, SURROGATE.name})


def _custom(variant: v.Variant) -> v.Variant:
    return dataclasses.replace(variant, uses=variant.uses | {CAPABILITY}, family=FAMILY)


def cases() -> list[tuple[Fn, v.Variant]]:
    """(function, variant) pairs of the family; the suite makes them cases."""
    first = (v.grad(), v.jacobian("jacrev"), v.jacobian("jacfwd"))
    pairs: list[tuple[Fn, v.Variant]] = []
    for fn, variants in (
        (CLIP, (*first, v.hessian(), v.batched(v.grad(), 0))),
        (LOG1PEXP_LARGE, first),
        (LOG1PEXP, (v.grad(), v.jvp(), v.hessian(), v.hvp("hvp"), v.batched(v.hessian(), 0))),
        (SURROGATE, (*first, v.jvp(), v.hessian(), v.batched(v.grad(), 0))),
        (NONDIFF, (*first, v.hessian(), v.hvp("vhp"))),
        (FIXED_POINT, (*first, v.hessian())),
        (SOLVER, first),
    ):
        pairs.extend((fn, _custom(var)) for var in variants)
    return pairs
