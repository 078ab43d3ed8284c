"""The backend registry: entry points, run-time registration, status and lazy loading.

NOTE [Plugins never break multiad]: backends are found through the ``multiad.backends``
entry-point group, read with the standard library's ``importlib.metadata`` (the ``entrypoints``
package is in maintenance mode). The in-tree backends are registered the same way, so the core
names no backend. Reading the group imports nothing; a plugin's module is imported only when
that backend is needed (see NOTE [What loads a plugin]). A plugin that fails to import (any
exception, ``SystemExit`` included, see NOTE [Interrupts from plugins]), is not a backend, makes
invalid declarations, declares another plugin API version or is registered twice by two
distributions is *listed* with its status and reason; only selecting it raises, with an error
naming it and the cause. Identical entry points seen twice (editable installs can report one
twice) are counted once.

NOTE [What loads a plugin]: selecting a backend by name (``backend=``, ``use_backend``,
``set_backend``, ``$MULTIAD_BACKEND``) imports that plugin's module only. Choosing the default
for NumPy inputs imports multiad's own backends (see NOTE [Plugins never take over]), and
plugins only when none of those is available. Inferring the backend from an array of another
type, and listing backends, import every plugin once per process, because every plugin's claims
must be known to detect a conflict. So a plugin whose import is slow delays those calls, and
only those; a plugin that fails is recorded as broken and skipped.

NOTE [Plugins never take over]: installing a plugin never changes which backend runs code that
already worked.

- Array types: a backend claims arrays through ``array_modules``. A module claimed by two
  available backends is a *conflict*: both records carry it in ``conflicts`` (listed by
  ``list_backends()`` and ``python -m multiad backends``), and inferring the backend from such an
  array raises BackendError naming the claimants until one is selected. An explicit selection
  always works. Discovery order never decides.
- Priorities: when nothing selects a backend and the arrays do not tell (NumPy arrays, Python
  numbers), multiad uses multiad's own backends first, the distributions its extras install
  (``multiad[torch]``, ``multiad[jax]``, ...), ordered by their ``priority``. A plugin's priority
  orders it only in listings: it never ranks a plugin ahead of multiad's own backends, and it
  does not pick among plugins either. With none of multiad's own backends available, a single
  available plugin is the default, and several raise BackendError until one is selected (a
  second plugin installed later would otherwise change the default silently). Where multiad's
  own distribution metadata cannot be read (an uninstalled source tree), every entry-point
  backend counts as multiad's own and priority alone orders them. A backend registered with
  ``register_backend(..., replace=True)`` takes the rank of the one it replaces; other run-time
  registrations rank as plugins.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import importlib.metadata

from ._backend import Backend
from ._errors import BackendError
from ._guard import guarded
from ._validate import AVAILABLE as AVAILABLE
from ._validate import BROKEN as BROKEN
from ._validate import INCOMPATIBLE as INCOMPATIBLE
from ._validate import NEUTRAL_MODULES as NEUTRAL_MODULES
from ._validate import NOT_INSTALLED as NOT_INSTALLED
from ._validate import validate as validate

GROUP = "multiad.backends"
DUPLICATED = "duplicated"

_HOW_TO_SELECT = "backend=..., multiad.use_backend, multiad.set_backend or $MULTIAD_BACKEND"


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
    #: One line per array module this backend claims that another available backend claims too.
    conflicts: tuple[str, ...] = field(default=(), compare=False)
    #: Whether it is one of multiad's own backends (see NOTE [Plugins never take over]).
    first_party: bool = field(default=False, compare=False)


@dataclass
class _Entry:
    """An entry point read from metadata, not imported yet."""

    name: str
    eps: list[importlib.metadata.EntryPoint]
    dists: list[tuple[str | None, str | None]]
    first_party: bool
    lock: threading.RLock = field(default_factory=threading.RLock)


_lock = threading.RLock()  # guards the tables below; never held while a plugin runs
_records: dict[str, BackendRecord] = {}
_entries: dict[str, _Entry] = {}  # entry points not imported yet
_discovered = False
_module_map: dict[str, str] = {}  # top-level array module name -> the one backend claiming it
_contested: dict[str, tuple[str, ...]] = {}  # array module -> the backends claiming it
_load_locks: dict[str, threading.RLock] = {}
#: The backends whose plugin import or framework load a thread is running now: which, and the
#: thread's id (NOTE [Loads cut short by fork]).
_loading: dict[str, tuple[str, int]] = {}
_IMPORTING, _LOADING = "importing its plugin module", "loading its framework"
_default: list[str] = []  # the cached default backend name (empty: not computed)
# Bumped before and after every change (odd while the tables are rebuilt), so that readers
# without the lock can tell a consistent read, and a cached answer computed meanwhile is dropped.
_generation = [0]
#: Called after every change of the table (the selection layer clears its type cache).
on_change: list[Callable[[], None]] = []
#: Called first in a fork child (the selection layer replaces its locks): NOTE [Loads cut short by fork].
on_fork: list[Callable[[], None]] = []


# NOTE [One guard for the state of selection]: a traced call (NOTE [Prepared calls under a
# compiler] in ``multiad/_prepared_traced.py``) decides from ``set_backend``'s selection and this
# table's generation, and the compiler guards what the trace reads: read as they are (a function
# returning the selection, the generation list and its item), they cost 13 guard lines, checked
# on every compiled call. The trace reads :data:`state` instead, one object for the pair, which
# the selection layer replaces whenever either changes (``set_backend``, and an ``on_change``
# hook after every change of this table): one identity guard. The same pair gives back the same
# object (a selection set and unset traces again only where the table changed meanwhile), and
# every object made is kept, so that no later one takes the identity of a freed one.
#
# NOTE [The backends on the state]: a traced call then takes the backend its decision names from
# the state it read, not from this table: ``_records[name].backend`` was the table, the record
# and its ``backend``, three attributes of the trace (6 guard lines on every compiled call), where
# an attribute of the state is one (2). Each state holds, as the attribute ``BACKEND + name``
# (a prefix no Python name has, so that no backend's name can be ``default`` or
# ``generation``), the backend of every record of the table as it was when the state was made;
# a record's backend is never replaced but by a change of the table, which makes a new state.
# The states kept keep the backends of their tables alive.
#: The prefix of the state's attribute for each backend (NOTE [The backends on the state]).
BACKEND = "backend "


class State:
    """The selection made by ``set_backend`` and the table's generation, as one object, with the
    table's backends as attributes (NOTE [The backends on the state])."""

    def __init__(self, default: Backend | None, generation: int) -> None:
        self.default, self.generation = default, generation
        for rec in list(_records.values()):
            if rec.backend is not None:
                setattr(self, BACKEND + rec.name, rec.backend)


