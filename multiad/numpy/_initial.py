"""A reduction's ``initial=`` as numpy reads it, for the torch and JAX backends.

NOTE [Initial values as numpy reads them]: numpy converts a reduction's ``initial`` into the
dtype it reduces in (the array's for ``max``, ``sum``'s accumulator: int64 for int8 values),
and how depends on the value's type. Into an integer dtype a float is truncated first (``5.5``
is 5; NaN is a ValueError, infinity an OverflowError); a Python int or float the dtype cannot
hold is an OverflowError (NOTE [Python ints out of range]), as is a numpy scalar a signed dtype
cannot hold, while an unsigned dtype takes a numpy scalar modulo its range (``np.int8(-1)`` into
uint8 is 255, ``np.float16(300)`` 44). Into bool it is its truth value, into a float dtype its
float. The frameworks read it otherwise: torch's ``as_tensor(np.float16(5), dtype=torch.int8)``
raised a TypeError, a numpy scalar beside uint64 values (compared as int64 bits, NOTE [Wide
unsigned integers on torch]) was compared unshifted (``max`` of uint64 ``[1, 3, 2]`` with
``initial=np.uint64(5)`` gave ``2**63 + 5``), and JAX saturated (``max`` of uint8 values with
``initial=np.float32(-1)`` gave 3 where numpy gives 255) or wrapped (``np.int16(300)`` into
int8: 44 where numpy raises). So the dispatched reductions get the Python number numpy would
use, in the dtype's range. Infinity or NaN into an unsigned dtype is refused (numpy's result
there is a C cast whose value the platform decides).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

_NO_VALUE: Any = np._NoValue


@functools.lru_cache(maxsize=256)
def _reduced_in(name: str, of: np.dtype[Any], dtype: Any) -> np.dtype[Any]:
    """The dtype numpy's reduction ``name`` of ``of`` values with ``dtype=`` reduces in."""
    if name in ("sum", "prod"):
        into: np.dtype[Any] = getattr(np, name)(np.zeros(1, of), dtype=dtype).dtype
        return into
    return of


def as_numpy_reads(call: str, name: str, initial: Any, of: str, dtype: Any, scalar: bool) -> Any:
    """``initial`` of numpy's reduction ``name`` of values of dtype ``of`` (numpy's name) with ``dtype=``,
    as numpy reads it (NOTE [Initial values as numpy reads them]): a Python number (``scalar``:
    a numpy scalar of the dtype reduced in, as JAX takes a uint64 above ``2**63 - 1``), or
    ``initial`` itself where it is no real number (an array) or numpy knows no such dtype."""
    read = _read(call, name, initial, of, dtype)
    if not scalar or type(read) not in (int, float, bool):
        return read
    with np.errstate(over="ignore"):  # a float too large for float16 is inf, as numpy casts it
        return _reduced_in(name, np.dtype(of), dtype).type(read)


def _read(call: str, name: str, initial: Any, of: str, dtype: Any) -> Any:
    if (
        initial is _NO_VALUE
        or initial is None
        or not isinstance(initial, (np.generic, int, float))
        or isinstance(initial, (np.complexfloating, np.void, complex, np.str_, np.bytes_))
    ):
        return initial
    try:
        into = _reduced_in(name, np.dtype(of), dtype)
    except TypeError:  # a dtype numpy does not know (bfloat16, a torch dtype=): the framework reads it
        return initial
    if into.kind in "fc":
        return initial if type(initial) is int else float(initial)
    if into.kind == "b":
        return bool(initial)
    if into.kind not in "iu":
        return initial
    try:
        value = int(initial)  # numpy truncates floats
    except (ValueError, OverflowError) as exc:  # NaN, infinity
        raise type(exc)(f"{call}: initial={initial!r} into {into}: {exc} (as in numpy); give a finite value") from None
    info = np.iinfo(into)
    if into.kind == "u" and isinstance(initial, np.generic) and not isinstance(initial, np.bool_):
        return value % (int(info.max) + 1)  # numpy's cast of a numpy scalar into unsigned: modulo
    if not info.min <= value <= info.max:
        raise OverflowError(
            f"{call}: initial={initial!r} is out of bounds for {into} (as in numpy); give an initial value "
            "the dtype holds, or convert the array to a wider dtype first"
        )
    return value
