"""What user code does inside f: conversions to numpy, its own errors, numpy arrays it closes over.

Every check compares with a closed form: a conversion that drops the derivative must raise
NonDifferentiableError (NOTE [Conversions that drop derivatives]), an error of f's own must pass
unchanged (NOTE [Only torch's own errors]), and numpy arrays mixed with traced values must give
the right derivative on every backend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import AD_BACKENDS, BACKENDS

import multiad
import multiad.numpy as mnp
from multiad import NonDifferentiableError

X = np.array([0.5, -1.25, 2.0])

CONVERSIONS: dict[str, Callable[[Any], Any]] = {
    "to_numpy": lambda x: multiad.to_numpy(x),
    "asarray_numpy": lambda x: multiad.asarray(x, backend="numpy"),
}


def _transforms(f: Callable[[Any], Any], name: str) -> dict[str, Callable[[], Any]]:
    def vec(x: Any) -> Any:  # a vector output for the Jacobian transforms
        return f(x) * x

    vec.__name__ = f.__name__
    return {
        "grad": lambda: multiad.grad(f, backend=name)(X),
        "vjp": lambda: multiad.vjp(vec, X, backend=name)[1](np.ones(3)),
        "jvp": lambda: multiad.jvp(vec, (X,), (X,), backend=name),
        "jacrev": lambda: multiad.jacrev(vec, backend=name)(X),
        "jacfwd": lambda: multiad.jacfwd(vec, backend=name)(X),
        "hessian": lambda: multiad.hessian(f, backend=name)(X),
        "hvp": lambda: multiad.hvp(f, (X,), (X,), backend=name),
    }


@pytest.mark.parametrize("name", AD_BACKENDS)
@pytest.mark.parametrize("conversion", sorted(CONVERSIONS))
@pytest.mark.parametrize("transform", ["grad", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "hvp"])
def test_conversion_to_numpy_inside_f_raises(name: str, conversion: str, transform: str) -> None:
    convert = CONVERSIONS[conversion]

    def f(x: Any) -> Any:  # the numpy part would silently count as a constant
        return mnp.sum(x**2) + mnp.sum(convert(x) ** 3)

    with pytest.raises(NonDifferentiableError) as info:
        _transforms(f, name)[transform]()
    msg = str(info.value)
    assert msg.startswith(f"{transform}(f): the {name} backend could not differentiate f: "), msg
    if name != "jax":  # jax's own message names numpy's __array__
        assert "multiad.to_numpy(x)" in msg, msg


def test_finite_differences_see_conversions_as_part_of_f() -> None:
    g = multiad.grad(lambda x: mnp.sum(x**2) + mnp.sum(multiad.to_numpy(x) ** 3), backend="numpy")(X)
    np.testing.assert_allclose(g, 2 * X + 3 * X**2, rtol=1e-6)


def test_torch_detached_value_converts_inside_f() -> None:
    def f(x: Any) -> Any:
        scale = float(multiad.to_numpy(x.detach()).sum())  # a constant: the derivative ignores it
        return mnp.sum(x**2) * scale

    g = multiad.grad(f, backend="torch")(X)
    np.testing.assert_allclose(multiad.to_numpy(g), 2 * X * X.sum(), rtol=1e-12)
    hess = multiad.hessian(f, backend="torch")(X)
    np.testing.assert_allclose(multiad.to_numpy(hess), 2 * np.eye(3) * X.sum(), rtol=1e-12)


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("message", ["solver not implemented for this config", "derivative for my solver"])
def test_users_own_runtime_error_passes_unchanged(name: str, message: str) -> None:
    def f(x: Any) -> Any:
        raise RuntimeError(message)

    for call in (
        lambda: multiad.grad(f, backend=name)(X),
        lambda: multiad.jvp(f, (X,), (X,), backend=name),
        lambda: multiad.hessian(f, backend=name)(X),
    ):
        with pytest.raises(RuntimeError) as info:
            call()
        assert type(info.value) is RuntimeError and str(info.value) == message


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("autograd", NotImplementedError("VJP of my_solver not defined")),
        ("autograd", TypeError("cannot differentiate this config")),
        ("torch", NotImplementedError("the derivative for my solver is not implemented here")),
    ],
)
def test_users_own_errors_near_framework_messages_pass_unchanged(name: str, error: Exception) -> None:
    def f(x: Any) -> Any:
        raise error

    with pytest.raises(type(error)) as info:
        multiad.grad(f, backend=name)(X)
    assert info.value is error


def test_torch_ad_errors_are_still_translated() -> None:
    import torch

    def f(x: Any) -> Any:  # torch has no derivative of igamma with respect to its first argument
        return mnp.sum(torch.special.gammainc(x, torch.ones_like(x)))

    with pytest.raises(NonDifferentiableError, match=r"the derivative for 'igamma: input' is not implemented"):
        multiad.grad(f, backend="torch")(np.abs(X))


W = np.array([[0.5, -1.0, 0.25], [1.5, 0.75, -0.5]])
B = np.array([0.1, -0.2])


def predict(weight: Any, bias: Any, x: Any) -> Any:
    """The torch.func tutorial's model, with numpy weight and bias bound by functools.partial."""
    return mnp.tanh(x @ weight.T + bias)


