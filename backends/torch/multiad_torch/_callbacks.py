"""multiad's frames between torch.func and ``f`` when torch.compile runs a traced call eagerly.

NOTE [Callbacks run eagerly after a graph break]: a traced call runs torch.func's transform of a
function of multiad's that calls ``f`` and checks its output, one of those whose code
``multiad.Backend.traced_callbacks()`` gives (the plugin API's, as a third-party backend reads it). Where ``f`` breaks the graph (a ``print``), torch.compile runs the
transform eagerly, and torch.func calls that function as a new frame, which torch.compile then
compiles on its own: it traced up to ``f``, and after ``f``'s graph break resumed in a function
whose input is ``f``'s output, a torch.func wrapper of a tensor that is not a leaf, of which
torch.compile's fake tensors cannot make a copy (torch 2.13: ``AssertionError: False != True``
from ``assert_metadata_eq`` under ``backend="eager"``, for ``grad``, ``value_and_grad``,
``hessian``, ``vjp``, ``jacrev``, ``hvp`` and ``vhp``). ``torch.func.grad(f)`` does not meet
this: torch.compile does not compile torch.func's own frames, and ``f``'s frame resumes with its
inputs, leaves. :func:`mark` tells torch.compile not to compile those functions' frames, nor the
frames they call, when they start as frames of their own (``set_code_exec_strategy``, the
mechanism of ``torch._dynamo.eval_frame.skip_code``): the transform then runs eagerly with ``f``
as ordinary Python, as the rest of the eager fallback does, while a trace that reaches those
functions from a compiled frame still traces them into its graph (the mark concerns frames that
start, not code a trace inlines). It runs where the torch backend's compiler probe answers True,
as ordinary Python while torch.compile traces (:func:`multiad_torch._compiled_numpy.prepare`),
so torch.compile's modules are loaded then; where a torch release lacks the mechanism it does
nothing, and torch's error stands.

NOTE [Errors of f's output after a failed trace]: a trace that ends in an error raised by one of
multiad's checks of ``f``'s output (a non-scalar ``f`` given to ``grad`` or ``hvp``, ``has_aux``
with an ``f`` that returns no pair) ends the compiled frame too, and torch.compile runs that
frame eagerly, compiling the frames it calls one by one. The multiad call there is an eager call
(``torch.compiler.is_compiling()`` is False), which hands torch.func a function of its own
prepared path (``Backend.prepare``'s, in multiad's ``_prepared.py``) or of this backend's general
path (``_run`` and the wrappers below): torch.compile traced that frame up to the same error,
ran it eagerly, and compiled the check it called as a frame whose input is ``f``'s output, a
torch.func wrapper of a tensor that is not a leaf, with the ``AssertionError: False != True``
above (torch 2.13 under ``backend="eager"``, for ``grad``, ``value_and_grad``, ``hvp``, ``vhp``,
and ``has_aux`` in ``grad``, ``value_and_grad``, ``jacrev`` and ``vjp``) where the eager call
raises multiad's error. Those functions are marked too (``traced_callbacks()`` gives the prepared
path's, :func:`_own_callbacks` this backend's), so the eager run raises multiad's error, as the
first call and every later one do. Marks change no compiled graph and no guard: a trace that
reaches those functions inlines them.
"""

from __future__ import annotations

import sys
from types import CodeType
from typing import Any

import multiad


def mark() -> None:
    """Marks the callbacks' code not to be compiled as frames of their own (NOTE [Callbacks run
    eagerly after a graph break]); again where torch.compile's reset dropped the mark."""
    eval_frame: Any = sys.modules.get("torch._dynamo.eval_frame")
    types: Any = sys.modules.get("torch._dynamo.types")
    setter = getattr(eval_frame, "set_code_exec_strategy", None)
    action, strategy = getattr(types, "FrameAction", None), getattr(types, "FrameExecStrategy", None)
    if setter is None or action is None or strategy is None:
        return
    skip = strategy(action.SKIP, action.SKIP)
    for code in multiad.Backend.traced_callbacks() + _own_callbacks():
        setter(code, skip)


def _own_callbacks() -> tuple[CodeType, ...]:
    """The code of this backend's functions that torch.func's reverse-mode transforms call
    directly in an eager call (the general path): the flat function's guard (``_run``, the
    closures of ``_guarded``, ``_bare`` and ``_single_output``) and ``jacrev``'s ``_apply``
    (NOTE [Errors of f's output after a failed trace])."""
    from . import _guard, _transforms

    factories = (_guard._guarded, _transforms._bare, _transforms._single_output)
    nested = tuple(c for fn in factories for c in fn.__code__.co_consts if isinstance(c, CodeType))
    return (_guard._run.__code__, _transforms._apply.__code__, *nested)
