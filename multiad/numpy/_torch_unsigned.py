"""Wide unsigned integers on torch, which has few kernels for them.

NOTE [Wide unsigned integers on torch]: torch has ``uint16``, ``uint32`` and ``uint64`` tensors
but no kernels for most operations on them (``mnp.less`` raised torch's ``"lt_cpu" not
implemented for 'UInt16'``). Where torch refuses one, the call runs again with ``uint16``
computed in ``int32`` and ``uint32`` in ``int64``, which hold every value, and integer results
in the wider dtype are converted back (the conversion wraps modulo ``2**16`` or ``2**32``,
which is numpy's arithmetic in the unsigned dtype: ``add``, ``multiply``, ``negative`` give
numpy's values, and ``max``, ``sort``, ``take`` the values themselves). Indices (``argmax``,
``argsort``) stay int64, as numpy's. ``uint64`` has no wider dtype: ``add``, ``subtract``,
``multiply`` and ``negative`` run on its bits as ``int64`` (two's complement arithmetic is the
same modulo ``2**64``), comparisons, ``max``, ``sort`` on the bits with the top bit flipped
(which order as the unsigned values), ``abs`` and ``sign`` directly; other operations, whose
result depends on values above ``2**63 - 1``, raise an error that says so, where a computation
in int64 would give wrong numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

_WIDER = {torch.uint16: torch.int32, torch.uint32: torch.int64}
#: results that are the same bits whether computed in uint64 or int64 (modular arithmetic,
#: values moved or selected, truth values)
_SAME_BITS = frozenset(
    "add subtract multiply negative positive square diff flip fliplr flipud roll take take_along_axis "
    "repeat tile where concatenate stack append diagonal tril triu logical_not logical_and logical_or "
    "logical_xor".split()
)
#: results that depend on the order of values only: computed on the bits with the top bit
#: flipped, as int64 (``x ^ 2**63`` orders as ``x``), the values flipped back
_ORDERED = frozenset(
    "less less_equal greater greater_equal equal not_equal max min amax amin maximum minimum sort "
    "argmax argmin argsort".split()
)
_TOP = -(2**63)
#: the _ORDERED functions all of whose arguments are values (the others take values in their
#: first argument and in ``initial``; their other integers are axes, see NOTE [Axes are not values])
_ALL_VALUES = frozenset("less less_equal greater greater_equal equal not_equal maximum minimum".split())
#: where ``initial`` sits among the positional arguments: numpy's ``max(a, axis, out, keepdims, initial, where)``
_INITIAL_AT = {"max": 4, "min": 4, "amax": 4, "amin": 4}
_INDICES = frozenset({"argmax", "argmin", "argsort", "count_nonzero", "nonzero", "argwhere", "flatnonzero"})


def _found(x: Any, dtypes: set[torch.dtype]) -> None:
    """The dtypes of the tensors in ``x`` (nested in lists and tuples), added to ``dtypes``."""
    if isinstance(x, torch.Tensor):
        dtypes.add(x.dtype)
    elif isinstance(x, (list, tuple)):
        for v in x:
            _found(v, dtypes)


def _mapped(x: Any, fn: Callable[[torch.Tensor], torch.Tensor]) -> Any:
    if isinstance(x, torch.Tensor):
        return fn(x)
    if isinstance(x, (list, tuple)) and not hasattr(x, "_fields"):
        return type(x)(_mapped(v, fn) for v in x)
    if isinstance(x, tuple):  # a named tuple
        return type(x)(*(_mapped(v, fn) for v in x))
    return x


def retry(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], run: Callable[..., Any], exc: BaseException) -> Any:
    """``run(*args, **kwargs)`` again with wide unsigned tensors widened (NOTE [Wide unsigned
    integers on torch]); the error, named, where that would not give numpy's values."""
    found: set[torch.dtype] = set()
    _found((args, tuple(kwargs.values())), found)
    if any(isinstance(a, (np.ndarray, np.generic)) and a.dtype in _NUMPY_WIDE for a in args):
        # NOTE [Wide unsigned numpy operands]: a numpy operand of a wide unsigned dtype made the
        # call's computing dtype (uint8 with np.uint64(3) computes in uint64), but, not being a
        # tensor, was not found: torch's error stood (add, less), or uint16 widened to int32
        # beside it computed in float64 (numpy: uint64). As a tensor it is found and computed as one.
        like = next(_tensors((args, tuple(kwargs.values()))), None)
        device = like.device if like is not None else None
        args = tuple(a if name == "where" and i == 0 else _wide_tensor(a, device) for i, a in enumerate(args))
        _found(args, found)
    dtypes = {d for d in found if d in _WIDER or d == torch.uint64}
    if not dtypes:  # a wide unsigned tensor made inside the call: torch's error, named
        raise NotImplementedError(f"mnp.{name}: {exc}") from exc
    if torch.uint64 in dtypes:
        # NOTE [Unsigned numpy scalars beside uint64]: a numpy scalar of an unsigned dtype or
        # bool (not where's condition) computes with uint64 values in uint64, as a Python int of its value does; as a
        # Python int it is flipped and wrapped below with the values, where the numpy scalar
        # was passed on as it was (mnp.less(uint64 [0, 5], np.uint64(3)) gave [True, True])
        args = tuple(a if name == "where" and i == 0 else _unsigned_scalar(a) for i, a in enumerate(args))
        kwargs = {k: _unsigned_scalar(v) for k, v in kwargs.items()}
        return _uint64(name, args, kwargs, run, exc, dtypes)
    back = {_WIDER[d]: d for d in sorted(dtypes, key=lambda d: d.itemsize)}  # the widest wins
    out = _run(run, args, kwargs, lambda t: t.to(_WIDER[t.dtype]) if t.dtype in _WIDER else t)
    if name in _INDICES:
        return out
    return _mapped(out, lambda t: t.to(back[t.dtype]) if t.dtype in back else t)


