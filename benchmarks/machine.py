"""What the benchmarks ran on: CPU model, cores, and the framework versions."""

from __future__ import annotations

import importlib.metadata
import os
import platform
from typing import Any

from multiad.testing._device import cpu_model


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _gpu() -> str | None:
    try:
        import torch
    except ImportError:
        return None
    return str(torch.cuda.get_device_name(0)) if torch.cuda.is_available() else None


def describe() -> dict[str, Any]:
    import multiad

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "gpu": _gpu(),
        "threads": "1 (torch.set_num_threads, OMP/OpenBLAS/MKL, XLA intra-op)",
        "versions": {
            "multiad": multiad.__version__,
            **{d: _version(d) for d in ("torch", "jax", "jaxlib", "autograd", "numpy", "optree")},
        },
    }


def summary(m: dict[str, Any]) -> str:
    v = m["versions"]
    chunks = m.get("stack_chunks")  # NOTE [Stack chunks kept] in stack_chunks.py
    freed = m.get("freed_memory")  # NOTE [Freed memory kept] in freed_memory.py
    return (
        f"{m['cpu']}, {m['cores']} cores, {m['platform']}, Python {m['python']}"
        + (f" (stack chunks {chunks})" if chunks else "")
        + (f" (freed memory {freed})" if freed else "")
        + "; "
        + ", ".join(f"{k} {val}" for k, val in v.items() if val)
    )
