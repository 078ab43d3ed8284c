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
        ((), {"subok": False}),
        ((), {"device": "cpu"}),
        (("int16",), {}),
        ((None, "K", True, (3,)), {}),
    ],
    ids=lambda v: repr(v),
)
def test_parameters_as_numpys(backend: Case, name: str, args: Any, kwargs: Any) -> None:
    if backend.name == "jax" and ("order" in kwargs or "subok" in kwargs or "device" in kwargs or len(args) > 1):
        pytest.skip("jax.numpy's *_like take no order=, subok= or device='cpu' (not this change)")
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
    ],
    ids=["out", "misspelt", "order"],
)
def test_other_keywords_raise(backend: Case, name: str, kwargs: Any, error: type, match: str) -> None:
    if backend.name == "jax" and "order" in kwargs:
        pytest.skip("jax.numpy's *_like take no order= (TypeError; not this change)")
    with pytest.raises(error, match=match):
        _call(np, name, X, **kwargs)  # numpy's own answer
    with pytest.raises(error, match=rf"mnp\.{name}: .*{match}"):
        _call(mnp, name, multiad.asarray(X, backend=backend.name), **kwargs)


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
