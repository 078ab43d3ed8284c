"""Which backend a call uses.

NOTE [Selection precedence]: the ``backend=`` argument, then the innermost ``use_backend``
(a ``contextvars.ContextVar``, so each thread and asyncio task sees its own), then
``set_backend`` (the process default), then the ``MULTIAD_BACKEND`` environment variable, then
inference from the argument arrays' types, then the default: multiad's own backends in their
declared priority order (torch, jax, autograd, numpy for the in-tree ones), never a plugin ahead
of them (NOTE [Plugins never take over]). NumPy arrays and Python numbers are neutral: they infer
nothing and are converted to whichever backend is chosen. An array type claimed by two backends
infers nothing either: it raises BackendError naming both until one is selected.

While a transform runs, the backend it resolved is made the context's backend, so transforms
nested inside the user's function use the same one.

NOTE [Compiled regions]: a compiler that traces Python bytecode (``torch.compile``'s Dynamo)
cannot trace ``ContextVar.get``/``set``, and any call it cannot trace splits the compiled graph.
While such a compiler traces a call (a backend's ``compiling`` probe says so), selection reads
only what a compiled program may depend on: the ``backend=`` argument, ``set_backend``, the
environment variable, and the arrays' types (traced tensors infer their framework); the
per-context selection is neither read nor set. The backend is thereby fixed when the program is
traced, outside the compiled region, as the framework's own transforms fix theirs. The compiled
program is traced again when ``backend=``, ``set_backend``'s selection, the registered backends
or the arrays' types change; the environment variable is read when the call is traced, and a
later change of it does not trace the program again (a guard on it would be a guard on every
variable of the process's environment, checked on every call).

NOTE [First use under a compiler]: the first multiad call in a process discovers the backends,
imports their modules, loads the framework's transforms and resolves the core's operations, none of which a compiler can trace;
and until a backend is loaded its ``compiling`` probe cannot answer. So the first
:func:`compiling` of a process runs :func:`_first_use`, which loads multiad's own backends whose
frameworks are imported already. It carries the mark of ``torch.compiler.assume_constant_result``
(set here as an attribute: importing multiad imports no framework), so that a compiler tracing
that first call runs it as ordinary Python instead of tracing it.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from . import _ops, _registry
from ._backend import COMPILING_PROBES, ON_NEW_PROBE, Backend
from ._errors import BackendError, InvalidTypeError, MixedBackendError
from ._ops import traced_now

ENV_VAR = "MULTIAD_BACKEND"
T = TypeVar("T")

# os.environ's own table, read without os.environ's per-lookup encoding: the variable is read on
# every call (it may change while the program runs). Not every Python has it: then os.environ.
_environ: dict[Any, Any] | None = getattr(os.environ, "_data", None)
_ENV_KEY: Any = os.environ.encodekey(ENV_VAR) if _environ is not None and hasattr(os.environ, "encodekey") else None
if _ENV_KEY is None:
    _environ = None
#: The raw value of the environment variable now (None where unset), read without a Python frame.
env_value: Callable[[], Any] = (
    functools.partial(os.environ.get, ENV_VAR) if _environ is None else functools.partial(_environ.get, _ENV_KEY)
)
_context: contextvars.ContextVar[Backend | None] = contextvars.ContextVar("multiad_backend", default=None)
_default: Backend | None = None
_default_lock = threading.Lock()
_NEUTRAL = "<neutral>"
_CONTESTED = "<contested>"
_type_owner: dict[type, str] = {}  # cleared whenever the registry changes (a stale owner would be wrong)
_registry.on_change.append(_type_owner.clear)


def _new_state() -> None:
    """After a change of the registry: NOTE [One guard for the state of selection] in multiad/_registry.py."""
    with _default_lock:
        _registry.new_state(_default)


_registry.on_change.append(_new_state)


def _fresh_locks() -> None:
    """In a fork child, before the registry's hooks run: NOTE [Loads cut short by fork] in multiad/_registry.py."""
    global _default_lock, _open_lock
    _default_lock, _open_lock = threading.Lock(), threading.Lock()


_registry.on_fork.append(_fresh_locks)


