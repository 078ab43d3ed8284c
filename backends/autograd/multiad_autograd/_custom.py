"""Custom rules as autograd primitives with ``defvjp`` (and ``defjvp``).

NOTE [autograd custom rules]: a primitive's vjp maker receives the primal arguments; at a
second differentiation they are boxes of the outer trace. There the residuals are recomputed
by running the user's ``fwd`` on those boxes, so that the outer derivative goes through
``fwd``'s own operations; residuals saved from the primitive's output would be constants to
the outer trace (a silently wrong Hessian). At first order the saved residuals are used.
A custom_jvp primitive's vjp is the transpose of its tangent output (linear in the tangents),
taken with ``make_vjp``; its ``defjvp`` serves autograd's own forward mode.
"""

from __future__ import annotations

from typing import Any

import autograd.numpy as anp
import numpy as np
from autograd.builtins import tuple as ag_tuple
from autograd.core import make_vjp
from autograd.extend import defjvp_argnums, defvjp_argnums, primitive
from autograd.tracer import Box

import multiad


def _zeros(args: Any) -> list[Any]:
    return [anp.zeros_like(a) for a in args]


def _constant_nondiff(rule: Any) -> None:
    """Raises where a ``nondiff_argnums`` argument is traced: its derivative would be dropped.

    NOTE [Traced nondiff arguments]: the rule gives no derivative for such an argument, so
    autograd would treat a value computed from the differentiated inputs as a constant there
    (a silently wrong derivative). JAX refuses it too.
    """
    for leaf in multiad.tree_leaves(rule.nondiff):
        if isinstance(leaf, Box):
            raise multiad.InvalidArgumentError(
                f"{rule.name}: an argument in nondiff_argnums depends on the values being differentiated, "
                "and its derivative would be dropped; pass it as a differentiated argument instead "
                "(the rule returns its cotangent, or None)"
            )


def _closures(rule: Any, xs: Any) -> None:
    """Where the rule is applied (an argument is traced), its functions close over no traced
    value (NOTE [Rules closing over differentiated values] in multiad/_custom_rules.py); where
    none is, autograd traces the function's own code, closures included."""
    if any(isinstance(x, Box) for x in xs):
        rule.refuse_closed_over(rule.backend.is_traced)


# NOTE [Captured traced values in autograd rules]: autograd runs a primitive on its arguments'
# values, unboxed at every trace that boxes one. A traced value the function or ``fwd`` reaches
# other than as an argument (a default argument, functools.partial, an object's attribute, a
# global, a function it calls, a callable or object in nondiff_argnums: routes the check of
# closure cells cannot see) stays boxed, so the outputs come back holding boxes (or an object
# array of them), which autograd reported as a plain numpy call having made an object array.
# Where such a box belongs to a trace that also boxes an argument, the rule is applied at that
# trace and the derivative through the captured value would be dropped: refused with the actual
# cause. A box of a trace that boxes no argument (an outer ``grad`` only) is differentiated by
# autograd through the function's own operations, correctly, and passes; so does every box where
# no argument is traced (the function then runs as its own code, as for a closure).
def _traces(values: Any) -> set[int]:
    """The traces of the boxes in ``values`` (boxes inside boxes and object arrays included)."""
    found: set[int] = set()
    for v in values:
        if isinstance(v, np.ndarray) and v.dtype == object:
            found |= _traces(v.flat)
        while isinstance(v, Box):
            found.add(v._trace)
            v = v._value
    return found


def _refuse_captured(rule: Any, what: str, values: Any, traces: set[int]) -> None:
    """Raises where ``values``, computed by a rule applied at ``traces``, hold values traced there
    (NOTE [Captured traced values in autograd rules])."""
    if traces and _traces(values) & traces:
        raise multiad.InvalidArgumentError(
            f"{rule.name}: {what} uses a value being differentiated that is not one of its differentiated "
            "arguments (reached through a closure, a default argument, functools.partial, an object's "
            "attribute, a global, a function it calls, or an argument in nondiff_argnums), and the autograd "
            "backend would drop the derivative through it (a custom rule gives derivatives with respect to "
            f"its differentiated arguments only); pass that value to {rule.name} as a differentiated argument"
        )


def custom_vjp(rule: Any) -> Any:
    _constant_nondiff(rule)
    n_out: list[int] = []
    applied: list[set[int]] = [set()]  # the traces the rule is applied at: those of this call's arguments

    @primitive  # type: ignore[untyped-decorator]
    def prim(*xs: Any) -> Any:
        outs, res = rule.fwd(*xs)
        n_out[:] = [len(outs)]
        _refuse_captured(rule, "its fwd rule", (*outs, *res), applied[0])
        return (*outs, *res)

    def vjp_maker(argnums: Any, ans: Any, args: Any, kwargs: Any) -> Any:
        n = n_out[0]
        if any(isinstance(a, Box) for a in args):
            res = tuple(rule.fwd(*args)[1])
        else:
            res = tuple(ans[i] for i in range(n, len(ans)))

        def pull(g: Any) -> Any:
            grads = rule.bwd(res, tuple(g[i] for i in range(n)))
            return tuple(anp.zeros_like(args[i]) if grads[i] is None else grads[i] for i in argnums)

        return pull

    defvjp_argnums(prim, vjp_maker)

    def call(*xs: Any) -> tuple[Any, ...]:
        _closures(rule, xs)
        saved, applied[0] = applied[0], _traces(xs)
        try:
            res = prim(*xs)
        finally:
            applied[0] = saved
        return tuple(res[i] for i in range(n_out[0]))

    return call


def custom_jvp(rule: Any) -> Any:
    _constant_nondiff(rule)
    applied: list[set[int]] = [set()]  # the traces the rule is applied at: those of this call's arguments

    @primitive  # type: ignore[untyped-decorator]
    def prim(*xs: Any) -> Any:
        outs = tuple(rule.fun(*xs))
        _refuse_captured(rule, "the function", outs, applied[0])
        return outs

    def vjp_maker(argnums: Any, ans: Any, args: Any, kwargs: Any) -> Any:
        def tangent_out(ts: Any) -> Any:
            return ag_tuple(rule.jvp(args, tuple(ts[i] for i in range(len(args))))[1])

        def pull(g: Any) -> Any:
            with rule.transposing():  # NOTE [Rules that call their own function on tangents]
                transpose, _ = make_vjp(tangent_out, ag_tuple(_zeros(args)))
                grads = transpose(g)
            return tuple(grads[i] for i in argnums)

        return pull

    def jvp_maker(argnums: Any, gs: Any, ans: Any, args: Any, kwargs: Any) -> Any:
        ts = _zeros(args)
        for i, t in zip(argnums, gs):
            ts[i] = t
        with rule.transposing():  # NOTE [Rules that call their own function on tangents]
            return tuple(rule.jvp(args, tuple(ts))[1])

    defvjp_argnums(prim, vjp_maker)
    defjvp_argnums(prim, jvp_maker)

    def call(*xs: Any) -> tuple[Any, ...]:
        _closures(rule, xs)
        saved, applied[0] = applied[0], _traces(xs)
        try:
            return tuple(prim(*xs))
        finally:
            applied[0] = saved

    return call
