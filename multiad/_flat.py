"""The user's function seen as a flat function of the differentiated leaves.

NOTE [argnums and has_aux handled once]: every transform that differentiates turns
``f(*args, **kwargs)`` with ``argnums`` and ``has_aux`` into a function of the flat tuple of
differentiated leaves returning a flat tuple of output leaves (and, with ``has_aux``, the aux
value untouched). Backends only ever see that flat function; the structures needed to rebuild
the user's pytrees are recorded here.

NOTE [Aux holds any value]: ``aux`` is returned untouched, but frameworks restrict what may pass
through their ``has_aux`` (torch.func accepts tensors only). The flat function therefore hands
the backend only the array leaves of ``aux``, as a tuple, and keeps the other leaves and the
structure aside, from the first call (the one at the primals: a finite-difference backend calls
``f`` again at perturbed points, where a numpy scalar in aux would differ);
:meth:`Flat.rebuild_aux` puts them back together.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from . import _arrays, _ops, _plan, _registry, _select, _tree
from ._backend import Backend
from ._errors import InvalidArgumentError, InvalidTypeError, MixedBackendError, an

Argnums = int | tuple[int, ...]


def fname(f: Any) -> str:
    return getattr(f, "__name__", None) or type(f).__name__


_WRAPPED = ("__module__", "__name__", "__qualname__", "__doc__")


def wraps(f: Any, wrapper: Callable[..., Any]) -> Callable[..., Any]:
    """``functools.wraps(f)(wrapper)`` without copying ``__dict__``: transforms are often built
    per call (``grad(f)(x)``), so this runs on the hot path."""
    for name in _WRAPPED:
        try:
            setattr(wrapper, name, getattr(f, name))
        except AttributeError:
            pass
    wrapper.__wrapped__ = f  # type: ignore[attr-defined]
    return wrapper


def check_callable(f: Any, transform: str) -> None:
    if not callable(f):
        raise InvalidTypeError(f"{transform}(f): f must be callable, got {type(f).__name__} {f!r:.60}")


# NOTE [Integers by __index__]: ``argnums``, ``chunk_size``, ``nondiff_argnums`` and the axes of
# ``in_dims``/``out_dims`` take any integer that supports ``__index__`` (a numpy integer, as JAX
# takes them through ``operator.index``; a 0-d integer array), made a Python int when the
# transform is built, so that nothing later (the prepared signatures, the backends' own
# transforms, which may insist on ``int``) ever sees another kind. Booleans are not positions
# (``True`` and a boolean array keep their type, and the checks refuse them); a Python int passes
# untouched at the cost of one type check, since transforms are often built per call.
def as_index(value: Any) -> Any:
    """``value`` as a Python int where it is an integer other than a bool (NOTE [Integers by
    __index__]); anything else as it is, for the caller's check to refuse."""
    if type(value) is int or value is None:
        return value
    if isinstance(value, (bool, np.bool_)) or "bool" in str(getattr(value, "dtype", "")):
        return value
    try:
        return operator.index(value)
    except TypeError:
        return value


def as_argnums(argnums: Any) -> Any:
    """``argnums`` with its integers made Python ints (NOTE [Integers by __index__])."""
    if type(argnums) is int:
        return argnums
    if type(argnums) is tuple:
        return argnums if all([type(a) is int for a in argnums]) else tuple(map(as_index, argnums))
    return as_index(argnums)


def check_argnums_type(argnums: Any, call: str) -> None:
    ok = (isinstance(argnums, int) and not isinstance(argnums, bool)) or (
        isinstance(argnums, tuple)
        and len(argnums) > 0
        and all(isinstance(a, int) and not isinstance(a, bool) for a in argnums)
    )
    if not ok:
        raise InvalidTypeError(f"{call}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")


def check_chunk_size(chunk_size: Any, call: str) -> None:
    if chunk_size is not None and (not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1):
        raise InvalidArgumentError(f"{call}: chunk_size must be None or a positive int, got {chunk_size!r}")


def checked_argnums_and_chunk_size(argnums: Any, chunk_size: Any, call: str) -> tuple[Argnums, int | None]:
    """``argnums`` and ``chunk_size`` of a Jacobian or Hessian transform with their integers made
    Python ints (NOTE [Integers by __index__]), checked; raises naming ``call`` otherwise."""
    if type(argnums) is not int or chunk_size is not None:
        argnums, chunk_size = as_argnums(argnums), as_index(chunk_size)
    check_argnums_type(argnums, call)
    check_chunk_size(chunk_size, call)
    return argnums, chunk_size  # type: ignore[no-any-return]


def normalize_argnums(argnums: Argnums, nargs: int, call: str) -> tuple[int, ...]:
    """argnums as a tuple of non-negative positions, checked against the number of arguments."""
    check_argnums_type(argnums, call)
    seq = (argnums,) if isinstance(argnums, int) else argnums
    out = []
    for a in seq:
        if not nargs:  # f called with keyword arguments alone, which are not differentiated
            raise InvalidArgumentError(
                f"{call}: argnums={argnums!r} names a positional argument, but f was called with none; "
                "pass the arguments to differentiate positionally (keyword arguments are passed to f "
                "undifferentiated)"
            )
        if not -nargs <= a < nargs:
            raise InvalidArgumentError(
                f"{call}: argnums={argnums!r} is out of range for {nargs} positional argument(s); "
                f"use positions 0 to {nargs - 1}"
            )
        out.append(a % nargs)
    if len(set(out)) != len(out):
        raise InvalidArgumentError(f"{call}: argnums={argnums!r} names an argument twice; list each once")
    return tuple(out)


