"""Finite-difference levels: their nesting (context variables), the order opt-in, the recorded estimates, f's arguments."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

import multiad

from . import _rules

# NOTE [Nesting levels]: nested finite differences lose accuracy fast: with steps ``h`` the
# rounding noise of order ``k`` is about ``eps / h**k``. At the default step (``eps ** (1/3)``,
# right for first and second order) a third derivative is noise (``grad`` three times of
# ``sin(x) * exp(x)`` at 0.7 gave 0.875 for 0.486). Each level therefore counts itself in a
# context variable while it evaluates ``f`` (per thread and task), and a level that would make
# the order exceed 2 raises UnsupportedOperationError. :func:`higher_order` opts in to order
# ``k``: inside it every step is ``eps ** (1 / (k + 2)) * s``, the step that balances
# truncation and rounding at order ``k``, and results of order ``k`` carry their estimate and
# warning like the others.
#
# NOTE [Levels counted, not orders]: the count is of finite-difference levels evaluating ``f`` at
# once, not of the order of a derivative: a transform called inside ``f`` on data that does not
# depend on ``f``'s arguments (a gradient of constant data, a fitted coefficient) is a level too,
# whose noise is that of a first derivative, yet a Hessian of such an ``f`` nests three levels.
# The levels cannot tell this (the inner one sees only its own arguments), so it is refused as
# well, and the message said "a derivative of order 3", untrue there. It now says what is
# counted, and how to avoid it: compute the constant outside ``f``.
#
# NOTE [Names of composed levels]: a level names the public call its messages start with from
# ``fun.call``, which the core's flat function carries. The outer level of a transform the core
# composes (``hessian``, ``hvp``, ``vhp``: a Jacobian or gradient of the core's own function of
# the primals) has no such name and takes that of the first named level nested in it. That level
# reported its name only when it finished, so an error raised before (the refusal of a JAX custom
# rule, NOTE [JAX custom rules under finite differences] in ``_rules.py``, where ``f`` returned a
# JAX array, which the nested level's conversion refuses) started with "finite differences:".
# A named nested level now gives its name to the unnamed levels around it as it starts (a context
# variable holding their shared list), so every message starts with the call the user made. An
# unnamed level nested too deep (NOTE [Nesting levels]) raises before any level is nested in it,
# and names the call of the level evaluating it (``grad(f)`` for ``grad`` of ``hessian`` where
# only first derivatives are allowed).

# NOTE [Noise of each nested element]: a nested level (the gradient inside a Hessian) knows the
# rounding noise of each element of its result, about ``eps |f| / h`` per element (its errors,
# NOTE [Finite-difference error estimate] in _estimate.py); it reported only the largest, one
# number the outer level added to the noise of every value it differences. That number could
# only be judged against the outer scale ``|g| / s`` (held to each element's own size it warned
# on Hessians that are 0 at the point, whose entries are that noise), which let it swamp a
# second derivative small beside a large first one without a warning: ``hessian(sum(1e6 x +
# x**2))`` at ``[1, 2]`` was ``[5.99, 1.42]`` on the diagonal for ``[2, 2]``. So a nested level
# also hands over its result's values with each element's noise (``hand_over``), while the
# level evaluating it evaluates ``f`` at the primals; that level takes, for each of ``f``'s
# outputs, the noise of the nested result holding exactly its values (``hessian``, ``hvp``,
# ``vhp`` and ``jacobian`` of ``jacobian``: ``f``'s output is the nested result itself). At the
# stencil's other points the noise is that at the primals times the growth of the largest noise
# reported there (``|f|`` barely moves over a step). An output that is not a nested result as
# it is (``3 * grad(f)(x)``, a sum of gradients) keeps the one worst-case number, judged as
# before. With the noise of each element, the outer level holds it to the element's own size,
# as a first derivative's (NOTE [Rounding against the element's own size]), and widens the
# step of a column it swamps (NOTE [Steps widened from the noise] in _fd.py). The floor of an
# element's own size, ``c |g| / s`` (a Hessian that is 0 at the point), then applies only to an
# element within noise of 0 (its value at most ``SIGNIFICANT = 4`` times its typical noise; its
# curvature and spread terms are not counted, as noise the model underrates inflates them;
# its typical noise is the largest of the model's and the noise its values show, ``|E| / 8h``
# with ``E = S(2h) - 4 S(h)`` and ``3.6 |T|`` with ``T = (D(h) - D(2h)) / 3`` (two samples of
# it: each alone is small by chance too often), for ``f``'s intermediates larger than ``|f|``
# make the gradients' noise larger than ``eps |f| / h``: ``x + sum(sum(-1.5))`` at
# ``[0.5, 0, 0]`` warned on its Hessian of 0; the wider step's check for a kink uses the same
# noise, and a zero at both steps is held to a floor raised by it, NOTE [Zeros at both steps])
# and is lent to no other element of its column: a second derivative of 2 measured as 2 +- 0.01
# is held to 2, not to a floor of 60 (``1e7 x + x**2``). Not told apart, then: a second
# derivative below ``c |g| / s`` whose noise at the widest step is still of its own size
# (``1e9 x + x**2`` in float64: 1.3 for 2, ``1e5 x + x**2`` in float32) looks exactly like a
# Hessian that is 0 at the point and passes as one.

# NOTE [Zeros at both steps]: the floor ``c |g| / s`` of an element within noise of 0 assumes its
# noise is the model's, ``eps |f| / h`` from the inner level; where ``f``'s intermediates are
# larger than ``|f|`` (a linear ``f`` whose weights sum to 0 beside constants of 10: its Hessian
# is exactly 0) the gradients are quantized at up to 30 times that, and the noise left at the
# widest step (4096 times the default in float64) was still above the tolerance of that floor:
# ``x + sum(sum(-1.5))`` warned "rounding noise swamps" (relative 8.3e-4 for the tolerance
# 7.4e-4, 8 of 129 random points). One sample of the noise at one step cannot tell that apart
# from a second derivative the noise hides; two steps can: an element within noise of 0 at the
# default step and again at the wider one (``K`` times as wide) whose noise there is what the
# default step's shrinks to (at most ``SIGNIFICANT`` times its noise there over ``K``), is held
# to the floor raised by the ratio of the noise it shows to the model's, which is as if ``|f|``
# were the intermediates' size. The cap by the default step's noise keeps a kink the wider
# stencil reaches (whose ``E`` is large at that step only) out of it: ``1e5 x + relu(x)**2``
# at ``1e-3`` still warns, and the raised floor would otherwise be lent to the kinked element
# of its column. Left as it was: where the model is right but ``|f|`` is many times ``s |g|``
# (``x + B (0.5 + sum(0.5))``: the noise at the widest step is ``|f| / (K s |g|)`` of the floor)
# a zero Hessian still warns; a larger floor for zeros at both steps removed those but made
# ``hvp`` of ``1e4 x + x**2`` in float32 (6 % off, within noise at both of its steps, 32 times
# apart) silent, and a false warning is the lesser defect.

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
# Where a nested level reports how far above its tolerance an element it rounded away entirely
# could be (NOTE [Values a nested level rounds away] in _fd.py).
_hidden_sink: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar(
    "multiad_numpy_hidden_sink", default=None
)
# Where a level whose function is the core's own learns the public call's name (NOTE [Names of
# composed levels]); None inside a level that has a name.
_names: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("multiad_numpy_names", default=None)
# The public call of the level evaluating f, for a nested level that has no name yet.
_enclosing: contextvars.ContextVar[str | None] = contextvars.ContextVar("multiad_numpy_enclosing", default=None)
_records: contextvars.ContextVar[list[Estimate] | None] = contextvars.ContextVar("multiad_numpy_records", default=None)
# Where a nested level hands over its result's values with each element's rounding noise and the
# steps it took (NOTE [Truncation a nested level leaves] in _fd.py), while the level evaluating it
# evaluates f at the primals (NOTE [Noise of each nested element]).
_elements: contextvars.ContextVar[list[tuple[Any, Any, Any]] | None] = contextvars.ContextVar(
    "multiad_numpy_elements", default=None
)

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


# NOTE [Values coarser than the inputs]: the step and the tolerance follow the inputs' dtype,
# but an ``f`` that returns values coarser than its inputs (``sum(sin(x.astype("float16")))`` of
# a float64 ``x``) rounds away a float64-sized step (6e-6 relative, below float16's 1e-3): every
# value of the stencil was the same, the derivative exactly 0 and the estimate too, without a
# warning, where exact backends give ``cos(x)``. After the first evaluation a level takes the
# eps, the step factor and the tolerance of the coarsest floating dtype among ``f``'s outputs
# where it is coarser than the inputs' (float16: steps of 0.1 ``s``, tolerance 3.1e-2), so the
# step resolves the values ``f`` can tell apart. Not covered: an ``f`` that rounds inside and
# returns a finer dtype (``astype`` back to float64) looks exactly like one that is constant
# across the step; the estimate sees only values.
def step_factor(dtype: Any) -> float:
    """``h / s``: the relative step for the order allowed in this context."""
    k = _max_order.get()
    return float(float(np.finfo(dtype).eps) ** (1.0 / (3.0 if k <= 2 else k + 2.0)))


# NOTE [Floating-point state]: the estimate's arithmetic on small values underflows (eps times a
# value of f near 1e-300, a step squared), which is harmless and which numpy ignores by default;
# a program that sets np.seterr(all="raise") (optimisation libraries' test suites do) got
# FloatingPointError from multiad's own arithmetic instead of a derivative. The backend computes
# with underflow ignored (Level.arithmetic) and evaluates f with the caller's state (Level.deeper),
# so that f's own floating-point errors are reported as the caller asked.


class LevelBase:
    """The nesting of one finite-difference computation (:class:`multiad_numpy._fd.Level`): checks
    the order, evaluates ``f`` one level deeper, and collects the errors nested levels report."""

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
            depth = self.depth + 1  # NOTE [Levels counted, not orders]
            raise multiad.UnsupportedOperationError(
                f"{call}: the numpy backend would nest finite differences {depth} deep, beyond the "
                f"{_max_order.get()} allowed: {depth} finite-difference transforms would run each inside the "
                f"function of the one around it, as for a derivative of order {depth}, and differences nested "
                "this deep are mostly rounding noise. Every transform called while f is evaluated counts, "
                "also one whose result does not depend on f's arguments (a gradient of constant data "
                "inside f): compute such a value once outside f and close over it. For a derivative of "
                f"order {depth}, use an exact backend (torch, jax, autograd), or opt in with "
                "`with multiad_numpy.higher_order(k):`"
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
        # The largest ratio of the noise that an element of this (nested) level's result rounded away
        # entirely could hide to its column's largest derivative, and what nested levels reported
        # (NOTE [Values a nested level rounds away] in _fd.py).
        self.hidden = 0.0
        self.inner_hidden: list[float] = []
        # The largest rounding noise relative to its element's size, and that noise (NOTE
        # [Rounding against the element's own size] in _estimate.py).
        self.rounding = (0.0, 0.0)
        # The nested results' values and noise handed over while f is evaluated at the primals, the
        # noise of each element of f's outputs found among them (None: not every output is one of
        # them), and the largest nested noise reported then (NOTE [Noise of each nested element]).
        self.collecting: list[tuple[Any, Any, Any]] | None = None
        self.nested_noise: list[Any] | None = None
        # Per output of f, the steps the nested result holding its values took, or None (NOTE
        # [Truncation a nested level leaves] in _fd.py).
        self.nested_steps: list[Any] = []
        self.noise_at_x = 0.0
        # Whether the last wider step of a directional difference was smooth enough to keep (NOTE
        # [Steps widened from the noise] in _fd.py).
        self.widened = False
        self.widened_ratio = 0.0
        # A nested level's errors per block and output, for hand_over.
        self.shown: list[list[Any]] = []

    def adopt(self, outs: tuple[Any, ...]) -> None:
        """Takes the eps, step factor and tolerance of ``f``'s values where they are coarser than
        the inputs (NOTE [Values coarser than the inputs])."""
        for o in outs:
            dt = np.asarray(o).dtype
            if np.issubdtype(dt, np.inexact) and float(np.finfo(dt).eps) > self.eps:
                self.dtype, self.eps = np.dtype(np.finfo(dt).dtype), float(np.finfo(dt).eps)
                self.c = step_factor(self.dtype)

    @contextlib.contextmanager
    def deeper(self) -> Iterator[None]:
        """The context ``f`` is evaluated in: one level deeper, reporting to this level, with the
        caller's floating-point state."""
        d_token, s_token = _depth.set(self.depth + 1), _sink.set(self.inner)
        n_token = _nonfinite_sink.set(self.inner_nonfinite)
        h_token = _hidden_sink.set(self.inner_hidden)
        c_token = _names.set(None if self.named else self.names)
        e_token = _enclosing.set(self.public_call())
        x_token = _elements.set(self.collecting)
        try:
            with np.errstate(**self.errstate):
                yield
        finally:
            _depth.reset(d_token)
            _sink.reset(s_token)
            _nonfinite_sink.reset(n_token)
            _hidden_sink.reset(h_token)
            _names.reset(c_token)
            _enclosing.reset(e_token)
            _elements.reset(x_token)

    @staticmethod
    def arithmetic() -> Any:
        """The floating-point state of the backend's own arithmetic (NOTE [Floating-point state])."""
        return np.errstate(under="ignore")

    def __call__(self, xs: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any]:
        """``f`` at ``xs``, one level deeper: ``(outputs, aux)``."""
        first = not self.evaluations
        if first:  # NOTE [Noise of each nested element]
            self.collecting = []
        try:
            with self.deeper():
                if self.evaluations or self.nested:
                    res = self.fun(*xs)
                else:  # NOTE [JAX custom rules under finite differences] in _rules.py
                    res = _rules.watched(self.public_call, lambda: self.fun(*xs))
        finally:
            handed, self.collecting = self.collecting, None
        self.evaluations += 1
        outs, aux = res if self.has_aux else (res, None)
        if self.has_aux and self.evaluations == 1 and not self.nested:  # the aux given back
            aux = tuple(map(_writable, aux)) if isinstance(aux, tuple) else _writable(aux)
        arrays = tuple(np.asarray(o) for o in outs)
        if first and handed:
            self.noise_at_x = self.noise()
            self.nested_noise = _matched(arrays, handed)
            self.nested_steps = _steps_of(arrays, handed)
        return arrays, aux

    def hand_over(self, results: list[tuple[Any, Any, Any]]) -> None:
        """Hands each ``(values, noise, steps)`` of this level's result to the level evaluating it,
        where that one is evaluating f at its primals (NOTE [Noise of each nested element]);
        ``steps``: the primal its columns perturbed and their steps, or None (NOTE [Truncation a
        nested level leaves] in _fd.py)."""
        sink = _elements.get()
        if sink is not None and self.nested:
            sink.extend(results)

    def element_noise(self) -> list[Any] | None:
        """Per output of ``f``, the rounding noise of each element as nested levels reported it,
        a ``(1, size)`` float64 array, or None where some output is not a nested result or no
        nested level reported noise (NOTE [Noise of each nested element])."""
        if self.nested_noise is None or not self.noise():
            return None
        if not self.noise_at_x:
            return None
        grow = max(1.0, self.noise() / self.noise_at_x)
        return [n * grow for n in self.nested_noise]

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

    def tolerance(self) -> float:
        """The relative error above which a result of this level's dtype and order warns."""
        return float(self.eps ** (0.5 if self.order() == 1 else 0.2))


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


