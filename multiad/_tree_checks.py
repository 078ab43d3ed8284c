"""Checks of a pytree registration (``register_pytree_node``, ``register_dataclass``).

NOTE [Registrations checked]: optree answered the common mistakes with its own messages, which
named neither multiad's call nor the fix: a class given as a string or an instance
(``Expected a class, got 'P'``), a function that is not callable (pybind11's list of
"incompatible function arguments"), a class registered twice (``PyTree type ... is already
registered in namespace 'multiad'``). A ``flatten_fn`` returning something other than a pair
``(children, aux)`` failed at the first flatten with ``'int' object is not iterable``, and one
returning an array as its children (``(x.a, None)`` for ``((x.a,), None)``) was accepted: the
array's elements became the leaves, each differentiated as a separate scalar, and rebuilding
passed ``unflatten_fn`` a list of them. The registration now checks the class and the functions'
signatures, and the registered ``flatten_fn`` checks what it returns (one isinstance test per
flatten of a registered container).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import optree

from ._custom_checks import cannot_take
from ._errors import InvalidArgumentError, InvalidTypeError, an


def checked_registration(
    call: str, cls: Any, flatten_fn: Any, unflatten_fn: Any, namespace: str, wrap_flatten: bool = True
) -> None:
    """Registers ``cls`` with optree in ``namespace`` after the checks of NOTE [Registrations
    checked]; ``flatten_fn``'s results are checked where ``wrap_flatten`` (the user's function)."""
    if not isinstance(cls, type):
        got = f"the string {cls!r}" if isinstance(cls, str) else f"{an(type(cls).__name__)} instance"
        raise InvalidTypeError(
            f"{call}: cls must be a class, got {got}; pass the class itself (type(x) for an instance x)"
        )
    for role, fn, n in (("flatten_fn", flatten_fn, 1), ("unflatten_fn", unflatten_fn, 2)):
        if not callable(fn):
            raise InvalidTypeError(f"{call}: {role} must be callable, got {type(fn).__name__}")
        problem = cannot_take(fn, n)
        if problem is not None:
            form = "flatten_fn(x) -> (children, aux)" if n == 1 else "unflatten_fn(aux, children) -> x"
            raise InvalidTypeError(f"{call}: {role} cannot be called with {n} argument(s): {problem}; write {form}")
    flat = _checked_flatten(call, cls, flatten_fn) if wrap_flatten else flatten_fn
    try:
        optree.register_pytree_node(cls, flat, unflatten_fn, namespace=namespace)
    except ValueError as exc:
        if "built-in" in str(exc):
            raise InvalidArgumentError(
                f"{call}: {cls.__name__} is a built-in container that multiad's trees already handle; "
                "register a class of your own (a subclass, or a dataclass holding it)"
            ) from None
        raise InvalidArgumentError(
            f"{call}: {cls.__name__} is already registered as a pytree node for multiad (by "
            "register_pytree_node or register_dataclass); register each class once, where it is defined"
        ) from None


def _checked_flatten(call: str, cls: type, flatten_fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    name = cls.__name__

    def flatten(x: Any) -> Any:
        out = flatten_fn(x)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            got = (
                f"a {type(out).__name__} of length {len(out)}" if isinstance(out, (tuple, list)) else type(out).__name__
            )
            raise InvalidTypeError(
                f"{call}: flatten_fn returned {got} for {an(name)}; it must return a pair (children, aux), "
                "children a tuple or list of its children"
            )
        children = out[0]
        if not isinstance(children, (tuple, list)) and (
            not isinstance(children, Iterable)
            or isinstance(children, (str, bytes, Mapping))
            or hasattr(children, "shape")
        ):
            raise InvalidTypeError(
                f"{call}: flatten_fn returned children of type {type(children).__name__} for {an(name)}; "
                "return them as a tuple or list ((x.a,), aux for one child: an array is one leaf)"
            )
        return out

    return flatten
