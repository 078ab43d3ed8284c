"""multiad.numpy gives numpy's result dtypes and values on torch (and autograd), checked against
numpy itself: promotion of numpy scalars (NEP 50), integer inputs, ``dtype=``/``where=``/
``initial=`` of reductions, creation functions and every spelling of a dtype.

JAX keeps its own promotion rules (see docs/api-numpy.md); it is checked here where the
behaviour is multiad's own (masked reductions and their derivatives, dtype spellings).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from conftest import central_gradient

import multiad
import multiad.numpy as mnp

NUMPY_TYPED = ("torch", "autograd", "numpy")  # backends whose dtypes follow numpy's exactly


def data(dtype: str) -> np.ndarray:
    if dtype == "bool":
        return np.array([[True, False, True], [False, True, True]])
    return np.array([[1.5, -2.5, 0.25], [4.0, 0.0, -3.5]]).astype(dtype)


def on(backend: str, x: Any) -> Any:
    return multiad.asarray(x, backend=backend) if isinstance(x, np.ndarray) else x


def same(got: Any, want: Any, rtol: float = 1e-12) -> None:
    """``got`` (an array of any backend) has numpy's result's dtype and values."""
    g, w = np.asarray(multiad.to_numpy(got)), np.asarray(want)
    assert g.dtype == w.dtype, f"dtype {g.dtype}, numpy gives {w.dtype}"
    assert g.shape == w.shape
    np.testing.assert_allclose(g, w, rtol=1e-6 if w.dtype in (np.float32, np.float16) else rtol)


def both(backend: str, name: str, *args: Any, rtol: float = 1e-12, **kwargs: Any) -> None:
    """mnp.NAME on the backend's arrays against numpy.NAME on numpy's."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = getattr(np, name)(*args, **kwargs)
        got = getattr(mnp, name)(*[on(backend, a) for a in args], **kwargs)
    same(got, want, rtol)


INT_AND_BOOL = ("bool", "int8", "int32", "int64")


@pytest.mark.parametrize("backend", NUMPY_TYPED)
@pytest.mark.parametrize(
    "name",
    ["sign", "floor", "ceil", "trunc", "fix", "rint", "round", "around", "abs", "negative", "square", "sin", "cbrt"],
)
def test_elementwise_dtypes_of_integers_follow_numpy(backend: str, name: str) -> None:
    for dt in INT_AND_BOOL:
        x = data(dt)
        try:
            want = getattr(np, name)(x)
        except TypeError:  # numpy defines no sign or negative of booleans: neither does mnp
            with pytest.raises(TypeError):
                getattr(mnp, name)(on(backend, x))
            continue
        same(getattr(mnp, name)(on(backend, x)), want)


@pytest.mark.parametrize("backend", NUMPY_TYPED)
def test_round_of_integers(backend: str) -> None:
    x = np.array([15, 25, -35, 7])
    for decimals in (0, 1, -1):
        both(backend, "round", x, decimals=decimals)
        both(backend, "around", x, decimals)
    both(backend, "round", np.array([1.25, -2.35], dtype=np.float32), decimals=1)


def test_round_of_integers_on_jax() -> None:
    x = np.array([15, 25, -35, -25, 149, 150, 250, -150])  # halves go to the even neighbour
    for decimals in (-1, -2, 0):
        same(mnp.round(on("jax", x), decimals), np.round(x, decimals))


# numpy 2 (NEP 50): numpy scalars and 0-d arrays are strong, Python numbers weak.
OPERANDS = {
    "np.float64": np.float64(2.5),
    "np.float32": np.float32(2.5),
    "np.int64": np.int64(2),
    "np.int32": np.int32(3),
    "python float": 2.5,
    "python int": 2,
    "0-d float64": np.array(2.5),
    "float32 array": data("float32")[0],
    "int64 array": np.array([1, 2, 3]),
}


@pytest.mark.parametrize("backend", NUMPY_TYPED)
@pytest.mark.parametrize("name", ["add", "multiply", "subtract", "divide", "maximum", "power", "greater", "arctan2"])
def test_promotion_follows_numpy(backend: str, name: str) -> None:
    for dt in ("float32", "int32", "float64"):
        x = np.abs(data(dt)[0]) + 1
        for other in OPERANDS.values():
            if name == "power" and np.issubdtype(np.result_type(x, other), np.integer):
                other = np.abs(other)
            both(backend, name, x, other)
            both(backend, name, other, x)


