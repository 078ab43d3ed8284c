"""Prepared calls while a compiler traces Python (NOTE [Prepared calls under a compiler]).

NOTE [Prepared calls under a compiler]: a compiled call of Dynamo (``torch.compile``) first
checks a guard for every Python object its trace read from outside the call: each global and
module attribute, each function reached through one (its code object), each dict entry looked
up. The general path reads the selection, the registry, optree's registry of node types (to
flatten the arguments and the outputs), the plan and the signature; traced, a multiad transform
carried 550 to 690 more guard entries than torch.func's own transform of the same ``f``, and
its compiled call took 8 to 11 us longer (``hvp`` of 2048 inputs: 28 us against 18 for
``torch.func.jvp`` of ``torch.func.grad``; docs/benchmarks.md, "Timed under torch.compile").

What a prepared call (NOTE [Prepared calls]) decides from its signature depends only on Python
constants: the transform, ``argnums``, ``chunk_size``, the ``backend=`` argument, the selection
made by ``set_backend``, the registry's generation and the types of the arguments. While a
compiler traces, :func:`decide` makes those decisions. It carries the compiler's constant-result
mark (``torch.compiler.assume_constant_result``), so the compiler runs it as ordinary Python and
keeps its result, a tuple of constants, without guarding what it read. Its arguments are guarded
as any value the trace reads: a call traced under another ``backend=``, another ``set_backend``,
another set of registered backends or other argument types is traced again. The environment
variable ``MULTIAD_BACKEND`` is read when the call is traced, and the per-context selection
(``use_backend``) is not read at all, as on the general path (NOTE [Compiled regions]).

What depends on the arrays and on ``f`` stays in the trace, as in a prepared call: that each
array argument is the backend's array, the dtypes of the differentiated arguments (an integer
or an unseen dtype takes the general path, which raises or learns it), the tangents' types,
dtypes and shapes, the check of ``f``'s output, and the framework's transform of ``f``, which
the backend builds afresh in each trace from ``f`` as the compiler sees it. A transform kept
from an earlier trace would hold the ``f`` of that trace, and the compiler guards only what it
reads through the ``f`` of this one. A trace does not set the context's backend or the
forward-mode marks (NOTE [Compiled regions]), as the general path does not.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from types import CodeType
from typing import Any

import numpy as np

from . import _arrays, _derive, _flat, _plan, _registry, _select, _tree
from ._backend import Backend
from ._errors import MultiADError
from ._flat import Argnums, normalize_argnums

#: Python values passed to ``f`` as they are when not differentiated (in prepared and traced calls).
SCALARS = frozenset({int, float, bool, str, type(None)})
#: What each transform asks of ``Backend.prepare`` (and ``prepare_traced``), and the native
#: override it stands for; in prepared and traced calls.
NATIVE = {
    "jacrev": ("jacrev", "jacrev"),
    "grad": ("grad_and_value", "value_and_grad"),
    "value_and_grad": ("grad_and_value", "value_and_grad"),
    "hessian": ("hessian", "hessian"),
    "jacfwd": ("jacfwd", "jacfwd"),
    "vjp": ("vjp", "vjp"),
}
_DECISIONS: dict[Any, Any] = {}
_MAX = 256


# NOTE [One way to each module in a trace]: where the trace reaches one module by two ways (as
# an attribute of another module, ``_prepared._select``, and as the globals of one of its own
# functions that the compiler inlines), the compiler adds a guard that the two are one object,
# and such guards run as one Python function on every call, outside the compiled checks. Traced
# code therefore calls functions of other modules imported by name (``PROBE``), and reads
# module attributes only of modules whose functions it does not inline (``_registry.state``).


# NOTE [Argument types in a trace]: a traced call passes its arguments' types to its decision.
# ``type(x)`` of a tensor is reached by the compiler as ``torch.Tensor`` of a module it installs
# for the purpose (Dynamo's ``call_type``), and torch.func's own code reaches ``torch.Tensor`` as
# its modules' ``torch.Tensor``: one class by two ways, an aliasing guard run as Python on every
# compiled call (NOTE [One way to each module in a trace]), and 3 entries more. Of an argument
# with a ``dtype`` (a tensor, a NumPy array or scalar) the traced calls read ``x.__class__``,
# which the compiler gives as the class its guard on the tensor checks already, without a
# source; of anything else ``type(x)``, since ``__class__`` of a symbolic int makes the compiler
# specialize the int (a trace per value, where ``type()`` keeps it symbolic). The types are the same.

# NOTE [Symbolic ints in a trace]: a Python int argument that changes between calls of a compiled
# function is traced from its second value on as a symbolic int, of which the compiler traces
# every attribute read, and ``getattr(n, "dtype", None)`` is one it cannot trace ("hasattr call"):
# ``torch.compile(multiad.grad(f), fullgraph=True)(x, n)`` failed at the second ``n``, where
# torch.func's ``grad`` compiles. The traced calls therefore read no ``dtype`` or ``ndim`` of an
# ``int`` (its dtype is None and its ndim -1 as before), and the general path's owner of the type
# ``int`` is no library without asking its module's name (``str.partition`` is not traced either).


# NOTE [Automatic mode under a compiler]: ``jacobian(mode="auto")`` traced chooses its mode as
# the general path does (NOTE [Automatic mode]): ``f`` is evaluated once in the trace for the
# size of its output, an evaluation whose result nothing uses (the compiler drops it from the
# program), and the traced call then runs the chosen mode's prepared transform. An output with
# structure takes the general path, which sizes its leaves.


# NOTE [Errors of traced calls]: a traced call runs the framework's transform without
# ``_derive.guarded``'s translation of framework errors. Traced, an error of ``f`` or of multiad's
# checks ends the compiler's trace of the frame, and the frame then runs as ordinary Python, where
# the general path raises and translates as it does without a compiler. Traced, the translation
# itself failed: it reads the error's traceback, whose frames hold the call's tensors, and the
# compiler could not make its stand-ins of them (torch 2.13: an AssertionError from its fake
# tensors, for ``grad`` of a function with a non-scalar output).
def decide(
    transform: str,
    argnums: Argnums,
    chunk_size: int | None,
    backend: str | Backend | None,
    state: _registry.State,
    types: tuple[type, ...],
    dtypes: tuple[Any, ...],
    call: str,
) -> tuple[Any, ...] | None:
    """What a traced call of ``transform`` with arguments of ``types`` does, or None for the
    general path: ``(backend name, what to ask of Backend.prepare, the positions that must be
    arrays, the differentiated positions, the name on BUILT of the transform built outside the
    trace or "")``. Made once per key, as ordinary Python even while a
    compiler traces (the mark below). Only names and positions: a value of the result that
    reached the framework's code would be guarded there, which a compiler's constant cannot be.
    ``state`` (``_registry.state``: ``set_backend``'s selection and the registry's generation)
    is what selection reads: passed, the trace guards it, and it keys the decision (NOTE [One
    guard for the state of selection] in ``multiad/_registry.py``)."""
    # The environment variable is part of the key: it is read when a call is traced (NOTE
    # [Compiled regions]), and a call traced after it changed decides again.
    key = (transform, argnums, chunk_size, backend, state, types, dtypes, call, _select.env_value())
    return _memo(key, state.generation, lambda: _decide(transform, argnums, chunk_size, backend, types, dtypes, call))


setattr(decide, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


def _memo(key: Any, generation: int, decide: Callable[[], tuple[Any, ...] | None]) -> tuple[Any, ...] | None:
    """The decision kept for ``key``, else ``decide()`` kept (None where it raised: the general
    path reports whatever is wrong with the arguments), unless the registry changed meanwhile."""
    try:
        hit = _DECISIONS.get(key, key)
    except TypeError:  # a backend= or argnums that cannot be hashed: the general path reports it
        return None
    if hit is not key:
        return hit  # type: ignore[no-any-return]
    try:
        res = decide()
    except MultiADError:
        res = None
    if len(_DECISIONS) >= _MAX:
        _DECISIONS.clear()
    _registry.remember(_DECISIONS, key, res, generation)
    return res


def _decide(
    transform: str,
    argnums: Argnums,
    chunk_size: int | None,
    backend: str | Backend | None,
    types: tuple[type, ...],
    dtypes: tuple[Any, ...],
    call: str,
) -> tuple[Any, ...] | None:
    if not types or any(issubclass(t, (np.ndarray, np.generic)) for t in types):
        return None  # NumPy arrays: converted or checked by their values on the general path
    b = _select.resolve_types(backend, types, call, True)  # NOTE [Compiled regions]
    if transform in b.unsupported or not b.has_custom_rules or type(b).prepare is Backend.prepare:
        return None
    if transform in ("hvp", "vhp"):
        strategy = _plan.vhp_strategy(b) if transform == "vhp" else _plan.second_order(b)
        if strategy != (_plan.REV if transform == "vhp" else _plan.FWD) or not b.has_vjp:
            return None
        if not _plan.native(b, "value_and_grad") or len(types) % 2:
            return None
        n = len(types) // 2
        if types[:n] != types[n:] or dtypes[:n] != dtypes[n:] or any(t in SCALARS for t in types):
            return None
        diff: tuple[int, ...] = tuple(range(n))
        asked, arrays = transform, diff
    else:
        asked, native_name = NATIVE[transform]
        if transform == "hessian":  # the jacfwd of its jacrev (NOTE [Prepared calls])
            derived = _plan.prepared_hessian(b, chunk_size)
        elif transform == "vjp":  # the framework's own, where its backend prepares one
            derived = b.has_vjp
        elif transform == "jacfwd":  # the framework's own, where its backend prepares one
            derived = chunk_size is None and _plan.jvp_native(b) and "jvp" not in b.unsupported
        else:
            derived = _plan.native(b, native_name, chunk_size, True)
        if not derived:
            return None
        diff = normalize_argnums(argnums, len(types), call)
        arrays = tuple(i for i, t in enumerate(types) if t not in SCALARS)
        if not set(diff) <= set(arrays):
            return None
    if _flat.guards_arguments(b) and set(arrays) - set(diff):
        return None  # arrays f gets outside argnums pass through Backend.constant_argument there
    owners = {_select.owner_of_type(types[i], call, b.name) for i in arrays}
    if owners != {b.name}:
        return None  # arrays of another framework: converted on the general path
    if not all(_arrays.is_float_dtype(b, dtypes[i]) for i in diff):
        return None  # the general path raises for an integer argument
    return b.name, asked, arrays, diff, _built(b, transform, asked, argnums, diff, chunk_size, call)


# NOTE [Transforms built outside the trace]: building the framework's transform in the trace
# (``torch.func.jacrev(fun)``) is traced too, and guarded on every call (torch.func's wrapping
# with ``functools.wraps``: 40 guard entries, half a microsecond a call). A backend that can give
# the transform in the form the compiler traces (``Backend.prepare_traced``) builds it here,
# outside the trace, once per decision, as a function of ``(box, f, *args)``: ``f`` and the
# :class:`Box` that receives the output structure are arguments the framework's transform passes
# through (a box, not a list: torch.func rebuilds the containers among its arguments),
# differentiating the arguments after them. The compiler reaches the transform as an attribute
# of :data:`BUILT`, named by the decision's token and read when the trace reaches it (guarded as
# any value the trace reads), and ``f`` through the call's own arguments, so what ``f`` reads is
# guarded as always: the transform holds no ``f``.


# NOTE [Decisions change nothing the trace reads]: the compiler takes a dict's or a list's
# contents when its trace first reads it, and a constant-result function runs as ordinary Python
# in the middle of the trace. Had a decision added an entry to a table that the trace had read
# already (the float dtypes seen, the owners of array types, the registry's loaded backends), the
# trace would go on with the contents it took, and the guard it made on them would fail at once
# (torch 2.13 raises "Guard failed on the same frame it was created"). A decision therefore keeps
# nothing in such a table: it asks the owner of a type and whether a dtype is a float without
# remembering the answers, the trace finds the backend among the registry's records (complete
# before any trace: NOTE [First use under a compiler] in ``multiad/_select.py``), and a
# transform built for the trace is an attribute of its own on :data:`BUILT`, not an entry of a
# table, an attribute being read when the trace reaches it.
class _Built:
    """Transforms built for traced calls, as attributes ``t<token>``."""


BUILT = _Built()
_tokens = itertools.count()
#: The name on BUILT of each transform built, by what it was built from: a decision made again
#: (after its table was cleared) takes the same transform, so BUILT grows with the kinds of call
#: traced, not with the number of decisions.
_NAMES: dict[Any, str] = {}


def _built(
    b: Backend, transform: str, asked: str, argnums: Argnums, diff: tuple[int, ...], chunk_size: int | None, call: str
) -> str:
    """The name on :data:`BUILT` of the transform :func:`decide` built for the trace (NOTE
    [Transforms built outside the trace]), or "" where the backend gives none (the trace builds it)."""
    if transform in ("hvp", "vhp", "vjp"):
        return ""
    generation = _registry._generation[0]
    key = (b.name, generation, transform, asked, argnums, diff, chunk_size, call)
    known = _NAMES.get(key)
    if known is not None:
        return known
    h = scalar_of(b, b.name, call) if asked == "grad_and_value" else outputs_of(b, b.name, call)
    shifted: Argnums = diff[0] + 2 if isinstance(argnums, int) else tuple(i + 2 for i in diff)
    built = b.prepare_traced(asked, h, shifted, chunk_size)
    if built is None:
        return ""
    name = f"t{next(_tokens)}"
    setattr(BUILT, name, built)
    _registry.remember(_NAMES, key, name, generation)
    return name


#: vmap's constants (``in_dims``, ``backend=``, the call's name) by their token (NOTE [A token
#: the compiler keeps constant]), as :data:`_SPECS` holds a transform object's.
_VMAP_SPECS: dict[str, tuple[Any, str | Backend | None, str]] = {}
_VMAP_TOKENS: dict[tuple[Any, str | Backend | None, str], str] = {}


def vmap_token(in_dims: Any, backend: str | Backend | None, call: str) -> str | None:
    """The token of a vmap's constants, or None where they cannot be a key (an unhashable
    ``backend=`` or a list among ``in_dims``: the general path). Constant-result, as
    :func:`token` (a vmap made inside a trace)."""
    return _minted((in_dims, backend, call), _VMAP_SPECS, _VMAP_TOKENS, "v")


setattr(vmap_token, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


def decide_vmap(
    key: str,
    state: _registry.State,
    types: tuple[type, ...],
    ndims: tuple[int, ...],
) -> tuple[Any, ...] | None:
    """:func:`decide` for a traced call of the vmap of token ``key`` (:func:`vmap_token`) with
    arguments of ``types`` and numbers of dimensions ``ndims``: ``(backend name, mapped
    positions, the positions passed through Backend.constant_argument, the axis of each mapped
    position)``, or None for the general path. The axes are the decision's, made of ``in_dims``
    as ordinary Python: read in the trace, an int of ``in_dims`` is a symbolic int under
    ``dynamic=True`` (NOTE [A token the compiler keeps constant]). A value of the result that
    reached the framework's code would be guarded there, which a compiler's constant cannot be:
    the trace makes the axes it hands to the framework of them by arithmetic (NOTE [Axes made
    in the trace] in multiad/_api_vmap.py)."""
    in_dims, backend, call = _VMAP_SPECS[key]
    memo = ("vmap", in_dims, backend, state, types, ndims, call, _select.env_value())
    return _memo(memo, state.generation, lambda: _decide_vmap(in_dims, backend, types, ndims, call))


setattr(decide_vmap, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


def vmap_decision(key: str, types: tuple[type, ...], ndims: tuple[int, ...]) -> tuple[tuple[Any, ...], Backend] | None:
    """:func:`decide_vmap` of the state of selection now, and the backend the decision names, or
    None for the general path. vmap's traced call reads the registry through this function: the
    traced calls of this module that ``f`` may hold (a transform object's) read it as this
    module's global, and the same module read by two ways in one trace is an aliasing guard run
    as Python on every call (NOTE [One way to each module in a trace])."""
    state = _registry.state  # NOTE [One guard for the state of selection] in multiad/_registry.py
    d = decide_vmap(key, state, types, ndims)
    if d is None:
        return None
    b = getattr(state, "backend " + d[0], None)  # NOTE [The backends on the state] in multiad/_registry.py
    return None if b is None else (d, b)


def _decide_vmap(
    in_dims: Any,
    backend: str | Backend | None,
    types: tuple[type, ...],
    ndims: tuple[int, ...],
    call: str,
) -> tuple[Any, ...] | None:
    per_arg = list(in_dims) if isinstance(in_dims, (tuple, list)) else [in_dims] * len(types)
    if not types or len(per_arg) != len(types) or any(d is not None and type(d) is not int for d in per_arg):
        return None  # pytree prefixes, or a wrong in_dims: the general path
    if any(issubclass(t, (np.ndarray, np.generic)) for t in types):
        return None
    b = _select.resolve_types(backend, types, call, True)  # NOTE [Compiled regions]
    if "vmap" in b.unsupported or {_select.owner_of_type(t, call, b.name) for t in types} != {b.name}:
        return None
    mapped = tuple(k for k, d in enumerate(per_arg) if d is not None)
    if not mapped or any(not -ndims[k] <= per_arg[k] < ndims[k] for k in mapped):
        return None  # the general path raises
    fixed = tuple(k for k in range(len(types)) if k not in mapped) if _flat.guards_arguments(b) else ()
    return b.name, mapped, fixed, tuple(per_arg[k] % ndims[k] for k in mapped)


# NOTE [Plain numbers in decisions]: an int the trace gets as an argument of the compiled
# function (``grad(f, argnums=k)`` with ``k`` passed in) and that changed between calls becomes a
# symbolic int in the compiler's next trace, which a constant-result function cannot take (under
# ``fullgraph=True`` the trace fails). A call whose ``argnums``, ``chunk_size`` or ``in_dims`` is
# anything but Python ints (or None) takes the general path, as torch.func's transforms do.
def _plain(v: Any) -> bool:
    """Whether ``v`` is a Python int or a tuple of them (NOTE [Plain numbers in decisions]).
    ``__class__``, not ``type()``: traced, ``type()`` of a symbolic int is ``int`` too."""
    return v.__class__ is int or (type(v) is tuple and all([i.__class__ is int for i in v]))


# NOTE [One token for a transform object's constants]: each variable of the enclosing function
# that the traced call reads is a guard on that closure cell's value (3 entries), checked on every
# compiled call: the transform, ``argnums``, ``chunk_size``, ``backend=`` and the call's name took
# 15 entries on ``jacrev`` where torch.func's own ``jacrev`` keeps its ``argnums`` in one of its
# cells. A transform object therefore keeps them in :data:`_SPECS` under one token (a str: NOTE [A token the compiler keeps constant]), the *token*
# :func:`token` gives for them (the same for the same five values, so equal transform objects
# run one program), and the traced call reads that one cell: :func:`decide_of` (constant-result,
# as :func:`decide`) finds them by the token as ordinary Python and decides with them, and what
# the trace needs of the transform (whether ``mode="auto"`` chooses, whether forward mode's empty
# check runs, what the call returns) comes back as constants of the decision. The trace still
# reads ``argnums``, ``chunk_size`` and the call's name from their cells where it hands them to
# the framework (a backend without ``prepare_traced``: NOTE [Transforms built outside the
# trace]), which guards them there as before. :func:`token` is constant-result too, so that a
# transform object made inside a trace adds its entry as ordinary Python (NOTE [Decisions change
# nothing the trace reads]). The table holds every distinct five values a process made traced
# transform objects of (a backend object passed as ``backend=`` is kept alive by it), as
# :data:`BUILT` holds every kind of call traced; a token is never reused for other values.
#
# NOTE [A token the compiler keeps constant]: the token is a str, not an int. A compiled
# transform object (``torch.compile(multiad.grad(f), dynamic=True)``) is the root frame of the
# trace, and the compiler takes every int it reaches from the root frame's locals and their
# closures as a symbolic int under ``dynamic=True`` (Dynamo's ``specialize_int`` is off there),
# which a constant-result function cannot take: an int token failed the trace under
# ``fullgraph=True`` ("assume_constant_result argument conversion failed") and broke the graph
# without it, where ``torch.func.grad`` compiles. A str is never made symbolic, and its guard is
# the int's (one value check of the cell): the same lines on every other path.
_SPECS: dict[str, tuple[str, Argnums, int | None, str | Backend | None, str]] = {}
_TOKENS: dict[tuple[str, Argnums, int | None, str | Backend | None, str], str] = {}
_spec_tokens = itertools.count()


def _minted(spec: Any, specs: dict[str, Any], tokens: dict[Any, str], prefix: str) -> str | None:
    """The str token of ``spec`` in ``tokens``, made from ``prefix`` and a new number and kept in
    both tables where ``spec`` is new, or None where ``spec`` cannot be a key. Called only by the
    constant-result :func:`token` and :func:`vmap_token`, which the compiler runs as Python
    rather than tracing them: no guard of its own."""
    try:
        known = tokens.get(spec)
    except TypeError:
        return None
    if known is None:
        known = f"{prefix}{next(_spec_tokens)}"
        specs[known] = spec
        tokens[spec] = known
    return known


def token(
    transform: str, argnums: Argnums, chunk_size: int | None, backend: str | Backend | None, call: str
) -> str | None:
    """The token of a transform object's constants (NOTE [One token for a transform object's
    constants], NOTE [A token the compiler keeps constant]), or None where they cannot be a key
    (an unhashable ``backend=``: the general path reports it)."""
    return _minted((transform, argnums, chunk_size, backend, call), _SPECS, _TOKENS, "s")


setattr(token, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark

# NOTE [Constants of a traced call]: a module's global that the trace reads is a guard on its
# value, checked on every compiled call (2 lines each), and nothing ever changes these: the
# traced call compares with the numbers themselves. The backend's prefix on the state (NOTE [The
# backends on the state] in multiad/_registry.py) is written out for the same reason.
#: What a traced call returns, by transform (the last entry of :func:`decide_of`'s result).
_JACOBIAN, _GRAD, _VALUE_AND_GRAD = 0, 1, 2


def decide_of(
    key: str, mode: str, state: _registry.State, types: tuple[type, ...], dtypes: tuple[Any, ...]
) -> tuple[Any, ...] | None:
    """:func:`decide` for the transform object of token ``key`` (NOTE [One token for a transform
    object's constants]), in ``mode`` (``"jacfwd"`` for ``mode="auto"``'s forward mode, else "": the
    transform's own), with three constants more: whether the Jacobian's forward-mode empty check
    runs, what the call returns (:data:`_JACOBIAN`, :data:`_GRAD`, :data:`_VALUE_AND_GRAD`), and
    whether ``mode="auto"`` still chooses. Ordinary Python even while a compiler traces (the mark)."""
    transform, argnums, chunk_size, backend, call = _SPECS[key]
    auto = transform == "jacobian" and not mode
    mode = mode or ("jacrev" if transform == "jacobian" else transform)
    d = decide(mode, argnums, chunk_size, backend, state, types, dtypes, call)
    if d is None:
        return None
    returns = _GRAD if transform == "grad" else _VALUE_AND_GRAD if transform == "value_and_grad" else _JACOBIAN
    return (*d, mode in ("jacfwd", "hessian"), returns, auto)


setattr(decide_of, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


def transform(
    transform: str,
    f: Callable[..., Any],
    argnums: Argnums,
    chunk_size: int | None,
    backend: str | Backend | None,
    call: str,
    general: Callable[..., Any],
) -> Callable[..., Any] | None:
    """What a prepared transform object runs while a compiler traces it, or None where it runs
    the general path then (NOTE [Prepared calls under a compiler])."""
    if transform not in NATIVE and transform != "jacobian":
        return None
    if not (_plain(argnums) and (chunk_size is None or chunk_size.__class__ is int)):
        return None  # the general path: NOTE [Plain numbers in decisions]
    key = token(transform, argnums, chunk_size, backend, call)
    if key is None:
        return None

    # NOTE [Closure cells of a traced call]: each variable of the enclosing function that
    # ``traced`` reads is a guard on that cell's value (3 entries), checked on every compiled call:
    # on the way to the framework's transform it reads ``key`` and ``f`` alone (NOTE [One token
    # for a transform object's constants]).
    def traced(*args: Any) -> Any:
        # NOTE [Argument types in a trace], [Symbolic ints in a trace]
        types = tuple(
            [type(a) if isinstance(a, int) or getattr(a, "dtype", None) is None else a.__class__ for a in args]
        )
        dtypes = tuple([None if isinstance(a, int) else getattr(a, "dtype", None) for a in args])
        state = _registry.state  # NOTE [One guard for the state of selection] in multiad/_registry.py
        d = decide_of(key, "", state, types, dtypes)
        if d is None:
            return general(*args)
        # NOTE [The backends on the state] in multiad/_registry.py
        b: Backend | None = getattr(state, "backend " + d[0], None)
        if b is None:
            return general(*args)
        is_array = b.is_array
        for i in d[2]:
            if not is_array(args[i]):
                return general(*args)
        if d[7]:  # mode="auto": NOTE [Automatic mode under a compiler]
            out = f(*args)
            if not is_array(out):
                return general(*args)  # an output with structure: the general path sizes it
            n_in = sum([_derive.size(args[i]) for i in d[3]])
            if _plan.jacobian_mode(b, n_in, _derive.size(out)) == "fwd":
                d = decide_of(key, "jacfwd", state, types, dtypes)
                if d is None:
                    return general(*args)
        name, asked, _, diff, built_name, forward, returns, _ = d
        if forward:
            for i in diff:
                if 0 in args[i].shape:  # NOTE [Empty Jacobians]
                    return general(*args)
        box = Box()  # the output structure, where f returns more than one array
        built = getattr(BUILT, built_name) if built_name else None  # NOTE [Transforms built outside the trace]
        if built is not None:
            res = built(box, f, *args)  # NOTE [Errors of traced calls]
        else:
            h = scalar_of(b, name, call) if asked == "grad_and_value" else outputs_of(b, name, call)
            # Made in the trace, not taken from the decision: torch.func guards the values it is
            # given, and a value of the decision cannot be guarded.
            n = len(args)
            native_argnums = argnums % n if isinstance(argnums, int) else tuple([a % n for a in argnums])
            native = b.prepare(asked, lambda *xs: h(box, f, *xs), native_argnums, chunk_size)
            if native is None:
                return general(*args)
            res = native(*args)
        if returns == 0:  # _JACOBIAN: NOTE [Constants of a traced call]
            return res if box.spec is None else _tree.unflatten(box.spec, list(res))
        return res[0] if returns == 1 else (res[1], res[0])  # _GRAD

    return traced


# NOTE [The traced second-order call in one function]: a traced ``hvp`` or ``vhp`` goes from the
# public function (which asks the compiler probe: NOTE [Second-order calls in one frame] in
# multiad/_api_jac.py) to :func:`second_order` alone, and the function torch.func differentiates,
# which runs ``f`` and checks its output, is made in it: a function a trace enters through a
# module's globals is a guard on its code on every compiled call (3 entries), and one made in the
# trace is not. Every protection of the path stays in the trace: the decision (``backend=``,
# ``set_backend``'s selection and the registry's generation, the argument types and dtypes),
# that each primal is the backend's array with its tangent's shape, the flag of NOTE [The flag
# set in a traced call] (and ``traced_float(name, None)`` telling a trace from a callback run as ordinary
# Python after a graph break in ``f``), and the output check (``traced_float``); the words of a wrong
# output (``_flat.check_second_order_scalar``, the name of ``f``) are read on the error path
# alone (NOTE [Names made on the error path]).
def second_order(
    transform: str,
    f: Callable[..., Any],
    primals: Any,
    tangents: Any,
    backend: str | Backend | None,
) -> Any:
    """``hvp`` or ``vhp`` of ``f`` while a compiler traces, or None for the general path (NOTE
    [Prepared calls under a compiler]; NOTE [The traced second-order call in one function])."""
    if type(primals) is not tuple or type(tangents) is not tuple or len(primals) != len(tangents):
        return None
    # NOTE [Names made on the error path]: the transform alone, not the call's name with f's
    args = (*primals, *tangents)
    # NOTE [Argument types in a trace], [Symbolic ints in a trace]
    types = tuple([type(a) if isinstance(a, int) or getattr(a, "dtype", None) is None else a.__class__ for a in args])
    dtypes = tuple([None if isinstance(a, int) else getattr(a, "dtype", None) for a in args])
    state = _registry.state  # NOTE [One guard for the state of selection] in multiad/_registry.py
    d = decide(transform, 0, None, backend, state, types, dtypes, transform)
    if d is None:
        return None
    name, asked, _, _, _ = d
    n = len(primals)
    native_argnums = 0 if n == 1 else tuple(range(n))  # made in the trace, as in transform()
    # NOTE [The backends on the state] in multiad/_registry.py
    b: Backend | None = getattr(state, "backend " + name, None)
    if b is None:
        return None
    is_array = b.is_array
    for p, t in zip(primals, tangents):
        if not is_array(p) or t.shape != p.shape:
            return None  # the general path converts or raises

    def scalar(*args: Any) -> Any:  # scalar_of's for hvp and vhp, made here
        global _in_f
        if not traced_float(name, None):  # a compiler traces? NOTE [The flag set in a traced call]
            out = _run_eagerly(b, transform, False, f, args)
        elif _in_f:
            out = f(*args)
        else:
            _in_f = True
            try:
                out = f(*args)
            finally:
                _in_f = False
        if is_array(out) and not out.shape and traced_float(name, out.dtype):
            return out
        call_name = f"{transform}({_flat.fname(f)})"
        _flat.check_second_order_scalar(call_name, out)
        leaves, spec = _flat.output_leaves(b, call_name, out, args[0] if args else None)
        _flat.scalar_out(call_name, leaves, spec)
        return leaves[0]

    native = b.prepare(asked, scalar, native_argnums, None)
    if native is None:
        return None
    return native(primals, tangents)  # NOTE [Errors of traced calls]


# NOTE [One function for a callback's questions]: a function of this module that a traced call
# reaches is a guard on its code (3 lines), checked on every compiled call. The callbacks ``f``
# runs through ask two questions that only ordinary Python answers: before ``f``, whether a
# compiler traces them (NOTE [The flag set in a traced call]), and of ``f``'s output, whether its
# dtype is a float dtype of the backend. :func:`traced_float` answers both (the dtype None for
# the first), one code guarded for the two. Where no compiler traces, it answers False to the
# second too: the callback then checks the output as the general path does.
def traced_float(name: str, dtype: Any) -> bool:
    """Whether a compiler traces (backend ``name``'s probe) and ``dtype`` is None or a
    floating-point dtype of that backend (NOTE [One function for a callback's questions]), as
    ordinary Python even while a compiler traces (the mark below)."""
    b: Backend = _registry._records[name].backend  # type: ignore[assignment]
    return b.compiling() and (dtype is None or _arrays.is_float_dtype(b, dtype))


setattr(traced_float, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


# NOTE [The flag set in a traced call]: while ``f`` runs under one of multiad's transforms in a
# trace, the torch backend refuses a custom rule that torch.compile would drop from the
# transform's graph (NOTE [Rules under a compiled transform] in its backend), a wrong number
# otherwise. The functions below mark it themselves, as a prepared call does (NOTE [One frame
# for the guard and the output check]), rather than through a helper of this module, whose code a
# compiled call would guard (3 entries checked on every call). What they mark depends on whether
# a compiler traces them (``traced_float(name, None)``, a constant of the trace):
#
# - traced, this module's own global ``_in_f`` (read by ``Backend.in_traced_transform()``). The
#   compiler replays a traced store to a value that outlives the call after every compiled call:
#   for the backend's per-thread flag (a ``threading.local``, reached through the backend's
#   record or the transform's closure cells) that replay was a Python call of Dynamo's
#   ``object_setattr_ignore_descriptor``, which finds a thread-local's attributes through an
#   AttributeError, 0.3 to 0.7 us a call (``hvp 2048``: 25 us). A module's global is replayed by
#   one attribute store, and is guarded by one entry where the flag took four. Only a trace
#   stores to it (the compiler keeps the stores of a trace to itself until the call), and the
#   compiled call stores False, its value outside every trace, so it is the same for every thread;
# - run as ordinary Python (where the framework runs the transform eagerly after a graph break
#   in ``f``: NOTE [Errors of f run eagerly in a traced call]), the backend's per-thread
#   ``active_flag``, as an eager call: the conversion guard reads it there.
_in_f = False


def in_traced_transform() -> bool:
    """``Backend.in_traced_transform()`` (NOTE [The flag set in a traced call])."""
    return _in_f


def _run_eagerly(b: Backend, call: str, named: bool, f: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """``f(*args)`` with the backend's per-thread flag set, in a callback run as ordinary Python
    (NOTE [The flag set in a traced call]; NOTE [Errors of f run eagerly in a traced call])."""
    flag = b.active_flag
    if flag is None or flag.active:
        return f(*args)
    flag.active = True
    try:
        return f(*args)
    except Exception as exc:  # NOTE [Errors of f run eagerly in a traced call]
        raise_translated(b, call if named else f"{call}({_flat.fname(f)})", exc)
        raise
    finally:
        flag.active = False


class Box:
    """The output structure of ``f`` in a traced call, where ``f`` returns more than one array."""

    __slots__ = ("spec",)

    def __init__(self) -> None:
        self.spec: Any = None


# NOTE [Errors of f run eagerly in a traced call]: where ``f`` breaks the graph inside a
# transform built outside the trace (NOTE [Transforms built outside the trace]), the compiler
# compiles the frame up to the transform's call and runs that call eagerly: an error of ``f``
# there (the torch backend's refusal of ``float(t)``, ``t.item()`` or ``t.tolist()`` of a tensor
# that carries a derivative) left the call without the general path's translation
# (``_derive.guarded``), as the backend's internal error (torch: DroppedDerivativeError, a
# RuntimeError) where the eager call raises NonDifferentiableError; which of the two a compiled
# call raised depended on what the process had compiled before. The functions below translate
# it as ``guarded`` does where no compiler traces; while one traces, they let it pass, for the
# compiler to run the frame as ordinary Python (NOTE [Errors of traced calls]). Only an error
# reaches the handler, so a call that succeeds traces and guards nothing more.
def raise_translated(b: Backend, call: str, exc: Exception) -> None:
    """Raises ``exc`` translated as ``_derive.guarded`` translates it, where it is a framework
    error and no compiler traces (NOTE [Errors of f run eagerly in a traced call]); returns
    otherwise, for the caller to raise ``exc`` itself."""
    if b.compiling():
        return
    translated = _derive.translate(b, call, exc)
    if translated is not None:
        raise translated from exc


# NOTE [Names made on the error path]: a traced call guards every value its trace reads, and
# the name of ``f`` in the call's name (``hvp(f)``, from ``_flat.fname``) is read for error
# messages only: made before the call, it cost 9 guard entries checked on every compiled call
# (``f.__name__``'s value, the builtin ``getattr``, ``_flat`` and ``fname``'s code). ``hvp`` and
# ``vhp`` traced therefore pass the transform alone: their decision does not need the name (an
# error there sends the call to the general path, which names it), and the function
# :func:`second_order` hands the framework makes the name from ``f`` only where the output is
# wrong, a trace that ends in the error.
def scalar_of(b: Backend, name: str, call: str) -> Callable[..., Any]:
    """``h(box, f, *args)``: ``f(*args)``, its one float scalar checked as a prepared call checks it."""
    is_array = b.is_array

    def scalar(box: Any, f: Callable[..., Any], *args: Any) -> Any:
        global _in_f
        if not traced_float(name, None):  # a compiler traces? NOTE [The flag set in a traced call]
            out = _run_eagerly(b, call, True, f, args)
        elif _in_f:
            out = f(*args)
        else:
            _in_f = True
            try:
                out = f(*args)
            finally:
                _in_f = False
        if is_array(out) and not out.shape and traced_float(name, out.dtype):
            return out
        leaves, spec = _flat.output_leaves(b, call, out, args[0] if args else None)
        _flat.scalar_out(call, leaves, spec)
        return leaves[0]

    return scalar


def outputs_of(b: Backend, name: str, call: str) -> Callable[..., Any]:
    """``h(box, f, *args)``: ``f(*args)`` as its one float array, or its checked leaves as a
    tuple with the structure put in the :class:`Box` ``box`` (as a prepared call's output check,
    NOTE [Output structure in a slot], with a list of the trace for the slot)."""
    is_array = b.is_array

    def outputs(box: Box, f: Callable[..., Any], *args: Any) -> Any:
        global _in_f
        if not traced_float(name, None):  # a compiler traces? NOTE [The flag set in a traced call]
            out = _run_eagerly(b, call, True, f, args)
        elif _in_f:
            out = f(*args)
        else:
            _in_f = True
            try:
                out = f(*args)
            finally:
                _in_f = False
        if is_array(out) and traced_float(name, out.dtype):
            return out
        leaves, spec = _flat.output_leaves(b, call, out, args[0] if args else None)
        if spec is _tree.LEAF:
            return leaves[0]
        box.spec = spec
        return leaves

    return outputs


def nested_codes(*factories: Callable[..., Any]) -> tuple[CodeType, ...]:
    """The code of the functions defined inside ``factories`` (the callbacks they return or, in
    :func:`second_order`, call), not of their comprehensions."""
    consts = (c for fn in factories for c in fn.__code__.co_consts)
    return tuple(c for c in consts if isinstance(c, CodeType) and not c.co_name.startswith("<"))


#: The code of the functions that a framework's transform in a traced call runs ``f`` through,
#: which backends read as ``Backend.traced_callbacks()`` (NOTE [Callbacks run eagerly after a
#: graph break] in the torch backend's ``_callbacks.py``).
CALLBACK_CODES: tuple[CodeType, ...] = nested_codes(scalar_of, outputs_of, second_order)
