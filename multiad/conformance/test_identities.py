"""Reference-free checks: identities between transforms (dot-product test, jacfwd == jacrev, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

#: Tells the conftest to parametrize this module over the reference-free cases.
IDENTITIES = True


def test_identity(conformance_item: Any, conformance_backend: Any, record: Callable[..., None]) -> None:
    from multiad.testing._run import run_item

    rec = run_item(conformance_backend, conformance_item)
    record(rec)
    if rec["status"] in ("failed", "xpassed"):
        pytest.fail(f"{conformance_item.id}: {rec['reason']}", pytrace=False)
    if rec["status"] == "xfailed":
        pytest.xfail(f"{conformance_item.id}: {rec['xfail']}")
