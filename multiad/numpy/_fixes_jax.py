"""Corrections to ``jax.numpy``: numpy's values, errors and keywords on JAX arrays."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ._composite import no_out
from ._fixes_common import Fn, _safe_power, no_triangle, tensordot_axes


def _jax_abs(x: Any, /) -> Any:
    import jax.numpy as jnp

    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):  # integers, booleans, complex: no derivative to fix
        return jnp.abs(x)  # (x * sign(x) of a complex x is x**2 / |x|, not |x|)
    return x * jnp.sign(x)  # derivative sign(x): 0 at 0, as on the other backends


def _jax_fabs(x: Any, /) -> Any:
    import jax.numpy as jnp

    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.complexfloating):  # jnp.fabs takes them; numpy's does not
        raise TypeError(f"mnp.fabs: numpy does not define it for {x.dtype}; use mnp.abs for the modulus")
    if not jnp.issubdtype(x.dtype, jnp.inexact):  # numpy's fabs of integers is a float
        return jnp.fabs(x)
    return _jax_abs(x)


def _jax_sign(x: Any, /) -> Any:
    """jax.numpy's sign with numpy's +0.0 at -0.0 (JAX's kept the zero's sign)."""
    import jax.numpy as jnp

    s = jnp.sign(x)
    if not jnp.issubdtype(s.dtype, jnp.floating):
        return s
    return jnp.where(s == 0, jnp.zeros_like(s), s)  # the derivative is 0 either way


def _jax_copysign(x1: Any, x2: Any, /) -> Any:
    import jax
    import jax.numpy as jnp

    # in the dtype of JAX's copysign (the signs were weak numbers: float32 x1 with float64 x2
    # gave float32, where numpy and jax.numpy give float64)
    want = jax.eval_shape(jnp.copysign, x1, x2)
    if not isinstance(x1, (int, float, complex)) and not jnp.issubdtype(jnp.result_type(x1), jnp.inexact):
        x1 = jnp.asarray(x1).astype(want.dtype)  # |int8 -128| is -128 in int8: the float first
    # jax.numpy's copysign has derivative 1 in x1 at x1 == 0; |x1| has 0 there (sign(0)).
    out = _jax_abs(x1) * jnp.where(jnp.signbit(x2), -1.0, 1.0)
    return out if out.dtype == want.dtype else out.astype(want.dtype)


def _jax_float_power(x1: Any, x2: Any, /) -> Any:
    import jax
    import jax.numpy as jnp

    # jax.numpy's float_power has derivative nan in x at 0**0; the conventions of power hold.
    dtype = jax.dtypes.canonicalize_dtype(jnp.float64)

    def cast(v: Any) -> Any:
        return v if isinstance(v, (int, float, complex)) or jnp.iscomplexobj(v) else jnp.asarray(v, dtype=dtype)

    return _safe_power("jax")(cast(x1), cast(x2))


# NOTE [Keywords of the *_like functions on JAX]: jax.numpy's ``zeros_like(a, dtype=None,
# shape=None, *, device=None)`` has no ``order`` or ``subok`` (TypeError for numpy's
# ``order='F'``, and for five positional arguments), and its ``device=`` takes a jax.Device, so
# that numpy's ``device='cpu'`` raised AttributeError (``'str' object has no attribute
# '_is_concrete'``). These take numpy's parameters as the torch versions do (NOTE [Keywords of
# the *_like functions] in _torch_shape.py; one set of signatures, ``like_functions``): ``order`` and ``subok`` are checked as numpy checks
# them and change nothing (NOTE [order= and subok= of the *_like functions]), and ``device=``
# places the result: a platform name (numpy's "cpu", torch's "cuda", "gpu") is that platform's
# first device, as in the jax backend's ``asarray``; a string of the jax backend's ``devices()``
# ("gpu:0") or a jax.Device is that device; anything else raises.
def _jax_filled(a: Any, value: Any, dtype: Any, shape: Any, device: Any) -> Any:
    """numpy's ``*_like`` on JAX (NOTE [Keywords of the *_like functions on JAX]); the parameters
    are those :func:`like_functions` hands over, ``order`` and ``subok`` checked already."""
    import jax
    import jax.numpy as jnp

    place = None if device is None else _jax_device(device)
    out = jnp.full_like(a, value, dtype=dtype, shape=shape)
    return out if place is None else jax.device_put(out, place)


def _jax_device(device: Any) -> Any:
    """A ``device=`` of a ``*_like`` function as a JAX device (NOTE [Keywords of the *_like
    functions on JAX])."""
    import jax

    if isinstance(device, (jax.Device, jax.sharding.Sharding)):
        return device
    names = [f"{d.platform}:{d.id}" for d in jax.devices()]
    if isinstance(device, str):
        found = [d for d in jax.devices() if f"{d.platform}:{d.id}" == device]
        if not found and ":" not in device:  # a platform name: its first device, as the backend's asarray
            try:
                found = list(jax.devices(device)[:1])
            except (RuntimeError, ValueError):
                found = []
        if found:
            return found[0]
        raise ValueError(
            f"device={device!r} is none of JAX's devices; give 'cpu' (numpy's), a platform name ('gpu'), one of "
            f"{names}, a jax.Device, or leave device out for a's"
        )
    raise TypeError(
        f"device must be 'cpu', one of {names} or a jax.Device, got {type(device).__name__}; leave it out for a's"
    )


def _jax_floor_divide(x1: Any, x2: Any, /) -> Any:
    """jax.numpy's floor_divide, with numpy's 0 for an integer divided by 0 (JAX's own result
    there is an arbitrary integer)."""
    import jax.numpy as jnp

    q = jnp.floor_divide(x1, x2)
    if jnp.issubdtype(q.dtype, jnp.floating):
        # numpy's zero quotients have the sign of x1 / x2 (floor_divide(-0.0, 1.0) is -0.0,
        # floor_divide(-1.0, -inf) +0.0); JAX's had the other one. The derivative is 0 either way.
        negative = jnp.signbit(x1) != jnp.signbit(x2)
        return jnp.where(q == 0, jnp.where(negative, -0.0, 0.0).astype(q.dtype), q)
    if not jnp.issubdtype(q.dtype, jnp.integer):
        return q
    zero = jnp.asarray(x2) == 0
    return jnp.where(zero, jnp.zeros_like(q), jnp.floor_divide(x1, jnp.where(zero, 1, x2)))


# NOTE [Zero remainders]: numpy's zero remainders have the divisor's sign (remainder(-0.0, 1.0)
# is +0.0, remainder(0.0, -1.0) -0.0; fmod's the dividend's), torch's and JAX's the dividend's.
# The zero of the divisor's sign replaces them as ``zero - (stop_gradient(r) - r)``: its value
# is ``zero`` (also where a compiler folds ``r + 0.0`` into ``r``, as XLA under jax.jit does)
# and its derivative the framework's, 1 in the dividend.
def _jax_remainder(x1: Any, x2: Any, /) -> Any:
    """jax.numpy's remainder with numpy's zeros, of the divisor's sign (NOTE [Zero remainders])."""
    import jax
    import jax.numpy as jnp

    r = jnp.remainder(x1, x2)
    if not jnp.issubdtype(r.dtype, jnp.floating):
        return r
    zero = jnp.where(jnp.signbit(x2), -0.0, 0.0).astype(r.dtype)
    return jnp.where(r == 0, zero - (jax.lax.stop_gradient(r) - r), r)


