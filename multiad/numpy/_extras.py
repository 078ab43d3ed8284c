"""numpy functions written once for every backend from other ``multiad.numpy`` functions:
array-API aliases, statistics, nan-aware reductions and small helpers."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _axis_args, _complex, _dispatch, _singular, _zerod
from ._composite import (
    _arr,
    _ddof,
    _m,
    _ndim,
    _normalized,
    _safe_sqrt,
    _variance,
    as_numpy_result,
    cast_as_numpy,
    dtype_name,
    in_complex_dtype,
    inexact,
    no_out,
    numpy_result,
    result_type_name,
    warn_where,
)
from ._outer import errors_named

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def einsum(*operands: Any, **kwargs: Any) -> Any:
    """Einstein summation, with subscripts as a string (``einsum("ij,jk->ik", a, b)``) or as
    numpy's interleaved sublists (``einsum(a, [0, 1], b, [1, 2], [0, 2])``)."""
    if operands and not isinstance(operands[0], str):
        operands = _interleaved_to_subscripts(operands)
    _einsum_count(operands)
    _einsum_repeated(operands)
    dtype, casting = kwargs.pop("dtype", None), kwargs.pop("casting", "safe")
    if casting not in ("no", "equiv", "safe", "same_kind", "unsafe"):
        raise ValueError(
            f"mnp.einsum: casting must be one of 'no', 'equiv', 'safe', 'same_kind' or 'unsafe', not {casting!r}"
        )
    if dtype is not None:  # see NOTE [einsum's dtype]
        operands = (operands[0], *_einsum_cast(operands[1:], dtype, casting))
    path = kwargs.get("optimize")
    if isinstance(path, (list, tuple)) and path and path[0] == "einsum_path":
        if _dispatch.like(*operands[1:], call="mnp.einsum") == "jax":  # JAX takes the steps alone
            kwargs["optimize"] = list(path[1:])
    return _dispatch.call("einsum", *operands, arrays=_dispatch.ALL, **kwargs)


def _einsum_count(operands: tuple[Any, ...]) -> None:
    """numpy's ValueError where the subscripts name another number of operands than given
    (torch raised a RuntimeError)."""
    if not operands or len(operands) < 2:
        raise ValueError("mnp.einsum: give the subscripts string and at least one operand (as in numpy)")
    if not isinstance(operands[0], str):
        return
    terms = operands[0].partition("->")[0].count(",") + 1
    if terms != len(operands) - 1:
        raise ValueError(
            f"mnp.einsum: the subscripts {operands[0]!r} name {terms} operand{'s' * (terms != 1)} but "
            f"{len(operands) - 1} {'were' if len(operands) > 2 else 'was'} given (numpy raises ValueError too); "
            "give one array per comma-separated term"
        )


def _einsum_repeated(operands: tuple[Any, ...]) -> None:
    """numpy's ValueError where a label repeated in one operand's subscripts (``"ii->i"``) names
    axes of different lengths: JAX took the diagonal of the leading square block of a (1, 3)
    operand and returned numbers."""
    terms = operands[0].partition("->")[0].replace(" ", "").split(",")
    for k, (term, x) in enumerate(zip(terms, operands[1:], strict=False)):
        left, dots, right = term.partition("...")
        labels = left + right
        if len(set(labels)) == len(labels) or not hasattr(x, "shape"):
            continue
        shape = tuple(x.shape)
        start = len(shape) - len(right) if dots else len(left)
        where = list(enumerate(left)) + [(start + i, c) for i, c in enumerate(right)]
        if max((i for i, _ in where), default=-1) >= len(shape):
            continue  # too few dimensions: the backend's own error
        seen: dict[str, int] = {}
        for i, c in where:
            if seen.setdefault(c, shape[i]) != shape[i]:
                raise ValueError(
                    f"mnp.einsum: dimensions in operand {k} for collapsing index {c!r} don't match "
                    f"({seen[c]} != {shape[i]}), as numpy raises; a repeated label takes a diagonal of equal-length axes"
                )


# NOTE [einsum's dtype]: numpy's ``einsum(..., dtype=d)`` casts each operand to ``d`` under
# ``casting=`` ("safe" by default: float64 operands and ``dtype=float32`` raise) and computes in
# ``d``. torch's implementation ignored an integer ``dtype=`` (float64 results) and JAX's
# einsum has no ``dtype=`` (a TypeError): the operands are checked and cast here, once for
# every backend, so the result is in ``d`` everywhere.


def _einsum_cast(arrays: Sequence[Any], dtype: Any, casting: str) -> list[Any]:
    from ._creation import canonical_dtype_name

    to = canonical_dtype_name(dtype, "mnp.einsum")
    out = []
    for i, a in enumerate(arrays):
        a = a if hasattr(a, "dtype") else np.asarray(a)
        src = dtype_name(a)
        if not np.can_cast(src, to, casting=casting):  # type: ignore[arg-type]
            raise TypeError(
                f"mnp.einsum: operand {i} of dtype {src} cannot be cast to dtype={to} under casting={casting!r} "
                "(as in numpy); give casting='unsafe' or cast the operand yourself"
            )
        out.append(_m().astype(a, to) if src != to else a)
    return out