@pytest.mark.parametrize("name", BACKENDS)
def test_numpy_arrays_closed_over_give_the_right_derivative(name: str) -> None:
    import functools

    model = functools.partial(predict, W, B)
    pre = W @ X + B
    d = 1.0 - np.tanh(pre) ** 2
    jac = multiad.to_numpy(multiad.jacrev(model, backend=name)(X))
    np.testing.assert_allclose(jac, d[:, None] * W, rtol=1e-5)
    jac = multiad.to_numpy(multiad.jacfwd(model, backend=name)(X))
    np.testing.assert_allclose(jac, d[:, None] * W, rtol=1e-5)
    g = multiad.to_numpy(multiad.grad(lambda x: mnp.sum(model(x)), backend=name)(X))
    np.testing.assert_allclose(g, W.T @ d, rtol=1e-5)


@pytest.mark.parametrize("name", BACKENDS)
def test_numpy_operands_on_either_side(name: str) -> None:
    b = np.array([0.5, 2.0, -1.0])

    def f(t: Any) -> Any:  # every operator with the numpy array first and second
        return mnp.sum(b + t) + mnp.sum(t - b) + mnp.sum(b - t) + mnp.sum(b * t * b) + mnp.sum(t / b) + b @ t

    g = multiad.to_numpy(multiad.grad(f, backend=name)(X))
    np.testing.assert_allclose(g, 1.0 + 1.0 - 1.0 + b**2 + 1.0 / b + b, rtol=1e-5)
    hess = multiad.to_numpy(multiad.hessian(lambda t: mnp.sum((b * t) ** 2), backend=name)(X))
    np.testing.assert_allclose(hess, np.diag(2 * b**2), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["torch", "autograd", "numpy"])  # JAX's tracers refuse numpy ufuncs
def test_numpy_ufuncs_of_a_traced_value_and_a_number(name: str) -> None:
    # numpy.maximum(t, 0.0) is a relu written with numpy; on torch the number reached
    # torch.maximum, which takes tensors only, and raised TypeError.
    x = X + 0.05  # no element at the kink

    def f(t: Any) -> Any:
        return mnp.sum(np.maximum(t, 0.0)) + mnp.sum(np.minimum(np.float64(0.0), t)) + mnp.sum(np.add(2.0, t) * t)

    g = multiad.to_numpy(multiad.grad(f, backend=name)(x))
    np.testing.assert_allclose(g, (x > 0) + (x < 0) + 2.0 + 2 * x, rtol=1e-6)


