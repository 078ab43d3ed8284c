"""Central differences with an error estimate, nesting levels and the higher-order opt-in.

NOTE [Finite-difference error estimate]: a derivative along a perturbation ``v`` (a column
of the Jacobian, or a group of tangent components, see NOTE [Steps per component]) at the
outermost level evaluates ``f`` at ``x``, ``x +- v`` and ``x +- 2v``. With ``D(h)`` and
``D(2h)`` the central differences of the two step sizes, the result is the Richardson
extrapolation ``R = D(h) + (D(h) - D(2h)) / 3`` (truncation error ``O(h**4)``), and its
estimated error is the sum of

- truncation: ``|D(h) - D(2h)| / 3``, the error of ``D(h)``, bounds ``R``'s. Where that bound
  alone is above the tolerance, two more evaluations (``x +- 4v``) give ``R(2h)``, and
  ``|R(h) - R(2h)| / 15`` (``R``'s own error) is used when smaller. The extra pair is rare
  for smooth functions (at ``x = 0`` of ``x**2 + x**3`` the bound is ``h**2`` against a
  derivative of 0, while ``R`` is exact);
- a kink term ``|S(2h) - 4 S(h)| / 4h`` with ``S(h) = f(x+v) - 2 f(x) + f(x-v)``: half the
  jump of the derivative when a kink (``relu``, ``abs``, ``maximum``) lies within the
  stencil, counted when ``|S(2h) - 4 S(h)|`` is above 1% of ``|S(2h)| + 4 |S(h)|`` (about
  ``(h / L)**2`` for a function smooth on a length ``L``; 1/4 to 1 with a kink). It catches
  a kink exactly at ``x``, where ``D(h) = D(2h)`` and the truncation term sees nothing;
- rounding: ``1.5 n / h``, with ``n`` the noise of the values of ``f``: ``eps * |f|``, plus
  the error nested finite differences inside ``f`` recorded (NOTE [Nesting levels]), but no
  more than the spread of the values seen (a constant ``f`` has no noise to estimate).

It costs 4 evaluations per perturbation instead of 2 (6 where refined). A nested level (one
running inside another's evaluations of ``f``) uses the plain 2-point difference and
reports only its rounding noise: its truncation error is a smooth function of ``x`` that the
outer difference differentiates harmlessly, and a kink shows up in the outer level's kink
term.

Each element's estimate is compared with its scale: ``|R| + |f| |t| / s + |S(h)| / h`` (the
derivative's own size, the size a change of ``f`` over the input's scale ``s`` would give,
and how much the derivative changes across the stencil itself), taking the largest of its
row or its column of the Jacobian. So an entry near zero beside large ones is held to the
size of its neighbours, and a gradient at a minimum where ``f`` is near 0 too (a solver's
last Newton step: 0 within 1e-14) is held to the curvature times the step, not to itself. When the ratio exceeds the tolerance of the dtype and
order, the outermost level warns with :class:`multiad.AccuracyWarning` naming the call and
the estimated error. The tolerance is ``sqrt(eps)`` for first derivatives (``1.5e-8`` in
float64, ``3.5e-4`` in float32) and ``eps ** (1/5)`` for nested ones (``7.4e-4``, ``4.1e-2``):
nested differences at the default step carry a noise of about ``eps ** (1/3) |f| / s**2``, so
a second derivative small beside ``|f| / s**2`` is typically good to 1e-5 to 1e-4 relative,
and a tolerance nearer that would warn on ordinary Hessians. :func:`record_errors` hands the
estimates to the caller.

The estimate models ``f`` as smooth on the scale of the step or kinked within it. A function
that oscillates on a length much shorter than the step (``sin`` at ``x = 1e6``, where the
relative step is 6) can alias so that the two step sizes agree: such input needs an exact
backend, or a rescaled argument.

NOTE [Why four evaluations]: a plain central difference costs 2 evaluations per column; the
estimate above costs 4, and no cheaper estimate is safe. With the 3 values ``f(x)`` and
``f(x +- h)`` the data fit a parabola, so the central difference's truncation error (``h**2``
times the third derivative, over 6) is invisible: ``sin(50 x)`` at ``x = 0`` in float32 (step
5e-3) is 1% off while the one-sided and central differences agree exactly. The one-sided
difference is the free indicator: ``|S(h)| / 2h`` is exactly the central difference's error
for a kink within the stencil, but about ``h |f''| / 2`` for a smooth ``f``, so as a bound it
would warn on every curved function. A 4th value ``f(x + 2h)`` gives the third difference,
but a kink half a step from ``x`` (relu at ``x = -h / 2``) then leaves the two second
differences equal: the four values fit a parabola again, and the central difference is off by
a quarter of the kink's jump without a sign. The symmetric pair ``x +- 2h`` has no such blind
spot, so the estimate keeps it; the cost is cut instead by doing the arithmetic once for all
columns (NOTE [Columns at once]).

NOTE [Values that are not finite]: a stencil that leaves f's domain (``sqrt`` or ``log`` at 0:
``f(x - h)`` is nan) gives a nan derivative, and one across a pole (``1 / x`` at 0: ``f(x)`` is
inf, ``f(x +- h)`` finite) gives a finite, meaningless one (``1 / h**2``), while the error
estimate, made of the same values, is nan or is divided by an infinite scale and sees
nothing. So every element whose stencil met a value that is nan or inf counts, nested levels
report their counts to the level evaluating them, and the outermost level warns with
:class:`multiad.AccuracyWarning` if any did. The exact backends give the limit of the
derivative's formula there (``inf`` for ``sqrt`` at 0), the documented convention.

NOTE [Nesting levels]: nested finite differences lose accuracy fast: with steps ``h`` the
rounding noise of order ``k`` is about ``eps / h**k``. At the default step (``eps ** (1/3)``,
right for first and second order) a third derivative is noise (``grad`` three times of
``sin(x) * exp(x)`` at 0.7 gave 0.875 for 0.486). Each level therefore counts itself in a
context variable while it evaluates ``f`` (per thread and task), and a level that would make
the order exceed 2 raises UnsupportedOperationError. :func:`higher_order` opts in to order
``k``: inside it every step is ``eps ** (1 / (k + 2)) * s``, the step that balances
truncation and rounding at order ``k``, and results of order ``k`` carry their estimate and
warning like the others.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

import multiad

# How many finite-difference levels are evaluating f right now, and the largest order opted in to.
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("multiad_numpy_depth", default=0)
_max_order: contextvars.ContextVar[int] = contextvars.ContextVar("multiad_numpy_max_order", default=2)
# Where a nested level records (error, order, evaluations, call) for the level evaluating it.
_sink: contextvars.ContextVar[list[tuple[float, int, int, str]] | None] = contextvars.ContextVar(
    "multiad_numpy_sink", default=None
)


# Where a nested level reports how many of its elements met a value of f that is nan or inf.
_nonfinite_sink: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "multiad_numpy_nonfinite_sink", default=None
)
_records: contextvars.ContextVar[list[Estimate] | None] = contextvars.ContextVar("multiad_numpy_records", default=None)


class Estimate(NamedTuple):
    """The error estimate of one finite-difference result (see :func:`record_errors`)."""

    #: The call, as in messages: ``"grad(f)"``.
    call: str
    #: The largest estimated absolute error of an element of the result.
    error: float
    #: The largest ratio of an element's estimated error to its scale (NOTE [Finite-difference error estimate]).
    relative: float
    #: The tolerance ``relative`` was compared with.
    tolerance: float
    #: 1 for first derivatives, 2 for nested (second) ones, and so on.
    order: int
    #: How many times ``f`` was evaluated for the result, nested levels included.
    evaluations: int


@contextlib.contextmanager
def record_errors() -> Iterator[list[Estimate]]:
    """Collects the :class:`Estimate` of every finite-difference result computed in the block.

    One entry per outermost result (a nested level's error is part of its enclosing result's),
    in the current thread or asyncio task.

    Example:
        >>> import multiad, multiad.numpy as mnp, multiad_numpy, numpy as np
        >>> with multiad_numpy.record_errors() as records:
        ...     g = multiad.grad(lambda x: mnp.sum(mnp.sin(x)), backend="numpy")(np.ones(3))
        >>> [(r.call, r.order, r.evaluations, r.relative < r.tolerance) for r in records]
        [('grad(<lambda>)', 1, 13, True)]
    """
    records: list[Estimate] = []
    token = _records.set(records)
    try:
        yield records
    finally:
        _records.reset(token)


@contextlib.contextmanager
def higher_order(max_order: int) -> Iterator[None]:
    """Allows finite differences nested ``max_order`` deep inside the block (default: 2).

    Every step in the block is sized for that order (NOTE [Nesting levels]), so first
    derivatives computed inside it are somewhat less accurate than outside. The setting holds
    for the current thread or asyncio task only.

    Example:
        >>> import multiad, multiad.numpy as mnp, multiad_numpy, numpy as np
        >>> d = lambda f: multiad.grad(f, backend="numpy")
        >>> f = lambda x: mnp.sin(x) * mnp.exp(x)
        >>> with multiad_numpy.higher_order(3):
        ...     third = d(d(d(f)))(np.array(0.7))
        >>> round(float(third), 3)  # 2 exp(x) (cos(x) - sin(x))
        0.486
    """
    if not isinstance(max_order, int) or isinstance(max_order, bool) or not 1 <= max_order <= 6:
        raise multiad.InvalidArgumentError(
            f"higher_order({max_order!r}): max_order must be an int from 1 to 6; finite differences "
            "beyond that are noise in float64"
        )
    token = _max_order.set(max_order)
    try:
        yield
    finally:
        _max_order.reset(token)


def step_factor(dtype: Any) -> float:
    """``h / s``: the relative step for the order allowed in this context."""
    k = _max_order.get()
    return float(float(np.finfo(dtype).eps) ** (1.0 / (3.0 if k <= 2 else k + 2.0)))


def scale(x: Any) -> Any:
    """``max(1, |x|)`` per element, 1 where ``x`` is not finite (its column is NaN anyway)."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    return np.where(np.isfinite(a), np.maximum(a, 1.0), 1.0)


