"""multiad.numpy follows numpy's semantics and one set of derivative conventions on every backend.

Closed-form references: the derivative conventions of NOTE [Derivative conventions] and numpy's
own results for the argument forms frameworks treat differently (lists of traced arrays, Python
scalars, keywords).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import AD_BACKENDS, BACKENDS, Case

import multiad
import multiad.numpy as mnp


def test_array_of_traced_values_is_an_array(backend: Case) -> None:
    x = np.array([1.0, 2.0, 3.0])

    def f(x: Any) -> Any:
        a = mnp.array([x, 2 * x])
        return a + a  # a list would concatenate here

    _, t = multiad.jvp(f, (x,), (np.ones(3),), backend=backend.name)
    backend.close(t, np.array([[2.0, 2.0, 2.0], [4.0, 4.0, 4.0]]))
    nested = multiad.grad(lambda x: mnp.sum(mnp.array([[x[0], 1.0], [x[1], x[0] * x[1]]])), backend=backend.name)
    backend.close(nested(np.array([2.0, 3.0])), np.array([1.0 + 3.0, 1.0 + 2.0]))


def test_several_arrays_out_are_numpys_containers_under_transforms(backend: Case) -> None:
    # NOTE [Sequences of autograd boxes]: autograd traced these as one box, not a list or tuple.
    x = np.arange(4.0)
    _, parts = multiad.jvp(lambda x: mnp.split(2.0 * x, 2), (x,), (np.ones(4),), backend=backend.name)
    assert isinstance(parts, list) and len(parts) == 2
    backend.close(parts, [np.full(2, 2.0), np.full(2, 2.0)])
    a = np.diag([1.0, 3.0])
    _, (dw, _) = multiad.jvp(mnp.linalg.eigh, (a,), (np.diag([1.0, -1.0]),), backend=backend.name)
    backend.close(dw, np.array([1.0, -1.0]))


def test_einsum_interleaved_sublists(backend: Case) -> None:
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    f = lambda a, b: mnp.einsum(a, [0, 1], b, [1, 2], [0, 2])  # noqa: E731
    backend.close(f(multiad.asarray(a, backend=backend.name), multiad.asarray(b, backend=backend.name)), a @ b)
    ga = multiad.grad(lambda a: mnp.sum(mnp.einsum(a, [Ellipsis, 1], b, [1, 2])), backend=backend.name)(a)
    backend.close(ga, np.broadcast_to(b.sum(1), (2, 3)))
    with pytest.raises(ValueError, match=r"mnp\.einsum: a sublist"):
        mnp.einsum(a, [0, "i"], b, [1, 2])


def test_lists_of_arrays_are_arrays_in_reductions(backend: Case) -> None:
    x = np.array([1.0, 2.0])

    def f(x: Any) -> Any:
        a, b = x[0], x[1]
        return mnp.mean([a, b]) + mnp.std([a, b]) + mnp.var([a, b]) + mnp.linalg.norm([a, b])

    a, b = 1.0, 2.0
    r = np.hypot(a, b)
    expected = np.array([0.5 - 0.5 + (a - b) / 2 + a / r, 0.5 + 0.5 + (b - a) / 2 + b / r])
    backend.close(multiad.grad(f, backend=backend.name)(x), expected)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_numpy_argument_forms(backend_name: str) -> None:
    b = backend_name
    z = multiad.asarray(np.array([-1.0, 0.5, 2.0]), backend=b)
    m = multiad.asarray(np.arange(12.0).reshape(3, 4), backend=b)

    def same(got: Any, want: Any) -> None:
        np.testing.assert_allclose(multiad.to_numpy(got), want, rtol=1e-12)

    same(mnp.maximum(z, 0.0), [0.0, 0.5, 2.0])
    same(mnp.minimum(1.0, z), [-1.0, 0.5, 1.0])
    same(mnp.var(z, ddof=1), np.var([-1.0, 0.5, 2.0], ddof=1))
    same(mnp.std(m, axis=-1, ddof=1), np.std(np.arange(12.0).reshape(3, 4), axis=-1, ddof=1))
    same(mnp.trace(m, offset=1), np.trace(np.arange(12.0).reshape(3, 4), offset=1))
    same(mnp.dot(z, multiad.asarray(np.array(2.0), backend=b)), [-2.0, 1.0, 4.0])
    same(
        mnp.tensordot(z, m[:3], axes=[-1, 0]),
        np.tensordot([-1.0, 0.5, 2.0], np.arange(12.0).reshape(3, 4), axes=[-1, 0]),
    )
    same(mnp.prod(z, axis=None, keepdims=True), [-1.0])
    same(mnp.clip(z, a_min=0.0, a_max=1.0), [0.0, 0.5, 1.0])
    same(mnp.clip(z, min=0.0), [0.0, 0.5, 2.0])
    same(mnp.flip(z), [2.0, 0.5, -1.0])
    same(mnp.take(m, [[0, -1]], axis=1), np.arange(12.0).reshape(3, 4)[:, [[0, -1]]])
    same(mnp.r_[z, 1.0, 0:2], [-1.0, 0.5, 2.0, 1.0, 0.0, 1.0])
    same(mnp.c_[z, z], np.c_[[-1.0, 0.5, 2.0], [-1.0, 0.5, 2.0]])
    assert mnp.shape(m) == (3, 4) and mnp.ndim(m) == 2 and mnp.size(m) == 12 and mnp.size(m, 1) == 4


def test_linspace_with_traced_endpoints(backend: Case) -> None:
    f = lambda a, b: mnp.sum(mnp.linspace(a, b, 5) ** 2)  # noqa: E731
    pts = np.linspace(0.0, 1.0, 5)
    a, b = 0.5, 2.0
    xs = a + pts * (b - a)
    ga, gb = multiad.grad(f, argnums=(0, 1), backend=backend.name)(np.array(a), np.array(b))
    backend.close((ga, gb), (np.sum(2 * xs * (1 - pts)), np.sum(2 * xs * pts)))


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_linspace_of_arrays_with_an_integer_dtype_rounds_down(backend_name: str) -> None:
    start, stop = np.array([-1.0, 2.0]), np.array([0.0, -3.0])
    a, b = multiad.asarray(start, backend=backend_name), multiad.asarray(stop, backend=backend_name)
    want = np.linspace(start, stop, 4, dtype=int)  # [[-1, 2], [-1, 0], [-1, -2], [0, -3]]
    got = np.asarray(multiad.to_numpy(mnp.linspace(a, b, 4, dtype=int)))
    assert got.dtype.kind == "i"
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize(("num", "endpoint"), [(1, True), (0, False)])
def test_linspace_of_arrays_step_of_no_interval_is_nan(backend_name: str, num: int, endpoint: bool) -> None:
    start, stop = np.array([-1.0, 2.0]), np.array([0.0, -3.0])
    a, b = multiad.asarray(start, backend=backend_name), multiad.asarray(stop, backend=backend_name)
    values, step = mnp.linspace(a, b, num, endpoint=endpoint, retstep=True)
    want_values, want_step = np.linspace(start, stop, num, endpoint=endpoint, retstep=True)
    assert np.isnan(want_step) and np.all(np.isnan(np.asarray(multiad.to_numpy(step))))
    np.testing.assert_array_equal(multiad.to_numpy(values), want_values)


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("ndmin", [0, 1, 2, 3])
def test_array_ndmin(backend_name: str, ndmin: int) -> None:
    data = np.array([[1.0, 2.0]])
    with multiad.use_backend(backend_name):
        for got, want in [
            (mnp.array(multiad.asarray(data, backend=backend_name), ndmin=ndmin), np.array(data, ndmin=ndmin)),
            (mnp.array([1, 2], ndmin=ndmin), np.array([1, 2], ndmin=ndmin)),
            (mnp.array(2.5, ndmin=ndmin), np.array(2.5, ndmin=ndmin)),
        ]:
            assert np.shape(multiad.to_numpy(got)) == want.shape
            np.testing.assert_array_equal(multiad.to_numpy(got), want)


@pytest.mark.parametrize("backend_name", ["numpy", "autograd", "torch"])  # JAX arrays are immutable
def test_array_copies_and_asarray_does_not(backend_name: str) -> None:
    with multiad.use_backend(backend_name):
        for x in (np.zeros(3), multiad.asarray(np.zeros(3), backend=backend_name)):
            y = mnp.array(x)
            y[0] = 1.0
            assert float(x[0]) == 0.0, "writing into mnp.array(x) changed x"
        x = multiad.asarray(np.zeros(3), backend=backend_name)
        assert mnp.asarray(x) is x
        assert mnp.asarray(x, copy=True) is not x
        with pytest.raises(TypeError, match=r"^mnp.array: unsupported keyword argument\(s\) subok"):
            mnp.array(x, subok=True)


# -- NOTE [Derivative conventions] on every backend -----------------------------------------------

# The derivative conventions themselves are checked row by row in test_conventions.py.


@pytest.mark.parametrize("backend_name", AD_BACKENDS)
def test_second_derivatives_agree_between_transforms(backend_name: str) -> None:
    y = (np.array(0.3),)
    f = lambda y: mnp.power(0.0, y)  # noqa: E731
    (vh,) = multiad.vhp(f, y, (np.array(1.0),), backend=backend_name)
    (hv,) = multiad.hvp(f, y, (np.array(1.0),), backend=backend_name)
    h = multiad.hessian(f, backend=backend_name)(y[0])
    for v in (vh, hv, h):
        assert float(multiad.to_numpy(v)) == 0.0
    g = lambda x: mnp.std(x)  # noqa: E731
    h2 = multiad.hessian(g, backend=backend_name)(np.array(3.5))
    assert float(multiad.to_numpy(h2)) == 0.0


@pytest.mark.parametrize("backend_name", AD_BACKENDS)
def test_stop_gradient_has_zero_derivative_and_keeps_the_value(backend_name: str) -> None:
    x = np.array([1.0, -2.0, 3.0])
    f = lambda x: mnp.sum(x * mnp.stop_gradient(x) + mnp.stop_gradient(mnp.sin(x)))  # noqa: E731
    value, g = multiad.value_and_grad(f, backend=backend_name)(x)
    np.testing.assert_allclose(multiad.to_numpy(value), np.sum(x * x + np.sin(x)), rtol=1e-12)
    np.testing.assert_allclose(multiad.to_numpy(g), x, rtol=1e-12)  # d/dx of x * c is c = x
    hess = multiad.hessian(lambda x: mnp.sum(mnp.stop_gradient(x) ** 3), backend=backend_name)(x)
    np.testing.assert_array_equal(multiad.to_numpy(hess), np.zeros((3, 3)))
    arr = multiad.asarray(x, backend=backend_name)
    np.testing.assert_array_equal(multiad.to_numpy(mnp.stop_gradient(arr)), x)


@pytest.mark.parametrize("backend_name", AD_BACKENDS)
def test_stop_gradient_of_a_container_holds_every_leaf_constant(backend_name: str) -> None:
    # As jax.lax.stop_gradient: d/dx sum(x * c) is c = x for each container kind; a dict came
    # back with its derivatives (2x), and a tuple or list too on autograd.
    x = np.array([0.3, 1.7])
    sg = mnp.stop_gradient
    forms = {
        "dict": lambda x: mnp.sum(x * sg({"a": x, "n": None})["a"]),
        "tuple": lambda x: mnp.sum(x * sg((x, 2.0))[0]),
        "list": lambda x: mnp.sum(x * sg([x, x])[1]),
        "nested": lambda x: mnp.sum(x * sg({"p": [(x,)]})["p"][0][0]),
    }
    for name, f in forms.items():
        g = multiad.grad(f, backend=backend_name)(x)
        np.testing.assert_allclose(multiad.to_numpy(g), x, rtol=1e-12, err_msg=name)
    out = sg({"a": multiad.asarray(x, backend=backend_name), "b": (1.0, None)})
    assert set(out) == {"a", "b"} and out["b"] == (1.0, None)
    np.testing.assert_array_equal(multiad.to_numpy(out["a"]), x)


def test_full_and_full_like_are_differentiable_in_a_traced_fill_value(backend: Case) -> None:
    # As jnp.full / jnp.full_like: sum(full_like(x, x0) * x1) = n x0 x1. autograd gave 0 for
    # d/dx0 (full_like) or returned one of its boxes (full); torch and JAX raised.
    x = np.array([0.5, 2.0])
    g = multiad.grad(lambda x: mnp.sum(mnp.full_like(x, x[0]) * x[1]), backend=backend.name)(x)
    backend.close(g, np.array([2 * 2.0, 2 * 0.5]))
    g = multiad.grad(lambda x: mnp.sum(mnp.full(3, x[0]) * x[1]), backend=backend.name)(x)
    backend.close(g, np.array([3 * 2.0, 3 * 0.5]))
    g = multiad.grad(lambda x: mnp.sum(mnp.full((3, 2), x) ** 2), backend=backend.name)(x)
    backend.close(g, 3 * 2 * x)
    ints = np.zeros((2, 3), dtype=np.int64)  # numpy's dtype: the array's (int64), the fill cast
    _, t = multiad.jvp(
        lambda x: mnp.full_like(ints, 5.0 * x[0], dtype="float32"), (x,), (np.ones(2),), backend=backend.name
    )
    assert multiad.to_numpy(t).dtype == np.float32
    np.testing.assert_allclose(multiad.to_numpy(t), np.full((2, 3), 5.0), rtol=1e-3)  # float32 differences
    with multiad.use_backend(backend.name):
        out = mnp.full_like(ints, multiad.asarray(x)[1] + 0.7)
    assert multiad.to_numpy(out).dtype == np.int64
    np.testing.assert_array_equal(multiad.to_numpy(out), np.full_like(ints, 2.7))


def test_pad_is_differentiable_in_traced_constant_values(backend: Case) -> None:
    # sum(pad(x, 2, constant_values=x0) ** 2) = sum(x ** 2) + 4 x0 ** 2; per side: x0 once, x1 ** 2 three times
    x = np.array([0.5, 2.0])
    g = multiad.grad(lambda x: mnp.sum(mnp.pad(x, 2, constant_values=x[0]) ** 2), backend=backend.name)(x)
    backend.close(g, np.array([2 * 0.5 + 8 * 0.5, 2 * 2.0]))
    g = multiad.grad(lambda x: mnp.sum(mnp.pad(x, (1, 3), constant_values=(x[0], x[1] ** 2))), backend=backend.name)(x)
    backend.close(g, np.array([2.0, 1.0 + 3 * 2 * 2.0]))


def test_nan_to_num_is_differentiable_in_traced_replacements(backend: Case) -> None:
    # sum over [1, nan, inf, -inf, 2] replaced = 3 + x0 ** 2 + 3 x0 + x1 ** 2 (torch and autograd
    # took Python numbers only and raised)
    y = np.array([1.0, np.nan, np.inf, -np.inf, 2.0])
    f = lambda x: mnp.sum(mnp.nan_to_num(y, nan=x[0] ** 2, posinf=3 * x[0], neginf=x[1] ** 2))  # noqa: E731
    backend.close(multiad.grad(f, backend=backend.name)(np.array([0.5, 2.0])), np.array([2 * 0.5 + 3, 2 * 2.0]))
    with multiad.use_backend(backend.name):
        out = mnp.nan_to_num(y.astype(np.float32), nan=multiad.asarray(np.array(0.5)), posinf=7.0)
    assert multiad.to_numpy(out).dtype == np.float32  # numpy: the array's dtype
    np.testing.assert_array_equal(multiad.to_numpy(out), np.nan_to_num(y.astype(np.float32), nan=0.5, posinf=7.0))


def test_astype_takes_a_list_of_traced_values(backend: Case) -> None:
    # a list is array data, as elsewhere in multiad.numpy (torch and JAX raised AttributeError)
    f = lambda x: mnp.sum(mnp.astype([x[0] * 3.0, x[1] ** 2], "float64"))  # noqa: E731
    backend.close(multiad.grad(f, backend=backend.name)(np.array([0.5, 2.0])), np.array([3.0, 4.0]))


def test_pad_rejects_an_unknown_reflect_type() -> None:
    with pytest.raises(ValueError, match=r"^mnp.pad: reflect_type must be 'even' or 'odd'"):
        mnp.pad(np.arange(4.0), 2, mode="reflect", reflect_type="bogus")


def test_stop_gradient_on_the_numpy_backend() -> None:
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(mnp.stop_gradient(x), x)
    with pytest.raises(NotImplementedError, match=r"^mnp.stop_gradient: .*finite differences"):
        multiad.grad(lambda x: mnp.sum(x * mnp.stop_gradient(x)), backend="numpy")(x)
    with pytest.raises(NotImplementedError, match=r"^mnp.stop_gradient: .*finite differences"):
        multiad.grad(lambda x: mnp.sum(x * mnp.stop_gradient({"a": x})["a"]), backend="numpy")(x)


def test_zero_higher_derivative_converts_to_numpy() -> None:
    # torch's forward-over-reverse gives a ZeroTensor for a derivative that is identically zero.
    (h,) = multiad.hvp(lambda x: mnp.abs(x), (np.array(0.5),), (np.array(1.0),), backend="torch")
    np.testing.assert_array_equal(multiad.to_numpy(h), 0.0)


def test_mixed_frameworks_raise() -> None:
    import torch

    with pytest.raises(multiad.MixedBackendError, match=r"^mnp.add: "):
        mnp.add(torch.ones(2), multiad.asarray(np.ones(2), backend="jax"))


@pytest.mark.parametrize(
    "call",
    [
        lambda t, j: mnp.concatenate([t, j]),
        lambda t, j: mnp.stack((j, 2.0 * j, t)),
        lambda t, j: mnp.mean([[t], [j]]),
        lambda t, j: mnp.where(t > 0, 1.0, j),
        lambda t, j: mnp.matmul([t, t], j),
    ],
)
def test_mixed_frameworks_raise_in_every_argument_position(call: Any) -> None:
    # NOTE [The arguments' library at first sight]: arrays of two frameworks in positions, in
    # lists and in nested lists all go to the same error
    import torch

    with pytest.raises(multiad.MixedBackendError, match=r"^mnp\.\w+: the arguments mix arrays of jax and torch"):
        call(torch.ones(2), multiad.asarray(np.ones(2), backend="jax"))


SHAPE_MISMATCHES: list[tuple[str, tuple[Any, ...]]] = [
    ("add", (np.ones(2), np.ones(3))),
    ("multiply", (np.ones((2, 3)), np.ones((3, 2)))),
    ("maximum", (np.ones(2), np.ones(3))),
    ("where", (np.ones(2) > 0, np.ones(3), 0.0)),
    ("matmul", (np.ones((2, 3)), np.ones((2, 3)))),
    ("dot", (np.ones(3), np.ones(2))),
    ("inner", (np.ones(2), np.ones(3))),
    ("reshape", (np.ones(6), (4, 2))),
    ("concatenate", ([np.ones((2, 3)), np.ones((2, 2))],)),
    ("vstack", ([np.ones(2), np.ones(3)],)),
    ("stack", ([np.ones(2), np.ones(3)],)),
    ("broadcast_to", (np.ones(3), (2, 2))),
    ("einsum", ("ij,jk", np.ones((2, 3)), np.ones((2, 3)))),
]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name,args", SHAPE_MISMATCHES, ids=[c[0] for c in SHAPE_MISMATCHES])
def test_shape_mismatches_raise_numpys_value_error(backend_name: str, name: str, args: tuple[Any, ...]) -> None:
    # NOTE [Shape errors]: torch raised RuntimeError and JAX TypeError, not naming the call
    with pytest.raises(ValueError):
        getattr(np, name)(*args)

    def on(a: Any) -> Any:
        if isinstance(a, list):
            return [multiad.asarray(x, backend=backend_name) for x in a]
        return multiad.asarray(a, backend=backend_name) if isinstance(a, np.ndarray) else a

    with pytest.raises(ValueError) as info:
        getattr(mnp, name)(*map(on, args))
    # the framework's own type still, for code that catches it; the message starts with the call
    if backend_name == "torch" or isinstance(info.value, TypeError):
        assert isinstance(info.value, RuntimeError if backend_name == "torch" else TypeError)
        assert str(info.value).startswith(f"mnp.{name}: ") or name in ("dot", "inner"), str(info.value)
