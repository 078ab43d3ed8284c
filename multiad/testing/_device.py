"""Devices for the conformance suite: availability, array placement, precision and reports.

NOTE [Devices in the suite]: the suite knows devices by kind, ``cpu`` or ``cuda``. Whether a
backend can run on CUDA is read from ``backend.devices()`` (``cuda:0`` for torch, ``gpu:0`` or
``cuda:0`` for jax); CUDA cases are skipped with that list as the reason when there is none.
float32 on CUDA is checked with TF32 off for torch (restored afterwards) and with the highest
matmul precision for jax, so the tolerance table needs only a small allowance for reordered
reductions.
"""

from __future__ import annotations

import contextlib
import platform
from collections.abc import Iterator
from typing import Any

from .._backend import Backend

KINDS = ("cpu", "cuda")
_GPU_NAMES = ("cuda", "gpu")


def framework(b: Backend) -> str:
    return b.framework or b.name


def available(b: Backend, kind: str) -> str | None:
    """None if ``b`` can run on device ``kind``, else the reason it cannot."""
    if kind == "cpu":
        return None
    try:
        devices = b.devices()
    except Exception as exc:  # noqa: BLE001 - a backend's device query must not stop the suite
        return f"backend {b.name!r}: devices() raised {type(exc).__name__}: {exc}"
    if any(d.split(":")[0] in _GPU_NAMES for d in devices):
        return None
    return f"no CUDA device: backend {b.name!r} sees {devices}"


def placement(b: Backend, kind: str) -> Any:
    """The ``device`` argument for ``b.asarray`` on device ``kind``."""
    if kind == "cpu":
        return None
    if framework(b) == "jax":
        import jax

        return jax.devices("gpu")[0]
    return next(d for d in b.devices() if d.split(":")[0] in _GPU_NAMES)


def kind_of(x: Any) -> str:
    """The device kind an array lives on (``cpu`` for arrays that do not say)."""
    dev = getattr(x, "device", None)
    if callable(dev):
        dev = dev()
    name = getattr(dev, "type", None) or getattr(dev, "platform", None) or (dev if isinstance(dev, str) else "cpu")
    name = str(name).split(":")[0]
    return "cuda" if name in _GPU_NAMES else name


@contextlib.contextmanager
def precision(b: Backend, kind: str, dtype: str) -> Iterator[None]:
    """Full-precision matmuls for float32 on CUDA (TF32 off; jax "highest")."""
    if kind != "cuda" or dtype != "float32":
        yield
        return
    fw = framework(b)
    if fw == "torch":
        import torch

        saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
        try:
            yield
        finally:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved
    elif fw == "jax":
        import jax

        with jax.default_matmul_precision("highest"):
            yield
    else:
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


def describe(b: Backend, kind: str) -> dict[str, Any]:
    """Kind, model and driver of device ``kind`` as ``b`` sees it, for the report."""
    if kind == "cpu":
        return {"kind": "cpu", "available": True, "model": cpu_model(), "driver": None}
    reason = available(b, kind)
    info: dict[str, Any] = {"kind": kind, "available": reason is None, "model": None, "driver": None}
    if reason is not None:
        info["reason"] = reason
        return info
    fw = framework(b)
    try:
        if fw == "torch":
            import torch

            info["model"] = torch.cuda.get_device_name(0)
            info["driver"] = f"CUDA runtime {torch.version.cuda}"
        elif fw == "jax":
            import jax

            dev = jax.devices("gpu")[0]
            info["model"] = getattr(dev, "device_kind", None)
            info["driver"] = f"jaxlib {jax.lib.__version__}" if hasattr(jax.lib, "__version__") else None
    except Exception as exc:  # noqa: BLE001 - description only
        info["model"] = f"unknown ({type(exc).__name__})"
    return info