# |S(2h) - 4 S(h)| relative to |S(2h)| + 4 |S(h)|: about (h / L)**2 for a smooth function
# varying on a length L, between 1/4 and 1 with a kink in the stencil.
KINK = 0.01


class Level:
    """One finite-difference computation: checks the order, evaluates ``f`` one level deeper,
    and collects the errors nested levels report."""

    def __init__(self, backend: multiad.Backend, fun: Callable[..., Any], has_aux: bool, dtype: Any) -> None:
        self.backend, self.fun, self.has_aux, self.dtype = backend, fun, has_aux, np.dtype(dtype)
        # The public call, as the core's flat function names it (an outer level of a composed
        # transform, whose function is the core's own, takes its nested level's name).
        self.call = str(getattr(fun, "call", None) or "finite differences")
        self.named = hasattr(fun, "call")
        self.depth = _depth.get()
        self.nested = self.depth > 0
        if self.depth + 1 > _max_order.get():
            raise multiad.UnsupportedOperationError(
                f"{self.call}: the numpy backend would nest finite differences {self.depth + 1} deep "
                f"(a derivative of order {self.depth + 1}), beyond the {_max_order.get()} allowed; "
                "nested differences at this order are mostly rounding noise. Use an exact backend "
                "(torch, jax, autograd), or opt in with `with multiad_numpy.higher_order(k):`"
            )
        self.eps = float(np.finfo(self.dtype).eps)
        self.c = step_factor(self.dtype)
        self.inner: list[tuple[float, int, int, str]] = []
        self.evaluations = 0
        # Elements whose stencil met a value of f that is nan or inf (NOTE [Values that are not finite]).
        self.nonfinite = 0
        self.inner_nonfinite: list[int] = []

    def __call__(self, xs: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any]:
        ((outs, aux),) = self.evaluate_all([xs])
        return outs, aux

    def evaluate_all(self, inputs: Iterable[tuple[Any, ...]]) -> list[tuple[tuple[Any, ...], Any]]:
        """``f`` at each of ``inputs``, one level deeper, ``(outputs, aux)`` each; the context
        is entered once for all of them (NOTE [Columns at once])."""
        d_token, s_token = _depth.set(self.depth + 1), _sink.set(self.inner)
        n_token = _nonfinite_sink.set(self.inner_nonfinite)
        try:
            results = [self.fun(*xs) for xs in inputs]
        finally:
            _depth.reset(d_token)
            _sink.reset(s_token)
            _nonfinite_sink.reset(n_token)
        self.evaluations += len(results)
        split = results if self.has_aux else [(res, None) for res in results]
        return [(tuple(np.asarray(o) for o in outs), aux) for outs, aux in split]

    def noise(self) -> float:
        """The absolute error nested levels reported for the values of ``f`` (0 if none)."""
        return max((e for e, _, _, _ in self.inner), default=0.0)

    def order(self) -> int:
        return 1 + max((k for _, k, _, _ in self.inner), default=0)

    def directional(
        self, primals: tuple[Any, ...], f0: tuple[Any, ...], v: tuple[Any, ...], h: float
    ) -> tuple[list[Any], list[Any], list[Any]]:
        """``J (v / h)`` per output, its estimated error and its scale (NOTE [Finite-difference
        error estimate]); ``v`` is the perturbation per primal (None: not perturbed)."""

        def at(k: float) -> tuple[Any, ...]:
            xs = tuple(p if d is None else p + k * d for p, d in zip(primals, v))
            return self(xs)[0]

        fp1, fm1 = at(1.0), at(-1.0)
        if self.nested:  # the plain difference; its error is its rounding noise
            values = [(p - m) / (2 * h) for p, m in zip(fp1, fm1)]
            self.nonfinite += sum(_count_nonfinite(d, o) for d, o in zip(values, f0))
            fmax = [np.maximum.reduce([np.abs(o), np.abs(p), np.abs(m)]) for o, p, m in zip(f0, fp1, fm1)]
            errors = [self.rounding(f, [o, p, m]) / h for f, o, p, m in zip(fmax, f0, fp1, fm1)]
            return values, errors, [np.abs(d) + f * self.c / h for d, f in zip(values, fmax)]
        fp2, fm2 = at(2.0), at(-2.0)
        values, errors, scales, rounding = [], [], [], []
        for o, p1, m1, p2, m2 in zip(f0, fp1, fm1, fp2, fm2):
            fmax = np.maximum.reduce([np.abs(o), np.abs(p1), np.abs(m1), np.abs(p2), np.abs(m2)])
            d1, d2 = (p1 - m1) / (2 * h), (p2 - m2) / (4 * h)
            value = d1 + (d1 - d2) / 3
            s1, s2 = p1 - 2 * o + m1, p2 - 2 * o + m2
            jump = np.abs(s2 - 4 * s1)
            with np.errstate(divide="ignore", invalid="ignore"):
                kinked = jump > KINK * (np.abs(s2) + 4 * np.abs(s1))
            kink = jump / (4 * h) * kinked  # a product, not np.where: masked selection is slow
            rounding.append(kink + 1.5 * self.rounding(fmax, [o, p1, m1, p2, m2]) / h)
            self.nonfinite += _count_nonfinite(value, o)
            values.append(value)
            errors.append(np.abs(d1 - d2) / 3 + rounding[-1])
            # |S(h)| / h: how much the derivative changes across the stencil itself.
            scales.append(np.abs(value) + fmax * self.c / h + np.abs(s1) / h)
        tol = self.tolerance()
        column = max((float(np.max(s, initial=0.0)) for s in scales), default=0.0)
        if any(np.any(e > tol * column) for e in errors):
            # The bound d on D(h)'s error is above tolerance: estimate R's own error from R(2h).
            fp4, fm4 = at(4.0), at(-4.0)
            for i, (p2, m2, p4, m4) in enumerate(zip(fp2, fm2, fp4, fm4)):
                d2, d4 = (p2 - m2) / (4 * h), (p4 - m4) / (8 * h)
                r2 = d2 + (d2 - d4) / 3
                trunc = np.abs(values[i] - r2) / 15
                errors[i] = np.minimum(errors[i], trunc + rounding[i])
        return values, errors, scales

    def columns(
        self, primals: tuple[Any, ...], f0: tuple[Any, ...], j: int, steps: Any
    ) -> tuple[list[Any], list[Any], list[Any]]:
        """Every column of primal ``j`` at once: per output ``i`` the values, estimated errors
        and scales as ``(columns, outputs[i].size)`` arrays; column ``k`` perturbs element
        ``k`` by ``steps[k]``.

        NOTE [Columns at once]: the same stencil and estimate as :meth:`directional`, but ``f``
        is evaluated for every column first (each call on a fresh copy of the input, since
        ``f`` may keep or return its argument) and the differences, the error estimate and
        the refinement decision are then computed once on ``(columns, outputs)`` arrays: for
        small ``f`` the per-column numpy calls cost more than ``f`` itself. Only the columns
        whose bound is above tolerance get the extra pair of evaluations. Selections are
        written as products, not ``np.where``: masked selection is slow on large arrays."""
        p = primals[j]
        flat = p.reshape(-1)
        n = flat.size
        deltas = steps.astype(flat.dtype)  # the perturbation as the input's dtype holds it

        def at(mult: float, ks: Any) -> list[Any]:
            """``f`` at ``x + mult * steps[k] e_k`` for each ``k`` in ``ks``: per output ``(len(ks), size)``."""

            def inputs() -> Iterator[tuple[Any, ...]]:
                for k in ks:
                    xk = flat.copy()  # a fresh array per call: f may keep or return its argument
                    xk[k] = flat[k] + mult * deltas[k]
                    yield primals[:j] + (xk.reshape(p.shape),) + primals[j + 1 :]

            results = self.evaluate_all(inputs())
            return [
                np.stack([r[0][i].reshape(-1) for r in results]) if results else np.zeros((0, o.size), o.dtype)
                for i, o in enumerate(f0)
            ]

        every = range(n)
        flat0 = [o.reshape(1, -1) for o in f0]
        # The arithmetic in the outputs' dtype, as for one column (a float64 step would promote).
        hs = [steps.astype(np.result_type(o.dtype, np.float32))[:, None] for o in f0]
        fp1, fm1 = at(1.0, every), at(-1.0, every)
        if self.nested:  # the plain difference; its error is its rounding noise
            values = [(pp - m) / (2 * h) for pp, m, h in zip(fp1, fm1, hs)]
            self.nonfinite += sum(_count_nonfinite(d, o) for d, o in zip(values, flat0))
            fmax = [_amax(o, pp, m) for o, pp, m in zip(flat0, fp1, fm1)]
            errors = [self.rounding(f, [o, pp, m]) / h for f, o, pp, m, h in zip(fmax, flat0, fp1, fm1, hs)]
            return values, errors, [np.abs(d) + f * self.c / h for d, f, h in zip(values, fmax, hs)]
        fp2, fm2 = at(2.0, every), at(-2.0, every)
        values, errors, scales, rounding = [], [], [], []
        for o, p1, m1, p2, m2, h in zip(flat0, fp1, fm1, fp2, fm2, hs):
            # As in directional, with fewer passes over the (columns, outputs) arrays: one
            # sweep for the largest and smallest value (|f| and the spread from them), and
            # products with 1 / h (a column's value may differ in its last bit).
            inv = 1 / h
            hi, lo = o, o
            for v in (p1, m1, p2, m2):
                hi, lo = np.maximum(hi, v), np.minimum(lo, v)
            fmax = np.maximum(hi, -lo)
            d1, d2 = (p1 - m1) * (inv / 2), (p2 - m2) * (inv / 4)
            value = d1 + (d1 - d2) / 3
            s1, s2 = p1 - 2 * o + m1, p2 - 2 * o + m2
            a1 = np.abs(s1)
            jump = np.abs(s2 - 4 * s1)
            with np.errstate(divide="ignore", invalid="ignore"):
                kinked = jump > KINK * (np.abs(s2) + 4 * a1)
            noise = np.minimum(self.eps * fmax + self.noise(), hi - lo)  # as rounding()
            # kink term as a product, not np.where: masked selection is slow on large arrays
            rounding.append((jump * kinked * 0.25 + 1.5 * noise) * inv)
            self.nonfinite += _count_nonfinite(value, o)
            values.append(value)
            errors.append(np.abs(d1 - d2) / 3 + rounding[-1])
            scales.append(np.abs(value) + (fmax * self.c + a1) * inv)
        tol = self.tolerance()
        column = np.max(np.stack([sc.max(axis=1, initial=0.0) for sc in scales]), axis=0) if scales else np.zeros(n)
        doubtful = np.zeros(n, dtype=bool)
        for e in errors:
            doubtful |= np.any(e > tol * column[:, None], axis=1)
        ks = np.flatnonzero(doubtful)
        if ks.size:  # D(h)'s error bound is above tolerance there: R's own error from R(2h)
            fp4, fm4 = at(4.0, ks), at(-4.0, ks)
            for i, (p2, m2, p4, m4, h) in enumerate(zip(fp2, fm2, fp4, fm4, hs)):
                hk = h[ks]
                d2, d4 = (p2[ks] - m2[ks]) / (4 * hk), (p4 - m4) / (8 * hk)
                trunc = np.abs(values[i][ks] - (d2 + (d2 - d4) / 3)) / 15
                errors[i][ks] = np.minimum(errors[i][ks], trunc + rounding[i][ks])
        return values, errors, scales

    def rounding(self, fmax: Any, seen: list[Any]) -> Any:
        """The noise of ``f``'s values: ``eps |f|`` plus what nested levels reported, but never
        more than the values seen actually spread (a constant ``f`` has none)."""
        hi, lo = seen[0], seen[0]
        for v in seen[1:]:
            hi, lo = np.maximum(hi, v), np.minimum(lo, v)
        spread = hi - lo
        return np.minimum(self.eps * fmax + self.noise(), spread)

    def tolerance(self) -> float:
        """The relative error above which a result of this level's dtype and order warns."""
        return float(self.eps ** (0.5 if self.order() == 1 else 0.2))

    def finish(self, errors: list[list[Any]], scales: list[list[Any]]) -> None:
        """Records the error for an enclosing level, or warns if it is above the tolerance.

        ``errors[i]`` and ``scales[i]`` hold 2-D arrays ``(columns, size of output i)``, one row
        per column (or tangent group). An element's error is compared with the largest scale of its row or of
        its column, whichever is larger, so an entry near zero beside large ones is not held
        to a tolerance relative to itself."""
        errs = [_finite(_rows(e)) for e in errors if e]
        scs = [_rows(sc) for sc in scales if sc]
        worst, ratio, at = 0.0, 0.0, 0.0
        if errs and all(e.size for e in errs):
            cols = np.max(np.stack([sc.reshape(sc.shape[0], -1).max(axis=1, initial=0.0) for sc in scs]), axis=0)
            for e, sc in zip(errs, scs):
                e2 = e.reshape(e.shape[0], -1)
                scale = np.maximum(sc.reshape(e2.shape).max(axis=0, keepdims=True), cols[:, None])
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    r = _finite(e2 / np.maximum(scale, _TINY))  # 0 / 0 and nan: 0
                k = np.unravel_index(int(np.argmax(r)), r.shape)
                worst = max(worst, float(np.max(e2)))
                if float(r[k]) > ratio:
                    ratio, at = float(r[k]), float(e2[k])
        order = self.order()
        sink = _sink.get()
        evaluations = sum(n for _, _, n, _ in self.inner) if self.inner else self.evaluations
        if not self.named and self.inner:
            self.call = self.inner[0][3]
        nonfinite = self.nonfinite + sum(self.inner_nonfinite)
        if self.nested and sink is not None:
            sink.append((worst, order, evaluations, self.call))
            nf_sink = _nonfinite_sink.get()
            if nf_sink is not None:
                nf_sink.append(nonfinite)
            return
        tol = self.tolerance()
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
        elif ratio > tol:
            what = "derivative" if order == 1 else f"order-{order} derivative"
            self.backend.warn_accuracy(
                f"{self.call}: the numpy backend's finite-difference {what} has an estimated error of "
                f"{at:.2g} (relative {ratio:.2g}), above the {self.dtype.name} tolerance {tol:.2g}; "
                "f may not be smooth near the point (a kink such as relu, abs or maximum within a step "
                "of it) or may vary faster than the step resolves. Use an exact backend (torch, jax, "
                "autograd) where this matters"
            )


