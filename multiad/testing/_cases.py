"""Conformance cases: a transform (a *variant*) applied to a test function with closed forms.

A case builds ``g(*inputs)``, a function of arrays computing something with multiad's
transforms, and either a float64 numpy reference for its result (built from the function's
closed forms, see multiad/testing/_fns.py) or, for reference-free identities, a pair of
results that must agree. ``g`` is a plain function of arrays so that the runner can also
wrap it in ``jax.jit``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

import multiad

from .. import _tree
from . import _trees
from ._fns import Fn

Inputs = tuple[Any, ...]
Argnums = int | tuple[int, ...]


def _split(fn: Fn, xs: Inputs) -> tuple[Inputs, Inputs, Inputs]:
    na, nc = fn.counts
    return tuple(xs[:na]), tuple(xs[na : na + nc]), tuple(xs[na + nc :])


def _closed(fn: Fn, consts: Inputs) -> Callable[..., Any]:
    """``fn.f`` as a function of its differentiated arguments only."""
    return lambda *a: fn.f(*a, *consts)


def _normal_like(rng: np.random.Generator, tree: Any) -> Any:
    return _trees.tree_map(lambda x: np.asarray(rng.standard_normal(np.shape(x)), dtype=np.float64), tree)


@dataclasses.dataclass(frozen=True)
class Variant:
    """A transform (or composition) applied to any compatible :class:`Fn`."""

    name: str
    transform: str
    uses: frozenset[str]
    order: int
    #: ``build(fn)`` returns ``g(*inputs)``.
    build: Callable[[Fn], Callable[..., Any]]
    #: ``reference(fn, inputs)`` is the float64 numpy result of ``g``; None for identities.
    reference: Callable[[Fn, Inputs], Any] | None
    #: Extra inputs after the function's arguments and constants (tangents, cotangents).
    extras: Callable[[Fn, Inputs, Inputs, np.random.Generator], Inputs] = lambda fn, a, c, rng: ()
    family: str | None = None
    #: Replaces the default inputs (arguments, constants, extras) when set.
    make_inputs: Callable[[Fn, np.random.Generator], Inputs] | None = None
    #: A multiad error class name that also counts as a pass when ``g`` raises it (the case
    #: then accepts either that error or the reference result, never anything else).
    accepts: str | None = None

    def inputs(self, fn: Fn, rng: np.random.Generator) -> Inputs:
        if self.make_inputs is not None:
            return self.make_inputs(fn, rng)
        args, consts = fn.inputs(rng)
        return (*args, *consts, *self.extras(fn, args, consts, rng))


# -- references from closed forms ------------------------------------------------------------


def _grad_ref(fn: Fn, args: Inputs, consts: Inputs, argnums: Argnums) -> Any:
    tree, cols = _trees.select(args, argnums)
    return _trees.unravel(fn.jac(*args, *consts)[0, cols], tree)


def _with_aux(fn: Fn, result: Any, args: Inputs, consts: Inputs) -> Any:
    return (result, fn.out_aux(args, consts)[1]) if fn.has_aux else result


def _jac_ref(fn: Fn, args: Inputs, consts: Inputs, argnums: Argnums) -> Any:
    tree, cols = _trees.select(args, argnums)
    out, _ = fn.out_aux(args, consts)
    return _trees.blocks(fn.jac(*args, *consts)[:, cols], out, tree)


def _hess_ref(fn: Fn, args: Inputs, consts: Inputs, argnums: Argnums) -> Any:
    assert fn.hess is not None
    tree, cols = _trees.select(args, argnums)
    return _trees.blocks(fn.hess(*args, *consts)[np.ix_(cols, cols)], tree, tree)


def _jvp_ref(fn: Fn, args: Inputs, consts: Inputs, tangents: Inputs) -> Any:
    out, aux = fn.out_aux(args, consts)
    tout = _trees.unravel(fn.jac(*args, *consts) @ _trees.ravel(tangents), out)
    return (out, tout, aux) if fn.has_aux else (out, tout)


def _vjp_ref(fn: Fn, args: Inputs, consts: Inputs, cotangent: Any) -> Any:
    out, aux = fn.out_aux(args, consts)
    grads = tuple(_trees.unravel(_trees.ravel(cotangent) @ fn.jac(*args, *consts), args))
    return (out, grads, aux) if fn.has_aux else (out, grads)


# -- variants --------------------------------------------------------------------------------


def grad(argnums: Argnums = 0) -> Variant:
    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            args, consts, _ = _split(fn, xs)
            return multiad.grad(fn.f, argnums, has_aux=fn.has_aux)(*args, *consts)

        return g

    def ref(fn: Fn, xs: Inputs) -> Any:
        args, consts, _ = _split(fn, xs)
        return _with_aux(fn, _grad_ref(fn, args, consts, argnums), args, consts)

    suffix = "" if argnums == 0 else f"[argnums={argnums}]"
    return Variant(f"grad{suffix}", "grad", frozenset({"grad"}), 1, build, ref)


def value_and_grad(argnums: Argnums = 0) -> Variant:
    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            args, consts, _ = _split(fn, xs)
            return multiad.value_and_grad(fn.f, argnums, has_aux=fn.has_aux)(*args, *consts)

        return g

    def ref(fn: Fn, xs: Inputs) -> Any:
        args, consts, _ = _split(fn, xs)
        out, aux = fn.out_aux(args, consts)
        value = (out, aux) if fn.has_aux else out
        return value, _grad_ref(fn, args, consts, argnums)

    suffix = "" if argnums == 0 else f"[argnums={argnums}]"
    return Variant(f"value_and_grad{suffix}", "value_and_grad", frozenset({"value_and_grad"}), 1, build, ref)


def _tangents(fn: Fn, args: Inputs, consts: Inputs, rng: np.random.Generator) -> Inputs:
    return tuple(_normal_like(rng, a) for a in args)


def _cotangent(fn: Fn, args: Inputs, consts: Inputs, rng: np.random.Generator) -> Inputs:
    return (_normal_like(rng, fn.out_aux(args, consts)[0]),)


def jvp() -> Variant:
    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            args, consts, ts = _split(fn, xs)
            return multiad.jvp(_closed(fn, consts), args, ts, has_aux=fn.has_aux)

        return g

    def ref(fn: Fn, xs: Inputs) -> Any:
        args, consts, ts = _split(fn, xs)
        return _jvp_ref(fn, args, consts, ts)

    return Variant("jvp", "jvp", frozenset({"jvp"}), 1, build, ref, _tangents)


def vjp() -> Variant:
    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            args, consts, (ct,) = _split(fn, xs)
            res = multiad.vjp(_closed(fn, consts), *args, has_aux=fn.has_aux)
            return (res[0], res[1](ct), res[2]) if fn.has_aux else (res[0], res[1](ct))

        return g

    def ref(fn: Fn, xs: Inputs) -> Any:
        args, consts, (ct,) = _split(fn, xs)
        return _vjp_ref(fn, args, consts, ct)

    return Variant("vjp", "vjp", frozenset({"vjp"}), 1, build, ref, _cotangent)


def linearize() -> Variant:
    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            args, consts, ts = _split(fn, xs)
            out, jvp_fn = multiad.linearize(_closed(fn, consts), *args)
            return out, jvp_fn(*ts)

        return g

    def ref(fn: Fn, xs: Inputs) -> Any:
        args, consts, ts = _split(fn, xs)
        return _jvp_ref(fn, args, consts, ts)

    return Variant("linearize", "linearize", frozenset({"linearize"}), 1, build, ref, _tangents)


def jacobian(transform: str, argnums: Argnums = 0, mode: str = "auto", chunk_size: int | None = None) -> Variant:
    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            args, consts, _ = _split(fn, xs)
            if transform == "jacobian":
                jf = multiad.jacobian(fn.f, argnums, has_aux=fn.has_aux, mode=mode, chunk_size=chunk_size)
            else:
                jf = getattr(multiad, transform)(fn.f, argnums, has_aux=fn.has_aux, chunk_size=chunk_size)
            return jf(*args, *consts)

        return g

    def ref(fn: Fn, xs: Inputs) -> Any:
        args, consts, _ = _split(fn, xs)
        return _with_aux(fn, _jac_ref(fn, args, consts, argnums), args, consts)

    opts = [f"argnums={argnums}"] if argnums != 0 else []
    if transform == "jacobian":
        opts.append(f"mode={mode}")
    if chunk_size is not None:
        opts.append(f"chunk_size={chunk_size}")
    name = transform + (f"[{','.join(opts)}]" if opts else "")
    uses = {transform} | ({"jacfwd"} if mode == "fwd" else set()) | ({"jacrev"} if mode == "rev" else set())
    return Variant(name, transform, frozenset(uses), 1, build, ref, family="chunk_size" if chunk_size else None)


def hessian(argnums: Argnums = 0) -> Variant:
    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            args, consts, _ = _split(fn, xs)
            return multiad.hessian(fn.f, argnums)(*args, *consts)

        return g

    def ref(fn: Fn, xs: Inputs) -> Any:
        args, consts, _ = _split(fn, xs)
        return _hess_ref(fn, args, consts, argnums)

    suffix = "" if argnums == 0 else f"[argnums={argnums}]"
    return Variant(f"hessian{suffix}", "hessian", frozenset({"hessian"}), 2, build, ref)


def hvp(which: str) -> Variant:
    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            args, consts, ts = _split(fn, xs)
            return getattr(multiad, which)(_closed(fn, consts), args, ts)

        return g

    def ref(fn: Fn, xs: Inputs) -> Any:
        args, consts, ts = _split(fn, xs)
        assert fn.hess is not None
        return tuple(_trees.unravel(fn.hess(*args, *consts) @ _trees.ravel(ts), args))

    return Variant(which, which, frozenset({which}), 2, build, ref, _tangents)


def third(nesting: str) -> Variant:
    """Third derivatives by nesting: ``grad(grad(grad(f)))`` for a scalar argument, or
    ``jacfwd(hessian(f))`` or ``jacfwd(jacfwd(jacfwd(f)))`` for a vector one.

    NOTE [Forward mode three deep]: ``jacfwd(hessian)`` puts one forward transform around
    the backend's ``jvp``, so a plugin whose ``jvp`` kept the derivatives of its tangents one
    enclosing transform deep but not two (a tape kept for a fixed depth) was certified;
    ``jacfwd(jacfwd(jacfwd))`` runs the innermost ``jvp`` under two enclosing ones.
    """

    def build(fn: Fn) -> Callable[..., Any]:
        def g(x: Any) -> Any:
            if nesting == "grad(grad(grad))":
                return multiad.grad(multiad.grad(multiad.grad(fn.f)))(x)
            if nesting == "jacfwd(jacfwd(jacfwd))":
                return multiad.jacfwd(multiad.jacfwd(multiad.jacfwd(fn.f)))(x)
            return multiad.jacfwd(multiad.hessian(fn.f))(x)

        return g

    def ref(fn: Fn, xs: Inputs) -> Any:
        (x,) = xs
        assert fn.third is not None
        return fn.third(x).reshape(np.shape(x) * 3)

    uses = frozenset(
        {"grad"} if nesting == "grad(grad(grad))" else {"jacfwd"} if "hessian" not in nesting else {"jacfwd", "hessian"}
    )
    return Variant(f"third derivative[{nesting}]", "third derivative", uses, 3, build, ref)


def value() -> Variant:
    """The function itself (to be batched by :func:`batched`)."""

    def build(fn: Fn) -> Callable[..., Any]:
        return fn.f

    def ref(fn: Fn, xs: Inputs) -> Any:
        return fn.value(*xs)

    return Variant("value", "vmap", frozenset(), 0, build, ref)


def batched(inner: Variant, in_dims: Any, out_dims: int = 0, chunk_size: int | None = None, size: int = 4) -> Variant:
    """``vmap(inner)`` over ``size`` samples; the reference stacks the inner references."""

    def build(fn: Fn) -> Callable[..., Any]:
        return multiad.vmap(inner.build(fn), in_dims, out_dims, chunk_size)

    def axes(xs: Inputs) -> list[list[Any]]:
        dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(xs)
        return [_tree.leaf_axes(d, x) for d, x in zip(dims, xs)]

    def inputs(fn: Fn, rng: np.random.Generator) -> Inputs:
        each = [inner.inputs(fn, np.random.default_rng(int(s))) for s in rng.integers(0, 2**31, size)]
        out = []
        for k, (x0, ax) in enumerate(zip(each[0], axes(each[0]))):
            cols = [_trees.leaves(s[k]) for s in each]
            leaves = [
                x if a is None else np.stack([c[j] for c in cols], axis=a)
                for j, (x, a) in enumerate(zip(_trees.leaves(x0), ax))
            ]
            out.append(_trees.unflatten(_trees.structure(x0), leaves))
        return tuple(out)

    def ref(fn: Fn, xs: Inputs) -> Any:
        assert inner.reference is not None
        all_axes = axes(xs)
        per = []
        for i in range(size):
            xi = []
            for x, ax in zip(xs, all_axes):
                ls = [leaf if a is None else np.take(leaf, i, axis=a) for leaf, a in zip(_trees.leaves(x), ax)]
                xi.append(_trees.unflatten(_trees.structure(x), ls))
            per.append(inner.reference(fn, tuple(xi)))
        stacked = _trees.tree_map(lambda *ys: np.stack(ys), per[0], *per[1:])
        return _trees.tree_map(lambda y: np.moveaxis(y, 0, out_dims), stacked)

    opts = [f"in_dims={in_dims}"] + ([f"out_dims={out_dims}"] if out_dims else [])
    opts += [f"chunk_size={chunk_size}"] if chunk_size else []
    return Variant(
        f"vmap({inner.name})[{', '.join(opts)}]",
        "vmap" if inner.order == 0 else f"vmap of {inner.transform}",
        inner.uses | {"vmap"},
        inner.order,
        build,
        ref,
        family="vmap" if inner.order == 0 else "batched",
        make_inputs=inputs,
    )


def called_twice(inner: Variant) -> Variant:
    """``inner``'s function built once and called on two draws of its inputs: a backend's
    batched function is kept by ``multiad.vmap`` and must use each call's arguments, the
    unbatched ones included (``Backend.vmap`` in docs/plugins.md)."""

    def build(fn: Fn) -> Callable[..., Any]:
        g = inner.build(fn)

        def twice(*xs: Any) -> Any:
            n = len(xs) // 2
            return g(*xs[:n]), g(*xs[n:])

        return twice

    def inputs(fn: Fn, rng: np.random.Generator) -> Inputs:
        return (*inner.inputs(fn, rng), *inner.inputs(fn, rng))

    def ref(fn: Fn, xs: Inputs) -> Any:
        assert inner.reference is not None
        n = len(xs) // 2
        return inner.reference(fn, xs[:n]), inner.reference(fn, xs[n:])

    return Variant(
        f"{inner.name}[called twice]", inner.transform, inner.uses, inner.order, build, ref,
        family=inner.family, make_inputs=inputs,
    )  # fmt: skip
