"""Flat-level transforms derived once from a backend's primitives (NOTE [Derivation table]).

Functions here take a backend and a flat function (positional arrays in, tuple of arrays out)
and return flat results; ``_api_*`` modules wrap them with pytrees, ``argnums`` and checks.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import _custom_state, _foreign, _plan, _results, _rolled
from ._backend import Backend, FlatFun, Pullback
from ._errors import BackendError, InvalidArgumentError, MultiADError, NonDifferentiableError, UnsupportedOperationError
from ._ops import do


def guarded(b: Backend, call: str, fn: Callable[..., Any], *args: Any, verb: str = "differentiate") -> Any:
    """Runs a backend primitive, turning the framework's 'cannot differentiate' into ours.

    NOTE [Framework errors]: an operation the framework cannot trace (torch ``.item()`` on a
    tensor that carries a derivative, ``float`` of a JAX tracer, a numpy function autograd does
    not know) raises NonDifferentiableError naming the backend and, through the backend's
    ``translate_error``, the operation. Errors a backend does not recognise pass unchanged: they
    are the user's function's own.
    """
    try:
        # nothing to mark (NOTE [Backends without custom rules]): rules, or no derivative taken (vmap)
        if b.has_custom_rules or verb == "vectorize":
            return fn(*args)
        return _custom_state.run_marked(b, fn, *args)
    except Exception as exc:  # a MultiADError too: NOTE [Errors of nested transforms]
        translated = translate(b, call, exc, verb)
        if translated is None:
            raise
        raise translated from exc


def translate(b: Backend, call: str, exc: Exception, verb: str = "differentiate") -> Exception | None:
    """The error :func:`guarded` raises instead of ``exc``, or None to let ``exc`` pass."""
    if isinstance(exc, MultiADError):
        return _outer(call, exc, verb)
    foreign = _foreign.foreign_code_error(exc, b, call)  # NOTE [Foreign framework code]
    if foreign is not None:
        return foreign
    reason = b.translate_error(exc)
    if reason is None:
        return None
    err = NonDifferentiableError(f"{call}: the {b.name} backend could not {verb} f: {reason}")
    err.__dict__[_TRANSLATED] = (b.name, reason, call, call)
    return err


# NOTE [Errors of nested transforms]: a framework error met inside a transform nested in another
# (``vmap(grad(f))`` over ``x[x > 0]``, which only the outer vmap makes untraceable) was
# translated by the inner transform's guard and passed through the outer one unchanged, so the
# message named the inner ``grad(f)``, not the ``vmap`` the user called. The translated error
# records the backend, the reason and the inner call (an attribute under ``_TRANSLATED``), and
# an outer guard, whose call differs, raises it again under its own call, naming the inner one
# where it happened: "vmap(g): the jax backend could not vectorize f, at grad(f) inside it: ...",
# the inner error as its cause. Only the error path pays: the guards' ``except`` clauses pass
# what they catch to :func:`translate`. The inner error is still the one code inside ``f`` sees
# and may catch; other errors of multiad (a wrong argument of the inner call) keep its name.
_TRANSLATED = "_multiad_translated"


def _outer(call: str, exc: MultiADError, verb: str) -> Exception | None:
    """A framework error a nested transform translated, under the call of the transform around it
    (NOTE [Errors of nested transforms]); None for any other error of multiad."""
    info = exc.__dict__.get(_TRANSLATED)
    if info is None or info[3] == call:
        return None
    name, reason, inner, _ = info
    err = NonDifferentiableError(f"{call}: the {name} backend could not {verb} f, at {inner} inside it: {reason}")
    err.__dict__[_TRANSLATED] = (name, reason, inner, call)
    return err


def require(b: Backend, transform: str, call: str) -> None:
    """Raises UnsupportedOperationError if ``b`` declares ``transform`` unsupported."""
    if transform in b.unsupported:
        raise UnsupportedOperationError(
            f"{call}: the {b.name!r} backend declares {transform} unsupported; "
            f"select another backend (multiad.list_backends() shows them)"
        )


def require_vjp(b: Backend, call: str) -> None:
    """Raises UnsupportedOperationError if ``b`` has no reverse mode."""
    if not b.has_vjp:
        raise UnsupportedOperationError(
            f"{call}: the {b.name!r} backend has no reverse mode (vjp); select a backend that has one "
            "(multiad.list_backends() shows them)"
        )


def vjp(b: Backend, fun: FlatFun, primals: tuple[Any, ...], has_aux: bool, call: str) -> tuple[Any, Pullback, Any]:
    if not b.has_vjp:
        require_vjp(b, call)
    if not b.has_custom_rules:
        outs, pullback, aux = guarded(b, call, b.vjp, fun, primals, has_aux)
        return _arrays(b, outs), pullback, aux
    try:  # guarded, inlined: this runs on every vjp and reverse-mode call
        res = b.vjp(fun, primals, has_aux)
    except Exception as exc:  # a MultiADError too: NOTE [Errors of nested transforms]
        translated = translate(b, call, exc)
        if translated is None:
            raise
        raise translated from exc
    outs, pullback, aux = res
    return _arrays(b, outs), pullback, aux


def grad_fun(b: Backend, fun: FlatFun, call: str) -> FlatFun:
    """The gradient of ``fun`` (a flat function returning one scalar) as a flat function returning
    one gradient per primal, for composing second-order transforms at the flat level. It runs
    inside the primitive of the outer level, which already marks it and translates framework
    errors (:func:`guarded`), so it calls the backend's primitives directly."""
    if _plan.native(b, "value_and_grad"):

        def scalar(*xs: Any) -> Any:
            return fun(*xs)[0]

        def native_grad(*xs: Any) -> tuple[Any, ...]:
            return _results.pulled(b, call, b.value_and_grad(scalar, xs, False)[1], xs, what="value_and_grad")

        return native_grad

    def grad(*xs: Any) -> tuple[Any, ...]:
        outs, pullback, _ = b.vjp(fun, xs, False)
        return _results.pulled(b, call, pullback((do("ones_like", outs[0]),)), xs)

    return grad


