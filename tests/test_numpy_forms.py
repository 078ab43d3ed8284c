"""multiad.numpy follows numpy on argument forms with layout and dtype keywords (``order=``,
``dtype=``/``casting=`` of the joining functions), on every backend, checked against numpy
itself and, for derivatives, against closed forms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS

import multiad
import multiad.numpy as mnp

A = np.arange(1.0, 7.0).reshape(2, 3)
B = np.arange(24.0).reshape(2, 3, 4)


def same(got: Any, want: Any) -> None:
    g, w = np.asarray(multiad.to_numpy(got)), np.asarray(want)
    assert g.dtype == w.dtype, f"dtype {g.dtype}, numpy gives {w.dtype}"
    assert g.shape == w.shape, f"shape {g.shape}, numpy gives {w.shape}"
    np.testing.assert_array_equal(g, w)


def _layouts() -> list[tuple[np.ndarray, Any]]:
    """numpy arrays and torch tensors of the same memory layouts (C, transposed, Fortran)."""
    import torch

    return [
        (A, torch.tensor(A)),
        (A.T, torch.tensor(A).T),
        (np.asfortranarray(A), torch.tensor(np.ascontiguousarray(A.T)).T),
        (B.transpose(1, 0, 2), torch.tensor(B).permute(1, 0, 2)),
        (B.transpose(2, 0, 1), torch.tensor(B).permute(2, 0, 1)),
    ]


@pytest.mark.parametrize("order", ["C", "F", "A", "K"])
def test_ravel_and_reshape_order_on_torch_follow_the_layout(order: str) -> None:
    pytest.importorskip("torch")
    for ref, t in _layouts():
        same(mnp.ravel(t, order=order), np.ravel(ref, order=order))
        if order != "K":
            for shape in [(ref.size,), ref.shape[::-1], (1, ref.size)]:
                same(mnp.reshape(t, shape, order=order), np.reshape(ref, shape, order=order))


@pytest.mark.parametrize("backend_name", [b for b in BACKENDS if b != "torch"])
@pytest.mark.parametrize("order", ["C", "F", "A", "K"])
def test_ravel_and_reshape_order(backend_name: str, order: str) -> None:
    # JAX arrays are laid out in C order whatever numpy array they came from
    for ref in (A, B.transpose(2, 0, 1)):
        x = multiad.asarray(ref, backend=backend_name)
        ref_c = np.ascontiguousarray(ref) if backend_name == "jax" else ref
        same(mnp.ravel(x, order=order), np.ravel(ref_c, order=order))
        if order != "K":
            same(mnp.reshape(x, ref.shape[::-1], order=order), np.reshape(ref_c, ref.shape[::-1], order=order))


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_order_f_derivatives(backend_name: str) -> None:
    w = np.arange(6.0)
    g = multiad.grad(lambda z: mnp.sum(mnp.ravel(z, order="F") * w), backend=backend_name)(A)
    np.testing.assert_allclose(multiad.to_numpy(g), [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]], atol=1e-6)
    g = multiad.grad(lambda z: mnp.sum(mnp.reshape(z, (3, 2), order="F") * w.reshape(3, 2)), backend=backend_name)(A)
    # element k of z in Fortran order lands at position k of the result in Fortran order
    np.testing.assert_allclose(
        multiad.to_numpy(g), np.reshape(np.ravel(w.reshape(3, 2), order="F"), (2, 3), order="F"), atol=1e-6
    )


def test_bad_order_is_a_clear_error() -> None:
    pytest.importorskip("torch")
    import torch

    with pytest.raises(ValueError, match=r"mnp\.ravel: order"):
        mnp.ravel(torch.ones(2, 2), order="X")
    with pytest.raises(ValueError, match=r"mnp\.reshape: order"):
        mnp.reshape(torch.ones(2, 2), (4,), order="K")


JOINS = ["concatenate", "stack", "hstack", "vstack"]
FRAMEWORKS = [b for b in ("torch", "jax") if b in BACKENDS]


@pytest.mark.parametrize("name", JOINS)
@pytest.mark.parametrize("backend_name", BACKENDS)
def test_joining_dtype_and_casting(name: str, backend_name: str) -> None:
    f64 = np.array([[1.5, 2.0], [3.0, 4.0]])
    inputs = [(f64, f64), (f64, np.array([[1, 2], [3, 4]])), (f64.astype(np.float32), f64)]
    for ins in inputs:
        for dtype in (None, "int64", "float32", "bool"):
            for casting in ("no", "safe", "same_kind", "unsafe"):
                kw: dict[str, Any] = {"casting": casting} if dtype is None else {"dtype": dtype, "casting": casting}
                xs = [multiad.asarray(x, backend=backend_name) for x in ins]
                try:
                    want = getattr(np, name)(list(ins), **kw)
                except TypeError as e:
                    with pytest.raises(TypeError) as info:
                        getattr(mnp, name)(xs, **kw)
                    assert str(e) in str(info.value)
                    continue
                same(getattr(mnp, name)(xs, **kw), want)


@pytest.mark.parametrize("backend_name", FRAMEWORKS)
def test_joining_casting_errors_start_with_the_call(backend_name: str) -> None:
    x = multiad.asarray(np.ones(2), backend=backend_name)
    with pytest.raises(
        TypeError, match=r"^mnp.concatenate: Cannot cast array data from dtype\('float64'\) to dtype\('int64'\)"
    ):
        mnp.concatenate([x, x], dtype="int64")
    with pytest.raises(ValueError, match=r"^mnp\.stack: casting must be one of"):
        mnp.stack([x, x], casting="bad")


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_joining_with_dtype_derivative(backend_name: str) -> None:
    def f(z: Any) -> Any:
        return mnp.sum(mnp.concatenate([z, 2 * z], dtype="float64", casting="same_kind") ** 2)

    g = multiad.grad(f, backend=backend_name)(A)
    np.testing.assert_allclose(multiad.to_numpy(g), 10 * A, rtol=1e-5)


ZERO_D_CASES: list[tuple[str, Any]] = [
    ("take", lambda m, s: m.take(s, np.array([0, -1, 0]), axis=0)),
    ("sum", lambda m, s: m.sum(s, axis=-1, keepdims=True)),
    ("sum", lambda m, s: m.sum(s, axis=1)),
    ("prod", lambda m, s: m.prod(s, 0)),
    ("max", lambda m, s: m.max(s, axis=0)),
    ("argmax", lambda m, s: m.argmax(s, axis=-1)),
    ("var", lambda m, s: m.var(s, axis=-1, ddof=1)),
    ("mean", lambda m, s: m.mean(s, axis=0)),
    ("std", lambda m, s: m.std(s, axis=0)),
    ("median", lambda m, s: m.median(s, axis=0)),
    ("average", lambda m, s: m.average(s, axis=0)),
    ("transpose", lambda m, s: m.transpose(s)),
    ("cumprod", lambda m, s: m.cumprod(s, axis=0)),
    ("cumsum", lambda m, s: m.cumsum(s, axis=-1)),
    ("cumsum", lambda m, s: m.cumsum(s, axis=1)),
    ("argsort", lambda m, s: m.argsort(s, axis=0)),
    ("sort", lambda m, s: m.sort(s, axis=0)),
    ("repeat", lambda m, s: m.repeat(s, 2, axis=0)),
    ("ptp", lambda m, s: m.ptp(s, axis=0)),
]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize(("name", "f"), ZERO_D_CASES)
def test_axis_on_zero_d_arrays(backend_name: str, name: str, f: Any) -> None:
    x = multiad.asarray(np.array(1.5), backend=backend_name)
    try:
        want = f(np, np.array(1.5))
    except np.exceptions.AxisError as e:
        with pytest.raises(np.exceptions.AxisError, match=rf"^mnp\.{name}: ") as info:
            f(mnp, x)
        assert str(e) in str(info.value)
        return
    got = f(mnp, x)
    if backend_name == "jax":  # JAX's own integer and float widths
        np.testing.assert_array_equal(multiad.to_numpy(got), want)
        assert np.shape(multiad.to_numpy(got)) == np.shape(want)
    else:
        same(got, np.asarray(want))
    if backend_name != "numpy" and name not in ("argmax", "argsort"):
        # d/dz of sum(f(sum(z))): numpy's f repeats its 0-d input size(want) times (ptp: max - min)
        g = multiad.grad(lambda z: mnp.sum(f(mnp, mnp.sum(z))), backend=backend_name)(np.array([1.0, 0.5]))
        np.testing.assert_allclose(multiad.to_numpy(g), [0 if name == "ptp" else np.size(want)] * 2)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint32", "uint64", "int8", "int32", "bool", "float32"])
def test_scans_of_small_integers_on_torch(dtype: str) -> None:
    torch = pytest.importorskip("torch")
    u = np.array([1, 2, 250]).astype(dtype)
    for name in ("cumsum", "cumprod"):
        same(getattr(mnp, name)(torch.tensor(u)), getattr(np, name)(u))


@pytest.mark.parametrize("backend_name", [b for b in BACKENDS if b != "jax"])
def test_linspace_follows_float32_endpoints(backend_name: str) -> None:
    t = multiad.asarray(np.array([1.0, 2.0, 3.0], np.float32), backend=backend_name)
    for got, want in [
        (mnp.linspace(t[0], t[2], 4), np.linspace(np.float32(1), np.float32(3), 4)),
        (mnp.linspace(t[0], 3.0, 4), np.linspace(np.float32(1), 3.0, 4)),
        (mnp.linspace(t[:2], t[1:], 3), np.linspace(np.float32([1, 2]), np.float32([2, 3]), 3)),
    ]:
        g = np.asarray(multiad.to_numpy(got))
        assert g.dtype == want.dtype and g.shape == want.shape
        np.testing.assert_allclose(g, want, rtol=1e-6)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_median_and_average_with_tuple_axes(backend_name: str) -> None:
    a = np.random.default_rng(0).normal(size=(2, 3, 4))
    x = multiad.asarray(a, backend=backend_name)
    for axis in [(0, 2), (2, 0), (1,), (-1, 0), (0, 1, 2)]:
        w = np.random.default_rng(1).uniform(size=tuple(a.shape[d % 3] for d in axis))
        for keepdims in (False, True):
            got = multiad.to_numpy(mnp.median(x, axis=axis, keepdims=keepdims))
            want = np.median(a, axis=axis, keepdims=keepdims)
            assert np.shape(got) == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-12)
            got = multiad.to_numpy(
                mnp.average(x, axis=axis, weights=multiad.asarray(w, backend=backend_name), keepdims=keepdims)
            )
            want = np.average(a, axis=axis, weights=w, keepdims=keepdims)
            assert np.shape(got) == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-12)
    with pytest.raises(ValueError, match=r"^mnp\.average: shape of weights"):
        mnp.average(x, axis=(0, 2), weights=multiad.asarray(np.ones((4, 2)), backend=backend_name))
    if backend_name == "numpy":
        return
    # the median of each group of 8 (even count): 1/2 at its two middle elements
    g = multiad.to_numpy(multiad.grad(lambda z: mnp.sum(mnp.median(z, axis=(0, 2))), backend=backend_name)(a))
    want = np.zeros_like(a)
    for j in range(3):
        flat = np.zeros(8)
        order = np.argsort(a[:, j, :], axis=None)
        flat[order[3]] = flat[order[4]] = 0.5
        want[:, j, :] = flat.reshape(2, 4)
    np.testing.assert_allclose(g, want)
    g = multiad.grad(lambda z: mnp.sum(mnp.average(z, axis=(0, 2), weights=np.ones((2, 4)))), backend=backend_name)(a)
    np.testing.assert_allclose(multiad.to_numpy(g), np.full(a.shape, 1 / 8))


def test_sort_kind_and_ravel_k_on_jax() -> None:
    jnp = pytest.importorskip("jax.numpy")
    a = np.array([[3.0, 1.0, 2.0, 1.0], [0.0, 5.0, 5.0, -1.0]])
    for kind in ("stable", "mergesort", "quicksort", "heapsort"):
        np.testing.assert_array_equal(mnp.sort(jnp.asarray(a), axis=0, kind=kind), np.sort(a, axis=0, kind=kind))
        np.testing.assert_array_equal(mnp.argsort(jnp.asarray(a), kind="stable"), np.argsort(a, kind="stable"))
    with pytest.raises(ValueError, match=r"^mnp\.sort: kind"):
        mnp.sort(jnp.asarray(a), kind="bubble")


UFUNC_DTYPE_CASES: list[Any] = [
    lambda m, x: m.add(x, x, dtype="float32"),
    lambda m, x: m.sin(x, dtype="float32"),
    lambda m, x: m.sin(x, dtype=np.float64),
    lambda m, x: m.multiply(x, 2.5, dtype="float64"),
    lambda m, x: m.add(x, 1, dtype="int64"),
    lambda m, x: m.matmul(x, x, dtype="float32"),
    lambda m, x: m.matmul(x, x, dtype="int32"),
]


@pytest.mark.parametrize("f", UFUNC_DTYPE_CASES)
@pytest.mark.parametrize("dtype", ["float64", "int64", "float32"])
def test_ufunc_dtype_on_torch(f: Any, dtype: str) -> None:
    torch = pytest.importorskip("torch")
    x = np.array([3.0, 1.0, 2.0, 1.0]).astype(dtype)
    try:
        want = f(np, x)
    except TypeError as e:  # numpy's casting error, with the call's name
        with pytest.raises(TypeError, match=r"^mnp\.") as info:
            f(mnp, torch.tensor(x))
        assert str(e).split(" ")[0] in str(info.value)
        return
    got = f(mnp, torch.tensor(x)).numpy()
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_ufunc_dtype_derivative_on_torch() -> None:
    a = np.array([0.3, -1.2, 2.0])
    g = multiad.grad(lambda z: mnp.sum(mnp.sin(z, dtype="float64") * mnp.add(z, z, dtype="float64")), backend="torch")(
        a
    )
    np.testing.assert_allclose(multiad.to_numpy(g), np.cos(a) * 2 * a + 2 * np.sin(a))


def _fd_jacobian(f: Any, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    out = np.zeros(np.shape(f(x)) + x.shape)
    for idx in np.ndindex(*x.shape):
        d = np.zeros_like(x)
        d[idx] = h
        out[(..., *idx)] = (f(x + d) - f(x - d)) / (2 * h)
    return out


@pytest.mark.parametrize("backend_name", ["autograd", "torch", "jax"])
def test_derivatives_of_tile_einsum_svd_multi_dot(backend_name: str) -> None:
    b = backend_name
    x = np.arange(9.0).reshape(3, 3) / 7
    g = multiad.grad(lambda z: mnp.sum(mnp.tile(z, 2) ** 2), backend=b)(x)
    np.testing.assert_allclose(multiad.to_numpy(g), 4 * x, rtol=1e-6)
    g = multiad.grad(lambda z: mnp.sum(mnp.tile(z, (2, 1, 2)) ** 2), backend=b)(x)
    np.testing.assert_allclose(multiad.to_numpy(g), 8 * x, rtol=1e-6)
    y = np.random.default_rng(0).normal(size=(2, 3, 3))
    g = multiad.grad(lambda z: mnp.sum(mnp.einsum("bii->b", z)), backend=b)(y)
    np.testing.assert_allclose(multiad.to_numpy(g), np.broadcast_to(np.eye(3), y.shape))
    same_value = mnp.einsum("bii,bij", multiad.asarray(y, backend=b), multiad.asarray(y, backend=b))
    np.testing.assert_allclose(multiad.to_numpy(same_value), np.einsum("bii,bij", y, y), rtol=1e-6)
    g = multiad.grad(lambda z: mnp.sum(mnp.einsum("bii,bij", z, z)), backend=b)(y)
    np.testing.assert_allclose(
        multiad.to_numpy(g), _fd_jacobian(lambda v: np.sum(np.einsum("bii,bij", v, v)), y), rtol=1e-5, atol=1e-6
    )
    a = np.array([[2.0, 1.0], [0.0, 1.0]])
    u, _, vh = np.linalg.svd(a)
    g = multiad.grad(lambda z: mnp.sum(mnp.linalg.svd(z)[1]), backend=b)(a)
    np.testing.assert_allclose(multiad.to_numpy(g), u @ vh, rtol=1e-5)  # d(sum of s)/dA = U Vh
    j = multiad.jacrev(lambda z: mnp.linalg.multi_dot([z, z, z]), backend=b)(x)
    np.testing.assert_allclose(multiad.to_numpy(j), _fd_jacobian(lambda v: v @ v @ v, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(3, 2), (2, 3), (2, 4, 3)])
def test_autograd_full_svd_of_a_non_square_matrix(shape: tuple[int, ...]) -> None:
    a = np.random.default_rng(2).normal(size=shape)
    u, s, vh = (multiad.to_numpy(f) for f in mnp.linalg.svd(multiad.asarray(a, backend="autograd")))
    want = np.linalg.svd(a)
    for got, w in zip((u, s, vh), want, strict=True):
        assert got.shape == w.shape
    k = min(shape[-2:])
    smat = np.zeros(shape)
    smat[..., np.arange(k), np.arange(k)] = s
    np.testing.assert_allclose(u @ smat @ vh, a, atol=1e-12)  # a full, orthonormal factorization
    np.testing.assert_allclose(np.swapaxes(u, -1, -2) @ u, np.broadcast_to(np.eye(shape[-2]), u.shape), atol=1e-12)
    np.testing.assert_allclose(vh @ np.swapaxes(vh, -1, -2), np.broadcast_to(np.eye(shape[-1]), vh.shape), atol=1e-12)
    np.testing.assert_allclose(s, want[1], rtol=1e-12)
    # the singular values and the reduced columns keep their derivatives: d(sum s)/dA = U_r Vh_r
    ur, _, vhr = np.linalg.svd(a, full_matrices=False)
    g = multiad.grad(lambda z: mnp.sum(mnp.linalg.svd(z)[1]), backend="autograd")(a)
    np.testing.assert_allclose(multiad.to_numpy(g), ur @ vhr, rtol=1e-6)
    g = multiad.grad(lambda z: mnp.sum(mnp.linalg.svd(z)[1] ** 2), backend="autograd")(a)
    np.testing.assert_allclose(multiad.to_numpy(g), 2 * a, rtol=1e-6)  # sum s^2 = |A|_F^2
    which = 0 if shape[-2] > shape[-1] else 2
    with pytest.raises(NotImplementedError, match=r"^mnp\.linalg\.svd: .*full_matrices=False"):
        multiad.grad(lambda z: mnp.sum(mnp.linalg.svd(z)[which] ** 3), backend="autograd")(a)


def _qr_score(lib: Any, z: Any, mode: str) -> Any:
    """A scalar of numpy's QR factors of ``z`` that every factor's derivative reaches."""
    out = lib.linalg.qr(z, mode=mode)
    q, r = (None, out) if mode == "r" else out
    weights = np.arange(1.0, 1.0 + np.prod(r.shape)).reshape(tuple(r.shape)) / 10
    score = lib.sum(lib.sin(r) * weights)
    return score if q is None else score + lib.sum(q**3)


@pytest.mark.parametrize("backend_name", ["autograd", "torch", "jax"])
@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 4, 3), (2, 3, 5)])
@pytest.mark.parametrize("mode", ["reduced", "r"])
def test_qr_derivatives(backend_name: str, shape: tuple[int, ...], mode: str) -> None:
    # autograd defines no derivative of qr and torch none of mode="r" (NOTE [QR on autograd],
    # NOTE [QR's mode="r" on torch]); every backend now matches finite differences of numpy's qr
    a = np.random.default_rng(3).normal(size=shape)
    g = multiad.grad(lambda z: _qr_score(mnp, z, mode), backend=backend_name)(a)
    want = _fd_jacobian(lambda v: _qr_score(np, v, mode), a)
    np.testing.assert_allclose(multiad.to_numpy(g), want, rtol=1e-6, atol=1e-7)
    if len(shape) == 2:
        j = multiad.jacfwd(lambda z: mnp.linalg.qr(z)[1], backend=backend_name)(a)
        np.testing.assert_allclose(
            multiad.to_numpy(j), _fd_jacobian(lambda v: np.linalg.qr(v)[1], a), rtol=1e-6, atol=1e-7
        )
        h = multiad.hessian(lambda z: _qr_score(mnp, z, mode), backend=backend_name)(a)
        want_h = _fd_jacobian(lambda v: _fd_jacobian(lambda w: _qr_score(np, w, mode), v, 1e-5), a, 1e-4)
        np.testing.assert_allclose(multiad.to_numpy(h), want_h, rtol=1e-4, atol=1e-4)


def test_autograd_qr_complete_of_a_tall_matrix() -> None:
    a = np.random.default_rng(4).normal(size=(4, 2))
    q, r = (multiad.to_numpy(f) for f in mnp.linalg.qr(multiad.asarray(a, backend="autograd"), mode="complete"))
    want_q, want_r = np.linalg.qr(a, mode="complete")
    np.testing.assert_array_equal(q, want_q)
    np.testing.assert_array_equal(r, want_r)
    # R (and the reduced columns of Q) keep their derivative; the completion has none
    g = multiad.grad(lambda z: mnp.sum(mnp.linalg.qr(z, mode="complete")[1] ** 2), backend="autograd")(a)
    np.testing.assert_allclose(multiad.to_numpy(g), 2 * a, rtol=1e-6)  # sum r^2 = |A|_F^2
    with pytest.raises(NotImplementedError, match=r"^mnp\.linalg\.qr: .*mode='reduced'"):
        multiad.grad(lambda z: mnp.sum(mnp.linalg.qr(z, mode="complete")[0] ** 3), backend="autograd")(a)
