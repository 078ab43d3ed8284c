"""Central differences: the finite-difference :class:`Level`, its stencils along a direction and by columns, and their steps."""

from __future__ import annotations

import functools
import operator
from typing import Any

import numpy as np

import multiad

from ._estimate import SIGNIFICANT, Estimating, _count_nonfinite, difference, four_s1, fourth, lent, refined
from ._levels import Block, Estimates, _records, step_factor


def scale(x: Any) -> Any:
    """``max(1, |x|)`` per element, 1 where ``x`` is not finite (its column is NaN anyway)."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    return np.where(np.isfinite(a), np.maximum(a, 1.0), 1.0)


class Level(Estimating):
    """One finite-difference computation: checks the order, evaluates ``f`` one level deeper,
    and collects the errors nested levels report."""

    def directional(
        self,
        primals: tuple[Any, ...],
        f0: tuple[Any, ...],
        v: tuple[Any, ...],
        h: float,
        along: tuple[Any, ...] | None = None,
        wide: float = 1.0,
        zeros: list[Any] | None = None,
        truncated: bool = True,
    ) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
        """``J (v / h)`` per output, its estimated error, its scale and its derivative size
        (NOTE [Finite-difference error estimate]), each as a ``(1, size)`` array (one column);
        ``v`` is the perturbation per primal (None: not perturbed). With ``along`` (the tangent,
        ``v = h * along`` as the primals' dtypes hold it) the values of ``f`` are moved to the
        points ``x + k h along`` exactly (NOTE [Steps the input can hold]). ``wide``: how many
        times the default step ``h`` is (NOTE [Steps widened from the noise]); ``truncated``: whether
        the truncation nested levels leave counts (NOTE [Truncation a nested level leaves])."""
        moving = along is not None and any(d is not None and self.moves(p.dtype) for p, d in zip(primals, v))

        def evaluate(xs: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple(np.asarray(o, _work_dtype(o)).reshape(1, -1) for o in self(xs)[0])

        def at(k: float) -> tuple[Any, ...]:
            xs = tuple(p if d is None else p + k * d for p, d in zip(primals, v))
            fs = evaluate(xs)
            if not moving or along is None:
                return fs
            # the gap from the point taken to x + k h along, per component, in float64 (exact)
            gaps = [
                None if d is None else k * h * np.asarray(t, np.float64) - (x.astype(np.float64) - p.astype(np.float64))
                for p, d, x, t in zip(primals, v, xs, along)
            ]
            size = max((float(np.max(np.abs(g), initial=0.0)) for g in gaps if g is not None), default=0.0)
            if not size or not np.isfinite(size):
                return fs
            # J gap at the point taken, by a central difference along gap / size with the step of
            # the tangent's largest component
            eta = h * max(float(np.max(np.abs(t))) for t in along if t is not None)
            moved, off = [], 0.0
            for sign in (1.0, -1.0):
                step = [None if g is None else (sign * eta / size * g).astype(x.dtype) for x, g in zip(xs, gaps)]
                ys = tuple(x if d is None else x + d for x, d in zip(xs, step))
                moved.append(evaluate(ys))
                # how far these points are off theirs in turn: J gap is that much off, relatively
                for x, y, g in zip(xs, ys, gaps):
                    if g is not None:
                        miss = (y.astype(np.float64) - x.astype(np.float64)) - sign * eta / size * g
                        off = max(off, float(np.max(np.abs(miss), initial=0.0)) / eta)
            fp, fm = moved
            with np.errstate(invalid="ignore", over="ignore"):
                shifts = [(a - b) * np.asarray(size / (2 * eta), f.dtype) for f, a, b in zip(fs, fp, fm)]
                for i, shift in enumerate(shifts):  # NOTE [Steps the input can hold]
                    slack[i] = slack[i] + np.abs(shift) * (2 * off / (abs(k) * h))
                return tuple(f + shift for f, shift in zip(fs, shifts))

        inv = 1.0 / h
        f0 = tuple(np.asarray(o).reshape(1, -1) for o in f0)
        slack: list[Any] = [0.0] * len(f0)  # the error the moves to the nominal points may leave
        fp1, fm1 = at(1.0), at(-1.0)
        if self.nested:  # the plain difference; its error is its rounding noise
            values, errors, scales, derivs = self.plain(f0, fp1, fm1, [h] * len(f0))
            rounded = self.rounded_away(f0, fp1, fm1, values, [np.full((1, 1), inv)] * len(f0))
            if rounded is not None:  # NOTE [Values a nested level rounds away]: f one input's magnitude away along v
                self.hides(rounded, at(1.0 / self.c), f0)
            return values, [e + sl for e, sl in zip(errors, slack)], scales, derivs
        fp2, fm2 = at(2.0), at(-2.0)
        each = self.element_noise()
        values, errors, scales, derivs, rounding, quiets, owns = [], [], [], [], [], [], []
        truncation = self.along_nested(f0, primals, v) if truncated and along is not None else [None] * len(f0)
        for i, (o, p1, m1, p2, m2) in enumerate(zip(f0, fp1, fm1, fp2, fm2)):
            value, t = difference(p1, m1, p2, m2, inv, h)
            if truncation[i] is not None:  # |T| times its factor, before the estimate overwrites T
                truncation[i] = np.abs(t.astype(np.float64)) * truncation[i]
            scratch = np.empty((4, *value.shape), value.dtype)
            e = fourth(o, p1, m1, p2, m2)
            nested = None if each is None else each[i]
            zero = None if zeros is None else zeros[i]
            error, sc, rnd, dv, quiet, own = self.estimate(
                o, p1, m1, p2, m2, inv, value, t, e, scratch, nested, wide, zero
            )
            self.nonfinite += _count_nonfinite(value, o)
            values.append(value)
            errors.append(error)
            scales.append(sc)
            derivs.append(dv)
            rounding.append(rnd)
            quiets.append(quiet)
            owns.append(own)
        flat, hidden = self.flat(f0, quiets, owns, [np.full((1, 1), inv)] * len(f0), each is not None)
        if flat.size:  # NOTE [Values too coarse to change]: f one input's magnitude away along v
            for q, o, fk, (could, mask) in zip(quiets, f0, at(1.0 / (self.c * wide)), hidden):
                with np.errstate(invalid="ignore"):
                    moved = mask & (fk != o)
                q[...] = np.where(moved, could, q)
        if each is not None and wide == 1.0:  # NOTE [Steps widened from the noise]
            ratio = float(self.swamped(quiets, owns).max(initial=0.0))
            times = self.widening(ratio)[0]
            if times > 1.0:
                before = self.rounding
                v2 = tuple(None if d is None else d * np.asarray(times, d.dtype) for d in v)
                retry = self.directional(primals, f0, v2, h * times, along, times, zeros_at(values, quiets, times))
                if (
                    self.widened
                    and self.widened_ratio < ratio
                    and max(float(np.max(e, initial=0.0)) for e in retry[1])
                    < max(float(np.max(e + sl, initial=0.0)) for e, sl in zip(errors, slack))
                ):
                    return retry
                self.rounding = before
        elif each is not None:
            self.widened = bool(self.smooth(errors, quiets, owns).all())
            self.widened_ratio = float(self.swamped(quiets, owns).max(initial=0.0))
        self.noisy(quiets, owns, each is not None)
        # held to its own scale or to the column's largest derivative size, as in finish
        column = max((float(np.max(dv, initial=0.0)) for dv in derivs), default=0.0)
        if any(np.any(e > self.tolerance() * np.maximum(sc, column)) for e, sc in zip(errors, scales)):
            # The bound d on D(h)'s error is above tolerance: estimate R's own error from R(2h).
            fp4, fm4 = at(4.0), at(-4.0)
            for i, (p2, m2, p4, m4) in enumerate(zip(fp2, fm2, fp4, fm4)):
                errors[i] = refined(errors[i], values[i], rounding[i], p2, m2, p4, m4, inv)
        if self.inner and along is not None:  # NOTE [Kinks a nested level smooths]
            self.smoothed(primals, f0, along, h, (fp1, fm1), errors, scales, derivs)
        for i, trunc in enumerate(truncation):  # NOTE [Truncation a nested level leaves]
            if trunc is not None:
                errors[i] = np.fmax(errors[i], (rounding[i] + trunc).astype(errors[i].dtype))
        return values, [e + sl for e, sl in zip(errors, slack)], scales, derivs

    def smoothed(
        self,
        primals: tuple[Any, ...],
        f0: tuple[Any, ...],
        along: tuple[Any, ...],
        h: float,
        near: tuple[tuple[Any, ...], tuple[Any, ...]],
        errors: list[Any],
        scales: list[Any],
        derivs: list[Any],
    ) -> None:
        """Adds to ``errors`` (in place) the error of a kink that the nested levels' differences
        may have smoothed within this directional stencil's reach (``near``: ``f`` at ``x +- h
        along``), where a stencil moving every component by its nested step shows one (NOTE
        [Kinks a nested level smooths])."""
        reach = self.reach(primals, along, h)
        if not reach < _REACHED:
            return
        tol, nested = self.tolerance(), self.noise()
        column = max((float(np.max(dv, initial=0.0)) for dv in derivs), default=0.0)
        bounds, suspect = [], False
        for o, p1, m1, e, sc in zip(f0, *near, errors, scales):
            noise = np.maximum(np.maximum(np.abs(o), np.abs(p1)), np.abs(m1)) * self.eps + nested
            with np.errstate(invalid="ignore", over="ignore"):
                # |S(h)| above its noise over h reach: a smoothed kink's error (NOTE [Kinks a nested level smooths])
                bound = np.maximum(np.abs(four_s1(o, p1, m1)) / 4 - 2 * noise, 0.0) / (h * reach)
                suspect = suspect or bool(np.any(e + bound > tol * np.maximum(sc, column)))
            bounds.append(bound)
        if not suspect:
            return
        steps: list[Any] = []  # every moved component by its nested step, as a direction of length h: u_k = c s_k / h
        for p, t in zip(primals, along):
            if t is None:
                steps.append(None)
                continue
            c = max(self.c, step_factor(p.dtype))
            steps.append((np.sign(np.asarray(t, np.float64)) * (c * scale(p) / h)).astype(np.asarray(t).dtype))
        kept = self.rounding, self.nonfinite  # the check's noise and values judge nothing else
        moved = tuple(None if u is None else h * u for u in steps)
        _, checked, checked_scales, checked_derivs = self.directional(
            primals, f0, moved, h, tuple(steps), truncated=False
        )
        self.rounding, self.nonfinite = kept
        column = max((float(np.max(dv, initial=0.0)) for dv in checked_derivs), default=0.0)
        for i, (bound, e, sc) in enumerate(zip(bounds, checked, checked_scales)):
            with np.errstate(invalid="ignore", over="ignore"):
                kinked = ~(e <= tol * np.maximum(sc, column))  # nan: not shown smooth
            errors[i] = errors[i] + bound * kinked

    def rounded_away(
        self, f0: Any, fp: Any, fm: Any, values: list[Any], invs: list[Any]
    ) -> tuple[Any, list[Any]] | None:
        """A nested level's columns with an element whose values of ``f`` are equal and not 0 at
        ``x`` and ``x +- h`` where the noise ``0.5 eps |f(x)| / h`` is above the tolerance of its
        column's largest derivative, with per output where (a ``(columns, size)`` array, the
        columns' rows only), or None (NOTE [Values a nested level rounds away])."""
        tol = self.tolerance()
        column = np.max([np.abs(v).max(axis=1, initial=0.0) for v in values], axis=0).astype(np.float64)[:, None]
        masks = []
        for o, p, m, inv in zip(f0, fp, fm, invs):
            with np.errstate(invalid="ignore", over="ignore"):
                could = (0.5 * self.eps) * np.abs(np.asarray(o, np.float64).reshape(1, -1)) * inv
                masks.append((p == o) & (m == o) & (could > tol * column))
        rows = [mask.any(axis=1) for mask in masks if mask.size]
        ks = np.flatnonzero(np.any(rows, axis=0)) if rows else np.zeros(0, np.int64)
        return (ks, [mask[ks] for mask in masks]) if ks.size else None

    def hides(self, hidden: tuple[Any, list[Any]], far: Any, f0: Any) -> None:
        """Keeps the largest ratio of the noise ``0.5 eps |f(x)| / h`` of an element of
        :meth:`rounded_away` over a step ``h`` to the second derivative its change over one
        input's magnitude ``s`` shows, ``|f(x + s) - f(x)| / s**2`` (``far``: ``f(x + s)`` per
        output, the columns' rows), for ``h = c s``: ``0.5 eps |f(x)| / (c**2 |f(x + s) -
        f(x)|)`` (NOTE [Values a nested level rounds away])."""
        for fk, o, mask in zip(far, f0, hidden[1]):
            o64 = np.asarray(o, np.float64).reshape(1, -1)
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                change = np.abs(np.asarray(fk, np.float64).reshape(mask.shape[0], -1) - o64)
                ratio = (0.5 * self.eps / self.c**2) * np.abs(o64) / change
            ratio = np.where(mask & (change > 0) & np.isfinite(ratio), ratio, 0.0)
            self.hidden = max(self.hidden, float(ratio.max(initial=0.0)))

    def flat(
        self, f0: list[Any] | tuple[Any, ...], quiets: list[Any], owns: list[Any], invs: list[Any], each: bool = False
    ) -> tuple[Any, list[tuple[Any, Any]]]:
        """The columns with an element whose values of ``f`` did not change at all across the
        stencil where the noise ``eps |f(x)|`` could hide a derivative above the tolerance
        (NOTE [Values too coarse to change]), and per output that noise and where it could
        (``each``: nested noise element by element, :func:`lent`)."""
        column = lent(quiets, owns, each)
        tol = self.tolerance()
        hidden, rows = [], []
        for o, q, own, inv in zip(f0, quiets, owns, invs):
            could = (0.5 * self.eps) * np.abs(np.asarray(o, np.float64).reshape(1, -1)) * inv
            with np.errstate(invalid="ignore", over="ignore"):
                mask = (q == 0) & (could > tol * np.maximum(own, column))
            hidden.append((could, mask))
            rows.append(mask.any(axis=1))
        return (np.flatnonzero(np.any(rows, axis=0)) if rows else np.zeros(0, np.int64)), hidden

    def perturbed(
        self,
        primals: tuple[Any, ...],
        j: int,
        deltas: Any,
        mults: tuple[float, ...],
        ks: Any,
        f0: list[Any],
        spare: int = 0,
        steps: Any = None,
    ) -> list[Any]:
        """``f`` at ``x + mult * deltas[k] e_k`` (``e_k``: element ``k`` of primal ``j``) for
        each ``mult`` and each ``k`` in ``ks``: per output a ``(len(mults) + spare, len(ks),
        size)`` array in the dtype of ``f0``, ``f(x)`` per output, whose last ``spare`` rows
        are left for the caller's work. With ``steps`` (the nominal steps, ``mults`` in pairs
        ``m, -m``) the values are moved to the nominal points (NOTE [Steps the input can hold]).

        NOTE [One work array]: the values of ``f`` and the arrays the estimate starts from
        (NOTE [Bound first]) are rows of one array per output, written in place, rather than
        separate arrays of the Jacobian's size. Besides saving allocations this keeps memory
        mapped between calls: glibc's malloc gives the top of its heap back to the system once
        more than twice its largest recent block is free, and with several such arrays every
        call of a 32 -> 2048 float32 Jacobian page-faulted on all of them again (600 to 1,250
        faults, 0.4 to 1.5 ms of system time on a call of 2 ms); with one dominant array it
        faults on none."""
        p = primals[j]
        flat = p.reshape(-1)
        head, tail = primals[:j], primals[j + 1 :]
        if tail:
            call = lambda x: self.fun(*head, x, *tail)  # noqa: E731
        else:  # f itself where it takes the one primal: no wrapper per evaluation
            call = functools.partial(self.fun, *head) if head else self.fun
        rows = len(mults) * len(ks)
        where = np.concatenate([ks] * len(mults))  # the element each evaluation perturbs
        # x[k] + mult * delta[k], elementwise in the input's dtype as for one column
        moved = (flat[ks] + np.asarray(mults, flat.dtype)[:, None] * deltas[ks]).reshape(-1)
        per_block = max(1, _BLOCK // max(flat.size, 1))
        results: list[Any] = []
        with self.deeper():
            for start in range(0, rows, per_block):
                # One row per evaluation: every call gets its own array (f may keep or return it).
                xs = np.repeat(flat[None], min(per_block, rows - start), axis=0)
                xs[np.arange(len(xs)), where[start : start + len(xs)]] = moved[start : start + len(xs)]
                args = xs.reshape(-1, *p.shape) if p.ndim else map(_zero_d, xs)
                results.extend(map(call, args))
        self.evaluations += rows
        if self.has_aux:
            results = list(map(_first, results))
        outs = list(zip(*results)) if results else [() for _ in f0]
        if set(map(len, results)) - {len(f0)} or any(set(map(_shape, a)) - {o.shape} for a, o in zip(outs, f0)):
            at_x = tuple(o.shape for o in f0)
            seen = next(shapes for shapes in (tuple(map(_shape, r)) for r in results) if shapes != at_x)
            raise multiad.InvalidArgumentError(
                f"{self.public_call()}: f returned outputs of shapes {seen} at a perturbed point and {at_x} at x; "
                "the numpy backend differentiates functions whose outputs keep their shapes"
            )
        works = [np.empty((len(mults) + spare, len(ks), o.size), o.dtype) for o in f0]
        for a, o, work in zip(outs, f0, works):
            if not a or o.size == 0:  # an empty output: nothing to write (and no shape to reshape to)
                continue
            if o.ndim:  # written in place: the outputs joined along their first axis
                np.concatenate(a, out=work[: len(mults)].reshape(-1, *o.shape[1:]))
            else:
                work[: len(mults)] = np.array(a, dtype=o.dtype).reshape(len(mults), len(ks), 1)
        if steps is not None:  # NOTE [Steps the input can hold]
            taken = moved.reshape(len(mults), len(ks)).astype(np.float64) - flat[ks].astype(np.float64)
            for work, o in zip(works, f0):
                nominal = steps[ks].astype(o.dtype).astype(np.float64)
                at_x = o.reshape(1, -1)
                for r in range(0, len(mults), 2):
                    to_nominal(at_x, work[r], work[r + 1], taken[r], -taken[r + 1], mults[r] * nominal)
        return works

    def columns(self, primals: tuple[Any, ...], f0: tuple[Any, ...], j: int, steps: Any) -> tuple[list[Any], Block]:
        """Every column of primal ``j`` at once: per output ``i`` the values as a ``(columns,
        outputs[i].size)`` array, and the block's estimate for :meth:`finish`; column ``k``
        perturbs element ``k`` by ``steps[k]``.

        NOTE [Columns at once]: the same stencil and estimate as :meth:`directional`, but ``f``
        is evaluated for every column first (mapped over the rows of a block of perturbed
        copies of the input, so that each call has an array of its own, since ``f`` may keep or
        return its argument, and no Python runs per call) and the differences, the error
        estimate and the refinement decision are then computed once on ``(columns, outputs)``
        arrays: for small ``f`` the per-column numpy calls cost more than ``f`` itself. Only the
        columns whose bound is above tolerance get the extra pair of evaluations. Selections
        are written as products, not ``np.where``: masked selection is slow on large arrays."""
        n = primals[j].size
        deltas = steps.astype(primals[j].dtype)  # the perturbation as the input's dtype holds it
        every = np.arange(n)
        shaped = [np.asarray(o, _work_dtype(o)) for o in f0]
        flat0 = [o.reshape(1, -1) for o in shaped]
        # The arithmetic in the outputs' dtype, as for one column (a float64 step would promote).
        hs = [steps.astype(o.dtype)[:, None] for o in flat0]
        invs = [1 / h for h in hs]
        if not n:
            empty = [np.zeros((0, o.size), o.dtype) for o in flat0]
            return empty, (empty, empty, empty)
        nominal = steps if self.moves(primals[j].dtype) else None  # NOTE [Steps the input can hold]
        if self.nested:  # the plain difference; its error is its rounding noise
            fs = self.perturbed(primals, j, deltas, (1.0, -1.0), every, shaped, steps=nominal)
            values, errors, scales, derivs = self.plain(flat0, [f[0] for f in fs], [f[1] for f in fs], hs)
            rounded = self.rounded_away(flat0, [f[0] for f in fs], [f[1] for f in fs], values, invs)
            if rounded is not None:  # NOTE [Values a nested level rounds away]: f one input's magnitude away
                ks = rounded[0]
                p = primals[j].reshape(-1)[ks].astype(np.float64)
                far = np.zeros(n, primals[j].dtype)
                far[ks] = np.where(p >= 0, 1.0, -1.0) * scale(p)
                self.hides(rounded, [f[0] for f in self.perturbed(primals, j, far, (1.0,), ks, shaped)], flat0)
            return values, (errors, scales, derivs)
        # Per output: f at x + h, x - h, x + 2h, x - 2h, then R, T and E (NOTE [Bound first]).
        works = self.perturbed(primals, j, deltas, (1.0, -1.0, 2.0, -2.0), every, shaped, spare=3, steps=nominal)
        for o, (p1, m1, p2, m2, value, t, e), inv in zip(flat0, works, invs):
            fourth(o, p1, m1, p2, m2, out=(e, t))  # E; T's row holds 4 S(h) until T replaces it
            difference(p1, m1, p2, m2, inv, out=(value, t))
        values = [w[4] for w in works]
        full = functools.partial(self.full, primals, j, deltas, shaped, works, invs, nominal)
        if _records.get() is None and not self.noise() and self.bounded(flat0, works, invs):
            return values, full  # estimated only if another block of the level is not shown
        return values, full()

    def full(
        self,
        primals: tuple[Any, ...],
        j: int,
        deltas: Any,
        f0: list[Any],
        works: list[Any],
        invs: list[Any],
        nominal: Any = None,
    ) -> Estimates:
        """The estimate of the columns of :meth:`columns` element by element (``works`` as
        there), refined where a column's bound is above tolerance."""
        if not f0:
            return [], [], []
        each = self.element_noise()
        diagonal = self.diagonal(primals, j, f0)
        found = self.each_column([o.reshape(1, -1) for o in f0], works, invs, each, diagonal=diagonal)
        errors, scales, derivs, rounding, quiets, owns, truncation = found
        if each is not None:  # NOTE [Steps widened from the noise]
            deltas, invs, nominal = self.widen(primals, j, deltas, f0, works, invs, nominal, each, found, diagonal)
        ks, hidden = self.flat(f0, quiets, owns, invs, each is not None)
        if ks.size:  # NOTE [Values too coarse to change]: f one input's magnitude away
            p = primals[j].reshape(-1)[ks].astype(np.float64)
            far = np.zeros(primals[j].size, primals[j].dtype)
            far[ks] = np.where(p >= 0, 1.0, -1.0) * scale(p)
            fs = self.perturbed(primals, j, far, (1.0,), ks, f0)
            for q, o, fk, (could, mask) in zip(quiets, f0, fs, hidden):
                with np.errstate(invalid="ignore"):
                    moved = mask[ks] & (fk[0] != o.reshape(1, -1))
                q[ks] = np.where(moved, could[ks], q[ks])
        self.noisy(quiets, owns, each is not None)
        column = np.max([sc.max(axis=1, initial=0.0) for sc in scales], axis=0)
        if not np.isfinite(column).all():  # else every R and f(x) is finite: a scale is at least |R| and |S(h)| / h
            self.nonfinite += sum(_count_nonfinite(w[4], o.reshape(1, -1)) for w, o in zip(works, f0))
        # A column is doubtful where an error (nan ignored) is above tolerance, an element's error
        # held to its own scale or to the largest derivative size of its column (as in finish).
        column = np.max([dv.max(axis=1, initial=0.0) for dv in derivs], axis=0)[:, None]
        tol = self.tolerance()
        with np.errstate(invalid="ignore"):
            doubtful = [np.any(e > tol * np.maximum(sc, column), axis=1) for e, sc in zip(errors, scales)]
        ks = np.flatnonzero(np.any(doubtful, axis=0))
        if ks.size:  # D(h)'s error bound is above tolerance there: R's own error from R(2h)
            fs4 = self.perturbed(primals, j, deltas, (4.0, -4.0), ks, f0, steps=nominal)
            for i, (w, (p4, m4), inv) in enumerate(zip(works, fs4, invs)):
                errors[i][ks] = refined(errors[i][ks], w[4][ks], rounding[i][ks], w[2][ks], w[3][ks], p4, m4, inv[ks])
        for e, rnd, d, trunc in zip(errors, rounding, diagonal, truncation):
            if d is not None:  # NOTE [Truncation a nested level leaves]: refinement does not remove it
                at = d[0]
                floor = np.take_along_axis(rnd, at, axis=1).astype(np.float64) + trunc
                np.put_along_axis(e, at, np.fmax(np.take_along_axis(e, at, axis=1), floor.astype(e.dtype)), axis=1)
        return errors, scales, derivs

    def along_nested(self, f0: tuple[Any, ...], primals: tuple[Any, ...], v: tuple[Any, ...]) -> list[Any]:
        """Per output of ``f`` that is a nested Jacobian's block whose columns perturbed one of the
        primals (the same values), the factor from this level's ``|T|`` to the truncation the
        nested level left (NOTE [Truncation a nested level leaves]): per element, ``1 / rho**2``
        with ``rho`` the step ``v`` takes along the nested column's component over the nested
        step, at most 1, 0 where ``v`` does not move it; a ``(1, size)`` array, None elsewhere."""
        out: list[Any] = []
        for o, steps in zip(f0, self.nested_steps or [None] * len(f0)):
            factor = None
            for p, d in zip(primals, v):
                if d is None or not _perturbed(steps, p, o):
                    continue
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    rho = np.abs(np.asarray(d, np.float64).reshape(-1)) / np.asarray(steps[1], np.float64).reshape(-1)
                    factor = np.where(rho > 0, np.minimum(1.0, 1.0 / rho**2), 0.0)
                factor = np.tile(factor, o.size // p.size).reshape(1, -1)  # element a * n + k: component k
                break
            out.append(factor)
        return out

    def diagonal(self, primals: tuple[Any, ...], j: int, f0: list[Any]) -> list[tuple[Any, Any] | None]:
        """Per output of ``f`` that is a nested Jacobian's block whose columns perturbed the
        primal ``j`` (the same values), where each column ``k`` of this level finds the elements
        the nested level differenced along the same component: their positions, a ``(columns,
        rows)`` array, and the nested steps per column; None for other outputs (NOTE [Truncation
        a nested level leaves])."""
        p = primals[j]
        out: list[tuple[Any, Any] | None] = []
        for o, steps in zip(f0, self.nested_steps or [None] * len(f0)):
            if not _perturbed(steps, p, o):
                out.append(None)
                continue
            n, rows = p.size, o.size // p.size
            at = np.arange(n)[:, None] + n * np.arange(rows)[None, :]  # element a * n + k of column k
            out.append((at, np.asarray(steps[1], np.float64).reshape(-1)))
        return out

    def each_column(
        self,
        f0: list[Any],
        works: list[Any],
        invs: list[Any],
        each: list[Any] | None,
        wide: Any = 1.0,
        zeros: list[Any] | None = None,
        diagonal: list[tuple[Any, Any] | None] | None = None,
        cols: Any = None,
    ) -> tuple[list[Any], ...]:
        """Per output the errors, scales, derivative sizes, rounding terms, rounding noises and
        own sizes of :meth:`estimate` for the columns in ``works`` (``f0``: ``(1, size)`` arrays;
        ``zeros``: per output, the elements within noise of 0 at the default step), and the
        truncation the nested level left in the elements of :meth:`diagonal` (``cols``: which
        columns ``works`` holds, all by default), a ``(columns, rows)`` array or an empty one
        (NOTE [Truncation a nested level leaves])."""
        found: tuple[list[Any], ...] = ([], [], [], [], [], [], [])
        for i, (o, (p1, m1, p2, m2, value, t, e), inv) in enumerate(zip(f0, works, invs)):
            d = None if diagonal is None else diagonal[i]
            if d is None:
                found[6].append(np.zeros((value.shape[0], 0)))
            else:  # |T| times (nested step / this step)**2, before the estimate overwrites T
                at, steps = (d[0], d[1]) if cols is None else (d[0][cols], d[1][cols])
                ratio = (steps * inv[:, 0].astype(np.float64)) ** 2
                found[6].append(np.abs(np.take_along_axis(t, at, axis=1).astype(np.float64)) * ratio[:, None])
            scratch = np.empty((4, *value.shape), value.dtype)  # one array: NOTE [One work array]
            nested = None if each is None else each[i]
            zero = None if zeros is None else zeros[i]
            error, sc, rnd, dv, quiet, own = self.estimate(
                o, p1, m1, p2, m2, inv, value, t, e, scratch, nested, wide, zero
            )
            for into, part in zip(found, (error, sc, dv, rnd, quiet, own)):
                into.append(part)
        return found

    def smooth(self, errors: list[Any], quiets: list[Any], owns: list[Any]) -> Any:
        """Per column, whether the error of a wider step beyond its rounding noise (truncation, a
        kink within the wider stencil) is within the tolerance of its elements' own sizes (NOTE
        [Steps widened from the noise]): where it is not, the wider step is not kept."""
        column = lent(quiets, owns, True)
        tol = self.tolerance()
        ok = np.ones(column.shape[0], bool)
        for e, q, o in zip(errors, quiets, owns):
            with np.errstate(invalid="ignore", over="ignore"):
                ok &= np.all(e - _NOISY * q <= tol * np.maximum(o, column), axis=1)
        return ok

    def widening(self, ratios: Any) -> Any:
        """Per column, how many times to widen the step where its rounding noise swamps its
        elements (1 where it does not): a power of two (NOTE [Steps widened from the noise])."""
        goal = self.tolerance() / _MARGIN
        most = _widest(self.eps, self.c)
        r = np.asarray(ratios, np.float64)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            times = np.exp2(np.floor(np.log2(np.clip(2 * _MARGIN * r / goal, 1.0, most))))
        return np.where(r > goal, times, 1.0).reshape(-1)

    def widen(
        self,
        primals: tuple[Any, ...],
        j: int,
        deltas: Any,
        f0: list[Any],
        works: list[Any],
        invs: list[Any],
        nominal: Any,
        each: list[Any],
        found: tuple[list[Any], ...],
        diagonal: list[tuple[Any, Any] | None] | None = None,
    ) -> tuple[Any, list[Any], Any]:
        """Evaluates the columns whose nested noise swamps their elements again with a wider step,
        keeping the new values and estimates (in ``works`` and ``found``, in place) where their
        error is smaller; the steps, per output ``1 / h`` and nominal steps of every column then
        (NOTE [Steps widened from the noise])."""
        errors, _, _, _, quiets, owns, _ = found
        ratios = self.swamped(quiets, owns)
        wide = self.widening(ratios)
        ks = np.flatnonzero(wide > 1.0)
        if not ks.size:
            return deltas, invs, nominal
        deltas = deltas * wide.astype(deltas.dtype)  # powers of two: exact
        nominal = None if nominal is None else nominal * wide
        fs = self.perturbed(primals, j, deltas, (1.0, -1.0, 2.0, -2.0), ks, f0, spare=3, steps=nominal)
        times = wide[ks][:, None]
        invs2 = [inv[ks] / times.astype(inv.dtype) for inv in invs]
        flat0 = [o.reshape(1, -1) for o in f0]
        for o, (p1, m1, p2, m2, value, t, e), inv in zip(flat0, fs, invs2):
            fourth(o, p1, m1, p2, m2, out=(e, t))
            difference(p1, m1, p2, m2, inv, out=(value, t))
        zeros = zeros_at([w[4][ks] for w in works], [q[ks] for q in quiets], times)
        new = self.each_column(flat0, fs, invs2, each, times, zeros, diagonal, ks)
        # nan (the wider step left f's domain: log near 0) is never better
        old_error = np.max([e[ks].max(axis=1, initial=0.0) for e in errors], axis=0)
        new_error = np.max([e.max(axis=1, initial=0.0) for e in new[0]], axis=0)
        with np.errstate(invalid="ignore"):
            better = np.less(new_error, old_error) & self.smooth(new[0], new[4], new[5])
            better &= np.less(self.swamped(new[4], new[5]), ratios[ks])  # and its noise judged smaller
        kept, where = ks[better], np.flatnonzero(better)
        for i, w in enumerate(works):
            for row in (2, 3, 4):  # f at x +- 2h and R, for the refinement
                w[row][kept] = fs[i][row][where]
            for into, part in zip(found, new):
                into[i][kept] = part[i][where]
        undo = np.ones_like(wide)
        undo[ks[~better]] = wide[ks[~better]]
        deltas = deltas / undo.astype(deltas.dtype)
        nominal = None if nominal is None else nominal / undo
        kept_wide = wide / undo
        return deltas, [inv / kept_wide[:, None].astype(inv.dtype) for inv in invs], nominal

    def reach(self, primals: tuple[Any, ...], along: tuple[Any, ...], h: float) -> float:
        """The smallest step ``h |t_k|`` of a component the direction ``along`` moves, relative to
        the step a nested level takes along it, ``c s_k`` (NOTE [Kinks a nested level smooths])."""
        least = np.inf
        for p, t in zip(primals, along):
            moved = None if t is None else np.asarray(t) != 0
            if moved is not None and np.any(moved):
                c = max(self.c, step_factor(p.dtype))
                ratio = h * np.abs(np.asarray(t, np.float64)[moved]) / (c * scale(p)[moved])
                least = min(least, float(np.min(ratio)))
        return least


# NOTE [Steps widened from the noise]: the values an outer level differences are nested
# gradients, whose rounding noise (about ``eps |f| / h`` each, NOTE [Noise of each nested
# element] in _levels.py) does not shrink with the second derivative: beside a large first
# derivative it swamps it (``hessian(sum(1e6 x + x**2))`` was ``[5.99, 1.42]`` on the diagonal
# for ``[2, 2]``). Their truncation error is a smooth function of ``x``, and the outer stencil's
# own truncation is ``O(h**4)`` (Richardson), so the outer step can be much wider than the
# default ``eps ** (1/3) s`` at little cost in truncation: the noise falls as ``1 / h``. So a
# column where some element's noise is above a quarter of the tolerance of its own size
# (:meth:`Estimating.swamped`) is differenced again (4 more evaluations of the nested
# gradient) with its step times a power of two (exact in every dtype), about ``32 r / tol``
# times for a ratio ``r``, at most to ``eps ** (1/10) s`` (4096 times in float64, 32 in float32).
# The wider column is kept where its estimated error (truncation, kink and noise, as
# estimated for the wider step) is smaller, its error beyond what noise alone gives
# (``_NOISY`` times the typical noise) is within the tolerance of its elements' own sizes (a
# kink the wider stencil reaches: ``1e5 x + relu(x)**2`` at ``1e-3`` keeps the default step and
# warns), its noise ratio is smaller, and no value of it is nan (a wider step out of ``f``'s
# domain); the refinement (``x +- 4h``) and the noise check then use its step. ``1e6 x + x**2`` is then 6e-4 off (was 3) without a warning, and
# ``1e3 x + x**2`` 5e-5 (was 1e-3); ``1e8 x + x**2`` is still 2 % off and warns. A ``jvp`` of
# a gradient (``hvp``) widens its single direction the same way. Columns whose noise is below
# that cost nothing more: only a column whose elements the noise nearly swamps pays, and a
# smooth Hessian of a well-scaled ``f`` has none (a Hessian that is 0 at the point has one per
# zero column; its entries, the gradients' noise, fall with the step too).
_MARGIN = 4.0
# How many times its typical rounding noise an element's estimated error reaches from noise alone
# (the truncation and kink terms of values that are only noise): the rest is the wider step's own.
_NOISY = 16.0


def zeros_at(values: list[Any], quiets: list[Any], times: Any) -> list[Any]:
    """Per output, where an element is within noise of 0 (``|R|`` at most ``SIGNIFICANT``
    typical noises ``q``), the most noise a step ``times`` as wide may show, ``SIGNIFICANT q /
    times``; 0 elsewhere (NOTE [Zeros at both steps])."""
    out = []
    for v, q in zip(values, quiets):
        bound = np.multiply(q, SIGNIFICANT / np.asarray(times, np.float64)).astype(q.dtype, copy=False)
        with np.errstate(invalid="ignore"):
            out.append(np.where(np.abs(v) <= SIGNIFICANT * q, bound, 0))
    return out


def _perturbed(steps: Any, p: Any, o: Any) -> bool:
    """Whether ``steps`` (a nested result's primal and steps, or None) says its columns perturbed
    a primal of ``p``'s values, and the output ``o`` holds one element per component of it in
    each row (NOTE [Truncation a nested level leaves])."""
    if steps is None or not p.size or o.size % p.size or np.shape(steps[0]) != p.shape:
        return False
    with np.errstate(invalid="ignore"):
        return bool(np.array_equal(np.asarray(steps[0]), p, equal_nan=True))


def _widest(eps: float, c: float) -> float:
    """The most a step may be widened: to ``eps ** (1/10)`` of the input's scale, at least twice."""
    return max(2.0, float(eps**0.1) / c)


# NOTE [Kinks a nested level smooths]: a nested level's plain difference with step ``h_k = c s_k``
# along component ``k`` is the mean of the gradient over ``[x_k - h_k, x_k + h_k]``; across a kink of
# the gradient (``relu(x)**2``, a Huber loss) within ``h_k`` of ``x`` it is a parabola of curvature
# ``J / 2 h_k`` (``J`` the jump of the second derivative), whose slope at ``x`` is off by up to
# ``J / 2``. A Hessian's column steps by ``h_k`` itself, so its stencil (``x +- 2 h_k``) reaches past
# the parabola and the kink term sees it (NOTE [Finite-difference error estimate]). A ``jvp`` of a
# gradient (``hvp``, ``vhp``) steps along the tangent with one ``h`` sized by its largest component,
# so a component with ``rho_k = h |t_k| / h_k`` below 1 stays inside the parabola, which every test
# of the estimate takes for a smooth function: ``hvp`` of ``sum(relu(v)**2)`` at ``[6e-7, 0.5]``
# along ``[0.3, 0.6]`` (``rho = 0.5``) gave ``[0.33, 1.2]`` for ``[0.6, 1.2]`` without a warning,
# and a Huber loss one element 41% off. Along the tangent such a parabola has ``|S(h)| / h = J |t_k|
# rho_k / 2``, so ``(|S(h)| - 2 n) / (h rho)`` (``rho`` the smallest ``rho_k``, ``n`` the values'
# noise) bounds the error of a kink smoothed there. A smooth function's curvature gives the same
# bound, so only where it would take an element above the tolerance (``x**3`` at 0; a function of
# length ``L`` where ``rho < c s / (L tol)``: in float64 a tangent spanning 100 or more, in float32
# one spanning 10) is ``f`` differenced once more (4 more nested gradients) along the direction that
# moves every component ``k`` of the tangent by its nested step ``h_k``, which is how the Hessian's
# columns step: where that difference's estimate is within the tolerance, no kink is within a
# nested step and the bound is dropped; where it is not (or is nan), the bound is the element's
# error and the call warns, as ``hessian`` does at the same point. The check's rounding noise and
# non-finite values are its own and judge nothing else. Not covered: what the columns miss too (in
# float32 a kink at the edge of the nested step, within the tolerance of the row's scale).
# Reaches from this fraction of the nested step up are the columns' own (u_k rounds).
_REACHED = 0.99


# The most elements of the perturbed inputs made at once (NOTE [Columns at once]).
_BLOCK = 1 << 16
_first = operator.itemgetter(0)
_shape = operator.attrgetter("shape")
_zero_d = operator.methodcaller("reshape", ())


def _work_dtype(a: Any) -> Any:
    """The dtype the differences of ``f``'s values are taken in: theirs, at least float32."""
    return np.result_type(np.asarray(a).dtype, np.float32)


# NOTE [Values too coarse to change]: an element whose values of ``f`` are all equal at the five
# points of its stencil has no noise to estimate (the spread caps it, NOTE [Finite-difference
# error estimate]): right where ``f`` does not depend on the input, wrong where the change the
# step makes is below the rounding of ``|f|``, where every difference is exactly 0:
# ``grad(sum(x**2))`` at ``[1e6, 1]`` gave ``[2e6, 0]`` (``f`` is 1e12, its rounding 1e-4, the
# change 1e-5) without a warning. Where such an element's possible noise ``0.5 eps |f(x)| / h``
# is above the tolerance of its own size (NOTE [Rounding against the element's own size]),
# ``f`` is evaluated once more with the input moved by its own magnitude ``s`` (away from 0):
# if the value changes there, ``f`` depends on the input and the noise counts (the call warns);
# if not, the derivative 0 stands. One evaluation per such column, only where some output's
# values did not move at all (an input ``f`` ignores, a ``relu`` that is off) and ``f(x)`` is
# not 0. ``jvp`` does the same along its direction.

# NOTE [Values a nested level rounds away]: a nested level (the gradient inside a Hessian) reports
# its values' rounding noise capped by their spread (NOTE [Finite-difference error estimate] in
# _estimate.py), and it has no check of NOTE [Values too coarse to change]: an element whose values
# of ``f`` were all equal came back 0 with noise 0, so the outer level saw an exact 0 at every point
# of its stencil and nothing to judge. ``hessian(sum(x**3))`` at ``[1e4, 1e-2, 1]`` gave the
# diagonal ``[6e4, 0, 0]`` for ``[6e4, 0.06, 6]`` (``f`` is 1e12, its rounding 1e-4, the change a
# nested step makes at ``x = 1`` 2e-5), and ``hvp`` along ``e_2`` ``[0, 0, 0]``, without a warning,
# where ``grad`` at the same point warns. So a nested level checks such elements as a first
# derivative does (where ``0.5 eps |f(x)| / h`` is above the tolerance of its column's largest
# derivative, ``f`` is evaluated once more with the input moved by its own magnitude ``s``, away
# from 0; along ``v / c`` for a ``jvp``), and where ``f`` changes there, reports to the level
# evaluating it how large that noise is beside the second derivative the change shows: the noise
# over an outer step, ``0.5 eps |f| / (c s)**2``, against ``|f(x + s) - f(x)| / s**2``, a ratio
# ``0.5 eps |f| / (c**2 |f(x + s) - f(x)|)``. The outermost level warns where the largest such
# ratio is above its tolerance. The ratio, not the first-order rule alone, decides: ``10 +
# sum(x**3)`` at 0 rounds its nested gradients at ``x`` away too (``3 h**2`` beside ``eps 10``;
# ``grad`` warns there), but its Hessian is right (2.7e-6), the noise 3e-5 of the change 1 that a
# step of ``s`` makes. Cost: one evaluation of ``f`` per such column of a nested gradient (a
# ``relu`` off on both sides of a nested step, ``f`` not 0); none elsewhere.

# NOTE [Truncation a nested level leaves]: a nested level's plain central difference is ``g +
# h_k**2 d_k**3 f / 6`` (``h_k`` its step along component ``k``), and the level evaluating it
# differentiates that error along with ``g``: its refinement (NOTE [Finite-difference error
# estimate] in _estimate.py) removes its own truncation, not this one, ``h_k**2 d_j d_k**3 f / 6`` in
# element ``(k, j)`` of a Hessian, about ``(h_k / L)**2 / 6`` of it for an ``f`` varying on a length
# ``L``. That is 1e-11 for an ordinary ``f``, but ``hessian(sum(sin(3e4 x)))`` at ``[1, 1.3, 0.7]``
# (0.18 rad a step) came back 5.5e-3 off with an estimate of 5.4e-5 (the outer ``R`` is exact to
# ``(k h)**4``), and ``sin(1e6 x)`` at ``[1e-7, 2e-7, 3e-7]`` (6.06 rad a step, aliased to 0.22)
# 700 times too small with 5e-5, both without a warning, where ``grad`` there warns (its estimate,
# equally blind to the aliasing, is above the first-order tolerance). The level evaluating the
# nested gradients has that error in hand where it steps along the nested column's own component:
# for element ``(k, k)`` of its column ``k``, with step ``H = K h_k`` (``K = 1`` at the default step,
# a power of two where widened), ``T = (D(H) - D(2H)) / 3 = -H**2 d_k**4 f / 6``, ``K**2`` times
# the nested truncation (at ``K = 1`` the nested ``D(2h)`` at ``x`` is exactly the mean of the nested
# results at ``x +- h``). So such an element's error is at least ``|T| / K**2`` plus its rounding
# term, whatever the refinement found: the two estimate 5.4e-3 (true 5.5e-3) and 4.9e-3 and warn.
# A directional level (``hvp``, ``jvp`` of ``grad``: step ``h t``) takes ``|T_k| / rho_k**2`` for
# element ``k``, with ``rho_k = h |t_k| / h_k``, capped at ``|T_k|`` (a component the tangent moves
# by less than a nested step: its ``T`` is the other components') and 0 where ``t_k = 0``: exact
# for an ``f`` that is a sum of functions of one component each, a model elsewhere. Off the
# diagonal the refinement stands (the outer ``T`` there is another derivative); an ``f`` fast along
# an input is usually as far off on that input's diagonal, which warns. The nested level hands
# over which primal its columns perturbed and their steps with its values (``hand_over``; a nested
# ``jvp`` hands over none), matched to ``f``'s outputs by values as its noise is (NOTE [Noise of
# each nested element] in _levels.py), and no evaluation is added (78 Hessians and hvps of 39
# cases, and 240 of 15 smooth functions at random points, kept every count). Not covered: an element
# small beside its change across the stencil is held to that change, as every element is
# (``sin(3e4 x)`` at ``1e-7``, where ``H`` is 60 times smaller than ``h |g''|``: 5.5e-3 off,
# silent); a Hessian fast only off the diagonal (``sin(3e4 x_0) x_1`` at ``x_1 = 0``: ``H_01``
# 5.5e-3 off, silent); a step that is a whole number of periods (the values are constant).

# NOTE [Steps the input can hold]: the perturbed point x + h is rounded to the input's dtype,
# so the step taken differs from the h the difference divides by, by up to eps_in |x| / 2 (1e-5
# of a float32 step, 5e-3 of a float16 one). Where f's values are as coarse as the input (a
# float32 input alone) that mostly hides in their rounding noise, under the tolerance; but beside
# a float64 argument the values are float64, and grad of sum(a * c) with a float32 and c float64
# was off by 1e-5 relative in a's derivative while the estimate said 1e-10 and nothing warned.
# Dividing by the step taken is not enough: x + h and x - h round differently (near a power of
# two), and the uneven stencil puts f' (a - b) into S(h), a kink term for every linear f. So
# the values are moved to the nominal points instead, and the stencil, the estimate and the
# refinement run as for exact steps. For a column (one component moved) along the parabola
# through f(x - b), f(x), f(x + a), with the steps a, b taken (exact in float64): its error is
# the third derivative times h**2 times the gap, where moving by the secant slope alone left
# f'' (a - b) / 2 in D(h). For a jvp the points x + k h t, rounded per component, are not along
# t at all, so no scalar step fixes it: the gap g = x + k h t - fl(x + k h t) is a known vector
# and f(x + k h t) = f(y) + J(y) g to second order, with J(y) g taken by a central difference
# along g at the point y taken (2 more evaluations per stencil point that was rounded: 13
# rather than 5 for a jvp). Those points round too, which leaves J g off by about eps_in |x| /
# (c s) of itself (second order: 1e-10 of the result in float32, 5e-6 in float16); that,
# times the move, is added to the estimate. Only inputs coarser than the level's dtype (the
# primals' common one) are moved: where the input's dtype is the level's, the step's rounding
# is at most eps / 2c = eps ** (2/3) / 2 of the derivative (1.2e-5 in float32, 2e-11 in float64),
# below the tolerance sqrt(eps), and a call of one dtype keeps its values and its cost (a jvp
# would take 13 evaluations for 5). The gaps are exact (the difference of two float32 values
# is a float64), and moving a Jacobian's values costs a few passes over it.
# Not covered: f computing in the input's dtype before promoting (a**2 * c: a**2 in float32)
# has float32 noise in float64 values, where the estimate assumes float64's eps |f|.


def to_nominal(f0: Any, fp: Any, fm: Any, a: Any, b: Any, target: Any) -> None:
    """``f`` at ``x + a`` and ``x - b`` (``fp``, ``fm``: one row per column; ``f0``: ``f(x)``)
    moved in place to ``x +- target`` along the parabola through the three values (NOTE [Steps
    the input can hold]); ``a``, ``b`` and ``target`` are float64, one per column."""
    if not fp.size or (np.array_equal(a, target) and np.array_equal(b, target)):
        return
    dt = fp.dtype
    a, b, target = (np.asarray(z, np.float64)[:, None] for z in (a, b, target))
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        up = np.subtract(fp, f0)
        up *= (1 / a).astype(dt)  # the slope over [x, x + a]
        down = np.subtract(f0, fm)
        down *= (1 / b).astype(dt)  # and over [x - b, x]
        curve = np.subtract(up, down)
        curve *= (1 / (a + b)).astype(dt)  # the parabola's f'' / 2
        slope = np.subtract(up, curve * a.astype(dt), out=up)  # its f'(x)
        fp += slope * (target - a).astype(dt) + curve * ((target - a) * (target + a)).astype(dt)
        fm -= slope * (target - b).astype(dt) - curve * ((target - b) * (target + b)).astype(dt)
