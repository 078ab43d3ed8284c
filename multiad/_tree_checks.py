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

NOTE [unflatten_fn checked at the rebuild]: ``unflatten_fn`` is called as ``unflatten_fn(aux,
children)``, the auxiliary data first (optree's and JAX's order: "a function taking two
arguments: the auxiliary data that was returned by flatten_func and stored in the treedef, and
the unflattened children"). One written ``unflatten_fn(children, aux)`` takes two parameters as
the right one does, so the registration's signature check passes it, and the first rebuild
raised Python's bare error from inside optree (``Pair() argument after * must be an iterable,
not NoneType``), naming neither the registration nor the order; jax.tree_util and optree give
the same bare error. Two checks now: at the registration, parameters named the other way round
(``children``/``leaves`` first, ``aux``/``aux_data``/``metadata`` second, which may not raise at
all where aux is itself a tuple) are refused; at a rebuild, a built-in exception from
``unflatten_fn`` (not a framework's or multiad's own, which pass unchanged) becomes
InvalidTypeError naming the registration and the signature, after one more call with the
arguments swapped says whether the order is the mistake (only on the failing path; a rebuild
that succeeds costs one Python call).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import optree

from ._custom_checks import cannot_take
from ._errors import InvalidArgumentError, InvalidTypeError, MultiADError, an


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
    if wrap_flatten:
        _refuse_swapped_names(call, unflatten_fn)
    flat = _checked_flatten(call, cls, flatten_fn) if wrap_flatten else flatten_fn
    unflat = _checked_unflatten(call, cls, unflatten_fn) if wrap_flatten else unflatten_fn
    try:
        optree.register_pytree_node(cls, flat, unflat, namespace=namespace)
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


_CHILDREN_NAMES = frozenset({"children", "leaves", "child", "xs"})
_AUX_NAMES = frozenset({"aux", "aux_data", "auxdata", "metadata", "meta", "treedef"})
_UNFLATTEN_FORM = (
    "write unflatten_fn(aux, children) -> x, aux the second element flatten_fn returns and children a tuple "
    "of the children, as optree and jax.tree_util call it"
)


def _refuse_swapped_names(call: str, unflatten_fn: Any) -> None:
    """Raises InvalidTypeError where unflatten_fn's first two parameters are named children
    and aux (NOTE [unflatten_fn checked at the rebuild])."""
    try:
        params = list(inspect.signature(unflatten_fn).parameters)
    except (TypeError, ValueError):
        return
    if len(params) >= 2 and params[0].lower() in _CHILDREN_NAMES and params[1].lower() in _AUX_NAMES:
        raise InvalidTypeError(
            f"{call}: unflatten_fn takes ({params[0]}, {params[1]}), the children first; it is called with the "
            f"auxiliary data first: {_UNFLATTEN_FORM}"
        )


def _checked_unflatten(call: str, cls: type, unflatten_fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    name = cls.__name__

    def unflatten(aux: Any, children: Any) -> Any:
        try:
            return unflatten_fn(aux, children)
        except Exception as exc:
            if isinstance(exc, MultiADError) or type(exc).__module__ != "builtins":
                raise
            first = str(exc).splitlines()[0] if str(exc) else ""
            try:
                swapped = isinstance(unflatten_fn(children, aux), cls)
            except Exception:  # noqa: BLE001 - any failure swapped: not the order, the first error is named
                swapped = False
            if swapped:
                raise InvalidTypeError(
                    f"{call}: unflatten_fn takes its parameters in the wrong order: called as unflatten_fn(aux, "
                    f"children) it raised {type(exc).__name__}: {first}, and called as unflatten_fn(children, aux) "
                    f"it returns {an(name)}; {_UNFLATTEN_FORM}"
                ) from exc
            raise InvalidTypeError(
                f"{call}: unflatten_fn raised {type(exc).__name__}: {first}, rebuilding {an(name)} from aux "
                f"{_short(aux)} and {len(children)} child(ren); {_UNFLATTEN_FORM}, returning {an(name)} (the "
                "children may be other values than arrays where multiad rebuilds a structure, as in JAX)"
            ) from exc

    return unflatten


def _short(x: Any) -> str:
    r = repr(x)
    return r if len(r) <= 60 else r[:57] + "..."
