"""multiad leaves the frameworks' global state and the caller's arrays as it found them.

Framework globals: JAX's x64 flag, torch's default dtype and grad mode, numpy's floating-point
error handling. Each is read before and after every transform on every backend, including
transforms that raise. Inputs: every transform is given numpy arrays (which the torch backend
wraps without a copy, through ``torch.from_numpy``) and the backend's own arrays, and each is
compared with a copy taken before the call.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp


def framework_state() -> dict[str, Any]:
    import jax
    import torch

    return {
        "jax_enable_x64": bool(jax.config.read("jax_enable_x64")),  # type: ignore[no-untyped-call]
        "torch_default_dtype": torch.get_default_dtype(),
        "torch_grad_enabled": torch.is_grad_enabled(),
        "torch_inference_mode": torch.is_inference_mode_enabled(),
        "numpy_errstate": np.geterr(),
    }


def scalar(x: Any, y: Any) -> Any:
    return mnp.sum(mnp.sin(x) * y["w"]) + mnp.sum(y["w"] ** 2)


def vector(x: Any, y: Any) -> Any:
    return mnp.tanh(x) * mnp.sum(y["w"])


def inputs() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    return np.array([0.3, -1.2, 2.0]), {"w": np.array([0.5, 1.5, -0.25])}


def transforms(name: str) -> dict[str, Callable[[Any, Any], Any]]:
    """Every transform, called on ``(x, y)`` with backend ``name``."""
    t = np.array([1.0, 0.5, -2.0])

    def vjp(x: Any, y: Any) -> Any:
        _, fn = multiad.vjp(vector, x, y, backend=name)
        return fn(multiad.asarray(t, backend=name))

    def linearize(x: Any, y: Any) -> Any:
        _, fn = multiad.linearize(vector, x, y, backend=name)
        return fn(multiad.asarray(t, backend=name), {"w": multiad.asarray(t, backend=name)})

    both = (0, 1)
    return {
        "grad": lambda x, y: multiad.grad(scalar, argnums=both, backend=name)(x, y),
        "value_and_grad": lambda x, y: multiad.value_and_grad(scalar, argnums=both, backend=name)(x, y),
        "vjp": vjp,
        "jvp": lambda x, y: multiad.jvp(vector, (x, y), (t, {"w": t}), backend=name),
        "linearize": linearize,
        "vmap": lambda x, y: multiad.vmap(vector, in_dims=(0, None), backend=name)(np.stack([x, x]), y),
        "jacrev": lambda x, y: multiad.jacrev(vector, argnums=both, backend=name)(x, y),
        "jacfwd": lambda x, y: multiad.jacfwd(vector, argnums=both, backend=name)(x, y),
        "jacobian": lambda x, y: multiad.jacobian(vector, argnums=both, backend=name)(x, y),
        "hessian": lambda x, y: multiad.hessian(scalar, argnums=both, backend=name)(x, y),
        "hvp": lambda x, y: multiad.hvp(scalar, (x, y), (t, {"w": t}), backend=name),
        "vhp": lambda x, y: multiad.vhp(scalar, (x, y), (t, {"w": t}), backend=name),
    }


TRANSFORMS = list(transforms("numpy"))


def failing(name: str) -> dict[str, Callable[[], Any]]:
    """Transforms that raise, at different depths: argument checks, inside the trace, in f."""
    x = np.array([1.0, 2.0])

    def raises_inside(v: Any) -> Any:
        mnp.sum(v * v)
        raise ArithmeticError("raised by f mid-trace")

    return {
        "non-scalar": lambda: multiad.grad(lambda v: v * 2.0, backend=name)(x),
        "int-input": lambda: multiad.jacfwd(lambda v: v, backend=name)(np.array([1, 2])),
        "f-raises": lambda: multiad.hessian(raises_inside, backend=name)(x),
        "f-raises-jvp": lambda: multiad.jvp(raises_inside, (x,), (x,), backend=name),
        "f-raises-vmap": lambda: multiad.vmap(raises_inside, backend=name)(x),
        "bad-cotangent": lambda: multiad.vjp(lambda v: v, x, backend=name)[1](np.ones(5)),
    }


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_transforms_leave_framework_globals(backend: Any, transform: str) -> None:
    x, y = inputs()
    before = framework_state()
    transforms(backend.name)[transform](x, y)
    assert framework_state() == before


def test_failing_transforms_leave_framework_globals(backend: Any) -> None:
    before = framework_state()
    for what, call in failing(backend.name).items():
        with pytest.raises((multiad.MultiADError, ArithmeticError)):
            call()
        assert framework_state() == before, what


def test_torch_grad_mode_and_dtype_as_the_caller_set_them() -> None:
    import torch

    x = np.array([0.5, -1.0])
    expected = np.cos(x)
    saved = torch.get_default_dtype()
    try:
        torch.set_default_dtype(torch.float32)
        with torch.no_grad():
            g = multiad.grad(lambda v: mnp.sum(mnp.sin(v)), backend="torch")(x)
            assert not torch.is_grad_enabled()
            with pytest.raises(multiad.InvalidArgumentError):
                multiad.grad(lambda v: v, backend="torch")(x)
            assert not torch.is_grad_enabled()
        assert torch.get_default_dtype() == torch.float32
        np.testing.assert_allclose(g.numpy(), expected, rtol=1e-12)
        with torch.enable_grad():
            multiad.hessian(lambda v: mnp.sum(v**3), backend="torch")(x)
            assert torch.is_grad_enabled()
    finally:
        torch.set_default_dtype(saved)


FRESH = r"""
import json
import numpy as np
import jax, torch
import multiad, multiad.numpy as mnp

