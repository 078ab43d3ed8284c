"""Functions defined once for every backend, in terms of other ``multiad.numpy`` functions.

NOTE [Derivative conventions]: where a function has a kink or a singular derivative, the
frameworks disagree, so multiad.numpy picks one value and gives it on every backend:

| function | point | derivative | as in |
|---|---|---|---|
| ``abs``, ``absolute``, ``fabs`` | 0 | 0 (``sign(0)``) | torch, autograd |
| ``maximum``, ``minimum``, ``fmax``, ``fmin``, ``max``, ``min``, ``amax``, ``amin`` | ties | shared equally | ``maximum`` on all four |
| ``clip`` | ``x`` at a bound | 1 for ``x``, 0 for the bound | torch |
| ``std`` | all values equal (also 0-d) | 0, and 0 second derivatives | torch's own ``std`` |
| ``linalg.norm`` (2-norm, Frobenius) | zero vector | 0 | torch |
| ``linalg.norm(x, p)``, ``p > 0`` | zero vector or element | 0 | the 2-norm |
| ``hypot``, ``arctan2`` | the origin | 0, as ``linalg.norm`` | numpy's finite differences, torch |
| ``copysign`` | ``x1 == 0`` | 0 in ``x1``, as ``abs`` | torch, autograd |
| ``power(x, 0)``, ``float_power`` | any ``x``, 0 included | 0 in ``x`` | torch, autograd |
| ``power(0, y)`` | ``y > 0`` | 0 in ``y``, at every order | torch's first derivative |
| ``prod``, ``cumprod`` | zero factors | the product of the others | torch, JAX |
| ``sqrt``, ``cbrt`` | 0 | ``inf`` (the limit) | all four (``sqrt``) |
| ``sinc`` | 0 | the limits, at every order | JAX |
| ``sort``, ``median``, quantiles (NOTE [Quantiles as a sort and a lerp]) | ties | the order the sort picks | all four |
| ``interp`` | ``x`` at a knot | the right segment's slope (NOTE [Sliding products without gathers by value]) | numpy's search |
| ``unwrap`` | the corrected jumps | the identity | finite differences |
| ``floor``, ``sign``, ``heaviside`` (in ``x1``), ... | jumps too | 0 | JAX |
| ``linalg.eigh``, ``eigvalsh``, ``cholesky`` | symmetric input | symmetric gradient | torch, JAX |

Where a framework's own function gives another value, ``_fixes_*.py`` (per framework, named in
``_fixes.py``'s tables) or a definition written once (``_composite.py``, ``_conventions.py``)
replaces it; NOTE [Symmetric matrix input] explains the last row. ``tests/test_conventions.py`` checks every row on every
backend against closed forms.

The singular points of smooth functions (``sqrt`` and ``log`` at 0, ``arcsin`` at 1) keep the
limit numpy's formulas give (``inf``), as every framework does.
"""

from __future__ import annotations

import builtins
import math
import operator
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from . import _dispatch, _zerod
from ._outer import errors_named

_F = TypeVar("_F", bound=Callable[..., Any])


def _m() -> Any:
    from .. import numpy as mnp

    return mnp


def _safe_sqrt(v: Any) -> Any:
    """sqrt with derivative 0 (at every order) where ``v == 0``; nan stays nan (the variance of
    values with a nan, or of none)."""
    mnp = _m()
    zero = v == 0
    return mnp.where(zero, 0.0, mnp.sqrt(mnp.where(zero, 1.0, v)))


def _ndim(x: Any) -> int:
    return len(np.shape(x)) if not hasattr(x, "shape") else len(x.shape)


def _arr(x: Any) -> Any:
    """A list argument as an array of its framework (numpy.asarray's rule)."""
    if isinstance(x, (list, tuple)):
        return _dispatch.to_array(_dispatch.like(x), x)
    return x


PYTHON_NUMBERS = (bool, int, float, complex)


def strong(x: Any, asarray: Callable[[Any], Any] = np.asarray) -> Any:
    """A Python number as an array (made by ``asarray``, numpy's by default), other arguments
    unchanged: functions that are not ufuncs (``dot``, ``kron``, ``concatenate``) make arrays of
    their arguments, so numbers promote there as float64 or int64, not as weak scalars."""
    return asarray(x) if type(x) in PYTHON_NUMBERS else x


def _count(x: Any, axis: Any) -> int:
    shape = tuple(x.shape)
    axes = range(len(shape)) if axis is None else axis if isinstance(axis, (tuple, list)) else (axis,)
    n = 1
    for a in axes:  # a plain product: torch.compile traces np.prod into a tensor
        n *= int(shape[a])
    return n


