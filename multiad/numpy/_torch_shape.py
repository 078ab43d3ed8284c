"""numpy's reductions, shape functions and linear algebra on torch tensors (numpy's signatures)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .. import _arrays, _registry
from . import _torch_dtypes as _dt
from ._fixes_common import like_functions
from ._torch import floating, tensor
from ._torch_linalg import (
    _cross,
    _det,
    _diag,
    _diagflat,
    _diagonal,
    _eigh,
    _einsum,
    _kron,
    _lin,
    _matmul,
    _matrix_power,
    _multi_dot,
    _pinv,
    _qr,
    _slogdet,
    _solve,
    _svd,
    _tensordot,
    _tri,
)
from ._torch_reduce import (
    Fn,
    _all,
    _amax,
    _amin,
    _any,
    _arg,
    _argsort,
    _axes,
    _count_nonzero,
    _mean,
    _prod,
    _reduce,
    _scan,
    _sort,
    _sum,
)
from ._torch_reshape import (
    _append,
    _atleast,
    _broadcast_arrays,
    _broadcast_to,
    _column_stack,
    _concatenate,
    _diff,
    _dstack,
    _expand_dims,
    _flip,
    _hstack,
    _meshgrid,
    _moveaxis,
    _ravel,
    _repeat,
    _reshape,
    _roll,
    _split,
    _squeeze,
    _stack,
    _swapaxes,
    _take,
    _take_along_axis,
    _tile,
    _transpose,
    _vstack,
)


def _at_least(m: Any, ndim: int) -> Any:
    """``m`` as a tensor, refused as numpy's ``flipud``/``fliplr`` refuse fewer dimensions."""
    t = tensor(m)
    if t.ndim < ndim:
        raise ValueError(f"Input must be >= {ndim}-d.")
    return t


IMPL: dict[str, Fn] = {
    "sum": _reduce("sum", _sum),
    "prod": _reduce("prod", _prod),
    "mean": _reduce("mean", _mean),
    "max": _reduce("max", _amax),
    "amax": _reduce("amax", _amax),
    "min": _reduce("min", _amin),
    "amin": _reduce("amin", _amin),
    "all": _reduce("all", _all),
    "any": _reduce("any", _any),
    "cumsum": _scan("cumsum", torch.cumsum),
    "cumprod": _scan("cumprod", torch.cumprod),
    "argmax": _arg(torch.argmax),
    "argmin": _arg(torch.argmin),
    "sort": _sort,
    "argsort": _argsort,
    "count_nonzero": _count_nonzero,
    "reshape": _reshape,
    "transpose": _transpose,
    "expand_dims": _expand_dims,
    "squeeze": _squeeze,
    "ravel": _ravel,
    "stack": _stack,
    "concatenate": _concatenate,
    "atleast_1d": _atleast(1),
    "atleast_2d": _atleast(2),
    "atleast_3d": _atleast(3),
    "vstack": _vstack,
    "hstack": _hstack,
    "dstack": _dstack,
    "column_stack": _column_stack,
    "split": _split(True),
    "array_split": _split(False),
    "vsplit": _split(True, 0),
    "hsplit": _split(True, 1),
    "dsplit": _split(True, 2),
    "tile": _tile,
    "repeat": _repeat,
    "flip": _flip,
    "fliplr": lambda m: _flip(_at_least(m, 2), 1),
    "flipud": lambda m: _flip(_at_least(m, 1), 0),
    "roll": _roll,
    "broadcast_to": _broadcast_to,
    "broadcast_arrays": _broadcast_arrays,
    "moveaxis": _moveaxis,
    "swapaxes": _swapaxes,
    "append": _append,
    "take": _take,
    "take_along_axis": _take_along_axis,
    "diff": _diff,
    "meshgrid": _meshgrid,
    "matmul": _matmul,
    "tensordot": _tensordot,
    "einsum": _einsum,
    "diagonal": _diagonal,
    "diag": _diag,
    "diagflat": _diagflat,
    "tril": _tri(torch.tril),
    "triu": _tri(torch.triu),
    "kron": _kron,
    "cross": _cross,
    "linalg.solve": _solve,
    "linalg.svd": _svd,
    "linalg.eigh": _eigh,
    "linalg.pinv": _pinv,
    "linalg.qr": _qr,
    "linalg.slogdet": _slogdet,
    "linalg.multi_dot": _multi_dot,
    "linalg.inv": _lin("inv"),
    "linalg.det": _det,
    "linalg.cholesky": _lin("cholesky"),
    "linalg.eigvalsh": _lin("eigvalsh"),
    "linalg.matrix_power": _matrix_power,
}


def _gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    t = floating(tensor(f))
    dims = _axes(axis, t.ndim)
    varargs = tuple(float(v) if isinstance(v, (np.integer, np.floating)) else v for v in varargs)
    if any(not isinstance(v, (int, float)) for v in varargs):
        raise NotImplementedError("mnp.gradient: on torch the spacings must be numbers")
    spacing: Any = [float(v) for v in varargs] if len(varargs) > 1 else float(varargs[0]) if varargs else 1.0
    out = torch.gradient(t, spacing=spacing, dim=list(dims), edge_order=edge_order)
    return out[0] if len(out) == 1 else tuple(out)


# NOTE [Keywords of the *_like functions]: numpy's ``zeros_like(a, dtype=None, order='K',
# subok=True, shape=None, *, device=None)`` (``full_like`` with ``fill_value`` second). The torch
# versions took any other keyword (``out=``, a misspelt ``dytpe=``) into ``**kw`` and ignored it,
# and ignored ``device=`` and an invalid ``order=``, where numpy raises TypeError and ValueError.
# They now take numpy's parameters only: ``order`` and ``subok`` are checked as numpy checks them
# (NOTE [order= and subok= of the *_like functions]; the layout has no meaning for a torch
# tensor, nor a subclass, so a valid value changes nothing), and ``device=`` places the result,
# as in the other creation functions (``a``'s device by default).
def _filled(a: Any, value: Any, dtype: Any, shape: Any, device: Any) -> torch.Tensor:
    """numpy's ``*_like``: ``a``'s dtype, shape and device unless given (NOTE [Keywords of the
    *_like functions])."""
    t = tensor(a)
    dt = t.dtype if dtype is None else _dt.torch_dtype(dtype)
    if device is None:
        return _fill(t, value, dt, shape, t.device)
    try:
        return _fill(t, value, dt, shape, torch.device(device))
    except (AssertionError, RuntimeError) as exc:  # torch without CUDA: a bare AssertionError
        raise ValueError(
            f"could not place the result on device={device!r} {_arrays.reason_of(exc)}; give one of "
            f"torch's devices here, {_registry.get('torch', 'mnp').devices()}, or leave device out for a's"
        ) from exc


def _fill(t: torch.Tensor, value: Any, dt: Any, shape: Any, place: Any) -> torch.Tensor:
    if shape is None:
        return torch.full_like(t, value, dtype=dt, device=place)
    return torch.full((shape,) if isinstance(shape, int) else tuple(shape), value, dtype=dt, device=place)


IMPL.update(
    {
        "gradient": _gradient,
        **like_functions(_filled),  # NOTE [Keywords of the *_like functions]
    }
)
