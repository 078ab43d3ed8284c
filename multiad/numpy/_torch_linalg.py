"""numpy's products and linear algebra on torch tensors (numpy's signatures)."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from . import _torch_dtypes as _dt
from ._composite import strong
from ._det import det_one_minus
from ._fixes_common import no_triangle, tensordot_axes
from ._torch import promoted, tensor
from ._torch_reduce import Fn, _axes, _no_out


def _matmul(x1: Any, x2: Any, /, *, dtype: Any = None) -> Any:
    a, b = promoted(x1, x2)
    if dtype is not None:  # numpy's dtype=: the product computed in it (numpy's casting check)
        asked = _dt.torch_dtype(dtype, "mnp.matmul")
        kinds, asked_np = _dt.kinds((x1, x2)), _dt.numpy_dtype(asked)
        want = asked if kinds is None or asked_np is None else _dt.as_torch(_dt.result("matmul", kinds, dtype=asked_np))
        a, b = a.to(want), b.to(want)
    if a.dtype == torch.bool:  # numpy: or of ands
        return torch.matmul(a.to(torch.int64), b.to(torch.int64)) != 0
    return torch.matmul(a, b)


def _summed_sizes(shapes: tuple[Any, Any], pairs: list[tuple[int, int]]) -> None:
    """torch's own shape error where two summed axes differ in length, a length of 1 included
    (NOTE [tensordot's summed lengths]); ``pairs`` are (axis of x, axis of y), counted from 0."""
    # NOTE [tensordot's summed lengths]
    # torch.tensordot broadcast a summed axis of length 1 against the other operand's longer
    # one: tensordot of (2, 1) and (3, 4) with axes=1 summed the single column three times
    # and returned numbers, as did inner and dot (written from tensordot) for a column vector
    # against a vector, a shape error numpy catches. numpy's tensordot does not broadcast the
    # summed axes; their lengths are compared here, and a mismatch is torch's own error for
    # unequal lengths, raised as numpy's ValueError naming the call (NOTE [Shape errors]).
    for i, j in pairs:
        if shapes[0][i] != shapes[1][j]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {shapes[0][i]} in dim {i} and second "
                f"has size {shapes[1][j]} in dim {j} (numpy's shape-mismatch for sum: the summed axes must have "
                "equal lengths, a length of 1 does not broadcast)"
            )


def _tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    x, y = promoted(a, b)
    if x.dtype == torch.bool:  # numpy: or of ands
        return _tensordot(x.to(torch.int64), y.to(torch.int64), axes) != 0
    axes = tensordot_axes(axes, (x.ndim, y.ndim))
    if isinstance(axes, int):  # the last ``axes`` axes of x against the first of y
        _summed_sizes((x.shape, y.shape), [(x.ndim - axes + k, k) for k in range(axes)])
        return torch.tensordot(x, y, dims=axes)
    ax, bx = list(_axes(axes[0], x.ndim)), list(_axes(axes[1], y.ndim))
    _summed_sizes((x.shape, y.shape), list(zip(ax, bx, strict=True)))
    return torch.tensordot(x, y, dims=(ax, bx))


def _einsum(subscripts: str, *operands: Any, **kw: Any) -> Any:
    ts = promoted(*operands)
    if ts and ts[0].dtype == torch.bool:  # numpy: or of ands
        return torch.einsum(subscripts, *[t.to(torch.int64) for t in ts]) != 0
    r = torch.einsum(subscripts, *ts)
    return r if not ts or r.dtype == ts[0].dtype else r.to(ts[0].dtype)  # numpy: the operands' dtype (int32 traces too)


def _diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    t = tensor(a)
    if _axes(axis1, t.ndim) == _axes(axis2, t.ndim):  # numpy's ValueError (torch: RuntimeError)
        raise ValueError("axis1 and axis2 cannot be the same")
    return torch.diagonal(t, offset, axis1, axis2)


def _diag(v: Any, k: int = 0) -> Any:
    return torch.diag(tensor(v), k)


def _diagflat(v: Any, k: int = 0) -> Any:
    return torch.diag(tensor(v).reshape(-1), k)


def _tri(op: Fn) -> Fn:
    def fn(m: Any, k: int = 0) -> Any:
        t = tensor(m)
        no_triangle(op.__name__, t.ndim)
        if t.ndim < 2:
            t = torch.broadcast_to(t, (t.shape[-1],) * 2)
        return op(t, diagonal=k)

    return fn


def _kron(a: Any, b: Any) -> Any:
    x, y = promoted(strong(a), strong(b))
    return torch.kron(x, y)


def _cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: Any = None) -> Any:
    x, y = promoted(a, b)
    if axis is not None:
        axisa = axisb = axisc = axis
    x, y = torch.movedim(x, axisa, -1), torch.movedim(y, axisb, -1)
    if x.shape[-1] != 3 or y.shape[-1] != 3:
        raise ValueError("mnp.cross: on torch the vectors must have 3 components")
    x, y = torch.broadcast_tensors(x, y)  # type: ignore[no-untyped-call]
    return torch.movedim(torch.linalg.cross(x, y, dim=-1), -1, axisc)


