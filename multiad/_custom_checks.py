"""Checks of a custom function's rules against the function: their signatures and outputs.

NOTE [Rule signatures checked at the first call]: a ``fwd``, ``bwd`` or jvp rule written with
the wrong number of parameters (a ``bwd`` without its residuals, a ``bwd`` without the
``nondiff_argnums`` arguments it gets first, a jvp rule taking one argument) failed with
Python's bare ``TypeError: <lambda>() takes 1 positional argument but 2 were given``, raised
from inside the framework's backward pass, naming neither the custom function nor the
signature expected. The rules are therefore bound against the arguments they will get at the
first call of each number of arguments, after the ``nondiff_argnums`` range check (the number
of arguments a rule gets is known only there: a parameter left at its default is not passed,
NOTE [Parameters left at their defaults]). ``defvjp``/``defjvp`` cannot check it: a negative
or out-of-range index in ``nondiff_argnums`` is reported at the call. A rule whose signature
cannot be read (a builtin) is not checked.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from ._errors import InvalidTypeError


def cannot_take(fn: Callable[..., Any], n: int) -> str | None:
    """Why ``fn`` cannot be called with ``n`` positional arguments, or None where it can (or
    its signature cannot be read)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    try:
        sig.bind(*([None] * n))
    except TypeError as exc:
        return f"{exc} (its signature is {sig})"
    return None


def parameter_names(fun: Callable[..., Any], positions: Sequence[int], n_args: int) -> list[str]:
    """The names of ``fun``'s parameters at ``positions`` of a call with ``n_args`` arguments
    (``arg<i>`` where the signature does not name them), for messages."""
    try:
        params = [
            p.name
            for p in inspect.signature(fun).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"arg{i}" for i in positions if i < n_args]


def check_vjp_rules(
    name: str, fun: Callable[..., Any], fwd: Any, bwd: Any, n_args: int, nondiff: Sequence[int]
) -> None:
    """Raises InvalidTypeError where ``fwd`` cannot take a call's ``n_args`` arguments or ``bwd``
    the nondiff arguments, the residuals and the cotangent (NOTE [Rule signatures checked at the
    first call])."""
    args = ", ".join(parameter_names(fun, range(n_args), n_args))
    problem = cannot_take(fwd, n_args)
    if problem is not None:
        raise InvalidTypeError(
            f"{name}: its fwd rule cannot be called as fwd({args}), with the {n_args} argument(s) of this call: "
            f"{problem}; write fwd with the function's parameters, returning (output, residuals)"
        )
    _check_after_nondiff(
        name, fun, bwd, n_args, nondiff, "bwd", ("residuals", "g"),
        "returning a tuple with one cotangent per differentiated argument",
    )  # fmt: skip


def check_jvp_rule(name: str, fun: Callable[..., Any], rule: Any, n_args: int, nondiff: Sequence[int]) -> None:
    """Raises InvalidTypeError where the jvp rule cannot take the nondiff arguments, the primals
    and the tangents (NOTE [Rule signatures checked at the first call])."""
    _check_after_nondiff(
        name, fun, rule, n_args, nondiff, "jvp_rule", ("primals", "tangents"),
        "where primals and tangents are tuples of the differentiated arguments, returning (output, tangent_output)",
    )  # fmt: skip


def _check_after_nondiff(
    name: str,
    fun: Callable[..., Any],
    rule: Any,
    n_args: int,
    nondiff: Sequence[int],
    kind: str,
    tail: tuple[str, str],
    returns: str,
) -> None:
    """Raises InvalidTypeError where ``rule`` (a bwd or a jvp rule, ``kind``) cannot take the
    nondiff arguments followed by the two parameters named ``tail``."""
    head = parameter_names(fun, sorted(nondiff), n_args)
    problem = cannot_take(rule, len(head) + 2)
    if problem is not None:
        form = ", ".join([*head, *tail])
        why = f" (the nondiff_argnums argument(s) {', '.join(head)} first)" if head else ""
        rule_name = "jvp" if kind == "jvp_rule" else kind
        raise InvalidTypeError(
            f"{name}: its {rule_name} rule cannot be called as {kind}({form}){why}: {problem}; write it as "
            f"def {kind}({form}), {returns}"
        )


def jvp_rule_for_arrays(
    name: str, fun: Callable[..., Any], n_args: int, diff: Sequence[int], exc: BaseException
) -> InvalidTypeError:
    """The error for a jvp rule written ``rule(x, t)``, for arrays, that failed on the tuples
    ``primals`` and ``tangents`` with ``exc`` (NOTE [jvp rules written for arrays] in
    _custom_rules.py)."""
    head = parameter_names(fun, [i for i in range(n_args) if i not in diff], n_args)
    (x,) = parameter_names(fun, [diff[0]], n_args) or ["x"]
    form = ", ".join([*head, "primals", "tangents"])
    raw = str(exc).splitlines()[0] if str(exc) else ""
    raw = raw if len(raw) <= 200 else raw[:197] + "..."
    return InvalidTypeError(
        f"{name}: its jvp rule is written for arrays, as jvp_rule({', '.join([*head, x, 't'])}), but it is called "
        f"as jvp_rule({form}), with primals = ({x},) and tangents = (t,) tuples of the differentiated arguments "
        f"(on the tuples it raised {type(exc).__name__}: {raw}); write it as def jvp_rule({form}) and unpack "
        f"them first, ({x},), (t,) = primals, tangents, returning (output, tangent_output)"
    )
