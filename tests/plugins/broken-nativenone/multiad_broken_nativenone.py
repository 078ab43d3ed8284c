"""A plugin that declares ``native = None`` instead of a set of transform names."""

from __future__ import annotations

from typing import Any, ClassVar

import multiad


class NativeNone(multiad.Backend):
    name: ClassVar[str] = "broken_nativenone"
    has_vjp: ClassVar[bool] = True
    native: ClassVar[Any] = None
