"""Corrections to ``autograd.numpy``: products and linear algebra with numpy's derivatives."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ._fixes_ag import _ag_diagonal
from ._fixes_common import Fn, _ag, tensordot_axes


def _ag_einsum(*operands: Any, **kwargs: Any) -> Any:
    """autograd's derivative of ``einsum`` fails for an operand with a repeated index
    (``"bii->b"``): each such operand is replaced by its diagonal first, and an implicit output
    made explicit (numpy's rule: the indices seen once, in alphabetical order)."""
    anp = _ag()
    if not operands or not isinstance(operands[0], str):
        return anp.einsum(*operands, **kwargs)
    spec = operands[0].replace(" ", "")
    lhs, arrow, rhs = spec.partition("->")
    subs = lhs.split(",")
    if not any(len(set(t)) < len(t) for t in subs if "." not in t):
        return anp.einsum(*operands, **kwargs)
    if not arrow:
        letters = lhs.replace(",", "").replace(".", "")
        rhs = ("..." if "..." in lhs else "") + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    arrays = list(operands[1:])
    for k, t in enumerate(subs):
        if "." in t:
            continue
        x = arrays[k]
        while len(set(t)) < len(t):
            c = next(c for c in t if t.count(c) > 1)
            i = t.index(c)
            j = t.index(c, i + 1)
            x = _ag_diagonal(x, 0, i, j)
            t = t[:i] + t[i + 1 : j] + t[j + 1 :] + c
        subs[k], arrays[k] = t, x
    return anp.einsum(",".join(subs) + "->" + rhs, *arrays, **kwargs)


def _ag_multi_dot(arrays: Any, *, out: None = None) -> Any:
    """numpy's ``multi_dot`` (1-d first and last arrays as row and column vectors) by ``dot``:
    numpy's own runs on autograd's boxes as objects."""
    if out is not None:
        raise NotImplementedError("mnp.linalg.multi_dot: out= is not supported; use the returned array")
    if len(arrays) < 2:
        raise ValueError("mnp.linalg.multi_dot: expecting at least two arrays")
    result = arrays[0]
    for a in arrays[1:]:
        result = _ag().dot(result, a)
    return result


def _ag_svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    """autograd differentiates ``svd`` only with ``full_matrices=False`` (NOTE [Full SVD on
    autograd])."""
    anp = _ag()
    if hermitian:
        raise NotImplementedError("mnp.linalg.svd: hermitian=True is not supported on the autograd backend")
    if not compute_uv or not full_matrices or a.shape[-1] == a.shape[-2]:
        return anp.linalg.svd(a, full_matrices=False, compute_uv=compute_uv)
    u, s, vh = anp.linalg.svd(a, full_matrices=False)
    extra = _svd_completion()
    if a.shape[-2] > a.shape[-1]:
        u = anp.concatenate([u, extra(a, True)], axis=-1)
    else:
        vh = anp.concatenate([vh, extra(a, False)], axis=-2)
    return u, s, vh


# NOTE [Full SVD on autograd]: autograd's svd has no derivative with full_matrices=True. For
# a square matrix the full factors are the reduced ones. For a non-square one, the extra columns
# of U (or rows of Vh) are numpy's own orthonormal completion of the reduced factors, which is
# not a differentiable function of the matrix (any completion is one): a derivative that
# reaches them with a nonzero cotangent raises, while the singular values and the reduced
# columns keep theirs. Where numpy's completion is not orthogonal to the reduced factors (a
# rank-deficient matrix: LAPACK's two calls choose the null space independently), the
# completion is a QR factorization's instead.
_SVD_COMPLETION: list[Fn] = []


def _svd_completion() -> Fn:
    if _SVD_COMPLETION:
        return _SVD_COMPLETION[0]
    from autograd.extend import defvjp, primitive

    @primitive  # type: ignore[untyped-decorator]
    def completion(a: np.ndarray, columns: bool) -> np.ndarray:
        uf, _, vhf = np.linalg.svd(a, full_matrices=True)
        ur, _, vhr = np.linalg.svd(a, full_matrices=False)
        base, full = (ur, uf) if columns else (np.swapaxes(vhr, -1, -2), np.swapaxes(vhf, -1, -2))
        k = base.shape[-1]
        rest = full[..., k:]
        if not np.allclose(np.swapaxes(base, -1, -2) @ rest, 0.0, atol=1e-10):
            rest = np.linalg.qr(base, mode="complete")[0][..., k:]
        return rest if columns else np.swapaxes(rest, -1, -2)

    def vjp(ans: Any, a: Any, columns: bool) -> Fn:
        def back(g: Any) -> Any:
            if np.any(np.asarray(g) != 0):
                raise NotImplementedError(
                    "mnp.linalg.svd: on the autograd backend the extra "
                    + ("columns of U" if columns else "rows of Vh")
                    + " of a non-square matrix's full SVD (an arbitrary orthonormal completion) have no "
                    "derivative; pass full_matrices=False"
                )
            return np.zeros(np.shape(a))

        return back

    defvjp(completion, vjp)
    wrapped: Fn = completion
    _SVD_COMPLETION.append(wrapped)
    return wrapped


def _ag_eigvalsh(a: Any, UPLO: str = "L") -> Any:
    return _ag().linalg.eigh(a, UPLO)[0]


def _ag_matrix_power(a: Any, n: int) -> Any:
    """numpy's binary powers (``log2(n)`` products, not ``n``: ``2**100`` ran out of memory),
    in numpy's order of products, so the rounding is numpy's too."""
    from autograd.tracer import getval

    anp = _ag()
    try:
        n = operator.index(n)
    except TypeError as exc:
        raise TypeError(f"mnp.linalg.matrix_power: exponent must be an integer, not {n!r}") from exc
    if n == 0:  # the identity in a's dtype
        eye = np.eye(np.shape(a)[-1], dtype=np.result_type(getval(a)))
        return anp.add(np.broadcast_to(eye, np.shape(a)), 0.0 * a)
    x = anp.linalg.inv(a) if n < 0 else a
    n = abs(n)
    if n <= 3:
        return x if n == 1 else anp.matmul(x, x) if n == 2 else anp.matmul(anp.matmul(x, x), x)
    z = out = None
    while n > 0:
        z = x if z is None else anp.matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            out = z if out is None else anp.matmul(out, z)
    return out


def _ag_tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """autograd's tensordot, taking numpy integers in ``axes`` as numpy does."""
    return _ag().tensordot(a, b, axes=tensordot_axes(axes))


# NOTE [det of a singular matrix on autograd]: autograd's derivative of det is
# ``g * det(a) * inv(a).T``, which raises numpy's bare LinAlgError at a singular matrix; the
# derivative there is the transposed adjugate (the cofactor matrix), finite, and what torch,
# JAX and the numpy backend give. The rule here uses ``det * inv.T`` where ``a`` is
# well-conditioned and the cofactors (determinants of the minors, through this same rule, so
# that second derivatives work) where it is not: O(n**5) for n x n, only on the singular path.
_DET_COND = 1e8
_ag_det_fn: list[Fn] = []


_ag_pinv_fn: list[Fn] = []


def _ag_pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = np._NoValue) -> Any:
    """numpy's ``pinv`` with its ``rcond=``, ``hermitian=`` and ``rtol=``, differentiated by
    autograd's rule.

    NOTE [pinv's keywords on autograd]: autograd's derivative rule of ``pinv`` takes the matrix
    alone (``grad_pinv(ans, x)``), so any keyword, even ``rcond=None`` given positionally, made
    ``grad`` raise ``TypeError: grad_pinv() takes 2 positional arguments but 3 were given``. The
    rule is the derivative along perturbations that keep the rank of ``ans``, which holds for
    the truncated pseudo-inverse the keywords choose as well, so it is used with them
    (NOTE [pinv's derivative in small products]).
    """
    if not _ag_pinv_fn:
        from autograd.extend import defvjp, primitive

        @primitive  # type: ignore[untyped-decorator]
        def pinv(a: Any, rcond: Any, hermitian: bool, rtol: Any) -> Any:
            return np.linalg.pinv(a, rcond, hermitian, rtol=rtol)

        defvjp(pinv, lambda ans, a, rcond, hermitian, rtol: lambda g: _ag_pinv_vjp(ans, a, g))
        _ag_pinv_fn.append(pinv)
    return _ag_pinv_fn[0](a, rcond, hermitian, rtol)


