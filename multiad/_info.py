"""list_backends, register_backend and the backend table."""

from __future__ import annotations

from typing import Any

from . import _registry
from ._backend import Backend
from ._registry import BackendRecord


def list_backends() -> list[BackendRecord]:
    """One record per known backend: ``name``, ``status`` (available, not installed, broken,
    incompatible, duplicated), ``reason``, ``distribution`` and ``version``. Listing imports no
    framework.

    Example:
        >>> import multiad
        >>> "numpy" in [r.name for r in multiad.list_backends()]
        True
    """
    return _registry.records()


def register_backend(name: str, backend: Backend | type[Backend], *, replace: bool = False) -> Backend:
    """Registers a backend (an instance or a subclass of :class:`multiad.Backend`) at run time.

    The backend is validated now (plugin API version, declared primitives); an error names it.
    A name that is already registered raises unless ``replace=True``.
    """
    return _registry.register(name, backend, replace=replace)


def capabilities(b: Backend) -> dict[str, Any]:
    """What a backend declares, for tables and reports."""
    return {
        "vjp": b.has_vjp,
        "jvp": "native" if b.has_jvp else ("double vjp" if b.has_vjp else "no"),
        "vmap": "native" if b.has_vmap else "loop",
        "exact": b.exact,
        "native": sorted(b.native),
        "unsupported": sorted(b.unsupported),
    }