def _jax_fmod(x1: Any, x2: Any, /) -> Any:
    """jax.numpy's fmod, with numpy's 0 for a boolean divided by False (JAX's own result
    there is the dividend)."""
    import jax.numpy as jnp

    r = jnp.fmod(x1, x2)
    if jnp.issubdtype(r.dtype, jnp.inexact):
        return r
    return jnp.where(jnp.asarray(x2) == 0, jnp.zeros_like(r), r)


def _jax_triangle(name: str) -> Fn:
    """jax.numpy's tril/triu, taking a 1-d array as numpy does: as the rows of a square matrix
    (JAX's raises for fewer than two axes)."""

    def fn(m: Any, k: int = 0) -> Any:
        import jax.numpy as jnp

        m = jnp.asarray(m)
        no_triangle(name, m.ndim)
        if m.ndim == 1:
            m = jnp.broadcast_to(m, (m.shape[0], m.shape[0]))
        return getattr(jnp, name)(m, k)

    return fn


def _jax_svd(a: Any, *args: Any, **kwargs: Any) -> Any:
    """jax.numpy's svd. JAX has no derivative of the full SVD of a non-square matrix (numpy's
    default ``full_matrices=True``; the extra vectors are an arbitrary completion): its error
    ("JVP not implemented for full matrices") gets the call and what to differentiate instead."""
    import jax.numpy as jnp

    try:
        return jnp.linalg.svd(a, *args, **kwargs)
    except NotImplementedError as exc:
        if "full matrices" not in str(exc):
            raise
        raise NotImplementedError(
            "mnp.linalg.svd: JAX has no derivative of the full SVD of a non-square matrix (full_matrices=True, "
            "numpy's default); pass full_matrices=False (the same singular values and first min(m, n) singular "
            "vectors), compute_uv=False, or use mnp.linalg.svdvals"
        ) from exc


