"""Corrections to ``jax.numpy``/``autograd.numpy``/``numpy`` and functions that need one
implementation per framework (``stop_gradient``, ``power``'s conventions).

See NOTE [Derivative conventions] for what the corrections choose.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from ._ag_qr import qr as _ag_qr
from ._composite import PYTHON_NUMBERS, no_out, strong
from ._det import jax_det as _jax_det

Fn = Callable[..., Any]


def _np(lib: str) -> Any:
    from ._dispatch import _module

    return _module(lib)


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

    # jax.numpy's copysign has derivative 1 in x1 at x1 == 0; |x1| has 0 there (sign(0)).
    out = _jax_abs(x1) * jnp.where(jnp.signbit(x2), -1.0, 1.0)
    # in the dtype of JAX's copysign (the signs were weak numbers: float32 x1 with float64 x2
    # gave float32, where numpy and jax.numpy give float64)
    want = jax.eval_shape(jnp.copysign, x1, x2)
    return out if out.dtype == want.dtype else out.astype(want.dtype)


def _jax_float_power(x1: Any, x2: Any, /) -> Any:
    import jax
    import jax.numpy as jnp

    # jax.numpy's float_power has derivative nan in x at 0**0; the conventions of power hold.
    dtype = jax.dtypes.canonicalize_dtype(jnp.float64)

    def cast(v: Any) -> Any:
        return v if isinstance(v, (int, float, complex)) or jnp.iscomplexobj(v) else jnp.asarray(v, dtype=dtype)

    return _safe_power("jax")(cast(x1), cast(x2))


def _lazy_jax_zeros_like(*args: Any, **kwargs: Any) -> Any:
    import jax.numpy as jnp

    return jnp.zeros_like(*args, **kwargs)


def _is_zero_scalar(y: Any) -> bool:
    return isinstance(y, (int, float, np.number)) and y == 0


def _safe_power(lib: str) -> Fn:
    """power(x, y) whose derivatives are 0 in ``x`` where ``y == 0`` and 0 in ``y`` (at every
    order) where ``x == 0``; elsewhere the framework's own power."""

    def fn(x1: Any, x2: Any, /) -> Any:
        from ._composite import as_numpy_result, inexact

        if not inexact(x1) and not inexact(x2):  # integers: numpy's integer power, no derivative
            if lib == "jax" and _known_negative(x1, x2):
                raise ValueError(
                    "mnp.power: integers to negative integer powers are not allowed (as in numpy); use a float base"
                )
            return _power_raw(lib, x1, x2)
        return as_numpy_result("power", _conventional_power(x1, x2), x1, x2)  # JAX keeps its own

    def _conventional_power(x1: Any, x2: Any) -> Any:
        from .. import numpy as mnp

        if _is_zero_scalar(x2):
            return mnp.ones_like(x1) if not _is_zero_scalar(x1) else 1.0
        if isinstance(x2, (int, float)) or (isinstance(x2, np.ndarray) and np.all(x2 != 0)):
            return _power_raw(lib, x1, x2)
        if type(x1) in (int, float) and x1 != 0:  # a known base away from 0: `where(x == 0, 1.0, x)` is a
            return _power_raw(lib, np.float64(x1), x2)  # float64 (numpy's), without numpy code in a traced graph
        x, y = x1, x2
        base0 = mnp.equal(x, 0)
        exp0 = mnp.equal(y, 0)
        fixed_y = mnp.where(exp0, 1.0, mnp.stop_gradient(y))
        at_zero = mnp.where(exp0, 1.0, _power_raw(lib, x, fixed_y))
        away = _power_raw(lib, mnp.where(base0, 1.0, x), y)
        return mnp.where(base0, at_zero, away)

    return fn


def _known_negative(x1: Any, x2: Any) -> bool:
    """Whether a JAX integer power has a negative exponent numpy would raise for: JAX returns
    arbitrary integers there (``2 ** -1`` was the smallest int64). Traced exponents (under
    ``jax.jit``, ``vmap``) hide their values: JAX's result stands, as documented."""
    import jax

    if isinstance(x2, jax.core.Tracer):
        return False
    y = np.asarray(x2)
    if y.size == 0 or getattr(x1, "size", 1) == 0:
        return False
    return bool(np.any(y < 0))


