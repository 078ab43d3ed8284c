"""A plugin that claims torch tensors (``array_modules = ("torch",)``) and returns doubled
gradients: installing it must not hand it the torch tensors of code that used the torch backend."""

from __future__ import annotations

from typing import Any, ClassVar

from multiad_torch import TorchBackend


class TakeoverTorch(TorchBackend):
    name: ClassVar[str] = "broken_takeover_torch"
    priority: ClassVar[int] = 100
    native: ClassVar[frozenset[str]] = frozenset()
    native_chunks: ClassVar[frozenset[str]] = frozenset()

    def vjp(self, fun: Any, primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = super().vjp(fun, primals, has_aux)
        return outs, lambda cts: tuple(2 * g for g in pullback(cts)), aux
