"""The list of conformance cases: which variants run on which functions."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _cases as v
from . import _custom_cases, _trees
from . import _fns as F
from . import _identities as ident
from ._fns import Fn


@dataclasses.dataclass(frozen=True)
class Case:
    """One conformance case: ``variant`` applied to ``fn``."""

    fn: Fn
    variant: v.Variant

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
    # Per-sample gradients, batched Jacobians and Hessians.
    add(F.LOSS, v.batched(v.grad((0, 1)), (None, None, 0, 0)))
    add(F.LOSS, v.batched(v.grad((0, 1)), (None, None, 0, 0), chunk_size=2, size=5))
    add(F.PREDICT, v.batched(v.jacobian("jacrev", 2), (None, None, 0)))
    add(F.PREDICT, v.batched(v.jacobian("jacfwd", 2), (None, None, 0), out_dims=1))
    add(F.SIN_SQ, v.batched(v.hessian(), 0))
    # Python control flow on values.
    add(F.DOUBLING, v.grad(), v.value_and_grad(), v.vjp(), v.jvp(), v.jacobian("jacrev"))
    # Reference-free identities.
    add(F.VV_SQUARE, ident.dot_product(), ident.fwd_equals_rev())
    add(F.MULTI_VECTOR, ident.dot_product(), ident.fwd_equals_rev())
    add(F.TREE_OUT, ident.dot_product())
    add(F.SIN_SQ, ident.hessian_is_fwd_of_rev(), ident.hvp_is_hessian_times_v(), ident.vmap_grad_is_stacked())
    # Custom derivative rules, tested both ways (NOTE [Custom rules both ways]).
    for fn, variant in _custom_cases.cases():
        add(fn, variant)
    return out


CASES: tuple[Case, ...] = tuple(_cases())
_ids = [c.id for c in CASES]
assert len(set(_ids)) == len(_ids), "conformance case ids must be unique"


def inputs_as(dtype: str, inputs: Any) -> Any:
    """``inputs`` rounded to ``dtype`` (the backend sees these; references use them in float64)."""
    return _trees.tree_map(lambda x: np.asarray(x, dtype=dtype), inputs)
