"""numpy's ``axis=`` on 0-d arrays, the same on every backend.

NOTE [axis= on 0-d arrays]: numpy accepts ``axis=0`` and ``axis=-1`` on a 0-d array in the
ufunc reductions (``sum``, ``max``, ``argmax``, ...: the whole array, a 0-d result) and treats
the array as one of shape ``(1,)`` in the scans and index functions (``cumsum``, ``argsort``,
``take``, ``repeat``: a result of shape ``(1,)`` or the index's), while ``mean``, ``var``,
``median``, ``sort`` and friends raise ``AxisError``. The frameworks differ from numpy and from
one another (torch keeps the 0-d shape, JAX raises its own ValueError, autograd's derivative of
``cumprod`` raises), so before a call on a 0-d array with an axis, numpy itself is asked on a
0-d stand-in: its error is raised with the call's name, else the call runs on what numpy
computes, the reduction with ``axis=None`` or the scan on the array of shape ``(1,)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# name: (position of axis, what numpy does on a 0-d array, extra positional stand-ins)
_REDUCE = "reduce"  # axis 0/-1 is the whole array
_AS_1D = "as 1-d"  # the array counts as one of shape (1,)
_RAISE = "raise"  # numpy raises AxisError (its own message)
RULES: dict[str, tuple[int, str, tuple[Any, ...]]] = {
    **{
        n: (1, _REDUCE, ())
        for n in (
            "sum prod max min amax amin all any argmax argmin nansum nanprod nanmax nanmin nanmean "
            "nanargmax nanargmin count_nonzero ptp"
        ).split()
    },
    **{n: (1, _AS_1D, ()) for n in "cumsum cumprod nancumsum nancumprod argsort".split()},
    "take": (2, _AS_1D, ([0],)),
    "repeat": (2, _AS_1D, (1,)),
    **{n: (1, _RAISE, ()) for n in "mean std var median average sort nanvar nanstd nanmedian flip".split()},
}


def _ndim(x: Any) -> int | None:
    try:
        return int(np.ndim(x)) if not isinstance(x, (list, tuple)) else None
    except (TypeError, ValueError, RuntimeError):
        return None


def adjust(
    name: str, lib: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``args``/``kwargs`` of ``mnp.name`` as numpy reads them on a 0-d first argument with an
    axis (NOTE [axis= on 0-d arrays]); unchanged otherwise."""
    pos, rule, extra = RULES[name]
    in_kwargs = "axis" in kwargs
    if not args or (not in_kwargs and len(args) <= pos):
        return args, kwargs
    axis = kwargs["axis"] if in_kwargs else args[pos]
    if axis is None or _ndim(args[0]) != 0:
        return args, kwargs
    _ask_numpy(name, axis, extra)
    if rule == _REDUCE:
        if in_kwargs:
            return args, {**kwargs, "axis": None}
        return (*args[:pos], None, *args[pos + 1 :]), kwargs
    from ._dispatch import impl

    return (impl(lib, "reshape")(args[0], (1,)), *args[1:]), kwargs


def _ask_numpy(name: str, axis: Any, extra: tuple[Any, ...] = ()) -> None:
    try:
        getattr(np, name)(np.zeros(()), *extra, axis=axis)
    except np.exceptions.AxisError as e:  # numpy's own verdict on this axis
        raise np.exceptions.AxisError(f"mnp.{name}: {e}") from None
    except (TypeError, ValueError) as e:
        raise type(e)(f"mnp.{name}: {e}") from None


def check(name: str, a: Any, axis: Any) -> None:
    """numpy's error for ``axis`` on a 0-d ``a`` in the functions numpy reduces with ``mean``
    (``var``, ``median``, ``average``, ...), raised with the call's name (NOTE [axis= on 0-d
    arrays])."""
    if axis is not None and _ndim(a) == 0:
        _ask_numpy(name, axis)
