"""Pytrees in and out of every transform: dicts, nested lists and tuples, namedtuples, dataclasses."""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import numpy as np
import pytest
from conftest import Case, tree_leaves

import multiad
import multiad.numpy as mnp

W = np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.6]])
B = np.array([0.1, -0.3])
X = np.array([0.3, -1.2, 2.0])


class Params(NamedTuple):
    w: Any
    b: Any


@multiad.register_dataclass
@dataclasses.dataclass
class Layer:
    w: Any
    b: Any


def loss_grads(w: np.ndarray, b: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of sum(tanh(w x + b)) with respect to w and b."""
    s = 1.0 - np.tanh(w @ x + b) ** 2
    return np.outer(s, x), s


def loss(w: Any, b: Any, x: Any) -> Any:
    return mnp.sum(mnp.tanh(mnp.matmul(w, x) + b))


def test_dict_input_keeps_keys_on_every_backend(backend: Case) -> None:
    gw, gb = loss_grads(W, B, X)
    params = {"w": W, "b": B}  # inserted out of sorted order
    g = multiad.grad(lambda p, x: loss(p["w"], p["b"], x), backend=backend.name)(params, X)
    assert isinstance(g, dict)
    assert list(g) == ["w", "b"]
    backend.close(g, {"w": gw, "b": gb})
    # Leaves are ordered by sorted key on every backend (one leaf order everywhere).
    np.testing.assert_allclose(multiad.to_numpy(tree_leaves(g)[0]), gb, **backend.tol())


def test_dict_key_order_of_each_call_reaches_f(backend: Case) -> None:
    # Two dicts with the same keys in another order have equal structures (their leaves are in
    # sorted key order); f must still get each call's own dict, whose order it may read.
    def f(p: Any) -> Any:
        first, second = p.values()
        return mnp.sum(first * first + 3.0 * second)

    a, b = np.array([1.0, -2.0]), np.array([0.5, 4.0])
    grad = multiad.grad(f, backend=backend.name)
    jac = multiad.jacrev(lambda p: next(iter(p.values())) * 2.0, backend=backend.name)
    for _ in range(3):  # the first call of a signature and the prepared ones
        for p, want in (
            ({"a": a, "b": b}, {"a": 2 * a, "b": 3 + 0 * b}),
            ({"b": b, "a": a}, {"b": 2 * b, "a": 3 + 0 * a}),
        ):
            g = multiad.grad(f, backend=backend.name)(p)
            assert list(g) == list(p)
            backend.close(g, want)
            backend.close(grad(p), want)
            first = next(iter(p))
            backend.close(jac(p), {k: 2 * np.eye(2) * (k == first) for k in p})
            _, pull = multiad.vjp(f, p, backend=backend.name)
            backend.close(pull(np.array(1.0)), (want,))


class Scaled:
    """A registered node whose data (``scale``) is not a leaf."""

    def __init__(self, w: Any, scale: Any) -> None:
        self.w, self.scale = w, scale


multiad.register_pytree_node(Scaled, lambda s: ((s.w,), s.scale), lambda scale, c: Scaled(c[0], scale))


def test_registered_node_data_of_each_call_reaches_f(backend: Case) -> None:
    # 1 and True compare (and hash) equal, so the structures of Scaled(w, 1) and Scaled(w, True)
    # do too; f must still get each call's own node. Data that numpy arrays of several elements
    # make impossible to compare must not break the second call either.
    def f(s: Any) -> Any:
        k = 3.0 if s.scale is True else float(np.asarray(s.scale).ravel()[0])
        return mnp.sum(s.w * s.w) * k

    grad = multiad.grad(f, backend=backend.name)
    jac = multiad.jacobian(lambda s: s.w * (3.0 if s.scale is True else 1.0), backend=backend.name)
    v = multiad.vmap(
        lambda s: s.w * (3.0 if s.scale is True else float(np.asarray(s.scale).ravel()[0])), backend=backend.name
    )
    for _ in range(3):
        for scale, k in ((1, 1.0), (True, 3.0), (np.array([2.0, 0.0]), 2.0), (np.array([4.0, 0.0]), 4.0)):
            backend.close(grad(Scaled(X, scale)).w, 2.0 * k * X)
            backend.close(multiad.grad(f, backend=backend.name)(Scaled(X, scale)).w, 2.0 * k * X)
            backend.close(v(Scaled(W, scale)), k * W, order=0)
            if not isinstance(scale, np.ndarray):
                backend.close(jac(Scaled(X, scale)).w, k * np.eye(3))


def test_tangents_whose_node_data_cannot_be_compared_are_named(backend: Case) -> None:
    def f(s: Any) -> Any:
        return mnp.sum(s.w * s.w) * float(np.asarray(s.scale).ravel()[0])

    scale = np.array([2.0, 0.0])
    _, t = multiad.jvp(f, (Scaled(X, scale),), (Scaled(np.ones(3), scale),), backend=backend.name)
    backend.close(t, 4.0 * X.sum())
    with pytest.raises(multiad.InvalidArgumentError, match=r"^jvp\(f\): the registered nodes of tangents"):
        multiad.jvp(f, (Scaled(X, scale),), (Scaled(np.ones(3), scale.copy()),), backend=backend.name)
    with pytest.raises(multiad.InvalidArgumentError, match=r"^hvp\(f\): the registered nodes of tangents"):
        multiad.hvp(f, (Scaled(X, scale),), (Scaled(np.ones(3), scale.copy()),), backend=backend.name)


def test_jacobian_auto_called_again_with_containers_and_numbers(backend: Case) -> None:
    # The second call of a signature looks for a prepared form (NOTE [Prepared calls]), whose
    # choice of mode for jacobian(mode="auto") reads array shapes: containers and numbers too.
    jac = multiad.jacobian(lambda p: mnp.sin(p["w"]) * p["b"], backend=backend.name)
    jac_list = multiad.jacobian(lambda p: 2.0 * p[0] * p[1], backend=backend.name)
    jac_number = multiad.jacobian(lambda x: 3.0 * x * x, backend=backend.name)
    for _ in range(3):
        backend.close(jac({"w": X, "b": 2.0 * X}), {"w": np.diag(2.0 * X * np.cos(X)), "b": np.diag(np.sin(X))})
        backend.close(jac_list([X, 2.0 * X]), [np.diag(4.0 * X), np.diag(2.0 * X)])
        out = jac_number(0.5)
        np.testing.assert_allclose(multiad.to_numpy(out), 3.0, rtol=1e-3 if backend.name == "torch" else 1e-4)


def test_nested_lists_and_tuples(backend: Case) -> None:
    def f(tree: Any) -> Any:
        a, (b, c) = tree
        return mnp.sum(a * b) + mnp.sum(mnp.sin(c))

    a, b, c = np.array([1.0, 2.0]), np.array([-0.5, 3.0]), np.array([0.1, 0.2, 0.3])
    g = multiad.grad(f, backend=backend.name)([a, (b, c)])
    assert isinstance(g, list) and isinstance(g[1], tuple)
    backend.close(g, [b, (a, np.cos(c))])


def test_namedtuple(backend: Case) -> None:
    gw, gb = loss_grads(W, B, X)
    g = multiad.grad(lambda p, x: loss(p.w, p.b, x), backend=backend.name)(Params(W, B), X)
    assert type(g) is Params
    backend.close(g, Params(gw, gb))


def test_registered_dataclass(backend: Case) -> None:
    gw, gb = loss_grads(W, B, X)
    g = multiad.grad(lambda p, x: loss(p.w, p.b, x), backend=backend.name)(Layer(W, B), X)
    assert type(g) is Layer
    backend.close(g, Layer(gw, gb))
    # As an output too: the Jacobian of a dataclass-valued function.
    jac = multiad.jacrev(lambda x: Layer(x * x, mnp.sum(x)), backend=backend.name)(X)
    assert type(jac) is Layer
    backend.close(jac, Layer(np.diag(2 * X), np.ones(3)))


def test_dict_output_vjp_and_jvp(backend: Case) -> None:
    def f(x: Any, y: Any) -> Any:
        return {"prod": x * y, "parts": (mnp.sin(x), mnp.sum(y))}

    y = np.array([1.5, 0.4, -0.7])
    out, vjp_fn = multiad.vjp(f, X, y, backend=backend.name)
    backend.close(out, {"prod": X * y, "parts": (np.sin(X), np.sum(y))}, order=0)
    c1, c2, c3 = np.array([1.0, -1.0, 2.0]), np.array([0.5, 0.5, 0.5]), np.array(3.0)
    gx, gy = vjp_fn({"prod": c1, "parts": (c2, c3)})
    backend.close((gx, gy), (c1 * y + c2 * np.cos(X), c1 * X + c3))

    u, v = np.array([0.2, 1.0, -0.3]), np.array([-1.0, 0.1, 2.0])
    _, tout = multiad.jvp(f, (X, y), (u, v), backend=backend.name)
    backend.close(tout, {"prod": u * y + X * v, "parts": (np.cos(X) * u, np.sum(v))})


def test_jacobian_dict_of_dicts(backend: Case) -> None:
    def f(p: Any) -> Any:
        return {"z": mnp.tanh(mnp.matmul(p["w"], X) + p["b"]), "n": mnp.sum(p["b"] * p["b"])}

    s = 1.0 - np.tanh(W @ X + B) ** 2
    expected = {
        "z": {"w": np.einsum("ij,i,k->ijk", np.eye(2), s, X), "b": np.diag(s)},
        "n": {"w": np.zeros((2, 3)), "b": 2 * B},
    }
    for transform in (multiad.jacrev, multiad.jacfwd):
        jac = transform(f, backend=backend.name)({"w": W, "b": B})
        assert set(jac) == {"z", "n"} and all(set(jac[k]) == {"w", "b"} for k in jac)
        assert multiad.to_numpy(jac["z"]["w"]).shape == (2, 2, 3)
        backend.close(jac, expected)


def test_jacobian_argnums_tuple_of_trees(backend: Case) -> None:
    def f(p: Any, x: Any) -> Any:
        return mnp.tanh(mnp.matmul(p.w, x) + p.b)

    s = 1.0 - np.tanh(W @ X + B) ** 2
    jac = multiad.jacrev(f, argnums=(0, 1), backend=backend.name)(Params(W, B), X)
    assert isinstance(jac, tuple) and type(jac[0]) is Params
    backend.close(jac, (Params(np.einsum("ij,i,k->ijk", np.eye(2), s, X), np.diag(s)), s[:, None] * W))


def test_hessian_of_dict_input(backend: Case) -> None:
    def f(p: Any) -> Any:
        return mnp.sum(p["a"] * p["a"] * p["c"])

    a, c = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    h = multiad.hessian(f, backend=backend.name)({"a": a, "c": c})
    expected = {
        "a": {"a": np.diag(2 * c), "c": np.diag(2 * a)},
        "c": {"a": np.diag(2 * a), "c": np.zeros((2, 2))},
    }
    backend.close(h, expected, order=2)


def test_forward_tangent_of_a_list_output_is_a_list_under_every_nesting(backend: Case) -> None:
    # The tangent of split(x, 2) along v is split(v, 2): a list, as numpy's split returns,
    # whether jvp or linearize runs alone or inside vjp or grad (autograd nests sequence boxes).
    x, v = np.array([0.3, -1.2, 2.0, 0.7]), np.array([1.0, -0.5, 2.0, 0.25])
    name = backend.name

    def split(x: Any) -> Any:
        return mnp.split(x, 2)

    def tangent(x: Any) -> Any:
        t = multiad.jvp(split, (x,), (x,), backend=name)[1]
        assert type(t) is list, type(t)
        return t

    def linearized(x: Any) -> Any:
        t = multiad.linearize(split, x, backend=name)[1](x)
        assert type(t) is list, type(t)
        return t

    backend.close(multiad.jvp(split, (x,), (v,), backend=name)[1], [v[:2], v[2:]])
    backend.close(multiad.linearize(split, x, backend=name)[1](v), [v[:2], v[2:]])
    for g in (tangent, linearized):
        out, vjp_fn = multiad.vjp(g, x, backend=name)
        backend.close(out, [x[:2], x[2:]], order=0)
        backend.close(vjp_fn([v[:2], v[2:]]), (v,))
    grad = multiad.grad(lambda x: sum(mnp.sum(t * t) for t in tangent(x)), backend=name)(x)
    backend.close(grad, 2 * x)


@multiad.register_dataclass
@dataclasses.dataclass
class ScaledLayer:
    w: Any
    b: Any
    scale: float = dataclasses.field(default=2.0, metadata={"static": True})


def test_dataclass_static_fields_are_structure_not_leaves(backend: Case) -> None:
    # As jax.tree_util.register_dataclass: a field with metadata static=True is part of the
    # structure (kept, not differentiated), the others are the leaves.
    gw, gb = loss_grads(W, B, X)
    layer = ScaledLayer(W, B, scale=3.0)
    assert len(multiad.tree_leaves(layer)) == 2
    g = multiad.grad(lambda p, x: p.scale * loss(p.w, p.b, x), backend=backend.name)(layer, X)
    assert isinstance(g, ScaledLayer) and g.scale == 3.0
    backend.close((g.w, g.b), (3.0 * gw, 3.0 * gb))


def test_dataclass_fields_named_as_jax_names_them(backend: Case) -> None:
    @dataclasses.dataclass
    class Affine:
        b: Any
        w: Any
        name: str
        cache: Any = dataclasses.field(default=None, init=False)

    multiad.register_dataclass(Affine, data_fields=["w", "b"], meta_fields=["name"], drop_fields=["cache"])
    gw, gb = loss_grads(W, B, X)
    g = multiad.grad(lambda p, x: loss(p.w, p.b, x), backend=backend.name)(Affine(B, W, "layer"), X)
    assert isinstance(g, Affine) and g.name == "layer"
    backend.close((g.w, g.b), (gw, gb))
    leaves = multiad.tree_leaves(Affine(B, W, "layer"))
    np.testing.assert_array_equal(leaves[0], W)  # data_fields' order, not the declaration's


def test_dataclasses_with_other_static_values_are_other_structures() -> None:
    with pytest.raises(multiad.InvalidArgumentError, match=r"^jvp\(<lambda>\): .*structure"):
        multiad.jvp(lambda p: p.w * p.scale, (ScaledLayer(W, B, 2.0),), (ScaledLayer(W, B, 3.0),), backend="numpy")


def test_register_dataclass_refuses_fields_that_do_not_rebuild_the_class() -> None:
    @dataclasses.dataclass
    class Pair:
        a: Any
        b: Any

    with pytest.raises(TypeError, match=r"^register_dataclass\('Pair'\): give both data_fields and meta_fields"):
        multiad.register_dataclass(Pair, data_fields=["a", "b"])
    with pytest.raises(
        ValueError, match=r"^register_dataclass\('Pair'\): data_fields and meta_fields must name .*missing \['b'\]"
    ):
        multiad.register_dataclass(Pair, data_fields=["a"], meta_fields=[])
    with pytest.raises(
        TypeError, match=r"^register_dataclass\('Pair'\): data_fields must be a sequence of field names"
    ):
        multiad.register_dataclass(Pair, data_fields="ab", meta_fields=[])
    with pytest.raises(TypeError, match=r"^register_dataclass\('int'\): expected a dataclass"):
        multiad.register_dataclass(int)