def _power_raw(lib: str, x: Any, y: Any) -> Any:
    if lib == "torch":
        from ._torch import IMPL

        return IMPL["power"](x, y)
    return _np(lib).power(x, y)


def stop_gradient(lib: str, x: Any) -> Any:
    """``x`` with no derivative, on ``lib``'s arrays."""
    if lib == "torch":
        return x.detach()
    if lib == "jax":
        import jax

        return jax.lax.stop_gradient(x)
    if lib == "autograd":
        from autograd.tracer import getval

        return getval(x)
    return x


def _ag() -> Any:
    import autograd.numpy as anp

    return anp


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


def check_take_along_axis(arr_ndim: int, indices_ndim: int, axis: Any) -> None:
    """numpy's ValueError for indices whose number of axes does not fit (autograd's indexing
    broadcast 1-d indices against a matrix and computed; torch raised RuntimeError)."""
    if axis is None and indices_ndim != 1:
        raise ValueError("mnp.take_along_axis: when axis=None, `indices` must have a single dimension.")
    if axis is not None and indices_ndim != arr_ndim:
        raise ValueError("mnp.take_along_axis: `indices` and `arr` must have the same number of dimensions")


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


def meshgrid_shapes(n: int, indexing: str) -> list[list[int]]:
    """The shapes numpy's meshgrid gives its ``n`` flattened inputs before broadcasting them:
    input ``i`` along axis ``i``, the first two swapped for ``indexing="xy"``."""
    shapes = []
    for i in range(n):
        shape = [1] * n
        shape[i] = -1
        shapes.append(shape)
    if indexing == "xy" and n >= 2:
        shapes[0][0], shapes[0][1] = 1, -1
        shapes[1][0], shapes[1][1] = -1, 1
    return shapes


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


def _ag_einsum(*operands: Any, **kwargs: Any) -> Any:
    """autograd's derivative of ``einsum`` fails for an operand with a repeated index
    (``"bii->b"``): each such operand is replaced by its diagonal first, and an implicit output
    made explicit (numpy's rule: the indices seen once, in alphabetical order)."""
    anp = _ag()
    if not operands or not isinstance(operands[0], str):
        return anp.einsum(*operands, **kwargs)
    spec = operands[0].replace(" ", "")
    lhs, arrow, rhs = spec.partition("->")
    subs = lhs.split(",")
    if not any(len(set(t)) < len(t) for t in subs if "." not in t):
        return anp.einsum(*operands, **kwargs)
    if not arrow:
        letters = lhs.replace(",", "").replace(".", "")
        rhs = ("..." if "..." in lhs else "") + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    arrays = list(operands[1:])
    for k, t in enumerate(subs):
        if "." in t:
            continue
        x = arrays[k]
        while len(set(t)) < len(t):
            c = next(c for c in t if t.count(c) > 1)
            i = t.index(c)
            j = t.index(c, i + 1)
            x = _ag_diagonal(x, 0, i, j)
            t = t[:i] + t[i + 1 : j] + t[j + 1 :] + c
        subs[k], arrays[k] = t, x
    return anp.einsum(",".join(subs) + "->" + rhs, *arrays, **kwargs)


def _ag_multi_dot(arrays: Any, *, out: None = None) -> Any:
    """numpy's ``multi_dot`` (1-d first and last arrays as row and column vectors) by ``dot``:
    numpy's own runs on autograd's boxes as objects."""
    if out is not None:
        raise NotImplementedError("mnp.linalg.multi_dot: out= is not supported; use the returned array")
    if len(arrays) < 2:
        raise ValueError("mnp.linalg.multi_dot: expecting at least two arrays")
    result = arrays[0]
    for a in arrays[1:]:
        result = _ag().dot(result, a)
    return result


def _ag_svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    """autograd differentiates ``svd`` only with ``full_matrices=False`` (NOTE [Full SVD on
    autograd])."""
    anp = _ag()
    if hermitian:
        raise NotImplementedError("mnp.linalg.svd: hermitian=True is not supported on the autograd backend")
    if not compute_uv or not full_matrices or a.shape[-1] == a.shape[-2]:
        return anp.linalg.svd(a, full_matrices=False, compute_uv=compute_uv)
    u, s, vh = anp.linalg.svd(a, full_matrices=False)
    extra = _svd_completion()
    if a.shape[-2] > a.shape[-1]:
        u = anp.concatenate([u, extra(a, True)], axis=-1)
    else:
        vh = anp.concatenate([vh, extra(a, False)], axis=-2)
    return u, s, vh


