"""vmap refuses an ``f`` whose output structure changes between the runs of one call (NOTE [One
output structure per call]): a loop backend running a value-dependent branch per example, or a
chunked vmap of an ``f`` with state. Before, the last run's structure was given to all runs'
leaves: example 1's ``{"b": ...}`` came back under ``"a"``, a second output was dropped, and
leaf counts that differed by chunk met raw framework errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp
from multiad import InvalidArgumentError

LOOPS = ("autograd", "numpy")  # backends whose vmap runs f once per example
X = np.array([[1.0, -2.0], [-1.0, 3.0], [2.0, 2.0]])  # example 1 takes the other branch

BRANCHES: dict[str, Callable[[Any], Any]] = {
    "dict keys": lambda v: {"a": v} if v[0] > 0 else {"b": v * 10.0},
    "more outputs": lambda v: (v,) if v[0] > 0 else (v * 10.0, v * 0.0),
    "fewer outputs": lambda v: (v, v) if v[0] > 0 else (v * 10.0,),
    "array then tuple": lambda v: v if v[0] > 0 else (v * 10.0, v),
    "tuple then array": lambda v: (v, v) if v[0] > 0 else v * 10.0,
    "tuple then list": lambda v: (v, v) if v[0] > 0 else [v, v],
}


@pytest.mark.parametrize("name", LOOPS)
@pytest.mark.parametrize("branch", sorted(BRANCHES))
@pytest.mark.parametrize("kwargs", [False, True], ids=["positional", "keyword"])
def test_a_loop_refuses_a_structure_that_depends_on_the_values(name: str, branch: str, kwargs: bool) -> None:
    f = BRANCHES[branch]
    if kwargs:  # a call with keyword arguments takes the per-call flat function, not the prepared one
        g = multiad.vmap(lambda v, *, c: f(v * c), backend=name)
        run: Callable[[], Any] = lambda: g(X, c=1.0)  # noqa: E731
    else:
        run = lambda: multiad.vmap(f, backend=name)(X)  # noqa: E731
    with pytest.raises(InvalidArgumentError, match=r"^vmap\(.*\): f returned an output structured as .* later one"):
        run()


@pytest.mark.parametrize("name", LOOPS)
def test_a_loop_refuses_an_aux_whose_structure_depends_on_the_values(name: str) -> None:
    def f(v: Any) -> Any:
        aux = {"pos": v[0]} if v[0] > 0 else {"neg": v[0]}
        return mnp.sum(v**2), aux

    with pytest.raises(InvalidArgumentError, match="structured as"):
        multiad.vmap(multiad.grad(f, has_aux=True), backend=name)(X)


def _stateful(kind: str) -> Callable[[Any], Any]:
    runs = [0]

    def f(v: Any) -> Any:
        runs[0] += 1
        first = runs[0] == 1
        if kind == "dict keys":
            return {"a": v * 1.0} if first else {"b": v * 10.0}
        if kind == "more outputs":
            return (v * 1.0,) if first else (v * 10.0, v * 0.0)
        return (v * 1.0, v) if first else (v * 10.0,)

    return f


@pytest.mark.parametrize("kind", ["dict keys", "more outputs", "fewer outputs"])
def test_chunks_whose_structures_differ_are_refused(backend: Case, kind: str) -> None:
    x = np.arange(8.0).reshape(4, 2)
    with pytest.raises(InvalidArgumentError, match="structured as"):
        multiad.vmap(_stateful(kind), chunk_size=2, backend=backend.name)(x)


def test_runs_with_one_structure_pass_and_give_the_loop_values(backend: Case) -> None:
    # the check compares structures only: a branch that keeps the structure is fine, and a nested
    # vmap whose outputs are structured otherwise than the outer ones is not taken for a change
    def f(v: Any) -> Any:
        inner = multiad.vmap(lambda w: (w, w * 2.0), backend=backend.name)(v[:, None])
        return {"y": mnp.where(v[0] > 0, v, -v), "inner": inner}

    x = np.arange(12.0).reshape(6, 2) - 5.0
    for chunk_size in (None, 2, 4):
        out = multiad.vmap(f, chunk_size=chunk_size, backend=backend.name)(x)
        assert sorted(out) == ["inner", "y"]
        expected_y = np.array([row if row[0] > 0 else -row for row in x])
        np.testing.assert_array_equal(multiad.to_numpy(out["y"]), expected_y)
        np.testing.assert_array_equal(multiad.to_numpy(out["inner"][0]), x[:, :, None])
        np.testing.assert_array_equal(multiad.to_numpy(out["inner"][1]), 2.0 * x[:, :, None])
        # a second call of the same vmap (its prepared form) starts afresh
        again = multiad.vmap(f, chunk_size=chunk_size, backend=backend.name)(x[::-1].copy())
        np.testing.assert_array_equal(multiad.to_numpy(again["y"]), expected_y[::-1])
