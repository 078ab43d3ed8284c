"""A well-formed plugin whose framework is not installed."""

from __future__ import annotations

from typing import ClassVar

import multiad


class MissingBackend(multiad.Backend):
    name: ClassVar[str] = "broken_noframework"
    framework: ClassVar[str] = "multiad_no_such_framework"
    has_vjp: ClassVar[bool] = True