# NOTE [Arguments without arrays]: an argument named by ``argnums`` that holds no arrays (None,
# an empty tuple, list or dict) has nothing to differentiate. JAX's grad and vjp return it as its
# derivative (the empty structure; None for None), while JAX's jacrev and jacfwd and every
# transform of torch.func raise errors that do not say why. multiad raises the same error for
# every transform and backend, naming the argument and the argnums that leave it out.
def _no_arrays(call: str, i: int, argnums: Sequence[int]) -> InvalidArgumentError:
    if call.startswith(("vjp(", "jvp(", "linearize(", "hvp(", "vhp(")):  # every primal is differentiated
        return InvalidArgumentError(
            f"{call}: primal {i} holds no arrays to differentiate (it is None or a structure without "
            "arrays); pass only arrays or structures of arrays as primals, and give f the others in a "
            "closure (lambda x: f(x, other))"
        )
    rest = tuple(a for a in argnums if a != i)
    fix = (
        f"leave it out of argnums (argnums={rest[0] if len(rest) == 1 else rest!r})"
        if rest
        else "give argnums the position of an argument that holds arrays"
    )
    return InvalidArgumentError(
        f"{call}: argument {i} holds no arrays to differentiate (argnums names it, but it is None or a structure "
        f"without arrays); {fix}, or pass arrays in it"
    )


def _converted_leaves(b: Backend, old: Sequence[Any], spec: Any, call: str, i: int, isdiff: bool) -> list[Any]:
    """Argument ``i``'s leaves converted; an error about one leaf of several names its path
    (``argument 0 at ['n']``), found only then: paths cost more than the conversion."""
    try:
        return [_arrays.convert(b, leaf, call, f"argument {i}", isdiff) for leaf in old]
    except (InvalidTypeError, MixedBackendError):
        if len(old) < 2:
            raise
    paths = spec.paths()
    return [
        _arrays.convert(b, leaf, call, f"argument {i} at {''.join(f'[{k!r}]' for k in path)}", isdiff)
        for leaf, path in zip(old, paths)
    ]


def convert_args(
    b: Backend, leaves: Sequence[Any], specs: Sequence[Any], args: Sequence[Any], diff: Sequence[int], call: str
) -> tuple[list[Any], list[list[Any]]]:
    """Converts argument leaves (NOTE [Conversion policy]); differentiated ones must be floats.

    ``leaves`` are the leaves of all arguments and ``specs`` each argument's structure. Returns
    the arguments (rebuilt only where a leaf was converted) and each argument's converted leaves.
    """
    out, per_arg, start = list(args), [], 0
    for i, spec in enumerate(specs):
        n = spec.num_leaves
        old = leaves[start : start + n]
        start += n
        isdiff = i in diff
        new = _converted_leaves(b, old, spec, call, i, isdiff)
        if isdiff and not new:
            raise _no_arrays(call, i, diff)
        if any(x is not y for x, y in zip(new, old)):
            out[i] = _tree.unflatten(spec, new)
        per_arg.append(new)
    return out, per_arg


# NOTE [Prepared signatures]: what a call does with its arguments before running f depends only
# on their structure and leaf types, ``argnums`` and the backend chosen by ``backend=`` or the
# selection in force: checking and normalising ``argnums``, inferring the backend from the leaf
# types, which leaves are differentiated, and whether any leaf needs converting. That work is
# done once per such signature and kept in a small table (cleared whenever the registry of
# backends changes, since inference depends on it); a later call with the same signature only
# flattens its arguments and checks the dtypes of the differentiated leaves, which the table
# does not know. Arguments with a leaf to convert (numpy arrays on torch or JAX, Python numbers
# to differentiate, byte-swapped arrays) take the full conversion on every call. While a compiler traces Python the table is not used: its keys hold
# tree structures and types a compiler cannot hash.
class _Prepared:
    """The part of a call's argument handling that depends only on its signature."""

    __slots__ = (
        "argnums", "backend", "diff", "fixed", "guards", "in_spec", "loose", "out_dtype", "out_type", "pos", "same",
        "single", "specs", "take", "whole",
    )  # fmt: skip

    def with_spec(self, spec: _tree.TreeSpec) -> _Prepared:
        """This signature with the structures of the call whose arguments have structure
        ``spec`` (NOTE [Structures per call])."""
        prep = object.__new__(_Prepared)
        prep.argnums, prep.backend, prep.diff, prep.loose = self.argnums, self.backend, self.diff, True
        prep.fixed, prep.guards = self.fixed, self.guards
        prep.out_type, prep.out_dtype = self.out_type, self.out_dtype
        prep.pos, prep.same, prep.single, prep.take, prep.whole = (
            self.pos,
            self.same,
            self.single,
            self.take,
            self.whole,
        )
        prep.specs = specs = spec.children()
        prep.in_spec = specs[self.argnums[0]] if self.single else _tree.tuple_spec([specs[i] for i in self.argnums])
        return prep

    def __init__(
        self, leaves: Sequence[Any], spec: _tree.TreeSpec, argnums: Argnums, backend: Backend, call: str
    ) -> None:
        self.backend = backend
        #: The type and dtype of the last output f returned that was accepted as one float array
        #: of ``backend`` (NOTE [One output array accepted again]); set by eager calls only.
        self.out_type: Any = None
        self.out_dtype: Any = None
        self.specs = specs = spec.children()
        self.argnums = normalize_argnums(argnums, len(specs), call)
        self.single = isinstance(argnums, int)
        #: Whether the backend changes the arrays f gets outside argnums (NOTE [Arguments outside argnums]).
        self.guards = guards_arguments(backend)
        #: The argument positions outside argnums holding leaves, where ``guards`` (else empty).
        self.fixed = (
            tuple(i for i, s in enumerate(specs) if i not in self.argnums and s.num_leaves) if self.guards else ()
        )
        self.in_spec = specs[self.argnums[0]] if self.single else _tree.tuple_spec([specs[i] for i in self.argnums])
        #: Whether the arguments hold a dict or a registered node (NOTE [Structures per call]); set by
        #: the table, not while a compiler traces (a signature built per call has the call's own structures).
        self.loose = False
        starts, n = [], 0
        for s in specs:
            starts.append(n)
            n += s.num_leaves
        #: Flat positions of the differentiated leaves, in the order of ``argnums``.
        self.diff = tuple(k for i in self.argnums for k in range(starts[i], starts[i] + specs[i].num_leaves))
        for i in self.argnums:
            if not specs[i].num_leaves:
                raise _no_arrays(call, i, self.argnums)
        take = operator.itemgetter(*self.diff)
        #: The differentiated leaves of a call's leaves, as a tuple.
        self.take: Callable[[Sequence[Any]], tuple[Any, ...]] = (
            (lambda leaves: (take(leaves),)) if len(self.diff) == 1 else take  # type: ignore[assignment]
        )
        #: Whether every leaf is passed to f as it is (no conversion); then only dtypes are checked per call.
        diff = set(self.diff)
        self.same = all(_arrays.unchanged(backend, leaf, k in diff, call) for k, leaf in enumerate(leaves))
        _tree.ARRAY_TYPES.update(type(leaf) for leaf in leaves if backend.is_array(leaf))  # NOTE [Arrays are leaves]
        #: The argument position of the one differentiated leaf when it is a whole argument, else -1.
        self.pos = (
            self.argnums[0] if self.single and self.in_spec.num_nodes == 1 and self.in_spec.num_leaves == 1 else -1
        )
        #: Whether every argument is differentiated, in order, and is a single array (``vjp(f, x, y)``):
        #: the differentiated leaves are then the arguments themselves.
        self.whole = (
            not self.single
            and self.argnums == tuple(range(len(specs)))
            and all(s.num_nodes == 1 and s.num_leaves == 1 for s in specs)
        )


