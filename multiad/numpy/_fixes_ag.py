"""Corrections to ``autograd.numpy``: elementwise functions, indexing and shapes."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._composite import PYTHON_NUMBERS, no_out, strong
from ._fixes_common import Fn, _ag, _joining, _safe_power, check_take_along_axis, meshgrid_shapes, no_triangle


def _ag_signbit(x: Any, /, **kwargs: Any) -> Any:
    """autograd defines no derivative of ``signbit`` (a boolean: none to take), and its boxes
    raised in ``signbit``, ``isposinf`` and ``isneginf``: computed on the value."""
    from autograd.tracer import getval

    return np.signbit(getval(x), **kwargs)


def _ag_positive(x: Any, /) -> Any:
    from autograd.tracer import getval

    # adding -0.0 keeps every floating value, -0.0 too (x + 0 made it +0.0; NOTE [Broadcasting
    # keeps -0.0 on autograd])
    return _ag().add(x, -0.0 if np.asarray(getval(x)).dtype.kind in "fc" else 0)


def _along(a: Any, idx: np.ndarray, axis: int) -> tuple[Any, ...]:
    """A fancy index picking ``idx`` along ``axis`` of ``a`` (numpy index arrays only)."""
    nd = len(a.shape)
    grids = np.ogrid[tuple(slice(0, n) for n in a.shape)]
    return tuple(idx if d == axis else grids[d] for d in range(nd))


def _ag_take(a: Any, indices: Any, axis: Any = None, out: None = None, mode: str = "raise") -> Any:
    no_out("take", out)
    anp = _ag()
    x = anp.ravel(a) if axis is None else a
    ax = 0 if axis is None else axis % len(x.shape)
    idx = np.asarray(indices)
    n = x.shape[ax]
    if mode == "wrap":
        idx = idx % n
    elif mode == "clip":
        idx = np.clip(idx, 0, n - 1)
    return x[(slice(None),) * ax + (idx,)]


def _ag_take_along_axis(arr: Any, indices: Any, axis: Any = -1) -> Any:
    anp = _ag()
    idx = np.asarray(indices)
    check_take_along_axis(len(np.shape(arr)), idx.ndim, axis)
    if axis is None:
        return anp.ravel(arr)[idx]
    return arr[_along(arr, idx, axis % len(arr.shape))]


# NOTE [Broadcasting keeps -0.0 on autograd]: autograd's arrays broadcast by adding zeros (its
# ``add`` sums the derivative over the broadcast axes). ``-0.0 + 0`` is ``+0.0``, so adding
# False flipped the sign of negative zeros: ``where(c, 1.0, x)`` of a traced ``x = -0.0`` gave
# ``+0.0``, and ``arctan2(-0.0, -1.0)`` built on it ``+pi`` where numpy gives ``-pi``. Adding
# ``-0.0`` changes no floating value (``+0.0 + -0.0`` is ``+0.0``) and, in the array's own dtype,
# no dtype; integers and booleans add False as before.
def _ag_broadcast_to(array: Any, shape: Any, subok: bool = False) -> Any:
    from autograd.tracer import getval

    dtype = np.asarray(getval(array)).dtype
    zeros = np.full(shape, -0.0, dtype=dtype) if dtype.kind in "fc" else np.zeros(shape, dtype=bool)
    return _ag().add(array, zeros)


def _ag_broadcast_arrays(*args: Any, subok: bool = False) -> tuple[Any, ...]:
    shape = np.broadcast_shapes(*[np.shape(a) for a in args])
    return tuple(_ag_broadcast_to(a, shape) for a in args)


def _ag_triangle(name: str) -> Fn:
    """numpy's tril/triu. autograd's derivative of a 1-d array's triangle (numpy broadcasts it
    to the rows of a square matrix) was the masked (n, n) cotangent, not its sum over the rows:
    a gradient of the matrix's shape for a vector, without an error. The vector is broadcast
    here first, by ``broadcast_to``, whose derivative sums."""

    def fn(m: Any, k: int = 0) -> Any:
        ndim = len(np.shape(m))
        no_triangle(name, ndim)
        if ndim == 1:
            n = np.shape(m)[0]
            m = _ag_broadcast_to(m, (n, n))
        return getattr(_ag(), name)(m, k)

    return fn


def _ag_atleast(name: str) -> Fn:
    """autograd's atleast_1d/2d/3d, of several arrays one at a time (see NOTE [Several arrays
    as numpy's tuple]): autograd has no derivative of the call with several."""

    def fn(*arys: Any) -> Any:
        one = getattr(_ag(), name)
        return one(arys[0]) if len(arys) == 1 else tuple(one(a) for a in arys)

    return fn


