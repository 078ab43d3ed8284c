"""Functions defined once for every backend so that their derivatives follow NOTE [Derivative
conventions] (``_composite.py``) where the frameworks' own disagree: ``hypot`` and ``arctan2``
at the origin, ``sinc`` at 0, ``heaviside``, ``fmax``/``fmin`` at ties, and the functions of
symmetric matrices.

NOTE [Symmetric matrix input]: ``linalg.eigh``, ``linalg.eigvalsh`` and ``linalg.cholesky``
take a symmetric matrix. numpy and torch read one triangle of it, JAX reads ``(a + a.T) / 2``,
and their derivatives disagree: torch and JAX return symmetric gradients (the gradient of the
function on symmetric matrices), autograd and finite differences the triangle that is read
(``grad`` of ``sum(eigvalsh(a) ** 2)`` was ``2 a`` on torch and JAX and ``tril(4 a) - 2 diag(a)``
on autograd and the numpy backend; torch's second derivatives along non-symmetric directions
were not even symmetric). Here the three functions read ``(a + a.T) / 2`` on every backend, as
JAX does: for a symmetric ``a`` this is ``a`` itself (exactly, in floating point), so values
are numpy's; every backend's gradient is the symmetric one, and the numpy backend's finite
differences, which perturb one element at a time, see both halves change. For a matrix that
is not symmetric the values are those of its symmetric part, not of numpy's lower triangle.
The halves are taken first (``a / 2 + a.T / 2``), and JAX is told not to symmetrize again:
``a + a.T`` overflows for elements above half the largest float.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _dispatch, _singular
from ._composite import _arr, _m, as_numpy_result, cast_as_numpy, dtype_name, inexact


def hypot(x1: Any, x2: Any, /) -> Any:
    """``sqrt(x1**2 + x2**2)`` without overflow; its derivative at the origin is 0 on every
    backend, as for ``linalg.norm`` of the zero vector (the frameworks disagree there)."""
    # NOTE [Derivative conventions]
    mnp = _m()
    a, b = _arr(x1), _arr(x2)
    origin = mnp.logical_and(mnp.equal(a, 0), mnp.equal(b, 0))
    # Off the origin the framework's hypot, at it the constant 0: no 0/0 in either derivative.
    safe = _dispatch.call("hypot", mnp.where(origin, 1.0, a), mnp.where(origin, 1.0, b), arrays=2)
    return as_numpy_result("hypot", mnp.where(origin, 0.0, safe), a, b)


def arctan2(x1: Any, x2: Any, /) -> Any:
    """Angle of the point ``(x2, x1)``; at the origin, where it has no limit, the value is numpy's
    (0 or pi by the signs of the zeros) and the derivative 0, as for ``hypot``."""
    mnp = _m()
    a, b = _arr(x1), _arr(x2)
    lib = _dispatch.like(a, b, call="mnp.arctan2")
    origin = mnp.logical_and(mnp.equal(a, 0), mnp.equal(b, 0))
    at_origin = _dispatch.call("arctan2", _constant(lib, a), _constant(lib, b), arrays=2)
    away = _dispatch.call("arctan2", mnp.where(origin, 1.0, a), mnp.where(origin, 1.0, b), arrays=2)
    return as_numpy_result("arctan2", mnp.where(origin, at_origin, away), a, b)


# |x| below which sinc is its Maclaurin series: at pi * 0.03 the first term left out,
# y**10 / 11!, is 1e-18, and sin(y) / y's derivative would lose digits to cancellation.
_SINC_SERIES = 0.03


def sinc(x: Any, /) -> Any:
    """Normalized sinc, ``sin(pi x) / (pi x)`` and 1 at 0. Near 0 it is its Maclaurin series, so
    derivatives of every order are right at 0 (torch's second derivative there was 0, autograd's
    first nan) and do not cancel near it."""
    mnp = _m()
    v = _arr(x)
    if not inexact(v):  # numpy's float of integers first: abs of int8 -128 is -128, which took the series
        v = mnp.multiply(v, 1.0)
    small = mnp.less(mnp.abs(v), _SINC_SERIES)
    y = np.pi * mnp.where(small, _SINC_SERIES, v)
    z = np.pi * mnp.where(small, v, 0.0)
    z2 = z * z
    series = 1.0 + z2 * (-1.0 / 6.0 + z2 * (1.0 / 120.0 + z2 * (-1.0 / 5040.0 + z2 / 362880.0)))
    return mnp.where(small, series, mnp.sin(y) / y)


def _constant(lib: str, x: Any) -> Any:
    from ._fixes_common import stop_gradient

    return stop_gradient(lib, x) if _dispatch.like(x) == lib else x


def heaviside(x1: Any, x2: Any, /) -> Any:
    """Heaviside step: 0 for ``x1 < 0``, ``x2`` at 0, 1 for ``x1 > 0``. The derivative in ``x1``
    is 0 everywhere (at the step too), in ``x2`` 1 where ``x1 == 0``."""
    mnp = _m()
    a, b = _arr(x1), _arr(x2)
    lib = _dispatch.like(a, b, call="mnp.heaviside")
    # The framework's step of constants (torch and autograd define no derivative for it).
    const_a = _constant(lib, a)
    step = _dispatch.call("heaviside", const_a, _constant(lib, b), arrays=2)
    # nan stays nan (torch's heaviside gives 0 for it).
    return mnp.where(mnp.isnan(const_a), const_a, mnp.where(mnp.equal(a, 0), b, step))


def _tie_free(name: str, x1: Any, x2: Any) -> Any:
    mnp = _m()
    a, b = _arr(x1), _arr(x2)
    both = getattr(mnp, "maximum" if name == "fmax" else "minimum")(a, b)  # ties shared equally
    # A Python int or bool holds no nan (and numpy's isnan refuses an int beyond int64).
    if type(b) not in (int, bool):
        both = mnp.where(mnp.isnan(b), a, both)
    if type(a) not in (int, bool):
        both = mnp.where(mnp.isnan(a), b, both)
    return both


def fmax(x1: Any, x2: Any, /) -> Any:
    """Elementwise maximum ignoring nan (the other value where one is nan); ties share the
    derivative equally, as for ``maximum``."""
    return _tie_free("fmax", x1, x2)


def fmin(x1: Any, x2: Any, /) -> Any:
    """Elementwise minimum ignoring nan (the other value where one is nan); ties share the
    derivative equally, as for ``minimum``."""
    return _tie_free("fmin", x1, x2)


def _symmetric(call: str, a: Any) -> Any:
    mnp = _m()
    x = _arr(a)
    _singular.square(call, x)
    if dtype_name(x).startswith("complex"):  # (x + x.T) / 2 is not numpy's Hermitian reading
        raise TypeError(
            f"mnp.linalg.{call}: complex matrices are not supported (complex numbers: multiad "
            "differentiates real inputs only); give a real symmetric matrix"
        )
    if not inexact(x):  # numpy's float64 for integers (torch's operator gave float32; JAX keeps its own)
        x = cast_as_numpy(x, "float64")
    # Halves first: (x + x.T) / 2 would overflow for elements above half the largest float.
    return x / 2.0 + mnp.swapaxes(x, -1, -2) / 2.0


def _read_as_given(a: Any) -> dict[str, Any]:
    """Keywords that stop JAX from symmetrizing again (its ``(a + a.T) / 2`` overflows above half
    the largest float)."""
    return {"symmetrize_input": False} if _dispatch.like(a) == "jax" else {}


def _check_uplo(call: str, uplo: Any) -> None:
    if uplo not in ("L", "U"):
        raise ValueError(f"mnp.linalg.{call}: UPLO must be 'L' or 'U', got {uplo!r}")


def eigh(a: Any, UPLO: str = "L") -> Any:
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix, read as ``(a + a.T) / 2``
    on every backend (``UPLO`` is accepted and has no effect): for a matrix that is not symmetric
    the result is that of its symmetric part (numpy reads the lower triangle), and the gradient is
    symmetric on every backend."""
    # NOTE [Symmetric matrix input]
    _check_uplo("eigh", UPLO)
    sym = _symmetric("eigh", a)
    return _singular.lapack("eigh", _dispatch.call, "linalg.eigh", sym, **_read_as_given(sym))


