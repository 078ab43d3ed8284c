"""vmap."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _arrays, _derive, _registry, _select, _tree
from ._api_ad import BackendArg
from ._backend import Backend
from ._derive import batch_size as _batch_size
from ._derive import vmap as _vmap_of
from ._errors import (
    BackendError,
    InvalidArgumentError,
    InvalidTypeError,
    MultiADError,
    UnsupportedOperationError,
)
from ._flat import (
    as_index,
    check_callable,
    check_chunk_size,
    constants,
    converted_outputs,
    fname,
    guards_arguments,
)
from ._ops import do
from ._prepared_traced import vmap_decision as _vmap_decision
from ._prepared_traced import vmap_token as _vmap_token
from ._results import _defect


def _is_axis(a: Any) -> bool:
    return a is None or (isinstance(a, int) and not isinstance(a, bool))


def _indexed(dims: Any) -> Any:
    """``dims`` with its integer axes made Python ints (NOTE [Integers by __index__] in ``multiad/_flat.py``)."""
    if type(dims) is int or dims is None:
        return dims
    if isinstance(dims, (tuple, list)) and all([type(d) is int or d is None for d in dims]):
        return dims
    return _tree.map_axes(as_index, dims)


def _check_dims(call: str, name: str, dims: Any) -> None:
    leaves = _tree.axes(dims) if not _is_axis(dims) else [dims]
    for a in leaves:
        if not _is_axis(a):
            per = "argument" if name == "in_dims" else "output"
            raise InvalidTypeError(
                f"{call}: {name} entries must be ints or None, got {a!r} in {dims!r}; give an axis number, "
                f"None (not batched) or a tuple with one per {per}"
            )


# NOTE [Whole in_dims]: the whole ``in_dims`` is an axis for every argument (an int or None) or a
# tuple (or list) with one entry per positional argument; only such an entry may be a pytree
# prefix. A dict or another container as the whole ``in_dims`` was applied to every argument as a
# prefix, which JAX (TypeError: "vmap in_axes must be an int, None, or a tuple of entries") and
# torch.func both refuse, and which reads like a map from argument names to axes; it raises,
# naming the tuple that gives one argument that prefix. A tuple subclass (a namedtuple) is a tuple
# here, as in JAX.


def vmap(
    f: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0, chunk_size: int | None = None,
    backend: BackendArg = None,
) -> Callable[..., Any]:  # fmt: skip
    """Vectorizes ``f`` over a batch axis of its arguments.

    Args:
        f: a function of arrays (pytrees allowed).
        in_dims: an int or None for every argument, or a tuple with one entry per positional
            argument, each an int, None (not batched) or a pytree prefix of that argument. A dict
            or other container as the whole ``in_dims`` raises InvalidTypeError, as in JAX and
            torch.func (it would read as a map from argument names to axes): put it in a tuple,
            one entry per argument.
        out_dims: an int for every output, None for an output that does not vary over the batch
            (returned once, without a batch axis; an output that does vary over the batch
            raises InvalidArgumentError; on a backend whose derivatives are approximate, such as
            numpy's finite differences, batch elements that differ by at most ``sqrt(eps)``
            times its largest magnitude count as the same), or a pytree prefix of the output
            with such entries.
        chunk_size: evaluate this many batch elements at a time (memory bound); default all.
            On torch and JAX it also sets how many times ``f`` runs (once per chunk, see below).
        backend: backend name or object. Backends without a vmap run a Python loop.

    How many times ``f`` runs: on torch and JAX once per call on the whole batch (once per
    chunk with ``chunk_size``: ``ceil(n / chunk_size)`` times), on autograd and numpy (a loop)
    once per batch element; over an empty batch once on every backend. Random numbers drawn
    inside ``f`` (NumPy's ``np.random``, or other side effects such as a counter) therefore
    differ by backend: torch and JAX give every row the same draw (every row of a chunk, and
    another draw per chunk, so ``chunk_size`` changes the numbers), autograd and numpy a fresh
    draw per row; torch's own random functions raise (torch.func's ``randomness="error"``).
    Draw random values outside ``f`` and pass them in as a batched argument, as torch.func's
    ``randomness=`` and JAX's explicit keys make you do, for the same numbers on every backend.

    Returns:
        A function whose outputs carry the batch axis at ``out_dims``. Keyword arguments are
        passed through unbatched. Over an empty batch (mapped axes of size 0) each output has
        batch size 0 and the per-example shape and dtype; a backend without a vmap learns them
        by calling ``f`` once on an all-zero example. An output asked for unbatched
        (``out_dims=None``) has no value over an empty batch and raises there (``jax.vmap``
        returns the value ``f`` gives its all-zero example).

    Example:
        >>> import multiad, multiad.numpy as mnp, numpy as np
        >>> out = multiad.vmap(lambda x, y: mnp.sum(x * y), in_dims=(0, None), backend="numpy")(np.ones((3, 2)), np.ones(2))
        >>> multiad.to_numpy(out).tolist()
        [2.0, 2.0, 2.0]
    """
    check_callable(f, "vmap")
    call = f"vmap({fname(f)})"
    if type(in_dims) is not int or type(out_dims) is not int or chunk_size is not None:
        # NOTE [Integers by __index__] in multiad/_flat.py
        chunk_size, in_dims, out_dims = as_index(chunk_size), _indexed(in_dims), _indexed(out_dims)
    check_chunk_size(chunk_size, call)
    if not isinstance(in_dims, (tuple, list)):
        if not _is_axis(in_dims) and not isinstance(in_dims, (str, bytes)):  # see NOTE [Whole in_dims]
            raise InvalidTypeError(
                f"{call}: in_dims must be an int, None, or a tuple with one entry per positional argument, "
                f"got {in_dims!r}; to give one argument a pytree prefix, put it in a tuple: in_dims=({in_dims!r},)"
            )
        _check_dims(call, "in_dims", in_dims)
    else:
        for d in in_dims:
            _check_dims(call, "in_dims", d)
    _check_dims(call, "out_dims", out_dims)

    plans: dict[Any, _Plan] = {}  # NOTE [Prepared vmap calls]
    generation, compiling, selection, context, slot, array_types, leaf = (
        _registry._generation,
        _select.compiling,
        _select.selection,
        _select._context,
        _slot,
        _tree.ARRAY_TYPES,
        _tree.LEAF,
    )
    at_zero = type(out_dims) is int and out_dims == 0  # every output batched along axis 0 already
    traced_call = _traced(f, in_dims, out_dims, chunk_size, backend, call, at_zero)

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        traced = compiling()
        if traced and not kwargs:  # NOTE [Prepared calls under a compiler] in multiad/_prepared_traced.py
            done, res = traced_call(args)
            if done:
                return res
        leaves: Any
        spec: Any = None  # None: the arguments are the leaves
        plan: _Plan | None
        if not traced and array_types.issuperset(map(type, args)):  # NOTE [Arrays are leaves]
            leaves = args
        else:
            leaves, spec = _tree.flatten(args)
        if traced:  # NOTE [Compiled regions]: no table while a compiler traces
            plan = _Plan(args, leaves, None, in_dims, backend, call)
        else:
            gen = generation[0]
            key = (gen, spec, backend if backend is not None else selection(), *map(type, leaves))
            try:
                plan = plans.get(key)
            except (TypeError, ValueError):  # NOTE [Structures per call] in multiad/_flat.py
                plan = _Plan(args, leaves, None, in_dims, backend, call)  # not kept
            if plan is None:
                plan = _Plan(args, leaves, spec, in_dims, backend, call)
                if len(plans) >= _MAX_PLANS:
                    plans.clear()
                _registry.remember(plans, key, plan, gen)
        b = plan.backend
        if not plan.same:
            leaves = [_arrays.convert(b, x, call, f"leaf {k} of the arguments", False) for k, x in enumerate(leaves)]
        axes = plan.axes
        for k, ax in zip(plan.mapped_pos, axes):
            ndim = len(leaves[k].shape)
            if not -ndim <= ax < ndim:
                raise InvalidArgumentError(
                    f"{call}: in_dims maps axis {ax} of leaf {k} of the arguments, which has shape "
                    f"{tuple(leaves[k].shape)}; use an axis that exists, or None for an unbatched argument"
                )
        if plan.negative:
            axes = [ax % len(leaves[k].shape) for k, ax in zip(plan.mapped_pos, axes)]
        if plan.fixed or (kwargs and plan.guards):  # NOTE [Unbatched arguments f may not change]
            leaves, kwargs = constants(b, leaves, kwargs, plan.fixed)
        if plan.several:
            _derive.batch_size([leaves[k] for k in plan.mapped_pos], axes, call)
        batched = plan.batched
        if batched is None or kwargs or traced or (plan.negative and axes != plan.built_for):
            if spec is None:
                spec = _tree.leaves_spec(len(leaves))
            if kwargs or traced or not plan.preparable or batched is not None:
                batched = None
            else:
                batched = plan.prepare(f, spec, axes, chunk_size, call)
        if batched is None:  # the call's own flat function
            outs, spec_o = _per_call(f, b, leaves, spec, plan.mapped_pos, axes, kwargs, chunk_size, traced, call)
        else:
            outer, slot.spec = slot.spec, _UNSET  # an enclosing call's, restored below (NOTE [Calls inside a call's f])
            if plan.loose:  # NOTE [Structures per call] in multiad/_flat.py
                saved, slot.tree, plan.tree = slot.tree, spec, spec
            token = context.set(b)  # NOTE [Context set outright] in multiad/_api_ad.py
            slot.calls += 1
            try:  # _derive.guarded, inlined
                outs = batched(*leaves)  # not marked: vmap takes no derivative (NOTE [Backends without custom rules])
            except Exception as exc:  # a MultiADError too: NOTE [Errors of nested transforms] in _derive.py
                err = _derive.translate(b, call, exc, "vectorize")
                if err is None:
                    raise
                raise err from exc
            finally:
                slot.calls -= 1
                context.reset(token)
                if plan.loose:
                    slot.tree = saved
                spec_o, slot.spec = slot.spec, outer
            if spec_o is _UNSET:  # the backend ran the flat function on another thread
                spec_o = plan.out_spec
        if at_zero:
            return outs[0] if spec_o is leaf else _tree.unflatten(spec_o, list(outs))
        return _moved(call, outs, spec_o, out_dims, b, [leaves[k] for k in plan.mapped_pos])

    return wrapper


def _traced(
    f: Callable[..., Any],
    in_dims: Any,
    out_dims: Any,
    chunk_size: int | None,
    backend: BackendArg,
    call: str,
    at_zero: bool,
) -> Callable[[tuple[Any, ...]], tuple[bool, Any]]:
    """What a vmap runs while a compiler traces it (NOTE [Prepared calls under a compiler] in
    ``multiad/_prepared_traced.py``): ``(True, result)``, or ``(False, None)`` for the general path."""
    decide = _vmap_decision  # by name: NOTE [One way to each module in a trace] in multiad/_prepared_traced.py

    def plain(d: Any) -> bool:  # ``__class__``: traced, ``type()`` of a symbolic int is ``int`` too
        return d is None or d.__class__ is int

    # NOTE [Plain numbers in decisions] in multiad/_prepared_traced.py
    per_arg = isinstance(in_dims, (tuple, list))
    plain_numbers = (all([plain(d) for d in in_dims]) if per_arg else plain(in_dims)) and plain(chunk_size)
    # NOTE [A token the compiler keeps constant] in multiad/_prepared_traced.py: the trace reads
    # the token, not in_dims, backend= or the call's name, and takes the axes from the decision.
    key = _vmap_token(in_dims, backend, call) if plain_numbers else None

    def traced_call(args: tuple[Any, ...]) -> tuple[bool, Any]:
        if key is None:
            return False, None
        # NOTE [Argument types in a trace], [Symbolic ints in a trace] in multiad/_prepared_traced.py
        types = tuple(
            [type(a) if isinstance(a, int) or getattr(a, "dtype", None) is None else a.__class__ for a in args]
        )
        ndims = tuple([-1 if isinstance(a, int) else getattr(a, "ndim", -1) for a in args])
        decided = decide(key, types, ndims)  # NOTE [One way to each module in a trace]
        if decided is None:
            return False, None
        (_, mapped_pos, fixed, axes), b = decided
        is_array = b.is_array
        for a in args:
            if not is_array(a):
                return False, None
        leaves: Sequence[Any] = args
        if fixed:  # NOTE [Unbatched arguments f may not change]
            leaves, _ = constants(b, leaves, {}, fixed)
        mapped = [leaves[k] for k in mapped_pos]
        # NOTE [Axes made in the trace]: torch.func's vmap guards the types of the axes it is
        # given, and a constant of the decision cannot be guarded (torch 2.13: NotImplementedError
        # from make_guard); ``% ndim`` (the axes are normalized already) makes new ints of them.
        in_axes: list[int | None] = [None] * len(leaves)
        for k, ax in zip(mapped_pos, axes):
            in_axes[k] = ax % leaves[k].ndim
        if len(mapped_pos) > 1:
            _batch_size(mapped, [in_axes[k] for k in mapped_pos], call)
        box: list[Any] = []  # the output structure, where f returns more than one array

        def flat(*xs: Any) -> tuple[Any, ...]:
            out = f(*xs)
            if is_array(out):
                if box:  # an earlier example or chunk returned a tree (NOTE [One output structure per call])
                    _one_structure(call, box[0], _tree.LEAF)
                return (out,)
            outs, spec_o = _outputs(b, call, out, xs)
            if box and box[0] is not spec_o:
                _one_structure(call, box[0], spec_o)
            box.append(spec_o)
            return outs

        batched = _vmap_of(b, flat, in_axes, chunk_size, call)  # by name: NOTE [One way to each module in a trace]
        outs = batched(*leaves)  # NOTE [Errors of traced calls] in multiad/_prepared_traced.py
        if at_zero:
            return True, _tree.unflatten(box[0], list(outs)) if box else outs[0]
        # A structure made in the trace: the compiler's pytree functions take no other.
        spec_o = box[0] if box else _tree.flatten(outs[0])[1]
        return True, _moved(call, outs, spec_o, out_dims, b, mapped)

    return traced_call


def _per_call(
    f: Callable[..., Any],
    b: Backend,
    leaves: Sequence[Any],
    spec: Any,
    mapped_pos: list[int],
    axes: list[int],
    kwargs: dict[str, Any],
    chunk_size: int | None,
    traced: bool,
    call: str,
) -> tuple[tuple[Any, ...], Any]:
    """A call's outputs and their structure by a flat function of the mapped leaves made for
    this call alone, the other leaves and the keyword arguments closed over (NOTE [Prepared vmap
    calls])."""
    out_spec: list[Any] = []

    def flat_fun(*xs: Any) -> tuple[Any, ...]:
        args = list(leaves)
        for pos, x in zip(mapped_pos, xs):
            args[pos] = x
        out = f(*_tree.unflatten(spec, args), **kwargs)
        if not traced and b.is_array(out):  # one array: NOTE [Arrays are leaves]
            outs, spec_o = (out,), _tree.LEAF
        else:
            outs, spec_o = _outputs(b, call, out, xs)
        if out_spec and out_spec[0] is not spec_o:  # NOTE [One output structure per call]
            _one_structure(call, out_spec[0], spec_o)
        out_spec[:] = [spec_o]
        return outs

    mapped = [leaves[k] for k in mapped_pos]
    with _select.active(b, traced):
        batched = _derive.vmap(b, flat_fun, axes, chunk_size, call)
        outs = _derive.guarded(b, call, batched, *mapped, verb="vectorize")
    (spec_o,) = out_spec
    return outs, spec_o


# NOTE [One output structure per call]: vmap stacks the outputs of ``f`` leaf by leaf and
# returns them in one structure. Where ``f`` runs more than once in a call (the loop of a
# backend without a vmap, one example at a time; a chunked vmap, one chunk at a time), an ``f``
# whose structure depends on the values (a branch returning ``{"a": v}`` or ``{"b": v}``, one
# output or two) or on state gave silently the last example's structure to all of them: example
# 1's ``{"b": ...}`` came back under ``"a"``, a second output of a later example was dropped,
# and leaf counts that differed by chunk met the frameworks' raw errors (a torch assertion, an
# IndexError on JAX). Each run of ``f`` after the first in a call compares its output's
# structure with the first's and raises the call's error on a difference; the first run, and a
# call running ``f`` once (a framework's vmap without chunks, the common case), compare
# nothing. A prepared call keeps the structure in the per-thread slot, reset when the call
# starts; a flat function run on a thread other than the call's (a backend's own) sees no call
# open on its thread's slot and compares nothing there.
#
# NOTE [Calls inside a call's f]: a vmap call inside ``f`` of another (``vmap`` of a function
# that calls a prepared ``vmap``) uses the same per-thread slot. It leaves the slot as it found
# it, so that the enclosing call's next run of ``f`` compares with that call's own first run:
# where the enclosing call ran ``f`` again after an error (torch's vmap over an empty batch
# falls back to the loop, NOTE [Empty batches inside an empty batch] in _derive.py), it compared
# its ``(value, grad)`` pair with the inner call's one array and blamed ``f`` for a structure
# that changed between examples, over a batch with no examples.
def _one_structure(call: str, first: Any, spec: Any) -> None:
    """Raises where ``spec``, the structure of a later run of ``f`` in a vmap call, differs from
    ``first``, the first run's (NOTE [One output structure per call])."""
    if spec == first:
        return

    def shown(s: Any) -> str:
        n = s.num_leaves
        return "one array" if s == _tree.LEAF else f"{s} ({n} array{'s' if n != 1 else ''})"

    raise InvalidArgumentError(
        f"{call}: f returned an output structured as {shown(first)} for the first example (or chunk) "
        f"but as {shown(spec)} for a later one; vmap stacks the outputs of all examples in one structure, "
        "so it must not depend on the values or change between calls: return the same containers, keys "
        "and number of outputs for every example (mnp.where selects a value without changing the structure)"
    )


