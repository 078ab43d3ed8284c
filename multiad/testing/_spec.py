"""Loading the backend under test from a registered name or a ``module:object`` spec."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import TypeVar

from .. import _registry
from .._backend import Backend
from .._errors import BackendError
from .._guard import guarded

T = TypeVar("T")


def load(spec: str) -> Backend:
    """The loaded backend named by ``spec``: a registered name, or ``module:object`` where
    ``object`` is a :class:`multiad.Backend` subclass or instance (it need not be registered).

    A ``module:object`` backend's code (importing the module, looking the object up,
    constructing it, loading its framework) runs under the protection the registry gives
    plugins (NOTE [Interrupts from plugins]): whatever it raises, ``SystemExit`` and
    ``KeyboardInterrupt`` included, becomes a BackendError naming ``spec``.
    """
    call = f"conformance suite (--multiad-backend={spec})"
    if ":" not in spec:
        return _registry.get(spec, call)
    mod_name, _, attr = spec.partition(":")
    mod = _run(call, f"importing module {mod_name!r}", lambda: importlib.import_module(mod_name))
    obj = _run(
        call, f"looking up {attr!r} in module {mod_name!r}", lambda: functools.reduce(getattr, attr.split("."), mod)
    )
    if isinstance(obj, type) and issubclass(obj, Backend):
        obj = _run(call, f"constructing {attr}", obj)
    if not isinstance(obj, Backend):
        raise BackendError(
            f"{call}: {spec} is a {type(obj).__name__}, not a multiad.Backend subclass or instance; "
            "name one as module:object"
        )
    name, _ = guarded(lambda: obj.name)
    backend, status, reason = _registry.validate(obj, name if isinstance(name, str) and name else spec, spec)
    if backend is None or status != _registry.AVAILABLE:
        raise BackendError(f"{call}: {reason}")
    _run(call, "loading its framework", backend.load)
    return backend


def _run(call: str, what: str, fn: Callable[[], T]) -> T:
    """``fn()`` under the registry's protection; what it raised becomes a BackendError."""
    value, exc = guarded(fn)
    if exc is not None:
        raise BackendError(f"{call}: {what} raised {type(exc).__name__}: {exc}") from exc
    return value  # type: ignore[return-value]


def distribution(spec: str) -> tuple[str | None, str | None]:
    """The distribution name and version that registered ``spec`` (None for module:object)."""
    if ":" in spec:
        return None, None
    rec = _registry.record(spec)  # this backend's record only: no other plugin is imported
    return (rec.distribution, rec.version) if rec is not None else (None, None)


def prepare(b: Backend, dtypes: list[str]) -> None:
    """Framework settings the suite needs, asked of the backend: float64 where it is checked."""
    if "float64" in dtypes:
        b.enable_float64()
