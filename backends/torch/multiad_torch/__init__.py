"""The torch backend: torch.func's vjp, jvp and vmap (with chunk_size), its native jacrev, and linearize.

Importing this module does not import torch; :meth:`TorchBackend.load` does, on first use.
Results stay on the input's device; float32 and float64 are supported.

The conversion guard is in ``_guard.py`` (NOTE [Conversions that drop derivatives]), the
translation of torch's errors in ``_errors.py``, numpy operands in ``_numpy_operands.py``, the
functions around torch.func's transforms in ``_transforms.py``, the compiler probe in ``_probe.py``.

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

NOTE [Forward mode after fork]: ``os.fork`` (multiprocessing's "fork" start method, torch
DataLoader workers) copies the lock as it is, held if another thread was inside a forward-mode
transform at that moment; that thread does not exist in the child, which then waited forever on
its first ``jvp``, ``jacfwd``, ``hessian`` or ``hvp`` (where ``torch.func`` itself works). The
child gets a fresh lock (``os.register_at_fork``): no transform runs there yet, so none is
left unserialised.
"""

from __future__ import annotations

import contextlib
import functools
import operator
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

import numpy as np

import multiad

from . import _guard, _numpy_operands, _transforms
from ._errors import ChangedArgumentError
from ._errors import translate as _translate_error
from ._guard import DroppedDerivativeError as DroppedDerivativeError
from ._guard import _guarded, _install_guard, _state
from ._numpy_operands import _from_numpy, _install_numpy_operands
from ._probe import _not_loaded, _true
from ._transforms import (
    _bare,
    _built,
    _dense,
    _dense_eager,
    _dense_pullback,
    _dims,
    _in_dtype_of,
    _mapped,
    _one_output,
    _single_output,
    _vmap_some,
    _without_shared_memory,
)

torch: Any = None
func: Any = None
_functorch: Any = None
_fw_ad: Any = None
#: ``torch._C.TensorBase`` once torch is loaded (NOTE [The array check reads no torch module]).
_TensorBase: Any = None

#: ``torch.compiler.is_compiling`` once torch is loaded (TorchBackend.compiling runs on every call).
_is_compiling: Callable[[], Any] = _not_loaded

#: What the probe answers while compiling, once torch is loaded: :func:`_compiled_numpy.prepare`.
_traced: Callable[[], bool] = _true

#: NOTE [Forward mode and threads].
_FORWARD_LOCK = threading.RLock()


def _fresh_forward_lock() -> None:
    """In a fork child: NOTE [Forward mode after fork]."""
    global _FORWARD_LOCK
    _FORWARD_LOCK = threading.RLock()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_fresh_forward_lock)


