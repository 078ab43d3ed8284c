"""numpy's answers at singular, non-square and non-finite matrices, on every backend.

NOTE [Singular matrices]: numpy's ``linalg.inv``, ``linalg.solve``, ``linalg.matrix_power``
with a negative power and ``linalg.cholesky`` raise ``numpy.linalg.LinAlgError`` where LAPACK
reports a failed factorization: an exactly zero pivot of the LU factorization ("Singular
matrix"), a pivot of the Cholesky factorization that is not positive ("Matrix is not positive
definite"); in a stack of matrices one such matrix is enough. The frameworks differ: autograd
raises numpy's error (it calls numpy), torch raises its own ``torch.linalg.LinAlgError`` (a
``RuntimeError``), JAX returns ``inf``/``nan`` without an error. Here every backend raises
``numpy.linalg.LinAlgError`` whose message starts with the call:

- numpy and autograd: numpy's own check; its error is raised again with the call's name.
- torch: torch's own check, which reads LAPACK's status after the factorization (torch already
  synchronizes with the device for it); its error becomes numpy's. The criterion is LAPACK's,
  the same as numpy's.
- JAX: its factorizations divide by the zero pivot, so an exactly singular (or, for
  ``cholesky``, not positive definite) finite matrix gives a result that is not finite. Where the
  value is concrete (JAX's eager mode, also under ``multiad.grad`` and the other transforms,
  which do not compile), the result is read on the host and checked with numpy (``isfinite``;
  the input only when the result is not finite), and the call raises when the input is finite
  and the result is not. That read is a host synchronization, the price of raising at all:
  numpy's contract needs the value. It is done with numpy on the host rather than with
  ``jax.numpy``, whose operations an enclosing ``grad`` records even on concrete values (about
  3,700 Python bytecodes per call against 100).
  Under ``jax.jit`` and ``vmap`` the value is traced and cannot decide an exception; the result
  is then JAX's (``inf``/``nan`` for a singular matrix, never a finite number that looks right).

Non-square matrices raise ``LinAlgError`` as in numpy (torch's ``RuntimeError`` and JAX's
``ValueError`` before). Non-finite input is LAPACK's business in numpy (``inv`` of a matrix with
a ``nan`` raises or returns ``nan`` depending on where it sits); here the result is the
framework's (``nan``), torch's errors become ``LinAlgError`` with the call's name (also "SVD did
not converge", as numpy's), and ``eig``/``eigvals`` check finiteness first, as numpy does
(torch's ``eigvals`` of a ``nan`` matrix aborts the process in LAPACK).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _dispatch

LinAlgError = np.linalg.LinAlgError


def square(call: str, a: Any) -> None:
    """Raises numpy's LinAlgError unless ``a`` holds square matrices in its last two axes."""
    shape = getattr(a, "shape", None)
    if shape is None:
        shape = np.shape(a) if not isinstance(a, (list, tuple)) else None
    if shape is None:
        return  # a list: made an array by the call, whose framework checks it
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise LinAlgError(
            f"multiad.numpy.linalg.{call}: expected square matrices in the last two axes, got shape {tuple(shape)} "
            "(numpy: 'Last 2 dimensions of the array must be square')"
        )


def _torch_linalg_error(exc: BaseException) -> bool:
    return type(exc).__name__ == "_LinAlgError" and type(exc).__module__.startswith("torch")


#: numpy's messages for the failures torch reports, by torch's function.
_NUMPY_MESSAGE = {
    "inv": "Singular matrix",
    "solve": "Singular matrix",
    "cholesky": "Matrix is not positive definite",
    "svd": "SVD did not converge",
    "eigh": "Eigenvalues did not converge",
    "eigvalsh": "Eigenvalues did not converge",
}


def reraise(call: str, exc: BaseException) -> None:
    """Raises numpy's LinAlgError, named for ``call``, for numpy's or torch's linear-algebra error."""
    if isinstance(exc, LinAlgError):
        raise LinAlgError(f"multiad.numpy.linalg.{call}: {exc}") from None
    if _torch_linalg_error(exc):
        # torch's message: "linalg.inv: (Batch element 1): The diagonal element 2 is zero, ..."
        first = str(exc).splitlines()[0] if str(exc) else ""
        found = re.match(r"(?:torch\.)?linalg\.(\w+): (\(Batch element \d+\): )?(.*)", first)
        if found is None:
            raise LinAlgError(f"multiad.numpy.linalg.{call}: {first}") from exc
        where = f" ({found[2][1:-3].lower()})" if found[2] else ""
        said = _NUMPY_MESSAGE.get(found[1], found[3])
        raise LinAlgError(f"multiad.numpy.linalg.{call}: {said}{where}") from exc


