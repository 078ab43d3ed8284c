"""numpy's ``real``, ``imag`` and ``angle`` on torch tensors.

NOTE [Parts of complex arrays]: numpy's ``real`` of a real array is the array itself, its
``imag`` zeros of the array's dtype (integers and booleans kept), and its ``angle`` is
``arctan2(imag, real)`` in the real dtype of the operand's precision (float64 for integers):
pi for a negative number and for -0.0. torch's ``imag`` refuses real tensors, and its ``angle``
gives float32 for integers and 0 for -0.0. All three are differentiable where the values are
(``real`` and ``imag`` linear; ``angle`` of a real number has derivative 0 away from 0, where
it jumps), as ``jax.numpy``'s and ``autograd.numpy``'s are.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ._torch import Fn, numpy_operands, numpy_typed


def _real(t: torch.Tensor) -> torch.Tensor:
    return torch.real(t) if t.is_complex() else t


def _imag(t: torch.Tensor) -> torch.Tensor:
    return torch.imag(t) if t.is_complex() else torch.zeros_like(t)


def _angle(z: Any, deg: bool = False) -> torch.Tensor:
    """numpy's ``angle(z, deg=False)``."""
    ts, out = numpy_operands("angle", (z,))
    t = ts[0]
    a = torch.angle(t) if t.is_complex() else torch.atan2(torch.zeros_like(t), t)
    if deg:
        a = a * (180.0 / math.pi)
    return a if out is None or a.dtype == out else a.to(out)


IMPL: dict[str, Fn] = {"real": numpy_typed("real", _real), "imag": numpy_typed("imag", _imag), "angle": _angle}