A33 = np.arange(9.0).reshape(3, 3) + 0.1
#: (numpy constant, argument dtype, f): the matrix product of a numpy array and a traced value
#: of another dtype, on either side (NOTE [numpy arrays inside f] in backends/torch).
MIXED_MATMUL: dict[str, tuple[np.ndarray, str, Callable[[Any, Any], Any]]] = {
    "float64 @ float32": (A33, "float32", lambda a, t: mnp.sum(a @ t)),
    "float32 @ float64": (A33.astype(np.float32), "float64", lambda a, t: mnp.sum(a @ t)),
    "float32 tensor @ float64": (A33, "float32", lambda a, t: mnp.sum(t @ a)),
    "float64 tensor @ float32": (A33.astype(np.float32), "float64", lambda a, t: mnp.sum(t @ a)),
    "complex128 @ float64": (A33 * (1 + 1j), "float64", lambda a, t: mnp.sum(mnp.abs(a @ t))),
    "complex64 @ float32": ((A33 * (1 + 1j)).astype(np.complex64), "float32", lambda a, t: mnp.sum(mnp.abs(a @ t))),
}


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("case", sorted(MIXED_MATMUL))
def test_matmul_of_a_numpy_array_and_a_traced_value_of_another_dtype(name: str, case: str) -> None:
    # On torch, ``A @ x`` reached torch.matmul, which requires equal dtypes: "addmv input tensors
    # must have the same dtype" inside the transforms, where outside them numpy promoted.
    a, dtype, f = MIXED_MATMUL[case]
    x = np.array([0.5, 1.25, 2.0], dtype=dtype)  # positive: |a @ x| = |1 + 1j| (A33 @ x) for the complex ones
    value, g = multiad.value_and_grad(lambda t: f(a, t), backend=name)(x)
    want = f(a, x)  # numpy's value, in numpy's result dtype
    assert multiad.to_numpy(value).dtype == np.asarray(want).dtype
    np.testing.assert_allclose(multiad.to_numpy(value), want, rtol=1e-6)
    scale = np.sqrt(2.0) if np.iscomplexobj(a) else 1.0
    left = "tensor" not in case
    rtol = 1e-4 if name == "numpy" and dtype == "float32" else 1e-6  # finite differences in float32
    np.testing.assert_allclose(multiad.to_numpy(g), scale * (a.real.sum(0) if left else a.real.sum(1)), rtol=rtol)
    assert multiad.to_numpy(g).dtype == x.dtype


@pytest.mark.parametrize("name", ["torch", "autograd", "numpy"])  # JAX's promotion differs, on purpose
def test_numpy_operands_follow_numpys_promotion(name: str) -> None:
    # torch's promotion gave an int64 array times a float32 tensor in float32, and an integer
    # array over an integer tensor in torch's default float32, where numpy gives float64.
    ints = np.array([1, 2, 3])
    x = np.array([0.1, 0.2, 0.3], dtype=np.float32)
    value, g = multiad.value_and_grad(lambda t: mnp.sum(ints * t) + mnp.sum(np.float64(0.5) * t), backend=name)(x)
    assert multiad.to_numpy(value).dtype == np.float64
    np.testing.assert_allclose(multiad.to_numpy(value), np.sum(ints * x) + np.sum(np.float64(0.5) * x), rtol=1e-13)
    np.testing.assert_allclose(multiad.to_numpy(g), ints + 0.5, rtol=1e-4 if name == "numpy" else 1e-7)
    out = multiad.jvp(lambda t: t * (ints / np.array([3, 3, 3])), (x,), (x,), backend=name)[0]
    np.testing.assert_allclose(multiad.to_numpy(out), x * (ints / 3), rtol=1e-13)


def test_numpy_to_the_power_of_a_traced_tensor() -> None:
    b = np.array([2.0, 3.0, 0.5])
    x = X**2
    g = multiad.grad(lambda t: mnp.sum(b**t) + mnp.sum(t**b), backend="torch")(x)
    np.testing.assert_allclose(multiad.to_numpy(g), b**x * np.log(b) + b * x ** (b - 1), rtol=1e-12)