_NUMPY_WIDE = frozenset(np.dtype(n) for n in ("uint16", "uint32", "uint64"))


def _tensors(x: Any) -> Iterator[torch.Tensor]:
    """The tensors in ``x`` (nested in lists and tuples), in order."""
    if isinstance(x, torch.Tensor):
        yield x
    elif isinstance(x, (list, tuple)):
        for v in x:
            yield from _tensors(v)


def _wide_tensor(x: Any, device: Any) -> Any:
    """A numpy array or scalar of a wide unsigned dtype as a tensor on ``device`` (NOTE [Wide
    unsigned numpy operands]); other values unchanged."""
    if isinstance(x, (np.ndarray, np.generic)) and x.dtype in _NUMPY_WIDE:
        from ._torch import from_numpy

        return from_numpy(x, device)
    return x


def _unsigned_scalar(x: Any) -> Any:
    """A numpy scalar of an unsigned dtype as the Python int of its value (NOTE [Unsigned numpy
    scalars beside uint64]); other values unchanged."""
    return int(x) if isinstance(x, (np.unsignedinteger, np.bool_)) else x


def _run(
    run: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], fn: Callable[[torch.Tensor], torch.Tensor]
) -> Any:
    return run(*_mapped(args, fn), **{k: _mapped(v, fn) for k, v in kwargs.items()})