def _outputs(b: Backend, call: str, out: Any, xs: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any]:
    """The leaves of ``f``'s output ``out`` as arrays of ``b``, and its structure; ``xs``: the
    leaves f was given, on whose device a constant leaf is made (NOTE [Constant outputs on the
    arguments' device] in multiad/_flat.py)."""
    outs, spec_o = _tree.flatten(out)
    return converted_outputs(b, call, outs, xs[0] if xs else None, aux=False), spec_o


def _flat(f: Callable[..., Any], plan: _Plan, spec: Any, call: str) -> Callable[..., tuple[Any, ...]]:
    """``f`` as a flat function of all the leaves of its arguments, its outputs' structure put in
    the per-thread slot, and in the plan for a backend that runs it on another thread (NOTE
    [Prepared vmap calls])."""
    b = plan.backend
    is_array, slot, leaf = b.is_array, _slot, _tree.LEAF
    if spec == _tree.leaves_spec(spec.num_leaves):

        def flat_args(*xs: Any) -> tuple[Any, ...]:  # the arguments are the leaves
            before = slot.spec  # an earlier example's or chunk's (NOTE [One output structure per call])
            out = f(*xs)
            if is_array(out):  # one array: NOTE [Arrays are leaves]
                if before is not leaf and before is not _UNSET and slot.calls:
                    _one_structure(call, before, leaf)
                slot.spec = plan.out_spec = leaf
                return (out,)
            outs, spec_o = _outputs(b, call, out, xs)
            if before is not _UNSET and slot.calls:
                _one_structure(call, before, spec_o)
            slot.spec = plan.out_spec = spec_o
            return outs

        return flat_args

    def flat_tree(*xs: Any) -> tuple[Any, ...]:
        # The call's own structure where the arguments hold a dict or a registered node (NOTE
        # [Structures per call] in multiad/_flat.py): from the slot, or the plan on a backend's own thread.
        before = slot.spec  # an earlier example's or chunk's (NOTE [One output structure per call])
        out = f(*_tree.unflatten((slot.tree or plan.tree) if plan.loose else spec, xs))
        if is_array(out):
            if before is not leaf and before is not _UNSET and slot.calls:
                _one_structure(call, before, leaf)
            slot.spec = plan.out_spec = leaf
            return (out,)
        outs, spec_o = _outputs(b, call, out, xs)
        if before is not _UNSET and slot.calls:
            _one_structure(call, before, spec_o)
        slot.spec = plan.out_spec = spec_o
        return outs

    return flat_tree