def _arrays(b: Backend, xs: Sequence[Any]) -> tuple[Any, ...]:
    """A framework may hand back a scalar result as a number (numpy scalars, for instance)."""
    if type(xs) is tuple and all(map(b.is_array, xs)):
        return xs
    is_array = b.is_array
    return tuple(x if is_array(x) else b.asarray(x) for x in xs)


def jvp(
    b: Backend, fun: FlatFun, primals: tuple[Any, ...], tangents: tuple[Any, ...], has_aux: bool, call: str
) -> tuple[Any, Any, Any]:
    with _custom_state.forward():
        try:
            return _jvp(b, fun, primals, tangents, has_aux, call)
        except _custom_state.ForwardOverCustomVJPError as exc:
            raise _custom_state.named_by(call, exc) from None


def _jvp(
    b: Backend, fun: FlatFun, primals: tuple[Any, ...], tangents: tuple[Any, ...], has_aux: bool, call: str
) -> tuple[Any, Any, Any]:
    if _plan.jvp_native(b):
        outs, touts, aux = guarded(b, call, b.jvp, fun, primals, tangents, has_aux)
        outs = _arrays(b, outs)
        return outs, _results.pushed(b, call, touts, outs), aux  # NOTE [Results of a backend's primitives]
    outs, push, aux = pushforward(b, fun, primals, has_aux, call)  # NOTE [Linearize once]
    return outs, push(*tangents), aux


def pushforward(
    b: Backend, fun: FlatFun, primals: tuple[Any, ...], has_aux: bool, call: str
) -> tuple[tuple[Any, ...], Callable[..., tuple[Any, ...]], Any]:
    """``(outs, push, aux)``: ``f`` evaluated once and its Jacobian-vector product ``push``.

    NOTE [Linearize once]: the pullback is linear in the cotangent, so its own vjp, taken at
    any cotangent, is the pushforward. The forward pass and both vjps are built here, once;
    each call of ``push`` runs only the last pullback, so ``f`` is not evaluated again and
    tangents stay consistent with ``outs`` even for a stochastic ``f``. The vjp is taken at a
    cotangent of ones, not zeros: a framework's pullback may skip a term when its cotangent is
    all zeros (autograd's ``eigh`` drops the eigenvector term then), which at zero would drop
    that term from every tangent.
    """
    outs, pullback2, aux = linearized(b, fun, primals, has_aux, call)

    def push(*tangents: Any) -> tuple[Any, ...]:
        return _results.pulled(b, call, pullback2(tangents), outs)

    return outs, push, aux


def linearized(
    b: Backend, fun: FlatFun, primals: tuple[Any, ...], has_aux: bool, call: str
) -> tuple[tuple[Any, ...], Pullback, Any]:
    """``(outs, pull, aux)`` as :func:`pushforward`, with the backend's pullback of the pullback
    itself: ``pull(tangents)`` takes a tuple and returns what a pullback does, unchecked (NOTE
    [Results of a backend's primitives]: its callers check it against ``outs``)."""
    outs, pullback, aux = vjp(b, fun, primals, has_aux, call)
    ones = tuple(do("ones_like", o) for o in outs)
    _, pullback2, _ = vjp(b, lambda *cts: _results.pulled(b, call, pullback(cts), primals), ones, False, call)
    return outs, pullback2, aux


def _take(x: Any, index: Any, axis: int) -> Any:
    return x[(slice(None),) * axis + (index,)]


def _first_axis_rows(x: Any, n: int) -> Any:
    """The ``n`` rows of ``x`` along its first axis, in order.

    NOTE [Rows by index]: numpy arrays are iterated (the fastest way to their rows); other
    arrays are indexed, ``x[i]``, which every framework's arrays support, while iterating does
    not: a symbolic TensorFlow tensor (inside ``tf.function``) refuses ``iter`` even where its
    shape is known, and the loop vmap of a plugin over TensorFlow raised
    OperatorNotAllowedInGraphError under its compiler."""
    return x if type(x) is np.ndarray else [x[i] for i in range(n)]


def batch_size(args: Sequence[Any], in_axes: Sequence[int | None], call: str) -> int:
    sizes = {int(a.shape[ax]) for a, ax in zip(args, in_axes) if ax is not None}
    if len(sizes) != 1:
        detail = ", ".join(
            f"argument leaf {i} axis {ax} has size {a.shape[ax]}"
            for i, (a, ax) in enumerate(zip(args, in_axes))
            if ax is not None
        )
        raise InvalidArgumentError(
            f"{call}: mapped axes must all have the same size; {detail or 'none is mapped'}; "
            "pass arguments with equal batch sizes, or None in in_dims for an argument that is not batched"
        )
    return sizes.pop()


def _stack(results: list[tuple[Any, ...]], concat: bool) -> tuple[Any, ...]:
    name = "concatenate" if concat else "stack"
    return tuple(do(name, [r[k] for r in results], axis=0) for k in range(len(results[0])))


def loop_vmap(b: Backend, fun: FlatFun, in_axes: Sequence[int | None], call: str) -> FlatFun:
    """vmap for a backend without one: call ``fun`` per batch element, stack along axis 0."""

    mapped = [k for k, ax in enumerate(in_axes) if ax is not None]
    along_first = all(in_axes[k] == 0 for k in mapped)
    every = len(mapped) == len(in_axes)

    def batched(*args: Any) -> tuple[Any, ...]:
        n = batch_size(args, in_axes, call)
        if n == 0:
            return _empty_batch(b, fun, args, in_axes, call)
        if along_first and every:  # every argument mapped along its first axis: its rows, in order
            results = [tuple(fun(*xs)) for xs in zip(*[_first_axis_rows(a, n) for a in args])]
        elif along_first:  # the mapped arguments' rows, the others as they are
            results, xs = [], list(args)
            for rows in zip(*[_first_axis_rows(args[k], n) for k in mapped]):
                for k, row in zip(mapped, rows):
                    xs[k] = row
                results.append(tuple(fun(*xs)))
        else:
            results = [
                tuple(fun(*[a if ax is None else _take(a, i, ax) for a, ax in zip(args, in_axes)])) for i in range(n)
            ]
        try:
            return _stack(results, concat=False)
        except Exception:
            err = _examples_disagree(results, call)
            if err is None:
                raise
            raise err from None

    return batched