_PREPARED: dict[Any, _Prepared] = {}
_MAX_PREPARED = 1024
_registry.on_change.append(_PREPARED.clear)


def _prepared(
    leaves: Sequence[Any],
    spec: _tree.TreeSpec,
    argnums: Argnums,
    backend: str | Backend | None,
    call: str,
    traced: bool,
) -> _Prepared:
    if traced:  # NOTE [Compiled regions]
        return _Prepared(leaves, spec, argnums, _select.resolve(backend, leaves, call), call)
    chosen = _select.chosen(backend, call, False)
    key = (spec, argnums, chosen, *map(type, leaves))
    try:
        prep = _PREPARED.get(key)
    except (TypeError, ValueError):  # NOTE [Structures per call]: a node's data that cannot be compared
        return _Prepared(leaves, spec, argnums, _select.resolve(backend, leaves, call), call)
    if prep is None:
        generation = _registry.generation()
        b = chosen if chosen is not None else _select.resolve(None, leaves, call)
        _ops.prepare(b)
        if not _plan.JACFWD_SEEN[0] and _plan.prepared_jacfwd(b):  # NOTE [Prepared forward mode gate]
            _plan.JACFWD_SEEN[0] = True
        prep = _Prepared(leaves, spec, argnums, b, call)
        prep.loose = _tree.has_loose(spec)
        if len(_PREPARED) >= _MAX_PREPARED:
            _PREPARED.clear()
            _ARRAYS.clear()
        _registry.remember(_PREPARED, key, prep, generation)
    if prep.loose:  # NOTE [Structures per call]
        return prep.with_spec(spec)
    return prep


# NOTE [Structures per call]: two structures may compare (and hash) equal yet rebuild different
# arguments: dicts with the same keys inserted in another order (optree orders a dict's leaves by
# sorted key, and compares its structure so, while each rebuilds its own order, which ``f`` may
# read: ``p.values()``), and registered nodes whose data compare equal (``1`` and ``True``,
# ``0.0`` and ``-0.0``). A signature found in the table for arguments holding such a node
# therefore takes the structures that rebuild ``f``'s arguments and shape the results from the
# call's own ``spec``, never from the call that filled the table. A node's data that cannot be
# compared (a numpy array of several elements, whose ``==`` has no truth value) makes the lookup
# raise where two structures' hashes meet: such a call builds its signature without the table.


# NOTE [One output array accepted again]: every evaluation of f checks its output (one float
# array of the backend, or leaves to flatten, convert and check: :func:`output_leaves`), and the
# numpy backend evaluates f 65 times for a 16 -> 16 Jacobian. The check of one array asks the
# backend's ``is_array`` (a Python frame) and looks its dtype up in ``FLOAT_DTYPES`` (hashing a
# numpy dtype): about 2,700 instructions (callgrind) of the 6,000 the wrapper cost per evaluation.
# Both answers depend on the output's type and dtype alone (``is_array`` is a type test, as
# ``_Prepared.same`` already takes it to be; ``FLOAT_DTYPES`` is keyed by the dtype), so the
# signature's :class:`_Prepared`, whose backend is fixed, keeps the type and the dtype object of
# the last output accepted as one float array, and an output of that very type and that very
# dtype object (``is``, not ``==``: a byte-swapped or otherwise distinct numpy dtype takes the
# full check) is accepted at once. Anything else (a container, a number, another framework's
# array, an integer dtype, a subclass) takes the full check as before, with the same errors, and
# the full check's acceptance replaces the pair. The two are stored one after the other: a pair
# mixed by two threads holds a type and a dtype each accepted on its own, which is all the check
# asks. A call a compiler traces keeps neither (its _Prepared is its own, built in the trace) and
# takes the general path. The one-array argument case of :meth:`Flat.rebuild` is inlined too.


