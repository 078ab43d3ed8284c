"""A ``writable`` backend's ``write`` receives chunks of a Jacobian that an enclosing transform
traces (NOTE [Writes of traced chunks] in multiad/_derive.py): one that stores the values only
fails the conformance suite, and one whose framework refuses the write gives a BackendError naming
the call and the backend, not the framework's exception."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp
from multiad._backend import Backend
from multiad.conformance.test_contract import test_chunked_jacobians_inside_an_enclosing_transform as nested

torch = pytest.importorskip("torch")


def _torch_with(name: str, write: Any) -> Backend:
    with multiad.use_backend("torch") as real:
        pass
    cls = type("WriteDefect", (type(real),), {"name": f"torch[{name}]", "write": write, "__module__": __name__})
    b: Backend = object.__new__(cls)
    b.__dict__.update(real.__dict__)
    return b


def _values_only(self: Backend, block: Any, matrix: Any, start: Any, value: Any) -> Any:
    (r, c), (k, m) = start, value.shape
    view = block.reshape(matrix)
    with torch.no_grad():  # stores the numbers, drops the derivative (numpy's __setitem__)
        view[r : r + k, c : c + m] = value.detach()
    return view.reshape(block.shape)


def _strict(self: Backend, block: Any, matrix: Any, start: Any, value: Any) -> Any:
    if value.requires_grad and not block.requires_grad:
        raise TypeError("writing a tensor that carries a derivative into one that does not")
    return Backend.write(self, block, matrix, start, value)


def F(a: Any) -> Any:
    return mnp.sin(a) * a[0]


X = np.array([0.3, -0.7, 1.1, 0.5])


def test_write_that_drops_the_derivative_fails_the_suite() -> None:
    b = _torch_with("values_only", _values_only)
    with multiad.use_backend(b):  # the defect gives zeros where the closed form is not
        got = multiad.grad(lambda a: mnp.sum(multiad.jacrev(F, chunk_size=2)(a)))(torch.tensor(X))
    want = -np.sin(X) * X[0] + np.cos(X)
    want[0] += np.sum(np.cos(X))
    assert not np.allclose(got.numpy(), want)
    with pytest.raises(AssertionError, match=r"grad\(sum\(jacrev\(F, chunk_size=2\)\)\) = \[0\.0.*writable = True"):
        nested(b)


def test_refused_write_is_a_backend_error() -> None:
    b = _torch_with("strict", _strict)
    with multiad.use_backend(b):
        for jac, chunk in ((multiad.jacrev, 2), (multiad.jacfwd, 3)):
            with pytest.raises(multiad.BackendError, match=r"^(jacrev|jacfwd)\(F\): the torch\[strict\] backend's write(_columns)?, .*TypeError: writing a tensor .*leave writable False"):  # fmt: skip
                multiad.grad(lambda a, jac=jac, chunk=chunk: mnp.sum(jac(F, chunk_size=chunk)(a)))(torch.tensor(X))


def test_torch_writes_keep_the_derivative() -> None:
    with multiad.use_backend("torch") as b:
        pass
    nested(b)
