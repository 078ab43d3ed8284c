"""The benchmarks run end to end on tiny sizes (no timing is asserted, only that they ran)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("jax")
pytest.importorskip("autograd")

from benchmarks import run
from benchmarks.frameworks import FACTORIES
from benchmarks.workloads import WORKLOADS


def test_smoke_run_covers_every_workload_and_framework(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    results = run.main(["--smoke", "--quiet", "--no-plots", "--out", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))
    seen = {(g["workload"], g["framework"]) for g in results["groups"]}
    skipped = {(s["workload"], s["framework"]) for s in results["skipped"]}
    for fw in FACTORIES:
        ran = {w for (w, f) in seen if f == fw}
        assert len(ran) + len([1 for (_, f) in skipped if f == fw]) == len(WORKLOADS), fw
        # Exact backends run every workload; only the finite-difference backend may skip some.
        if not fw.startswith("numpy"):
            assert len(ran) == len(WORKLOADS), (fw, ran)
    for g in results["groups"]:
        for name, info in g["modes"].items():
            if "skipped" in info:
                continue
            assert info["multiad"]["median_s"] > 0, (g["workload"], g["framework"], name)
            if "agrees" in info:
                assert info["agrees"], (g["workload"], g["framework"], name, info["max_abs_diff"])
            if isinstance(info.get("direct"), dict):
                assert f"{name}: multiad / direct" in g["ratios"]
    for s in results["skipped"]:
        assert s["reason"], s


def test_smoke_plots_are_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    results = run.main(
        [
            "--smoke",
            "--quiet",
            "--only",
            "jacobian16",
            "tall",
            "--frameworks",
            "numpy",
            "--out",
            str(tmp_path / "r.json"),
        ]
    )
    pngs = sorted(p.name for p in (tmp_path / "plots").glob("*.png"))
    assert "ratios.png" in pngs and "overhead.png" in pngs
    assert len(pngs) == 2 + len({g["workload"] for g in results["groups"]})
