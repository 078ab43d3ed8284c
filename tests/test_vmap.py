"""vmap: in_dims/out_dims forms, chunking, nesting, and composition with the derivative transforms."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import threading
import warnings
from collections import OrderedDict
from typing import Any

import numpy as np
import pytest
from conftest import Case, assert_tree_close

import multiad
import multiad.numpy as mnp
from multiad import _derive

XS = np.array([[0.3, -1.2, 2.0], [1.0, 0.5, -0.4], [-0.7, 0.2, 0.9], [0.05, 1.5, -1.1], [2.2, -0.3, 0.6]])
W = np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.6]])
B = np.array([0.1, -0.3])


def sin_x(x: Any) -> Any:
    return mnp.sum(mnp.sin(x) * x)


def predict(w: Any, b: Any, x: Any) -> Any:
    return mnp.tanh(mnp.matmul(w, x) + b)


def test_in_dims_int(backend: Case) -> None:
    out = multiad.vmap(sin_x, backend=backend.name)(XS)
    backend.close(out, np.sum(np.sin(XS) * XS, axis=1), order=0)
    out = multiad.vmap(sin_x, in_dims=1, backend=backend.name)(XS.T)
    backend.close(out, np.sum(np.sin(XS) * XS, axis=1), order=0)


def test_in_dims_tuple_with_none(backend: Case) -> None:
    out = multiad.vmap(predict, in_dims=(None, None, 0), backend=backend.name)(W, B, XS)
    backend.close(out, np.tanh(XS @ W.T + B), order=0)
    # Batch along axis 1 of the second argument, the first unbatched.
    out = multiad.vmap(lambda v, m: mnp.sum(v * m), in_dims=(None, 1), backend=backend.name)(XS[0], XS.T)
    backend.close(out, XS @ XS[0], order=0)


def test_in_dims_pytree_prefix(backend: Case) -> None:
    def f(p: Any, x: Any) -> Any:
        return mnp.tanh(mnp.matmul(p["w"], x) + p["b"])

    bs = np.stack([B, 2 * B, -B, B + 1.0, 0 * B])
    out = multiad.vmap(f, in_dims=({"w": None, "b": 0}, 0), backend=backend.name)({"w": W, "b": bs}, XS)
    backend.close(out, np.tanh(XS @ W.T + bs), order=0)
    # A prefix over a tuple argument: first element batched, second not.
    out = multiad.vmap(lambda t: t[0] * t[1], in_dims=((0, None),), backend=backend.name)((XS, XS[1]))
    backend.close(out, XS * XS[1], order=0)


@multiad.register_dataclass
@dataclasses.dataclass
class Pair:
    w: Any
    b: Any


def test_dims_of_dicts_match_by_key_whatever_their_order(backend: Case) -> None:
    # An OrderedDict's leaves come in insertion order, a dict's in sorted key order: each entry of
    # in_dims or out_dims must reach the leaf of its own key whichever kinds and orders meet.
    xa, xb = XS[:, :2], XS.T[:2]  # batched along axis 0 and axis 1, 5 examples of 2 numbers
    want = 2.0 * xa + xb.T

    def f(d: Any) -> Any:
        return 2.0 * d["a"] + d["b"]

    for dims, arg in (
        (OrderedDict([("b", 1), ("a", 0)]), OrderedDict([("a", xa), ("b", xb)])),
        (OrderedDict([("b", 1), ("a", 0)]), {"a": xa, "b": xb}),
        ({"b": 1, "a": 0}, OrderedDict([("b", xb), ("a", xa)])),
        (OrderedDict([("a", 0), ("b", 1)]), OrderedDict([("b", xb), ("a", xa)])),
    ):
        out = multiad.vmap(f, in_dims=(dims,), backend=backend.name)(arg)
        backend.close(out, want, order=0)

    # The same inside a registered node.
    out = multiad.vmap(
        lambda p: f(p.w) + p.b, in_dims=(Pair(OrderedDict([("b", 1), ("a", 0)]), 0),), backend=backend.name
    )(Pair(OrderedDict([("a", xa), ("b", xb)]), XS[:, 0]))
    backend.close(out, want + XS[:, :1], order=0)

    def g(x: Any) -> Any:
        return OrderedDict([("p", x * 1.0), ("q", x * 2.0)])

    out = multiad.vmap(g, out_dims=OrderedDict([("q", 0), ("p", 1)]), backend=backend.name)(XS)
    backend.close(out, OrderedDict([("p", XS.T), ("q", 2.0 * XS)]), order=0)
    out = multiad.vmap(lambda x: dict(g(x)), out_dims=OrderedDict([("q", 0), ("p", 1)]), backend=backend.name)(XS)
    backend.close(out, {"p": XS.T, "q": 2.0 * XS}, order=0)


def test_outputs_whose_shape_depends_on_the_values_raise_naming_the_call(backend: Case) -> None:
    # torch.func and JAX refuse f whose output shape depends on the values; every backend raises
    # an error that starts with the call and says what to change (the loop's stacking failed
    # with numpy's bare "all input arrays must have the same shape").
    def positive(x: Any) -> Any:
        return x[x > 0]

    xs = np.array([[1.0, -2.0, 3.0], [-1.0, -2.0, 3.0]])
    with pytest.raises(multiad.MultiADError, match=r"^vmap\(positive\): .*(shape|Boolean|boolean)"):
        multiad.vmap(positive, backend=backend.name)(xs)

    def count(x: Any) -> Any:  # as many outputs as positive entries
        return tuple(x[i] for i in range(x.shape[0]) if x[i] > 0)

    if backend.name in ("autograd", "numpy"):  # values are concrete in the loop: the count differs
        with pytest.raises(
            multiad.InvalidArgumentError,
            match=r"^vmap\(count\): f returned an output structured as .* \(2 arrays\) .* but as .* \(1 array\)",
        ):
            multiad.vmap(count, backend=backend.name)(xs)


def test_vmap_of_grad_through_a_value_dependent_shape_names_the_cause(backend: Case) -> None:
    # JAX's NonConcreteBooleanIndexError got the hint for conversions of traced values ("float,
    # int, numpy.asarray"), which f does not make; every backend now names the shape (NOTE
    # [Shapes that depend on the values] in backends/jax).
    def cube(x: Any) -> Any:
        return mnp.sum(x[x > 0] ** 3)

    xs = np.array([[1.0, -2.0, 3.0], [-1.0, -2.0, 3.0]])
    run = multiad.vmap(multiad.grad(cube, backend=backend.name), backend=backend.name)
    if backend.name in ("autograd", "numpy"):  # a loop over concrete examples: the gradient
        backend.close(run(xs), np.where(xs > 0, 3 * xs**2, 0.0), order=1)
        return
    # The error names the vmap the user called and the grad inside it where the framework raised
    # (NOTE [Errors of nested transforms] in multiad/_derive.py); it named the inner grad alone.
    with pytest.raises(
        multiad.NonDifferentiableError,
        match=rf"^vmap\(cube\): the {backend.name} backend could not vectorize f, at grad\(cube\) inside it: ",
    ) as info:
        run(xs)
    assert isinstance(info.value.__cause__, multiad.NonDifferentiableError)
    assert str(info.value.__cause__).startswith("grad(cube): ")
    text = str(info.value)
    assert "a shape in f depends on the values" in text and "mnp.where" in text, text
    assert "numpy.asarray" not in text, text


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_code_inside_f_still_sees_the_inner_error(name: str) -> None:
    """Only the error leaving the outer transform is named after it (NOTE [Errors of nested
    transforms]); f catching the inner grad's error sees the grad's own."""
    pytest.importorskip(name)

    def cube(x: Any) -> Any:
        return mnp.sum(x[x > 0] ** 3)

    seen: list[str] = []

    def safe(x: Any) -> Any:
        try:
            return multiad.grad(cube, backend=name)(x)
        except multiad.NonDifferentiableError as exc:
            seen.append(str(exc))
            return x * 0.0

    out = multiad.vmap(safe, backend=name)(np.array([[1.0, -2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(multiad.to_numpy(out), np.zeros((2, 2)))
    assert seen and all(text.startswith("grad(cube): ") for text in seen), seen


def test_jit_of_a_one_argument_where_names_the_cause() -> None:
    # mnp.where(cond) is jnp.nonzero, whose size JAX must know while tracing.
    jax = pytest.importorskip("jax")

    def picked(x: Any) -> Any:
        return mnp.sum(x[mnp.where(x > 0)] ** 3)

    x = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(multiad.to_numpy(multiad.grad(picked, backend="jax")(x)), [3.0, 0.0, 27.0])
    with pytest.raises(multiad.NonDifferentiableError, match=r"^grad\(picked\): ") as info:
        jax.jit(multiad.grad(picked, backend="jax"))(x)
    text = str(info.value)
    assert "a shape in f depends on the values" in text and "numpy.asarray" not in text, text


def test_out_dims(backend: Case) -> None:
    def f(x: Any) -> Any:
        return mnp.sin(x), x * 2.0

    xs = XS[:, :2]  # (5, 2)
    s, d = multiad.vmap(f, out_dims=1, backend=backend.name)(xs)
    backend.close((s, d), (np.sin(xs).T, 2 * xs.T), order=0)
    s, d = multiad.vmap(f, out_dims=(0, 1), backend=backend.name)(xs)
    backend.close((s, d), (np.sin(xs), 2 * xs.T), order=0)
    s, d = multiad.vmap(f, out_dims=-1, backend=backend.name)(xs)
    backend.close((s, d), (np.sin(xs).T, 2 * xs.T), order=0)


@pytest.mark.parametrize("chunk_size", [1, 2, 5, 8])
def test_chunk_size(backend: Case, chunk_size: int) -> None:
    out = multiad.vmap(predict, in_dims=(None, None, 0), chunk_size=chunk_size, backend=backend.name)(W, B, XS)
    backend.close(out, np.tanh(XS @ W.T + B), order=0)


def test_nested_vmap(backend: Case) -> None:
    x, y = np.array([1.0, 2.0, -3.0]), np.array([0.5, -1.0])
    inner = multiad.vmap(lambda a, b: mnp.sin(a) * b, in_dims=(None, 0), backend=backend.name)
    out = multiad.vmap(inner, in_dims=(0, None), backend=backend.name)(x, y)
    backend.close(out, np.outer(np.sin(x), y), order=0)


def test_nested_vmap_out_dims(backend: Case) -> None:
    # The inner vmap places its batch axis inside the outer one's: out[i, :, j] = 2 * x[i, j].
    x = np.arange(24.0).reshape(2, 3, 4)
    inner = multiad.vmap(lambda a: a * 2.0, out_dims=1, backend=backend.name)
    out = multiad.vmap(inner, backend=backend.name)(x)
    backend.close(out, 2.0 * np.moveaxis(x, 1, 2), order=0)


def test_per_sample_gradients(backend: Case) -> None:
    def sq_err(w: Any, x: Any, y: Any) -> Any:
        r = mnp.sum(w * x) - y
        return r * r

    w = np.array([0.2, -0.4, 1.0])
    ys = np.array([0.5, -1.0, 2.0, 0.0, 1.5])
    g = multiad.vmap(multiad.grad(sq_err), in_dims=(None, 0, 0), backend=backend.name)(w, XS, ys)
    backend.close(g, 2 * (XS @ w - ys)[:, None] * XS)


@pytest.mark.parametrize("transform", [multiad.jacrev, multiad.jacfwd])
def test_batched_jacobian(backend: Case, transform: Any) -> None:
    jac = multiad.vmap(transform(predict, argnums=2), in_dims=(None, None, 0), backend=backend.name)(W, B, XS)
    s = 1.0 - np.tanh(XS @ W.T + B) ** 2  # (5, 2)
    backend.close(jac, s[:, :, None] * W[None])


def test_batched_hessian(backend: Case) -> None:
    h = multiad.vmap(multiad.hessian(sin_x), backend=backend.name)(XS)
    expected = np.stack([np.diag(2 * np.cos(x) - x * np.sin(x)) for x in XS])
    backend.close(h, expected, order=2)


def test_vmap_errors(backend: Case) -> None:
    with pytest.raises(
        multiad.InvalidArgumentError, match=r"^vmap\(<lambda>\): mapped axes must all have the same size"
    ):
        multiad.vmap(lambda a, b: a * b, backend=backend.name)(XS, XS[:3])
    with pytest.raises(multiad.InvalidArgumentError, match=r"^vmap\(sin_x\): in_dims has 2 entries"):
        multiad.vmap(sin_x, in_dims=(0, 0), backend=backend.name)(XS)


# Repeated calls (NOTE [Prepared vmap calls]): the second and later calls of one signature take
# the prepared path; each must see its own argument values and give its own output structure.


def test_repeated_calls_see_their_own_unbatched_values(backend: Case) -> None:
    v = multiad.vmap(predict, in_dims=(None, None, 0), backend=backend.name)
    w, b, xs = backend.array(W), backend.array(B), backend.array(XS)
    for scale in (1.0, 2.0, -0.5):
        out = v(w * scale, b * scale, xs)
        backend.close(out, np.tanh(scale * (XS @ W.T + B)), order=0)
    # numpy arguments (converted on every call) and a Python number among the unbatched leaves
    s = multiad.vmap(lambda x, c: x * c, in_dims=(0, None), backend=backend.name)
    for c in (2.0, 3.0):
        backend.close(s(XS, c), XS * c, order=0)
        backend.close(s(XS, np.array(c)), XS * c, order=0)


def test_output_structure_may_change_between_calls(backend: Case) -> None:
    def f(x: Any, k: Any) -> Any:  # the structure depends on the unbatched argument's shape
        return (x * k[0], mnp.sin(x)) if k.shape[0] == 1 else {"p": x * k[1]}

    v = multiad.vmap(f, in_dims=(0, None), backend=backend.name)
    for _ in range(2):
        backend.close(v(XS, np.array([2.0])), (XS * 2.0, np.sin(XS)), order=0)
        backend.close(v(XS, np.array([1.0, 3.0])), {"p": XS * 3.0}, order=0)
        backend.close(v(XS, np.array([2.0]))[0], XS * 2.0, order=0)


def test_dict_key_order_of_each_call_reaches_f(backend: Case) -> None:
    # Dicts with the same keys in another order have equal structures; the prepared call of the
    # second order must still pass f the call's own dict, whose order f may read.
    v = multiad.vmap(lambda p, c: next(iter(p.values())) * c, in_dims=(0, None), backend=backend.name)
    for _ in range(3):
        backend.close(v({"a": XS, "b": -XS}, 2.0), XS * 2.0, order=0)
        backend.close(v({"b": -XS, "a": XS}, 2.0), -XS * 2.0, order=0)
        backend.close(v({"a": XS, "b": -XS}, np.array(3.0)), XS * 3.0, order=0)
        backend.close(v({"b": -XS, "a": XS}, np.array(3.0)), -XS * 3.0, order=0)


def test_negative_in_dims_on_arguments_of_other_ranks(backend: Case) -> None:
    v = multiad.vmap(lambda x: mnp.sum(x * x), in_dims=-1, backend=backend.name)
    x3 = np.arange(24.0).reshape(2, 3, 4) / 10
    for _ in range(2):  # the same signature (one array), the last axis 1, then 2
        backend.close(v(XS.T), np.sum(XS * XS, axis=1), order=0)
        backend.close(v(x3), np.sum(x3 * x3, axis=(0, 1)), order=0)


def test_nested_vmaps_with_unbatched_arguments_and_chunks(backend: Case) -> None:
    inner = multiad.vmap(lambda a, c, y: mnp.sin(a) * y + c, in_dims=(None, None, 0), backend=backend.name)
    # The inner call's unbatched values differ from the outer's (c + 1), so that each level
    # reading the other's would show; chunks make the outer run f again after an inner call.
    outer = multiad.vmap(
        lambda a, c, y: inner(a, c + 1.0, y), in_dims=(0, None, None), chunk_size=2, backend=backend.name
    )
    x, y = np.array([1.0, 2.0, -3.0, 0.5, 0.25]), np.array([0.5, -1.0])
    for c in (0.0, 1.5):
        backend.close(outer(x, np.array(c), y), np.outer(np.sin(x), y) + c + 1.0, order=0)


def test_calls_from_two_threads_keep_their_structures(backend: Case) -> None:
    # Both calls are inside f at once (the barrier); each gets its own structure and values.
    barrier = threading.Barrier(2, timeout=30)

    def f(x: Any, k: Any) -> Any:
        barrier.wait()
        return (x * k[0], x) if k.shape[0] == 1 else {"p": x * k[1]}

    v = multiad.vmap(f, in_dims=(0, None), backend=backend.name)
    ks = {"one": np.array([2.0]), "two": np.array([1.0, 3.0])}
    want = {"one": (XS * 2.0, XS), "two": {"p": XS * 3.0}}
    results: dict[str, Any] = {}
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            for _ in range(3):
                results[name] = v(XS, ks[name])
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(name,)) for name in ks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for name in ks:
        backend.close(results[name], want[name], order=0)


def test_backend_running_f_on_another_thread() -> None:
    # A backend's vmap may run the function it is given on a thread of its own; the output
    # structure still comes back (NOTE [Prepared vmap calls]).
    with multiad.use_backend("numpy") as real:
        pass
    pool = concurrent.futures.ThreadPoolExecutor(1)

    def vmap(self: Any, fun: Any, in_axes: Any, chunk_size: Any) -> Any:
        loop = _derive.loop_vmap(self, fun, in_axes, "worker")
        return lambda *args: pool.submit(loop, *args).result()

    attrs = {"name": "numpy-worker", "has_vmap": True, "vmap": vmap, "__module__": type(real).__module__}
    worker = object.__new__(type("WorkerBackend", (type(real),), attrs))
    worker.__dict__.update(real.__dict__)
    v = multiad.vmap(lambda x, y: {"s": x * y, "t": (x, y)}, in_dims=(0, None), backend=worker)
    try:
        for c in (2.0, 3.0, 4.0):
            out = v(XS, np.array(c))
            assert_tree_close(out, {"s": XS * c, "t": (XS, np.full(len(XS), c))}, "numpy", order=0)
    finally:
        pool.shutdown()


# Empty batches (NOTE [Empty batches]): each case maps over a batch of size 0 and gives numpy's
# vectorized result on the same empty batch, whose shape and dtype are the contract.
X0 = np.zeros((0, 3))


def _positive_log(x: Any) -> Any:
    if not np.all(multiad.to_numpy(x) > 0):
        raise ValueError("x must be positive")
    return mnp.log(x)


EMPTY_BATCH: dict[str, tuple[Any, Any]] = {
    "elementwise": (lambda b: multiad.vmap(mnp.sin, backend=b)(X0), np.sin(X0)),
    "scalar-out": (lambda b: multiad.vmap(mnp.sum, backend=b)(X0), np.sum(X0, axis=1)),
    "outer": (lambda b: multiad.vmap(lambda x: mnp.outer(x, x), backend=b)(X0), np.einsum("bi,bj->bij", X0, X0)),
    "outer-float32": (
        lambda b: multiad.vmap(lambda x: mnp.outer(x, x), backend=b)(X0.astype(np.float32)),
        np.zeros((0, 3, 3), np.float32),
    ),
    "int-out": (lambda b: multiad.vmap(mnp.argmax, backend=b)(X0), np.argmax(X0, axis=1)),
    # torch.func.vmap raises IndexError on this over a batch of size 0
    "sum-times-x": (lambda b: multiad.vmap(lambda x: mnp.sum(x) * x, backend=b)(X0), np.sum(X0, axis=1)[:, None] * X0),
    "outside-domain": (lambda b: multiad.vmap(lambda x: mnp.log(x) / x, backend=b)(X0), np.log(X0) / X0),
    "chunk_size": (lambda b: multiad.vmap(mnp.sin, chunk_size=2, backend=b)(X0), np.sin(X0)),
    "in_dims-1": (lambda b: multiad.vmap(mnp.cos, in_dims=1, backend=b)(X0.T), np.cos(X0)),
    "unbatched-arg": (
        lambda b: multiad.vmap(lambda w, x: mnp.matmul(w, x), in_dims=(None, 0), backend=b)(W, X0),
        X0 @ W.T,
    ),
    "pytree": (
        lambda b: multiad.vmap(
            lambda d, y: {"s": mnp.sum(d["a"] * y), "t": (d["b"], y)},
            in_dims=({"a": 1, "b": 0}, None),
            out_dims={"s": 0, "t": (1, 0)},
            backend=b,
        )({"a": X0.T, "b": np.zeros((0, 2, 2))}, np.ones(3)),
        {"s": np.zeros(0), "t": (np.zeros((2, 0, 2)), np.zeros((0, 3)))},
    ),
    "out_dims-last": (
        lambda b: multiad.vmap(lambda x: mnp.outer(x, x), out_dims=-1, backend=b)(X0),
        np.einsum("bi,bj->ijb", X0, X0),
    ),
    "nested": (
        lambda b: multiad.vmap(multiad.vmap(mnp.sin), in_dims=1, backend=b)(np.zeros((4, 0, 2))),
        np.zeros((0, 4, 2)),
    ),
    # torch.func.vmap over the empty outer batch raised IndexError at a - b; the inner vmap's
    # all-zero example did too, and its InvalidArgumentError was let through (NOTE [Empty
    # batches inside an empty batch])
    "nested-both-empty": (
        lambda b: multiad.vmap(multiad.vmap(lambda a, c: a - c, in_dims=(0, None)), backend=b)(
            np.zeros((0, 0, 4)), np.zeros(0)
        ),
        np.zeros((0, 0, 4)) - np.zeros(0)[:, None, None],
    ),
    "nested-both-empty-float32": (
        lambda b: multiad.vmap(multiad.vmap(lambda a, c: a * c, in_dims=(-2, None)), in_dims=(-1, -1), backend=b)(
            np.zeros((0, 4, 0), np.float32), np.zeros((4, 0), np.float32)
        ),
        np.zeros((0, 0, 4), np.float32),
    ),
    # the inner vmap's call left its one array in the per-thread slot when torch's vmap over the
    # empty batch failed at 0.0 + s; the loop's run then compared the (value, grad) pair with it
    # (NOTE [Calls inside a call's f])
    "value-and-grad-of-an-inner-vmap": (
        lambda b: multiad.vmap(
            multiad.value_and_grad(lambda a: 0.0 + mnp.sum(multiad.vmap(mnp.sin, backend=b)(a))), backend=b
        )(np.zeros((0, 3))),
        (np.zeros(0), np.zeros((0, 3))),
    ),
    "per-example-grad": (
        lambda b: multiad.vmap(multiad.grad(lambda x: mnp.sum(x**2)), backend=b)(X0),
        2.0 * X0,
    ),
    "per-example-hessian": (lambda b: multiad.vmap(multiad.hessian(sin_x), backend=b)(X0), np.zeros((0, 3, 3))),
    "batched-pullback": (
        lambda b: multiad.vmap(multiad.vjp(mnp.sin, np.ones(3), backend=b)[1], backend=b)(X0),
        (X0 * np.cos(1.0),),
    ),
}


@pytest.mark.parametrize("case", sorted(EMPTY_BATCH))
def test_empty_batch_gives_numpy_shapes_and_dtypes(backend: Case, case: str) -> None:
    call, expected = EMPTY_BATCH[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the dummy example's log(0) / 0 does not warn
        out = call(backend.name)
    got_leaves, got_spec = multiad.tree_flatten(out)
    want_leaves, want_spec = multiad.tree_flatten(expected)
    assert got_spec == want_spec
    for got, want in zip(got_leaves, want_leaves):
        got = multiad.to_numpy(got)
        assert got.shape == want.shape, (got.shape, want.shape)
        assert got.dtype.kind == want.dtype.kind and (want.dtype.kind != "f" or got.dtype == want.dtype)


@pytest.mark.parametrize("name", ["autograd", "numpy"])
def test_empty_batch_f_raising_on_zeros_is_explained(name: str) -> None:
    with pytest.raises(multiad.InvalidArgumentError, match=r"^vmap\(_positive_log\): the batch is empty") as info:
        multiad.vmap(_positive_log, backend=name)(X0)
    assert "ValueError: x must be positive" in str(info.value)
    assert "skip the call when the batch is empty" in str(info.value)
    out = multiad.vmap(_positive_log, backend=name)(np.ones((2, 3)))  # a real batch is unaffected
    np.testing.assert_array_equal(multiad.to_numpy(out), np.zeros((2, 3)))


def test_python_number_outputs_are_broadcast_complex_included(backend: Case) -> None:
    # as jax.vmap: a Python number f returns is one value for every example; a complex one was
    # refused ("outputs must be arrays") where int, float and bool were broadcast
    xs = np.arange(6.0).reshape(3, 2)
    out = multiad.vmap(lambda v: (v, 1 + 2j, 2.5, 3), backend=backend.name)(xs)
    values = [multiad.to_numpy(o) for o in out[1:]]
    np.testing.assert_array_equal(values[0], np.full(3, 1 + 2j))
    np.testing.assert_array_equal(values[1], np.full(3, 2.5))
    np.testing.assert_array_equal(values[2], np.full(3, 3))
    # complex128 as NumPy makes it, where the backend computes in double precision
    assert values[0].dtype == (np.complex64 if backend.name == "jax" and not _x64() else np.complex128)
    with pytest.raises(multiad.InvalidTypeError, match=r"f returned a str leaf; outputs must be arrays or Python"):
        multiad.vmap(lambda v: (v, "s"), backend=backend.name)(xs)


def _x64() -> bool:
    import jax

    return bool(jax.config.read("jax_enable_x64"))
