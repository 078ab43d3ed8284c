"""Parametrizes the conformance tests over cases, devices and dtypes; writes the JSON report.

NOTE [Conformance report]: every collected item, run or skipped, becomes one record in the
report with its status (passed, failed, skipped, xfailed, xpassed) and, for skips and expected
failures, the reason. Records of items that ran carry the largest absolute and relative error
and the tolerance used (multiad/testing/_tolerance.py).
"""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

import pytest

NO_BACKEND = (
    "no backend selected: run pytest --pyargs multiad.conformance --multiad-backend=NAME "
    "(a registered backend, or module:object)"
)

_STATE = pytest.StashKey[dict[str, Any]]()
_RECORD = pytest.StashKey[dict[str, Any]]()


def pytest_configure(config: pytest.Config) -> None:
    spec = config.getoption("multiad_backend", None)
    if not spec:
        return
    from multiad import MultiADError
    from multiad.testing import _run, _spec, _xfail

    xfails_path = config.getoption("multiad_xfails")
    try:
        devices = _run.devices_for(config.getoption("multiad_device"))
        dtypes = _run.dtypes_for(config.getoption("multiad_dtypes"))
        xfails = _xfail.read(xfails_path) if xfails_path else []
        backend = _spec.load(spec)
    except (ValueError, OSError, MultiADError) as exc:
        raise pytest.UsageError(str(exc)) from exc
    if config.getoption("multiad_compile") not in _run.COMPILE_MODES:
        raise pytest.UsageError(f"--multiad-compile: expected one of {_run.COMPILE_MODES}")
    _spec.prepare(backend, dtypes)
    config.stash[_STATE] = {
        "spec": spec,
        "backend": backend,
        "devices": devices,
        "dtypes": dtypes,
        "items": _run.plan(backend, devices, dtypes, xfails=xfails, compiled=config.getoption("multiad_compile")),
        "results": [],
    }


def _state(config: pytest.Config) -> dict[str, Any] | None:
    return config.stash.get(_STATE, None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "conformance_item" not in metafunc.fixturenames:
        return
    state = _state(metafunc.config)
    if state is None:
        metafunc.parametrize("conformance_item", [pytest.param(None, marks=pytest.mark.skip(reason=NO_BACKEND))])
        return
    identity = getattr(metafunc.module, "IDENTITIES", False)
    params = []
    for item in state["items"]:
        if item.case.identity != identity:
            continue
        marks = [pytest.mark.skip(reason=item.skip)] if item.skip else []
        params.append(pytest.param(item, marks=marks, id=item.id))
    metafunc.parametrize("conformance_item", params)


@pytest.fixture
def conformance_backend(request: pytest.FixtureRequest) -> Any:
    """The backend under test (skips when no --multiad-backend was given)."""
    state = _state(request.config)
    if state is None:
        pytest.skip(NO_BACKEND)
    return state["backend"]


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Any:
    """Stores a test's result record for the report."""

    def store(rec: dict[str, Any]) -> None:
        request.node.stash[_RECORD] = rec

    return store


def _skip_reason(rep: pytest.TestReport) -> str:
    longrepr = rep.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    rep: pytest.TestReport = yield
    state = _state(item.config)
    if state is None or not (rep.when == "call" or (rep.when == "setup" and not rep.passed)):
        return rep
    callspec = getattr(item, "callspec", None)
    citem = callspec.params.get("conformance_item") if callspec else None
    rec = item.stash.get(_RECORD, None)
    if rec is None:
        if citem is not None:
            rec = {  # an item that did not run (skipped or failed in setup)
                "id": citem.id, "case": citem.case.id, "family": citem.case.family,
                "transform": citem.case.transform, "device": citem.device, "dtype": citem.dtype,
                "jit": citem.jit, "compiler": state["backend"].compiler if citem.jit else None, "max_abs_err": None, "max_rel_err": None, "rtol": None, "atol": None,
            }  # fmt: skip
        else:
            name = item.name
            rec = {"id": name, "case": name, "family": "contract", "transform": name.split("[")[0],
                   "device": "-", "dtype": "-", "jit": False}  # fmt: skip
    rec = dict(rec)
    if rec.get("status") in ("xfailed", "xpassed", "failed") or (rec.get("status") == "passed" and rep.passed):
        pass  # the runner's verdict (NOTE [Expected failures])
    elif rep.skipped:
        rec["status"], rec["reason"] = "skipped", _skip_reason(rep)
    elif rep.failed:
        rec["status"] = "failed"
        rec.setdefault("reason", "")
        if not rec["reason"]:
            rec["reason"] = _failure_reason(rep)
    else:
        rec["status"] = "passed"
    state["results"].append(rec)
    return rep


def _failure_reason(rep: pytest.TestReport) -> str:
    """The failed check's own message (``AssertionError: ...``), else the last line of the report."""
    crash = getattr(rep.longrepr, "reprcrash", None)
    message = str(getattr(crash, "message", "") or "").strip()
    if message:
        return message.splitlines()[0]
    return str(rep.longrepr).strip().splitlines()[-1] if rep.longrepr else "failed"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = _state(session.config)
    path = session.config.getoption("multiad_report", None)
    if state is None or not path:
        return
    from multiad.testing import _run

    report = _run.header(state["backend"], state["spec"], state["devices"], state["dtypes"])
    report["summary"] = _run.summarize(state["results"])
    report["results"] = state["results"]
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=1, default=str)
        fh.write("\n")
