"""What the backend declares is consistent with the plugin contract (multiad/_backend.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

import multiad
from multiad._backend import NATIVE_OVERRIDES, TRANSFORMS


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