def _interleaved_to_subscripts(operands: tuple[Any, ...]) -> tuple[Any, ...]:
    def letters(sub: Any) -> str:
        out = []
        for s in sub:
            if s is Ellipsis:
                out.append("...")
            elif isinstance(s, (int, np.integer)) and 0 <= int(s) < len(_LETTERS):
                out.append(_LETTERS[int(s)])
            else:
                raise ValueError(
                    f"mnp.einsum: a sublist holds integers in [0, 52) or Ellipsis, got {s!r}; "
                    "or pass the subscripts as a string"
                )
        return "".join(out)

    arrays, subs = list(operands[0::2]), list(operands[1::2])
    out = ""
    if len(operands) % 2 == 1:  # the last one is the output's sublist
        out = "->" + letters(arrays.pop())
    return (",".join(letters(s) for s in subs) + out, *arrays)


def trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> Any:
    """Integral by the trapezoidal rule along an axis."""
    mnp = _m()
    y = _arr(y)
    _axis_args.axes("mnp.trapezoid", axis, _ndim(y), tuples=False, bools=True)  # numpy's AxisError, named
    n = y.shape[axis]
    # integer index arrays: an empty list (n <= 1) would be read as float indices
    first, rest = np.arange(max(n - 1, 0), dtype=np.intp), np.arange(1, max(n, 1), dtype=np.intp)
    lo, hi = mnp.take(y, first, axis=axis), mnp.take(y, rest, axis=axis)
    d = dx if x is None else mnp.diff(_arr(x), axis=axis if _ndim(x) > 1 else -1)
    if x is not None and _ndim(x) == 1 and _ndim(y) > 1:
        shape = [1] * _ndim(y)
        shape[axis] = n - 1
        d = mnp.reshape(d, shape)
    # mnp.divide, not ``/``: torch's operator divides integers into float32, numpy's into float64
    return mnp.sum(mnp.divide(mnp.multiply(d, mnp.add(lo, hi)), 2.0), axis=axis)


def cov(
    m: Any,
    y: Any = None,
    rowvar: bool = True,
    bias: bool = False,
    ddof: int | None = None,
    fweights: Any = None,
    aweights: Any = None,
    *,
    dtype: Any = None,
) -> Any:
    """Covariance matrix of variables in rows (columns with ``rowvar=False``), with numpy's
    frequency and analytic weights; no degrees of freedom left gives inf or nan, as in numpy."""
    mnp = _m()
    x = mnp.atleast_2d(_arr(m))
    x = cast_as_numpy(x, result_type_name(dtype_name(x), "float64"))  # numpy: at least float64
    if not rowvar and _ndim(m) != 1:  # numpy 2.2's rule: a (1, n) array of n variables too
        x = mnp.transpose(x)
    if y is not None:
        yy = mnp.atleast_2d(_arr(y))
        if not rowvar and yy.shape[0] != 1:
            yy = mnp.transpose(yy)
        x = mnp.concatenate([x, yy], axis=0)
    if dtype is not None:
        x = mnp.astype(x, dtype)
    n = x.shape[1]
    if ddof is not None and ddof != int(ddof):  # numpy's check: 2.0 passes, 0.5 raises
        raise ValueError(f"mnp.cov: ddof must be an integer (as in numpy), got {ddof!r}")
    dd = ddof if ddof is not None else (0 if bias else 1)
    # numpy converts the weights to float64: integer weights divided by their integer sums with
    # `/` gave torch's float32 (cov with int32 aweights was off in the 8th digit on torch)
    w = None if fweights is None else mnp.astype(mnp.ravel(_arr(fweights)), "float64")
    if aweights is not None:
        aw = mnp.astype(mnp.ravel(_arr(aweights)), "float64")
        w = aw if w is None else mnp.multiply(w, aw)
    if w is None:
        c = x - mnp.mean(x, axis=1, keepdims=True)
        out = mnp.matmul(c, _adjoint(c)) / max(n - dd, 0)  # numpy: a factor below 0 is 0
    else:
        v1 = mnp.sum(w)
        c = x - mnp.sum(mnp.multiply(x, w), axis=1, keepdims=True) / v1
        if dd == 0:
            fact = v1
        elif aweights is None:
            fact = v1 - dd
        else:
            fact = v1 - dd * mnp.sum(mnp.multiply(w, aw)) / v1
        fact = mnp.where(mnp.greater(fact, 0), fact, 0.0)
        out = mnp.matmul(c, _adjoint(mnp.multiply(c, w))) / fact
    return mnp.squeeze(out) if out.shape == (1, 1) else out


def _adjoint(c: Any) -> Any:
    """``c.T``, conjugated where complex, as numpy's ``cov`` takes it."""
    mnp = _m()
    return mnp.transpose(mnp.conj(c) if dtype_name(c).startswith("complex") else c)


def corrcoef(x: Any, y: Any = None, rowvar: bool = True, *, dtype: Any = None) -> Any:
    """Correlation coefficients (computed in ``dtype`` if given), clipped to ``[-1, 1]`` as in
    numpy, where rounding could put them just outside."""
    mnp = _m()
    c = cov(x, y, rowvar, dtype=dtype)
    if _ndim(c) == 0:
        return c / c
    d = mnp.sqrt(mnp.diagonal(c))
    return mnp.clip(c / mnp.reshape(d, (-1, 1)) / mnp.reshape(d, (1, -1)), -1, 1)


