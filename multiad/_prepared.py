"""A short path for a transform called again with the same kind of arguments.

NOTE [Prepared calls]: a transform object (``multiad.jacrev(f, argnums)``, ``multiad.grad(f)``)
is usually called many times with arguments of one kind: the same number of arrays of the same
types, under the same selection. Everything the general path (``Flat``, NOTE [Prepared
signatures] in ``multiad/_flat.py``) works out per call from those alone is then the same on
every call: the backend, the normalised ``argnums``, that no argument needs converting or
flattening, and even the framework's own transform, which a backend can build once for ``f``
and ``argnums`` (``Backend.prepare``; torch: ``torch.func.jacrev``, ``grad_and_value``,
``jacfwd`` of ``jacrev`` for ``hessian``, and ``jvp``/``vjp`` of ``grad`` for ``hvp``/``vhp``).
``grad``, ``value_and_grad``, ``jacrev``, ``jacobian`` in reverse mode (``mode="rev"``, or
``"auto"`` once it chose reverse mode for the argument shapes) and ``hessian`` therefore keep
a small table per transform object, and ``hvp``/``vhp`` (functions called with ``f``) one per
``f`` (by identity: equal callables may compute different functions; held weakly, and
referring to ``f`` weakly), from the call's *signature* to such a prepared call. ``jacfwd``
(and ``jacobian`` in forward mode) is prepared only on a backend whose general path is the
loop of NOTE [Columns by a loop] (no ``jvp``, no ``vmap``: autograd, NOTE [Prepared forward
mode] in its backend), the whole loop built per call by the backend without the general
path's layers, and on a backend whose own jacfwd is native (jax: ``jax.jacfwd`` built once,
NOTE [Prepared JAX transforms]). Elsewhere it is not: on torch the general path's own vmap of jvp over the
basis runs fewer instructions than ``torch.func.jacfwd`` itself (callgrind, 16 -> 16: 0.3 %
under torch.func's, where a prepared ``torch.func.jacfwd`` ran 1.0 % over), and the
wall-clock times of the two were within noise of each other.

- the signature is the registry's generation, the selection in force as given (the
  ``backend=`` argument, else the innermost ``use_backend``, else ``set_backend``, else the raw
  ``MULTIAD_BACKEND`` value, else nothing: then the types infer the backend) and the type of
  every positional argument. A signature is prepared on its second call (the first takes the
  general path), so that a transform built for one call (``grad(f)(x)``) builds nothing more.
  A signature with keyword arguments, containers among the arguments, leaves to convert (numpy
  arrays to torch), ``has_aux``, ``chunk_size`` the backend's own transform does not honour, a
  backend without ``prepare`` or one declaring the transform unsupported has no prepared form
  and takes the general path. While a compiler traces Python the table is not used (NOTE
  [Compiled regions]: its keys hold types a compiler cannot hash); a traced call makes the same
  decisions once per trace instead (NOTE [Prepared calls under a compiler] in
  ``multiad/_prepared_traced.py``).
- a prepared call still checks, on every call, what the signature does not fix: the dtypes of
  the differentiated arguments (an integer argument takes the general path, which raises),
  that tangents have their primal's type, shape and dtype (else the general path converts or
  raises), and ``f``'s output, inside the framework's transform, with the general path's
  checks and errors (NOTE [Outputs must be floats]); any output structure is accepted, a
  single array without flattening. The backend's own guards run as on the general path (the
  torch conversion guard, NOTE [Conversions that drop derivatives]; the forward-mode lock,
  NOTE [Forward mode and threads]), errors are translated as ``_derive.guarded`` does, forward
  mode is marked (NOTE [Forward mode through custom_vjp]: a custom_vjp function met in forward
  mode sends the call to the general path, which computes it in reverse mode), an empty input
  of ``hessian`` takes the general path (NOTE [Empty Jacobians]), and the backend is made the
  context's backend for calls nested in ``f`` unless the selection in force names it already.
- results are those of the general path: the backend's transform is asked for the same
  nesting (an int ``argnums`` gives one block, a tuple a tuple of blocks; a single output array
  one row). An output with structure is passed as a tuple of its leaves, and its structure is
  handed back through a per-thread slot that each prepared call saves and restores, so nested
  and concurrent calls do not see each other's.

Nothing in a prepared call holds per-call state, so one transform object may be called from
any number of threads. The tables are bounded (cleared when full) and keyed by the registry's
generation, so a change of the registered backends never reuses a stale preparation.
"""

