"""pytest plugin (entry point ``pytest11``): the conformance suite's options; imports nothing heavy.

The suite itself lives in :mod:`multiad.conformance`; a plugin author runs::

    pytest --pyargs multiad.conformance --multiad-backend=NAME

where NAME is a registered backend or ``module:object`` for one under development.
"""

from __future__ import annotations

from typing import Any


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("multiad", "multiad conformance suite (pytest --pyargs multiad.conformance)")
    group.addoption(
        "--multiad-backend",
        default=None,
        metavar="NAME",
        help="backend to check: a registered name, or module:object for one under development",
    )
    group.addoption(
        "--multiad-device",
        default="all",
        metavar="cpu|cuda|all",
        help="device kinds to run on (comma-separated or all; default all: CUDA items skip without a GPU)",
    )
    group.addoption(
        "--multiad-dtypes",
        default="float64",
        metavar="DTYPES",
        help="comma-separated dtypes to check, from float64,float32 (default float64)",
    )
    group.addoption(
        "--multiad-report",
        default=None,
        metavar="PATH",
        help="write a JSON report (backend, versions, devices, per-item status and errors) to PATH",
    )
    group.addoption(
        "--multiad-compile",
        default="all",
        metavar="all|sample|none",
        help="cases also run under the backend's declared compiler: all (default), sample (the first case "
        "of each family) or none",
    )
    group.addoption(
        "--multiad-xfails",
        default=None,
        metavar="FILE",
        help="file of known failures: one 'ITEM-ID-PATTERN EXPECTED' per line (fnmatch pattern, then a substring "
        "of the expected failure message; # comments)",
    )