# NOTE [Full SVD on autograd]: autograd's svd has no derivative with full_matrices=True. For
# a square matrix the full factors are the reduced ones. For a non-square one, the extra columns
# of U (or rows of Vh) are numpy's own orthonormal completion of the reduced factors, which is
# not a differentiable function of the matrix (any completion is one): a derivative that
# reaches them with a nonzero cotangent raises, while the singular values and the reduced
# columns keep theirs. Where numpy's completion is not orthogonal to the reduced factors (a
# rank-deficient matrix: LAPACK's two calls choose the null space independently), the
# completion is a QR factorization's instead.
_SVD_COMPLETION: list[Fn] = []


def _svd_completion() -> Fn:
    if _SVD_COMPLETION:
        return _SVD_COMPLETION[0]
    from autograd.extend import defvjp, primitive

    @primitive  # type: ignore[untyped-decorator]
    def completion(a: np.ndarray, columns: bool) -> np.ndarray:
        uf, _, vhf = np.linalg.svd(a, full_matrices=True)
        ur, _, vhr = np.linalg.svd(a, full_matrices=False)
        base, full = (ur, uf) if columns else (np.swapaxes(vhr, -1, -2), np.swapaxes(vhf, -1, -2))
        k = base.shape[-1]
        rest = full[..., k:]
        if not np.allclose(np.swapaxes(base, -1, -2) @ rest, 0.0, atol=1e-10):
            rest = np.linalg.qr(base, mode="complete")[0][..., k:]
        return rest if columns else np.swapaxes(rest, -1, -2)

    def vjp(ans: Any, a: Any, columns: bool) -> Fn:
        def back(g: Any) -> Any:
            if np.any(np.asarray(g) != 0):
                raise NotImplementedError(
                    "mnp.linalg.svd: on the autograd backend the extra "
                    + ("columns of U" if columns else "rows of Vh")
                    + " of a non-square matrix's full SVD (an arbitrary orthonormal completion) have no "
                    "derivative; pass full_matrices=False"
                )
            return np.zeros(np.shape(a))

        return back

    defvjp(completion, vjp)
    wrapped: Fn = completion
    _SVD_COMPLETION.append(wrapped)
    return wrapped


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


def _ag_cumsum(a: Any, axis: Any = None, dtype: Any = None, out: None = None) -> Any:
    no_out("cumsum", out)
    # autograd's cumsum derivative takes no dtype=: numpy accumulates in it, so cast first.
    return _ag().cumsum(_ag_accumulator(a, "cumsum", dtype), axis=axis)


def _ag_accumulator(a: Any, name: str, dtype: Any) -> Any:
    """``a`` in the dtype numpy's scan ``name`` accumulates in (int64 for small integers)."""
    from autograd.tracer import getval

    want = getattr(np, name)(np.ones(1, np.result_type(getval(a))), dtype=dtype).dtype
    return a if np.result_type(getval(a)) == want else a.astype(want)


def _ag_cumprod(a: Any, axis: Any = None, dtype: Any = None, out: None = None) -> Any:
    no_out("cumprod", out)
    anp = _ag()
    a = _ag_accumulator(a, "cumprod", dtype)
    x = anp.ravel(a) if axis is None else anp.moveaxis(a, axis, 0)
    if x.shape[0] == 0:  # numpy's empty result (x[0] raised IndexError)
        return anp.ravel(a) if axis is None else a
    parts = [x[0]]
    for i in range(1, x.shape[0]):
        parts.append(parts[-1] * x[i])
    out_ = anp.stack(parts)
    return out_ if axis is None else anp.moveaxis(out_, 0, axis)


