"""Transforms compiled with ``torch.compile(fullgraph=True)`` and called with a Python int argument
that changes between calls: from the second value on, the compiler traces the int as a symbolic
one (a ``SymInt``) and asks every attribute read of it to be traced too. The traced calls used to
read ``getattr(n, "dtype", None)`` of every argument for their decision (NOTE [Argument types in
a trace] in ``multiad/_prepared_traced.py``), which the compiler cannot trace of a symbolic int
("hasattr call" unsupported): under ``fullgraph=True`` the call failed, and without it the graph
broke there. torch.func's transforms compile the same functions. Values are compared with closed
forms of ``f(x, n) = n * sum(sin(x))``. ``hessian`` is not among them: torch.func's own
``hessian`` (forward over reverse) of this ``f`` fails to compile too, at the product of the
symbolic int and a tensor of the inner level ("x must be Tensor or scalar, got SymInt").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import multiad  # noqa: E402

X = np.array([0.3, -1.2, 2.0])
V = np.array([1.0, 0.5, -2.0])


def f(x: Any, n: Any) -> Any:
    return n * torch.sum(torch.sin(x))


def vf(x: Any, n: Any) -> Any:
    return n * torch.sin(x)


def _t(a: Any) -> Any:
    return torch.tensor(a, dtype=torch.float64)


#: name -> (the compiled call of (x, n), its closed form at (x, n))
CASES: dict[str, tuple[Callable[[Any, int], Any], Callable[[Any, int], Any]]] = {
    "grad": (lambda x, n: multiad.grad(f)(x, n), lambda x, n: n * np.cos(x)),
    "value_and_grad": (lambda x, n: multiad.value_and_grad(f)(x, n)[1], lambda x, n: n * np.cos(x)),
    "vjp": (lambda x, n: multiad.vjp(lambda z: vf(z, n), x)[1](_t(V))[0], lambda x, n: n * np.cos(x) * V),
    "jvp": (lambda x, n: multiad.jvp(lambda z: vf(z, n), (x,), (_t(V),))[1], lambda x, n: n * np.cos(x) * V),
    "jacrev": (lambda x, n: multiad.jacrev(vf)(x, n), lambda x, n: np.diag(n * np.cos(x))),
    "jacfwd": (lambda x, n: multiad.jacfwd(vf)(x, n), lambda x, n: np.diag(n * np.cos(x))),
    "jacobian": (lambda x, n: multiad.jacobian(vf)(x, n), lambda x, n: np.diag(n * np.cos(x))),
    "hvp": (lambda x, n: multiad.hvp(lambda z: f(z, n), (x,), (_t(V),))[0], lambda x, n: -n * np.sin(x) * V),
    "vhp": (lambda x, n: multiad.vhp(lambda z: f(z, n), (x,), (_t(V),))[0], lambda x, n: -n * np.sin(x) * V),
    # torch.func's vmap of n * sin(x) does not compile with a symbolic n ("got SymInt"); an f that
    # takes n without multiplying a batched tensor by it does
    "vmap": (lambda x, n: multiad.vmap(lambda z, k: torch.sin(z), in_dims=(0, None))(x, n), lambda x, n: np.sin(x)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_int_argument_that_changes_compiles_into_one_graph(name: str) -> None:
    call, exact = CASES[name]
    torch._dynamo.reset()
    compiled = torch.compile(call, fullgraph=True, backend="eager")
    with multiad.use_backend("torch"):
        for n in (2, 3, 5):  # the second value makes n symbolic
            got = compiled(_t(X), n)
            np.testing.assert_allclose(np.asarray(got).reshape(np.shape(exact(X, n))), exact(X, n), rtol=1e-12)
