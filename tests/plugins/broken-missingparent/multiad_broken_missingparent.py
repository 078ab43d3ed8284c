"""A plugin whose framework is a submodule of a package that is not installed.

``importlib.util.find_spec("pkg.sub")`` imports ``pkg`` first and raises ModuleNotFoundError.
"""

from __future__ import annotations

from typing import ClassVar

import multiad


class MissingParent(multiad.Backend):
    name: ClassVar[str] = "broken_missingparent"
    framework: ClassVar[str] = "multiad_missing_pkg.sub"
    has_vjp: ClassVar[bool] = True
