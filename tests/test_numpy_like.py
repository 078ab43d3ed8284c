"""numpy's ``like=`` of the creation functions (NOTE [Creation like=]): the array is made by
the backend of the ``like=`` array, with numpy's values and dtypes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp
from multiad import MixedBackendError

# (id, the call with a ``like=`` keyword spliced in by ``lk``)
CALLS: list[tuple[str, Callable[[Any, dict[str, Any]], Any]]] = [
    ("eye", lambda m, lk: m.eye(3, **lk)),
    ("eye-mk", lambda m, lk: m.eye(3, 4, 1, **lk)),
    ("eye-dtype", lambda m, lk: m.eye(2, dtype="float32", **lk)),
    ("identity", lambda m, lk: m.identity(2, **lk)),
    ("zeros", lambda m, lk: m.zeros((2, 3), **lk)),
    ("ones-int", lambda m, lk: m.ones(2, dtype=np.int32, **lk)),
    ("empty", lambda m, lk: m.empty(0, **lk)),
    ("full-int", lambda m, lk: m.full(2, 7, **lk)),
    ("full-float", lambda m, lk: m.full((2, 1), 0.5, **lk)),
    ("tri", lambda m, lk: m.tri(3, k=-1, **lk)),
    ("arange-int", lambda m, lk: m.arange(4, **lk)),
    ("arange-float", lambda m, lk: m.arange(0, 1, 0.25, **lk)),
    ("asarray-list", lambda m, lk: m.asarray([[1, 2]], **lk)),
    ("asarray-numpy", lambda m, lk: m.asarray(np.array([0.5, 1.5]), **lk)),
    ("array-dtype", lambda m, lk: m.array([1, 2], dtype="float64", **lk)),
]


def _framework_array(kind: str, values: Any) -> Any:
    if kind == "torch":
        import torch

        return torch.as_tensor(np.asarray(values, dtype=np.float32))  # float32: like= keeps numpy's dtype
    import jax.numpy as jnp

    return jnp.asarray(np.asarray(values, dtype=np.float32))


@pytest.mark.parametrize("selected", [None, "numpy", "torch", "jax"])
@pytest.mark.parametrize("kind", ["torch", "jax"])
@pytest.mark.parametrize(("case", "make"), CALLS, ids=[c[0] for c in CALLS])
def test_like_makes_the_array_of_its_framework(
    clean_selection: None, selected: str | None, kind: str, case: str, make: Callable[[Any, dict[str, Any]], Any]
) -> None:
    x = _framework_array(kind, [1.0, 2.0])
    want = make(np, {"like": np.empty(0)})  # numpy's values and dtype
    if selected is None:
        got = make(mnp, {"like": x})
    else:
        with multiad.use_backend(selected):
            got = make(mnp, {"like": x})
    assert type(got) is type(x)
    out = multiad.to_numpy(got)
    assert out.dtype == want.dtype, (out.dtype, want.dtype)
    np.testing.assert_array_equal(out, want)


def test_like_follows_a_torch_tensor_device(clean_selection: None) -> None:
    import torch

    x = torch.ones(2, device="meta")  # a device other than the default, without an accelerator
    assert mnp.eye(3, like=x).device == x.device
    assert mnp.asarray(np.arange(3.0), like=x).device == x.device
    assert mnp.arange(3, like=x, device="cpu").device == torch.device("cpu")  # device= wins


@pytest.mark.parametrize("name", ["numpy", "torch", "jax", "autograd"])
def test_like_a_numpy_array_follows_the_selection(name: str) -> None:
    with multiad.use_backend(name):
        got = mnp.eye(2, like=np.ones(3))
        expected = type(mnp.eye(2))
    assert type(got) is expected
    np.testing.assert_array_equal(multiad.to_numpy(got), np.eye(2))


def _library_fn(v: Any) -> Any:
    """A library's function: 3 v.v + arange(n).v, with arrays made like its input."""
    n = v.shape[0]
    eye = mnp.eye(n, dtype=v.dtype, like=v)
    return 3.0 * mnp.sum(v * (eye @ v)) + mnp.sum(mnp.arange(n, dtype=v.dtype, like=v) * v)


