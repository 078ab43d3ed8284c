"""multiad.numpy against numpy itself on the inputs of numpy's own tests that once went wrong.

Each case compares a backend's result, converted with ``multiad.to_numpy``, with numpy's result
for the same numpy inputs (values, dtype and shape), or checks that numpy's error is raised.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import numpy as np
import pytest
from conftest import AD_BACKENDS, BACKENDS, central_gradient

import multiad
import multiad.numpy as mnp


def _on(backend_name: str, *arrays: np.ndarray) -> list[Any]:
    return [multiad.asarray(a, backend=backend_name) for a in arrays]


def _same(got: Any, want: Any) -> None:
    got, want = np.asarray(multiad.to_numpy(got)), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got, want)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_linspace_of_integer_arrays_does_not_wrap(backend_name: str) -> None:
    start, stop = np.array([-120, 120], dtype="int8"), np.array([100, -100], dtype="int8")
    a, b = _on(backend_name, start, stop)
    _same(mnp.linspace(a, b, 5), np.linspace(start, stop, 5))  # -65 after -120, not -129
    _same(mnp.linspace(a, b, 5, axis=-1), np.linspace(start, stop, 5, axis=-1))


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_linalg_outer_takes_vectors_only(backend_name: str) -> None:
    (a,) = _on(backend_name, np.arange(3.0))
    _same(mnp.linalg.outer(a, a), np.linalg.outer(np.arange(3.0), np.arange(3.0)))
    with pytest.raises(ValueError, match=r"mnp\.linalg\.outer: Input arrays must be one-dimensional"):
        mnp.linalg.outer(a[:, None], a)  # mnp.outer flattens it; numpy.linalg.outer raises


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_linalg_trace_takes_dtype(backend_name: str) -> None:
    x = np.arange(4, dtype="int32").reshape(2, 2)
    (a,) = _on(backend_name, x)
    _same(mnp.linalg.trace(a, dtype="float32"), np.linalg.trace(x, dtype="float32"))


OUT_CALLS: list[Any] = [
    lambda a, o: mnp.median(a, axis=0, out=o),
    lambda a, o: mnp.outer(a[0], a[0], out=o),
    lambda a, o: mnp.clip(a, 0.0, 1.0, out=o),
    lambda a, o: mnp.ptp(a, axis=0, out=o),
    lambda a, o: mnp.trace(a, out=o),
    lambda a, o: mnp.round(a, out=o),
    lambda a, o: mnp.take(a, [0], out=o),
    lambda a, o: mnp.argmax(a, axis=0, out=o),
]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("call", OUT_CALLS, ids=["median", "outer", "clip", "ptp", "trace", "round", "take", "argmax"])
def test_out_is_refused_not_ignored(backend_name: str, call: Any) -> None:
    # An ignored out= left the caller's array unwritten, without an error.
    (a,) = _on(backend_name, np.ones((2, 2)))
    out = np.full(2, -1) if call is OUT_CALLS[-1] else np.zeros(2)  # argmax writes integers
    try:
        call(a, out)
    except (NotImplementedError, TypeError, ValueError) as exc:
        assert str(exc).startswith("mnp.") or "out" in str(exc)
    else:
        assert backend_name in ("numpy", "autograd") and np.any(
            out != out.dtype.type(0 if out.dtype.kind == "f" else -1)
        )  # numpy wrote it (autograd arrays are numpy arrays)


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize(("axis", "start"), [(4, 0), (-5, 0), (0, 5), (0, -5)])
def test_rollaxis_out_of_bounds_raises(backend_name: str, axis: int, start: int) -> None:
    (a,) = _on(backend_name, np.ones((1, 2, 3, 4)))
    with pytest.raises(np.exceptions.AxisError, match=r"^mnp\.rollaxis: "):
        mnp.rollaxis(a, axis, start)  # axis 4 wrapped to 0 and returned an array
    _same(mnp.rollaxis(a, 3, 1), np.rollaxis(np.ones((1, 2, 3, 4)), 3, 1))


INF = np.inf
INTERP_NON_FINITE = [
    (np.array([1.0, 2.0, 3.0, 4.0, 5.0]), [1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, INF, INF, 4.0]),  # knots
    (np.array(0.5), [-INF, INF], [0.0, 10.0]),
    (np.array(0.5), [-INF, INF], [10.0, 10.0]),
    (np.array(0.5), [0.0, 1.0], [-INF, INF]),
    (np.array(0.5), [-INF, 1.0], [0.0, 10.0]),
    (np.array(0.5), [0.0, 1.0], [-INF, 10.0]),
    (np.array(0.5), [0.0, 1.0], [0.0, INF]),
]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("case", INTERP_NON_FINITE, ids=[str(i) for i in range(len(INTERP_NON_FINITE))])
def test_interp_with_infinite_values_is_numpys(backend_name: str, case: tuple[Any, ...]) -> None:
    x, xp, fp = (np.asarray(v, dtype=float) for v in case)
    with np.errstate(invalid="ignore"):
        want = np.interp(x, xp, fp)  # [1, 2, inf, inf, 4] for the first, not nan
        got = mnp.interp(*_on(backend_name, x, xp, fp))
    _same(got, want)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_interp_with_nan_in_xp_raises(backend_name: str) -> None:
    x, xp, fp = _on(backend_name, np.array(0.5), np.array([np.nan, 1.0]), np.array([0.0, 10.0]))
    with pytest.raises(ValueError, match=r"^mnp\.interp: xp must be increasing, with no nan"):
        mnp.interp(x, xp, fp)  # gave 0.0; numpy gives nan


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("values", [[INF, 1.0, INF], [INF], [1.0, INF], [-INF, INF, 1.0], [1.0, 2.0, np.nan, 4.0]])
def test_nanmedian_of_infinite_values_is_numpys(backend_name: str, values: list[float]) -> None:
    x = np.array(values)
    (a,) = _on(backend_name, x)
    _same(mnp.nanmedian(a), np.nanmedian(x))  # inf, not nan (inf + 0 * (inf - inf))
    y = np.array([[INF, np.nan, 1.0], [np.nan, np.nan, 2.0], [1.0, 2.0, 4.0]])
    (b,) = _on(backend_name, y)
    _same(mnp.nanmedian(b, axis=1), np.nanmedian(y, axis=1))


ISCLOSE_CASES: list[tuple[Any, Any, dict[str, Any]]] = [
    (np.array(1.0, np.float32), np.float64(0.9999999999999998), {"atol": 0, "rtol": 0}),  # float64 compare
    (np.array([1.0, 0.0], np.float32), np.float32(0.0), {"atol": np.float64(0.9999999999999998)}),
    (np.array([1.0, 2.0, np.inf, np.nan, -np.inf], np.float32), np.array([1.0000001, 2.0, np.inf, np.nan, np.inf]), {}),
    (np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), {"equal_nan": True}),
    (np.array([1, 2], np.int8), 2, {}),
]


@pytest.mark.parametrize("backend_name", ["numpy", "autograd", "torch"])  # JAX: its own promotion (docs)
@pytest.mark.parametrize("case", ISCLOSE_CASES, ids=[str(i) for i in range(len(ISCLOSE_CASES))])
def test_isclose_compares_in_numpys_dtype(backend_name: str, case: tuple[Any, Any, dict[str, Any]]) -> None:
    a, b, kw = case
    (x,) = _on(backend_name, a)
    _same(mnp.isclose(x, b, **kw), np.isclose(a, b, **kw))  # torch compared in float32: True for the first


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize(("name", "ndim"), [("vsplit", 1), ("hsplit", 0), ("dsplit", 2)])
def test_vsplit_hsplit_dsplit_need_their_dimensions(backend_name: str, name: str, ndim: int) -> None:
    (a,) = _on(backend_name, np.ones((2,) * ndim))
    with pytest.raises(ValueError, match=rf"^mnp\.{name}: {name} only works on arrays of {ndim + 1} or more"):
        getattr(mnp, name)(a, 2)  # torch and JAX split a 1-d array along its only axis


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_gradient_and_norm_of_unsigned_integers_do_not_wrap(backend_name: str) -> None:
    u = np.array([5, 4, 3, 2, 1], dtype=np.uint8)
    (a,) = _on(backend_name, u)
    np.testing.assert_array_equal(multiad.to_numpy(mnp.gradient(a)), np.gradient(u))  # -1, not 255
    np.testing.assert_allclose(multiad.to_numpy(mnp.linalg.norm(a * 40)), np.linalg.norm(u * 40), rtol=1e-6)


FRAMEWORK_ERRORS: list[tuple[str, Any, type]] = [
    ("moveaxis", lambda a: mnp.moveaxis(a, 3, 0), Exception),  # an axis out of range
    ("concatenate", lambda a: mnp.concatenate([a[0, 0, 0], a[0, 0, 1]]), Exception),  # 0-d arrays
    ("expand_dims", lambda a: mnp.expand_dims(a, (0, 0)), ValueError),  # torch: StopIteration
]


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
@pytest.mark.parametrize("case", FRAMEWORK_ERRORS, ids=[c[0] for c in FRAMEWORK_ERRORS])
def test_framework_errors_name_the_call(backend_name: str, case: tuple[str, Any, type]) -> None:
    name, f, kind = case
    (a,) = _on(backend_name, np.ones((2, 3, 4)))
    with pytest.raises(kind) as info:
        f(a)
    assert str(info.value).startswith(f"mnp.{name}: ")


@pytest.mark.parametrize("backend_name", ["numpy", "autograd", "torch"])  # JAX arrays are immutable
@pytest.mark.parametrize(
    "make",
    [
        lambda a: mnp.copy(a),
        lambda a: mnp.positive(a),
        lambda a: mnp.astype(a, a.dtype),
        lambda a: mnp.block(a),
        lambda a: mnp.reshape(a, (2, 3), copy=True),
    ],
    ids=["copy", "positive", "astype", "block", "reshape_copy"],
)
def test_new_arrays_do_not_alias_their_argument(backend_name: str, make: Any) -> None:
    # torch returned its argument itself (copy and positive of floats, astype to the same dtype),
    # or a view (reshape with copy=True): a write to the result changed the argument.
    (a,) = _on(backend_name, np.arange(6.0).reshape(2, 3))
    out = make(a)
    out[0, 0] = 100.0
    assert float(a[0, 0]) == 0.0


def test_reshape_copy_false_is_a_view_or_an_error_on_torch() -> None:
    (a,) = _on("torch", np.arange(6.0).reshape(2, 3))
    view = mnp.reshape(a, (6,), copy=False)
    view[0] = 100.0
    assert float(a[0, 0]) == 100.0
    with pytest.raises(ValueError, match=r"^mnp\.reshape: cannot reshape without copying"):
        mnp.reshape(a.T, (6,), copy=False)  # numpy: ValueError too


@pytest.mark.parametrize("name", ["signbit", "isposinf", "isneginf"])
def test_boolean_tests_of_traced_values_on_autograd(name: str) -> None:
    # autograd has no derivative of signbit, and raised NotImplementedError inside grad.
    x = np.array([-1.5, 2.0, np.inf])
    f = getattr(mnp, name)
    g = multiad.grad(lambda x: mnp.sum(mnp.where(f(x), x, 2.0 * x)), backend="autograd")(x)
    np.testing.assert_array_equal(g, np.where(getattr(np, name)(x), 1.0, 2.0))


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_cov_of_one_row_with_rowvar_false_has_a_variable_per_column(backend_name: str) -> None:
    x = np.array([[1.0, 2.0, 4.0]])  # one observation of three variables: a 3 x 3 matrix
    (a,) = _on(backend_name, x)
    got = np.asarray(multiad.to_numpy(mnp.cov(a, ddof=0, rowvar=False)))
    np.testing.assert_array_equal(got, np.cov(x, ddof=0, rowvar=False))  # was the scalar 1.5556


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_unstack_and_diff_check_their_axis(backend_name: str) -> None:
    a, z = _on(backend_name, np.arange(24.0).reshape(2, 3, 4), np.array(0.0))
    for call in (lambda: mnp.unstack(a, axis=3), lambda: mnp.diff(a, axis=-4, prepend=0.0)):
        with pytest.raises(np.exceptions.AxisError, match=r"^mnp\.(unstack|diff): axis"):
            call()  # IndexError: tuple index out of range
    for call in (lambda: mnp.unstack(z), lambda: mnp.diff(z)):
        with pytest.raises(ValueError, match=r"^mnp\.(unstack|diff): "):
            call()
    _same(mnp.unstack(a, axis=-1)[3], np.arange(24.0).reshape(2, 3, 4)[:, :, 3])


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_linalg_results_are_numpys_named_tuples(backend_name: str) -> None:
    x = np.array([[2.0, 1.0], [1.0, 3.0]])
    (a,) = _on(backend_name, x)
    for name, fields in [
        ("svd", ("U", "S", "Vh")),
        ("qr", ("Q", "R")),
        ("eigh", ("eigenvalues", "eigenvectors")),
        ("slogdet", ("sign", "logabsdet")),
    ]:
        got, want = getattr(mnp.linalg, name)(a), getattr(np.linalg, name)(x)
        assert want._fields == fields and got._fields == fields  # torch's were plain tuples
    _same(mnp.linalg.eigh(a).eigenvalues, np.linalg.eigh(x).eigenvalues)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 12, -7, 2**100 + 2**10 + 2**5 + 1])
def test_matrix_power_of_traced_values_on_autograd(n: int) -> None:
    # autograd's loop took n products (2**100 never ended); numpy's binary powers take log2(n)
    shift = np.roll(np.eye(4), 1, axis=1)  # a permutation: its powers repeat every 4
    a = shift + 0.0 if abs(n) > 100 else np.array([[1.0, 0.5], [0.25, 1.0]])
    got: dict[str, Any] = {}

    def f(x: Any) -> Any:
        got["p"] = mnp.linalg.matrix_power(x, n)
        return mnp.sum(got["p"])

    multiad.grad(f, backend="autograd")(a)
    from autograd.tracer import getval

    np.testing.assert_allclose(getval(got["p"]), np.linalg.matrix_power(a, n), rtol=1e-14)


def test_matrix_power_of_traced_values_on_autograd_checks_n_and_keeps_the_dtype() -> None:
    a = np.eye(2, dtype=np.float16)
    got: dict[str, Any] = {}

    def f(x: Any) -> Any:
        got["p"] = mnp.linalg.matrix_power(x, 0)
        return mnp.sum(got["p"])

    multiad.grad(f, backend="autograd")(a)
    assert got["p"].dtype == np.float16  # was float64
    with pytest.raises(TypeError, match=r"^mnp\.linalg\.matrix_power: exponent must be an integer"):
        multiad.grad(lambda x: mnp.sum(mnp.linalg.matrix_power(x, 1.5)), backend="autograd")(a)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_linalg_cross_takes_3_vectors_only(backend_name: str) -> None:
    a, b = _on(backend_name, np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    with pytest.raises(ValueError, match=r"^mnp\.linalg\.cross: Both input arrays must be"):
        mnp.linalg.cross(a, b)  # gave -2.0, numpy.cross's value for 2-vectors
    c, d = _on(backend_name, np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 5.0]))
    _same(mnp.linalg.cross(c, d), np.linalg.cross(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 5.0])))


@pytest.mark.parametrize("backend_name", ["numpy", "autograd", "torch"])  # JAX: its own promotion (docs)
def test_norm_order_0_keeps_the_float_dtype(backend_name: str) -> None:
    x = np.array([1.0, 0.0, 1.0], np.float16)
    (a,) = _on(backend_name, x)
    _same(mnp.linalg.norm(a, 0), np.linalg.norm(x, 0))  # float16 2.0, not float64


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_multi_dot_needs_two_arrays(backend_name: str) -> None:
    a, b = _on(backend_name, np.eye(2), np.arange(4.0).reshape(2, 2))
    with pytest.raises(ValueError, match=r"^mnp\.linalg\.multi_dot: Expecting at least two arrays"):
        mnp.linalg.multi_dot([a])  # JAX returned a
    _same(mnp.linalg.multi_dot([a, b, a]), np.arange(4.0).reshape(2, 2))


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "bool"])
@pytest.mark.parametrize("name", ["cumsum", "cumprod", "nancumsum", "nancumprod"])
def test_scans_of_small_integers_do_not_wrap(backend_name: str, dtype: str, name: str) -> None:
    """numpy accumulates small integers and booleans in its default integer (NOTE [Scans of small
    integers on JAX]): the values are numpy's; the dtype is numpy's, or on JAX the integer
    jax.numpy's sum gives (JAX's documented promotion)."""
    a = np.array([[100, 100, 100], [3, 0, 1]]).astype(dtype)
    (x,) = _on(backend_name, a)
    for axis in (None, 1):
        got, want = np.asarray(multiad.to_numpy(getattr(mnp, name)(x, axis=axis))), getattr(np, name)(a, axis=axis)
        np.testing.assert_array_equal(got, want)  # an int8 cumsum gave [100, -56, 44] on JAX
        assert got.dtype.kind == want.dtype.kind and got.dtype.itemsize >= 4


VARIANCE_X = np.array([[1.0, 2.0, 4.0], [0.5, np.nan, 3.0]])


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", ["var", "std", "nanvar", "nanstd"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {"correction": 1},
        {"correction": 1, "axis": 1},
        {"mean": "given", "axis": 1},
        {"mean": "given", "axis": 1, "where": np.array([True, True, False])},
        {"mean": "given", "axis": 1, "correction": 1, "keepdims": True},
    ],
    ids=["correction", "correction-axis", "mean", "mean-where", "mean-correction-keepdims"],
)
def test_variance_takes_numpy_2s_mean_and_correction(backend_name: str, name: str, kwargs: dict[str, Any]) -> None:
    # Python's bare "var() got an unexpected keyword argument 'correction'" before.
    x = VARIANCE_X if name.startswith("nan") else np.nan_to_num(VARIANCE_X, nan=-2.0)
    if kwargs.get("mean") == "given":  # numpy's contract: the mean shaped as with keepdims=True
        kwargs = {**kwargs, "mean": np.array([[2.0], [1.0]])}
    want = getattr(np, name)(x, **kwargs)
    (a,) = _on(backend_name, x)
    got = np.asarray(multiad.to_numpy(getattr(mnp, name)(a, **kwargs)))
    assert got.shape == np.shape(want) and got.dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, rtol=1e-13)
    with pytest.raises(ValueError, match=rf"^mnp\.{name}: ddof and correction can't be provided simultaneously"):
        getattr(mnp, name)(a, ddof=1, correction=1)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_corrcoef_takes_dtype_and_is_clipped_as_numpys(backend_name: str) -> None:
    x = np.array([0.12573022, -0.13210486, 0.64042265, 0.10490012, -0.53566937])
    rows = np.stack([x, 3 * x + 1])  # rounding puts the coefficient just above 1 before numpy's clip
    (a,) = _on(backend_name, rows)
    for kwargs, rtol in (({}, 1e-15), ({"dtype": "float32"}, 1e-6)):
        want = np.corrcoef(rows, **kwargs)
        got = np.asarray(multiad.to_numpy(mnp.corrcoef(a, **kwargs)))
        assert got.dtype == want.dtype and np.all(np.abs(got) <= 1), got
        np.testing.assert_allclose(got, want, rtol=rtol)


REFUSED_OUT: list[Any] = [
    ("cumulative_sum", lambda a, o: mnp.cumulative_sum(a, axis=0, out=o)),
    ("cumulative_prod", lambda a, o: mnp.cumulative_prod(a, axis=0, out=o)),
    ("ldexp", lambda a, o: mnp.ldexp(a, 2, out=o)),
    ("hypot", lambda a, o: mnp.hypot(a, a, out=o)),
    ("isposinf", lambda a, o: mnp.isposinf(a, out=o)),
    ("dot", lambda a, o: mnp.dot(a, a, out=o)),
]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("case", REFUSED_OUT, ids=[c[0] for c in REFUSED_OUT])
def test_out_of_functions_written_once_is_refused_with_the_call(backend_name: str, case: tuple[str, Any]) -> None:
    name, call = case
    (a,) = _on(backend_name, np.ones((2, 2)))
    out = np.zeros((2, 2), dtype=bool if name == "isposinf" else float)
    with pytest.raises(NotImplementedError, match=rf"^mnp\.{name}: out= is not supported; use the returned array"):
        call(a, out)  # Python's bare "ldexp() got an unexpected keyword argument 'out'" before
    assert not out.any()


KEYWORD_ERRORS: list[Any] = [
    ("hypot", lambda a: mnp.hypot(a, a, order="F"), r"numpy's order='F' is not supported by multiad\.numpy"),
    ("arctan2", lambda a: mnp.arctan2(a, a, where=False), r"numpy's where= is not supported .*mnp\.where"),
    ("logspace", lambda a: mnp.logspace(0, 1, 3, like=a), r"like= is not a keyword of numpy's logspace; omit it"),
    ("copy", lambda a: mnp.copy(a, order="F", subok=True), r"numpy's order=, subok= are not supported"),
    ("var", lambda a: mnp.var(a, not_numpys=1), r"var\(\) got an unexpected keyword argument 'not_numpys'"),
    ("linalg.norm", lambda a: mnp.linalg.norm(a, 2, 0, False, 1), r"norm\(\) takes from 1 to 4 positional"),
    ("median", lambda a: mnp.median(), r"median\(\) missing 1 required positional argument"),
]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("case", KEYWORD_ERRORS, ids=[c[0] for c in KEYWORD_ERRORS])
def test_refused_arguments_name_the_call(backend_name: str, case: tuple[str, Any, str]) -> None:
    name, call, message = case
    (a,) = _on(backend_name, np.ones(2))
    with pytest.raises(TypeError, match=rf"^mnp\.{name}: {message}"):
        call(a)
    want_params = {
        "hypot": "order",
        "arctan2": "where",
        "copy": "order",
    }.get(name)
    if want_params is not None:  # the keyword is numpy's, as the message says
        assert want_params in inspect.signature(getattr(np, name)).parameters
    if name == "logspace":  # numpy's logspace has no like=, as the message says
        assert "like" not in inspect.signature(np.logspace).parameters


def _wide_unsigned(dtype: str) -> tuple[np.ndarray, np.ndarray]:
    top = np.iinfo(dtype).max
    x = np.array([0, 1, 3, top, top // 2 + 1, top - 5, 12345, 7], dtype=dtype)
    return x, x[::-1].copy()


WIDE_UNSIGNED_CALLS: list[Any] = [
    ("add", lambda a, b, top: mnp.add(a, b)),  # wraps modulo 2**bits, as numpy
    ("subtract", lambda a, b, top: mnp.subtract(a, b)),
    ("multiply", lambda a, b, top: mnp.multiply(a, b)),
    ("negative", lambda a, b, top: mnp.negative(a)),
    ("square", lambda a, b, top: mnp.square(a)),
    ("add_int", lambda a, b, top: mnp.add(a, 7)),
    ("less", lambda a, b, top: mnp.less(a, b)),
    ("less_int", lambda a, b, top: mnp.less(a, 3)),
    ("greater_equal_top", lambda a, b, top: mnp.greater_equal(a, top - 5)),
    ("maximum", lambda a, b, top: mnp.maximum(a, b)),
    ("max", lambda a, b, top: mnp.max(a)),
    ("argmin", lambda a, b, top: mnp.argmin(a)),
    ("sort", lambda a, b, top: mnp.sort(a)),
    ("argsort", lambda a, b, top: mnp.argsort(a)),
    ("where", lambda a, b, top: mnp.where(mnp.less(a, b), a, b)),
    ("diff", lambda a, b, top: mnp.diff(a)),
    ("flip", lambda a, b, top: mnp.flip(a)),
    ("median", lambda a, b, top: mnp.median(a)),
    ("abs", lambda a, b, top: mnp.abs(a)),
    ("sign", lambda a, b, top: mnp.sign(a)),
    ("ptp", lambda a, b, top: mnp.ptp(a)),
]


@pytest.mark.parametrize("backend_name", ["torch", "autograd", "numpy"])  # JAX: uint64 only with x64
@pytest.mark.parametrize("dtype", ["uint16", "uint32", "uint64"])
@pytest.mark.parametrize("case", WIDE_UNSIGNED_CALLS, ids=[c[0] for c in WIDE_UNSIGNED_CALLS])
def test_wide_unsigned_integers_compute_as_numpy(backend_name: str, dtype: str, case: tuple[str, Any]) -> None:
    # torch has no kernels for most operations on uint16/32/64 ("lt_cpu" not implemented).
    _, call = case
    x, y = _wide_unsigned(dtype)
    a, b = _on(backend_name, x, y)
    with np.errstate(over="ignore"):
        want = call(x, y, int(np.iinfo(dtype).max))  # numpy arrays: numpy itself
    _same(call(a, b, int(np.iinfo(dtype).max)), want)


@pytest.mark.parametrize("name", ["floor_divide", "mod", "power"])
def test_uint64_operations_torch_lacks_raise_with_the_call(name: str) -> None:
    x, y = _wide_unsigned("uint64")
    a, b = _on("torch", x, y + 1)
    with pytest.raises(NotImplementedError, match=rf"^mnp\.{name}: torch has no kernel for uint64 .* mnp\.astype"):
        getattr(mnp, name)(a, b)  # int64 would change values above 2**63 - 1: no wrong numbers


INTEGER_LINALG: list[Any] = [
    ("inv", lambda m, v: m.linalg.inv(v[0])),
    ("solve", lambda m, v: m.linalg.solve(v[0], v[1])),
    ("pinv", lambda m, v: m.linalg.pinv(v[0])),
    ("det", lambda m, v: m.linalg.det(v[0])),
    ("slogdet", lambda m, v: m.linalg.slogdet(v[0])[1]),
    ("svdvals", lambda m, v: m.linalg.svd(v[0], compute_uv=False)),
    ("qr_r", lambda m, v: m.linalg.qr(v[0], mode="r")),
    ("eigvalsh", lambda m, v: m.linalg.eigvalsh(v[0])),
    ("cholesky", lambda m, v: m.linalg.cholesky(v[0])),
    ("matrix_power_2", lambda m, v: m.linalg.matrix_power(v[0], 2)),
    ("matrix_power_5", lambda m, v: m.linalg.matrix_power(v[0], 5)),
    ("matrix_power_-1", lambda m, v: m.linalg.matrix_power(v[0], -1)),
]


@pytest.mark.parametrize("backend_name", ["torch", "autograd", "numpy"])  # JAX: its own promotion (docs)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("case", INTEGER_LINALG, ids=[c[0] for c in INTEGER_LINALG])
def test_linalg_of_integer_matrices_is_numpys(backend_name: str, dtype: str, case: tuple[str, Any]) -> None:
    # torch refused integer matrices, or computed eigvalsh and cholesky in float32
    name, call = case
    m = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]], dtype=bool) if dtype == "bool" else np.array([[4, 1], [1, 3]])
    if dtype == "bool" and name in ("eigvalsh", "cholesky", "inv", "solve", "det", "slogdet", "matrix_power_-1"):
        m = np.eye(3, dtype=bool)
    m = m.astype(dtype)
    v = np.ones(m.shape[0], dtype=dtype)
    want = np.asarray(call(np, (m, v)))
    got = np.asarray(multiad.to_numpy(call(mnp, _on(backend_name, m, v))))
    assert got.dtype == want.dtype and got.shape == want.shape, (got, want)
    if name == "qr_r":
        # R is unique up to the sign of each row; which sign a Householder step picks for a column
        # whose leading element is 0 up to rounding depends on the LAPACK build, not on multiad.
        got, want = (r * np.where(np.diagonal(r) < 0, -1.0, 1.0)[:, None] for r in (got, want))
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("backend_name", AD_BACKENDS)
@pytest.mark.parametrize("name", ["concatenate", "stack", "hstack", "vstack"])
def test_joining_with_dtype_is_differentiable(backend_name: str, name: str) -> None:
    # autograd: "VJP of asarray wrt argnums (0,) not defined" while traced
    x = np.array([1.0, -2.0, 3.0])
    seen: list[Any] = []

    def f(v: Any) -> Any:
        joined = getattr(mnp, name)([v, 2.0 * v], dtype="float32")
        seen.append(multiad.to_numpy(mnp.stop_gradient(joined)))
        return mnp.sum(joined * joined)

    grad = multiad.to_numpy(multiad.grad(f, backend=backend_name)(x))
    np.testing.assert_allclose(grad, 2 * x + 8 * x, rtol=1e-6)  # d/dx (x**2 + 4 x**2), computed in float32
    _same(seen[-1], getattr(np, name)([x, 2.0 * x], dtype="float32"))


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("shape", [(3, 3), (2, 3), (4, 2), (2, 4, 3), (0, 3, 3)])
def test_qr_raw_is_numpys(backend_name: str, shape: tuple[int, ...]) -> None:
    # torch refused mode="raw"
    a = np.random.default_rng(0).normal(size=shape)
    h, tau = mnp.linalg.qr(*_on(backend_name, a), mode="raw")
    want_h, want_tau = np.linalg.qr(a, mode="raw")
    for got, want in ((h, want_h), (tau, want_tau)):
        got = np.asarray(multiad.to_numpy(got))
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_qr_raw_has_no_derivative_and_says_so_on_autograd() -> None:
    def f(v: Any) -> Any:
        return mnp.sum(mnp.linalg.qr(v, mode="raw")[0])

    with pytest.raises(NotImplementedError, match=r"^mnp\.linalg\.qr: mode='raw' .* has no derivative"):
        multiad.grad(f, backend="autograd")(np.eye(3))  # was autograd's "VJP of qr wrt argnums (0,) not defined"
    g = multiad.grad(lambda v: mnp.sum(mnp.linalg.qr(v, mode="raw")[0]) + mnp.sum(v), backend="autograd")
    np.testing.assert_array_equal(g(np.zeros((0, 3, 3))), np.zeros((0, 3, 3)))  # an empty stack: nothing to refuse


LOGSPACE_ARRAY_BASES: list[Any] = [
    ((0, 1, 3), {"base": np.array([2.0, 10.0])}),
    (([0, 1], 2, 3), {"base": np.array([2.0, 10.0]), "axis": 1}),
    ((np.array([0.0, 1.0]), 2, 4), {"base": np.array([[2.0], [10.0]]), "axis": -1}),
    ((0, 1, 3), {"base": np.array([2.0, 10.0]), "dtype": "float32"}),
    ((np.array(0.0), 1, 3), {"base": np.array(2.0)}),
]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("case", LOGSPACE_ARRAY_BASES, ids=[str(i) for i in range(len(LOGSPACE_ARRAY_BASES))])
def test_logspace_with_an_array_base_broadcasts_as_numpy(backend_name: str, case: tuple[Any, dict[str, Any]]) -> None:
    # an inner mnp.power raised: the base was not broadcast with start and stop on a new axis
    args, kwargs = case
    want = np.logspace(*args, **kwargs)
    on = tuple(_on(backend_name, a)[0] if isinstance(a, np.ndarray) else a for a in args)
    got = np.asarray(multiad.to_numpy(mnp.logspace(*on, **{**kwargs, "base": _on(backend_name, kwargs["base"])[0]})))
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-14)


EMPTY_NORMS: list[Any] = [
    *[(f"vector_norm-{o}", (0,), lambda m, a, o=o: m.linalg.vector_norm(a, ord=o)) for o in (np.inf, -np.inf, 1, 0, 3)],
    *[(f"norm-{o}", (2, 0), lambda m, a, o=o: m.linalg.norm(a, ord=o, axis=1)) for o in (np.inf, -np.inf)],
    *[(f"matrix_norm-{o}", (0, 3), lambda m, a, o=o: m.linalg.matrix_norm(a, ord=o)) for o in (np.inf, -np.inf, 1, -1)],
    *[(f"matrix_norm-{o}-wide", (3, 0), lambda m, a, o=o: m.linalg.matrix_norm(a, ord=o)) for o in (np.inf, 1, -1)],
    ("matrix_norm-inf-keepdims", (2, 0, 3), lambda m, a: m.linalg.matrix_norm(a, ord=np.inf, keepdims=True)),
]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("case", EMPTY_NORMS, ids=[c[0] for c in EMPTY_NORMS])
def test_norms_of_empty_arrays_are_numpys(backend_name: str, case: tuple[str, tuple[int, ...], Any]) -> None:
    # the max norms gave a reduction's error where numpy's maximum starts at 0
    name, shape, call = case
    x = np.zeros(shape)
    (a,) = _on(backend_name, x)
    try:
        want = call(np, x)
    except ValueError:
        # the error names the call made (vector_norm, matrix_norm), not the norm it calls
        made = name.split("-")[0]
        with pytest.raises(ValueError, match=rf"^mnp\.linalg\.{made}: zero-size array to reduction operation minimum"):
            call(mnp, a)
        return
    _same(call(mnp, a), want)


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("axis", [(0, 2), 2, (-3, 1)])
def test_norm_axis_out_of_range_is_an_axis_error(backend_name: str, axis: Any) -> None:
    (a,) = _on(backend_name, np.ones((2, 3)))
    with pytest.raises(np.exceptions.AxisError):
        np.linalg.norm(np.ones((2, 3)), axis=axis)
    with pytest.raises(np.exceptions.AxisError, match=r"^mnp\.linalg\.norm: axis"):
        mnp.linalg.norm(a, axis=axis)  # a ValueError or RuntimeError of an inner sum


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_size_takes_a_tuple_of_axes(backend_name: str) -> None:
    x = np.ones((2, 3, 4))
    (a,) = _on(backend_name, x)
    for axis in [(0, 1), (0, -1), (), 1, -1]:
        assert mnp.size(a, axis=axis) == np.size(x, axis=axis)  # TypeError for a tuple
    with pytest.raises(np.exceptions.AxisError, match=r"^mnp\.size: axis 5 is out of bounds"):
        mnp.size(a, axis=5)  # IndexError: tuple index out of range


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin", "amax"])
def test_reductions_without_identity_over_no_values_raise_numpys_value_error(backend_name: str, name: str) -> None:
    with pytest.raises(ValueError):
        getattr(np, name)(np.zeros((2, 0)), axis=1)
    (a,) = _on(backend_name, np.zeros((2, 0)))
    with pytest.raises(ValueError):
        getattr(mnp, name)(a, axis=1)  # torch: IndexError


ZERO_D_RESULTS: list[Any] = [
    ("percentile", lambda m, a: m.percentile(a, 50)),
    ("nanquantile", lambda m, a: m.nanquantile(a, 0.5)),
    ("median", lambda m, a: m.median(a)),
    ("nanmedian", lambda m, a: m.nanmedian(a)),
    ("nanmax", lambda m, a: m.nanmax(a)),
    ("nanvar", lambda m, a: m.nanvar(a)),
    ("std", lambda m, a: m.std(a)),
    ("inner", lambda m, a: m.inner(a, a)),
    ("interp", lambda m, a: m.interp(2.5, a, a)),
    ("hypot", lambda m, a: m.hypot(a[0], a[1])),
    ("cbrt", lambda m, a: m.cbrt(a[0])),
    ("sinc", lambda m, a: m.sinc(a[0])),
    ("arctan2", lambda m, a: m.arctan2(a[0], a[1])),
    ("fmax", lambda m, a: m.fmax(a[0], a[1])),
    ("heaviside", lambda m, a: m.heaviside(a[0], a[1])),
    ("modf", lambda m, a: m.modf(a[0])),
    ("clip", lambda m, a: m.clip(a[0], 0, 1)),
    ("norm", lambda m, a: m.linalg.norm(a)),
    ("vector_norm", lambda m, a: m.linalg.vector_norm(a, ord=1)),
    ("matrix_norm", lambda m, a: m.linalg.matrix_norm(m.diag(a))),
    ("cond", lambda m, a: m.linalg.cond(m.diag(a))),
    ("cov", lambda m, a: m.cov(a)),  # numpy: a 0-d array
    ("copy", lambda m, a: m.copy(a[0])),  # numpy: a 0-d array of a scalar
]


@pytest.mark.parametrize("backend_name", ["numpy", "autograd"])  # torch, JAX: 0-d arrays of their own
@pytest.mark.parametrize("case", ZERO_D_RESULTS, ids=[c[0] for c in ZERO_D_RESULTS])
def test_results_without_axes_are_numpy_scalars_where_numpys_are(backend_name: str, case: tuple[str, Any]) -> None:
    # median, percentile, std, norm, ... returned 0-d arrays where numpy returns np.float64
    _, call = case
    x = np.array([1.0, 2.0, 4.0, 7.0])
    want = call(np, x)
    got = call(mnp, *_on(backend_name, x))
    for g, w in zip(got, want, strict=True) if isinstance(want, tuple) else [(got, want)]:
        assert type(g) is type(w), (g, w)
        np.testing.assert_allclose(g, w, rtol=1e-14)


def test_numpy_scalar_results_keep_finite_difference_derivatives() -> None:
    x = np.array([1.0, 2.0, 4.0, 7.0])
    grad = multiad.grad(lambda v: mnp.median(v) + mnp.linalg.norm(v) + mnp.std(v), backend="numpy")(x)
    n = len(x)
    want = np.array([0.0, 0.5, 0.5, 0.0]) + x / np.linalg.norm(x) + (x - x.mean()) / (n * np.std(x))
    np.testing.assert_allclose(grad, want, rtol=1e-6)


EMPTY_SLICES: list[Any] = [
    ("nanmean", lambda m, a: m.nanmean(a)),
    ("nanmean-axis", lambda m, a: m.nanmean(m.reshape(a, (2, 2)), axis=1)),
    ("mean-empty", lambda m, a: m.mean(a[:0])),
    ("mean-empty-axis", lambda m, a: m.mean(m.reshape(a, (4, 1))[:, :0], axis=1)),
    ("median-empty", lambda m, a: m.median(a[:0])),
    ("nanmedian", lambda m, a: m.nanmedian(a)),
    ("nanpercentile", lambda m, a: m.nanpercentile(a, 50)),
    ("nanmax", lambda m, a: m.nanmax(a)),
    ("nanmin-axis", lambda m, a: m.nanmin(m.reshape(a, (2, 2)), axis=0)),
    ("nanvar", lambda m, a: m.nanvar(a)),
    ("nanstd-ddof", lambda m, a: m.nanstd(a[:1], ddof=1)),
    ("var-empty", lambda m, a: m.var(a[:0])),
    ("std-ddof", lambda m, a: m.std(a[:1], ddof=1)),
    ("nanmean-some", lambda m, a: m.nanmean(m.where(m.isnan(a), 1.0, a))),  # no warning
]


def _slice_warnings(call: Any) -> tuple[Any, set[str]]:
    """The result and numpy's own RuntimeWarnings of a call (not the floating-point ones)."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = call()
    said = {str(w.message) for w in seen if issubclass(w.category, RuntimeWarning)}
    return out, {m for m in said if not m.startswith(("invalid value", "divide by zero"))}


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("case", EMPTY_SLICES, ids=[c[0] for c in EMPTY_SLICES])
def test_slices_without_values_warn_as_numpy(backend_name: str, case: tuple[str, Any]) -> None:
    # numpy's "Mean of empty slice", "All-NaN slice encountered", "Degrees of freedom <= 0 for
    # slice" were missing (or only numpy's "invalid value encountered in divide" came)
    _, call = case
    x = np.full(4, np.nan)
    want, want_said = _slice_warnings(lambda: call(np, x))
    (a,) = _on(backend_name, x)
    got, said = _slice_warnings(lambda: call(mnp, a))
    assert said == want_said
    np.testing.assert_array_equal(np.asarray(multiad.to_numpy(got)), want)


