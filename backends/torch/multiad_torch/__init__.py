"""The torch backend: torch.func's vjp, jvp and vmap (with chunk_size), its native jacrev, and linearize.

Importing this module does not import torch; :meth:`TorchBackend.load` does, on first use.
Results stay on the input's device; float32 and float64 are supported.

NOTE [Conversions that drop derivatives]: inside ``torch.func.vjp``/``jvp``, ``t.item()``,
``float(t)``, ``t.tolist()`` and ``numpy()`` on a tensor that carries a derivative return plain
numbers: torch warns and then returns a wrong (usually zero) derivative. While the user's
function runs under a primitive of this backend (a thread-local flag, set once however deep the
nesting), those calls raise a NonDifferentiableError naming the operation, as JAX and autograd
already do for the same code. The check sits in the seven conversion methods themselves
(``Tensor.item``, ``__float__``, ``__int__``, ``__complex__``, ``tolist``, ``numpy`` and
``__array__``, wrapped once when the backend loads), so other torch operations cost nothing: a
torch function mode, which catches the same calls, costs a Python call per operation and sends
some operations through Python decompositions (it made ``hvp`` a quarter slower). Outside
multiad's transforms, and while torch.compile traces, the wrapped methods only check the flag
and call torch's own. Tensors that carry no derivative (constants, ``t.detach()``, arguments not
differentiated) convert as usual.

NOTE [Forward mode and threads]: torch's forward-mode AD numbers its dual levels process-wide,
not per thread, so two threads running ``torch.func.jvp`` at once corrupt each other's levels
(wrong Hessians, "no level exists" errors, crashes; raw ``torch.func.hessian`` races the same
way). Every forward-mode primitive of this backend (``jvp``, and so ``jacfwd``, ``hessian``,
``hvp`` and ``jvp`` itself, which nest it) runs under one process-wide reentrant lock: forward
mode on torch is safe from any number of threads, and calls from different threads run one at
a time. Reverse mode (``grad``, ``vjp``, ``jacrev``, ``vhp``) takes no lock and runs in
parallel. The lock is not taken while torch is compiling (``torch.compile`` traces the
forward-mode work into a graph that has no dual levels at run time). Code that calls
``torch.func.jvp`` or ``torch.autograd.forward_ad`` directly, outside multiad, in another
thread is not covered. A function that, inside a forward-mode transform, waits for another
thread that itself runs a forward-mode transform deadlocks.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sys
import threading
import types
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

import numpy as np

import multiad

torch: Any = None
func: Any = None
_functorch: Any = None
_fw_ad: Any = None


def _not_loaded() -> bool:
    """The compiler probe until the backend is loaded. torch may be imported after multiad's
    first use, when the backends of the frameworks imported then were loaded (NOTE [First use
    under a compiler] in ``multiad/_select.py``); if the first torch call is then traced, this
    loads the backends of the frameworks imported now, run as ordinary Python (the mark below).
    A torch that another thread is still importing answers False (NOTE [Probing a torch being
    imported])."""
    t = sys.modules.get("torch")
    if t is None or _importing(t) or not t.compiler.is_compiling():
        return False
    from multiad import _select

    _select._first_use()
    return True


# NOTE [Probing a torch being imported]: ``sys.modules`` holds a module from the start of its
# import, so while one thread imports torch (the first torch call loading this backend, or the
# program's own ``import torch``) the probe above saw a partially initialized torch, and every
# multiad call in other threads, on any backend, raised "partially initialized module 'torch'
# has no attribute 'compiler'" (the probe runs on every call once this module is imported): a
# grad on numpy beside the first torch grad failed in 3 runs of 3 with 7 threads. The loading
# itself was serialised already (the registry's per-backend lock, and Python's per-module import
# lock for ``import torch``); only this read of ``sys.modules`` bypassed both. A torch still
# being imported cannot be tracing anything, so the probe answers False without waiting for it
# (a thread that needs torch waits in the registry's load); the test is importlib's own flag for
# a module whose code is still running, the one behind that error message.
def _importing(module: Any) -> bool:
    """Whether ``module``'s code is still running (its import, in some thread, is not done)."""
    return bool(getattr(getattr(module, "__spec__", None), "_initializing", False))


