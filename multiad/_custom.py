"""custom_vjp and custom_jvp: derivative rules written once, for every backend.

NOTE [Custom rules are the framework's own]: the API is JAX's. At each call the arguments'
arrays select the backend (a custom function may be called with arrays of any backend); the
backend builds its framework's own mechanism from the rule (``jax.custom_vjp``/``custom_jvp``,
a ``torch.autograd.Function`` with ``setup_context``, ``jvp`` and a generated vmap rule, an
autograd primitive with ``defvjp``/``defjvp``), so every transform, multiad's or the
framework's, ``jax.jit`` and ``torch.compile`` included, uses the rule. A call whose arguments
hold no framework array (numpy arrays, numbers) carries no derivative and simply evaluates the
function, except while a backend without custom rules differentiates
(NOTE [Backends without custom rules]). The selected backend (the one running the enclosing
transform) is preferred when the arrays are its own, so that a backend that subclasses or wraps
another framework's backend uses its own rule mechanism, or its own refusal.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from . import _custom_state, _registry, _select, _tree
from ._arrays import convert
from ._backend import Backend
from ._custom_checks import check_jvp_rule, check_vjp_rules
from ._custom_rules import JVPRule, Rule, VJPRule
from ._errors import InvalidArgumentError, InvalidTypeError, UnsupportedOperationError
from ._flat import as_index


class _Custom:
    """What custom_vjp and custom_jvp share: argument handling and backend selection."""

    kind = ""

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()) -> None:
        if not callable(fun):
            raise InvalidTypeError(f"{self.kind}(fun): fun must be callable, got {type(fun).__name__}")
        name = getattr(fun, "__name__", type(fun).__name__)
        # NOTE [Integers by __index__] in multiad/_flat.py
        if isinstance(nondiff_argnums, Sequence) and not isinstance(nondiff_argnums, str):
            nondiff_argnums = tuple(map(as_index, nondiff_argnums))
        if not isinstance(nondiff_argnums, tuple) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in nondiff_argnums
        ):
            raise InvalidTypeError(
                f"{self.kind}({name}): nondiff_argnums must be a tuple of ints, got {nondiff_argnums!r}"
            )
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        #: The numbers of arguments whose calls the rules' signatures were checked for.
        self._checked_arities: set[int] = set()
        #: f's output structure and shapes by call signature: NOTE [Rule outputs shaped like the
        #: function's] in _custom_rules.py.
        self.known_outputs: dict[Any, Any] = {}
        functools.update_wrapper(self, fun)
        self.__name__: str = name
        try:
            self._signature: inspect.Signature | None = inspect.signature(fun)
        except (TypeError, ValueError):
            self._signature = None
        #: The number of positional parameters (None where unknown or unbounded): NOTE [Parameters
        #: left at their defaults] in _custom_rules.py.
        self.n_positional: int | None = None
        if self._signature is not None:
            kinds = [p.kind for p in self._signature.parameters.values()]
            if inspect.Parameter.VAR_POSITIONAL not in kinds:
                self.n_positional = sum(
                    k in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD) for k in kinds
                )

    def _defined(self) -> bool:
        raise NotImplementedError

    def _check_rules(self, n_args: int, nondiff: list[int]) -> None:
        raise NotImplementedError

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        if kwargs and self._signature is not None:
            try:
                bound = self._signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise InvalidTypeError(f"{self.__name__}: {exc}") from None
            if bound.kwargs:
                raise InvalidTypeError(
                    f"{self.__name__}: keyword-only arguments {sorted(bound.kwargs)} cannot be passed to a "
                    f"{self.kind} function; make them positional"
                )
            return tuple(bound.args)
        if kwargs:
            raise InvalidTypeError(f"{self.__name__}: pass the arguments of a {self.kind} function by position")
        return args

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        name = self.__name__
        if not self._defined():
            how = "defvjp(fwd, bwd)" if self.kind == "custom_vjp" else "defjvp(jvp_rule)"
            raise InvalidArgumentError(f"{name}: no derivative rule is defined; call {name}.{how} first")
        args = self._bind(args, kwargs)
        nondiff = []
        for i in self.nondiff_argnums:
            if not -len(args) <= i < len(args):
                raise InvalidArgumentError(
                    f"{name}: nondiff_argnums={self.nondiff_argnums} is out of range for {len(args)} argument(s)"
                )
            nondiff.append(i % len(args))
        if len(args) not in self._checked_arities:  # NOTE [Rule signatures checked at the first call]
            self._check_rules(len(args), nondiff)
            self._checked_arities.add(len(args))
        diff = tuple(i for i in range(len(args)) if i not in nondiff)
        leaves, in_spec = _tree.flatten(tuple(args[i] for i in diff))
        b = _backend_for(name, leaves, _tree.flatten([args[i] for i in nondiff])[0])
        if b is None:  # no array carries a derivative here: evaluate the function
            return self.fun(*args)
        try:
            xs = [convert(b, leaf, name, f"argument leaf {k}", True) for k, leaf in enumerate(leaves)]
        except InvalidTypeError as exc:
            raise InvalidTypeError(
                f"{exc}; an argument that is not differentiated can be named in nondiff_argnums"
            ) from None
        rule = self._rule(b, args, diff, in_spec, xs)
        outs = self._apply(b, rule, xs)
        return _tree.unflatten(rule.out_spec, list(outs))

    def _rule(self, b: Backend, args: Any, diff: tuple[int, ...], in_spec: Any, xs: list[Any]) -> Rule:
        raise NotImplementedError

    def _apply(self, b: Backend, rule: Any, xs: list[Any]) -> tuple[Any, ...]:
        raise NotImplementedError

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return self if obj is None else functools.partial(self, obj)


def _backend_for(name: str, leaves: list[Any], others: list[Any]) -> Backend | None:
    """The backend whose rule mechanism a call uses, or None to evaluate the function plainly."""
    owner = _select.infer([*leaves, *others], name)
    running = _custom_state.differentiating_without_rules()
    chosen = _select.selected(name)
    if owner is not None and chosen is not None and any(chosen.is_array(x) for x in leaves if _select.owner_of(x)):
        b: Backend | None = chosen  # the backend running the transform, a subclass or wrapper included
    else:
        b = _registry.get(owner, name) if owner is not None else running
    if b is None:
        return None
    if not b.has_custom_rules:
        if running is None:
            return None
        raise UnsupportedOperationError(
            f"{name}: the {b.name!r} backend does not support custom derivative rules "
            f"({'it differentiates by finite differences, which would ignore the rule' if not b.exact else 'it declares no has_custom_rules'}); "
            "differentiate with a backend that does (torch, jax, autograd)"
        )
    if not leaves:
        raise InvalidArgumentError(f"{name}: every argument is in nondiff_argnums; nothing is differentiated")
    return b


class custom_vjp(_Custom):
    """A function with a custom reverse-mode rule, on every backend (JAX's ``custom_vjp`` API).

    Use as a decorator, then attach the rule with :meth:`defvjp`::

        @multiad.custom_vjp
        def f(x): ...
        f.defvjp(f_fwd, f_bwd)

    ``fwd(*args)`` returns ``(output, residuals)``; ``bwd(*nondiff_args, residuals, g)``
    returns a tuple with one cotangent per differentiated argument, each shaped like that
    argument (``None`` for zero). Arguments and outputs may be pytrees; residuals may be any
    pytree (array leaves are carried by the framework, other leaves are kept as they are).
    ``nondiff_argnums`` names arguments that are not differentiated (configuration, functions);
    they are passed to ``bwd`` first.

    Every transform uses the rule in reverse mode. Forward mode through a custom_vjp function
    is undefined (the rule may be nonlinear in ``g``): ``jvp`` and ``linearize`` raise
    UnsupportedOperationError, while ``jacfwd``, ``jacobian``, ``hessian`` and ``hvp`` compute
    the same quantity in reverse mode. The numpy backend (finite differences) raises
    UnsupportedOperationError when it would differentiate through the function.

    ``fwd`` runs once per differentiated call: the value and every call of the pullback use
    its output and residuals. Second derivatives through a rule that is not the function's
    derivative follow each framework (torch and autograd apply the rule at every order, JAX at
    the innermost only); a ``fwd`` that computes its output by calling the function itself
    gives the former everywhere (docs/custom-rules.md).

    Example:
        >>> import multiad, multiad.numpy as mnp, numpy as np
        >>> @multiad.custom_vjp
        ... def clip_gradient(x):
        ...     return x
        >>> clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (mnp.clip(g, -1.0, 1.0),))
        >>> g = multiad.grad(lambda x: mnp.sum(5.0 * clip_gradient(x)), backend="autograd")(np.ones(2))
        >>> multiad.to_numpy(g).tolist()
        [1.0, 1.0]
    """

    kind = "custom_vjp"

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()) -> None:
        super().__init__(fun, nondiff_argnums)
        self.fwd: Callable[..., Any] | None = None
        self.bwd: Callable[..., Any] | None = None

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any]) -> None:
        """Attaches the rule: ``fwd(*args) -> (out, residuals)``, ``bwd(*nondiff, residuals, g)``."""
        if not callable(fwd) or not callable(bwd):
            raise InvalidTypeError(f"{self.__name__}.defvjp(fwd, bwd): fwd and bwd must be callable")
        self.fwd, self.bwd = fwd, bwd
        self._checked_arities.clear()
        self.known_outputs.clear()

    def _defined(self) -> bool:
        return self.fwd is not None

    def _check_rules(self, n_args: int, nondiff: list[int]) -> None:
        check_vjp_rules(self.__name__, self.fun, self.fwd, self.bwd, n_args, nondiff)

    def _rule(self, b: Backend, args: Any, diff: tuple[int, ...], in_spec: Any, xs: list[Any]) -> Rule:
        if _custom_state.forward_mode():
            raise _custom_state.ForwardOverCustomVJPError(
                f"{self.__name__}: a custom_vjp function cannot be differentiated in forward mode (jvp, linearize): "
                "its rule gives only the pullback; use reverse mode (grad, vjp, jacrev), or give it a "
                "forward rule with multiad.custom_jvp"
            )
        return VJPRule(self, b, args, diff, in_spec, xs)

    def _apply(self, b: Backend, rule: Any, xs: list[Any]) -> tuple[Any, ...]:
        return tuple(b.custom_vjp(rule)(*xs))


class custom_jvp(_Custom):
    """A function with a custom forward-mode rule, on every backend (JAX's ``custom_jvp`` API).

    Use as a decorator, then attach the rule with :meth:`defjvp` (also usable as a decorator)::

        @multiad.custom_jvp
        def f(x): ...
        @f.defjvp
        def f_jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            return f(x), ...

    ``jvp_rule(*nondiff_args, primals, tangents)`` returns ``(output, tangent_output)``;
    ``primals`` and ``tangents`` are tuples of the differentiated arguments. The tangent output
    must be linear in the tangents: reverse mode transposes it. A rule written with
    :mod:`multiad.numpy` is itself differentiable, so second derivatives (``hessian``) go
    through it. The numpy backend (finite differences) raises UnsupportedOperationError when
    it would differentiate through the function. Where the rule is not the function's
    derivative, second derivatives follow each framework, as for custom_vjp (a rule whose
    output calls the function itself applies the rule at every order on every backend).

    Example:
        >>> import multiad, multiad.numpy as mnp, numpy as np
        >>> @multiad.custom_jvp
        ... def log1pexp(x):
        ...     return mnp.log(1.0 + mnp.exp(x))
        >>> @log1pexp.defjvp
        ... def log1pexp_jvp(primals, tangents):
        ...     (x,), (t,) = primals, tangents
        ...     return log1pexp(x), t * (1.0 - 1.0 / (1.0 + mnp.exp(x)))
        >>> g = multiad.grad(lambda x: mnp.sum(log1pexp(x)), backend="autograd")(np.array([100.0, 0.0]))
        >>> multiad.to_numpy(g).tolist()
        [1.0, 0.5]
    """

    kind = "custom_jvp"

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()) -> None:
        super().__init__(fun, nondiff_argnums)
        self.jvp_rule: Callable[..., Any] | None = None

    def defjvp(self, jvp_rule: Callable[..., Any]) -> Callable[..., Any]:
        """Attaches the rule ``jvp_rule(*nondiff, primals, tangents) -> (out, tangent_out)``; returns it."""
        if not callable(jvp_rule):
            raise InvalidTypeError(f"{self.__name__}.defjvp(jvp_rule): jvp_rule must be callable")
        self.jvp_rule = jvp_rule
        self._checked_arities.clear()
        self.known_outputs.clear()
        return jvp_rule

    def _defined(self) -> bool:
        return self.jvp_rule is not None

    def _check_rules(self, n_args: int, nondiff: list[int]) -> None:
        check_jvp_rule(self.__name__, self.fun, self.jvp_rule, n_args, nondiff)

    def _rule(self, b: Backend, args: Any, diff: tuple[int, ...], in_spec: Any, xs: list[Any]) -> Rule:
        return JVPRule(self, b, args, diff, in_spec, xs)

    def _apply(self, b: Backend, rule: Any, xs: list[Any]) -> tuple[Any, ...]:
        return tuple(b.custom_jvp(rule)(*xs))
