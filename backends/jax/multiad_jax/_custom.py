"""Custom rules as ``jax.custom_vjp`` and ``jax.custom_jvp`` functions.

The flat rule object (NOTE [Custom rules at the flat level]) is closed over; JAX sees
functions of the arrays only, with tuples of arrays as outputs, residuals and cotangents.
A ``None`` entry in ``bwd``'s result is JAX's own zero cotangent.
"""

from __future__ import annotations

from typing import Any

import jax


def custom_vjp(rule: Any) -> Any:
    f = jax.custom_vjp(lambda *xs: rule.fun(*xs))
    f.defvjp(lambda *xs: rule.fwd(*xs), lambda res, cts: rule.bwd(res, cts))
    return f


def custom_jvp(rule: Any) -> Any:
    f = jax.custom_jvp(lambda *xs: rule.fun(*xs))
    f.defjvp(lambda xs, ts: rule.jvp(xs, ts))
    return f