def _matched(outs: tuple[Any, ...], handed: list[tuple[Any, Any, Any]]) -> list[Any] | None:
    """Per output, the noise of the nested result whose values it holds exactly, as a ``(1,
    size)`` float64 array (the largest where several match), or None if some output matches
    none (NOTE [Noise of each nested element])."""
    found = []
    for o in outs:
        flat = o.reshape(-1)
        noise = None
        for values, n, _ in handed:
            if _holds(flat, values):  # flat: results of one size may differ in shape, (1, 2) and (2, 1)
                n = np.asarray(n, np.float64).reshape(-1)
                noise = n if noise is None else np.maximum(noise, n)
        if noise is None:
            if flat.size:
                return None
            noise = np.zeros(0)
        found.append(np.asarray(noise, np.float64).reshape(1, -1))
    return found


def _holds(flat: Any, values: Any) -> bool:
    """Whether the flat output ``flat`` holds exactly the nested result ``values``."""
    return bool(values.size == flat.size and np.array_equal(values.reshape(-1).astype(flat.dtype, copy=False), flat))


def _steps_of(outs: tuple[Any, ...], handed: list[tuple[Any, Any, Any]]) -> list[Any]:
    """Per output, the ``(primal, steps)`` of the nested result whose values it holds exactly,
    where it is one result of columns (a Jacobian's block), else None (NOTE [Truncation a nested
    level leaves] in _fd.py)."""
    found = []
    for o in outs:
        flat = o.reshape(-1)
        steps = [s for values, _, s in handed if s is not None and _holds(flat, values)]
        found.append(steps[0] if len(steps) == 1 else None)
    return found


def read_only(arrays: tuple[Any, ...]) -> tuple[Any, ...]:
    """Read-only views of ``arrays`` (NOTE [Arguments f may not change] in ``__init__.py``)."""
    return tuple(map(read_only_view, arrays))


def read_only_view(a: Any) -> Any:
    """A read-only view of array ``a`` (NOTE [Arguments f may not change] in ``__init__.py``)."""
    v = np.asarray(a).view()
    v.flags.writeable = False
    return v


def dtype_of(leaves: tuple[Any, ...]) -> Any:
    return np.result_type(*[x.dtype for x in leaves]) if leaves else np.float64