from __future__ import annotations

import functools
import itertools
import threading
import types
import weakref
from collections.abc import Callable
from typing import Any

from . import _arrays, _custom_state, _derive, _flat, _plan, _prepared_traced, _registry, _results, _select, _tree
from ._backend import Backend
from ._errors import MultiADError
from ._flat import Argnums, normalize_argnums
from ._prepared_traced import NATIVE as _NATIVE
from ._prepared_traced import SCALARS as _SCALARS
from ._prepared_traced import transform as _traced_transform

#: A signature without a prepared form.
_NONE: Any = False
#: A signature seen once: prepared on its second call.
_ONCE: Any = 0.0
_MAX = 64
_SHAPE, _NO_SHAPE = itertools.repeat("shape"), itertools.repeat(None)


# NOTE [Output structure in a slot]: a prepared Jacobian's ``f`` may return any structure, which
# the framework's transform sees as a tuple of leaves; the structure travels back through a
# per-thread slot. A prepared call notes the slot's value, and ``f``'s output check writes a new
# one-element tuple holding the structure only where the output is not one array; the call then
# sees a value it did not find (a new tuple is never the one it found), unflattens, and puts
# back what it found. A one-array output, the common case, leaves the slot alone and costs
# nothing more. Every prepared call leaves the slot as it found it, when it raises too, so calls
# nested in ``f`` (or in a backward pass) and later calls never see another call's structure.
class _Slot(threading.local):
    def __init__(self) -> None:
        #: ``(structure,)`` of the output of a prepared call's ``f`` on this thread, while the call runs.
        self.spec: Any = None


_slot = _Slot()
#: The context's backend set and reset, bound once (globals: a call of one costs less than of a closure's).
_set_context, _reset_context = _select._context.set, _select._context.reset