def _moved(call: str, outs: tuple[Any, ...], spec_o: Any, out_dims: Any, b: Backend, mapped: list[Any]) -> Any:
    """The outputs with their batch axis moved from 0 to ``out_dims``, in their structure;
    ``mapped`` are the mapped leaves of the arguments (NOTE [Unbatched outputs])."""
    tree = _tree.unflatten(
        spec_o, list(outs)
    )  # not zeros: NOTE [Axes of a prefix under a compiler] in multiad/_tree.py
    try:
        oaxes = _tree.leaf_axes(out_dims, tree)
    except ValueError:
        # optree's words, the outputs shown by shape and dtype (zeros for them showed a tuple
        # of zeros, neither out_dims nor the output)
        why = _tree.mismatch(out_dims, tree)
        raise InvalidArgumentError(
            f"{call}: out_dims={out_dims!r} does not match the output: {why}; give one int for every "
            "output, or a tree prefix of the output"
        ) from None
    moved = []
    for k, (o, ax) in enumerate(zip(outs, oaxes)):
        if ax is None:
            moved.append(_unbatched(call, o, k, out_dims, b, mapped))
            continue
        nd = len(o.shape)
        if not -nd <= ax < nd:
            raise InvalidArgumentError(
                f"{call}: out_dims={out_dims!r} puts the batch axis at {ax} of an output with {nd} dims; "
                f"use an axis from {-nd} to {nd - 1}"
            )
        moved.append(o if ax % nd == 0 else do("transpose", o, _moved_axes(nd, ax % nd)))
    return _tree.unflatten(spec_o, moved)