def _ag_meshgrid(*xi: Any, indexing: str = "xy", copy: bool = True, sparse: bool = False) -> tuple[Any, ...]:
    anp = _ag()
    if indexing not in ("xy", "ij"):
        raise ValueError(f"mnp.meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    parts = [anp.reshape(anp.ravel(x), s) for x, s in zip(xi, meshgrid_shapes(len(xi), indexing), strict=True)]
    return tuple(parts) if sparse else _ag_broadcast_arrays(*parts)


def _ag_reciprocal(x: Any, /) -> Any:
    from autograd.tracer import getval

    anp = _ag()
    if not np.issubdtype(np.result_type(getval(x)), np.inexact):
        return anp.reciprocal(x)
    # autograd's reciprocal has the derivative -g / x**2, whose own derivative is 0 / 0 at 0.
    return anp.power(x, -1.0)


# NOTE [fmod on autograd]: autograd defines no derivative of fmod. Written as
# ``x1 - x2 * trunc(x1 / x2)``, its values were not numpy's: that rounds (fmod(1e17, 3.0) was 0.0,
# numpy's exact 2.0), loses the sign of zeros (fmod(-4.0, 2.0) was +0.0) and is nan for an
# infinite divisor (fmod(-1.0, inf) is -1.0). numpy's fmod computes the value, with the
# derivatives 1 in x1 and -trunc(x1 / x2) in x2 (trunc's derivative is 0).
_FMOD: list[Fn] = []


def _ag_fmod(x1: Any, x2: Any, /) -> Any:
    if not _FMOD:
        from autograd.extend import defjvp, defvjp, primitive
        from autograd.numpy.numpy_jvps import broadcast
        from autograd.numpy.numpy_vjps import unbroadcast_f

        fmod = primitive(np.fmod)
        anp = _ag()
        defvjp(
            fmod,
            lambda ans, x, y: unbroadcast_f(x, lambda g: g),
            lambda ans, x, y: unbroadcast_f(y, lambda g: -g * anp.trunc(x / y)),
        )
        defjvp(fmod, lambda g, ans, x, y: broadcast(g, ans), lambda g, ans, x, y: -g * anp.trunc(x / y))
        _FMOD.append(fmod)
    return _FMOD[0](x1, x2)


def _ag_nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None, neginf: Any = None) -> Any:
    """numpy's nan_to_num on autograd boxes (autograd's derivative rule takes no keywords):
    the finite values pass through, the replaced ones are constants."""
    from autograd.tracer import getval

    value = getval(x)
    fixed = np.nan_to_num(value, copy=True, nan=nan, posinf=posinf, neginf=neginf)
    return _ag().where(np.isfinite(value), x, fixed)


def _ag_roll(a: Any, shift: Any, axis: Any = None) -> Any:
    """autograd's roll, with a tuple or list of shifts as an array (its derivative rule negates
    the shift, which a tuple refuses)."""
    return _ag().roll(a, np.asarray(shift) if isinstance(shift, (tuple, list)) else shift, axis=axis)


def _ag_copysign(x1: Any, x2: Any, /) -> Any:
    from autograd.tracer import getval

    anp = _ag()
    # The sign as numpy's copysign of a one of the result's dtype makes it: numpy's result dtype
    # (float32 beside a Python float), where a float64 array of signs promoted a float32 x1, and
    # a Python number x1 made it float64 beside float32 x2.
    want = np.result_type(getval(x1), getval(x2))  # Python numbers weak (NEP 50)
    if want.kind not in "fc":  # numpy's loop for integers: the smallest float holding them
        want = np.promote_types(want, np.float16)
    if type(x1) not in PYTHON_NUMBERS and np.result_type(getval(x1)).kind in "iub":
        x1 = np.asarray(getval(x1), dtype=want)  # |int8 -128| is -128 in int8: the float first
    magnitude = abs(x1) if type(x1) in PYTHON_NUMBERS else anp.abs(x1)  # a Python number stays weak
    return anp.multiply(magnitude, np.copysign(np.ones((), want), getval(x2)))


def _ag_float_power(x1: Any, x2: Any, /) -> Any:
    # numpy's float_power computes in float64 at least, float32 arguments included, and in
    # complex128 where an argument is complex (float64 dropped the imaginary part: nan and wrong
    # numbers for a real base with a complex exponent)
    def dtype_of(v: Any) -> Any:
        return (
            np.result_type(v)
            if type(v) in PYTHON_NUMBERS
            else (v.dtype if hasattr(v, "dtype") else np.asarray(v).dtype)
        )

    to = np.complex128 if any(np.issubdtype(dtype_of(v), np.complexfloating) for v in (x1, x2)) else np.float64

    def cast(v: Any) -> Any:
        return v if type(v) in PYTHON_NUMBERS else (v if hasattr(v, "astype") else np.asarray(v)).astype(to)

    return _safe_power("autograd")(cast(x1), cast(x2))


def _ag_diagflat(v: Any, k: int = 0) -> Any:
    anp = _ag()
    return anp.diag(anp.ravel(v), k)


def _ag_diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    anp = _ag()
    x = anp.moveaxis(a, (axis1, axis2), (-2, -1))
    rows, cols = x.shape[-2], x.shape[-1]
    i = np.arange(max(0, -offset), min(rows, cols - offset))
    return x[..., i, i + offset]