def _ag_pinv_vjp(p: Any, a: Any, g: Any) -> Any:
    """autograd's rule for ``pinv`` (``p`` of ``a``, cotangent ``g``), ``T(-p g^T p + p p^T g
    (I - a p) + (I - p a) g p^T p)``, without its identities.

    NOTE [pinv's derivative in small products]: autograd's rule builds ``I - a p``, an (m, m)
    matrix for ``a`` of m rows, so the derivative of ``pinv`` of a (400000, 2) matrix asked for
    1.2 TiB (``MemoryError``, where numpy's value and JAX's derivative take kilobytes). Each
    product of three matrices here is taken in the order whose intermediate is the smaller of
    (m, m) and (n, n).
    """
    anp = _ag()

    def t(x: Any) -> Any:
        return anp.swapaxes(x, -1, -2)

    def mul3(x: Any, y: Any, z: Any) -> Any:
        sx, sy, sz = np.shape(x), np.shape(y), np.shape(z)
        if sx[-2] * sy[-1] <= sy[-2] * sz[-1]:
            return anp.matmul(anp.matmul(x, y), z)
        return anp.matmul(x, anp.matmul(y, z))

    left = mul3(p, t(p), g)  # p p^T g, then times (I - a p)
    right = mul3(g, t(p), p)  # g p^T p, after (I - p a)
    return t(-mul3(p, t(g), p) + left - mul3(left, a, p) + right - mul3(p, a, right))


