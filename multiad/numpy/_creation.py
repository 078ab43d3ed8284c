"""Creation functions: they make arrays of the selected backend, in its default float dtype,
unless an argument is already a framework's array (``array([x, 2 * x])``, ``linspace(a, b)``
of traced values), which they follow."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _arrays, _select
from . import _dispatch


def _make(data: np.ndarray, dtype: Any, device: Any) -> Any:
    b = _select.get_backend()
    return b.asarray(data, dtype=dtype or b.default_dtype(), device=device)


def zeros(shape: Any, dtype: Any = None, device: Any = None) -> Any:
    """An array of zeros of the selected backend."""
    return _make(np.zeros(shape), dtype, device)


def ones(shape: Any, dtype: Any = None, device: Any = None) -> Any:
    """An array of ones of the selected backend."""
    return _make(np.ones(shape), dtype, device)


def empty(shape: Any, dtype: Any = None, device: Any = None) -> Any:
    """An array of the selected backend (filled with zeros: multiad never hands out garbage)."""
    return zeros(shape, dtype, device)


def full(shape: Any, fill_value: float, dtype: Any = None, device: Any = None) -> Any:
    """A constant array of the selected backend."""
    return _make(np.full(shape, fill_value, dtype=float), dtype, device)


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None, device: Any = None) -> Any:
    """An identity matrix (ones on diagonal ``k``) of the selected backend."""
    return _make(np.eye(N, M, k), dtype, device)


def identity(n: int, dtype: Any = None, device: Any = None) -> Any:
    """The ``n`` by ``n`` identity matrix of the selected backend."""
    return eye(n, dtype=dtype, device=device)


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None, device: Any = None) -> Any:
    """Ones at and below diagonal ``k``, of the selected backend."""
    return _make(np.tri(N, M, k), dtype, device)


def arange(*args: float, dtype: Any = None, device: Any = None) -> Any:
    """Evenly spaced values in an interval (float by default), of the selected backend."""
    return _make(np.arange(*args, dtype=float), dtype, device)


def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
    device: Any = None,
) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop``: arrays of the endpoints'
    framework (differentiable in them) when they are arrays, else of the selected backend."""
    lib = _dispatch.like(start, stop, call="mnp.linspace")
    if lib == "numpy" and not isinstance(start, np.ndarray) and not isinstance(stop, np.ndarray):
        out = _make(np.linspace(start, stop, num, endpoint=endpoint, axis=axis), dtype, device)
        step = (stop - start) / max(num - 1 if endpoint else num, 1)
        return (out, step) if retstep else out
    from .. import numpy as mnp

    fractions = np.linspace(0.0, 1.0, num, endpoint=endpoint)
    span = mnp.subtract(stop, start)
    shape = (num,) + (1,) * len(getattr(span, "shape", ()))
    out = mnp.add(start, mnp.multiply(fractions.reshape(shape), span))
    if axis != 0:
        out = mnp.moveaxis(out, 0, axis)
    if retstep:
        return out, mnp.divide(span, max(num - 1 if endpoint else num, 1))
    return out


def array(object: Any, dtype: Any = None, device: Any = None, **kwargs: Any) -> Any:  # noqa: A002
    """numpy's ``array``: nested lists of arrays and numbers become one array, stacked, of the
    arrays' framework (also of traced values inside a transform); without a framework's array,
    an array of the selected backend (see ``multiad.asarray``)."""
    lib = _dispatch.like(object, call="mnp.array")
    if lib != "numpy":
        out = _dispatch.to_array(lib, object) if isinstance(object, (list, tuple)) else object
        return out if dtype is None else _dispatch.call("astype", out, dtype)
    if isinstance(object, (list, tuple)):
        object = np.asarray(object)  # noqa: A001
    return _arrays.asarray(object, dtype=dtype, device=device)


asarray = array
