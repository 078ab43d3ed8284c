"""Signed integers compared with uint64 values on torch and JAX, exactly, as numpy 2 compares them.

NOTE [Signed integers compared with uint64]: numpy's common dtype of a signed integer dtype and
uint64 is float64, and torch and JAX compared such operands in float64, where distinct integers
round to one float: ``mnp.less(int64 2**63 - 1, np.uint64(2**63 + 5))`` gave False and
``mnp.equal(uint64 2**53 + 1, int64 2**53)`` gave True. numpy 2 compares them exactly. So
``less``, ``less_equal``, ``greater``, ``greater_equal``, ``equal`` and ``not_equal`` of a
signed integer operand and a uint64 one (arrays, tensors or numpy scalars) compare a pair of
int64 operands that order as the values do: the two values where the uint64 one is at most
``2**63 - 1`` (its int64 bits are not negative), and ``-1`` for the signed operand, ``0`` for
the uint64 one where it is above (every signed value is less than such a value). Python ints
are not affected (numpy computes them in the array's dtype: NOTE [Python ints out of range],
NOTE [Python ints beside JAX integer arrays]), and numpy computes other functions of such
operands (``maximum``, ``add``, ``where``) in float64, as they are computed here. Only calls
with such operands take this path: on torch it is part of the cached dtype plan of the call
(``numpy_operands``), on JAX two dtype reads of the comparison's operands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_U64 = np.dtype("uint64")


def unsigned_at(d1: Any, d2: Any) -> int:
    """Which of two numpy dtypes (0 or 1) is uint64 beside a signed integer dtype; -1 if not so
    (NOTE [Signed integers compared with uint64])."""
    if d1 == _U64:
        return 0 if d2.kind == "i" else -1
    return 1 if d2 == _U64 and d1.kind == "i" else -1


def exact_pair(at: int, unsigned_bits: Any, signed: Any, where: Callable[..., Any]) -> list[Any]:
    """The int64 operands that compare as a uint64 operand (its int64 bits) at position ``at``
    and a signed one (as int64) do (NOTE [Signed integers compared with uint64])."""
    above = unsigned_bits < 0  # values above 2**63 - 1
    u, s = where(above, 0, unsigned_bits), where(above, -1, signed)
    return [u, s] if at == 0 else [s, u]


def jax_compared(name: str) -> Callable[..., Any]:
    """``jax.numpy``'s comparison ``name``, exact for a signed integer and a uint64 operand."""
    found: list[Callable[..., Any]] = []

    def compared(x1: Any, x2: Any, /, **kwargs: Any) -> Any:
        if not found:
            import jax.numpy as jnp

            found.append(getattr(jnp, name))
        d1, d2 = getattr(x1, "dtype", None), getattr(x2, "dtype", None)
        if d1 is not None and d2 is not None and (d1 == _U64 or d2 == _U64):
            at = unsigned_at(d1, d2)
            if at >= 0:
                x1, x2 = _jax_pair(at, x1, x2)
        return found[0](x1, x2, **kwargs)

    compared.__name__ = compared.__qualname__ = name
    return compared


def _jax_pair(at: int, x1: Any, x2: Any) -> list[Any]:
    import jax
    import jax.numpy as jnp

    u, s = (jnp.asarray(x1), jnp.asarray(x2)) if at == 0 else (jnp.asarray(x2), jnp.asarray(x1))
    bits = jax.lax.bitcast_convert_type(u, jnp.int64)
    return exact_pair(at, bits, s.astype(jnp.int64), jnp.where)
