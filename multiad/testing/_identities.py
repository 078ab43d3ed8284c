"""Reference-free checks: identities between transforms that must hold on any backend.

Each builds ``g(*inputs) -> (lhs, rhs)``; the runner compares the two sides with the tolerance
of the case's derivative order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import multiad
import multiad.numpy as mnp

from . import _trees
from ._cases import Inputs, Variant, _closed, _cotangent, _split, _tangents
from ._fns import Fn

FAMILY = "reference-free"


def _inner(a: Any, b: Any) -> Any:
    total = None
    for x, y in zip(_trees.leaves(a), _trees.leaves(b)):
        term = mnp.sum(x * y)
        total = term if total is None else total + term
    return total


def dot_product() -> Variant:
    """``<v, J u> == <J^T v, u>`` with jvp and vjp."""

    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            args, consts, rest = _split(fn, xs)
            ts, ct = rest[: len(args)], rest[len(args)]
            f = _closed(fn, consts)
            _, tout = multiad.jvp(f, args, ts)
            _, pull = multiad.vjp(f, *args)
            return _inner(ct, tout), _inner(pull(ct), ts)

        return g

    def extras(fn: Fn, a: Inputs, c: Inputs, rng: np.random.Generator) -> Inputs:
        return _tangents(fn, a, c, rng) + _cotangent(fn, a, c, rng)

    return Variant("<v, J u> == <J^T v, u>", "jvp/vjp", frozenset({"jvp", "vjp"}), 1, build, None, extras, FAMILY)


def fwd_equals_rev() -> Variant:
    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            args, consts, _ = _split(fn, xs)
            argnums = tuple(range(len(args))) if len(args) > 1 else 0
            return multiad.jacfwd(fn.f, argnums)(*args, *consts), multiad.jacrev(fn.f, argnums)(*args, *consts)

        return g

    return Variant("jacfwd == jacrev", "jacfwd/jacrev", frozenset({"jacfwd", "jacrev"}), 1, build, None, family=FAMILY)


def hessian_is_fwd_of_rev() -> Variant:
    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            args, consts, _ = _split(fn, xs)
            return multiad.hessian(fn.f)(*args, *consts), multiad.jacfwd(multiad.jacrev(fn.f))(*args, *consts)

        return g

    uses = frozenset({"hessian", "jacfwd", "jacrev"})
    return Variant("hessian == jacfwd(jacrev)", "hessian", uses, 2, build, None, family=FAMILY)


def hvp_is_hessian_times_v() -> Variant:
    """For one vector argument: ``hvp(f, (x,), (v,)) == hessian(f)(x) @ v``."""

    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            (x,), consts, (v,) = _split(fn, xs)
            f = _closed(fn, consts)
            return multiad.hvp(f, (x,), (v,))[0], mnp.matmul(multiad.hessian(f)(x), v)

        return g

    uses = frozenset({"hvp", "hessian"})
    return Variant("hvp == hessian @ v", "hvp", uses, 2, build, None, _tangents, FAMILY)


def vmap_grad_is_stacked(size: int = 3) -> Variant:
    """For one vector argument: ``vmap(grad(f))(X) == stack([grad(f)(x) for x in X])``."""

    def build(fn: Fn) -> Callable[..., Any]:
        def g(xs: Any) -> Any:
            gf = multiad.grad(fn.f)
            return multiad.vmap(gf)(xs), mnp.stack([gf(xs[i]) for i in range(size)])

        return g

    def inputs(fn: Fn, rng: np.random.Generator) -> Inputs:
        return (np.stack([fn.make_args(rng)[0] for _ in range(size)]),)

    uses = frozenset({"vmap", "grad"})
    return Variant("vmap(grad) == stacked grads", "vmap", uses, 1, build, None, family=FAMILY, make_inputs=inputs)