def _jax_tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """jax.numpy's tensordot, taking numpy integers in ``axes`` as numpy does."""
    import jax.numpy as jnp

    return jnp.tensordot(a, b, axes=tensordot_axes(axes, (jnp.ndim(a), jnp.ndim(b))))


def _jax_take(a: Any, indices: Any, axis: Any = None, out: None = None, mode: Any = None) -> Any:
    """jax.numpy's take with numpy's IndexError for known indices out of range (JAX fills
    them with nan, or the smallest integer, silently); traced indices keep JAX's fill."""
    import jax
    import jax.numpy as jnp

    if out is not None:
        raise NotImplementedError("mnp.take: out= is not supported on JAX (its arrays are immutable); use the result")
    if mode in (None, "raise") and not isinstance(indices, jax.core.Tracer):
        idx = np.asarray(indices)
        n = int(np.size(a)) if axis is None else int(jnp.shape(a)[axis])
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = int(idx.max()) if idx.max() >= n else int(idx.min())
            raise IndexError(
                f"mnp.take: index {bad} is out of bounds for axis {0 if axis is None else axis} with size {n}"
            )
    return jnp.take(a, indices, axis=axis, mode=None if mode == "raise" else mode)


def _jax_take_along_axis(arr: Any, indices: Any, axis: Any = -1, **kwargs: Any) -> Any:
    """jax.numpy's take_along_axis with numpy's IndexError for known indices out of range
    (JAX fills them with nan, or the smallest integer, silently); traced indices keep JAX's fill,
    and so does an explicit ``mode=`` (a jax.numpy keyword numpy lacks: JAX's rule asked for)."""
    import jax
    import jax.numpy as jnp

    if not isinstance(indices, jax.core.Tracer) and kwargs.get("mode") is None:
        idx = np.asarray(indices)
        n = int(np.size(arr)) if axis is None else int(jnp.shape(arr)[axis])
        if idx.size and idx.dtype.kind in "iu" and (idx.min() < -n or idx.max() >= n):
            bad = int(idx.max()) if idx.max() >= n else int(idx.min())
            raise IndexError(
                f"mnp.take_along_axis: index {bad} is out of bounds for axis {0 if axis is None else axis} "
                f"with size {n}"
            )
    return jnp.take_along_axis(arr, indices, axis=axis, **kwargs)


def _jax_diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """jax.numpy's diagonal with numpy's ValueError for one axis given twice (JAX raised a
    TypeError about a transpose permutation)."""
    import jax.numpy as jnp

    nd = max(jnp.ndim(a), 1)
    if -nd <= axis1 < nd and -nd <= axis2 < nd and axis1 % nd == axis2 % nd:
        raise ValueError("axis1 and axis2 cannot be the same")
    return jnp.diagonal(a, offset=offset, axis1=axis1, axis2=axis2)


def _jax_meshgrid(*xi: Any, indexing: str = "xy", copy: bool = True, sparse: bool = False) -> Any:
    """jax.numpy's meshgrid of the flattened inputs, as numpy's (JAX's raises for inputs that
    are not 1-d)."""
    import jax.numpy as jnp

    return tuple(jnp.meshgrid(*[jnp.ravel(x) for x in xi], indexing=indexing, copy=copy, sparse=sparse))


# NOTE [Several arrays as numpy's tuple]: numpy 2 returns several arrays from broadcast_arrays
# and from atleast_1d/2d/3d of several arrays as a tuple; jax.numpy returned a list (a
# ``result == (a, b)`` or ``isinstance(result, tuple)`` written against numpy failed on JAX), and
# autograd's atleast_1d of several traced arrays had no derivative ("VJP of atleast_1d wrt
# argnums 0, 1 not defined"). The split family returns a list in numpy too, as on JAX.
def _jax_broadcast_arrays(*args: Any, subok: bool = False) -> tuple[Any, ...]:
    import jax.numpy as jnp

    return tuple(jnp.broadcast_arrays(*args))