AVERAGE_CASES = [
    ("int8", "int8", [3, 7, 100, 0], [2, 3, 120, 1]),
    ("uint8", "uint8", [3, 7, 100, 0], [2, 3, 120, 1]),
    ("uint16", "uint16", [3, 7, 60000, 0], [2, 3, 4, 1]),
    ("int8", "float32", [3, 7, 100, 0], [2, 3, 120, 1]),
    ("bool", "int16", [1, 0, 1, 1], [1, 2, 3, 100]),
]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("case", AVERAGE_CASES, ids=[f"{c[0]}-{c[1]}" for c in AVERAGE_CASES])
def test_average_of_small_integers_does_not_wrap(
    backend_name: str, case: tuple[str, str, list[int], list[int]]
) -> None:
    # a * w was computed in the integers' dtype (100 * 120 in int8 wrapped): numpy multiplies in float64
    a_type, w_type, a, w = case
    a_np, w_np = np.array(a, dtype=a_type), np.array(w, dtype=w_type)
    x, weights = _on(backend_name, a_np, w_np)
    want = np.average(a_np, weights=w_np)
    got = np.asarray(multiad.to_numpy(mnp.average(x, weights=weights)))
    rtol = 1e-6 if got.dtype == np.float32 else 1e-14  # JAX without x64 computes in float32, as jnp.average
    np.testing.assert_allclose(got, want, rtol=rtol)