def _uint64(
    name: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    run: Callable[..., Any],
    exc: BaseException,
    dtypes: set[torch.dtype],
) -> Any:
    """``run`` on uint64 tensors as int64 bits (NOTE [Wide unsigned integers on torch])."""
    if name in ("abs", "absolute", "sign") and len(args) == 1 and not kwargs and dtypes == {torch.uint64}:
        x = args[0]  # unsigned values: abs is the identity, sign is 0 or 1
        return x.clone() if name != "sign" else (x != 0).to(torch.uint64)
    numbers = [v for v in (*args, *kwargs.values()) if type(v) is int]
    if name in _SAME_BITS and all(-(2**63) <= v < 2**64 for v in numbers):
        bits = _run(run, tuple(map(_signed, args)), {k: _signed(v) for k, v in kwargs.items()}, _as_int64)
        return _mapped(bits, lambda t: t.view(torch.uint64) if t.dtype == torch.int64 else t)
    if name in _ORDERED:
        # NOTE [Axes are not values]: only values move with the flipped bits; an axis shifted
        # by 2**63 was out of bounds (mnp.max(x, 1) of uint64 raised "axis -9223372036854775807 ...")
        at = {i for i in range(len(args)) if name in _ALL_VALUES or i in (0, _INITIAL_AT.get(name))}
        keys = {k for k in kwargs if name in _ALL_VALUES or k == "initial"}
        values = [args[i] for i in at] + [kwargs[k] for k in keys]
        if all(0 <= v < 2**64 for v in values if type(v) is int) and not _signed_tensors(values):
            # NOTE [Unsigned values beside uint64]: every value flips, not the uint64 ones alone:
            # mnp.less(uint64 0, uint8 0) compared -2**63 with 0 and gave True
            device = next(_tensors(values)).device
            shifted_args = tuple(
                _mapped(_shifted(v, device), _flip_value) if i in at else v for i, v in enumerate(args)
            )
            shifted_kwargs = {
                k: _mapped(_shifted(v, device), _flip_value) if k in keys else v for k, v in kwargs.items()
            }
            flipped = _run(run, shifted_args, shifted_kwargs, _flip_top)
            if name in _INDICES:
                return flipped
            return _mapped(flipped, lambda t: (t ^ _TOP).view(torch.uint64) if t.dtype == torch.int64 else t)
    raise NotImplementedError(
        f"mnp.{name}: torch has no kernel for uint64 tensors here ({exc}), and computing in int64 would "
        "change values above 2**63 - 1; convert with mnp.astype(x, 'int64') where the values are below "
        "2**63, or use another backend"
    ) from exc


def _as_int64(t: torch.Tensor) -> torch.Tensor:
    """uint64 as its int64 bits; uint16 and uint32 (beside uint64) as the int64 of their values."""
    if t.dtype == torch.uint64:
        return t.view(torch.int64)
    return t.to(torch.int64) if t.dtype in _WIDER else t


def _flip_top(t: torch.Tensor) -> torch.Tensor:
    return t.view(torch.int64) ^ _TOP if t.dtype == torch.uint64 else t


#: dtypes whose values numpy compares with uint64 ones as uint64 (NOTE [Unsigned values beside uint64])
_BELOW_UINT64 = frozenset({torch.bool, torch.uint8, torch.uint16, torch.uint32})


def _flip_value(t: torch.Tensor) -> torch.Tensor:
    """A tensor of values beside uint64 ones as :func:`_flip_top` sees its values in uint64.

    NOTE [Unsigned values beside uint64]: numpy compares uint64 with bool and narrower unsigned
    values (``less``, ``maximum``) in uint64; flipping the top bit of the uint64 operand alone
    compared its flipped bits with the other's unflipped values."""
    if t.dtype in _BELOW_UINT64:
        return t.to(torch.int64) ^ _TOP
    return _flip_top(t)


def _signed_tensors(values: list[Any]) -> bool:
    found: set[torch.dtype] = set()
    _found(values, found)
    return any(d not in _BELOW_UINT64 and d != torch.uint64 for d in found)


def _signed(x: Any) -> Any:
    """A Python int as the int64 of its bits modulo ``2**64``; other values unchanged."""
    if type(x) is int and x >= 2**63:
        return x - 2**64
    return x


def _shifted(x: Any, device: Any) -> Any:
    """A Python int or bool as :func:`_flip_top` sees its uint64 value: ``x - 2**63``; a numpy
    array of bools or uint8 as a tensor on ``device``, which :func:`_flip_value` then flips.

    A Python bool is a value too (numpy compares ``True`` with uint64 values as 1): passed on
    unshifted, it was compared with the flipped bits, and ``maximum(uint64 x, True)`` gave
    ``2**63 + 1`` everywhere, ``less(uint64 x, True)`` all True. A numpy array of bools or
    uint8 (a list of bools arrives as one) was converted to a tensor only after the flip, and
    gave the same: ``maximum(uint64 x, np.array([1], np.uint8))`` was ``2**63 + 1``. (Wider
    unsigned numpy arrays are tensors already: NOTE [Wide unsigned numpy operands].)"""
    if type(x) is int or type(x) is bool:
        return int(x) - 2**63
    if isinstance(x, np.ndarray) and x.dtype in _NUMPY_NARROW:
        from ._torch import from_numpy

        return from_numpy(x, device)
    return x


#: numpy dtypes that compare with uint64 values as uint64 and reach :func:`_shifted` as arrays.
_NUMPY_NARROW = frozenset(np.dtype(n) for n in ("bool", "uint8"))
