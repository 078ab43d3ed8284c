"""pytest plugin: adds the conformance suite's options and imports nothing heavy."""

from __future__ import annotations

from typing import Any


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("multiad", "multiad conformance suite")
    group.addoption(
        "--multiad-backend",
        action="append",
        default=[],
        metavar="NAME",
        help="backend to check: a registered name, or module:object for one under development",
    )