def dtype_name(x: Any) -> str:
    """numpy's name of the dtype of ``x``, an array of any framework or a number (as
    ``Backend.dtype_name``; a dtype a caller spells: ``_creation.canonical_dtype_name``)."""
    if isinstance(x, np.ndarray):
        kind = ARRAY_DTYPE[0](x)  # NOTE [numpy arrays in compiled code]
        if kind.__class__ is str:  # a trace's: NOTE [A dtype table a trace cannot read]
            return kind
        known = _NUMPY_NAMES.get(kind)  # NOTE [Names of numpy dtypes]
        if known is None:
            known = _NUMPY_NAMES[kind] = str(kind.name)
        return known
    dt = getattr(x, "dtype", None)
    if dt is not None:
        name = str(dt).rsplit(".", 1)[-1]
        return name if name[:1] != "<" else str(dt.name)  # TensorFlow's DType: <dtype: 'float32'>
    t = type(x)  # Python numbers by their type (np.asarray of one is a tensor under torch.compile)
    if t is float or t is bool or t is complex or (t is int and -(2**63) <= x < 2**63):
        return _PYTHON_DTYPES[t]
    return np.asarray(x).dtype.name


_PYTHON_DTYPES = {bool: "bool", int: "int64", float: "float64", complex: "complex128"}
# NOTE [A dtype table a trace cannot read]: torch.compile traces a numpy array made inside the
# compiled function as a tensor, and its dtype as a numpy dtype it cannot compare with the keys of
# a dict: ``_NUMPY_NAMES.get(kind)`` raised "Dynamo cannot determine the equality comparison of an
# object" (a graph break, an error under fullgraph=True) as soon as the table held a key, which an
# eager call with numpy arrays puts there (autograd's transforms, whose arrays are numpy's: run
# before, they broke mnp.std, hypot, arctan2 and linalg.norm of a list inside a compiled function).
# The hook that reads a numpy array's dtype (``ARRAY_DTYPE``; on torch, the tensor's dtype while
# torch.compile traces) gives the name itself in a trace, which is returned without the table:
# asking the compiler probes here instead cost 0.4 us on every eager call with a numpy operand.
# NOTE [Names of numpy dtypes]: numpy's ``dtype.name`` is computed in Python on every read
# (``numpy/_core/_dtype.py``: the kind's name, whether it has a bit suffix, the item size), about
# 20 times a dict lookup; ``dtype_name`` of a numpy array (``inexact``, numpy's result dtypes) runs
# on every elementwise call with a numpy operand: ``a ** t`` of a numpy array and a tensor inside
# f (NOTE [numpy arrays inside f] in the torch backend) read it three times. The names are kept
# per dtype (equal dtypes have one name; a byte-swapped dtype is a key of its own).
_NUMPY_NAMES: dict[np.dtype[Any], str] = {}
#: how :func:`dtype_name` reads a numpy array's dtype; torch's module sets one that also reads a
#: numpy array traced by torch.compile (NOTE [numpy arrays in compiled code]).
ARRAY_DTYPE: list[Callable[[Any], Any]] = [operator.attrgetter("dtype")]  # a dtype, or in a trace its name


def inexact(x: Any) -> bool:
    """Whether ``x`` holds floating-point or complex numbers."""
    return dtype_name(x).startswith(("float", "complex", "bfloat"))


# NOTE [Cached result dtypes]: numpy's answer for arguments of given dtypes is fixed, so it is
# cached per dtype combination (asking costs microseconds, and power, hypot, arctan2, ldexp, cbrt
# ask on every call). A Python int is the one argument whose value matters: numpy raises where
# an integer dtype cannot hold it (a uint8 array with 300 or -1), so an int enters the key as
# its sign and bit length, bounded to the widths of numpy's integer dtypes (values with equal
# keys fit the same dtypes); an answer numpy refuses (its error) is never cached. Python numbers
# alone are not cached: numpy then computes on their values (``power(2, -1)`` raises).
_results: dict[tuple[Any, ...], str | None] = {}
_INT_BITS = (7, 8, 15, 16, 31, 32, 63, 64)
_MISSING = object()


def _int_key(v: int) -> tuple[bool, int]:
    """A Python int as the integer dtypes that hold it see it (NOTE [Cached result dtypes])."""
    bits = v.bit_length() if v >= 0 else (~v).bit_length()
    return v < 0, next((b for b in _INT_BITS if bits <= b), 65)


