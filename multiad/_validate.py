"""Checking what a would-be backend declares, before multiad relies on any of it.

Every declaration is checked for its type and values, so that a plugin's mistake (``native =
None``, ``array_modules = "torch"``, ``priority = "high"``) is reported as that plugin being
broken, with the attribute named, instead of a TypeError raised from deep inside multiad.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._backend import API_VERSION, NATIVE_OVERRIDES, TRANSFORMS, Backend
from ._guard import guarded

AVAILABLE = "available"
NOT_INSTALLED = "not installed"
BROKEN = "broken"
INCOMPATIBLE = "incompatible"

#: NumPy arrays and Python numbers are neutral (NOTE [Selection precedence]): no backend claims them.
NEUTRAL_MODULES = frozenset({"numpy", "builtins"})

_FLAGS = (
    "has_vjp",
    "has_jvp",
    "has_vmap",
    "vmap_chunks",
    "exact",
    "has_custom_rules",
    "chunks_by_pullback",
    "pads_last_chunk",
    "rolls_chunks",
    "creates_float64",
)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _names(v: Any) -> bool:
    return isinstance(v, (set, frozenset, tuple, list)) and all(isinstance(n, str) for n in v)


def _declarations(b: Backend) -> str:
    """The first problem with ``b``'s declarations, or ""."""
    if not isinstance(b.framework, str):
        return f"framework must be a module name (str), got {b.framework!r}"
    mods = b.array_modules
    if not isinstance(mods, (tuple, list)) or not all(isinstance(m, str) and m for m in mods):
        return f"array_modules must be a tuple of top-level module names such as ('torch',), got {mods!r}"
    bad = [m for m in mods if "." in m or m in NEUTRAL_MODULES]
    if bad:
        return (
            f"array_modules names {bad}: give top-level module names only, and not numpy or builtins "
            "(NumPy arrays and Python numbers are neutral and go to whichever backend is selected)"
        )
    if not _is_int(b.priority):
        return f"priority must be an int, got {b.priority!r}"
    for flag in _FLAGS:
        if not isinstance(getattr(b, flag), bool):
            return f"{flag} must be True or False, got {getattr(b, flag)!r}"
    for attr, allowed in (("native", NATIVE_OVERRIDES), ("native_chunks", NATIVE_OVERRIDES)):
        value = getattr(b, attr)
        if not _names(value):
            return f"{attr} must be a frozenset of transform names, got {value!r}"
        if not set(value) <= allowed:
            return (
                f"declares {attr} {sorted(set(value) - allowed)} that multiad does not know; "
                f"overridable transforms are {sorted(allowed)}"
            )
    if not _names(b.unsupported):
        return f"unsupported must be a frozenset of transform names, got {b.unsupported!r}"
    if not set(b.unsupported) <= set(TRANSFORMS):
        return f"declares unsupported {sorted(set(b.unsupported) - set(TRANSFORMS))}, which are not multiad transforms"
    if not b.has_vjp and not b.has_jvp:
        return "declares neither has_vjp nor has_jvp; a backend needs at least one primitive"
    if b.has_custom_rules and any(getattr(type(b), m) is getattr(Backend, m) for m in ("custom_vjp", "custom_jvp")):
        return "declares has_custom_rules but does not implement both custom_vjp and custom_jvp"
    return ""


def validate(obj: Any, name: str, origin: str = "") -> tuple[Backend | None, str, str]:
    """Checks a would-be backend registered as ``name``; returns ``(backend, status, reason)``.

    Reasons do not repeat who registered the backend: the caller prefixes its own context
    (``origin``, if given, is prefixed here as ``"origin: reason"``).
    """
    backend, status, reason = _validate(obj, name)
    if reason and origin:
        reason = f"{origin}: {reason}"
    return backend, status, reason


def _validate(obj: Any, name: str) -> tuple[Backend | None, str, str]:
    if isinstance(obj, type) and issubclass(obj, Backend):
        cls: Callable[[], Backend] = obj
        made, exc = guarded(cls)
        if exc is not None:
            return None, BROKEN, f"constructing {obj.__name__} raised {type(exc).__name__}: {exc}"
        obj = made
    if not isinstance(obj, Backend):
        return (
            None,
            BROKEN,
            f"gave {type(obj).__name__!s} object {obj!r:.60}, not a multiad.Backend subclass or instance",
        )
    problem, exc = guarded(lambda: _identity(obj, name) or _declarations(obj))
    if exc is not None:
        return None, BROKEN, f"reading its declarations raised {type(exc).__name__}: {exc}"
    if problem == "incompatible":
        return (
            obj,
            INCOMPATIBLE,
            (
                f"implements plugin API version {obj.api_version!r}; this multiad implements version "
                f"{API_VERSION}; install a version of the plugin written for API {API_VERSION}"
            ),
        )
    if problem:
        return None, BROKEN, problem
    installed, exc = guarded(obj.installed)
    if isinstance(exc, ModuleNotFoundError):  # find_spec imports the parent of a dotted name
        return obj, NOT_INSTALLED, f"its framework {obj.framework!r} is not installed ({exc}); pip install it"
    if exc is not None:
        return None, BROKEN, f"checking whether its framework is installed raised {type(exc).__name__}: {exc}"
    if not installed:
        return obj, NOT_INSTALLED, f"its framework {obj.framework!r} is not installed; pip install {obj.framework}"
    return obj, AVAILABLE, ""


def _identity(b: Backend, name: str) -> str:
    if not isinstance(b.name, str):
        return f"name must be a str, got {b.name!r}"
    if b.name and b.name != name:
        return f"registered as {name!r} but the backend calls itself {b.name!r}"
    if not _is_int(b.api_version):
        return f"api_version must be an int such as multiad.API_VERSION ({API_VERSION}), got {b.api_version!r}"
    if b.api_version != API_VERSION:
        return "incompatible"
    return ""