def _ag_prod(
    a: Any, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False, **kwargs: Any
) -> Any:
    """autograd's ``prod`` divides by the factors for its derivative (nan at a zero factor): the
    product of floats is taken here as a tree of pairwise products, whose derivatives are
    products of the other factors at every order."""
    from autograd.tracer import getval

    no_out("prod", out)
    anp = _ag()
    shape = tuple(np.shape(a))
    nd = len(shape)
    axes = tuple(range(nd)) if axis is None else tuple(ax % nd for ax in (axis if isinstance(axis, tuple) else (axis,)))
    n = int(np.prod([shape[d] for d in axes], dtype=np.int64))
    floating = np.issubdtype(np.result_type(getval(a)), np.floating) and (
        dtype is None or np.issubdtype(dtype, np.floating)
    )
    if kwargs or n == 0 or not floating:  # initial=, where=, empty or exact products: autograd's own
        return anp.prod(a, axis=axis, dtype=dtype, keepdims=keepdims, **kwargs)
    kept = [d for d in range(nd) if d not in axes]
    x = anp.reshape(anp.transpose(a, kept + list(axes)), [shape[d] for d in kept] + [n])
    while x.shape[-1] > 1:
        half = x.shape[-1] // 2
        pairs = x[..., :half] * x[..., half : 2 * half]
        x = pairs if x.shape[-1] % 2 == 0 else anp.concatenate([pairs, x[..., 2 * half :]], axis=-1)
    res = x[..., 0]
    if keepdims:
        res = anp.reshape(res, [1 if d in axes else shape[d] for d in range(nd)])
    return res if dtype is None else res.astype(dtype)


def _ag_diag(v: Any, k: int = 0) -> Any:
    return _ag_diagonal(v, k) if len(np.shape(v)) == 2 else _ag().diag(v, k)


def _ag_flip(m: Any, axis: Any = None) -> Any:
    nd = len(np.shape(m))
    axes = range(nd) if axis is None else [a % nd for a in (axis if isinstance(axis, (tuple, list)) else (axis,))]
    return m[tuple(slice(None, None, -1) if d in axes else slice(None) for d in range(nd))]


def _ag_hsplit(ary: Any, indices_or_sections: Any) -> Any:
    return _ag().split(ary, indices_or_sections, axis=1 if len(np.shape(ary)) > 1 else 0)


def _ag_eigvalsh(a: Any, UPLO: str = "L") -> Any:
    return _ag().linalg.eigh(a, UPLO)[0]


def _ag_matrix_power(a: Any, n: int) -> Any:
    """numpy's binary powers (``log2(n)`` products, not ``n``: ``2**100`` ran out of memory),
    in numpy's order of products, so the rounding is numpy's too."""
    from autograd.tracer import getval

    anp = _ag()
    try:
        n = operator.index(n)
    except TypeError as exc:
        raise TypeError(f"mnp.linalg.matrix_power: exponent must be an integer, not {n!r}") from exc
    if n == 0:  # the identity in a's dtype
        eye = np.eye(np.shape(a)[-1], dtype=np.result_type(getval(a)))
        return anp.add(np.broadcast_to(eye, np.shape(a)), 0.0 * a)
    x = anp.linalg.inv(a) if n < 0 else a
    n = abs(n)
    if n <= 3:
        return x if n == 1 else anp.matmul(x, x) if n == 2 else anp.matmul(anp.matmul(x, x), x)
    z = out = None
    while n > 0:
        z = x if z is None else anp.matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            out = z if out is None else anp.matmul(out, z)
    return out


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


def _ag_mask(where: Any, a: Any) -> np.ndarray:
    from autograd.tracer import getval

    return np.broadcast_to(np.asarray(getval(where), dtype=bool), np.shape(a))


def _ag_reduction(name: str, identity: float | None, base: Fn | None = None) -> Fn:
    """autograd's ``name`` (or ``base``) with numpy's ``where=`` by filling masked elements
    (autograd's own derivatives of ``sum``/``prod``/``mean``/``max`` ignore the mask)."""

    def fn(a: Any, axis: Any = None, *args: Any, where: Any = True, **kwargs: Any) -> Any:
        from autograd.tracer import getval, isbox

        reduce = base if base is not None else getattr(_ag(), name)
        if identity is None:  # max and min: initial= applied after the reduction
            return _ag_extremum(
                name, reduce, a, axis, where, **dict(zip(("out", "keepdims", "initial"), args)), **kwargs
            )
        kwargs.update(zip(("dtype", "out", "keepdims", "initial"), args))
        initial = kwargs.get("initial", np._NoValue)
        if isbox(initial):  # see NOTE [A differentiated initial= of sum and prod on autograd]
            del kwargs["initial"]
            r = fn(a, axis, where=where, **kwargs)
            start = initial.astype(np.result_type(getval(r)))
            return r + start if name == "sum" else r * start
        if where is True:
            return reduce(a, axis, **kwargs)
        return reduce(_ag_where(_ag_mask(where, a), a, identity), axis, **kwargs)

    # NOTE [A differentiated initial= of sum and prod on autograd]
    # numpy's sum and prod take initial= as the first term or factor; autograd passes it on to
    # numpy, which fails on an ArrayBox ("setting an array element with a sequence") where the
    # initial value is itself differentiated. The reduction then runs without it and adds
    # (multiplies by) it after, cast to the result's dtype as numpy casts it.
    return fn


