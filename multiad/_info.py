"""list_backends, register_backend and the backend table."""

from __future__ import annotations

from typing import Any

from . import _registry
from ._backend import Backend
from ._registry import BackendRecord


def list_backends() -> list[BackendRecord]:
    """One record per known backend: ``name``, ``status`` (available, not installed, broken,
    incompatible, duplicated), ``reason``, ``distribution``, ``version``, ``conflicts`` (one line
    per array module another available backend claims too: inferring the backend from such
    arrays raises until one is selected) and ``first_party`` (one of multiad's own backends,
    which come first when nothing selects a backend; see docs/plugins.md, "Priorities and
    conflicts"). Available backends come first, multiad's own in priority order.

    Listing imports every plugin's module, but no framework; a plugin whose import fails is
    listed as broken with the reason, and one whose import is slow delays the listing.

    Example:
        >>> import multiad
        >>> "numpy" in [r.name for r in multiad.list_backends()]
        True
    """
    return _registry.records()


def register_backend(name: str, backend: Backend | type[Backend], *, replace: bool = False) -> Backend:
    """Registers a backend (an instance or a subclass of :class:`multiad.Backend`) at run time.

    The backend is validated now (plugin API version, the type and value of every declaration,
    whether its framework is installed); an error names it and what is wrong. ``name`` must be
    the backend's own ``name`` attribute (subclass it to register a variant under another). A
    name that is already registered raises unless ``replace=True``; a replacement takes the
    rank of the backend it replaces. Another run-time registration never becomes the default for NumPy
    inputs while one of multiad's own backends is available, and an array module it claims that
    another backend claims too is a conflict (see :func:`list_backends`).
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
