"""Every transform and its options, on every backend, against closed-form float64 references."""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp

X = np.array([0.3, -1.2, 2.0])
Y = np.array([1.5, 0.4, -0.7])


def sin_x(x: Any) -> Any:
    return mnp.sum(mnp.sin(x) * x)


def sin_x_grad(x: np.ndarray) -> np.ndarray:
    return np.sin(x) + x * np.cos(x)


def sin_x_hess(x: np.ndarray) -> np.ndarray:
    return np.diag(2 * np.cos(x) - x * np.sin(x))


def sin_prod(x: Any, y: Any) -> Any:
    return mnp.sum(mnp.sin(x) * y)


def square_prod(x: Any, y: Any) -> Any:
    return mnp.sum(x * x * y)


# -- grad and value_and_grad -------------------------------------------------------------------


def test_grad_single_argument(backend: Case) -> None:
    g = multiad.grad(sin_x, backend=backend.name)(X)
    backend.close(g, sin_x_grad(X))


def test_grad_argnums(backend: Case) -> None:
    b = backend.name
    backend.close(multiad.grad(sin_prod, argnums=0, backend=b)(X, Y), np.cos(X) * Y)
    backend.close(multiad.grad(sin_prod, argnums=1, backend=b)(X, Y), np.sin(X))
    backend.close(multiad.grad(sin_prod, argnums=-1, backend=b)(X, Y), np.sin(X))
    both = multiad.grad(sin_prod, argnums=(1, 0), backend=b)(X, Y)
    assert isinstance(both, tuple)
    backend.close(both, (np.sin(X), np.cos(X) * Y))
    neg = multiad.grad(sin_prod, argnums=(-2, -1), backend=b)(X, Y)
    backend.close(neg, (np.cos(X) * Y, np.sin(X)))


def test_grad_has_aux_and_kwargs(backend: Case) -> None:
    def loss(x: Any, y: Any, *, scale: float) -> Any:
        value = scale * mnp.sum(x * x * y)
        return value, {"scale": scale, "y": y}

    g, aux = multiad.grad(loss, argnums=0, has_aux=True, backend=backend.name)(X, Y, scale=3.0)
    backend.close(g, 6.0 * X * Y)
    assert aux["scale"] == 3.0
    np.testing.assert_array_equal(multiad.to_numpy(aux["y"]), Y)


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "vjp", "jvp", "jacrev", "jacfwd"])
def test_aux_stays_differentiable_by_an_enclosing_transform(ad_backend: Case, transform: str) -> None:
    # As in torch.func and JAX, an aux computed from the enclosing transform's input carries
    # its derivative: d/dx [x**3 * sin(x)] with x**3 returned as the inner transform's aux.
    b = ad_backend.name

    def inner(w: Any) -> Any:
        return mnp.sum(w**3), [w**3]

    def outer(x: Any) -> Any:
        if transform == "grad":
            _, aux = multiad.grad(inner, has_aux=True, backend=b)(x)
        elif transform == "value_and_grad":
            (_, aux), _ = multiad.value_and_grad(inner, has_aux=True, backend=b)(x)
        elif transform == "vjp":
            _, _, aux = multiad.vjp(inner, x, has_aux=True, backend=b)
        elif transform == "jvp":
            _, _, aux = multiad.jvp(inner, (x,), (mnp.ones_like(x),), has_aux=True, backend=b)
        else:
            _, aux = getattr(multiad, transform)(inner, has_aux=True, backend=b)(x)
        return mnp.sum(aux[0] * mnp.sin(x))

    ad_backend.close(multiad.grad(outer, backend=b)(X), 3 * X**2 * np.sin(X) + X**3 * np.cos(X))


def test_value_and_grad(backend: Case) -> None:
    value, g = multiad.value_and_grad(sin_x, backend=backend.name)(X)
    backend.close(value, np.sum(np.sin(X) * X), order=0)
    backend.close(g, sin_x_grad(X))

    (value, aux), gs = multiad.value_and_grad(
        lambda x, y: (sin_prod(x, y), x * 2.0), argnums=(0, 1), has_aux=True, backend=backend.name
    )(X, Y)
    backend.close(value, np.sum(np.sin(X) * Y), order=0)
    backend.close(aux, 2.0 * X, order=0)  # an array computed from a differentiated argument
    backend.close(gs, (np.cos(X) * Y, np.sin(X)))