def _ag_extremum(name: str, reduce: Fn, a: Any, axis: Any, where: Any, **kwargs: Any) -> Any:
    """autograd's max or min with numpy's ``initial=`` and ``where=``.

    NOTE [initial= of max and min on autograd]: autograd's derivative of ``max`` sends the
    cotangent to the elements equal to the result, divided by their count; where ``initial``
    wins, no element equals it and the derivative was 0 / 0 = nan. The reduction runs without
    ``initial``, which then enters through ``maximum``/``minimum``: derivative 0 where it wins,
    shared equally on a tie (NOTE [Derivative conventions]), as on the other backends.
    """
    anp = _ag()
    initial = kwargs.pop("initial", np._NoValue)
    if where is not True:
        if initial is np._NoValue:
            raise ValueError(
                f"mnp.{name}: reducing with a where= mask needs initial= (the value of an all-masked "
                "reduction), as in numpy"
            )
        a = _ag_where(_ag_mask(where, a), a, initial)
    if initial is np._NoValue:
        return reduce(a, axis, **kwargs)
    shape = np.shape(a)
    axes = range(len(shape)) if axis is None else np.atleast_1d(axis)
    if any(shape[int(d)] == 0 for d in axes):  # no element to differentiate: numpy's value
        return reduce(a, axis, initial=initial, **kwargs)
    pick = anp.maximum if name in ("max", "amax") else anp.minimum
    return pick(reduce(a, axis, **kwargs), initial)


def _ag_mean(
    a: Any, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False, *, where: Any = True
) -> Any:
    no_out("mean", out)
    anp = _ag()
    if where is True:
        return anp.mean(a, axis=axis, dtype=dtype, keepdims=keepdims)
    w = _ag_mask(where, a)
    total = anp.sum(_ag_where(w, a, 0), axis=axis, dtype=dtype, keepdims=keepdims)
    want = np.mean(np.ones(1, dtype=np.result_type(a)), dtype=dtype).dtype
    return anp.divide(total, np.sum(w, axis=axis, keepdims=keepdims).astype(want)).astype(want)


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
        if m.ndim == 1:
            m = jnp.broadcast_to(m, (m.shape[0], m.shape[0]))
        return getattr(jnp, name)(m, k)

    return fn


def tensordot_axes(axes: Any, ndims: tuple[int, int] | None = None) -> int | tuple[list[int], list[int]]:
    """numpy's reading of tensordot's ``axes``: a count, or a pair of axes or axis sequences, any
    of them a numpy integer or 0-d integer array (see NOTE [tensordot's axes]); with the
    operands' ``ndims``, a count beyond them is numpy's IndexError."""
    # NOTE [tensordot's axes]
    # numpy reads ``axes`` as a count where it is not iterable, and otherwise as a pair whose
    # entries are each one axis or a sequence of axes, all through ``__index__``: np.int64(1) and
    # (np.int64(2), np.int64(2)) are valid. torch.tensordot and jax.numpy.tensordot refused the
    # pair of numpy integers, and autograd's derivative of tensordot indexed into a numpy integer
    # count; every backend gets plain ints. Where numpy's own check fails, its error type is
    # kept: axis lists of unequal length are its ValueError "shape-mismatch for sum" (torch
    # raised RuntimeError, JAX TypeError), and a count beyond an operand's dimensions its
    # IndexError (torch RuntimeError, JAX TypeError).
    try:
        first, second = axes
    except TypeError:  # not iterable (an int, a numpy integer, a 0-d array): a count
        count = operator.index(axes)
        if ndims is not None and count > min(ndims):
            raise IndexError(
                f"axes={count} sums over more axes than the operands have ({ndims[0]} and {ndims[1]} "
                "dimensions), as numpy raises; give a smaller count or a pair of axis lists"
            ) from None
        return count

    def one(side: Any) -> list[int]:
        try:
            return [operator.index(a) for a in side]
        except TypeError:
            return [operator.index(side)]

    pair = one(first), one(second)
    if len(pair[0]) != len(pair[1]):
        raise ValueError(
            f"shape-mismatch for sum: the axis lists {pair[0]} and {pair[1]} differ in length "
            "(numpy's error); give one axis of the second operand for each of the first"
        )
    return pair


