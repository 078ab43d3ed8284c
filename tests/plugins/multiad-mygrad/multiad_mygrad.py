"""A multiad backend over MyGrad (https://github.com/rsokl/MyGrad), written from the plugin
contract alone (docs/plugins.md): multiad's core knows nothing about MyGrad.

MyGrad records a graph as ``Tensor`` operations run and ``backward()`` writes numpy arrays into
``x.grad``: reverse mode, first order only. So the backend declares a vjp and nothing else;
multiad loops for ``vmap``, and forward-mode transforms, which it would derive by
differentiating the pullback, are declared unsupported.

Conventions kept here:

- arrays handed to users are *constant* tensors (``constant=True``: MyGrad tracks no
  derivative through them); while ``vjp`` runs ``f`` on its own primals, a non-constant tensor
  means "a value that carries a derivative";
- converting such a value to numpy (``multiad.to_numpy`` inside ``f``) raises
  NonDifferentiableError instead of dropping the derivative;
- MyGrad clears its graph after ``backward()``, so the pullback runs ``f`` again for every
  call: it may be called any number of times, and inside ``vmap``.
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import optree

import multiad

_tracing = threading.local()  # depth of vjp's runs of f in this thread


class MygradBackend(multiad.Backend):
    name: ClassVar[str] = "mygrad"
    api_version: ClassVar[int] = 1
    framework: ClassVar[str] = "mygrad"
    array_modules: ClassVar[tuple[str, ...]] = ("mygrad",)  # multiad knows Tensors by module
    priority: ClassVar[int] = 300
    has_vjp: ClassVar[bool] = True
    # Forward mode is derived from a vjp of the pullback: a second-order derivative MyGrad
    # cannot take.
    unsupported: ClassVar[frozenset[str]] = frozenset({"jvp", "jacfwd", "linearize", "hessian", "hvp", "vhp"})

    def load(self) -> None:
        import mygrad

        self.mg = mygrad

    def version(self) -> str | None:
        return importlib.metadata.version("mygrad")

    def asarray(self, x: Any, dtype: Any = None, device: Any = None) -> Any:
        if device not in (None, "cpu"):
            raise multiad.InvalidArgumentError(f"asarray(x): MyGrad runs on the CPU only, got device={device!r}")
        if isinstance(x, self.mg.Tensor):
            return x if dtype is None or x.dtype == np.dtype(dtype) else x.astype(dtype)
        return self.mg.Tensor(np.asarray(x, dtype=dtype), constant=True)

    def to_numpy(self, x: Any) -> Any:
        if isinstance(x, self.mg.Tensor) and not x.constant and getattr(_tracing, "depth", 0):
            raise multiad.NonDifferentiableError(
                "to_numpy(x): x carries a derivative, which a numpy array would drop; compute with "
                "multiad.numpy, or convert outside the differentiated function"
            )
        return np.array(x.data if isinstance(x, self.mg.Tensor) else x)

    def is_traced(self, x: Any) -> bool:
        # a Tensor vjp differentiates, while it runs f (vmap(out_dims=None) then refuses to
        # take equal values for "does not depend on the batch")
        return isinstance(x, self.mg.Tensor) and not x.constant and getattr(_tracing, "depth", 0) > 0

    def stop_gradient(self, x: Any) -> Any:
        # mnp.stop_gradient of a Tensor: its value as a constant
        return self._constant(x)

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        """``(outputs, pullback, aux)``; ``pullback(cotangents)`` returns one array per primal."""
        mg = self.mg
        if any(isinstance(p, mg.Tensor) and not p.constant for p in primals):
            raise multiad.UnsupportedOperationError(
                "the mygrad backend cannot differentiate a derivative (nested differentiation): MyGrad's "
                "backward() gives numpy arrays; select a backend with higher-order derivatives"
            )
        data = [np.asarray(p.data if isinstance(p, mg.Tensor) else p) for p in primals]

        def forward() -> tuple[list[Any], tuple[Any, ...], Any]:
            # Fresh tensors for every primal: the same array passed twice is two primals.
            xs = [mg.Tensor(d, constant=False) for d in data]
            _tracing.depth = getattr(_tracing, "depth", 0) + 1
            try:
                res = fun(*xs)
            finally:
                _tracing.depth -= 1
            outs, aux = res if has_aux else (res, None)
            return xs, tuple(outs), aux

        _, outs, aux = forward()

        def pullback(cts: tuple[Any, ...]) -> tuple[Any, ...]:
            xs, outs, _ = forward()  # MyGrad clears its graph after backward(): trace again
            total = None
            for o, c in zip(outs, cts):
                if isinstance(o, mg.Tensor) and not o.constant:
                    term = mg.sum(o * np.asarray(c.data if isinstance(c, mg.Tensor) else c))
                    total = term if total is None else total + term
            if total is not None:
                total.backward()
            # an output that does not depend on a primal leaves its grad unset: zeros there
            return tuple(self._constant(x.grad if x.grad is not None else np.zeros_like(d)) for x, d in zip(xs, data))

        return tuple(self._constant(o) for o in outs), pullback, self._detached(aux)

    def _constant(self, x: Any) -> Any:
        return self.mg.Tensor(np.asarray(x.data if isinstance(x, self.mg.Tensor) else x), constant=True)

    def _detached(self, tree: Any) -> Any:
        return optree.tree_map(
            lambda x: self._constant(x) if isinstance(x, self.mg.Tensor) else x, tree, namespace="multiad"
        )