def test_float32_times_numpy_float64_is_float64_on_torch() -> None:
    import torch

    x = torch.tensor([1.0, 2.0])  # float32
    assert mnp.multiply(x, np.float64(2.0)).dtype == torch.float64
    assert mnp.multiply(x, 2.0).dtype == torch.float32  # a Python float is weak
    assert mnp.add(x, np.array(1.0)).dtype == torch.float64  # so is not a 0-d array
    assert mnp.where(x > 1, x, 0.0).dtype == torch.float32
    assert mnp.matmul(x.to(torch.int32), torch.ones(2)).dtype == torch.float64


@pytest.mark.parametrize("backend", NUMPY_TYPED)
def test_reduction_dtype_argument(backend: str) -> None:
    for name in ("sum", "prod", "mean", "cumsum", "cumprod", "std", "var", "nansum", "nanprod", "nanmean", "nanvar"):
        for dt in ("bool", "int32", "float32", "float64"):
            x = data(dt)
            both(backend, name, x)
            # numpy's nanvar computes parts of a float64 result from float32 input in float32
            rtol = 1e-6 if dt == "float32" else 1e-12
            for out in ("float32", "float64") + (("int64",) if name in ("sum", "prod", "mean", "cumsum") else ()):
                both(backend, name, x, dtype=out, rtol=rtol)
                both(backend, name, x, axis=0, dtype=np.dtype(out), rtol=rtol)


@pytest.mark.parametrize("backend", NUMPY_TYPED)
def test_where_and_initial(backend: str) -> None:
    x = data("float64")
    mask = np.array([[True, False, True], [True, True, False]])
    for name in ("sum", "prod", "mean", "std", "var", "all", "any"):
        both(backend, name, x, where=mask)
        both(backend, name, x, axis=1, where=mask[0])
    for name in ("max", "min", "amax", "amin"):
        both(backend, name, x, where=mask, initial=0.5)
        both(backend, name, x, axis=0, keepdims=True, where=mask, initial=-1.0)
    for name in ("sum", "prod", "max", "min"):
        both(backend, name, x, initial=3.0)
        both(backend, name, data("int32"), axis=0, initial=3)


@pytest.mark.parametrize("backend", ["torch", "jax", "autograd"])
def test_masked_reduction_derivatives(backend: str) -> None:
    # Closed forms: masked elements do not take part (autograd's own where= derivatives ignore
    # the mask; multiad.numpy fills masked elements instead).
    x = np.array([1.0, 2.0, 3.0, 4.0])
    m = np.array([True, False, True, True])

    def g(f: Any) -> np.ndarray:
        return np.asarray(multiad.to_numpy(multiad.grad(f, backend=backend)(x)))

    np.testing.assert_allclose(g(lambda x: mnp.sum(x, where=m)), [1, 0, 1, 1])
    np.testing.assert_allclose(g(lambda x: mnp.prod(x, where=m)), [12, 0, 4, 3])
    np.testing.assert_allclose(g(lambda x: mnp.mean(x, where=m)), [1 / 3, 0, 1 / 3, 1 / 3])
    np.testing.assert_allclose(g(lambda x: mnp.max(x, where=~np.array([0, 0, 0, 1], bool), initial=0.0)), [0, 0, 1, 0])
    mean = (1 + 3 + 4) / 3
    np.testing.assert_allclose(g(lambda x: mnp.var(x, where=m)), 2 * (x - mean) * m / 3, rtol=1e-12)


@pytest.mark.parametrize("backend", NUMPY_TYPED)
def test_masked_extremum_needs_initial(backend: str) -> None:
    with pytest.raises(ValueError, match=r"initial"):
        mnp.max(on(backend, data("float64")), where=on(backend, data("bool")))