TRAPEZOID_CASES: list[tuple[list[int], dict[str, Any]]] = [
    ([1, 2, 3], {"x": [4, 6, 8]}),
    ([1, 2, 3], {"dx": 2}),
    ([1, 2, 3], {"x": [8, 6, 4]}),
    ([1, 2, 3], {}),
]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("case", TRAPEZOID_CASES, ids=["x", "dx", "x-decreasing", "default"])
def test_trapezoid_of_integers_is_float64(backend_name: str, case: tuple[list[int], dict[str, Any]]) -> None:
    # numpy's docstring examples: torch's ``/`` divided the integer sum into float32
    y, kw = case
    (a,) = _on(backend_name, np.array(y))
    _same(mnp.trapezoid(a, **kw), np.trapezoid(np.array(y), **kw))


@pytest.mark.parametrize("backend_name", AD_BACKENDS)
def test_trapezoid_derivative_is_its_weights(backend_name: str) -> None:
    # d/dy of sum((x[i+1] - x[i]) * (y[i] + y[i+1]) / 2): half of each neighbouring interval
    x = [4, 6, 9]
    (y,) = _on(backend_name, np.array([1.0, 2.0, 3.0]))
    got = multiad.grad(lambda v: mnp.trapezoid(v, x=x), backend=backend_name)(y)
    np.testing.assert_allclose(np.asarray(multiad.to_numpy(got)), [1.0, 2.5, 1.5], rtol=1e-12)