class Flat:
    """``f`` with ``argnums`` and ``has_aux`` applied, as a function of flat leaves."""

    __slots__ = ("_aux", "_prep", "args", "backend", "call", "f", "has_aux", "kwargs", "out_spec", "primals", "traced")
    # NOTE [Signature of the flat function]: JAX reads the signature of every function it
    # transforms (``inspect.signature``, twice per jax.vjp), for its error messages. Of an
    # instance, inspect finds ``__call__`` through the type and strips ``self`` from the bound
    # method's signature: about 1000 bytecodes and 55 frames per vjp on jax, 0.5 % of a 16 -> 16
    # vjp. The signature given here is the one ``__call__`` has without ``self``, read at once.
    __signature__: ClassVar[inspect.Signature] = inspect.Signature(
        [inspect.Parameter("leaves", inspect.Parameter.VAR_POSITIONAL)]
    )

    def __init__(
        self,
        f: Callable[..., Any],
        args: Sequence[Any],
        kwargs: dict[str, Any],
        argnums: Argnums,
        has_aux: bool,
        backend: str | Backend | None,
        call: str,
    ) -> None:
        self.f, self.kwargs, self.has_aux, self.call = f, kwargs, has_aux, call
        args = args if type(args) is tuple else tuple(args)
        #: Whether a compiler that traces Python is tracing this call (NOTE [Compiled regions]).
        self.traced = traced = _select.PROBE[0]()  # compiling() (NOTE [One compiler probe])
        leaves: Sequence[Any]
        if not traced and _tree.ARRAY_TYPES.issuperset(map(type, args)):  # NOTE [Arrays are leaves]
            leaves, spec = args, _tree.leaves_spec(len(args))
        else:  # one flatten of all arguments serves selection, conversion and the primals
            leaves, spec = _tree.flatten(args)
        self._prep = prep = _prepared(leaves, spec, argnums, backend, call, traced)  # NOTE [Prepared signatures]
        self.backend = b = prep.backend
        if prep.same:
            primals = prep.take(leaves)
            floats = _arrays.FLOAT_DTYPES
            if all([floats.get(x.dtype) is True for x in primals]):
                if prep.fixed or (kwargs and prep.guards):  # NOTE [Arguments outside argnums]
                    args, self.kwargs = constants(b, args, kwargs, prep.fixed)
                self.args: Sequence[Any] = args
                self.primals: tuple[Any, ...] = primals
                self.out_spec: _tree.TreeSpec | None = None
                self._aux: tuple[list[Any], _tree.TreeSpec, list[int]] | None = None
                return
        # Leaves to convert, or a dtype not seen yet or not a float: the full conversion and checks.
        self.args, per_arg = convert_args(b, leaves, prep.specs, args, prep.argnums, call)
        if prep.fixed or (kwargs and prep.guards):  # NOTE [Arguments outside argnums]
            self.args, self.kwargs = constants(b, self.args, kwargs, prep.fixed)
        self.primals = tuple(x for i in prep.argnums for x in per_arg[i])
        self.out_spec = None
        self._aux = None

    @property
    def argnums(self) -> tuple[int, ...]:
        """The differentiated argument positions, normalized."""
        return self._prep.argnums

    @property
    def single(self) -> bool:
        """Whether ``argnums`` was an int (one argument, not a tuple of them)."""
        return self._prep.single

    @property
    def whole(self) -> bool:
        """Whether the differentiated leaves are all the arguments, each one array (NOTE [Prepared signatures])."""
        return self._prep.whole

    @property
    def in_spec(self) -> _tree.TreeSpec:
        """The structure of the differentiated argument(s)."""
        return self._prep.in_spec

    def active(self) -> _select.active:
        """Makes the call's backend the context's backend while the transform runs."""
        return _select.active(self.backend, self.traced)

    def rebuild(self, leaves: Sequence[Any]) -> list[Any]:
        """The arguments of f with the differentiated leaves replaced by ``leaves``."""
        args = list(self.args)
        pos = self._prep.pos
        if pos >= 0:  # one differentiated argument that is a single array
            args[pos] = leaves[0]
            return args
        if self._prep.whole:
            return list(leaves)
        diff = _tree.unflatten(self.in_spec, leaves)
        if self.single:
            args[self.argnums[0]] = diff
        else:
            for pos, value in zip(self.argnums, diff):
                args[pos] = value
        return args

    def __call__(self, *leaves: Any) -> Any:
        prep = self._prep
        pos = prep.pos
        if pos >= 0:  # self.rebuild(leaves), inlined for one differentiated argument that is a single array
            args = list(self.args)
            args[pos] = leaves[0]
        else:
            args = self.rebuild(leaves)
        result = self.f(*args, **self.kwargs)
        if not self.has_aux:
            # self.flatten_out(result), inlined where f returns what it returned last time:
            # NOTE [One output array accepted again]
            if type(result) is prep.out_type and result.dtype is prep.out_dtype and not self.traced:
                self.out_spec = _tree.LEAF
                return (result,)
            return self.flatten_out(result)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            if isinstance(result, (tuple, list)):
                seen = f"a {type(result).__name__} of length {len(result)}"
            elif self.backend.is_array(result) or isinstance(result, (np.ndarray, np.generic)):
                seen = "a single array"  # the same words on every backend, traced or not
            else:
                seen = f"a {type(result).__name__}"
            raise InvalidArgumentError(
                f"{self.call}: has_aux=True requires f to return a pair (output, aux), got {seen}; "
                "return (output, aux), or drop has_aux"
            )
        out, aux = result
        aux_leaves, spec = _tree.flatten(aux)
        arrays = [i for i, leaf in enumerate(aux_leaves) if self.backend.is_array(leaf)]
        if self._aux is None:  # the first call is at the primals; later ones may be perturbed
            self._aux = ([None if i in arrays else x for i, x in enumerate(aux_leaves)], spec, arrays)
        return self.flatten_out(out), tuple(aux_leaves[i] for i in arrays)

    def forget_aux(self) -> None:
        """Forgets the aux kept from the calls so far, so that the next call's is kept: after an
        evaluation that is not the derivative's (NOTE [Aux of the derivative's evaluation] in
        ``multiad/_derive.py``)."""
        self._aux = None

    def rebuild_aux(self, arrays: Sequence[Any]) -> Any:
        """The user's aux from the array leaves a backend passed through (NOTE [Aux holds any value])."""
        assert self._aux is not None
        leaves, spec, positions = self._aux
        leaves = list(leaves)
        for i, x in zip(positions, arrays):
            leaves[i] = x
        return _tree.unflatten(spec, leaves)

    def flatten_out(self, out: Any) -> tuple[Any, ...]:
        # The common case, one float array (a traced call's structures are the compiler's, compared
        # with each other, so it takes the general path).
        prep = self._prep
        if type(out) is prep.out_type and out.dtype is prep.out_dtype and not self.traced:
            self.out_spec = _tree.LEAF  # NOTE [One output array accepted again]
            return (out,)
        if self.backend.is_array(out) and not self.traced and _arrays.FLOAT_DTYPES.get(out.dtype) is True:
            self.out_spec = _tree.LEAF
            prep.out_type, prep.out_dtype = type(out), out.dtype
            return (out,)
        primals = self.primals
        leaves, self.out_spec = output_leaves(self.backend, self.call, out, primals[0] if primals else None)
        return leaves

    def unflatten_in(self, leaves: Sequence[Any]) -> Any:
        """A result per differentiated leaf, in the structure of the differentiated arguments."""
        prep = self._prep
        if prep.pos >= 0:
            return leaves[0]
        if prep.whole:
            return tuple(leaves)
        return _tree.unflatten(prep.in_spec, list(leaves))

    def unflatten_out(self, leaves: Sequence[Any]) -> Any:
        assert self.out_spec is not None
        if self.out_spec is _tree.LEAF:
            return leaves[0]
        return _tree.unflatten(self.out_spec, list(leaves))

    def unflatten_blocks(self, blocks: Sequence[Sequence[Any]]) -> Any:
        """Jacobian blocks ``[out leaf][in leaf]`` as the output tree of input trees."""
        return self.unflatten_out([self.unflatten_in(row) for row in blocks])


