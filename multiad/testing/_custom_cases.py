"""The "custom rules" family: transforms of functions built on multiad.custom_vjp/custom_jvp.

NOTE [Custom rules both ways]: every case here uses the capability ``custom_rules``. A backend
declaring ``has_custom_rules`` must give the rule's closed-form results (for ``clip_gradient``
those differ from the function's true derivative, so differentiating the function instead of
the rule fails); a backend that does not declare it must raise UnsupportedOperationError, as
for a transform named in ``unsupported``. The closed forms of ``clip_gradient`` are the rule's
own, so tests/test_conformance_refs.py does not compare them with differences of the value
(:data:`RULE_DEFINED`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

import multiad.numpy as mnp

from .._backend import Backend
from . import _cases as v
from ._custom_rules import clip_gradient, log1pexp, scaled_sin, sigmoid, sqrt_by_fixed_point
from ._fns import Fn

FAMILY = "custom rules"
CAPABILITY = "custom_rules"


def unsupported(b: Backend) -> frozenset[str]:
    """What ``b`` declares it cannot do, the custom-rule capability included."""
    return b.unsupported if b.has_custom_rules else b.unsupported | {CAPABILITY}


def _clip(x: Any) -> Any:
    return mnp.sum(5.0 * clip_gradient(x))


def _log1pexp(x: Any) -> Any:
    return mnp.sum(log1pexp(x))


def _log1pexp_hess(x: np.ndarray) -> np.ndarray:
    s = sigmoid(x)
    return np.diag(s * (1.0 - s))


def _scaled_sin(x: Any) -> Any:
    return mnp.sum(scaled_sin(3.0, x))


def _fixed_point(a: Any) -> Any:
    return mnp.sum(sqrt_by_fixed_point(a))


Closed = Callable[..., np.ndarray]
Row = tuple[
    str, Callable[..., Any], Callable[..., Any], Closed, Closed | None, Callable[[np.random.Generator], np.ndarray]
]

#: One row per function of one argument: name, f, value, jac, hess, how the argument is drawn.
#: clip_gradient's jac is the rule's (the clipped cotangent 5 -> 1). At 100 log1pexp's derivative
#: needs the rule in float32 (exp(100) overflows); only derivatives are compared there, since the
#: value itself overflows float32.
_TABLE: tuple[Row, ...] = (
    ("custom.clip_gradient", _clip, lambda x: 5.0 * np.sum(x), lambda x: np.ones((1, x.size)),
     lambda x: np.zeros((x.size, x.size)), lambda rng: np.array([0.3, -2.0, 4.0])),
    ("custom.log1pexp[large]", _log1pexp, lambda x: np.sum(np.logaddexp(0.0, x)), lambda x: sigmoid(x)[None, :],
     None, lambda rng: np.array([100.0, 0.0])),
    ("custom.log1pexp", _log1pexp, lambda x: np.sum(np.logaddexp(0.0, x)), lambda x: sigmoid(x)[None, :],
     _log1pexp_hess, lambda rng: np.array([0.0, 0.0, 1.5])),
    ("custom.nondiff_argnums", _scaled_sin, lambda x: np.sum(np.sin(3.0 * x)),
     lambda x: (3.0 * np.cos(3.0 * x))[None, :], lambda x: np.diag(-9.0 * np.sin(3.0 * x)),
     lambda rng: np.asarray(0.5 * rng.standard_normal(3))),
    ("custom.fixed_point", _fixed_point, lambda a: np.sum(np.sqrt(a)), lambda a: (0.5 / np.sqrt(a))[None, :],
     lambda a: np.diag(-0.25 * a**-1.5), lambda rng: np.asarray(0.5 + 2.5 * rng.random(3))),
)  # fmt: skip


def _one_arg(draw: Callable[[np.random.Generator], np.ndarray]) -> Callable[[np.random.Generator], tuple[np.ndarray]]:
    return lambda rng: (draw(rng),)


CLIP, LOG1PEXP_LARGE, LOG1PEXP, NONDIFF, FIXED_POINT = (
    Fn(name, FAMILY, f, value=value, jac=jac, hess=hess, make_args=_one_arg(draw))
    for name, f, value, jac, hess, draw in _TABLE
)

#: Functions whose closed-form derivatives are a rule's, not the function's.
RULE_DEFINED = frozenset({CLIP.name})


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
        (NONDIFF, (*first, v.hessian(), v.hvp("vhp"))),
        (FIXED_POINT, (*first, v.hessian())),
    ):
        pairs.extend((fn, _custom(var)) for var in variants)
    return pairs
