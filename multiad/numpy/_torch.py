"""numpy's functions on torch tensors, with numpy's signatures and semantics.

Imported only once a torch tensor reached ``multiad.numpy`` (so torch is already imported).
Python numbers and numpy arrays among the arguments become tensors on the first tensor's
device; floating Python numbers take the tensor's floating dtype, as numpy's weak scalars do.
Elementwise names here; reductions, shapes and linear algebra in ``_torch_shape.py`` (the table;
the functions in ``_torch_reduce.py``, ``_torch_reshape.py`` and ``_torch_linalg.py``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .._arrays import named_integers, native_order
from . import _mixed_ints
from . import _torch_dtypes as _dt
from . import _ufunc_keywords as _ufk
from ._composite import no_out, round_integers

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
    return from_numpy(x, device)


def from_numpy(x: Any, device: Any = None) -> torch.Tensor:
    """``x`` (a numpy array or scalar) as a tensor; a read-only array is copied (torch warns
    on one), and one with negative strides (``x[::-1]``, which torch cannot wrap) or in
    non-native byte order (``'>f8'`` read from a file, which torch cannot wrap either)."""
    if isinstance(x, np.ndarray) and torch.compiler.is_compiling():  # NOTE [numpy arrays in compiled code]
        return torch.as_tensor(x, device=device)
    a = np.asarray(x)
    if not a.dtype.isnative:
        a = native_order(a)
    try:
        return torch.as_tensor(a if a.flags.writeable and min(a.strides, default=0) >= 0 else a.copy(), device=device)
    except TypeError:
        named = named_integers(a)  # NOTE [numpy's long long arrays]
        if named is None:
            raise
        return from_numpy(named, device)


def tensors(*args: Any) -> list[torch.Tensor]:
    like = _first(args)
    return [tensor(a, like) for a in args]


def promoted(*args: Any) -> list[torch.Tensor]:
    """The arguments as tensors of one dtype, numpy's common dtype (NOTE [numpy dtypes on
    torch]; torch's matmul and friends require equal dtypes)."""
    kinds = _dt.kinds(args)
    ts = tensors(*args)
    if kinds is None:  # a dtype numpy lacks: torch's promotion
        dtype = ts[0].dtype
        for t in ts[1:]:
            dtype = torch.promote_types(dtype, t.dtype)
    else:
        dtype = _dt.as_torch(_dt.common(kinds))
    return [t if t.dtype == dtype else t.to(dtype) for t in ts]


#: per call name, argument dtypes and keywords: the dtype to compute in (None: a signed integer
#: compared with uint64, NOTE [Signed integers compared with uint64]) and the result's dtype
_PLANS: dict[tuple[Any, ...], tuple[torch.dtype | None, torch.dtype] | None] = {}
_SCALAR_TYPES = (bool, int, float, complex)


def _plan_key(a: Any) -> Any:
    if isinstance(a, torch.Tensor):
        return a.dtype
    if type(a) in _SCALAR_TYPES:
        return type(a)
    if isinstance(a, np.ndarray) and torch.compiler.is_compiling():  # NOTE [numpy arrays in compiled code]
        return torch.as_tensor(a).dtype  # its tensor's: the same plan as a tensor of the dtype (both strong)
    return np.asarray(a).dtype


