"""NumPy arrays that f closes over, under ``torch.compile`` of multiad's transforms on torch.

torch.compile takes a NumPy array read from a global or a closure as an input of the program;
traced inside a transform it failed with torch's "Guard failed on the same frame it was created"
(NOTE [NumPy arrays closed over in compiled transforms] in the torch backend). Every result is
compared with its closed form for ``sum(tanh(A x))`` and ``tanh(A x)``:
gradient ``A^T (1 - t^2)``, Jacobian ``diag(1 - t^2) A``, Hessian ``-2 A^T diag(t (1 - t^2)) A``
with ``t = tanh(A x)``.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad

torch = pytest.importorskip("torch")
dynamo_testing = pytest.importorskip("torch._dynamo.testing")
if not hasattr(torch, "compile"):
    pytest.skip("torch.compile is not available", allow_module_level=True)

import multiad.numpy as mnp  # noqa: E402 - after the skips

_A = np.arange(12.0).reshape(4, 3) / 10  # read as a global by the functions below
_X = np.array([0.1, -0.2, 0.3])


def _closed_forms(a: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    t = np.tanh(a @ x)
    return {
        "grad": a.T @ (1 - t**2),
        "jac": (1 - t**2)[:, None] * a,
        "hessian": a.T @ np.diag(-2 * t * (1 - t**2)) @ a,
    }


def _scalar(x: Any) -> Any:
    return mnp.sum(mnp.tanh(mnp.matmul(_A, x)))


def _vector(x: Any) -> Any:
    return mnp.tanh(mnp.matmul(_A, x))


_E0 = np.array([1.0, 0.0, 0.0])

#: name -> (the function compiled, given f's scalar and vector forms; which closed form it gives).
TRANSFORMS: dict[str, tuple[Callable[[Callable[..., Any], Callable[..., Any]], Callable[[Any], Any]], str]] = {
    "grad": (lambda s, v: multiad.grad(s), "grad"),
    "value_and_grad": (lambda s, v: lambda x: multiad.value_and_grad(s)(x)[1], "grad"),
    "vjp": (lambda s, v: lambda x: multiad.vjp(v, x)[1](torch.ones(4, dtype=x.dtype))[0], "grad"),
    "jvp": (lambda s, v: lambda x: multiad.jvp(v, (x,), (torch.as_tensor(_E0),))[1], "jac0"),
    "jacrev": (lambda s, v: multiad.jacrev(v), "jac"),
    "jacrev_chunked": (lambda s, v: multiad.jacrev(v, chunk_size=2), "jac"),
    "jacfwd": (lambda s, v: multiad.jacfwd(v), "jac"),
    "jacfwd_chunked": (lambda s, v: multiad.jacfwd(v, chunk_size=2), "jac"),
    "jacobian": (lambda s, v: multiad.jacobian(v), "jac"),
    "hessian": (lambda s, v: multiad.hessian(s), "hessian"),
    "hessian_chunked": (lambda s, v: multiad.hessian(s, chunk_size=2), "hessian"),
}


def _want(kind: str, a: np.ndarray) -> np.ndarray:
    forms = _closed_forms(a, _X)
    return forms["jac"][:, 0] if kind == "jac0" else forms[kind]


def _compiled(fn: Callable[[Any], Any], backend: Any = "eager", fullgraph: bool = True) -> Any:
    torch._dynamo.reset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's notes on tracing autoray's lru_cache
        return torch.compile(fn, backend=backend, fullgraph=fullgraph)(torch.as_tensor(_X))


def _check(got: Any, want: np.ndarray) -> None:
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_a_global_numpy_array_in_f_compiles_to_the_closed_form(name: str) -> None:
    make, kind = TRANSFORMS[name]
    _check(_compiled(make(_scalar, _vector)), _want(kind, _A))


def test_without_fullgraph_too() -> None:
    _check(_compiled(multiad.grad(_scalar), fullgraph=False), _want("grad", _A))


def _closing_over(a: Any) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    def scalar(x: Any) -> Any:
        return mnp.sum(mnp.tanh(mnp.matmul(a, x)))

    def vector(x: Any) -> Any:
        return mnp.tanh(mnp.matmul(a, x))

    return scalar, vector


@pytest.mark.parametrize("name", ["grad", "hessian"])
@pytest.mark.parametrize("kind", ["closure", "read-only", "float32", "transposed view"])
def test_closed_over_numpy_arrays_of_every_kind(name: str, kind: str) -> None:
    a = _A.copy()
    if kind == "read-only":
        a.flags.writeable = False
    elif kind == "float32":
        a = a.astype(np.float32)  # numpy's promotion with a float64 x: float64
    elif kind == "transposed view":
        a = np.ascontiguousarray(_A.T).T
    make, form = TRANSFORMS[name]
    _check(_compiled(make(*_closing_over(a))), _want(form, a.astype(np.float64)))
    assert a.flags.writeable == (kind != "read-only")  # the array is left as it was


CONVERTED = [(n, "mnp.asarray") for n in ("grad", "jacrev", "jacfwd", "hessian", "vjp")] + [
    ("grad", "multiad.asarray"),
    ("hessian", "multiad.asarray"),
    ("grad", "mnp.array"),
    ("jacfwd", "mnp.array"),
    ("grad", "torch.as_tensor"),
    ("jacfwd", "torch.as_tensor"),
]


@pytest.mark.parametrize(("name", "how"), CONVERTED)
def test_an_array_converted_inside_f(name: str, how: str) -> None:
    convert = {
        "mnp.asarray": mnp.asarray,
        "multiad.asarray": multiad.asarray,
        "mnp.array": mnp.array,
        "torch.as_tensor": torch.as_tensor,
    }[how]

    def scalar(x: Any) -> Any:
        return mnp.sum(mnp.tanh(convert(_A) @ x))

    def vector(x: Any) -> Any:
        return mnp.tanh(convert(_A) @ x)

    make, form = TRANSFORMS[name]
    _check(_compiled(make(scalar, vector)), _want(form, _A))


def test_mnp_asarray_of_a_numpy_array_in_a_compiled_function_is_a_tensor() -> None:
    got = _compiled(lambda x: mnp.asarray(_A, dtype="float32") @ x.float())
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), _A.astype(np.float32) @ _X.astype(np.float32), rtol=1e-6)


def test_multiad_asarray_of_numpy_arrays_in_a_compiled_function_is_of_the_backend_in_force() -> None:
    got = _compiled(lambda x: multiad.asarray({"a": _A}, dtype="float32")["a"] @ x.float())
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), _A.astype(np.float32) @ _X.astype(np.float32), rtol=1e-6)


def test_an_array_changed_in_place_between_calls_gives_the_new_derivative() -> None:
    a = _A.copy()
    scalar, _ = _closing_over(a)
    torch._dynamo.reset()
    counter = dynamo_testing.CompileCounter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = torch.compile(multiad.grad(scalar), backend=counter, fullgraph=True)
        x = torch.as_tensor(_X)
        _check(g(x), _want("grad", a))
        a *= -2.0
        _check(g(x), _want("grad", a))
    assert counter.frame_count >= 1


_HAS_COMPILER = any(shutil.which(c) for c in ("g++", "c++", "clang++"))


@pytest.mark.skipif(not _HAS_COMPILER, reason="torch.compile's default backend (Inductor) needs a C++ compiler")
@pytest.mark.parametrize("name", ["grad", "jacrev", "jacfwd", "hessian", "vjp"])
def test_the_default_compiler_backend(name: str) -> None:
    make, kind = TRANSFORMS[name]
    _check(_compiled(make(_scalar, _vector), backend="inductor"), _want(kind, _A))