def test_grad_of_scalars(backend: Case) -> None:
    expected = np.sin(0.5) + 0.5 * np.cos(0.5)
    g = multiad.grad(lambda t: mnp.sin(t) * t, backend=backend.name)(np.float64(0.5))
    backend.close(g, expected)
    # A Python float is a float64 0-d array (NOTE [Python float arguments] in multiad/_arrays.py).
    g = multiad.grad(lambda t: mnp.sin(t) * t, backend=backend.name)(0.5)
    with multiad.use_backend(backend.name) as b:
        assert b.name == backend.name
    assert b.dtype_name(g) == "float64"
    backend.close(g, expected)


def test_grad_rejects_non_scalar_output(backend: Case) -> None:
    with pytest.raises(multiad.InvalidArgumentError, match=r"^grad\(.*\): f must return a scalar"):
        multiad.grad(lambda x: x * 2.0, backend=backend.name)(X)


# -- vjp, jvp, linearize -----------------------------------------------------------------------


def elementwise(x: Any, y: Any) -> Any:
    return x * y + mnp.sin(x)


def test_vjp_several_primals(backend: Case) -> None:
    out, vjp_fn = multiad.vjp(elementwise, X, Y, backend=backend.name)
    backend.close(out, X * Y + np.sin(X), order=0)
    ct = np.array([1.0, -2.0, 0.5])
    cts = vjp_fn(backend.array(ct))
    assert isinstance(cts, tuple) and len(cts) == 2
    backend.close(cts, (ct * (Y + np.cos(X)), ct * X))
    # The pullback can be called again with another cotangent (a numpy one converts).
    backend.close(vjp_fn(np.ones(3)), (Y + np.cos(X), X))


@pytest.mark.filterwarnings("ignore:Output seems independent of input:UserWarning")
def test_vjp_of_an_output_independent_of_the_primals(backend: Case) -> None:
    # autograd traces no path from x to such an output: its pullback is zeros, not a backward pass.
    out, vjp_fn = multiad.vjp(lambda x: 2.0 * Y, X, backend=backend.name)
    backend.close(out, 2.0 * Y, order=0)
    backend.close(vjp_fn(np.array([1.0, -2.0, 0.5])), (np.zeros(3),))
    _, vjp_fn = multiad.vjp(lambda x, y: 2.0 * Y, X, Y[:2], backend=backend.name)
    backend.close(vjp_fn(np.ones(3)), (np.zeros(3), np.zeros(2)))


def test_vjp_has_aux(backend: Case) -> None:
    out, vjp_fn, aux = multiad.vjp(lambda x: (mnp.exp(x), {"n": 3}), X, has_aux=True, backend=backend.name)
    assert aux == {"n": 3}
    backend.close(out, np.exp(X), order=0)
    backend.close(vjp_fn(np.full(3, 2.0)), (2.0 * np.exp(X),))


def test_jvp(backend: Case) -> None:
    t = np.array([1.0, 0.5, -1.0])
    out, tout = multiad.jvp(mnp.sin, (X,), (t,), backend=backend.name)
    backend.close(out, np.sin(X), order=0)
    backend.close(tout, np.cos(X) * t)

    u, v = np.array([0.2, 1.0, -0.3]), np.array([-1.0, 0.1, 2.0])
    out, tout = multiad.jvp(elementwise, (X, Y), (u, v), backend=backend.name)
    backend.close(tout, u * (Y + np.cos(X)) + X * v)

    out, tout, aux = multiad.jvp(lambda x: (x * x, "note"), (X,), (t,), has_aux=True, backend=backend.name)
    assert aux == "note"
    backend.close(tout, 2 * X * t)


def test_linearize(backend: Case) -> None:
    out, jvp_fn = multiad.linearize(elementwise, X, Y, backend=backend.name)
    backend.close(out, X * Y + np.sin(X), order=0)
    for u, v in [(np.ones(3), np.zeros(3)), (np.array([0.2, 1.0, -0.3]), np.array([-1.0, 0.1, 2.0]))]:
        backend.close(jvp_fn(u, v), u * (Y + np.cos(X)) + X * v)