def _lookup(name_or_backend: str | Backend, call: str) -> Backend:
    if isinstance(name_or_backend, Backend):
        return name_or_backend
    if not isinstance(name_or_backend, str):
        raise InvalidTypeError(
            f"{call}: backend must be a name such as 'torch' or a multiad.Backend, got {type(name_or_backend).__name__}"
        )
    return _registry.get(name_or_backend, call)


def set_backend(name: str | Backend | None) -> None:
    """Sets the process-wide default backend (``None`` clears it).

    ``use_backend`` and the ``backend=`` argument of a call take precedence over it.

    Example:
        >>> import multiad
        >>> multiad.set_backend("numpy")
        >>> multiad.get_backend().name
        'numpy'
        >>> multiad.set_backend(None)
    """
    global _default
    backend = None if name is None else _lookup(name, f"set_backend({name!r})")
    with _default_lock:
        _default = backend
        _registry.new_state(backend)  # NOTE [One guard for the state of selection] in multiad/_registry.py


# NOTE [Blocks that end out of order]: ``use_backend`` blocks usually end in the order they
# began, and then leaving one is ``ContextVar.reset``. But two generators that each yield inside a
# ``use_backend`` block, advanced in turn, end their blocks in the order they finish, and a block
# entered by hand (``__enter__``/``__exit__``, an ``ExitStack``) can end before one begun inside
# it. ``reset`` alone then restores a stale selection: with blocks A (jax) and B (autograd) begun
# in that order, leaving A first went back to no selection while B was still open, and leaving B
# then selected jax for the rest of the thread, after every block had ended. So each context also
# keeps the list of its open blocks, each with the selection it found; a block that ends leaves
# the list, and the block begun just after it inherits what it found: the selection in force is
# always the innermost open block's (or what was in force before the first), and nothing outlives
# its block. The same object may be entered again while open (nested ``with b: with b:``), each
# entry a block of its own; a block left in a context that never entered it (a generator
# finished in another thread) changes nothing there. Each object also counts its open entries
# over all contexts: leaving it more often than it was entered (``__exit__`` twice, or without
# ``__enter__``) raises, where before it was silently accepted.
#
# NOTE [Blocks left in another context]: a context variable belongs to its thread or asyncio task,
# so a block entered in one and left in another (a generator holding it, advanced by one thread
# and finished or closed by another) is left where it was not entered, which changes nothing
# there, and stays in force where it was entered, as ``decimal.localcontext`` does. The exit is
# not refused: a context that never entered the block is also where a block entered in a copy of
# a context ends (anyio runs each ``next`` of a synchronous generator in a fresh copy of the
# task's context, asyncio its callbacks), and that is not an error. It still counts as leaving
# the object once; before, the count then said the block was not open in the context that had
# entered it, whose own ``__exit__`` raised, so it could not leave the block at all. A block found
# open in this context is always left. The docs say to finish such a generator in the thread or
# task that started it.
_open_lock = threading.Lock()
_blocks: contextvars.ContextVar[tuple[tuple[Any, Backend, Backend | None], ...]] = contextvars.ContextVar(
    "multiad_backend_blocks", default=()
)


class use_backend(contextlib.ContextDecorator):
    """Selects a backend for the enclosed block, in this thread or asyncio task only.

    Blocks nest; leaving one restores the selection that was in force before it. Blocks that end
    out of order (generators that yield inside one, advanced in turn) leave the innermost block
    still open in force, and nothing outlives its block in the thread or task that entered it. A
    generator holding a block must be finished or closed in the thread or task that started it:
    finished elsewhere, it leaves the block there, and the first keeps the block's selection.

    Example:
        >>> import multiad
        >>> with multiad.use_backend("numpy") as b:
        ...     b.name, multiad.get_backend().name
        ('numpy', 'numpy')
    """

    __slots__ = ("_backend", "_open")

    def __init__(self, name: str | Backend) -> None:
        self._backend = _lookup(name, f"use_backend({name!r})")
        self._open = 0

    def __enter__(self) -> Backend:
        backend = self._backend
        blocks = _blocks.get()
        _blocks.set((*blocks, (self, backend, _context.get())))
        _context.set(backend)
        with _open_lock:
            self._open += 1
        return backend

    def __exit__(self, *exc: object) -> None:
        blocks = _blocks.get()
        for i in range(len(blocks) - 1, -1, -1):
            if blocks[i][0] is self:
                break
        else:
            i = -1
        with _open_lock:
            if self._open == 0 and i < 0:
                raise RuntimeError(
                    f"multiad.use_backend({self._backend.name!r}).__exit__: this block is not open (it was "
                    "never entered, or has ended already); call __exit__ once for each __enter__, or use "
                    "a with statement"
                )
            self._open = max(self._open - 1, 0)  # NOTE [Blocks left in another context]
        if i < 0:
            return  # entered in another context: nothing to undo here
        found = blocks[i][2]
        if i == len(blocks) - 1:  # the innermost block: back to what it found
            _blocks.set(blocks[:i])
            _context.set(found)
        else:  # a block begun inside this one is open: it keeps the selection, and inherits what this one found
            owner, backend, _ = blocks[i + 1]
            _blocks.set((*blocks[:i], (owner, backend, found), *blocks[i + 2 :]))


