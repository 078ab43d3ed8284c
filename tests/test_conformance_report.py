"""check_backend, the capability-matrix generator, and the suite's behaviour without a backend."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from multiad.testing import CASES, check_backend, plan, tolerance
from multiad.testing import report as report_mod
from multiad.testing._tolerance import Tolerance

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = Path(__file__).resolve().parent / "plugins"


def test_check_backend_runs_the_suite_directly() -> None:
    rep = check_backend("autograd", devices="cpu,cuda", dtypes="float64")
    s = rep["summary"]
    assert s["failed"] == 0 and s["passed"] >= 50
    cases = [r for r in rep["results"] if r["family"] != "contract"]
    assert s["total"] == len(rep["results"]) and len(cases) == 2 * len(CASES)
    # The contract checks run too, as under pytest: check_backend certifies what the command does.
    contract = [r["id"] for r in rep["results"] if r["family"] == "contract"]
    assert contract[0] == "test_declarations" and "test_float32_derivatives_stay_float32" in contract
    assert all(r["status"] == "passed" for r in rep["results"] if r["family"] == "contract")
    assert rep["backend"]["name"] == "autograd" and rep["multiad_version"]
    assert [d["kind"] for d in rep["devices"]] == ["cpu", "cuda"]
    json.dumps(rep)  # the report is JSON-ready


def test_check_backend_accepts_module_object_and_reports_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    rep = check_backend("conformance_backends:ScaledGradient", devices="cpu")
    assert rep["backend"]["spec"] == "conformance_backends:ScaledGradient"
    failed = {r["case"]: r for r in rep["results"] if r["status"] == "failed"}
    assert "sin_sum_sq.grad" in failed and "off by" in failed["sin_sum_sq.grad"]["reason"]


def test_tolerance_table() -> None:
    assert tolerance(True, "float64", "cpu", 1) == Tolerance(1e-10, 1e-12)
    assert tolerance(False, "float64", "cpu", 1) == Tolerance(1e-4, 1e-6)
    assert tolerance(False, "float64", "cpu", 2) == Tolerance(5e-3, 1e-4)
    assert isinstance(tolerance(False, "float64", "cpu", 3), str)
    assert isinstance(tolerance(False, "float32", "cpu", 2), str)
    cpu, cuda = tolerance(True, "float32", "cpu", 1), tolerance(True, "float32", "cuda", 1)
    assert isinstance(cpu, Tolerance) and isinstance(cuda, Tolerance) and cuda.rtol > cpu.rtol
    # Plain values are held to the exact table even on a finite-difference backend.
    assert tolerance(False, "float64", "cpu", 0) == tolerance(True, "float64", "cpu", 1)


def test_plan_gives_reasons_for_what_cannot_run() -> None:
    import multiad

    with multiad.use_backend("numpy") as b:
        items = plan(b, ["cpu", "cuda"], ["float64"])
    cuda = [i for i in items if i.device == "cuda"]
    assert cuda and all(i.skip and "no CUDA device" in i.skip for i in cuda)
    third = [i for i in items if i.device == "cpu" and i.case.order == 3]
    assert third and all(i.skip and "exact=False" in i.skip for i in third)


def _fake_report(name: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "backend": {"name": name, "spec": name, "version": "1"},
        "multiad_version": "0",
        "devices": [{"kind": "cpu", "model": "x"}],
        "dtypes": ["float64"],
        "summary": {"passed": 1, "failed": 1, "skipped": 1, "xfailed": 0},
        "results": results,
    }


def _r(family: str, transform: str, status: str, device: str = "cpu", **kw: Any) -> dict[str, Any]:
    return {"family": family, "transform": transform, "status": status, "device": device, "dtype": "float64",
            "jit": False, "reason": "", **kw}  # fmt: skip


def test_matrix_folds_reports(tmp_path: Path) -> None:
    a = _fake_report("alpha", [
        _r("vector->scalar", "grad", "passed"),
        _r("vector->scalar", "grad", "failed", reason="result vs closed form: off by 0.1\nTraceback (most recent call last)"),
        _r("matrix", "jacfwd", "passed", unsupported=["jacfwd"]),
        _r("matrix", "jacrev", "skipped", reason="too hard"),
        _r("matrix", "jacrev", "skipped", device="cuda", reason="no CUDA device"),
    ])  # fmt: skip
    b = _fake_report("beta", [_r("vector->scalar", "grad", "xfailed", reason="known bug")])
    paths = []
    for rep in (a, b):
        p = tmp_path / f"{rep['backend']['name']}.json"
        p.write_text(json.dumps(rep))
        paths.append(str(p))
    out = tmp_path / "matrix.md"
    proc = subprocess.run(
        [sys.executable, "-m", "multiad.testing.report", *paths, "-o", str(out)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "| family | transform | alpha cpu float64 | beta cpu float64 |" in text
    # Failures carry their reason (the first line of it) like skips and expected failures.
    assert "| vector->scalar | grad | pass 1/2, **FAILED 1/2** [1] | xfail 1/1 [2] |" in text
    assert "| matrix | jacfwd | unsupported (raises as declared) |  |" in text
    assert "| matrix | jacrev | skip 1/1 [3] |  |" in text
    assert "- alpha cuda float64: no CUDA device" in text
    assert "1. result vs closed form: off by 0.1\n" in text and "Traceback" not in text
    assert "2. known bug" in text and "3. too hard" in text
    # No backend declared a compiler: the header names none.
    assert "jit" not in text and "compile" not in text
    assert text == report_mod.render_matrix(paths)


def test_suite_skips_with_a_reason_without_a_backend(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "multiad" / "conformance"), "-q", "-rs", "-p", "no:cacheprovider"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed" not in proc.stdout.splitlines()[-1]
    assert "no backend selected: run pytest --pyargs multiad.conformance --multiad-backend=NAME" in proc.stdout


def test_plugin_module_imports_nothing_heavy() -> None:
    code = (
        "import sys, multiad.testing.pytest_plugin\n"
        "print(sorted(m for m in ('torch', 'jax', 'autograd', 'autoray', 'multiad.testing._run', 'multiad.testing._suite') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