# -- Jacobians ---------------------------------------------------------------------------------

W = np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.6]])
B = np.array([0.1, -0.3])


def predict(w: Any, b: Any, x: Any) -> Any:
    return mnp.tanh(mnp.matmul(w, x) + b)


def predict_jacobians(w: np.ndarray, b: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dy/dw (2, 2, 3), dy/db (2, 2) and dy/dx (2, 3) of tanh(w x + b)."""
    s = 1.0 - np.tanh(w @ x + b) ** 2
    eye = np.eye(len(b))
    return np.einsum("ij,i,k->ijk", eye, s, x), np.diag(s), s[:, None] * w


@pytest.mark.parametrize("transform", [multiad.jacrev, multiad.jacfwd])
def test_jacobian_transforms(backend: Case, transform: Any) -> None:
    jw, jb, jx = predict_jacobians(W, B, X)
    b = backend.name
    backend.close(transform(predict, argnums=2, backend=b)(W, B, X), jx)
    backend.close(transform(predict, argnums=(0, 1), backend=b)(W, B, X), (jw, jb))
    backend.close(transform(predict, argnums=(0, 2), chunk_size=2, backend=b)(W, B, X), (jw, jx))
    # Constants captured by the function are the backend's arrays, as its operators need.
    w_, b_ = backend.array(W), backend.array(B)
    jac, aux = transform(lambda x: (predict(w_, b_, x), {"s": mnp.sum(x), "k": 2}), has_aux=True, backend=b)(X)
    backend.close(jac, jx)
    assert aux["k"] == 2
    np.testing.assert_allclose(multiad.to_numpy(aux["s"]), np.sum(X))


@pytest.mark.parametrize("transform", [multiad.jacrev, multiad.jacfwd])
def test_a_chunk_is_released_before_the_next_is_pushed(transform: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # NOTE [One chunk alive]: a chunk's result, once written into the Jacobian, is no longer
    # referenced when the next chunk's basis is made; the Jacobian is still exact.
    torch = pytest.importorskip("torch")
    with multiad.use_backend("torch") as b:
        pass
    cls = type(b)
    write, identity_block = cls.write, cls.identity_block
    written: list[weakref.ref[Any]] = []
    alive: list[int] = []

    def recording_write(self: Any, block: Any, matrix: Any, start: Any, value: Any) -> Any:
        written.append(weakref.ref(value if value._base is None else value._base))
        return write(self, block, matrix, start, value)

    def counting_identity_block(self: Any, rows: Any, cols: Any, like: Any) -> Any:
        alive.append(sum(ref() is not None for ref in written))
        return identity_block(self, rows, cols, like)

    monkeypatch.setattr(cls, "write", recording_write)
    monkeypatch.setattr(cls, "identity_block", counting_identity_block)
    a = np.arange(25.0).reshape(5, 5) / 10.0
    x = np.array([0.3, -1.2, 2.0, 0.5, -0.1])
    jac = transform(lambda x: mnp.tanh(mnp.matmul(torch.from_numpy(a), x)), chunk_size=2)(torch.from_numpy(x))
    np.testing.assert_allclose(jac.numpy(), (1.0 - np.tanh(a @ x) ** 2)[:, None] * a, rtol=1e-12)
    assert len(alive) == 3 and len(written) == 3
    assert alive == [0, 0, 0]


@pytest.mark.parametrize("transform", [multiad.jacrev, multiad.jacfwd, multiad.hessian])
def test_a_last_smaller_chunk_has_the_others_shape_on_jax(transform: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # NOTE [A last chunk of the same shape]: 5 basis vectors in chunks of 2 push three chunks
    # of 2 rows (the last one's second row zero), and the Jacobian keeps 5 exact rows.
    jax = pytest.importorskip("jax")
    with multiad.use_backend("jax") as b:
        pass
    cls = type(b)
    identity_block = cls.identity_block
    rows: list[tuple[int, int]] = []

    def recording_identity_block(self: Any, r: tuple[int, int], cols: Any, like: Any) -> Any:
        rows.append(r)
        return identity_block(self, r, cols, like)

    monkeypatch.setattr(cls, "identity_block", recording_identity_block)
    a = np.arange(25.0).reshape(5, 5) / 10.0 - 1.0
    x = np.array([0.3, -1.2, 2.0, 0.5, -0.1])
    s = 1.0 - np.tanh(a @ x) ** 2
    aj, xj = jax.numpy.asarray(a), jax.numpy.asarray(x)  # float64: the session enables x64
    if transform is multiad.hessian:  # of sum(tanh(a x)): a^T diag(-2 tanh(a x) s) a
        got = transform(lambda x: mnp.sum(mnp.tanh(mnp.matmul(aj, x))), chunk_size=2)(xj)
        expected = a.T @ np.diag(-2.0 * np.tanh(a @ x) * s) @ a
    else:
        got = transform(lambda x: mnp.tanh(mnp.matmul(aj, x)), chunk_size=2)(xj)
        expected = s[:, None] * a
    assert got.dtype == np.float64
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-12, atol=1e-14)
    # (a Hessian's inner Jacobian, of a scalar, has one row: (0, 1))
    assert [r for r in rows if r != (0, 1)][-3:] == [(0, 2), (2, 4), (4, 6)]


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_one_chunk_is_returned_as_it_comes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # NOTE [One chunk is no chunking]: with chunk_size at least the number of basis vectors the
    # one chunk is the Jacobian, not written into a block made for it; with two chunks it is.
    pytest.importorskip(name)
    with multiad.use_backend(name) as b:
        pass
    cls = type(b)
    write, write_columns = cls.write, cls.write_columns
    writes: list[str] = []

    def recording_write(self: Any, *args: Any) -> Any:
        writes.append("rows")
        return write(self, *args)

    def recording_write_columns(self: Any, *args: Any) -> Any:
        writes.append("columns")
        return write_columns(self, *args)

    monkeypatch.setattr(cls, "write", recording_write)
    monkeypatch.setattr(cls, "write_columns", recording_write_columns)
    a = np.arange(12.0).reshape(4, 3) / 10.0 - 0.5
    x = np.array([0.3, -1.2, 2.0])
    expected = (1.0 - np.tanh(a @ x) ** 2)[:, None] * a
    aa, xx = Case(name).array(a), Case(name).array(x)
    for transform, whole, kind in [(multiad.jacrev, 4, "rows"), (multiad.jacfwd, 3, "columns")]:
        for chunk_size, written in [(whole, 0), (whole + 5, 0), (2, 2)]:
            writes.clear()
            jac = transform(lambda x: mnp.tanh(mnp.matmul(aa, x)), chunk_size=chunk_size)(xx)
            np.testing.assert_allclose(multiad.to_numpy(jac), expected, rtol=1e-12)
            # (torch's write_columns is the default one, a write of the transpose)
            assert writes.count(kind) == written and (written or not writes), (transform.__name__, chunk_size, writes)


def test_one_output_element_is_pulled_back_without_a_basis(backend: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    # NOTE [One chunk is no chunking]: one output element is pulled back once, its cotangent a
    # one, as a gradient: no vmap over a one-row basis, which on JAX left a batch axis of one in
    # every array of a chunked Hessian's inner level. The shapes are jacrev's: out + in.
    with multiad.use_backend(backend.name) as b:
        pass
    cls = type(b)
    vmap, calls = cls.vmap, []

    def counting_vmap(self: Any, *args: Any) -> Any:
        calls.append(1)
        return vmap(self, *args)

    monkeypatch.setattr(cls, "vmap", counting_vmap)
    x = np.array([0.3, -1.2, 2.0])
    xx = backend.array(x)
    g = multiad.jacrev(lambda x: mnp.sum(x**3), chunk_size=2, backend=backend.name)(xx)
    backend.close(g, 3.0 * x**2)
    g1 = multiad.jacrev(lambda x: mnp.reshape(mnp.sum(x**3), (1, 1)), chunk_size=1, backend=backend.name)(xx)
    backend.close(g1, (3.0 * x**2).reshape(1, 1, 3))
    assert calls == []
    # Hessian of sum(x^3 + x_0 x_1): the outer level is the only one mapped over a basis.
    h = multiad.hessian(lambda x: mnp.sum(x**3) + x[0] * x[1], chunk_size=2, backend=backend.name)(xx)
    backend.close(h, np.diag(6.0 * x) + np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]), order=2)
    assert len(calls) <= 1


@pytest.mark.parametrize("mode", ["auto", "fwd", "rev"])
def test_jacobian_modes(backend: Case, mode: str) -> None:
    a_tall = np.arange(10.0).reshape(5, 2) / 7.0
    x2 = np.array([0.4, -0.9])

    def tall(x: Any) -> Any:  # R^2 -> R^5
        return mnp.sin(mnp.matmul(a_tall, x))

    def wide(x: Any) -> Any:  # R^5 -> R^2
        return mnp.sin(mnp.matmul(a_tall.T, x))

    x5 = np.linspace(-1.0, 1.0, 5)
    jt = multiad.jacobian(tall, mode=mode, backend=backend.name)
    jw = multiad.jacobian(wide, mode=mode, backend=backend.name)
    # Twice each: with mode="auto" the second call uses the mode chosen by the first.
    for _ in range(2):
        backend.close(jt(x2), np.cos(a_tall @ x2)[:, None] * a_tall)
        backend.close(jw(x5), np.cos(a_tall.T @ x5)[:, None] * a_tall.T)
    jac, aux = multiad.jacobian(lambda x: (tall(x), 1), has_aux=True, mode=mode, backend=backend.name)(x2)
    assert aux == 1
    backend.close(jac, np.cos(a_tall @ x2)[:, None] * a_tall)


def test_jacobian_rejects_unknown_mode() -> None:
    with pytest.raises(multiad.InvalidArgumentError, match=r"jacobian\(sin_x\): mode must be one of"):
        multiad.jacobian(sin_x, mode="sideways")


# -- second order ------------------------------------------------------------------------------


def test_hessian(backend: Case) -> None:
    backend.close(multiad.hessian(sin_x, backend=backend.name)(X), sin_x_hess(X), order=2)
    a = np.array([[2.0, 0.5, 0.0], [0.1, 1.0, -0.3], [0.0, 0.4, 3.0]])
    quad = multiad.hessian(lambda x: 0.5 * mnp.sum(x * mnp.matmul(a, x)), backend=backend.name)(X)
    backend.close(quad, 0.5 * (a + a.T), order=2)


def test_hessian_argnums_tuple_nests_blocks(backend: Case) -> None:
    h = multiad.hessian(square_prod, argnums=(0, 1), backend=backend.name)(X, Y)
    assert isinstance(h, tuple) and all(isinstance(row, tuple) and len(row) == 2 for row in h)
    expected = ((np.diag(2 * Y), np.diag(2 * X)), (np.diag(2 * X), np.zeros((3, 3))))
    backend.close(h, expected, order=2)


@pytest.mark.parametrize("transform", [multiad.hvp, multiad.vhp])
def test_hvp_vhp_several_primals(backend: Case, transform: Any) -> None:
    u, v = np.array([0.2, 1.0, -0.3]), np.array([-1.0, 0.1, 2.0])
    result = transform(square_prod, (X, Y), (u, v), backend=backend.name)
    assert isinstance(result, tuple) and len(result) == 2
    backend.close(result, (2 * Y * u + 2 * X * v, 2 * X * u), order=2)
    (single,) = transform(sin_x, (X,), (u,), backend=backend.name)
    backend.close(single, sin_x_hess(X) @ u, order=2)


# -- functions written with the framework itself -----------------------------------------------


def test_torch_function_with_torch_backend() -> None:
    import torch

    g = multiad.grad(lambda x: torch.sum(torch.sin(x) * x), backend="torch")(X)
    Case("torch").close(g, sin_x_grad(X))
    h = multiad.hessian(lambda x: torch.sum(torch.sin(x) * x))(torch.tensor(X))
    Case("torch").close(h, sin_x_hess(X), order=2)


def test_jax_function_with_jax_backend() -> None:
    import jax.numpy as jnp

    g = multiad.grad(lambda x: jnp.sum(jnp.sin(x) * x), backend="jax")(X)
    Case("jax").close(g, sin_x_grad(X))
    h = multiad.hessian(lambda x: jnp.sum(jnp.sin(x) * x))(jnp.asarray(X))
    Case("jax").close(h, sin_x_hess(X), order=2)
