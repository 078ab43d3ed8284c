"""Creation functions given a device the backend cannot use name the call and the devices it has,
and NumPy's ``device="cpu"`` is a device on every backend (NOTE in multiad/_arrays.py: not_placed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

MADE: dict[str, Callable[[Any], Any]] = {
    "zeros": lambda d: mnp.zeros(3, device=d),
    "ones": lambda d: mnp.ones(3, device=d),
    "empty": lambda d: mnp.empty(3, device=d),
    "full": lambda d: mnp.full(3, 2.0, device=d),
    "eye": lambda d: mnp.eye(2, device=d),
    "arange": lambda d: mnp.arange(3, device=d),
    "asarray": lambda d: mnp.asarray([1.0, 2.0], device=d),
    "array": lambda d: mnp.array([1.0, 2.0], device=d),
}
LIKE = ["zeros_like", "ones_like", "empty_like", "full_like"]


def _like(name: str, a: Any, device: Any) -> Any:
    fn = getattr(mnp, name)
    return fn(a, 2.0, device=device) if name == "full_like" else fn(a, device=device)


@pytest.fixture
def torch_cpu_only() -> Any:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this torch has CUDA: device='cuda' is valid here")
    with multiad.use_backend("torch"):
        yield torch


@pytest.mark.parametrize("name", list(MADE))
@pytest.mark.parametrize("device", ["cuda", "cuda:1", "mars"])
def test_torch_creation_on_a_device_this_build_lacks(torch_cpu_only: Any, name: str, device: str) -> None:
    """torch without CUDA raised its bare AssertionError ("Torch not compiled with CUDA enabled"),
    an unknown name its RuntimeError, neither naming the call."""
    with pytest.raises(
        multiad.InvalidArgumentError,
        match=rf"^mnp\.{name}: the torch backend could not place the result on device='{device}' .*"
        r"give one of its devices, \['cpu'\], or leave device out",
    ):
        MADE[name](device)


@pytest.mark.parametrize("name", LIKE)
@pytest.mark.parametrize("device", ["cuda", "cuda:1", "mars"])
def test_torch_like_on_a_device_this_build_lacks(torch_cpu_only: Any, name: str, device: str) -> None:
    a = torch_cpu_only.ones(3)
    with pytest.raises(
        ValueError,
        match=rf"^mnp\.{name}: could not place the result on device='{device}' .*give one of torch's devices "
        r"here, \['cpu'\], or leave device out for a's",
    ):
        _like(name, a, device)
    np.testing.assert_array_equal(_like(name, a, "cpu").numpy().shape, (3,))


@pytest.mark.parametrize("name", list(MADE))
def test_jax_takes_numpys_cpu(name: str) -> None:
    """NumPy's ``device="cpu"`` was refused by the jax backend ("none of JAX's devices; give one
    of ['cpu:0']") where NumPy, torch and the ``*_like`` functions take it."""
    jax = pytest.importorskip("jax")
    with multiad.use_backend("jax"):
        out = MADE[name]("cpu")
    assert out.devices() == {jax.devices("cpu")[0]}
    expected = {"zeros": [0.0] * 3, "ones": [1.0] * 3, "full": [2.0] * 3, "eye": np.eye(2), "arange": [0, 1, 2]}
    if name in expected:
        np.testing.assert_array_equal(np.asarray(out), expected[name])
    elif name in ("asarray", "array"):
        np.testing.assert_array_equal(np.asarray(out), [1.0, 2.0])
    got = multiad.asarray(np.arange(2.0), backend="jax", device="cpu")
    np.testing.assert_array_equal(np.asarray(got), [0.0, 1.0])


@pytest.mark.parametrize("name", list(MADE))
def test_jax_creation_on_a_device_it_cannot_name(name: str) -> None:
    """device=0 reached jax.device_put's own ValueError, which named no call."""
    pytest.importorskip("jax")
    with (
        multiad.use_backend("jax"),
        pytest.raises(
            multiad.InvalidArgumentError, match=rf"^mnp\.{name}: the jax backend could not place the result on device=0"
        ),
    ):
        MADE[name](0)


@pytest.mark.parametrize("name", LIKE)
def test_jax_like_functions_take_a_platform_name(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The jax ``*_like`` functions took "cpu" and "platform:id" only, where the jax backend's
    creation functions take any platform name: ``mnp.zeros(3, device="gpu")`` was placed and
    ``mnp.zeros_like(a, device="gpu")`` refused. A platform "gpu" is simulated here by answering
    ``jax.devices("gpu")`` with the CPU device; both forms now place on it."""
    jax = pytest.importorskip("jax")
    cpu = jax.devices("cpu")[0]
    real = jax.devices

    def devices(backend: Any = None) -> Any:
        return [cpu] if backend == "gpu" else real(backend)

    monkeypatch.setattr(jax, "devices", devices)
    with multiad.use_backend("jax"):
        made = mnp.zeros(3, device="gpu")
        a = multiad.asarray(np.arange(3.0), backend="jax")
        out = _like(name, a, "gpu")
    assert made.devices() == out.devices() == {cpu}
    filled = {"zeros_like": 0.0, "ones_like": 1.0, "full_like": 2.0}
    if name in filled:
        np.testing.assert_array_equal(np.asarray(out), np.full(3, filled[name]))
    with pytest.raises(ValueError, match=rf"^mnp\.{name}: device='tpu' is none of JAX's devices; give 'cpu'"):
        _like(name, a, "tpu")
