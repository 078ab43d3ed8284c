"""multiad.numpy's common forms of sum, mean, reshape and linalg.norm on torch tensors (NOTE
[Common calls on torch] in multiad/numpy/_torch_fast.py) give numpy's values, dtypes and errors,
and the forms around them (other keywords, subclasses, 0-d tensors) too; the names of numpy
dtypes kept per dtype (NOTE [Names of numpy dtypes]) are numpy's."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp
from multiad.numpy import _composite

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64", "float16", "int8", "int32", "int64", "uint8", "bool", "uint16"]
AXES: list[dict[str, Any]] = [
    {},
    {"axis": None},
    {"axis": 0},
    {"axis": -1},
    {"axis": (0, 2)},
    {"axis": (2, -3)},
    {"axis": 1, "keepdims": True},
    {"keepdims": True},
    {"axis": None, "dtype": None},
    {"axis": (1,), "keepdims": False},
]


def _values(dtype: str) -> np.ndarray:
    return (np.random.default_rng(0).standard_normal((3, 4, 5)) * 10).astype(dtype)


def _same(got: Any, want: Any, rtol: float = 1e-6, atol: float = 1e-6) -> None:
    got = got.detach().numpy()
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", AXES, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_and_mean_are_numpys(name: str, kw: dict[str, Any], dtype: str) -> None:
    a = _values(dtype)
    want = getattr(np, name)(a, **kw)
    got = getattr(mnp, name)(torch.from_numpy(a.copy()), **kw)
    # float16: numpy rounds its partial sums to float16, torch accumulates in float32
    _same(got, want, rtol=2e-3, atol=0.05) if dtype == "float16" else _same(got, want)


@pytest.mark.parametrize("name", ["sum", "mean"])
def test_positional_axis_and_one_dimension(name: str) -> None:
    a = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    _same(getattr(mnp, name)(torch.from_numpy(a), 1), getattr(np, name)(a, 1))
    _same(getattr(mnp, name)(torch.from_numpy(a[0]), 0), getattr(np, name)(a[0], 0))


@pytest.mark.parametrize(
    ("kw", "error"),
    [
        ({"axis": 2}, np.exceptions.AxisError),
        ({"axis": -3}, np.exceptions.AxisError),
        ({"axis": (0, 0)}, ValueError),
        ({"axis": (0, -2)}, ValueError),
        ({"axis": 1.0}, TypeError),
        ({"axis": True}, TypeError),
    ],
    ids=str,
)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_axis_errors_are_numpys(name: str, kw: dict[str, Any], error: type) -> None:
    a = np.ones((3, 4), np.float32)
    with pytest.raises(error):
        getattr(np, name)(a, **kw)
    with pytest.raises(error, match=rf"mnp\.{name}"):
        getattr(mnp, name)(torch.from_numpy(a), **kw)


@pytest.mark.parametrize("name", ["sum", "mean"])
def test_forms_around_the_common_ones(name: str) -> None:
    a = np.arange(6.0).reshape(2, 3)
    t = torch.from_numpy(a)
    _same(getattr(mnp, name)(t, axis=()), getattr(np, name)(a, axis=()))  # no axis reduced
    _same(getattr(mnp, name)(torch.tensor(3.0, dtype=torch.float64)), getattr(np, name)(np.float64(3.0)))
    _same(getattr(mnp, name)(t, keepdims=1), getattr(np, name)(a, keepdims=1))
    _same(getattr(mnp, name)(t, 0, np.float32), getattr(np, name)(a, 0, np.float32))
    _same(getattr(mnp, name)(t, where=a > 1), getattr(np, name)(a, where=a > 1))
    p = torch.nn.Parameter(torch.from_numpy(a.copy()))
    _same(getattr(mnp, name)(p, axis=1), getattr(np, name)(a, axis=1))


def test_sum_with_initial_and_mean_of_nothing() -> None:
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    _same(mnp.sum(torch.from_numpy(a), initial=5), np.sum(a, initial=5))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        got = mnp.mean(torch.zeros((0, 3)))
    assert torch.isnan(got)
    assert any("Mean of empty slice" in str(w.message) for w in seen)


@pytest.mark.parametrize("shape", [(2, 3, 2), 12, (-1,), (3, -1), (12, 1)], ids=str)
def test_reshape_is_numpys(shape: Any) -> None:
    a = np.arange(12, dtype=np.float32)
    _same(mnp.reshape(torch.from_numpy(a), shape), np.reshape(a, shape))


def test_reshape_errors_are_numpys() -> None:
    t = torch.arange(6)
    with pytest.raises(ValueError, match=r"mnp\.reshape"):
        mnp.reshape(t, (4, 2))
    a = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(
        mnp.reshape(torch.from_numpy(a), (3, 2), order="F").numpy(), a.reshape(3, 2, order="F")
    )
    np.testing.assert_array_equal(mnp.reshape(torch.from_numpy(a), [3, 2]).numpy(), a.reshape([3, 2]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 2)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_norm_is_numpys(dtype: str, shape: tuple[int, ...], keepdims: bool) -> None:
    a = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    _same(mnp.linalg.norm(torch.from_numpy(a), keepdims=keepdims), np.linalg.norm(a, keepdims=keepdims), rtol=1e-5)


def test_norm_of_integers_and_other_orders_are_numpys() -> None:
    a = np.arange(6).reshape(2, 3)
    _same(mnp.linalg.norm(torch.from_numpy(a)), np.linalg.norm(a))
    _same(mnp.linalg.norm(torch.from_numpy(a.astype(float)), 1), np.linalg.norm(a.astype(float), 1))
    _same(mnp.linalg.norm(torch.from_numpy(a.astype(float)), axis=1), np.linalg.norm(a.astype(float), axis=1))


def test_norm_derivatives_at_and_away_from_zero() -> None:
    """The 2-norm's gradient is x / |x| away from 0 and 0 at 0 (the documented convention), its
    Hessian (I - u u^T) / |x| away from 0 and finite at 0."""
    x = np.array([3.0, -4.0, 12.0])
    g = multiad.grad(lambda z: mnp.linalg.norm(z), backend="torch")
    np.testing.assert_allclose(g(torch.from_numpy(x)).numpy(), x / 13.0)
    np.testing.assert_array_equal(g(torch.zeros(3, dtype=torch.float64)).numpy(), np.zeros(3))
    h = multiad.hessian(lambda z: mnp.linalg.norm(z), backend="torch")
    u = x / 13.0
    np.testing.assert_allclose(h(torch.from_numpy(x)).numpy(), (np.eye(3) - np.outer(u, u)) / 13.0, atol=1e-12)
    assert np.all(np.isfinite(h(torch.zeros(3, dtype=torch.float64)).numpy()))


@pytest.mark.parametrize("dtype", ["float64", ">f8", "<i4", "uint8", "bool", "complex64", "U3", "datetime64[s]"])
def test_numpy_dtype_names_are_numpys(dtype: str) -> None:
    a = np.zeros(2, dtype)
    assert _composite.dtype_name(a) == a.dtype.name
    assert _composite.dtype_name(a) == a.dtype.name  # kept


def test_numpy_base_to_a_tensor_power_inside_f() -> None:
    """``a ** t`` of a numpy array and a tensor inside f: numpy's float64 value, the derivative
    in t (a ** t * log(a)) in t's float32."""
    a = np.array([0.5, 2.0, 3.0])
    t = torch.tensor([1.0, -2.0, 0.5])

    def f(z: Any) -> Any:
        out = a**z
        assert out.dtype == torch.float64
        return mnp.sum(out)

    grad = multiad.grad(f, backend="torch")(t)
    assert grad.dtype == torch.float32
    want = a ** t.numpy().astype(np.float64) * np.log(a)
    np.testing.assert_allclose(grad.numpy(), want, rtol=1e-6)
