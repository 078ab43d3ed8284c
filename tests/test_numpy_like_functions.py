"""zeros_like, ones_like, empty_like and full_like take numpy's parameters on every backend
(NOTE [Keywords of the *_like functions]): dtype= and shape= as numpy's (positional too), and a
keyword numpy does not have (out=, a misspelling) or an invalid order= raises as numpy does; on
torch they were ignored."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp

X = np.arange(6.0).reshape(2, 3)
NAMES = ["zeros_like", "ones_like", "empty_like", "full_like"]


def _call(lib: Any, name: str, a: Any, *args: Any, **kwargs: Any) -> Any:
    head = (a, 7.0) if name == "full_like" else (a,)
    return getattr(lib, name)(*head, *args, **kwargs)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((), {"dtype": "float32"}),
        ((), {"dtype": np.int32}),
        ((), {"shape": (4,)}),
        ((), {"shape": 5}),
        ((), {"shape": (3, 1), "dtype": bool}),
        ((), {"order": "F"}),
        ((), {"order": "f"}),
        ((), {"order": None}),
        ((), {"order": "a", "subok": 0}),
        ((), {"subok": False}),
        ((), {"device": "cpu"}),
        (("int16",), {}),
        ((None, "K", True, (3,)), {}),
    ],
    ids=lambda v: repr(v),
)
def test_parameters_as_numpys(backend: Case, name: str, args: Any, kwargs: Any) -> None:
    got = multiad.to_numpy(_call(mnp, name, multiad.asarray(X, backend=backend.name), *args, **kwargs))
    want = _call(np, name, X, *args, **kwargs)
    assert got.dtype == want.dtype and got.shape == want.shape
    if name != "empty_like":
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"out": np.zeros((2, 3))}, TypeError, "unexpected keyword argument 'out'"),
        ({"dytpe": "float32"}, TypeError, "unexpected keyword argument 'dytpe'"),
        ({"order": "X"}, ValueError, "order must be one of"),
        ({"order": "CF"}, ValueError, r"order must be one of 'C', 'F', 'A', or 'K' \(got 'CF'\)"),
        ({"order": 1}, TypeError, "order must be str, not int"),
        ({"subok": None}, TypeError, "'NoneType' object cannot be interpreted as an integer"),
    ],
    ids=["out", "misspelt", "order", "order-two-letters", "order-not-a-string", "subok-none"],
)
def test_other_keywords_raise(backend: Case, name: str, kwargs: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        _call(np, name, X, **kwargs)  # numpy's own answer
    with pytest.raises(error, match=rf"mnp\.{name}: .*{match}"):
        _call(mnp, name, multiad.asarray(X, backend=backend.name), **kwargs)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_device_refused_as_numpy_does(name: str) -> None:
    # numpy knows "cpu" only: ValueError; jax names its devices (it raised AttributeError:
    # 'str' object has no attribute '_is_concrete', and for device="cpu" too)
    with pytest.raises(ValueError, match=r"Device not understood"):
        _call(np, name, X, device="mars")
    for b in ("jax", "autograd", "numpy"):
        with pytest.raises(ValueError, match=rf"^mnp\.{name}: "):
            _call(mnp, name, multiad.asarray(X, backend=b), device="mars")
    with pytest.raises(ValueError, match=rf"^mnp\.{name}: device='mars' is none of JAX's devices; give 'cpu'"):
        _call(mnp, name, multiad.asarray(X, backend="jax"), device="mars")
    with pytest.raises(TypeError, match=rf"^mnp\.{name}: device must be 'cpu', one of .* got int"):
        _call(mnp, name, multiad.asarray(X, backend="jax"), device=3)


def test_jax_device_names_and_devices() -> None:
    import jax

    a = multiad.asarray(X, backend="jax")
    for device in ("cpu", "cpu:0", jax.devices("cpu")[0]):
        for name in NAMES:
            out = _call(mnp, name, a, device=device)
            assert out.devices() == {jax.devices("cpu")[0]}
            assert out.shape == X.shape and out.dtype == a.dtype


def test_order_and_device_under_jit() -> None:
    import jax

    # inside jax.jit, as in numpy: the layout keywords change nothing, the values are numpy's
    f = jax.jit(lambda x: mnp.full_like(x, 2.0, order="F", subok=False, device="cpu") * x)
    np.testing.assert_array_equal(multiad.to_numpy(f(multiad.asarray(X, backend="jax"))), 2.0 * X)


def test_dtype_inside_a_transform_on_torch() -> None:
    import torch

    # a float32 zeros_like of a traced float64 tensor, of another shape
    def f(x: Any) -> Any:
        z = mnp.zeros_like(x, dtype="float32", shape=(2,))
        assert z.dtype == torch.float32 and tuple(z.shape) == (2,)
        return mnp.sum(x**2) + mnp.sum(mnp.astype(z, "float64"))

    with multiad.use_backend("torch"):
        g = multiad.grad(f)(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(multiad.to_numpy(g), [2.0, 4.0, 6.0])
