"""A StopIteration raised by f reaches the caller as itself, from every transform and backend.

``next(batches)`` inside f at the end of the data raises StopIteration, which the caller's loop
catches; torch.func and jax pass it through. Raised inside a generator of multiad's own (the
chunks of a forward-mode Jacobian), Python turns it into ``RuntimeError: generator raised
StopIteration`` (PEP 479): torch's jacfwd and hessian did (NOTE [StopIteration from f] in
multiad/_derive.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS

import multiad

X = np.array([1.0, 2.0])
T = np.ones(2)

CALLS: dict[str, Callable[[Callable[..., Any], str], Any]] = {
    "grad": lambda f, b: multiad.grad(f, backend=b)(X),
    "value_and_grad": lambda f, b: multiad.value_and_grad(f, backend=b)(X),
    "vjp": lambda f, b: multiad.vjp(f, X, backend=b),
    "jvp": lambda f, b: multiad.jvp(f, (X,), (T,), backend=b),
    "linearize": lambda f, b: multiad.linearize(f, X, backend=b),
    "vmap": lambda f, b: multiad.vmap(f, backend=b)(np.ones((3, 2))),
    "jacrev": lambda f, b: multiad.jacrev(f, backend=b)(X),
    "jacrev chunked": lambda f, b: multiad.jacrev(f, chunk_size=1, backend=b)(X),
    "jacfwd": lambda f, b: multiad.jacfwd(f, backend=b)(X),
    "jacfwd chunked": lambda f, b: multiad.jacfwd(f, chunk_size=1, backend=b)(X),
    "jacobian fwd": lambda f, b: multiad.jacobian(f, mode="fwd", backend=b)(X),
    "jacobian rev": lambda f, b: multiad.jacobian(f, mode="rev", backend=b)(X),
    "jacobian auto": lambda f, b: multiad.jacobian(f, backend=b)(X),
    "hessian": lambda f, b: multiad.hessian(f, backend=b)(X),
    "hessian chunked": lambda f, b: multiad.hessian(f, chunk_size=1, backend=b)(X),
    "hvp": lambda f, b: multiad.hvp(f, (X,), (T,), backend=b),
    "vhp": lambda f, b: multiad.vhp(f, (X,), (T,), backend=b),
    "vmap of grad": lambda f, b: multiad.vmap(multiad.grad(f), backend=b)(np.ones((3, 2))),
    "jacfwd of jacrev": lambda f, b: multiad.jacfwd(multiad.jacrev(f), backend=b)(X),
}


class EndOfData(StopIteration):
    """A subclass, to tell f's own exception from any other StopIteration."""


def f(x: Any) -> Any:
    raise EndOfData("no more batches")


@pytest.mark.parametrize("transform", list(CALLS))
@pytest.mark.parametrize("backend", BACKENDS)
def test_stop_iteration_from_f_passes_through(transform: str, backend: str) -> None:
    with pytest.raises(EndOfData, match="no more batches"):
        CALLS[transform](f, backend)
