"""Edge-case families: where a backend can be wrong while every ordinary case passes.

- *aliased primals*: the same array passed as two differentiated arguments; each gets its own
  derivative (``grad(lambda a, b: sum(a * b), argnums=(0, 1))(x, x) == (x, x)``), never the
  total derivative twice;
- *pullbacks*: a pullback called twice, and called inside ``vmap``, gives the same result as a
  fresh one each time (nothing accumulates, nothing is consumed);
- *empty and 0-d*: arrays with no elements in or out, and 0-d arguments with vector outputs;
- *conversions*: ``multiad.to_numpy(x)``, ``float(x)``, ``x.item()``, ``x.tolist()`` or
  ``numpy.asarray(x)`` inside ``f`` either raises NonDifferentiableError or keeps the derivative;
  dropping it (a silently wrong derivative) fails the case. ``int(x)`` and ``bool(x)`` are not
  cases: they are steps, whose derivative is zero almost everywhere, so holding the converted
  value constant gives the right derivative;
- *constant outputs*: outputs that do not depend on the arguments have zero derivatives of the
  right shape and dtype (the one place where zeros are right).

Chunked native overrides are ordinary variants with ``chunk_size`` (see ``_suite.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

import multiad
import multiad.numpy as mnp

from . import _cases as v
from . import _trees
from ._cases import Inputs, Variant, _closed, _cotangent, _split, _vjp_ref
from ._fns import Fn, drawn

# -- functions -------------------------------------------------------------------------------


def _sin_a_times_b(a: Any, b: Any) -> Any:
    return mnp.sum(mnp.sin(a) * b)


def _sin_a_times_b_hess(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    n = a.size
    h = np.zeros((2 * n, 2 * n))
    h[:n, :n] = np.diag(-np.sin(a) * b)
    h[:n, n:] = h[n:, :n] = np.diag(np.cos(a))
    return h


def _rect(x: Any, w: Any) -> Any:
    return mnp.matmul(w, mnp.tanh(x))


def _sum_sin(x: Any) -> Any:
    return mnp.sum(mnp.sin(x))


def _sin_xv(x: Any, v: Any) -> Any:
    return mnp.sin(x * v)


def _converts(x: Any) -> Any:
    return mnp.sum(x * mnp.asarray(multiad.to_numpy(x)))


def _numpy_converts(x: Any) -> Any:
    return mnp.sum(x * mnp.asarray(np.asarray(x)))


def _floats(x: Any) -> Any:
    return mnp.sum(x) * float(mnp.sum(x))


def _converted_by(method: str, x: Any) -> Any:
    """``x.method()``; an array type without the method (MyGrad's has no ``tolist``, autograd's
    boxes neither) cannot drop a derivative through it, which the case counts as a refusal."""
    convert = getattr(x, method, None)
    if convert is None:
        raise multiad.NonDifferentiableError(f"{type(x).__name__} has no {method}()")
    return convert()


def _items(x: Any) -> Any:
    return mnp.sum(x) * _converted_by("item", mnp.sum(x))


def _tolists(x: Any) -> Any:
    return mnp.sum(x) * _converted_by("tolist", mnp.sum(x))


def _constant(x: Any, w: Any) -> Any:
    return mnp.tanh(w) * 2.0


def _constant_scalar(x: Any, w: Any) -> Any:
    return mnp.sum(w * w)


def _zero_d(rng: np.random.Generator) -> np.ndarray:
    return np.asarray(0.2 + 0.5 * rng.random())


def _rect_jac(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.asarray(w * (1 - np.tanh(x) ** 2)[None, :])


ALIASED, EMPTY, CONVERSIONS, CONSTANT_OUT = "aliased primals", "empty and 0-d", "conversions", "constant outputs"

ALIAS_SCALAR = Fn(
    "sum_sin_a_times_b",
    ALIASED,
    _sin_a_times_b,
    value=lambda a, b: np.sum(np.sin(a) * b),
    jac=lambda a, b: np.concatenate([np.cos(a) * b, np.sin(a)])[None, :],
    hess=_sin_a_times_b_hess,
    make_args=drawn((3,), (3,)),
)
EMPTY_IN = Fn(
    "w_tanh_x[empty_x]",
    EMPTY,
    _rect,
    value=lambda x, w: w @ np.tanh(x),
    jac=_rect_jac,
    make_args=drawn((0,)),
    make_consts=drawn((3, 0)),
)
EMPTY_OUT = dataclasses.replace(EMPTY_IN, name="w_tanh_x[empty_out]", make_args=drawn((4,)), make_consts=drawn((0, 4)))
EMPTY_SCALAR = Fn(
    "sum_sin[empty_x]",
    EMPTY,
    _sum_sin,
    value=lambda x: np.sum(np.sin(x)),
    jac=lambda x: np.cos(x)[None, :],
    hess=lambda x: np.diag(-np.sin(x)),
    make_args=drawn((0,)),
)
ZERO_D_VECTOR = Fn(
    "sin_x_times_v[0d_x]",
    EMPTY,
    _sin_xv,
    value=lambda x, v: np.sin(x * v),
    jac=lambda x, v: (np.cos(x * v) * v)[:, None],
    make_args=drawn(_zero_d),
    make_consts=drawn((3,)),
)
CONVERTS = Fn(
    "sum_x_times_to_numpy_x",
    CONVERSIONS,
    _converts,
    value=lambda x: np.sum(x * x),
    jac=lambda x: 2 * x[None, :],
    make_args=drawn((3,)),
)
# the same product with numpy's own conversion: the same value and derivative
NUMPY_CONVERTS = dataclasses.replace(CONVERTS, name="sum_x_times_np_asarray_x", f=_numpy_converts)
FLOATS = Fn(
    "sum_x_times_float_sum_x",
    CONVERSIONS,
    _floats,
    value=lambda x: np.sum(x) ** 2,
    jac=lambda x: np.full((1, x.size), 2 * np.sum(x)),
    make_args=drawn((3,)),
)
# the same product through the array's own conversion methods (torch's item() and tolist() of a
# tensor that requires grad return the number without a warning; JAX's item() of a traced value too)
ITEMS = dataclasses.replace(FLOATS, name="sum_x_times_sum_x_item", f=_items)
TOLISTS = dataclasses.replace(FLOATS, name="sum_x_times_sum_x_tolist", f=_tolists)
CONSTANT = Fn(
    "tanh_w[const]",
    CONSTANT_OUT,
    _constant,
    value=lambda x, w: np.tanh(w) * 2.0,
    jac=lambda x, w: np.zeros((w.size, x.size)),
    make_args=drawn((4,)),
    make_consts=drawn((3,)),
)
CONSTANT_SCALAR = Fn(
    "sum_w_sq[const]",
    CONSTANT_OUT,
    _constant_scalar,
    value=lambda x, w: np.sum(w * w),
    jac=lambda x, w: np.zeros((1, x.size)),
    hess=lambda x, w: np.zeros((x.size, x.size)),
    make_args=drawn((4,)),
    make_consts=drawn((3,)),
)
EDGE_FNS = (
    ALIAS_SCALAR, EMPTY_IN, EMPTY_OUT, EMPTY_SCALAR, ZERO_D_VECTOR, CONVERTS, NUMPY_CONVERTS, FLOATS, ITEMS, TOLISTS,
    CONSTANT, CONSTANT_SCALAR,
)  # fmt: skip

#: The derivative a backend reports when the conversion drops it (to_numpy(x) held constant).
CONVERTS_DROPPED = dataclasses.replace(CONVERTS, jac=lambda x: x[None, :])
#: The same for ``float(sum(x))`` held constant: Python's own conversion, which a framework may
#: allow silently on a value that carries a derivative (torch's float() of a tensor that
#: requires grad warns and returns the number; MyGrad's returns it).
FLOATS_DROPPED = dataclasses.replace(FLOATS, jac=lambda x: np.full((1, x.size), np.sum(x)))
#: The same for ``sum(x).item()`` and ``sum(x).tolist()`` held constant.
ITEMS_DROPPED = dataclasses.replace(ITEMS, jac=FLOATS_DROPPED.jac)
TOLISTS_DROPPED = dataclasses.replace(TOLISTS, jac=FLOATS_DROPPED.jac)
#: The same for ``numpy.asarray(x)`` held constant: NumPy converts any array with ``__array__``
#: (TensorFlow's eager tensors, MyGrad's tensors) without asking whether it carries a derivative;
#: torch, JAX and autograd refuse there, so only a plugin's backend can drop it silently.
NUMPY_CONVERTS_DROPPED = dataclasses.replace(NUMPY_CONVERTS, jac=lambda x: x[None, :])

# -- variants --------------------------------------------------------------------------------


def aliased(inner: Variant) -> Variant:
    """``inner`` with the first argument passed again, as the same array, as the second."""

    def build(fn: Fn) -> Callable[..., Any]:
        g = inner.build(fn)
        return lambda x, *rest: g(x, x, *rest)

    def inputs(fn: Fn, rng: np.random.Generator) -> Inputs:
        xs = inner.inputs(fn, rng)
        return (xs[0], *xs[2:])

    def ref(fn: Fn, xs: Inputs) -> Any:
        assert inner.reference is not None
        return inner.reference(fn, (xs[0], xs[0], *xs[1:]))

    return dataclasses.replace(
        inner, name=f"{inner.name}(x, x)", build=build, reference=ref, family="aliased primals", make_inputs=inputs
    )


def _two_cotangents(fn: Fn, args: Inputs, consts: Inputs, rng: np.random.Generator) -> Inputs:
    return _cotangent(fn, args, consts, rng) + _cotangent(fn, args, consts, rng)


def vjp_twice() -> Variant:
    """One pullback called with two cotangents in turn."""

    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            args, consts, (ct1, ct2) = _split(fn, xs)
            _, pullback = multiad.vjp(_closed(fn, consts), *args)
            return pullback(ct1), pullback(ct2)

        return g

    def ref(fn: Fn, xs: Inputs) -> Any:
        args, consts, (ct1, ct2) = _split(fn, xs)
        return _vjp_ref(fn, args, consts, ct1)[1], _vjp_ref(fn, args, consts, ct2)[1]

    return Variant("pullback_twice", "vjp", frozenset({"vjp"}), 1, build, ref, _two_cotangents, "pullbacks")


def vjp_in_vmap(size: int = 3) -> Variant:
    """One pullback mapped over a batch of cotangents with ``vmap``."""

    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            args, consts, (cts,) = _split(fn, xs)
            _, pullback = multiad.vjp(_closed(fn, consts), *args)
            return multiad.vmap(pullback)(cts)

        return g

    def extras(fn: Fn, args: Inputs, consts: Inputs, rng: np.random.Generator) -> Inputs:
        each = [_cotangent(fn, args, consts, rng)[0] for _ in range(size)]
        return (_trees.tree_map(lambda *ys: np.stack(ys), *each),)

    def ref(fn: Fn, xs: Inputs) -> Any:
        args, consts, (cts,) = _split(fn, xs)
        per = [_vjp_ref(fn, args, consts, _trees.tree_map(lambda c, i=i: c[i], cts))[1] for i in range(size)]
        return _trees.tree_map(lambda *ys: np.stack(ys), *per)

    uses = frozenset({"vjp", "vmap"})
    return Variant("vmap(pullback)", "vjp", uses, 1, build, ref, extras, "pullbacks")


def linearize_twice() -> Variant:
    """The function ``linearize`` returns, called with two tangents in turn."""

    def build(fn: Fn) -> Callable[..., Any]:
        def g(*xs: Any) -> Any:
            args, consts, ts = _split(fn, xs)
            _, jvp_fn = multiad.linearize(_closed(fn, consts), *args)
            return jvp_fn(*ts[: len(args)]), jvp_fn(*ts[len(args) :])

        return g

    def extras(fn: Fn, args: Inputs, consts: Inputs, rng: np.random.Generator) -> Inputs:
        return v._tangents(fn, args, consts, rng) + v._tangents(fn, args, consts, rng)

    def ref(fn: Fn, xs: Inputs) -> Any:
        args, consts, ts = _split(fn, xs)
        n = len(args)
        return v._jvp_ref(fn, args, consts, ts[:n])[1], v._jvp_ref(fn, args, consts, ts[n:])[1]

    return Variant("linearize_twice", "linearize", frozenset({"linearize"}), 1, build, ref, extras, "pullbacks")


def accepting(inner: Variant, error: str) -> Variant:
    """``inner``, where raising multiad's ``error`` also passes (and a wrong value still fails)."""
    return dataclasses.replace(inner, accepts=error)
