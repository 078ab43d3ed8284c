"""Backends that test the conformance suite itself, named as ``conformance_backends:NAME``.

All but two are deliberately wrong (the suite must fail them); ``WithoutJacfwd`` and
``WithoutJacrev`` declare a transform unsupported (the suite must check that it raises, and pass).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from autograd.numpy.numpy_boxes import ArrayBox
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


class WithoutJacrev(AutogradBackend):
    """A correct backend that declares jacrev unsupported: jacobian(mode="auto") and Hessians
    must take the routes it has (NOTE [Routes around declared gaps])."""

    name: ClassVar[str] = "without-jacrev"
    unsupported: ClassVar[frozenset[str]] = frozenset({"jacrev"})


# -- defects only the edge-case families catch (multiad/testing/_edge.py) ------------------------


class AliasedOnce(AutogradBackend):
    """Differentiates each distinct array once: the same array passed as two primals gets the
    total derivative twice (``grad(sum(a * b), argnums=(0, 1))(x, x)`` gives ``(2x, 2x)``)."""

    name: ClassVar[str] = "aliased-once"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        unique: list[Any] = []
        index = []
        for p in primals:
            k = next((i for i, u in enumerate(unique) if u is p), None)
            if k is None:
                unique.append(p)
                k = len(unique) - 1
            index.append(k)
        outs, pullback, aux = super().vjp(lambda *u: fun(*[u[k] for k in index]), tuple(unique), has_aux)
        return outs, lambda cts: tuple(pullback(cts)[k] for k in index), aux


class FirstChunkOnly(AutogradBackend):
    """A native jacfwd that honours chunk_size for the first chunk and leaves the rest zero."""

    name: ClassVar[str] = "first-chunk-only"
    native: ClassVar[frozenset[str]] = frozenset({"jacfwd"})
    native_chunks: ClassVar[frozenset[str]] = frozenset({"jacfwd"})

    def jacfwd(self, fun: Any, primals: tuple[Any, ...], has_aux: bool, chunk_size: int | None) -> Any:
        blocks, aux = _derive.jacfwd(restricted(self), fun, primals, has_aux, None, "jacfwd")
        if chunk_size is None:
            return blocks, aux
        sizes = [int(np.size(p)) for p in primals]
        starts = np.cumsum([0, *sizes])
        out = []
        for row in blocks:
            kept = []
            for j, block in enumerate(row):
                cols = np.array(block).reshape(-1, sizes[j])
                cols[:, max(0, chunk_size - starts[j]) :] = 0.0
                kept.append(cols.reshape(np.shape(block)))
            out.append(kept)
        return out, aux


class AccumulatingPullback(AutogradBackend):
    """Each pullback adds its result to what it returned before (gradients accumulate, as in
    frameworks that keep a ``.grad`` buffer): right the first time, wrong every later call."""

    name: ClassVar[str] = "accumulating-pullback"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = super().vjp(fun, primals, has_aux)
        total: list[Any] = []

        def pull(cts: tuple[Any, ...]) -> tuple[Any, ...]:
            grads = pullback(cts)
            total[:] = [g + t for g, t in zip(grads, total)] if total else list(grads)
            return tuple(total)

        return outs, pull, aux


class RaisesOnEmpty(AutogradBackend):
    """Refuses arrays with no elements."""

    name: ClassVar[str] = "raises-on-empty"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        if any(np.size(p) == 0 for p in primals):
            raise ValueError("cannot differentiate with respect to an empty array")
        return super().vjp(fun, primals, has_aux)


class RaveledZeroD(AutogradBackend):
    """Gives the derivative with respect to a 0-d primal as a 1-element vector."""

    name: ClassVar[str] = "raveled-0d"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = super().vjp(fun, primals, has_aux)
        return outs, lambda cts: tuple(np.atleast_1d(g) for g in pullback(cts)), aux


class NoneForIndependent(AutogradBackend):
    """Returns None instead of zeros for outputs that do not depend on the primals."""

    name: ClassVar[str] = "none-for-independent"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        traced: list[bool] = []

        def spy(*xs: Any) -> Any:
            res = fun(*xs)
            traced.append(any(isinstance(o, ArrayBox) for o in (res[0] if has_aux else res)))
            return res

        outs, pullback, aux = super().vjp(spy, primals, has_aux)
        if traced[0]:
            return outs, pullback, aux
        return outs, lambda cts: tuple(None for _ in primals), aux


def drops_conversions(x: Any) -> Any:
    """A ``to_numpy`` that converts a traced value by dropping its derivative, without an error
    (patched over the autograd backend's, which owns the arrays the suite's functions see)."""
    return np.asarray(x._value if isinstance(x, ArrayBox) else x)


class Float64Gradients(AutogradBackend):
    """Pullbacks return float64 gradients whatever the primals' dtype: right numbers in a float64
    run, the wrong dtype for float32 inputs (NOTE [float32 in every run])."""

    name: ClassVar[str] = "float64-gradients"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = super().vjp(fun, primals, has_aux)
        return outs, lambda cts: tuple(_float64(g) for g in pullback(cts)), aux


def _float64(g: Any) -> Any:
    return g if isinstance(g, ArrayBox) else np.asarray(g, dtype=np.float64)  # nested: left as it is


class OneGradientShort(AutogradBackend):
    """With several primals the pullback leaves out the last gradient: the cases fail inside the
    core, and the contract item names the rule (NOTE [Primitives checked directly])."""

    name: ClassVar[str] = "one-gradient-short"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = super().vjp(fun, primals, has_aux)
        return outs, lambda cts: (lambda g: g[:-1] if len(g) > 1 else g)(tuple(pullback(cts))), aux


class IgnoresJvpRules(AutogradBackend):
    """Declares custom rules but differentiates a custom_jvp function's own body, ignoring its
    rule: caught by ``surrogate_floor``, whose rule is not floor's derivative."""

    name: ClassVar[str] = "ignores-jvp-rules"

    def custom_jvp(self, rule: Any) -> Callable[..., Any]:
        return lambda *xs: tuple(rule.fun(*xs))


