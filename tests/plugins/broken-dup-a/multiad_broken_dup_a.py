"""One of two distributions that register a backend under the same name."""

from __future__ import annotations

from typing import ClassVar

import multiad


class DupBackend(multiad.Backend):
    name: ClassVar[str] = "broken_dup"
    framework: ClassVar[str] = "numpy"
    has_vjp: ClassVar[bool] = True
