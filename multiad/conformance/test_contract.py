"""What the backend declares is consistent with the plugin contract (multiad/_backend.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import multiad
import multiad.numpy as mnp
from multiad._backend import NATIVE_OVERRIDES, TRANSFORMS
from multiad.testing._tolerance import Tolerance, tolerance


def test_declarations(conformance_backend: Any) -> None:
    b = conformance_backend
    assert b.api_version == multiad.API_VERSION, f"api_version {b.api_version} != {multiad.API_VERSION}"
    assert b.has_vjp or b.has_jvp, "a backend needs a vjp or a jvp primitive"
    assert set(b.unsupported) <= set(TRANSFORMS), (
        f"unsupported names unknown transforms: {set(b.unsupported) - set(TRANSFORMS)}"
    )
    assert set(b.native) <= NATIVE_OVERRIDES, (
        f"native names transforms that cannot be overridden: {set(b.native) - NATIVE_OVERRIDES}"
    )
    assert set(b.native_chunks) <= set(b.native), "native_chunks must be a subset of native"
    assert not b.vmap_chunks or b.has_vmap, "vmap_chunks without has_vmap"


def test_version_and_devices(conformance_backend: Any) -> None:
    b = conformance_backend
    version = b.version()
    assert version is None or (isinstance(version, str) and version), f"version() returned {version!r}"
    devices = b.devices()
    assert isinstance(devices, list) and all(isinstance(d, str) for d in devices), f"devices() returned {devices!r}"
    assert any(d.split(":")[0] == "cpu" for d in devices), f"devices() lists no cpu device: {devices}"


def test_array_round_trip(conformance_backend: Any) -> None:
    b = conformance_backend
    x = np.arange(6.0).reshape(2, 3)
    a = b.asarray(x)
    assert b.is_array(a), f"asarray gave a {type(a).__name__}, which is_array rejects"
    assert not b.is_array([1.0, 2.0]), "is_array accepts a Python list"
    back = b.to_numpy(a)
    assert isinstance(back, np.ndarray) and back.shape == (2, 3) and np.array_equal(back, x)
    assert b.dtype_name(b.asarray(x, dtype="float32")) == "float32"
    eye = b.to_numpy(b.eye(3, like=a))
    assert np.array_equal(eye, np.eye(3)), f"eye(3) gave {eye}"


def test_custom_rules_declared_with_their_methods(conformance_backend: Any) -> None:
    """A backend declaring has_custom_rules builds both kinds of rule (NOTE [Custom rules both ways])."""
    b = conformance_backend
    if not b.has_custom_rules:
        return
    for method in ("custom_vjp", "custom_jvp"):
        assert getattr(type(b), method) is not getattr(multiad.Backend, method), (
            f"has_custom_rules is declared but {method} is not implemented"
        )


def test_float32_derivatives_stay_float32(conformance_backend: Any) -> None:
    """Derivatives keep the inputs' dtype (NOTE [float32 in every run]).

    NOTE [float32 in every run]: the cases run in the dtypes ``--multiad-dtypes`` names,
    float64 by default, and a backend that computes its derivatives in float64 whatever the
    inputs (a pullback that upcasts, a Jacobian assembled in numpy's default dtype) gives the
    right numbers there. So this item runs one function through every transform in float32 on
    the CPU in every run, checking the dtype of each result and its first-order values.
    """
    b = conformance_backend
    xn = np.array([0.5, -1.0, 2.0])
    x = b.asarray(xn, dtype="float32")
    ones = b.asarray(np.ones(3), dtype="float32")
    batch = b.asarray(np.stack([xn, 2 * xn]), dtype="float32")

    def f(v: Any) -> Any:
        return mnp.sum(mnp.sin(v) * v)

    def g(v: Any) -> Any:
        return mnp.sin(v) * v

    d1 = np.sin(xn) + xn * np.cos(xn)
    d2 = 2 * np.cos(xn) - xn * np.sin(xn)
    calls: dict[str, tuple[Callable[[], Any], np.ndarray | None, int]] = {
        "grad": (lambda: multiad.grad(f, backend=b)(x), d1, 1),
        "value_and_grad": (lambda: multiad.value_and_grad(f, backend=b)(x)[1], d1, 1),
        "vjp": (lambda: multiad.vjp(g, x, backend=b)[1](ones)[0], d1, 1),
        "jvp": (lambda: multiad.jvp(g, (x,), (ones,), backend=b)[1], d1, 1),
        "linearize": (lambda: multiad.linearize(g, x, backend=b)[1](ones), d1, 1),
        "jacrev": (lambda: multiad.jacrev(g, backend=b)(x), np.diag(d1), 1),
        "jacfwd": (lambda: multiad.jacfwd(g, backend=b)(x), np.diag(d1), 1),
        "hessian": (lambda: multiad.hessian(f, backend=b)(x), np.diag(d2), 2),
        "hvp": (lambda: multiad.hvp(f, (x,), (ones,), backend=b)[0], d2, 2),
        "vmap": (lambda: multiad.vmap(multiad.grad(f, backend=b), backend=b)(batch), None, 1),
    }
    problems = []
    for name, (call, expected, order) in calls.items():
        if name in b.unsupported or (order == 2 and "hessian" in b.unsupported):
            continue
        try:
            out = call()
        except multiad.UnsupportedOperationError:
            continue  # the declared-unsupported cases check that refusal
        except Exception as exc:  # noqa: BLE001 - reported with the others
            problems.append(f"{name} of float32 inputs raised {type(exc).__name__}: {exc}")
            continue
        if b.dtype_name(out) != "float32":
            problems.append(f"{name} of float32 inputs gave {b.dtype_name(out)}")
            continue
        tol = tolerance(b.exact, "float32", "cpu", order)
        if expected is not None and isinstance(tol, Tolerance):
            err = float(np.max(np.abs(np.asarray(b.to_numpy(out), dtype=np.float64) - expected)))
            if err > tol.atol + tol.rtol * float(np.max(np.abs(expected))):
                problems.append(f"{name} of float32 inputs is off by {err:.3g}")
    assert not problems, "; ".join(problems)