# NOTE [Unbatched arguments f may not change]: a backend that passes ``f`` its arguments as
# read-only views (the numpy backend: NOTE [Arguments outside argnums] in ``multiad/_flat.py``)
# did so only for the differentiating transforms, and ``vmap``'s loop gave every batch element
# the caller's own unbatched arrays (``in_dims`` None, keyword arguments): ``c[:] = x`` in ``f``
# left the caller's ``c`` holding the last element's row, without an error, where torch raises
# (a batched value written into an unbatched tensor) and JAX cannot write at all. The unbatched
# leaves and the keyword arguments pass through ``Backend.constant_argument`` once per call, so
# the write raises (NonDifferentiableError, named by the backend) and the caller's array is left
# as it was; ``_Plan.guards`` keeps the cost of a backend with the default to one attribute
# read. The mapped arguments' rows are views of the caller's arrays, as torch's batched tensors
# are: a write into them changes the caller's array on both.
# NOTE [Prepared vmap calls]: what a call of a vmap does before mapping depends only on its
# signature: the arguments' structure and leaf types, the backend chosen by ``backend=`` or the
# selection in force (as given, as NOTE [Prepared calls] keys it) and the registry's generation
# (as for the differentiating transforms, NOTE [Prepared signatures] in ``multiad/_flat.py``):
# checking ``in_dims`` against the arguments, inferring the backend, which leaves are mapped
# along which axis, and whether any leaf needs converting. Each vmap keeps a plan per signature
# in a small table of its own, and the plan holds the backend's batched function too: ``f`` as
# a flat function of all the leaves of its arguments, built once, mapped by the backend's
# ``vmap`` (or the core's loop) over the mapped leaves' axes with None for every other leaf,
# built once. A later call with the same signature flattens its arguments (not at all when they
# are all arrays), converts leaves that need it (numpy arrays on torch or JAX), checks the
# mapped axes against the leaves' dimensions and the batch sizes, and calls the batched
# function with the backend as the context's backend and framework errors translated as
# ``_derive.guarded`` does. Nothing of a call is kept in the plan: the leaves not mapped are
# arguments of the batched function, not closed over, and the flat function hands the output's
# structure (found while ``f`` runs, so it may differ between calls) back through a per-thread
# slot, reset before each call and read after it, so nested and concurrent calls keep their
# own; a backend that runs the flat function on a thread of its own leaves the slot unset, and
# the structure is then the one the plan recorded last. A call takes a flat function of its
# own instead, with the leaves not mapped and the keyword arguments closed over (the general
# path), when it has keyword arguments, when a leaf not mapped is not an array (a Python number
# or string passed through), when a negative axis lands on another axis than in the plan's
# first call (leaves of another rank), and while a compiler traces Python (NOTE [Compiled
# regions]: then no table is used either; a call of arrays alone with axes for whole arguments
# is then decided once per trace, NOTE [Prepared calls under a compiler] in
# ``multiad/_prepared_traced.py``). Arguments holding a dict or a registered node reach
# ``f`` rebuilt by the call's own structure (NOTE [Structures per call] in ``multiad/_flat.py``),
# which travels to the flat function through the slot too (through the plan on a backend's own thread). On torch, the vmap of ``torch.func.jacrev(predict)``
# over 64x(31->33), two arguments unbatched, runs 9510 bytecodes per call where
# ``torch.func.vmap`` of it runs 10226 and the flat function made per call ran 10422 (NOTE
# [torch.func.vmap built per function] in the torch backend says why); an elementwise ``vmap``
# of one argument 2249, against torch.func's 1988 (3212 before); on JAX 7881 against 7575 (8736).
_MAX_PLANS = 64