# NOTE [Arguments outside argnums]: the arguments ``f`` is given but not differentiated (outside
# ``argnums``, and keyword arguments) reach every evaluation of ``f`` as the caller passed them,
# through :meth:`Flat.rebuild`. A backend that evaluates ``f`` once per call traces the write of
# such an argument or refuses it (torch: NOTE [Captured tensors changed in place] in its
# backend), but the numpy backend evaluates ``f`` at many perturbed points: ``x[:2] = y`` with
# ``argnums=1`` left the caller's ``x`` holding the last perturbed ``y`` (``-1.50001817`` for
# ``-1.5``), without a warning, and ``x[:2] += y`` gave each evaluation another ``x``, a gradient
# wrong by orders of magnitude blamed on the step by an AccuracyWarning. A backend that overrides
# ``Backend.constant_argument`` (the numpy backend: a read-only view, as it already passes the
# differentiated leaves, NOTE [Arguments f may not change] in its backend) gets each array leaf of
# those arguments once per call, here, and its value is what ``f`` gets at every evaluation;
# ``_Prepared.guards`` says so, so that a backend keeping the default costs one attribute read.
# Arrays ``f`` closes over are not arguments and are not covered. ``_Arrays`` calls (every
# argument differentiated) have none.
# NOTE [Arguments changed in place, per backend]: what multiad promises about an ``f`` that
# changes in place an argument it does not differentiate (``y *= 2`` on a keyword argument or an
# argument outside argnums): within one call every evaluation of ``f`` sees the value the caller
# passed, on every backend, and no result mixes values. Across calls the change is ``f``'s own,
# as in a plain call of ``f``. So the backends that evaluate ``f`` more than once per call with
# the caller's arrays (numpy's finite differences, autograd, whose arguments are plain numpy
# arrays and whose vmap is the core's loop: ``vmap(f, in_dims=(0, None))`` gave each batch
# element another ``y``) pass them read-only (``constant_argument``) and refuse the write with
# an error naming the call. torch and JAX evaluate ``f`` once per call (their vmap is
# vectorized): JAX converts a positional numpy argument (a copy, out of reach), torch refuses a
# write into a tensor outside argnums, and a numpy keyword argument reaches ``f`` as the
# caller's array, so ``grad(f)(x, y=y)`` changes ``y`` once per call, exactly as ``f(x, y=y)``
# does, and a second call sees the changed ``y``. Refusing that too would mean a read-only view
# per numpy keyword leaf per call on torch and JAX and, under a compiler, the general path for
# every call with such arguments (``_flat.guards_arguments`` turns off the traced fast path),
# and torch would copy the read-only array at every operation using it; a copy per call is
# ruled out by the per-call overhead goal. Documented in docs/reliability.md.
def guards_arguments(b: Backend) -> bool:
    """Whether ``b`` overrides ``Backend.constant_argument``, so that the arguments f is given but
    not differentiated pass through it (NOTE [Arguments outside argnums]; vmap's unbatched
    arguments, NOTE [Unbatched arguments f may not change] in multiad/_api_vmap.py)."""
    return type(b).constant_argument is not Backend.constant_argument


