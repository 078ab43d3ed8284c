"""The exception hierarchy.

Every error multiad raises derives from :class:`MultiADError` and from the built-in exception
an ordinary ``except`` clause would name (``ValueError``, ``TypeError``, ``LookupError``,
``NotImplementedError``). Messages start with the call that failed (``grad(f): ...``), say what
was wrong with the value seen, and how to fix it.
"""

from __future__ import annotations


class MultiADError(Exception):
    """Base class of every error raised by multiad."""


class InvalidArgumentError(MultiADError, ValueError):
    """A value has the right type but is not acceptable (shape, range, structure)."""


class InvalidTypeError(MultiADError, TypeError):
    """A value has the wrong type (for instance an integer array where a float is needed)."""


class MixedBackendError(MultiADError, TypeError):
    """Arrays of two frameworks met in one call, or an array does not belong to the backend."""


class BackendError(MultiADError, LookupError):
    """A backend is unknown, not installed, broken, incompatible or registered twice."""


class UnsupportedOperationError(MultiADError, NotImplementedError):
    """The backend declares that it cannot perform this transform."""


class NonDifferentiableError(MultiADError, TypeError):
    """The framework could not transform an operation inside the user's function: differentiate
    it, or trace it where a transform traces ``f`` (``vmap`` of data-dependent control flow, a
    conversion to a Python number under ``jax.jit``). The message names the call and the
    framework's reason."""


class AccuracyWarning(UserWarning):
    """A result may be less accurate than its dtype suggests.

    Warned when a finite-difference derivative's estimated error exceeds the tolerance of its
    dtype (the message names the call and the estimate), and when a backend computes in a
    lower precision than the input's (float64 input computed in float32, complex128 in
    complex64). Turn it into an error with ``warnings.simplefilter("error",
    multiad.AccuracyWarning)``; a warning shown once per process raises on every call then.
    """


__all__ = [
    "AccuracyWarning",
    "BackendError",
    "InvalidArgumentError",
    "InvalidTypeError",
    "MixedBackendError",
    "MultiADError",
    "NonDifferentiableError",
    "UnsupportedOperationError",
]


def an(word: str) -> str:
    """``word`` with its indefinite article, for messages naming a backend ("an autograd array")."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
