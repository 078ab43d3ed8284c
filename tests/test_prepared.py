"""Prepared calls (NOTE [Prepared calls] in multiad/_prepared.py): a transform object called again
with arguments of the same kind takes a short path; it must give what the general path gives,
with the same checks and errors, on every call, not only the first."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from conftest import run_threads

import multiad

torch = pytest.importorskip("torch")

X = np.array([0.5, -1.0, 2.0])


def cube_sum(x: Any) -> Any:
    return (x**3).sum()


def t(a: Any) -> Any:
    return torch.tensor(a, dtype=torch.float64)


@pytest.mark.parametrize("calls", [1, 3])
def test_results_match_closed_forms_on_every_call(calls: int) -> None:
    jac = multiad.jacrev(lambda x: x**3)
    grad = multiad.grad(cube_sum)
    vg = multiad.value_and_grad(lambda x, y: (x * y).sum(), argnums=(0, 1))
    jac2 = multiad.jacrev(lambda w, x: w * x**2, argnums=1)
    for _ in range(calls):
        x = t(X)
        np.testing.assert_allclose(jac(x).numpy(), np.diag(3 * X**2), rtol=1e-12)
        np.testing.assert_allclose(grad(x).numpy(), 3 * X**2, rtol=1e-12)
        value, (gx, gy) = vg(x, t(2 * X))
        np.testing.assert_allclose(float(value), 2 * (X * X).sum(), rtol=1e-12)
        np.testing.assert_allclose(gx.numpy(), 2 * X, rtol=1e-12)
        np.testing.assert_allclose(gy.numpy(), X, rtol=1e-12)
        np.testing.assert_allclose(jac2(2.0, x).numpy(), np.diag(4 * X), rtol=1e-12)


def test_output_structures_and_tuple_argnums() -> None:
    jac = multiad.jacrev(lambda x, y: {"b": x * y, "a": (x**2).sum()}, argnums=(0, 1))
    for _ in range(2):
        out = jac(t(X), t(3 * X))
        assert list(out) == ["b", "a"]  # the output's own key order, as on the general path
        np.testing.assert_allclose(out["a"][0].numpy(), 2 * X, rtol=1e-12)
        np.testing.assert_allclose(out["a"][1].numpy(), 0 * X, atol=0)
        np.testing.assert_allclose(out["b"][0].numpy(), np.diag(3 * X), rtol=1e-12)
        np.testing.assert_allclose(out["b"][1].numpy(), np.diag(X), rtol=1e-12)
    single = multiad.jacrev(lambda x: (2.0 * x,))
    for _ in range(2):
        (block,) = single(t(X))
        np.testing.assert_allclose(block.numpy(), 2 * np.eye(3), rtol=1e-12)


def test_output_structure_that_changes_between_calls() -> None:
    def f(x: Any) -> Any:
        return [x * 2.0, x] if x.shape[0] == 2 else x * 2.0

    jac = multiad.jacrev(f)
    for n in (3, 2, 3, 2):
        got = jac(torch.ones(n, dtype=torch.float64))
        if n == 2:
            assert isinstance(got, list) and len(got) == 2
            np.testing.assert_allclose(got[1].numpy(), np.eye(2), rtol=1e-12)
        else:
            np.testing.assert_allclose(got.numpy(), 2 * np.eye(3), rtol=1e-12)


def test_output_structure_of_a_nested_call_that_raises() -> None:
    # A prepared call nested in f writes its output's structure, then raises in its backward
    # pass; f catches that and returns one array, whose Jacobian must come back as it is.
    failing = [False]

    @multiad.custom_vjp
    def square(x: Any) -> Any:
        return x * x

    def backward(x: Any, g: Any) -> Any:
        if failing[0]:
            raise ValueError("backward failed")
        return (2.0 * x * g,)

    square.defvjp(lambda x: (x * x, x), backward)
    inner = multiad.jacrev(lambda x: {"a": square(x)})

    def f(x: Any) -> Any:
        try:
            inner(x)
        except ValueError:
            pass
        return x * 3.0

    outer = multiad.jacrev(f)
    for _ in range(2):
        np.testing.assert_allclose(inner(t(X))["a"].numpy(), np.diag(2 * X), rtol=1e-12)
    failing[0] = True
    for _ in range(4):
        got = outer(t(X))
        assert isinstance(got, torch.Tensor)
        np.testing.assert_allclose(got.numpy(), 3 * np.eye(3), rtol=1e-12)


def test_checks_run_on_every_call() -> None:
    jac = multiad.jacrev(lambda x: x * 2.0)
    grad = multiad.grad(lambda x: x.sum() * float(x[0]))
    out_int = multiad.jacrev(lambda x: (x > 0).long())
    jac(t(X))
    for _ in range(2):
        with pytest.raises(multiad.InvalidTypeError, match=r"^jacrev\(<lambda>\): argument 0 has dtype int64"):
            jac(torch.tensor([1, 2]))
        # NOTE [Conversions that drop derivatives]: the guard stays on the short path.
        with pytest.raises(multiad.NonDifferentiableError, match=r"^grad\(<lambda>\): .*float\(tensor\)"):
            grad(t(X))
        with pytest.raises(multiad.InvalidTypeError, match=r"^jacrev\(<lambda>\): f's output has integer dtype"):
            out_int(t(X))
        with pytest.raises(multiad.InvalidArgumentError, match=r"^grad\(cube\): f must return a scalar"):
            multiad.grad(cube)(t(X))


def test_conversion_guard_on_every_prepared_call() -> None:
    # NOTE [One frame for the guard and the output check]: the output check turns the guard on.
    converts = [
        multiad.jacrev(lambda x: x * float(x[0])),
        multiad.jacrev(lambda x: {"a": x * float(x[0])}),
        multiad.hessian(lambda x: (x**2).sum() * float(x[0])),
        multiad.value_and_grad(lambda x: (x**2).sum() * float(x[0])),
    ]
    plain = multiad.jacrev(lambda x: {"a": x**2})
    for _ in range(3):
        for fn in converts:
            with pytest.raises(multiad.NonDifferentiableError, match=r"^\w+\(<lambda>\): .*float\(tensor\)"):
                fn(t(X))
        assert float(t(X)[0]) == X[0]  # the guard is off again outside the transforms
        np.testing.assert_allclose(plain(t(X))["a"].numpy(), np.diag(2 * X), rtol=1e-12)


def cube(x: Any) -> Any:
    return x**3


def test_selection_is_read_on_every_call() -> None:
    seen: list[str] = []

    def f(x: Any) -> Any:
        seen.append(multiad.get_backend().name)  # nested calls see the call's backend
        return x * 2.0

    jac = multiad.jacrev(f)
    jac(t(X))
    with multiad.use_backend("numpy"):
        with pytest.raises(multiad.MixedBackendError, match=r"^jacrev\(f\): argument 0 is a torch array"):
            jac(t(X))
        assert type(jac(X)) is np.ndarray
    jac(t(X))
    pinned = multiad.jacrev(f, backend="torch")
    with multiad.use_backend("numpy"):
        pinned(t(X))
        pinned(t(X))
    assert seen[0] == "torch" and seen[-2:] == ["torch", "torch"]


def test_inputs_are_not_changed() -> None:
    x = t(X)
    before = x.clone()
    multiad.grad(cube_sum)(x)
    multiad.jacrev(cube)(x)
    assert torch.equal(x, before) and not x.requires_grad


def test_one_transform_object_from_many_threads() -> None:
    def f(x: Any) -> Any:  # the output structure differs with the input size
        return {"y": x**3} if x.shape[0] == 2 else x**3

    jac = multiad.jacrev(f)
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            rng = np.random.default_rng(k)
            for i in range(50):
                n = 2 + (i + k) % 2
                x = rng.uniform(-1, 1, size=n)
                got = jac(t(x))
                block = got["y"] if n == 2 else got
                np.testing.assert_allclose(block.numpy(), np.diag(3 * x**2), rtol=1e-12)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    run_threads(worker, errors, 4)


@pytest.mark.parametrize("transform", [multiad.hvp, multiad.vhp])
def test_hessian_vector_products_on_every_call(transform: Any) -> None:
    def f(x: Any, y: Any) -> Any:
        return (x**3 * y).sum()

    x, y, v, w = t(X), t(2 * X), t([1.0, 2.0, -1.0]), t([0.5, 0.0, 1.0])
    name = transform.__name__
    for _ in range(3):
        hx, hy = transform(f, (x, y), (v, w))
        # H = [[diag(6 x y), diag(3 x^2)], [diag(3 x^2), 0]]
        np.testing.assert_allclose(hx.numpy(), 6 * X * (2 * X) * v.numpy() + 3 * X**2 * w.numpy(), rtol=1e-12)
        np.testing.assert_allclose(hy.numpy(), 3 * X**2 * v.numpy(), rtol=1e-12)
        with pytest.raises(multiad.InvalidTypeError, match=rf"^{name}\(f\): tangents leaf 1 has dtype float32"):
            transform(f, (x, y), (v, w.float()))
        with pytest.raises(multiad.NonDifferentiableError, match=rf"^{name}\(<lambda>\): .*float\(tensor\)"):
            transform(lambda x: (x**2).sum() * float(x[0]), (x,), (v,))
        with pytest.raises(multiad.InvalidArgumentError, match=rf"^{name}\(cube\): f must return a scalar"):
            transform(cube, (x,), (v,))


def test_hvp_through_a_custom_vjp_function_on_every_call() -> None:
    @multiad.custom_vjp
    def square(x: Any) -> Any:
        return x * x

    square.defvjp(lambda x: (x * x, x), lambda x, g: (2.0 * x * g,))

    def f(x: Any) -> Any:
        return square(x).sum()

    for _ in range(3):  # forward mode cannot pass the rule: computed in reverse mode instead
        (hv,) = multiad.hvp(f, (t(X),), (t([1.0, 2.0, 3.0]),))
        np.testing.assert_allclose(hv.numpy(), [2.0, 4.0, 6.0], rtol=1e-12)


def test_jacfwd_on_every_call() -> None:
    @multiad.custom_vjp
    def square(x: Any) -> Any:
        return x * x

    square.defvjp(lambda x: (x * x, x), lambda x, g: (2.0 * x * g,))
    jac = multiad.jacfwd(lambda x, y: x**2 * y, argnums=(0, 1))
    through_rule = multiad.jacfwd(square)
    grow = multiad.jacfwd(lambda x: x.sum() * torch.ones(2, dtype=x.dtype))
    for _ in range(3):
        jx, jy = jac(t(X), t(3 * X))
        np.testing.assert_allclose(jx.numpy(), np.diag(6 * X * X), rtol=1e-12)
        np.testing.assert_allclose(jy.numpy(), np.diag(X**2), rtol=1e-12)
        # forward mode cannot pass a custom_vjp rule: computed in reverse mode instead
        np.testing.assert_allclose(through_rule(t(X)).numpy(), np.diag(2 * X), rtol=1e-12)
        assert grow(torch.zeros(0, dtype=torch.float64)).shape == (2, 0)  # NOTE [Empty Jacobians]
        np.testing.assert_allclose(grow(t(X)).numpy(), np.ones((2, 3)), rtol=1e-12)


def test_jacobian_auto_on_every_call() -> None:
    jac = multiad.jacobian(lambda w, x: w @ x, argnums=1)
    for n_in, n_out in [(2, 5), (5, 2), (2, 5), (5, 2), (5, 2)]:  # tall and wide: forward, then reverse mode
        w = np.arange(n_out * n_in, dtype=np.float64).reshape(n_out, n_in)
        np.testing.assert_allclose(jac(t(w), t(np.ones(n_in))).numpy(), w, rtol=1e-12)
    with pytest.raises(multiad.InvalidTypeError, match=r"^jacobian\(<lambda>\): argument 1 has dtype int64"):
        jac(t(w), torch.ones(2, dtype=torch.int64))


@pytest.mark.parametrize("backend", ["torch", "autograd"])
def test_jacobian_auto_routed_to_its_mode(backend: str) -> None:
    # NOTE [Routes of automatic mode]: a chosen mode without a prepared form (jacfwd on torch,
    # jacrev on autograd) is run as that mode's general path, with its checks, on every call.
    if backend == "autograd":
        pytest.importorskip("autograd")
        to = np.asarray
        ints = np.ones(2, dtype=np.int64)
    else:
        to = torch.from_numpy
        ints = torch.ones(2, dtype=torch.int64)
    jac = multiad.jacobian(lambda w, x: w @ (x * x), argnums=1, backend=backend)
    x = np.array([0.5, -1.5])
    for n_out in (5, 5, 5, 1, 1, 1):  # tall (forward mode), then wide (reverse mode)
        w = np.arange(n_out * 2, dtype=np.float64).reshape(n_out, 2) - 3.0
        for dtype in (np.float64, np.float32, np.float64):  # the choice is kept per shapes alone
            got = jac(to(w.astype(dtype)), to(x.astype(dtype)))
            assert got.dtype == (to(x.astype(dtype))).dtype
            np.testing.assert_allclose(np.asarray(got), w * (2 * x), rtol=1e-6 if dtype == np.float32 else 1e-12)
        with pytest.raises(multiad.InvalidTypeError, match=r"^jacobian\(<lambda>\): argument 1 has dtype int64"):
            jac(to(w), ints)


def test_hessian_on_every_call() -> None:
    @multiad.custom_vjp
    def square(x: Any) -> Any:
        return x * x

    square.defvjp(lambda x: (x * x, x), lambda x, g: (2.0 * x * g,))
    hess = multiad.hessian(lambda x, y: (x**3 * y).sum(), argnums=(0, 1))
    vector = multiad.hessian(lambda x: {"c": x**3, "s": (x**2).sum()})
    through_rule = multiad.hessian(lambda x: square(x).sum())
    y = 2 * X
    for _ in range(3):
        (hxx, hxy), (hyx, hyy) = hess(t(X), t(y))
        np.testing.assert_allclose(hxx.numpy(), np.diag(6 * X * y), rtol=1e-12)
        np.testing.assert_allclose(hxy.numpy(), np.diag(3 * X**2), rtol=1e-12)
        np.testing.assert_allclose(hyx.numpy(), np.diag(3 * X**2), rtol=1e-12)
        np.testing.assert_allclose(hyy.numpy(), np.zeros((3, 3)), atol=0)
        out = vector(t(X))
        assert list(out) == ["c", "s"]
        np.testing.assert_allclose(out["s"].numpy(), 2 * np.eye(3), rtol=1e-12)
        want = np.zeros((3, 3, 3))
        want[np.arange(3), np.arange(3), np.arange(3)] = 6 * X
        np.testing.assert_allclose(out["c"].numpy(), want, rtol=1e-12)
        np.testing.assert_allclose(through_rule(t(X)).numpy(), 2 * np.eye(3), rtol=1e-12)
        with pytest.raises(multiad.InvalidTypeError, match=r"^hessian\(<lambda>\): argument 0 has dtype int64"):
            hess(torch.ones(3, dtype=torch.int64), t(y))


def test_hvp_keeps_no_function_alive() -> None:
    import gc
    import weakref

    def make() -> Any:
        big = torch.ones(3, dtype=torch.float64)

        def f(x: Any) -> Any:
            return (x**2 * big).sum()

        return f

    f = make()
    for _ in range(3):  # prepared from the second call on
        (hv,) = multiad.hvp(f, (t(X),), (t(X),))
        np.testing.assert_allclose(hv.numpy(), 2 * X, rtol=1e-12)
    ref = weakref.ref(f)
    del f
    gc.collect()
    assert ref() is None


@dataclasses.dataclass(frozen=True)
class _Energy:
    """Equal instances (``k`` is left out of ``__eq__``) that compute different functions."""

    name: str
    k: float = dataclasses.field(compare=False)

    def __call__(self, x: Any) -> Any:
        return self.k * (x**3).sum()


@pytest.mark.parametrize("transform", [multiad.hvp, multiad.vhp])
def test_equal_functions_are_not_one_function(transform: Any) -> None:
    # Prepared hvp/vhp calls are kept per f: by identity, since equal callables may differ.
    x, v = t(X), t([1.0, 2.0, -1.0])
    soft, stiff = _Energy("spring", 1.0), _Energy("spring", 10.0)
    assert soft == stiff
    for energy in (soft, soft, soft, stiff, stiff, soft):
        (hv,) = transform(energy, (x,), (v,))
        np.testing.assert_allclose(hv.numpy(), 6 * energy.k * X * v.numpy(), rtol=1e-12)


# autograd: jacfwd prepared as the loop over the linearized pullback (NOTE [Prepared forward mode]
# in backends/autograd).


def test_autograd_jacfwd_on_every_call() -> None:
    anp = pytest.importorskip("autograd.numpy")
    sin_wx = multiad.jacfwd(lambda w, x: anp.sin(w * x), argnums=1, backend="autograd")
    both = multiad.jacfwd(lambda x, y: {"b": x * y, "a": (x**2).sum()}, argnums=(0, 1), backend="autograd")
    matrix = multiad.jacfwd(lambda m: anp.dot(m, m), backend="autograd")
    scalar = multiad.jacfwd(lambda s: (s * s, 3.0 * s), backend="autograd")
    tall = multiad.jacobian(lambda w, x: anp.tanh(anp.dot(w, x)), argnums=1, backend="autograd")
    fwd = multiad.jacobian(lambda x: x**3, mode="fwd", backend="autograd")
    w = 0.1 * np.arange(12.0).reshape(4, 3)
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    # d(m @ m)[i, j] / d m[k, l] = [i == k] m[l, j] + m[i, k] [l == j]
    eye = np.eye(2)
    dmm = np.einsum("ik,lj->ijkl", eye, m) + np.einsum("ik,lj->ijkl", m, eye)
    for _ in range(3):
        np.testing.assert_allclose(sin_wx(2.0, X), np.diag(2.0 * np.cos(2.0 * X)), rtol=1e-12)
        out = both(X, 3 * X)
        assert list(out) == ["b", "a"]
        np.testing.assert_allclose(out["a"][0], 2 * X, rtol=1e-12)
        np.testing.assert_allclose(out["a"][1], 0 * X, atol=0)
        np.testing.assert_allclose(out["b"][0], np.diag(3 * X), rtol=1e-12)
        np.testing.assert_allclose(out["b"][1], np.diag(X), rtol=1e-12)
        jm = matrix(m)
        assert jm.shape == (2, 2, 2, 2)
        np.testing.assert_allclose(jm, dmm, rtol=1e-12)
        ds, d3 = scalar(np.float64(1.5) * np.ones(()))
        assert np.shape(ds) == () and np.shape(d3) == ()
        np.testing.assert_allclose([float(ds), float(d3)], [3.0, 3.0], rtol=1e-12)
        z = np.tanh(w @ X)
        np.testing.assert_allclose(tall(w, X), (1 - z**2)[:, None] * w, rtol=1e-12)
        jf = fwd(X.astype(np.float32))
        assert jf.dtype == np.float32
        np.testing.assert_allclose(jf, np.diag(3 * X**2), rtol=1e-6)
        assert fwd(np.zeros((0, 2))).shape == (0, 2, 0, 2)  # NOTE [Empty Jacobians]


def test_autograd_jacfwd_checks_run_on_every_call() -> None:
    anp = pytest.importorskip("autograd.numpy")
    jac = multiad.jacfwd(lambda x: x * 2.0, backend="autograd")
    out_int = multiad.jacfwd(lambda x: (x > 0).astype(np.int64), backend="autograd")
    leak = multiad.jacfwd(lambda x: anp.sum(np.asarray(x) * x) * x, backend="autograd")
    plain = multiad.jacfwd(lambda x: np.cbrt(x), backend="autograd")
    for _ in range(3):
        np.testing.assert_allclose(jac(X), 2 * np.eye(3), rtol=1e-12)
        with pytest.raises(multiad.InvalidTypeError, match=r"^jacfwd\(<lambda>\): argument 0 has dtype int64"):
            jac(np.array([1, 2]))
        with pytest.raises(multiad.InvalidTypeError, match=r"^jacfwd\(<lambda>\): f's output has integer dtype"):
            out_int(X)
        with pytest.raises(multiad.NonDifferentiableError, match=r"^jacfwd\(<lambda>\): .*object array"):
            leak(X)
        with pytest.raises(multiad.NonDifferentiableError, match=r"^jacfwd\(<lambda>\): the autograd backend"):
            plain(X)


def test_autograd_jacfwd_inside_an_enclosing_transform() -> None:
    pytest.importorskip("autograd")
    inner = multiad.jacfwd(lambda w, x: w * x**2, argnums=1, backend="autograd")
    by_w = multiad.grad(lambda w: inner(w, X).sum(), backend="autograd")
    by_x = multiad.grad(lambda x: inner(2.0, x).sum(), backend="autograd")
    for _ in range(3):
        # sum(diag(2 w x)) = 2 w sum(x): by w 2 sum(x), by x 4 for w = 2
        np.testing.assert_allclose(by_w(np.array(1.5)), 2 * X.sum(), rtol=1e-12)
        np.testing.assert_allclose(by_x(X), 4.0 * np.ones(3), rtol=1e-12)


def test_autograd_jacfwd_through_a_custom_vjp_function() -> None:
    pytest.importorskip("autograd")

    @multiad.custom_vjp
    def square(x: Any) -> Any:
        return x * x

    square.defvjp(lambda x: (x * x, x), lambda x, g: (2.0 * x * g,))
    jac = multiad.jacfwd(square, backend="autograd")
    for _ in range(3):  # computed in reverse mode (NOTE [Forward mode through custom_vjp])
        np.testing.assert_allclose(jac(X), np.diag(2 * X), rtol=1e-12)


@pytest.mark.parametrize("name", ["torch", "jax", "autograd", "numpy"])
def test_negative_argnums_on_every_call(name: str) -> None:
    # A prepared call gives the framework non-negative positions (torch.func.jacfwd of
    # argnums=-1 differentiates nothing: a Hessian of zeros).
    import multiad.numpy as mnp

    def f(w: Any, x: Any) -> Any:
        return mnp.sum(mnp.sin(x) * w)

    w, x = multiad.asarray(2.0 * X, backend=name), multiad.asarray(X, backend=name)
    tol = {"rtol": 1e-3, "atol": 1e-4} if name == "numpy" else {"rtol": 1e-12, "atol": 1e-15}
    hess = multiad.hessian(f, argnums=-1, backend=name)
    grads = [multiad.grad(f, argnums=-1, backend=name), multiad.jacrev(f, argnums=-1, backend=name)]
    grads += [multiad.jacfwd(f, argnums=-1, backend=name), multiad.jacobian(f, argnums=-1, backend=name)]
    both = multiad.hessian(f, argnums=(0, -1), backend=name)
    for _ in range(3):
        np.testing.assert_allclose(multiad.to_numpy(hess(w, x)), np.diag(-2.0 * X * np.sin(X)), **tol)
        for g in grads:
            np.testing.assert_allclose(multiad.to_numpy(g(w, x)), 2.0 * X * np.cos(X), **tol)
        (hww, hwx), (hxw, hxx) = multiad.to_numpy(both(w, x))
        np.testing.assert_allclose(hww, np.zeros((3, 3)), **tol)
        np.testing.assert_allclose(hwx, np.diag(np.cos(X)), **tol)
        np.testing.assert_allclose(hxw, np.diag(np.cos(X)), **tol)
        np.testing.assert_allclose(hxx, np.diag(-2.0 * X * np.sin(X)), **tol)


def test_autograd_jacobian_auto_alternating_wide_and_tall() -> None:
    # NOTE [Automatic mode]: reverse mode has no prepared form on autograd (the general path runs
    # on every call), forward mode is the prepared loop; wide and tall signatures alternate, each
    # called often enough to be prepared, and each keeps its own choice.
    anp = pytest.importorskip("autograd.numpy")
    evals: list[int] = []

    def f(w: Any, x: Any) -> Any:
        evals.append(1)
        return anp.tanh(anp.dot(w, x))

    jac = multiad.jacobian(f, argnums=1, backend="autograd")
    rng = np.random.default_rng(0)
    for i, (n_in, n_out) in enumerate([(6, 2), (2, 6), (6, 2), (2, 6), (6, 2), (2, 6), (6, 2)]):
        w, x = rng.standard_normal((n_out, n_in)), rng.standard_normal(n_in)
        evals.clear()
        got = jac(w, x)
        np.testing.assert_allclose(got, (1 - np.tanh(w @ x) ** 2)[:, None] * w, rtol=1e-12)
        # the first call of a signature evaluates f once more, to choose; later ones only once
        # (the vjp's, or the linearized pullback's)
        assert len(evals) == (2 if i < 2 else 1)
    wide_w = rng.standard_normal((2, 6))
    with pytest.raises(multiad.InvalidTypeError, match=r"^jacobian\(f\): argument 1 has dtype int64"):
        jac(wide_w, np.ones(6, dtype=np.int64))