def constants(
    b: Backend, args: Sequence[Any], kwargs: dict[str, Any], fixed: tuple[int, ...]
) -> tuple[Sequence[Any], dict[str, Any]]:
    """``args`` and ``kwargs`` with the array leaves at ``fixed`` and in ``kwargs`` passed
    through ``b.constant_argument`` (NOTE [Arguments outside argnums])."""
    if fixed:
        args = list(args)
        for i in fixed:
            args[i] = _constant(b, args[i])
    if kwargs:
        kwargs = {k: _constant(b, v) for k, v in kwargs.items()}
    return args, kwargs


def _constant(b: Backend, value: Any) -> Any:
    if b.is_array(value):
        return b.constant_argument(value)
    leaves, spec = _tree.flatten(value)
    if not any(map(b.is_array, leaves)):
        return value
    return _tree.unflatten(spec, [b.constant_argument(x) if b.is_array(x) else x for x in leaves])


# NOTE [Calls of arrays alone]: ``vjp(f, x, y)`` differentiates every argument, and each is most
# often one array of the backend, with f a new function on every call (a lambda closing over the
# rest), so NOTE [Prepared calls] cannot help. :func:`of_arrays` builds its Flat from the table of
# NOTE [Prepared signatures] directly: a signature found there whose leaves pass unconverted, with
# float dtypes, gives a :class:`_Arrays`, whose call passes the leaves to f as its arguments. Any
# other call (traced, a pytree or number among the arguments, a dtype to check or convert, a
# signature not seen yet) is built by :class:`Flat` itself, which fills the table.
class _Arrays(Flat):
    """A Flat whose arguments are exactly its differentiated leaves, without aux or keywords."""

    __slots__ = ()
    # The same for every such call: class attributes, not set per call.
    kwargs: dict[str, Any] = {}  # noqa: RUF012 - never changed (passed as **kwargs)
    has_aux = False
    traced = False
    _aux = None

    def __call__(self, *leaves: Any) -> Any:
        out = self.f(*leaves)
        prep = self._prep  # as flatten_out, never traced
        if type(out) is prep.out_type and out.dtype is prep.out_dtype:  # NOTE [One output array accepted again]
            self.out_spec = _tree.LEAF
            return (out,)
        b = self.backend
        if b.is_array(out) and _arrays.FLOAT_DTYPES.get(out.dtype) is True:
            self.out_spec = _tree.LEAF
            prep.out_type, prep.out_dtype = type(out), out.dtype
            return (out,)
        outs, self.out_spec = output_leaves(b, self.call, out, leaves[0] if leaves else None)
        return outs


def of_arrays(
    f: Callable[..., Any],
    args: tuple[Any, ...],
    has_aux: bool,
    backend: str | Backend | None,
    call: str,
    traced: bool,
) -> Flat:
    """``Flat(f, args, {}, every argument, has_aux, backend, call)`` (NOTE [Calls of arrays
    alone]); ``traced`` is :func:`multiad._select.compiling`."""
    n = len(args)
    types = _tree.ARRAY_TYPES
    if (
        not has_aux
        and n < _N_HEADS
        and (type(args[0]) in types if n == 1 else types.issuperset(map(type, args)))
        and not traced
    ):
        chosen: Backend | None
        if backend is not None:
            chosen = _select._lookup(backend, call)
        else:  # _select.selected(call, False), inlined up to the environment variable's value
            chosen = _select._context.get()
            if chosen is None:
                chosen = _select._default
                if chosen is None and _select.env_value():
                    chosen = _select.selected(call, False)
        if n == 1:  # the same key and check for one argument, without unpacking
            x = args[0]
            key: tuple[Any, ...] = (chosen, type(x))
            prep = _ARRAYS.get(key)
            if prep is None:
                prep = _arrays_entry(key, (_SPEC1, _ARGNUMS1, *key))
            ok = prep is not None and prep.same and _arrays.FLOAT_DTYPES.get(x.dtype) is True
        else:
            key = (n, chosen, *map(type, args))
            prep = _ARRAYS.get(key)
            if prep is None:
                prep = _arrays_entry(key, (*_HEADS[n], *key[1:]))
            # FLOAT_DTYPES holds True or False: all() of its entries is the check of Flat.__init__.
            ok = prep is not None and prep.same and all(map(_arrays.FLOAT_DTYPES.get, map(_DTYPE, args)))
        if ok:
            assert prep is not None
            flat = _Arrays.__new__(_Arrays)
            flat.f, flat.call, flat._prep, flat.backend = f, call, prep, prep.backend
            flat.args = flat.primals = args
            flat.out_spec = None
            return flat
    return Flat(f, args, {}, tuple(range(n)), has_aux, backend, call)


def _arrays_entry(key: tuple[Any, ...], full: tuple[Any, ...]) -> _Prepared | None:
    """The entry of NOTE [Prepared signatures] for ``full``, kept in :data:`_ARRAYS` under ``key``."""
    generation = _registry.generation()
    prep = _PREPARED.get(full)
    if prep is not None:
        _registry.remember(_ARRAYS, key, prep, generation)
    return prep


