"""The runtime check for differentiated values a torch custom rule reaches other than as an argument.

NOTE [Captured differentiated values at run time]: ``torch.autograd.Function.forward`` runs
with every torch.func level of the call lowered (and grad mode off), so a tensor that an
enclosing transform differentiates and that the function reaches other than through its
arguments is a constant there: its derivative is dropped, a wrong number without an error.
The static check of closure cells (NOTE [Rules closing over differentiated values] in
multiad/_custom_rules.py) cannot see the other routes: a default argument, ``functools.partial``,
an object's attribute, a global, a function it calls, a callable or object in
``nondiff_argnums`` (the docs' ``fixed_point`` with a step closing over a parameter). So while
``forward`` runs the function (custom_jvp) or ``fwd`` (custom_vjp), a torch function mode looks
at the operands of every torch operation: one wrapped, at any depth, by a grad or jvp level that
was on the functorch stack when the custom function was called (recorded then: levels that
``fwd`` opens itself, a ``multiad.grad`` inside it, are not among them), or a plain tensor that
requires grad and is not one of ``forward``'s inputs (grad mode on at the call; inside
``forward`` grad mode is off, so nothing computed there requires grad), is such a value, and
the call raises InvalidArgumentError. A tensor batched by a vmap level but differentiated by
none is not: vmap levels are not recorded. An operation whose result holds no floating tensor
(a comparison, ``shape``) carries no derivative and is let through. The same is looked at in
what ``fwd`` returns (a residual that is the captured value itself, no operation applied).

A value differentiated only by an outer level (``grad`` of a function that takes an inner
``grad`` through the custom function) is refused too: its derivative through the function's
value, and through residuals ``fwd`` computes from it, is dropped at that level (measured:
0 where the closed form is nonzero); only a ``bwd`` that uses the value directly would have
been right, which cannot be told apart while ``forward`` runs. JAX refuses the same cases.

Cost: the mode is entered only for a call of a custom function that a derivative goes
through, and costs a Python call per torch operation of the rule's function while ``forward``
runs (NOTE [Conversions that drop derivatives] explains why the conversion guard is not a
mode: this one is confined to custom rules). Not while torch.compile traces (functorch's
wrappers are not visible to the compiler; NOTE [Rules under a compiled transform]).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.overrides import TorchFunctionMode

import multiad

_functorch = torch._C._functorch
_JVP = _functorch.TransformType.Jvp
_DIFFERENTIATING = (_functorch.TransformType.Grad, _JVP)


def differentiating_levels() -> dict[int, bool]:
    """The functorch levels that differentiate at this point, each with whether it is a jvp level
    (a jvp wrapper's tangent cannot be seen while its level is lowered, so every jvp wrapper counts)."""
    stack = _functorch.get_interpreter_stack()
    if not stack:
        return {}
    return {i.level(): i.key() == _JVP for i in stack if i.key() in _DIFFERENTIATING}


def _live_levels() -> set[int]:
    stack = _functorch.get_interpreter_stack()
    return {i.level() for i in stack} if stack else set()


class Captures(TorchFunctionMode):
    """Raises where an operation of a rule's function uses a captured differentiated value
    (NOTE [Captured differentiated values at run time])."""

    def __init__(self, rule: Any, what: str, levels: dict[int, bool], grad_on: bool, inputs: tuple[Any, ...]) -> None:
        super().__init__()
        self.rule, self.what, self.levels, self.grad_on = rule, what, levels, grad_on
        self.inputs = {id(x) for x in inputs}

    def captured(self, t: Any) -> bool:
        if not isinstance(t, torch.Tensor):
            return False
        if not _functorch.is_functorch_wrapped_tensor(t):
            return self.grad_on and t.requires_grad and id(t) not in self.inputs
        while _functorch.is_functorch_wrapped_tensor(t):
            level = _functorch.maybe_get_level(t)
            if (
                level in self.levels
                and not _functorch.is_batchedtensor(t)
                and (t.requires_grad or self.levels[level])
                and level not in _live_levels()
            ):
                return True
            t = _functorch.get_unwrapped(t)
        return False

    def found(self, values: Any) -> bool:
        """Whether one of ``values`` (tensors, or lists and tuples of them) is a captured value."""
        for v in values:
            if isinstance(v, (list, tuple)):
                if self.found(v):
                    return True
            elif self.captured(v):
                return True
        return False

    def error(self) -> multiad.InvalidArgumentError:
        name = self.rule.name
        return multiad.InvalidArgumentError(
            f"{name}: {self.what} uses a value being differentiated that is not one of its differentiated "
            "arguments (reached through a closure, a default argument, functools.partial, an object's "
            "attribute, a global, a function it calls, or an argument in nondiff_argnums), and the torch "
            f"backend would drop the derivative through it (a custom rule gives derivatives with respect to "
            f"its differentiated arguments only); pass that value to {name} as a differentiated argument"
        )

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if not (self.found(args) or self.found(kwargs.values())):
            return func(*args, **kwargs)
        try:  # a captured operand: refused unless the result carries no derivative
            out = func(*args, **kwargs)
        except RuntimeError:  # functorch may fail an internal assertion on it
            raise self.error() from None
        if _floating(out):
            raise self.error()
        return out


def _floating(out: Any) -> bool:
    if isinstance(out, torch.Tensor):
        return out.is_floating_point() or out.is_complex()
    if isinstance(out, (list, tuple)):
        return any(_floating(o) for o in out)
    return False


def checked(rule: Any, what: str, fn: Any, xs: tuple[Any, ...]) -> Any:
    """``fn(*xs)`` under the check, with the levels recorded when ``rule`` was applied (``None``
    where it was not: while torch.compile traced, or inside another rule's ``forward``)."""
    where = getattr(rule, "captures", None)
    if where is None:
        return fn(*xs)
    levels, grad_on = where
    mode = Captures(rule, what, levels, grad_on, xs)
    with mode:
        out = fn(*xs)
    if mode.found(out if isinstance(out, tuple) else (out,)):
        raise mode.error()
    return out
