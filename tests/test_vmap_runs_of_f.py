"""How many times vmap runs ``f``, as its docstring and docs/api.md state: once per call on torch
and JAX (once per chunk with ``chunk_size``), once per batch element on autograd and numpy (a
loop), once over an empty batch. Random draws inside ``f`` follow from that; values drawn outside
and passed in as a batched argument give the same numbers on every backend."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad

VECTORIZED = ("torch", "jax")


@pytest.mark.parametrize("n, chunk_size", [(3, None), (5, 2), (4, 4), (0, None)])
def test_runs_of_f(backend: Case, n: int, chunk_size: int | None) -> None:
    runs = []

    def f(x: Any) -> Any:
        runs.append(1)
        return x * 2.0

    out = multiad.vmap(f, chunk_size=chunk_size, backend=backend.name)(np.ones((n, 2)))
    np.testing.assert_array_equal(multiad.to_numpy(out), np.full((n, 2), 2.0))
    if n == 0:
        expected = 1
    elif backend.name in VECTORIZED:
        expected = 1 if chunk_size is None else math.ceil(n / chunk_size)
    else:
        expected = n
    assert len(runs) == expected


def test_random_draws_inside_f_follow_the_runs(backend: Case) -> None:
    rng = np.random.default_rng(0)
    out = multiad.to_numpy(multiad.vmap(lambda x: x + rng.standard_normal(2), backend=backend.name)(np.zeros((3, 2))))
    same = [np.array_equal(out[0], out[k]) for k in (1, 2)]
    assert same == ([True, True] if backend.name in VECTORIZED else [False, False])


def test_random_values_passed_in_are_the_same_everywhere(backend: Case) -> None:
    noise = np.random.default_rng(0).standard_normal((3, 2))
    out = multiad.vmap(lambda x, e: x + e, chunk_size=2, backend=backend.name)(np.zeros((3, 2)), noise)
    np.testing.assert_array_equal(multiad.to_numpy(out), noise)