# NOTE [Keys without the structure]: the table of NOTE [Prepared signatures] is keyed by the
# arguments' structure, and hashing an optree TreeSpec costs about 0.6 us, even for the one built
# once for n array arguments: a third of what :func:`of_arrays` did per call. Its signatures are
# kept again in _ARRAYS under a key without the structure (the number of arguments, which fixes
# it, the selection and the argument types), cleared whenever _PREPARED is.
_ARRAYS: dict[tuple[Any, ...], _Prepared] = {}
_registry.on_change.append(_ARRAYS.clear)
_DTYPE = operator.attrgetter("dtype")
_N_HEADS = 16
#: The start of a key of the table for ``n`` arguments all differentiated: their structure and argnums.
_HEADS = [(_tree.leaves_spec(n), tuple(range(n))) for n in range(_N_HEADS)]
_SPEC1, _ARGNUMS1 = _HEADS[1]


def not_an_output(b: Backend, call: str, leaf: Any, aux: bool = True) -> InvalidTypeError | MixedBackendError:
    """The error for an output leaf that is not an array of ``b``.

    NOTE [Outputs of another framework]: arguments are converted to the backend at the call,
    arrays ``f`` closes over are not; ``x * c`` with ``c`` a torch tensor returns a tensor from
    a function differentiated on the numpy backend. A framework's own functions make its arrays
    from the backend's too: on the numpy backend ``jnp.sum(x)``, or a ``jax.custom_vjp``
    function written with ``jax.numpy``, returns a JAX array from a numpy argument, and ``f``
    closes over nothing. Such a leaf is named with its framework and both causes, each with its
    fix, not as a value that is no array (the message named closed-over arrays alone, which
    misled where ``f`` closes over none). ``vmap`` on the numpy backend evaluates a function
    calling a JAX custom rule (it takes no derivative, so the rule does not matter) where ``f``
    returns numpy arrays, and raises this error where it returns a JAX array; the
    differentiating transforms refuse the call itself (NOTE [JAX custom rules under finite
    differences] in ``backends/numpy/multiad_numpy/_rules.py``). ``aux``: whether the
    transform takes ``has_aux`` (vmap does not).
    """
    owner = _select.owner_of(leaf, call)
    if owner is not None and owner != b.name:
        return MixedBackendError(
            f"{call}: f returned {an(owner)} array ({type(leaf).__name__}) on the {b.name!r} backend, made by "
            f"{owner}'s own functions from f's arguments (a {owner} custom-rule function among them) or from "
            f"{an(owner)} array f closes over (only f's arguments are converted); write f with multiad.numpy "
            f"(and rules with multiad.custom_vjp/custom_jvp), convert arrays it closes over with "
            f"multiad.asarray(c, backend={b.name!r}), or select the {owner!r} backend"
        )
    hint = " (use has_aux=True to return other values)" if aux else ""
    return InvalidTypeError(
        f"{call}: f returned a {type(leaf).__name__} leaf; outputs must be arrays or Python numbers{hint}"
    )


# NOTE [Outputs without arrays]: an ``f`` whose output holds no arrays (None, (), {}) raises on
# every differentiating transform and backend. JAX's grad raises too, while its jvp, vjp,
# linearize, jacfwd and jacrev return the empty structure (and zero cotangents); torch.func raises
# errors that do not say why. The error names what f returned and what to change
# (docs/migration.md, "Outputs must hold arrays").
def _short(out: Any) -> str:
    text = repr(out)
    return text if len(text) <= 60 else text[:57] + "..."


def constant_output(b: Backend, leaf: Any, like: Any) -> Any:
    """A leaf of f's output that is a numpy array or a Python number as an array of ``b``, on the
    device of ``like`` (one of f's arguments; NOTE [Constant outputs on the arguments' device]);
    a Python float is float64 where ``b`` computes in it (NOTE [Python float outputs])."""
    device = b._placement_of(like) if like is not None and b.is_array(like) else None
    if type(leaf) in (float, complex) and _arrays.keeps_float64(b):  # complex: complex128, as NumPy's
        return b.asarray(leaf, dtype="float64" if type(leaf) is float else "complex128", device=device)
    return b.asarray(leaf, device=device)


# NOTE [Constant outputs on the arguments' device]: a numpy array or Python number f returns was
# converted on the framework's default device (``torch.tensor(0.5)``: the CPU) whatever device
# the arguments are on, so ``vjp(lambda x: (x * 2, 0.5), x)`` with ``x`` on a GPU (or torch's
# "meta" device) returned one output there and the other on the CPU, and so did jvp's tangents,
# linearize, jacfwd's constant block and vmap. Such a leaf is now made on the device of an
# argument of that evaluation of f (the first leaf f is given), as ``Backend.eye`` places its
# identity (``Backend._placement_of``: None, the default, for the CPU). Only this branch, for
# outputs that are not arrays of the backend, reads the device.


def converted_outputs(b: Backend, call: str, leaves: Sequence[Any], like: Any, aux: bool = True) -> tuple[Any, ...]:
    """The leaves of f's output as arrays of ``b``: numpy arrays and numbers converted on the
    device of ``like`` (NOTE [Constant outputs on the arguments' device]), anything else refused
    (:func:`not_an_output`; ``aux``: whether the transform takes ``has_aux``)."""
    conv = []
    for leaf in leaves:
        if not b.is_array(leaf):
            if not isinstance(leaf, (np.ndarray, np.generic, int, float, complex)):  # bool is an int
                raise not_an_output(b, call, leaf, aux)
            leaf = constant_output(b, leaf, like)
        conv.append(leaf)
    return tuple(conv)