def wrap(
    transform: str,
    f: Callable[..., Any],
    argnums: Argnums,
    has_aux: bool,
    chunk_size: int | None,
    backend: str | Backend | None,
    call: str,
    general: Callable[..., Any],
    choose: Callable[[Backend, tuple[Any, ...]], str | None] | None = None,
    route: Callable[[str], Callable[..., Any]] | None = None,
) -> Callable[..., Any]:
    """``general`` (the transform's general path) with prepared calls in front of it
    (NOTE [Prepared calls]); ``transform`` is ``"jacrev"``, ``"grad"``,
    ``"value_and_grad"``, ``"hessian"`` or ``"jacobian"`` (``mode="auto"``: ``choose(backend, args)`` gives the
    mode the general path chose for these argument shapes, ``"rev"`` or ``"fwd"``, or None, and
    ``route(mode)`` that mode's general path, NOTE [Routes of automatic mode])."""
    if has_aux:
        return general
    table: dict[Any, Any] = {}
    generation, probe, selection = _registry._generation, _select.PROBE, _select.selection
    floats, slot, translate, unflatten = (
        _arrays.FLOAT_DTYPES,
        _slot,
        _derive.translate,
        _tree.unflatten,
    )
    jac, grad, auto = transform not in ("grad", "value_and_grad"), transform == "grad", transform == "jacobian"
    bare, checked = type(argnums) is int, _gradients(call)  # NOTE [Results of a backend's primitives]
    marks, forward_error = _custom_state._forward, _custom_state.ForwardOverCustomVJPError
    # NOTE [Prepared calls under a compiler]
    # By name: NOTE [One way to each module in a trace] in multiad/_prepared_traced.py (a transform
    # object made inside a trace).
    traced = _traced_transform(transform, f, argnums, chunk_size, backend, call, general) or general

    def prepared(*args: Any, **kwargs: Any) -> Any:
        if kwargs or probe[0]():  # compiling() (NOTE [One compiler probe])
            return traced(*args) if not kwargs else general(*args, **kwargs)
        key: tuple[Any, ...] = (generation[0], backend if backend is not None else selection(), *map(type, args))
        if auto:  # the mode chosen depends on the shapes
            key += tuple(map(getattr, args, _SHAPE, _NO_SHAPE))
        prep = table.get(key)
        if type(prep) is not tuple:  # not prepared yet, no prepared form, or a route
            if prep is _NONE:
                return general(*args)
            if type(prep) is _ROUTE:  # NOTE [Routes of automatic mode]
                return prep(*args)
            prep = _prepare(
                table, key, prep, lambda: _build(transform, f, argnums, chunk_size, backend, call, args, choose, route)
            )
            if type(prep) is _ROUTE:
                return prep(*args)
            if prep is _NONE or prep is _ONCE:
                return general(*args)
        b, native, first, diff, in_context, forward = prep
        if first >= 0:
            if floats.get(args[first].dtype) is not True:
                return general(*args)  # it raises for an integer argument, or learns a new float dtype
        else:
            for i in diff:
                if floats.get(args[i].dtype) is not True:
                    return general(*args)
        if forward:
            for i in diff:
                if 0 in args[i].shape:  # NOTE [Empty Jacobians]
                    return general(*args)
            marked = marks.set(marks.get() + 1)  # NOTE [Forward mode through custom_vjp]
        saved = slot.spec  # NOTE [Output structure in a slot]
        token = None if in_context else _set_context(b)  # NOTE [Context set outright] in _api_ad.py
        try:
            res = native(*args)
        except forward_error:
            res = forward_error  # the general path computes it in reverse mode, once unmarked
        except Exception as exc:  # NOTE [Framework errors], as _derive.guarded
            slot.spec = saved
            err = translate(b, call, exc)
            if err is None:
                raise
            raise err from exc
        except BaseException:
            slot.spec = saved
            raise
        finally:
            if token is not None:
                _reset_context(token)
            if forward:
                marks.reset(marked)
        if res is forward_error:
            slot.spec = saved
            return general(*args)
        if jac:
            spec = slot.spec
            if spec is saved:  # one output array: f's outputs left the slot as it was
                return res
            slot.spec = saved
            return unflatten(spec[0], list(res))  # one row per output leaf
        g = res[0]  # the gradient, bare for an int argnums: count and types (NOTE [Results of a backend's primitives])
        if bare:
            if type(g) is not type(a := args[first]):
                g = checked(b, (g,), (a,))[0]
        elif type(g) is not tuple or len(g) != len(diff):
            g = checked(b, g, [args[i] for i in diff])
        else:
            for gi, i in zip(g, diff):
                if type(gi) is not type(args[i]):
                    g = checked(b, g, [args[i] for i in diff])
                    break
        return g if grad else (res[1], g)

    seen = _plan.JACFWD_SEEN
    if transform != "jacfwd" or seen[0]:  # set once, never cleared: no gate needed from then on
        return prepared

    def forward_front(*args: Any, **kwargs: Any) -> Any:  # NOTE [Prepared forward mode gate]
        # A traced call takes the prepared call's path for a compiler (NOTE [Prepared calls under a compiler]).
        return prepared(*args, **kwargs) if seen[0] or probe[0]() else general(*args, **kwargs)

    return forward_front


# NOTE [Prepared forward mode gate]: ``jacfwd`` is prepared only on a backend whose forward
# mode is the loop of NOTE [Columns by a loop] (``_plan.loop_jacfwd``) or the backend's own
# native jacfwd (``_plan.prepared_jacfwd``; jax: ``jax.jacfwd`` built once); for any other
# backend (torch) the table answers "general path" on every call, after computing the signature
# (the compiler probe, the selection, the key) that the general path computes again. Until a
# call of such a backend has resolved (``_plan.JACFWD_SEEN``, set by the general path's signature
# table of NOTE [Prepared signatures] the first time it meets one), no signature can prepare a
# jacfwd, and jacfwd goes straight to the general path. The first call of such a backend
# therefore takes the general path, as a first call does anyway; later calls use the table. A
# jacfwd made once the flag is set (it is never cleared) has no gate in front of the table.


def _gradients(call: str) -> Callable[[Backend, Any, Any], Any]:
    """The check of a prepared ``grad_and_value``'s gradients against the differentiated
    arguments (NOTE [Results of a backend's primitives] in multiad/_results.py)."""
    pulled = _results.pulled

    def checked(b: Backend, grads: Any, primals: Any) -> Any:
        return pulled(b, call, grads, primals, what="prepared grad_and_value")

    return checked


