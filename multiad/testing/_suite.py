"""The list of conformance cases: which variants run on which functions."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _cases as v
from . import _custom_cases, _trees
from . import _edge as E
from . import _fns as F
from . import _identities as ident
from . import _nested as nested
from ._fns import Fn


@dataclasses.dataclass(frozen=True)
class Case:
    """One conformance case: ``variant`` applied to ``fn``."""

    fn: Fn
    variant: v.Variant
    #: The function with the derivative a backend gives when it drops one (conversions).
    dropped: Fn | None = None

    @property
    def id(self) -> str:
        return f"{self.fn.name}.{self.variant.name}"

    @property
    def family(self) -> str:
        return self.variant.family or self.fn.family

    @property
    def transform(self) -> str:
        return self.variant.transform

    @property
    def uses(self) -> frozenset[str]:
        return self.variant.uses

    @property
    def order(self) -> int:
        return self.variant.order

    @property
    def identity(self) -> bool:
        return self.variant.reference is None

    def inputs(self) -> tuple[Any, ...]:
        """float64 numpy inputs (pytrees), the same on every run."""
        return self.variant.inputs(self.fn, F.rng_for(self.id))

    def build(self) -> Callable[..., Any]:
        return self.variant.build(self.fn)

    def reference(self, inputs: tuple[Any, ...]) -> Any:
        assert self.variant.reference is not None, f"{self.id} is reference-free"
        return self.variant.reference(self.fn, inputs)


def _cases() -> list[Case]:
    out: list[Case] = []

    def add(fn: Fn, *variants: v.Variant) -> None:
        out.extend(Case(fn, var) for var in variants)

    first_order = (v.jvp(), v.vjp(), v.jacobian("jacrev"), v.jacobian("jacfwd"))
    add(F.EXP_SIN, v.grad(), v.value_and_grad(), *first_order, v.linearize(), v.hessian(), v.third("grad(grad(grad))"))
    add(
        F.SIN_SQ,
        v.grad(),
        v.value_and_grad(),
        *first_order,
        v.hessian(),
        v.hvp("hvp"),
        v.hvp("vhp"),
        v.third("jacfwd(hessian)"),
        v.third("jacfwd(jacfwd(jacfwd))"),
    )
    add(F.VV_SQUARE, *first_order, v.jacobian("jacobian"), v.jacobian("jacobian", mode="fwd"), v.linearize())
    add(F.VV_RECT, *first_order, v.jacobian("jacobian"), v.jacobian("jacobian", mode="rev"))
    add(F.MATRIX, *first_order, v.jacobian("jacobian"))
    add(
        F.MULTI_SCALAR,
        v.grad((0, 2)),
        v.grad((2, 0)),
        v.grad(1),
        v.value_and_grad((0, 1, 2)),
        v.hessian((0, 1)),
        v.hessian((2, 0)),
        v.hvp("hvp"),
        v.vjp(),
    )
    add(F.MULTI_VECTOR, v.jacobian("jacrev", (1, 0)), v.jacobian("jacfwd", (0, 1)), v.jvp(), v.vjp())
    for fn in F.TREE_SCALARS:
        add(fn, v.grad(), v.hessian())
    add(F.TREE_SCALARS[0], v.jvp(), v.jacobian("jacfwd"))
    add(F.TREE_OUT, v.jacobian("jacrev"), v.jacobian("jacfwd"), v.vjp(), v.jvp())
    add(F.AUX_SCALAR, v.grad(), v.value_and_grad(), v.vjp())
    add(F.AUX_VECTOR, v.jacobian("jacrev"), v.jacobian("jacfwd"), v.jvp())
    # vmap of plain functions: in_dims with None and pytree prefixes, out_dims, chunk_size.
    add(F.VV_SQUARE, v.batched(v.value(), (0, None)), v.batched(v.value(), (0, None), out_dims=1))
    add(F.VV_RECT, v.batched(v.value(), (0, None), chunk_size=3, size=7))
    add(F.TREE_SCALARS[0], v.batched(v.value(), ({"w": None, "b": 0}, 0)))
    add(F.MATRIX, v.batched(v.value(), (1, None)))
    add(F.VV_SQUARE, v.called_twice(v.batched(v.value(), (0, None))))
    # Per-sample gradients, batched Jacobians and Hessians.
    add(F.LOSS, v.batched(v.grad((0, 1)), (None, None, 0, 0)))
    add(F.LOSS, v.batched(v.grad((0, 1)), (None, None, 0, 0), chunk_size=2, size=5))
    add(F.PREDICT, v.batched(v.jacobian("jacrev", 2), (None, None, 0)))
    add(F.PREDICT, v.called_twice(v.batched(v.jacobian("jacrev", 2), (None, None, 0))))
    add(F.PREDICT, v.batched(v.jacobian("jacfwd", 2), (None, None, 0), out_dims=1))
    add(F.SIN_SQ, v.batched(v.hessian(), 0))
    # Python control flow on values.
    add(F.DOUBLING, v.grad(), v.value_and_grad(), v.vjp(), v.jvp(), v.jacobian("jacrev"))
    # Reference-free identities.
    add(F.VV_SQUARE, ident.dot_product(), ident.fwd_equals_rev())
    add(F.MULTI_VECTOR, ident.dot_product(), ident.fwd_equals_rev())
    add(F.TREE_OUT, ident.dot_product())
    add(F.SIN_SQ, ident.hessian_is_fwd_of_rev(), ident.hvp_is_hessian_times_v(), ident.vmap_grad_is_stacked())
    # Reverse mode through forward mode (NOTE [Reverse over forward]).
    add(F.SIN_SQ, nested.grad_of_jvp(), nested.vjp_of_jvp(), nested.jacrev_of_jacfwd())
    add(F.EXP_SIN, nested.grad_of_jvp(), nested.jacrev_of_jacfwd())
    add(F.MULTI_SCALAR, nested.grad_of_jvp(), nested.vjp_of_jvp())
    add(F.SIN_SQ, nested.fwd_over_rev_is_rev_over_fwd())
    # A 3-D argument of 45 elements, three output leaves (NOTE [Sizes, ranks and output counts]).
    add(F.ND3_THREE, *first_order, ident.dot_product())
    # The framework's numpy operations through multiad.numpy (NOTE [The namespace's operations]).
    add(F.NAMESPACE_OPS, v.jacobian("jacrev"), v.jacobian("jacfwd"), v.vjp(), v.jvp())
    # float64 derivatives to rounding (NOTE [Float64 precision]).
    add(F.CUBE, v.grad(), *first_order, v.hessian(), v.hvp("hvp"), nested.grad_of_jvp())
    # Custom derivative rules, tested both ways (NOTE [Custom rules both ways]).
    for fn, variant in _custom_cases.cases():
        add(fn, variant)
    _edge_cases(add, out)
    return out


def _edge_cases(add: Callable[..., None], out: list[Case]) -> None:
    """The families of multiad/testing/_edge.py, and chunk_size on every chunked transform."""
    both = (0, 1)
    add(E.ALIAS_SCALAR, *(E.aliased(x) for x in (v.grad(both), v.value_and_grad(both), v.hessian(both))))
    add(E.ALIAS_SCALAR, E.aliased(v.vjp()), E.aliased(v.jvp()))
    add(F.MULTI_VECTOR, E.aliased(v.jacobian("jacrev", both)), E.aliased(v.jacobian("jacfwd", both)))
    # chunk_size 1, a divisor, a non-divisor and more than n: jacrev splits the 3 outputs of
    # w_tanh_x, jacfwd its 4 inputs; two_args_vector spreads 6 inputs over two arguments.
    for chunk in (1, 2, 3, 5):
        add(F.VV_RECT, v.jacobian("jacrev", chunk_size=chunk), v.jacobian("jacfwd", chunk_size=chunk))
        add(F.VV_RECT, v.jacobian("jacobian", chunk_size=chunk))
    for chunk in (4, 7):
        add(F.MULTI_VECTOR, v.jacobian("jacfwd", both, chunk_size=chunk))
    add(F.MULTI_VECTOR, v.jacobian("jacrev", both, chunk_size=2))
    for chunk, size in ((1, 3), (2, 4), (6, 4)):
        batched = v.batched(v.value(), (0, None), chunk_size=chunk, size=size)
        add(F.VV_RECT, dataclasses.replace(batched, family="chunk_size"))
    add(
        F.LOSS,
        dataclasses.replace(v.batched(v.grad(both), (None, None, 0, 0), chunk_size=1, size=3), family="chunk_size"),
    )
    # Pullbacks and linearized functions reused.
    add(F.VV_SQUARE, E.vjp_twice(), E.vjp_in_vmap(), E.linearize_twice())
    add(F.MULTI_VECTOR, E.vjp_twice(), E.vjp_in_vmap())
    add(F.SIN_SQ, E.vjp_in_vmap())
    # Arrays with no elements, 0-d arguments.
    first = (v.jvp(), v.vjp(), v.jacobian("jacrev"), v.jacobian("jacfwd"))
    add(E.EMPTY_IN, *first)
    add(E.EMPTY_OUT, *first)
    add(E.EMPTY_SCALAR, v.grad(), v.value_and_grad(), v.hessian())
    add(E.ZERO_D_VECTOR, *first)
    # Conversions inside f: NonDifferentiableError or the kept derivative, never a dropped one.
    for var in (v.grad(), v.jvp(), v.vjp(), v.jacobian("jacfwd")):
        out.append(Case(E.CONVERTS, E.accepting(var, "NonDifferentiableError"), dropped=E.CONVERTS_DROPPED))
    for var in (v.grad(), v.jvp(), v.vjp()):
        out.append(Case(E.FLOATS, E.accepting(var, "NonDifferentiableError"), dropped=E.FLOATS_DROPPED))
        out.append(Case(E.NUMPY_CONVERTS, E.accepting(var, "NonDifferentiableError"), dropped=E.NUMPY_CONVERTS_DROPPED))
        out.append(Case(E.ITEMS, E.accepting(var, "NonDifferentiableError"), dropped=E.ITEMS_DROPPED))
        out.append(Case(E.TOLISTS, E.accepting(var, "NonDifferentiableError"), dropped=E.TOLISTS_DROPPED))
    # Outputs that do not depend on the arguments: zeros of the right shape.
    add(E.CONSTANT, *first)
    add(E.CONSTANT_SCALAR, v.grad(), v.value_and_grad(), v.hessian(), v.hvp("hvp"))


CASES: tuple[Case, ...] = tuple(_cases())
_ids = [c.id for c in CASES]
assert len(set(_ids)) == len(_ids), "conformance case ids must be unique"


def inputs_as(dtype: str, inputs: Any) -> Any:
    """``inputs`` rounded to ``dtype`` (the backend sees these; references use them in float64)."""
    return _trees.tree_map(lambda x: np.asarray(x, dtype=dtype), inputs)
