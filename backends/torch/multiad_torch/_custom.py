"""Custom rules as ``torch.autograd.Function`` subclasses that torch.func transforms accept.

NOTE [torch custom rules]: torch.func (grad, vjp, jvp, jacrev, jacfwd, vmap) accepts an
``autograd.Function`` only in the ``setup_context`` style, with a ``jvp`` staticmethod for
forward mode and a vmap rule (here generated: ``generate_vmap_rule = True``). The flat rule
object (NOTE [Custom rules at the flat level]) travels as the first, non-tensor, argument of
``apply``.

- custom_vjp: ``forward`` runs ``fwd`` once and returns its outputs followed by its residuals,
  which ``backward`` gets back as saved outputs: the value and a first-order derivative come
  from one evaluation of ``fwd`` (as on JAX and autograd), so a ``fwd`` that is not a pure
  function (dropout drawing a mask) gives the gradient of the value returned, and calling a
  pullback again does not run ``fwd`` again. Grads are not materialized: a residual's
  cotangent is ``None`` unless a backward pass that used it is itself differentiated (a
  second derivative, by ``torch.func`` or ``create_graph=True``). Only then does ``backward``
  run ``fwd`` again, under ``torch.func.vjp``, for the derivative of the residuals, so that
  higher derivatives through ``fwd`` stay exact. A residual kept as a constant would make them
  silently wrong; a check of grad mode inside ``backward`` would not tell the cases apart
  (torch.func differentiates with ``create_graph=True`` at every level). A call on tensors
  that no derivative can go through (inside ``forward``, where a ``fwd`` calls its own custom
  function) evaluates the function, as JAX does, instead of applying the rule again. There
  is no ``jvp``: forward mode is refused by the core before torch is reached.
- custom_jvp: ``jvp`` applies the user's rule to the saved inputs; ``backward`` is its
  transpose, the vjp (through torch.func) of the rule's tangent output, which is linear in the
  tangents. Both are written with differentiable operations, so second derivatives go through
  the rule.

NOTE [Rules run as f runs]: ``backward`` runs in torch's backward pass, after f has returned
and multiad's transform has left the state in which f runs (``_run``); a rule there would see
plain torch, where a NumPy operand (``g * w``, ``w`` an array the rule closes over) converts
the cotangent to NumPy, which a cotangent that carries a derivative cannot do. The rules
therefore run under ``_run`` as f does: NumPy operands become constant tensors and conversions
that drop a derivative raise (NOTE [numpy arrays inside f]).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

import multiad

from . import _guard
from ._captures import checked, differentiating_levels
from ._guard import _run, _state


def _fresh(outs: Any, xs: Any) -> tuple[Any, ...]:
    """Outputs that are inputs (or repeat another output) as views, which torch can save."""
    seen = {id(x) for x in xs}
    fresh = []
    for o in outs:
        fresh.append(o.view_as(o) if id(o) in seen else o)
        seen.add(id(o))
    return tuple(fresh)


class CustomVJP(torch.autograd.Function):
    """Runs ``fwd`` once; its outputs, then its residuals, are the outputs (NOTE [torch custom rules])."""

    generate_vmap_rule = True

    @staticmethod
    def forward(rule: Any, *xs: Any) -> Any:  # type: ignore[override]
        outs, residuals = checked(rule, "its fwd rule", rule.fwd, xs)
        rule.n_outs = len(outs)
        return _fresh((*outs, *residuals), xs)

    @staticmethod
    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        rule = ctx.rule = inputs[0]
        n = rule.n_outs
        ctx.set_materialize_grads(False)
        ctx.n_in = len(inputs) - 1
        ctx.out_meta = [(o.shape, o.dtype, o.device) for o in output[:n]]
        ctx.save_for_backward(*inputs[1:], *output[n:])

    @staticmethod
    def backward(ctx: Any, *cts: Any) -> Any:
        saved = ctx.saved_tensors
        xs, residuals = saved[: ctx.n_in], saved[ctx.n_in :]
        n = len(ctx.out_meta)
        return (None, *_run(_vjp_backward, ctx.rule, xs, residuals, ctx.out_meta, cts[:n], cts[n:]))


class CustomJVP(torch.autograd.Function):
    """Runs the function and saves the inputs; ``jvp`` and ``backward`` apply the tangent rule."""

    generate_vmap_rule = True

    @staticmethod
    def forward(rule: Any, *xs: Any) -> Any:  # type: ignore[override]
        return _fresh(checked(rule, "the function", rule.fun, xs), xs)

    @staticmethod
    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        ctx.rule = inputs[0]
        ctx.save_for_backward(*inputs[1:])
        ctx.save_for_forward(*inputs[1:])

    @staticmethod
    def jvp(ctx: Any, *ts: Any) -> Any:
        xs = ctx.saved_tensors
        ts = tuple(torch.zeros_like(x) if t is None else t for x, t in zip(xs, ts[1:]))
        outs, touts = _run(ctx.rule.jvp, xs, ts)
        # torch's tangent of an integer output is None (NOTE [Outputs without tangents] in
        # multiad/_custom_rules.py).
        return tuple(t if _inexact(o) else None for o, t in zip(outs, touts))

    @staticmethod
    def backward(ctx: Any, *cts: Any) -> Any:
        return (None, *_run(_jvp_backward, ctx.rule, ctx.saved_tensors, cts))


def _jvp_backward(rule: Any, xs: Any, cts: Any) -> Any:
    """The cotangents of a custom_jvp function's inputs: the transpose of its (linear) tangent
    rule (NOTE [Rules that call their own function on tangents] in multiad/_custom_rules.py)."""

    kept: list[bool] = []  # the outputs with tangents: torch.func.vjp refuses integer outputs

    def tangent_out(*ts: Any) -> Any:
        outs, touts = rule.jvp(xs, ts)
        kept[:] = [_inexact(o) for o in outs]
        return tuple(t for t, k in zip(touts, kept) if k)

    with rule.transposing():
        transpose = torch.func.vjp(tangent_out, *[torch.zeros_like(x) for x in xs])[1]
        return transpose(tuple(c for c, k in zip(cts, kept) if k))


def _inexact(t: Any) -> bool:
    return bool(t.is_floating_point() or t.is_complex())


def _vjp_backward(rule: Any, xs: Any, residuals: Any, out_meta: Any, g_outs: Any, g_res: Any) -> Any:
    """The cotangents of a custom_vjp function's inputs: ``bwd`` for its outputs' cotangents, and
    the derivative of ``fwd``'s residuals for theirs (nonzero only where a backward pass that
    used them is differentiated: NOTE [torch custom rules])."""
    grads: list[Any] = [None] * len(xs)
    if any(g is not None for g in g_outs):
        g = tuple(torch.zeros(s, dtype=d, device=v) if c is None else c for (s, d, v), c in zip(out_meta, g_outs))
        grads = list(rule.bwd(residuals, g))
    keep = [i for i, c in enumerate(g_res) if c is not None]
    if keep:

        def fwd_residuals(*xs: Any) -> tuple[Any, ...]:
            res = rule.fwd(*xs)[1]
            return tuple(res[i] for i in keep)

        pullback = torch.func.vjp(fwd_residuals, *xs)[1]
        through = pullback(tuple(g_res[i] for i in keep))
        grads = [t if g is None else g + t for g, t in zip(grads, through)]
    return tuple(grads)


def _dual(t: Any) -> bool:
    return torch.autograd.forward_ad.unpack_dual(t).tangent is not None  # type: ignore[no-untyped-call]


def _carries_derivative(t: Any) -> bool:
    if t.requires_grad or _dual(t):
        return True
    functorch = torch._C._functorch
    while functorch.is_functorch_wrapped_tensor(t):
        if not functorch.is_batchedtensor(t) and (t.requires_grad or _dual(t)):
            return True
        t = functorch.get_unwrapped(t)
    return False


def _constant_nondiff(rule: Any) -> None:
    """Raises where a ``nondiff_argnums`` argument carries a derivative, which would be dropped.

    NOTE [Traced nondiff arguments in torch]: the rule gives no derivative for such an argument,
    so torch would treat a tensor computed from the differentiated inputs as a constant there
    (a silently wrong derivative). Not checked while torch.compile traces.
    """
    if torch.compiler.is_compiling():
        return
    for leaf in multiad.tree_leaves(rule.nondiff):
        if isinstance(leaf, torch.Tensor) and _carries_derivative(leaf):
            raise multiad.InvalidArgumentError(
                f"{rule.name}: an argument in nondiff_argnums depends on the values being differentiated, "
                "and its derivative would be dropped; pass it as a differentiated argument instead "
                "(the rule returns its cotangent, or None)"
            )


def _traced(xs: Any) -> bool:
    """Whether a derivative may be taken through a call on ``xs``; where none can (inside
    ``CustomVJP.forward``, where a ``fwd`` calls its own custom function), the function is
    evaluated, as JAX does, rather than applied again (which would recurse).

    A tensor under torch.func transforms is unwrapped level by level: a derivative is taken
    through a grad-tracking or dual level, or through the tensor underneath (``requires_grad``
    where grad mode is on: not inside ``forward``, where a vmapped tensor may wrap one)."""
    if torch.compiler.is_compiling():  # functorch's wrappers are not visible to the compiler
        return torch.is_grad_enabled()
    functorch = torch._C._functorch
    for t in xs:
        while functorch.is_functorch_wrapped_tensor(t):
            if not functorch.is_batchedtensor(t) and (t.requires_grad or _dual(t)):
                return True
            t = functorch.get_unwrapped(t)
        if _dual(t) or (t.requires_grad and torch.is_grad_enabled()):
            return True
    return False


# NOTE [Rules under a compiled transform]: torch.compile of a torch.func transform (grad, vjp,
# jacrev, ...) whose function applies an autograd.Function traces the Function's forward into the
# graph and leaves its backward out (torch 2.13; raw ``torch.compile(torch.func.grad(g))`` does
# the same): the rule is dropped and the derivative is that of the forward, a wrong number
# without an error (``clip_gradient`` gives 5 where the rule gives 1). A compiled forward whose
# ``loss.backward()`` runs the rule is not affected. A rule applied while torch.compile traces one
# of multiad's transforms (the conversion guard's flag is set while f runs under them, compiled
# or not) therefore raises; the compiled call fails with this error, and the same transform
# called without torch.compile applies the rule.
#
# NOTE [Custom functions under a compiled vmap]: a plain vmap differentiates nothing, yet the
# compiled torch.func.vmap of an autograd.Function drops its rule too (``loss.backward()`` of
# its output gave the forward's derivative, ``cos(x)`` where the rule gave 7), and whether a
# derivative will be taken through the result cannot be told while torch.compile traces
# (``requires_grad`` reads False on the batched values there, as on eager ones). So the call is
# refused while grad mode is on, with a message saying so (it spoke of a transform's derivative);
# under ``torch.no_grad()`` no derivative can go through, and ``_traced`` evaluates the function.
def _refuse_compiled_transform(rule: Any) -> None:
    # The per-thread flag where this backend's own primitives run f in the trace, the traced
    # vmap's where it runs f (NOTE [The traced vmap's flag] in _guard.py), multiad's where the
    # functions the core hands to prepare/prepare_traced do (Backend.in_traced_transform).
    if _state.active or multiad.Backend.in_traced_transform():
        raise multiad.UnsupportedOperationError(
            f"{rule.name}: torch.compile of a multiad transform drops a custom rule's derivative (the "
            "compiled graph keeps the function's forward only, so the result would be wrong); call the "
            "transform without torch.compile, or compile only the forward and differentiate it with "
            "loss.backward()"
        )
    if _guard._in_vmap:
        raise multiad.UnsupportedOperationError(
            f"{rule.name}: torch.compile of multiad.vmap over a custom function is refused while grad mode is "
            "on, although vmap differentiates nothing: the compiled vmap drops a custom rule's derivative (it "
            "keeps the function's forward only), so a derivative later taken through its result "
            "(loss.backward()) would silently not be the rule's, and whether one will be cannot be told while "
            "torch.compile traces; where nothing is differentiated, call the compiled function under "
            "torch.no_grad() (the function is then evaluated, as an eager vmap does), or call vmap without "
            "torch.compile"
        )


# NOTE [Rules applied under a transform of a compiled function]: a torch.func transform of a
# compiled function (``multiad.grad(torch.compile(f))``, which torch.func.grad of it is) is not
# compiled: Dynamo refuses every frame while a grad, jvp or vmap level is on functorch's stack
# ("Unsupported functorch tracing attempt"), and f runs as Python with Dynamo's frame callback
# still set. Inside ``autograd.Function.forward`` functorch lowers the call's levels, so there
# Dynamo does compile the frames that run: the rule's ``fwd`` and multiad's code around it,
# which reach the call's arguments as they were passed (``rule.args``, the wrapped tensors of
# the lowered level). Recompiled for a second custom function (a guard on ``len(self.args)``),
# Dynamo made a fake tensor of such an argument, and functorch failed an internal assertion
# ("dynamicLayerStack.size() >= level"): ``multiad.grad`` of a compiled function calling a
# custom function failed after another one had run in the process. Applied where that callback
# is set and a functorch level is on the stack, the Function runs with Dynamo disabled, as the
# rest of f does there; the rule gives the derivative. Eager calls pay for one look at the
# callback (C, about 35 ns), and ask ``torch.compiler.is_compiling`` (about 140 ns) once fewer.
def _apply(rule: Any, function: Any, xs: tuple[Any, ...]) -> Any:
    """``function.apply(rule, *xs)`` after the checks of its case (compiled or not)."""
    if torch.compiler.is_compiling():  # functorch's wrappers are not visible to the compiler
        _refuse_compiled_transform(rule)
        return function.apply(rule, *xs)
    _closures(rule)
    if _frame_callback() is not None and _functorch.peek_interpreter_stack() is not None:
        return _UNCOMPILED[function](rule, *xs)
    return function.apply(rule, *xs)


def _closures(rule: Any) -> None:
    """Raises where a function of the rule closes over a value being differentiated (NOTE [Rules
    closing over differentiated values] in multiad/_custom_rules.py); asked where the rule is
    applied. Records what ``forward`` checks the other routes against (NOTE [Captured
    differentiated values at run time] in _captures.py). Not while torch.compile traces."""
    rule.refuse_closed_over(lambda v: isinstance(v, torch.Tensor) and _carries_derivative(v))
    rule.captures = (differentiating_levels(), torch.is_grad_enabled())


_functorch = torch._C._functorch
_frame_callback = torch._C._dynamo.eval_frame.get_eval_frame_callback
_disable: Callable[..., Any] = torch.compiler.disable
_UNCOMPILED = {
    f: _disable(f.apply, reason="multiad: a custom rule under a torch.func transform of a compiled function")
    for f in (CustomVJP, CustomJVP)
}


def custom_vjp(rule: Any) -> Any:
    _constant_nondiff(rule)

    def call(*xs: Any) -> Any:
        if not _traced(xs):
            return rule.fun(*xs)
        return _apply(rule, CustomVJP, xs)[: rule.n_outs]

    return call


def custom_jvp(rule: Any) -> Any:
    _constant_nondiff(rule)

    def call(*xs: Any) -> Any:
        if not _traced(xs):  # no derivative through xs: the function, as custom_vjp does
            return rule.fun(*xs)
        return _apply(rule, CustomJVP, xs)

    return call
