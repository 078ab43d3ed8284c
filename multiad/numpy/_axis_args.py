"""numpy's checks of ``axis=``, ``keepdims=`` and ``initial=`` where a framework is laxer.

NOTE [Reduction arguments as numpy checks them]: numpy refuses an axis that is not an integer
(``axis=0.5``: TypeError), a tuple of axes with a repeated one (ValueError) or one out of range
(``AxisError``), a tuple of axes in the functions that take one axis (``argmax``, ``cumsum``,
``sort``: TypeError), a ``keepdims=`` that is not an integer (``keepdims="x"``: TypeError) and an
``initial=`` that is not a scalar (ValueError). torch's functions here read ``axis`` with
``int()`` and ``initial`` with ``torch.as_tensor`` (``sum(x, axis=0.5)`` summed over axis 0,
``sum(x, initial=[1, 2])`` added a vector), and JAX takes any ``keepdims`` by its truth. So on
torch and JAX arrays the dispatched reductions check these arguments before they run, as numpy
does, and raise numpy's exception types, the message starting with the call; numpy's and
autograd's arrays run numpy's own checks. The functions written once from others (``var``,
``median``, the nan-functions) check their axis with :func:`axes` on every backend.

The check is on the hot path of functions called inside differentiated code, so it is cheap:
a call with no argument but the array returns at once, a plain ``int`` axis and a ``bool``
keepdims are compared by type, and the positions of numpy's parameters are a table. A plain
``int`` axis out of range is left to the framework, whose error is replaced by numpy's where the
call fails (:func:`out_of_range`): reading a torch tensor's ``ndim`` on every call cost more
than the rest of the check.
A 0-d array's axis is left to NOTE [axis= on 0-d arrays] (numpy accepts ``axis=0`` there).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from . import _composite, _initial

_AxisError = np.exceptions.AxisError
_NO_VALUE: Any = np._NoValue

#: Dispatched reductions taking one axis or a tuple of them.
_TUPLES = frozenset("sum prod mean max min amax amin all any count_nonzero".split())
#: Dispatched functions taking one axis.
_ONE = frozenset("argmax argmin cumsum cumprod sort argsort take".split())
CHECKED = _TUPLES | _ONE
#: Dispatched functions taking two axes, whose framework raised another error than numpy's
#: AxisError for one out of range (JAX's swapaxes: IndexError, "index 5 is out of bounds for axis
#: 0 with size 2"; torch's: "Dimension out of range"), with their names and positions; only
#: asked where the call failed (:func:`out_of_range`).
PAIRS: dict[str, tuple[tuple[str, int], ...]] = {"swapaxes": (("axis1", 1), ("axis2", 2))}
#: keepdims= read as numpy's ufunc reductions read it (an integer); the others read its truth.
_KEEPDIMS_INDEX = frozenset("sum prod mean max min amax amin all any".split())
_KEEPDIMS_TRUTH = frozenset("argmax argmin count_nonzero".split())
_INITIAL = frozenset("sum prod max min amax amin".split())
_NUMBERS = (int, float, np.generic)

#: Where numpy's functions take ``axis``, ``keepdims`` and ``initial`` positionally (numpy's
#: signatures, written out: ``inspect.signature`` is not traced by torch.compile; a test
#: compares them with numpy's).
_AK_I = {"axis": 1, "keepdims": 4, "initial": 5}
_A_K_I = {"axis": 1, "keepdims": 3, "initial": 4}
_A_K = {"axis": 1, "keepdims": 3}
_A = {"axis": 1}
POSITIONS: dict[str, dict[str, int]] = {
    "sum": _AK_I,
    "prod": _AK_I,
    "mean": {"axis": 1, "keepdims": 4},
    **dict.fromkeys(("max", "min", "amax", "amin"), _A_K_I),
    **dict.fromkeys(("all", "any"), _A_K),
    **dict.fromkeys(("count_nonzero", "argmax", "argmin", "cumsum", "cumprod", "sort", "argsort"), _A),
    "take": {"axis": 2},
}


def _index(call: str, what: str, value: Any, tuples: bool, bools: bool = False) -> int:
    """``value`` as numpy reads an integer argument, else numpy's TypeError, named (``bools``:
    whether a bool is read as an integer, as numpy's ``sort`` reads it)."""
    if not bools and isinstance(value, (bool, np.bool_)):  # numpy: "an integer is required"
        raise TypeError(f"{call}: {what}={value!r} is a bool; give an integer{' or a tuple of them' if tuples else ''}")
    try:
        return operator.index(value)
    except TypeError as exc:
        more = " or a tuple of integers" if tuples else ""
        raise TypeError(f"{call}: {what}={value!r} is not an integer{more} ({exc})") from None