SPLIT_POINTS: list[Any] = [np.array([3, 6]), [3, 6], [1, -1], [5, 2], 2]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", ["split", "array_split", "vsplit", "hsplit", "dsplit"])
@pytest.mark.parametrize("points", SPLIT_POINTS, ids=["array-past-end", "list-past-end", "negative", "decreasing", "2"])
def test_split_points_past_the_end_are_numpys(backend_name: str, name: str, points: Any) -> None:
    # numpy's docstring example np.hsplit(x, np.array([3, 6])) of 4 columns: JAX raised
    # "Sizes passed to split must be nonnegative"
    x = np.arange(64.0).reshape(4, 4, 4)
    (a,) = _on(backend_name, x)
    got, want = getattr(mnp, name)(a, points), getattr(np, name)(x, points)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        _same(g, w)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_hsplit_of_a_vector_splits_its_only_axis(backend_name: str) -> None:
    x = np.arange(5.0)
    (a,) = _on(backend_name, x)
    for g, w in zip(mnp.hsplit(a, [3, 6]), np.hsplit(x, [3, 6]), strict=True):
        _same(g, w)


@pytest.mark.parametrize("backend_name", AD_BACKENDS)
def test_hsplit_past_the_end_derivative(backend_name: str) -> None:
    w = np.arange(1.0, 5.0).reshape(4, 1)
    (a,) = _on(backend_name, np.ones((4, 4)))
    got = multiad.grad(lambda v: mnp.sum(mnp.hsplit(v, [3, 6])[1] * w), backend=backend_name)(a)
    want = np.zeros((4, 4))
    want[:, 3:] = w  # the middle part is column 3 alone
    np.testing.assert_array_equal(np.asarray(multiad.to_numpy(got)), want)


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8", "float32"])
def test_fabs_of_integers_is_a_float(backend_name: str, dtype: str) -> None:
    # numpy's docstring example np.fabs(-1) is 1.0; JAX gave an integer
    x = np.array([-1, 0, 3]).astype(dtype)
    (a,) = _on(backend_name, x)
    got = np.asarray(multiad.to_numpy(mnp.fabs(a)))
    want = np.fabs(x)
    np.testing.assert_array_equal(got, want)
    assert got.dtype.kind == "f"
    if backend_name != "jax":  # JAX: its own float width for small integers (docs/api-numpy.md)
        assert got.dtype == want.dtype


