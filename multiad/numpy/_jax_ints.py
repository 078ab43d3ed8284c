"""Python ints beside integer arrays on JAX, as numpy reads them.

NOTE [Python ints beside JAX integer arrays]: numpy 2 computes a Python int with an integer
array in the array's dtype (NEP 50) and raises OverflowError where the dtype cannot hold it, as
the torch backend does (NOTE [Python ints out of range]). JAX wrapped such an int silently
(``mnp.add(uint8 [0, 5], -1)`` gave ``[255, 4]``, ``mnp.less(uint64 x, -1)`` compared with
``2**64 - 1``) and could not take one above ``2**63 - 1`` at all ("An overflow was encountered
while parsing an argument to a jitted computation"), which a uint64 array holds. So before a
dispatched ufunc or ``where`` runs on JAX arrays, a Python int beside integer arrays is read as
numpy reads it: one the computing dtype holds is passed on (above ``2**63 - 1``: as a numpy
scalar of that dtype, which JAX takes); one it cannot hold raises numpy's OverflowError, except
where numpy gives a value: comparisons compare the true values (the int as an infinity of its
sign, which every value of the dtype compares with as with the int), the logical functions see
its truth, and ``where`` wraps it as numpy's cast does, with numpy's RuntimeWarning. Beside
float arrays an int beyond int64 is passed on as the float numpy converts it to.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import numpy as np

from ._ufunc_keywords import COMPARISONS as _COMPARISONS
from ._ufunc_keywords import LOGICAL as _LOGICAL

_INT64 = (-(2**63), 2**63 - 1)


@functools.lru_cache(maxsize=256)
def _common(dtypes: tuple[np.dtype[Any], ...]) -> tuple[np.dtype[Any], int, int] | None:
    """The dtype numpy computes arrays of ``dtypes`` with Python ints in, and its range of
    integers (a float dtype: int64's, beyond which JAX takes no int); None for other dtypes."""
    common = np.result_type(*dtypes)
    if common.kind in "fc":
        return common, *_INT64
    if common.kind not in "iu":
        return None
    info = np.iinfo(common)
    return common, int(info.min), int(info.max)


# NOTE [Float loops of integer arrays]: a ufunc numpy has no integer loop for (``arctan2``,
# ``copysign``, ``heaviside``, ``hypot``, ``logaddexp``, ``divide``) computes an integer array
# and a Python int in a float dtype (int8's: float16), converting the int to that float, so an int
# the array's dtype cannot hold is no error there: ``arctan2(int8 [1, -3], 255)`` is a value.
# Such an int was refused as out of bounds for int8; it is passed on as a float (JAX computes
# in its own float dtype, as docs/api-numpy.md says of JAX's promotion).
@functools.lru_cache(maxsize=256)
def _float_loop(name: str, common: np.dtype[Any]) -> bool:
    """Whether numpy's ufunc ``name`` computes an array of ``common`` with a Python int in a float loop."""
    ufunc = getattr(np, name, None)
    if common.kind not in "iub" or not isinstance(ufunc, np.ufunc) or ufunc.nin != 2:
        return False
    try:
        loop = ufunc.resolve_dtypes((common, int, None))
    except (TypeError, ValueError):  # no loop for them: the ufunc's own error later
        return False
    return loop[0].kind in "fc"


def adjust(name: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """``args`` of ``mnp.name`` on JAX arrays with their Python ints read as numpy reads them
    (NOTE [Python ints beside JAX integer arrays])."""
    for a in args:
        if type(a) is int and not 0 <= a < 128:
            break
    else:  # ints every dtype holds, or none
        return args
    dtypes = tuple(np.dtype(a.dtype) for a in (args[1:] if name == "where" else args) if hasattr(a, "dtype"))
    if not dtypes:  # Python numbers alone: JAX's default dtypes
        return args
    if _float_loop(name, np.result_type(*dtypes)):  # NOTE [Float loops of integer arrays]
        return tuple(float(a) if type(a) is int else a for a in args)
    found = _common(dtypes)
    if found is None:
        return args
    common, lo, hi = found
    out = []
    for i, a in enumerate(args):
        if type(a) is not int or (name == "where" and i == 0):
            out.append(a)
        elif name in _LOGICAL and not _INT64[0] <= a <= _INT64[1]:  # numpy: a C long
            raise OverflowError(f"mnp.{name}: Python int {a} too large to convert to C long (as in numpy)")
        elif common.kind in "fc":  # numpy converts it to the float (OverflowError beyond float64)
            out.append(float(a) if not lo <= a <= hi else a)
        elif lo <= a <= hi:
            out.append(a if _INT64[0] <= a <= _INT64[1] else common.type(a))
        elif name in _COMPARISONS:
            out.append(math.inf if a > hi else -math.inf)
        elif name in _LOGICAL:
            out.append(bool(a))
        elif name == "where" and -(2**63) <= a < 2**64:  # numpy: a C long or unsigned long
            warnings.warn("mnp.where: overflow encountered in cast (as in numpy)", RuntimeWarning, stacklevel=4)
            out.append(common.type((a - lo) % (hi - lo + 1) + lo))
        else:
            raise OverflowError(
                f"mnp.{name}: Python integer {a} out of bounds for {common} (as in numpy); "
                "convert the array to a wider dtype first"
            )
    return tuple(out)