def axes(call: str, axis: Any, ndim: int, tuples: bool = True, bools: bool = False) -> None:
    """numpy's errors for ``axis`` of an array of ``ndim`` dimensions (``tuples``: whether a
    tuple of axes is allowed), named with ``call`` (NOTE [Reduction arguments as numpy checks
    them]). Nothing is checked against a 0-d array's range (NOTE [axis= on 0-d arrays])."""
    if axis is None:
        return
    if type(axis) is int:
        items: tuple[Any, ...] = (axis,)
    elif type(axis) is tuple and tuples:
        items = axis
    else:
        items = (_index(call, "axis", axis, tuples, bools),)
    seen = []
    for a in items:
        if type(a) is not int:
            a = _index(call, "axis", a, tuples, bools)
        if ndim:
            if not -ndim <= a < ndim:
                raise _AxisError(f"{call}: axis {a} is out of bounds for array of dimension {ndim}")
            seen.append(a % ndim)
    if len(seen) > 1 and len(set(seen)) != len(seen):
        raise ValueError(f"{call}: duplicate value in 'axis' {axis!r}; give each axis once")


def _ndim(a: Any) -> int:
    nd = getattr(a, "ndim", 0)
    return nd if type(nd) is int else 0


def check(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], lib: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``args`` and ``kwargs`` of ``mnp.name`` on torch or JAX (``lib``) arrays, checked as numpy
    checks them (NOTE [Reduction arguments as numpy checks them]); a ``keepdims`` numpy accepts
    that is not a bool is passed on as one, an ``initial`` as numpy reads it."""
    n = len(args)
    if not kwargs:
        if n <= 1 or (n == 2 and type(args[1]) is int):  # the array alone, or with an int axis
            return args, kwargs
    elif n == 1 and len(kwargs) == 1 and type(kwargs.get("axis", "")) is int:
        return args, kwargs
    call = f"mnp.{name}"
    pos = POSITIONS[name]
    i = pos["axis"]
    axis = args[i] if i < n else kwargs.get("axis")
    if axis is not None and type(axis) is not int and n:  # an int's range: see out_of_range
        axes(call, axis, _ndim(args[0]), name in _TUPLES, name == "sort")
        # passed on as plain ints: JAX's count_nonzero hashes its axis (a 0-d array is not hashable)
        plain = tuple(map(operator.index, axis)) if type(axis) is tuple else operator.index(axis)
        if i < n:
            args = (*args[:i], plain, *args[i + 1 :])
        else:
            kwargs = {**kwargs, "axis": plain}
    i = pos.get("keepdims", 99)
    in_args = i < n
    keepdims = args[i] if in_args else kwargs.get("keepdims", False)
    if type(keepdims) is not bool:
        if name in _KEEPDIMS_INDEX:
            keepdims = bool(_index(call, "keepdims", keepdims, False))
        elif name in _KEEPDIMS_TRUTH:
            try:
                truth = bool(keepdims)
            except ValueError as exc:  # an array of several values
                raise ValueError(f"{call}: keepdims= must be a bool ({exc})") from None
            # numpy's count_nonzero reads a true keepdims as its sum does
            keepdims = bool(_index(call, "keepdims", keepdims, False)) if truth and name == "count_nonzero" else truth
        if in_args:
            args = (*args[:i], keepdims, *args[i + 1 :])
        elif "keepdims" in kwargs:
            kwargs = {**kwargs, "keepdims": keepdims}
    if name in _INITIAL:
        i = pos.get("initial", n)
        initial = args[i] if i < n else kwargs.get("initial", _NO_VALUE)
        if initial is not _NO_VALUE and type(initial) not in (int, float):
            _scalar(call, initial)
        if initial is not _NO_VALUE and initial is not None and n and isinstance(initial, _NUMBERS):
            dtype = (args[2] if n > 2 else kwargs.get("dtype")) if name in ("sum", "prod") else None
            read = _initial.as_numpy_reads(call, name, initial, _composite.dtype_name(args[0]), dtype, lib == "jax")
            if i < n:  # NOTE [Initial values as numpy reads them]
                args = (*args[:i], read, *args[i + 1 :])
            else:
                kwargs = {**kwargs, "initial": read}
    return args, kwargs


def out_of_range(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Exception | None:
    """numpy's AxisError for a plain int axis out of range of ``mnp.name``'s array, else None.
    Asked only where the call failed: a framework's own error for it is not numpy's (JAX's
    ``mean`` raised IndexError, "tuple index out of range"), and reading the array's ``ndim``
    before every call cost more than the rest of the check (a torch attribute)."""
    if name in PAIRS and args:  # checked in numpy's order, named as numpy names them
        nd = _ndim(args[0])
        for what, i in PAIRS[name]:
            axis = args[i] if i < len(args) else kwargs.get(what)
            if type(axis) is int and nd and not -nd <= axis < nd:
                return _AxisError(f"mnp.{name}: {what}: axis {axis} is out of bounds for array of dimension {nd}")
        return None
    pos = POSITIONS.get(name)
    if pos is None or not args:
        return None
    i = pos["axis"]
    axis = args[i] if i < len(args) else kwargs.get("axis")
    nd = _ndim(args[0])
    if type(axis) is int and nd and not -nd <= axis < nd:
        return _AxisError(f"mnp.{name}: axis {axis} is out of bounds for array of dimension {nd}")
    return None


#: Where numpy's reductions take ``out`` positionally (numpy's signatures, as POSITIONS).
OUT: dict[str, int] = {
    **dict.fromkeys("max min amax amin all any argmax argmin".split(), 2),
    **dict.fromkeys("sum prod mean cumsum cumprod".split(), 3),
}


def bad_out(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> TypeError | None:
    """numpy's TypeError for an ``out`` that is not an array (``mnp.max(x, 1, np.float32)``: a
    dtype where numpy's ``max`` takes ``out``), naming the call and the fix, else None. Asked only
    where the call failed: numpy said "return arrays must be of ArrayType", JAX that it could not
    read the dtype as an array, torch that ``out=`` is not supported."""
    i = OUT.get(name, 99)
    out = args[i] if i < len(args) else kwargs.get("out")
    if out is None or (hasattr(out, "shape") and not isinstance(out, type)):
        return None
    try:
        np.dtype(out)
        # mnp.astype, not the method: torch tensors have no .astype
        fix = f"numpy's {name} takes no dtype: convert the result instead (mnp.astype(mnp.{name}(x, axis), dtype))"
    except TypeError:
        fix = "give an array (the torch and jax backends refuse out= altogether) or leave it out and use the result"
    where = f"out (positional argument {i + 1})" if i < len(args) else "out="
    return TypeError(f"mnp.{name}: {where} must be an array or None, got {out!r}; {fix}")


def _scalar(call: str, initial: Any) -> None:
    """numpy's ValueError for an ``initial=`` that is not one number."""
    if isinstance(initial, (str, bytes)):
        raise ValueError(f"{call}: initial={initial!r} is not a number; give a number")
    if isinstance(initial, (list, tuple, dict, set)) or _ndim(initial) != 0:
        shape = getattr(initial, "shape", None)
        said = f"an array of shape {tuple(shape)}" if shape is not None else f"a {type(initial).__name__}"
        raise ValueError(
            f"{call}: initial= must be a scalar (a number or a 0-d array), not {said}, as in numpy; "
            "reduce it first or give one number"
        )
