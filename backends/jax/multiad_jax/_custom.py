"""Custom rules as ``jax.custom_vjp`` and ``jax.custom_jvp`` functions.

The flat rule object (NOTE [Custom rules at the flat level]) is closed over; JAX sees
functions of the arrays only, with tuples of arrays as outputs, residuals and cotangents.
A ``None`` entry in ``bwd``'s result is JAX's own zero cotangent.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def custom_vjp(rule: Any) -> Any:
    f = jax.custom_vjp(lambda *xs: rule.fun(*xs))
    f.defvjp(lambda *xs: rule.fwd(*xs), lambda res, cts: rule.bwd(res, cts))
    return f


def custom_jvp(rule: Any) -> Any:
    f = jax.custom_jvp(lambda *xs: rule.fun(*xs))
    f.defjvp(lambda xs, ts: _float0_for_integers(*rule.jvp(xs, ts)))
    return f


def _float0_for_integers(outs: Any, touts: Any) -> tuple[Any, Any]:
    """JAX's tangent of an integer or boolean output, float0 zeros, in place of the flat rule's
    zeros (NOTE [Outputs without tangents] in multiad/_custom_rules.py)."""
    touts = tuple(
        t if jnp.issubdtype(o.dtype, jnp.inexact) else np.zeros(o.shape, dtype=jax.dtypes.float0)
        for o, t in zip(outs, touts)
    )
    return outs, touts
