"""Inputs at the edges: empty arrays, dtypes numpy lacks, non-native byte order.

Empty inputs go through every transform on every backend and give correctly shaped empty
results (NOTE [Empty Jacobians]), with the shapes torch.func and jax give.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS, tolerance

import multiad
import multiad.numpy as mnp


def scalar(x: Any) -> Any:
    return mnp.sum(x**3) + 1.0


def vector(x: Any) -> Any:
    return 2.0 * x


E = np.zeros(0)

# transform -> (call on the empty input, expected shape)
EMPTY: dict[str, tuple[Callable[[str], Any], tuple[int, ...]]] = {
    "grad": (lambda b: multiad.grad(scalar, backend=b)(E), (0,)),
    "value_and_grad": (lambda b: multiad.value_and_grad(scalar, backend=b)(E)[1], (0,)),
    "vjp": (lambda b: multiad.vjp(vector, E, backend=b)[1](E)[0], (0,)),
    "jvp": (lambda b: multiad.jvp(vector, (E,), (E,), backend=b)[1], (0,)),
    "linearize": (lambda b: multiad.linearize(vector, E, backend=b)[1](E), (0,)),
    "jacrev": (lambda b: multiad.jacrev(vector, backend=b)(E), (0, 0)),
    "jacfwd": (lambda b: multiad.jacfwd(vector, backend=b)(E), (0, 0)),
    "jacobian": (lambda b: multiad.jacobian(vector, backend=b)(E), (0, 0)),
    "jacrev-scalar": (lambda b: multiad.jacrev(scalar, backend=b)(E), (0,)),
    "jacfwd-scalar": (lambda b: multiad.jacfwd(scalar, backend=b)(E), (0,)),
    "jacfwd-wide": (lambda b: multiad.jacfwd(lambda x: mnp.stack([mnp.sum(x), mnp.sum(x)]), backend=b)(E), (2, 0)),
    "jacrev-tall": (lambda b: multiad.jacrev(lambda x: x[:0], backend=b)(np.ones(3)), (0, 3)),
    "hessian": (lambda b: multiad.hessian(scalar, backend=b)(E), (0, 0)),
    "hvp": (lambda b: multiad.hvp(scalar, (E,), (E,), backend=b)[0], (0,)),
    "vhp": (lambda b: multiad.vhp(scalar, (E,), (E,), backend=b)[0], (0,)),
    "vmap": (lambda b: multiad.vmap(vector, backend=b)(np.zeros((2, 0))), (2, 0)),
}


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("transform", sorted(EMPTY))
def test_empty_input_gives_empty_result(name: str, transform: str) -> None:
    call, shape = EMPTY[transform]
    out = multiad.to_numpy(call(name))
    assert out.shape == shape and out.dtype == np.float64


def test_empty_and_nonempty_inputs_together() -> None:
    for name in BACKENDS:
        jac = multiad.jacfwd(lambda a, b: a * mnp.sum(b), argnums=(0, 1), backend=name)(np.ones(2), E)
        assert [tuple(multiad.to_numpy(j).shape) for j in jac] == [(2, 2), (2, 0)]
        np.testing.assert_allclose(multiad.to_numpy(jac[0]), np.zeros((2, 2)), atol=1e-6)
        for chunk_size in (None, 1):
            jac = multiad.jacrev(lambda a: (2.0 * a, a[:0]), chunk_size=chunk_size, backend=name)(np.ones(2))
            assert [tuple(multiad.to_numpy(j).shape) for j in jac] == [(2, 2), (0, 2)]
            np.testing.assert_allclose(multiad.to_numpy(jac[0]), 2.0 * np.eye(2), rtol=1e-6)
            jac = multiad.jacfwd(lambda a, e: a * mnp.sum(e), argnums=(0, 1), chunk_size=chunk_size, backend=name)(
                np.ones(2), E
            )
            assert [tuple(multiad.to_numpy(j).shape) for j in jac] == [(2, 2), (2, 0)]


def test_to_numpy_of_bfloat16_is_float32() -> None:
    import torch

    x = torch.tensor([1.5, -2.0], dtype=torch.bfloat16)
    out = multiad.to_numpy(x)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [1.5, -2.0])


@pytest.mark.parametrize("name", BACKENDS)
def test_big_endian_input_is_accepted(name: str) -> None:
    x = np.array([0.5, -1.5, 2.0], dtype=">f8")
    g = multiad.to_numpy(multiad.grad(lambda v: mnp.sum(v**2), backend=name)(x))
    np.testing.assert_allclose(g, 2.0 * x.astype(np.float64), rtol=1e-6)
    t = multiad.jvp(lambda v: v**2, (x,), (x,), backend=name)[1]  # tangents are converted alike
    np.testing.assert_allclose(multiad.to_numpy(t), 2.0 * x.astype(np.float64) ** 2, rtol=1e-6)
    a = multiad.to_numpy(multiad.asarray(x, backend=name))
    assert a.dtype == np.float64 and a.dtype.isnative
    np.testing.assert_array_equal(a, x)


@pytest.mark.parametrize("name", BACKENDS)
def test_reversed_arrays_are_accepted(name: str) -> None:
    # Negative strides (x[::-1], np.flip): torch has no such tensors, so the array is copied.
    x = np.array([0.5, -1.5, 2.0, 3.0])[::-1]
    w = np.arange(1.0, 5.0)[::-1]
    g = multiad.to_numpy(multiad.grad(lambda v: mnp.sum(v**2 * mnp.asarray(w)), backend=name)(x))
    np.testing.assert_allclose(g, 2.0 * x * w, rtol=1e-6)
    j = multiad.jacrev(lambda v, c: v * c, backend=name)(multiad.asarray(np.ones(4), backend=name), w)
    np.testing.assert_allclose(multiad.to_numpy(j), np.diag(w), rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(multiad.to_numpy(multiad.vmap(lambda v: 2.0 * v, backend=name)(x)), 2.0 * x)
    np.testing.assert_array_equal(multiad.to_numpy(multiad.asarray(x, backend=name)), x)
    assert x.strides[0] < 0  # inputs are not changed


@pytest.mark.parametrize("name", BACKENDS)
def test_python_float_output_is_a_constant(name: str) -> None:
    """A Python float returned by f is a constant: zero derivatives, as JAX gives (NOTE [Outputs
    must be floats]; a Python int is refused, see tests/test_errors.py)."""
    x = np.array([1.0, 2.0])
    value, g = multiad.value_and_grad(lambda v: 1.5, backend=name)(x)
    assert float(multiad.to_numpy(value)) == 1.5
    for got, shape in (
        (g, (2,)),
        (multiad.grad(lambda v: 1.5, backend=name)(x), (2,)),
        (multiad.hessian(lambda v: 1.5, backend=name)(x), (2, 2)),
        (multiad.hvp(lambda v: 1.5, (x,), (x,), backend=name)[0], (2,)),
        (multiad.jacrev(lambda v: 1.5, backend=name)(x), (2,)),
        (multiad.jacfwd(lambda v: 1.5, backend=name)(x), (2,)),
    ):
        out = multiad.to_numpy(got)
        assert out.shape == shape and out.dtype.kind == "f"
        np.testing.assert_array_equal(out, np.zeros(shape))


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_python_float_output_keeps_its_digits(name: str, dtype: str) -> None:
    """NOTE [Python float outputs]: a Python float that f returns is float64, whatever the
    arguments' dtype, as JAX with x64 (on in these tests), autograd and numpy give; on torch it
    was float32, 0.1 off by 1.5e-9."""
    x = np.array([1.0, 2.0], dtype=dtype)
    value = multiad.value_and_grad(lambda v: 0.1, backend=name)(x)[0]
    out = multiad.vjp(lambda v: 0.1, x, backend=name)[0]
    (jvp_out, _), (jvp_tangent, _) = multiad.jvp(lambda v: (0.1, v), (x,), (x,), backend=name)
    block = multiad.jacfwd(lambda v: (0.1, v), backend=name)(x)[0]
    mapped = multiad.vmap(lambda v: (0.1, v), backend=name)(np.stack([x, x]))[0]
    for got, want in ((value, 0.1), (out, 0.1), (jvp_out, 0.1), (block, np.zeros(2)), (mapped, np.full(2, 0.1))):
        got = multiad.to_numpy(got)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(multiad.to_numpy(jvp_tangent), 0.0)


CONSTANT_OUTPUTS: list[tuple[str, Callable[[Any], Any]]] = [
    ("value_and_grad", lambda x: multiad.value_and_grad(lambda v: 0.5)(x)),
    ("value_and_grad of a numpy scalar", lambda x: multiad.value_and_grad(lambda v: np.float64(0.5))(x)),
    ("vjp", lambda x: multiad.vjp(lambda v: (v * 2.0, 0.5, np.ones(2)), x)[0]),
    ("jvp", lambda x: multiad.jvp(lambda v: (v, 0.5, np.ones(2)), (x,), (x,))),
    ("jacfwd", lambda x: multiad.jacfwd(lambda v: (v, 0.5))(x)),
    ("jacrev", lambda x: multiad.jacrev(lambda v: (v, 0.5))(x)),
    ("linearize", lambda x: multiad.linearize(lambda v: (v, 0.5), x)[0]),
    ("vmap", lambda x: multiad.vmap(lambda v: (v, 0.5, np.ones(2)))(mnp.stack([x, x]))),
]


@pytest.mark.parametrize(("transform", "run"), CONSTANT_OUTPUTS, ids=[c[0] for c in CONSTANT_OUTPUTS])
def test_constant_outputs_follow_the_arguments_device(transform: str, run: Callable[[Any], Any]) -> None:
    """NOTE [Constant outputs on the arguments' device]: a Python float or numpy array f returns
    was made on torch's default device (the CPU) whatever the arguments' device; torch's "meta"
    device stands for a GPU here."""
    torch = pytest.importorskip("torch")
    x = torch.ones(2, device="meta")
    with multiad.use_backend("torch"):
        leaves = multiad.tree_leaves(run(x))
    assert leaves and all(isinstance(leaf, torch.Tensor) for leaf in leaves), leaves
    assert {leaf.device.type for leaf in leaves} == {"meta"}, [(leaf.device, leaf.shape) for leaf in leaves]


@pytest.mark.parametrize("name", BACKENDS)
def test_hessian_and_jacobian_with_an_empty_leaf(name: str) -> None:
    a = np.array([1.0, -2.0])
    h = multiad.hessian(lambda a, e: mnp.sum(a**2) * (1.0 + mnp.sum(e)), argnums=(0, 1), backend=name)(a, E)
    got = [[multiad.to_numpy(blk) for blk in row] for row in h]
    assert [[blk.shape for blk in row] for row in got] == [[(2, 2), (2, 0)], [(0, 2), (0, 0)]]
    np.testing.assert_allclose(got[0][0], 2.0 * np.eye(2), rtol=1e-5, atol=1e-6)
    for chunk_size in (None, 1, 3):
        jac = multiad.jacobian(
            lambda a, e: {"y": a * mnp.sum(e), "e": 2.0 * e.T}, argnums=(0, 1), chunk_size=chunk_size, backend=name
        )(a, np.zeros((2, 0)))
        shapes = {k: [tuple(multiad.to_numpy(blk).shape) for blk in v] for k, v in jac.items()}
        assert shapes == {"y": [(2, 2), (2, 2, 0)], "e": [(0, 2, 2), (0, 2, 2, 0)]}
        np.testing.assert_array_equal(multiad.to_numpy(jac["y"][0]), np.zeros((2, 2)))


def test_expanded_torch_tensors_are_differentiated_in_forward_mode() -> None:
    # NOTE [Arguments that share memory]: torch's forward mode refuses a stride-0 tensor.
    torch = pytest.importorskip("torch")
    c = 0.3
    x = torch.tensor([c], dtype=torch.float64).expand(3)
    y = torch.broadcast_to(torch.tensor(c, dtype=torch.float64), (3,))
    v = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    d1, d2 = np.cos(c) * c + np.sin(c), 2 * np.cos(c) - c * np.sin(c)  # (x sin x)', (x sin x)''

    def f(x: Any) -> Any:
        return torch.sin(x) * x

    def h(x: Any) -> Any:
        return (torch.sin(x) * x).sum()

    for a in (x, y):
        assert a.stride() == (0,)
        for _ in range(3):  # the general path, then the prepared calls
            np.testing.assert_allclose(multiad.jvp(f, (a,), (v,))[1].numpy(), d1 * v.numpy(), rtol=1e-13)
            for jac in (multiad.jacfwd(f), multiad.jacfwd(f, chunk_size=2), multiad.jacobian(f, mode="fwd")):
                np.testing.assert_allclose(jac(a).numpy(), d1 * np.eye(3), rtol=1e-13)
            np.testing.assert_allclose(multiad.hessian(h)(a).numpy(), d2 * np.eye(3), rtol=1e-13)
            np.testing.assert_allclose(multiad.hvp(h, (a,), (v,))[0].numpy(), d2 * v.numpy(), rtol=1e-13)
        assert a.stride() == (0,) and torch.all(a == c)  # not changed


def test_writing_into_an_expanded_tensor_inside_f_still_raises() -> None:
    torch = pytest.importorskip("torch")

    def f(x: Any) -> Any:
        shared = torch.zeros(1, dtype=x.dtype).expand(3)
        return shared.add_(x)  # torch refuses: the three elements share one location

    x = torch.ones(3, dtype=torch.float64)
    with pytest.raises(RuntimeError, match="single memory location"):
        multiad.jvp(f, (x,), (x,))


@pytest.mark.parametrize("name", BACKENDS)
def test_python_float_tangents_take_the_dtype_of_their_primal(name: str) -> None:
    """A Python float as a tangent or cotangent is weakly typed, as in NumPy: it takes the dtype of
    the matching float64 leaf (torch made it float32 and refused it, where the other backends
    accepted it)."""
    a, x, dx = np.array(0.7), np.array([1.0, -2.0]), np.array([0.5, 0.25])
    f = lambda a, x: a**3 * mnp.sum(x**2)  # noqa: E731
    s = float(np.sum(x**2))
    jvp_ref = 3 * 0.7**2 * s * 0.7 + 0.7**3 * 2 * float(x @ dx)
    hvp_ref = (6 * 0.7 * s * 0.7 + 6 * 0.7**2 * float(x @ dx), 6 * 0.7**2 * x * 0.7 + 2 * 0.7**3 * dx)
    _, tangent = multiad.jvp(f, (a, x), (0.7, dx), backend=name)
    (ga, gx) = multiad.vjp(f, a, x, backend=name)[1](1.0)
    for product in (multiad.hvp, multiad.vhp):
        ha, hx = product(f, (a, x), (0.7, dx), backend=name)
        np.testing.assert_allclose(multiad.to_numpy(ha), hvp_ref[0], **tolerance(name, 2))
        np.testing.assert_allclose(multiad.to_numpy(hx), hvp_ref[1], **tolerance(name, 2))
    np.testing.assert_allclose(multiad.to_numpy(tangent), jvp_ref, **tolerance(name))
    np.testing.assert_allclose(multiad.to_numpy(ga), 3 * 0.7**2 * s, **tolerance(name))
    np.testing.assert_allclose(multiad.to_numpy(gx), 0.7**3 * 2 * x, **tolerance(name))
    for got in (tangent, ga, gx, ha, hx):
        assert multiad.to_numpy(got).dtype == np.float64


def test_big_endian_numpy_operands_meet_torch_tensors() -> None:
    """A '>f8' array read from a file, beside a tensor in multiad.numpy or an operator inside f,
    is converted as an argument is; torch cannot wrap non-native byte order itself."""
    import torch

    big = np.array([1.0, 2.0], dtype=">f8")
    t = torch.tensor([3.0, 4.0], dtype=torch.float64)
    np.testing.assert_allclose(multiad.to_numpy(mnp.add(t, big)), [4.0, 6.0])
    g = multiad.grad(lambda x: mnp.sum(x * big) + mnp.sum(mnp.multiply(x, big)), backend="torch")(np.ones(2))
    np.testing.assert_allclose(multiad.to_numpy(g), 2 * np.array([1.0, 2.0]))


def test_big_endian_numpy_operands_meet_jax_arrays() -> None:
    import jax.numpy as jnp

    big = np.array([1.0, 2.0], dtype=">f8")
    np.testing.assert_allclose(multiad.to_numpy(mnp.add(jnp.ones(2), big)), [2.0, 3.0])
    g = multiad.grad(lambda x: mnp.sum(mnp.multiply(x, big)), backend="jax")(np.ones(2))
    np.testing.assert_allclose(multiad.to_numpy(g), [1.0, 2.0])


def test_torch_tangents_of_0d_float32_values_stay_float32() -> None:
    """NOTE [Tangents in their value's dtype]: torch's forward mode gave ``x * 0.1`` of a 0-d
    float32 tensor a float64 tangent, so jvp, jacfwd, forward-mode jacobian, hvp and
    jacfwd(grad) returned float64 derivatives of float32 values (float32 in, float32 out is
    the contract, and hessian, vhp, linearize and reverse mode kept it)."""
    torch = pytest.importorskip("torch")
    x, one = torch.tensor(1.5), torch.tensor(1.0)
    f = lambda x: x * 0.1  # noqa: E731
    s = lambda x: (x * 0.1) ** 2 * 3.0  # noqa: E731  s'' = 0.06
    out, tangent = multiad.jvp(f, (x,), (one,))
    pair = multiad.jvp(lambda x: (f(x), x * 2.0), (x,), (one,))[1]
    results = {
        "jvp": (tangent, 0.1),
        "jvp pair": (pair[0], 0.1),
        "jvp has_aux": (multiad.jvp(lambda x: (f(x), None), (x,), (one,), has_aux=True)[1], 0.1),
        "jacfwd": (multiad.jacfwd(f)(x), 0.1),
        "jacobian fwd": (multiad.jacobian(f, mode="fwd")(x), 0.1),
        "jacfwd(grad)": (multiad.jacfwd(multiad.grad(s))(x), 0.06),
        "vmap(jvp)": (multiad.vmap(lambda t: multiad.jvp(f, (x,), (t,))[1])(torch.ones(2)), [0.1, 0.1]),
    }
    for i in range(3):  # the first call takes the general path, later ones the prepared hvp
        results[f"hvp {i}"] = (multiad.hvp(s, (x,), (one,))[0], 0.06)
    two = lambda a, b: (a * 0.1) ** 2 * b  # noqa: E731
    b64 = torch.tensor(2.0, dtype=torch.float64)
    for i in range(3):
        ha, hb = multiad.hvp(two, (x, b64), (one, torch.tensor(0.0, dtype=torch.float64)))
        results[f"hvp two {i}"] = (ha, 0.04)
        assert hb.dtype == torch.float64 and abs(float(hb) - 0.03) < 1e-6
    assert out.dtype == torch.float32
    for what, (got, want) in results.items():
        assert got.dtype == torch.float32, (what, got.dtype)
        np.testing.assert_allclose(multiad.to_numpy(got), want, rtol=1e-6, err_msg=what)


@pytest.mark.parametrize("name", ["numpy", "torch", "autograd"])
def test_jacobian_dtypes_of_a_float32_input_with_a_float64_output(name: str) -> None:
    # As torch.func and JAX (with x64) define them: jacrev's rows are cotangents of the input
    # (float32), jacfwd's columns tangents of the output (float64), and hessian, jacfwd of
    # jacrev, stays float32. The numpy backend gave float64 for jacrev and hessian.
    x = np.array([0.5, 0.7], dtype=np.float32)

    def f(x: Any) -> Any:
        return mnp.sin(mnp.astype(x, np.float64))

    def total(x: Any) -> Any:
        return mnp.sum(f(x))

    with multiad.use_backend(name), np.errstate(all="ignore"):
        rev, fwd = multiad.jacrev(f)(x), multiad.jacfwd(f)(x)
        hess = multiad.hessian(total)(x)
    x64 = x.astype(np.float64)
    for got, dtype, expected in ((rev, "float32", np.diag(np.cos(x64))), (fwd, "float64", np.diag(np.cos(x64))),
                                 (hess, "float32", np.diag(-np.sin(x64)))):  # fmt: skip
        value = multiad.to_numpy(got)
        assert value.dtype == np.dtype(dtype), (dtype, value.dtype)
        np.testing.assert_allclose(value, expected, rtol=2e-3, atol=2e-3)