def test_reduction_errors_start_with_the_call() -> None:
    import torch

    x = torch.ones(3, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"^mnp\.max: .*initial="):
        mnp.max(x, where=torch.tensor([True, False, True]))
    with pytest.raises(TypeError, match=r"^mnp\.var: an integer dtype"):
        mnp.var(x, dtype="int64")
    with pytest.raises(TypeError, match=r"^mnp\.std: an integer dtype"):
        mnp.std(x, dtype=np.int32)
    with pytest.raises(NotImplementedError, match=r"^mnp\.sum: out= "):
        mnp.sum(x, out=x)
    with pytest.raises(TypeError, match=r"^mnp\.sign: numpy does not define it for bool"):
        mnp.sign(torch.tensor([True]))
    with pytest.raises(ValueError, match=r"^mnp\.power: integers to negative integer powers"):
        mnp.power(torch.tensor([2, 3]), -1)


@pytest.mark.parametrize("backend", NUMPY_TYPED)
def test_integer_division_by_zero_gives_numpy_zero(backend: str) -> None:
    x, y = np.array([7, -7, 3]), np.array([0, 2, 0])
    for name in ("floor_divide", "mod", "remainder", "fmod"):
        both(backend, name, x, y)


# -- creation functions: numpy's dtypes (NOTE [Creation dtypes]) ----------------------------------

CREATION = [
    ("zeros", (3,), {}),
    ("ones", ((2, 2),), {}),
    ("empty", (2,), {}),
    ("full", (2, 1), {}),
    ("full", (2, 1.5), {}),
    ("full", (2, True), {}),
    ("eye", (2,), {}),
    ("identity", (2,), {}),
    ("tri", (3,), {}),
    ("arange", (4,), {}),
    ("arange", (0.0, 1.0, 0.25), {}),
    ("linspace", (0, 1, 5), {}),
    ("linspace", (np.float64(0), np.float64(1), 5), {}),
    ("linspace", (0, 10, 4), {"dtype": "int64"}),
    ("asarray", ([1.0, 2.0],), {}),
    ("asarray", ([1, 2],), {}),
    ("asarray", (1.0,), {}),
    ("array", ([[1.0], [2.0]],), {}),
    ("zeros", (2,), {"dtype": "float32"}),
    ("ones", (2,), {"dtype": np.float32}),
    ("arange", (3,), {"dtype": np.dtype("float32")}),
]


