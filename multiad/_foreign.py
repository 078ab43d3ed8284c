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

NOTE [Framework functions and methods in f]: a framework's functions written in C (torch's
``F.linear``, ``torch.sin``) leave no frame of their framework in the traceback: the error
("linear(): argument 'input' ... must be Tensor, not LinearizeTracer") is raised in the frame
of ``f`` itself, and a framework's array method (``x.sin()``, ``y.data``, ``x.at[0]``) fails as an
``AttributeError`` of the selected backend's array, in that frame or in the backend's own code.
Where no frame of another framework is found, the innermost frame outside the selected backend's
framework (the user's code; one of multiad's gives up) is read:
- a ``TypeError`` whose message names the type of one of that frame's values (the traced array
  the framework's function refused), in a frame whose code names a module or function of another
  registered backend's framework (``F``, ``torch``, ``linear`` imported from ``torch.nn.functional``)
  on the failing line (any line, where the source is not known), names that backend;
- an ``AttributeError`` of one of that frame's values (the message names its type), for an
  attribute that the arrays of another backend whose framework is imported already have
  (``torch.Tensor.sin``) and the selected backend's arrays lack, names that backend.
Only the error path pays; a value that is nobody's array attribute (a typo) and errors of
``f``'s own framework pass unchanged.
"""

from __future__ import annotations

import linecache
import re
import sys
import types
from typing import Any

import numpy as np

from . import _registry
from ._backend import Backend
from ._errors import MixedBackendError, an


def foreign_code_error(exc: BaseException, b: Backend, call: str) -> MixedBackendError | None:
    """The error to raise instead of ``exc`` if it came from another backend's framework code."""
    if not isinstance(exc, (TypeError, AttributeError)):
        return None
    own = {b.framework.partition(".")[0], *b.array_modules}
    found = _foreign_frame(exc, own, b) or _removed_frames(exc, own, b)
    if found is None and isinstance(exc, AttributeError):
        return _foreign_method_error(exc, b, call, own)
    if found is None and not str(exc).startswith("unsupported operand type(s)"):
        found = _foreign_function(exc, own, b)
    if found is not None:
        owner, module = found
        return MixedBackendError(
            f"{call}: f calls {owner} code ({module}), which works on {owner}'s own arrays and so "
            f"runs only on the {owner!r} backend, not on {b.name!r}; select backend={owner!r} "
            f"(or multiad.use_backend({owner!r})), or write f with multiad.numpy to run it on every backend"
        )
    if isinstance(exc, TypeError) and str(exc).startswith("unsupported operand type(s)"):
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


def _user_frame(exc: BaseException, own: set[str]) -> tuple[types.FrameType, int] | None:
    """The innermost frame of ``exc``'s traceback outside ``own`` (the selected backend's
    framework) and its line; None where it is one of multiad's (NOTE [Framework functions and
    methods in f])."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        if str(tb.tb_frame.f_globals.get("__name__", "")).partition(".")[0] not in own:
            found = tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next
    if found is None or str(found[0].f_globals.get("__name__", "")).partition(".")[0] == "multiad":
        return None
    return found


def _named_types(message: str, frame: types.FrameType) -> list[Any]:
    """The values of ``frame`` (not modules, functions or classes) whose type ``message`` names."""
    return [
        v
        for v in frame.f_locals.values()
        if not callable(v) and re.search(rf"\b{re.escape(type(v).__name__)}\b", message) is not None
    ]


def _foreign_function(exc: BaseException, own: set[str], b: Backend) -> tuple[str, str] | None:
    """NOTE [Framework functions and methods in f]: the backend of a module or function that the
    user's frame names, where the message names the type of one of the frame's values."""
    found = _user_frame(exc, own)
    if found is None or not _named_types(str(exc), found[0]):
        return None
    frame, line = found[0], linecache.getline(found[0].f_code.co_filename, found[1])
    builtins = frame.f_globals.get("__builtins__")
    for name in frame.f_code.co_names + frame.f_code.co_freevars:
        if line and re.search(rf"\b{name}\b", line) is None:
            continue  # a name the failing line does not use (where its source is known)
        value = frame.f_locals.get(name, frame.f_globals.get(name))
        if value is None or (isinstance(builtins, dict) and name in builtins):
            continue
        module = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
        if (not callable(value) and not isinstance(value, types.ModuleType)) or not isinstance(module, str):
            continue
        owner = _other_backend(module, own, b)
        if owner is not None:
            return owner, module if name == module else f"{name}, from {module}"
    return None


def _arrays_have(backend: Backend, attr: str) -> bool:
    """Whether ``backend``'s concrete arrays have ``attr``; False where it cannot make one."""
    try:
        return hasattr(backend.asarray(np.zeros(1)), attr)
    except Exception:  # noqa: BLE001 - a broken plugin names nothing
        return False


_NO_ATTRIBUTE = re.compile(r"has no attribute '?(\w+)'?")


def _foreign_method_error(exc: AttributeError, b: Backend, call: str, own: set[str]) -> MixedBackendError | None:
    """NOTE [Framework functions and methods in f]: an attribute of another framework's arrays."""
    match = _NO_ATTRIBUTE.search(str(exc))
    found = _user_frame(exc, own)
    if match is None or found is None:
        return None
    attr = match.group(1)
    values = [v for v in _named_types(str(exc).partition(" has no attribute")[0], found[0]) if not hasattr(v, attr)]
    if not values or _arrays_have(b, attr):
        # The selected backend's own arrays have it and only its traced value lacks it (autograd's
        # box has no .item): the backend's own refusal, not another framework's method.
        return None
    owners = [
        other.name
        for other in _registry.load_imported(call)
        if other.name != b.name
        and other.framework.partition(".")[0] not in own
        and other.framework in sys.modules
        and _arrays_have(other, attr)
    ]
    if not owners:
        return None
    owner = owners[0]
    kind = type(values[0]).__name__
    return MixedBackendError(
        f"{call}: f uses .{attr} of an array, which {owner}'s arrays have and the {b.name!r} backend's arrays "
        f"({kind}) do not: f written with {owner}'s array methods runs only on the {owner!r} backend, not on "
        f"{b.name!r}; select backend={owner!r} (or multiad.use_backend({owner!r})), or write f with "
        f"multiad.numpy functions (mnp.{attr}(x) where multiad.numpy has it) to run it on every backend"
    )


def _other_backend(module: str, own: set[str], b: Backend) -> str | None:
    """The registered backend other than ``b`` whose framework ``module`` belongs to, if any
    (``own``: the top-level modules of ``b``'s own framework and arrays)."""
    top = module.partition(".")[0]
    owner = None if top in own else _registry.backend_for_module(top)
    return owner if owner is not None and owner != b.name else None