def _jax_tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """jax.numpy's tensordot, taking numpy integers in ``axes`` as numpy does."""
    import jax.numpy as jnp

    return jnp.tensordot(a, b, axes=tensordot_axes(axes, (jnp.ndim(a), jnp.ndim(b))))


def _ag_tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """autograd's tensordot, taking numpy integers in ``axes`` as numpy does."""
    return _ag().tensordot(a, b, axes=tensordot_axes(axes))


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


# NOTE [det of a singular matrix on autograd]: autograd's derivative of det is
# ``g * det(a) * inv(a).T``, which raises numpy's bare LinAlgError at a singular matrix; the
# derivative there is the transposed adjugate (the cofactor matrix), finite, and what torch,
# JAX and the numpy backend give. The rule here uses ``det * inv.T`` where ``a`` is
# well-conditioned and the cofactors (determinants of the minors, through this same rule, so
# that second derivatives work) where it is not: O(n**5) for n x n, only on the singular path.
_DET_COND = 1e8
_ag_det_fn: list[Fn] = []


_ag_pinv_fn: list[Fn] = []


def _ag_pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = np._NoValue) -> Any:
    """numpy's ``pinv`` with its ``rcond=``, ``hermitian=`` and ``rtol=``, differentiated by
    autograd's rule.

    NOTE [pinv's keywords on autograd]: autograd's derivative rule of ``pinv`` takes the matrix
    alone (``grad_pinv(ans, x)``), so any keyword, even ``rcond=None`` given positionally, made
    ``grad`` raise ``TypeError: grad_pinv() takes 2 positional arguments but 3 were given``. The
    rule is the derivative along perturbations that keep the rank of ``ans``, which holds for
    the truncated pseudo-inverse the keywords choose as well, so it is used with them
    (NOTE [pinv's derivative in small products]).
    """
    if not _ag_pinv_fn:
        from autograd.extend import defvjp, primitive

        @primitive  # type: ignore[untyped-decorator]
        def pinv(a: Any, rcond: Any, hermitian: bool, rtol: Any) -> Any:
            return np.linalg.pinv(a, rcond, hermitian, rtol=rtol)

        defvjp(pinv, lambda ans, a, rcond, hermitian, rtol: lambda g: _ag_pinv_vjp(ans, a, g))
        _ag_pinv_fn.append(pinv)
    return _ag_pinv_fn[0](a, rcond, hermitian, rtol)


def _ag_pinv_vjp(p: Any, a: Any, g: Any) -> Any:
    """autograd's rule for ``pinv`` (``p`` of ``a``, cotangent ``g``), ``T(-p g^T p + p p^T g
    (I - a p) + (I - p a) g p^T p)``, without its identities.

    NOTE [pinv's derivative in small products]: autograd's rule builds ``I - a p``, an (m, m)
    matrix for ``a`` of m rows, so the derivative of ``pinv`` of a (400000, 2) matrix asked for
    1.2 TiB (``MemoryError``, where numpy's value and JAX's derivative take kilobytes). Each
    product of three matrices here is taken in the order whose intermediate is the smaller of
    (m, m) and (n, n).
    """
    anp = _ag()

    def t(x: Any) -> Any:
        return anp.swapaxes(x, -1, -2)

    def mul3(x: Any, y: Any, z: Any) -> Any:
        sx, sy, sz = np.shape(x), np.shape(y), np.shape(z)
        if sx[-2] * sy[-1] <= sy[-2] * sz[-1]:
            return anp.matmul(anp.matmul(x, y), z)
        return anp.matmul(x, anp.matmul(y, z))

    left = mul3(p, t(p), g)  # p p^T g, then times (I - a p)
    right = mul3(g, t(p), p)  # g p^T p, after (I - p a)
    return t(-mul3(p, t(g), p) + left - mul3(left, a, p) + right - mul3(p, a, right))


