"""numpy's result dtypes for functions run on torch tensors.

NOTE [numpy dtypes on torch]: torch's type promotion differs from numpy's in ways that change
results silently: a 0-d tensor does not promote a tensor of higher rank (``float32`` times a
``float64`` 0-d tensor stays ``float32``), numpy scalars count as Python scalars (``float32``
times ``np.float64(2)`` stays ``float32``; numpy 2's NEP 50 makes it ``float64``), ``sign`` and
``floor`` of integers are integers in numpy, and ``sin`` of ``int8`` is ``float16``. Rather than
restating numpy's tables, the dtype of a result is asked of numpy itself: the numpy function
runs once on empty arrays (one element for reductions) of the arguments' dtypes, with Python
numbers as they are (weak, as in numpy), and the answer is cached per dtype combination. The
operands are cast to numpy's common dtype (or to the result's float dtype where numpy computes
integers in floats) before the torch operation runs, so the computation happens in the precision
numpy uses, and the result is cast to numpy's result dtype. Tensors of dtypes numpy lacks
(``bfloat16``) keep torch's own promotion.

NOTE [Dtypes of compiled calls]: ``torch.compile`` cannot trace the numpy call that answers a
dtype question (nor ``np.errstate``). :func:`result` and :func:`common` take and return only
dtypes, names and keywords, so they are marked ``torch.compiler.assume_constant_result``: while
a call is traced they run as ordinary Python, and their answer enters the program as a constant
(the program is guarded on its tensors' dtypes, so a call with other dtypes traces again).
Outside compilation the mark changes nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

_TORCH_OF: dict[np.dtype[Any], torch.dtype] = {
    np.dtype(n): getattr(torch, n)
    for n in (
        "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 complex64 complex128"
    ).split()
    if hasattr(torch, n)
}
_NP_OF: dict[torch.dtype, np.dtype[Any]] = {t: d for d, t in _TORCH_OF.items()}
_WEAK = {bool: True, int: 1, float: 1.0, complex: 1j}
_cache: dict[tuple[Any, ...], np.dtype[Any]] = {}

Kind = np.dtype[Any] | type


def torch_dtype(dtype: Any, call: str = "mnp.astype") -> torch.dtype:
    """A dtype in any spelling numpy accepts (``"float32"``, ``np.float32``, ``np.dtype``,
    ``float``) or a torch dtype, as a torch dtype."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str) and dtype == "bfloat16":
        return torch.bfloat16
    try:
        return _TORCH_OF[np.dtype(dtype)]
    except (TypeError, KeyError):
        raise TypeError(
            f"{call}: dtype {dtype!r} has no torch equivalent; give a numpy dtype name such as 'float32' "
            "or a torch dtype such as torch.float32"
        ) from None


def numpy_dtype(t: torch.dtype) -> np.dtype[Any] | None:
    """numpy's dtype of a torch dtype, None for those numpy lacks (``bfloat16``)."""
    return _NP_OF.get(t)


def kind(x: Any) -> Kind | None:
    """How numpy's promotion sees ``x``: a dtype (arrays, tensors, numpy scalars, which are
    strong) or a Python number type (weak); None for a tensor dtype numpy lacks."""
    if isinstance(x, torch.Tensor):
        return _NP_OF.get(x.dtype)
    if isinstance(x, np.ndarray):
        return array_dtype(x)
    if isinstance(x, np.generic):
        return x.dtype
    if type(x) in _WEAK:
        return type(x)
    return np.asarray(x).dtype


def array_dtype(x: Any) -> np.dtype[Any]:
    """``x.dtype``. NOTE [numpy arrays in compiled code]: while ``torch.compile`` traces, a numpy
    array made inside the traced function (an index table built from shapes) is a tensor in
    numpy's clothes, whose ``dtype``, ``flags`` and ``strides`` it cannot read; its tensor's
    dtype is read instead, and :func:`multiad.numpy._torch.from_numpy` takes its tensor as it is."""
    dt: np.dtype[Any] = _NP_OF[torch.as_tensor(x).dtype] if torch.compiler.is_compiling() else x.dtype
    return dt


def array_dtype_or_name(x: Any) -> Any:
    """``x.dtype``, or while ``torch.compile`` traces the name of its tensor's dtype, which
    :func:`multiad.numpy._composite.dtype_name` returns as it is (NOTE [numpy arrays in compiled
    code], NOTE [A dtype table a trace cannot read])."""
    return _NAME_OF[torch.as_tensor(x).dtype] if torch.compiler.is_compiling() else x.dtype


_NAME_OF = {t: str(d.name) for t, d in _NP_OF.items()}

from . import _composite  # noqa: E402 - after array_dtype_or_name, which it is given

_composite.ARRAY_DTYPE[0] = array_dtype_or_name


def kinds(args: tuple[Any, ...]) -> tuple[Kind, ...] | None:
    """The kinds of ``args``, None if a tensor has a dtype numpy lacks."""
    out = []
    for a in args:
        k = kind(a)
        if k is None:
            return None
        out.append(k)
    return tuple(out)


def _proxy(k: Kind, reduction: bool) -> Any:
    if isinstance(k, np.dtype):
        return np.ones(1, k) if reduction else np.empty(0, k)
    return _WEAK[k]


def result(name: str, kinds: tuple[Kind, ...], reduction: bool = False, **kwargs: Any) -> np.dtype[Any]:
    """numpy's result dtype of ``name`` on arguments of ``kinds`` (see NOTE [numpy dtypes on
    torch]); raises numpy's own error where numpy rejects the dtypes, prefixed with the call."""
    key = (name, kinds, reduction, *sorted(kwargs.items()))
    hit = _cache.get(key)
    if hit is not None:
        return hit
    fn: Any = np
    for part in name.split("."):
        fn = getattr(fn, part)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(*[_proxy(k, reduction) for k in kinds], **kwargs)
    except (TypeError, ValueError) as e:
        names = ", ".join(k.name if isinstance(k, np.dtype) else f"Python {k.__name__}" for k in kinds)
        error = TypeError if isinstance(e, TypeError) else ValueError
        raise error(f"mnp.{name}: numpy does not define it for {names}: {e}") from None
    if isinstance(out, tuple):
        out = out[0]
    dt = np.asarray(out).dtype
    _cache[key] = dt
    return dt


def common(kinds: tuple[Kind, ...]) -> np.dtype[Any]:
    """numpy's common dtype of the arguments (Python numbers weak)."""
    key = ("<common>", kinds)
    hit = _cache.get(key)
    if hit is None:
        hit = np.result_type(*[_proxy(k, False) if not isinstance(k, np.dtype) else k for k in kinds])
        _cache[key] = hit
    return hit


def as_torch(d: np.dtype[Any]) -> torch.dtype:
    return _TORCH_OF[d]


# NOTE [Dtypes of compiled calls]: the mark sets an attribute on the function itself.
_assume_constant: Callable[[Callable[..., Any]], object] = torch.compiler.assume_constant_result
_assume_constant(result)
_assume_constant(common)
