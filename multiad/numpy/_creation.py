"""Creation functions: they make arrays of the selected backend, in its default float dtype."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _arrays, _select


def _make(data: np.ndarray, dtype: Any, device: Any) -> Any:
    b = _select.get_backend()
    return b.asarray(data, dtype=dtype or b.default_dtype(), device=device)


def zeros(shape: Any, dtype: Any = None, device: Any = None) -> Any:
    """An array of zeros of the selected backend."""
    return _make(np.zeros(shape), dtype, device)


def ones(shape: Any, dtype: Any = None, device: Any = None) -> Any:
    """An array of ones of the selected backend."""
    return _make(np.ones(shape), dtype, device)


def full(shape: Any, fill_value: float, dtype: Any = None, device: Any = None) -> Any:
    """A constant array of the selected backend."""
    return _make(np.full(shape, fill_value, dtype=float), dtype, device)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None) -> Any:
    """An identity matrix of the selected backend."""
    return _make(np.eye(n, m), dtype, device)


def arange(*args: float, dtype: Any = None, device: Any = None) -> Any:
    """Evenly spaced values in an interval (float by default), of the selected backend."""
    return _make(np.arange(*args, dtype=float), dtype, device)


def linspace(start: float, stop: float, num: int = 50, dtype: Any = None, device: Any = None) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop``, of the selected backend."""
    return _make(np.linspace(start, stop, num), dtype, device)


def asarray(x: Any, dtype: Any = None, device: Any = None) -> Any:
    """``x`` as an array of the selected backend (see ``multiad.asarray``)."""
    return _arrays.asarray(x, dtype=dtype, device=device)


array = asarray
