"""The error estimate of finite differences (NOTE [Finite-difference error estimate]) and its accuracy warnings."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._levels import Block, Estimate, LevelBase, _hidden_sink, _nonfinite_sink, _records, _sink

# NOTE [Finite-difference error estimate]: a derivative along a perturbation ``v`` (a column
# of the Jacobian, or a group of tangent components, see NOTE [Steps per component]) at the
# outermost level evaluates ``f`` at ``x``, ``x +- v`` and ``x +- 2v``. With ``D(h)`` and
# ``D(2h)`` the central differences of the two step sizes, the result is the Richardson
# extrapolation ``R = D(h) + (D(h) - D(2h)) / 3`` (truncation error ``O(h**4)``), and its
# estimated error is the sum of
#
# - truncation: ``|D(h) - D(2h)| / 3``, the error of ``D(h)``, bounds ``R``'s. Where that bound
#   alone is above the tolerance, two more evaluations (``x +- 4v``) give ``R(2h)``, and
#   ``|R(h) - R(2h)| / 15`` (``R``'s own error) is used when smaller. The extra pair is rare
#   for smooth functions (at ``x = 0`` of ``x**2 + x**3`` the bound is ``h**2`` against a
#   derivative of 0, while ``R`` is exact);
# - a kink term ``|S(2h) - 4 S(h)| / 4h`` with ``S(h) = f(x+v) - 2 f(x) + f(x-v)``: half the
#   jump of the derivative when a kink (``relu``, ``abs``, ``maximum``) lies within the
#   stencil, counted when ``|S(2h) - 4 S(h)|`` is above 1% of ``|S(2h)| + 4 |S(h)|`` (about
#   ``(h / L)**2`` for a function smooth on a length ``L``; 1/4 to 1 with a kink). It catches
#   a kink exactly at ``x``, where ``D(h) = D(2h)`` and the truncation term sees nothing;
# - rounding: ``1.5 n / h``, with ``n`` the noise of the values of ``f``: ``eps * |f|``, plus
#   the error nested finite differences inside ``f`` recorded (NOTE [Nesting levels]), but no
#   more than the spread of the values seen (a constant ``f`` has no noise to estimate).
#
# It costs 4 evaluations per perturbation instead of 2 (6 where refined). A nested level (one
# running inside another's evaluations of ``f``) uses the plain 2-point difference and
# reports only its rounding noise: its truncation error is a smooth function of ``x`` that the
# outer difference differentiates along with the derivative, and the outer level, whose ``T``
# along the nested column's own component is that error, keeps it in its estimate (NOTE
# [Truncation a nested level leaves] in _fd.py); a kink shows up in the outer level's kink term.
#
# Each element's estimate is compared with its scale: ``|R| + |f| |t| / s + |S(h)| / h`` (the
# derivative's own size, the size a change of ``f`` over the input's scale ``s`` would give,
# and how much the derivative changes across the stencil itself), taking the largest scale of
# its row of the Jacobian or the largest derivative size ``|R| + |S(h)| / h`` of its column.
# So an entry near zero beside large ones is held to the size of its neighbours, and a
# gradient at a minimum where ``f`` is near 0 too (a solver's last Newton step: 0 within
# 1e-14) is held to the curvature times the step, not to itself. The other outputs of a
# column lend their derivatives, not their values: ``f(x) = [abs(x - c), 1e8]`` with ``c``
# half a step from ``x`` gives ``-0.58`` for ``-1``, an error the constant ``1e8`` must not
# hide. (Where a nested level's noise, one number for all outputs, enters the values, the
# column's largest scale, values included, is used as for the row.) When the ratio exceeds
# the tolerance of the dtype and order, the outermost level warns with :class:`multiad.AccuracyWarning` naming the call and
# the estimated error. The tolerance is ``sqrt(eps)`` for first derivatives (``1.5e-8`` in
# float64, ``3.5e-4`` in float32) and ``eps ** (1/5)`` for nested ones (``7.4e-4``, ``4.1e-2``):
# nested differences at the default step carry a noise of about ``eps ** (1/3) |f| / s**2``, so
# a second derivative small beside ``|f| / s**2`` is typically good to 1e-5 to 1e-4 relative,
# and a tolerance nearer that would warn on ordinary Hessians. :func:`record_errors` hands the
# estimates to the caller.
#
# That scale hides rounding noise where it matters most, so the noise is also judged on its own
# (NOTE [Rounding against the element's own size]).
#
# NOTE [Rounding against the element's own size]: the noise of a difference of ``f``'s values is
# about ``eps |f| / h`` for every element of a row, whatever its derivative, so the scale above,
# which includes ``|f| / s`` and the row's largest entries, let it swamp a small derivative
# beside a large input or term without a warning: ``grad(sum(x**2))`` at ``[1e8, 3]`` gave
# 64221 for 6, at float32 ``[300, 0.01]`` 0.0 for 0.02, and ``1e8 + 1e-3 sin(x)`` 2.3e-3 for
# 9.6e-4. So each element's rounding noise alone, at its typical size ``0.5 n / h`` (R's weights,
# ``sqrt(130) / 12``, times a value's rounding, about half of ``eps |f|``; this level's own values
# only, see below for a nested level's noise), is also held to the element's own size: ``|R|`` plus
# its curvature over the input's scale, ``(|S(h)| - 2 n) / (c h)`` (the curvature above ``S``'s
# own noise: noise alone must not make its own scale), plus the change of ``f`` across the
# stencil per step, ``(spread - 2 n) / 4h`` (``x**3`` at 0, flat and straight there), and at
# least ``c |f| / s`` (``eps ** (1/3)`` of the old scale: a Hessian that is 0 at the point, whose
# values are the nested gradients' noise alone, is held to that, while a first derivative's
# noise, ``0.5 eps / c**2`` of it, still warns), or the largest such size of its column
# (the other outputs' derivatives along the same input). Where a nested level's noise enters (a
# Hessian), it comes element by element where ``f``'s output is the nested result itself and is
# judged so too, with a floor only for elements within noise of 0, a wider step where it swamps
# a column, and the caveats of NOTE [Noise of each nested element] in _levels.py; where it is one
# worst-case number (an output computed from nested results), only this level's own values'
# noise is judged so, held to the block's largest size, and the nested noise stays judged by the
# scale above. The curvature term keeps a derivative
# that is 0 at the point (a minimum, ``cos`` at 0) held to how fast it changes over the input's
# magnitude, not to itself; the row's other entries lend nothing, since their size does not
# make this entry's noise smaller. Above the tolerance the call warns that rounding noise swamps
# the derivative. In float32 this warns where ``|f|`` is more than about 10 to 100 times the
# change an input makes to ``f`` over its own magnitude (``tanh(3 x)`` at 2: 7.4e-5 beside
# ``|f| = 0.7``, 2% off); a tighter noise model would have let such results pass silently.
#
# The estimate models ``f`` as smooth on the scale of the step or kinked within it. A function
# that oscillates on a length much shorter than the step (``sin`` at ``x = 1e6``, where the
# relative step is 6) can alias so that the two step sizes agree: such input needs an exact
# backend, or a rescaled argument. (A second derivative aliased so warns where the aliased
# function varies on a few steps: NOTE [Truncation a nested level leaves] in _fd.py.)
#
# NOTE [Why four evaluations]: a plain central difference costs 2 evaluations per column; the
# estimate above costs 4, and no cheaper estimate is safe. With the 3 values ``f(x)`` and
# ``f(x +- h)`` the data fit a parabola, so the central difference's truncation error (``h**2``
# times the third derivative, over 6) is invisible: ``sin(50 x)`` at ``x = 0`` in float32 (step
# 5e-3) is 1% off while the one-sided and central differences agree exactly. The one-sided
# difference is the free indicator: ``|S(h)| / 2h`` is exactly the central difference's error
# for a kink within the stencil, but about ``h |f''| / 2`` for a smooth ``f``, so as a bound it
# would warn on every curved function. A 4th value ``f(x + 2h)`` gives the third difference,
# but a kink half a step from ``x`` (relu at ``x = -h / 2``) then leaves the two second
# differences equal: the four values fit a parabola again, and the central difference is off by
# a quarter of the kink's jump without a sign. The symmetric pair ``x +- 2h`` has no such blind
# spot, so the estimate keeps it; the cost is cut instead by doing the arithmetic once for all
# columns (NOTE [Columns at once]) and, where a few per-column maxima show every element far
# below the tolerance, not estimating element by element at all (NOTE [Bound first]).
#
# NOTE [Values that are not finite]: a stencil that leaves f's domain (``sqrt`` or ``log`` at 0:
# ``f(x - h)`` is nan) gives a nan derivative, and one across a pole (``1 / x`` at 0: ``f(x)`` is
# inf, ``f(x +- h)`` finite) gives a finite, meaningless one (``1 / h**2``), while the error
# estimate, made of the same values, is nan or is divided by an infinite scale and sees
# nothing. So every element whose stencil met a value that is nan or inf counts, nested levels
# report their counts to the level evaluating them, and the outermost level warns with
# :class:`multiad.AccuracyWarning` if any did. The exact backends give the limit of the
# derivative's formula there (``inf`` for ``sqrt`` at 0), the documented convention.

# |S(2h) - 4 S(h)| relative to |S(2h)| + 4 |S(h)|: about (h / L)**2 for a smooth function
# varying on a length L, between 1/4 and 1 with a kink in the stencil.
KINK = 0.01
# An element whose own size is this many times its typical rounding noise is not a zero (NOTE
# [Noise of each nested element] in _levels.py).
SIGNIFICANT = 4.0
# E = S(2h) - 4 S(h) of values that are noise alone (a typical noise n each) is about 8.4 n, R's
# about 0.95 n / h: |E| / (SEEN h) is the noise R actually shows, beside the noise model's.
SEEN = 8.0
# T = (D(h) - D(2h)) / 3 of values that are noise alone is about 0.26 n / h, R's noise about
# 0.95 n / h: ODD |T| is a second sample of the noise R shows (NOTE [Noise of each nested element]).
ODD = 3.6


class Estimating(LevelBase):
    """A :class:`LevelBase` that estimates its differences' errors and warns (:class:`multiad_numpy._fd.Level`)."""

    def bounded(self, f0: list[Any], works: list[Any], invs: list[Any]) -> bool:
        """Whether every element's error is below the tolerance by the bound of NOTE [Bound first].

        NOTE [Bound first]: the estimate of NOTE [Finite-difference error estimate], element by
        element, costs about 25 passes over the Jacobian beyond the stencil's own, more than the
        stencil itself on a cheap ``f``. Most results are far below the tolerance, and that can
        be shown from per-column maxima of three arrays: ``R``, ``T = (D(h) - D(2h)) / 3`` and
        ``E = S(2h) - 4 S(h)`` (10 passes and two reductions). An element's error is at most
        ``|T| + |E| / 4h + 1.5 eps fmax / h`` (the kink mask and the spread cap only lower it;
        no nested noise is allowed here). Its own scale is at least ``|R|`` and at least
        ``fmax c / h = fmax / s``, so the third term is at most ``1.5 eps / c`` of it, and the
        scale it is compared with (its own, or the largest derivative size of its column) is at
        least ``max(max |R|, |f(x)| / s)``, the maximum over its column, the value its own
        (NOTE [Finite-difference error estimate]). So where every column has
        ``max |T| + max |E| / 4h <= (tol - 1.5 eps / c) max(max |R|, min |f(x)| / s)`` (with a
        margin for rounding), no ratio is above the tolerance and no column is refined: the call
        warns and evaluates ``f`` exactly as with the full estimate, which is then skipped. The
        bound uses the very ``T`` and ``E`` the full estimate would (the same arrays), and a
        value that is nan or inf fails it. Otherwise, and under :func:`record_errors` (which
        reports the estimate itself), the full estimate runs; a level with a block of columns
        not shown estimates them all (:meth:`finish`).
        """
        tol = self.tolerance()
        margin = 0.999 * tol - 1.502 * self.eps / self.c
        lhs: Any = None
        derivative: Any = 0.0
        least: Any = np.inf
        noise: Any = 0.0
        for o, w, inv in zip(f0, works, invs):
            if not o.size:
                continue
            # largest |.| per column of f at x + 2h and x - 2h, R, T and E: two reductions of the rows
            rows = w[2:7]
            big = np.maximum(rows.max(axis=2), np.negative(rows.min(axis=2))).astype(np.float64)
            far, value, t, e = np.maximum(big[0], big[1]), big[2], big[3], big[4]
            inv = inv[:, 0].astype(np.float64)
            term = t + 0.25 * e * inv
            # The largest |f| of the column's stencil, for its rounding noise against max |R| alone:
            # |f(x +- 2h)| from their rows, |f(x +- h)| bounded by p1 + m1 = (p2 + m2 + 6 f(x) - E) / 4
            # and p1 - m1 = 2h D(h), |D(h)| <= |R| + |T| (the rows of x +- 2h reduced, not all four).
            size = np.abs(o)
            at = float(size.max())
            near = (2 * far + 6 * at + e) / 8 + (value + t) / inv
            fmax = np.maximum(np.maximum(far, near), at)
            loud = 0.502 * self.eps * fmax * inv
            # the column's smallest |f(x)| / s: an element is held to its own value, not another output's
            low = 0.999 * float(size.min()) * self.c * inv
            if lhs is None:  # the first output's, as they are (every term is at least 0, or nan)
                lhs, derivative, noise, least = term, value, loud, low
            else:
                lhs = np.maximum(lhs, term)
                derivative = np.maximum(derivative, value)
                noise = np.maximum(noise, loud)
                least = np.minimum(least, low)
        if lhs is None:  # no output has elements
            return True
        low = np.maximum(derivative, least)
        with np.errstate(invalid="ignore", over="ignore"):
            quiet = noise <= 0.999 * tol * derivative  # NOTE [Rounding against the element's own size]
            return bool(np.all(np.isfinite(low) & (lhs <= margin * low) & quiet))

    def estimate(
        self,
        o: Any,
        p1: Any,
        m1: Any,
        p2: Any,
        m2: Any,
        inv: Any,
        value: Any,
        t: Any,
        e: Any,
        scratch: Any,
        nested: Any = None,
        wide: Any = 1.0,
        zero: Any = None,
    ) -> tuple[Any, Any, Any, Any, Any, Any]:
        """One output's estimated error, scale, rounding term and derivative size ``|R| + |S(h)| / h``
        (NOTE [Finite-difference error estimate]), and its rounding noise alone with the size it
        is held to (NOTE [Rounding against the element's own size]) from ``f`` at ``x`` (``o``) and ``x +- h``,
        ``x +- 2h``, the result ``value``, ``t = (D(h) - D(2h)) / 3`` and ``e = S(2h) - 4 S(h)``,
        in ``t``, ``scratch[0]``, ``scratch[1]`` and ``scratch[2]`` (``scratch``: four arrays
        shaped as ``value``; ``e`` is overwritten). ``nested``: the noise of each element of the
        values as nested levels reported it (NOTE [Noise of each nested element] in _levels.py), or
        None; ``wide``: how many times the default the step is (NOTE [Steps widened from the noise]
        in _fd.py), which the sizes measured against the input's scale divide out; ``zero``: at
        a wider step, per element within noise of 0 at the default step the most noise it may
        show here, 0 elsewhere (NOTE [Zeros at both steps] in _levels.py), or None."""
        # The noise: eps |f| plus what nested levels reported, capped by the spread of the values.
        fmax, noise, spread = _spread((o, p1, m1, p2, m2), scratch[:3])
        np.multiply(fmax, self.eps, out=noise)
        if nested is not None:
            noise += nested
        elif self.noise():
            noise += self.noise()
        np.minimum(noise, spread, out=noise)
        # R's typical rounding noise; where nested levels reported one noise for every element, only
        # this level's own values' (NOTE [Rounding against the element's own size])
        quiet = np.minimum(fmax * self.eps, spread) if self.noise() and nested is None else noise.copy()
        quiet *= 0.5 * inv
        # the change of f across the stencil above its noise, per step: the floor of the element's own size
        own = np.subtract(spread, 2 * noise)
        np.maximum(own, 0.0, out=own)
        own *= inv / 4
        if nested is not None:  # the noise seen: |E| / 8 per step (NOTE [Noise of each nested element])
            seen = np.abs(e)
            seen *= inv / SEEN
            np.maximum(seen, quiet, out=seen)
            np.maximum(seen, ODD * np.abs(t), out=seen)
        # The kink term: |S(2h) - 4 S(h)| where it is above KINK (|S(2h)| + 4 |S(h)|).
        jump = np.abs(e, out=e)
        bound = np.subtract(p2, 2 * o, out=spread)
        bound += m2
        np.abs(bound, out=bound)  # |S(2h)|
        s4 = np.abs(four_s1(o, p1, m1, out=scratch[3]), out=scratch[3])  # 4 |S(h)|
        # |R| plus the curvature above S(h)'s typical noise (2 n) times the input's scale h / c
        curve = np.subtract(s4, 8 * noise)
        np.maximum(curve, 0.0, out=curve)
        curve *= inv / (4 * self.c * wide)  # h = wide c s: per the input's scale s
        own += curve
        own += np.abs(value)
        # at least c |f| / s: noise below eps**(1/3) of that size is not the element's own (a zero Hessian);
        # with the nested noise element by element, only where the element is within noise of 0
        floor = np.multiply(fmax, self.c * self.c * inv * wide, out=curve)
        if nested is not None:  # NOTE [Noise of each nested element] in _levels.py
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                within = np.less_equal(np.abs(value), SIGNIFICANT * seen)
                if zero is not None:  # a zero at both steps: held to the noise it shows (NOTE [Zeros at both steps])
                    grow = np.divide(np.minimum(seen, zero), quiet, out=np.ones_like(seen), where=within & (quiet > 0))
                    np.maximum(grow, 1.0, out=grow)
                    floor *= grow
                floor *= within
        np.maximum(own, floor, out=own)
        bound += s4
        bound *= KINK
        with np.errstate(invalid="ignore"):
            jump *= np.greater(jump, bound, out=bound)  # a product, not np.where: masked selection is slow
        # rounding = (jump / 4 + 1.5 noise) / h; error = |T| + rounding
        noise *= 6
        noise += jump
        rounding = np.multiply(noise, inv / 4, out=noise)
        error = np.abs(t, out=t)
        error += rounding
        # derivative = |R| + |S(h)| / h; scale = derivative + fmax c / h
        derivative = np.multiply(s4, inv / 4, out=bound)
        derivative += np.abs(value, out=s4)
        scale = np.multiply(fmax, self.c * inv * wide, out=fmax)
        scale += derivative
        if self.noise():  # one noise for every output, held to their largest values as well
            return error, scale, rounding, scale, (quiet if nested is None else seen), own
        return error, scale, rounding, derivative, (quiet if nested is None else seen), own

    def noisy(self, quiets: list[Any], owns: list[Any], each: bool = False) -> None:
        """Keeps the largest ratio of an element's rounding noise ``quiets`` to its own size
        ``owns`` or its column's largest (NOTE [Rounding against the element's own size]); per
        output ``(columns, size)`` arrays. ``each``: nested levels' noise came element by element
        (NOTE [Noise of each nested element])."""
        for r, part in self.ratios(quiets, owns, each):
            k = np.unravel_index(int(np.argmax(r)), r.shape)
            if float(r[k]) > self.rounding[0]:
                self.rounding = (float(r[k]), float(part[k]))

    def swamped(self, quiets: list[Any], owns: list[Any]) -> Any:
        """Per column, the largest ratio of an element's rounding noise to its own size or its
        column's largest (as :meth:`noisy`, nested noise given element by element)."""
        worst = np.zeros(quiets[0].shape[0] if quiets else 0)
        for r, _ in self.ratios(quiets, owns, True):
            np.maximum(worst, r.max(axis=1), out=worst)
        return worst

    def ratios(self, quiets: list[Any], owns: list[Any], each: bool) -> list[tuple[Any, Any]]:
        """Per output with elements, the ratios of :meth:`noisy` and the noises, in float64."""
        if not quiets or not sum(q.size for q in quiets):
            return []
        column = lent(quiets, owns, each)
        if self.noise() and not each:  # one worst noise for all elements: held to the largest
            column = np.maximum(column, float(np.max(column, initial=0.0)))
        out = []
        for q, o in zip(quiets, owns):
            if not q.size:
                continue
            part = _finite(q)
            r = np.maximum(np.maximum(o, column, dtype=np.float64), _TINY)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                r = _finite(np.divide(part, r, out=r))
            out.append((r, part))
        return out

    def plain(self, f0: Any, fp: Any, fm: Any, hs: list[Any]) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
        """The nested level's plain difference per output, with its rounding noise as its error."""
        values, errors, scales, derivs = [], [], [], []
        each = self.element_noise()
        for i, (o, p, m, h) in enumerate(zip(f0, fp, fm, hs)):
            value = np.subtract(p, m)
            value /= 2 * h
            self.nonfinite += _count_nonfinite(value, o)
            fmax, noise, spread = _spread((o, p, m), np.empty((3, *value.shape), value.dtype))
            np.multiply(fmax, self.eps, out=noise)
            if each is not None:
                noise += each[i]
            elif self.noise():
                noise += self.noise()
            np.minimum(noise, spread, out=noise)
            values.append(value)
            errors.append(np.divide(noise, h, out=noise))
            derivative = np.abs(value, out=spread)
            scale = np.multiply(fmax, self.c, out=fmax)
            scale /= h
            scale += derivative
            scales.append(scale)
            derivs.append(derivative)
        return values, errors, scales, derivs

    def finish(self, blocks: list[Block]) -> None:
        """Records the error for an enclosing level, or warns if it is above the tolerance.

        ``blocks`` holds per block of columns (one primal's, or one ``jvp``'s) the errors,
        scales and derivative sizes of each output as 2-D arrays ``(columns, size of output
        i)``, or the function computing them where :meth:`bounded` showed them below the
        tolerance. An element's error is compared with the largest scale of its row or the
        largest derivative size of its column, whichever is larger, so an entry near zero beside
        large ones is not held to a tolerance relative to itself (NOTE [Finite-difference error
        estimate])."""
        worst, ratio, at = 0.0, 0.0, 0.0
        if not all(callable(b) for b in blocks) or _records.get() is not None or self.nested:
            shown = [b() if callable(b) else b for b in blocks]
            outputs = [
                ([b[0][i] for b in shown], [b[1][i] for b in shown], [b[2][i] for b in shown])
                for i in range(len(shown[0][0]) if shown else 0)
            ]
            outputs = [(es, scs, dvs) for es, scs, dvs in outputs if sum(e.size for e in es)]
            if outputs:  # the largest derivative of each column and scale of each output's rows, in float64
                cols = np.max([np.concatenate([dv.max(axis=1) for dv in dvs]) for _, _, dvs in outputs], axis=0)
                cols = cols.astype(np.float64)[:, None]
            for es, scs, _ in outputs:
                rows = np.max([sc.max(axis=0, initial=0.0) for sc in scs], axis=0).astype(np.float64)
                start = 0
                for e in es:  # in float64, a few columns at a time (NOTE [One work array])
                    step = max(1, _CHUNK // max(e.shape[1], 1))
                    for c in range(0, e.shape[0], step):
                        part = _finite(e[c : c + step])
                        r = np.maximum(rows, cols[start + c : start + c + len(part)])
                        np.maximum(r, _TINY, out=r)
                        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                            r = _finite(np.divide(part, r, out=r))  # 0 / 0 and nan: 0
                        k = np.unravel_index(int(np.argmax(r)), r.shape)
                        worst = max(worst, float(np.max(part)))
                        if float(r[k]) > ratio:
                            ratio, at = float(r[k]), float(part[k])
                    start += e.shape[0]
        order = self.order()
        sink = _sink.get()
        evaluations = sum(n for _, _, n, _ in self.inner) if self.inner else self.evaluations
        self.call = self.public_call()
        nonfinite = self.nonfinite + sum(self.inner_nonfinite)
        if self.nested and sink is not None:
            self.shown = [b[0] for b in shown]  # per block, each output's errors: its noise (_levels.hand_over)
            sink.append((worst, order, evaluations, self.call))
            nf_sink = _nonfinite_sink.get()
            if nf_sink is not None:
                nf_sink.append(nonfinite)
            h_sink = _hidden_sink.get()
            if h_sink is not None:
                h_sink.append(max(self.hidden, *self.inner_hidden, 0.0))
            return
        tol = self.tolerance()
        drowned = self.rounding[0] > max(ratio, tol)  # NOTE [Rounding against the element's own size]
        if self.rounding[0] > ratio:
            ratio, at = self.rounding
        hidden = max(self.inner_hidden, default=0.0)  # NOTE [Values a nested level rounds away] in _fd.py
        if hidden > max(ratio, tol):
            ratio, at = hidden, 0.0
        else:
            hidden = 0.0
        records = _records.get()
        if records is not None:
            records.append(Estimate(self.call, worst, ratio, tol, order, evaluations))
        if nonfinite:
            where = f"{self.nonfinite} element(s) of the result" if self.nonfinite else "a nested derivative"
            self.backend.warn_accuracy(
                f"{self.call}: f is nan or inf at x or within a finite-difference step of it, for "
                f"{where} (the edge of f's domain, such as sqrt or log at 0, or a pole): the numpy "
                "backend's derivative there is nan or meaningless. Exact backends give the limit of the "
                "derivative's formula (inf for sqrt at 0); use one (torch, jax, autograd) where this matters"
            )
        elif hidden:
            self.backend.warn_accuracy(
                f"{self.call}: the numpy backend's finite-difference order-{order} derivative differences "
                "nested derivatives some of whose elements came out exactly 0 because the change their step "
                "makes in f's values is below the rounding of f's value (f's value is large beside that "
                "derivative times the input's scale: another input much larger, a large term or offset), "
                "while f does depend on those inputs: the derivatives built from them may be 0 or wrong. Use "
                "an exact backend (torch, jax, autograd) where this matters"
            )
        elif drowned:
            what = "derivative" if order == 1 else f"order-{order} derivative"
            self.backend.warn_accuracy(
                f"{self.call}: the numpy backend's finite-difference {what} has an estimated error of "
                f"{at:.2g} (relative {ratio:.2g}), above the {self.dtype.name} tolerance {tol:.2g}: the "
                "rounding noise of f's values swamps the change the step makes in them (f's value is "
                "large beside this derivative times the input's scale: another input much larger, a large "
                "term or offset, or f's values are coarser than its inputs). Use an exact backend (torch, "
                "jax, autograd) where this matters"
            )
        elif ratio > tol:
            what = "derivative" if order == 1 else f"order-{order} derivative"
            self.backend.warn_accuracy(
                f"{self.call}: the numpy backend's finite-difference {what} has an estimated error of "
                f"{at:.2g} (relative {ratio:.2g}), above the {self.dtype.name} tolerance {tol:.2g}; "
                "f may not be smooth near the point (a kink such as relu, abs or maximum within a step "
                "of it) or may vary faster than the step resolves. Use an exact backend (torch, jax, "
                "autograd) where this matters"
            )


def lent(quiets: list[Any], owns: list[Any], each: bool) -> Any:
    """Per column, the largest own size of its elements, as a ``(columns, 1)`` float64 array; with
    nested noise element by element, of its elements that have noise (NOTE [Noise of each nested
    element] in _levels.py): an element without noise lends its floor to no other."""
    if each:
        owns = [o * (q > 0) for q, o in zip(quiets, owns)]
    return np.max([o.max(axis=1, initial=0.0) for o in owns], axis=0).astype(np.float64)[:, None]


_TINY = float(np.finfo(np.float64).tiny)
# Elements of the float64 arrays of finish made at once.
_CHUNK = 1 << 13
_HUGE = float(np.finfo(np.float64).max)


def _finite(a: Any) -> Any:
    """Non-negative ``a`` as a new float64 array, with nan as 0 and inf as the largest float
    (``nan_to_num`` without its masked copies, which are slow on large arrays)."""
    out = np.fmax(a, 0.0, dtype=np.float64)
    return np.fmin(out, _HUGE, out=out)


def difference(
    p1: Any, m1: Any, p2: Any, m2: Any, inv: Any, h: float | None = None, out: tuple[Any, Any] = (None, None)
) -> tuple[Any, Any]:
    """``R = D(h) + T`` and ``T = (D(h) - D(2h)) / 3`` from ``f`` at ``x +- h`` and ``x +- 2h``,
    ``inv = 1 / h``: two arrays (``out`` if given), five passes. With the step ``h`` given (one
    for all elements) the differences divide by it, as a single directional difference always has."""
    value = np.subtract(p1, m1, out=out[0])
    t = np.subtract(p2, m2, out=out[1])
    if h is None:
        value *= inv / 2  # D(h)
        t *= inv / 4  # D(2h)
    else:
        value /= 2 * h
        t /= 4 * h
    np.subtract(value, t, out=t)
    t /= 3
    value += t
    return value, t


def four_s1(o: Any, p1: Any, m1: Any, out: Any = None) -> Any:
    """``4 S(h)``, with ``S(h)`` summed as ``(f(x + v) - 2 f(x)) + f(x - v)`` (rounding at
    ``|f|``, not at ``2 |f|``)."""
    s4 = np.subtract(p1, 2 * o, out=out)
    s4 += m1
    s4 *= 4
    return s4


def fourth(o: Any, p1: Any, m1: Any, p2: Any, m2: Any, out: tuple[Any, Any] = (None, None)) -> Any:
    """``E = S(2h) - 4 S(h)`` (signed), into ``out[0]``, with ``out[1]`` (if given) for ``4 S(h)``."""
    e = np.subtract(p2, 2 * o, out=out[0])
    e += m2
    e -= four_s1(o, p1, m1, out=out[1])
    return e


def refined(error: Any, value: Any, rounding: Any, p2: Any, m2: Any, p4: Any, m4: Any, inv: Any) -> Any:
    """``error`` lowered to ``|R(h) - R(2h)| / 15`` plus the rounding term where that is smaller.

    Where ``f`` is nan or inf at ``x +- 4h`` (the wider pair left f's domain: ``log`` 3 steps
    from 0) ``R(2h)`` says nothing and ``error`` stays: ``fmin``, not ``minimum``, whose nan
    would count as no error at all."""
    r2, _ = difference(p2, m2, p4, m4, inv / 2)
    np.subtract(value, r2, out=r2)
    np.abs(r2, out=r2)
    r2 /= 15
    r2 += rounding
    return np.fmin(error, r2, out=r2)


def _spread(values: tuple[Any, ...], out: Any) -> tuple[Any, Any, Any]:
    """The largest ``|v|`` and the spread ``max v - min v`` of ``values`` elementwise
    (broadcasting), in ``out[0]`` and ``out[2]``; ``out[1]`` is left free."""
    hi, lo, spread = out
    np.maximum(values[0], values[1], out=hi)
    np.minimum(values[0], values[1], out=lo)
    for v in values[2:]:
        np.maximum(hi, v, out=hi)
        np.minimum(lo, v, out=lo)
    np.subtract(hi, lo, out=spread)
    return np.maximum(hi, np.negative(lo, out=lo), out=hi), lo, spread


def _count_nonfinite(value: Any, f0: Any) -> int:
    """How many elements of a difference are not finite or were taken at an ``f(x)`` that is
    not (a value of ``f`` off ``x`` that is nan or inf makes the difference so)."""
    return int(np.count_nonzero(~(np.isfinite(value) & np.isfinite(f0))))