# NOTE [Forward mode under inference_mode]: inside ``torch.inference_mode()`` the copies that
# jvp gives f (NOTE [Arguments changed in place by forward mode]) are inference tensors, which
# keep no version counter: reading it raised torch's bare "Inference tensors do not track
# version counter" from jvp, jacfwd, hessian and hvp, where torch.func's own transforms run.
# There the copies are made outside inference mode, as ordinary tensors whose counters move
# when f changes them; f itself still runs in inference mode. Reached only where reading a
# counter fails: the usual call pays nothing.
def _counted_copies(primals: tuple[Any, ...]) -> tuple[tuple[Any, ...], list[int]]:
    """Copies of the tensor primals that keep a version counter, and their versions."""
    with torch.inference_mode(False):
        copies = tuple(p.clone() if isinstance(p, torch.Tensor) else p for p in primals)
    return copies, [p._version if isinstance(p, torch.Tensor) else 0 for p in copies]


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
        global torch, func, _functorch, _fw_ad, _is_compiling, _traced, _TensorBase
        import torch as _torch
        import torch.func as _func

        torch, func = _torch, _func
        _guard.torch = _numpy_operands.torch = _transforms.torch = torch
        _transforms.func = func
        _is_compiling = torch.compiler.is_compiling
        _functorch, _fw_ad = torch._C._functorch, torch.autograd.forward_ad
        _TensorBase = getattr(torch._C, "TensorBase", None) or torch._C._TensorBase
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

    # NOTE [The array check reads no torch module]: ``is_array`` runs in every traced call, and
    # ``isinstance(x, torch.Tensor)`` read this module's ``torch``: the compiler guards each object
    # its trace reaches by two ways with an aliasing guard run as Python on every call, and
    # torch.func reaches the ``torch`` module and ``torch.Tensor`` as globals of its own modules
    # (two such guards on every traced row). ``torch._C.TensorBase`` (``_TensorBase`` before torch
    # 2.3), kept in a global of this module, is a class torch.func does not reach. It names the
    # same objects: ``torch.Tensor`` is its one subclass and torch refuses any other ("Cannot
    # subclass _TensorBase directly"), so every tensor (``Parameter``, fake tensors, torch.func's
    # wrapped tensors, subclasses of ``torch.Tensor``) is an instance of both
    # (``tests/test_torch_array_check.py``).
    def is_array(self, x: Any) -> bool:
        return isinstance(x, _TensorBase)

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

    # Also cuts the memory a tensor made from numpy shares with the array. Not called while
    # torch.compile traces (a compiled program's inputs cannot change in place during its run).
    # NOTE [A copy without a Python frame]: ``x.clone()`` called by ``operator.methodcaller``, a C
    # callable that is no descriptor, so ``b.snapshot(x)`` opens no Python frame (vjp copies its
    # primal and its output on every call) and a subclass's own ``clone`` is still the one called.
    snapshot = operator.methodcaller("clone")  # type: ignore[assignment]

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
        return _translate_error(exc)  # NOTE [Only torch's own errors] in _errors.py

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        if has_aux:
            outs, pullback, aux = func.vjp(_single_output(fun, True), *primals, has_aux=True)
        else:
            (outs, pullback), aux = func.vjp(_bare(fun), *primals), None
        if isinstance(outs, torch.Tensor):  # one output, given bare (_single_output)
            return (outs,), _one_output(pullback), aux
        return outs, _dense_pullback(pullback), aux

    # NOTE [Arguments changed in place by forward mode]: torch's reverse mode refuses an f that
    # changes a differentiated argument in place (x.mul_(2), x[i] = v) before it writes, while
    # torch.func.jvp followed the change and wrote into the primal: the caller's tensor, or the
    # caller's numpy array whose memory the converted tensor shares, changed without an error,
    # and jacobian(mode="auto") raised or not by the shapes. jvp (jacfwd pushes its columns
    # through it) gives f copies of the primals, a copy per primal and call, and raises the
    # reverse-mode error where a copy's version counter moved, so every mode refuses it and
    # the caller's array stays as it was. (Under torch.compile the primals are passed as they are.)
    def jvp(
        self, fun: Callable[..., Any], primals: tuple[Any, ...], tangents: tuple[Any, ...], has_aux: bool
    ) -> tuple[Any, Any, Any]:
        single = _single_output(fun, has_aux)
        if torch.compiler.is_compiling():
            res = func.jvp(single, primals, tangents, has_aux=has_aux)
        else:
            # NOTE [Arguments changed in place by forward mode]. The copies are also what NOTE
            # [Arguments that share memory] asks for: clone() of an expanded tensor is contiguous.
            copies = tuple(p.clone() if isinstance(p, torch.Tensor) else p for p in primals)
            try:
                versions = [p._version if isinstance(p, torch.Tensor) else 0 for p in copies]
            except RuntimeError:  # NOTE [Forward mode under inference_mode]: copies of the originals
                copies, versions = _counted_copies(primals)
            primals = copies
            with _FORWARD_LOCK:  # NOTE [Forward mode and threads]
                res = func.jvp(single, primals, tangents, has_aux=has_aux)
            if any(isinstance(p, torch.Tensor) and p._version != v for p, v in zip(primals, versions)):
                raise ChangedArgumentError("f changed a differentiated argument in place")
        outs, touts, aux = res if has_aux else (*res, None)
        if isinstance(outs, torch.Tensor):
            return (outs,), (_in_dtype_of(touts, outs),), aux
        return outs, tuple(map(_in_dtype_of, touts, outs)), aux

    def vmap(self, fun: Callable[..., Any], in_axes: Sequence[int | None], chunk_size: int | None) -> Any:
        # Guarded too, so that numpy operands work under vmap (NOTE [numpy arrays inside f]).
        if _is_compiling():  # not torch.compiler's: NOTE [The array check reads no torch module]
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

    # NOTE [Guards of the traced hvp]: while torch.compile traces, ``prepare`` runs in the trace
    # (``hvp`` and ``vhp`` are built there: NOTE [Prepared calls under a compiler] in
    # multiad/_prepared_traced.py), and every function the trace reaches through a module's globals
    # is a guard entry checked on every compiled call. ``hvp`` and ``vhp`` therefore do not call
    # ``_traced_transform`` (which has nothing for them), and the traced ``hvp`` casts its
    # tangents with a function made in the trace, which the compiler does not guard, rather than
    # with ``_in_dtype_of`` of ``_transforms`` (6 entries fewer: its code, its module and that
    # module's ``torch``). Both are tensors there: ``jvp``'s tangent output and a primal. The
    # traced ``vhp`` returns torch.func's cotangents as they are, without ``_dense`` (the identity
    # while compiling, as in ``_traced_transform``): its code, its module, and its ``type(e) is
    # torch.Tensor``, whose ``torch.Tensor`` the compiler reaches as a module's of its own and
    # torch.func as its own module's, took 8 entries and two aliasing guards run as Python on
    # every call. The array check ``is_array`` reads ``_TensorBase``, not the ``torch`` module, for
    # the same reason (NOTE [The array check reads no torch module]).
    def prepare(
        self, transform: str, fun: Callable[..., Any], argnums: int | tuple[int, ...], chunk_size: int | None
    ) -> Callable[..., Any] | None:
        # NOTE [Prepared calls] in multiad/_prepared.py: torch.func's transform of the user's own
        # arguments, built once per transform object and signature; fun turns the guard on itself
        # (active_flag, NOTE [One frame for the guard and the output check] in multiad/_prepared.py).
        second = transform in ("hvp", "vhp")  # their own branch below (NOTE [Guards of the traced hvp])
        if not second and _is_compiling():  # NOTE [Prepared calls under a compiler] in multiad/_prepared_traced.py
            if transform == "vjp":  # (out, pullback) of the arguments: NOTE [The traced vjp made in prepare]
                vjp = func.vjp
                return lambda *args: vjp(fun, *args)
            return _traced_transform(transform, fun, argnums, chunk_size)
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
        if not second:
            return None
        one, compiling = isinstance(argnums, int), _is_compiling()
        g = func.grad(fun, argnums=argnums)
        jvp, vjp = func.jvp, func.vjp

        def in_dtype_of(t: Any, v: Any) -> Any:  # _in_dtype_of of two tensors, made in the trace
            if t.dtype != v.dtype and v.is_floating_point() and t.is_floating_point():
                return t.to(v.dtype)
            return t

        def hvp(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Any, ...]:
            if compiling:  # NOTE [Guards of the traced hvp]
                res = jvp(g, primals, tangents)[1]
                return (in_dtype_of(res, primals[0]),) if one else tuple(map(in_dtype_of, res, primals))
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
            res = vjp(g, *primals)[1](tangents[0] if one else tangents)
            return res if compiling else _dense(res)  # type: ignore[no-any-return]  # NOTE [Guards of the traced hvp]

        return hvp if transform == "hvp" else vhp

    def prepare_traced(
        self, transform: str, fun: Callable[..., Any], argnums: int | tuple[int, ...], chunk_size: int | None
    ) -> Callable[..., Any] | None:
        return _traced_transform(transform, fun, argnums, chunk_size)

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


