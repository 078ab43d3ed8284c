"""An example multiad backend, written as a plugin author would: reverse mode through HIPS
autograd, over plain numpy arrays.

A backend declares which primitives it has and implements them over *flat* functions
(positional arrays in, a tuple of arrays out); multiad derives everything else (forward mode
from the vjp, vmap by a loop, Jacobians, Hessians, pytrees, argnums, has_aux). Check it with::

    pytest --pyargs multiad.conformance --multiad-backend=example
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import optree

import multiad


class ExampleBackend(multiad.Backend):
    name: ClassVar[str] = "example"
    api_version: ClassVar[int] = 1  # the multiad plugin API this module was written against
    framework: ClassVar[str] = "autograd"  # must be importable for the backend to be available
    priority: ClassVar[int] = 200  # after the in-tree backends when nothing selects one
    has_vjp: ClassVar[bool] = True  # the only primitive: jvp and vmap are derived by multiad

    def load(self) -> None:
        # Import the framework on first use only, so that `import multiad` stays cheap.
        import autograd.core
        import autograd.numpy.numpy_boxes
        import autograd.tracer

        self._make_vjp = autograd.core.make_vjp
        self._getval = autograd.tracer.getval
        self._box = autograd.numpy.numpy_boxes.ArrayBox

    def version(self) -> str | None:
        import importlib.metadata

        return importlib.metadata.version("autograd")

    # Arrays are numpy arrays; while autograd traces a function they are ArrayBoxes.
    def is_array(self, x: Any) -> bool:
        return isinstance(x, (np.ndarray, self._box))

    # A box is a value autograd traces; vmap(out_dims=None) asks this before trusting equal values.
    def is_traced(self, x: Any) -> bool:
        return isinstance(x, self._box)

    def asarray(self, x: Any, dtype: Any = None, device: Any = None) -> Any:
        if device not in (None, "cpu"):
            raise multiad.InvalidArgumentError(f"asarray(x): the example backend runs on the CPU, got {device!r}")
        return x if isinstance(x, self._box) else np.asarray(x, dtype=dtype)

    def to_numpy(self, x: Any) -> Any:
        # A traced value carries a derivative that a numpy array cannot: refuse, never drop it.
        if isinstance(x, self._box):
            raise multiad.NonDifferentiableError(
                "to_numpy(x): x carries a derivative, which a numpy array would drop; compute with "
                "multiad.numpy instead, or convert outside the differentiated function"
            )
        return np.asarray(x)

    def translate_error(self, exc: BaseException) -> str | None:
        # float(x) inside f: autograd's boxes refuse to become Python numbers, with a TypeError
        # that multiad reports as NonDifferentiableError with this reason.
        if isinstance(exc, TypeError) and "ArrayBox" in str(exc):
            return f"a value that carries a derivative cannot become a Python number ({exc}); use multiad.numpy"
        # numpy.asarray(x) inside f: numpy makes an object array of boxes, which numpy's own
        # operations then refuse with a TypeError naming dtype('O').
        if isinstance(exc, TypeError) and "dtype('O')" in str(exc):
            return f"a numpy function turned a value that carries a derivative into an object array ({exc}); use multiad.numpy"
        return None

    def eye(self, n: int, like: Any) -> Any:
        return np.eye(n, dtype=self._getval(like).dtype)

    def dtype_name(self, x: Any) -> str:
        return str(self._getval(x).dtype)

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        """``(outputs, pullback, aux)``; ``pullback(cotangents)`` returns one array per primal."""
        import autograd.builtins

        aux: list[Any] = []

        def packed(xs: Any) -> Any:
            res = fun(*[xs[i] for i in range(len(primals))])
            if has_aux:
                res, extra = res
                # aux is returned as computed, not differentiated: no traced values may leave
                aux.append(optree.tree_map(self._getval, extra, namespace="multiad"))
            return autograd.builtins.tuple(res)  # a tuple autograd can differentiate through

        pullback, outs = self._make_vjp(packed, tuple(primals))
        return tuple(outs), lambda cts: tuple(pullback(tuple(cts))), aux[0] if has_aux else None
