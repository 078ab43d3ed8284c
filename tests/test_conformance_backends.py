"""The conformance suite against the four in-tree backends, each in its own pytest process,
exactly as a plugin author runs it (``pytest --pyargs multiad.conformance --multiad-backend=NAME``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_suite(spec: str, tmp_path: Path, *extra: str, pythonpath: str | None = None) -> tuple[int, str, dict[str, Any]]:
    """Runs the suite in a subprocess; returns its exit code, output and JSON report."""
    report = tmp_path / "report.json"
    cmd = [sys.executable, "-m", "pytest", "--pyargs", "multiad.conformance", f"--multiad-backend={spec}"]
    cmd += [f"--multiad-report={report}", "-q", "-p", "no:cacheprovider", *extra]
    env = dict(os.environ)
    env.pop("MULTIAD_BACKEND", None)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath, env.get("PYTHONPATH")) if p)
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    data = json.loads(report.read_text()) if report.exists() else {}
    return proc.returncode, proc.stdout + proc.stderr, data


@pytest.mark.parametrize("name", ["torch", "jax", "autograd", "numpy"])
def test_in_tree_backend_passes(name: str, tmp_path: Path) -> None:
    xfails = ROOT / "tests" / "xfails" / f"{name}.txt"
    extra = [f"--multiad-xfails={xfails}"] if xfails.exists() else []
    # torch.compile takes seconds per case: its items are opt-in (make capabilities runs a sample).
    extra.append("--multiad-compile=none" if name == "torch" else "--multiad-compile=sample")
    code, output, report = run_suite(name, tmp_path, *extra)
    assert code == 0, output[-4000:]
    summary = report["summary"]
    assert summary["failed"] == 0 and summary["xpassed"] == 0
    ran = [r for r in report["results"] if r["status"] == "passed"]
    assert len(ran) >= 50, f"only {len(ran)} results passed"
    assert report["backend"]["name"] == name and report["backend"]["distribution"] == f"multiad-{name}"
    assert all(r["reason"] for r in report["results"] if r["status"] in ("skipped", "xfailed"))
    cuda = [r for r in report["results"] if r["device"] == "cuda"]
    assert cuda and all(r["status"] == "skipped" and "CUDA" in r["reason"] for r in cuda)
    # Every item that ran was compared: its largest errors and the tolerance used are recorded.
    compared = [r for r in ran if r["family"] != "contract" and not r.get("unsupported") and not r.get("raised")]
    assert all(r["max_abs_err"] is not None and r["rtol"] is not None for r in compared)
    # Cases also ran under the backend's own compiler (a sample of them here, to keep the time).
    compiled = [r for r in report["results"] if r["jit"]]
    assert bool(compiled) == (name == "jax")
    assert all(r["compiler"] == report["backend"]["compiler"] for r in compiled)
    assert all(r["status"] in ("passed", "xfailed") or r["reason"] for r in compiled)
