"""The functions that wrap torch.func's transforms for TorchBackend: dense results, dtypes, built-once transforms, vmap."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from ._guard import _run, _state

#: torch and torch.func, set by :meth:`TorchBackend.load`.
torch: Any = None
func: Any = None


# NOTE [Tangents in their value's dtype]: torch's forward mode computes a 0-d float32 tensor
# times a Python float (``x * 0.1``) with a float64 tangent: the Python number, a float64
# "wrapped number" that does not promote the value, promotes the tangent. ``torch.func.jvp`` then
# returns a float32 output with a float64 tangent, and ``jvp``, ``jacfwd``, ``jacobian`` in
# forward mode, ``hvp`` and ``jacfwd(grad(f))`` of a 0-d float32 (or float16) argument gave
# float64 derivatives, where ``hessian``, ``vhp``, ``linearize`` and the reverse mode kept
# float32. Tangents are the value's derivative: each leaf is cast to its value's floating
# dtype, as JAX's jvp guarantees and as custom rules' tangents are (NOTE [Derivative dtypes
# of custom rules] in ``multiad/_custom_rules.py``).
def _in_dtype_of(tangent: Any, value: Any) -> Any:
    """``tangent`` in ``value``'s dtype where both are floating tensors of different dtypes."""
    if (
        isinstance(tangent, torch.Tensor)
        and isinstance(value, torch.Tensor)
        and tangent.dtype != value.dtype
        and value.is_floating_point()
        and tangent.is_floating_point()
    ):
        return tangent.to(value.dtype)
    return tangent


# NOTE [ZeroTensors]: where reverse mode differentiates a forward-mode tangent that does not
# depend on the primal (``jacrev(jacfwd(f))`` or ``grad`` of a ``jvp`` of a linear ``f``),
# torch returns its internal ZeroTensor, a zero that holds no memory. It is immutable and
# ``numpy.asarray`` of it raises "Cannot convert a ZeroTensor to numpy", so a Hessian of a
# linear function could not be read. Results leaving reverse mode are ordinary zeros instead
# (not under torch.compile, which traces no ZeroTensors).
def _dense(x: Any) -> Any:
    """``x`` with every ZeroTensor in it (a tensor, or tuples and lists of them) made ordinary zeros."""
    if type(x) is tuple and len(x) == 1:  # one gradient, the pullbacks' common result: no recursion
        e = x[0]
        if type(e) is torch.Tensor and (torch.compiler.is_compiling() or not e._is_zerotensor()):
            return x
    if isinstance(x, torch.Tensor):
        if not torch.compiler.is_compiling() and x._is_zerotensor():
            return torch.zeros(x.shape, dtype=x.dtype, device=x.device)
        return x
    if isinstance(x, (tuple, list)):
        return type(x)(_dense(e) for e in x)
    return x


def _dense_pullback(pullback: Callable[..., Any]) -> Callable[..., Any]:
    """``pullback`` (or another function of torch.func's) whose results are :func:`_dense`
    (NOTE [ZeroTensors])."""

    def pull(*cts: Any) -> Any:
        return _dense(pullback(*cts))

    return pull


def _dense_eager(fun: Callable[..., Any]) -> Callable[..., Any]:
    """``fun``, which never runs while torch.compile traces (a prepared call: NOTE [Prepared
    calls] in multiad/_prepared.py), with its results :func:`_dense`; one ordinary tensor is
    checked in this frame (NOTE [One gradient checked in the pullback's frame])."""

    def run(*args: Any) -> Any:
        res = fun(*args)
        if type(res) is torch.Tensor and not res._is_zerotensor():
            return res
        return _dense(res)

    return run


def _apply(fun: Callable[..., Any], *xs: Any) -> Any:
    return fun(*xs)


def _one_output(pullback: Callable[..., Any]) -> Callable[..., Any]:
    """The pullback of a function with one output as multiad's backends give it (a tuple of one
    cotangent), from torch.func's own (``pullback``), which takes the cotangent bare and returns a
    tuple (one gradient per primal); the pullback of the bare cotangent, with the same results, as
    ``one_cotangent`` (NOTE [Pullbacks of one output] in multiad/_api_ad.py). Both make ZeroTensors
    dense (NOTE [ZeroTensors]). A closure, not a partial: torch.compile cannot set an attribute of a
    partial."""

    def one(cotangent: Any) -> Any:
        grads = pullback(cotangent)
        # NOTE [One gradient checked in the pullback's frame]
        if len(grads) == 1 and type(g := grads[0]) is torch.Tensor and not g._is_zerotensor():
            return grads
        return _dense(grads)

    def pull(cts: Sequence[Any]) -> Any:
        return _dense(pullback(cts[0]))

    pull.one_cotangent = one  # type: ignore[attr-defined]
    # NOTE [One gradient checked in vjp_fn's frame]: used where there is one primal
    pull.one_primal = (pullback, torch.Tensor._is_zerotensor, _dense)  # type: ignore[attr-defined]
    return pull