def _ag_det(a: Any) -> Any:
    if not _ag_det_fn:
        from autograd.extend import defvjp, primitive

        @primitive  # type: ignore[untyped-decorator]
        def det(a: Any) -> Any:
            return np.linalg.det(a)

        def det_vjp(ans: Any, a: Any) -> Fn:
            return lambda g: _ag().expand_dims(_ag().expand_dims(g, -1), -1) * _ag_cofactors(a, ans)

        defvjp(det, det_vjp)
        _ag_det_fn.append(det)
    return _ag_det_fn[0](a)


def _ag_cofactors(a: Any, det: Any) -> Any:
    """The cofactor matrix of ``a`` (the adjugate transposed), differentiable by autograd."""
    from autograd.tracer import getval

    anp = _ag()
    n = int(np.shape(a)[-1])
    value = np.asarray(getval(a))
    if n == 0:
        return anp.zeros_like(a)
    with np.errstate(all="ignore"):
        conditioned = bool(value.size) and bool(np.all(np.linalg.cond(value) < _DET_COND))
    if conditioned:
        return anp.expand_dims(anp.expand_dims(det, -1), -1) * anp.swapaxes(anp.linalg.inv(a), -1, -2)
    if n == 1:
        return anp.ones_like(a)
    rows = []
    for i in range(n):
        keep_r = [k for k in range(n) if k != i]
        row = []
        for j in range(n):
            keep_c = [k for k in range(n) if k != j]
            minor = a[..., keep_r, :][..., :, keep_c]
            row.append((-1.0) ** (i + j) * _ag_det(minor))
        rows.append(anp.stack(row, axis=-1))
    return anp.stack(rows, axis=-2)


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


def _jax_fix(x: Any, /) -> Any:
    import jax.numpy as jnp

    return jnp.trunc(x)


def join_dtype(name: str, dtypes: list[Any], dtype: Any, casting: Any) -> np.dtype[Any]:
    """numpy's result dtype of joining (concatenate, stack, ...) arrays of ``dtypes`` with
    ``dtype=`` and ``casting=``, asked of numpy on empty arrays; numpy's own error, prefixed
    with the call, where numpy rejects the casting."""
    try:
        empty = [np.empty(0, d) for d in dtypes]
        return np.concatenate(empty, dtype=dtype, casting=casting).dtype
    except (TypeError, ValueError) as e:
        raise (TypeError if isinstance(e, TypeError) else ValueError)(f"mnp.{name}: {e}") from None


def _joining(lib: str, name: str) -> Fn:
    """numpy's ``name`` (concatenate, stack, hstack, vstack) with ``dtype=`` and ``casting=``
    on JAX and autograd arrays: numpy's casting check, then the inputs cast to numpy's result
    dtype (jax.numpy takes no ``casting=``, autograd.numpy neither keyword)."""

    def fn(arrays: Any, *args: Any, dtype: Any = None, casting: Any = "same_kind", **kwargs: Any) -> Any:
        mod = _np(lib)
        xs = [strong(a, mod.asarray) for a in arrays]  # a number in the framework's dtype (JAX's own)
        want = join_dtype(name, [_dtype(x) for x in xs], dtype, casting)
        # x.astype: autograd's asarray has no derivative for a traced value (its astype has)
        xs = [x if _dtype(x) == want else (x if hasattr(x, "astype") else mod.asarray(x)).astype(want) for x in xs]
        if lib == "autograd" and name == "concatenate" and (args[0] if args else kwargs.get("axis", 0)) is None:
            # numpy joins the flattened arrays; autograd's derivative rule indexed a shape with None
            return mod.concatenate(
                [mod.ravel(x) for x in xs], 0, *args[1:], **{k: v for k, v in kwargs.items() if k != "axis"}
            )
        return getattr(mod, name)(xs, *args, **kwargs)

    return fn


def _ag_dstack(tup: Any) -> Any:
    """numpy's ``dstack`` on autograd's arrays: autograd.numpy's is a primitive without a
    derivative that runs numpy's own on the traced values, which made an object array of them
    (every other joining function has autograd's derivative)."""
    anp = _ag()
    return _joining("autograd", "concatenate")([anp.atleast_3d(strong(a)) for a in tup], 2)


