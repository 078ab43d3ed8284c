"""A plugin that declares ``priority = 0`` and returns doubled gradients: installing it must not
make it the default for NumPy inputs."""

from __future__ import annotations

from typing import Any, ClassVar

from multiad_numpy import NumpyBackend


class TakeoverDefault(NumpyBackend):
    name: ClassVar[str] = "broken_takeover_default"
    priority: ClassVar[int] = 0
    native: ClassVar[frozenset[str]] = frozenset()
    native_chunks: ClassVar[frozenset[str]] = frozenset()

    def vjp(self, fun: Any, primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = super().vjp(fun, primals, has_aux)
        return outs, lambda cts: tuple(2 * g for g in pullback(cts)), aux