V = np.array([0.5, -1.0, 2.0])
GRAD = 6.0 * V + np.arange(3.0)  # the closed form


def test_under_jax_transforms(clean_selection: None) -> None:
    import jax
    import jax.numpy as jnp

    v = jnp.asarray(V)
    np.testing.assert_allclose(np.asarray(jax.grad(_library_fn)(v)), GRAD, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(jax.jit(jax.grad(_library_fn))(v)), GRAD, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(jax.vmap(jax.grad(_library_fn))(jnp.stack([v, 2 * v]))[1]), 6.0 * 2 * V + np.arange(3.0), rtol=1e-12)  # fmt: skip
    np.testing.assert_allclose(float(jax.jit(_library_fn)(v)), 3.0 * V @ V + np.arange(3.0) @ V, rtol=1e-12)


def test_under_torch_func(clean_selection: None) -> None:
    import torch

    got = torch.func.grad(_library_fn)(torch.as_tensor(V))
    assert type(got) is torch.Tensor
    np.testing.assert_allclose(got.numpy(), GRAD, rtol=1e-12)
    hess = torch.func.hessian(_library_fn)(torch.as_tensor(V))
    np.testing.assert_allclose(hess.numpy(), 6.0 * np.eye(3), rtol=1e-12)


def test_under_autograd(clean_selection: None) -> None:
    import autograd

    np.testing.assert_allclose(autograd.grad(_library_fn)(V.copy()), GRAD, rtol=1e-12)
    np.testing.assert_allclose(autograd.hessian(_library_fn)(V.copy()), 6.0 * np.eye(3), rtol=1e-12)


@pytest.mark.parametrize("name", ["torch", "jax", "autograd", "numpy"])
def test_under_multiad_transforms(name: str) -> None:
    g = multiad.grad(_library_fn, backend=name)(multiad.asarray(V, backend=name))
    np.testing.assert_allclose(multiad.to_numpy(g), GRAD, **({"rtol": 1e-4} if name == "numpy" else {"rtol": 1e-12}))


def test_like_of_another_framework_inside_a_multiad_transform() -> None:
    import jax.numpy as jnp

    seen: list[type] = []

    def f(x: Any) -> Any:
        seen.append(type(mnp.zeros(2, like=jnp.ones(1))))
        return mnp.sum(x * x)

    multiad.grad(f, backend="torch")(multiad.asarray(V, backend="torch"))
    assert seen == [type(jnp.ones(1))]


def test_like_errors() -> None:
    import jax.numpy as jnp
    import torch

    with pytest.raises(TypeError, match=r"^mnp\.zeros: like= must be an array .*got list"):
        mnp.zeros(3, like=[1.0])  # numpy refuses a list too
    with pytest.raises(TypeError, match=r"^mnp\.linspace: like= is not a keyword of numpy's linspace; omit it"):
        mnp.linspace(0, 1, 3, like=torch.ones(1))
    with pytest.raises(MixedBackendError, match=r"^mnp\.asarray: the arguments mix arrays of jax and torch"):
        mnp.asarray(torch.ones(2), like=jnp.ones(1))
    with pytest.raises(MixedBackendError, match=r"^mnp\.full: the arguments mix arrays of jax and torch"):
        mnp.full(2, torch.tensor(1.0), like=jnp.ones(1))
    with multiad.use_backend("torch"):
        assert type(mnp.zeros(2, like=None)) is torch.Tensor  # numpy's default


def test_a_like_of_another_backend_while_a_compiler_traces_raises_multiads_error(monkeypatch: Any) -> None:
    """NOTE [like= while a compiler traces]: the refusal is an UnsupportedOperationError (a
    NotImplementedError) naming the call and the fix; it was a bare NotImplementedError."""
    torch = pytest.importorskip("torch")
    from multiad import _select

    x = torch.ones(2)
    multiad.set_backend("numpy")
    monkeypatch.setattr(_select, "compiling", lambda: True)
    try:
        with pytest.raises(
            multiad.UnsupportedOperationError,
            match=r"^mnp\.eye: like= of a torch array while a compiler traces, with backend 'numpy' selected .*"
            r"multiad\.set_backend\('torch'\)",
        ):
            mnp.eye(2, like=x)
    finally:
        multiad.set_backend(None)