# NOTE [One gradient checked in the pullback's frame]: ``vjp_fn`` of one output calls
# ``one_cotangent`` once per cotangent (a row-by-row Jacobian: 16 times per vjp), and
# :func:`_dense` through :func:`_dense_pullback` cost it three more Python frames
# (``_dense``, ``torch.compiler.is_compiling`` and ``torch.jit.is_scripting``). ``one`` runs
# torch.func's pullback and the common case of ``_dense`` (one gradient, an ordinary tensor) in
# its own frame, and hands anything else to ``_dense``. It asks ``_is_zerotensor`` without
# asking first whether torch.compile traces: ``one_cotangent`` is called only by the ``vjp_fn``
# of a vjp that ran eagerly (one a compiler traces takes the general pullback, ``pull``), and
# where it does answer True under a compiler, ``_dense`` asks and returns the gradient as it
# is, as before. Callgrind, one pullback of torch ``jacobian 16->16``'s vjp loop: 7,182
# instructions over torch.func's own before, 4,617 after (of about 293,000). A prepared jacrev's
# result is checked the same way (:func:`_dense_eager`): prepared calls never run while a compiler traces.
#
# NOTE [One gradient checked in vjp_fn's frame]: with one primal, ``one_primal`` hands the core
# torch.func's pullback itself, ``Tensor._is_zerotensor`` (a C function: asking it opens no
# Python frame) and :func:`_dense`, so that ``vjp_fn`` calls torch.func's pullback and checks its
# one gradient in its own frame, ``one``'s frame gone (NOTE [Pullbacks of one output] in
# multiad/_api_ad.py). torch.func returns the gradient in the primal's dtype, so only its type
# and ZeroTensor-ness are asked. Callgrind, one pullback of the vjp loop: 4,643 instructions over
# torch.func's own before, 3,756 after; wall clock, the loop's ratio to torch.func's 1.053 ->
# 1.042 in one run on a loaded machine.


# NOTE [Arguments that share memory]: an expanded tensor (``x.expand(3)``,
# ``torch.broadcast_to``: a stride of 0) has elements that share one memory location. torch's
# forward mode cannot make it a dual tensor: ``torch.func.jvp`` and ``jacfwd`` raise "more
# than one element of the written-to tensor refers to a single memory location" before ``f``
# runs, where reverse mode differentiates the same argument. Its value is what ``f`` is
# differentiated at, not its memory layout, so where that error comes back and an argument
# shares memory, the call runs once more with those arguments copied (``contiguous()``: the same
# values, each element its own). Checked only after the error: the common call pays nothing.
_SHARED_MEMORY = (
    "unsupported operation: more than one element of the written-to tensor refers to a single memory location"
)


def _without_shared_memory(args: tuple[Any, ...], exc: RuntimeError) -> tuple[Any, ...] | None:
    """``args`` with every tensor whose elements share memory copied, where ``exc`` is torch's
    error for such a tensor and one of ``args`` is one; else None (NOTE [Arguments that share memory])."""
    if not str(exc).startswith(_SHARED_MEMORY):
        return None
    shared = [isinstance(a, torch.Tensor) and torch._debug_has_internal_overlap(a) == 1 for a in args]
    if not any(shared):
        return None
    return tuple(a.contiguous() if s else a for a, s in zip(args, shared))


def _single_output(fun: Callable[..., Any], has_aux: bool) -> Callable[..., Any]:
    """``fun`` run with the conversion guard on and returning a bare tensor when it has one
    output (:func:`_bare`), with its aux beside it when ``has_aux``. Whether it had one output
    shows in torch.func's result: a bare tensor where fun's outputs were one tensor."""
    if not has_aux:
        return _bare(fun)

    def single(*xs: Any) -> Any:  # fun returns (outputs, aux)
        outs, aux = _run(fun, *xs)
        return (outs[0] if len(outs) == 1 else outs), aux

    return single


# NOTE [torch.func transforms built once]: ``torch.func.grad_and_value(f)`` and
# ``torch.func.jacrev(f)`` build a new wrapped function (``functools.wraps`` and an import) on
# every call, which costs as much as the rest of multiad's work on a small call. The flat function
# changes with every call, so it cannot be bound into a transform built once; instead the
# transforms are built once per number of primals (and has_aux, chunk_size), and
# the flat function travels as their first argument, which is not differentiated.
_BUILT: dict[tuple[str, int, bool, int | None], Callable[..., Any]] = {}


