"""Errors of a ``multiad.numpy`` function written from other ones name the call the user made."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])


# NOTE [Errors of composite functions]: a function written from other ``multiad.numpy``
# functions (``nansum`` from ``sum``, ``full_like`` from ``broadcast_to``) raised their errors,
# which start with the inner call (``mnp.sum: axis 5 is out of bounds ...``), a call the user
# did not make. An error whose message starts with another ``mnp.`` call is raised again, of
# the same type, starting with the outer one (``mnp.nansum: axis 5 is out of bounds ...``), the
# inner error chained as its cause; other errors pass unchanged.
def renamed(call: str, exc: BaseException) -> BaseException | None:
    """``exc`` with its message starting with ``call`` where it starts with another ``mnp.``
    call, else None."""
    msg = str(exc)
    if not msg.startswith("mnp.") or msg.startswith(f"{call}:"):
        return None
    head, sep, rest = msg.partition(": ")
    if not sep or " " in head:
        return None
    text = f"{call}: {rest}"
    try:
        new = type(exc)(text)
    except (TypeError, ValueError, AttributeError):  # a type that needs other arguments: a copy, the message replaced
        new = copy.copy(exc)
        new.args = (text, *exc.args[1:])
    if str(new) != text:
        return None
    return new


def named(call: str, exc: BaseException) -> BaseException | None:
    """``exc``, raised inside ``call``, as ``call``'s error: one starting with another ``mnp.``
    call renamed (:func:`renamed`), numpy's AxisError given the call's name in front (NOTE
    [Framework errors name the call] in ``_dispatch.py``); None to raise it unchanged."""
    msg = str(exc)
    if msg.startswith("mnp."):
        return renamed(call, exc)
    if isinstance(exc, np.exceptions.AxisError):
        return np.exceptions.AxisError(f"{call}: {msg}")
    return None


def errors_named(name: str) -> Callable[[F], F]:
    """Decorates ``multiad.numpy.<name>``, written from other functions (NOTE [Errors of
    composite functions])."""
    call = f"mnp.{name}"

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                new = renamed(call, exc)
                if new is None:
                    raise
                raise new from exc

        return wrapped  # type: ignore[return-value]

    return decorate