#: What traced calls read of the selection and the table (NOTE [One guard for the state of selection]).
state = State(None, 0)
_states: dict[tuple[int, int], State] = {(id(None), 0): state}


def new_state(default: Backend | None) -> None:
    """Sets :data:`state` for ``default`` and the generation now (NOTE [One guard for the state of selection])."""
    global state
    key = (id(default), _generation[0])
    st = _states.get(key)
    if st is None:
        st = _states[key] = State(default, key[1])
    state = st


def _normalize(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def _own_distributions() -> frozenset[str] | None:
    """Distributions multiad's own metadata requires (extras included); None if unreadable."""
    import importlib.metadata

    try:
        reqs = importlib.metadata.requires("multiad") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    names = (re.match(r"[A-Za-z0-9._-]+", req) for req in reqs)
    return frozenset(_normalize(m.group(0)) for m in names if m)


def _dist(ep: importlib.metadata.EntryPoint) -> tuple[str | None, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    return dist.metadata["Name"], dist.version


def _discover() -> None:
    """Reads the entry-point group; imports no plugin."""
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
        own = _own_distributions()
        _entries.clear()
        for name, eps in sorted(seen.items()):
            if name in _records:  # registered at run time before discovery: that one wins
                continue
            dists = [_dist(ep) for ep in eps]
            first = own is None or all(d is not None and _normalize(d) in own for d, _ in dists)
            _entries[name] = _Entry(name, eps, dists, first)
        _discovered = True


def _build(entry: _Entry) -> BackendRecord:
    """Imports one entry point and validates what it gives (no lock held: plugins run here)."""
    name, first = entry.name, entry.first_party
    if len(entry.eps) > 1:
        sources = ", ".join(f"{d[0]} ({ep.value})" for d, ep in zip(entry.dists, entry.eps))
        reason = f"registered by several distributions: {sources}; uninstall all but one"
        return BackendRecord(name, DUPLICATED, reason, source=sources, first_party=first)
    ep = entry.eps[0]
    dist, version = entry.dists[0]
    obj, exc = guarded(ep.load)
    if exc is not None:
        reason = f"importing {ep.value!r} raised {type(exc).__name__}: {exc}" + shadowed(ep.module, exc)
        return BackendRecord(name, BROKEN, reason, dist, version, ep.value, first_party=first)
    backend, status, reason = validate(obj, name)
    if reason:
        reason = f"{ep.value!r} of distribution {dist!r}: {reason}"
    return BackendRecord(name, status, reason, dist, version, ep.value, backend, first_party=first)


# NOTE [Shadowed plugin modules]: a plugin author who runs a script from the directory that holds
# the plugin's project (a folder named like its module, with the module file inside it, or a
# source tree without ``__init__.py``) has that folder on ``sys.path`` first; Python imports it
# as a namespace package ahead of the installed module, and the entry point's object is missing:
# "module 'multiad_tf' has no attribute 'TFBackend'". The reason now says so when the module
# imported is a namespace package, with where it came from and the fix.
def shadowed(module: str, exc: BaseException) -> str:
    """The likely cause of ``exc`` when ``module`` was imported as a namespace package; else ""."""
    if not isinstance(exc, (AttributeError, ImportError)):
        return ""
    mod = sys.modules.get(module)
    if mod is None or getattr(mod, "__file__", None) is not None or not hasattr(mod, "__path__"):
        return ""
    where = ", ".join(str(p) for p in mod.__path__)
    return (
        f" ({module!r} was imported as a namespace package from {where}: a directory named {module} "
        "without __init__.py on sys.path, such as the current directory, shadows the installed module; "
        "run from another directory, or give the plugin a src/ layout)"
    )


def _resolve(name: str) -> BackendRecord | None:
    """The record of ``name``, importing its entry point if that has not happened yet."""
    rec = _records.get(name)
    if rec is not None:
        return rec
    entry = _entries.get(name)
    if entry is None:
        return None
    with entry.lock:  # one import per plugin; a slow one blocks only the callers that need it
        rec = _records.get(name)
        if rec is not None or _entries.get(name) is not entry:
            return _records.get(name)
        _loading[name] = (_IMPORTING, threading.get_ident())  # NOTE [Loads cut short by fork]
        try:
            rec = _build(entry)
            with _lock:
                if _entries.get(name) is entry:
                    del _entries[name]
                    _records[name] = rec
                    _changed()
                return _records.get(name)
        finally:
            _loading.pop(name, None)


def _resolve_all() -> None:
    _discover()
    for name in list(_entries):
        _resolve(name)


def all_imported() -> bool:
    """Imports every plugin not imported yet, as ordinary Python while a compiler traces (the
    first inference from an array type may come there: NOTE [Backends loaded under a
    compiler]); the trace reads none of the tables it changes before. True."""
    if _entries or not _discovered:
        _resolve_all()
    return True


setattr(all_imported, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


def _changed() -> None:
    """Recomputes array-module claims and conflicts; called with ``_lock`` held."""
    _generation[0] += 1
    claims: dict[str, list[BackendRecord]] = {}
    for rec in _records.values():
        if rec.status == AVAILABLE and rec.backend is not None:
            for mod in rec.backend.array_modules:
                claims.setdefault(mod, []).append(rec)
    _module_map.clear()
    _contested.clear()
    conflicts: dict[str, list[str]] = {}
    for mod, recs in sorted(claims.items()):
        if len(recs) == 1:
            _module_map[mod] = recs[0].name
            continue
        names = tuple(sorted(r.name for r in recs))
        _contested[mod] = names
        for r in recs:
            others = " and ".join(repr(n) for n in names if n != r.name)
            conflicts.setdefault(r.name, []).append(f"{mod} arrays are also claimed by {others}")
    for rec in _records.values():
        rec.conflicts = tuple(conflicts.get(rec.name, ()))
    _default.clear()
    _generation[0] += 1
    for hook in on_change:
        hook()


def _key(r: BackendRecord) -> tuple[bool, bool, int, str]:
    return (r.status != AVAILABLE, not r.first_party, r.backend.priority if r.backend else 1000, r.name)


def records() -> list[BackendRecord]:
    """All known backends (importing every plugin), available ones first: multiad's own by
    priority, then plugins (see NOTE [Plugins never take over])."""
    _resolve_all()
    with _lock:
        recs = list(_records.values())
    return sorted(recs, key=_key)


def record(name: str) -> BackendRecord | None:
    """The record of ``name`` alone, importing no other plugin; None if unknown."""
    _discover()
    return _resolve(name)


def register(name: str, obj: Any, *, replace: bool = False) -> Backend:
    """Registers a backend object (or class) at run time under ``name``."""
    if not isinstance(name, str) or not name:
        raise BackendError(f"register_backend({name!r}, ...): the name must be a non-empty string")
    call = f"register_backend({name!r}, ...)"
    _discover()
    old, entry = _records.get(name), _entries.get(name)
    if (old is not None or entry is not None) and not replace:
        dist = old.distribution if old is not None else entry.dists[0][0] if entry is not None else None
        where = dist or "register_backend"
        raise BackendError(
            f"{call}: a backend named {name!r} is already registered (from {where}); pass replace=True to replace it"
        )
    backend, status, reason = validate(obj, name)
    if backend is None or status != AVAILABLE:
        raise BackendError(f"{call}: {reason}")
    with _lock:
        entry = _entries.pop(name, None)
        prev = _records.get(name)
        first = bool((prev is not None and prev.first_party) or (entry is not None and entry.first_party))
        _records[name] = BackendRecord(name, AVAILABLE, "", None, None, "register_backend", backend, first_party=first)
        _changed()
    return backend


def available_names() -> list[str]:
    return [r.name for r in records() if r.status == AVAILABLE]


def _load_lock(name: str) -> threading.RLock:
    lock = _load_locks.get(name)
    if lock is None:
        with _lock:
            lock = _load_locks.setdefault(name, threading.RLock())
    return lock


def get(name: str, call: str = "multiad") -> Backend:
    """The loaded backend called ``name``; raises BackendError naming it and the cause.

    Imports only this backend's plugin module (see NOTE [What loads a plugin]).
    """
    rec = _records.get(name)
    if rec is not None and rec.loaded:  # the hot path: one dict lookup, no lock
        assert rec.backend is not None
        return rec.backend
    problem = _load(name, call)  # NOTE [Backends loaded under a compiler]
    if problem:
        raise BackendError(problem) from _load_causes.pop(name, None)
    rec = _records[name]
    assert rec.backend is not None
    return rec.backend


# NOTE [Backends loaded under a compiler]: a backend is loaded by its first lookup, and plugins
# are imported by the first inference from an array type, either of which may come while
# torch.compile traces: multiad's own backends are loaded before (NOTE [First use under a
# compiler] in ``multiad/_select.py``), a plugin only when a call names or infers it. Traced,
# the registry's locks split the graph, and the frames resumed after the split got the tree
# structures the compiler had made with its stand-in for optree and passed them to optree itself:
# the first compiled ``jvp`` raised "Expected a(n) tuple of PyTreeSpec(s)" from multiad's
# argument handling, on a plugin declaring torch.compile (before the plugin ran), and on the
# torch backend where some plugin was installed and not imported yet (an eager call first hid
# both). Loading and importing the plugins therefore run as ordinary Python (the marks below),
# called before the trace reads the tables they change; the load answers a string, which a
# compiler takes as a constant: "" when loaded, else the error, raised by :func:`get` with its
# cause kept aside.
def _load(name: str, call: str) -> str:
    """Loads ``name`` (importing its plugin module first); "" or why it cannot be loaded."""
    _discover()
    rec = _resolve(name)
    if rec is None:
        avail = ", ".join(available_names()) or "none"
        return f"{call}: unknown backend {name!r}; available backends: {avail}"
    with _load_lock(name):
        if rec.status != AVAILABLE:
            return f"{call}: backend {name!r} is {rec.status}: {rec.reason}"
        assert rec.backend is not None
        if not rec.loaded:
            _loading[name] = (_LOADING, threading.get_ident())  # NOTE [Loads cut short by fork]
            try:
                _, exc = guarded(rec.backend.load)
            finally:
                _loading.pop(name, None)
            if exc is not None:
                with _lock:
                    rec.status, rec.reason = BROKEN, f"loading its framework raised {type(exc).__name__}: {exc}"
                    _changed()
                _load_causes[name] = exc
                return f"{call}: backend {name!r} is broken: {rec.reason}"
            rec.loaded = True
    return ""


setattr(_load, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark
#: The exception behind a failed load, for :func:`get` to chain (a compiler takes only a string back).
_load_causes: dict[str, BaseException] = {}


# NOTE [Loads cut short by fork]: ``os.fork`` (multiprocessing's "fork" start method, torch
# DataLoader workers) copies the registry's locks as they are, held where another thread was
# importing a plugin or loading its framework at that moment; that thread does not exist in the
# child, which then waited forever for it: on that backend, and on every backend at the first
# use, which imports all of multiad's own. The child gets fresh locks. What the thread had begun
# is not finished in the child, and cannot be begun again safely: a plugin module half imported
# is in ``sys.modules`` with Python's import lock for it held (importing it again waits forever
# too), and a framework load cut short anywhere has left its state half made. So a backend whose
# import or load was under way is broken in the child, with a reason naming the cause and the
# fix (use it once before forking, or start the workers with "spawn" or "forkserver"); every
# other backend works there as in the parent. A fork in the middle of a change of the tables
# (held under ``_lock``, which no plugin code runs under) recomputes what that change derives.
def _after_fork_in_child() -> None:
    """Fresh locks, and the loads another thread had under way broken (NOTE [Loads cut short by fork])."""
    global _lock
    _lock = threading.RLock()
    for hook in on_fork:
        hook()
    _load_locks.clear()
    for pending in _entries.values():
        pending.lock = threading.RLock()
    me = threading.get_ident()  # the thread that forked goes on in the child: its own load is not cut
    cut = {name: what for name, (what, thread) in _loading.items() if thread != me}
    changed = bool(_generation[0] % 2)
    for name in cut:
        del _loading[name]
    if changed:  # forked while _changed ran: even again, then recomputed
        _generation[0] += 1
    for name, what in cut.items():
        entry = _entries.pop(name, None)
        rec = _records.get(name)
        reason = (
            f"another thread was {what} when this process was forked (os.fork, or multiprocessing's "
            "'fork' start method), and that thread does not exist here: the half-finished load cannot be "
            "finished or trusted in this process; use the backend once before forking, or start the "
            "child processes with the 'spawn' or 'forkserver' start method"
        )
        if rec is None and entry is not None:
            dist, version = entry.dists[0]
            _records[name] = BackendRecord(
                name, BROKEN, reason, dist, version, entry.eps[0].value, first_party=entry.first_party
            )
        elif rec is not None:
            rec.status, rec.reason, rec.loaded = BROKEN, reason, False
        changed = True
    if changed:
        _changed()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)


def first_party_imported() -> bool:
    """Imports the modules of multiad's own backends, not loading them (no framework is imported)
    and no other plugin (NOTE [What loads a plugin]), as ordinary Python while a compiler traces:
    their classes' compiler probes are then defined (NOTE [Probes defined before a trace asks
    them] in ``multiad/_ops.py``). True."""
    _discover()
    for name in [n for n, e in list(_entries.items()) if e.first_party]:
        _resolve(name)
    return True


setattr(first_party_imported, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


def load_imported(call: str) -> list[Backend]:
    """Loads multiad's own backends whose array modules are imported already (NOTE [First use
    under a compiler] in ``multiad/_select.py``) and returns them; a broken one stays as its
    record says."""
    first_party_imported()
    with _lock:
        recs = [r for r in _records.values() if r.status == AVAILABLE and r.first_party]
    loaded = []
    for r in recs:
        modules = r.backend.array_modules if r.backend is not None else ()
        if modules and all(m in sys.modules for m in modules):
            with contextlib.suppress(BackendError):
                loaded.append(get(r.name, call))
    return loaded


def load_class(cls: type, call: str) -> list[Backend]:
    """Loads the available backends registered as instances of exactly ``cls`` (a plugin's own
    class, imported already; no other plugin is imported) and returns them; a broken one stays
    as its record says."""
    with _lock:
        names = [r.name for r in _records.values() if r.status == AVAILABLE and type(r.backend) is cls]
    loaded = []
    for name in names:
        with contextlib.suppress(BackendError):
            loaded.append(get(name, call))
    return loaded


def owners(module: str) -> tuple[str, ...]:
    """The available backends claiming arrays whose class lives in top-level ``module``
    (several: a conflict). Imports every plugin the first time (NOTE [What loads a plugin])."""
    return claims(module)[0]


def claims(module: str) -> tuple[tuple[str, ...], int]:
    """``owners(module)`` and the table's generation it was read at: a cache of the answer is
    valid only while the generation is unchanged (``on_change`` hooks run after each change)."""
    all_imported()
    gen = _generation[0]
    if not gen % 2:  # no lock (compilers that trace Python cannot enter one) unless a change ran meanwhile
        owner, contested = _module_map.get(module), _contested.get(module, ())
        if _generation[0] == gen:
            return ((owner,) if owner is not None else contested), gen
    with _lock:
        owner = _module_map.get(module)
        return ((owner,) if owner is not None else _contested.get(module, ())), _generation[0]


def generation() -> int:
    """The table's generation now, for :func:`remember`."""
    return _generation[0]


def remember(cache: dict[Any, Any], key: Any, value: Any, generation: int) -> None:
    """``cache[key] = value`` unless the table changed since ``generation``, without a lock: a
    change bumps the generation before its ``on_change`` hooks clear such caches, so an entry
    stored too late is either removed here or cleared by the hook."""
    cache[key] = value
    if _generation[0] != generation:
        cache.pop(key, None)


def conflicts() -> dict[str, tuple[str, ...]]:
    """Array modules claimed by several available backends, with the claimants."""
    _resolve_all()
    with _lock:
        return dict(_contested)


def backend_for_module(module: str) -> str | None:
    """The one backend owning arrays of top-level module ``module``; None if none or contested."""
    found = owners(module)
    return found[0] if len(found) == 1 else None


def contested_message(call: str, what: str, names: tuple[str, ...]) -> str:
    """The error for inference on an array type that several backends claim."""
    listed = " and ".join(repr(n) for n in names)
    return (
        f"{call}: {what} are claimed by several backends, {listed}; multiad does not choose between them. "
        f"Select one with {_HOW_TO_SELECT}, or uninstall the plugin that should not claim them "
        "(python -m multiad backends shows the conflict)"
    )


def default_name(call: str) -> str:
    """The backend used when nothing selects one and the arrays do not tell
    (NOTE [Plugins never take over])."""
    if _default:
        return _default[0]
    generation = _generation[0]
    _discover()
    for name in [n for n, e in list(_entries.items()) if e.first_party]:
        _resolve(name)
    with _lock:
        own = sorted((r for r in _records.values() if r.status == AVAILABLE and r.first_party), key=_key)
    if own:
        chosen = own[0].name
    else:
        plugins = available_names()
        if not plugins:
            raise BackendError(
                f"{call}: no backend is available; install one, for instance multiad-torch or multiad-jax "
                "(python -m multiad backends lists what is installed)"
            )
        if len(plugins) > 1:
            raise BackendError(
                f"{call}: no backend is selected and the arguments do not tell which to use; none of multiad's "
                f"own backends is installed and several plugins are ({', '.join(plugins)}), so multiad does not "
                f"choose between them: select one with {_HOW_TO_SELECT}"
            )
        chosen = plugins[0]
    with _lock:
        if not _default and _generation[0] == generation:
            _default.append(chosen)
    return chosen


def snapshot() -> tuple[dict[str, BackendRecord], dict[str, _Entry]]:
    """The registry's tables, for tests that register backends and restore them afterwards."""
    _discover()
    with _lock:
        return dict(_records), dict(_entries)


def restore(state: tuple[dict[str, BackendRecord], dict[str, _Entry]]) -> None:
    """Puts back what :func:`snapshot` returned."""
    with _lock:
        _records.clear()
        _records.update(state[0])
        _entries.clear()
        _entries.update(state[1])
        _changed()
