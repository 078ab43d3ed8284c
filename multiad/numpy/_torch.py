"""numpy's functions on torch tensors, with numpy's signatures and semantics.

Imported only once a torch tensor reached ``multiad.numpy`` (so torch is already imported).
Python numbers and numpy arrays among the arguments become tensors on the first tensor's
device; floating Python numbers take the tensor's floating dtype, as numpy's weak scalars do.
Elementwise names here; reductions, shapes and linear algebra in ``_torch_shape.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

Fn = Callable[..., Any]


def _first(args: tuple[Any, ...]) -> torch.Tensor | None:
    for a in args:
        if isinstance(a, torch.Tensor):
            return a
        if isinstance(a, (list, tuple)):
            t = _first(tuple(a))
            if t is not None:
                return t
    return None


def tensor(x: Any, like: torch.Tensor | None = None) -> torch.Tensor:
    """``x`` (a tensor, number, numpy array or nested list) as a tensor near ``like``."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, (list, tuple)):
        return stack_nested(x, like)
    device = like.device if like is not None else None
    if isinstance(x, bool):
        return torch.tensor(x, device=device)
    if isinstance(x, int):
        weak = like is not None and like.dtype != torch.bool
        return torch.tensor(x, dtype=like.dtype if weak and like is not None else torch.int64, device=device)
    if isinstance(x, float):
        weak = like is not None and like.is_floating_point()
        return torch.tensor(x, dtype=like.dtype if weak and like is not None else torch.float64, device=device)
    return torch.as_tensor(np.asarray(x), device=device)


def tensors(*args: Any) -> list[torch.Tensor]:
    like = _first(args)
    return [tensor(a, like) for a in args]


def promoted(*args: Any) -> list[torch.Tensor]:
    """The arguments as tensors of one dtype (numpy's promotion; torch's matmul and friends
    require equal dtypes)."""
    ts = tensors(*args)
    if len({t.dtype for t in ts}) > 1:
        dtype = ts[0].dtype
        for t in ts[1:]:
            dtype = torch.promote_types(dtype, t.dtype)
        ts = [t.to(dtype) for t in ts]
    return ts


def stack_nested(obj: Any, like: torch.Tensor | None = None) -> torch.Tensor:
    """numpy.array of a nested list of tensors and numbers: stacked into one tensor."""
    if not isinstance(obj, (list, tuple)):
        return tensor(obj, like)
    like = like if like is not None else _first(tuple(obj))
    if like is None:
        return torch.as_tensor(np.asarray(obj))
    parts = promoted(*[stack_nested(v, like) for v in obj]) if obj else []
    if not parts:
        return torch.zeros(0, dtype=like.dtype, device=like.device)
    return torch.stack(parts)


def floating(x: torch.Tensor) -> torch.Tensor:
    """``x``, or ``x`` as float64 when it holds integers or booleans (numpy's true division)."""
    return x if x.is_floating_point() or x.is_complex() else x.to(torch.float64)


def _unary(op: Fn, to_float: bool = True) -> Fn:
    def fn(x: Any, /) -> Any:
        t = tensor(x)
        return op(floating(t) if to_float else t)

    return fn


def _binary(op: Fn, to_float: bool = False) -> Fn:
    def fn(x: Any, y: Any, /) -> Any:
        a, b = tensors(x, y)
        if to_float:
            a, b = floating(a), floating(b)
        return op(a, b)

    return fn


def _cbrt(x: torch.Tensor) -> torch.Tensor:
    return torch.sign(x) * torch.abs(x) ** (1.0 / 3.0)


def _round(a: Any, decimals: int = 0) -> Any:
    return torch.round(tensor(a), decimals=decimals)


def _where(condition: Any, x: Any = None, y: Any = None) -> Any:
    if x is None and y is None:
        return tuple(torch.nonzero(tensor(condition), as_tuple=True))
    c = tensor(condition, _first((x, y)))
    a, b = promoted(x, y) if not (isinstance(x, float) or isinstance(y, float)) else tensors(x, y)
    return torch.where(c.to(torch.bool), a, b)


def _nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None, neginf: Any = None) -> Any:
    return torch.nan_to_num(tensor(x), nan=nan, posinf=posinf, neginf=neginf)