# NOTE [Examples that disagree]: the loop stacks each output over the examples, which needs every
# example to return as many output arrays, each of one shape. A function whose output shapes
# depend on the values (boolean-mask indexing ``x[x > 0]``, ``nonzero``, ``unique``) breaks
# this: the loop failed with numpy's bare "all input arrays must have the same shape" (or an
# IndexError for a count that differs), where torch.func and JAX refuse such a function with
# their own errors. Where stacking fails, the examples are compared and the first disagreement
# is reported with the call; the common case (stacking succeeds) checks nothing.
def _examples_disagree(results: list[tuple[Any, ...]], call: str) -> InvalidArgumentError | None:
    """The error naming the first example whose outputs differ in number or shape from example
    0's (NOTE [Examples that disagree]), or None where all agree."""
    fix = (
        "vmap stacks the examples' outputs, so a shape that depends on the values (x[x > 0], nonzero, "
        "unique) cannot be batched; keep shapes fixed (mnp.where selects without changing them), or loop "
        "over the batch in Python"
    )
    first = results[0]
    for i, r in enumerate(results):
        if len(r) != len(first):
            return InvalidArgumentError(
                f"{call}: f returned {len(first)} output arrays for example 0 but {len(r)} for example {i}; {fix}"
            )
        for k, (a, b) in enumerate(zip(first, r)):
            if tuple(a.shape) != tuple(b.shape):
                return InvalidArgumentError(
                    f"{call}: output leaf {k} of f has shape {tuple(a.shape)} for example 0 but {tuple(b.shape)} "
                    f"for example {i}; {fix}"
                )
    return None


# NOTE [Empty batches]: vmap over a batch axis of size 0 returns, as numpy and JAX define it, one
# output per output of ``f`` with batch size 0, the per-example shape and the per-example dtype.
# A native vmap learns these by tracing; a loop has no example to call ``f`` on. The loop
# therefore calls ``f`` once on a zero-filled example (each mapped argument without its batch
# axis, dtype and device kept) only to learn the structure, shapes and dtypes of its outputs,
# and discards the values. Zeros may be outside ``f``'s domain (log, division), so floating
# point warnings are silenced for that call; an ``f`` that raises on zeros cannot be shaped
# this way, and the error says so: the caller can skip the call for an empty batch. Where the
# core chooses between a framework's vmap and the loop, an empty batch always takes the loop
# (``_plan.vmap_native`` wants a batch above ``loop_below``), so a framework's vmap is never
# asked to chunk one (``torch.func.vmap`` with ``chunk_size`` fails an assertion on it). A
# backend that does not loop small batches (``loop_below`` 0) runs its vmap on an empty batch
# too, and takes the loop only where that raises (``torch.func.vmap`` cannot index a row of a
# size-0 batch: ``x[0]`` under it raises IndexError), so a batch that is not empty costs no
# check of its size.
#
# NOTE [Empty batches inside an empty batch]: under ``torch.func.vmap`` over an empty batch, an
# operation mixing a tensor batched there with another (``zeros(4) - b``) raises IndexError
# (torch 2.13: "select(): index 0 out of range"). A nested multiad ``vmap`` run inside it turns
# that into its own InvalidArgumentError (its all-zero example fails too, since the unbatched
# argument is the outer batch's), and the outer vmap let a MultiADError through: nested vmaps
# of ``a - b`` over ``a`` of shape (0, 0, 4) and ``b`` of shape (0,) raised on torch alone (JAX,
# autograd, numpy and ``jax.vmap`` give shape (0, 0, 4)). Over an empty batch the fallback to
# the loop takes every error, a MultiADError too: the loop calls ``f`` on plain all-zero
# arrays, outside the framework's vmap, and an error of ``f`` itself comes again from there
# (a MultiADError as it is). A batch that is not empty re-raises as before.


def _empty_batch(
    b: Backend, fun: FlatFun, args: Sequence[Any], in_axes: Sequence[int | None], call: str
) -> tuple[Any, ...]:
    """The outputs of the loop vmap of ``fun`` over an empty batch (NOTE [Empty batches])."""
    dummy = [a if ax is None else b.zeros(_without(a.shape, ax), a) for a, ax in zip(args, in_axes)]
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outs = tuple(fun(*dummy))
    except MultiADError:
        raise
    except Exception as exc:
        raise InvalidArgumentError(
            f"{call}: the batch is empty (the mapped axes have size 0), so f was called once on an all-zero "
            f"example only to learn the shapes and dtypes of its outputs, and it raised {type(exc).__name__}: "
            f"{exc}; skip the call when the batch is empty, or make f accept an all-zero example"
        ) from exc
    return tuple(_take(do("stack", [o], axis=0), slice(0, 0), 0) for o in outs)


def _without(shape: Sequence[int], axis: int) -> tuple[int, ...]:
    return tuple(int(d) for k, d in enumerate(shape) if k != axis)


def vmap(b: Backend, fun: FlatFun, in_axes: Sequence[int | None], chunk_size: int | None, call: str) -> FlatFun:
    """``fun`` batched over ``in_axes``; outputs are batched along axis 0."""
    native_chunks = chunk_size is not None and not _plan.core_chunks(b)
    if not (_plan.loops_small_batches(b) or native_chunks):
        # An empty batch the framework's vmap cannot run takes the loop (NOTE [Empty batches]).
        empty = loop_vmap(b, fun, in_axes, call) if _plan.vmap_native(b) else None
        return _vmap(b, fun, in_axes, chunk_size, call, empty)
    native = _vmap(b, fun, in_axes, chunk_size, call)
    loop = loop_vmap(b, fun, in_axes, call)

    def pick(*args: Any) -> tuple[Any, ...]:
        # An empty batch takes the loop (NOTE [Empty batches]).
        return tuple(native(*args) if _plan.vmap_native(b, batch_size(args, in_axes, call)) else loop(*args))

    return pick


