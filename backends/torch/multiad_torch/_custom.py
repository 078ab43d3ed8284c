"""Custom rules as ``torch.autograd.Function`` subclasses that torch.func transforms accept.

NOTE [torch custom rules]: torch.func (grad, vjp, jvp, jacrev, jacfwd, vmap) accepts an
``autograd.Function`` only in the ``setup_context`` style, with a ``jvp`` staticmethod for
forward mode and a vmap rule (here generated: ``generate_vmap_rule = True``). The flat rule
object (NOTE [Custom rules at the flat level]) travels as the first, non-tensor, argument of
``apply``.

- custom_vjp: ``forward`` runs the function (a ``fwd`` that calls the custom function itself,
  as is usual, then evaluates it plainly instead of recursing). ``backward`` runs ``fwd`` on
  the saved inputs for the residuals, then ``bwd``. Recomputing costs one more evaluation per
  backward pass but keeps higher derivatives exact: residuals returned from
  ``forward`` as extra outputs would reach a second differentiation only through ``backward``,
  which knows nothing of them (they would count as constants, a silently wrong Hessian). There
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

from typing import Any

import torch

import multiad

from . import _run


def _fresh(outs: Any, xs: Any) -> tuple[Any, ...]:
    """Outputs that are inputs (or repeat another output) as views, which torch can save."""
    seen = {id(x) for x in xs}
    fresh = []
    for o in outs:
        fresh.append(o.view_as(o) if id(o) in seen else o)
        seen.add(id(o))
    return tuple(fresh)


class _Rule(torch.autograd.Function):
    """Runs the function forward and saves the inputs; subclasses add the derivatives."""

    generate_vmap_rule = True

    @staticmethod
    def forward(rule: Any, *xs: Any) -> Any:  # type: ignore[override]
        return _fresh(rule.fun(*xs), xs)

    @staticmethod
    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        ctx.rule = inputs[0]
        ctx.save_for_backward(*inputs[1:])
        ctx.save_for_forward(*inputs[1:])


class CustomVJP(_Rule):
    @staticmethod
    def backward(ctx: Any, *cts: Any) -> Any:
        return (None, *_run(_vjp_backward, ctx.rule, ctx.saved_tensors, cts))


class CustomJVP(_Rule):
    @staticmethod
    def jvp(ctx: Any, *ts: Any) -> Any:
        xs = ctx.saved_tensors
        ts = tuple(torch.zeros_like(x) if t is None else t for x, t in zip(xs, ts[1:]))
        return _run(ctx.rule.jvp, xs, ts)[1]

    @staticmethod
    def backward(ctx: Any, *cts: Any) -> Any:
        return (None, *_run(_jvp_backward, ctx.rule, ctx.saved_tensors, cts))


def _jvp_backward(rule: Any, xs: Any, cts: Any) -> Any:
    """The cotangents of a custom_jvp function's inputs: the transpose of its (linear) tangent rule."""

    def tangent_out(*ts: Any) -> Any:
        return rule.jvp(xs, ts)[1]

    transpose = torch.func.vjp(tangent_out, *[torch.zeros_like(x) for x in xs])[1]
    return transpose(tuple(cts))


def _vjp_backward(rule: Any, xs: Any, cts: Any) -> Any:
    """The cotangents of a custom_vjp function's inputs: ``fwd`` again for the residuals, then ``bwd``."""
    _, residuals = rule.fwd(*xs)
    return rule.bwd(residuals, cts)


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


def custom_vjp(rule: Any) -> Any:
    _constant_nondiff(rule)
    return lambda *xs: CustomVJP.apply(rule, *xs)  # type: ignore[no-untyped-call]


def custom_jvp(rule: Any) -> Any:
    _constant_nondiff(rule)
    return lambda *xs: CustomJVP.apply(rule, *xs)  # type: ignore[no-untyped-call]