class _Slot(threading.local):
    def __init__(self) -> None:
        #: The output structure of the flat function that ran last on this thread.
        self.spec: Any = _UNSET
        #: How many prepared vmap calls this thread is inside: a flat function run on a thread
        #: that is not (a backend's own) compares no structures (NOTE [One output structure per call]).
        self.calls = 0
        #: The argument structure of the prepared call running on this thread, where it holds a dict.
        self.tree: Any = None


_UNSET: Any = object()
_slot = _Slot()


class _Plan:
    """The part of a vmap call that depends only on its signature."""

    __slots__ = (
        "axes", "backend", "batched", "built_for", "fixed", "guards", "loose", "mapped_pos", "n",
        "negative", "out_spec", "preparable", "same", "several", "tree",
    )  # fmt: skip

    def __init__(
        self, args: tuple[Any, ...], leaves: Sequence[Any], spec: Any, in_dims: Any, backend: BackendArg, call: str
    ) -> None:
        #: Whether the arguments hold a dict or a registered node, and the structure of the latest call's arguments then.
        self.loose, self.tree = spec is not None and _tree.has_loose(spec), spec
        if isinstance(in_dims, (tuple, list)):
            if len(in_dims) != len(args):
                raise InvalidArgumentError(
                    f"{call}: in_dims has {len(in_dims)} entries but f got {len(args)} positional arguments; "
                    "give one entry per argument (None for an unbatched one)"
                )
            per_arg = list(in_dims)
        else:
            per_arg = [in_dims] * len(args)
        axes: list[Any] = []
        for i, (arg, d) in enumerate(zip(args, per_arg)):
            try:
                axes.extend(_tree.leaf_axes(d, arg))
            except ValueError:
                raise InvalidArgumentError(  # the argument's arrays by shape and dtype, not their values
                    f"{call}: in_dims[{i}]={d!r} does not match argument {i}: {_tree.mismatch(d, arg)}; "
                    "give one int or None for "
                    "the whole argument, or a tree prefix of it"
                ) from None
        self.backend = b = _select.resolve(backend, leaves, call)
        _derive.require(b, "vmap", call)
        self.same = all(_arrays.unchanged(b, leaf, False, call) for leaf in leaves)
        _tree.ARRAY_TYPES.update(type(leaf) for leaf in leaves if b.is_array(leaf))  # NOTE [Arrays are leaves]
        self.mapped_pos: list[int] = []
        self.axes: list[int] = []
        self.preparable = True  # every leaf not mapped is an array (in_axes None)
        for k, (leaf, ax) in enumerate(zip(leaves, axes)):
            x = _arrays.convert(b, leaf, call, f"leaf {k} of the arguments", False)
            if ax is None:
                self.preparable = self.preparable and b.is_array(x)
                continue
            if not b.is_array(x):
                raise InvalidArgumentError(
                    f"{call}: in_dims maps axis {ax} of leaf {k} of the arguments, which has type "
                    f"{type(x).__name__}; use an axis that exists, or None for an unbatched argument"
                )
            self.mapped_pos.append(k)
            self.axes.append(ax)
        if not self.mapped_pos:
            raise InvalidArgumentError(
                f"{call}: in_dims maps no array argument; at least one must be batched"
                + (
                    " (keyword arguments are passed to f unbatched: pass the batched arrays positionally)"
                    if not leaves
                    else ""
                )
            )
        #: Whether the backend changes the arrays f gets unbatched, and the positions of those
        #: leaves then (NOTE [Unbatched arguments f may not change]).
        self.guards = guards_arguments(b)
        mapped = set(self.mapped_pos)
        self.fixed = tuple(k for k in range(len(leaves)) if k not in mapped) if self.guards else ()
        self.negative = any(ax < 0 for ax in self.axes)
        self.several = len(self.mapped_pos) > 1
        self.batched: Callable[..., tuple[Any, ...]] | None = None
        self.built_for: list[int] = []
        self.out_spec: Any = _UNSET
        self.n = len(leaves)

    def prepare(
        self, f: Callable[..., Any], spec: Any, axes: list[int], chunk_size: int | None, call: str
    ) -> Callable[..., tuple[Any, ...]]:
        """The vmap of ``f`` as a flat function of all the leaves over the mapped ``axes``
        (normalised), made once (NOTE [Prepared vmap calls])."""
        in_axes: list[int | None] = [None] * self.n
        for k, ax in zip(self.mapped_pos, axes):
            in_axes[k] = ax
        self.built_for = axes
        with _select.active(self.backend, False):
            self.batched = batched = _derive.vmap(self.backend, _flat(f, self, spec, call), in_axes, chunk_size, call)
        return batched


