"""A plugin written against a future plugin API version."""

from __future__ import annotations

from typing import ClassVar

import multiad


class FutureBackend(multiad.Backend):
    name: ClassVar[str] = "broken_incompatible"
    api_version: ClassVar[int] = multiad.API_VERSION + 98
    framework: ClassVar[str] = "numpy"
    has_vjp: ClassVar[bool] = True