def numpy_result(name: str, *args: Any) -> str | None:
    """The name of the dtype numpy's ``name`` gives for arguments of the dtypes of ``args``
    (Python numbers weak, as in numpy); None for a dtype numpy lacks. Cached (NOTE [Cached
    result dtypes])."""
    key: list[Any] = [name]
    arrays = False
    for a in args:
        t = type(a)
        if t is int:
            key.append(_int_key(a))
        elif t in PYTHON_NUMBERS:  # bool, float, complex: their type alone
            key.append(t)
        else:  # the dtype object itself (numpy's, torch's): hashable, and cheaper than its name
            dt = (
                None if isinstance(a, np.ndarray) else getattr(a, "dtype", None)
            )  # NOTE [numpy arrays in compiled code]
            key.append(dtype_name(a) if dt is None else dt)
            arrays = True
    k = tuple(key)
    hit = _results.get(k, _MISSING)
    if hit is not _MISSING:
        return hit  # type: ignore[return-value]
    want = _ask_numpy_result(name, args)
    if arrays:
        _results[k] = want
    return want


def _ask_numpy_result(name: str, args: tuple[Any, ...]) -> str | None:
    return _numpy_result_of(name, tuple(a if type(a) in PYTHON_NUMBERS else dtype_name(a) for a in args))