def _plan(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[torch.dtype | None, torch.dtype] | None:
    kinds = _dt.kinds(args)
    if kinds is None:
        return None
    if name in _COMPARISONS and not kwargs and all(isinstance(k, np.dtype) for k in kinds):
        if _mixed_ints.unsigned_at(*kinds) >= 0:  # NOTE [Signed integers compared with uint64]
            return None, torch.bool
    out = _dt.result(name, kinds, **kwargs)
    common = _dt.common(kinds)
    # A boolean result (comparisons) or a real one of complex arguments (abs) is computed in the
    # arguments' common dtype: complex arguments cast to float would lose their imaginary parts.
    comp = out if out.kind != "b" and not (common.kind == "c" and out.kind != "c") else common
    return _dt.as_torch(comp), _dt.as_torch(out)


def numpy_operands(name: str, args: tuple[Any, ...], **kwargs: Any) -> tuple[list[torch.Tensor], torch.dtype | None]:
    """The arguments as tensors of the dtype numpy computes ``name`` in, and the dtype of
    numpy's result (None where a tensor's dtype is one numpy lacks); see NOTE [numpy dtypes on
    torch]. The two dtypes are cached per name, argument dtypes and keywords."""
    if len(args) == 1 and not kwargs and isinstance(args[0], torch.Tensor):  # the common call: the same key
        key: tuple[Any, ...] = (name, args[0].dtype)
    else:
        key = (name, *[a.dtype if isinstance(a, torch.Tensor) else _plan_key(a) for a in args], *kwargs.items())
    plan = _PLANS.get(key)
    if plan is None:
        if key in _PLANS:
            return promoted(*args), None
        plan = _plan(name, args, kwargs)
        if not torch.compiler.is_compiling():  # NOTE [Tables a trace reads and does not fill] in multiad/_ops.py
            _PLANS[key] = plan
        if plan is None:
            return promoted(*args), None
    dtype, out = plan
    if dtype is None:  # NOTE [Signed integers compared with uint64]
        return _exact_pair(args), out
    if dtype in _INT_RANGE:  # NOTE [Python ints out of range]
        dtype, args = _python_ints(name, args, dtype)
    ts = []
    device = None
    for a in args:
        if isinstance(a, torch.Tensor):
            ts.append(a if a.dtype == dtype else a.to(dtype))
            continue
        if device is None:
            like = _first(args)
            device = like.device if like is not None else "cpu"
        if type(a) in _SCALAR_TYPES:
            ts.append(torch.tensor(a, dtype=dtype, device=device))
        else:
            ts.append(from_numpy(a, device).to(dtype))
    return ts, out


def _exact_pair(args: tuple[Any, ...]) -> list[torch.Tensor]:
    """A signed integer and a uint64 operand as int64 tensors that compare as their values."""
    like = _first(args)
    ts = [tensor(a, like) for a in args]
    at = 0 if ts[0].dtype == torch.uint64 else 1
    return _mixed_ints.exact_pair(at, ts[at].view(torch.int64), ts[1 - at].to(torch.int64), torch.where)


_INT_RANGE = {
    t: (int(torch.iinfo(t).min), int(torch.iinfo(t).max))
    for t in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)
    + tuple(getattr(torch, n) for n in ("uint16", "uint32", "uint64") if hasattr(torch, n))
}
_COMPARISONS, _LOGICAL = _ufk.COMPARISONS, _ufk.LOGICAL


def _python_ints(name: str, args: tuple[Any, ...], dtype: torch.dtype) -> tuple[torch.dtype, tuple[Any, ...]]:
    """NOTE [Python ints out of range]: numpy computes a Python int with an integer array in the
    array's dtype, and raises OverflowError where the dtype cannot hold the int (``uint8`` with
    ``-1`` or ``300``), while ``torch.tensor(-1, dtype=torch.uint8)`` wraps to 255 silently. So
    an int out of the computing dtype's range raises numpy's error here, except where numpy
    gives a value: comparisons compare the true values (the int as an infinity of its sign,
    which every value of the dtype compares with as with the int), the logical functions see
    its truth, and ``where`` wraps it as numpy's cast does, with numpy's RuntimeWarning."""
    lo, hi = _INT_RANGE[dtype]
    wide = [a for a in args if type(a) is int and not lo <= a <= hi]
    if not wide:
        return dtype, args
    if name in _COMPARISONS:
        return torch.float64, tuple(
            (math.inf if a > hi else -math.inf) if type(a) is int and not lo <= a <= hi else a for a in args
        )
    if name in _LOGICAL and all(-(2**63) <= a < 2**63 for a in wide):  # numpy: a C long
        return dtype, tuple(bool(a) if type(a) is int else a for a in args)
    if name == "where" and all(-(2**63) <= a < 2**64 for a in wide):  # numpy: a C long or unsigned long
        warnings.warn("mnp.where: overflow encountered in cast (as in numpy)", RuntimeWarning, stacklevel=4)
        span = hi - lo + 1
        return dtype, tuple((a - lo) % span + lo if type(a) is int else a for a in args)
    raise OverflowError(
        f"mnp.{name}: Python integer {wide[0]} out of bounds for {_dt.numpy_dtype(dtype)} (as in numpy); "
        "convert the array to a wider dtype first"
    )