@pytest.mark.parametrize("backend", NUMPY_TYPED)
@pytest.mark.parametrize(("name", "args", "kwargs"), CREATION, ids=[f"{c[0]}{c[1]}{c[2]}" for c in CREATION])
def test_creation_dtypes_follow_numpy(backend: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    with multiad.use_backend(backend) as b:
        got = getattr(mnp, name)(*args, **kwargs)
    assert b.is_array(got)
    reference = "zeros" if name == "empty" else name  # multiad's empty holds zeros, never garbage
    same(got, getattr(np, reference)(*args, **kwargs))


def test_creation_without_a_selected_backend_is_float64_torch() -> None:
    import torch

    assert multiad.get_backend().name == "torch"  # the default, nothing selected
    assert mnp.linspace(np.float64(0.0), np.float64(1.0), 3).dtype == torch.float64
    assert mnp.zeros(2).dtype == mnp.asarray([1.0, 2.0]).dtype == torch.float64
    assert mnp.zeros(2, dtype=torch.float32).dtype == torch.float32


def test_creation_dtypes_on_another_backend_over_torch() -> None:
    # NOTE [Creation dtypes]: float64 on every backend over torch, not only the one named torch.
    import torch

    from multiad import _registry

    _registry.records()
    state = _registry.snapshot()
    base = type(_registry.get("torch"))
    try:
        multiad.register_backend(
            "rt_torch_like", type("TorchLike", (base,), {"name": "rt_torch_like", "array_modules": ()})
        )
        with multiad.use_backend("rt_torch_like") as b:
            assert b.default_dtype() == "float32"  # torch's own default, which creation does not follow
            assert mnp.zeros(2).dtype == mnp.asarray([1.0, 2.0]).dtype == torch.float64
            assert mnp.ones(2, dtype="float32").dtype == torch.float32
    finally:
        _registry.restore(state)


DTYPE_SPELLINGS = ["float32", np.float32, np.dtype("float32")]


@pytest.mark.parametrize("backend", ["torch", "jax", "autograd", "numpy"])
def test_astype_and_asarray_take_every_dtype_spelling(backend: str) -> None:
    import torch

    x = on(backend, np.array([1.5, -2.5]))
    for spelling in [*DTYPE_SPELLINGS, torch.float32]:
        for out in (mnp.astype(x, spelling), mnp.asarray(x, dtype=spelling), mnp.array(x, dtype=spelling)):
            same(out, np.array([1.5, -2.5], dtype=np.float32))
    same(mnp.astype(x, int), np.array([1, -2]))
    same(mnp.astype(x, "bool"), np.array([True, True]))
    with pytest.raises(TypeError, match=r"^mnp\.astype: "):
        mnp.astype(x, "no-such-dtype")


def test_the_dtypes_example_of_the_numpy_page_runs() -> None:
    from test_docs import DOCS, python_blocks

    blocks = python_blocks(DOCS / "api-numpy.md")
    assert blocks
    namespace: dict[str, Any] = {}
    for block in blocks:
        exec(compile(block, "api-numpy.md", "exec"), namespace)


# Functions written once from other mnp functions, which must not lose numpy's dtype on the way.
COMPOSITE = [
    ("trace", lambda x: ((x,), {"dtype": "float32"})),
    ("cumulative_sum", lambda x: ((x,), {"axis": 0, "dtype": "float32"})),
    ("zeros_like", lambda x: ((x,), {"dtype": "float32"})),
    ("full_like", lambda x: ((x, 2), {"dtype": "float32"})),
    ("vdot", lambda x: ((x, x), {})),
    ("vecdot", lambda x: ((x, x), {})),
    ("trapezoid", lambda x: ((x,), {})),
    ("gradient", lambda x: ((x,), {"axis": 0})),
    ("vander", lambda x: ((x[0],), {})),
    ("modf", lambda x: ((x,), {})),
    ("cov", lambda x: ((x,), {})),
    ("corrcoef", lambda x: ((x,), {})),
    ("ldexp", lambda x: ((x, np.array([1, 2, 3])), {})),
    ("hypot", lambda x: ((x, 2.0), {})),
    ("arctan2", lambda x: ((x, np.float32(2.0)), {})),
    ("einsum", lambda x: (("ij,jk->ik", x, x), {})),
    ("matmul", lambda x: ((x, x), {})),
]


@pytest.mark.parametrize("backend", NUMPY_TYPED)
@pytest.mark.parametrize(("name", "make"), COMPOSITE, ids=[c[0] for c in COMPOSITE])
def test_composite_functions_keep_numpy_dtypes(backend: str, name: str, make: Any) -> None:
    for dt in ("bool", "int32", "float32", "float64"):
        x = np.array([[1.5, -2.5, 0.5], [4.0, 0.0, -3.5], [2.0, 1.0, 0.5]]).astype(dt)
        args, kwargs = make(x)
        try:
            with np.errstate(all="ignore"):
                want = getattr(np, name)(*args, **kwargs)
        except TypeError:  # numpy rejects booleans here (ldexp, gradient)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            got = getattr(mnp, name)(*[on(backend, a) for a in args], **kwargs)
        for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            same(g, w, rtol=1e-6 if dt == "float32" else 1e-12)


@pytest.mark.parametrize("backend", NUMPY_TYPED)
def test_nan_statistics_follow_numpy(backend: str) -> None:
    # a row with two values, one all nan, one with none: ddof 2 and 3 leave no degrees of freedom
    x = np.array([[1.5, np.nan, -2.0], [np.nan, np.nan, np.nan], [0.5, 4.0, -1.0]])
    mask = np.array([True, True, False])
    for name in ("nanvar", "nanstd"):
        for ddof in (0, 1, 2, 3):
            both(backend, name, x, axis=1, ddof=ddof)
            both(backend, name, x.astype("float32"), axis=1, ddof=ddof, keepdims=True, rtol=1e-6)
            both(backend, name, x, axis=1, ddof=ddof, where=mask)
        both(backend, name, x, ddof=5)
        both(backend, name[3:], x, axis=1)  # var and std of values with a nan: nan
        both(backend, name, x, axis=(0, 1), keepdims=True)
        both(backend, name, data("int32"), axis=0, ddof=2)  # integers: numpy's var, inf at no freedom
        with pytest.raises(TypeError, match=f"mnp.{name}"):
            getattr(mnp, name)(on(backend, x), dtype="int32")  # numpy: TypeError too
    for name in ("nanmax", "nanmin", "nanmean", "nansum", "nanprod"):  # the all-nan row too
        both(backend, name, x, axis=1)
        both(backend, name, x.astype("float32"), axis=0, keepdims=True, rtol=1e-6)


INT_OPERATIONS = (
    "add subtract multiply maximum minimum fmax floor_divide mod power "
    "equal not_equal less greater_equal logical_and logical_xor where"
)


@pytest.mark.parametrize("backend", NUMPY_TYPED)
@pytest.mark.parametrize("name", INT_OPERATIONS.split())
def test_python_ints_out_of_an_integer_dtype_follow_numpy(backend: str, name: str) -> None:
    # numpy raises OverflowError where the array's dtype cannot hold the int, but compares
    # the true values; torch on its own wraps -1 to 255 in uint8
    op = (lambda m, a, b: m.where(m.greater(a, 1), a, b)) if name == "where" else None
    for x in (np.array([0, 1, 200, 255], dtype="uint8"), np.array([-128, -1, 0, 127], dtype="int8")):
        for k in (-129, -1, 0, 2, 127, 128, 255, 256, 300, 2**63, 2**70):
            for args in ((x, k), (k, x)):
                f = op or (lambda m, a, b: getattr(m, name)(a, b))
                try:
                    with np.errstate(all="ignore"), warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)
                        want = f(np, *args)
                except (OverflowError, ValueError) as e:
                    with pytest.raises(type(e)), np.errstate(all="ignore"), warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)
                        f(mnp, *[on(backend, a) for a in args])
                    continue
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    got = f(mnp, *[on(backend, a) for a in args])
                same(got, want)


