"""The numpy backend: central finite differences for black-box numpy code.

NOTE [Finite-difference steps]: every difference perturbs one group of components with a step
``h = eps ** (1/3) * s`` (``eps`` of the input's dtype, ``s = max(1, |x_k|)`` of the perturbed
components), which balances truncation error (``h**2``) against rounding error (``eps / h``).
``vjp``, ``jacrev``, ``jacfwd`` and ``linearize`` build the Jacobian column by column, each
column with its own step, eagerly at the call (so results depend only on the values at call
time, and ``linearize``'s ``jvp_fn`` is a product with it, evaluating ``f`` no more); ``jvp``
groups the tangent's components by the decade of ``s`` (NOTE [Steps per component]). Every
result carries an error estimate and warns when it is poor (NOTE [Finite-difference error
estimate] in ``_estimate.py``); second derivatives nest the differences (the core derives them) and
are about 1e-6 to 1e-5 relative in float64; deeper nesting needs :func:`higher_order`.

NOTE [Steps per component]: one step for the whole tangent, sized by the largest ``|x|``, is
far too coarse for small components: ``jvp`` of ``sin`` at ``[1e6, 0.5]`` along ``[0, 1]``
gave -0.0327 for cos(0.5) = 0.8776, and one ``inf`` made every element NaN. ``jvp`` therefore
splits the tangent into groups of components whose scales ``s`` share a decade (components
with a zero tangent are not perturbed at all) and sums one directional difference per group:
the cost is one difference for inputs of one scale, as before, and at most one per decade.
Within a decade the tangent's own components are grouped by size too: the step of a group is
sized by its largest component, so a component 1e8 times smaller moved by 1e-8 of the step,
below rounding, and ``jvp`` of ``sin`` at ``[0.5, 0.5]`` along ``[1e8, 1e-8]`` gave 0 for the
second output (and no warning: the estimate is relative to the whole tangent's size). A group
holds components within ``_TANGENT_SPAN = 1e3`` of its largest, which costs at most 3 digits on
the smallest (about 1e-9 relative in float64); the usual tangent, of one size, stays one group.

NOTE [Arguments f may not change]: ``f`` gets the arguments it is given as read-only views: the
differentiated ones (the primals, viewed by each primitive) and those it does not differentiate
(outside ``argnums``, keyword arguments: ``constant_argument``, which the core calls once per
call, NOTE [Arguments outside argnums] in ``multiad/_flat.py``). Passed as they are, an ``f``
that changes its argument in place (``x *= 2``) changed the caller's array and moved the point
every later difference is taken at: ``grad`` of ``z *= 2; sum(z**2)`` at ``[1, 2]`` gave
``[16, 32]`` (true ``[8, 16]``), with only an accuracy warning, and left the caller's ``x``
doubled; ``x[:2] = y`` with ``argnums=1`` left the caller's ``x`` holding the last perturbed
``y``, and ``x[:2] += y`` gave every evaluation another ``x``. A view costs nothing per call,
where a copy per evaluation would cost the argument's size; the write raises numpy's
ValueError, which the backend names as the torch backend names ``x.mul_(2)`` and a write into
an argument outside argnums (JAX and autograd arrays cannot be written at all). The perturbed
copies ``f`` gets for the differences are its own and stay writable. Arrays ``f`` closes over
are not arguments: they stay writable, and a change to them happens at every evaluation.
``vmap`` passes the unbatched arguments and the keyword arguments through ``constant_argument``
too (NOTE [Unbatched arguments f may not change] in ``multiad/_api_vmap.py``).

NOTE [Why not scipy.differentiate]: ``scipy.differentiate.derivative``/``jacobian`` estimate
their error too (the change between successive Richardson levels, the same idea as here), and
are more accurate: ``derivative(np.sin, 1.0)`` is off by 8e-15 (estimate 1.4e-12) after 11
evaluations in 2 iterations of an order-8 stencil, where the stencil here is off by about
1e-11 after 4 (plus ``f(x)``, which the call needs anyway). But they call ``f`` on many
abscissae at once along extra trailing axes: ``jacobian`` of ``lambda x: np.sum(x**2)``, a
reduction over the input's own axes as user code writes it, raises ValueError (the output
must broadcast with the stacked input), and the numpy backend differentiates arbitrary
black-box code. scipy would also become a dependency of the backend.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

import multiad

from . import _fd, _levels
from ._levels import Estimate as Estimate
from ._levels import higher_order as higher_order
from ._levels import record_errors as record_errors


class NumpyBackend(multiad.Backend):
    name: ClassVar[str] = "numpy"
    framework: ClassVar[str] = "numpy"
    priority: ClassVar[int] = 90
    has_vjp: ClassVar[bool] = True
    has_jvp: ClassVar[bool] = True
    exact: ClassVar[bool] = False
    # The finite-difference Jacobian is built column by column whichever mode is asked for;
    # building it directly skips a pullback per output row (jacrev) or a jvp per column (jacfwd).
    # linearize: the Jacobian at the call, so that f runs once and jvp_fn is a product with it.
    native: ClassVar[frozenset[str]] = frozenset({"jacrev", "jacfwd", "linearize"})
    native_chunks: ClassVar[frozenset[str]] = frozenset({"jacrev", "jacfwd"})  # nothing to chunk

    def version(self) -> str | None:
        return str(np.__version__)

    def is_array(self, x: Any) -> bool:
        return isinstance(x, np.ndarray)

    def asarray(self, x: Any, dtype: Any = None, device: Any = None) -> Any:
        if device not in (None, "cpu"):
            raise multiad.InvalidArgumentError(
                f"asarray(x): the numpy backend runs on the CPU only, got device={device!r}"
            )
        return np.asarray(x, dtype=dtype)

    def to_numpy(self, x: Any) -> Any:
        return np.asarray(x)

    def eye(self, n: int, like: Any) -> Any:
        return np.eye(n, dtype=like.dtype)

    def constant_argument(self, x: Any) -> Any:
        """A read-only view of ``x``, so that ``f`` cannot change the caller's array."""
        return _levels.read_only_view(x) if isinstance(x, np.ndarray) else x  # NOTE [Arguments f may not change]

    def translate_error(self, exc: BaseException) -> str | None:
        return self.refused_write(exc)  # NOTE [Arguments f may not change]

    def jvp(
        self, fun: Callable[..., Any], primals: tuple[Any, ...], tangents: tuple[Any, ...], has_aux: bool
    ) -> tuple[Any, Any, Any]:
        primals = _levels.read_only(primals)
        level = _fd.Level(self, fun, has_aux, _levels.dtype_of(primals))
        with level.arithmetic():
            return self._jvp(level, primals, tangents)

    def _jvp(self, level: _fd.Level, primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Any, Any, Any]:
        outs, aux = level(primals)
        level.adopt(outs)
        if not all(bool(np.all(np.isfinite(t))) for t in tangents):
            call = level.public_call()  # hvp: its inner level's
            raise multiad.InvalidArgumentError(
                f"{call}: a tangent holds nan or inf, and the numpy backend's finite differences step "
                "along the tangent; pass finite tangents (an exact backend propagates them)"
            )
        # Per output, one column (1, size): the sums over the groups of components.
        totals: list[Any] = [np.zeros((1, o.size)) for o in outs]
        errors: list[Any] = [np.zeros((1, o.size)) for o in outs]
        scales: list[Any] = [np.zeros((1, o.size)) for o in outs]
        derivs: list[Any] = [np.zeros((1, o.size)) for o in outs]
        for group in _groups(primals, tangents):
            tmax = max(float(np.max(np.abs(t))) for t in group if t is not None)
            smax = max(float(np.max(_fd.scale(p)[t != 0])) for p, t in zip(primals, group) if t is not None)
            c = max(level.c, *(_levels.step_factor(p.dtype) for p, t in zip(primals, group) if t is not None))
            h = c * smax / tmax  # NOTE [Steps for the coarsest input]
            if not np.isfinite(h):  # subnormal tangent components: their product is below float64's range
                continue
            v = tuple(None if t is None else h * t for t in group)
            values, errs, scs, dvs = level.directional(primals, outs, v, h, group)
            for i in range(len(outs)):
                totals[i] += values[i]
                errors[i] += errs[i]
                scales[i] += scs[i]
                derivs[i] += dvs[i]
        level.finish([(errors, scales, derivs)])
        level.hand_over([(t, e, None) for t, e in zip(totals, errors)])  # NOTE [Noise of each nested element]
        touts = tuple(t.reshape(o.shape).astype(o.dtype, copy=False) for t, o in zip(totals, outs))
        return outs, touts, aux

    # NOTE [Steps for the coarsest input]: the level's step factor is that of the primals' common
    # dtype (float64 for a float32 and a float64 primal), but a float32 primal perturbed by a
    # float64-sized step (eps ** (1/3), 6e-6 relative) is rounded to float32 (1.2e-7 relative),
    # so the step actually taken differed from the one divided by by up to 2 %: grad with
    # argnums=(0, 1) of sum(a * c), a float32 and c float64, was off by 5e-3 in a's derivative
    # (the AccuracyWarning estimated 1e-3), where argnums=0 alone was within 3e-6. Each primal's
    # columns (and each group of tangent components) step by the larger of the level's factor and
    # that of the primal's own dtype, as that primal differentiated alone would. The rounding of
    # x + h that remains (eps_in |x|, 1e-5 of a float32 step) is removed by moving the values of
    # f to the nominal points (NOTE [Steps the input can hold] in _fd.py).
    def _jacobian(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        """``(outs, blocks, aux)``: blocks ``[i][j]`` of shape ``(outs[i].size, primals[j].size)``,
        one column per element, each with its own step."""
        primals = _levels.read_only(primals)
        level = _fd.Level(self, fun, has_aux, _levels.dtype_of(primals))
        with level.arithmetic():
            return self._blocks(level, primals)

    def _blocks(self, level: _fd.Level, primals: tuple[Any, ...]) -> tuple[Any, Any, Any]:
        outs, aux = level(primals)
        level.adopt(outs)
        blocks: list[list[Any]] = [[] for _ in outs]
        estimates: list[_levels.Block] = []
        steps = []
        for j, p in enumerate(primals):
            c = max(level.c, _levels.step_factor(p.dtype))  # NOTE [Steps for the coarsest input]
            steps.append(c * _fd.scale(p.reshape(-1)))
            values, estimate = level.columns(primals, outs, j, steps[j])
            estimates.append(estimate)
            for i, o in enumerate(outs):
                blocks[i].append(_transposed(values[i], o.dtype))
        level.finish(estimates)
        if level.nested:  # each element's noise, laid out as the blocks (NOTE [Noise of each nested element])
            shown = level.shown
            # with the primal and steps of its columns (NOTE [Truncation a nested level leaves] in _fd.py)
            level.hand_over(
                [
                    (blocks[i][j], shown[j][i].T, (primals[j], steps[j]))
                    for i in range(len(outs))
                    for j in range(len(primals))
                ]
            )
        return outs, blocks, aux

    def jacfwd(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool, chunk_size: int | None) -> Any:
        outs, blocks, aux = self._jacobian(fun, primals, has_aux)
        shaped = [[blk.reshape(o.shape + p.shape) for blk, p in zip(row, primals)] for row, o in zip(blocks, outs)]
        return shaped, aux

    def jacrev(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool, chunk_size: int | None) -> Any:
        """The blocks of :meth:`jacfwd` in the dtype of their primal, as reverse mode's rows are
        cotangents of the primals (torch.func's, JAX's and autograd's jacrev of a float32 input
        are float32 whatever f's output dtype; jacfwd's columns are the output's tangents)."""
        shaped, aux = self.jacfwd(fun, primals, has_aux, chunk_size)
        for row in shaped:
            for j, p in enumerate(primals):
                if np.issubdtype(p.dtype, np.inexact):
                    row[j] = row[j].astype(p.dtype, copy=False)
        return shaped, aux

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        # Eager: the pullback holds the Jacobian of the values at the call, not the arrays.
        outs, blocks, aux = self._jacobian(fun, primals, has_aux)
        shapes = [(p.shape, p.dtype) for p in primals]

        def pullback(cts: tuple[Any, ...]) -> tuple[Any, ...]:
            grads = []
            for j, (shape, dtype) in enumerate(shapes):
                g = sum(np.asarray(ct).reshape(-1) @ blocks[i][j] for i, ct in enumerate(cts))
                grads.append(np.asarray(g, dtype=dtype).reshape(shape))
            return tuple(grads)

        return outs, pullback, aux

    def linearize(self, fun: Callable[..., Any], primals: tuple[Any, ...]) -> tuple[Any, Callable[..., Any]]:
        outs, blocks, _ = self._jacobian(fun, primals, False)

        def push(*tangents: Any) -> tuple[Any, ...]:
            flat = [np.asarray(t).reshape(-1) for t in tangents]
            return tuple(
                np.asarray(sum(blk @ t for blk, t in zip(row, flat)), dtype=o.dtype).reshape(o.shape)
                for row, o in zip(blocks, outs)
            )

        return outs, push


# NOTE [Transposes through a padded copy]: the columns come out as rows, ``(columns, outputs)``,
# and the block is their transpose, copied so that it is C-contiguous. numpy copies a transpose
# in the destination's order, so each stretch of the block reads one element from every row of
# ``values``: where the rows lie a multiple of 4 KiB apart (2048 float32 outputs, 1024 float64)
# those reads all fall in one set of the L1 cache (4 KiB per way on x86 CPUs, 8 to 12 ways),
# and with more rows than ways every read misses. The tall benchmark's 32 -> 2048 float32
# Jacobian spent 375 us of a 1.9 ms call on this copy, where the hand-written stencil's
# ``stack(cols, axis=1)`` writes each column once. Copied first into rows padded by one cache
# line, the same transpose took 29 us (60 us with the padding's copy: 122 us before, on an idle
# moment of the same machine; 0.21 to 0.30 of the time for 16 to 128 rows of 1024 to 4096
# float32 or float64 outputs). Where fewer rows than ways alias (row strides that are not a
# multiple of a large power of two, or few columns) the padded copy costs more than it saves
# (1.3 to 2.5 times a direct copy of small blocks) and the transpose is copied directly.
_WAY = 4096  # bytes per way of a typical L1 data cache
_WAYS = 8


def _transposed(values: Any, dtype: Any) -> Any:
    """``values.T`` as a C-contiguous array of ``dtype`` (NOTE [Transposes through a padded copy])."""
    rows, size = values.shape
    if rows * math.gcd(values.strides[0], _WAY) > _WAYS * _WAY:
        padded = np.empty((rows, size + 64 // values.itemsize), values.dtype)
        padded[:, :size] = values
        values = padded[:, :size]
    return np.ascontiguousarray(values.T, dtype=dtype)


# The widest ratio of tangent magnitudes one difference takes (NOTE [Steps per component]).
_TANGENT_SPAN = 1e3


def _groups(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The tangent split by the decade of ``max(1, |x|)`` and, within one, into components
    within ``_TANGENT_SPAN`` of each other in size (NOTE [Steps per component]): one tuple per
    group, holding the tangent's components in it (None for a primal with none)."""
    decades = [np.floor(np.log10(_fd.scale(p))).astype(np.int64) for p in primals]
    sizes = [np.abs(np.asarray(t, dtype=np.float64)) for t in tangents]
    keys = sorted({int(k) for d, a in zip(decades, sizes) for k in np.unique(d[a != 0])})
    out = []
    for key in keys:
        top = max(float(np.max(a[d == key], initial=0.0)) for d, a in zip(decades, sizes))
        with np.errstate(divide="ignore"):
            spans = [np.floor((np.log10(top) - np.log10(a)) / np.log10(_TANGENT_SPAN)) for a in sizes]
        for span in sorted(
            {int(k) for d, a, sp in zip(decades, sizes, spans) for k in np.unique(sp[(d == key) & (a != 0)])}
        ):
            group = []
            for d, a, sp, t in zip(decades, sizes, spans, tangents):
                mask = (d == key) & (a != 0) & (sp == span)
                group.append(np.where(mask, t, np.zeros_like(t)) if mask.any() else None)
            out.append(tuple(group))
    return out