def _prepare(table: dict[Any, Any], key: Any, seen: Any, build: Callable[[], Any]) -> Any:
    """The table's entry for ``key`` after this call: _ONCE on the first call of a signature
    (the general path runs, so a transform built per call never prepares), else what ``build``
    gives (_NONE where the general path must run)."""
    generation = _registry.generation()
    if seen is None:
        prep = _ONCE
    else:
        try:
            prep = build()
        except MultiADError:  # the general path reports whatever is wrong with these arguments
            prep = _NONE
    if len(table) >= _MAX:
        table.clear()
    _registry.remember(table, key, prep, generation)
    return prep


# NOTE [Routes of automatic mode]: ``jacobian(mode="auto")``'s general path works out per call
# which mode it chose for the arguments (a key of their structure, shapes and dtypes: hashing
# the structure alone costs about 0.6 us, NOTE [Keys without the structure] in _flat.py) before
# running that mode's general path. Where the chosen mode has no prepared form (jacfwd on torch,
# jacrev on autograd), a signature whose choice is made keeps in its table entry that mode's
# general path itself (a plain function, ``route(mode)``), which the following calls run
# directly: the same ``Flat``, the same checks and the same Jacobian as the general path with
# that choice, without the choice's key. The entry depends on what the table's key fixes (the
# registry's generation, the selection, the argument types and shapes); the dtypes are not in
# it, and a choice is only a speed decision (NOTE [Automatic mode]), so a call with other dtypes
# gets the right Jacobian, and an integer argument the general path's error, from the route.
_ROUTE = types.FunctionType


def _build(
    transform: str,
    f: Callable[..., Any],
    argnums: Argnums,
    chunk_size: int | None,
    backend: str | Backend | None,
    call: str,
    args: tuple[Any, ...],
    choose: Callable[[Backend, tuple[Any, ...]], str | None] | None,
    route: Callable[[str], Callable[..., Any]] | None = None,
) -> Any:
    b = _select.resolve(backend, args, call)
    if transform in b.unsupported:
        return _NONE  # the general path raises
    if transform == "jacobian":
        mode = None if choose is None else choose(b, args)
        if mode is None:
            return _NONE
        prep = _build("jacrev" if mode == "rev" else "jacfwd", f, argnums, chunk_size, backend, call, args, None)
        # NOTE [Routes of automatic mode]
        return route(mode) if prep is _NONE and route is not None else prep
    asked, native_name = _NATIVE[transform]
    if transform == "hessian":  # and its hessian the jacfwd of its jacrev
        derived = _plan.prepared_hessian(b, chunk_size)
    elif transform == "jacfwd":  # the loop of NOTE [Columns by a loop] prepared whole, or the native jacfwd
        derived = chunk_size is None and _plan.prepared_jacfwd(b)
    else:
        derived = _plan.native(b, native_name, chunk_size)
    if transform in b.unsupported or not b.has_custom_rules or not derived:
        return _NONE  # the general path derives it, or raises
    if not args or any(not (b.is_array(a) or type(a) in _SCALARS) for a in args):
        return _NONE  # containers, or arrays of another framework
    diff = normalize_argnums(argnums, len(args), call)
    if not all(b.is_array(args[i]) for i in diff):
        return _NONE
    if any(not _arrays.unchanged(b, a, i in diff, call) for i, a in enumerate(args)):
        return _NONE  # a leaf to convert
    array_types = frozenset(type(a) for a in args if b.is_array(a))
    _tree.ARRAY_TYPES.update(array_types)  # NOTE [Arrays are leaves]
    outputs = _scalar(b, f, call, array_types) if asked == "grad_and_value" else _outputs(b, f, call, array_types)
    # Non-negative positions: torch.func.jacfwd of a negative argnums differentiates nothing (zeros).
    native = b.prepare(asked, outputs, diff[0] if isinstance(argnums, int) else diff, chunk_size)
    if native is None:
        return _NONE
    # The selection in force makes b the context's backend already when it names b.
    in_context = backend is None and _select.selected(call, False) is b
    forward = transform in ("hessian", "jacfwd")
    return b, native, diff[0] if len(diff) == 1 else -1, diff, in_context, forward