ZERO_D = "sum mean var std median average ptp nansum nanprod nanmax nanmin nanmean nanvar nanstd cumsum sort flip"


@pytest.mark.parametrize("backend", NUMPY_TYPED)
@pytest.mark.parametrize("name", ZERO_D.split())
def test_an_axis_of_a_0d_array_follows_numpy(backend: str, name: str) -> None:
    # numpy's answer depends on the function, the axis and the dtype (nanvar of floats reduces
    # over axis 0, of integers raises AxisError); a nan checks the nan-functions' all-nan value
    for x in (np.array(2.5), np.array(np.nan), np.array(3), np.array(True)):
        for axis in (0, -1, 1, (), (0,)):
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    getattr(np, name)(x, axis=axis)
            except (TypeError, ValueError) as e:  # AxisError is both
                with pytest.raises(type(e), match=f"^mnp.{name}: "):
                    getattr(mnp, name)(on(backend, x), axis=axis)
                continue
            both(backend, name, x, axis=axis)


# numpy's answer for a Python int depends on its value: an int an integer dtype cannot hold
# raises. Each row follows one that gives an answer for the same dtypes, so a result dtype cached
# for one value cannot stand for another.
PYTHON_INTS = [
    ("ldexp", np.array([1.5, -2.0], dtype="float32"), (3, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**40, 2**70, 3)),
    ("hypot", np.array([1, 200], dtype="uint8"), (5, 255, 256, 300, -1, 2**64, 7)),
    ("arctan2", np.array([1, -3], dtype="int8"), (5, 127, 128, -128, -129, 2**63, 9)),
]


@pytest.mark.parametrize("backend", NUMPY_TYPED)
@pytest.mark.parametrize(("name", "x", "ints"), PYTHON_INTS, ids=[c[0] for c in PYTHON_INTS])
def test_python_ints_follow_numpy_at_every_value(backend: str, name: str, x: np.ndarray, ints: Any) -> None:
    for k in ints:
        try:
            with np.errstate(all="ignore"):
                getattr(np, name)(x, k)
        except OverflowError:
            with pytest.raises(OverflowError), np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                getattr(mnp, name)(on(backend, x), k)
            continue
        both(backend, name, x, k, rtol=1e-6)


