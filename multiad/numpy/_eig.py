"""``linalg.eig`` and ``linalg.eigvals`` of real matrices whose eigenvalues are real.

NOTE [Eigenvalues of general matrices]: numpy's ``eig`` of a real matrix returns real arrays
where every eigenvalue is real and complex arrays otherwise (a dtype that depends on the values);
torch and JAX return complex arrays always. ``multiad.numpy`` computes with real arrays only
(complex numbers are left out, see ``ABSENT``), so these functions return numpy's real arrays
and raise ValueError for a matrix with complex eigenvalues, on every backend. Telling the two
apart needs the eigenvalues' values: under ``jax.jit`` or ``vmap``, which hide them, the call
raises UnsupportedOperationError rather than guess. Derivatives are the frameworks' own rules:
torch's, autograd's ``grad_eig``, and JAX's with its eigenvector derivatives enabled
(``enable_eigvec_derivs``: JAX asks for the opt-in because a complex eigenvector's phase is
arbitrary; for real eigenvectors of unit norm, numpy's normalisation, the derivative is
determined up to the sign, which the derivative keeps). A complex matrix raises TypeError on every
backend, as for ``eigh``: its eigenvalues can be real while its eigenvectors are not, and taking
the real parts of torch's or JAX's complex results would drop their imaginary parts. They agree with finite differences for
distinct eigenvalues; at a repeated eigenvalue the eigenvectors have no derivative (inf or nan in
every framework), as for ``eigh``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._errors import UnsupportedOperationError
from . import _dispatch, _singular
from ._composite import _arr, _m, dtype_name, inexact


class EigResult(NamedTuple):
    """Eigenvalues and right eigenvectors (in columns), as numpy's ``linalg.eig`` returns them."""

    eigenvalues: Any
    eigenvectors: Any


def _complex(call: str) -> ValueError:
    return ValueError(
        f"mnp.linalg.{call}: the matrix has complex eigenvalues, for which numpy returns complex arrays; "
        "multiad.numpy computes with real arrays only: use numpy for complex spectra, or linalg.eigh / "
        "linalg.eigvalsh for symmetric matrices"
    )


def _all_real(call: str, lib: str, imag: Any) -> bool:
    """Whether every imaginary part is 0 (NOTE [Eigenvalues of general matrices])."""
    hidden: tuple[type[BaseException], ...] = (RuntimeError,)
    if lib == "jax":
        import jax

        hidden = (jax.errors.ConcretizationTypeError,)
    try:
        return bool(_m().all(_m().equal(imag, 0)))
    except hidden:
        raise UnsupportedOperationError(
            f"mnp.linalg.{call}: whether the eigenvalues are real (numpy then returns real arrays) depends on "
            "their values, which jax.jit and vmap hide; call it outside jit and vmap, or use linalg.eigh / "
            "linalg.eigvalsh for symmetric matrices"
        ) from None


def _all_finite(call: str, lib: str, x: Any) -> bool:
    """Whether every element is finite (NOTE [Singular matrices]: torch's eigvals of a matrix with
    a nan aborts the process); True where jit or vmap hide the values (the call raises later)."""
    if lib == "jax":
        import jax

        try:
            return bool(_m().all(_m().isfinite(x)))
        except jax.errors.ConcretizationTypeError:
            return True
    if lib == "torch":
        import torch

        if torch.compiler.is_compiling():
            return True
    try:
        return bool(_m().all(_m().isfinite(x)))
    except RuntimeError:  # vmap's batched tensors: the check of the values raises later
        return True


def _eig(call: str, a: Any, vectors: bool) -> Any:
    x = _arr(a)
    _singular.square(call, x)
    if dtype_name(x).startswith("complex"):  # NOTE [Eigenvalues of general matrices]
        raise TypeError(
            f"mnp.linalg.{call}: complex matrices are not supported (complex numbers: multiad "
            "differentiates real inputs only); give a real matrix, or use numpy for complex matrices"
        )
    lib = _dispatch.like(x, call=f"mnp.linalg.{call}")
    if not inexact(x):  # numpy: integers and booleans as float64
        x = _m().multiply(x, 1.0) if lib == "jax" else _m().astype(x, "float64")
    if lib != "numpy" and not _all_finite(call, lib, x):  # numpy's own check, before LAPACK sees the matrix
        raise np.linalg.LinAlgError(f"multiad.numpy.linalg.{call}: Array must not contain infs or NaNs")
    if lib in ("numpy", "autograd"):
        # autograd differentiates eig, not eigvals: the eigenvalues are taken from eig there
        name = "linalg.eig" if vectors or lib == "autograd" else "linalg.eigvals"
        out = _singular.lapack(call, _dispatch.call, name, x)
        if not vectors and lib == "autograd":
            out = out[0]
        w = out[0] if vectors else out
        if dtype_name(w).startswith("complex"):
            raise _complex(call)
        return EigResult(out[0], out[1]) if vectors else out
    if lib == "torch":
        import torch

        if vectors:
            w, v = torch.linalg.eig(x)
        else:
            w, v = torch.linalg.eigvals(x), None
    else:
        import jax

        found = jax.lax.linalg.eig(
            x, compute_left_eigenvectors=False, compute_right_eigenvectors=vectors, enable_eigvec_derivs=True
        )
        w, v = found[0], (found[1] if vectors else None)
    if not _all_real(call, lib, w.imag):
        raise _complex(call)
    return EigResult(w.real, v.real) if vectors else w.real


def eig(a: Any) -> EigResult:
    """Eigenvalues and right eigenvectors (unit norm, in columns) of a square real matrix whose
    eigenvalues are real, as real arrays (numpy's result for such a matrix) on every backend;
    ValueError for a matrix with complex eigenvalues, and UnsupportedOperationError under
    ``jax.jit`` or ``vmap``, which hide the values that tell the two apart. The eigenvectors have
    no derivative at a repeated eigenvalue (inf or nan)."""
    # NOTE [Eigenvalues of general matrices]
    out: EigResult = _eig("eig", a, True)
    return out


def eigvals(a: Any) -> Any:
    """Eigenvalues of a square real matrix whose eigenvalues are real, as a real array (numpy's
    result for such a matrix) on every backend; ValueError for a matrix with complex
    eigenvalues, and UnsupportedOperationError under ``jax.jit`` or ``vmap``, which hide the
    values that tell the two apart."""
    # NOTE [Eigenvalues of general matrices]
    return _eig("eigvals", a, False)
