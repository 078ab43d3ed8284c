"""Errors from another framework's code inside f, named as such.

NOTE [Foreign framework code]: a function that calls one framework's own code (a torch
``nn.Module``, ``torch.func.functional_call``, ``jax.numpy``, ``autograd.numpy``) cannot run on
another backend: that code receives the selected backend's arrays or tracers and rejects them,
typically with a ``TypeError`` whose message prints the whole traced array. When a
``TypeError`` escapes ``f`` and its traceback passes through a module that owns another
registered backend's arrays (``Backend.array_modules``), the transform raises
:class:`MixedBackendError` naming that backend instead. Only the error path pays for the check,
and no framework is imported by it.

A module of the selected backend's own framework (its ``framework`` or ``array_modules``) is
never foreign, even where another backend claims its arrays: a third-party backend over torch
that leaves torch's arrays to the in-tree backend runs torch code itself, and a ``TypeError``
raised there (by the backend, or by torch code in ``f``, which works on this backend's arrays)
is not a sign that ``f`` needs the other backend; it passes unchanged.

NOTE [Operators on closed-over arrays]: arguments are converted to the backend at the call,
arrays ``f`` closes over are not, and ``x * c`` with ``c`` a torch tensor and ``x`` a JAX tracer
is refused by both frameworks with a bare ``TypeError: unsupported operand type(s)``. Where that
message escapes ``f``, the innermost frame's variables (free variables included, and the
globals its code names) are searched
for an array of another registered backend; one found is named, with its conversion. Only the
error path pays for the search, and the message gates it: other TypeErrors pass unchanged.
"""

from __future__ import annotations

import re

from . import _registry
from ._backend import Backend
from ._errors import MixedBackendError, an


def foreign_code_error(exc: BaseException, b: Backend, call: str) -> MixedBackendError | None:
    """The error to raise instead of ``exc`` if it came from another backend's framework code."""
    if not isinstance(exc, TypeError):
        return None
    own = {b.framework.partition(".")[0], *b.array_modules}
    found = _foreign_frame(exc, own, b) or _removed_frames(exc, own, b)
    if found is not None:
        owner, module = found
        return MixedBackendError(
            f"{call}: f calls {owner} code ({module}), which works on {owner}'s own arrays and so "
            f"runs only on the {owner!r} backend, not on {b.name!r}; select backend={owner!r} "
            f"(or multiad.use_backend({owner!r})), or write f with multiad.numpy to run it on every backend"
        )
    if str(exc).startswith("unsupported operand type(s)"):
        return _closed_over_error(exc, b, call, own)
    return None


def _foreign_frame(exc: BaseException, own: set[str], b: Backend) -> tuple[str, str] | None:
    """The first frame of another backend's framework in the tracebacks of ``exc`` and of the
    exceptions chained to it (a framework may keep its full traceback there: NOTE [Frames a
    framework removed]), as ``(backend, module)``."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending and len(seen) < 8:
        e = pending.pop(0)
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        tb = e.__traceback__
        while tb is not None:
            module = str(tb.tb_frame.f_globals.get("__name__", ""))
            owner = _other_backend(module, own, b)
            if owner is not None:
                return owner, module
            tb = tb.tb_next
        pending += [e.__cause__, e.__context__]
    return None


# NOTE [Frames a framework removed]: JAX removes its own frames from the traceback of an error
# raised in its code (``jax_traceback_filtering``, on by default), so the frame walk of NOTE
# [Foreign framework code] found no JAX frame, and JAX code called on another backend's arrays
# (``jax.numpy`` functions, a ``jax.custom_vjp`` function) raised JAX's bare ``TypeError``. In the
# mode ``remove_frames`` the full traceback is chained to the error (``__cause__``), which the walk
# follows; in the default mode only a note says so ("For simplicity, JAX has removed its internal
# frames ..."): a note naming the framework that removed frames names the backend of that module.
_REMOVED = re.compile(r"\b(\w+) has removed its internal frames")


def _removed_frames(exc: BaseException, own: set[str], b: Backend) -> tuple[str, str] | None:
    """NOTE [Frames a framework removed]."""
    for note in getattr(exc, "__notes__", ()):
        match = _REMOVED.search(str(note))
        if match is not None:
            module = match.group(1).lower()
            owner = _other_backend(module, own, b)
            if owner is not None:
                return owner, f"{module}, whose frames its traceback filtering removed"
    return None


def _closed_over_error(exc: TypeError, b: Backend, call: str, own: set[str]) -> MixedBackendError | None:
    """NOTE [Operators on closed-over arrays]."""
    tb = exc.__traceback__
    if tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    frame = tb.tb_frame
    referenced = [(n, frame.f_globals[n]) for n in frame.f_code.co_names if n in frame.f_globals]
    for name, value in [*frame.f_locals.items(), *referenced]:
        owner = _other_backend(type(value).__module__, own, b)
        if owner is not None:
            return MixedBackendError(
                f"{call}: f combines the {b.name!r} backend's arrays with {name!r}, {an(owner)} array that f "
                f"does not receive as an argument ({exc}); arrays f closes over are not converted: "
                f"convert it first with {name} = multiad.asarray({name}, backend={b.name!r}), or pass it as an argument"
            )
    return None


def _other_backend(module: str, own: set[str], b: Backend) -> str | None:
    """The registered backend other than ``b`` whose framework ``module`` belongs to, if any
    (``own``: the top-level modules of ``b``'s own framework and arrays)."""
    top = module.partition(".")[0]
    owner = None if top in own else _registry.backend_for_module(top)
    return owner if owner is not None and owner != b.name else None
