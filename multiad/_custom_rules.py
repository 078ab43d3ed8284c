"""The flat form of a custom rule that a backend turns into its framework's own mechanism.

NOTE [Custom rules at the flat level]: a call of a ``custom_vjp``/``custom_jvp`` function builds
one rule object per call. It sees the differentiated arguments as a flat tuple of arrays of
one backend, as every backend primitive does, and keeps aside everything else: the arguments
named in ``nondiff_argnums``, the pytree structures of arguments, outputs and residuals, and
the residual leaves that are not arrays. A backend therefore only ever handles arrays:

- ``rule.fun(*xs) -> outs``: the primal function, a tuple of output arrays;
- ``rule.fwd(*xs) -> (outs, residuals)`` and ``rule.bwd(residuals, cts) -> grads``, for
  ``custom_vjp``: ``residuals`` is a tuple of arrays, ``grads`` has one entry per ``xs``
  (``None`` for a zero cotangent);
- ``rule.jvp(xs, ts) -> (outs, tangent_outs)``, for ``custom_jvp``.

The user's functions are called with the original pytrees; what they return is checked
against the structures they must have, with errors that name the custom function.

NOTE [Rules run under their backend]: a backend calls ``bwd`` (and, on torch, ``fwd`` again and
the transpose of ``jvp``) in the framework's backward pass, which runs when the user calls a
pullback, after the transform that recorded the rule has returned, with whatever selection is
in force there. Each of the user's functions therefore runs with the rule's backend as the
context's backend (NOTE [Selection precedence]), as ``f`` does inside the transform: a rule's
``multiad.get_backend()`` and its multiad.numpy calls on numbers or numpy arrays resolve to the
backend that differentiates it, wherever its pullback is called. So a pullback need not set the
context itself on every call (NOTE [Context set outright] in ``multiad/_api_ad.py``); the cost
falls on calls of rules alone. Not while a compiler traces (NOTE [Compiled regions]).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import _select, _tree
from ._backend import Backend
from ._custom_checks import jvp_rule_for_arrays
from ._errors import InvalidArgumentError, InvalidTypeError, UnsupportedOperationError


# NOTE [Rules closing over differentiated values]: a custom function, or one of its rules, that
# closes over a value an enclosing transform differentiates (``y`` in ``def outer(y):`` with
# ``f(x) = y * sin(x)`` inside) depends on that value through the closure, which the rule does not
# see. torch's ``autograd.Function`` treats them as constants, so ``grad(outer)`` returned 0
# for ``sin(1)`` without an error (and functorch failed an internal assertion where ``fwd`` closes
# over one in a second derivative), and autograd failed with an unrelated message about object
# arrays. These backends call :func:`refuse_closed_over` with their own test of a value being
# differentiated; the function's and the rules' closure cells are looked at (containers of
# arrays included), not globals or functions they call. On jax the traced value escapes its
# trace and JAX's error is translated to name this cause.
def refuse_closed_over(rule: Rule, carries: Callable[[Any], bool]) -> None:
    """Raises InvalidArgumentError where a function of ``rule`` closes over a value for which
    ``carries(value)`` is true (NOTE [Rules closing over differentiated values])."""
    user = rule.user
    for role in ("fun", "fwd", "bwd", "jvp_rule"):
        fn = getattr(user, role, None)
        cells, code = getattr(fn, "__closure__", None), getattr(fn, "__code__", None)
        if not cells or code is None:
            continue
        for name, cell in zip(code.co_freevars, cells):
            try:
                value = cell.cell_contents
            except ValueError:  # a cell not yet bound
                continue
            leaves = _tree.flatten(value)[0] if isinstance(value, (tuple, list, dict)) else (value,)
            if any(carries(leaf) for leaf in leaves):
                what = "the function" if role == "fun" else f"its {role.replace('_rule', '')} rule"
                raise InvalidArgumentError(
                    f"{rule.name}: {what} closes over {name!r}, a value being differentiated, and the "
                    f"{rule.backend.name} backend would drop the derivative through it (a custom rule gives "
                    f"derivatives with respect to its arguments only); pass {name!r} to {rule.name} as an "
                    "argument"
                )


# NOTE [Rules that call their own function on tangents]: a custom_jvp rule may compute its
# tangent output with the custom function itself (``scale(ds, r) + scale(s, dr)`` for a
# bilinear ``scale``); JAX evaluates that call on the tangents one level down and stops. torch
# and autograd get reverse mode by transposing the rule (and autograd forward mode by running it
# on boxed tangents), where that inner call is a call of the custom function on values being
# differentiated, whose rule is transposed again, without end: torch ran for minutes, its memory
# growing past 7 GB, and autograd raised RecursionError. :func:`transposing` counts how deep a
# function's rule is nested in its own transposition on this thread and raises past a depth no
# derivative of a few orders reaches (each level of a higher derivative is one level).
_NESTING = threading.local()
_MAX_NESTING = 6


@contextlib.contextmanager
def transposing(rule: Rule) -> Iterator[None]:
    """Counts the rule's function's nesting in the transposition of its own rule (NOTE [Rules
    that call their own function on tangents]); raises UnsupportedOperationError past the limit."""
    depths: dict[int, int] = _NESTING.__dict__.setdefault("depths", {})
    key = id(rule.user)
    depth = depths.get(key, 0)
    if depth >= _MAX_NESTING:
        raise UnsupportedOperationError(
            f"{rule.name}: its jvp rule calls {rule.name} on the tangents, and the {rule.backend.name} backend "
            f"differentiates that call with {rule.name}'s rule again (transposing it for reverse mode), without "
            f"end; compute the tangent output without calling {rule.name} (with the operations it consists of), "
            "or use the jax backend"
        )
    depths[key] = depth + 1
    try:
        yield
    finally:
        if depth:
            depths[key] = depth
        else:
            del depths[key]


class Rule:
    """What custom_vjp and custom_jvp rules share: rebuilding arguments, flattening outputs."""

    def __init__(
        self, user: Any, b: Backend, args: Sequence[Any], diff: tuple[int, ...], in_spec: Any, xs: Sequence[Any]
    ) -> None:
        self.user, self.backend, self.args, self.diff, self.in_spec = user, b, list(args), diff, in_spec
        self.name = user.__name__
        self.shapes = [tuple(x.shape) for x in xs]
        self.dtypes = [b.dtype_name(x) for x in xs]
        self.out_spec: Any = None
        self.out_shapes: list[tuple[int, ...]] = []
        self.out_from = ""  # what gave out_spec and out_shapes, for messages
        self.out_cached = (
            False  # whether they came from an earlier call (NOTE [Rule outputs shaped like the function's])
        )

    # -- for backends: the checks a backend over a tape or a tracer needs (docs/plugins.md) ----
    def refuse_closed_over(self, carries: Callable[[Any], bool]) -> None:
        """Raises InvalidArgumentError where the custom function or one of its rules closes over
        a value for which ``carries(value)`` is true (the backend's own test of a value being
        differentiated), whose derivative the framework's rule mechanism would drop. For a backend
        whose mechanism treats closed-over values as constants (torch's ``autograd.Function``,
        autograd's primitives), called where the rule is applied (NOTE [Rules closing over
        differentiated values])."""
        refuse_closed_over(self, carries)

    def transposing(self) -> contextlib.AbstractContextManager[None]:
        """A context around the transposition of this rule's ``jvp`` (reverse mode of a
        ``custom_jvp`` function on a framework without forward-mode rules, by the vjp of the
        tangent rule): it raises UnsupportedOperationError where the rule, calling its own
        function on tangents, is transposed within itself past a depth no derivative of a few
        orders reaches (NOTE [Rules that call their own function on tangents])."""
        return transposing(self)

    def run(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)``, one of the user's functions, under the rule's backend (NOTE [Rules run
        under their backend])."""
        return _select.run_in(self.backend, _select.compiling(), fn, *args)

    @property
    def nondiff(self) -> list[Any]:
        return [a for i, a in enumerate(self.args) if i not in self.diff]

    def diff_trees(self, xs: Sequence[Any]) -> list[Any]:
        """The differentiated arguments as the user passed them, with leaves ``xs``."""
        return list(_tree.unflatten(self.in_spec, list(xs)))

    def full_args(self, xs: Sequence[Any]) -> list[Any]:
        args = list(self.args)
        for pos, tree in zip(self.diff, self.diff_trees(xs)):
            args[pos] = tree
        return args

    def arrays(self, tree: Any, what: str, dtypes: Sequence[str] | None = None) -> tuple[Any, ...]:
        """The leaves of ``tree`` as backend arrays (numpy arrays and numbers converted)."""
        leaves = _tree.flatten(tree)[0]
        out = []
        for i, leaf in enumerate(leaves):
            if not self.backend.is_array(leaf):
                if not isinstance(leaf, (np.ndarray, np.generic, int, float)):
                    raise InvalidTypeError(
                        f"{self.name}: {what} leaf {i} is a {type(leaf).__name__}, not an array; "
                        "custom functions and their rules must return arrays"
                    )
                leaf = self.backend.asarray(leaf, dtype=None if dtypes is None else dtypes[i])
            out.append(leaf)
        return tuple(out)

    def real_floating(self, leaf: Any, what: str, value: str, dtype: str) -> None:
        """Raises unless the derivative ``leaf`` a rule returned for a ``dtype`` value (the
        argument or output ``value`` names) is a real floating array (or a Python number).

        NOTE [Derivative kinds of custom rules]: an integer or complex cotangent or tangent came
        back as an int64 or complex128 gradient of a float64 argument on jax and autograd, was
        cast on torch (integer) or failed in torch's own code (complex, and an integer tangent:
        an internal assertion), and autograd gave zeros for an integer tangent. Every backend now
        refuses it here, before the framework sees it. Python numbers are converted to the value's
        dtype (``0`` for a zero cotangent).
        """
        if not _is_floating(dtype) or (isinstance(leaf, (int, float)) and not isinstance(leaf, bool)):
            return
        have = str(np.asarray(leaf).dtype) if not self.backend.is_array(leaf) else self.backend.dtype_name(leaf)
        if not _is_floating(have):
            raise InvalidArgumentError(
                f"{self.name}: {what} returned an array of dtype {have} for {value} of dtype {dtype}; derivatives of "
                "real floating values must be real floating arrays (cast with multiad.numpy.astype, or "
                "compute them from the rule's float arguments)"
            )

    def same_float_dtype(self, leaf: Any, dtype: str) -> Any:
        """``leaf`` cast to the floating dtype ``dtype`` of the value it is a derivative of.

        NOTE [Derivative dtypes of custom rules]: a rule written with float64 constants returns a
        float64 cotangent or tangent for a float32 value. torch casts it to the value's dtype,
        while JAX and autograd would pass it on, so that the gradient of a float32 argument came
        back as float64 on some backends only. Every backend therefore casts it here (a
        differentiable cast: the rule may itself be differentiated).
        """
        have = self.backend.dtype_name(leaf)
        if have != dtype and have.startswith("float") and dtype.startswith("float"):
            from .numpy import astype

            return astype(leaf, dtype)
        return leaf

    def outs(self, out: Any, what: str, xs: Sequence[Any] | None = None) -> tuple[Any, ...]:
        """Flat outputs; the structure and shapes must be the same at every call of the rule's
        functions (NOTE [Rule outputs shaped like the function's])."""
        spec = _tree.flatten(out)[1]
        first = self.out_spec is None
        if first:
            self.out_spec, self.out_from = spec, what
        elif not self._same_structure(spec):
            if xs is not None and self._recheck(xs) and self._same_structure(spec):
                pass
            else:
                raise InvalidArgumentError(
                    f"{self.name}: {what} returned an output with structure {spec}, but {self.out_from} returns "
                    f"{self.out_spec}; the rule must return outputs structured like the function's"
                    + (f" ({_RULE_FORMS[what]})" if what in _RULE_FORMS else "")
                )
        arrays = self.arrays(out, f"{what} output")
        shapes = [tuple(a.shape) for a in arrays]
        if first:
            self.out_shapes = shapes
        elif shapes != self.out_shapes and not (xs is not None and self._recheck(xs) and shapes == self.out_shapes):
            k = next(i for i, (a, b) in enumerate(zip(shapes, self.out_shapes)) if a != b)
            raise InvalidArgumentError(
                f"{self.name}: {what} returned an output leaf {k} of shape {shapes[k]} where {self.out_from} returns "
                f"shape {self.out_shapes[k]}; " + _RULE_FORMS.get(what, "the rule must return the function's output")
            )
        return arrays

    def _same_structure(self, spec: Any) -> bool:
        return bool(spec == self.out_spec or _tree.same_structure(spec, self.out_spec))

    def reference_outputs(self, xs: Sequence[Any]) -> None:
        """Makes the function's output structure and shapes for these arguments known before a
        rule runs: from an earlier call with the same signature, or by evaluating the function
        (NOTE [Rule outputs shaped like the function's])."""
        if self.out_spec is not None:
            return
        known = self.user.known_outputs.get(self._key())
        if known is not None:
            self.out_spec, self.out_shapes = known
            self.out_from = f"{self.name} (at an earlier call with arguments of these shapes)"
            self.out_cached = True
            return
        self._evaluate_function(xs)

    def _evaluate_function(self, xs: Sequence[Any]) -> None:
        self.out_spec, self.out_cached = None, False
        self.fun(*xs)
        cache = self.user.known_outputs
        if len(cache) >= _MAX_KNOWN_OUTPUTS:
            cache.clear()
        cache[self._key()] = (self.out_spec, self.out_shapes)

    def _recheck(self, xs: Sequence[Any]) -> bool:
        """Evaluates the function again where the reference came from an earlier call (whose
        nondiff arguments may have differed in what the key cannot see); True if it did."""
        if not self.out_cached:
            return False
        self._evaluate_function(xs)
        return True

    def _key(self) -> Any:
        nondiff = tuple(_static(a) for a in self.nondiff)
        return (self.backend.name, len(self.args), self.in_spec, tuple(self.shapes), tuple(self.dtypes), nondiff)

    def fun(self, *xs: Any) -> tuple[Any, ...]:
        return self.outs(self.run(self.user.fun, *self.full_args(xs)), self.name)

    def per_arg(self, result: Any, what: str) -> tuple[Any, ...]:
        """One entry per differentiated leaf from ``result``, one pytree per differentiated argument.

        A ``None`` entry (or a ``None`` leaf) stands for zeros, as in JAX.
        """
        n = len(self.diff)
        if not isinstance(result, (tuple, list)) or len(result) != n:
            got = (
                f"a {type(result).__name__} of length {len(result)}"
                if isinstance(result, (tuple, list))
                else type(result).__name__
            )
            # NOTE [Parameters left at their defaults]: as in the call, not as in the signature
            # (unlike JAX, which applies the defaults): a rule's functions get the arguments the
            # call passed, so bwd returns an entry for those only.
            more = self.user.n_positional is not None and len(self.args) < self.user.n_positional
            passed = self._passed_defaults()
            raise InvalidArgumentError(
                f"{self.name}: {what} must return a tuple with one entry per differentiated argument ({n}), got {got}"
                + (
                    f"; this call passed {len(self.args)} argument(s), and a parameter left at its default is not "
                    "passed to the rule and gets no entry (pass it explicitly in every call for a fixed count)"
                    if more
                    else ""
                )
                + (
                    f"; this call passed {passed} parameter(s) that have defaults, and each gets an entry (None "
                    "for no cotangent) as a passed argument does; a call leaving them at their defaults gives "
                    "none (pass them in every call for a fixed count)"
                    if passed and not more
                    else ""
                )
            )
        trees = self.diff_trees(list(range(len(self.shapes))))
        flat: list[Any] = []
        for k, (entry, ref) in enumerate(zip(result, trees)):
            ref_leaves, ref_spec = _tree.flatten(ref)
            if entry is None:
                flat.extend([None] * len(ref_leaves))
                continue
            leaves, spec = optree_none_leaves(entry)
            if spec != optree_none_leaves(ref)[1]:
                raise InvalidArgumentError(
                    f"{self.name}: {what} entry {k} has structure {spec}, expected {ref_spec} (that of argument {self.diff[k]})"
                )
            flat.extend(leaves)
        out: list[Any] = []
        for i, leaf in enumerate(flat):
            if leaf is not None:
                self.real_floating(leaf, what, f"argument leaf {i}", self.dtypes[i])
                leaf = self.arrays(leaf, what, [self.dtypes[i]])[0]
                if tuple(leaf.shape) != self.shapes[i]:
                    raise InvalidArgumentError(
                        f"{self.name}: {what} returned shape {tuple(leaf.shape)} for an argument leaf of shape "
                        f"{self.shapes[i]}; return one array shaped like each argument"
                    )
                leaf = self.same_float_dtype(leaf, self.dtypes[i])
            out.append(leaf)
        return tuple(out)

    def _passed_defaults(self) -> int:
        """How many parameters with defaults this call passed (NOTE [Parameters left at their
        defaults])."""
        sig = getattr(self.user, "_signature", None)
        if sig is None or self.user.n_positional is None:
            return 0
        positional = [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        return sum(p.default is not p.empty for p in positional[: len(self.args)])


# NOTE [Rule outputs shaped like the function's]: a ``fwd`` (or jvp rule) whose output is shaped
# unlike the function's (``sin(x)[:1]`` for ``sin(x)``) was used as it was: torch raised its own
# RuntimeError about forward gradients, a vjp's cotangent was refused as shaped unlike the
# outputs, and ``grad`` of a sum returned a gradient broadcast from the wrong output without an
# error. Under differentiation the function itself is not run (NOTE [Custom rules are the
# framework's own]), so its output structure and shapes are taken from an evaluation of the
# function at the first differentiated call with arguments of given shapes and dtypes (and equal
# nondiff arguments of plain types), kept on the custom function: one more evaluation of the
# function per such signature, not per call. Where a rule then disagrees with a kept reference,
# the function is evaluated again before raising, since the key does not see nondiff arguments
# that are arrays or functions.
_MAX_KNOWN_OUTPUTS = 64

_RULE_FORMS = {
    "the fwd rule": "fwd returns (output, residuals), its output the function's own output",
    "the jvp rule": "a jvp rule returns (output, tangent_output), its output the function's own output",
}


def _static(a: Any) -> Any:
    """A nondiff argument as part of a key: plain values as they are, others by type and shape
    (NOTE [Rule outputs shaped like the function's])."""
    if a is None or isinstance(a, (bool, int, float, complex, str, bytes)):
        return (type(a).__name__, a)
    if isinstance(a, tuple) and all(a is None or isinstance(a, (bool, int, float, str)) for a in a):
        return ("tuple", a)
    shape = getattr(a, "shape", None)
    return (type(a).__qualname__, tuple(shape) if isinstance(shape, tuple) else None)


def _is_floating(dtype: str) -> bool:
    return dtype.startswith(("float", "bfloat"))


def _is_inexact(dtype: str) -> bool:
    return _is_floating(dtype) or dtype.startswith("complex")


# NOTE [Outputs without tangents]: an integer or boolean output of a custom_jvp function (an
# index next to a value) has no tangent. Each framework spells that differently: JAX wants a
# tangent of dtype float0 and raised its own TypeError for any other (multiad made ``None`` a
# float64 zero), torch's ``autograd.Function.jvp`` wants ``None`` there and raised its own
# RuntimeError, and ``torch.func.vjp`` refused an integer output in the transpose. The rule
# returns ``None`` for such an output on every backend (a float0 array, JAX's own form, is
# accepted too); any other tangent is refused, since a nonzero one would be dropped. The flat
# rule gives zeros there (``o * 0.0``), and a backend whose framework wants its own form puts it
# in place of the tangent of every output that is not inexact.
def _is_float0(t: Any) -> bool:
    dtype = getattr(t, "dtype", None)
    return getattr(dtype, "names", None) == ("float0",) or str(dtype) == "float0"


def optree_none_leaves(tree: Any) -> tuple[list[Any], Any]:
    """Leaves and structure with ``None`` as a leaf (a zero in a rule's result)."""
    import optree

    return optree.tree_flatten(tree, none_is_leaf=True, namespace=_tree.NAMESPACE)  # type: ignore[no-any-return]


class VJPRule(Rule):
    """A call of a custom_vjp function (NOTE [Custom rules at the flat level])."""

    def fwd(self, *xs: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        self.reference_outputs(xs)
        res = self.run(self.user.fwd, *self.full_args(xs))
        if not isinstance(res, (tuple, list)) or len(res) != 2:
            raise InvalidArgumentError(
                f"{self.name}: the fwd rule must return a pair (output, residuals), got {type(res).__name__}"
            )
        out, residuals = res
        leaves, spec = _tree.flatten(residuals)
        leaves = [self._residual_leaf(x) for x in leaves]
        is_array = [self.backend.is_array(x) for x in leaves]
        known = getattr(self, "res_static", None)
        if known is not None and (known[0] != spec or known[2] != is_array):
            raise InvalidArgumentError(
                f"{self.name}: the fwd rule returned residuals laid out differently at two calls on the same "
                f"arguments (structure {known[0]}, array leaves {known[2]}, then {spec}, {is_array}); the "
                "residuals must have one structure, with arrays in the same places, whether or not the call is "
                "being differentiated"
            )
        # The structure and non-array leaves stay here; the backend carries the arrays.
        self.res_static = (spec, [None if a else x for a, x in zip(is_array, leaves)], is_array)
        return self.outs(out, "the fwd rule", xs), tuple(x for a, x in zip(is_array, leaves) if a)

    def _residual_leaf(self, x: Any) -> Any:
        """A residual leaf as the backend carries it: a NumPy scalar of a numeric dtype becomes a
        0-d array on a backend whose arrays are NumPy arrays.

        NOTE [Residuals that are NumPy scalars]: on autograd, a reduction (``sum``, ``mean``,
        ``max``, ``norm``) or an elementwise function of a 0-d array returns a NumPy scalar, not
        a 0-d array, where the same call on autograd's boxes (the call of ``fwd`` that a second
        derivative makes, NOTE [autograd custom rules] in backends/autograd) returns an array
        box. The scalar was kept aside as a non-array residual, the boxed call's layout replaced
        the first's, and the bwd of the first call (its residuals from the primitive's output)
        was read with the second's layout: every second derivative through a ``fwd`` keeping
        such a residual raised a bare StopIteration (hessian of ``sin`` with ``cos(x)`` kept,
        ``x * sum(x)`` with ``sum(x)`` kept). As a 0-d array it is carried as every other
        residual array, the same at both calls. On torch and JAX, whose arrays are not NumPy
        arrays, a NumPy scalar stays a constant kept aside.
        """
        if isinstance(x, np.generic) and x.dtype.kind in "biufc":
            as_array = np.asarray(x)
            if self.backend.is_array(as_array):
                return as_array
        return x

    def bwd(self, residuals: Sequence[Any], cts: Sequence[Any]) -> tuple[Any, ...]:
        spec, static, is_array = self.res_static
        if sum(is_array) != len(residuals):  # a backend passing other residuals than fwd's
            raise InvalidArgumentError(
                f"{self.name}: the bwd rule got {len(residuals)} residual array(s) where the fwd rule returned "
                f"{sum(is_array)}; this is a bug of the {self.backend.name} backend's custom rules"
            )
        it = iter(residuals)
        res_tree = _tree.unflatten(spec, [next(it) if a else s for a, s in zip(is_array, static)])
        g = _tree.unflatten(self.out_spec, list(cts))
        return self.per_arg(self.run(self.user.bwd, *self.nondiff, res_tree, g), "the bwd rule")


class JVPRule(Rule):
    """A call of a custom_jvp function (NOTE [Custom rules at the flat level])."""

    def jvp(self, xs: Sequence[Any], ts: Sequence[Any]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        self.reference_outputs(xs)
        primals, tangents = tuple(self.diff_trees(xs)), tuple(self.diff_trees(ts))
        try:
            res = self.run(self.user.jvp_rule, *self.nondiff, primals, tangents)
            if not isinstance(res, (tuple, list)) or len(res) != 2:
                raise InvalidArgumentError(
                    f"{self.name}: the jvp rule must return a pair (output, tangent_output), got {type(res).__name__}"
                )
            out, tout = res
            outs = self.outs(out, "the jvp rule", xs)
        except Exception as exc:
            if self._written_for_arrays(primals, tangents):  # NOTE [jvp rules written for arrays]
                raise jvp_rule_for_arrays(self.name, self.user.fun, len(self.args), self.diff, exc) from None
            raise
        t_leaves, t_spec = optree_none_leaves(tout)
        if t_spec != optree_none_leaves(_tree.unflatten(self.out_spec, list(outs)))[1]:
            raise InvalidArgumentError(
                f"{self.name}: the jvp rule's tangent output has structure {t_spec}, expected {self.out_spec} "
                "(that of the output)"
            )
        touts: list[Any] = []
        for t, o in zip(t_leaves, outs):
            dtype = self.backend.dtype_name(o)
            if not _is_inexact(dtype):  # NOTE [Outputs without tangents]
                if t is not None and not _is_float0(t):
                    raise InvalidArgumentError(
                        f"{self.name}: the jvp rule returned a tangent for output leaf {len(touts)} of dtype {dtype}, "
                        "which has no tangent (its values do not vary continuously); return None in its place"
                    )
                t = o * 0.0
            elif t is None:
                t = o * 0.0
            else:
                self.real_floating(t, "the jvp rule", f"output leaf {len(touts)}", dtype)
                t = self.arrays(t, "the jvp rule tangent", [dtype])[0]
                if tuple(t.shape) != tuple(o.shape):
                    raise InvalidArgumentError(
                        f"{self.name}: the jvp rule returned a tangent of shape {tuple(t.shape)} for an output of "
                        f"shape {tuple(o.shape)}; tangents must be shaped like the outputs"
                    )
                t = self.same_float_dtype(t, self.backend.dtype_name(o))
            touts.append(t)
        return outs, tuple(touts)

    def _written_for_arrays(self, primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> bool:
        """Whether the jvp rule, which failed on the tuples ``primals`` and ``tangents``, returns
        the function's output structure and shapes when given their one entry each instead
        (NOTE [jvp rules written for arrays])."""
        if len(primals) != 1 or self.out_spec is None:
            return False
        try:
            res = self.run(self.user.jvp_rule, *self.nondiff, primals[0], tangents[0])
            if not isinstance(res, (tuple, list)) or len(res) != 2:
                return False
            spec = _tree.flatten(res[0])[1]
            shapes = [tuple(a.shape) for a in self.arrays(res[0], "the jvp rule output")]
        except Exception:  # noqa: BLE001 - any failure on the entries: not the array form, the first error stands
            return False
        return self._same_structure(spec) and shapes == self.out_shapes


# NOTE [jvp rules written for arrays]: a jvp rule written ``rule(x, t)``, for arrays, where it
# gets the tuples ``primals`` and ``tangents``, passes the signature check (NOTE [Rule
# signatures checked at the first call]) wherever one argument is differentiated, since it takes
# two parameters, and then computes on the tuples: torch and JAX raised their own TypeError from
# inside their jvp machinery (``only integer tensors of a single element can be converted to an
# index``, ``unsupported operand type(s) for *: 'ArrayImpl' and 'tuple'``), and autograd, which
# takes a tuple of arrays for an array with one more axis, returned an output of shape ``(1, n)``
# refused as shaped unlike the function's. A signature cannot tell the two forms apart, so where
# the rule fails on the tuples, at one differentiated argument, it is called once more with their
# one entry each; where that returns the function's output structure and shapes, the rule was
# written for arrays and the call raises InvalidTypeError naming the signature to write. Any
# other failure is re-raised as it was. The extra call is made on the failing path only.