def _native(b: Backend, fun: FlatFun, in_axes: Sequence[int | None], chunk_size: int | None, call: str,
            empty: FlatFun | None) -> FlatFun:  # fmt: skip
    """The backend's vmap of ``fun``, its outputs checked in the frame that runs it (NOTE
    [Results of a backend's primitives]): a tuple of arrays of the backend batched along axis 0,
    else :func:`_results.batched` names what is wrong. Where the backend's vmap raises on an
    empty batch, ``empty`` (the loop) runs instead (NOTE [Empty batches])."""
    mapped, is_array = b.vmap(fun, tuple(in_axes), chunk_size), b.is_array
    k = 0 if in_axes and in_axes[0] is not None else next((i for i, ax in enumerate(in_axes) if ax is not None), -1)
    ax = in_axes[k] if k >= 0 else None

    def run(*args: Any) -> tuple[Any, ...]:
        try:
            outs = mapped(*args)
        except Exception:  # a MultiADError too: NOTE [Empty batches inside an empty batch]
            if empty is not None and batch_size(args, in_axes, call) == 0:
                return tuple(empty(*args))
            raise
        if ax is None:
            return tuple(outs)
        n = args[k].shape[ax]
        if type(outs) is tuple:
            for o in outs:
                if not is_array(o) or not o.shape or o.shape[0] != n:
                    break
            else:
                return outs
        return _results.batched(b, call, outs, n)

    return run


def _vmap(
    b: Backend, fun: FlatFun, in_axes: Sequence[int | None], chunk_size: int | None, call: str,
    empty: FlatFun | None = None,
) -> FlatFun:  # fmt: skip
    if _plan.vmap_native(b):
        inner = _native(b, fun, in_axes, None if _plan.core_chunks(b) else chunk_size, call, empty)
    else:
        inner = loop_vmap(b, fun, in_axes, call)
    if chunk_size is None or not _plan.core_chunks(b) or not _plan.vmap_native(b):
        return inner

    def chunked(*args: Any) -> tuple[Any, ...]:
        n = batch_size(args, in_axes, call)
        if n <= chunk_size:
            return tuple(inner(*args))
        if _rolled.rolls(b, chunk_size, n, next(a for a, ax in zip(args, in_axes) if ax is not None)):
            return _rolled.vmap(b, inner, args, in_axes, n, chunk_size)  # NOTE [Rolled vmap chunks]
        pieces = [
            tuple(inner(*[a if ax is None else _take(a, slice(s, s + chunk_size), ax) for a, ax in zip(args, in_axes)]))
            for s in range(0, n, chunk_size)
        ]
        return _stack(pieces, concat=True)

    return chunked


# NOTE [Chunked Jacobians]: a Jacobian is the vmap of a vjp (or jvp) over the rows of an
# identity. Without ``chunk_size`` the whole identity is pushed through at once, as the
# frameworks' own jacrev/jacfwd do. With ``chunk_size`` the core pushes ``chunk_size`` rows at a
# time, and builds each chunk's rows of the identity only when it runs them, so that no
# ``n x n`` basis exists. On a ``writable`` backend every chunk's result is written once
# (``Backend.write``) into a block per (output leaf, input leaf) allocated in its final shape,
# so the peak is the Jacobian plus one chunk: torch writes in place; JAX, whose arrays are
# immutable, writes through a compiled update that donates the block's buffer, so that no
# per-chunk copy of the whole block is made (under jax.jit the chunks run as one loop of the
# framework's instead: NOTE [Rolled chunks] in multiad/_rolled.py); a forward-mode chunk, one
# row per column, is written with ``Backend.write_columns``, which JAX transposes inside its
# update (an eager transpose copies the chunk). On other backends (autograd: NOTE in its backend) the chunks are concatenated
# once at the end, a second copy. A result is never reshaped when its shape is final already:
# an eager JAX reshape copies. Each chunk's rows of the identity come from
# ``Backend.identity_block`` (on torch, zeros with one diagonal set, as torch.func builds them).

# NOTE [Chunked Jacobians under a compiler]: while a compiler that traces Python
# (``torch.compile``, a backend's ``compiling`` probe) traces a chunked Jacobian, the memory of
# the program is the compiler's to plan, and writing chunks into a preallocated block would only
# add operations to the graph. The call then builds the program of the framework's own chunked
# transform: the backend's native override with ``chunk_size`` where it has one
# (``torch.func.jacrev``), otherwise each chunk's basis pushed through, the chunk results joined
# once along the basis axis (as torch.func.jacrev joins its chunks) and arranged as one unchunked
# result.


def _identity_block(b: Backend, like: Any, rows: tuple[int, int], cols: tuple[int, int]) -> Any:
    """Rows ``rows[0]:rows[1]`` and columns ``cols[0]:cols[1]`` of an identity, dtype and device of ``like``."""
    (r0, r1), (c0, c1) = rows, cols
    lo, hi = max(r0, c0), min(r1, c1)
    if hi <= lo:
        return b.zeros((r1 - r0, c1 - c0), like)
    block = _pad(b, b.eye(hi - lo, like), lo - c0, c1 - hi, 1)
    return _pad(b, block, lo - r0, r1 - hi, 0)


def _pad(b: Backend, block: Any, before: int, after: int, axis: int) -> Any:
    """``block`` (2-d) with ``before`` and ``after`` zeros added along ``axis``."""
    if not (before or after):
        return block

    def zeros(n: int) -> Any:
        shape = list(block.shape)
        shape[axis] = n
        return b.zeros(tuple(int(d) for d in shape), block)

    parts = ([zeros(before)] if before else []) + [block] + ([zeros(after)] if after else [])
    return b.concatenate(parts, axis)


def _basis(b: Backend, leaves: Sequence[Any], start: int, stop: int, chunked: bool = False) -> list[Any]:
    """Rows ``start:stop`` of the identity over all leaves: one array of shape
    ``(stop - start, *leaf.shape)`` per leaf (``chunked``: NOTE [Chunked Jacobians])."""
    out, off = [], 0
    for x in leaves:
        n = size(x)
        if chunked:
            block = b.identity_block((start, stop), (off, off + n), x)
        else:
            block = _identity_block(b, x, (start, stop), (off, off + n))
        out.append(_reshaped(block, (stop - start,) + tuple(x.shape)))
        off += n
    return out


def _spans(sizes: Sequence[int], start: int, stop: int) -> list[tuple[int, int, int]]:
    """``(leaf, lo, hi)`` for each leaf whose flat range overlaps ``start:stop``; ``lo:hi`` is
    the overlap, counted from ``start``."""
    out, off = [], 0
    for k, n in enumerate(sizes):
        lo, hi = max(start, off), min(stop, off + n)
        if lo < hi:
            out.append((k, lo - start, hi - start))
        off += n
    return out