def eigvalsh(a: Any, UPLO: str = "L") -> Any:
    """Eigenvalues (ascending) of a symmetric matrix, read as ``(a + a.T) / 2`` on every backend
    (``UPLO`` is accepted and has no effect): for a matrix that is not symmetric
    the result is that of its symmetric part (numpy reads the lower triangle), and the gradient is
    symmetric on every backend."""
    # NOTE [Symmetric matrix input]
    _check_uplo("eigvalsh", UPLO)
    sym = _symmetric("eigvalsh", a)
    return _singular.lapack("eigvalsh", _dispatch.call, "linalg.eigvalsh", sym, **_read_as_given(sym))


def cholesky(a: Any, /, *, upper: bool = False) -> Any:
    """Lower Cholesky factor (upper with ``upper=True``) of a symmetric positive definite
    matrix, read as ``(a + a.T) / 2`` on every backend: for a matrix that is not symmetric
    the result is that of its symmetric part (numpy reads the lower triangle), and the gradient is
    symmetric on every backend. A matrix that is not positive definite raises ``numpy.linalg.LinAlgError``
    on every backend (JAX's result is ``nan`` instead under ``jax.jit`` and ``vmap``)."""
    # NOTE [Symmetric matrix input]
    sym = _symmetric("cholesky", a)
    low = _singular.lapack("cholesky", _dispatch.call, "linalg.cholesky", sym, **_read_as_given(sym))
    if _singular.is_jax(low):  # NOTE [Singular matrices]
        _singular.jax_not_finite("cholesky", (sym,), low, "Matrix is not positive definite")
    return _m().swapaxes(low, -1, -2) if upper else low