def numpy_typed(name: str, op: Fn) -> Fn:
    """``op`` run on numpy's operand dtypes, its result of numpy's dtype."""

    def fn(*args: Any, dtype: Any = None) -> Any:
        if dtype is None:
            ts, out = numpy_operands(name, args)
        else:  # numpy's ufunc dtype=: the loop's dtype, numpy's casting check
            asked = _dt.torch_dtype(dtype, f"mnp.{name}")
            asked_np = _dt.numpy_dtype(asked)
            if asked_np is None:  # bfloat16: computed in it
                ts, out = [t.to(asked) for t in promoted(*args)], asked
            else:
                ts, out = numpy_operands(name, args, dtype=asked_np)
        r = op(*ts)
        return r if out is None or r.dtype == out else r.to(out)

    return fn


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


def _exact(t: torch.Tensor) -> bool:
    return not (t.is_floating_point() or t.is_complex())


def _unchanged_if_exact(op: Fn) -> Fn:
    """``op``, or a copy for integers and booleans (floor, ceil, trunc: numpy keeps them)."""
    return lambda t: t.clone() if _exact(t) else op(t)


def _abs(t: torch.Tensor) -> torch.Tensor:
    return t.clone() if t.dtype == torch.bool else torch.abs(t)


def _nonzero_divisor(op: Fn) -> Fn:
    """Integer division ``op`` giving 0 for a zero divisor, as numpy does (torch raises)."""

    def fn(a: torch.Tensor, b: torch.Tensor) -> Any:
        if not _exact(b):
            return op(a, b)
        zero = b == 0
        safe: torch.Tensor = op(a, torch.where(zero, torch.ones_like(b), b))
        return torch.where(zero, torch.zeros_like(a), safe)

    return fn


def _remainder_op(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """torch's remainder with numpy's zeros, of the divisor's sign: see NOTE [Zero remainders] (_fixes_jax.py)."""
    r = torch.remainder(a, b)
    if _exact(r):
        return r
    zero = torch.where(torch.signbit(b), -0.0, 0.0).to(r.dtype)
    return torch.where(r == 0, zero - (r.detach() - r), r)


def _round(a: Any, decimals: int = 0, out: None = None) -> Any:
    no_out("round", out)
    (t,), dtype = numpy_operands("round", (a,), decimals=decimals)
    if _exact(t):  # numpy keeps integers; negative decimals round them (half to even)
        return t.clone() if decimals >= 0 or t.dtype == torch.bool else round_integers(t, decimals)
    r = _complex_parts(t, lambda p: torch.round(p, decimals=decimals))
    return r if dtype is None or r.dtype == dtype else r.to(dtype)


def _complex_parts(t: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """``fn`` of a real tensor; of a complex one, of its real and imaginary parts, as numpy's
    ``rint`` and ``round`` of complex numbers (torch's round has no complex kernel)."""
    return torch.complex(fn(t.real), fn(t.imag)) if t.is_complex() else fn(t)


def _rint(t: torch.Tensor) -> torch.Tensor:
    return _complex_parts(t, torch.round)


def _where(condition: Any, x: Any = None, y: Any = None) -> Any:
    if x is None and y is None:
        return tuple(torch.nonzero(tensor(condition), as_tuple=True))
    c = condition if isinstance(condition, torch.Tensor) else tensor(condition, _first((x, y)))
    if isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor) and x.dtype == y.dtype:
        a, b = x, y  # numpy's result dtype is theirs (torch's for a dtype numpy lacks): no plan to ask
    elif _dt.kinds((x, y)) is None:
        a, b = promoted(x, y) if not (isinstance(x, float) or isinstance(y, float)) else tensors(x, y)
    else:
        (_, a, b), _ = numpy_operands("where", (True, x, y))
    return torch.where(c.to(torch.bool), a, b)


def _nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None, neginf: Any = None) -> Any:
    return torch.nan_to_num(tensor(x), nan=nan, posinf=posinf, neginf=neginf)