def _inexact(t: torch.Tensor) -> torch.Tensor:
    """NOTE [Integer matrices in linalg on torch]: numpy's linear algebra computes integer and
    boolean matrices in float64 (``inv``, ``solve``, ``det``, ``svd``, ... of an int matrix are
    float64); torch's refuses them, or (``eigh``, ``cholesky``) computes in its default float,
    float32. They are converted to float64 first, as numpy does."""
    return t if t.is_floating_point() or t.is_complex() else t.to(torch.float64)


# NOTE [Linear algebra through the LU factors on torch]: torch's forward-mode rules for
# ``linalg.solve`` and ``linalg.slogdet`` reuse the LU factors of the value, which torch marks as
# not differentiable, so a derivative of their tangents (``jacfwd(jacfwd(f))``,
# ``jacrev(jacfwd(f))``, a ``jacobian`` of a ``jacobian`` that chose forward mode) treated the
# factors as constants and returned wrong second derivatives without an error (Hessians off by
# 0.3 to 0.5 for a 3 x 3 system; ``hessian``, forward over reverse, was right). Both are computed
# here from ``linalg.lu_factor_ex`` and ``linalg.lu_solve``, whose factors are differentiable
# outputs, so every order and every order of modes agrees. A singular matrix still raises
# torch's own error for ``linalg.solve`` (LAPACK's check, also under ``vmap``), which
# NOTE [Singular matrices] turns into numpy's.
def _lu_solve(x: torch.Tensor, y: torch.Tensor, vector: bool) -> Any:
    try:
        lu, pivots, _ = torch.linalg.lu_factor_ex(x, check_errors=True)  # under vmap too
    except RuntimeError:
        torch.linalg.solve(x, y)  # torch's own error for a singular matrix, which numpy's replaces
        raise
    if vector:
        return torch.linalg.lu_solve(lu, pivots, y.unsqueeze(-1)).squeeze(-1)
    return torch.linalg.lu_solve(lu, pivots, y)


def _solve(a: Any, b: Any) -> Any:
    x, y = (_inexact(t) for t in promoted(a, b))
    if y.ndim == 1:
        return _lu_solve(x, y, True)
    if y.shape == x.shape[:-1]:  # numpy 2: a 2-d or higher b holds matrices, not a batch of vectors
        # NOTE [solve's b of shape a.shape[:-1]]: torch would read b as a batch of vectors; its
        # stack of matrices is broadcast to the batch of both, so torch sees matrices. Prepending
        # a's whole batch to b's shape instead kept b's own batch axes twice: a (2, 2, 2, 2) and b
        # (2, 2, 2) gave a (2, 2, 2, 2, 2) result where numpy's is (2, 2, 2, 2).
        batch = torch.broadcast_shapes(x.shape[:-2], y.shape[:-2])  # type: ignore[no-untyped-call]
        y = torch.broadcast_to(y, (*batch, *y.shape[-2:]))
    return _lu_solve(x, y, y.ndim == x.ndim - 1 and y.shape == x.shape[:-1])


def _svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    t = _inexact(tensor(a))
    if not compute_uv:
        return torch.linalg.svdvals(t)
    return tuple(torch.linalg.svd(t, full_matrices=full_matrices))