# NOTE [hermitian=True reads the symmetric part]: numpy's ``svd`` and ``pinv`` with
# ``hermitian=True`` compute from ``eigh`` of the lower triangle, torch's ``pinv`` from its own
# ``eigh``, torch's ``svd`` ignores the flag, and JAX symmetrizes. Their derivatives disagreed
# without an error: ``grad`` of ``sum(pinv(a, hermitian=True))`` was symmetric on torch and
# JAX and the lower triangle's on the numpy backend (``[[-0.16, -0.08], [-0.08, -0.04]]``
# against ``[[-0.16, 0], [-0.16, -0.04]]`` at ``[[2, 1], [1, 3]]``), and autograd's ``pinv``
# raised a TypeError from its derivative rule. As for eigh (NOTE [Symmetric matrix input]),
# real matrices are read as ``a / 2 + a.T / 2`` on every backend: values are numpy's for a
# symmetric ``a``, and every gradient is the symmetric one (autograd's: NOTE [pinv's keywords
# on autograd]).


def _hermitian_flag(args: tuple[Any, ...], kwargs: dict[str, Any], position: int) -> bool:
    return bool(kwargs["hermitian"] if "hermitian" in kwargs else len(args) > position and args[position])


def _symmetric_part(call: str, a: Any) -> Any:
    x = _arr(a)
    if dtype_name(x).startswith("complex"):  # Hermitian complex matrices: the framework's own reading
        return x
    return _symmetric(call, x)


def pinv(a: Any, *args: Any, **kwargs: Any) -> Any:
    """Pseudo-inverse (numpy's ``linalg.pinv``, dispatched on the argument types); with
    ``hermitian=True`` a real matrix is read as ``(a + a.T) / 2`` on every backend, as in
    ``eigh``, so that its gradient is the symmetric one everywhere."""
    rcond = args[0] if args else kwargs.get("rcond")
    if rcond is not None and kwargs.get("rtol", np._NoValue) is not np._NoValue:
        # numpy's check and words, before the framework's: JAX's own named pinv twice, and JAX
        # and torch computed with rtol=None beside rcond
        raise ValueError("mnp.linalg.pinv: `rtol` and `rcond` can't be both set.")
    if not _hermitian_flag(args, kwargs, 1):
        return _singular.pinv(a, *args, **kwargs)
    # NOTE [hermitian=True reads the symmetric part]
    return _singular.pinv(_symmetric_part("pinv", a), *args, **kwargs)


def svd(a: Any, *args: Any, **kwargs: Any) -> Any:
    """Singular value decomposition (U, S, Vh; numpy's ``linalg.svd``, dispatched on the argument
    types); with ``hermitian=True`` a real matrix is read as ``(a + a.T) / 2`` on every
    backend, as in ``eigh``, so that its gradient is the symmetric one everywhere."""
    if not _hermitian_flag(args, kwargs, 2):
        return _singular.svd(a, *args, **kwargs)
    # NOTE [hermitian=True reads the symmetric part]
    return _singular.svd(_symmetric_part("svd", a), *args, **kwargs)