_ready = False


def _never() -> bool:
    return False


def _all_probes() -> bool:
    """:func:`compiling` before the first use, or with several probes: every probe is asked."""
    if not _ready:
        _first_use()
    if traced_now():
        return True
    if not _ready:  # not traced: the first use is over (NOTE [First use traced twice])
        _done()
    return False


# NOTE [The probe run as ordinary Python]: traced, :func:`_all_probes` read ``_ready``, the code of
# ``_first_use`` and ``traced_now``, the list of probes and each probe's code, and the compiler
# guarded each (about 20 lines of guards on every compiled call of a program whose multiad calls
# are all compiled, where the first use is never declared over). It carries the compiler's
# constant-result mark: run as ordinary Python while a compiler traces, it loads the backends and
# asks the probes as it does outside (torch's probe answers True while torch.compile compiles,
# which the torch backend's own probe relies on too), never declares the first use over there (a
# probe answers True), and takes the same path in every pass of a trace (NOTE [First use traced
# twice]); the trace guards only that ``PROBE[0]`` is this function.
setattr(_all_probes, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


# NOTE [One compiler probe]: :func:`compiling` runs on every call of a transform, most often with
# one probe registered (torch's). ``PROBE[0]`` is what compiling() calls: :func:`_all_probes`
# until the first use is done, then that one probe (``_never`` where no backend class defines
# one), asked without walking the list; a new probe (a plugin's backend class defined later)
# resets it through ON_NEW_PROBE, and with several probes it is :func:`_all_probes` again. Hot
# paths call ``PROBE[0]()`` themselves, which saves compiling()'s own frame. A list, not a global
# holding the probe: torch.compile cannot guard a global that holds a bound method.
PROBE: list[Callable[[], bool]] = [_all_probes]


def _new_probe() -> None:
    """Sets ``PROBE[0]`` after the first use or a change of COMPILING_PROBES."""
    n = len(COMPILING_PROBES)
    PROBE[0] = _all_probes if not _ready or n > 1 else COMPILING_PROBES[0] if n else _never


ON_NEW_PROBE.append(_new_probe)


def _first_use() -> bool:
    """Loads the backends of the frameworks imported already (NOTE [First use under a compiler]);
    again a no-op. It leaves ``_ready`` and ``PROBE`` to :func:`_done` (NOTE [First use traced twice])."""
    for b in _registry.load_imported("multiad"):
        _ops.prepare(b)  # NOTE [Operations resolved eagerly]
    return True


def load_imported(cls: type[Backend]) -> bool:
    """``Backend.load_imported``: :func:`_first_use`, and the backends of class ``cls`` loaded
    with their operations resolved (NOTE [First use under a compiler]). True."""
    _first_use()
    if cls is not Backend:
        for b in _registry.load_class(cls, "multiad"):
            _ops.prepare(b)  # NOTE [Operations resolved eagerly]
    return True


setattr(load_imported, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


# NOTE [First use traced twice]: Dynamo traces a frame again from its start after a graph break
# (or another restart) and requires the second pass to take the same path as the first (its
# speculation log). ``_first_use`` runs as ordinary Python during the first pass, so what it
# changes is changed for the second: where it set ``_ready`` and the shortcut ``PROBE[0]``, the
# second pass skipped the call the first had made, and the first multiad call of a process,
# compiled with a graph break after it, raised SpeculationLogDivergence. The first use is
# therefore declared over only by a call that no probe says is traced (``_done``, from
# :func:`_all_probes`); until then every traced call runs ``_first_use`` again, which loads
# nothing twice. A program that has run only traced calls keeps asking every probe while it
# traces, and the first call outside a compiler takes the shortcut.
def _done() -> None:
    """Marks the first use over and takes the shortcut of NOTE [One compiler probe]."""
    global _ready
    _ready = True
    _new_probe()


setattr(_first_use, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


def compiling() -> bool:
    """Whether a compiler that traces Python is tracing this call (NOTE [Compiled regions])."""
    return PROBE[0]()  # NOTE [One compiler probe]


def selected(call: str = "get_backend()", traced: bool | None = None) -> Backend | None:
    """The backend chosen by context, default or environment, without looking at arrays;
    ``traced`` is :func:`compiling` where the caller knows it already."""
    if traced is None:
        traced = compiling()
    backend = None if traced else _context.get()
    if backend is not None:
        return backend
    if _default is not None:
        return _default
    env = _env_when_traced() if traced else env_value()
    if env:
        env = env.decode() if isinstance(env, bytes) else env
        return _registry.get(env, f"{call} (from ${ENV_VAR}={env!r})")
    return None


def _env_when_traced() -> Any:
    """The environment variable's raw value, read as ordinary Python while a compiler traces
    (the mark below): the value when the call is traced (NOTE [Compiled regions]), with no
    guard on the process's whole environment."""
    return env_value()


setattr(_env_when_traced, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


def selection() -> Any:
    """The selection in force as given, for keys (NOTE [Prepared calls] in ``multiad/_prepared.py``):
    the innermost :func:`use_backend`'s backend, else :func:`set_backend`'s, else the raw value of
    the environment variable, else None. Never while a compiler traces (:func:`compiling`)."""
    backend = _context.get()
    if backend is not None:
        return backend
    if _default is not None:
        return _default
    return env_value()


def get_backend() -> Backend:
    """The backend a call without arrays would use now: the selection in force (the innermost
    :func:`use_backend`, else :func:`set_backend`, else the ``MULTIAD_BACKEND`` environment
    variable), else the first available backend in priority order, multiad's own before plugins.

    Example:
        >>> import multiad
        >>> with multiad.use_backend("numpy"):
        ...     multiad.get_backend().name
        'numpy'
    """
    backend = selected()
    if backend is not None:
        return backend
    return _registry.get(_default_loaded(), "get_backend()")


def _default_loaded() -> str:
    """The default backend's name, that backend loaded: the registry's discovery and locks run
    here, as ordinary Python while a compiler traces (the mark below, NOTE [First use under a
    compiler]), so that a creation function such as ``mnp.zeros`` in compiled code finds the
    loaded backend by one lookup."""
    name = _registry.default_name("get_backend()")
    _registry.get(name, "get_backend()")
    return name


setattr(_default_loaded, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


def owner_of(x: Any, call: str = "multiad", prefer: str | None = None) -> str | None:
    """The backend name that owns ``x``'s type, or None for numpy arrays, numbers and others.

    A type claimed by several backends (NOTE [Plugins never take over]) belongs to ``prefer`` or
    to the selected backend when that is one of the claimants; otherwise this raises BackendError.
    """
    return owner_of_type(type(x), call, prefer)


def owner_of_type(t: type, call: str = "multiad", prefer: str | None = None) -> str | None:
    """:func:`owner_of` of an object of type ``t``. The answer is kept in the table of owners
    except while a compiler traces (NOTE [Tables a trace reads and does not fill] in
    ``multiad/_ops.py``; NOTE [Decisions change nothing the trace reads] in
    ``multiad/_prepared_traced.py``)."""
    owner = _type_owner.get(t)
    if owner is None:
        if t is int:  # NOTE [Symbolic ints in a trace] in multiad/_prepared_traced.py
            return None
        top = t.__module__.partition(".")[0]
        if top in _registry.NEUTRAL_MODULES:  # neutral: no plugin needs to be imported
            owner = _NEUTRAL
            if not traced_now():
                _type_owner[t] = owner
        else:
            claimants, gen = _registry.claims(top)
            owner = claimants[0] if len(claimants) == 1 else _CONTESTED if claimants else _NEUTRAL
            if not traced_now():  # after claims() imported the plugins: NOTE [Probes defined before a trace asks them]
                _registry.remember(_type_owner, t, owner, gen)  # not if the registry changed meanwhile
    if owner is _CONTESTED:
        return _contested_owner(t, call, prefer)
    return None if owner is _NEUTRAL else owner


def owner_of_contested(t: type, call: str) -> str:
    """The selected backend among those claiming ``t`` (several), else raises BackendError."""
    return _contested_owner(t, call, None)


def _contested_owner(t: type, call: str, prefer: str | None) -> str:
    claimants = _registry.owners(t.__module__.partition(".")[0])
    if prefer in claimants:
        return prefer
    chosen = selected(call)
    if chosen is not None and chosen.name in claimants:
        return chosen.name
    what = f"{t.__module__.partition('.')[0]} arrays ({t.__name__})"
    raise BackendError(_registry.contested_message(call, what, claimants))


def infer(leaves: Iterable[Any], call: str) -> str | None:
    """The backend the arrays belong to; raises if they belong to two."""
    return infer_types(map(type, leaves), call)


def infer_types(types: Iterable[type], call: str) -> str | None:
    """:func:`infer` of arrays of ``types``."""
    found: str | None = None
    for t in types:
        owner = owner_of_type(t, call)
        if owner is not None and owner != found:
            if found is not None:
                raise MixedBackendError(
                    f"{call}: arrays of two backends in one call, {found!r} and {owner!r}; "
                    f"convert them with multiad.asarray(x, backend=...) first"
                )
            found = owner
    return found


def chosen(backend: str | Backend | None, call: str, traced: bool) -> Backend | None:
    """The backend named by ``backend=`` or selected in force, without looking at arrays."""
    return selected(call, traced) if backend is None else _lookup(backend, call)


def resolve(backend: str | Backend | None, leaves: Iterable[Any], call: str) -> Backend:
    """The backend for a call, following the precedence in NOTE [Selection precedence]."""
    return resolve_types(backend, map(type, leaves), call)


def resolve_types(
    backend: str | Backend | None,
    types: Iterable[type],
    call: str,
    traced: bool | None = None,
) -> Backend:
    """:func:`resolve` for arrays of ``types``; ``traced`` as for :func:`selected`."""
    if backend is not None:
        return _lookup(backend, call)
    chosen = selected(call, traced)
    if chosen is not None:
        return chosen
    name = infer_types(types, call) or _registry.default_name(call)
    return _registry.get(name, call)


def run_in(backend: Backend, traced: bool, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` with ``backend`` the context's backend, as :class:`active` does, in one call;
    ``traced`` is :func:`compiling`."""
    if traced or _context.get() is backend:
        return fn(*args)
    token = _context.set(backend)
    try:
        return fn(*args)
    finally:
        _context.reset(token)


def enter(backend: Backend) -> contextvars.Token[Backend | None] | None:
    """Makes ``backend`` the context's backend; the token for :func:`leave`. Set outright, even
    where the selection in force names it already: nested calls resolve to it either way, and
    asking costs as much as setting (NOTE [Context set outright] in ``multiad/_api_ad.py``). Not
    while a compiler traces (:func:`compiling`)."""
    return _context.set(backend)


def leave(token: contextvars.Token[Backend | None]) -> None:
    """Undoes :func:`enter`."""
    _context.reset(token)


class active:
    """Makes ``backend`` the context's backend while a transform runs (for nested calls).

    A small class rather than ``contextlib.contextmanager``: it runs on every transform call.
    """

    __slots__ = ("_backend", "_token", "_traced")

    def __init__(self, backend: Backend, traced: bool | None = None) -> None:
        self._backend = backend
        self._token: contextvars.Token[Backend | None] | None = None
        self._traced = traced  # compiling(), where the caller knows it already

    def __enter__(self) -> None:
        traced = compiling() if self._traced is None else self._traced
        if not traced and _context.get() is not self._backend:
            self._token = _context.set(self._backend)

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _context.reset(self._token)
            self._token = None