def test_abs_of_integers_and_booleans_on_jax() -> None:
    for x in (np.array([True, False]), np.array([-2, 3], dtype=np.int32)):
        same(mnp.abs(on("jax", x)), np.abs(x))


@pytest.mark.parametrize("backend", ["torch", "jax", "autograd"])
def test_scans_with_a_dtype_differentiate(backend: str) -> None:
    x = np.array([1.0, 2.0, 3.0])
    g = multiad.grad(
        lambda x: mnp.sum(mnp.cumsum(x, dtype="float64") + mnp.cumprod(x, dtype="float64")), backend=backend
    )
    # d/dx sum(cumsum) = (3, 2, 1); d/dx (x0 + x0 x1 + x0 x1 x2) = (1 + x1 + x1 x2, x0 + x0 x2, x0 x1)
    np.testing.assert_allclose(multiad.to_numpy(g(x)), [3 + 1 + 2 + 6, 2 + 1 + 3, 1 + 2], rtol=1e-12)
    h = multiad.grad(lambda x: mnp.sum(mnp.cumulative_sum(x, dtype="float64", include_initial=True)), backend=backend)
    np.testing.assert_allclose(multiad.to_numpy(h(x)), [3, 2, 1], rtol=1e-12)


JAX_WITHOUT_X64 = """
import warnings
import numpy as np
import multiad, multiad.numpy as mnp
warnings.simplefilter("error")
with multiad.use_backend("jax"):
    made = [mnp.zeros(2), mnp.ones(2), mnp.eye(2), mnp.full(2, 1.5), mnp.linspace(0, 1, 3),
            mnp.linspace(np.float64(0), np.float64(1), 3), mnp.asarray([1.0, 2.0]), mnp.asarray(1.0), mnp.arange(3)]
print(" ".join(str(a.dtype) for a in made))
"""