def _positive(x: Any, /) -> Any:
    """A new tensor, as numpy's ``positive`` gives (torch's returns its argument itself, which a
    write to the result would then change)."""
    t = tensor(x)
    r = torch.positive(t)
    return r.clone() if r is t else r


_COMPLEX_PARTS: dict[np.dtype[Any], np.dtype[Any]] = {
    np.dtype(np.complex64): np.dtype(np.float32),
    np.dtype(np.complex128): np.dtype(np.float64),
}


def _isclose(a: Any, b: Any, rtol: Any = 1e-05, atol: Any = 1e-08, equal_nan: bool = False) -> Any:
    """numpy's formula, ``|a - b| <= atol + rtol * |b|`` for finite ``b``, or ``a == b``, in the
    dtype numpy computes it in: its promotion of all four with ``b`` as a float, so a float64
    NumPy scalar or array tolerance makes a float32 comparison float64 (torch's own isclose
    compares in the tensors' dtype)."""

    # numpy's promotion asked through _dt (NOTE [Dtypes of compiled calls]): torch.compile
    # cannot trace numpy's result_type, whose answer is a dtype, not a tensor.
    kinds = _dt.kinds((a, b, rtol, atol))
    if kinds is None:  # a dtype numpy lacks (bfloat16): torch's promotion
        x, y = promoted(a, b)
        return torch.isclose(x, y, rtol=float(rtol), atol=float(atol), equal_nan=equal_nan)
    want = _dt.common((kinds[0], _dt.common((kinds[1], float)), kinds[2], kinds[3]))
    like = _first((a, b, rtol, atol))
    device = like.device if like is not None else "cpu"

    def as_tensor(v: Any, want: np.dtype[Any]) -> Any:
        if isinstance(v, torch.Tensor):
            return v.to(_dt.as_torch(want))
        if type(v) in (int, float, bool):
            return torch.as_tensor(v, dtype=_dt.as_torch(want), device=device)
        return from_numpy(np.asarray(v, want), device)  # read-only and reversed arrays copied

    # complex values: the tolerances bound |a - b|, a real number, so they are compared in the
    # real dtype of the same precision (numpy's; complex ones made torch's <= raise)
    bound = _COMPLEX_PARTS.get(want, want)
    x, y, r, t = as_tensor(a, want), as_tensor(b, want), as_tensor(rtol, bound), as_tensor(atol, bound)
    close = ((torch.abs(x - y) <= t + r * torch.abs(y)) & torch.isfinite(y)) | (x == y)
    if equal_nan:
        close = close | (torch.isnan(x) & torch.isnan(y))
    return close


def _allclose(a: Any, b: Any, rtol: Any = 1e-05, atol: Any = 1e-08, equal_nan: bool = False) -> Any:
    close = torch.all(_isclose(a, b, rtol, atol, equal_nan))
    if torch.compiler.is_compiling():
        return bool(close)
    from ._torch_reshape import _batched

    # numpy's Python bool, except under vmap, whose per-example values one bool cannot hold:
    # there a batched bool tensor, as JAX's allclose gives (bool() raised vmap's error)
    return close if _batched(close) else bool(close)


def _sign(t: torch.Tensor) -> torch.Tensor:
    """numpy's sign: nan stays nan (torch.sign gives 0); derivative 0 everywhere; of a complex
    number z / |z| (0 at 0), as numpy 2's (torch.sign refuses complex tensors)."""
    if t.is_complex():
        return torch.sgn(t)
    s = torch.sign(t)
    if not t.is_floating_point():
        return s
    return torch.where(torch.isnan(t), torch.full_like(t, math.nan), s)


