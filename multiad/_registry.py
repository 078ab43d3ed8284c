"""The backend registry: entry points, run-time registration, status and lazy loading.

NOTE [Plugins never break multiad]: backends are found through the ``multiad.backends``
entry-point group, read with the standard library's ``importlib.metadata`` (the ``entrypoints``
package is in maintenance mode). The in-tree backends are registered the same way, so the core
names no backend. A plugin that fails to import, is not a backend, declares another plugin API
version or is registered twice by two distributions is *listed* with its status and reason;
only selecting it raises, with an error naming it and the cause. Identical entry points seen
twice (editable installs can report one twice) are counted once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import importlib.metadata

from ._backend import API_VERSION, NATIVE_OVERRIDES, Backend
from ._errors import BackendError

GROUP = "multiad.backends"

AVAILABLE = "available"
NOT_INSTALLED = "not installed"
BROKEN = "broken"
INCOMPATIBLE = "incompatible"
DUPLICATED = "duplicated"


@dataclass
class BackendRecord:
    """One row of :func:`multiad.list_backends`."""

    name: str
    status: str
    reason: str = ""
    distribution: str | None = None
    version: str | None = None
    source: str = ""
    backend: Backend | None = field(default=None, repr=False, compare=False)
    loaded: bool = field(default=False, repr=False, compare=False)


_lock = threading.RLock()
_records: dict[str, BackendRecord] = {}
_discovered = False
_module_map: dict[str, str] = {}  # top-level array module name -> backend name


def validate(obj: Any, name: str, origin: str) -> tuple[Backend | None, str, str]:
    """Checks a would-be backend; returns (backend, status, reason)."""
    if isinstance(obj, type) and issubclass(obj, Backend):
        try:
            obj = obj()
        except Exception as exc:  # noqa: BLE001 - a plugin's constructor may raise anything
            return None, BROKEN, f"{origin}: constructing {obj.__name__} raised {type(exc).__name__}: {exc}"
    if not isinstance(obj, Backend):
        return (
            None,
            BROKEN,
            (f"{origin} gave {type(obj).__name__!s} object {obj!r:.60}, not a multiad.Backend subclass or instance"),
        )
    if obj.name and obj.name != name:
        return None, BROKEN, f"{origin}: registered as {name!r} but the backend calls itself {obj.name!r}"
    if obj.api_version != API_VERSION:
        return (
            obj,
            INCOMPATIBLE,
            (
                f"{origin} implements plugin API version {obj.api_version!r}; this multiad implements version "
                f"{API_VERSION}; install a version of the plugin written for API {API_VERSION}"
            ),
        )
    if not set(obj.native) <= NATIVE_OVERRIDES:
        return (
            None,
            BROKEN,
            (
                f"{origin} declares native overrides {sorted(set(obj.native) - NATIVE_OVERRIDES)} that multiad does not "
                f"know; overridable transforms are {sorted(NATIVE_OVERRIDES)}"
            ),
        )
    if not obj.has_vjp and not obj.has_jvp:
        return None, BROKEN, f"{origin} declares neither has_vjp nor has_jvp; a backend needs at least one primitive"
    if not obj.installed():
        return obj, NOT_INSTALLED, f"its framework {obj.framework!r} is not installed; pip install {obj.framework}"
    return obj, AVAILABLE, ""


def _add(record: BackendRecord) -> None:
    _records[record.name] = record
    if record.backend is not None and record.status == AVAILABLE:
        for mod in record.backend.array_modules:
            _module_map.setdefault(mod, record.name)


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    import importlib.metadata  # imported here: it costs a quarter of `import multiad`

    with _lock:
        if _discovered:
            return
        seen: dict[str, list[importlib.metadata.EntryPoint]] = {}
        for ep in importlib.metadata.entry_points(group=GROUP):
            group = seen.setdefault(ep.name, [])
            if all(ep.value != other.value for other in group):
                group.append(ep)
        for name, eps in sorted(seen.items()):
            if name in _records:  # registered at run time before discovery: that one wins
                continue
            dists = [_dist(ep) for ep in eps]
            if len(eps) > 1:
                sources = ", ".join(f"{d[0]} ({ep.value})" for d, ep in zip(dists, eps))
                _add(
                    BackendRecord(
                        name,
                        DUPLICATED,
                        f"registered by several distributions: {sources}; uninstall all but one",
                        source=sources,
                    )
                )
                continue
            ep = eps[0]
            dist, version = dists[0]
            origin = f"entry point {name!r} = {ep.value!r} of distribution {dist!r}"
            try:
                obj = ep.load()
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not break multiad
                _add(
                    BackendRecord(
                        name,
                        BROKEN,
                        f"importing {ep.value!r} raised {type(exc).__name__}: {exc}",
                        dist,
                        version,
                        ep.value,
                    )
                )
                continue
            backend, status, reason = validate(obj, name, origin)
            _add(BackendRecord(name, status, reason, dist, version, ep.value, backend))
        _discovered = True


def _dist(ep: importlib.metadata.EntryPoint) -> tuple[str | None, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    return dist.metadata["Name"], dist.version


def records() -> list[BackendRecord]:
    """All known backends, in priority order then by name."""
    _discover()
    with _lock:
        recs = list(_records.values())

    def key(r: BackendRecord) -> tuple[int, int, str]:
        return (r.status != AVAILABLE, r.backend.priority if r.backend else 1000, r.name)

    return sorted(recs, key=key)


def register(name: str, obj: Any, *, replace: bool = False) -> Backend:
    """Registers a backend object (or class) at run time under ``name``."""
    if not isinstance(name, str) or not name:
        raise BackendError(f"register_backend({name!r}, ...): the name must be a non-empty string")
    _discover()
    with _lock:
        if name in _records and not replace:
            old = _records[name]
            raise BackendError(
                f"register_backend({name!r}, ...): a backend named {name!r} is already registered "
                f"(from {old.distribution or 'register_backend'}); pass replace=True to replace it"
            )
        origin = f"register_backend({name!r}, ...)"
        backend, status, reason = validate(obj, name, origin)
        if backend is None or status != AVAILABLE:
            raise BackendError(f"{origin}: {reason}")
        if name in _records:
            for mod, owner in list(_module_map.items()):
                if owner == name:
                    del _module_map[mod]
        _add(BackendRecord(name, AVAILABLE, "", None, None, "register_backend", backend))
        return backend


def available_names() -> list[str]:
    return [r.name for r in records() if r.status == AVAILABLE]


def get(name: str, call: str = "multiad") -> Backend:
    """The loaded backend called ``name``; raises BackendError naming it and the cause."""
    rec = _records.get(name) if _discovered else None
    if rec is not None and rec.loaded:
        assert rec.backend is not None
        return rec.backend
    _discover()
    with _lock:
        rec = _records.get(name)
        if rec is None:
            avail = ", ".join(available_names()) or "none"
            raise BackendError(f"{call}: unknown backend {name!r}; available backends: {avail}")
        if rec.status != AVAILABLE:
            raise BackendError(f"{call}: backend {name!r} is {rec.status}: {rec.reason}")
        assert rec.backend is not None
        if not rec.loaded:
            try:
                rec.backend.load()
            except Exception as exc:
                rec.status, rec.reason = BROKEN, f"loading its framework raised {type(exc).__name__}: {exc}"
                raise BackendError(f"{call}: backend {name!r} is broken: {rec.reason}") from exc
            rec.loaded = True
        return rec.backend


def backend_for_module(module: str) -> str | None:
    """The backend owning arrays whose class lives in top-level module ``module``."""
    _discover()
    return _module_map.get(module)


def default_name(call: str) -> str:
    """The first available backend in priority order."""
    names = available_names()
    if not names:
        raise BackendError(
            f"{call}: no backend is available; install one, for instance multiad-torch or multiad-jax "
            "(python -m multiad backends lists what is installed)"
        )
    return names[0]