def _ag_tile(A: Any, reps: Any) -> Any:
    """autograd's derivative of ``tile`` needs as many repetitions as axes: numpy's padding of
    the shorter one with leading 1s, done first."""
    anp = _ag()
    reps = (int(reps),) if isinstance(reps, (int, np.integer)) else tuple(int(r) for r in reps)
    x = A if hasattr(A, "shape") else anp.asarray(A)
    nd = len(x.shape)
    if len(reps) > nd:
        x = anp.reshape(x, (1,) * (len(reps) - nd) + tuple(x.shape))
    return anp.tile(x, (1,) * (nd - len(reps)) + reps)


# NOTE [Weak numbers in where on autograd]: ``where`` broadcasts its branches before autograd's
# ``where`` (whose derivative does not sum over broadcast axes), which made a Python number a
# float64 array: ``where(c, x32, 0.0)`` of a traced float32 ``x32`` was float64, where numpy
# keeps float32 (NEP 50), and every function built on it (``clip``, ``std``, ``linalg.norm``)
# followed. A Python number becomes an array of the dtype numpy gives the call (_weak_scalar).
def _ag_where(condition: Any, x: Any = None, y: Any = None) -> Any:
    anp = _ag()
    if x is None and y is None:
        return anp.where(condition)
    shape = np.broadcast_shapes(np.shape(condition), np.shape(x), np.shape(y))
    x, y = _weak_scalar(x, y), _weak_scalar(y, x)
    # autograd's where does not sum the derivative over broadcast axes: broadcast first.
    return anp.where(condition, _ag_broadcast_to(x, shape), _ag_broadcast_to(y, shape))


_PY_SCALARS = (bool, int, float)


def _weak_scalar(v: Any, other: Any) -> Any:
    """A Python number ``v`` beside the array ``other`` as the array numpy makes of it (NEP 50:
    the number takes the array's kind, ``where(c, -1.0, float32)`` is float32). Broadcast on
    its own first (``_ag_broadcast_to``), a Python float became float64 and promoted the result."""
    if type(v) not in _PY_SCALARS or type(other) in _PY_SCALARS:
        return v
    from autograd.tracer import getval

    return np.asarray(v, dtype=np.result_type(v, np.asarray(getval(other))))


def _ag_cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: Any = None) -> Any:
    anp = _ag()
    if axis is not None:
        axisa = axisb = axisc = axis
    x, y = anp.moveaxis(a, axisa, -1), anp.moveaxis(b, axisb, -1)
    if x.shape[-1] != 3 or y.shape[-1] != 3:  # as on torch; autograd raised "source: axis -1 is out of bounds"
        raise ValueError(
            "mnp.cross: on autograd the vectors must have 3 components (numpy deprecates 2-component "
            "vectors); append a zero component, mnp.pad(v, [(0, 0)] * (v.ndim - 1) + [(0, 1)])"
        )
    x, y = _ag_broadcast_arrays(x, y)
    return anp.moveaxis(anp.cross(x, y), -1, axisc)


def _ag_diag(v: Any, k: int = 0) -> Any:
    return _ag_diagonal(v, k) if len(np.shape(v)) == 2 else _ag().diag(v, k)


def _ag_flip(m: Any, axis: Any = None) -> Any:
    nd = len(np.shape(m))
    axes = range(nd) if axis is None else [a % nd for a in (axis if isinstance(axis, (tuple, list)) else (axis,))]
    return m[tuple(slice(None, None, -1) if d in axes else slice(None) for d in range(nd))]


def _ag_hsplit(ary: Any, indices_or_sections: Any) -> Any:
    return _ag().split(ary, indices_or_sections, axis=1 if len(np.shape(ary)) > 1 else 0)


def _ag_sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, stable: Any = None) -> Any:
    from autograd.tracer import getval

    x = _ag().ravel(a) if axis is None else a
    ax = -1 if axis is None else axis
    return _ag_take_along_axis(x, np.argsort(getval(x), axis=ax, kind="stable"), ax)


def _ag_repeat(a: Any, repeats: Any, axis: Any = None) -> Any:
    x = _ag().ravel(a) if axis is None else a
    ax = 0 if axis is None else axis % len(np.shape(x))
    idx = np.repeat(np.arange(np.shape(x)[ax]), np.asarray(repeats))
    return _ag_take(x, idx, ax)


def _ag_transpose(a: Any, axes: Any = None) -> Any:
    nd = len(np.shape(a))
    return _ag().transpose(a, None if axes is None else tuple(int(x) % nd for x in axes))


def _ag_dstack(tup: Any) -> Any:
    """numpy's ``dstack`` on autograd's arrays: autograd.numpy's is a primitive without a
    derivative that runs numpy's own on the traced values, which made an object array of them
    (every other joining function has autograd's derivative)."""
    anp = _ag()
    return _joining("autograd", "concatenate")([anp.atleast_3d(strong(a)) for a in tup], 2)


def _ag_angle(z: Any, deg: bool = False) -> Any:
    """numpy's ``angle(z, deg=False)``: autograd.numpy's derivative of ``angle`` takes no ``deg``
    (``TypeError: <lambda>() got an unexpected keyword argument 'deg'`` under ``grad``), so
    degrees are the radians scaled (NOTE [Parts of complex arrays] in _torch_complex.py)."""
    a = _ag().angle(z)
    return a * (180.0 / np.pi) if deg else a