# NOTE [Unbatched outputs]: ``out_dims=None`` (for every output, or as an entry of an out_dims
# tree) asks for an output that does not vary over the batch, returned once, without a batch
# axis, as JAX's ``out_axes=None`` and torch.func's ``out_dims=None``. Those two decide by
# dependence (the output is not a batched value of their tracing) and raise otherwise. A
# backend's vmap here batches every output along axis 0 (a Python loop has no notion of
# dependence), so multiad decides by value, the same way on every backend: the batched output
# must be the same array at every batch index (exactly; nan equal to nan), and is then returned
# at index 0; an output that differs anywhere raises, naming the leaf, instead of handing back
# one element of it. An output that depends on the batch but is equal over it (``x * 0``) is
# thus returned where JAX and torch.func raise: the value is the same either way. The check
# needs concrete values: an empty batch (no element to return) and a call traced by a compiler
# or inside an enclosing framework transform that cannot branch on values (jax.jit, an outer
# vmap) raise a clear error. Equal values do not make equal derivatives: inside ``grad``, an
# output ``2 * x_i`` of a batch of equal ``x_i`` passes the check, and index 0 would carry the
# derivative of ``x_0`` alone ([2, 0, 0] where the frameworks raise). So where a mapped
# argument is itself a value an enclosing transform differentiates or traces
# (``Backend.is_traced``), the check by value cannot stand for dependence, and the call raises.
def _unbatched(call: str, o: Any, k: int, out_dims: Any, b: Backend, mapped: list[Any]) -> Any:
    """Output leaf ``k`` (batched along axis 0) without its batch axis, if it is the same at every
    batch index (NOTE [Unbatched outputs])."""
    what = f"{call}: out_dims={out_dims!r} asks for output leaf {k} unbatched (None)"
    if not o.shape or o.shape[0] == 0:
        raise InvalidArgumentError(
            f"{what}, but the batch is empty, so there is no value to return; give the output an int "
            "out_dims, or compute it outside vmap"
        )
    if any(map(b.is_traced, mapped)):
        raise InvalidArgumentError(
            f"{what}, which is checked on the values, and the values are not available here (a compiler or "
            "an enclosing transform traces the batched arguments, and equal values of them would not mean an "
            "output free of the batch); give the output an int out_dims (and take index 0 yourself if it is "
            "the same everywhere), or compute it outside vmap"
        )
    first = o[0, ...]  # an array on numpy too, where o[0] of one dimension is a scalar
    same = _same_over_batch(call, what, o, first, b)
    if not same:
        spread = None if b.exact else _spread(b, o)  # NOTE [Unbatched outputs of approximate derivatives]
        if spread is None or spread[0] > spread[1]:
            by = ""
            if spread is not None and spread[0] <= spread[1] ** 0.4:  # within a nested derivative's error
                by = (
                    f" (by up to {spread[0]:.2g} of its largest element, above the {spread[1]:.2g} that backend "
                    f"{b.name!r}, whose derivatives are approximate, allows as the error of a first derivative)"
                )
            raise InvalidArgumentError(
                f"{what}, but it varies over the batch{by}; give it an int out_dims (the axis for the batch), "
                "or return from f only what does not depend on the batched arguments"
            )
    return first