def test_creation_on_jax_without_x64_is_float32_silently() -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_") and k != "MULTIAD_BACKEND"}
    res = subprocess.run([sys.executable, "-c", JAX_WITHOUT_X64], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["float32"] * 8 + ["int32"]


@pytest.mark.parametrize("backend", ["torch", "jax", "autograd", "numpy"])
def test_nanmean_takes_where(backend: str) -> None:
    x = data("float64")
    x[0, 1] = np.nan
    mask = np.array([[True, True, False], [True, False, True]])
    for a, kwargs in [
        (x, {"where": mask}),
        (x, {"axis": 1, "where": mask[1]}),
        (x, {"axis": 0, "keepdims": True, "where": mask}),
        (data("int32"), {"axis": 1, "where": mask}),
    ]:
        want = np.nanmean(a, **kwargs)
        got = mnp.nanmean(on(backend, a), **kwargs)
        if backend == "jax":  # jax.numpy's dtypes (float32 without x64)
            np.testing.assert_allclose(np.asarray(multiad.to_numpy(got)), want, rtol=1e-6)
        else:
            same(got, want)
    if backend != "numpy":  # closed form: masked elements and nan have derivative 0
        g = multiad.grad(lambda t: mnp.nanmean(t, where=mask), backend=backend)(x)
        want_g = np.where(mask & ~np.isnan(x), 1 / 3, 0.0)
        np.testing.assert_allclose(np.asarray(multiad.to_numpy(g)), want_g, rtol=1e-6)


@pytest.mark.parametrize("backend", NUMPY_TYPED)
def test_nanmean_of_floats_refuses_an_integer_dtype(backend: str) -> None:
    with pytest.raises(TypeError):  # numpy's rule
        np.nanmean(data("float32"), dtype="int64")
    with pytest.raises(TypeError, match=r"^mnp\.nanmean: .*float dtype"):
        mnp.nanmean(on(backend, data("float32")), dtype="int64")


X32 = np.array([0.5, -1.0, 2.0], dtype=np.float32)
# closed-form gradients (float64) of functions whose autograd derivative rules promote float32
FLOAT32_GRADIENTS: dict[str, tuple[Any, np.ndarray]] = {
    "maximum": (lambda z: mnp.sum(mnp.maximum(z, 0.0)), np.array([1.0, 0.0, 1.0])),
    "where": (lambda z: mnp.sum(mnp.where(z > 0, z**2, 0.0)), np.array([1.0, 0.0, 4.0])),
    "mean": (lambda z: mnp.mean(z * z), 2 * X32.astype(np.float64) / 3),
    "std": (lambda z: mnp.std(z), (X32 - X32.mean()) / (3 * X32.astype(np.float64).std())),
    "norm": (lambda z: mnp.linalg.norm(z), X32 / np.linalg.norm(X32.astype(np.float64))),
    "clip": (lambda z: mnp.sum(mnp.clip(z, 0.0, 1.0)), np.array([1.0, 0.0, 0.0])),
    "hypot": (lambda z: mnp.sum(mnp.hypot(z, 1.0)), X32 / np.hypot(X32.astype(np.float64), 1.0)),
}


@pytest.mark.parametrize("backend", ["torch", "jax", "autograd", "numpy"])
@pytest.mark.parametrize("name", sorted(FLOAT32_GRADIENTS))
def test_float32_inputs_get_float32_derivatives(backend: str, name: str) -> None:
    # autograd's own rules for these promote to float64 (NOTE [Derivatives in the input's dtype])
    f, want = FLOAT32_GRADIENTS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", multiad.AccuracyWarning)  # clip's and maximum's kinks on numpy
        results = {
            "grad": multiad.grad(f, backend=backend)(X32),
            "vjp": multiad.vjp(lambda z: f(z) * z, X32, backend=backend)[1](np.ones(3, np.float32))[0],
            "hessian": multiad.hessian(f, backend=backend)(X32),
            "jacfwd of grad": multiad.jacfwd(multiad.grad(f), backend=backend)(X32),
            "jvp of grad": multiad.jvp(multiad.grad(f), (X32,), (np.ones(3, np.float32),), backend=backend)[1],
        }
    for what, value in results.items():
        assert np.asarray(multiad.to_numpy(value)).dtype == np.float32, (what, multiad.to_numpy(value).dtype)
    tol = 5e-4 if backend == "numpy" else 1e-5  # finite differences keep about 4 digits in float32
    np.testing.assert_allclose(multiad.to_numpy(results["grad"]), want, rtol=tol, atol=tol)


# Scalar functions of a float32 vector through numpy functions whose autograd rules promote.
_PROMOTING: dict[str, Any] = {
    "maximum": lambda xp, x: xp.sum(xp.maximum(x, 0.5) ** 2),
    "minimum": lambda xp, x: xp.sum(xp.minimum(x, 0.5) ** 2),
    "max": lambda xp, x: xp.max(x * x),
    "clip": lambda xp, x: xp.sum(xp.clip(x, -1.0, 1.0) ** 2),
    "where": lambda xp, x: xp.sum(xp.where(x > 0, x, 2 * x) ** 2),
    "mean": lambda xp, x: xp.mean(x * x),
    "std": lambda xp, x: xp.std(x),
    "var": lambda xp, x: xp.var(x),
    "norm": lambda xp, x: xp.linalg.norm(x),
    "hypot": lambda xp, x: xp.sum(xp.hypot(x, 1.0)),
    "abs": lambda xp, x: xp.sum(xp.abs(x) ** 3),
    "copysign": lambda xp, x: xp.sum(xp.copysign(x, -1.0) * x),
}


@pytest.mark.parametrize("name", sorted(_PROMOTING))
@pytest.mark.parametrize("backend", ["torch", "jax", "autograd"])
def test_derivatives_of_float32_inputs_are_float32(backend: str, name: str) -> None:
    # NOTE [Derivatives in the input's dtype]: autograd's own rules for these promote to float64.
    pytest.importorskip(backend)
    f = _PROMOTING[name]
    x64 = np.array([0.3, -1.7, 2.2, 0.9])
    x = multiad.asarray(x64.astype(np.float32), backend=backend)
    h = 1e-5
    eye = np.eye(4)
    fd_grad = central_gradient(lambda v: f(np, v), x64, h)
    with multiad.use_backend(backend):
        value = multiad.value_and_grad(lambda x: f(mnp, x))(x)[0]  # traced, as numpy computes it
        want_value = f(np, x64.astype(np.float32))
        assert np.asarray(multiad.to_numpy(value)).dtype == want_value.dtype == np.float32
        np.testing.assert_allclose(multiad.to_numpy(value), want_value, rtol=1e-6)
        g = multiad.grad(lambda x: f(mnp, x))
        results = {
            "grad": g(x),
            "value_and_grad": multiad.value_and_grad(lambda x: f(mnp, x))(x)[1],
            "vjp": multiad.vjp(lambda x: f(mnp, x), x)[1](mnp.asarray(1.0, dtype=np.float32))[0],
            "jacrev": multiad.jacrev(g)(x) @ np.ones(4, np.float32),
            "jacfwd": multiad.jacfwd(g)(x) @ np.ones(4, np.float32),
            "hessian": multiad.hessian(lambda x: f(mnp, x))(x) @ np.ones(4, np.float32),
            "hvp": multiad.hvp(lambda x: f(mnp, x), (x,), (mnp.ones(4, dtype=np.float32),))[0],
            "jvp": multiad.jvp(g, (x,), (mnp.ones(4, dtype=np.float32),))[1],
        }
    fd_hv = np.array(
        [
            (f(np, x64 + h * e + 1e-4 * np.ones(4)) - f(np, x64 + h * e - 1e-4 * np.ones(4))) / 2e-4
            - (f(np, x64 - h * e + 1e-4 * np.ones(4)) - f(np, x64 - h * e - 1e-4 * np.ones(4))) / 2e-4
            for e in eye
        ]
    ) / (2 * h)
    for transform, got in results.items():
        arr = np.asarray(multiad.to_numpy(got))
        assert arr.dtype == np.float32, f"{transform}: {arr.dtype}"
        want = fd_grad if transform in ("grad", "value_and_grad", "vjp") else fd_hv
        np.testing.assert_allclose(arr, want, rtol=2e-3, atol=2e-3, err_msg=transform)


# (multiad.numpy's function, numpy's) whose values a transform traces
TRACED: dict[str, tuple[Any, Any]] = {
    "copysign": (lambda z: mnp.copysign(z, -1.0), lambda z: np.copysign(z, -1.0)),
    "float_power": (lambda z: mnp.float_power(z, 2), lambda z: np.float_power(z, 2)),
    "where": (lambda z: mnp.where(z > 0, z, 0.0), lambda z: np.where(z > 0, z, 0.0)),
    "clip": (lambda z: mnp.clip(z, 0.0, 1.0), lambda z: np.clip(z, 0.0, 1.0)),
    "std": (lambda z: mnp.std(z, axis=0), lambda z: np.std(z, axis=0)),
    "dstack": (lambda z: mnp.dstack([z, z**2]), lambda z: np.dstack([z, z**2])),
}


@pytest.mark.parametrize("backend", NUMPY_TYPED)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(TRACED))
def test_traced_values_follow_numpy(backend: str, dtype: str, name: str) -> None:
    # values a transform traces have numpy's dtypes and shapes too: on autograd, where, copysign
    # and float_power promoted as 0-d float64 arrays do (NOTE [Weak numbers in where on
    # autograd]), and dstack made an object array of traced values
    f, f_np = TRACED[name]
    x = data(dtype) + 0.125  # no element at the kinks of where and clip
    want = f_np(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", multiad.AccuracyWarning)  # float32 finite differences
        out, vjp_fn = multiad.vjp(f, x, backend=backend)
        (g,) = vjp_fn(np.ones(want.shape, want.dtype))
    same(out, want)
    fd = np.zeros(x.shape)  # central differences of numpy's function in float64
    for idx in np.ndindex(*x.shape):
        d = np.zeros(x.shape)
        d[idx] = 1e-6
        fd[idx] = np.sum(f_np(x.astype(np.float64) + d) - f_np(x.astype(np.float64) - d)) / 2e-6
    g = np.asarray(multiad.to_numpy(g))
    assert g.dtype == x.dtype
    tol = 5e-3 if backend == "numpy" and dtype == "float32" else 1e-5
    np.testing.assert_allclose(g.astype(np.float64), fd, rtol=tol, atol=tol)
