"""With ``has_aux``, the aux returned is the one of the evaluation of ``f`` that gave the
derivative, and ``f`` is evaluated no more often than the docs say (NOTE [Aux of the
derivative's evaluation] in multiad/_derive.py).

``f`` draws a random scale ``s`` inside itself and returns it as aux: the derivative is ``s``
(times a closed form), so a Jacobian and an aux from two different evaluations disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp

X = np.array([1.0, 2.0, 3.0])


class Drawing:
    """``f(x) = (x * s, s)`` with ``s`` drawn from an rng on every call; counts its calls."""

    def __init__(self, n: int = 3) -> None:
        self.rng = np.random.default_rng(7)
        self.calls = 0
        self.n = n

    def draw(self) -> np.ndarray:
        self.calls += 1
        return self.rng.uniform(1.0, 2.0, size=self.n)

    def vector(self, x: Any) -> tuple[Any, np.ndarray]:
        s = self.draw()
        return x * s, s

    def scalar(self, x: Any) -> tuple[Any, np.ndarray]:
        """``sum(s * x**2) / 2``: gradient ``s * x``, Hessian ``diag(s)``."""
        s = self.draw()
        return mnp.sum(s * x**2) / 2.0, s

    def tall(self, x: Any) -> tuple[Any, np.ndarray]:
        """2 inputs, ``n = 6`` outputs ``[x, x, x] * s``: ``J[i, i % 2] = s[i]``."""
        s = self.draw()
        return mnp.concatenate([x, x, x]) * s, s


def _np(x: Any) -> np.ndarray:
    return np.asarray(multiad.to_numpy(x))


def _diag(s: np.ndarray) -> np.ndarray:
    return np.diag(s)


FIRST_ORDER: dict[str, Callable[[Drawing, str], tuple[np.ndarray, np.ndarray, np.ndarray]]] = {
    # name: (derivative, aux, what the derivative must be for that aux)
    "jacfwd": lambda d, b: (lambda r: (_np(r[0]), r[1], _diag(r[1])))(
        multiad.jacfwd(d.vector, has_aux=True, backend=b)(X)
    ),
    "jacrev": lambda d, b: (lambda r: (_np(r[0]), r[1], _diag(r[1])))(
        multiad.jacrev(d.vector, has_aux=True, backend=b)(X)
    ),
    "jacobian_fwd": lambda d, b: (lambda r: (_np(r[0]), r[1], _diag(r[1])))(
        multiad.jacobian(d.vector, has_aux=True, mode="fwd", backend=b)(X)
    ),
    "jacobian_rev": lambda d, b: (lambda r: (_np(r[0]), r[1], _diag(r[1])))(
        multiad.jacobian(d.vector, has_aux=True, mode="rev", backend=b)(X)
    ),
    "hessian": lambda d, b: (lambda r: (_np(r[0]), r[1], _diag(r[1])))(
        multiad.hessian(d.scalar, has_aux=True, backend=b)(X)
    ),
    "value_and_grad": lambda d, b: (lambda r: (_np(r[1]), r[0][1], r[0][1] * X))(
        multiad.value_and_grad(d.scalar, has_aux=True, backend=b)(X)
    ),
    "jvp": lambda d, b: (lambda r: (_np(r[1]), r[2], r[2] * np.ones(3)))(
        multiad.jvp(d.vector, (X,), (np.ones(3),), has_aux=True, backend=b)
    ),
    "vjp": lambda d, b: (lambda r: (_np(r[1](np.ones(3))[0]), r[2], r[2] * np.ones(3)))(
        multiad.vjp(d.vector, X, has_aux=True, backend=b)
    ),
}


@pytest.mark.parametrize("transform", sorted(FIRST_ORDER))
def test_aux_is_the_derivatives_and_f_runs_once(ad_backend: Case, transform: str) -> None:
    d = Drawing()
    got, _, expected = FIRST_ORDER[transform](d, ad_backend.name)
    assert d.calls == 1, f"{transform} on {ad_backend.name}: f evaluated {d.calls} times"
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("chunk_size", [1, 2])
def test_chunked_jacfwd_aux_is_the_first_chunks(ad_backend: Case, chunk_size: int) -> None:
    # torch and autograd push the chunks through one linearization (one evaluation); JAX
    # evaluates f once per chunk, as docs/reliability.md says, and the aux is the first chunk's.
    d = Drawing()
    J, s = multiad.jacfwd(d.vector, has_aux=True, chunk_size=chunk_size, backend=ad_backend.name)(X)
    J = _np(J)
    chunks = -(-3 // chunk_size)
    assert d.calls == (chunks if ad_backend.name == "jax" else 1)
    first = slice(0, chunk_size)
    np.testing.assert_allclose(np.diag(J)[first], s[first], rtol=1e-12, atol=0)
    if d.calls == 1:
        np.testing.assert_allclose(J, np.diag(s), rtol=1e-12, atol=0)


def test_automatic_jacobian_aux_is_the_derivatives(ad_backend: Case) -> None:
    # The first call for a signature evaluates f once more to learn the output size (documented);
    # the aux returned must still be the derivative's evaluation, not that one.
    d = Drawing(n=6)
    jac = multiad.jacobian(d.tall, has_aux=True, backend=ad_backend.name)
    rows = np.arange(6)
    for call, most in ((1, 2), (2, 1)):
        d.calls = 0
        J, s = jac(np.array([1.0, 2.0]))
        assert d.calls == most, f"call {call}: f evaluated {d.calls} times"
        expected = np.zeros((6, 2))
        expected[rows, rows % 2] = s
        np.testing.assert_allclose(_np(J), expected, rtol=1e-12, atol=0)


def test_torch_hessian_and_jacfwd_with_torch_aux_run_f_once() -> None:
    # The aux read from inside torch.func.vmap is an ordinary tensor, not a batched one.
    torch = pytest.importorskip("torch")
    calls = [0]

    def f(x: Any) -> tuple[Any, Any]:
        calls[0] += 1
        return mnp.sin(x), {"c": mnp.cos(x), "n": calls[0]}

    x = torch.tensor(X)
    for transform in (multiad.jacfwd, multiad.hessian):
        calls[0] = 0
        _, aux = transform(f, has_aux=True)(x)
        assert calls[0] == 1 and aux["n"] == 1
        assert type(aux["c"]) is torch.Tensor
        np.testing.assert_allclose(aux["c"].numpy(), np.cos(X), rtol=1e-15)


class Seen:
    """``f`` whose aux is the number of its call and the argument it saw."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x: Any) -> tuple[Any, tuple[int, Any]]:
        self.calls += 1
        return mnp.concatenate([x, x, x]) * 2.0, (self.calls, x)


def test_numpy_backend_aux_is_from_the_derivatives_evaluation_at_the_primals() -> None:
    # The numpy backend differentiates by evaluations at perturbed points; its aux is the one
    # of the evaluation at the primals, and jacobian(mode="auto")'s output-size evaluation is
    # not the derivative's.
    x = np.array([1.0, 2.0])
    for make in (
        lambda f: multiad.jacobian(f, has_aux=True, backend="numpy"),
        lambda f: multiad.jacfwd(f, has_aux=True, backend="numpy"),
        lambda f: multiad.jacrev(f, has_aux=True, backend="numpy"),
    ):
        f = Seen()
        J, (k, seen) = make(f)(x)
        expected = np.zeros((6, 2))
        expected[np.arange(6), np.arange(6) % 2] = 2.0
        np.testing.assert_allclose(J, expected, rtol=1e-6)
        np.testing.assert_array_equal(seen, x)
        assert 1 <= k <= f.calls
    f = Seen()
    jac = multiad.jacobian(f, has_aux=True, backend="numpy")
    _, (k, seen) = jac(x)
    assert k == 2, "the aux of the output-size evaluation (call 1) was returned"
    np.testing.assert_array_equal(seen, x)