# NOTE [Comparing an unbatched output]: the check of NOTE [Unbatched outputs] uses only what the
# backend contract documents. A concrete output (``is_traced`` False) is compared in numpy, after
# ``Backend.to_numpy``: the core had combined the framework's comparisons with ``&`` and ``|``,
# which no doc asks of an array class, and a plugin's own Tensor class without them was
# refused at the top level with "the values are not available here", the TypeError swallowed into
# a wrong reason. An output an enclosing transform or a compiler traces while the batched
# arguments are concrete (a closed-over value differentiated, a jax.jit trace) has no numpy value
# (``to_numpy`` raises for it, by the contract); it is compared by the namespace's documented
# numpy functions (``equal``, ``isnan``, ``logical_and``, ``logical_or``, ``all``), and only
# there, where ``is_traced`` has said the value is traced, is a failure of the framework's
# ``bool`` reported as values not available, with the framework's words. A failure on a concrete
# output is a BackendError naming the backend.
def _same_over_batch(call: str, what: str, o: Any, first: Any, b: Backend) -> bool:
    """Whether ``o`` (batched along axis 0) equals ``first`` (its index 0) at every batch index,
    nan equal to nan (NOTE [Comparing an unbatched output])."""
    if not b.is_traced(o):
        try:
            values = np.asarray(b.to_numpy(o))
        except MultiADError:
            raise
        except Exception as e:  # to_numpy of a concrete array is the contract's: its failure is a defect
            raise BackendError(
                f"{call}: the {b.name} backend's to_numpy failed on output leaf of shape {tuple(o.shape)} that "
                f"is_traced says is concrete ({type(e).__name__}: {e}), while checking out_dims=None. " + _defect(b)
            ) from e
        head = values[:1]
        with np.errstate(invalid="ignore"):
            return bool(np.all((values == head) | ((values != values) & (head != head))))
    try:
        nan = do("logical_and", do("isnan", o), do("isnan", first)) if _inexact(b, o) else None
        eq = do("equal", o, first)
        same = do("all", eq if nan is None else do("logical_or", eq, nan))
    except MultiADError:
        raise
    except ImportError as e:  # autoray's word for a name the namespace lacks: not a tracer's refusal
        raise UnsupportedOperationError(
            f"{what}, which is checked on the values of an output an enclosing transform traces, with the "
            f"namespace's equal, isnan, logical_and, logical_or and all, and backend {b.name!r}'s "
            f"numpy_namespace() lacks one ({e}); give the output an int out_dims, or compute it outside vmap"
        ) from None
    try:
        return bool(same)
    except MultiADError:
        raise
    except Exception as e:  # noqa: BLE001 - a tracer (jax.jit, an outer vmap) refuses bool() in its own ways
        why = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
        raise InvalidArgumentError(
            f"{what}, which is checked on the values, and the values are not available here (a compiler or an "
            f"enclosing transform traces the output: {type(e).__name__}{': ' + why if why else ''}); give the "
            "output an int out_dims, or compute it outside vmap"
        ) from None