def _eigh(a: Any, UPLO: str = "L") -> Any:
    return tuple(torch.linalg.eigh(_inexact(tensor(a)), UPLO=UPLO))


def _pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = None) -> Any:
    if rcond is not None and rtol is not None:  # numpy's error (rtol silently won here)
        raise ValueError("mnp.linalg.pinv: `rtol` and `rcond` can't be both set.")
    tol = rtol if rtol is not None else rcond
    return torch.linalg.pinv(_inexact(tensor(a)), rtol=tol, hermitian=hermitian)


def _qr(a: Any, mode: str = "reduced") -> Any:
    # NOTE [QR's mode="r" on torch]: torch's mode="r" computes no Q, and its derivative, which
    # needs Q, raises; the reduced factorization has the same R (LAPACK's), so R comes from it.
    if mode == "raw":  # LAPACK's Householder form, as numpy gives it (transposed, Fortran's order)
        h, tau = torch.geqrf(_inexact(tensor(a)))
        return h.mT, tau
    q, r = torch.linalg.qr(_inexact(tensor(a)), mode="reduced" if mode == "r" else mode)
    return r if mode == "r" else (q, r)


def _slogdet(a: Any) -> Any:
    # NOTE [Linear algebra through the LU factors on torch]
    x = _inexact(tensor(a))
    lu, pivots, _ = torch.linalg.lu_factor_ex(x)
    d = torch.diagonal(lu, dim1=-2, dim2=-1)
    return torch.prod(torch.sgn(d), -1) * _swap_sign(pivots, d.dtype), torch.sum(torch.log(torch.abs(d)), -1)


def _det(a: Any) -> Any:
    """NOTE [Linear algebra through the LU factors on torch]: the determinant from the LU factors
    (``det`` of torch shares slogdet's forward-mode flaw); at an exactly singular matrix, through
    a nonsingular matrix next to it (NOTE [det at a singular matrix])."""
    x = _inexact(tensor(a))
    lu, pivots, _ = torch.linalg.lu_factor_ex(x)
    d = torch.diagonal(lu, dim1=-2, dim2=-1)
    zero = d == 0  # LAPACK's exactly zero pivots
    if x.shape[-1] == 0:  # numpy's 1.0 for an empty matrix
        return _lu_det(lu, pivots)
    scale = x.detach().abs().amax(dim=(-2, -1))
    scale = torch.where(scale == 0, torch.ones_like(scale), scale)
    # NOTE [det at a nearly singular matrix on torch]
    small = d.detach().abs() <= _SMALL_PIVOT[x.dtype.itemsize if x.is_complex() else 2 * x.dtype.itemsize] * (
        scale.unsqueeze(-1)
    )
    terms = _zero_pivots(x, small)
    plain = torch.where(zero.any(-1), torch.zeros((), dtype=d.dtype, device=d.device), _lu_det(lu, pivots))
    if terms == 0:  # nothing singular, or nothing differentiated: the value alone, +0.0 as numpy's
        return plain
    value = plain.detach()
    p, l_, _ = torch.lu_unpack(lu.detach(), pivots)
    c = torch.matmul(p, l_) * (small.to(x.dtype) * scale.unsqueeze(-1).to(x.dtype)).unsqueeze(-2)
    lu_b, pivots_b, _ = torch.linalg.lu_factor_ex(x + c)
    k = torch.linalg.lu_solve(lu_b, pivots_b, c)
    ones = torch.ones(k.shape[:-2], dtype=k.dtype, device=k.device)
    y = _lu_det(lu_b, pivots_b) * det_one_minus(k, terms, ones, torch.matmul, _trace)
    return torch.where(small.any(-1), value + (y - y.detach()), y)  # numpy's value, and y's derivatives