setattr(_not_loaded, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


#: ``torch.compiler.is_compiling`` once torch is loaded (TorchBackend.compiling runs on every call).
_is_compiling: Callable[[], Any] = _not_loaded


def _true() -> bool:
    return True


#: What the probe answers while compiling, once torch is loaded: :func:`_compiled_numpy.prepare`.
_traced: Callable[[], bool] = _true


class _State(threading.local):
    def __init__(self) -> None:
        # In the instance (not a class default) from the start: a program torch.compile traced
        # is guarded on the instance's attributes, which then stay the same set.
        #: Whether the user's function runs under a primitive of this backend (this thread).
        self.active = False


_state = _State()
#: NOTE [Forward mode and threads].
_FORWARD_LOCK = threading.RLock()
_NO_STORAGE = "Cannot access data pointer of Tensor that doesn't have storage"
#: The start of every error message of torch's AD machinery that multiad translates
#: (NOTE [Only torch's own errors]).
# torch's error for an in-place change of a tensor that reverse mode differentiates (an argument).
_IN_PLACE = ("a leaf Variable that requires grad is being used in an in-place operation", "a view of a leaf Variable")
# torch.func's error for an in-place change of a tensor that f receives from outside the
# transform: an argument outside argnums or a tensor f closes over (NOTE [Captured tensors
# changed in place]).
_CAPTURED_IN_PLACE = re.compile(
    r"During a grad \(vjp, jvp, grad, etc\) transform, the function provided attempted to call in-place "
    r"operation \([^)]*\) that would mutate a captured Tensor\."
)
# torch.func.vmap's error for an in-place change of an unbatched tensor by a batched value; its
# last sentence asks for a bug report, which is not the cause here.
_UNBATCHED_IN_PLACE = re.compile(
    r"vmap: inplace arithmetic\(self, \*extra_args\) is not possible because there exists a Tensor `other` in "
    r"extra_args that has more elements than `self`\."
)
# torch's error, from the backward pass, for an in-place change of an intermediate tensor that
# reverse mode saved (`e = exp(x); e -= 1`): NumPy code does this, and JAX and autograd rebind.
_SAVED_IN_PLACE = "one of the variables needed for gradient computation has been modified by an inplace operation"
# torch's vmap error for Python control flow on a batched tensor's value (`if x > 0:`).
_BRANCH_ON_BATCH = "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow"
_DYNAMIC_SHAPE = re.compile(r"vmap: We do not support batching operators that can (?:support|output) dynamic shape")
_TORCH_AD_ERROR = re.compile(
    "|".join(
        [
            r"the derivative for '[^']+' is not implemented",
            r"derivative for \S+ is not implemented",
            r"Trying to use forward AD with \S+ that does not support it",
            r"element \d+ of tensors does not require grad and does not have a grad_fn",
            r"vmap: It looks like you're (either \(1\) )?calling \.item\(\)",
            r"vmap: called random operation while in randomness error mode",
            r"Batching rule not implemented for ",
            # torch.func's refusals of autograd's own API inside f (requires_grad_, retain_grad,
            # torch.autograd.functional), saved tensor hooks and in-place changes of captured tensors
            r"You are attempting to call Tensor\.(requires_grad_|retain_grad)\(\)",
            r"torch\.func\.\{grad, vjp, jacrev, hessian\} don't yet support saved tensor hooks",
            r"During a grad \(vjp, jvp, grad, etc\) transform, the function provided attempted to call in-place",
        ]
    )
)


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


# NOTE [numpy functions on tensors]: numpy functions given a tensor inside f either convert it
# with ``__array__`` (``numpy.exp(t)``, ``numpy.asarray(t)``, ``numpy.linalg.norm(t)``: the
# conversion guard raises DroppedDerivativeError) or call the tensor's method of the same name
# with numpy's keywords (``numpy.sum(t)`` calls ``t.sum(axis=None, dtype=None, out=None)``,
# which torch rejects with a TypeError). Both become NonDifferentiableError naming the numpy
# function and its multiad.numpy replacement. The numpy function is found on the error path only,
# in the traceback (the outermost numpy frame, or the ufunc of ``Tensor.__array_ufunc__``), so the
# guard and the tensor methods cost nothing more. JAX's error for the same code already says to use
# multiad.numpy, and autograd's boxes run numpy's functions (``numpy.sum``, ``numpy.exp``) with their
# derivatives.
def _frames(exc: BaseException) -> Iterator[Any]:
    tb = exc.__traceback__
    while tb is not None:
        yield tb.tb_frame
        tb = tb.tb_next


def _public_numpy_name(frame: Any) -> str:
    """``numpy.linalg.norm`` for a frame of ``numpy.linalg._linalg.norm``, ``numpy.sum`` for
    ``numpy._core.fromnumeric.sum``: the public submodules of the frame's module only."""
    parts: list[str] = ["numpy"]
    mod: Any = np
    for part in str(frame.f_globals.get("__name__", "numpy")).split(".")[1:]:
        mod = getattr(mod, part, None)
        if part.startswith("_") or not isinstance(mod, types.ModuleType):
            break
        parts.append(part)
    return ".".join([*parts, frame.f_code.co_name])


def _numpy_caller(exc: BaseException) -> str | None:
    """The numpy function that ``exc`` was raised under, from its traceback (NOTE [numpy functions on tensors])."""
    ufunc = None
    for frame in _frames(exc):
        if str(frame.f_globals.get("__name__", "")).split(".")[0] == "numpy":
            return _public_numpy_name(frame)
        if frame.f_code.co_name == "__array_ufunc__" and "ufunc" in frame.f_locals:
            ufunc = f"numpy.{getattr(frame.f_locals['ufunc'], '__name__', 'ufunc')}"
    return ufunc


def _raised_in_numpy(exc: BaseException) -> bool:
    """Whether the last frame of ``exc``'s traceback is numpy's (a tensor method it called raised)."""
    last = None
    for frame in _frames(exc):
        last = frame
    return last is not None and str(last.f_globals.get("__name__", "")).split(".")[0] == "numpy"


def _numpy_on_tensor(caller: str | None) -> str:
    """The reason for a numpy function given a tensor inside f (NOTE [numpy functions on tensors])."""
    if caller is None:  # numpy's C functions (numpy.asarray, numpy.dot) leave no frame of their own
        what, instead = "numpy.asarray(tensor) or another numpy function of a tensor", "multiad.numpy"
    else:
        what, instead = f"{caller}(tensor)", f"multiad.{caller}"
    return (
        f"{what}: numpy functions do not run on torch tensors inside f (their conversion to a numpy array "
        f"drops the derivative); use {instead} instead, which runs on torch, or call .detach() first for a "
        "value that is not differentiated"
    )


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


#: numpy ufuncs with a numpy array operand that f may apply to tensors; each runs as
#: ``multiad.numpy``'s function of the same name on torch (NOTE [numpy arrays inside f]).
_UFUNCS = frozenset(
    "add subtract multiply divide true_divide power matmul maximum minimum "
    "greater greater_equal less less_equal equal not_equal".split()
)


def _from_numpy(x: np.ndarray, device: Any = None) -> Any:
    """A numpy array as a tensor, sharing its memory where torch can: a read-only array (torch
    warns) or one with negative strides (``x[::-1]``, which torch cannot wrap) is copied, and
    one in non-native byte order (``'>f8'``, which torch cannot wrap either) converted."""
    if not x.dtype.isnative:
        return torch.from_numpy(x.astype(x.dtype.newbyteorder("="))).to(device)
    return torch.from_numpy(x if x.flags.writeable and min(x.strides, default=0) >= 0 else x.copy()).to(device)


def _install_numpy_operands() -> None:
    """NOTE [numpy arrays inside f]: torch's tensor operators reject a numpy array operand, and
    Python then hands the operation to numpy: ``t * a`` converts ``t`` with ``__array__`` (for
    a tensor that carries a derivative the conversion guard raises, as the numpy result would
    drop the derivative), and ``a + t`` fails outright (numpy defers to the tensor's
    ``__radd__``, which rejects the array). JAX and autograd accept numpy operands, so code
    closing over numpy arrays (weights bound with ``functools.partial``) works there.

    ``torch.Tensor`` gets an ``__array_ufunc__``, so that numpy hands such operations to it:
    while f runs under this backend's transforms, a binary ufunc of the table above runs as
    ``multiad.numpy``'s function of the same name on torch, which turns the numpy operands
    into constant tensors on the tensor's device, so the derivative flows through the tensor.
    It computes in numpy's result dtype, as numpy does outside the transforms and as JAX (with
    x64) and autograd do: ``A @ x`` of a float64 array and a float32 tensor is float64 (the
    derivative is cast back to x's float32). torch's own functions, called here before, gave
    torch's promotion, which differed from numpy's (an int64 array times a float32 tensor was
    float32), and ``torch.matmul`` does not promote at all: ``A @ x`` raised torch's "addmv
    input tensors must have the same dtype" inside the transforms, where it returned a float64
    tensor outside them. The dtypes are planned once per ufunc and argument dtypes
    (``numpy_operands`` in ``multiad/numpy/_torch.py``). Anything else (another ufunc, outside
    multiad's transforms, while torch.compile traces) does what numpy does for an object
    without ``__array_ufunc__``: convert the tensors with ``__array__`` (guarded as above),
    compute in numpy, and return a tensor as ``Tensor.__array_wrap__`` does. Tensor-with-tensor
    operators are untouched and cost nothing more; ``a + t`` outside the transforms now gives
    that tensor instead of a TypeError.
    """
    if hasattr(torch.Tensor, "__array_ufunc__"):
        return
    compiling = torch.compiler.is_compiling
    from multiad.numpy._torch import IMPL

    numpy_ops = {name: IMPL[name] for name in _UFUNCS}

    def __array_ufunc__(self: Any, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        op = numpy_ops.get(ufunc.__name__)
        if op is not None and method == "__call__" and not kwargs and _state.active:
            if not compiling():
                return op(*inputs)
        arrays = [np.asarray(x) if isinstance(x, torch.Tensor) else x for x in inputs]
        result = getattr(ufunc, method)(*arrays, **kwargs)
        if "out" in kwargs or not isinstance(result, (np.ndarray, np.generic)):
            return result
        return self.__array_wrap__(np.asarray(result))

    torch.Tensor.__array_ufunc__ = __array_ufunc__


# NOTE [Tangents in their value's dtype]: torch's forward mode computes a 0-d float32 tensor
# times a Python float (``x * 0.1``) with a float64 tangent: the Python number, a float64
# "wrapped number" that does not promote the value, promotes the tangent. ``torch.func.jvp`` then
# returns a float32 output with a float64 tangent, and ``jvp``, ``jacfwd``, ``jacobian`` in
# forward mode, ``hvp`` and ``jacfwd(grad(f))`` of a 0-d float32 (or float16) argument gave
# float64 derivatives, where ``hessian``, ``vhp``, ``linearize`` and the reverse mode kept
# float32. Tangents are the value's derivative: each leaf is cast to its value's floating
# dtype, as JAX's jvp guarantees and as custom rules' tangents are (NOTE [Derivative dtypes
# of custom rules] in ``multiad/_custom_rules.py``).
def _in_dtype_of(tangent: Any, value: Any) -> Any:
    """``tangent`` in ``value``'s dtype where both are floating tensors of different dtypes."""
    if (
        isinstance(tangent, torch.Tensor)
        and isinstance(value, torch.Tensor)
        and tangent.dtype != value.dtype
        and value.is_floating_point()
        and tangent.is_floating_point()
    ):
        return tangent.to(value.dtype)
    return tangent


# NOTE [ZeroTensors]: where reverse mode differentiates a forward-mode tangent that does not
# depend on the primal (``jacrev(jacfwd(f))`` or ``grad`` of a ``jvp`` of a linear ``f``),
# torch returns its internal ZeroTensor, a zero that holds no memory. It is immutable and
# ``numpy.asarray`` of it raises "Cannot convert a ZeroTensor to numpy", so a Hessian of a
# linear function could not be read. Results leaving reverse mode are ordinary zeros instead
# (not under torch.compile, which traces no ZeroTensors).
def _dense(x: Any) -> Any:
    """``x`` with every ZeroTensor in it (a tensor, or tuples and lists of them) made ordinary zeros."""
    if type(x) is tuple and len(x) == 1:  # one gradient, the pullbacks' common result: no recursion
        e = x[0]
        if type(e) is torch.Tensor and (torch.compiler.is_compiling() or not e._is_zerotensor()):
            return x
    if isinstance(x, torch.Tensor):
        if not torch.compiler.is_compiling() and x._is_zerotensor():
            return torch.zeros(x.shape, dtype=x.dtype, device=x.device)
        return x
    if isinstance(x, (tuple, list)):
        return type(x)(_dense(e) for e in x)
    return x


def _dense_pullback(pullback: Callable[..., Any]) -> Callable[..., Any]:
    """``pullback`` (or another function of torch.func's) whose results are :func:`_dense`
    (NOTE [ZeroTensors])."""

    def pull(*cts: Any) -> Any:
        return _dense(pullback(*cts))

    return pull


def _dense_eager(fun: Callable[..., Any]) -> Callable[..., Any]:
    """``fun``, which never runs while torch.compile traces (a prepared call: NOTE [Prepared
    calls] in multiad/_prepared.py), with its results :func:`_dense`; one ordinary tensor is
    checked in this frame (NOTE [One gradient checked in the pullback's frame])."""

    def run(*args: Any) -> Any:
        res = fun(*args)
        if type(res) is torch.Tensor and not res._is_zerotensor():
            return res
        return _dense(res)

    return run


def _guarded(fun: Callable[..., Any]) -> Callable[..., Any]:
    """``fun`` run with the conversion guard on (NOTE [Conversions that drop derivatives])."""

    def run(*xs: Any) -> Any:
        return _run(fun, *xs)

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


def _apply(fun: Callable[..., Any], *xs: Any) -> Any:
    return fun(*xs)


def _one_output(pullback: Callable[..., Any]) -> Callable[..., Any]:
    """The pullback of a function with one output as multiad's backends give it (a tuple of one
    cotangent), from torch.func's own (``pullback``), which takes the cotangent bare and returns a
    tuple (one gradient per primal); the pullback of the bare cotangent, with the same results, as
    ``one_cotangent`` (NOTE [Pullbacks of one output] in multiad/_api_ad.py). Both make ZeroTensors
    dense (NOTE [ZeroTensors]). A closure, not a partial: torch.compile cannot set an attribute of a
    partial."""

    def one(cotangent: Any) -> Any:
        grads = pullback(cotangent)
        # NOTE [One gradient checked in the pullback's frame]
        if len(grads) == 1 and type(g := grads[0]) is torch.Tensor and not g._is_zerotensor():
            return grads
        return _dense(grads)

    def pull(cts: Sequence[Any]) -> Any:
        return _dense(pullback(cts[0]))

    pull.one_cotangent = one  # type: ignore[attr-defined]
    # NOTE [One gradient checked in vjp_fn's frame]: used where there is one primal
    pull.one_primal = (pullback, torch.Tensor._is_zerotensor, _dense)  # type: ignore[attr-defined]
    return pull


# NOTE [One gradient checked in the pullback's frame]: ``vjp_fn`` of one output calls
# ``one_cotangent`` once per cotangent (a row-by-row Jacobian: 16 times per vjp), and
# :func:`_dense` through :func:`_dense_pullback` cost it three more Python frames
# (``_dense``, ``torch.compiler.is_compiling`` and ``torch.jit.is_scripting``). ``one`` runs
# torch.func's pullback and the common case of ``_dense`` (one gradient, an ordinary tensor) in
# its own frame, and hands anything else to ``_dense``. It asks ``_is_zerotensor`` without
# asking first whether torch.compile traces: ``one_cotangent`` is called only by the ``vjp_fn``
# of a vjp that ran eagerly (one a compiler traces takes the general pullback, ``pull``), and
# where it does answer True under a compiler, ``_dense`` asks and returns the gradient as it
# is, as before. Callgrind, one pullback of torch ``jacobian 16->16``'s vjp loop: 7,182
# instructions over torch.func's own before, 4,617 after (of about 293,000). A prepared jacrev's
# result is checked the same way (:func:`_dense_eager`): prepared calls never run while a compiler traces.
#
# NOTE [One gradient checked in vjp_fn's frame]: with one primal, ``one_primal`` hands the core
# torch.func's pullback itself, ``Tensor._is_zerotensor`` (a C function: asking it opens no
# Python frame) and :func:`_dense`, so that ``vjp_fn`` calls torch.func's pullback and checks its
# one gradient in its own frame, ``one``'s frame gone (NOTE [Pullbacks of one output] in
# multiad/_api_ad.py). torch.func returns the gradient in the primal's dtype, so only its type
# and ZeroTensor-ness are asked. Callgrind, one pullback of the vjp loop: 4,643 instructions over
# torch.func's own before, 3,756 after; wall clock, the loop's ratio to torch.func's 1.053 ->
# 1.042 in one run on a loaded machine.


# NOTE [Arguments that share memory]: an expanded tensor (``x.expand(3)``,
# ``torch.broadcast_to``: a stride of 0) has elements that share one memory location. torch's
# forward mode cannot make it a dual tensor: ``torch.func.jvp`` and ``jacfwd`` raise "more
# than one element of the written-to tensor refers to a single memory location" before ``f``
# runs, where reverse mode differentiates the same argument. Its value is what ``f`` is
# differentiated at, not its memory layout, so where that error comes back and an argument
# shares memory, the call runs once more with those arguments copied (``contiguous()``: the same
# values, each element its own). Checked only after the error: the common call pays nothing.
_SHARED_MEMORY = (
    "unsupported operation: more than one element of the written-to tensor refers to a single memory location"
)


def _without_shared_memory(args: tuple[Any, ...], exc: RuntimeError) -> tuple[Any, ...] | None:
    """``args`` with every tensor whose elements share memory copied, where ``exc`` is torch's
    error for such a tensor and one of ``args`` is one; else None (NOTE [Arguments that share memory])."""
    if not str(exc).startswith(_SHARED_MEMORY):
        return None
    shared = [isinstance(a, torch.Tensor) and torch._debug_has_internal_overlap(a) == 1 for a in args]
    if not any(shared):
        return None
    return tuple(a.contiguous() if s else a for a, s in zip(args, shared))


def _single_output(fun: Callable[..., Any], has_aux: bool) -> Callable[..., Any]:
    """``fun`` run with the conversion guard on and returning a bare tensor when it has one
    output (:func:`_bare`), with its aux beside it when ``has_aux``. Whether it had one output
    shows in torch.func's result: a bare tensor where fun's outputs were one tensor."""
    if not has_aux:
        return _bare(fun)

    def single(*xs: Any) -> Any:  # fun returns (outputs, aux)
        outs, aux = _run(fun, *xs)
        return (outs[0] if len(outs) == 1 else outs), aux

    return single


# NOTE [torch.func transforms built once]: ``torch.func.grad_and_value(f)`` and
# ``torch.func.jacrev(f)`` build a new wrapped function (``functools.wraps`` and an import) on
# every call, which costs as much as the rest of multiad's work on a small call. The flat function
# changes with every call, so it cannot be bound into a transform built once; instead the
# transforms are built once per number of primals (and has_aux, chunk_size), and
# the flat function travels as their first argument, which is not differentiated.
_BUILT: dict[tuple[str, int, bool, int | None], Callable[..., Any]] = {}


def _built(kind: str, n: int, has_aux: bool, chunk_size: int | None = None) -> Callable[..., Any]:
    """``torch.func.<kind>`` over primals 1 to n of a function passed as argument 0 (NOTE [torch.func
    transforms built once]); ``grad_and_value`` turns the conversion guard on, ``jacrev`` takes
    a function that does (``_single_output``)."""
    key = (kind, n, has_aux, chunk_size)
    t = _BUILT.get(key)
    if t is None:
        argnums = 1 if n == 1 else tuple(range(1, n + 1))
        if kind == "jacrev":
            t = func.jacrev(_apply, argnums=argnums, has_aux=has_aux, chunk_size=chunk_size)
        else:
            t = func.grad_and_value(_run, argnums=argnums, has_aux=has_aux)
        _BUILT[key] = t
    return t


def _bare(fun: Callable[..., Any]) -> Callable[..., Any]:
    """``fun`` (a flat function) run with the conversion guard on, its one output as a bare tensor
    (NOTE [One primal, one output]: torch.func does less pytree work per call for a tensor than
    for a tuple)."""

    def run(*xs: Any) -> Any:
        if _state.active:  # _run, inlined
            outs = fun(*xs)
        else:
            _state.active = True
            try:
                outs = fun(*xs)
            finally:
                _state.active = False
        return outs[0] if len(outs) == 1 else outs

    return run


def _mapped(v: Callable[..., Any], *xs: Any) -> tuple[Any, ...]:
    out = v(*xs)
    return (out,) if isinstance(out, torch.Tensor) else tuple(out)


# NOTE [torch.func.vmap built per function]: ``vmap`` builds ``torch.func.vmap`` for the flat
# function it is given rather than once with the function as an unbatched argument:
# torch.func.vmap's pytree work costs about 450 bytecodes per argument and call (on the
# arguments, ``in_dims`` and the batched inputs), more than building the vmap (about 300), and
# multiad.vmap asks for it once per signature (NOTE [Prepared vmap calls] in
# multiad/_api_vmap.py). For the same reason unbatched arguments (``in_axes`` None) do not go
# through torch.func.vmap: the batched function puts them in a per-thread slot (saved and
# restored around the call, so nested and concurrent calls keep their own) and the function
# torch.func.vmap maps reads them from there, as a closure would. torch.func.vmap runs the
# function on every call, so the values read are always the call's own. Axes that are all the
# same are given as one int, which torch.func broadcasts without flattening a tuple (140
# bytecodes per call). Counted per call on 64x(31->33): ``multiad.vmap`` of
# ``torch.func.jacrev(predict)`` with two arguments unbatched 9510 (torch.func's own vmap of it
# 10226), an elementwise ``multiad.vmap`` 2249 (1988), ``jacfwd`` 16->16 7435 where the vmap
# built once with the function as an argument ran 7806 (``torch.func.jacfwd`` 8294).
class _Unbatched(threading.local):
    def __init__(self) -> None:
        #: The arguments of the batched call running on this thread.
        self.args: tuple[Any, ...] = ()


_unbatched = _Unbatched()


def _dims(in_axes: tuple[int | None, ...]) -> int | tuple[int | None, ...]:
    """``in_dims`` for torch.func.vmap: one int where every argument is mapped along the same
    axis, which torch.func broadcasts without the pytree work a tuple costs per call (NOTE
    [torch.func.vmap built per function])."""
    first = in_axes[0] if in_axes else None
    return first if first is not None and all(ax == first for ax in in_axes) else in_axes


def _vmap_some(fun: Callable[..., Any], in_axes: tuple[int | None, ...], chunk_size: int | None) -> Any:
    """The vmap of ``fun`` over ``in_axes``, some of them None (NOTE [torch.func.vmap built per function])."""
    pos = [k for k, ax in enumerate(in_axes) if ax is not None]
    slot = _unbatched

    def run(*xs: Any) -> Any:  # the mapped arguments; the others from the slot
        args = list(slot.args)
        for k, x in zip(pos, xs):
            args[k] = x
        if _state.active:  # _run, inlined
            outs = fun(*args)
        else:
            _state.active = True
            try:
                outs = fun(*args)
            finally:
                _state.active = False
        return outs[0] if len(outs) == 1 else outs

    v = func.vmap(run, in_dims=_dims(tuple(in_axes[k] for k in pos)), out_dims=0, chunk_size=chunk_size)

    def batched(*args: Any) -> tuple[Any, ...]:
        saved = slot.args
        slot.args = args
        try:
            out = v(*[args[k] for k in pos])
        finally:
            slot.args = saved
        return (out,) if isinstance(out, torch.Tensor) else tuple(out)

    return batched


class TorchBackend(multiad.Backend):
    name: ClassVar[str] = "torch"
    framework: ClassVar[str] = "torch"
    #: The conversion guard's flag, set by the functions handed to :meth:`prepare`.
    active_flag: ClassVar[Any] = _state
    array_modules: ClassVar[tuple[str, ...]] = ("torch",)
    priority: ClassVar[int] = 10
    has_vjp: ClassVar[bool] = True
    has_custom_rules: ClassVar[bool] = True
    has_jvp: ClassVar[bool] = True
    has_vmap: ClassVar[bool] = True
    vmap_chunks: ClassVar[bool] = True
    writable: ClassVar[bool] = True
    #: NOTE [Chunked forward mode by the pullback] in multiad/_derive.py.
    chunks_by_pullback: ClassVar[bool] = True
    native: ClassVar[frozenset[str]] = frozenset({"value_and_grad", "jacrev", "linearize"})
    compiler: ClassVar[str | None] = "torch.compile"

    @classmethod
    def compiling(cls) -> bool:
        if _is_compiling():
            return _traced()  # NOTE [NumPy arrays closed over in compiled transforms]
        return False

    def load(self) -> None:
        global torch, func, _functorch, _fw_ad, _is_compiling, _traced
        import torch as _torch
        import torch.func as _func

        torch, func = _torch, _func
        _is_compiling = torch.compiler.is_compiling
        _functorch, _fw_ad = torch._C._functorch, torch.autograd.forward_ad
        _install_guard()
        _install_numpy_operands()
        from multiad_torch import _compiled_numpy

        _traced = _compiled_numpy.prepare

    def version(self) -> str | None:
        self.load()
        return str(torch.__version__)

    def devices(self) -> list[str]:
        self.load()
        return ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]

    def default_dtype(self) -> str:
        return str(torch.get_default_dtype()).rsplit(".", 1)[-1]

    def is_array(self, x: Any) -> bool:
        return isinstance(x, torch.Tensor)

    def asarray(self, x: Any, dtype: Any = None, device: Any = None) -> Any:
        tdtype = None if dtype is None else getattr(torch, np.dtype(dtype).name)
        if isinstance(x, np.generic):
            x = np.asarray(x)
        if isinstance(x, np.ndarray) and torch.compiler.is_compiling():  # a traced numpy array: a tensor already
            return torch.as_tensor(x, dtype=tdtype, device=device)
        if isinstance(x, np.ndarray):
            t = _from_numpy(x)  # shares memory: transforms never write to their inputs
            return t if tdtype is None and device is None else t.to(device=device, dtype=tdtype)
        if isinstance(x, (float, int)) and tdtype is None and not isinstance(x, bool):
            return torch.tensor(x, device=device, dtype=torch.get_default_dtype() if isinstance(x, float) else None)
        return torch.as_tensor(x, dtype=tdtype, device=device)

    def to_numpy(self, x: Any) -> Any:
        # Inside a transform, x may be a torch.func wrapper: one that carries a derivative (or a
        # batch dimension) cannot become a numpy array without losing it; a detached one is
        # unwrapped to its value. numpy has no bfloat16: such tensors become float32.
        t = x
        while _functorch.is_functorch_wrapped_tensor(t):
            if _functorch.is_batchedtensor(t) or t.requires_grad or _fw_ad.unpack_dual(t).tangent is not None:
                raise DroppedDerivativeError(
                    "multiad.to_numpy(x) (or multiad.asarray(x, backend=...) of another backend) of a tensor "
                    "that carries a derivative or a vmap batch dimension drops it; keep it a tensor, or call "
                    "x.detach() first for a value that is only logged or returned as aux"
                )
            t = _functorch.get_unwrapped(t)
        with torch._C._DisableFuncTorch():  # otherwise torch.func wraps the copies again
            t = t.detach().cpu()
            # force: a ZeroTensor (a derivative known to be zero) converts too
            return (t.float() if t.dtype == torch.bfloat16 else t).numpy(force=True)

    def is_traced(self, x: Any) -> bool:
        # A tensor autograd records (at a torch.func grad level, one computed from the
        # differentiated input), or one that carries a forward-mode tangent (at a jvp level). A
        # tensor made inside a transform is wrapped too, but carries neither.
        if x.requires_grad:
            return True
        return bool(
            torch._C._functorch.is_gradtrackingtensor(x)
            and torch.autograd.forward_ad.unpack_dual(x).tangent is not None
        )

    def snapshot(self, x: Any) -> Any:
        # Also cuts the memory a tensor made from numpy shares with the array. Not called while
        # torch.compile traces (a compiled program's inputs cannot change in place during its run).
        return x.clone()

    # Framework facts the conformance suite asks for (multiad.Backend); the backend never acts unasked.
    def compile(self, fun: Callable[..., Any]) -> Callable[..., Any]:
        return torch.compile(fun)  # type: ignore[no-any-return]

    @contextlib.contextmanager
    def reproducible_float32(self, device: str) -> Iterator[None]:
        saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
        try:
            yield
        finally:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved

    def describe_device(self, device: str) -> dict[str, Any]:
        return {
            "model": torch.cuda.get_device_name(torch.device(device)),
            "driver": f"CUDA runtime {torch.version.cuda}",
        }

    def eye(self, n: int, like: Any) -> Any:
        # NOTE [Identity by its diagonal]: zeros with the diagonal filled, as torch.func builds
        # its basis: torch.eye writes the same matrix a third slower on the CPU.
        out = torch.zeros((n, n), dtype=like.dtype, device=like.device)
        out.diagonal().fill_(1)
        return out

    def zeros(self, shape: tuple[int, ...], like: Any) -> Any:
        # new_zeros keeps like's vmap batch dimension, so that a chunked Jacobian under vmap can
        # be written in place.
        return like.new_zeros(shape)

    def identity_block(self, rows: tuple[int, int], cols: tuple[int, int], like: Any) -> Any:
        # torch.func's own chunked basis (_chunked_standard_basis_for_): zeros with one diagonal
        # set, one allocation of the chunk's size. While compiling, with torch.func's operations
        # (like.new_zeros); eagerly with torch.zeros, which under an enclosing vmap makes one
        # block, where like.new_zeros would make one per batch element.
        (r0, r1), (c0, c1) = rows, cols
        shape = (r1 - r0, c1 - c0)
        if _is_compiling():
            block = like.new_zeros(shape)
        else:
            block = torch.zeros(shape, dtype=like.dtype, device=like.device)
        block.diagonal(r0 - c0).fill_(1)
        return block

    def concatenate(self, parts: list[Any], axis: int) -> Any:
        # torch.cat itself: autoray's translation of concatenate does not trace under torch.compile.
        return torch.cat(parts, dim=axis)

    def write(self, block: Any, matrix: tuple[int, int], start: tuple[int, int], value: Any) -> Any:
        (r, c), (k, m) = start, value.shape
        view = block.view(matrix)
        try:
            view[r : r + k, c : c + m] = value
            return block
        except RuntimeError as exc:
            if not str(exc).startswith("vmap: inplace arithmetic"):
                raise
        # Under an enclosing vmap the value may carry a batch dimension that the block (made
        # from an argument that is not batched) lacks: written once out of place, the block
        # is batched from then on and later chunks are written in place.
        rows = view[r : r + k].slice_scatter(value, dim=1, start=c, end=c + m)
        return view.slice_scatter(rows, dim=0, start=r, end=r + k).view(block.shape)

    def translate_error(self, exc: BaseException) -> str | None:
        # NOTE [Only torch's own errors]: an error is translated only when its message is one
        # torch's AD machinery writes (matched from the start, not as a substring), so that a
        # user's own RuntimeError("... not implemented for ...") raised in f passes unchanged.
        msg = str(exc)
        if isinstance(exc, DroppedDerivativeError):
            caller = _numpy_caller(exc)
            if caller is not None or msg.startswith(_DROPS["__array__"]):
                return _numpy_on_tensor(caller)
            return msg
        if isinstance(exc, TypeError) and _raised_in_numpy(exc):  # numpy.sum(t) calls t.sum(axis=None, ...)
            return f"{_numpy_on_tensor(_numpy_caller(exc))} (torch: TypeError: {msg.splitlines()[0] if msg else ''})"
        if not isinstance(exc, (RuntimeError, NotImplementedError)):
            return None
        if msg.startswith(_IN_PLACE):
            return (
                "f changes a differentiated argument in place (x.mul_(2), x[i] = v, x += 1), which reverse "
                "mode cannot follow; compute a new tensor instead (x * 2, torch.where, or x = x.clone() first)"
            )
        captured = _CAPTURED_IN_PLACE.match(msg)
        if captured is not None:
            # NOTE [Captured tensors changed in place]: torch.func.grad(f, argnums=1) wraps every
            # tensor argument, so f may write into argument 0; multiad hands the backend a function
            # of the differentiated leaves only (NOTE [argnums and has_aux handled once]), so the
            # other arguments reach f as tensors captured from outside the transform, which torch
            # does not let f change. torch's advice ("rewrite the function ... to explicitly accept
            # the mutated Tensor(s) as inputs") does not apply to them: say what works instead.
            return (
                f"{type(exc).__name__}: {captured.group(0)} f changes in place a tensor that is not "
                "differentiated (an argument outside argnums, or a tensor f closes over), which multiad's "
                "transforms pass into f unchanged and torch does not let f change; change a copy "
                "(x = x.clone() first) or compute a new tensor (torch.where, torch.cat)"
            )
        if _UNBATCHED_IN_PLACE.match(msg):
            return (
                f"{type(exc).__name__}: {msg.splitlines()[0].split(' This happened')[0]} f changes in place a "
                "tensor that is not batched (an argument with in_dims None, or a tensor f closes over) by a "
                "batched value; compute a new tensor (x = x + y, torch.where) or batch that argument too"
            )
        if msg.startswith(_SAVED_IN_PLACE):
            return (
                "f changes a tensor in place (e -= 1, e *= 2, e[i] = v, e.mul_(2)) after an operation saved it "
                "for the derivative, which reverse mode cannot follow; compute a new tensor instead "
                "(e = e - 1, multiad.numpy.where)"
            )
        if msg.startswith(("Can't call numpy() on Tensor that requires grad", _NO_STORAGE)):
            return (
                "a tensor that carries a derivative was converted to a numpy array, which drops the "
                "derivative; write the function with multiad.numpy or torch operations, or call "
                ".detach() first for a value that is not differentiated"
            )
        if msg.startswith(_BRANCH_ON_BATCH):
            # torch's own message goes on to ask for a bug report: say what to change in f, as jax's does
            return (
                f"{type(exc).__name__}: {_BRANCH_ON_BATCH}; an `if` or `while` in f branches on the value of a "
                "tensor that vmap batches, so each example could take another branch; select with mnp.where, "
                "use a fixed number of iterations, or loop over the batch in Python"
            )
        if _DYNAMIC_SHAPE.match(msg):
            # as the core's loop says for the same f (NOTE [Examples that disagree] in multiad/_derive.py)
            return (
                f"{type(exc).__name__}: {msg.splitlines()[0]} (a shape in f depends on the values, as x[x > 0], "
                "nonzero or unique make it, so the examples' shapes could differ; keep shapes fixed (mnp.where "
                "selects without changing them), or loop over the batch in Python)"
            )
        if _TORCH_AD_ERROR.match(msg):
            return f"{type(exc).__name__}: {msg.splitlines()[0]}"
        return None

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        if has_aux:
            outs, pullback, aux = func.vjp(_single_output(fun, True), *primals, has_aux=True)
        else:
            (outs, pullback), aux = func.vjp(_bare(fun), *primals), None
        if isinstance(outs, torch.Tensor):  # one output, given bare (_single_output)
            return (outs,), _one_output(pullback), aux
        return outs, _dense_pullback(pullback), aux

    def jvp(
        self, fun: Callable[..., Any], primals: tuple[Any, ...], tangents: tuple[Any, ...], has_aux: bool
    ) -> tuple[Any, Any, Any]:
        single = _single_output(fun, has_aux)
        if torch.compiler.is_compiling():
            res = func.jvp(single, primals, tangents, has_aux=has_aux)
        else:
            with _FORWARD_LOCK:  # NOTE [Forward mode and threads]
                try:
                    res = func.jvp(single, primals, tangents, has_aux=has_aux)
                except RuntimeError as exc:
                    copies = _without_shared_memory(primals, exc)
                    if copies is None:
                        raise
                    res = func.jvp(single, copies, tangents, has_aux=has_aux)
        outs, touts, aux = res if has_aux else (*res, None)
        if isinstance(outs, torch.Tensor):
            return (outs,), (_in_dtype_of(touts, outs),), aux
        return outs, tuple(map(_in_dtype_of, touts, outs)), aux

    def vmap(self, fun: Callable[..., Any], in_axes: Sequence[int | None], chunk_size: int | None) -> Any:
        # Guarded too, so that numpy operands work under vmap (NOTE [numpy arrays inside f]).
        if torch.compiler.is_compiling():
            return func.vmap(_guarded(fun), in_dims=tuple(in_axes), out_dims=0, chunk_size=chunk_size)
        in_axes = tuple(in_axes)
        if None in in_axes:  # NOTE [torch.func.vmap built per function]
            return _vmap_some(fun, in_axes, chunk_size)
        v = func.vmap(_bare(fun), in_dims=_dims(in_axes), out_dims=0, chunk_size=chunk_size)
        return functools.partial(_mapped, v)

    def value_and_grad(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        grads, res = _built("grad_and_value", len(primals), has_aux)(fun, *primals)
        value, aux = res if has_aux else (res, None)
        grads = _dense(grads)
        return value, (grads,) if len(primals) == 1 else grads, aux

    def jacrev(self, fun: Any, primals: tuple[Any, ...], has_aux: bool, chunk_size: int | None) -> Any:
        # NOTE [One primal, one output]: torch.func nests results one level deeper for a tuple
        # of argnums or a tuple output, with more pytree work per call; the common case of one
        # primal and one output is passed to torch.func as an int and a bare tensor.
        one_in = len(primals) == 1
        res = _built("jacrev", len(primals), has_aux, chunk_size)(_single_output(fun, has_aux), *primals)
        jac, aux = res if has_aux else (res, None)
        jac = _dense(jac)
        # One output (given bare): one tensor, or for several primals a tuple of tensors.
        rows = [jac] if isinstance(jac if one_in else jac[0], torch.Tensor) else list(jac)
        return [[row] if one_in else list(row) for row in rows], aux

    def prepare(
        self, transform: str, fun: Callable[..., Any], argnums: int | tuple[int, ...], chunk_size: int | None
    ) -> Callable[..., Any] | None:
        # NOTE [Prepared calls] in multiad/_prepared.py: torch.func's transform of the user's own
        # arguments, built once per transform object and signature; fun turns the guard on itself
        # (active_flag, NOTE [One frame for the guard and the output check] in multiad/_prepared.py).
        if transform == "jacrev":
            return _dense_eager(func.jacrev(fun, argnums=argnums, chunk_size=chunk_size))
        if transform == "hessian" and chunk_size is None:
            hessian = func.jacfwd(func.jacrev(fun, argnums=argnums), argnums=argnums)

            def forward(*args: Any) -> Any:
                with _FORWARD_LOCK:  # NOTE [Forward mode and threads]
                    try:
                        return hessian(*args)
                    except RuntimeError as exc:
                        copies = _without_shared_memory(args, exc)
                        if copies is None:
                            raise
                    return hessian(*copies)

            return forward
        if transform == "grad_and_value" and chunk_size is None:
            return _dense_pullback(func.grad_and_value(fun, argnums=argnums))
        if transform not in ("hvp", "vhp"):
            return None
        one = isinstance(argnums, int)
        g = func.grad(fun, argnums=argnums)
        jvp, vjp = func.jvp, func.vjp

        def hvp(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Any, ...]:
            with _FORWARD_LOCK:  # NOTE [Forward mode and threads]
                try:
                    res = jvp(g, primals, tangents)[1]
                except RuntimeError as exc:
                    copies = _without_shared_memory(primals, exc)
                    if copies is None:
                        raise
                    res = jvp(g, copies, tangents)[1]
            if one:
                return (_in_dtype_of(res, primals[0]),)
            return tuple(map(_in_dtype_of, res, primals))

        def vhp(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Any, ...]:
            return _dense(vjp(g, *primals)[1](tangents[0] if one else tangents))  # type: ignore[no-any-return]

        return hvp if transform == "hvp" else vhp

    # -- custom derivative rules (multiad_torch/_custom.py) ------------------------------------
    def custom_vjp(self, rule: Any) -> Callable[..., Any]:
        from . import _custom

        return _custom.custom_vjp(rule)  # type: ignore[no-any-return]

    def custom_jvp(self, rule: Any) -> Callable[..., Any]:
        from . import _custom

        return _custom.custom_jvp(rule)  # type: ignore[no-any-return]

    def linearize(self, fun: Callable[..., Any], primals: tuple[Any, ...]) -> tuple[Any, Callable[..., Any]]:
        # NOTE [Linearize once], with torch's own zeros so that torch.compile traces it whole.
        # (torch.func.linearize evaluates f twice, eagerly and again while tracing.)
        outs, pullback, _ = self.vjp(fun, primals, False)
        zeros = tuple(torch.zeros_like(o) for o in outs)
        _, push, _ = self.vjp(lambda *cts: tuple(pullback(cts)), zeros, False)
        return outs, lambda *tangents: tuple(push(tangents))