def _jax_atleast(name: str) -> Fn:
    """jax.numpy's atleast_1d/2d/3d, several arrays as numpy's tuple (see NOTE [Several arrays
    as numpy's tuple])."""

    def fn(*arys: Any) -> Any:
        import jax.numpy as jnp

        out = getattr(jnp, name)(*arys)
        return tuple(out) if isinstance(out, list) else out

    return fn


def _jax_split(equal: bool) -> Fn:
    """jax.numpy's split/array_split, with numpy's split points: negative, decreasing or past
    the end, as Python slices take them (``jnp.split(x, [-2])`` raises "Sizes passed to split
    must be nonnegative")."""

    def fn(ary: Any, indices_or_sections: Any, axis: int = 0) -> Any:
        import jax.numpy as jnp

        sections = indices_or_sections
        if isinstance(sections, (int, np.integer)) or getattr(sections, "ndim", None) == 0:  # numpy's reading
            return (jnp.split if equal else jnp.array_split)(ary, int(sections), axis=axis)
        x = jnp.asarray(ary)
        ax = int(np.lib.array_utils.normalize_axis_index(axis, x.ndim, "mnp.split"))
        bounds = [0, *(int(i) for i in np.asarray(indices_or_sections).reshape(-1)), x.shape[ax]]
        lead = (slice(None),) * ax
        return [x[(*lead, slice(a, b))] for a, b in itertools.pairwise(bounds)]

    return fn


def _jax_split_along(axis: int) -> Fn:
    """jax.numpy's vsplit/hsplit/dsplit, with numpy's split points (see ``_jax_split``):
    ``jnp.hsplit(x, [3, 6])`` of 4 columns raised "Sizes passed to split must be nonnegative"."""

    def fn(ary: Any, indices_or_sections: Any) -> Any:
        import jax.numpy as jnp

        x = jnp.asarray(ary)
        ax = 0 if axis == 1 and x.ndim == 1 else axis  # numpy's hsplit of a vector splits axis 0
        return _jax_split(True)(x, indices_or_sections, axis=ax)

    return fn


def _jax_round(a: Any, decimals: int = 0, out: None = None) -> Any:
    no_out("round", out)
    import jax.numpy as jnp

    x = jnp.asarray(a)
    if x.dtype == jnp.bool_:
        return x.astype(jnp.float16)  # numpy's round of booleans
    if jnp.issubdtype(x.dtype, jnp.integer) and decimals < 0:  # jax.numpy raises here
        from ._composite import round_integers

        return round_integers(x, decimals)
    return jnp.round(x, decimals)


# NOTE [Scans of small integers on JAX]: numpy accumulates cumsum and cumprod of booleans and
# integers narrower than its default integer in that integer (int64), as it does sum; jax.numpy
# does so for sum (int32 without x64) but scans in the input's own dtype, so an int8 cumsum of
# [100, 100, 100] gave [100, -56, 44], silently. Without a dtype= the scan accumulates in the
# integer jax.numpy's sum gives (its default int of the same signedness), which holds numpy's
# values wherever JAX's sum does.
def _jax_scan(name: str) -> Fn:
    def scan(a: Any, axis: Any = None, dtype: Any = None, out: None = None) -> Any:
        no_out(name, out)
        import jax
        import jax.numpy as jnp

        x = jnp.asarray(a)
        if dtype is None and (x.dtype == jnp.bool_ or jnp.issubdtype(x.dtype, jnp.integer)):
            wide = jax.dtypes.canonicalize_dtype(
                np.uint64 if jnp.issubdtype(x.dtype, jnp.unsignedinteger) else np.int64
            )
            if x.dtype == jnp.bool_ or x.dtype.itemsize < wide.itemsize:
                dtype = wide
        return getattr(jnp, name)(x, axis=axis, dtype=dtype)

    return scan


def _jax_reciprocal(x: Any, /) -> Any:
    """numpy's reciprocal of integers and booleans: the integer quotient 1 // x truncated toward 0
    (1 at 1, -1 at -1, 0 elsewhere; at 0 numpy's own value for the dtype), in the input's dtype
    (int8 for booleans). jax.numpy's divides in floating point (0.5 for 2)."""
    import jax.numpy as jnp

    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.inexact):
        return jnp.reciprocal(x)
    if x.dtype == jnp.bool_:
        x = x.astype(jnp.int8)
    with np.errstate(divide="ignore", invalid="ignore"):  # numpy's value at 0, per dtype
        at_zero = np.reciprocal(np.zeros((), np.dtype(x.dtype)))
    one = x == 1
    minus_one = (x == -1) if jnp.issubdtype(x.dtype, jnp.signedinteger) else jnp.zeros_like(one)
    zero = jnp.zeros_like(x)
    return jnp.where(one, zero + 1, jnp.where(minus_one, zero - 1, jnp.where(x == 0, zero + at_zero, zero)))