# NOTE [det at a nearly singular matrix on torch]: the LU route's derivatives of det divide by the
# pivots, so at a matrix singular only to rounding (LAPACK's LU of [[1, 2, 3], [4, 5, 6], [7, 8,
# 9]] in float64 on torch has a last pivot near 1e-16, not 0) rounding errors are multiplied by
# 1 / pivot: the Hessian was off by 4 and 10 (forward over reverse, forward over forward), and
# third derivatives by 1e17; at a pivot near 1e-9 off by 1e-6. NOTE [det at a singular matrix]'s
# identity holds for any constant c, so pivots below the square root of the dtype's epsilon
# times the matrix's largest element are treated as zero pivots there: the derivatives are
# exact, and the value stays the LU product's (numpy's, 0.0 at an exactly zero pivot).
#: sqrt(eps) of the real dtype, by twice the item size of a real dtype (a complex one's own).
_SMALL_PIVOT = {2 * np.dtype(t).itemsize: float(np.sqrt(np.finfo(t).eps)) for t in (np.float16, np.float32, np.float64)}


def _lu_det(lu: torch.Tensor, pivots: torch.Tensor) -> torch.Tensor:
    d = torch.diagonal(lu, dim1=-2, dim2=-1)
    return torch.prod(d, -1) * _swap_sign(pivots, d.dtype)


def _swap_sign(pivots: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The sign of the permutation of LAPACK's ``pivots`` (1-based row swaps), in ``dtype``."""
    n = pivots.shape[-1]
    swaps = (pivots != torch.arange(1, n + 1, dtype=pivots.dtype, device=pivots.device)).sum(-1)
    return (1 - 2 * (swaps % 2)).to(dtype)


def _trace(m: torch.Tensor) -> torch.Tensor:
    return torch.diagonal(m, dim1=-2, dim2=-1).sum(-1)


def _zero_pivots(x: torch.Tensor, zero: torch.Tensor) -> int:
    """The most exactly zero pivots of one matrix in the stack, where ``x`` is differentiated (0
    where it is not: the value needs none of NOTE [det at a singular matrix]); the
    matrix's size where the count cannot be read (torch's vmap, which ``jacfwd`` uses, and
    ``torch.compile``), which is never too few."""
    n = x.shape[-1]
    if n == 0:
        return 0
    if torch.compiler.is_compiling():
        return n
    if not (x.requires_grad or torch._C._functorch.is_functorch_wrapped_tensor(x)):
        return 0
    try:
        return int(zero.sum(-1).max())
    except RuntimeError:  # torch's vmap hides the values
        return n


def _lin(name: str) -> Fn:
    op = getattr(torch.linalg, name)

    def fn(a: Any, *args: Any, **kwargs: Any) -> Any:
        return op(_inexact(tensor(a)), *args, **kwargs)

    return fn


def _matrix_power(a: Any, n: Any) -> Any:
    """numpy's ``matrix_power``: integer and boolean matrices stay integers and booleans for
    ``n >= 0`` (booleans multiply as ``or`` of ``and``, which torch's matmul lacks), and are
    inverted in float64 for ``n < 0`` (NOTE [Integer matrices in linalg on torch])."""
    t = tensor(a)
    n = operator.index(n)
    if n < 0:
        return torch.linalg.matrix_power(_inexact(t), n)
    if t.dtype != torch.bool:
        return torch.linalg.matrix_power(t, n)
    result = torch.eye(t.shape[-1], dtype=torch.bool, device=t.device).expand(t.shape).clone()
    square_ = t
    while n:  # binary powers, each product back to booleans (counts of paths would overflow)
        if n & 1:
            result = torch.matmul(result.to(torch.int64), square_.to(torch.int64)) != 0
        n >>= 1
        if n:
            square_ = torch.matmul(square_.to(torch.int64), square_.to(torch.int64)) != 0
    return result


def _multi_dot(arrays: Sequence[Any], *, out: None = None) -> Any:
    _no_out("linalg.multi_dot", out)
    ts = promoted(*arrays)
    shapes_ok = all(t.ndim in (1, 2) for t in ts) and all(t.ndim == 2 for t in ts[1:-1])  # else torch's error
    if ts and ts[0].dtype == torch.bool and shapes_ok:  # numpy: or of ands, as _matmul (torch's has no bool product)
        result = ts[0]
        for t in ts[1:]:  # each product back to booleans (counts of paths would overflow)
            result = torch.matmul(result.to(torch.int64), t.to(torch.int64)) != 0
        return result
    return torch.linalg.multi_dot(ts)