def _nan_fill(name: str, a: Any, axis: Any, fill: float) -> Any:
    mnp = _m()
    _zerod.check(name, a, axis)
    x = _arr(a)
    return mnp.where(mnp.isnan(x), fill, x) if inexact(x) else x  # integers hold no nan


@errors_named("nansum")
def nansum(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: None = None,
    keepdims: bool = False,
    initial: Any = np._NoValue,
    where: Any = True,
) -> Any:
    """Sum, treating nan as 0."""
    x = _nan_fill("nansum", a, axis, 0.0)
    return _m().sum(x, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **_initial_where(initial, where))


@errors_named("nanprod")
def nanprod(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: None = None,
    keepdims: bool = False,
    initial: Any = np._NoValue,
    where: Any = True,
) -> Any:
    """Product, treating nan as 1."""
    x = _nan_fill("nanprod", a, axis, 1.0)
    return _m().prod(x, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **_initial_where(initial, where))


def _initial_where(initial: Any, where: Any) -> dict[str, Any]:
    """numpy's ``initial=`` and ``where=`` of a reduction, where given."""
    kwargs: dict[str, Any] = {} if initial is np._NoValue else {"initial": initial}
    if where is not True:
        kwargs["where"] = where
    return kwargs


@errors_named("nancumsum")
def nancumsum(a: Any, axis: Any = None, dtype: Any = None, out: None = None) -> Any:
    """Cumulative sum, treating nan as 0."""
    return _m().cumsum(_nan_fill("nancumsum", a, axis, 0.0), axis=axis, dtype=dtype, out=out)


@errors_named("nancumprod")
def nancumprod(a: Any, axis: Any = None, dtype: Any = None, out: None = None) -> Any:
    """Cumulative product, treating nan as 1."""
    return _m().cumprod(_nan_fill("nancumprod", a, axis, 1.0), axis=axis, dtype=dtype, out=out)


@errors_named("nanmax")
def nanmax(
    a: Any, axis: Any = None, out: None = None, keepdims: bool = False, initial: Any = np._NoValue, where: Any = True
) -> Any:
    """Maximum, ignoring nan (nan where all values are nan and no ``initial`` is given, as in numpy)."""
    return _nan_extremum("nanmax", a, axis, out, keepdims, -np.inf, _initial_where(initial, where))


@errors_named("nanmin")
def nanmin(
    a: Any, axis: Any = None, out: None = None, keepdims: bool = False, initial: Any = np._NoValue, where: Any = True
) -> Any:
    """Minimum, ignoring nan (nan where all values are nan and no ``initial`` is given, as in numpy)."""
    return _nan_extremum("nanmin", a, axis, out, keepdims, np.inf, _initial_where(initial, where))


def _nan_extremum(name: str, a: Any, axis: Any, out: None, keepdims: bool, fill: float, kwargs: dict[str, Any]) -> Any:
    mnp = _m()
    x = _nan_fill(name, a, axis, fill)
    initial = kwargs.get("initial")
    nan_initial = isinstance(initial, (float, np.floating)) and initial != initial
    if nan_initial and inexact(x):
        # NOTE [A NaN initial of nanmax]: numpy's fmax.reduce skips a NaN initial as it skips
        # NaN values (nanmax([1, 3, 2], initial=nan) is 3); as max's initial it won (nan)
        kwargs = {**kwargs, "initial": fill}
    found = getattr(mnp, name[3:])(x, axis=axis, out=out, keepdims=keepdims, **kwargs)
    if not inexact(x) or ("initial" in kwargs and not nan_initial):  # a slice of nan alone gives initial
        return found
    nans = mnp.isnan(_arr(a))
    if "where" in kwargs:  # where= leaves out values; a slice without values gives the NaN initial
        nans = mnp.logical_or(nans, mnp.logical_not(kwargs["where"]))
    none = mnp.all(nans, axis=axis, keepdims=keepdims)
    warn_where(none, "All-NaN slice encountered")  # NOTE [Warnings of empty slices]
    return mnp.where(none, np.nan, found)


@errors_named("nanmean")
def nanmean(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: None = None,
    keepdims: bool = False,
    *,
    where: Any = True,
) -> Any:
    """Mean, ignoring nan; over the elements where ``where`` holds if given."""
    mnp = _m()
    _zerod.check("nanmean", a, axis)
    x = _arr(a)
    masked = _initial_where(np._NoValue, where)
    if not inexact(x):
        return mnp.mean(x, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **masked)
    if dtype is not None:
        if not np.issubdtype(np.dtype(dtype), np.inexact):
            raise TypeError(
                "mnp.nanmean: the input is floating point, and numpy requires a float dtype= for its "
                f"mean (got {np.dtype(dtype).name}); give a float dtype"
            )
        x = mnp.astype(x, dtype)
    if out is not None:
        raise NotImplementedError("mnp.nanmean: out= is not supported; use the returned array")
    counted = mnp.logical_not(mnp.isnan(x))
    if where is not True:
        counted = mnp.logical_and(counted, where)
    count = mnp.sum(counted, axis=axis, keepdims=keepdims, dtype=dtype_name(x))
    empty = count == 0
    warn_where(empty, "Mean of empty slice")  # NOTE [Warnings of empty slices]
    return mnp.divide(nansum(x, axis=axis, keepdims=keepdims, **masked), mnp.where(empty, np.nan, count))


