"""numpy's ``axis=`` on 0-d arrays, the same on every backend.

NOTE [axis= on 0-d arrays]: numpy accepts ``axis=0`` and ``axis=-1`` on a 0-d array in the
ufunc reductions (``sum``, ``max``, ``argmax``, ...: the whole array, a 0-d result) and treats
the array as one of shape ``(1,)`` in the scans and index functions (``cumsum``, ``argsort``,
``take``, ``repeat``: a result of shape ``(1,)`` or the index's), while ``mean``, ``var``,
``median``, ``sort`` and friends raise ``AxisError`` (``axis=()``, no axis, they accept). The
answer can depend on the dtype: ``nanvar`` and ``nanmean`` accept ``axis=0`` for floats, and
raise for integers (numpy's ``var`` and ``mean`` of them). The frameworks differ from numpy and
from one another (torch keeps the 0-d shape, JAX raises its own ValueError, autograd's
derivative of ``cumprod`` raises), so before a call on a 0-d array with an axis, numpy itself is
asked on a 0-d stand-in of the array's dtype: its error is raised with the call's name, else the
call runs on what numpy computes, the whole array (``axis=None``) or the array of shape ``(1,)``
for the scans.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# name of a function dispatched by ``_dispatch.call``: (position of axis, what numpy does on a
# 0-d array where it accepts the axis, extra positional stand-ins). Functions written once
# (``var``, ``median``, the nan-functions, ...) call :func:`check` themselves.
_WHOLE = "whole"  # the whole array (axis 0/-1 of a reduction; axis=() of ``mean``, ``flip``)
_AS_1D = "as 1-d"  # the array counts as one of shape (1,)
RULES: dict[str, tuple[int, str, tuple[Any, ...]]] = {
    **{n: (1, _WHOLE, ()) for n in "sum prod max min amax amin all any argmax argmin count_nonzero".split()},
    **{n: (1, _WHOLE, ()) for n in "mean sort flip".split()},  # numpy raises AxisError but for axis=()
    **{n: (1, _AS_1D, ()) for n in "cumsum cumprod argsort".split()},
    "take": (2, _AS_1D, ([0],)),
    "repeat": (2, _AS_1D, (1,)),
}

_DEFAULT_AXIS = {"argsort": -1}  # numpy's argsort of a 0-d array: [0], as along axis -1 of shape (1,)


def _ndim(x: Any) -> int | None:
    if isinstance(x, (list, tuple)):
        return None
    nd = getattr(x, "ndim", None)  # an array's own: np.ndim of a tensor is a graph break under torch.compile
    if isinstance(nd, int):
        return nd
    try:
        return int(np.ndim(x))
    except (TypeError, ValueError, RuntimeError):
        return None


def adjust(
    name: str, lib: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``args``/``kwargs`` of ``mnp.name`` as numpy reads them on a 0-d first argument with an
    axis (NOTE [axis= on 0-d arrays]); unchanged otherwise."""
    pos, rule, extra = RULES[name]
    in_kwargs = "axis" in kwargs
    if not args or (not in_kwargs and len(args) <= pos and name not in _DEFAULT_AXIS):
        return args, kwargs
    axis = kwargs["axis"] if in_kwargs else args[pos] if len(args) > pos else _DEFAULT_AXIS[name]
    if axis is None or _ndim(args[0]) != 0:
        return args, kwargs
    _ask_numpy(name, args[0], axis, extra)
    if rule == _WHOLE:
        if in_kwargs:
            return args, {**kwargs, "axis": None}
        return (*args[:pos], None, *args[pos + 1 :]), kwargs
    from ._dispatch import impl

    return (impl(lib, "reshape")(args[0], (1,)), *args[1:]), kwargs


def _stand_in(a: Any) -> np.ndarray:
    """A 0-d numpy array of the dtype of ``a`` (numpy's verdict can depend on it: ``nanvar`` of
    integers is their ``var``); float64 for a dtype numpy lacks."""
    dt = getattr(a, "dtype", None)
    try:
        return np.zeros((), np.asarray(a).dtype if dt is None else str(dt).rsplit(".", 1)[-1])
    except TypeError:
        return np.zeros(())


def _ask_numpy(name: str, a: Any, axis: Any, extra: tuple[Any, ...] = ()) -> None:
    try:
        getattr(np, name)(_stand_in(a), *extra, axis=axis)
    except np.exceptions.AxisError as e:  # numpy's own verdict on this axis
        raise np.exceptions.AxisError(f"mnp.{name}: {e}") from None
    except (TypeError, ValueError) as e:
        raise type(e)(f"mnp.{name}: {e}") from None


def check(name: str, a: Any, axis: Any) -> None:
    """numpy's error for ``axis`` on a 0-d ``a`` in the functions written once from other
    ``multiad.numpy`` functions (``var``, ``median``, ``nanmean``, ...), raised with the call's
    name (NOTE [axis= on 0-d arrays])."""
    if axis is not None and _ndim(a) == 0:
        _ask_numpy(name, a, axis)
