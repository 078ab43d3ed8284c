"""Chunked Jacobians written by hand in JAX alone: the control for ``benchmarks.memory``.

JAX has no ``chunk_size``; these are the loops a JAX user would write for one: the rows (or
columns) of the identity made one chunk at a time by one compiled iota comparison, pushed
through ``jax.vmap`` of ``jax.vjp``'s pullback (``jax.jvp`` for columns), and written into a
preallocated Jacobian by one compiled update that donates it. A Hessian is the column loop over
``jax.grad``. Measured the same way as multiad's, they show which part of the peak is JAX's own
(the compiler's memory on a first call, the eager operations' working set).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


@functools.partial(jax.jit, static_argnames=("shape",))
def _rows(offset: Any, shape: tuple[int, int]) -> Any:
    row = jax.lax.broadcasted_iota(np.int32, shape, 0) + offset
    return (row == jax.lax.broadcasted_iota(np.int32, shape, 1)).astype(np.float32)


@functools.partial(jax.jit, donate_argnums=0)
def _put_rows(jac: Any, rows: Any, start: Any) -> Any:
    return jax.lax.dynamic_update_slice(jac, rows, (start, 0))


@functools.partial(jax.jit, donate_argnums=0)
def _put_columns(jac: Any, columns: Any, start: Any) -> Any:
    return jax.lax.dynamic_update_slice(jac, columns.T, (0, start))


def jacrev(f: Any, chunk: int) -> Any:
    """The Jacobian of ``f`` (a vector to a vector, float32) by rows, ``chunk`` at a time; the
    number of outputs must be a multiple of ``chunk``."""

    def jac(x: Any) -> Any:
        y, pullback = jax.vjp(f, x)
        rows = jax.vmap(pullback)
        out = jnp.zeros((y.shape[0], x.shape[0]), x.dtype)
        for start in range(0, y.shape[0], chunk):
            (got,) = rows(_rows(start, (chunk, y.shape[0])))
            out = _put_rows(out, got, start)
            del got
        return out

    return jac


def jacfwd(f: Any, chunk: int) -> Any:
    """The Jacobian of ``f`` by columns, ``chunk`` at a time (inputs a multiple of ``chunk``)."""

    def jac(x: Any) -> Any:
        def column(t: Any) -> Any:
            return jax.jvp(f, (x,), (t,))[1]

        columns = jax.vmap(column)
        out = None
        for start in range(0, x.shape[0], chunk):
            got = columns(_rows(start, (chunk, x.shape[0])))
            if out is None:
                out = jnp.zeros((got.shape[1], x.shape[0]), x.dtype)
            out = _put_columns(out, got, start)
            del got
        return out

    return jac


def hessian(f: Any, chunk: int) -> Any:
    """The Hessian of a scalar ``f``: :func:`jacfwd` of ``jax.grad(f)``."""
    return jacfwd(jax.grad(f), chunk)