@errors_named("nanvar")
def nanvar(
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
    """Variance, ignoring nan (nan where fewer than ``ddof + 1`` values remain, as in numpy);
    ``mean`` and ``correction`` as for ``var``."""
    v = _variance(
        "nanvar", a, axis, dtype, out, _ddof("nanvar", ddof, correction), keepdims, where, mean, skip_nan=True
    )
    return in_complex_dtype(v, dtype)


@errors_named("nanstd")
def nanstd(
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
    """Standard deviation, ignoring nan (derivative 0 where all values are equal);
    ``mean`` and ``correction`` as for ``var``."""
    v = _variance(
        "nanstd", a, axis, dtype, out, _ddof("nanstd", ddof, correction), keepdims, where, mean, skip_nan=True
    )
    return in_complex_dtype(_safe_sqrt(v), dtype)


def polyval(p: Any, x: Any) -> Any:
    """Polynomial with coefficients ``p`` (highest power first) at ``x``."""
    mnp = _m()
    from ._composite import cast_as_numpy, dtype_name, result_type_name

    if isinstance(x, np.poly1d):
        raise TypeError("mnp.polyval: x as a numpy.poly1d (composing polynomials) is not supported; use numpy.polyval")
    if isinstance(p, np.poly1d):  # numpy reads a poly1d as its coefficients
        p = p.coeffs
    coeffs = list(p) if isinstance(p, (list, tuple)) else [p[i] for i in range(p.shape[0])]
    out = mnp.zeros_like(_arr(x)) if hasattr(_arr(x), "shape") else 0.0
    if not coeffs:
        return out
    # numpy's dtype: p and x as arrays (a list of floats is float64, whatever x's float dtype),
    # computed in it from the start
    wanted = result_type_name(dtype_name(_arr(p)), dtype_name(_arr(x)))
    x = cast_as_numpy(_arr(x), wanted)
    try:  # numpy's ValueError, named (the frameworks' operators raised their own errors)
        np.broadcast_shapes(tuple(np.shape(x)), *(tuple(np.shape(c)) for c in coeffs))
    except ValueError:
        raise ValueError(
            f"mnp.polyval: operands could not be broadcast together: x of shape {tuple(np.shape(x))} and "
            f"coefficients of shape {tuple(np.shape(coeffs[0]))} (as in numpy); the coefficients' trailing "
            "axes must broadcast against x"
        ) from None
    out = mnp.zeros_like(x)
    if wanted in ("uint16", "uint32", "uint64"):
        # torch has no kernels of these (its operators raise a bare NotImplementedError): mnp's
        # functions compute them as NOTE [Wide unsigned integers on torch] says
        for c in coeffs:
            out = mnp.add(mnp.multiply(out, x), c)
        return out
    for c in coeffs:
        out = out * x + c
    return out


def vander(x: Any, N: int | None = None, increasing: bool = False) -> Any:
    """Vandermonde matrix (powers of ``x`` as columns)."""
    mnp = _m()
    v = _arr(x)
    v = cast_as_numpy(v, result_type_name(dtype_name(v), "int64"))  # numpy's dtype (promote_types)
    n = v.shape[0] if N is None else N
    powers = list(range(n)) if increasing else list(range(n - 1, -1, -1))
    if not powers:  # N=0: no columns
        return mnp.reshape(v, (-1, 1))[:, :0]
    return mnp.stack([mnp.ones_like(v) if k == 0 else v**k for k in powers], axis=1)


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Any:
    """Elements from the first choice whose condition holds."""
    mnp = _m()
    out = default
    for c, v in reversed(list(zip(condlist, choicelist, strict=True))):
        out = mnp.where(c, v, out)
    return out


@errors_named("divmod")
def divmod(x1: Any, x2: Any, /) -> tuple[Any, Any]:  # noqa: A001 - numpy's name
    """Floor division and remainder."""
    mnp = _m()
    return mnp.floor_divide(x1, x2), mnp.mod(x1, x2)


@errors_named("modf")
def modf(x: Any, /) -> tuple[Any, Any]:
    """Fractional and integral parts."""
    mnp = _m()
    x = _arr(x)
    if not inexact(x):
        from ._composite import default_float

        x = cast_as_numpy(x, numpy_result("modf", x))
        if not inexact(x):  # JAX's integers and booleans: its default float (jax.numpy's own)
            x = default_float(x)
    # numpy's fraction of an infinity is a zero of its sign (inf - inf would be nan), and every
    # fraction has the sign of x, a zero one too (modf(-4.0) is (-0.0, -4.0)): x - trunc(x) is
    # +0.0 there, -(trunc(x) - x) the zero of x's sign; both have derivative 1
    inf = mnp.isinf(x)
    finite = mnp.where(inf, 0.0, x)
    whole = mnp.trunc(finite)
    frac = mnp.where(mnp.signbit(x), mnp.negative(mnp.subtract(whole, finite)), mnp.subtract(finite, whole))
    return mnp.where(inf, mnp.copysign(0.0, x), frac), mnp.trunc(x)


@errors_named("ldexp")
def ldexp(x1: Any, x2: Any, /) -> Any:
    """``x1 * 2**x2``, exact where numpy's is, also where ``2**x2`` alone overflows or underflows."""
    # NOTE [ldexp in steps]: x1 * exp2(x2) overflowed or underflowed in the factor where the
    # result does not (ldexp(0.5, 1024) gave inf for numpy's 2**1023; ldexp(5e-324, 1074) inf for
    # 1.0; ldexp(1.8e308, -2045) 0 for 4.5e-308). The scale goes in four factors that are powers
    # of two well inside the range: two bring x1 to about 1 (from its exponent e, rounded
    # either way), two bring it to 2**(e + x2), whose exponent is clipped where every result
    # overflows or underflows anyway. Each intermediate is a normal number, so only the last
    # product rounds, as numpy's. The factors do not depend on x1's derivative (floor has none):
    # the derivative is 2**x2. On JAX the factors come from jax.numpy's ldexp of 1.0 (XLA's
    # exp2 of an integer is not always the power of two exactly), and jax.numpy's own ldexp is
    # not used for x1 itself: it returns subnormal x1 unchanged (ldexp(1e-38f, 200) gave 1e-38).
    _complex.check("ldexp", (x1, x2))  # NOTE [Ufuncs without complex loops]
    mnp = _m()
    n = mnp.astype(_arr(x2), "float64") if not isinstance(x2, int) else float(x2)
    x = mnp.multiply(x1, mnp.exp2(mnp.multiply(n, 0.0)))  # x1 in the dtype of the computation
    on_jax = _dispatch.like(x) == "jax"
    big = 1100.0 if dtype_name(x) == "float64" else 160.0  # beyond float64's (float32's) exponents
    mag = mnp.abs(x)
    e = mnp.floor(mnp.log2(mnp.where(mnp.logical_and(mnp.isfinite(mag), mag > 0), mag, 1.0)))
    k = mnp.clip(e + mnp.clip(n, -4 * big, 4 * big), -big, big)
    half_e, half_k = mnp.floor(-e / 2), mnp.floor(k / 2)
    for power in (half_e, -e - half_e, half_k, k - half_k):
        x = mnp.multiply(x, _power_of_two(power, x) if on_jax else mnp.exp2(power))
    if on_jax and (isinstance(x2, int) or dtype_name(_arr(x2)).startswith(("int", "uint"))):
        import jax
        import jax.numpy as jnp

        return mnp.astype(x, jax.eval_shape(jnp.ldexp, x1, x2).dtype)  # jax.numpy's result dtype
    return as_numpy_result("ldexp", x, _arr(x1), _arr(x2))


def _power_of_two(power: Any, like: Any) -> Any:
    """``2**power`` exactly, for integer-valued JAX ``power`` within the normal exponents."""
    import jax.numpy as jnp

    one = jnp.ones_like(like)
    return jnp.ldexp(one, jnp.astype(power, jnp.int32))


def unstack(x: Any, /, *, axis: int = 0) -> tuple[Any, ...]:
    """The slices along an axis, as a tuple."""
    mnp = _m()
    x = _arr(x)
    nd = _ndim(x)
    if nd == 0:
        raise ValueError("mnp.unstack: Input array must be at least 1-d.")
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(f"mnp.unstack: axis {axis} is out of bounds for array of dimension {nd}")
    return tuple(mnp.take(x, i, axis=axis) for i in range(x.shape[axis]))


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """Dot product of vectors along ``axis`` of each argument, the other axes broadcasting."""
    mnp = _m()
    # NOTE [vecdot's axis]: numpy's vecdot is the gufunc (n),(n)->(): ``axis`` names the vector
    # axis of each argument in its own shape, and only the remaining axes broadcast. Summing
    # the broadcast product over ``axis`` reads another axis wherever the ranks differ (x1 of
    # shape (2, 2, 2) and x2 of shape (2, 2) at axis=0 summed x1's first axis against x2's
    # broadcast copies), so each vector axis moves last before the product.
    x1, x2 = _arr(x1), _arr(x2)
    core_ndims("vecdot", "(n),(n)->()", (x1, x2), (1, 1))
    if _ndim(x1) and _ndim(x2):
        x1, x2 = mnp.moveaxis(x1, _vector_axis(axis, x1), -1), mnp.moveaxis(x2, _vector_axis(axis, x2), -1)
        if x1.shape[-1] != x2.shape[-1]:  # numpy's core dimensions do not broadcast
            raise ValueError(
                f"mnp.vecdot: the vectors along axis {axis} have lengths {x1.shape[-1]} and"
                f" {x2.shape[-1]}; they must be equal (a length of 1 does not broadcast)"
            )
    if dtype_name(x1).startswith("complex"):  # numpy's vecdot conjugates its first argument
        x1 = mnp.conj(x1)
    p = mnp.multiply(x1, x2)
    return mnp.sum(p, axis=-1, dtype=dtype_name(p))  # numpy's dot keeps the product's dtype


def _vector_axis(axis: Any, x: Any) -> int:
    """``axis`` of ``x`` counted from 0 (numpy's check, in Python that torch.compile traces)."""
    nd, axis = _ndim(x), operator.index(axis)
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(f"mnp.vecdot: axis {axis} is out of bounds for array of dimension {nd}")
    return int(axis % nd)


def core_ndims(name: str, signature: str, operands: tuple[Any, ...], least: tuple[int, ...]) -> None:
    """numpy's ValueError where an operand of the gufunc ``name`` has fewer dimensions than its
    core ones (NOTE [Core dimensions of vecdot, matvec and vecmat])."""
    # NOTE [Core dimensions of vecdot, matvec and vecmat]
    # numpy's vecdot, matvec and vecmat are gufuncs, (n),(n)->(), (m,n),(n)->(m) and
    # (n),(n,m)->(m): an operand with fewer dimensions than its core ones is refused, not
    # broadcast. Written from multiply, sum and matmul, they accepted them: matvec of two
    # vectors was their inner product, vecdot of a 0-d array and a vector the scaled sum.
    for k, (x, want) in enumerate(zip(operands, least, strict=True)):
        if _ndim(x) < want:
            raise ValueError(
                f"mnp.{name}: Input operand {k} does not have enough dimensions (has {_ndim(x)}, gufunc core "
                f"with signature {signature} requires {want}), as numpy raises"
            )


def matvec(x1: Any, x2: Any, /) -> Any:
    """Matrix-vector product (broadcasting)."""
    mnp = _m()
    x1, x2 = _arr(x1), _arr(x2)
    core_ndims("matvec", "(m,n),(n)->(m)", (x1, x2), (2, 1))
    return mnp.squeeze(mnp.matmul(x1, mnp.expand_dims(_arr(x2), -1)), axis=-1)


def vecmat(x1: Any, x2: Any, /) -> Any:
    """Vector-matrix product (broadcasting), conjugating complex vectors as numpy's."""
    mnp = _m()
    x1, x2 = _arr(x1), _arr(x2)
    core_ndims("vecmat", "(n),(n,m)->(m)", (x1, x2), (1, 2))
    if dtype_name(_arr(x1)).startswith("complex"):  # numpy's vecmat conjugates x1, as vecdot does
        x1 = mnp.conj(x1)
    return mnp.squeeze(mnp.matmul(mnp.expand_dims(_arr(x1), -2), x2), axis=-2)


def least_ndim(split: Any, ndim: int) -> Any:
    """``split`` (``vsplit``, ``hsplit``, ``dsplit``) raising numpy's ``ValueError`` for arrays
    of fewer than ``ndim`` dimensions, which torch and JAX split along another axis instead."""
    name = split.__name__

    def checked(ary: Any, indices_or_sections: Any) -> Any:
        if _ndim(ary) < ndim:
            raise ValueError(f"mnp.{name}: {name} only works on arrays of {ndim} or more dimensions")
        return split(ary, indices_or_sections)

    checked.__name__ = checked.__qualname__ = name
    checked.__doc__ = split.__doc__
    checked.__module__ = split.__module__
    return checked


def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    """Moves ``axis`` to before position ``start`` (prefer ``moveaxis``)."""
    mnp = _m()
    x = _arr(a)
    n = _ndim(x)
    if not -n <= axis < n:  # numpy's checks: a wrapped axis or start moved the wrong axis
        raise np.exceptions.AxisError(f"mnp.rollaxis: axis {axis} is out of bounds for array of dimension {n}")
    if not -n <= start <= n:
        raise np.exceptions.AxisError(
            f"mnp.rollaxis: 'start' arg requires {-n} <= start < {n + 1}, but {start} was passed in"
        )
    axis, start = axis % n, start + n if start < 0 else start
    if start > axis:
        start -= 1
    return mnp.moveaxis(x, axis, start)


def matrix_transpose(x: Any, /) -> Any:
    """Swaps the last two axes."""
    return _m().swapaxes(x, -1, -2)


def permute_dims(a: Any, /, axes: Any = None) -> Any:
    """Permutes axes (numpy's array-API name for ``transpose``)."""
    return _m().transpose(a, axes)


@errors_named("isposinf")
def isposinf(x: Any, out: None = None) -> Any:
    """Test for +inf."""
    no_out("isposinf", out)
    mnp = _m()
    return mnp.logical_and(mnp.isinf(x), mnp.logical_not(mnp.signbit(x)))


@errors_named("isneginf")
def isneginf(x: Any, out: None = None) -> Any:
    """Test for -inf."""
    no_out("isneginf", out)
    mnp = _m()
    return mnp.logical_and(mnp.isinf(x), mnp.signbit(x))


def cumulative_sum(
    x: Any, /, *, axis: int | None = None, dtype: Any = None, out: None = None, include_initial: bool = False
) -> Any:
    """Cumulative sum (numpy 2's array-API form, optionally starting with 0)."""
    no_out("cumulative_sum", out)
    return _cumulative("cumsum", 0.0, x, axis, include_initial, dtype)


def cumulative_prod(
    x: Any, /, *, axis: int | None = None, dtype: Any = None, out: None = None, include_initial: bool = False
) -> Any:
    """Cumulative product (numpy 2's array-API form, optionally starting with 1)."""
    no_out("cumulative_prod", out)
    return _cumulative("cumprod", 1.0, x, axis, include_initial, dtype)


def _cumulative(name: str, initial: float, x: Any, axis: int | None, include_initial: bool, dtype: Any) -> Any:
    from ._composite import dtype_name

    mnp = _m()
    x = _arr(x)
    if _ndim(x) == 0:  # numpy's: a 0-d array counts as one of one element
        x = mnp.reshape(x, (1,))
    if axis is None:
        if _ndim(x) != 1:
            raise ValueError(f"mnp.cumulative_{name[3:]}: axis must be given for arrays of more than one axis")
        axis = 0
    out = getattr(mnp, name)(x, axis=axis, **({} if dtype is None else {"dtype": dtype}))
    if not include_initial:
        return out
    # the initial value, shaped like one slice along axis (also of an empty axis) in out's dtype
    first = mnp.full_like(mnp.sum(out, axis=axis, keepdims=True, dtype=dtype_name(out)), initial)
    return mnp.concatenate([first, out], axis=axis)


def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    """Differences of the flattened array, with optional values at the ends: in the dtype of
    ``ary``, as in numpy (``to_begin`` and ``to_end`` are cast to it, where numpy's same_kind
    rule allows)."""
    from ._composite import dtype_name

    mnp = _m()
    flat = mnp.ravel(ary)
    want = dtype_name(flat)
    if want == "bool":
        raise TypeError("mnp.ediff1d: booleans have no differences (as in numpy); convert ary to an integer dtype")
    begin = None if to_begin is None else _ends("to_begin", to_begin, want)
    end = None if to_end is None else _ends("to_end", to_end, want)
    d = mnp.diff(flat)
    parts = [p for p in (begin, d, end) if p is not None]
    return mnp.concatenate(parts) if len(parts) > 1 else d


_NUMPY_DTYPES = frozenset(np.dtype(c).name for c in "?bhilqBHILQefd")


def _ends(name: str, ends: Any, want: str) -> Any:
    """``to_begin`` or ``to_end`` of ``ediff1d``, flat, in ``ary``'s dtype ``want``."""
    from ._composite import cast_as_numpy, dtype_name

    ends = _arr(ends)
    have = dtype_name(np.asarray(ends) if isinstance(ends, (int, float, bool)) else ends)
    if want in _NUMPY_DTYPES and have in _NUMPY_DTYPES and not np.can_cast(have, want, casting="same_kind"):
        raise TypeError(
            f"mnp.ediff1d: dtype of `{name}` ({have}) must be compatible with input `ary` ({want}) under the "
            "`same_kind` rule (as in numpy); convert ary to a float dtype or give integer ends"
        )
    return cast_as_numpy(_m().ravel(ends), want)


def logspace(
    start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: float = 10.0, dtype: Any = None, axis: int = 0
) -> Any:
    """``base ** linspace(start, stop)``; an array ``base`` broadcasts with ``start`` and
    ``stop`` as in numpy (its values along a new axis ``axis`` of the result)."""
    mnp = _m()
    if not isinstance(base, (float, int)) and _ndim(base):
        base = _arr(base)
        lib = _dispatch.like(start, stop, base, call="mnp.logspace")
        nd = max(_ndim(start), _ndim(stop), _ndim(base))
        start, stop, base = (_least_ndim_array(lib, v, nd) for v in (start, stop, base))
        base = mnp.expand_dims(base, axis)
    out = mnp.power(base, mnp.linspace(start, stop, num, endpoint=endpoint, axis=axis))
    return out if dtype is None else mnp.astype(out, dtype)


def _least_ndim_array(lib: str, v: Any, nd: int) -> Any:
    """``v`` as an array (of ``lib`` if a number or list) with at least ``nd`` axes, leading
    ones added (numpy's ``array(v, ndmin=nd)``)."""
    shape = tuple(np.shape(v)) if not hasattr(v, "shape") else tuple(v.shape)
    if not hasattr(v, "shape"):
        v = _dispatch.to_array(lib, v if isinstance(v, (list, tuple)) else [v])
    return _m().reshape(v, (1,) * (nd - len(shape)) + shape)


def cond(x: Any, p: Any = None) -> Any:
    """Condition number: the ratio of extreme singular values for ``p`` None, 2 or -2, and
    ``norm(x, p) * norm(inv(x), p)`` for numpy's other orders (1, -1, inf, -inf, "fro", "nuc")."""
    mnp = _m()
    if p not in (None, 2, -2, 1, -1, np.inf, -np.inf, "fro", "nuc"):
        raise ValueError(
            f"mnp.linalg.cond: invalid norm order {p!r} (numpy's: None, 1, -1, 2, -2, inf, -inf, 'fro', 'nuc')"
        )
    x = _arr(x)
    if 0 in tuple(x.shape[-2:]):
        raise np.linalg.LinAlgError("multiad.numpy.linalg.cond: cond is not defined on empty arrays")
    if p not in (None, 2, -2) and (_ndim(x) < 2 or x.shape[-1] != x.shape[-2]):
        # the inverse needs a square matrix (inv's LinAlgError read as singular gave inf)
        raise np.linalg.LinAlgError(
            f"mnp.linalg.cond: order {p!r} needs square matrices in the last two axes, got shape"
            f" {tuple(x.shape)}; orders None, 2 and -2 take non-square matrices"
        )
    if p in (None, 2, -2):
        s = mnp.linalg.svd(x, compute_uv=False)
        big, small = mnp.max(s, axis=-1), mnp.min(s, axis=-1)
        r = big / small if p != -2 else small / big
    else:
        r = _cond_by_inverse(x, p)
    # numpy's: nan from a matrix without nan (0 / 0 at the zero matrix, inf / inf) is inf
    return mnp.where(mnp.isnan(r) & ~mnp.any(mnp.isnan(x), axis=(-2, -1)), mnp.inf, r)


def _cond_by_inverse(x: Any, p: Any) -> Any:
    """``norm(x, p) * norm(inv(x), p)``; inf for a singular matrix, as numpy's (whose inverse
    holds inf or nan there, where mnp.linalg.inv raises LinAlgError).

    NOTE [cond at a singular matrix]: the inf made for a singular matrix is a constant, and its
    derivative was 0 on every exact backend (``grad`` of ``cond(a, 1)`` at ``[[1, 2], [2, 4]]``),
    a number where the function has none (orders None and 2 give ``nan`` there). As for
    ``slogdet`` (NOTE [slogdet at a singular matrix]), a differentiated singular matrix raises
    numpy's LinAlgError instead; the numpy backend's finite differences warn.
    """
    mnp = _m()
    try:
        return mnp.linalg.norm(x, p, axis=(-2, -1)) * mnp.linalg.norm(mnp.linalg.inv(x), p, axis=(-2, -1))
    except np.linalg.LinAlgError:
        if _ndim(x) == 2 and _singular.differentiated(x):  # NOTE [cond at a singular matrix]
            raise np.linalg.LinAlgError(
                f"multiad.numpy.linalg.cond: the matrix is singular (cond(x, {p!r}) is inf), where cond has no "
                "derivative; keep the matrix away from singular ones"
            ) from None
        if _ndim(x) == 2:  # numpy's: nan for a matrix holding nan (its inverse is nan there)
            return mnp.where(mnp.any(mnp.isnan(x)), np.nan, mnp.full_like(mnp.linalg.norm(x, p), np.inf))
    batch = tuple(x.shape[:-2])  # a stack holding a singular matrix: one by one
    flat = mnp.reshape(x, (-1, *tuple(x.shape[-2:])))
    return mnp.reshape(mnp.stack([_cond_by_inverse(flat[i], p) for i in range(flat.shape[0])]), batch)


def svdvals(x: Any, /) -> Any:
    """Singular values."""
    return _m().linalg.svd(x, compute_uv=False)


def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Any:  # noqa: A002
    """Vector norm over ``axis`` (all axes, flattened, by default)."""
    mnp = _m()
    x = _arr(x)
    if isinstance(ord, str):  # numpy's words, naming this call rather than linalg.norm
        raise ValueError(f"mnp.linalg.vector_norm: invalid norm order {ord!r} for vectors")
    if axis is None:
        out = mnp.linalg.norm(mnp.ravel(x), ord=ord)
        return mnp.reshape(out, (1,) * _ndim(x)) if keepdims else out
    if not isinstance(axis, (tuple, list)):
        return mnp.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    # NOTE [Vector norm over several axes]: linalg.norm reads a pair of axes as a matrix (ord=2
    # is then the largest singular value); vector_norm's tuple is one vector of all the elements
    # in those axes, so they are moved last and merged before the norm over the last axis.
    nd = _ndim(x)
    axes = _normalized("linalg.vector_norm", axis, nd)
    rest = [d for d in range(nd) if d not in axes]
    size = int(np.prod([x.shape[d] for d in axes], dtype=np.int64))
    merged = mnp.reshape(mnp.transpose(x, (*rest, *axes)), (*[x.shape[d] for d in rest], size))
    out = mnp.linalg.norm(merged, ord=ord, axis=-1)
    return mnp.reshape(out, tuple(1 if d in axes else x.shape[d] for d in range(nd))) if keepdims else out


def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Any:  # noqa: A002
    """Matrix norm over the last two axes."""
    return _m().linalg.norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


def traced_replacements(nan_to_num: Any) -> Any:
    """``nan_to_num`` (the dispatching one), taking replacement values that are a framework's
    arrays (values being differentiated) as ``where`` of them: torch's and autograd's own took
    Python numbers only (NOTE [Traced fill values] in ``_creation.py``)."""

    def wrapped(x: Any, copy: bool = True, nan: Any = 0.0, posinf: Any = None, neginf: Any = None) -> Any:
        traced = [_dispatch.like(v, call="mnp.nan_to_num") != "numpy" for v in (nan, posinf, neginf)]
        if not any(traced):
            return nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
        mnp = _m()
        x = _arr(x)
        plain = [None if t else v for v, t in zip((nan, posinf, neginf), traced, strict=True)]
        out = nan_to_num(x, copy=copy, nan=0.0 if plain[0] is None else plain[0], posinf=plain[1], neginf=plain[2])
        if not inexact(x):  # numpy: integers and booleans come back unchanged
            return out
        for value, is_traced, mask in zip(
            (nan, posinf, neginf), traced, (mnp.isnan, mnp.isposinf, mnp.isneginf), strict=True
        ):
            if is_traced:
                out = mnp.where(mask(x), mnp.astype(value, dtype_name(out)), out)
        return out

    wrapped.__name__ = wrapped.__qualname__ = "nan_to_num"
    wrapped.__doc__ = nan_to_num.__doc__
    return wrapped