def _heaviside(x1: Any, x2: Any, /) -> Any:
    a, b = promoted(x1, x2)
    return torch.heaviside(a, b)


def _isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Any:
    x, y = promoted(a, b)
    return torch.isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan)


def _allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Any:
    return bool(torch.all(_isclose(a, b, rtol, atol, equal_nan)))


def _sinc(x: Any) -> Any:
    return torch.sinc(floating(tensor(x)))


_SAME_UNARY = (
    "sin cos tan sinh cosh tanh exp exp2 expm1 log log2 log10 log1p sqrt square sign floor ceil "
    "trunc deg2rad rad2deg reciprocal"
).split()
_ALIASES_UNARY: dict[str, Fn] = {
    "arcsin": torch.asin,
    "arccos": torch.acos,
    "arctan": torch.atan,
    "arcsinh": torch.asinh,
    "arccosh": torch.acosh,
    "arctanh": torch.atanh,
    "degrees": torch.rad2deg,
    "radians": torch.deg2rad,
    "cbrt": _cbrt,
    "fabs": torch.abs,
}
_INTEGER_OK: dict[str, Fn] = {
    "abs": torch.abs,
    "absolute": torch.abs,
    "negative": torch.negative,
    "positive": torch.positive,
    "fix": torch.trunc,
    "rint": torch.round,
    "conj": torch.conj_physical,
    "conjugate": torch.conj_physical,
    "isnan": torch.isnan,
    "isinf": torch.isinf,
    "isfinite": torch.isfinite,
    "signbit": torch.signbit,
    "logical_not": torch.logical_not,
}
_BINARY: dict[str, Fn] = {
    "add": torch.add,
    "subtract": torch.subtract,
    "multiply": torch.multiply,
    "mod": torch.remainder,
    "remainder": torch.remainder,
    "fmod": torch.fmod,
    "maximum": torch.maximum,
    "minimum": torch.minimum,
    "fmax": torch.fmax,
    "fmin": torch.fmin,
    "copysign": torch.copysign,
    "greater": torch.gt,
    "greater_equal": torch.ge,
    "less": torch.lt,
    "less_equal": torch.le,
    "equal": torch.eq,
    "not_equal": torch.ne,
    "logical_and": torch.logical_and,
    "logical_or": torch.logical_or,
    "logical_xor": torch.logical_xor,
}
_BINARY_FLOAT: dict[str, Fn] = {
    "divide": torch.true_divide,
    "true_divide": torch.true_divide,
    "arctan2": torch.atan2,
    "hypot": torch.hypot,
    "logaddexp": torch.logaddexp,
    "logaddexp2": torch.logaddexp2,
    "float_power": lambda a, b: torch.float_power(a, b),
}


def _floor_divide(x1: Any, x2: Any, /) -> Any:
    a, b = tensors(x1, x2)
    if a.is_floating_point() or b.is_floating_point():
        return torch.floor(torch.true_divide(a, b))  # derivative 0, as for floor
    return torch.floor_divide(a, b)


def _power(x1: Any, x2: Any, /) -> Any:
    a, b = tensors(x1, x2)
    return torch.pow(a, b)


IMPL: dict[str, Fn] = {}
IMPL.update({n: _unary(getattr(torch, n)) for n in _SAME_UNARY})
IMPL.update({n: _unary(f) for n, f in _ALIASES_UNARY.items()})
IMPL.update({n: _unary(f, to_float=False) for n, f in _INTEGER_OK.items()})
IMPL.update({n: _binary(f) for n, f in _BINARY.items()})
IMPL.update({n: _binary(f, to_float=True) for n, f in _BINARY_FLOAT.items()})
IMPL.update(
    {
        "power": _power,
        "floor_divide": _floor_divide,
        "round": _round,
        "around": _round,
        "where": _where,
        "nan_to_num": _nan_to_num,
        "heaviside": _heaviside,
        "isclose": _isclose,
        "allclose": _allclose,
        "sinc": _sinc,
        "array": stack_nested,
        "asarray": stack_nested,
    }
)

from ._torch_shape import IMPL as _SHAPE_IMPL  # noqa: E402 - needs the helpers above

IMPL.update(_SHAPE_IMPL)
