"""Checks of what a backend's primitives hand back (NOTE [Results of a backend's primitives]).

NOTE [Results of a backend's primitives]: the core takes a backend's results as the contract
describes them (``multiad/_backend.py``): a pullback returns a tuple with one array of the
backend per primal, shaped like that primal; ``jvp`` one tangent output per output, shaped like
it; a native ``value_and_grad`` one gradient per primal. A third-party backend that returned
one gradient too few, None, a raveled gradient or numpy arrays had that passed on to the user
as a result (``grad`` returning None, ``vjp_fn`` returning ``()``) or met later as a bare
IndexError or reshape error naming neither the call nor the backend. Every place the core takes
such a result now checks it and raises BackendError naming the call, the backend and what the
contract asks: a pullback's gradients (every vjp_fn, grad and value_and_grad, the rows of
jacrev, the pullbacks a Hessian, hvp, linearize and forward mode by the pullback take), a
native ``value_and_grad``'s, a prepared ``grad_and_value``'s, ``jvp``'s tangent outputs (and
a native ``linearize``'s), and the outputs of the function a backend's ``vmap`` returns (arrays
of the backend batched along axis 0). The checks cost nearly nothing on the common path (issue
13): each call site compares the count, each entry's type with what it already knows (the
primal's type, or the backend's ``is_array``) and its shape, in the frame that already touches
the result, and calls :func:`gradients` or :func:`tangents` here, the slow path that converts
numbers and names the defect, only where that comparison fails. The same checks run for every
backend, in-tree or not: a declaration a backend could make to skip them would let exactly the
plugins they protect users from skip them too.

Two hot paths compare the rank (``ndim``) instead of the shape, since reading a torch tensor's
shape costs about 1,000 machine instructions (callgrind; ``ndim`` about half, ``len`` of the
tuple 200), a third of a percent of a pullback: vjp_fn through a pullback's ``one_primal``
(NOTE [Pullbacks of one output] in ``multiad/_api_ad.py``: count, type, rank and
ZeroTensor-ness), and a prepared ``grad_and_value`` compares only the count and each
gradient's type with its argument's (two rank reads cost it 2,400 instructions, 0.3 %, NOTE
[Prepared calls]). A missing or extra gradient, None and numpy arrays are caught there as
everywhere, and a 0-d gradient raveled to ``(1,)`` on the pullback; a gradient of the right type
and the wrong shape from a prepared transform, or of the right rank and the wrong extent from a
``one_primal`` pullback, is caught on every other path (the first call of every signature takes
the general path) and by the conformance suite's flat-contract item. Callgrind (torch,
CPython 3.11, ``jacobian 16->16``'s function): a vjp call +0.24 %, its pullback +0.39 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np

from ._backend import Backend
from ._errors import BackendError

#: Python and numpy numbers, which a framework may hand back for a 0-d result (converted).
_NUMBERS = (int, float, complex, np.generic)


def pulled(
    b: Backend, call: str, grads: Any, primals: Sequence[Any], where: str = "", what: str = "pullback"
) -> tuple[Any, ...]:
    """``grads`` as it is where it is a tuple of one array per primal of the primal's type and
    shape (the common case, checked in this frame), else :func:`gradients` of it, under the call
    ``call + where``."""
    if type(grads) is tuple and len(grads) == len(primals):
        for g, p in zip(grads, primals):
            if type(g) is not type(p) or g.shape != p.shape:
                break
        else:
            return grads
    return gradients(b, call + where, grads, primals, what)


def pushed(b: Backend, call: str, touts: Any, outs: Sequence[Any], what: str = "jvp") -> tuple[Any, ...]:
    """``touts`` as it is where it is a tuple of one array per output of the output's type and
    shape, else :func:`tangents` of it."""
    if type(touts) is tuple and len(touts) == len(outs):
        for t, o in zip(touts, outs):
            if type(t) is not type(o) or t.shape != o.shape:
                break
        else:
            return touts
    return tangents(b, call, touts, outs, what)


def gradients(b: Backend, call: str, grads: Any, primals: Sequence[Any], what: str = "pullback") -> tuple[Any, ...]:
    """``grads``, a backend's ``what`` result, as a tuple with one array of ``b`` per primal in
    that primal's shape (numbers converted); BackendError naming ``call`` and ``b`` otherwise."""
    return _checked(b, call, grads, primals, what, "gradient", "primal")


