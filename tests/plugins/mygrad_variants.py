"""Variants of the MyGrad plugin (tests/plugins/multiad-mygrad), named as ``mygrad_variants:NAME``.

Each broken one carries one defect the conformance suite must catch; ``TensorFlowDevices``
reports its devices the way TensorFlow spells them and must still certify.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from multiad_mygrad import MygradBackend


class TensorFlowDevices(MygradBackend):
    """Correct, with device strings such as ``/job:localhost/replica:0/task:0/device:CPU:0``."""

    name: ClassVar[str] = "mygrad-tf-devices"
    SPELLING: ClassVar[str] = "/job:localhost/replica:0/task:0/device:CPU:0"

    def devices(self) -> list[str]:
        return [self.SPELLING]

    def device_of(self, x: Any) -> str:
        return super().device_of(_WithDevice(self.SPELLING))


class _WithDevice:
    def __init__(self, device: str) -> None:
        self.device = device


class AliasedOnce(MygradBackend):
    """One tensor for primals that are the same array: each gets the total derivative."""

    name: ClassVar[str] = "mygrad-aliased-once"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        first = [next(i for i, q in enumerate(primals) if q is p) for p in primals]
        unique = tuple(primals[i] for i in sorted(set(first)))
        where = {i: k for k, i in enumerate(sorted(set(first)))}
        outs, pullback, aux = super().vjp(lambda *u: fun(*[u[where[i]] for i in first]), unique, has_aux)
        return outs, lambda cts: tuple(pullback(cts)[where[i]] for i in first), aux


class TracedOnce(MygradBackend):
    """Traces f once and calls backward() on that graph for every pullback call; MyGrad clears
    the graph after the first, so later calls return stale gradients."""

    name: ClassVar[str] = "mygrad-traced-once"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        mg = self.mg
        xs = [mg.Tensor(np.asarray(p.data), constant=False) for p in primals]
        res = fun(*xs)
        outs, aux = res if has_aux else (res, None)

        def pullback(cts: tuple[Any, ...]) -> tuple[Any, ...]:
            total = sum(mg.sum(o * np.asarray(c.data)) for o, c in zip(outs, cts))
            total.backward()
            return tuple(self._constant(x.grad if x.grad is not None else np.zeros(x.shape)) for x in xs)

        return tuple(self._constant(o) for o in outs), pullback, aux


class DropsConversions(MygradBackend):
    """Converts a tensor that carries a derivative to numpy by dropping the derivative."""

    name: ClassVar[str] = "mygrad-drops-conversions"

    def to_numpy(self, x: Any) -> Any:
        return np.array(x.data if isinstance(x, self.mg.Tensor) else x)


class NoneForIndependent(MygradBackend):
    """Returns None for a primal the outputs do not depend on."""

    name: ClassVar[str] = "mygrad-none-for-independent"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = super().vjp(fun, primals, has_aux)
        return outs, lambda cts: tuple(None if not np.any(g.data) else g for g in pullback(cts)), aux


class FirstChunkOnly(MygradBackend):
    """A native jacrev that honours chunk_size for the first chunk of rows, the rest left zero."""

    name: ClassVar[str] = "mygrad-first-chunk-only"
    native: ClassVar[frozenset[str]] = frozenset({"jacrev"})
    native_chunks: ClassVar[frozenset[str]] = frozenset({"jacrev"})

    def jacrev(self, fun: Any, primals: tuple[Any, ...], has_aux: bool, chunk_size: int | None) -> Any:
        outs, pullback, aux = self.vjp(fun, primals, has_aux)
        sizes = [int(np.size(o.data)) for o in outs]
        rows: list[list[Any]] = []
        for i, o in enumerate(outs):
            blocks = [np.zeros(o.shape + p.shape) for p in primals]
            offset = sum(sizes[:i])
            for k in range(sizes[i]):
                if chunk_size is not None and offset + k >= chunk_size:
                    break  # the defect: later chunks are never computed
                cts = [np.zeros(q.shape) for q in outs]
                cts[i].reshape(-1)[k] = 1.0
                grads = pullback(tuple(self.asarray(c) for c in cts))
                for j, g in enumerate(grads):
                    blocks[j].reshape((sizes[i], -1))[k] = np.asarray(g.data).reshape(-1)
            rows.append([self.asarray(b) for b in blocks])
        return rows, aux


class RaveledZeroD(MygradBackend):
    """Gives the derivative with respect to a 0-d primal as a 1-element vector."""

    name: ClassVar[str] = "mygrad-raveled-0d"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = super().vjp(fun, primals, has_aux)
        return outs, lambda cts: tuple(self.asarray(np.atleast_1d(g.data)) for g in pullback(cts)), aux


class RaisesOnEmpty(MygradBackend):
    """Refuses arrays with no elements."""

    name: ClassVar[str] = "mygrad-raises-on-empty"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        if any(np.size(p.data) == 0 for p in primals):
            raise ValueError("cannot differentiate with respect to an empty array")
        return super().vjp(fun, primals, has_aux)


class ScaledGradient(MygradBackend):
    """Every pullback 0.1% too large."""

    name: ClassVar[str] = "mygrad-scaled-gradient"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = super().vjp(fun, primals, has_aux)
        return outs, lambda cts: tuple(self.asarray(1.001 * g.data) for g in pullback(cts)), aux


class _LogDerivativeWrong:
    """numpy's functions, with a ``log`` whose value is right and whose derivative is ``x``, not
    ``1 / x`` (a framework's op with a wrong rule: NOTE [The namespace's operations] in
    multiad/testing/_fns.py)."""

    def __init__(self, mg: Any) -> None:
        self._mg = mg

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    def log(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        c = self._mg.Tensor(np.asarray(x.data), constant=True)
        return self._mg.log(c) + x * (x - c)


class LogDerivativeWrong(MygradBackend):
    """Its framework's ``log`` (reached through numpy_namespace) has a wrong derivative."""

    name: ClassVar[str] = "mygrad-log-derivative-wrong"

    def numpy_namespace(self) -> Any:
        return _LogDerivativeWrong(self.mg)