def _built(kind: str, n: int, has_aux: bool, chunk_size: int | None = None) -> Callable[..., Any]:
    """``torch.func.<kind>`` over primals 1 to n of a function passed as argument 0 (NOTE [torch.func
    transforms built once]); ``grad_and_value`` turns the conversion guard on, ``jacrev`` takes
    a function that does (``_single_output``)."""
    key = (kind, n, has_aux, chunk_size)
    t = _BUILT.get(key)
    if t is None:
        argnums = 1 if n == 1 else tuple(range(1, n + 1))
        if kind == "jacrev":
            t = func.jacrev(_apply, argnums=argnums, has_aux=has_aux, chunk_size=chunk_size)
        else:
            t = func.grad_and_value(_run, argnums=argnums, has_aux=has_aux)
        if not torch.compiler.is_compiling():  # NOTE [Tables a trace reads and does not fill] in multiad/_ops.py
            _BUILT[key] = t
    return t


def _bare(fun: Callable[..., Any]) -> Callable[..., Any]:
    """``fun`` (a flat function) run with the conversion guard on, its one output as a bare tensor
    (NOTE [One primal, one output]: torch.func does less pytree work per call for a tensor than
    for a tuple)."""

    def run(*xs: Any) -> Any:
        if _state.active:  # _run, inlined
            outs = fun(*xs)
        else:
            _state.active = True
            try:
                outs = fun(*xs)
            finally:
                _state.active = False
        return outs[0] if len(outs) == 1 else outs

    return run


def _mapped(v: Callable[..., Any], *xs: Any) -> tuple[Any, ...]:
    out = v(*xs)
    return (out,) if isinstance(out, torch.Tensor) else tuple(out)


# NOTE [torch.func.vmap built per function]: ``vmap`` builds ``torch.func.vmap`` for the flat
# function it is given rather than once with the function as an unbatched argument:
# torch.func.vmap's pytree work costs about 450 bytecodes per argument and call (on the
# arguments, ``in_dims`` and the batched inputs), more than building the vmap (about 300), and
# multiad.vmap asks for it once per signature (NOTE [Prepared vmap calls] in
# multiad/_api_vmap.py). For the same reason unbatched arguments (``in_axes`` None) do not go
# through torch.func.vmap: the batched function puts them in a per-thread slot (saved and
# restored around the call, so nested and concurrent calls keep their own) and the function
# torch.func.vmap maps reads them from there, as a closure would. torch.func.vmap runs the
# function on every call, so the values read are always the call's own. Axes that are all the
# same are given as one int, which torch.func broadcasts without flattening a tuple (140
# bytecodes per call). Counted per call on 64x(31->33): ``multiad.vmap`` of
# ``torch.func.jacrev(predict)`` with two arguments unbatched 9510 (torch.func's own vmap of it
# 10226), an elementwise ``multiad.vmap`` 2249 (1988), ``jacfwd`` 16->16 7435 where the vmap
# built once with the function as an argument ran 7806 (``torch.func.jacfwd`` 8294).
class _Unbatched(threading.local):
    def __init__(self) -> None:
        #: The arguments of the batched call running on this thread.
        self.args: tuple[Any, ...] = ()


_unbatched = _Unbatched()


def _dims(in_axes: tuple[int | None, ...]) -> int | tuple[int | None, ...]:
    """``in_dims`` for torch.func.vmap: one int where every argument is mapped along the same
    axis, which torch.func broadcasts without the pytree work a tuple costs per call (NOTE
    [torch.func.vmap built per function])."""
    first = in_axes[0] if in_axes else None
    return first if first is not None and all(ax == first for ax in in_axes) else in_axes


def _vmap_some(fun: Callable[..., Any], in_axes: tuple[int | None, ...], chunk_size: int | None) -> Any:
    """The vmap of ``fun`` over ``in_axes``, some of them None (NOTE [torch.func.vmap built per function])."""
    pos = [k for k, ax in enumerate(in_axes) if ax is not None]
    slot = _unbatched

    def run(*xs: Any) -> Any:  # the mapped arguments; the others from the slot
        args = list(slot.args)
        for k, x in zip(pos, xs):
            args[k] = x
        if _state.active:  # _run, inlined
            outs = fun(*args)
        else:
            _state.active = True
            try:
                outs = fun(*args)
            finally:
                _state.active = False
        return outs[0] if len(outs) == 1 else outs

    v = func.vmap(run, in_dims=_dims(tuple(in_axes[k] for k in pos)), out_dims=0, chunk_size=chunk_size)

    def batched(*args: Any) -> tuple[Any, ...]:
        saved = slot.args
        slot.args = args
        try:
            out = v(*[args[k] for k in pos])
        finally:
            slot.args = saved
        return (out,) if isinstance(out, torch.Tensor) else tuple(out)

    return batched
