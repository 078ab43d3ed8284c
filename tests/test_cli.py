"""``python -m multiad backends`` and ``python -m multiad check NAME``."""

from __future__ import annotations

import importlib.metadata
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

import multiad
from multiad import _cli, _registry
from multiad._registry import BackendRecord

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "multiad", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=300
    )


def parse_table(text: str) -> dict[str, dict[str, str]]:
    """Rows of the backends table by name, cut at the column offsets of the header."""
    lines = text.splitlines()
    header = lines[0]
    starts = [header.index(c) for c in _cli.COLUMNS]
    rows = {}
    for line in lines[2:]:
        if not line.strip():
            continue
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None])]
        rows[cells[0]] = dict(zip(_cli.COLUMNS, cells))
    return rows


def test_backends_table_lists_the_in_tree_backends() -> None:
    proc = run_cli("backends")
    assert proc.returncode == 0, proc.stderr
    rows = parse_table(proc.stdout)
    for name in ("torch", "jax", "autograd", "numpy"):
        assert rows[name]["status"] == "available", rows[name]
        assert "cpu" in rows[name]["devices"], rows[name]
    assert rows["torch"]["version"] == importlib.metadata.version("torch")
    assert rows["jax"]["version"] == importlib.metadata.version("jax")
    assert rows["autograd"]["version"] == importlib.metadata.version("autograd")
    assert rows["numpy"]["version"] == importlib.metadata.version("numpy")
    # Declarations, read independently of the table's formatting code.
    assert "vmap: loop" in rows["autograd"]["capabilities"]
    assert "jvp: double vjp" in rows["autograd"]["capabilities"]
    assert "approximate" in rows["numpy"]["capabilities"]
    assert "exact" in rows["torch"]["capabilities"].split(", ")
    assert "vmap: native" in rows["jax"]["capabilities"]


class _FailingToLoad(multiad.Backend):
    name: ClassVar[str] = "failing-fixture"
    has_vjp: ClassVar[bool] = True

    def load(self) -> None:
        raise RuntimeError("driver library libfake.so not found")


def test_backends_table_survives_broken_and_missing_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    _registry.records()  # discover the installed backends first
    failing = BackendRecord("failing-fixture", _registry.AVAILABLE, backend=_FailingToLoad())
    missing = BackendRecord(
        "missing-fixture", _registry.NOT_INSTALLED, "its framework 'fakeframework' is not installed; pip install it"
    )
    monkeypatch.setitem(_registry._records, failing.name, failing)
    monkeypatch.setitem(_registry._records, missing.name, missing)
    out = io.StringIO()
    assert _cli.main(["backends"], out=out) == 0
    rows = parse_table(out.getvalue())
    assert rows["failing-fixture"]["status"] == "broken"
    assert "RuntimeError: driver library libfake.so not found" in rows["failing-fixture"]["capabilities"]
    assert rows["missing-fixture"]["status"] == "not installed"
    assert "pip install" in rows["missing-fixture"]["capabilities"]
    assert rows["missing-fixture"]["devices"] == ""
    assert rows["numpy"]["status"] == "available"


def test_check_runs_the_conformance_suite_and_prints_the_matrix(tmp_path: Path) -> None:
    report = tmp_path / "numpy.json"
    proc = run_cli("check", "numpy", "-k", "hessian", "--report", str(report), "--", "--multiad-device=cpu")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    assert data["backend"]["name"] == "numpy"
    assert data["summary"]["failed"] == 0
    results = data["results"]
    assert results and all("hessian" in json.dumps(r).lower() for r in results)
    passed = sum(r["status"] == "passed" for r in results)
    assert passed == data["summary"]["passed"] > 0
    assert "| numpy cpu float64 |" in proc.stdout
    assert f"report written to {report}" in proc.stdout


def test_check_selecting_nothing_fails() -> None:
    proc = run_cli("check", "numpy", "-k", "no_case_has_this_name", "--", "--multiad-device=cpu")
    assert proc.returncode == 5, proc.stdout + proc.stderr  # pytest: no tests collected


def test_check_unknown_backend_says_what_is_available() -> None:
    out = io.StringIO()
    assert _cli.main(["check", "no-such-backend"], out=out) == 2
    assert "unknown backend 'no-such-backend'" in out.getvalue()
    assert "numpy" in out.getvalue()


def _no_run(*args: Any, **kwargs: Any) -> int:
    raise AssertionError("the suite ran")


@pytest.mark.parametrize("where", ["missing dir", "a directory"])
def test_check_refuses_an_unwritable_report_before_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # Before: the whole suite ran, then the report hook crashed with a traceback and no matrix.
    monkeypatch.setattr(pytest, "main", _no_run)
    report = tmp_path / "no" / "such" / "dir" / "x.json" if where == "missing dir" else tmp_path
    out = io.StringIO()
    assert _cli.main(["check", "numpy", "--report", str(report)], out=out) == 2
    msg = out.getvalue().strip()
    assert msg.startswith(f"python -m multiad check numpy: cannot write the report to {str(report)!r}"), msg
    assert "writable directory" in msg and len(msg.splitlines()) == 1, msg


def test_check_leaves_a_writable_report_path_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    monkeypatch.setattr(pytest, "main", lambda args: seen.append(True) or 0)
    monkeypatch.setattr(_cli, "render_report", lambda path: "")
    fresh, existing = tmp_path / "fresh.json", tmp_path / "old.json"
    existing.write_text("kept", encoding="utf-8")
    for report in (fresh, existing):
        assert _cli.main(["check", "numpy", "--report", str(report)], out=io.StringIO()) == 0
    assert seen == [True, True]
    assert not fresh.exists() and existing.read_text(encoding="utf-8") == "kept"  # the probe leaves no file


def test_check_of_a_module_that_does_not_exist_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: pytest's 55-line collection error.
    monkeypatch.setattr(pytest, "main", _no_run)
    out = io.StringIO()
    assert _cli.main(["check", "nope.mod:Cls"], out=out) == 2
    assert out.getvalue().strip() == (
        "python -m multiad check nope.mod:Cls: no module named 'nope.mod'; give module:object of an importable "
        "module, or a registered backend name"
    )