def _ag_det(a: Any) -> Any:
    if not _ag_det_fn:
        from autograd.extend import defvjp, primitive

        @primitive  # type: ignore[untyped-decorator]
        def det(a: Any) -> Any:
            return np.linalg.det(a)

        def det_vjp(ans: Any, a: Any) -> Fn:
            return lambda g: _ag().expand_dims(_ag().expand_dims(g, -1), -1) * _ag_cofactors(a, ans)

        defvjp(det, det_vjp)
        _ag_det_fn.append(det)
    return _ag_det_fn[0](a)


def _ag_cofactors(a: Any, det: Any) -> Any:
    """The cofactor matrix of ``a`` (the adjugate transposed), differentiable by autograd."""
    from autograd.tracer import getval

    anp = _ag()
    n = int(np.shape(a)[-1])
    value = np.asarray(getval(a))
    if n == 0:
        return anp.zeros_like(a)
    with np.errstate(all="ignore"):
        conditioned = bool(value.size) and bool(np.all(np.linalg.cond(value) < _DET_COND))
    if conditioned:
        return anp.expand_dims(anp.expand_dims(det, -1), -1) * anp.swapaxes(anp.linalg.inv(a), -1, -2)
    if n == 1:
        return anp.ones_like(a)
    rows = []
    for i in range(n):
        keep_r = [k for k in range(n) if k != i]
        row = []
        for j in range(n):
            keep_c = [k for k in range(n) if k != j]
            minor = a[..., keep_r, :][..., :, keep_c]
            row.append((-1.0) ** (i + j) * _ag_det(minor))
        rows.append(anp.stack(row, axis=-1))
    return anp.stack(rows, axis=-2)


# NOTE [solve's derivative on autograd]: autograd's rule for ``solve`` reads ``b`` as a vector
# by numpy 1's rule (``b.ndim == a.ndim - 1``) and returns the cotangents in the shape of the
# broadcast result: ``grad`` in ``a`` of ``solve(a (2, 2), b (4, 2, 1))`` had shape
# (4, 2, 1, 1), in ``b`` of ``solve(a (2, 2, 2), b (2,))`` shape (2, 2, 2), without an error,
# and batches of another size than ``n`` raised numpy's gufunc error. The rule here follows
# numpy 2 (a 1-d ``b`` is a vector, anything else a stack of matrices), works on the column
# form of a vector, and sums each cotangent over the axes its operand was broadcast along,
# with autograd's own ``unbroadcast`` (differentiable, so second derivatives hold).
_ag_solve_fn: list[Fn] = []


def _ag_solve(a: Any, b: Any) -> Any:
    if not _ag_solve_fn:
        from autograd.extend import defvjp, primitive
        from autograd.numpy.numpy_vjps import unbroadcast

        @primitive  # type: ignore[untyped-decorator]
        def solve(a: Any, b: Any) -> Any:
            return np.linalg.solve(a, b)

        def columns(ans: Any, b: Any) -> tuple[Any, bool]:
            vector = len(np.shape(b)) == 1
            return (_ag().expand_dims(ans, -1) if vector else ans), vector

        def cotangent_b(ans: Any, a: Any, b: Any, g: Any) -> Any:
            anp = _ag()
            _, vector = columns(ans, b)
            gb = solve(anp.swapaxes(a, -1, -2), anp.expand_dims(g, -1) if vector else g)
            return gb[..., 0] if vector else gb

        def vjp_a(ans: Any, a: Any, b: Any) -> Fn:
            meta = _ag().metadata(a)

            def back(g: Any) -> Any:
                anp = _ag()
                x, vector = columns(ans, b)
                gb = cotangent_b(ans, a, b, g)
                gb = anp.expand_dims(gb, -1) if vector else gb
                return unbroadcast(-anp.matmul(gb, anp.swapaxes(x, -1, -2)), meta)

            return back

        def vjp_b(ans: Any, a: Any, b: Any) -> Fn:
            meta = _ag().metadata(b)
            return lambda g: unbroadcast(cotangent_b(ans, a, b, g), meta)

        defvjp(solve, vjp_a, vjp_b)
        _ag_solve_fn.append(solve)
    return _ag_solve_fn[0](a, b)
