"""``linalg.det``'s derivatives at an exactly singular matrix, for torch and JAX.

NOTE [det at a singular matrix]: at a singular matrix ``a`` the derivative of ``det`` is the
cofactor matrix (nonzero at rank n - 1), its second derivative the signed minors of size n - 2
(nonzero at rank n - 2), and so on. The frameworks' rules go through ``inv(a)`` or LU factors with
a zero pivot: torch's forward mode gave a zero first derivative and wrong second derivatives,
JAX ``nan`` second derivatives from 4 x 4 on. Where LAPACK's LU of ``a`` has exactly zero pivots
(``a = Lc U``, m of them), ``c = Lc D``, with D diagonal, ``|a|``'s largest element at those
pivots and 0 elsewhere, makes ``b = a + c = Lc (U + D)`` nonsingular, and for every matrix near
``a`` (``c`` held constant) ``det(a) = det(b) det(I - b^-1 c)``: ``det(b)`` has the frameworks'
right derivatives of every order, and ``det(I - k)``, ``k = b^-1 c`` of rank at most m, is a
polynomial in ``k`` (``det_one_minus``), so every derivative is exact. The value stays numpy's
0.0 (``y - stop_gradient(y)``). A matrix without a zero pivot has ``c = 0``: the same numbers as
before. Matrices singular only to rounding (a tiny nonzero pivot) take the frameworks' rules,
which are continuous there, except on torch, whose LU route loses them to rounding (NOTE [det at
a nearly singular matrix on torch]).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def det_one_minus(k: Any, terms: int, ones: Any, matmul: Any, trace: Any) -> Any:
    """NOTE [det at a singular matrix]: ``det(I - k)`` for a ``k`` of rank at most ``terms`` near
    the point, as the polynomial ``sum_j (-1)**j e_j(k)``: the elementary symmetric functions of
    its eigenvalues from the traces of its powers (Newton's identities), ``e_j = 0`` for
    ``j > terms``. A polynomial in ``k``'s elements, so every derivative is exact."""
    e = [ones]
    traces = []
    power = k
    for j in range(1, terms + 1):
        traces.append(trace(power))
        if j < terms:
            power = matmul(power, k)
        e.append(sum(((-1) ** (i - 1)) * e[j - i] * traces[i - 1] for i in range(1, j + 1)) / j)
    return sum((-1) ** j * e_j for j, e_j in enumerate(e))


def jax_det(a: Any) -> Any:
    """NOTE [det at a singular matrix]: JAX's ``det`` has the right first derivatives at a singular
    matrix, but ``nan`` second derivatives there from 4 x 4 on. Where the matrix is differentiated
    and its value is known (outside ``jit`` and ``vmap``), a stack holding an exactly singular
    matrix goes through the nonsingular matrix beside it; under ``jit`` and ``vmap`` it is JAX's."""
    import jax
    import jax.numpy as jnp

    from ._singular import _concrete, differentiated

    x = jnp.asarray(a)
    if x.shape[-1] == 0:  # numpy's 1.0, with zero derivatives (JAX's own det raised IndexError in grad)
        return jnp.linalg.det(jax.lax.stop_gradient(x)) + 0 * jnp.sum(x, axis=(-2, -1))
    if not differentiated(x):
        return jnp.linalg.det(x)
    value = _concrete(x)
    if value is None:
        return jnp.linalg.det(x)
    host = np.asarray(value)
    with np.errstate(all="ignore"):
        if host.size and np.all(np.linalg.det(host) != 0):  # LAPACK's LU on the host: no zero pivot
            return jnp.linalg.det(x)
    lu, _, perm = jax.lax.linalg.lu(jnp.asarray(value))  # value[..., perm, :] = L @ U, concrete
    d = np.asarray(jnp.diagonal(lu, axis1=-2, axis2=-1))
    zero = d == 0
    terms = int(zero.sum(-1).max())
    if terms == 0:
        return jnp.linalg.det(x)
    n = x.shape[-1]
    # the identity broadcast explicitly: jax_numpy_rank_promotion="raise" refuses (n, n) + (..., n, n)
    lower = jnp.tril(lu, -1) + jnp.broadcast_to(jnp.eye(n, dtype=lu.dtype), lu.shape)
    undo = jnp.argsort(perm, axis=-1)
    lower = jnp.take_along_axis(lower, undo[..., :, None], axis=-2)  # value = lower @ U
    scale = np.abs(host).max(axis=(-2, -1))
    scale = np.where(scale == 0, 1.0, scale)
    c = lower * jnp.asarray(zero * scale[..., None], dtype=x.dtype)[..., None, :]
    b = x + c
    k = jnp.linalg.solve(b, c)
    y = jnp.linalg.det(b) * det_one_minus(
        k,
        terms,
        jnp.ones(k.shape[:-2], dtype=k.dtype),
        jnp.matmul,
        lambda m: jnp.trace(m, axis1=-2, axis2=-1),
    )
    return jnp.where(jnp.asarray(zero.any(-1)), y - jax.lax.stop_gradient(y), y)