_SAME_UNARY = (
    "sin cos tan sinh cosh tanh exp exp2 expm1 log log2 log10 log1p sqrt square deg2rad rad2deg reciprocal "
    "negative positive signbit isnan isinf isfinite logical_not"
).split()
_UNARY: dict[str, Fn] = {
    "arcsin": torch.asin,
    "arccos": torch.acos,
    "arctan": torch.atan,
    "arcsinh": torch.asinh,
    "arccosh": torch.acosh,
    "arctanh": torch.atanh,
    "degrees": torch.rad2deg,
    "radians": torch.deg2rad,
    "fabs": torch.abs,
    "abs": _abs,
    "absolute": _abs,
    "sign": _sign,
    "floor": _unchanged_if_exact(torch.floor),
    "ceil": _unchanged_if_exact(torch.ceil),
    "trunc": _unchanged_if_exact(torch.trunc),
    "fix": _unchanged_if_exact(torch.trunc),
    "rint": _rint,
    "conj": torch.conj_physical,
    "conjugate": torch.conj_physical,
}
_BINARY: dict[str, Fn] = {
    "add": torch.add,
    "subtract": torch.subtract,
    "multiply": torch.multiply,
    "divide": torch.true_divide,
    "true_divide": torch.true_divide,
    "mod": _nonzero_divisor(_remainder_op),
    "remainder": _nonzero_divisor(_remainder_op),
    "fmod": _nonzero_divisor(torch.fmod),
    "maximum": torch.maximum,
    "minimum": torch.minimum,
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
    "arctan2": torch.atan2,
    "hypot": torch.hypot,
    "logaddexp": torch.logaddexp,
    "logaddexp2": torch.logaddexp2,
    "float_power": torch.float_power,
    "heaviside": torch.heaviside,
}


def _floor_divide_op(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """NOTE [Floor division of floats]: numpy's floor division of floats is Python's, the
    quotient of ``a - fmod(a, b)`` by ``b`` rounded, not ``floor(a / b)``: ``1.0 // 0.1`` is 9
    (0.1 is a little more than a tenth) where ``floor(1.0 / 0.1)`` is 10, ``inf // 2`` is nan
    and ``1 // -inf`` is -1. torch's floor-rounding division follows the same definition, and
    its derivative is 0, as for floor."""
    if _exact(a):
        return torch.floor_divide(a, b)
    return torch.div(a, b, rounding_mode="floor")


def _power(x1: Any, x2: Any, /) -> Any:
    (a, b), dtype = numpy_operands("power", (x1, x2))
    empty = a.numel() == 0 or b.numel() == 0  # numpy checks the exponents it raises to, none here
    if _exact(a) and not empty and _has_negative(x2, b):
        raise ValueError(
            "mnp.power: integers to negative integer powers are not allowed (as in numpy); use a float base"
        )
    r = torch.pow(a, b)
    return r if dtype is None or r.dtype == dtype else r.to(dtype)


def _has_negative(x2: Any, b: torch.Tensor) -> bool:
    if isinstance(x2, (int, np.integer)):
        return bool(x2 < 0)
    try:
        return bool((b < 0).any())
    except RuntimeError:  # a value check cannot run under vmap: torch's result stands
        return False


IMPL: dict[str, Fn] = {}
IMPL.update({n: numpy_typed(n, getattr(torch, n)) for n in _SAME_UNARY})
IMPL.update({n: numpy_typed(n, f) for n, f in _UNARY.items()})
IMPL.update({n: numpy_typed(n, f) for n, f in _BINARY.items()})
IMPL.update(
    {
        "power": _power,
        "floor_divide": numpy_typed("floor_divide", _nonzero_divisor(_floor_divide_op)),
        "round": _round,
        "around": _round,
        "where": _where,
        "nan_to_num": _nan_to_num,
        "isclose": _isclose,
        "positive": _positive,
        "allclose": _allclose,
        "array": stack_nested,
        "asarray": stack_nested,
    }
)

from ._torch_shape import IMPL as _SHAPE_IMPL  # noqa: E402 - needs the helpers above

IMPL.update(_SHAPE_IMPL)

from ._torch_complex import IMPL as _COMPLEX_IMPL  # noqa: E402 - needs the helpers above

IMPL.update(_COMPLEX_IMPL)

from . import _dispatch as _dispatch  # noqa: E402
from ._torch_fast import FAST as _FAST  # noqa: E402 - needs the helpers above (through _torch_reduce)
from ._torch_fast import norm as _fast_norm  # noqa: E402

_dispatch.FAST.update(_FAST)  # NOTE [Common calls on torch] in _torch_fast.py
_dispatch.FAST_NORM[torch.Tensor] = _fast_norm
