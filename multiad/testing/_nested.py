"""Reverse mode through forward mode: gradients, pullbacks and Jacobians of ``jvp``/``jacfwd``.

NOTE [Reverse over forward]: a backend's ``jvp`` must keep the derivatives of primals and
tangents that an enclosing reverse-mode transform traces ("Higher order" in docs/plugins.md),
as its ``vjp`` must for an enclosing forward or reverse one. The Hessian, hvp and third
derivative cases nest forward over reverse, forward over forward and reverse over reverse
only, so a TensorFlow plugin whose ``jvp`` was cut off from enclosing GradientTapes (a
``tf.stop_gradient`` on the primals) gave ``grad`` of ``jvp(f, (x,), (v,))[1]`` zeros and
``jacrev(jacfwd(f))`` a zero matrix, and was certified. These variants take reverse mode through
forward mode on scalar functions with closed-form Hessians: ``grad`` and ``vjp`` of a ``jvp``'s
tangent (``H v`` and ``c H v``), ``jacrev(jacfwd(f))`` (the Hessian), and, reference-free, the
two ways of taking a Hessian-vector product (forward over reverse, reverse over forward).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import multiad

from . import _trees
from ._cases import Inputs, Variant, _closed, _hess_ref, _split, _tangents
from ._fns import Fn

FAMILY = "reverse over forward"


def _argnums(n: int) -> int | tuple[int, ...]:
    return tuple(range(n)) if n > 1 else 0


def _hv(fn: Fn, args: Inputs, consts: Inputs, ts: Inputs) -> tuple[Any, ...]:
    """``H v`` split like the arguments (one block per argument)."""
    assert fn.hess is not None
    return tuple(_trees.unravel(fn.hess(*args, *consts) @ _trees.ravel(ts), args))


def _scalar_cotangent(fn: Fn, a: Inputs, c: Inputs, rng: np.random.Generator) -> Inputs:
    return _tangents(fn, a, c, rng) + (np.asarray(rng.standard_normal(), dtype=np.float64),)


def grad_of_jvp() -> Variant:
    """``grad(x -> jvp(f, x, v)[1])(x) == H v`` with respect to every argument."""

    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            args, consts, ts = _split(fn, xs)
            f = _closed(fn, consts)
            return multiad.grad(lambda *a: multiad.jvp(f, a, ts)[1], _argnums(len(args)))(*args)

        return g

    def ref(fn: Fn, xs: Inputs) -> Any:
        args, consts, ts = _split(fn, xs)
        hv = _hv(fn, args, consts, ts)
        return hv if len(args) > 1 else hv[0]

    uses = frozenset({"grad", "jvp"})
    return Variant("grad(jvp)", "grad of jvp", uses, 2, build, ref, _tangents, FAMILY)


def vjp_of_jvp() -> Variant:
    """``vjp`` of ``x -> jvp(f, x, v)[1]`` with a scalar cotangent ``c``: ``(J v, c H v)``."""

    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            args, consts, rest = _split(fn, xs)
            ts, ct = rest[: len(args)], rest[len(args)]
            f = _closed(fn, consts)
            out, pull = multiad.vjp(lambda *a: multiad.jvp(f, a, ts)[1], *args)
            return out, pull(ct)

        return g

    def ref(fn: Fn, xs: Inputs) -> Any:
        args, consts, rest = _split(fn, xs)
        ts, ct = rest[: len(args)], rest[len(args)]
        jv = (fn.jac(*args, *consts) @ _trees.ravel(ts)).reshape(())
        return jv, tuple(ct * h for h in _hv(fn, args, consts, ts))

    uses = frozenset({"vjp", "jvp"})
    return Variant("vjp(jvp)", "vjp of jvp", uses, 2, build, ref, _scalar_cotangent, FAMILY)


def jacrev_of_jacfwd() -> Variant:
    """``jacrev(jacfwd(f))`` of a one-argument scalar function: its Hessian."""

    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            args, consts, _ = _split(fn, xs)
            return multiad.jacrev(multiad.jacfwd(fn.f))(*args, *consts)

        return g

    def ref(fn: Fn, xs: Inputs) -> Any:
        args, consts, _ = _split(fn, xs)
        return _hess_ref(fn, args, consts, 0)

    uses = frozenset({"jacrev", "jacfwd"})
    return Variant("jacrev(jacfwd)", "jacrev of jacfwd", uses, 2, build, ref, family=FAMILY)


def fwd_over_rev_is_rev_over_fwd() -> Variant:
    """Reference-free: ``jvp(grad(f), x, v)[1] == grad(x -> jvp(f, x, v)[1])(x)``."""

    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            (x,), consts, (v,) = _split(fn, xs)
            f = _closed(fn, consts)
            fwd_rev = multiad.jvp(multiad.grad(f), (x,), (v,))[1]
            rev_fwd = multiad.grad(lambda y: multiad.jvp(f, (y,), (v,))[1])(x)
            return fwd_rev, rev_fwd

        return g

    uses = frozenset({"grad", "jvp"})
    name = "jvp(grad) == grad(jvp)"
    return Variant(name, "hvp", uses, 2, build, None, _tangents, "reference-free")