def _several_chunks(total: int, chunk_size: int | None) -> bool:
    """Whether ``total`` basis vectors take more than one chunk (NOTE [One chunk is no chunking])."""
    return chunk_size is not None and total > chunk_size


# NOTE [One chunk is no chunking]: where the whole basis fits in one chunk (``chunk_size`` at
# least the number of outputs for jacrev, of inputs for jacfwd) there is nothing to write a
# chunk beside, and the result is returned as it comes, as without ``chunk_size``, instead of
# being written into a block allocated for it: writing copied it once more (one Jacobian more
# at the peak while the copy was made). The inner Jacobian of a chunked Hessian of a scalar
# ``f`` is such a single row: written under the outer level's vmap, the write of a batched row
# into an unbatched block became a scatter into the block broadcast over the batch (JAX: two
# chunk-sized arrays more and three more programs compiled per call shape). A single output
# element is pulled back directly, its cotangent a one, as a gradient is: the vmap over one
# basis row added a batch axis of size one to every array of the pullback, and the eager
# reshape that took it out again copied a chunk (JAX compiled nine more programs for the
# inner level, about 1.5 MiB of resident memory each).
def _chunks(total: int, chunk_size: int | None) -> list[tuple[int, int]]:
    step = total if chunk_size is None else max(1, chunk_size)
    return [(s, min(s + step, total)) for s in range(0, total, step)] or [(0, 0)]


def _pushed(
    b: Backend, mapped: FlatFun, leaves: Sequence[Any], chunk_size: int | None, traced: bool, call: str
) -> Iterator[tuple[int, int, tuple[Any, ...]]]:
    """``(start, stop, results)``: ``mapped`` (a vmap over the basis) of each chunk of the basis
    over ``leaves``, built and run one chunk at a time; ``traced``: the results joined once, as
    a single chunk (NOTE [Chunked Jacobians under a compiler])."""
    total = sum(size(x) for x in leaves)
    chunks = _chunks(total, chunk_size)
    chunked = chunk_size is not None
    if traced and len(chunks) > 1:
        parts = [_chunk(b, call, mapped, _basis(b, leaves, s, e, chunked)) for s, e in chunks]
        yield 0, total, tuple(b.concatenate([p[k] for p in parts], 0) for k in range(len(parts[0])))
        return
    step = chunks[0][1] - chunks[0][0]
    pad = b.pads_last_chunk and len(chunks) > 1  # NOTE [A last chunk of the same shape]
    for start, stop in chunks:
        end = start + step if pad else stop
        got = _chunk(b, call, mapped, _basis(b, leaves, start, end, chunked))
        if end != stop:
            got = tuple(_rows(r, 0, stop - start) for r in got)
        yield start, stop, got
        del got  # NOTE [One chunk alive]


# NOTE [StopIteration from f]: f may end by raising StopIteration (``next(batches)`` at the end
# of the data, caught by the caller's loop), and torch.func and jax pass it through. Raised in
# :func:`_pushed`, a generator, Python turned it into ``RuntimeError: generator raised
# StopIteration`` (PEP 479): jacfwd and hessian on torch, their chunked forms on jax. Each chunk
# therefore carries it out of the generator inside :class:`_Stopped`, and the loops over the
# chunks raise it again, as it was.
class _Stopped(Exception):
    """f's StopIteration, carried out of :func:`_pushed` (NOTE [StopIteration from f])."""

    def __init__(self, stop: StopIteration) -> None:
        super().__init__()
        self.stop = stop


def _chunk(b: Backend, call: str, mapped: FlatFun, basis: Sequence[Any]) -> tuple[Any, ...]:
    """``mapped`` over one chunk of the basis, for :func:`_pushed` (NOTE [StopIteration from f])."""
    try:
        return tuple(guarded(b, call, mapped, *basis))
    except StopIteration as exc:
        raise _Stopped(exc) from None


# NOTE [A last chunk of the same shape]: where the total is not a multiple of ``chunk_size``
# the last chunk is smaller, and on a backend whose eager operations compile per shape (JAX)
# every operation of ``f``'s vjp or jvp, the basis and the write then compile once more for that
# chunk's shape alone: twice the compile time and the compiler's memory of the chunks. A backend
# declaring ``pads_last_chunk`` pushes the last chunk with as many basis rows as the others, the
# rows past the end zero, and keeps only its own rows of the result: every row of the Jacobian
# comes from the same compiled programs, at the cost of fewer than ``chunk_size`` zero rows
# pushed through once.

# NOTE [Empty Jacobians]: with no basis vector (an empty input for jacfwd, an empty output for
# jacrev) there is nothing to map over, and a backend without vmap cannot stack zero results;
# the Jacobian has no elements and is built directly with its shape, as torch.func and JAX
# return it. A framework's own jacrev maps its vjp over the empty basis of an empty output, which
# torch.func cannot do for every operation (``jacrev(jacrev(lambda x: sum(x) ** 2))`` at a (0,)
# input: the vjp of ``sum`` under a size-0 vmap raised IndexError from ``select()``, and so did
# ``hessian`` through a custom_vjp function, whose second derivative takes that route). Where a
# primal is empty, whose gradient is an empty output, jacrev therefore takes the core's route,
# which looks at the output's size first; the others keep the framework's.


def size(x: Any) -> int:
    """The number of elements of an array of any backend."""
    return _count(x.shape)


