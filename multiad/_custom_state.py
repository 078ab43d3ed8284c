"""What custom rules need to know about the transforms in progress.

NOTE [Forward mode through custom_vjp]: a ``custom_vjp`` rule defines a pullback only; it may
even be nonlinear in the cotangent (``clip_gradient``), so no forward-mode derivative follows
from it. JAX and torch both refuse forward mode through such a function. multiad marks the
forward-mode transforms it runs (``jvp``, ``jacfwd``, ``linearize``); a ``custom_vjp`` function
called under one raises :class:`ForwardOverCustomVJPError`. ``jacfwd``, ``jacobian``,
``hessian`` and ``hvp`` catch that error and compute the same quantity in reverse mode
(``jacrev``; reverse-over-reverse), which applies the rule exactly; ``jvp`` and ``linearize``
have no reverse-mode equivalent and raise it to the caller. While torch.compile traces, the
marks are not kept (NOTE [Compiled regions]); forward mode through a custom_vjp function then
fails with torch's own error instead.

NOTE [Backends without custom rules]: a backend that does not declare ``has_custom_rules``
(the finite-difference numpy backend) would differentiate a custom function by perturbing it,
ignoring the rule, which gives another answer than the rule. While such a backend
differentiates (the core marks it around every primitive it runs that takes a derivative),
calling a custom function raises UnsupportedOperationError; outside its transforms, and under a
``vmap`` that no transform of it encloses, the function is simply evaluated.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

from . import _select
from ._backend import Backend
from ._errors import UnsupportedOperationError

T = TypeVar("T")

_forward: contextvars.ContextVar[int] = contextvars.ContextVar("multiad_forward_mode", default=0)
_without_rules: contextvars.ContextVar[Backend | None] = contextvars.ContextVar("multiad_no_rules", default=None)


class ForwardOverCustomVJPError(UnsupportedOperationError):
    """A custom_vjp function was called under forward mode (NOTE [Forward mode through custom_vjp])."""

    #: Whether the message starts with the transform's call (``jvp(f): sq: ...``) yet.
    named = False


def named_by(call: str, exc: ForwardOverCustomVJPError) -> ForwardOverCustomVJPError:
    """``exc`` with a message that starts with ``call``, the innermost forward-mode transform
    whose caller sees it (errors start with the call: docs/reliability.md)."""
    if exc.named:
        return exc
    err = ForwardOverCustomVJPError(f"{call}: {exc}")
    err.named = True
    return err


def forward_mode() -> bool:
    """Whether a forward-mode transform run by multiad is in progress."""
    return not _select.compiling() and _forward.get() > 0


def differentiating_without_rules() -> Backend | None:
    """The backend without custom rules that is differentiating now, if any."""
    return None if _select.compiling() else _without_rules.get()


class forward:
    """Marks a forward-mode transform while it runs (not while a compiler traces Python, which
    cannot trace context variables: NOTE [Compiled regions])."""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        # _select.compiling() without its frame (NOTE [One compiler probe]): this runs on every jacfwd
        self._token = None if _select.PROBE[0]() else _forward.set(_forward.get() + 1)

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _forward.reset(self._token)


def run_marked(b: Backend, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``, marked as differentiation by ``b`` if ``b`` has no custom rules."""
    if b.has_custom_rules or _select.PROBE[0]():  # compiling() (NOTE [One compiler probe])
        return fn(*args)
    token = _without_rules.set(b)
    try:
        return fn(*args)
    finally:
        _without_rules.reset(token)


def or_reverse(forward_fn: Callable[..., T], reverse_fn: Callable[[], T], *args: Any) -> T:
    """``forward_fn(*args)``, or ``reverse_fn()`` where it met a custom_vjp function (same quantity).

    The arguments are passed rather than closed over so that no extra frame lies between the
    caller and the forward transform (NOTE [Nested transforms near a stack chunk boundary])."""
    try:
        return forward_fn(*args)
    except ForwardOverCustomVJPError:
        if forward_mode():  # an enclosing forward-mode transform still cannot go through it
            raise
        return reverse_fn()
