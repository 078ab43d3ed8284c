"""``r_`` and ``c_``: numpy's concatenation by index expressions, for arrays of any backend."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _dispatch


def _pieces(key: Any) -> list[Any]:
    items = key if isinstance(key, tuple) else (key,)
    out: list[Any] = []
    for item in items:
        if isinstance(item, str):
            raise NotImplementedError("mnp.r_/mnp.c_: string directives are not supported; use mnp.concatenate")
        if isinstance(item, slice):
            step = 1 if item.step is None else item.step
            start = 0 if item.start is None else item.start
            if isinstance(step, complex):
                out.append(np.linspace(start, item.stop, int(abs(step))))
            else:
                out.append(np.arange(start, item.stop, step))
        elif isinstance(item, (int, float, bool)) or (hasattr(item, "shape") and len(item.shape) == 0):
            out.append(_dispatch.call("atleast_1d", item))
        else:
            out.append(item)
    return out


class _RClass:
    """``mnp.r_[a, b, 1.0, 0:3]``: joins along the first axis (slices become ranges)."""

    def __getitem__(self, key: Any) -> Any:
        return _dispatch.call("concatenate", _pieces(key), arrays=_dispatch.SEQUENCE)


class _CClass:
    """``mnp.c_[a, b]``: joins along the last axis, 1-d pieces as columns."""

    def __getitem__(self, key: Any) -> Any:
        pieces = [
            p if len(getattr(p, "shape", np.shape(p))) >= 2 else _dispatch.call("reshape", p, (-1, 1))
            for p in _pieces(key)
        ]
        return _dispatch.call("concatenate", pieces, axis=-1, arrays=_dispatch.SEQUENCE)


r_ = _RClass()
c_ = _CClass()
