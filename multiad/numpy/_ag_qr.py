"""``linalg.qr`` on the autograd backend, with a derivative.

NOTE [QR on autograd]: ``autograd.numpy.linalg.qr`` has no derivative ("VJP of qr wrt argnums
(0,) not defined"), while torch and JAX differentiate it. Here the factors are numpy's own (the
same signs as numpy's, from one ``numpy.linalg.qr`` call) and the derivative is the rule torch and
JAX use. For ``a = q r`` with ``m >= n`` (``q`` is m x n, ``r`` n x n upper triangular) and
cotangents ``gq``, ``gr``: with ``M = gr r^T - q^T gq`` and ``S`` the symmetric matrix whose upper
triangle is ``M``'s, ``ga = (gq + q S) r^-T``. For ``m < n`` the first ``m`` columns of ``a``
factor as a square matrix and the rest, ``y``, enter only as ``r[:, m:] = q^T y``: ``gq`` gains
``y gr[:, m:]^T`` and ``ga[:, m:] = q gr[:, m:]``. The rule is written with autograd's own
operations, so second derivatives (and forward mode, which the autograd backend builds from
reverse mode) go through it. Like torch and JAX, it needs the reduced ``q`` to be defined: the
extra columns of ``mode="complete"`` for ``m > n`` are an arbitrary completion and a derivative
that reaches them raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Fn = Callable[..., Any]
_QR_FN: list[Fn] = []

_MODES = ("reduced", "complete", "r", "raw")


def _t(x: Any) -> Any:
    import autograd.numpy as anp

    return anp.swapaxes(x, -1, -2)


def _square_or_tall(q: Any, r: Any, gq: Any, gr: Any) -> Any:
    """The cotangent of ``a = q r`` for ``m >= n`` (NOTE [QR on autograd])."""
    import autograd.numpy as anp

    m = anp.matmul(gr, _t(r)) - anp.matmul(_t(q), gq)
    sym = anp.triu(m) + _t(anp.triu(m, 1))
    return _t(anp.linalg.solve(r, _t(gq + anp.matmul(q, sym))))


def _qr_primitive() -> Fn:
    if _QR_FN:
        return _QR_FN[0]
    import autograd.numpy as anp
    from autograd.extend import defvjp, primitive

    @primitive  # type: ignore[untyped-decorator]
    def factors(a: Any) -> Any:
        q, r = np.linalg.qr(a, mode="reduced")
        return q, r

    def vjp(ans: Any, a: Any) -> Fn:
        q, r = ans

        def back(g: Any) -> Any:
            gq, gr = g
            rows, cols = int(np.shape(a)[-2]), int(np.shape(a)[-1])
            if rows >= cols:
                return _square_or_tall(q, r, gq, gr)
            y, gy = a[..., :, rows:], gr[..., :, rows:]
            left = _square_or_tall(q, r[..., :, :rows], gq + anp.matmul(y, _t(gy)), gr[..., :, :rows])
            return anp.concatenate([left, anp.matmul(q, gy)], axis=-1)

        return back

    defvjp(factors, vjp)
    wrapped: Fn = factors
    _QR_FN.append(wrapped)
    return wrapped


def _completion_vjp_fn() -> Fn:
    from autograd.extend import defvjp, primitive

    @primitive  # type: ignore[untyped-decorator]
    def completion(a: Any) -> Any:
        return np.linalg.qr(a, mode="complete")[0][..., :, int(np.shape(a)[-1]) :]

    message = (
        "mnp.linalg.qr: on the autograd backend the extra columns of Q in mode='complete' of a "
        "matrix with more rows than columns (an arbitrary orthonormal completion) have no "
        "derivative; pass mode='reduced'"
    )
    defvjp(completion, _without_derivative(message, several=False))
    return completion  # type: ignore[no-any-return]


def _without_derivative(message: str, several: bool) -> Callable[[Any, Any], Fn]:
    """The vjp of an output without a derivative (``several``: a tuple of arrays): zero where its
    cotangent is zero (the output is not used), NotImplementedError ``message`` otherwise."""

    def vjp(ans: Any, a: Any) -> Fn:
        def back(g: Any) -> Any:
            if any(np.any(np.asarray(v) != 0) for v in (g if several else (g,))):
                raise NotImplementedError(message)
            return np.zeros(np.shape(a))

        return back

    return vjp


def _raw_fn() -> Fn:
    """``mode="raw"`` (LAPACK's Householder reflectors), whose derivative no backend defines:
    autograd's own said "VJP of qr wrt argnums (0,) not defined", without the call."""
    from autograd.extend import defvjp, primitive

    @primitive  # type: ignore[untyped-decorator]
    def raw(a: Any) -> Any:
        return np.linalg.qr(a, mode="raw")

    message = (
        "mnp.linalg.qr: mode='raw' (Householder reflectors) has no derivative on any backend; "
        "differentiate mode='reduced' or mode='r'"
    )
    defvjp(raw, _without_derivative(message, several=True))
    return raw  # type: ignore[no-any-return]


def qr(a: Any, mode: str = "reduced") -> Any:
    """numpy's ``linalg.qr`` on autograd's arrays, differentiable (NOTE [QR on autograd])."""
    import autograd.numpy as anp

    if mode not in _MODES:
        raise ValueError(f"mnp.linalg.qr: unrecognized mode {mode!r}; use one of {', '.join(map(repr, _MODES))}")
    if mode == "raw":
        return _raw_fn()(a)
    if np.ndim(a) < 2:
        raise np.linalg.LinAlgError(
            f"mnp.linalg.qr: {np.ndim(a)}-dimensional array given. Array must be at least two-dimensional"
        )
    q, r = _qr_primitive()(a)
    if mode == "r":
        return r
    rows, cols = int(np.shape(a)[-2]), int(np.shape(a)[-1])
    if mode == "complete" and rows > cols:
        q = anp.concatenate([q, _completion_vjp_fn()(a)], axis=-1)
        r = anp.concatenate([r, anp.zeros(np.shape(a)[:-2] + (rows - cols, cols), dtype=r.dtype)], axis=-2)
    return q, r
