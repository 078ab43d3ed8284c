"""Array operations the core needs on any backend's arrays, through autoray.

autoray is imported on first use rather than with multiad: its import pulls in opt_einsum and
would double the cost of ``import multiad``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_do: Callable[..., Any] | None = None


def do(name: str, *args: Any, **kwargs: Any) -> Any:
    """autoray's ``do``: numpy's function ``name`` for the library of the first argument."""
    global _do
    if _do is None:
        from autoray import do as autoray_do

        _do = autoray_do
    return _do(name, *args, **kwargs)
