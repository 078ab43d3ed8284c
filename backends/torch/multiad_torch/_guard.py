"""The conversion guard: torch.Tensor's conversions to numbers and numpy arrays refused inside f."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

#: torch, set by :meth:`TorchBackend.load`.
torch: Any = None

# NOTE [Conversions that drop derivatives]: inside ``torch.func.vjp``/``jvp``, ``t.item()``,
# ``float(t)``, ``t.tolist()`` and ``numpy()`` on a tensor that carries a derivative return plain
# numbers: torch warns and then returns a wrong (usually zero) derivative. While the user's
# function runs under a primitive of this backend (a thread-local flag, set once however deep the
# nesting), those calls raise a NonDifferentiableError naming the operation, as JAX and autograd
# already do for the same code. The check sits in the seven conversion methods themselves
# (``Tensor.item``, ``__float__``, ``__int__``, ``__complex__``, ``tolist``, ``numpy`` and
# ``__array__``, wrapped once when the backend loads), so other torch operations cost nothing: a
# torch function mode, which catches the same calls, costs a Python call per operation and sends
# some operations through Python decompositions (it made ``hvp`` a quarter slower). Outside
# multiad's transforms, and while torch.compile traces, the wrapped methods only check the flag
# and call torch's own. Tensors that carry no derivative (constants, ``t.detach()``, arguments not
# differentiated) convert as usual.


class _State(threading.local):
    def __init__(self) -> None:
        # In the instance (not a class default) from the start: a program torch.compile traced
        # is guarded on the instance's attributes, which then stay the same set.
        #: Whether the user's function runs under a primitive of this backend (this thread).
        self.active = False


_state = _State()


class DroppedDerivativeError(RuntimeError):
    """A conversion to a Python number or numpy array of a tensor that carries a derivative."""


#: Tensor methods that turn a tensor into a Python number or a numpy array, and their names in errors.
_DROPS = {
    "item": "Tensor.item()",
    "__float__": "float(tensor)",
    "__int__": "int(tensor)",
    "__complex__": "complex(tensor)",
    "tolist": "Tensor.tolist()",
    "numpy": "Tensor.numpy()",
    "__array__": "numpy.asarray(tensor)",
}


def _install_guard() -> None:
    """Wraps the conversion methods of ``torch.Tensor`` once (NOTE [Conversions that drop derivatives])."""
    wrapped = torch._C._functorch.is_functorch_wrapped_tensor
    unpack_dual = torch.autograd.forward_ad.unpack_dual
    compiling = torch.compiler.is_compiling

    def guard(attr: str, op: str) -> Callable[..., Any]:
        original = getattr(torch.Tensor, attr)

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            if (
                _state.active
                and not compiling()
                and wrapped(self)
                and (self.requires_grad or unpack_dual(self).tangent is not None)
            ):
                raise DroppedDerivativeError(
                    f"{op} turns a tensor that carries a derivative into a Python number or numpy array, which "
                    "drops the derivative; keep it a tensor, or call .detach() first for a value that is only "
                    "logged or returned as aux"
                )
            return original(self, *args, **kwargs)

        method.__name__ = attr
        method.__qualname__ = f"Tensor.{attr}"
        method.__doc__ = original.__doc__
        method._multiad_original = original  # type: ignore[attr-defined]
        return method

    for attr, op in _DROPS.items():
        if not hasattr(getattr(torch.Tensor, attr), "_multiad_original"):
            setattr(torch.Tensor, attr, guard(attr, op))
    # NOTE [Guard installed after Dynamo's tables]
    rules = sys.modules.get("torch._dynamo.trace_rules")
    if rules is not None:
        rules.get_tensor_method.cache_clear()


# NOTE [Guard installed after Dynamo's tables]: Dynamo decides how to trace a call to a C method
# of torch.Tensor from a set it builds once, from ``dir(torch.Tensor)``, and caches
# (``torch._dynamo.trace_rules.get_tensor_method``). Built after the guard is installed, the set
# holds the wrappers, not torch's own ``TensorBase.numpy``: the wrapper's ``original(self)`` is
# then a call Dynamo does not trace, and runs eagerly after a graph break. Built before (torch.compile
# used before the backend loaded, or the backend first loaded while Dynamo traces, as when
# multiad.numpy under another selected backend loads it inside a compiled function), the set holds
# torch's own methods, and Dynamo traces ``original(self)`` as its own conversion of a tensor to a
# numpy array. At run time that conversion calls ``value.numpy(force=True)`` (Dynamo's
# ``to_numpy_helper``), which is the wrapper again; Dynamo compiles the wrapper's frame into the
# same conversion, and the two call each other until a RecursionError. Installing the guard
# therefore empties that cache, so that Dynamo rebuilds it from the wrapped class; torch's
# other methods are found again as before. Only the installation (once per process) pays for it.


# NOTE [The traced vmap's flag]: while torch.compile traces this backend's ``vmap`` (the only
# primitive built in the trace that runs ``f`` through :func:`_guarded`), a custom rule applied in
# ``f`` must be refused (NOTE [Rules under a compiled transform] in ``_custom.py``), so ``f`` runs
# with a flag set. Set in the trace, the per-thread :data:`_state` was replayed after every compiled
# call by a Python call of Dynamo's ``object_setattr_ignore_descriptor`` (a thread-local's
# attribute is found through an AttributeError; 0.3 to 0.7 us a call) and guarded by 4 entries.
# Traced, ``run`` therefore sets this module's global :data:`_in_vmap` instead, as the core's
# callbacks set theirs (NOTE [The flag set in a traced call] in ``multiad/_prepared_traced.py``):
# replayed as one attribute store, guarded by one entry, only ever True inside a trace (the stores
# of a trace stay symbolic until the compiled call replays False). Run as ordinary Python (where
# torch.compile runs the vmap eagerly after a graph break in ``f``), it sets :data:`_state` as
# ``_run`` does, for the conversion guard. Which of the two is asked of :func:`_tracing`, run as
# ordinary Python even while torch.compile traces (its constant-result mark): its code is the one
# entry it adds, where reading ``torch.compiler.is_compiling`` in the trace added the ``torch``
# module by a second way (an aliasing guard run in Python on every call).
#: Whether ``f`` runs under this backend's vmap in a trace (NOTE [The traced vmap's flag]).
_in_vmap = False


def _tracing() -> bool:
    """Whether torch.compile traces, as ordinary Python while it does (the mark below)."""
    return bool(torch.compiler.is_compiling())


setattr(_tracing, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


def _guarded(fun: Callable[..., Any]) -> Callable[..., Any]:
    """``fun`` run with the conversion guard on (NOTE [Conversions that drop derivatives]), for
    the vmap built while torch.compile traces (NOTE [The traced vmap's flag])."""

    def run(*xs: Any) -> Any:
        global _in_vmap
        if not _tracing():
            return _run(fun, *xs)
        if _in_vmap:
            return fun(*xs)
        _in_vmap = True
        try:
            return fun(*xs)
        finally:
            _in_vmap = False

    return run


def _run(fun: Callable[..., Any], *xs: Any) -> Any:
    """``fun(*xs)`` with the conversion guard on (NOTE [Conversions that drop derivatives])."""
    if _state.active:
        return fun(*xs)
    _state.active = True
    try:
        return fun(*xs)
    finally:
        _state.active = False