_fwd_state = threading.local()


class TracedFwd(AutogradBackend):
    """Runs a custom_vjp rule's fwd on the values the transform traces (autograd's boxes), as a
    plugin whose fwd runs under its framework's tape does, instead of on constants: a solver's
    stopping test (float() of an iterate) meets a traced value. Caught by
    ``custom.solver_in_fwd`` (NOTE [A solver inside fwd]); every other custom case passes."""

    name: ClassVar[str] = "traced-fwd"

    def custom_vjp(self, rule: Any) -> Callable[..., Any]:
        inner = super().custom_vjp(rule)

        def flat(*xs: Any) -> tuple[Any, ...]:
            if getattr(_fwd_state, "on", False):  # a call fwd makes itself: evaluated plainly
                return tuple(rule.fun(*xs))
            _fwd_state.on = True
            try:
                rule.fwd(*xs)
            finally:
                _fwd_state.on = False
            return tuple(inner(*xs))

        return flat


class JvpDetached(AutogradBackend):
    """A native jvp that unboxes its primals and tangents: cut off from enclosing reverse-mode
    traces, as a TensorFlow plugin whose jvp runs under ``tf.stop_gradient`` was. Caught by the
    reverse-over-forward family (NOTE [Reverse over forward])."""

    name: ClassVar[str] = "jvp-detached"
    has_jvp: ClassVar[bool] = True

    def jvp(
        self, fun: Callable[..., Any], primals: tuple[Any, ...], tangents: tuple[Any, ...], has_aux: bool
    ) -> tuple[Any, Any, Any]:
        plain = tuple(_unboxed(p) for p in primals)
        return _derive.jvp(restricted(self), fun, plain, tuple(_unboxed(t) for t in tangents), has_aux, "jvp")


def _unboxed(x: Any) -> Any:
    while isinstance(x, ArrayBox):
        x = x._value
    return x


class Float32Derivatives(AutogradBackend):
    """float64 gradients rounded through float32 and back: float64 arrays about 3e-8 off, within
    the 1e-6 the suite once allowed (NOTE [Float64 precision])."""

    name: ClassVar[str] = "float32-derivatives"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = super().vjp(fun, primals, has_aux)
        return outs, lambda cts: tuple(_through_float32(g) for g in pullback(cts)), aux


