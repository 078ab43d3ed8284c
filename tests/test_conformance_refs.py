"""The conformance suite's closed-form references, checked against finite differences.

Every case's reference is built from its function's closed forms (value, dense Jacobian,
Hessian, third derivative; multiad/testing/_fns.py). Here each closed form is replaced by
float64 fourth-order central differences of the one below it (the Jacobian from the value, the
Hessian from the closed-form Jacobian, the third derivative from the closed-form Hessian), and
every case's reference is rebuilt and compared. The functions written with multiad.numpy are
also compared with their numpy closed-form values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
from multiad.testing import CASES, Case, Fn, _custom_cases, _edge, _fns, _trees

# A custom rule's closed forms are the rule's, not differences of the value (NOTE [Custom rules both ways]).
REF_CASES = [c for c in CASES if not c.identity and c.fn.name not in _custom_cases.RULE_DEFINED]


def fd_dense(fun: Callable[..., Any], args: tuple[Any, ...], consts: tuple[Any, ...]) -> np.ndarray:
    """d ravel(fun(*args, *consts)) / d ravel(args), by a five-point central stencil."""
    u = _trees.ravel(args)
    if u.size == 0:
        return np.zeros((_trees.ravel(fun(*args, *consts)).size, 0))
    cols = []
    for k in range(u.size):
        h = 1e-3 * max(1.0, abs(float(u[k])))

        def at(step: float, k: int = k) -> np.ndarray:
            v = u.copy()
            v[k] += step
            return _trees.ravel(fun(*_trees.unravel(v, args), *consts))

        cols.append((8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h))
    return np.stack(cols, axis=1)


def fd_twin(fn: Fn) -> Fn:
    """``fn`` with every closed-form derivative replaced by differences of the one below it."""

    def out_only(*xs: Any) -> Any:
        res = fn.value(*xs)
        return res[0] if fn.has_aux else res

    def split(xs: tuple[Any, ...]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        n = len(fn.make_args(np.random.default_rng(0)))
        return xs[:n], xs[n:]

    def jac(*xs: Any) -> np.ndarray:
        return fd_dense(out_only, *split(xs))

    def hess(*xs: Any) -> np.ndarray:
        return fd_dense(fn.jac, *split(xs))

    def third(*xs: Any) -> np.ndarray:
        assert fn.hess is not None
        d = fd_dense(fn.hess, *split(xs))
        n = d.shape[1]
        return d.reshape(n, n, n)

    return dataclasses.replace(
        fn, jac=jac, hess=hess if fn.hess else None, third=third if fn.third and fn.hess else None
    )


def assert_trees_close(actual: Any, expected: Any, rtol: float, atol: float) -> None:
    assert _trees.structure(actual) == _trees.structure(expected)
    for a, e in zip(_trees.leaves(actual), _trees.leaves(expected)):
        a, e = np.asarray(a, dtype=np.float64), np.asarray(e, dtype=np.float64)
        assert a.shape == e.shape
        scale = float(np.max(np.abs(e))) if e.size else 0.0
        err = float(np.max(np.abs(a - e))) if a.size else 0.0
        assert err <= atol + rtol * scale, f"off by {err:.3g} (scale {scale:.3g})"


@pytest.mark.parametrize("case", REF_CASES, ids=[c.id for c in REF_CASES])
def test_reference_matches_finite_differences(case: Case) -> None:
    inputs = case.inputs()
    closed = case.reference(inputs)
    differenced = Case(fd_twin(case.fn), case.variant).reference(inputs)
    assert_trees_close(closed, differenced, rtol=1e-7, atol=1e-9)


EVERY_FN = _fns.ALL_FNS + _edge.EDGE_FNS


@pytest.mark.parametrize("fn", EVERY_FN, ids=[f.name for f in EVERY_FN])
def test_multiad_numpy_function_matches_closed_form_value(fn: Fn) -> None:
    args, consts = fn.inputs(_fns.rng_for(fn.name))
    with multiad.use_backend("numpy"):  # numpy arrays in and out, whatever the default backend
        value = fn.f(*args, *consts)
    assert_trees_close(value, fn.value(*args, *consts), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("fn", _fns.ALL_FNS, ids=[f.name for f in _fns.ALL_FNS])
def test_derivatives_are_not_trivial(fn: Fn) -> None:
    """A zero or symmetric Jacobian could hide transposition or scaling bugs in the suite."""
    args, consts = fn.inputs(_fns.rng_for(fn.name))
    jac = fn.jac(*args, *consts)
    assert np.max(np.abs(jac)) > 0.1
    if jac.shape[0] == jac.shape[1] and jac.shape[0] > 1:
        assert not np.allclose(jac, jac.T), f"{fn.name}: a square Jacobian should not be symmetric"


def test_every_case_family_and_transform_is_covered() -> None:
    families = {c.family for c in CASES}
    assert families >= {
        "scalar->scalar", "vector->scalar", "vector->vector", "matrix", "several arguments", "pytrees",
        "has_aux", "vmap", "batched", "control flow", "reference-free", "aliased primals", "chunk_size",
        "pullbacks", "empty and 0-d", "conversions", "constant outputs",
    }  # fmt: skip
    used = set().union(*(c.uses for c in CASES))
    from multiad._backend import TRANSFORMS

    assert used >= set(TRANSFORMS), f"transforms no case uses: {set(TRANSFORMS) - used}"
