"""``multiad.numpy.linalg``: numpy's linear algebra names, dispatched on the argument types."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._conventions import cholesky as cholesky
from ._conventions import eigh as eigh
from ._conventions import eigvalsh as eigvalsh
from ._conventions import pinv as pinv
from ._conventions import svd as svd
from ._dispatch import SEQUENCE as _SEQ
from ._dispatch import dispatching as _d
from ._eig import eig as eig
from ._eig import eigvals as eigvals
from ._extras import cond as cond
from ._extras import matrix_norm as matrix_norm
from ._extras import matrix_transpose as matrix_transpose
from ._extras import svdvals as svdvals
from ._extras import vecdot as vecdot
from ._extras import vector_norm as vector_norm
from ._layout import norm as norm
from ._singular import det as det
from ._singular import inv as inv
from ._singular import matrix_power as matrix_power
from ._singular import qr as qr
from ._singular import slogdet as slogdet
from ._singular import solve as solve

_multi_dot = _d("linalg.multi_dot", "Chained matrix product", _SEQ)


def multi_dot(arrays: Any, *, out: None = None) -> Any:
    """Chained matrix product of two or more arrays (numpy's ``linalg.multi_dot``)."""
    if len(arrays) < 2:  # JAX returned the one array
        raise ValueError("mnp.linalg.multi_dot: Expecting at least two arrays.")
    return _multi_dot(arrays) if out is None else _multi_dot(arrays, out=out)


def outer(x1: Any, x2: Any, /) -> Any:
    """Outer product of two vectors (1-d arrays only, as ``numpy.linalg.outer``)."""
    from . import ndim as _ndim
    from . import outer as _outer

    if _ndim(x1) != 1 or _ndim(x2) != 1:
        raise ValueError(
            "mnp.linalg.outer: Input arrays must be one-dimensional, but they are "
            f"x1.ndim={_ndim(x1)} and x2.ndim={_ndim(x2)}; use mnp.outer to flatten them"
        )
    return _outer(x1, x2)


def matmul(x1: Any, x2: Any, /) -> Any:
    """Matrix product."""
    from . import matmul as _matmul

    return _matmul(x1, x2)


def tensordot(x1: Any, x2: Any, /, *, axes: Any = 2) -> Any:
    """Tensor dot product over given axes."""
    from . import tensordot as _tensordot

    return _tensordot(x1, x2, axes=axes)


def trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    """Sums of diagonals of the matrices in the last two axes."""
    from . import trace as _trace

    return _trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)


def diagonal(x: Any, /, *, offset: int = 0) -> Any:
    """Diagonals of the matrices in the last two axes."""
    from . import diagonal as _diagonal

    return _diagonal(x, offset=offset, axis1=-2, axis2=-1)


def cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """Cross product of 3-vectors along an axis (``numpy.linalg.cross`` takes no 2-vectors)."""
    from . import cross as _cross
    from . import shape as _shape

    if any(_shape(v)[axis] != 3 if len(_shape(v)) else True for v in (x1, x2)):
        raise ValueError(
            f"mnp.linalg.cross: Both input arrays must be (arrays of) 3-dimensional vectors, but they are "
            f"{_shape(x1)[axis] if len(_shape(x1)) else 0} and {_shape(x2)[axis] if len(_shape(x2)) else 0} "
            "dimensional instead; use mnp.cross for 2-vectors"
        )
    return _cross(x1, x2, axis=axis)


if not TYPE_CHECKING:  # a module __getattr__ would make every attribute Any to a type checker

    def __getattr__(name: str) -> Any:
        """NOTE [Absent names say why] in multiad/numpy/__init__.py."""
        from ._absent import absent_name_error

        raise absent_name_error(__name__, name)


# isidentifier: pytest's assertion rewriting adds "@py_builtins" to modules it imports.
__all__ = [
    n for n in dir() if n.isidentifier() and not n.startswith("_") and n not in ("annotations", "Any", "TYPE_CHECKING")
]


def __dir__() -> list[str]:
    """The public names alone (``dir`` listed the private modules and helpers too)."""
    return sorted(__all__)
