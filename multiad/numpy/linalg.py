"""``multiad.numpy.linalg``: numpy's linear algebra names, dispatched on the argument types."""

from __future__ import annotations

from ._dispatch import dispatching as _d

norm = _d("linalg.norm", "Vector or matrix norm")
inv = _d("linalg.inv", "Matrix inverse")
det = _d("linalg.det", "Determinant")
solve = _d("linalg.solve", "Solve a linear system")
slogdet = _d("linalg.slogdet", "Sign and log of the determinant")
cholesky = _d("linalg.cholesky", "Cholesky factor")

__all__ = ["cholesky", "det", "inv", "norm", "slogdet", "solve"]