def test_numpy_powers_with_zeros_inside_f_keep_multiad_numpys_conventions() -> None:
    # numpy's power of a numpy array and a tensor runs as mnp.power (Backend.numpy_function):
    # where the base is 0 the derivative in the exponent is 0, where the exponent is 0 the
    # derivative in the base is 0, at every order; elsewhere b^t log b and e t^(e-1)
    b, e = np.array([0.0, 2.0, 0.0, 3.0]), np.array([0.0, 0.0, 2.0, 1.5])
    t = np.array([1.5, 0.5, 0.0, 2.0])
    terms = (lambda t: mnp.sum(b**t), lambda t: mnp.sum(t**e), lambda t: mnp.sum(np.float64(2.0) ** t))
    log_b = np.log(np.where(b == 0, 1.0, b))
    want_g = (b**t * log_b, np.where(e == 0, 0.0, e * t ** np.maximum(e - 1, 0)), 2.0**t * np.log(2.0))
    want_h = (b**t * log_b**2, np.array([0.0, 0.0, 2.0, 0.75 / np.sqrt(2.0)]), 2.0**t * np.log(2.0) ** 2)
    for f, g, h in zip(terms, want_g, want_h):
        np.testing.assert_allclose(multiad.to_numpy(multiad.grad(f, backend="torch")(t)), g, rtol=1e-12)
        np.testing.assert_allclose(multiad.to_numpy(multiad.hessian(f, backend="torch")(t)), np.diag(h), rtol=1e-12)


@pytest.mark.parametrize("name", BACKENDS)
def test_numpy_operand_under_vmap(name: str) -> None:
    b = np.array([0.5, 2.0, -1.0])
    xs = np.stack([X, 2 * X])
    out = multiad.to_numpy(multiad.vmap(lambda t: b + t * b, backend=name)(xs))
    np.testing.assert_allclose(out, b + xs * b, rtol=1e-12)


#: numpy functions applied to the traced value: the ones that convert it (``__array__``) and the
#: ones that call its method of the same name with numpy's keywords (``t.sum(axis=None, ...)``).
NUMPY_ON_TRACED: dict[str, tuple[Callable[[Any], Any], str]] = {
    "sum": (lambda t: np.sum(t * t), "numpy.sum(tensor)"),
    "mean": (lambda t: np.mean(t * t), "numpy.mean(tensor)"),
    "exp": (lambda t: mnp.sum(np.exp(t)), "numpy.exp(tensor)"),
    "asarray": (lambda t: mnp.sum(np.asarray(t) * t), "numpy.asarray(tensor)"),
    "linalg.norm": (lambda t: np.linalg.norm(t), "numpy.linalg.norm(tensor)"),
}


@pytest.mark.parametrize("fn", sorted(NUMPY_ON_TRACED))
@pytest.mark.parametrize("transform", ["grad", "vjp", "jvp", "jacrev", "hessian"])
def test_numpy_functions_of_a_traced_tensor_name_multiad_numpy(fn: str, transform: str) -> None:
    # NOTE [numpy functions on tensors]: torch's own TypeError (numpy.sum calls t.sum(axis=None))
    # or a message without the fix before.
    f, op = NUMPY_ON_TRACED[fn]
    f.__name__ = "f"
    with pytest.raises(NonDifferentiableError) as info:
        _transforms(f, "torch")[transform]()
    msg = str(info.value)
    assert msg.startswith(f"{transform}(f): the torch backend could not differentiate f: {op}"), msg
    want = "multiad.numpy" if fn == "asarray" else f"multiad.numpy.{fn}"
    assert f"use {want} instead" in msg, msg


@pytest.mark.parametrize("name", ["jax", "autograd"])
def test_numpy_functions_of_a_traced_value_on_jax_and_autograd(name: str) -> None:
    # JAX's tracers convert for neither numpy.exp nor numpy.asarray, and its error says what to use;
    # autograd's boxes run numpy's functions with their derivatives.
    f = NUMPY_ON_TRACED["exp"][0]
    if name == "jax":
        with pytest.raises(NonDifferentiableError, match=r"multiad\.numpy"):
            multiad.grad(f, backend=name)(X)
    else:
        np.testing.assert_allclose(multiad.grad(f, backend=name)(X), np.exp(X), rtol=1e-12)
    np.testing.assert_allclose(multiad.to_numpy(multiad.grad(NUMPY_ON_TRACED["sum"][0], backend=name)(X)), 2 * X)