def _count(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def jacrev(
    b: Backend, fun: FlatFun, primals: tuple[Any, ...], has_aux: bool, chunk_size: int | None, call: str
) -> tuple[list[list[Any]], Any]:
    """Blocks ``[i][j]`` of shape ``outs[i].shape + primals[j].shape``: vmap of vjp over a basis."""
    traced = chunk_size is not None and b.compiling()  # NOTE [Chunked Jacobians under a compiler]
    # An empty primal makes an empty output likely (its gradient): NOTE [Empty Jacobians].
    if _plan.native(b, "jacrev", chunk_size, traced) and all(size(p) for p in primals):
        return guarded(b, call, b.jacrev, fun, primals, has_aux, chunk_size)  # type: ignore[no-any-return]
    outs, pullback, aux = vjp(b, fun, primals, has_aux, call)
    sizes = [size(o) for o in outs]
    if sum(sizes) == 0:  # NOTE [Empty Jacobians]
        return [[b.zeros(tuple(o.shape) + tuple(p.shape), p) for p in primals] for o in outs], aux
    if chunk_size is not None and not traced and sizes == [1]:  # NOTE [One chunk is no chunking]
        grads = _results.pulled(b, call, guarded(b, call, pullback, (do("ones_like", outs[0]),)), primals)
        return [[_reshaped(g, tuple(outs[0].shape) + tuple(p.shape)) for g, p in zip(grads, primals)]], aux
    rows = vmap(b, lambda *c: _results.pulled(b, call, pullback(c), primals), [0] * len(outs), None, call)
    if chunk_size is not None and not traced and _rolled.rolls(b, chunk_size, sum(sizes), outs[0]):
        return _rolled.jacrev(b, lambda *c: tuple(guarded(b, call, rows, *c)), outs, primals, chunk_size), aux
    # blocks[i][j] holds rows of output leaf i: shape (size(outs[i]), *primals[j].shape).
    pieces: list[list[list[Any]]] = [[[] for _ in primals] for _ in outs]
    blocks: list[list[Any]] = []
    in_sizes = [size(p) for p in primals]
    if b.writable and _several_chunks(sum(sizes), chunk_size) and not traced:
        blocks = [[b.zeros(tuple(o.shape) + tuple(p.shape), p) for p in primals] for o in outs]
    try:
        for start, stop, got in _pushed(b, rows, outs, chunk_size, traced, call):
            _place_rows(b, call, blocks, pieces, got, sizes, in_sizes, start, stop)
            del got  # NOTE [One chunk alive]
    except _Stopped as stopped:  # NOTE [StopIteration from f]
        raise stopped.stop from stopped.stop.__cause__
    if blocks:
        return blocks, aux
    joined = [  # an empty output leaf has no rows: NOTE [Empty Jacobians]
        [_joined(b, row, 0) if row else b.zeros((0,) + tuple(p.shape), p) for row, p in zip(per_out, primals)]
        for per_out in pieces
    ]
    shaped = [
        [_reshaped(blk, tuple(o.shape) + tuple(p.shape)) for blk, p in zip(row, primals)]
        for row, o in zip(joined, outs)
    ]
    return shaped, aux


# NOTE [One chunk alive]: the loop over the chunks holds each chunk's result in its loop
# variables, and the next chunk is pushed (``_pushed`` resumes) before the loop assigns them
# again, so without ``del`` a chunk's result stayed alive through the whole of the next chunk:
# one chunk's bytes more at the peak (torch, ``n = 4000`` with chunks of 250: hessian's
# resident peak 1.31 -> 1.25 times the Jacobian, 0.0625 being one chunk). A chunk written into
# the blocks is released before the next one is made; its views, made in helpers
# (``_place_rows``, ``_place_columns``), die with them.
def _place_rows(
    b: Backend, call: str, blocks: list[list[Any]], pieces: list[list[list[Any]]], got: tuple[Any, ...],
    sizes: list[int], in_sizes: list[int], start: int, stop: int,
) -> None:  # fmt: skip
    """Writes a reverse-mode chunk's rows ``start:stop`` (over all output leaves) into ``blocks``,
    or appends them to ``pieces`` where there are no blocks (NOTE [Chunked Jacobians])."""
    for i, lo, hi in _spans(sizes, start, stop):
        first = start + lo - sum(sizes[:i])
        for j, r in enumerate(got):
            if blocks:
                value = do("reshape", _rows(r, lo, hi), (hi - lo, in_sizes[j]))
                blocks[i][j] = _written(
                    b, call, "write", b.write, blocks[i][j], (sizes[i], in_sizes[j]), (first, 0), value
                )
            else:
                pieces[i][j].append(_rows(r, lo, hi))


# NOTE [Writes of traced chunks]: inside an enclosing transform (``grad`` of a function that
# takes a chunked Jacobian) each chunk ``write`` receives is a value that transform traces, and
# the block must keep its derivative: torch's in-place writes are recorded by autograd, JAX's
# compiled update is a traced function of the chunk. The core does not switch to concatenating
# traced chunks (that would double the peak under an enclosing transform, where torch and JAX are
# right as they are); a ``writable`` backend's ``write`` must keep the derivative, which the
# conformance suite checks (test_chunked_jacobians_inside_an_enclosing_transform). A framework
# error from ``write`` (a strict ``__setitem__`` that refuses a value carrying a derivative) is a
# BackendError naming the call and the backend, not the framework's bare exception.
def _written(b: Backend, call: str, name: str, write: Callable[..., Any], *args: Any) -> Any:
    """``write(*args)`` (``Backend.write`` or ``write_columns``), its failures a BackendError
    (NOTE [Writes of traced chunks])."""
    try:
        return write(*args)
    except MultiADError:
        raise
    except Exception as e:  # the backend's own method on arrays it made: a failure is a defect
        raise BackendError(
            f"{call}: the {b.name} backend's {name}, writing a chunk of the Jacobian into its "
            f"preallocated block (the backend declares writable = True), raised {type(e).__name__}: {e}. A "
            "writable backend's write must keep the derivative of a chunk an enclosing transform traces, or "
            "the backend must leave writable False. " + _results._defect(b)
        ) from e


def _rows(x: Any, lo: int, hi: int) -> Any:
    """Rows ``lo:hi`` of ``x``; ``x`` itself when that is all of it (an eager JAX slice copies)."""
    return x if lo == 0 and hi == x.shape[0] else x[lo:hi]


def _reshaped(x: Any, shape: tuple[int, ...]) -> Any:
    """``x`` in ``shape``; ``x`` itself when it has that shape already (an eager JAX reshape copies)."""
    return x if tuple(x.shape) == shape else do("reshape", x, shape)


def _joined(b: Backend, parts: list[Any], axis: int) -> Any:
    return parts[0] if len(parts) == 1 else b.concatenate(parts, axis)


# NOTE [Nested transforms near a stack chunk boundary]: CPython 3.11 keeps Python frames in
# 16 KiB chunks, maps a new chunk when a call does not fit in the current one and unmaps it as
# soon as that call returns. JAX's nested transforms reach their deepest point (a transpose or
# batching rule under three traces, vmap of hessian) once per primitive, so if that depth
# straddles a chunk boundary every such primitive maps and unmaps a chunk and faults its pages
# in: measured on vmap(hessian) 64x(31->33), 90 to 150 page faults and ~0.4 ms of system time
# per call (12 % of the call) where jax.vmap(jax.hessian) at the same caller depth had none;
# called 30 frames deeper, jax's own composition faulted as often and the two ran within 3 %.
# Which calls straddle depends on the caller's depth, so it cannot be ruled out, but each frame
# multiad adds between the user's call and JAX moves JAX's work deeper: the native path here
# and the JAX backend's jacrev/jacfwd call JAX with no helper frame in between, and hessian
# hands ``or_reverse`` the forward function with its arguments instead of a lambda (five frames,
# about 110 of the 2100 words on vmap(hessian)'s deepest path, which now fits one chunk). In
# the benchmark's harness this took the faults per call from 235 to 133; jax's own had none.
def jacfwd(
    b: Backend, fun: FlatFun, primals: tuple[Any, ...], has_aux: bool, chunk_size: int | None, call: str
) -> tuple[list[list[Any]], Any]:
    """Blocks ``[i][j]`` of shape ``outs[i].shape + primals[j].shape``: vmap of jvp over a basis."""
    traced = chunk_size is not None and b.compiling()  # NOTE [Chunked Jacobians under a compiler]
    with _custom_state.forward():
        if _plan.native(b, "jacfwd", chunk_size, traced):  # NOTE [Nested transforms near a stack chunk boundary]
            return guarded(b, call, b.jacfwd, fun, primals, has_aux, chunk_size)  # type: ignore[no-any-return]
        by_pullback = not _plan.columns_by_jvp(b, chunk_size, traced)
        if not (by_pullback and b.has_jvp):
            return _jacfwd(b, fun, primals, has_aux, chunk_size, traced, by_pullback, call)
        try:  # NOTE [Forward mode where the pullback cannot follow]
            return _jacfwd(b, fun, primals, has_aux, chunk_size, traced, True, call)
        except NonDifferentiableError:
            pass  # retried after the except clause, which frees the failed attempt's columns
        return _jacfwd(b, fun, primals, has_aux, chunk_size, traced, False, call)


# NOTE [Chunked forward mode by the pullback]: torch's forward-mode formula for ``W @ x`` (mv,
# mm, matmul, linear) makes the zero tangent of ``W``, which ``f`` closes over, in full and
# multiplies by it: for an ``n -> n`` map one ``n x n`` allocation and product per chunk, so a
# Jacobian asked for with ``chunk_size`` to bound its memory peaked at twice the Jacobian (and a
# Hessian's forward level did the same over the gradient). A backend declaring
# ``chunks_by_pullback`` pushes the columns of such a Jacobian through the vjp of the linear
# pullback instead (NOTE [Linearize once]): one forward and one reverse pass, then one reverse
# pass of the pullback per chunk, with no tangent of ``W`` at all. Measured with torch at
# ``n = 4000`` and chunks of 250 (``benchmarks.memory``): jacfwd's peak about 2.2 -> 1.1 to 1.3
# times the Jacobian and hessian's 2.3 -> 0.9 to 1.4, and faster (the zero products were real
# work; docs/benchmarks.md). The columns are the same linear map: a custom_jvp rule enters
# through its transpose, which the torch backend builds from the rule itself. Without
# ``chunk_size`` (or while a compiler traces) forward mode stays the framework's.
#
# NOTE [Forward mode where the pullback cannot follow]: reverse mode cannot follow every ``f``
# that forward mode can: torch refuses an ``f`` that changes in place a value an operation saved
# for the derivative (``y = exp(x); y *= 2``), while its forward mode, which saves nothing, gives
# the right derivative. Whether a forward-mode call works must not depend on ``chunk_size``, so
# where the pullback route raises NonDifferentiableError (the framework could not differentiate
# f) the columns are pushed by the backend's ``jvp`` instead, the route taken without
# ``chunk_size``; an ``f`` that neither route can follow raises the forward-mode route's error,
# as the call without ``chunk_size`` does. The retry costs a second evaluation of ``f`` only on
# that path; the ordinary call runs as before. ``linearize`` does the same (multiad/_api_ad.py):
# its ``jvp_fn`` then evaluates ``f`` again per call, as on a backend without reverse mode.
#
# NOTE [Aux of the derivative's evaluation]: with ``has_aux`` the aux returned is the one of the
# evaluation of ``f`` that gave the derivative, so that an ``f`` that draws random numbers or
# changes state (a dropout mask, a counter, a running statistic returned as aux) returns an aux
# that belongs to its Jacobian, and ``f`` runs no more often than the derivative needs. Forward
# mode by ``jvp`` keeps the aux of the first ``jvp`` that pushes columns (the only one without
# ``chunk_size``; with it, the first chunk's) instead of evaluating ``f`` once more for it: before,
# torch's ``jacfwd``, ``hessian`` and ``jacobian(mode="fwd")`` with ``has_aux`` evaluated ``f``
# twice and returned the aux of the evaluation that pushed nothing. The aux leaves that are not
# arrays are kept from the first call of the flat function (``Flat.__call__``); the evaluation
# ``jacobian(mode="auto")`` makes on its first call to learn the output size is forgotten
# (``Flat.forget_aux``), so that they come from the derivative's evaluation too. The aux is read
# from inside the backend's vmap: it depends on the primals only, never on the mapped tangents,
# so it is not batched there (torch.func and JAX return it as an ordinary value).
def _jacfwd(
    b: Backend, fun: FlatFun, primals: tuple[Any, ...], has_aux: bool, chunk_size: int | None, traced: bool,
    by_pullback: bool, call: str,
) -> tuple[list[list[Any]], Any]:  # fmt: skip
    if sum(size(p) for p in primals) == 0:  # NOTE [Empty Jacobians]
        res = guarded(b, call, fun, *primals)
        outs, aux = res if has_aux else (res, None)
        return [[b.zeros(tuple(o.shape) + tuple(p.shape), o) for p in primals] for o in _arrays(b, outs)], aux
    aux = None
    push: Callable[..., tuple[Any, ...]]
    pull: Pullback | None = None
    seen: list[Any] = []  # NOTE [Aux of the derivative's evaluation]
    if not by_pullback:

        def push(*t: Any) -> tuple[Any, ...]:
            _, touts, aux = jvp(b, fun, primals, t, has_aux, call)
            if has_aux and not seen:
                seen.append(aux)
            return tuple(touts)

    else:  # each column is the vjp of the linear pullback (NOTE [Linearize once])
        outs, pull, aux = linearized(b, fun, primals, has_aux, call)

        def push(*t: Any) -> tuple[Any, ...]:
            return _results.pulled(b, call, pull(t), outs)

    sizes = [size(p) for p in primals]
    if pull is not None and not _plan.vmap_native(b):
        cols = _columns_by_loop(b, pull, outs, call)
    else:
        cols = vmap(b, push, [0] * len(primals), None, call)
    if chunk_size is not None and not traced and _rolled.rolls(b, chunk_size, sum(sizes), primals[0]):
        rolled = _rolled.jacfwd(b, lambda *t: tuple(guarded(b, call, cols, *t)), primals, chunk_size)
        return rolled, (seen[0] if seen else aux)  # NOTE [Aux of the derivative's evaluation]
    # blocks[i][j]: columns of primal leaf j for output leaf i, as (size(out i), size(primal j)),
    # written per chunk (NOTE [Chunked Jacobians]). pieces[i][j]: the chunks' columns of primal
    # leaf j for output leaf i, as (*out_shape, columns) (NOTE [Columns moved, not copied]).
    blocks: list[list[Any]] = []
    pieces: list[list[list[Any]]] = []
    out_shapes: list[tuple[int, ...]] = []
    try:
        for start, stop, got in _pushed(b, cols, primals, chunk_size, traced, call):
            if not out_shapes:
                out_shapes = [tuple(c.shape[1:]) for c in got]
                pieces = [[[] for _ in primals] for _ in got]
                if b.writable and _several_chunks(sum(sizes), chunk_size) and not traced:
                    blocks = [
                        [b.zeros(shape + tuple(p.shape), c) for p in primals] for c, shape in zip(got, out_shapes)
                    ]
            _place_columns(b, call, blocks, pieces, got, out_shapes, sizes, start, stop)
            del got  # NOTE [One chunk alive]
    except _Stopped as stopped:  # NOTE [StopIteration from f]
        raise stopped.stop from stopped.stop.__cause__
    if seen:
        aux = seen[0]
    if blocks:
        return blocks, aux
    shaped = [  # an empty primal leaf has no columns: NOTE [Empty Jacobians]
        [
            _reshaped(_joined(b, row, len(shape)), shape + tuple(p.shape))
            if row
            else b.zeros(shape + tuple(p.shape), p)
            for row, p in zip(per_out, primals)
        ]
        for per_out, shape in zip(pieces, out_shapes)
    ]
    return shaped, aux


def _place_columns(
    b: Backend, call: str, blocks: list[list[Any]], pieces: list[list[list[Any]]], got: tuple[Any, ...],
    out_shapes: list[tuple[int, ...]], sizes: list[int], start: int, stop: int,
) -> None:  # fmt: skip
    """Writes a forward-mode chunk's columns ``start:stop`` (over all primal leaves) into
    ``blocks``, or appends them to ``pieces`` where there are no blocks."""
    for i, c in enumerate(got):
        if blocks:
            m = _count(out_shapes[i])
            cols = _reshaped(c, (stop - start, m))  # one row per column: written transposed
        else:
            nd = len(out_shapes[i])  # moved with transpose: torch has no vmap rule for moveaxis
            moved = c if not nd else do("transpose", c, (*range(1, nd + 1), 0))
        for j, lo, hi in _spans(sizes, start, stop):
            whole = lo == 0 and hi == stop - start
            if blocks:
                first = start + lo - sum(sizes[:j])
                value = cols if whole else cols[lo:hi]
                blocks[i][j] = _written(
                    b, call, "write_columns", b.write_columns, blocks[i][j], (m, sizes[j]), (0, first), value
                )
            else:
                pieces[i][j].append(moved if whole else moved[..., lo:hi])


def _columns_by_loop(b: Backend, pull: Pullback, outs: tuple[Any, ...], call: str) -> FlatFun:
    """The columns for the rows of a basis, ``pull`` run on each row, stacked per output.

    NOTE [Columns by a loop]: without a vmap, forward mode is a Python loop of the linearized
    pullback over the basis (NOTE [Linearize once]), as autograd's own ``make_jvp_reversemode``
    is used. The loop calls the backend's pullback directly, without the generic loop vmap's
    layers per column (a tuple per result, ``_arrays`` per column); results are checked for
    numbers once, after stacking; each column's structure is checked against ``outs`` (NOTE
    [Results of a backend's primitives])."""
    pulled = _results.pulled

    def columns(*basis: Any) -> tuple[Any, ...]:
        n = int(basis[0].shape[0])
        res = [pulled(b, call, pull(ts), outs) for ts in zip(*[_first_axis_rows(t, n) for t in basis])]
        return _arrays(b, tuple(do("stack", [r[k] for r in res], axis=0) for k in range(len(res[0]))))

    return columns


# NOTE [Columns moved, not copied]: a forward-mode chunk comes back from vmap as
# ``(columns, *out_shape)``. Its columns are moved to the last axis (a view on torch and
# numpy) and only the last axis is split into the primal's shape, as torch.func.jacfwd does,
# so that no step needs the result contiguous: flattening ``out_shape`` first (reshape to
# ``(columns, size(out))``) copies the whole Jacobian whenever the inner result is itself a
# moved view, as in ``jacfwd(jacfwd(f))``. The result is then a view with the strides
# torch.func.jacfwd's has, not contiguous: ``.view`` on it fails where ``.reshape`` works, as
# on torch.func's. A chunked Jacobian written into blocks keeps the ``(size(out), columns)``
# matrix layout of ``Backend.write``.
