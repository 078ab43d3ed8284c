"""The torch backend: torch.func's vjp, jvp and vmap (with chunk_size), and its native jacrev.

Importing this module does not import torch; :meth:`TorchBackend.load` does, on first use.
Results stay on the input's device; float32 and float64 are supported.

NOTE [Conversions that drop derivatives]: inside ``torch.func.vjp``/``jvp``, ``t.item()``,
``float(t)``, ``t.tolist()`` and ``numpy()`` on a tensor that carries a derivative return plain
numbers: torch warns and then returns a wrong (usually zero) derivative. While the user's
function runs under vjp or jvp, a torch function mode (thread-local, pushed once however deep
the nesting) turns those calls into a NonDifferentiableError naming the operation, as JAX and
autograd already do for the same code. The mode costs a Python call per torch operation.
Tensors that carry no derivative (constants, ``t.detach()``, arguments not differentiated)
convert as usual.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

import multiad

torch: Any = None
func: Any = None
_Guard: Any = None
_DROPS: dict[Any, str] = {}
_state = threading.local()


class DroppedDerivativeError(RuntimeError):
    """A conversion to a Python number or numpy array of a tensor that carries a derivative."""


def _make_guard() -> Any:
    fw_ad = torch.autograd.forward_ad
    wrapped = torch._C._functorch.is_functorch_wrapped_tensor

    def carries_derivative(t: Any) -> bool:
        return (
            isinstance(t, torch.Tensor)
            and bool(wrapped(t))
            and (t.requires_grad or fw_ad.unpack_dual(t).tangent is not None)
        )

    class ConversionGuard(torch.overrides.TorchFunctionMode):  # type: ignore[misc]
        def __torch_function__(self, fn: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            op = _DROPS.get(fn)
            if op is not None and args and carries_derivative(args[0]):
                raise DroppedDerivativeError(
                    f"{op} turns a tensor that carries a derivative into a Python number or numpy array, which drops the "
                    "derivative; keep it a tensor, or call .detach() first for a value that is only logged "
                    "or returned as aux"
                )
            return fn(*args, **(kwargs or {}))

    return ConversionGuard


def _guarded(fun: Callable[..., Any]) -> Callable[..., Any]:
    """``fun`` run under the conversion guard (NOTE [Conversions that drop derivatives])."""

    def run(*xs: Any) -> Any:
        if getattr(_state, "active", False):
            return fun(*xs)
        _state.active = True
        try:
            with _Guard():
                return fun(*xs)
        finally:
            _state.active = False

    return run


def _single_output(fun: Callable[..., Any], has_aux: bool) -> tuple[Callable[..., Any], list[bool]]:
    """``fun`` returning a bare tensor when it has one output, and a flag saying so once called."""
    flag: list[bool] = []

    def single(*xs: Any) -> Any:
        res = fun(*xs)
        outs, aux = res if has_aux else (res, None)
        one = len(outs) == 1
        flag[:] = [one]
        out = outs[0] if one else outs
        return (out, aux) if has_aux else out

    return single, flag


class TorchBackend(multiad.Backend):
    name: ClassVar[str] = "torch"
    framework: ClassVar[str] = "torch"
    array_modules: ClassVar[tuple[str, ...]] = ("torch",)
    priority: ClassVar[int] = 10
    has_vjp: ClassVar[bool] = True
    has_jvp: ClassVar[bool] = True
    has_vmap: ClassVar[bool] = True
    vmap_chunks: ClassVar[bool] = True
    native: ClassVar[frozenset[str]] = frozenset({"value_and_grad", "jacrev"})
    native_chunks: ClassVar[frozenset[str]] = frozenset({"jacrev"})

    @classmethod
    def compiling(cls) -> bool:
        return torch is not None and bool(torch.compiler.is_compiling())

    def load(self) -> None:
        global torch, func, _Guard
        import torch as _torch
        import torch.func as _func

        torch, func = _torch, _func
        t = torch.Tensor
        _DROPS.update(
            {
                t.item: "Tensor.item()",
                t.__float__: "float(tensor)",
                t.__int__: "int(tensor)",
                t.__complex__: "complex(tensor)",
                t.tolist: "Tensor.tolist()",
                t.numpy: "Tensor.numpy()",
                t.__array__: "numpy.asarray(tensor)",
            }
        )
        _Guard = _make_guard()

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
        if isinstance(x, np.ndarray):
            # from_numpy shares memory (transforms never write to their inputs); torch cannot
            # wrap a read-only array without a warning, so that one is copied.
            t = torch.from_numpy(x if x.flags.writeable else x.copy())
            return t if tdtype is None and device is None else t.to(device=device, dtype=tdtype)
        if isinstance(x, (float, int)) and tdtype is None and not isinstance(x, bool):
            return torch.tensor(x, device=device, dtype=torch.get_default_dtype() if isinstance(x, float) else None)
        return torch.as_tensor(x, dtype=tdtype, device=device)

    def to_numpy(self, x: Any) -> Any:
        return x.detach().cpu().numpy()

    def eye(self, n: int, like: Any) -> Any:
        return torch.eye(n, dtype=like.dtype, device=like.device)

    def translate_error(self, exc: BaseException) -> str | None:
        msg = str(exc)
        if isinstance(exc, DroppedDerivativeError):
            return msg
        if isinstance(exc, RuntimeError) and "call numpy() on Tensor that requires grad" in msg:
            return (
                "numpy() of a tensor that carries a derivative; write the function with multiad.numpy or "
                "torch operations, or call .detach() first for a value that is not differentiated"
            )
        if isinstance(exc, RuntimeError) and (
            "does not require grad" in msg
            or "not implemented for" in msg
            or "derivative for" in msg
            or ".item()" in msg
            or "data-dependent" in msg.lower()
        ):
            return f"{type(exc).__name__}: {msg.splitlines()[0]}"
        return None

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        single, one = _single_output(_guarded(fun), has_aux)
        res = func.vjp(single, *primals, has_aux=has_aux)
        outs, pullback, aux = res if has_aux else (*res, None)
        if one[0]:
            return (outs,), lambda cts: pullback(cts[0]), aux
        return outs, pullback, aux

    def jvp(
        self, fun: Callable[..., Any], primals: tuple[Any, ...], tangents: tuple[Any, ...], has_aux: bool
    ) -> tuple[Any, Any, Any]:
        single, one = _single_output(_guarded(fun), has_aux)
        res = func.jvp(single, primals, tangents, has_aux=has_aux)
        outs, touts, aux = res if has_aux else (*res, None)
        return ((outs,), (touts,), aux) if one[0] else (outs, touts, aux)

    def vmap(self, fun: Callable[..., Any], in_axes: Sequence[int | None], chunk_size: int | None) -> Any:
        return func.vmap(fun, in_dims=tuple(in_axes), out_dims=0, chunk_size=chunk_size)

    def value_and_grad(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        one = len(primals) == 1
        argnums = 0 if one else tuple(range(len(primals)))
        grads, res = func.grad_and_value(_guarded(fun), argnums=argnums, has_aux=has_aux)(*primals)
        value, aux = res if has_aux else (res, None)
        return value, (grads,) if one else grads, aux

    def jacrev(self, fun: Any, primals: tuple[Any, ...], has_aux: bool, chunk_size: int | None) -> Any:
        # NOTE [One primal, one output]: torch.func nests results one level deeper for a tuple
        # of argnums or a tuple output, with more pytree work per call; the common case of one
        # primal and one output is passed to torch.func as an int and a bare tensor.
        one_in = len(primals) == 1
        single, one_out = _single_output(_guarded(fun), has_aux)
        argnums = 0 if one_in else tuple(range(len(primals)))
        res = func.jacrev(single, argnums=argnums, has_aux=has_aux, chunk_size=chunk_size)(*primals)
        jac, aux = res if has_aux else (res, None)
        rows = [jac] if one_out[0] else list(jac)
        return [[row] if one_in else list(row) for row in rows], aux