WHERE_LIST_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("sum", {"axis": 1}),
    ("nansum", {"axis": 1}),
    ("prod", {}),
    ("mean", {}),
    ("max", {"initial": -1.0, "axis": 0}),
    ("min", {"initial": 10.0, "axis": 0}),
    ("nanmax", {"initial": -1.0}),
    ("all", {}),
    ("any", {"axis": 0}),
    ("std", {}),
    ("var", {"axis": 0}),
]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("call", WHERE_LIST_CALLS, ids=[c[0] for c in WHERE_LIST_CALLS])
def test_reductions_take_where_as_a_list(backend_name: str, call: tuple[str, dict[str, Any]]) -> None:
    # numpy's docstring examples (np.sum(x, where=[False, True], axis=1)): JAX raised
    # "sum requires ndarray or scalar arguments, got <class 'list'>"
    name, kw = call
    x = np.array([[0.0, 1.0], [np.nan, 5.0], [2.0, 3.0]])
    where = [[True, False], [False, True], [True, True]]
    (a,) = _on(backend_name, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _same(getattr(mnp, name)(a, where=where, **kw), getattr(np, name)(x, where=where, **kw))


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("where", [[0, 1], [0.5, 0], [[1, 0], [0, 2]]], ids=str)
def test_where_list_of_numbers_is_read_as_truth_values(backend_name: str, where: Any) -> None:
    # numpy reads a list of numbers as booleans (nonzero is True); JAX raised "where must be
    # None or a boolean array; got where.dtype=dtype('int64')"
    x = np.array([[0.0, 1.0], [2.0, 3.0]])
    (a,) = _on(backend_name, x)
    _same(mnp.sum(a, where=where, axis=1), np.sum(x, where=where, axis=1))


@pytest.mark.parametrize("backend_name", AD_BACKENDS)
def test_sum_with_a_where_list_derivative_is_the_mask(backend_name: str) -> None:
    where = [True, False, True]
    (a,) = _on(backend_name, np.array([1.0, 2.0, 3.0]))
    got = multiad.grad(lambda v: mnp.sum(v * v, where=where), backend=backend_name)(a)
    np.testing.assert_array_equal(np.asarray(multiad.to_numpy(got)), [2.0, 0.0, 6.0])


PAD_DICTS: list[Any] = [{1: (1, 2)}, {-1: 2}, {0: (3, 0)}, {0: (3, 0), 1: 2}, {}]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("widths", PAD_DICTS, ids=[str(i) for i in range(len(PAD_DICTS))])
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect"])
def test_pad_takes_widths_by_axis(backend_name: str, widths: Any, mode: str) -> None:
    # numpy's docstring examples np.pad(a, {1: (1, 2)}): "int() argument must be ... not 'dict'"
    x = np.arange(6.0).reshape(2, 3)
    (a,) = _on(backend_name, x)
    _same(mnp.pad(a, widths, mode), np.pad(x, widths, mode))


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_pad_refuses_a_dict_of_bad_widths(backend_name: str) -> None:
    (a,) = _on(backend_name, np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"^mnp\.pad: pad_width's key 2 is not an axis of a 2-d array"):
        mnp.pad(a, {2: 1})
    with pytest.raises(TypeError, match=r"^mnp\.pad: pad_width\[0\] must be an int or a pair"):
        mnp.pad(a, {0: (1, 2, 3)})


@pytest.mark.parametrize("backend_name", AD_BACKENDS)
def test_pad_by_axis_derivative(backend_name: str) -> None:
    # edge padding repeats the last column twice: its derivative counts 3 copies
    (a,) = _on(backend_name, np.arange(6.0).reshape(2, 3))
    got = multiad.grad(lambda v: mnp.sum(mnp.pad(v, {-1: (0, 2)}, "edge")), backend=backend_name)(a)
    np.testing.assert_array_equal(np.asarray(multiad.to_numpy(got)), [[1.0, 1.0, 3.0], [1.0, 1.0, 3.0]])


FULL_LIKE_FILLS: list[Any] = [[0, 0, 255], [0.5, 1.5, 2.5], np.array([[1.0], [2.0]]), [[7]], (1, 2, 3), 3.5]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("fill", FULL_LIKE_FILLS, ids=[str(i) for i in range(len(FULL_LIKE_FILLS))])
@pytest.mark.parametrize("dtype", ["int64", "float32", "float64"])
def test_full_like_takes_an_array_of_fill_values(backend_name: str, fill: Any, dtype: str) -> None:
    # numpy's docstring example np.full_like(y, [0, 0, 255]): torch and JAX raised that the fill
    # must be a number
    y = np.zeros((2, 3), dtype=dtype)
    (a,) = _on(backend_name, y)
    _same(mnp.full_like(a, fill), np.full_like(y, fill))
    _same(mnp.full_like(a, fill, dtype="float64"), np.full_like(y, fill, dtype="float64"))


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_full_like_refuses_fills_that_do_not_broadcast(backend_name: str) -> None:
    (a,) = _on(backend_name, np.zeros((2, 3)))
    with pytest.raises(ValueError):
        mnp.full_like(a, [1.0, 2.0])  # numpy: could not broadcast input array from shape (2,) into (2,3)


EINSUM_DTYPES: list[tuple[str, Any, str]] = [
    ("float64", "float32", "same_kind"),
    ("int64", "float64", "safe"),
    ("int64", float, "safe"),
    ("int64", "int32", "unsafe"),
    ("float32", "float64", "safe"),
    ("int32", "int64", "safe"),
]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("case", EINSUM_DTYPES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in EINSUM_DTYPES])
def test_einsum_dtype_is_numpys(backend_name: str, case: tuple[str, Any, str]) -> None:
    # torch ignored an integer dtype= (float64 results), JAX's einsum has no dtype= (TypeError)
    src, dtype, casting = case
    x = np.arange(6).reshape(2, 3).astype(src)
    (a,) = _on(backend_name, x)
    _same(
        mnp.einsum("ij,kj->ik", a, a, dtype=dtype, casting=casting),
        np.einsum("ij,kj->ik", x, x, dtype=dtype, casting=casting),
    )


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_einsum_dtype_refuses_casts_numpy_refuses(backend_name: str) -> None:
    (a,) = _on(backend_name, np.ones((2, 2)))
    with pytest.raises(TypeError):
        np.einsum("ij->", np.ones((2, 2)), dtype="float32")  # 'safe' casting, the default
    with pytest.raises(TypeError, match=r"^mnp\.einsum: operand 0 of dtype float64 cannot be cast to dtype=float32"):
        mnp.einsum("ij->", a, dtype="float32")


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_einsum_takes_numpys_einsum_path(backend_name: str) -> None:
    # numpy's docstring example einsum(..., optimize=np.einsum_path(...)[0]): JAX raised
    # "'str' object cannot be interpreted as an integer" (its path has no "einsum_path" head)
    x = np.arange(9.0).reshape(3, 3)
    path = np.einsum_path("ij,jk,kl->il", x, x, x, optimize="greedy")[0]
    (a,) = _on(backend_name, x)
    _same(mnp.einsum("ij,jk,kl->il", a, a, a, optimize=path), np.einsum("ij,jk,kl->il", x, x, x, optimize=path))