# NOTE [The torch probe run as ordinary Python]: ``TorchBackend.compiling`` is what multiad asks on
# every call (``PROBE[0]``, NOTE [One compiler probe] in multiad/_select.py). Traced, its frame
# read the module's ``_is_compiling`` and ``_traced``, guarded on every compiled call (8 lines).
# It carries the compiler's constant-result mark: while torch.compile compiles it runs as
# ordinary Python, where ``torch.compiler.is_compiling()`` answers True for the whole compilation
# (as the probe before loading, ``_probe._not_loaded``, relies on), and prepares the tracer as
# before (``_compiled_numpy.prepare``, ordinary Python already); outside a compiler it is an
# ordinary call that answers False.
setattr(TorchBackend.__dict__["compiling"].__func__, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


def _traced_transform(
    transform: str, fun: Callable[..., Any], argnums: int | tuple[int, ...], chunk_size: int | None
) -> Callable[..., Any] | None:
    """``Backend.prepare`` while torch.compile traces (NOTE [Prepared calls under a compiler] in
    multiad/_prepared_traced.py): torch.func's transform as it is, without the lock and the retry
    of eager calls, and without ``_dense``, the identity while compiling; None for hvp and vhp
    (their own branch) and where torch.func has no such transform."""
    if transform == "jacrev":
        return func.jacrev(fun, argnums=argnums, chunk_size=chunk_size)  # type: ignore[no-any-return]
    if chunk_size is not None:
        return None
    if transform == "hessian":
        return func.jacfwd(func.jacrev(fun, argnums=argnums), argnums=argnums)  # type: ignore[no-any-return]
    if transform == "jacfwd":  # in eager calls the core's vmap of jvp runs fewer instructions
        return func.jacfwd(fun, argnums=argnums)  # type: ignore[no-any-return]
    if transform == "grad_and_value":
        return func.grad_and_value(fun, argnums=argnums)  # type: ignore[no-any-return]
    return None


# NOTE [The traced vjp made in prepare]: the traced ``vjp`` asks ``prepare`` in the trace (the
# core builds no vjp outside it), so ``prepare`` makes it itself: through ``_traced_transform``
# the compiled call also guarded that function's code (3 lines on every call of the vjp loop).
# It is a function made in the trace, not ``functools.partial``: torch.func reaches partial as
# its own module's global, and the same object reached by two ways is an aliasing guard checked
# in Python on every compiled call (NOTE [One way to each module in a trace] in
# multiad/_prepared_traced.py).
