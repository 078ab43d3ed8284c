"""The translation of torch's own AD errors, and of numpy functions given tensors, into multiad's messages."""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._guard import _DROPS, DroppedDerivativeError

_NO_STORAGE = "Cannot access data pointer of Tensor that doesn't have storage"


class ChangedArgumentError(RuntimeError):
    """f changed a differentiated argument in place under forward mode (NOTE [Arguments changed
    in place by forward mode] in ``__init__.py``)."""


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
# torch's error for forward mode inside the caller's own torch.autograd.forward_ad.dual_level():
# torch.func's forward mode cannot run there either, and the message names no way out.
_NESTED_FORWARD = "Nested forward mode AD is not supported at the moment"
# torch's error for an in-place change inside f under torch.inference_mode() (NOTE [Forward mode
# under inference_mode] in __init__.py): its advice to clone names no transform.
_INFERENCE_IN_PLACE = "Inplace update to inference tensor outside InferenceMode is not allowed"
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


def translate(exc: BaseException) -> str | None:
    """:meth:`TorchBackend.translate_error`: the message for ``exc``, or None where it is not torch's own."""
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
    if isinstance(exc, ChangedArgumentError) or msg.startswith(_IN_PLACE):
        return (
            "f changes a differentiated argument in place (x.mul_(2), x[i] = v, x += 1), which reverse "
            "mode cannot follow (forward mode refuses it too, so that every mode agrees and the caller's "
            "array stays as it was); compute a new tensor instead (x * 2, torch.where, or x = x.clone() first)"
        )
    if msg.startswith(_NESTED_FORWARD):
        return (
            f"forward mode runs inside torch.autograd.forward_ad.dual_level() (torch: {_NESTED_FORWARD}), "
            "which torch cannot nest; call the transform outside that block, or use reverse mode there "
            "(jacrev for jacfwd, jacrev(jacrev(f)) for hessian, vhp for hvp)"
        )
    if msg.startswith(_INFERENCE_IN_PLACE):
        return (
            "f changes a tensor in place under torch.inference_mode(), which torch's transforms do not "
            "allow; compute a new tensor instead (x * 2, torch.where), or change a copy (x = x.clone() first)"
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
