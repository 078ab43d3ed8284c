"""On the numpy backend an argument f returns in aux comes back writable, as on the other
backends, while f itself still gets read-only views (NOTE [Arguments returned as aux] in
backends/numpy/multiad_numpy/_levels.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

NP = "numpy"


def _f(x: Any, c: Any) -> Any:
    return mnp.sum(mnp.sin(x) * c), (x, c, x[:1], {"c": c.T})


def _vec(x: Any, c: Any) -> Any:
    return mnp.sin(x) * c, (x, c, x[:1], {"c": c.T})


CALLS: dict[str, Callable[[Any, Any], tuple[Any, Any]]] = {
    "grad": lambda x, c: multiad.grad(_f, has_aux=True, backend=NP)(x, c),
    "value_and_grad": lambda x, c: (lambda r: (r[1], r[0][1]))(
        multiad.value_and_grad(_f, has_aux=True, backend=NP)(x, c)
    ),
    "vjp": lambda x, c: (lambda r: (r[1](np.ones(2))[0], r[2]))(multiad.vjp(_vec, x, c, has_aux=True, backend=NP)),
    "jvp": lambda x, c: (lambda r: (r[1], r[2]))(
        multiad.jvp(lambda x: _vec(x, c), (x,), (np.ones(2),), has_aux=True, backend=NP)
    ),
    "jacrev": lambda x, c: multiad.jacrev(_vec, has_aux=True, backend=NP)(x, c),
    "jacfwd": lambda x, c: multiad.jacfwd(_vec, has_aux=True, backend=NP)(x, c),
    "hessian": lambda x, c: multiad.hessian(_f, has_aux=True, backend=NP)(x, c),
}

EXPECTED = {  # of sum(sin(x) * c), c = [2, 3], at x = [0.5, 1.0]; against closed forms
    "grad": lambda x, c: np.cos(x) * c,
    "value_and_grad": lambda x, c: np.cos(x) * c,
    "vjp": lambda x, c: np.cos(x) * c,
    "jvp": lambda x, c: np.cos(x) * c,
    "jacrev": lambda x, c: np.diag(np.cos(x) * c),
    "jacfwd": lambda x, c: np.diag(np.cos(x) * c),
    "hessian": lambda x, c: np.diag(-np.sin(x) * c),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_aux_arguments_come_back_writable(name: str) -> None:
    x, c = np.array([0.5, 1.0]), np.array([2.0, 3.0])
    result, aux = CALLS[name](x, c)
    tol = 1e-5 if name == "hessian" else 1e-7
    np.testing.assert_allclose(result, EXPECTED[name](x, c), rtol=tol, atol=tol)
    ax, ac, head, nested = aux
    for got, want in [(ax, [0.5, 1.0]), (ac, [2.0, 3.0]), (head, [0.5]), (nested["c"], [2.0, 3.0])]:
        assert isinstance(got, np.ndarray) and got.flags.writeable
        np.testing.assert_array_equal(got, want)
    ax += 1.0  # as the caller can with autograd's and torch's aux
    ac[0] = 7.0
    nested["c"][1] = 9.0
    assert x.tolist() == [0.5, 1.0]  # the caller's arrays are their own
    if name == "jvp":  # c is closed over, not an argument: f returns the caller's own array
        assert ac is c
    else:
        assert c.tolist() == [2.0, 3.0]


def test_f_still_gets_read_only_arguments() -> None:
    x, c = np.array([0.5, 1.0]), np.array([2.0, 3.0])

    def writes(x: Any, c: Any) -> Any:
        c[0] = 5.0
        return mnp.sum(x * c), c

    with pytest.raises(multiad.NonDifferentiableError, match=r"^grad\(writes\): .*changes in place"):
        multiad.grad(writes, has_aux=True, backend=NP)(x, c)
    assert c.tolist() == [2.0, 3.0]


def test_a_read_only_argument_stays_read_only() -> None:
    x, c = np.array([0.5, 1.0]), np.array([2.0, 3.0])
    c.flags.writeable = False
    _, (_, ac, _, _) = multiad.grad(_f, has_aux=True, backend=NP)(x, c)
    assert not ac.flags.writeable  # as the caller passed it


def test_aux_of_a_nested_transform_inside_f_stays_read_only() -> None:
    """Inside f, an inner transform's aux is still a view of f's arguments, read-only."""
    x = np.array([0.5, 1.0])

    def outer(x: Any) -> Any:
        g, aux = multiad.grad(lambda z: (mnp.sum(z**3), z), has_aux=True)(x)
        with pytest.raises(ValueError, match="read-only"):
            aux[0] = 1.0
        return mnp.sum(g)

    np.testing.assert_allclose(multiad.grad(outer, backend=NP)(x), 6 * x, rtol=1e-5)