def _inexact(b: Backend, o: Any) -> bool:
    """Whether ``o`` has a floating or complex dtype (only those hold nan)."""
    name = b.dtype_name(o)
    return name.startswith(("float", "complex", "bfloat"))


# NOTE [Unbatched outputs of approximate derivatives]: on a backend whose derivatives are
# approximate (``Backend.exact`` False: finite differences), a derivative computed inside ``f``
# differs between batch elements by its error even where it does not depend on them: the numpy
# backend sizes and groups its steps by every primal, the batched ones ``f`` ignores included,
# so ``jvp`` of ``g(a, c) = 2 sin(c)`` along ``(1, v)`` came out ``[0.80209576, -0.79867906]`` at
# every row, the rows differing by 1.4e-11 relative, and ``out_dims=None`` raised "varies over
# the batch" where torch, JAX, autograd and ``jax.vmap`` return it. There, an output that is not
# exactly the same at every index is still returned (at index 0) where it differs from index 0 by
# at most ``sqrt(eps)`` of its dtype times its largest finite magnitude: the accuracy such a backend
# promises for a first derivative (docs/reliability.md, the numpy backend's AccuracyWarning
# tolerance, 1.5e-8 in float64 and 3.5e-4 in float32; the rows above in float32 differ by 3.6e-5).
# It is no wider: the numpy backend differentiates a function holding such a vmap by evaluating
# it at perturbed inputs, and a perturbation that breaks the equality of a batch that depends on
# them (``2 x_i`` over equal ``x_i``, NOTE [Unbatched outputs]) changes the rows by the step,
# ``eps ** (1/3)`` of the input's scale or more, which must still raise. Rows of a nested
# derivative (``hvp``: 1.4e-6 in float64) exceed it and raise, saying by how much where that is
# within the error of a nested derivative (``eps ** (1/5)``, 7.4e-4 in float64; beyond it the
# message is every backend's). An integer or
# other exact output, and every output on an exact backend, is compared exactly, as before; the
# check runs only where the exact comparison failed.
def _spread(b: Backend, o: Any) -> tuple[float, float] | None:
    """How far output ``o`` (batched along axis 0) is from its index 0 at most, relative to its
    largest finite magnitude, and the most that is allowed; None for an output that is not
    floating point (NOTE [Unbatched outputs of approximate derivatives])."""
    values = np.asarray(b.to_numpy(o))
    if not np.issubdtype(values.dtype, np.inexact):
        return None
    first = values[:1]
    with np.errstate(invalid="ignore", over="ignore"):
        same = (values == first) | (np.isnan(values) & np.isnan(first))
        diff = np.where(same, 0.0, np.abs(values - first))
        finite = np.abs(values[np.isfinite(values)])
        largest = float(np.max(finite)) if finite.size else 0.0
        worst = float(np.max(diff))
    spread = worst / largest if largest > 0 and np.isfinite(worst) else float("inf")
    return spread, float(np.sqrt(np.finfo(values.dtype).eps))


def _moved_axes(nd: int, to: int) -> tuple[int, ...]:
    """The permutation moving axis 0 to ``to``: a transpose, since torch has no vmap rule for
    ``moveaxis``, so that the batch axis can be placed inside an enclosing torch vmap."""
    rest = list(range(1, nd))
    return (*rest[:to], 0, *rest[to:])