_TINY = float(np.finfo(np.float64).tiny)
_HUGE = float(np.finfo(np.float64).max)


def _finite(a: Any) -> Any:
    """Non-negative ``a`` with nan as 0 and inf as the largest float (``nan_to_num`` without
    its masked copies, which are slow on large arrays)."""
    return np.fmin(np.fmax(a, 0.0), _HUGE)


def _amax(*arrays: Any) -> Any:
    """The largest ``|a|`` elementwise (broadcasting), without stacking the arrays."""
    out = np.abs(arrays[0])
    for a in arrays[1:]:
        out = np.maximum(out, np.abs(a))
    return out


def _rows(parts: list[Any]) -> Any:
    """``parts``, 2-D arrays ``(columns, output size)``, as one float64 array."""
    return np.concatenate([np.asarray(a, np.float64) for a in parts], axis=0)


def _count_nonfinite(value: Any, f0: Any) -> int:
    """How many elements of a difference are not finite or were taken at an ``f(x)`` that is
    not (a value of ``f`` off ``x`` that is nan or inf makes the difference so)."""
    return int(np.count_nonzero(~(np.isfinite(value) & np.isfinite(f0))))


def dtype_of(leaves: tuple[Any, ...]) -> Any:
    return np.result_type(*[x.dtype for x in leaves]) if leaves else np.float64
