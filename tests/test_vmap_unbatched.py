"""vmap with out_dims=None: an output that does not vary over the batch comes back once, as JAX's
out_axes=None and torch.func's out_dims=None; one that varies raises (NOTE [Unbatched outputs])."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp
from tests.conftest import Case

XS = np.arange(6.0).reshape(3, 2)
C = np.array([0.5, -2.0])


def test_constant_output_unbatched(backend: Case) -> None:
    c = backend.array(C)
    mapped = multiad.vmap(lambda x: c * 2.0, out_dims=None, backend=backend.name)
    for _ in range(3):  # the general path, then the prepared plan
        backend.close(mapped(backend.array(XS)), 2.0 * C)


def test_unbatched_entry_of_a_tree(backend: Case) -> None:
    xs, c = backend.array(XS), backend.array(C)

    def f(x: Any, w: Any) -> Any:
        return {"y": x * w, "norm": mnp.sum(w**2)}

    mapped = multiad.vmap(f, in_dims=(0, None), out_dims={"y": 1, "norm": None}, backend=backend.name)
    for _ in range(2):
        out = mapped(xs, c)
        backend.close(out, {"y": (XS * C).T, "norm": np.sum(C**2)})
    pair = multiad.vmap(lambda x, w: (x + w, w * 3.0), in_dims=(0, None), out_dims=(0, None), backend=backend.name)
    backend.close(pair(xs, c), (XS + C, 3.0 * C))


def test_unbatched_with_chunks(backend: Case) -> None:
    xs, c = backend.array(XS), backend.array(C)
    mapped = multiad.vmap(lambda x: (x * 2.0, c + 1.0), out_dims=(0, None), chunk_size=2, backend=backend.name)
    backend.close(mapped(xs), (2.0 * XS, C + 1.0))


def test_unbatched_nan_is_the_same(backend: Case) -> None:
    c = backend.array([np.nan, 1.0])
    out = multiad.vmap(lambda x: c * 1.0, out_dims=None, backend=backend.name)(backend.array(XS))
    np.testing.assert_array_equal(multiad.to_numpy(out), [np.nan, 1.0])


def test_varying_output_raises(backend: Case) -> None:
    xs, c = backend.array(XS), backend.array(C)
    with pytest.raises(multiad.InvalidArgumentError, match=r"^vmap\(<lambda>\): out_dims=\(0, None\) asks for output leaf 1 unbatched \(None\), but it varies over the batch"):  # fmt: skip
        multiad.vmap(lambda x: (c, x), out_dims=(0, None), backend=backend.name)(xs)
    # one element that differs is enough: element 0 is never returned for the whole batch
    ys = backend.array(np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.5]]))
    with pytest.raises(multiad.InvalidArgumentError, match="varies over the batch"):
        multiad.vmap(lambda y: y, out_dims=None, backend=backend.name)(ys)


def test_empty_batch_raises(backend: Case) -> None:
    c = backend.array(C)
    with pytest.raises(multiad.InvalidArgumentError, match="the batch is empty, so there is no value to return"):
        multiad.vmap(lambda x: c * 2.0, out_dims=None, backend=backend.name)(backend.array(np.zeros((0, 2))))


def test_grad_through_unbatched_output(backend: Case) -> None:
    # d/dw sum(w**2) with the output unbatched: 2w, not n * 2w (the batch is not summed)
    xs = backend.array(XS)

    def loss(w: Any) -> Any:
        y, n = multiad.vmap(lambda x: (mnp.sum(x * w), mnp.sum(w**2)), out_dims=(0, None), backend=backend.name)(xs)
        return mnp.sum(y) + n

    g = multiad.grad(loss, backend=backend.name)(backend.array(C))
    backend.close(g, XS.sum(0) + 2.0 * C)


def test_jit_raises_clearly() -> None:
    jax = pytest.importorskip("jax")
    c = multiad.asarray(C, backend="jax")
    mapped = multiad.vmap(lambda x: c * 2.0, out_dims=None, backend="jax")
    with pytest.raises(multiad.InvalidArgumentError, match="the values are not available here"):
        jax.jit(mapped)(multiad.asarray(XS, backend="jax"))


def test_equal_values_of_a_differentiated_batch_raise(backend: Case) -> None:
    # 2 * x_i over a batch of equal x_i is the same at every index, yet depends on the batch:
    # index 0 would carry the derivative of x_0 alone ([2, 0, 0]); JAX and torch.func raise.
    ones = backend.array(np.ones(3))

    def loss(x: Any) -> Any:
        return mnp.sum(multiad.vmap(lambda xi: xi * 2.0, out_dims=None, backend=backend.name)(x))

    with pytest.raises(multiad.InvalidArgumentError, match="out_dims=None asks for output leaf 0 unbatched"):
        multiad.grad(loss, backend=backend.name)(ones)


def test_constant_batch_inside_a_transform_of_a_closed_over_value(backend: Case) -> None:
    # Only c is differentiated; the batch is a constant: d/dc of c**2 (unbatched) is 2c, by grad and
    # by jacfwd (torch made the batch a wrapped tensor of the transform's level).
    def g(c: Any) -> Any:
        return multiad.vmap(lambda a: a * 0.0 + c * c, out_dims=None, backend=backend.name)(np.ones(3))

    c = backend.array(np.array(3.0))
    backend.close(multiad.grad(g, backend=backend.name)(c), 6.0)
    backend.close(multiad.jacfwd(g, backend=backend.name)(c), 6.0)


def test_equal_values_of_a_batch_pushed_forward_raise(backend: Case) -> None:
    def g(x: Any) -> Any:
        return multiad.vmap(lambda xi: xi * 2.0, out_dims=None, backend=backend.name)(x)

    with pytest.raises(multiad.InvalidArgumentError, match="out_dims=None asks for output leaf 0 unbatched"):
        multiad.jacfwd(g, backend=backend.name)(backend.array(np.ones(3)))


# NOTE [Unbatched outputs of approximate derivatives]: a jvp of g, which ignores the batched a,
# is the same derivative at every row; the numpy backend's finite differences differ by ~1e-11
# between the rows (its steps are sized by every primal), which is within its accuracy.
A = np.array([[0.57, 1.18, 0.57], [0.33, -0.08, -0.02], [-0.75, 0.43, -0.04]])
CC = np.array([0.64, 1.16])
V = np.array([0.5, -1.0])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_derivative_free_of_the_batch_unbatched(backend: Case, dtype: str) -> None:
    a, c, v = A.astype(dtype), CC.astype(dtype), V.astype(dtype)

    def h(ai: Any, ci: Any) -> Any:
        return multiad.jvp(lambda p, q: mnp.sin(q) * 2.0, (ai, ci), (np.ones(3, dtype), v))[1]

    out = multiad.vmap(h, in_dims=(0, None), out_dims=None, backend=backend.name)(a, c)
    got = multiad.to_numpy(out)
    assert got.shape == (2,) and got.dtype == np.dtype(dtype)
    rtol = {"float32": 1e-5, "float64": 1e-8 if backend.name == "numpy" else 1e-12}[dtype]
    np.testing.assert_allclose(got, 2.0 * np.cos(CC) * V, rtol=rtol * (10 if backend.name == "numpy" else 1))


def test_an_output_that_varies_still_raises_on_an_approximate_backend(backend: Case) -> None:
    # 1e-6 relative is above sqrt(eps) (1.5e-8): raises on every backend, saying by how much where
    # the derivatives are approximate; 1e-12 is within it, so only the exact backends raise
    if backend.name == "numpy":
        match = r"but it varies over the batch \(by up to 1e-06 of its largest element, above the 1.5e-08 that"
    else:
        match = "but it varies over the batch; give it"
    ys = backend.array(np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0 + 2e-6]]))
    with pytest.raises(multiad.InvalidArgumentError, match=match):
        multiad.vmap(lambda y: y, out_dims=None, backend=backend.name)(ys)
    close = backend.array(np.array([[1.0, 2.0], [1.0, 2.0 + 2e-12]]))
    mapped = multiad.vmap(lambda y: y, out_dims=None, backend=backend.name)
    if backend.name == "numpy":
        np.testing.assert_array_equal(multiad.to_numpy(mapped(close)), [1.0, 2.0])
    else:
        with pytest.raises(multiad.InvalidArgumentError, match="but it varies over the batch; give it"):
            mapped(close)
    if backend.name == "numpy":  # a nested derivative's rows (hvp: ~1e-6 apart) exceed a first derivative's accuracy

        def hv(ai: Any, ci: Any) -> Any:
            return multiad.hvp(lambda p, q: mnp.sum(mnp.sin(q)) * 2.0, (ai, ci), (np.ones(3), V))[1]

        with pytest.raises(multiad.InvalidArgumentError, match=r"varies over the batch \(by up to"):
            multiad.vmap(hv, in_dims=(0, None), out_dims=None, backend="numpy")(A, CC)