@pytest.mark.parametrize("backend_name", AD_BACKENDS)
def test_einsum_with_dtype_derivative(backend_name: str) -> None:
    # d/dx sum_i x_i * y_i = y, through the cast of float32 x to float64
    x, y = np.array([1.0, 2.0, 3.0], dtype="float32"), np.array([0.5, -1.0, 4.0])
    a, b = _on(backend_name, x, y)
    got = multiad.grad(lambda v: mnp.einsum("i,i->", v, b, dtype="float64"), backend=backend_name)(a)
    np.testing.assert_allclose(np.asarray(multiad.to_numpy(got)), y, rtol=1e-6)


AVERAGE_WEIGHT_SHAPES: list[tuple[Any, Any]] = [
    ([0.25, 0.75], None),  # numpy's docstring example: TypeError, axis needed
    ([[0.25, 0.75]], None),
    ([[0.25, 0.75]], 1),  # the same number of dimensions, not a's shape: ValueError
    ([[1.0], [2.0], [3.0]], 0),
]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("case", AVERAGE_WEIGHT_SHAPES, ids=[str(i) for i in range(len(AVERAGE_WEIGHT_SHAPES))])
def test_average_refuses_weights_numpy_refuses(backend_name: str, case: tuple[Any, Any]) -> None:
    # average(data, weights=[1/4, 3/4]) of a (3, 2) array broadcast the weights; numpy raises
    weights, axis = case
    x = np.arange(6.0).reshape(3, 2)
    with pytest.raises((TypeError, ValueError)) as want:
        np.average(x, axis=axis, weights=weights)
    (a,) = _on(backend_name, x)
    with pytest.raises(want.type, match=r"^mnp\.average: "):
        mnp.average(a, axis=axis, weights=weights)
    _same(mnp.average(a, axis=1, weights=[0.25, 0.75]), np.average(x, axis=1, weights=[0.25, 0.75]))


