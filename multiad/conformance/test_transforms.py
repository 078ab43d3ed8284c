"""Every transform on every case family, against closed-form float64 references."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def test_against_reference(conformance_item: Any, conformance_backend: Any, record: Callable[..., None]) -> None:
    from multiad.testing._run import run_item

    rec = run_item(conformance_backend, conformance_item)
    record(rec)
    if rec["status"] in ("failed", "xpassed"):
        pytest.fail(f"{conformance_item.id}: {rec['reason']}", pytrace=False)
    if rec["status"] == "xfailed":
        pytest.xfail(f"{conformance_item.id}: {rec['xfail']}")
