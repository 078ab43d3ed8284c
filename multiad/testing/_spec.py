"""Loading the backend under test from a registered name or a ``module:object`` spec."""

from __future__ import annotations

import importlib
from typing import Any

from .. import _registry
from .._backend import Backend
from .._errors import BackendError


def load(spec: str) -> Backend:
    """The loaded backend named by ``spec``: a registered name, or ``module:object`` where
    ``object`` is a :class:`multiad.Backend` subclass or instance (it need not be registered)."""
    if ":" not in spec:
        return _registry.get(spec, f"conformance suite (--multiad-backend={spec})")
    call = f"conformance suite (--multiad-backend={spec})"
    mod_name, _, attr = spec.partition(":")
    try:
        obj: Any = importlib.import_module(mod_name)
    except ImportError as exc:
        raise BackendError(f"{call}: cannot import module {mod_name!r}: {exc}") from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise BackendError(f"{call}: module {mod_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if isinstance(obj, type) and issubclass(obj, Backend):
        obj = obj()
    if not isinstance(obj, Backend):
        raise BackendError(f"{call}: {spec} is a {type(obj).__name__}, not a multiad.Backend subclass or instance")
    backend, status, reason = _registry.validate(obj, obj.name or spec, spec)
    if backend is None or status != _registry.AVAILABLE:
        raise BackendError(f"{call}: {reason}")
    backend.load()
    return backend


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