COND_ORDERS: list[Any] = [None, 2, -2, 1, -1, np.inf, -np.inf, "fro", "nuc"]
COND_MATRICES: list[np.ndarray] = [
    np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]),  # numpy's docstring example
    np.stack([2.0 * np.eye(2), [[1.0, 2.0], [2.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]]]),  # a singular one inside
    np.zeros((2, 2)),
    np.array([[1.0, 2.0], [3.0, 4.0]], dtype="float32"),
]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("p", COND_ORDERS, ids=[str(p) for p in COND_ORDERS])
@pytest.mark.parametrize("index", range(len(COND_MATRICES)))
def test_cond_takes_numpys_orders(backend_name: str, p: Any, index: int) -> None:
    # cond(a, 'fro') and the other orders raised NotImplementedError
    x = COND_MATRICES[index]
    if p == "nuc" and index in (1, 2):
        pytest.skip("numpy raises 'SVD did not converge' at a singular matrix; mnp gives inf (docs/api-numpy.md)")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.linalg.cond(x, p)
        (a,) = _on(backend_name, x)
        got = np.asarray(multiad.to_numpy(mnp.linalg.cond(a, p)))
    assert got.shape == np.shape(want) and got.dtype == np.asarray(want).dtype
    # A singular matrix's condition number is 1 / (rounding noise of its smallest singular value or
    # pivot), and with the negative orders that noise itself: beyond 1 / eps (or below eps) both
    # sides say "singular", and the value depends on the LAPACK build (one CPU's MKL path gave
    # 2.5e16 where numpy gave 4.8e16).
    eps = float(np.finfo(x.dtype).eps)
    big, tiny = np.asarray(want) >= 0.1 / eps, np.asarray(want) <= 10 * eps
    singular = big | tiny
    assert (np.asarray(got)[big] >= 0.1 / eps).all() and (np.asarray(got)[tiny] <= 10 * eps).all(), (got, want)
    np.testing.assert_allclose(
        np.where(singular, 1.0, got), np.where(singular, 1.0, want), rtol=1e-5 if x.dtype == np.float32 else 1e-12
    )


