"""Helpers shared by the per-framework corrections (power's conventions, stop_gradient, checks)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from ._composite import strong

Fn = Callable[..., Any]


def _np(lib: str) -> Any:
    from ._dispatch import _module

    return _module(lib)


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
        # Constant operands checked by their own method (np.all() is a Python wrapper around it);
        # multiad.numpy imported only where it is used, not on every call.
        if _is_zero_scalar(x2):
            from .. import numpy as mnp

            return mnp.ones_like(x1) if not _is_zero_scalar(x1) else 1.0
        if isinstance(x2, (int, float)) or (isinstance(x2, np.ndarray) and (x2 != 0).all()):
            return _power_raw(lib, x1, x2)
        if isinstance(x1, (np.ndarray, np.generic)) and (x1 != 0).all():  # a constant base away from 0: no
            return _power_raw(lib, x1, x2)  # derivative in it, and where(x == 0, ...) below selects this
        if type(x1) in (int, float) and x1 != 0:  # a known base away from 0: `where(x == 0, 1.0, x)` is a
            return _power_raw(lib, np.float64(x1), x2)  # float64 (numpy's), without numpy code in a traced graph
        from .. import numpy as mnp

        x, y = x1, x2
        base0 = mnp.equal(x, 0)
        exp0 = mnp.equal(y, 0)
        # On JAX an integer exponent stays integer (a Python 1, weak): 1.0 made a NumPy int32 scalar's
        # float64 array, and the float32 power of `away` came back as float64 holding float32's
        # overflow (JAX's own dtype is float32, which the result keeps).
        fixed_y = mnp.where(exp0, 1 if lib == "jax" else 1.0, mnp.stop_gradient(y))
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
    d1, d2 = getattr(x1, "dtype", None), getattr(x2, "dtype", None)
    if d1 is not None and d2 is not None and np.result_type(d1, d2).kind not in "iu":
        return False  # uint64 with a signed dtype: numpy computes in float64 (2 ** -1 is 0.5)
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


def check_take_along_axis(arr_ndim: int, indices_ndim: int, axis: Any) -> None:
    """numpy's ValueError for indices whose number of axes does not fit (autograd's indexing
    broadcast 1-d indices against a matrix and computed; torch raised RuntimeError)."""
    if axis is None and indices_ndim != 1:
        raise ValueError("mnp.take_along_axis: when axis=None, `indices` must have a single dimension.")
    if axis is not None and indices_ndim != arr_ndim:
        raise ValueError("mnp.take_along_axis: `indices` and `arr` must have the same number of dimensions")


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


def _dtype(x: Any) -> np.dtype[Any]:
    return np.dtype(x.dtype) if hasattr(x, "dtype") else np.asarray(x).dtype


def no_triangle(name: str, ndim: int) -> None:
    """numpy's ``tril``/``triu`` take a 1-d array as the rows of a square matrix and raise
    ``TypeError`` for a 0-d one (torch gave ``[[x]]``, JAX a ValueError): the same error on
    every backend."""
    if ndim == 0:
        raise TypeError(
            f"mnp.{name}: a 0-d array has no triangle (numpy raises TypeError); pass an array of at least one axis"
        )


def _np_triangle(name: str) -> Fn:
    """numpy's tril/triu, with the 0-d error every backend gives (``no_triangle``)."""

    def fn(m: Any, k: int = 0) -> Any:
        no_triangle(name, np.ndim(m))
        return getattr(np, name)(m, k)

    return fn


# NOTE [order= and subok= of the *_like functions]: numpy's ``zeros_like``, ``ones_like``,
# ``empty_like`` and ``full_like`` take ``order`` as ``None`` or one of "C", "F", "A", "K" in
# either case (ValueError otherwise, TypeError for a value that is not a string) and ``subok`` as
# anything ``operator.index`` takes (TypeError otherwise). On torch and JAX the layout and the
# subclass have no meaning (every result is C-ordered, a plain tensor or JAX array), so a valid
# value changes nothing and an invalid one raises numpy's errors (see NOTE [Keywords of the
# *_like functions] in _torch_shape.py).
def check_like_layout(order: Any, subok: Any) -> None:
    """Raises numpy's errors for an invalid ``order=`` or ``subok=`` of a ``*_like`` function."""
    if order is not None:
        if not isinstance(order, str):
            raise TypeError(f"order must be str, not {type(order).__name__}")
        if order.upper() not in ("C", "F", "A", "K"):
            raise ValueError(f"order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")
    operator.index(subok)  # numpy's TypeError: "'NoneType' object cannot be interpreted as an integer"


def like_functions(filled: Callable[[Any, Any, Any, Any, Any], Any]) -> dict[str, Fn]:
    """numpy's ``zeros_like``, ``ones_like``, ``empty_like`` and ``full_like`` with numpy's
    parameters, for a library whose ``filled(a, value, dtype, shape, device)`` makes the result
    (``order`` and ``subok`` checked first: NOTE [order= and subok= of the *_like functions])."""

    def like(name: str, fill: Any) -> Fn:
        def fn(
            a: Any, dtype: Any = None, order: Any = "K", subok: Any = True, shape: Any = None, *, device: Any = None
        ) -> Any:
            check_like_layout(order, subok)
            return filled(a, fill, dtype, shape, device)

        fn.__name__ = fn.__qualname__ = name  # Python's own TypeError for another keyword names it
        return fn

    def full_like(
        a: Any,
        fill_value: Any,
        dtype: Any = None,
        order: Any = "K",
        subok: Any = True,
        shape: Any = None,
        *,
        device: Any = None,
    ) -> Any:
        check_like_layout(order, subok)
        return filled(a, fill_value, dtype, shape, device)

    return {
        "zeros_like": like("zeros_like", 0),
        "ones_like": like("ones_like", 1),
        "empty_like": like("empty_like", 0),
        "full_like": full_like,
    }
