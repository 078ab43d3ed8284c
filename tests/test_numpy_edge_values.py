"""multiad.numpy against numpy itself on edge values and edge arguments, on every array type.

References: numpy's own results (values, shapes, errors) for the same call on numpy arrays, and
closed-form derivatives.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from conftest import Case
from numpy_specs import as_kind

import multiad
import multiad.numpy as mnp

KINDS = ("numpy", "torch", "jax")  # autograd's arrays are numpy's outside its transforms


def _same(got: Any, want: Any) -> None:
    got = multiad.to_numpy(got)
    assert got.shape == np.shape(want), (got.shape, np.shape(want))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0, equal_nan=True)


M = np.arange(24.0).reshape(2, 3, 4) - 11.0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "std", "var", "ptp", "nansum", "amax", "any"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reducing_over_no_axes_reduces_nothing(kind: str, name: str, keepdims: bool) -> None:
    # numpy: axis=() reduces over no axis, element by element; torch's dim=() means every axis.
    want = getattr(np, name)(M, axis=(), keepdims=keepdims)
    _same(getattr(mnp, name)(as_kind(kind, M), axis=(), keepdims=keepdims), want)


@pytest.mark.parametrize("kind", KINDS)
def test_count_nonzero_over_no_axes(kind: str) -> None:
    _same(mnp.count_nonzero(as_kind(kind, M), axis=()), np.count_nonzero(M, axis=()))


@pytest.mark.parametrize("kind", KINDS)
def test_median_of_values_with_nan_is_nan(kind: str) -> None:
    x = np.array([[1.0, np.nan, 3.0], [4.0, 2.0, 9.0], [np.nan, np.nan, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for axis in (None, 0, 1, -1, (0, 1)):
            _same(mnp.median(as_kind(kind, x), axis=axis), np.median(x, axis=axis))
    _same(mnp.median(as_kind(kind, np.array([1.0, np.inf, 2.0]))), 2.0)  # inf is a value, not a nan


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("axis", [3, -4, (0, 3)])
def test_median_axis_out_of_range_raises(kind: str, axis: Any) -> None:
    with pytest.raises(np.exceptions.AxisError, match=r"mnp\.median"):
        mnp.median(as_kind(kind, M), axis=axis)


@pytest.mark.parametrize("kind", KINDS)
def test_median_of_empty_is_nan(kind: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _same(mnp.median(as_kind(kind, np.zeros(0))), np.nan)
        _same(mnp.median(as_kind(kind, np.zeros((0, 3))), axis=0), np.full(3, np.nan))


def test_median_derivative_with_nan_is_not_a_number_of_another_element(backend: Case) -> None:
    # The median of [4, nan, 3] is nan (numpy); it must not be 4 with derivative [1, 0, 0].
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, _ = multiad.value_and_grad(mnp.median, backend=backend.name)(np.array([4.0, np.nan, 3.0]))
    assert np.isnan(multiad.to_numpy(value))


@pytest.mark.parametrize("kind", KINDS)
def test_sign_of_nan_is_nan(kind: str) -> None:
    x = np.array([np.nan, -np.inf, -2.0, 0.0, 3.0, np.inf])
    _same(mnp.sign(as_kind(kind, x)), np.sign(x))
    _same(mnp.sign(as_kind(kind, x.astype(np.float32))), np.sign(x.astype(np.float32)))


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
def test_extremum_with_initial_derivative(backend: Case, name: str) -> None:
    # initial= is a constant: where it wins, the derivative is 0; tied with an element, the
    # element gets half (ties shared equally, NOTE [Derivative conventions]).
    sign = 1.0 if name in ("max", "amax") else -1.0
    x = sign * np.array([1.0, 9.0, 4.0])
    f = getattr(mnp, name)
    wins = multiad.grad(lambda x: f(x, initial=sign * 10.0), backend=backend.name)(x)
    backend.close(wins, np.zeros(3))
    tie = multiad.grad(lambda x: f(x, initial=sign * 9.0), backend=backend.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", multiad.AccuracyWarning)  # a kink on the numpy backend
        backend.close(tie(x), np.array([0.0, 0.5, 0.0]))
    loses = multiad.grad(lambda x: f(x, initial=sign * 2.0), backend=backend.name)(x)
    backend.close(loses, np.array([0.0, 1.0, 0.0]))
    axis = multiad.grad(lambda x: mnp.sum(f(x, axis=1, initial=sign * 5.0)), backend=backend.name)
    backend.close(axis(np.stack([x, x / 3.0])), np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]))


@pytest.mark.parametrize("kind", KINDS)
def test_reductions_over_an_empty_axis(kind: str) -> None:
    e = np.zeros((2, 0))
    _same(mnp.prod(as_kind(kind, e), axis=1), np.prod(e, axis=1))
    _same(mnp.prod(as_kind(kind, np.zeros((0, 3))), axis=1), np.prod(np.zeros((0, 3)), axis=1))
    _same(mnp.max(as_kind(kind, e), axis=1, initial=-1.0), np.max(e, axis=1, initial=-1.0))
    _same(mnp.min(as_kind(kind, e), axis=1, initial=7.0, keepdims=True), np.min(e, axis=1, initial=7.0, keepdims=True))


@pytest.mark.parametrize("kind", KINDS)
def test_take_with_a_scalar_index(kind: str) -> None:
    _same(mnp.take(as_kind(kind, M), 3), np.take(M, 3))
    _same(mnp.take(as_kind(kind, M), -1, axis=1), np.take(M, -1, axis=1))


def test_moveaxis_and_cross_under_vmap(backend: Case) -> None:
    x = np.arange(24.0).reshape(4, 3, 2)
    moved = multiad.vmap(lambda r: mnp.moveaxis(r, 0, -1), backend=backend.name)(x)
    backend.close(moved, np.moveaxis(x, 1, 2))
    rolled = multiad.vmap(lambda r: mnp.rollaxis(r, 1), backend=backend.name)(x)
    backend.close(rolled, np.stack([np.rollaxis(r, 1) for r in x]))
    a, b = np.arange(12.0).reshape(4, 3), np.arange(12.0).reshape(4, 3) ** 2
    crossed = multiad.vmap(mnp.cross, backend=backend.name)(a, b)
    backend.close(crossed, np.cross(a, b))


@pytest.mark.parametrize("kind", KINDS)
def test_average_with_weights_summing_to_zero_raises(kind: str) -> None:
    with pytest.raises(ZeroDivisionError, match=r"mnp\.average"):
        mnp.average(as_kind(kind, np.array([1.0, 2.0])), weights=as_kind(kind, np.array([1.0, -1.0])))
    with pytest.raises(ZeroDivisionError, match=r"mnp\.average"):
        mnp.average(as_kind(kind, np.ones((2, 2))), axis=0, weights=np.array([0.0, 0.0]))


EDGE_FORMS: list[tuple[str, Any, dict[str, Any]]] = [
    ("argsort", np.array(3.0), {}),
    ("cumulative_sum", np.array(-4.0), {"include_initial": True}),
    ("cumulative_sum", np.zeros(0, np.uint8), {"include_initial": True}),
    ("cumulative_prod", np.ones((2, 0)), {"axis": 1, "include_initial": True}),
    ("cumulative_prod", np.array(2.5), {}),
    ("ediff1d", np.arange(4.0, dtype=np.float32), {"to_begin": 0.5, "to_end": np.array([1.0, 2.0])}),
    ("ediff1d", np.arange(4, dtype=np.int32), {"to_end": np.array([7])}),
    ("nanmax", np.array([np.nan]), {"initial": 3.0}),
    ("nanmax", np.array([np.nan, 1.0]), {"where": np.array([True, False]), "initial": 0.5}),
    ("nanmin", np.array([[np.nan, np.nan]]), {"axis": 1, "initial": 3.0, "where": np.array([False, True])}),
    ("nanmax", np.array([[np.nan, np.nan], [1.0, np.nan]]), {"axis": 1}),
    ("nansum", np.array([np.nan, 2.0]), {"initial": 1.0, "where": np.array([True, False])}),
    ("nanprod", np.array([np.nan, 2.0, 3.0]), {"initial": 2.0, "where": np.array([True, True, False])}),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("name", "x", "kwargs"), EDGE_FORMS)
def test_edge_forms_match_numpy(kind: str, name: str, x: np.ndarray, kwargs: dict[str, Any]) -> None:
    want = getattr(np, name)(x, **kwargs)
    args = {k: as_kind(kind, v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    got = np.asarray(multiad.to_numpy(getattr(mnp, name)(as_kind(kind, x), **args)))
    if kind != "jax":  # JAX arrays keep JAX's promotion
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
    _same(got, want)


_X35 = np.array([[0.3, 0.9, 0.1, 0.5, 0.7], [0.2, 0.4, 0.8, 0.6, 0.1], [0.9, 0.5, 0.3, 0.2, 0.4]])
_B23 = np.array([[True, False, True], [False, False, True]])
_B32 = np.array([[True, False], [False, False], [True, True]])
CALL_FORMS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("fmod", (np.array([False, True, True]), np.array([False, False, True])), {}),
    ("polyval", ([0.5, -1.0, 2.0], np.array([1.6985, 5.25, 4.3403], np.float32)), {}),  # float64 throughout
    ("polyval", ([1, 2], np.array([3, 4], np.int32)), {}),
    ("einsum", ("ii", np.eye(3, dtype=np.int32)), {}),
    ("einsum", ("ij->", np.ones((2, 3), dtype=np.int8)), {}),
    ("tensordot", (_B23, _B32), {"axes": 1}),
    ("tensordot", (_B23, _B23), {"axes": ([0, 1], [0, 1])}),
    ("inner", (_B23[0], _B32[:, 1]), {}),
    ("power", (np.zeros((0, 3), np.int64), np.array([-2, -1, 1])), {}),  # no exponent used: no error
    ("cbrt", (np.array([True, False]),), {}),
    ("modf", (np.array([True, False]),), {}),
    ("diff", (np.array([[0.3, -0.7, 0.6], [0.1, 0.2, 0.9]]),), {"n": 0, "prepend": 1.0}),  # the array itself
    ("diff", (np.array(2.5),), {"n": 0}),
    ("diff", (np.array([[0.3, -0.7, 0.6], [0.1, 0.2, 0.9]]),), {"prepend": np.array([[1.0, 5.0], [2.0, 3.0]])}),
    ("diff", (np.array([0.3, -0.7, 0.6]),), {"n": 2, "append": np.array([1.0, 2.0])}),
    ("tril", (np.array([1.0, 2.0, 3.0]),), {}),
    ("triu", (np.array([1.0, 2.0, 3.0]), 1), {}),
    ("cov", (_X35,), {"fweights": np.array([1, 2, 1, 3, 1])}),
    ("cov", (_X35,), {"aweights": np.array([0.5, 0.1, 0.9, 0.3, 0.7])}),
    ("cov", (_X35,), {"fweights": np.array([1, 2, 1, 3, 1]), "aweights": np.array([0.5, 0.1, 0.9, 0.3, 0.7])}),
    ("cov", (_X35,), {"aweights": np.array([0.5, 0.1, 0.9, 0.3, 0.7]), "ddof": 0}),
    ("cov", (_X35[:, :2],), {"ddof": 3}),  # no degrees of freedom left: inf, not a negative factor
    ("full_like", (_X35, 2.5), {"shape": (2,)}),
    ("ones_like", (_B23,), {"shape": 4}),
    ("zeros_like", (_X35, np.float32), {"shape": (1, 2)}),
    ("average", (np.array([[3, -2, 7], [1, 9, -4]]),), {"weights": np.array([1, 2, 3]), "axis": 1, "returned": True}),
    ("vander", (np.array([1.5, 2.0]), 0), {}),
    ("clip", (_X35[:, :3], [0.2, 0.3, 0.4], [0.5, 0.5, 0.6]), {}),
    ("clip", (_X35,), {}),  # no bounds: the values, as numpy 2.1 and later
    ("tensordot", (_X35, _X35), {"axes": np.int64(2)}),
    ("roll", (_X35, (1, 2)), {"axis": 0}),  # numpy broadcasts shifts against axes
    ("roll", (_X35, 1), {"axis": (0, 1)}),
    ("roll", (_X35, np.int64(2)), {"axis": np.int64(1)}),
    ("tile", (_X35[0], np.int64(2)), {}),
    ("gradient", (_X35[0], np.int64(2)), {}),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("name", "args", "kwargs"), CALL_FORMS)
def test_call_forms_match_numpy(kind: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    wants = getattr(np, name)(*args, **kwargs)
    kw = {k: as_kind(kind, v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    gots = getattr(mnp, name)(*[as_kind(kind, a) if isinstance(a, np.ndarray) else a for a in args], **kw)
    tuples = name == "modf" or kwargs.get("returned")
    for got, want in zip(*((gots, wants) if tuples else ([gots], [wants])), strict=True):
        got, want = np.asarray(multiad.to_numpy(got)), np.asarray(want)
        if kind != "jax":  # JAX arrays keep JAX's promotion
            assert got.dtype == want.dtype, (got.dtype, want.dtype)
        np.testing.assert_allclose(got, want, rtol=1e-6 if kind == "jax" else 1e-12, atol=0)  # JAX: float32 kept


def test_nan_to_num_keywords_under_autograd() -> None:
    x = np.array([1.0, np.nan, np.inf, -np.inf, 2.0])
    f = lambda x: mnp.sum(mnp.nan_to_num(x, nan=1.5, posinf=9.0, neginf=-9.0) * np.arange(1.0, 6.0))  # noqa: E731
    value, g = multiad.value_and_grad(f, backend="autograd")(x)
    assert float(value) == 1.0 + 3.0 + 27.0 - 36.0 + 10.0
    np.testing.assert_array_equal(g, [1.0, 0.0, 0.0, 0.0, 5.0])  # replaced values are constants


@pytest.mark.parametrize("kind", ["numpy", "torch"])  # JAX wraps integers, as jax.numpy does
@pytest.mark.parametrize(("name", "initial"), [("max", -2), ("min", 300), ("sum", -2), ("prod", 2**70)])
def test_integer_initial_out_of_range_raises_as_numpy(kind: str, name: str, initial: int) -> None:
    x = np.array([1, 1, 0, 2], np.uint8)
    with pytest.raises(OverflowError):
        getattr(np, name)(x, initial=initial)
    with pytest.raises(OverflowError):
        getattr(mnp, name)(as_kind(kind, x), initial=initial)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("base", "exponent"), [(np.array([2]), np.array([-1])), (np.array([5, 2]), -2), (0, np.array([-1, 0]))]
)
def test_integer_power_with_negative_exponents_raises(kind: str, base: Any, exponent: Any) -> None:
    with pytest.raises(ValueError, match="negative integer powers"):
        np.power(base, exponent)
    args = [as_kind(kind, v) if isinstance(v, np.ndarray) else v for v in (base, exponent)]
    with pytest.raises(ValueError, match="negative integer powers"):  # numpy arrays: numpy's own message
        mnp.power(*args)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("indices", [[4], [-5], [[0, 7]]])
def test_take_out_of_range_raises(kind: str, indices: Any) -> None:
    x = np.array([0.3, 1.7, -0.4, 2.2])
    with pytest.raises(IndexError):
        np.take(x, indices)
    with pytest.raises(IndexError):
        mnp.take(as_kind(kind, x), indices)


@pytest.mark.parametrize("kind", KINDS)
def test_rot90_of_one_axis_twice_raises(kind: str) -> None:
    with pytest.raises(ValueError):
        np.rot90(np.ones((2, 3)), 1, (0, 0))
    with pytest.raises(ValueError, match=r"^mnp\.rot90: axes"):
        mnp.rot90(as_kind(kind, np.ones((2, 3))), 1, (0, 0))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("width", "mode"), [(-1, "constant"), (((1, 0), (0, -2)), "constant"), ((-1, 1), "edge")])
def test_pad_negative_widths_raise(kind: str, width: Any, mode: str) -> None:
    x = np.ones((2, 3))
    with pytest.raises(ValueError):
        np.pad(x, width, mode=mode)
    with pytest.raises(ValueError, match=r"^mnp\.pad: negative pad widths"):
        mnp.pad(as_kind(kind, x), width, mode=mode)


@pytest.mark.parametrize("axis", [0, (0, 1)])
def test_roll_with_a_tuple_of_shifts_under_autograd(axis: Any) -> None:
    w = np.arange(6.0).reshape(2, 3)
    f = lambda x: mnp.sum(mnp.multiply(mnp.roll(x, (1, 2), axis=axis), w))  # noqa: E731
    g = multiad.grad(f, backend="autograd")(np.ones((2, 3)))
    np.testing.assert_array_equal(g, np.roll(w, (-1, -2), axis=axis))  # the transpose of a roll


@pytest.mark.parametrize("kind", KINDS)
def test_modf_of_infinities(kind: str) -> None:
    x = np.array([np.inf, -np.inf, -2.5, 0.5])
    (frac, whole), (want_frac, want_whole) = mnp.modf(as_kind(kind, x)), np.modf(x)
    _same(frac, want_frac)  # 0 and -0, not nan
    assert np.array_equal(np.signbit(multiad.to_numpy(frac)), np.signbit(want_frac))
    _same(whole, want_whole)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("kwargs", [{}, {"sparse": True}, {"indexing": "ij", "sparse": True}])
def test_meshgrid_of_mixed_dtypes_and_shapes(kind: str, kwargs: dict[str, Any]) -> None:
    xs = [np.array([1.0, 2.0, 3.0], np.float32), np.array([4.0, 5.0]), np.array([[6.0, 7.0]])]
    got, want = mnp.meshgrid(*[as_kind(kind, x) for x in xs], **kwargs), np.meshgrid(*xs, **kwargs)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        if kind != "jax":  # JAX arrays keep JAX's promotion
            assert multiad.to_numpy(g).dtype == w.dtype
        _same(g, w)


def test_meshgrid_sparse_under_autograd() -> None:
    b = np.array([4.0, 5.0])
    f = lambda a: mnp.sum(mnp.meshgrid(a, b, sparse=True)[0])  # noqa: E731 - shape (1, 3): each a_i once
    np.testing.assert_allclose(multiad.grad(f, backend="autograd")(np.array([1.0, 2.0, 3.0])), [1.0, 1.0, 1.0])


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_of_booleans_raises(kind: str) -> None:
    x = np.array([True, False, True])
    with pytest.raises(TypeError):
        np.gradient(x)
    with pytest.raises(TypeError, match=r"^mnp\.gradient: numpy does not subtract booleans"):
        mnp.gradient(as_kind(kind, x))


@pytest.mark.parametrize("kind", KINDS)
def test_copy_of_a_list_and_ediff1d_errors(kind: str) -> None:
    np.testing.assert_array_equal(mnp.copy([True, False]), np.copy([True, False]))
    with pytest.raises(TypeError, match=r"^mnp\.ediff1d: dtype of `to_begin`"):
        mnp.ediff1d(as_kind(kind, np.arange(4)), to_begin=0.5)
    with pytest.raises(TypeError, match=r"^mnp\.ediff1d: booleans"):
        mnp.ediff1d(as_kind(kind, np.array([True, False, True])))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_floor_division_of_floats_is_pythons(kind: str, dtype: str) -> None:
    # numpy's 1.0 // 0.1 is 9 (not floor(1.0 / 0.1) == 10), inf // 2 is nan, 1 // -inf is -1
    a = np.array([1.0, 7.0, 0.3, -1.0, np.inf, -np.inf, 1.0, -1.0, 2.5], dtype=dtype)
    b = np.array([0.1, 0.7, 0.1, 0.1, 2.0, -3.0, -np.inf, np.inf, 0.5], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.floor_divide(a, b)
        _same(mnp.floor_divide(as_kind(kind, a), as_kind(kind, b)), want)
        _same(mnp.divmod(as_kind(kind, a), as_kind(kind, b))[0], want)
        _same(mnp.floor_divide(as_kind(kind, a[:1]), 0.1), np.floor_divide(a[:1], 0.1))


@pytest.mark.parametrize("kind", KINDS)
def test_integer_division_by_zero_gives_zero(kind: str) -> None:
    a, b = np.array([5, -5, 0, 7]), np.array([0, 0, 0, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name in ("floor_divide", "mod", "remainder", "fmod"):
            _same(getattr(mnp, name)(as_kind(kind, a), as_kind(kind, b)), getattr(np, name)(a, b))


@pytest.mark.parametrize("kind", KINDS)
def test_clip_to_a_nan_bound_is_nan(kind: str) -> None:
    x = np.arange(3.0)
    _same(mnp.clip(as_kind(kind, x), np.nan, 1.0), np.clip(x, np.nan, 1.0))
    _same(mnp.clip(as_kind(kind, x), -np.inf, np.nan), np.clip(x, -np.inf, np.nan))
    lo = np.array([np.nan, 0.5, 0.0])
    _same(mnp.clip(as_kind(kind, x), as_kind(kind, lo), 5.0), np.clip(x, lo, 5.0))
    _same(mnp.clip(as_kind(kind, np.array([np.nan, 2.0])), 0.0, 1.0), np.array([np.nan, 1.0]))


def test_clip_derivative_with_array_bounds(backend: Case) -> None:
    lo, hi = np.array([0.0, 0.0, 0.0]), np.array([1.0, 1.0, 1.0])
    g = multiad.grad(lambda x: mnp.sum(mnp.clip(x, lo, hi)), backend=backend.name)(np.array([-0.5, 0.5, 1.5]))
    backend.close(g, np.array([0.0, 1.0, 0.0]))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", ["split", "array_split"])
@pytest.mark.parametrize("points", [[-2], [4, 2], [0, 0, 6], [2, 10], [-10, 3]])
def test_split_points_as_python_slices(kind: str, name: str, points: list[int]) -> None:
    # numpy takes split points as slices do: negative, decreasing or past the end.
    v = np.arange(12.0).reshape(2, 6)
    got = getattr(mnp, name)(as_kind(kind, v), points, axis=-1)
    want = getattr(np, name)(v, points, axis=-1)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        _same(g, w)


def test_split_points_derivative(backend: Case) -> None:
    f = lambda x: mnp.sum(mnp.split(x, [-2])[1] ** 2)  # noqa: E731
    g = multiad.grad(f, backend=backend.name)(np.arange(6.0))
    backend.close(g, np.array([0.0, 0.0, 0.0, 0.0, 8.0, 10.0]))


@pytest.mark.parametrize("kind", KINDS)
def test_nan_quantiles_of_empty_slices_are_nan(kind: str) -> None:
    e = np.zeros((0, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _same(mnp.nanmedian(as_kind(kind, np.zeros(0))), np.nanmedian(np.zeros(0)))
        _same(mnp.nanmedian(as_kind(kind, e), axis=0), np.nanmedian(e, axis=0))
        # numpy returns nanmean's (3,) here, dropping q's axis; q's axis first is its contract
        _same(mnp.nanquantile(as_kind(kind, e), [0.2, 0.5], axis=0), np.full((2, 3), np.nan))
        _same(
            mnp.nanpercentile(as_kind(kind, e), 50, axis=0, keepdims=True),
            np.nanpercentile(e, 50, axis=0, keepdims=True),
        )


def test_det_derivative_at_singular_matrices(backend: Case) -> None:
    # The derivative of det is the cofactor matrix (the adjugate transposed), finite also
    # where a is singular; autograd's own rule divides by det and raised LinAlgError.
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    backend.close(multiad.grad(mnp.linalg.det, backend=backend.name)(a), np.array([[4.0, -2.0], [-2.0, 1.0]]))
    backend.close(multiad.grad(mnp.linalg.det, backend=backend.name)(np.zeros((3, 3))), np.zeros((3, 3)))
    rank_one = np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 2.0])  # rank 1: every 2x2 minor is 0
    backend.close(multiad.grad(mnp.linalg.det, backend=backend.name)(rank_one), np.zeros((3, 3)))
    rank_two = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.0]])  # cofactors: only (2, 2) = 2
    want = np.zeros((3, 3))
    want[2, 2] = 2.0
    backend.close(multiad.grad(mnp.linalg.det, backend=backend.name)(rank_two), want)
    batch = np.stack([a, np.eye(2) * 3.0])
    g = multiad.grad(lambda b: mnp.sum(mnp.linalg.det(b)), backend=backend.name)(batch)
    backend.close(g, np.stack([np.array([[4.0, -2.0], [-2.0, 1.0]]), np.eye(2) * 3.0]))
    # det of 2 x 2 is a00 a11 - a01 a10: its Hessian is constant, +-1 on the anti-diagonal pairs.
    h = np.zeros((2, 2, 2, 2))
    h[0, 0, 1, 1] = h[1, 1, 0, 0] = 1.0
    h[0, 1, 1, 0] = h[1, 0, 0, 1] = -1.0
    backend.close(multiad.hessian(mnp.linalg.det, backend=backend.name)(a), h)


# ldexp where the factor 2**x2 alone overflows or underflows but the result does not, and the
# other way round: numpy scales the exponent exactly.
LDEXP_X = np.array(
    [2.0**-1022, np.finfo(np.float64).max, 0.5, 3.0, 1.5, -(2.0**-1000), 0.0, -0.0, np.inf, np.nan, 0.75]
)
LDEXP_N = np.array([2045, -2045, 1024, -1076, 2**40, -60, 5000, 3, -9000, 2, -1075])


@pytest.mark.parametrize("kind", KINDS)
def test_ldexp_scales_the_exponent_exactly(kind: str) -> None:
    want = np.ldexp(LDEXP_X, LDEXP_N)  # 2**1023 (not inf), 2**-1022 (not 0), 1.5 * 2**-1076 ...
    got = multiad.to_numpy(mnp.ldexp(as_kind(kind, LDEXP_X), as_kind(kind, LDEXP_N)))
    keep = np.abs(want) >= np.finfo(np.float64).tiny if kind == "jax" else np.ones(want.shape, bool)
    keep |= ~np.isfinite(want) | (want == 0)  # JAX on CPU flushes subnormal numbers to zero
    np.testing.assert_array_equal(got[keep], want[keep])
    np.testing.assert_array_equal(np.signbit(got[keep]), np.signbit(want[keep]))


@pytest.mark.parametrize("kind", KINDS)
def test_ldexp_of_subnormal_and_float32_inputs(kind: str) -> None:
    x32 = np.array([2e-38, 3e38, 1.5, 2.0**-149], dtype=np.float32)
    n32 = np.array([200, -200, 127, 149], dtype=np.int32)
    want = np.ldexp(x32, n32)
    got = multiad.to_numpy(mnp.ldexp(as_kind(kind, x32), as_kind(kind, n32)))
    assert got.dtype == want.dtype
    rows = slice(None) if kind != "jax" else slice(0, 3)  # JAX on CPU flushes subnormal inputs to zero
    np.testing.assert_array_equal(got[rows], want[rows])
    if kind != "jax":  # 5e-324 * 2**1074 is 1.0 (the factor 2**1074 alone overflows)
        np.testing.assert_array_equal(multiad.to_numpy(mnp.ldexp(as_kind(kind, np.array([5e-324])), 1074)), [1.0])


def test_ldexp_derivative_is_the_power_of_two(backend: Case) -> None:
    n = np.array([3, -1, 0, 10])
    x = np.array([1.5, -2.0, 0.25, 1.0])
    g = multiad.grad(lambda x: mnp.sum(mnp.ldexp(x, n)), backend=backend.name)(x)
    np.testing.assert_allclose(multiad.to_numpy(g), 2.0**n, **backend.tol())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("indices", "axis"), [([[-4, 1], [0, 1], [2, 4]], 1), ([[3, 0, 0, 0]], 0), ([12], None)])
def test_take_along_axis_out_of_range_raises(kind: str, indices: Any, axis: Any) -> None:
    # numpy raises IndexError; torch wrapped the index into range (-4 read column 0 of 4, 12 read
    # element 0) and JAX filled nan, both silently.
    x = np.arange(12.0).reshape(3, 4)
    idx = np.array(indices)
    with pytest.raises(IndexError):
        np.take_along_axis(x, idx, axis=axis)
    with pytest.raises(IndexError, match=r"^mnp\.take_along_axis: index -?\d+ is out of bounds for axis \d with size"):
        mnp.take_along_axis(as_kind(kind, x), as_kind(kind, idx), axis=axis)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32", "uint32"])
def test_take_along_axis_takes_any_integer_indices(kind: str, dtype: str) -> None:
    # torch.take_along_dim takes int64 only ("dtype of indices should be Long but got Char").
    x = np.arange(12.0).reshape(3, 4)
    idx = np.array([[3, 0], [1, 1], [2, 0]], dtype=dtype)
    got = multiad.to_numpy(mnp.take_along_axis(as_kind(kind, x), as_kind(kind, idx), axis=1))
    np.testing.assert_array_equal(got, [[3.0, 0.0], [5.0, 5.0], [10.0, 8.0]])
    np.testing.assert_array_equal(got, np.take_along_axis(x, idx, axis=1))


def test_take_along_axis_out_of_range_raises_inside_a_transform(backend: Case) -> None:
    x = np.arange(4.0)
    with pytest.raises(IndexError):
        multiad.grad(lambda v: mnp.sum(mnp.take_along_axis(v, np.array([0, 4]), axis=0)), backend=backend.name)(x)


@pytest.mark.parametrize("kind", KINDS)
def test_cov_with_integer_weights_in_float64(kind: str) -> None:
    # numpy reads the weights as float64; on torch integer weights divided by their integer sum
    # gave float32 factors (the covariance off in the 8th digit, without an error).
    rng = np.random.default_rng(7)
    x = rng.integers(-6, 7, (10, 5)).astype(np.int32)
    aw = rng.integers(1, 1000, 10).astype(np.int32)
    fw = rng.integers(1, 4, 10)
    for kwargs in ({"aweights": aw, "ddof": 2}, {"aweights": aw, "fweights": fw}, {"fweights": fw}):
        want = np.cov(x, rowvar=False, **kwargs)
        on = {k: as_kind(kind, v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        got = multiad.to_numpy(mnp.cov(as_kind(kind, x), rowvar=False, **on))
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def test_take_along_axis_keeps_jax_modes_asked_for() -> None:
    # mode= is jax.numpy's keyword (numpy has none): with it, JAX's rule for out-of-range
    # indices applies, here its fill value, instead of numpy's IndexError.
    import jax.numpy as jnp

    got = mnp.take_along_axis(jnp.arange(5.0), jnp.array([0, 2, 4, 6]), axis=None, mode="fill", fill_value=10.0)
    np.testing.assert_array_equal(np.asarray(got), [0.0, 2.0, 4.0, 10.0])