def _jax_fix(x: Any, /) -> Any:
    import jax.numpy as jnp

    return jnp.trunc(x)


def _jax_sorting(name: str) -> Fn:
    """numpy's ``sort``/``argsort`` with ``kind=`` on JAX arrays (jax.numpy rejects it): JAX
    sorts stably, which every numpy kind allows ("stable" and "mergesort" require it)."""

    def fn(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *, stable: Any = None) -> Any:
        import jax.numpy as jnp

        if kind not in (None, "quicksort", "mergesort", "heapsort", "stable"):
            raise ValueError(
                f"mnp.{name}: kind must be one of 'quicksort', 'mergesort', 'heapsort', 'stable', not {kind!r}"
            )
        if order is not None:
            raise NotImplementedError(f"mnp.{name}: order= (structured arrays) is not supported on JAX")
        return getattr(jnp, name)(a, axis=axis, stable=True if stable is None else stable)

    return fn


def _jax_layout_order(name: str, order: Any, allowed: str) -> str:
    """numpy's ``order=`` on a JAX array: "A" and "K" follow the memory layout, which is C
    order for every JAX array (see NOTE [order= on torch])."""
    if order is None:
        return "C"
    if not isinstance(order, str) or order not in allowed:
        choices = ", ".join(map(repr, allowed))
        raise ValueError(f"mnp.{name}: order must be one of {choices}, not {order!r}")
    return "C" if order in "AK" else order


def _jax_ravel(a: Any, order: str = "C") -> Any:
    import jax.numpy as jnp

    return jnp.ravel(a, order=_jax_layout_order("ravel", order, "CFAK"))


def _jax_reshape(a: Any, *args: Any, **kwargs: Any) -> Any:
    import jax.numpy as jnp

    shape = kwargs.pop("shape", kwargs.pop("newshape", args[0] if args else None))
    order = _jax_layout_order("reshape", kwargs.pop("order", args[1] if len(args) > 1 else "C"), "CFA")
    if kwargs:
        raise TypeError(f"mnp.reshape: unexpected keyword arguments {sorted(kwargs)}")
    return jnp.reshape(a, shape, order=order)


def _jax_truth(name: str) -> Fn:
    """jax.numpy's all/any, reading complex elements as numpy does: true where nonzero
    (``jnp.all(jnp.array([1j, 2]))`` is False, ``jnp.any(jnp.array([1j, 0]))`` False: JAX
    reads their real parts)."""

    def fn(a: Any, *args: Any, **kwargs: Any) -> Any:
        import jax.numpy as jnp

        x = jnp.asarray(a)
        return getattr(jnp, name)(x != 0 if jnp.iscomplexobj(x) else x, *args, **kwargs)

    return fn


def _jax_arg_extreme(name: str) -> Fn:
    """numpy's ``argmax``/``argmin`` of complex JAX arrays (jax.numpy's raise its TypeError):
    the first index of the largest (smallest) value in numpy's lexicographic order (real parts,
    then imaginary parts), or of the first value with a nan part, as numpy's."""

    def fn(a: Any, axis: Any = None, out: None = None, *, keepdims: bool = False) -> Any:
        import jax.numpy as jnp

        x = jnp.asarray(a)
        if not jnp.iscomplexobj(x):
            return getattr(jnp, name)(x, axis=axis, out=out, keepdims=keepdims)
        no_out(name, out)
        if axis is None:
            flat = fn(jnp.ravel(x), 0)
            return jnp.reshape(flat, (1,) * x.ndim) if keepdims else flat
        extreme, far = (jnp.max, -jnp.inf) if name == "argmax" else (jnp.min, jnp.inf)
        re, im = jnp.real(x), jnp.imag(x)
        first = re == extreme(re, axis=axis, keepdims=True)
        im_first = jnp.where(first, im, far)
        hit = first & (im == extreme(im_first, axis=axis, keepdims=True))
        nan = jnp.isnan(x)
        hit = jnp.where(jnp.any(nan, axis=axis, keepdims=True), nan, hit)
        return jnp.argmax(hit, axis=axis, keepdims=keepdims)

    return fn