def test_cond_refuses_an_unknown_order() -> None:
    with pytest.raises(ValueError, match=r"^mnp\.linalg\.cond: invalid norm order 3"):
        mnp.linalg.cond(np.eye(2), 3)


@pytest.mark.parametrize("backend_name", AD_BACKENDS)
@pytest.mark.parametrize("p", [1, np.inf, "fro", "nuc", -2])
def test_cond_derivative_matches_finite_differences(backend_name: str, p: Any) -> None:
    x = np.array([[2.0, 0.3, -0.5], [0.1, 1.5, 0.2], [0.4, -0.2, 1.0]])
    (a,) = _on(backend_name, x)
    got = np.asarray(multiad.to_numpy(multiad.grad(lambda v: mnp.linalg.cond(v, p), backend=backend_name)(a)))
    want = central_gradient(lambda v: np.linalg.cond(v, p), x)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_polyval_reads_a_poly1d_as_its_coefficients(backend_name: str) -> None:
    # numpy's docstring example polyval(np.poly1d([3, 0, 1]), 5): "'poly1d' object has no attribute 'shape'"
    x = np.array([5.0, -1.5])
    (a,) = _on(backend_name, x)
    _same(mnp.polyval(np.poly1d([3.0, 0.0, 1.0]), a), np.polyval(np.poly1d([3.0, 0.0, 1.0]), x))
    with pytest.raises(TypeError, match=r"^mnp\.polyval: x as a numpy\.poly1d"):
        mnp.polyval(a, np.poly1d(5))


@pytest.mark.parametrize("backend_name", AD_BACKENDS)
def test_polyval_of_a_poly1d_derivative(backend_name: str) -> None:
    (a,) = _on(backend_name, np.array([5.0, -1.5]))
    got = multiad.grad(lambda v: mnp.sum(mnp.polyval(np.poly1d([3.0, 0.0, 1.0]), v)), backend=backend_name)(a)
    np.testing.assert_allclose(np.asarray(multiad.to_numpy(got)), [30.0, -9.0], rtol=1e-12)  # 6 x


ARANGE_CASES: list[tuple[tuple[Any, ...], Any]] = [
    ((0, 5, 0.5), int),  # numpy's docstring examples: ten zeros
    ((-3, 3, 0.5), int),  # -3, -2, ..., 8
    ((0.0, 1.0, 0.3), "float32"),
    ((5,), "int8"),
    ((1, 2, 0.25), "float64"),
    ((0, 10, 3), "uint8"),
]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("case", ARANGE_CASES, ids=[str(i) for i in range(len(ARANGE_CASES))])
def test_arange_with_a_dtype_is_numpys(backend_name: str, case: tuple[tuple[Any, ...], Any]) -> None:
    # the float64 values were cast afterwards: 0, 0, 1, 1, ... for numpy's ten zeros
    args, dtype = case
    with multiad.use_backend(backend_name):
        _same(mnp.arange(*args, dtype=dtype), np.arange(*args, dtype=dtype))


WIDE_UNSIGNED_WITH_AXES: list[Any] = [
    ("max_axis", lambda m, a: m.max(a, 1)),
    ("min_axis_kw", lambda m, a: m.min(a, axis=0)),
    ("amax_negative_axis", lambda m, a: m.amax(a, axis=-1, keepdims=True)),
    ("max_initial", lambda m, a: m.max(a, axis=1, initial=2**63 + 6)),
    ("max_positional_initial", lambda m, a: m.max(a, 0, None, False, 2**63 + 1)),
    ("sort_axis", lambda m, a: m.sort(a, 0)),
    ("argsort_axis", lambda m, a: m.argsort(a, axis=0)),
    ("argmax_axis", lambda m, a: m.argmax(a, 1)),
    ("argmin_keepdims", lambda m, a: m.argmin(a, axis=0, keepdims=True)),
    ("ptp_axis", lambda m, a: m.ptp(a, 1)),
]


@pytest.mark.parametrize("case", WIDE_UNSIGNED_WITH_AXES, ids=[c[0] for c in WIDE_UNSIGNED_WITH_AXES])
def test_uint64_reductions_along_an_axis_on_torch(case: tuple[str, Any]) -> None:
    # The integers a call takes as axes are not values: they are not shifted with the values'
    # bits (mnp.max(x, 1) of a uint64 tensor raised "axis -9223372036854775807 is out of bounds").
    import torch

    _, call = case
    x = np.array([[2**64 - 1, 3, 2**63 + 5], [0, 2**63, 7]], dtype=np.uint64)
    _same(call(mnp, torch.from_numpy(x.copy())), call(np, x))
