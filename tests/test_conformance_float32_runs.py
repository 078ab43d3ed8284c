"""The contract items in a run without float64 (NOTE [Contract items in the dtype the backend
computes]): a right backend whose framework computes in float32 passes, a wrong one fails, and
the threads item blames threads only for what goes wrong with threads."""

from __future__ import annotations

from pathlib import Path

import pytest

from multiad.testing import _run, _spec

PLUGINS = Path(__file__).resolve().parent / "plugins"
FLOAT64_ITEMS = (
    "test_primitives_keep_the_flat_contract",
    "test_calls_from_two_threads",
    "test_results_keep_the_arguments_values_at_call_time",
)


def _contract(spec: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, str]]:
    monkeypatch.syspath_prepend(str(PLUGINS))
    b = _spec.load(spec)
    _spec.prepare(b, ["float32"])
    return {r["case"]: r for r in _run.contract_results(b)}


def test_right_backend_without_float64_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    recs = _contract("conformance_backends:Float64Off", monkeypatch)
    for name in FLOAT64_ITEMS:
        assert recs[name]["status"] == "passed", recs[name].get("reason")


def test_wrong_backend_without_float64_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    recs = _contract("conformance_backends:Float64OffScaled", monkeypatch)
    flat = recs["test_primitives_keep_the_flat_contract"]
    assert (
        flat["status"] == "failed" and "vjp's pullback((u, w)) (one gradient per primal)[0] differs" in flat["reason"]
    ), flat
    threads = recs["test_calls_from_two_threads"]
    assert threads["status"] == "failed"
    # Wrong in one thread as well: named as such, without the hint about state shared by threads.
    assert "in one thread, no other running: off by" in threads["reason"], threads["reason"]
    assert "threading.local" not in threads["reason"], threads["reason"]
