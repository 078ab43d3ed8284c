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
and how much the derivative changes across the stencil itself), taking the largest scale of
its row of the Jacobian or the largest derivative size ``|R| + |S(h)| / h`` of its column.
So an entry near zero beside large ones is held to the size of its neighbours, and a
gradient at a minimum where ``f`` is near 0 too (a solver's last Newton step: 0 within
1e-14) is held to the curvature times the step, not to itself. The other outputs of a
column lend their derivatives, not their values: ``f(x) = [abs(x - c), 1e8]`` with ``c``
half a step from ``x`` gives ``-0.58`` for ``-1``, an error the constant ``1e8`` must not
hide. (Where a nested level's noise, one number for all outputs, enters the values, the
column's largest scale, values included, is used as for the row.) When the ratio exceeds
the tolerance of the dtype and order, the outermost level warns with :class:`multiad.AccuracyWarning` naming the call and
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
columns (NOTE [Columns at once]) and, where a few per-column maxima show every element far
below the tolerance, not estimating element by element at all (NOTE [Bound first]).

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

NOTE [Names of composed levels]: a level names the public call its messages start with from
``fun.call``, which the core's flat function carries. The outer level of a transform the core
composes (``hessian``, ``hvp``, ``vhp``: a Jacobian or gradient of the core's own function of
the primals) has no such name and takes that of the first named level nested in it. That level
reported its name only when it finished, so an error raised before (the refusal of a JAX custom
rule, NOTE [JAX custom rules under finite differences] in ``_rules.py``, where ``f`` returned a
JAX array, which the nested level's conversion refuses) started with "finite differences:".
A named nested level now gives its name to the unnamed levels around it as it starts (a context
variable holding their shared list), so every message starts with the call the user made. An
unnamed level nested too deep (NOTE [Nesting levels]) raises before any level is nested in it,
and names the call of the level evaluating it (``grad(f)`` for ``grad`` of ``hessian`` where
only first derivatives are allowed).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import operator
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

import multiad

from . import _rules

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
# Where a level whose function is the core's own learns the public call's name (NOTE [Names of
# composed levels]); None inside a level that has a name.
_names: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("multiad_numpy_names", default=None)
# The public call of the level evaluating f, for a nested level that has no name yet.
_enclosing: contextvars.ContextVar[str | None] = contextvars.ContextVar("multiad_numpy_enclosing", default=None)
_records: contextvars.ContextVar[list[Estimate] | None] = contextvars.ContextVar("multiad_numpy_records", default=None)

# One block of columns' estimate for Level.finish: per output, errors, scales and derivative sizes
# as (columns, size) arrays, or the function computing them (NOTE [Bound first]).
Estimates = tuple[list[Any], list[Any], list[Any]]
Block = Estimates | Callable[[], Estimates]


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


# NOTE [Floating-point state]: the estimate's arithmetic on small values underflows (eps times a
# value of f near 1e-300, a step squared), which is harmless and which numpy ignores by default;
# a program that sets np.seterr(all="raise") (optimisation libraries' test suites do) got
# FloatingPointError from multiad's own arithmetic instead of a derivative. The backend computes
# with underflow ignored (Level.arithmetic) and evaluates f with the caller's state (Level.deeper),
# so that f's own floating-point errors are reported as the caller asked.


class Level:
    """One finite-difference computation: checks the order, evaluates ``f`` one level deeper,
    and collects the errors nested levels report."""

    def __init__(self, backend: multiad.Backend, fun: Callable[..., Any], has_aux: bool, dtype: Any) -> None:
        self.backend, self.fun, self.has_aux, self.dtype = backend, fun, has_aux, np.dtype(dtype)
        # The public call, as the core's flat function names it (an outer level of a composed
        # transform, whose function is the core's own, takes its nested level's name: NOTE [Names
        # of composed levels]).
        self.call = str(getattr(fun, "call", None) or "finite differences")
        self.named = hasattr(fun, "call")
        self.depth = _depth.get()
        self.nested = self.depth > 0
        names = _names.get() if self.nested else None
        if not self.named:
            self.names: list[str] = names if names is not None else []
        elif names is not None and not names:
            names.append(self.call)
        if self.depth + 1 > _max_order.get():
            call = self.call if self.named else _enclosing.get() or self.call
            raise multiad.UnsupportedOperationError(
                f"{call}: the numpy backend would nest finite differences {self.depth + 1} deep "
                f"(a derivative of order {self.depth + 1}), beyond the {_max_order.get()} allowed; "
                "nested differences at this order are mostly rounding noise. Use an exact backend "
                "(torch, jax, autograd), or opt in with `with multiad_numpy.higher_order(k):`"
            )
        self.eps = float(np.finfo(self.dtype).eps)
        self.c = step_factor(self.dtype)
        # The caller's floating-point state, for f (NOTE [Floating-point state]).
        self.errstate = np.geterr()
        self.inner: list[tuple[float, int, int, str]] = []
        self.evaluations = 0
        # Elements whose stencil met a value of f that is nan or inf (NOTE [Values that are not finite]).
        self.nonfinite = 0
        self.inner_nonfinite: list[int] = []

    @contextlib.contextmanager
    def deeper(self) -> Iterator[None]:
        """The context ``f`` is evaluated in: one level deeper, reporting to this level, with the
        caller's floating-point state."""
        d_token, s_token = _depth.set(self.depth + 1), _sink.set(self.inner)
        n_token = _nonfinite_sink.set(self.inner_nonfinite)
        c_token = _names.set(None if self.named else self.names)
        e_token = _enclosing.set(self.public_call())
        try:
            with np.errstate(**self.errstate):
                yield
        finally:
            _depth.reset(d_token)
            _sink.reset(s_token)
            _nonfinite_sink.reset(n_token)
            _names.reset(c_token)
            _enclosing.reset(e_token)

    @staticmethod
    def arithmetic() -> Any:
        """The floating-point state of the backend's own arithmetic (NOTE [Floating-point state])."""
        return np.errstate(under="ignore")

    def __call__(self, xs: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any]:
        """``f`` at ``xs``, one level deeper: ``(outputs, aux)``."""
        with self.deeper():
            if self.evaluations or self.nested:
                res = self.fun(*xs)
            else:  # NOTE [JAX custom rules under finite differences] in _rules.py
                res = _rules.watched(self.public_call, lambda: self.fun(*xs))
        self.evaluations += 1
        outs, aux = res if self.has_aux else (res, None)
        if self.has_aux and self.evaluations == 1 and not self.nested:  # the aux given back
            aux = tuple(map(_writable, aux)) if isinstance(aux, tuple) else _writable(aux)
        return tuple(np.asarray(o) for o in outs), aux

    def public_call(self) -> str:
        """The call's name, that of a nested level where this level's function is the core's own
        (NOTE [Names of composed levels])."""
        return self.call if self.named or not self.names else self.names[0]

    def noise(self) -> float:
        """The absolute error nested levels reported for the values of ``f`` (0 if none)."""
        return max((e for e, _, _, _ in self.inner), default=0.0)

    def order(self) -> int:
        return 1 + max((k for _, k, _, _ in self.inner), default=0)

    def moves(self, dtype: Any) -> bool:
        """Whether values of ``f`` at points perturbed in ``dtype`` are moved to the nominal points
        (NOTE [Steps the input can hold]): for inputs coarser than the level's dtype."""
        return bool(np.issubdtype(dtype, np.inexact)) and float(np.finfo(dtype).eps) > self.eps

    def directional(
        self,
        primals: tuple[Any, ...],
        f0: tuple[Any, ...],
        v: tuple[Any, ...],
        h: float,
        along: tuple[Any, ...] | None = None,
    ) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
        """``J (v / h)`` per output, its estimated error, its scale and its derivative size
        (NOTE [Finite-difference error estimate]), each as a ``(1, size)`` array (one column);
        ``v`` is the perturbation per primal (None: not perturbed). With ``along`` (the tangent,
        ``v = h * along`` as the primals' dtypes hold it) the values of ``f`` are moved to the
        points ``x + k h along`` exactly (NOTE [Steps the input can hold])."""
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
            return values, [e + sl for e, sl in zip(errors, slack)], scales, derivs
        fp2, fm2 = at(2.0), at(-2.0)
        values, errors, scales, derivs, rounding = [], [], [], [], []
        for o, p1, m1, p2, m2 in zip(f0, fp1, fm1, fp2, fm2):
            value, t = difference(p1, m1, p2, m2, inv, h)
            scratch = np.empty((4, *value.shape), value.dtype)
            error, sc, rnd, dv = self.estimate(o, p1, m1, p2, m2, inv, value, t, fourth(o, p1, m1, p2, m2), scratch)
            self.nonfinite += _count_nonfinite(value, o)
            values.append(value)
            errors.append(error)
            scales.append(sc)
            derivs.append(dv)
            rounding.append(rnd)
        # held to its own scale or to the column's largest derivative size, as in finish
        column = max((float(np.max(dv, initial=0.0)) for dv in derivs), default=0.0)
        if any(np.any(e > self.tolerance() * np.maximum(sc, column)) for e, sc in zip(errors, scales)):
            # The bound d on D(h)'s error is above tolerance: estimate R's own error from R(2h).
            fp4, fm4 = at(4.0), at(-4.0)
            for i, (p2, m2, p4, m4) in enumerate(zip(fp2, fm2, fp4, fm4)):
                errors[i] = refined(errors[i], values[i], rounding[i], p2, m2, p4, m4, inv)
        return values, [e + sl for e, sl in zip(errors, slack)], scales, derivs

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
        call = functools.partial(self.fun, *head) if not tail else lambda x: self.fun(*head, x, *tail)
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
        errors, scales, derivs, rounding = [], [], [], []
        for o, (p1, m1, p2, m2, value, t, e), inv in zip([o.reshape(1, -1) for o in f0], works, invs):
            scratch = np.empty((4, *value.shape), value.dtype)  # one array: NOTE [One work array]
            error, sc, rnd, dv = self.estimate(o, p1, m1, p2, m2, inv, value, t, e, scratch)
            errors.append(error)
            scales.append(sc)
            derivs.append(dv)
            rounding.append(rnd)
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
        return errors, scales, derivs

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
        margin = 0.999 * self.tolerance() - 1.502 * self.eps / self.c
        lhs, derivative, least = 0.0, 0.0, np.inf
        for o, w, inv in zip(f0, works, invs):
            if not o.size:
                continue
            rows = w[4:]  # R, T and E
            value, t, e = np.maximum(rows.max(axis=2), -rows.min(axis=2)).astype(np.float64)  # largest |.| per column
            inv = inv[:, 0].astype(np.float64)
            lhs = np.maximum(lhs, t + 0.25 * e * inv)
            derivative = np.maximum(derivative, value)
            # the column's smallest |f(x)| / s: an element is held to its own value, not another output's
            least = np.minimum(least, 0.999 * float(np.abs(o).min()) * self.c * inv)
        low = np.maximum(derivative, least) if np.ndim(lhs) else derivative
        with np.errstate(invalid="ignore", over="ignore"):
            return bool(np.all(np.isfinite(low) & (lhs <= margin * low)))

    def estimate(
        self, o: Any, p1: Any, m1: Any, p2: Any, m2: Any, inv: Any, value: Any, t: Any, e: Any, scratch: Any
    ) -> tuple[Any, Any, Any, Any]:
        """One output's estimated error, scale, rounding term and derivative size ``|R| + |S(h)| / h``
        (NOTE [Finite-difference error estimate]) from ``f`` at ``x`` (``o``) and ``x +- h``,
        ``x +- 2h``, the result ``value``, ``t = (D(h) - D(2h)) / 3`` and ``e = S(2h) - 4 S(h)``,
        in ``t``, ``scratch[0]``, ``scratch[1]`` and ``scratch[2]`` (``scratch``: four arrays
        shaped as ``value``; ``e`` is overwritten)."""
        # The noise: eps |f| plus what nested levels reported, capped by the spread of the values.
        fmax, noise, spread = _spread((o, p1, m1, p2, m2), scratch[:3])
        np.multiply(fmax, self.eps, out=noise)
        if self.noise():
            noise += self.noise()
        np.minimum(noise, spread, out=noise)
        # The kink term: |S(2h) - 4 S(h)| where it is above KINK (|S(2h)| + 4 |S(h)|).
        jump = np.abs(e, out=e)
        bound = np.subtract(p2, 2 * o, out=spread)
        bound += m2
        np.abs(bound, out=bound)  # |S(2h)|
        s4 = np.abs(four_s1(o, p1, m1, out=scratch[3]), out=scratch[3])  # 4 |S(h)|
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
        scale = np.multiply(fmax, self.c * inv, out=fmax)
        scale += derivative
        if self.noise():  # one noise for every output, held to their largest values as well
            return error, scale, rounding, scale
        return error, scale, rounding, derivative

    def plain(self, f0: Any, fp: Any, fm: Any, hs: list[Any]) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
        """The nested level's plain difference per output, with its rounding noise as its error."""
        values, errors, scales, derivs = [], [], [], []
        for o, p, m, h in zip(f0, fp, fm, hs):
            value = np.subtract(p, m)
            value /= 2 * h
            self.nonfinite += _count_nonfinite(value, o)
            fmax, noise, spread = _spread((o, p, m), np.empty((3, *value.shape), value.dtype))
            np.multiply(fmax, self.eps, out=noise)
            if self.noise():
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

    def tolerance(self) -> float:
        """The relative error above which a result of this level's dtype and order warns."""
        return float(self.eps ** (0.5 if self.order() == 1 else 0.2))

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
# Elements of the float64 arrays of finish made at once.
_CHUNK = 1 << 13
# The most elements of the perturbed inputs made at once (NOTE [Columns at once]).
_BLOCK = 1 << 16
_first = operator.itemgetter(0)
_shape = operator.attrgetter("shape")
_zero_d = operator.methodcaller("reshape", ())


# NOTE [Arguments returned as aux]: ``f`` gets its arguments as read-only views (NOTE [Arguments f
# may not change] in ``__init__.py``), and an ``f`` that returned one of them, or a view of one,
# in ``aux`` (``return loss, (x, c)``) gave the caller that read-only view: ``aux[0] += 1`` raised
# numpy's "assignment destination is read-only" after the transform, where the other backends
# give back an array the caller can change (autograd the caller's own array, torch a tensor).
# The outermost level's aux, from the evaluation at the primals (the one given back), therefore
# has each read-only array leaf viewing a writable array replaced by a copy: the caller gets a
# writable array of the same values, and its own array stays out of reach (a writable view
# would reopen it). ``f`` itself still gets read-only views; an array the caller passed
# read-only stays read-only, and a nested level's aux (seen by the ``f`` of the level
# around it) is left as it is.
def _writable(leaf: Any) -> Any:
    """``leaf``, or a copy where it is a read-only view of a writable array (NOTE [Arguments
    returned as aux])."""
    if isinstance(leaf, np.ndarray) and not leaf.flags.writeable:
        base = leaf.base
        while isinstance(base, np.ndarray) and base.base is not None and not base.flags.writeable:
            base = base.base
        if isinstance(base, np.ndarray) and base.flags.writeable:
            return leaf.copy()
    return leaf


def read_only(arrays: tuple[Any, ...]) -> tuple[Any, ...]:
    """Read-only views of ``arrays`` (NOTE [Arguments f may not change] in ``__init__.py``)."""
    return tuple(map(read_only_view, arrays))


def read_only_view(a: Any) -> Any:
    """A read-only view of array ``a`` (NOTE [Arguments f may not change] in ``__init__.py``)."""
    v = np.asarray(a).view()
    v.flags.writeable = False
    return v


_HUGE = float(np.finfo(np.float64).max)


def _finite(a: Any) -> Any:
    """Non-negative ``a`` as a new float64 array, with nan as 0 and inf as the largest float
    (``nan_to_num`` without its masked copies, which are slow on large arrays)."""
    out = np.fmax(a, 0.0, dtype=np.float64)
    return np.fmin(out, _HUGE, out=out)


def _work_dtype(a: Any) -> Any:
    """The dtype the differences of ``f``'s values are taken in: theirs, at least float32."""
    return np.result_type(np.asarray(a).dtype, np.float32)


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


def dtype_of(leaves: tuple[Any, ...]) -> Any:
    return np.result_type(*[x.dtype for x in leaves]) if leaves else np.float64
