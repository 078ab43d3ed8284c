"""Quantiles under torch.compile with ``q`` given as a list (NOTE [Numbers of a host answer] in
multiad/numpy/_quantile.py), with and without ``fullgraph``, against numpy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

torch = pytest.importorskip("torch")
if not hasattr(torch, "compile"):
    pytest.skip("torch.compile is not available", allow_module_level=True)

X = np.array([[0.3, -1.2, 2.5, 0.7], [1.0, 0.1, -0.4, 3.3]])

#: name -> (multiad's call, numpy's).
CASES: dict[str, tuple[Callable[[Any], Any], Callable[[np.ndarray], Any]]] = {
    "quantile list": (lambda x: mnp.quantile(x, [0.25, 0.5]), lambda x: np.quantile(x, [0.25, 0.5])),
    "quantile nested list, axis": (
        lambda x: mnp.quantile(x, [[0.1, 0.9], [0.3, 0.5]], axis=1),
        lambda x: np.quantile(x, [[0.1, 0.9], [0.3, 0.5]], axis=1),
    ),
    "quantile tuple": (lambda x: mnp.quantile(x, (0.2, 0.8), axis=0), lambda x: np.quantile(x, (0.2, 0.8), axis=0)),
    "percentile list, keepdims, midpoint": (
        lambda x: mnp.percentile(x, [30.0, 75.0], axis=0, keepdims=True, method="midpoint"),
        lambda x: np.percentile(x, [30.0, 75.0], axis=0, keepdims=True, method="midpoint"),
    ),
    "nanquantile list": (
        lambda x: mnp.nanquantile(x, [0.2, 0.8], axis=1),
        lambda x: np.nanquantile(x, [0.2, 0.8], axis=1),
    ),
}


@pytest.mark.parametrize("fullgraph", [False, True])
@pytest.mark.parametrize("name", sorted(CASES))
def test_quantiles_of_a_list_compile(name: str, fullgraph: bool) -> None:
    ours, numpy_s = CASES[name]
    torch._dynamo.reset()
    got = torch.compile(ours, backend="aot_eager", fullgraph=fullgraph)(torch.from_numpy(X))
    want = numpy_s(X)
    assert tuple(got.shape) == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)


def test_the_gradient_of_quantiles_of_a_list_compiles() -> None:
    # Sorted, x is (-1.2, 0.3, 0.7, 2.5): q 0.25 is 0.25 s0 + 0.75 s1 and q 0.5 is 0.5 s1 + 0.5 s2,
    # so the gradient of their sum is 1.25 at 0.3, 0.25 at -1.2, 0 at 2.5 and 0.5 at 0.7.
    g = multiad.grad(lambda z: mnp.sum(mnp.quantile(z, [0.25, 0.5])))
    torch._dynamo.reset()
    got = torch.compile(g, backend="aot_eager", fullgraph=True)(torch.from_numpy(X[0].copy()))
    np.testing.assert_allclose(got.numpy(), [1.25, 0.25, 0.0, 0.5], rtol=1e-12, atol=1e-12)
