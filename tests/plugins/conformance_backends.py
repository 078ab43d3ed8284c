"""Backends that test the conformance suite itself, named as ``conformance_backends:NAME``.

Two are deliberately wrong (the suite must fail them); one declares a transform unsupported
(the suite must check that it raises, and pass).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from multiad_autograd import AutogradBackend

from multiad import _derive
from multiad.testing import restricted


class ScaledGradient(AutogradBackend):
    """Every pullback is 0.1% too large: gradients off by a factor of 1.001."""

    name: ClassVar[str] = "scaled-gradient"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = super().vjp(fun, primals, has_aux)
        return outs, lambda cts: tuple(1.001 * g for g in pullback(cts)), aux


class TransposedJacobian(AutogradBackend):
    """A native jacrev that lays each Jacobian block out transposed (gradients stay right)."""

    name: ClassVar[str] = "transposed-jacobian"
    native: ClassVar[frozenset[str]] = frozenset({"jacrev"})

    def jacrev(self, fun: Any, primals: tuple[Any, ...], has_aux: bool, chunk_size: int | None) -> Any:
        blocks, aux = _derive.jacrev(restricted(self), fun, primals, has_aux, chunk_size, "jacrev")
        return [[_transposed(b, p) for b, p in zip(row, primals)] for row in blocks], aux


def _transposed(block: Any, primal: Any) -> Any:
    """The (outputs x inputs) matrix of ``block`` transposed, read back in ``block``'s shape."""
    n = 1
    for d in primal.shape:
        n *= int(d)
    return block.reshape(-1, n).T.reshape(block.shape)


class WithoutJacfwd(AutogradBackend):
    """A correct backend that declares jacfwd unsupported."""

    name: ClassVar[str] = "without-jacfwd"
    unsupported: ClassVar[frozenset[str]] = frozenset({"jacfwd"})
