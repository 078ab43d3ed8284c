"""numpy's dtype names (``mnp.float32`` is ``np.float32``) and ``finfo``/``iinfo`` of any
backend's dtype.

NOTE [Dtype names in multiad.numpy]: ported numpy code spells dtypes ``np.float32``,
``np.int64``, and ``np.finfo(x.dtype).eps``; ``mnp.float32`` was the only kind of absent name
without a reason (a bare AttributeError). Every ``multiad.numpy`` function that takes a dtype
already takes numpy's scalar types on every backend (``mnp.asarray(x, dtype=np.float32)``,
``mnp.astype(x, np.float32)``, ``mnp.zeros(3, dtype=np.float32)`` give float32 tensors on torch,
float32 arrays on JAX), so the names are numpy's own objects, not new ones: ``mnp.float32 is
np.float32``, and code that compares dtypes with numpy's keeps working. They are the concrete
types (sizes and numpy's C-named aliases); the abstract ones (``np.floating``, ``np.integer``)
are for ``numpy.issubdtype``, which is absent too, and numpy's ``dtype`` class and ``ndarray``
would promise a numpy array where the result is the backend's: those stay absent, with the
reason. ``finfo``/``iinfo`` are numpy's, after the dtype is read in any backend's spelling
(``torch.float32``, ``x.dtype`` of a tensor or a JAX array, ``jnp.bfloat16`` through
``ml_dtypes``, which JAX installs); an array instead of a dtype is refused, as numpy does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: numpy's concrete scalar types by their numpy names: ``multiad.numpy`` exports each as itself.
_SPELLED = (
    "bool bool_ int8 int16 int32 int64 uint8 uint16 uint32 uint64 intp uintp float16 float32 "
    "float64 complex64 complex128 byte ubyte short ushort intc uintc int_ uint long ulong longlong "
    "ulonglong half single double csingle cdouble"
)
DTYPE_NAMES: tuple[str, ...] = tuple(n for n in _SPELLED.split() if isinstance(getattr(np, n, None), type))


def _numpy_dtype(call: str, dtype: Any) -> Any:
    from ._creation import canonical_dtype_name

    if hasattr(dtype, "shape") and hasattr(dtype, "dtype") and not isinstance(dtype, (type, np.dtype)):
        raise TypeError(f"mnp.{call}: give a dtype (x.dtype), not an array, as numpy's {call} takes")
    name = canonical_dtype_name(dtype, f"mnp.{call}")
    if name == "bfloat16":
        try:
            import ml_dtypes
        except ImportError:  # pragma: no cover - JAX installs ml_dtypes
            raise TypeError(
                f"mnp.{call}: bfloat16 has no numpy dtype without the ml_dtypes package; use torch.finfo"
            ) from None
        return ml_dtypes.bfloat16
    return np.dtype(name)


def finfo(dtype: Any) -> Any:
    """numpy's ``finfo`` (machine limits of a floating dtype), of a dtype in any backend's
    spelling: ``np.float32``, ``"float32"``, ``torch.float32``, ``x.dtype`` of any backend's array."""
    d = _numpy_dtype("finfo", dtype)
    if np.dtype(d).name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.finfo(d)  # type: ignore[no-untyped-call]
    if np.dtype(d).kind not in "fc":
        raise ValueError(f"mnp.finfo: data type {np.dtype(d).name} not inexact (as in numpy); use mnp.iinfo")
    return np.finfo(d)


def iinfo(int_type: Any) -> Any:
    """numpy's ``iinfo`` (machine limits of an integer dtype), of a dtype in any backend's spelling."""
    d = np.dtype(_numpy_dtype("iinfo", int_type))
    if d.kind not in "iu":
        raise ValueError(f"mnp.iinfo: invalid integer data type {d.name!r} (as in numpy); use mnp.finfo")
    return np.iinfo(d)