def _through_float32(g: Any) -> Any:
    if isinstance(g, ArrayBox) or np.asarray(g).dtype != np.float64:
        return g  # nested, or float32 already: left as it is
    return np.asarray(g, dtype=np.float32).astype(np.float64)


class GradientOffBy1e7(AutogradBackend):
    """Every pullback is 1e-7 (relative) too large."""

    name: ClassVar[str] = "gradient-off-by-1e-7"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = super().vjp(fun, primals, has_aux)
        return outs, lambda cts: tuple((1 + 1e-7) * g for g in pullback(cts)), aux


# -- wrong past a size, a rank, an output count or a nesting depth (NOTE [Sizes, ranks and output
# counts] in multiad/testing/_fns.py, NOTE [Forward mode three deep] in multiad/testing/_cases.py)


def _last_negated(g: Any) -> Any:
    if np.size(g) <= 6:
        return g
    sign = np.ones(np.shape(g))
    sign.flat[-1] = -1.0
    return g * sign


class BigLastNegated(AutogradBackend):
    """The pullback negates the last gradient entry of every primal of more than 6 elements."""

    name: ClassVar[str] = "big-last-negated"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = super().vjp(fun, primals, has_aux)
        return outs, lambda cts: tuple(_last_negated(g) for g in pullback(cts)), aux


class ThirdCotangentDropped(AutogradBackend):
    """The pullback ignores the cotangents of the third and later outputs."""

    name: ClassVar[str] = "third-cotangent-dropped"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = super().vjp(fun, primals, has_aux)
        return outs, lambda cts: pullback((*tuple(cts)[:2], *(0.0 * c for c in tuple(cts)[2:]))), aux


class NdimThreeNegated(AutogradBackend):
    """The pullback negates the gradient of every primal with three or more dimensions."""

    name: ClassVar[str] = "ndim-three-negated"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = super().vjp(fun, primals, has_aux)
        return outs, lambda cts: tuple(-g if np.ndim(g) >= 3 else g for g in pullback(cts)), aux


_jvp_depth = threading.local()


class JvpTwoDeepDetached(AutogradBackend):
    """A native jvp that keeps the derivatives of its primals and tangents under one enclosing jvp
    but cuts them off under two (a tape kept to a fixed depth): right in every case but a jvp
    three deep, ``jacfwd(jacfwd(jacfwd(f)))``."""

    name: ClassVar[str] = "jvp-two-deep-detached"
    has_jvp: ClassVar[bool] = True

    def jvp(
        self, fun: Callable[..., Any], primals: tuple[Any, ...], tangents: tuple[Any, ...], has_aux: bool
    ) -> tuple[Any, Any, Any]:
        depth = getattr(_jvp_depth, "n", 0)
        if depth >= 2:
            primals, tangents = tuple(_unboxed(p) for p in primals), tuple(_unboxed(t) for t in tangents)
        _jvp_depth.n = depth + 1
        try:
            return _derive.jvp(restricted(self), fun, primals, tangents, has_aux, "jvp")
        finally:
            _jvp_depth.n = depth


class Float64Off(AutogradBackend):
    """Right, but makes float32 arrays when asked for float64, as JAX does with x64 off (a run
    with ``--multiad-dtypes=float32`` never switches float64 on): the contract items compare in
    float32 (NOTE [Contract items in the dtype the backend computes])."""

    name: ClassVar[str] = "float64-off"

    def asarray(self, x: Any, dtype: Any = None, device: Any = None) -> Any:
        if isinstance(x, ArrayBox):
            return x
        if (dtype is not None and np.dtype(dtype) == np.float64) or (dtype is None and np.result_type(x) == np.float64):
            dtype = "float32"
        return super().asarray(x, dtype, device)


class Float64OffScaled(Float64Off):
    """:class:`Float64Off` with gradients 0.1% too large: off by far more than float32's tolerance."""

    name: ClassVar[str] = "float64-off-scaled"

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = super().vjp(fun, primals, has_aux)
        return outs, lambda cts: tuple(1.001 * g for g in pullback(cts)), aux
