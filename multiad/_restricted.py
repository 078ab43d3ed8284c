"""A view of a real backend that exposes only some of its primitives.

NOTE [Forcing the derived paths]: multiad derives most transforms from a backend's primitives
(see NOTE [Derivation table]). To test those derivations on real frameworks, rather than on a
toy, :func:`restricted` wraps a backend so that it declares fewer primitives and no native
overrides; every transform then goes down the core's derived path while the arithmetic is
still the framework's.
"""

from __future__ import annotations

from typing import Any

from ._backend import Backend


def restricted(backend: Backend, *, jvp: bool = False, vmap: bool = False, native: bool = False) -> Backend:
    """``backend`` declaring only vjp (plus ``jvp``/``vmap``/native overrides if asked for).

    The wrapped backend must have a vjp. Its name is ``"<name>[primitives]"``.
    """
    if not backend.has_vjp:
        raise ValueError(f"restricted({backend.name!r}): the backend has no vjp to keep")
    base = type(backend)
    attrs: dict[str, Any] = {
        "name": f"{backend.name}[primitives]",
        "has_jvp": jvp and backend.has_jvp,
        "has_vmap": vmap and backend.has_vmap,
        "native": backend.native if native else frozenset(),
        "__module__": base.__module__,
    }
    cls: type[Backend] = type(f"Restricted{base.__name__}", (base,), attrs)
    wrapped = object.__new__(cls)
    wrapped.__dict__.update(backend.__dict__)
    return wrapped
