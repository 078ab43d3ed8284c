"""numpy's TypeError for ufuncs it does not define for complex numbers, on every backend."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from . import _ufunc_keywords as _ufk


# NOTE [Ufuncs without complex loops]: numpy defines no complex loop for some ufuncs (``floor``,
# ``ceil``, ``trunc``, ``fmod``, ``remainder``, ``floor_divide``, ``arctan2``, ``hypot``,
# ``copysign``, ``logaddexp``, ``deg2rad``, ``ldexp``, ``signbit``, ...) and raises TypeError
# for complex operands. jax.numpy computed some of them anyway (``deg2rad``, ``arctan2``,
# ``logaddexp`` of complex arrays gave numbers numpy has none for) and refused others with a
# ValueError; autograd's and numpy's TypeError did not name the call. torch's calls ask numpy for
# the result dtype first (NOTE [numpy dtypes on torch]); on the other backends, a call of such a
# ufunc with a complex operand asks numpy the same question with empty arrays of the operands'
# dtypes, and numpy's TypeError is raised starting with the call. The names are those numpy
# refuses for complex128 operands, found once; calls of other ufuncs read no dtypes.
def _without_complex() -> frozenset[str]:
    """The ufuncs numpy refuses for complex128 operands, asked of numpy once, at import (0.3 ms):
    asked first inside ``torch.compile``, Dynamo would trace the numpy calls and fail."""
    found = set()
    z = np.empty(0, np.complex128)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in _ufk.UFUNCS:
            fn = getattr(np, name)
            if fn.signature is not None:  # generalized ufuncs (matmul, matvec, ...): not elementwise
                continue
            try:
                fn(*[z] * fn.nin)
            except TypeError:
                found.add(name)
    return frozenset(found)


_WITHOUT_COMPLEX = _without_complex()


#: numpy functions that are not ufuncs but raise a ufunc's TypeError for complex operands.
ALIASES = {"fix": "trunc"}
#: The names whose calls :func:`check` reads (those of other names it returns at once).
CHECKED = frozenset(n for n in (*_ufk.UFUNCS, *ALIASES) if ALIASES.get(n, n) in _WITHOUT_COMPLEX)


def _complex(a: Any) -> bool:
    if isinstance(a, complex):
        return True
    dt = getattr(a, "dtype", None)
    return getattr(dt, "kind", "") == "c" or bool(getattr(dt, "is_complex", False))  # numpy's, torch's


def _dtype(a: Any) -> Any:
    if isinstance(a, (bool, int, float, complex)):
        return a  # a Python number: numpy's weak scalar
    dt = getattr(a, "dtype", None)
    if dt is None:
        return a
    try:
        return np.empty(0, np.dtype(str(dt).removeprefix("torch.")))
    except TypeError:  # a dtype numpy lacks
        return None


def check(name: str, operands: tuple[Any, ...]) -> None:
    """Raises numpy's TypeError, starting with the call, where numpy has no loop of ufunc
    ``name`` for these complex operands (NOTE [Ufuncs without complex loops])."""
    ufunc = ALIASES.get(name, name)
    if ufunc not in _WITHOUT_COMPLEX or not any(_complex(a) for a in operands):
        return
    proxies = [_dtype(a) for a in operands[: getattr(np, ufunc).nin]]
    if any(p is None for p in proxies):
        return
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            getattr(np, ufunc)(*proxies)
    except TypeError as e:
        names = ", ".join(p.dtype.name if isinstance(p, np.ndarray) else type(p).__name__ for p in proxies)
        raise TypeError(f"mnp.{name}: numpy does not define it for {names}: {e}") from None
