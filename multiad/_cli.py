"""``python -m multiad``: list the installed backends, or certify one with the conformance suite.

NOTE [CLI loads only what it lists]: ``backends`` reads the registry, which imports every
plugin's module (not its framework; a plugin whose import is slow delays the table, see NOTE
[What loads a plugin]), and then loads each *available* backend to ask for its framework
version and devices, which needs the framework. A backend whose framework fails to load, or
whose ``version()`` or ``devices()`` raises anything (``SystemExit`` included), is shown as
broken with the reason; it never stops the table. Array modules claimed by two backends are
shown under the table as conflicts (NOTE [Plugins never take over]). ``check`` runs the conformance suite in-process through pytest (the
same command a plugin author types, see docs/plugins.md) and prints the report's matrix.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import os
import sys
import tempfile
from collections.abc import Sequence
from typing import Any, TextIO

from . import _registry
from ._errors import MultiADError
from ._guard import guarded
from ._info import capabilities, list_backends

COLUMNS = ("backend", "status", "version", "devices", "capabilities")


def describe_capabilities(caps: dict[str, Any]) -> str:
    """One cell of the table: what a backend declares, from :func:`multiad._info.capabilities`."""
    parts = [
        "vjp" if caps["vjp"] else "no vjp",
        f"jvp: {caps['jvp']}",
        f"vmap: {caps['vmap']}",
        "exact" if caps["exact"] else "approximate",
    ]
    if caps["native"]:
        parts.append("native " + "/".join(caps["native"]))
    if caps["unsupported"]:
        parts.append("unsupported " + "/".join(caps["unsupported"]))
    return ", ".join(parts)


def backend_rows() -> list[dict[str, str]]:
    """One row per known backend; loading a framework that fails marks its row broken."""
    rows = []
    for rec in list_backends():
        row = {
            "backend": rec.name,
            "status": rec.status,
            "version": rec.version or "",
            "devices": "",
            "capabilities": rec.reason,
        }
        if rec.status == _registry.AVAILABLE:
            _, exc = guarded(functools.partial(_describe, rec, row))
            if exc is not None:  # a broken plugin must not break the table
                row["status"] = _registry.BROKEN
                row["capabilities"] = f"{type(exc).__name__}: {exc}"
            elif rec.conflicts:
                row["status"] = "conflict"
        rows.append(row)
    return rows


def _describe(rec: _registry.BackendRecord, row: dict[str, str]) -> None:
    b = _registry.get(rec.name, "python -m multiad backends")
    framework_version = b.version()
    row["version"] = framework_version or rec.version or ""
    row["devices"] = ", ".join(b.devices())
    row["capabilities"] = describe_capabilities(capabilities(b))


def conflict_lines() -> list[str]:
    """One line per array module that several available backends claim."""
    lines = [
        f"conflict: {module} arrays are claimed by {' and '.join(repr(n) for n in names)}"
        for module, names in _registry.conflicts().items()
    ]
    if lines:
        lines.append(
            "calls that infer the backend from these arrays raise until one is selected (backend=..., "
            "multiad.use_backend, multiad.set_backend or $MULTIAD_BACKEND); or uninstall the plugin that "
            "should not claim them"
        )
    return lines


def format_table(rows: list[dict[str, str]]) -> str:
    """A plain-text table with a header line and aligned columns."""
    widths = {c: max([len(c)] + [len(r[c]) for r in rows]) for c in COLUMNS}
    lines = ["  ".join(c.ljust(widths[c]) for c in COLUMNS).rstrip()]
    lines.append("  ".join("-" * widths[c] for c in COLUMNS))
    lines += ["  ".join(r[c].ljust(widths[c]) for c in COLUMNS).rstrip() for r in rows]
    return "\n".join(lines)


def cmd_backends(out: TextIO) -> int:
    rows = backend_rows()
    print(format_table(rows), file=out)
    for line in conflict_lines():
        print(line, file=out)
    if not rows:
        print("no backend is installed; pip install multiad-torch (or multiad-jax, ...)", file=out)
    return 0


def pytest_args(name: str, report: str, select: str | None, extra: Sequence[str]) -> list[str]:
    """The documented conformance command, as arguments for ``pytest.main``."""
    args = ["--pyargs", "multiad.conformance", f"--multiad-backend={name}", f"--multiad-report={report}"]
    # multiad is imported before pytest starts, so pytest cannot rewrite its asserts; say nothing about it.
    args += ["-q", "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if select:
        args += ["-k", select]
    return args + list(extra)


def render_report(report: str) -> str:
    """The markdown capability matrix of a conformance report (see multiad.testing.report)."""
    from .testing.report import render_matrix

    return render_matrix([report])


# NOTE [What check refuses before the run]: the suite runs for minutes, and the report is
# written at its end, so a report path that cannot be written lost the whole run (no matrix,
# a traceback from the suite's session hook); a module:object whose module does not exist
# printed pytest's 55-line collection error. Both are found before the run and reported in one
# line (exit status 2, as for an unknown backend name): the report path by opening it for
# appending (a file made for the test is removed again), the module by its import system
# entry, without importing it (pytest imports it, after its own set-up).
def _unusable(name: str, report: str | None) -> str | None:
    """Why ``check name --report report`` cannot run, or None (NOTE [What check refuses before the run])."""
    call = f"python -m multiad check {name}"
    if ":" in name:
        module = name.partition(":")[0]
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return f"{call}: no module named {module!r}; give module:object of an importable module, or a registered backend name"
    if report:
        existed = os.path.exists(report)
        try:
            with open(report, "a"):
                pass
        except OSError as exc:
            return (
                f"{call}: cannot write the report to {report!r} ({exc.strerror or exc}); give a path in a "
                "writable directory"
            )
        if not existed:
            os.remove(report)
    return None


def cmd_check(name: str, report: str | None, select: str | None, extra: Sequence[str], out: TextIO) -> int:
    try:
        _registry.get(name, f"python -m multiad check {name}")
    except MultiADError as exc:
        if ":" not in name:  # module:object names a backend under development; pytest loads it
            print(exc, file=out)
            return 2
    reason = _unusable(name, report)
    if reason is not None:
        print(reason, file=out)
        return 2
    import pytest  # imported here: listing backends must not need pytest

    with tempfile.TemporaryDirectory() as tmp:
        path = report or os.path.join(tmp, "report.json")
        code = int(pytest.main(pytest_args(name, path, select, extra)))
        if os.path.exists(path):
            print(render_report(path), file=out)
            if report:
                print(f"report written to {report}", file=out)
    return code


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m multiad", description="List multiad backends, or certify one with the conformance suite."
    )
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("backends", help="list backends with status, version, devices and capabilities")
    c = sub.add_parser("check", help="run the conformance suite against one backend and print its matrix")
    c.add_argument("name", help="a registered backend name, or module:object for one under development")
    c.add_argument("--report", help="also keep the JSON report at this path")
    c.add_argument("-k", dest="select", help="pytest -k expression selecting conformance cases")
    c.epilog = "Arguments after -- go to pytest, for instance -- --multiad-device=cpu -x"
    return p


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of ``python -m multiad``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    args = parser().parse_args(argv)
    stream = out or sys.stdout
    if args.command == "backends":
        if extra:
            parser().error("backends takes no pytest arguments")
        return cmd_backends(stream)
    return cmd_check(args.name, args.report, args.select, extra, stream)