def output_leaves(b: Backend, call: str, out: Any, like: Any) -> tuple[tuple[Any, ...], _tree.TreeSpec]:
    """The leaves of ``f``'s output as arrays of ``b`` and its structure; raises unless every
    leaf is a floating-point array or a number (NOTE [Outputs must be floats]). ``like``: an
    argument f was given, whose device a leaf converted takes (None: the default device)."""
    leaves, spec = _tree.flatten(out)
    conv = converted_outputs(b, call, leaves, like)
    if not conv:
        raise InvalidArgumentError(  # NOTE [Outputs without arrays]
            f"{call}: f returned no arrays (got {_short(out)}); return at least one floating-point array, "
            "or leave this call out where f has nothing to differentiate"
        )
    for i, leaf in enumerate(conv):
        ok, name = _arrays.is_float(b, leaf)
        if not ok:
            raise InvalidTypeError(_not_float_output(call, name or b.dtype_name(leaf), i if len(conv) > 1 else None))
    return conv, spec


# NOTE [Outputs must be floats]: a derivative is taken of floating-point outputs only, on every
# backend and by every transform, as differentiated arguments must be floats (NOTE [Conversion
# policy]). The frameworks disagree otherwise: for an integer output torch and autograd give zero
# derivatives, JAX raises its own TypeError, and for a complex output autograd's reverse mode
# keeps the real part alone (a wrong Jacobian without an error). A Python float (``return 1.0``)
# is a constant with zero derivatives (NOTE [Python float outputs]); a Python int or bool is not
# a float.


# NOTE [Python float outputs]: a Python float that f returns (``lambda x: 0.1``, or a leaf of its
# output) becomes a float64 array, the dtype of the Python number, as JAX with x64, autograd and
# numpy give, whatever the arguments' dtypes: on torch (any backend over torch) and on backends
# declaring ``creates_float64`` it became the framework's default float32, so
# ``value_and_grad(lambda x: 0.1)`` returned 0.1 off by 1.5e-9, and so did the outputs of vjp
# and jvp and a constant block of jacfwd. It is the dtype ``mnp.asarray(0.1)`` gives there
# (NOTE [Creation dtypes] in multiad/numpy/_creation.py); JAX without x64 keeps its float32.
# Python floats passed as arguments are float64 too (NOTE [Python float arguments] in multiad/_arrays.py).
# Only this conversion branch pays for the test: an array that f returns takes none.


def _not_float_output(call: str, dtype: str, leaf: int | None) -> str:
    what = "f's output" if leaf is None else f"leaf {leaf} of f's output"
    if "complex" in dtype:
        return (
            f"{call}: {what} has complex dtype {dtype}; complex differentiation is not supported; return its "
            "real and imaginary parts as separate real outputs"
        )
    kind = "boolean" if dtype == "bool" else "integer" if "int" in dtype else "non-floating-point"
    return (
        f"{call}: {what} has {kind} dtype {dtype}, and only floating-point outputs have derivatives; return a "
        "float (1.0 rather than 1, or mnp.asarray(y, dtype='float64')), or return the value as aux with has_aux=True"
    )


NON_SCALAR_HINT = "use jacrev or vjp for non-scalar outputs"


# NOTE [A scalar in a container]: grad's f returns a scalar; a list or tuple (or dict) holding
# one scalar was taken as that scalar, where jax.grad ("Gradient only defined for scalar-output
# functions") and torch.func.grad ("Expected f(*args) to return a Tensor") refuse it, so code
# written against multiad broke when it ran on those directly. ``out_spec`` is the structure of
# f's output (None where the caller checked it); a single leaf is the only one accepted.
def scalar_out(call: str, outs: tuple[Any, ...], out_spec: Any, hint: str = NON_SCALAR_HINT) -> None:
    """Raises unless f returned one array of shape (), bare; ``hint`` names the transform meant instead."""
    if len(outs) != 1 or tuple(outs[0].shape) != ():
        shapes = ", ".join(str(tuple(o.shape)) for o in outs)
        raise InvalidArgumentError(
            f"{call}: f must return a scalar (an array of shape ()), got shape {shapes}; "
            f"{hint}, or reduce the output (for instance .sum())"
        )
    if out_spec is not None and not out_spec.is_leaf():  # NOTE [A scalar in a container]
        raise InvalidArgumentError(
            f"{call}: f must return a scalar (an array of shape ()), got a "
            f"{getattr(out_spec.type, '__name__', 'container')} holding one; return the scalar itself "
            "(out[0] of a list or tuple of one)"
        )


# hvp and vhp stay scalar-only: for a vector output the Hessian-vector product is a jvp of
# jacrev(f) (or the full hessian(f), which accepts any output).
SECOND_ORDER_HINT = "for a non-scalar output take hessian(f) (jacfwd(jacrev(f)), any output) or jvp(jacrev(f), ...)"


def check_second_order_scalar(call: str, out: Any) -> None:
    """Raises unless ``out`` is one array of shape () or a Python number (``hvp``'s and ``vhp``'s
    output check, here for their traced call to reach it only on its error path)."""
    if isinstance(out, (int, float)):  # a Python number is 0-d: NOTE [Outputs must be floats]
        return
    if getattr(out, "shape", None) is None:
        raise InvalidArgumentError(
            f"{call}: f must return a scalar array of shape (), got {type(out).__name__}; {SECOND_ORDER_HINT}"
        )
    scalar_out(call, (out,), None, SECOND_ORDER_HINT)