# NOTE [One frame for the guard and the output check]: a backend's own check that reads a
# per-thread flag while the user's function runs (torch's conversion guard, NOTE [Conversions
# that drop derivatives] in its backend) would wrap the function handed to ``Backend.prepare`` in
# a frame of its own, around the frame of the output check below: one more Python call per
# prepared call. The backend names the flag instead (``Backend.active_flag``), and the output
# check sets it around ``f`` and the check, as the backend's wrapper did, in the same frame
# (callgrind, torch ``jacobian 16->16`` jacrev: about 1,000 instructions fewer a call, docs/benchmarks.md,
# "Later counts").
def _outputs(b: Backend, f: Callable[..., Any], call: str, array_types: frozenset[type]) -> Callable[..., Any]:
    """``f`` returning its one float array as it is, or its checked leaves as a tuple with the
    structure put in the per-thread slot (NOTE [Prepared calls]), with the backend's flag set
    while it runs (NOTE [One frame for the guard and the output check]). An output type the
    checks once took as one array as it is (a traced array: autograd's ArrayBox) joins the
    argument types for the short check, which still reads the dtype."""
    floats, slot, flag = _arrays.FLOAT_DTYPES, _slot, b.active_flag
    known = set(array_types)

    def structured(out: Any, args: tuple[Any, ...]) -> Any:
        leaves, spec = _flat.output_leaves(b, call, out, args[0] if args else None)
        if leaves[0] is out and spec.is_leaf():
            known.add(type(out))
        if spec is _tree.LEAF:
            return leaves[0]
        slot.spec = (spec,)  # a new tuple: never the value the prepared call found there
        return leaves

    def outputs(*args: Any) -> Any:
        if flag is None or flag.active:
            out = f(*args)
            if type(out) in known and floats.get(out.dtype) is True:
                return out  # NOTE [Output structure in a slot]: the slot is left as it is
            return structured(out, args)
        flag.active = True
        try:
            out = f(*args)
            if type(out) in known and floats.get(out.dtype) is True:
                return out
            return structured(out, args)
        finally:
            flag.active = False

    return outputs


def _scalar(
    b: Backend,
    f: Callable[..., Any],
    call: str,
    array_types: frozenset[type],
    check: Callable[[str, Any], None] | None = None,
    weak: bool = False,
) -> Callable[..., Any]:
    """``f`` returning its one scalar, checked as the general path checks it (``check(call, out)``
    first, where the transform has its own words for a wrong output), with the backend's flag set
    while it runs (NOTE [One frame for the guard and the output check]); with ``weak``, ``f`` is
    a weak reference to the function."""
    floats, flag = _arrays.FLOAT_DTYPES, b.active_flag

    def checked(out: Any, args: tuple[Any, ...]) -> Any:  # what is not one float scalar of the arguments' types
        if check is not None:
            check(call, out)
        leaves, spec = _flat.output_leaves(b, call, out, args[0] if args else None)
        _flat.scalar_out(call, leaves, spec)
        return leaves[0]

    def scalar(*args: Any) -> Any:
        if flag is None or flag.active:
            out = f()(*args) if weak else f(*args)
            if type(out) in array_types and floats.get(out.dtype) is True and not out.shape:
                return out
            return checked(out, args)
        flag.active = True
        try:
            out = f()(*args) if weak else f(*args)
            if type(out) in array_types and floats.get(out.dtype) is True and not out.shape:
                return out
            return checked(out, args)
        finally:
            flag.active = False

    return scalar


#: The code of the functions that a transform ``Backend.prepare`` returns runs ``f`` through
#: (:func:`_outputs`, :func:`_scalar`), with those of a traced call, which backends read as
#: ``Backend.traced_callbacks()``: a compiled call whose trace ends in an error (one of the output
#: checks) runs its frame eagerly, and its prepared call then runs them from the framework's
#: transform (NOTE [Callbacks run eagerly after a graph break] in the torch backend's
#: ``_callbacks.py``).
CALLBACK_CODES: tuple[types.CodeType, ...] = _prepared_traced.CALLBACK_CODES + _prepared_traced.nested_codes(
    _outputs, _scalar
)

#: What :func:`second_order` returns for a call that takes the general path.
GENERAL: Any = object()

#: Per function, the prepared calls of hvp and vhp (functions, not transform objects: the
#: table is kept per ``f`` as long as ``f`` lives), keyed by ``id(f)`` with a weak reference to
#: ``f``: by identity, not equality, since two equal callables (a dataclass with a field left out
#: of ``__eq__``) may compute different functions, and a preparation calls the ``f`` it was made for.
_SECOND_ORDER: dict[int, tuple[weakref.ref[Any], dict[Any, Any]]] = {}


