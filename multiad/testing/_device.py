"""Devices for the conformance suite: availability, array placement, precision and reports.

NOTE [Devices in the suite]: the suite knows devices by kind, ``cpu`` or ``cuda``, and asks the
backend everything else: which devices it sees (``devices()``, strings such as ``cpu`` and
``cuda:0`` or ``gpu:0``), where an array lives (``device_of``), how to describe a device
(``describe_device``) and how to make float32 reproducible on a GPU (``reproducible_float32``,
TF32 off), so that a framework the suite has never heard of is tested like the in-tree ones.
CUDA items are skipped, with the backend's device list as the reason, where it has no GPU.
"""

from __future__ import annotations

import contextlib
import platform
from collections.abc import Iterator
from typing import Any

from .._backend import Backend

KINDS = ("cpu", "cuda")
_GPU_NAMES = ("cuda", "gpu")


def kind(device: str) -> str:
    """The kind of a device string (``cuda:0`` and ``gpu:1`` are ``cuda``; a TensorFlow-style
    ``/job:.../device:CPU:0`` is ``cpu``, as ``Backend.device_of`` reads it)."""
    name = device.rpartition("device:")[2].partition(":")[0].lower()
    return "cuda" if name in _GPU_NAMES else name


def available(b: Backend, k: str) -> str | None:
    """None if ``b`` can run on device kind ``k``, else the reason it cannot."""
    if k == "cpu":
        return None
    try:
        devices = b.devices()
    except Exception as exc:  # noqa: BLE001 - a backend's device query must not stop the suite
        return f"backend {b.name!r}: devices() raised {type(exc).__name__}: {exc}"
    if any(kind(d) == k for d in devices):
        return None
    return f"no CUDA device: backend {b.name!r} sees {devices}"


def placement(b: Backend, k: str) -> str | None:
    """The ``device`` argument for ``b.asarray`` on device kind ``k`` (None: the default)."""
    if k == "cpu":
        return None
    return next(d for d in b.devices() if kind(d) == k)


def kind_of(b: Backend, x: Any) -> str:
    """The device kind an array lives on, as the backend reports it."""
    return kind(b.device_of(x))


@contextlib.contextmanager
def precision(b: Backend, k: str, dtype: str) -> Iterator[None]:
    """Full-precision matmuls for float32 on CUDA, through the backend's own setting."""
    if k != "cuda" or dtype != "float32":
        yield
        return
    with b.reproducible_float32(placement(b, k) or k):
        yield


def cpu_model() -> str:
    """The host CPU's model name (also used by the benchmarks)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe(b: Backend, k: str) -> dict[str, Any]:
    """Kind, model and driver of device kind ``k`` as ``b`` sees it, for the report."""
    if k == "cpu":
        return {"kind": "cpu", "available": True, "model": cpu_model(), "driver": None}
    reason = available(b, k)
    info: dict[str, Any] = {"kind": k, "available": reason is None, "model": None, "driver": None}
    if reason is not None:
        info["reason"] = reason
        return info
    try:
        found = b.describe_device(placement(b, k) or k)
        info["model"], info["driver"] = found.get("model"), found.get("driver")
    except Exception as exc:  # noqa: BLE001 - description only
        info["model"] = f"unknown ({type(exc).__name__})"
    return info