def tangents(b: Backend, call: str, touts: Any, outs: Sequence[Any], what: str = "jvp") -> tuple[Any, ...]:
    """``touts``, a backend's tangent outputs, checked against its outputs ``outs`` as
    :func:`gradients` checks gradients against primals."""
    return _checked(b, call, touts, outs, what, "tangent output", "output")


def _checked(b: Backend, call: str, got: Any, refs: Sequence[Any], what: str, entry: str, ref: str) -> tuple[Any, ...]:
    n = len(refs)
    head = f"{call}: the {b.name} backend's {what} returned"
    if not isinstance(got, (tuple, list)):
        _fail(b, f"{head} {_kind(got)}, not a tuple of {_count(n, entry)}", what, ref)
    if len(got) != n:
        _fail(b, f"{head} {_count(len(got), entry)} for {_count(n, ref)}", what, ref)
    out = []
    for i, (x, r) in enumerate(zip(got, refs)):
        if x is None:
            _fail(b, f"{head} None as {entry} {i}", what, ref)
        if not b.is_array(x) and isinstance(x, _NUMBERS):
            x = b.asarray(x)
        if not b.is_array(x):
            _fail(b, f"{head} {_kind(x)} as {entry} {i}, not an array of the {b.name} backend", what, ref)
        if tuple(x.shape) != tuple(r.shape):
            _fail(
                b, f"{head} {entry} {i} of shape {tuple(x.shape)}, expected {tuple(r.shape)} (its {ref}'s)", what, ref
            )
        out.append(x)
    return tuple(out)


def _fail(b: Backend, message: str, what: str, ref: str) -> NoReturn:
    raise BackendError(
        f"{message}; a backend's {what} must return a tuple with one array of the backend per {ref}, "
        f"shaped like that {ref} (zeros where there is no derivative, never None). {_defect(b)}"
    )


def _defect(b: Backend) -> str:
    """The sentence of every BackendError that names the backend at fault and what to do."""
    return (
        f"This is a defect of the {b.name} backend ({type(b).__module__}.{type(b).__qualname__}): report it "
        "to its author, or select another backend (multiad.list_backends() shows them)"
    )


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _kind(x: Any) -> str:
    t = type(x)
    return (
        "None"
        if x is None
        else f"a {t.__module__}.{t.__qualname__}"
        if t.__module__ != "builtins"
        else f"a {t.__name__}"
    )


def batched(b: Backend, call: str, outs: Any, n: int) -> tuple[Any, ...]:
    """``outs``, what the function a backend's ``vmap`` returned gave for a batch of ``n``, as a
    tuple of arrays of the backend batched along axis 0; BackendError naming ``call``, ``b`` and
    what is wrong otherwise (the check of the common case is made in ``_derive._native``)."""
    head = f"{call}: the {b.name} backend's vmap returned"
    fix = (
        "; the function a backend's vmap returns must return a tuple of arrays of the backend, each batched "
        f"along axis 0. {_defect(b)}"
    )
    if not isinstance(outs, (tuple, list)):
        raise BackendError(f"{head} {_kind(outs)}, not a tuple of arrays{fix}")
    for i, o in enumerate(outs):
        if o is None or not b.is_array(o):
            raise BackendError(f"{head} {_kind(o)} as output {i}, not an array of the {b.name} backend{fix}")
        if not o.shape or o.shape[0] != n:
            raise BackendError(
                f"{head} output {i} of shape {tuple(o.shape)}, expected a batch of {n} along axis 0{fix}"
            )
    return tuple(outs)