def _forget(key: int, ref: weakref.ref[Any]) -> None:
    """Drops ``f``'s table once ``f`` is gone (the weak reference's callback)."""
    entry = _SECOND_ORDER.get(key)
    if entry is not None and entry[0] is ref:
        _SECOND_ORDER.pop(key, None)


def _second_order_table(f: Any) -> dict[Any, Any] | None:
    """``f``'s table of prepared calls, or None where ``f`` cannot be weakly referenced."""
    entry = _SECOND_ORDER.get(id(f))
    if entry is not None and entry[0]() is f:
        return entry[1]
    try:
        ref = weakref.ref(f, functools.partial(_forget, id(f)))
    except TypeError:
        return None
    table: dict[Any, Any] = {}
    _SECOND_ORDER[id(f)] = (ref, table)
    return table


def second_order(
    transform: str,
    f: Callable[..., Any],
    primals: Any,
    tangents: Any,
    backend: str | Backend | None,
    check: Callable[[str, Any], None],
) -> Any:
    """``hvp`` or ``vhp`` (``transform``) of ``f`` by a prepared call, or GENERAL (NOTE [Prepared
    calls]); ``check(call, out)`` raises for an output that is not a scalar. Called where no
    compiler traces (the public functions ask: NOTE [Second-order calls in one frame] in
    multiad/_api_jac.py)."""
    if type(primals) is not tuple or type(tangents) is not tuple or len(primals) != len(tangents):
        return GENERAL
    entry = _SECOND_ORDER.get(id(f))  # _second_order_table(f), its common case inlined
    table = entry[1] if entry is not None and entry[0]() is f else _second_order_table(f)
    if table is None:  # not weakly referenceable
        return GENERAL
    key = (
        transform,
        _registry._generation[0],
        backend if backend is not None else _select.selection(),
        *map(type, primals),
    )
    prep = table.get(key)
    if type(prep) is not tuple:  # not prepared yet, or no prepared form
        if prep is None or prep is _ONCE:
            prep = _prepare(table, key, prep, lambda: _build_second_order(transform, f, primals, backend, check))
        if prep is _NONE or prep is _ONCE:
            return GENERAL
    b, native, call = prep
    floats = _arrays.FLOAT_DTYPES
    for p, t in zip(primals, tangents):
        if type(t) is not type(p) or floats.get(p.dtype) is not True or t.dtype != p.dtype or t.shape != p.shape:
            return GENERAL  # the general path converts or raises
    token = _select.enter(b)
    forward = None if transform == "vhp" else _custom_state._forward  # NOTE [Forward mode through custom_vjp]
    marked = None if forward is None else forward.set(forward.get() + 1)
    try:
        return native(primals, tangents)
    except _custom_state.ForwardOverCustomVJPError:
        return GENERAL  # the general path computes it in reverse mode
    except Exception as exc:  # NOTE [Framework errors], as _derive.guarded
        err = _derive.translate(b, call, exc)
        if err is None:
            raise
        raise err from exc
    finally:
        if marked is not None:
            forward.reset(marked)  # type: ignore[union-attr]
        if token is not None:
            _select.leave(token)


def _build_second_order(
    transform: str,
    f: Callable[..., Any],
    primals: tuple[Any, ...],
    backend: str | Backend | None,
    check: Callable[[str, Any], None],
) -> Any:
    call = f"{transform}({_flat.fname(f)})"
    if not primals:
        return _NONE
    b = _select.resolve(backend, primals, call)
    strategy = _plan.vhp_strategy(b) if transform == "vhp" else _plan.second_order(b)
    if strategy != (_plan.REV if transform == "vhp" else _plan.FWD) or transform in b.unsupported:
        return _NONE
    if not (b.has_custom_rules and b.has_vjp and _plan.native(b, "value_and_grad")):
        return _NONE
    if not all(b.is_array(p) and _arrays.unchanged(b, p, True, call) for p in primals):
        return _NONE
    array_types = frozenset(type(p) for p in primals)
    _tree.ARRAY_TYPES.update(array_types)  # NOTE [Arrays are leaves]
    argnums: Argnums = 0 if len(primals) == 1 else tuple(range(len(primals)))
    # The table is kept per f as long as f lives: what it holds refers to f weakly.
    native = b.prepare(transform, _scalar(b, weakref.ref(f), call, array_types, check, weak=True), argnums, None)
    return _NONE if native is None else (b, native, call)