def is_jax(x: Any) -> bool:
    return type(x).__module__.startswith("jax")


def _concrete(x: Any) -> Any:
    """``x``'s value where JAX knows it (an array, or a tracer of ``grad``/``vjp``/``jvp`` outside
    ``jit``), else None (under ``jit`` and ``vmap``)."""
    try:
        from jax._src.core import to_concrete_value
    except ImportError:  # pragma: no cover - older or newer JAX: ask the value for a bool instead
        return x
    return to_concrete_value(x)  # type: ignore[no-untyped-call]


def jax_not_finite(call: str, inputs: tuple[Any, ...], out: Any, message: str) -> None:
    """On JAX, raises LinAlgError where every input is finite and ``out`` is not, when the values
    are concrete (NOTE [Singular matrices]): one reduction read on the host; the inputs are
    looked at only when the result is not finite."""
    import jax

    value = _concrete(out)
    if value is None:
        return  # under jit or vmap: JAX's value (NOTE [Singular matrices])
    try:
        if np.isfinite(np.asarray(value)).all():  # on the host: jax.numpy would be traced by an enclosing grad
            return
        values = [_concrete(x) for x in inputs if hasattr(x, "shape")]
        if not all(v is not None and np.isfinite(np.asarray(v)).all() for v in values):
            return  # non-finite input: the framework's nan (NOTE [Singular matrices])
    except jax.errors.ConcretizationTypeError:
        return
    raise LinAlgError(f"multiad.numpy.linalg.{call}: {message}")


def checked(name: str, doc: str, message: str, arrays: int = 1, when: Callable[..., bool] | None = None) -> Any:
    """``multiad.numpy.linalg.<name>`` with numpy's errors at singular and non-square matrices
    (NOTE [Singular matrices]); ``message`` is numpy's for a result JAX leaves not finite (none:
    no check), ``when(*args, **kwargs)`` says whether the call can meet a singular matrix
    (``matrix_power`` only for negative powers)."""
    call = name.rsplit(".", 1)[-1]

    def fn(*args: Any, **kwargs: Any) -> Any:
        shape: Any = getattr(args[0], "shape", None) if args else (0, 0)
        if shape is None or len(shape) < 2 or shape[-1] != shape[-2]:
            square(call, args[0])
        try:
            out = _dispatch.call(name, *args, arrays=arrays, **kwargs)
        except (LinAlgError, RuntimeError) as exc:
            reraise(call, exc)
            raise
        if message and is_jax(out) and (when is None or when(*args, **kwargs)):
            jax_not_finite(call, args[:arrays], out, message)
        return out

    fn.__name__ = fn.__qualname__ = call
    # NOTE [Singular matrices]
    errors = (
        "; ``numpy.linalg.LinAlgError``, as in numpy, for a non-square matrix and for a singular one"
        f"{' with a negative power' if when is not None else ''} (one in a stack is enough) on every backend, where torch raises its own error and JAX returns inf or "
        "nan; under ``jax.jit`` and ``vmap`` the values are traced and the result is JAX's"
        if message
        else "; ``numpy.linalg.LinAlgError`` for a non-square matrix on every backend, as in numpy"
    )
    fn.__doc__ = f"{doc} (numpy's ``{name}``, dispatched on the argument types{errors})."
    return fn


def _negative_power(a: Any, n: Any) -> bool:
    return bool(n < 0)


inv = checked("linalg.inv", "Matrix inverse", "Singular matrix")
solve = checked("linalg.solve", "Solve a linear system (a 1-d b is a vector, else matrices)", "Singular matrix", 2)
matrix_power = checked(
    "linalg.matrix_power", "Integer power of a square matrix", "Singular matrix", when=_negative_power
)


