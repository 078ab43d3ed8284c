"""A minimal plugin over ``torch.autograd.grad`` (not torch.func), variants of it, and a plugin with
forward mode only (``torch.func.jvp``); named as ``torch_grad_backends:NAME``.

``TorchGrad`` declares only a vjp, as docs/plugins.md allows: multiad derives forward mode (the
vjp of the pullback), ``vmap`` (a loop), Jacobians and Hessians from it. torch tensors belong to
the in-tree torch backend, so it claims no array module and recognises them by ``is_array``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import optree

import multiad


class TorchGrad(multiad.Backend):
    """Reverse mode through ``torch.autograd.grad``; ``create_graph`` where an outer transform
    traces the primals or the cotangents, detached results at the top level."""

    name: ClassVar[str] = "torch-grad"
    api_version: ClassVar[int] = 1
    framework: ClassVar[str] = "torch"
    priority: ClassVar[int] = 500
    has_vjp: ClassVar[bool] = True

    def load(self) -> None:
        import torch

        self.torch = torch

    def version(self) -> str | None:
        return str(self.torch.__version__)

    def default_dtype(self) -> str:
        return "float32"

    def is_array(self, x: Any) -> bool:
        return isinstance(x, self.torch.Tensor)

    def asarray(self, x: Any, dtype: Any = None, device: Any = None) -> Any:
        if device not in (None, "cpu"):
            raise multiad.InvalidArgumentError(f"asarray(x): torch-grad runs on the CPU only, got {device!r}")
        t = None if dtype is None else getattr(self.torch, np.dtype(dtype).name)
        if isinstance(x, self.torch.Tensor):
            return x if t is None or x.dtype == t else x.to(t)
        return self.torch.as_tensor(np.asarray(x), dtype=t)

    def to_numpy(self, x: Any) -> Any:
        if isinstance(x, self.torch.Tensor):
            if x.requires_grad:
                raise multiad.NonDifferentiableError(
                    "to_numpy(x): x carries a derivative, which a numpy array would drop; compute with "
                    "multiad.numpy, or convert outside the differentiated function"
                )
            return x.detach().numpy()
        return np.asarray(x)

    def is_traced(self, x: Any) -> bool:
        # a tensor that requires grad: vjp's own primals, or an outer level's
        return isinstance(x, self.torch.Tensor) and x.requires_grad

    def snapshot(self, x: Any) -> Any:
        # tensors change in place: a pullback called later sees the value at call time
        return x.clone() if isinstance(x, self.torch.Tensor) else super().snapshot(x)

    def translate_error(self, exc: BaseException) -> str | None:
        # numpy.asarray(x) inside f: torch refuses a tensor that requires grad ("Can't call
        # numpy()") and a torch.func dual tensor (no storage) with a RuntimeError.
        msg = str(exc).partition("\n")[0]
        if isinstance(exc, RuntimeError) and ("numpy()" in msg or "data pointer" in msg):
            return f"numpy.asarray (or another numpy function) of a tensor that carries a derivative ({msg}); use multiad.numpy"
        return None

    def nested(self, primals: tuple[Any, ...]) -> bool:
        """Whether an outer transform traces this call: one of its primals requires grad. Not
        enough alone: a function that closes over an outer level's tensors (the vjp of a pullback,
        as forward mode is derived) is nested too, and its results were detached; the suite's
        reverse-over-forward family fails it, and ``ThreadLocalDepth`` (a per-thread depth) passes."""
        return any(isinstance(p, self.torch.Tensor) and p.requires_grad for p in primals)

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        torch = self.torch
        outer = self.nested(primals)
        # A node of its own for each primal: the same tensor passed twice gets two derivatives.
        xs = [
            p.view_as(p) if p.requires_grad else p.detach().requires_grad_(p.is_floating_point())
            for p in (self.asarray(q) for q in primals)
        ]
        with torch.enable_grad(), _refusing_numbers(torch):
            res = fun(*xs)
        outs, aux = res if has_aux else (res, None)
        outs = tuple(outs)

        def pullback(cts: tuple[Any, ...]) -> tuple[Any, ...]:
            deep = outer or any(isinstance(c, torch.Tensor) and c.requires_grad for c in cts)
            pairs = [(o, self.asarray(c)) for o, c in zip(outs, cts) if o.requires_grad]
            wrt = [x for x in xs if x.requires_grad]
            found: list[Any] = [None] * len(wrt)
            if pairs and wrt:
                with torch.enable_grad():
                    found = list(
                        torch.autograd.grad(
                            [o for o, _ in pairs], wrt, [c for _, c in pairs],
                            retain_graph=True, create_graph=deep, allow_unused=True,
                        )
                    )  # fmt: skip
            it = iter(found)
            grads = [(next(it) if x.requires_grad else None) for x in xs]
            grads = [torch.zeros_like(x) if g is None else g for g, x in zip(grads, xs)]
            return tuple(g if deep else g.detach() for g in grads)

        detach = optree.tree_map(lambda v: v.detach() if isinstance(v, torch.Tensor) else v, aux, namespace="multiad")
        return (outs if outer else tuple(o.detach() for o in outs)), pullback, detach


def _refusing_numbers(torch: Any) -> Any:
    """A torch function mode, active while ``fun`` runs (modes are per thread), in which Python
    conversions of a tensor that requires grad raise: torch's own ``float()`` of one only warns,
    and the derivative through the number would be dropped."""
    from torch.overrides import TorchFunctionMode

    conversions = {torch.Tensor.__float__, torch.Tensor.__int__, torch.Tensor.__bool__, torch.Tensor.item}
    conversions |= {torch.Tensor.tolist, torch.Tensor.numpy}

    class RefusesNumbers(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            if func in conversions and args and getattr(args[0], "requires_grad", False):
                raise multiad.NonDifferentiableError(
                    f"{func.__name__} of a tensor that carries a derivative drops it; compute with multiad.numpy"
                )
            return func(*args, **(kwargs or {}))

    return RefusesNumbers()


_shared = {"depth": 0}


class SharedDepth(TorchGrad):
    """Decides whether a call is nested from a depth counter that all threads share: right in
    every single-threaded case; a top-level call made while another thread is inside a
    transformed function returns outputs and gradients still attached to its graph."""

    name: ClassVar[str] = "torch-grad-shared-depth"

    def nested(self, primals: tuple[Any, ...]) -> bool:
        return _shared["depth"] > 0 or super().nested(primals)

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        def counted(*xs: Any) -> Any:
            _shared["depth"] += 1
            try:
                return fun(*xs)
            finally:
                _shared["depth"] -= 1

        return super().vjp(counted, primals, has_aux)


class ThreadLocalDepth(SharedDepth):
    """The same counter kept per thread: correct."""

    name: ClassVar[str] = "torch-grad-thread-local-depth"
    _local = threading.local()

    def nested(self, primals: tuple[Any, ...]) -> bool:
        return getattr(self._local, "depth", 0) > 0 or TorchGrad.nested(self, primals)

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        local = self._local

        def counted(*xs: Any) -> Any:
            local.depth = getattr(local, "depth", 0) + 1
            try:
                return fun(*xs)
            finally:
                local.depth -= 1

        return TorchGrad.vjp(self, counted, primals, has_aux)


class AuxAttached(TorchGrad):
    """Returns aux as ``fun`` computed it inside the trace: still attached to the graph."""

    name: ClassVar[str] = "torch-grad-aux-attached"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        kept: list[Any] = []

        def keeps(*xs: Any) -> Any:
            res = fun(*xs)
            if has_aux:
                kept.append(res[1])
            return res

        outs, pullback, _ = super().vjp(keeps, primals, has_aux)
        return outs, pullback, kept[0] if has_aux else None


class ForwardOnly(TorchGrad):
    """Forward mode only, through ``torch.func.jvp``: correct. Without ``has_vjp`` multiad has no
    reverse mode, and the suite counts the transforms that need it as refused by declaration."""

    name: ClassVar[str] = "torch-forward-only"
    has_vjp: ClassVar[bool] = False
    has_jvp: ClassVar[bool] = True

    def to_numpy(self, x: Any) -> Any:
        import torch._C._functorch as functorch

        if isinstance(x, self.torch.Tensor) and functorch.is_functorch_wrapped_tensor(x):
            raise multiad.NonDifferentiableError("to_numpy(x): x carries a derivative; compute with multiad.numpy")
        return super().to_numpy(x)

    def jvp(
        self, fun: Callable[..., Any], primals: tuple[Any, ...], tangents: tuple[Any, ...], has_aux: bool
    ) -> tuple[Any, Any, Any]:
        from torch.func import jvp

        ps = tuple(self.asarray(p) for p in primals)
        ts = tuple(self.asarray(t) for t in tangents)
        if has_aux:
            outs, touts, aux = jvp(lambda *xs: (tuple(fun(*xs)[0]), fun(*xs)[1]), ps, ts, has_aux=True)
        else:
            (outs, touts), aux = jvp(lambda *xs: tuple(fun(*xs)), ps, ts), None
        return tuple(outs), tuple(touts), aux


class MarksCallersTensor(TorchGrad):
    """Calls ``requires_grad_()`` on the caller's own tensors instead of detached copies: the
    inputs come back marked as traced, and every result carries a graph."""

    name: ClassVar[str] = "torch-grad-marks-callers-tensor"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        ps = tuple(self.asarray(q) for q in primals)
        for p in ps:
            if p.is_leaf and not p.requires_grad and p.is_floating_point():
                p.requires_grad_()
        return super().vjp(fun, ps, has_aux)


class RejectsTraced(TorchGrad):
    """``is_array`` rejects tensors that require grad, the values its own vjp passes to ``fun``."""

    name: ClassVar[str] = "torch-grad-rejects-traced"

    def is_array(self, x: Any) -> bool:
        return isinstance(x, self.torch.Tensor) and not x.requires_grad