def _dtype(x: Any) -> np.dtype[Any]:
    return np.dtype(x.dtype) if hasattr(x, "dtype") else np.asarray(x).dtype


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


FIXES: dict[str, dict[str, Fn]] = {
    "jax": {
        "all": _jax_truth("all"),
        "any": _jax_truth("any"),
        "abs": _jax_abs,
        "absolute": _jax_abs,
        "fabs": _jax_fabs,
        "copysign": _jax_copysign,
        "sign": _jax_sign,
        "floor_divide": _jax_floor_divide,
        "fmod": _jax_fmod,
        "remainder": _jax_remainder,
        "mod": _jax_remainder,
        "linalg.det": _jax_det,
        "take": _jax_take,
        "take_along_axis": _jax_take_along_axis,
        "diagonal": _jax_diagonal,
        "tensordot": _jax_tensordot,
        "tril": _jax_triangle("tril"),
        "triu": _jax_triangle("triu"),
        "meshgrid": _jax_meshgrid,
        "split": _jax_split(True),
        "array_split": _jax_split(False),
        "vsplit": _jax_split_along(0),
        "hsplit": _jax_split_along(1),
        "dsplit": _jax_split_along(2),
        "power": _safe_power("jax"),
        "float_power": _jax_float_power,
        "empty_like": _lazy_jax_zeros_like,
        "fix": _jax_fix,
        "ravel": _jax_ravel,
        "sort": _jax_sorting("sort"),
        "argsort": _jax_sorting("argsort"),
        **{n: _joining("jax", n) for n in ("concatenate", "stack", "hstack", "vstack")},
        "reshape": _jax_reshape,
        "round": _jax_round,
        "around": _jax_round,
        "cumsum": _jax_scan("cumsum"),
        "cumprod": _jax_scan("cumprod"),
    },
    "autograd": {
        "power": _safe_power("autograd"),
        "empty_like": lambda *a, **k: _ag().zeros_like(*a, **k),  # imported on use, not with multiad.numpy
        "positive": _ag_positive,
        "signbit": _ag_signbit,
        "reciprocal": _ag_reciprocal,
        "take": _ag_take,
        "take_along_axis": _ag_take_along_axis,
        "tensordot": _ag_tensordot,
        "broadcast_to": _ag_broadcast_to,
        "broadcast_arrays": _ag_broadcast_arrays,
        "meshgrid": _ag_meshgrid,
        "fmod": _ag_fmod,
        "nan_to_num": _ag_nan_to_num,
        "roll": _ag_roll,
        "copysign": _ag_copysign,
        "float_power": _ag_float_power,
        "diagflat": _ag_diagflat,
        "diagonal": _ag_diagonal,
        "where": _ag_where,
        "cross": _ag_cross,
        "cumprod": _ag_cumprod,
        "cumsum": _ag_cumsum,
        "diag": _ag_diag,
        "flip": _ag_flip,
        "fliplr": lambda m: _ag_flip(m, 1),
        "flipud": lambda m: _ag_flip(m, 0),
        "hsplit": _ag_hsplit,
        "linalg.eigvalsh": _ag_eigvalsh,
        "linalg.det": _ag_det,
        "linalg.matrix_power": _ag_matrix_power,
        "sort": _ag_sort,
        "repeat": _ag_repeat,
        "transpose": _ag_transpose,
        "sum": _ag_reduction("sum", 0),
        "prod": _ag_reduction("prod", 1, _ag_prod),
        "max": _ag_reduction("max", None),
        "amax": _ag_reduction("amax", None),
        "min": _ag_reduction("min", None),
        "amin": _ag_reduction("amin", None),
        "mean": _ag_mean,
        "tile": _ag_tile,
        "einsum": _ag_einsum,
        "linalg.multi_dot": _ag_multi_dot,
        "linalg.svd": _ag_svd,
        "linalg.pinv": _ag_pinv,
        "linalg.qr": _ag_qr,
        **{n: _joining("autograd", n) for n in ("concatenate", "stack", "hstack", "vstack")},
        "dstack": _ag_dstack,
    },
    "numpy": {"empty_like": np.zeros_like},
}
TORCH_FIXES: dict[str, Fn] = {"power": _safe_power("torch")}