def lapack(call: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with numpy's and torch's linear-algebra errors as numpy's, named for ``call``."""
    try:
        return fn(*args, **kwargs)
    except (LinAlgError, RuntimeError) as exc:
        reraise(call, exc)
        raise


det = checked("linalg.det", "Determinant (0.0 for a singular matrix)", "")
_slogdet = checked("linalg.slogdet", "Sign and log of the absolute determinant", "")


def slogdet(a: Any) -> Any:
    """Sign and log of the absolute determinant, ``(0.0, -inf)`` for a singular matrix, as numpy.
    Differentiating it at a singular matrix, where logabsdet has no derivative, raises
    ``numpy.linalg.LinAlgError`` on every backend (differentiate ``det`` instead); under
    ``jax.jit`` and ``vmap`` the derivative is JAX's (+-inf), under torch's ``vmap`` torch's error."""
    out = _slogdet(a)  # NOTE [slogdet at a singular matrix]
    if differentiated(a) and not _known_regular(out[0]):
        raise LinAlgError(
            "multiad.numpy.linalg.slogdet: the matrix is singular (sign 0, logabsdet -inf), where logabsdet has "
            "no derivative; differentiate det instead (its derivative there is the cofactor matrix), or keep "
            "the matrix away from singular ones"
        )
    return out


# NOTE [slogdet at a singular matrix]: slogdet's logabsdet is -inf at a singular matrix and has
# no derivative there; the frameworks' rules solve with the matrix: torch and autograd raised their
# own errors from the backward pass, JAX returned +-inf, all with a different message or none.
# Where the input carries a derivative (a torch.func tensor that requires grad or carries a
# tangent, an autograd box, a JAX tracer of grad/vjp/jvp outside jit), the sign is read on the
# host and a singular matrix raises numpy's LinAlgError in the forward pass, naming the call:
# one boolean read per differentiated call (torch's own derivative reads LAPACK's status on the
# host anyway, to raise its error); calls that are not differentiated read nothing. Under
# jax.jit and vmap the value is traced and the derivative is JAX's (+-inf); under torch's vmap
# it is torch's (its own LinAlgError from the backward pass). The numpy backend's finite
# differences see -inf at the point and warn (AccuracyWarning).
def differentiated(x: Any) -> bool:
    """Whether ``x`` carries a derivative whose primal value can be read (NOTE [slogdet at a singular matrix])."""
    module = type(x).__module__
    if module.startswith("torch"):
        import torch

        if torch.compiler.is_compiling() or not torch._C._functorch.is_functorch_wrapped_tensor(x):
            return False
        return bool(x.requires_grad) or torch.autograd.forward_ad.unpack_dual(x).tangent is not None  # type: ignore[no-untyped-call]
    if module.startswith("autograd"):
        return True  # an autograd box: numpy arrays are numpy's
    if module.startswith("jax"):
        import jax

        return isinstance(x, jax.core.Tracer) and _concrete(x) is not None
    return False


def _known_regular(sign: Any) -> bool:
    """Whether every sign is nonzero (the value read where the framework can, the primal of a tracer)."""
    module = type(sign).__module__
    if module.startswith("autograd"):
        from autograd.tracer import getval

        return bool(np.all(getval(sign) != 0))
    if module.startswith("jax"):
        value = _concrete(sign)
        return value is None or bool(np.all(np.asarray(value) != 0))
    try:
        return bool((sign != 0).all())
    except RuntimeError:  # torch's vmap hides the values: torch's own derivative (its error) applies
        return True


def _errors_only(name: str, doc: str) -> Any:
    """``multiad.numpy.linalg.<name>`` with numpy's and torch's linear-algebra errors as numpy's."""
    call = name.rsplit(".", 1)[-1]

    def fn(*args: Any, **kwargs: Any) -> Any:
        try:
            return _dispatch.call(name, *args, **kwargs)
        except (LinAlgError, RuntimeError) as exc:
            reraise(call, exc)
            raise

    fn.__name__ = fn.__qualname__ = call
    fn.__doc__ = f"{doc} (numpy's ``{name}``, dispatched on the argument types)."
    return fn


svd = _errors_only("linalg.svd", "Singular value decomposition (U, S, Vh)")
pinv = _errors_only("linalg.pinv", "Pseudo-inverse")
qr = _errors_only("linalg.qr", "QR decomposition")