def state():
    return [bool(jax.config.jax_enable_x64), str(torch.get_default_dtype()), torch.is_grad_enabled()]

before = state()
x = np.array([0.5, -1.0], dtype=np.float32)
for name in ["torch", "jax", "autograd", "numpy"]:
    multiad.grad(lambda v: mnp.sum(mnp.sin(v)), backend=name)(x)
    multiad.hessian(lambda v: mnp.sum(v ** 3), backend=name)(x)
    try:
        multiad.grad(lambda v: v, backend=name)(x)
    except multiad.InvalidArgumentError:
        pass
print("RESULT" + json.dumps([before, state()]))
"""


def test_first_use_in_a_fresh_process_changes_no_global() -> None:
    # Loading each backend for the first time (without the test session's x64) changes nothing.
    res = subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("RESULT"))
    before, after = json.loads(line[len("RESULT") :])
    assert before == [False, "torch.float32", True]
    assert after == before


# -- inputs are never mutated -------------------------------------------------------------------


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("kind", ["numpy", "native"])
def test_inputs_are_not_mutated(backend: Any, transform: str, kind: str) -> None:
    x, y = inputs()
    if kind == "native":
        x, y = multiad.asarray(x, backend=backend.name), multiad.asarray(y, backend=backend.name)
    x_before, y_before = copy.deepcopy(multiad.to_numpy(x)), copy.deepcopy(multiad.to_numpy(y))
    result = transforms(backend.name)[transform](x, y)
    np.testing.assert_array_equal(multiad.to_numpy(x), x_before)
    np.testing.assert_array_equal(multiad.to_numpy(y["w"]), y_before["w"])
    assert result is not None


def test_torch_shares_numpy_memory_but_never_writes() -> None:
    import torch

    x = np.array([0.3, -1.2, 2.0])
    t = multiad.asarray(x, backend="torch")
    assert isinstance(t, torch.Tensor) and t.data_ptr() == x.ctypes.data  # no copy was made
    before = x.copy()
    for call in transforms("torch").values():
        call(x, {"w": x})
    np.testing.assert_array_equal(x, before)


def test_read_only_numpy_input(backend: Any) -> None:
    x = np.array([0.5, 1.0, -2.0])
    x.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # torch warns when it wraps read-only memory
        g = multiad.grad(lambda v: mnp.sum(v**2), backend=backend.name)(x)
    backend.close(g, 2 * x)
    assert not x.flags.writeable