def on_host(fn: _F) -> _F:
    """NOTE [numpy answers in compiled code]: ``torch.compile`` traces numpy's functions into
    tensor operations (``np.result_type`` then returns a dtype it cannot put in a graph, a
    branch on ``np.asarray(pad_width)`` depends on a tensor's value) and cannot enter
    ``np.errstate``. A function that answers from Python values only (dtype names, numbers,
    shapes, widths) carries the mark of ``torch.compiler.assume_constant_result``: while a call
    is traced it runs as ordinary Python and its answer enters the program as a constant (the
    program is guarded on the values it was given). Outside compilation the mark changes
    nothing, and it is set without importing torch."""
    setattr(fn, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark
    return fn


@on_host
def _numpy_result_of(name: str, kinds: tuple[Any, ...]) -> str | None:
    """numpy's result dtype of ``name`` on empty arrays of the dtype names in ``kinds`` (Python
    numbers as they are); None for a dtype numpy lacks."""
    proxies = []
    for k in kinds:
        if type(k) in PYTHON_NUMBERS:
            proxies.append(k)
            continue
        try:
            proxies.append(np.empty(0, k))
        except TypeError:
            return None
    with np.errstate(all="ignore"):
        out = getattr(np, name)(*proxies)
    return str((out[0] if isinstance(out, tuple) else out).dtype)


@on_host
def result_type_name(*kinds: Any) -> str:
    """``np.result_type(*kinds).name`` for dtype names and Python numbers (NOTE [numpy answers
    in compiled code])."""
    return np.result_type(*kinds).name


def default_float(x: Any) -> Any:
    """A JAX array of integers or booleans in the float dtype jax.numpy's elementwise functions
    give them (float32 for booleans and narrow integers, float64 for int64 with x64)."""
    import jax
    import jax.numpy as jnp

    return x.astype(jax.eval_shape(jnp.sin, jax.ShapeDtypeStruct((), x.dtype)).dtype)  # type: ignore[no-untyped-call]


def cast_as_numpy(x: Any, name: str | None) -> Any:
    """``x`` in dtype ``name``, where numpy computes in it; JAX arrays keep JAX's promotion."""
    if name is None or dtype_name(x) == name or _dispatch.like(x) == "jax":
        return x
    return _m().astype(x, name)


def as_numpy_result(name: str, out: Any, *args: Any) -> Any:
    """``out``, computed from ``args`` by a definition written once, in the dtype numpy's
    ``name`` gives for them (constants such as ``where(c, 1.0, x)`` inside a definition would
    otherwise promote a float32 result to float64); JAX arrays keep JAX's promotion."""
    if _dispatch.like(out) == "jax":
        return out
    want = numpy_result(name, *args)
    return out if want is None or dtype_name(out) == want else _m().astype(out, want)


def round_integers(a: Any, decimals: int) -> Any:
    """Integers rounded to a negative number of decimals, half to even, in exact integer
    arithmetic (``round(25, -1) == 20``), for torch tensors and JAX arrays alike. Integers
    narrower than 64 bits are computed in int64 and cast back (wrapping as numpy's result
    does): in int8, twice the remainder of -7 by 100 (186) overflowed, and -7 rounded to -100."""
    jax_like = hasattr(a, "astype")
    dtype = a.dtype
    if dtype.itemsize < 8:
        a = a.astype("int64") if jax_like else a.long()
    f = 10 ** (-decimals)
    q = a // f
    twice = 2 * (a - q * f)
    up = (twice > f) | ((twice == f) & (q % 2 == 1))
    r = (q + up.astype(q.dtype) if jax_like else q + up.to(q.dtype)) * f
    if r.dtype == dtype:
        return r
    return r.astype(dtype) if jax_like else r.to(dtype)


def _statistics_input(name: str, x: Any, dtype: Any) -> Any:
    """``x`` in the dtype numpy computes its variance in: ``dtype`` if given, float64 for
    integers and booleans."""
    mnp = _m()
    if dtype is not None:
        if not np.issubdtype(np.dtype(dtype), np.inexact):
            raise TypeError(
                f"mnp.{name}: an integer dtype= is not supported (numpy truncates its intermediate "
                "results in it); give a float dtype"
            )
        return mnp.astype(x, dtype) if dtype_name(x) != np.dtype(dtype).name else x
    return x if inexact(x) else mnp.astype(x, "float64")


def var(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: None = None,
    ddof: float = 0,
    keepdims: bool = False,
    *,
    where: Any = True,
    mean: Any = None,
    correction: float | None = None,
) -> Any:
    """Variance: ``sum((a - mean(a))**2) / (n - ddof)``, numpy's default ``ddof=0``; over the
    elements where ``where`` holds if given; ``mean`` (shaped as with ``keepdims=True``) is
    used instead of computing it, and ``correction`` is numpy 2's name of ``ddof``."""
    return in_complex_dtype(
        _variance("var", a, axis, dtype, out, _ddof("var", ddof, correction), keepdims, where, mean), dtype
    )


def in_complex_dtype(result: Any, dtype: Any) -> Any:
    """A variance or standard deviation (computed real) in ``dtype`` where that is complex: numpy
    gives its variance the ``dtype=`` it was asked for, complex128 (zero imaginary part) for
    ``var(x, dtype=complex)`` of real or complex ``x``."""
    if dtype is None or np.dtype(dtype).kind != "c" or dtype_name(result) == np.dtype(dtype).name:
        return result
    return _m().astype(result, np.dtype(dtype).name)


def _ddof(name: str, ddof: float, correction: float | None) -> float:
    """``ddof``, or numpy 2's ``correction`` (the array API's name), of which one may be given."""
    if isinstance(ddof, (str, bytes)) or ddof is None:  # numpy: a TypeError of its subtract
        raise TypeError(f"mnp.{name}: ddof={ddof!r} is not a number; give the delta degrees of freedom as a number")
    if correction is None:
        return ddof
    if ddof != 0:
        raise ValueError(f"mnp.{name}: ddof and correction can't be provided simultaneously (as in numpy); give one")
    return correction


def _squared(centered: Any) -> Any:
    """``|c|**2``: numpy's variance of complex values is real, the mean of squared magnitudes
    (``c * c`` would be complex and wrong)."""
    if dtype_name(centered).startswith("complex"):
        m = _m().abs(centered)
        return m * m
    return centered * centered


def _variance(
    name: str,
    a: Any,
    axis: Any,
    dtype: Any,
    out: None,
    ddof: float,
    keepdims: bool,
    where: Any,
    mean: Any = None,
    skip_nan: bool = False,
) -> Any:
    """The variance of ``var``, ``std`` and (``skip_nan``: nan taken as masked out, and nan
    where ``n - ddof <= 0``, as numpy's ``nanvar`` gives) ``nanvar``, ``nanstd``."""
    mnp = _m()
    _zerod.check(name, a, axis)
    x = _arr(a)
    if axis is not None and _ndim(x):  # numpy's AxisError (the counts indexed the shape: IndexError)
        _normalized(name, axis, _ndim(x))
    if skip_nan and inexact(x):  # integers hold no nan, and numpy's nanvar is their var
        ok = mnp.logical_not(mnp.isnan(x))
        where = ok if where is True else mnp.logical_and(ok, where)
    else:
        skip_nan = False
    x = _statistics_input(name, x, dtype)
    no_out(name, out)
    if mean is not None:
        mean = _arr(mean)
    if where is True:
        if _count(x, axis) - ddof <= 0:
            warn_where(True, "Degrees of freedom <= 0 for slice")
        if mean is None and _count(x, axis) == 0:  # no values: no mean to take (nor its warning)
            mean = mnp.sum(x, axis=axis, keepdims=True)
        centered = x - (mnp.mean(x, axis=axis, keepdims=True) if mean is None else mean)
        return mnp.sum(_squared(centered), axis=axis, keepdims=keepdims) / builtins.max(_count(x, axis) - ddof, 0)
    try:
        w = mnp.broadcast_to(where, mnp.shape(x))
    except ValueError as exc:  # numpy's ValueError, named (a numpy mask's error is numpy's own)
        raise ValueError(
            f"mnp.{name}: where= of shape {mnp.shape(where)} does not broadcast to the array's {mnp.shape(x)} ({exc})"
        ) from None
    real = {"complex64": "float32", "complex128": "float64"}.get(dtype_name(x), dtype_name(x))
    count = mnp.sum(w, axis=axis, keepdims=True, dtype=real)  # a complex variance is real
    zero = mnp.zeros_like(x)
    if mean is None:
        mean = mnp.sum(mnp.where(w, x, zero), axis=axis, keepdims=True) / count
    centered = mnp.where(w, x - mean, zero)
    total = mnp.sum(_squared(centered), axis=axis, keepdims=keepdims)
    dof = (count if keepdims else mnp.reshape(count, mnp.shape(total))) - ddof
    warn_where(dof <= 0, "Degrees of freedom <= 0 for slice." if skip_nan else "Degrees of freedom <= 0 for slice")
    if skip_nan:
        positive = dof > 0
        return mnp.where(positive, total / mnp.where(positive, dof, 1.0), np.nan)
    return total / mnp.maximum(dof, 0)


def std(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: None = None,
    ddof: float = 0,
    keepdims: bool = False,
    *,
    where: Any = True,
    mean: Any = None,
    correction: float | None = None,
) -> Any:
    """Standard deviation, ``sqrt(var(a, ddof=ddof))`` (``mean`` and ``correction`` as for
    ``var``); where all values are equal (a 0-d array too) its derivative is 0, and so are its
    second derivatives, on every backend (as torch's own ``std``), not ``inf`` or ``nan``."""
    # NOTE [Derivative conventions]
    v = _variance("std", a, axis, dtype, out, _ddof("std", ddof, correction), keepdims, where, mean)
    return in_complex_dtype(_safe_sqrt(v), dtype)


def no_out(name: str, out: Any) -> None:
    """NOTE [out= is refused]: results are new arrays on every backend (traced and JAX arrays
    cannot be written in place), so ``out=`` raises instead of being ignored, which would leave
    the caller's ``out`` array unwritten without an error."""
    if out is not None:
        raise NotImplementedError(f"mnp.{name}: out= is not supported; use the returned array")


def clip(a: Any, a_min: Any = None, a_max: Any = None, out: None = None, **kwargs: Any) -> Any:
    """Limits values to ``[a_min, a_max]`` (also as numpy's keywords ``min=``/``max=``); the
    derivative in ``a`` is 1 inside the closed interval, 0 outside, on every backend: a value at
    a bound has derivative 1 in ``a`` and 0 in the bound (as torch)."""
    # NOTE [Derivative conventions]
    mnp = _m()
    no_out("clip", out)
    lo = kwargs.pop("min", a_min)
    hi = kwargs.pop("max", a_max)
    if kwargs:
        raise TypeError(f"mnp.clip: unexpected keyword arguments {sorted(kwargs)}")
    x = strong(_arr(a))  # see NOTE [clip of a Python number]
    if lo is None and hi is None:  # numpy 2.1 and later: a copy
        return mnp.copy(x)
    lo, hi = (_arr(b) if isinstance(b, (list, tuple)) else b for b in (lo, hi))  # lists are arrays
    given = (x, lo, hi)
    if type(lo) is int or type(hi) is int:
        lo, hi = _int_bounds(x, lo, hi)
    if lo is not None:
        x = _nan_bound(mnp.where(mnp.less(x, lo), lo, x), lo)
    if hi is not None:
        x = _nan_bound(mnp.where(mnp.greater(x, hi), hi, x), hi)
    if given[1] is None or given[2] is None:
        return x
    return as_numpy_result("clip", x, *given)  # NOTE [clip promotes its three operands at once]


# NOTE [clip promotes its three operands at once]: numpy's clip is one ufunc of ``a`` and both
# bounds, its dtype their common dtype with Python numbers weak; the two selections above promote
# one bound at a time, so a Python number met first promoted alone (``clip(bool x, 0, uint8 1)``
# was int64, numpy's uint8; ``clip(int8 x, 0.5, float32 1)`` float64, numpy's float32). Each value
# selected is ``a``'s or a bound's, which numpy's dtype holds (it casts all three to it first), and
# rounding is monotone, so the cast of the result gives numpy's values too.


# NOTE [clip of a Python number]: numpy's clip makes an array of its first argument (``np.clip(5,
# 0, uint8 x)`` is int64, ``np.clip(2**63 + 1, 0, uint8 x)`` uint64, float64 beside an int8 bound):
# a Python number there is not weak, as its bounds are. Kept weak, it took the bound's dtype
# (uint8), and ``2**63 + 1`` was cast into it by ``where`` (with its overflow warning).


def _int_bounds(x: Any, lo: Any, hi: Any) -> tuple[Any, Any]:
    """NOTE [Python int bounds of clip]: numpy's clip of an integer array drops a Python int
    bound that every value of the dtype is within (``clip(uint8 x, -1, 2**64)`` is a copy) and
    raises OverflowError for one no value is (``clip(uint8 x, 0, -1)``, ``clip(uint8 x, 300)``);
    compared and selected as other bounds, ``-1`` wrapped to 255 in the selection (torch, JAX)."""
    name = dtype_name(x)
    if not name.startswith(("int", "uint")):
        return lo, hi
    info = np.iinfo(name)
    if type(lo) is int and lo <= info.min:
        lo = None
    if type(hi) is int and hi >= info.max:
        hi = None
    for bound in (lo, hi):
        if type(bound) is int and not info.min <= bound <= info.max:
            raise OverflowError(
                f"mnp.clip: Python integer {bound} out of bounds for {name} (as in numpy); "
                "give a bound the dtype holds, or convert the array to a wider dtype first"
            )
    return lo, hi


def _nan_bound(x: Any, bound: Any) -> Any:
    """``x`` clipped to ``bound`` as numpy does where the bound is nan: nan (the comparisons
    with nan above are false and keep ``x``). A number that is not nan costs nothing."""
    if isinstance(bound, (int, np.integer)) or (isinstance(bound, float) and not math.isnan(bound)):
        return x  # math.isnan, not np.isnan: torch.compile traces numpy calls into tensors
    mnp = _m()
    return mnp.where(mnp.isnan(bound), bound, x)


def ptp(a: Any, axis: Any = None, out: None = None, keepdims: bool = False) -> Any:
    """Range of values (maximum minus minimum)."""
    mnp = _m()
    no_out("ptp", out)
    _zerod.check("ptp", a, axis)
    x = _arr(a)
    if dtype_name(x) == "bool":  # numpy's max - min subtracts booleans, which it refuses
        raise TypeError(
            "mnp.ptp: numpy does not subtract booleans (the range is max - min); convert the array to "
            "an integer dtype first, or use mnp.any(x) != mnp.all(x)"
        )
    # mnp.subtract, not `-`: torch has no kernel for some unsigned dtypes (NOTE [Wide unsigned integers on torch])
    return mnp.subtract(mnp.max(x, axis=axis, keepdims=keepdims), mnp.min(x, axis=axis, keepdims=keepdims))


def average(a: Any, axis: Any = None, weights: Any = None, returned: bool = False, keepdims: bool = False) -> Any:
    """Weighted average along an axis (the mean without weights)."""
    mnp = _m()
    _zerod.check("average", a, axis)
    x = _arr(a)
    if axis is not None and _ndim(x):  # numpy's normalize_axis_tuple: a list, a bool are axes too
        axis = _normalized("average", axis, _ndim(x))
    if weights is None:
        avg = mnp.mean(x, axis=axis, keepdims=keepdims)
        total = avg * 0 + _count(x, axis)
    else:
        w = _arr(weights)
        if not inexact(x):  # numpy multiplies integers by their weights in float64 (or wider), never wrapping
            if _dispatch.like(x) == "jax":
                x, w = default_float(x), w if inexact(w) else default_float(w)
            else:
                kind = result_type_name(dtype_name(x), dtype_name(w), "float64")
                x, w = mnp.astype(x, kind), mnp.astype(w, kind)
        if tuple(w.shape) != tuple(x.shape):  # numpy: weights along the axes only, not broadcast
            if axis is None:
                raise TypeError(
                    "mnp.average: Axis must be specified when shapes of a and weights differ (as in numpy); "
                    "give axis=, or weights of a's shape"
                )
            axes = _normalized("average", axis, _ndim(x))
            if tuple(w.shape) != tuple(x.shape[a] for a in axes):
                raise ValueError(
                    "mnp.average: shape of weights must be consistent with shape of a along specified axis"
                )
            w = mnp.transpose(w, tuple(sorted(range(len(axes)), key=axes.__getitem__)))  # np.argsort, in Python
            w = mnp.reshape(w, tuple(s if d in axes else 1 for d, s in enumerate(x.shape)))
        total = mnp.sum(mnp.multiply(w, mnp.ones_like(x)), axis=axis, keepdims=keepdims)
        if _known_true(mnp.any(total == 0)):
            raise ZeroDivisionError("mnp.average: weights sum to zero, can't be normalized (as in numpy)")
        avg = mnp.divide(mnp.sum(mnp.multiply(x, w), axis=axis, keepdims=keepdims), total)
    return (avg, cast_as_numpy(total, dtype_name(avg))) if returned else avg  # numpy: the sum of weights in avg's dtype


def warn_where(flag: Any, message: str) -> None:
    """NOTE [Warnings of empty slices]: numpy warns (RuntimeWarning) where a reduction meets a
    slice without values: "Mean of empty slice" (``mean``, ``nanmean``, ``median`` of none or
    only nan), "All-NaN slice encountered" (``nanmax``, ``nanmin``, ``nanmedian``, the nan
    quantiles), "Degrees of freedom <= 0 for slice" (``var``, ``std`` and their nan versions),
    and the result holds nan there. multiad.numpy gives the same results on every backend and
    the same warning where ``flag`` (a bool, or a boolean array of the slices) is known true;
    under ``jax.jit``, ``vmap`` or ``torch.compile`` the values are abstract and no warning is
    given (the results are the same)."""
    if flag is True or (flag is not False and _known_true(_m().any(flag))):
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def _known_true(flag: Any) -> bool:
    """Whether a boolean array value is true, False where it is not known: under ``vmap``,
    ``jax.jit`` or ``torch.compile`` the value is abstract, and numpy's value checks cannot run."""
    from .._select import compiling

    if compiling():  # torch.compile: a data-dependent branch would break the graph
        return False
    try:
        return bool(flag)
    except (TypeError, RuntimeError):
        return False


def median(a: Any, axis: Any = None, out: None = None, overwrite_input: bool = False, keepdims: bool = False) -> Any:
    """Median along an axis (the mean of the two middle values for an even count)."""
    mnp = _m()
    no_out("median", out)
    _zerod.check("median", a, axis)
    x = _arr(a)
    if isinstance(axis, (tuple, list)):  # the axes moved last and merged into one
        nd = _ndim(x)
        axes = _normalized("median", axis, nd)
        rest = [d for d in range(nd) if d not in axes]
        merged = mnp.reshape(mnp.transpose(x, (*rest, *axes)), (*[x.shape[d] for d in rest], -1))
        out_ = median(merged, axis=-1)
        return mnp.reshape(out_, tuple(1 if d in axes else x.shape[d] for d in range(nd))) if keepdims else out_
    if axis is None:
        s = mnp.sort(mnp.reshape(x, (-1,)))
        ax = 0
    else:
        nd = _ndim(x)
        ax = _normalized("median", axis, nd)[0]  # numpy's errors (int() took axis=0.5 as 0)
        s = mnp.sort(x, axis=ax)
    n = s.shape[ax]
    if n == 0:  # numpy: nan, with its "Mean of empty slice" warning
        out_ = mnp.mean(s, axis=ax)
    else:
        mid = mnp.take(s, [(n - 1) // 2, n // 2], axis=ax)
        out_ = mnp.mean(mid, axis=ax)
        # NOTE [Median of values with nan]: the sort puts nan last on every framework, so a nan
        # anywhere in the slice is its last element; numpy's median is then nan.
        last = mnp.take(s, n - 1, axis=ax)
        out_ = mnp.where(mnp.isnan(last), last, out_)
    if keepdims:
        out_ = mnp.expand_dims(out_, ax) if axis is not None else mnp.reshape(out_, (1,) * _ndim(x))
        if isinstance(out_, np.generic):  # a 0-d numpy array's median with keepdims: numpy's 0-d array
            out_ = np.asarray(out_)
    return out_


def _normalized(name: str, axis: Any, ndim: int) -> tuple[int, ...]:
    """numpy's normalize_axis_tuple, its errors prefixed with the call; in Python, as
    torch.compile does not trace numpy's own."""
    out = []
    for a in axis if isinstance(axis, (tuple, list)) else (axis,):
        try:
            a = operator.index(a)
        except TypeError as exc:  # numpy's TypeError, named
            raise TypeError(f"mnp.{name}: axis={axis!r} is not an integer or a tuple of integers ({exc})") from None
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(f"mnp.{name}: axis {a} is out of bounds for array of dimension {ndim}")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"mnp.{name}: repeated axis")
    return tuple(out)


def dot(a: Any, b: Any, out: None = None) -> Any:
    """numpy's ``dot``: a product with a 0-d operand, the inner product of vectors, the matrix
    product of matrices, and for higher dimensions the sum over the last axis of ``a`` and the
    second-to-last of ``b``."""
    mnp = _m()
    no_out("dot", out)
    a, b = strong(_arr(a)), strong(_arr(b))
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        return mnp.multiply(a, b)
    if na <= 2 and nb <= 2:
        return mnp.matmul(a, b)
    return mnp.tensordot(a, b, axes=([-1], [-2 if nb > 1 else 0]))


def vdot(a: Any, b: Any) -> Any:
    """Dot product of the flattened arrays, which must have the same number of elements."""
    mnp = _m()
    sizes = (
        math.prod(np.shape(a) if not hasattr(a, "shape") else a.shape),
        math.prod(np.shape(b) if not hasattr(b, "shape") else b.shape),
    )
    if sizes[0] != sizes[1]:  # numpy's vdot does not broadcast (ravel then multiply did: 6.0 for ones(1), [1, 2, 3])
        raise ValueError(
            f"mnp.vdot: the operands have {sizes[0]} and {sizes[1]} elements; vdot is the dot product of the "
            "flattened arrays, which must have equal sizes (numpy raises ValueError; it does not broadcast)"
        )
    a = mnp.ravel(a)
    if dtype_name(a).startswith("complex"):  # numpy's vdot conjugates its first argument
        a = mnp.conj(a)
    p = mnp.multiply(a, mnp.ravel(b))
    return mnp.sum(p, dtype=dtype_name(p))  # numpy's dot keeps the product's dtype


def inner(a: Any, b: Any) -> Any:
    """Inner product over the last axes (a product with a 0-d operand)."""
    mnp = _m()
    a, b = strong(_arr(a)), strong(_arr(b))
    if _ndim(a) == 0 or _ndim(b) == 0:
        return mnp.multiply(a, b)
    return mnp.tensordot(a, b, axes=([-1], [-1]))


def outer(a: Any, b: Any, out: None = None) -> Any:
    """Outer product of the flattened arrays."""
    mnp = _m()
    no_out("outer", out)
    return mnp.multiply(mnp.reshape(mnp.ravel(a), (-1, 1)), mnp.reshape(mnp.ravel(b), (1, -1)))


@errors_named("cbrt")
def cbrt(x: Any) -> Any:
    """Cube root, real for negative values; its derivative at 0 is the limit ``inf``, as for
    ``sqrt`` (``sign(x) * abs(x) ** (1/3)`` gave ``0 * inf = nan``)."""
    mnp = _m()
    x = _arr(x)
    if not inexact(x):  # numpy's float dtype for integers (JAX keeps its own)
        x = cast_as_numpy(x, numpy_result("cbrt", x))
        if not inexact(x):  # JAX's integers and booleans: its default float (jax.numpy's own)
            x = default_float(x)
    narrow = dtype_name(x) in ("float16", "bfloat16")
    if narrow:  # computed in float32 and rounded once, as numpy's float16 loop (NOTE [Cube roots])
        name, x = dtype_name(x), mnp.astype(x, "float32")
    pos = mnp.logical_not(mnp.signbit(x))  # -0.0 is negative: its root -0.0, as numpy's
    a = mnp.where(pos, x, -x)
    r = mnp.power(a, 1.0 / 3.0)
    # NOTE [Cube roots]: a ** (1/3) rounds 1/3 first, off by up to ~100 ulp for tiny and huge a
    # (cbrt(1e-300) was 1.0000000000000128e-100) and by one for exact cubes (cbrt(27) gave
    # 2.9999999999999996). One Newton step, r + (a / r**2 - r) / 3, brings it within an ulp of
    # numpy's (exact cubes exact); its derivative is still 1 / (3 r**2). Zero, infinite and nan
    # roots keep a ** (1/3), and the step runs on 1.0 there, so no nan reaches a derivative. In
    # float16 the step itself rounds (cbrt(4) came out an ulp above numpy's), so narrow floats
    # take it in float32 and are rounded once at the end.
    ok = mnp.logical_and(mnp.greater(r, 0.0), mnp.isfinite(r))
    rs, at = mnp.where(ok, r, 1.0), mnp.where(ok, a, 1.0)
    root = mnp.where(ok, rs + (at / (rs * rs) - rs) / 3.0, r)
    out = mnp.where(pos, root, -root)
    return mnp.astype(out, name) if narrow else out
