"""Faulty plugins are listed with their status and never break the other backends; plugins
never take over arrays or the default that in-tree backends had.

NOTE [Throwaway plugins]: ``tests/plugins/broken-*/`` are small distributions, each faulty in
one way (raises on import, exits or raises KeyboardInterrupt at import, imports slowly, names an
object that is not a backend, declares another plugin API version or ``native = None``, two
distributions claiming one name, a framework that is not installed or inside a package that is
not installed, claims torch tensors, declares priority 0). One pip call installs them all into a
temporary target once per session; a subprocess with that target on PYTHONPATH first uses the
in-tree backends (checking which plugin modules that imported), then lists the backends, selects
each faulty one and prints the backend table, and reports what it saw as JSON. Run-time
registration (``register_backend``) is tested in-process, in tests/test_register_backend.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from multiad import _select
from multiad._backend import API_VERSION

PLUGINS = Path(__file__).parent / "plugins"
IN_TREE = ("torch", "jax", "autograd", "numpy")

# name -> (status, fragments of the reason)
EXPECTED = {
    "broken_import": ("broken", ["ImportError", "multiad_broken_import needs a library that is missing"]),
    "broken_notbackend": ("broken", ["gave dict object", "not a multiad.Backend subclass or instance"]),
    "broken_incompatible": ("incompatible", [f"plugin API version {API_VERSION + 98}", f"implements version {API_VERSION}"]),
    "broken_dup": ("duplicated", ["registered by several distributions", "multiad-broken-dup-a", "multiad-broken-dup-b", "uninstall all but one"]),
    "broken_noframework": ("not installed", ["'multiad_no_such_framework' is not installed"]),
    "broken_missingparent": ("not installed", ["'multiad_missing_pkg.sub' is not installed", "No module named 'multiad_missing_pkg'"]),
    "broken_nativenone": ("broken", ["native must be a frozenset of transform names, got None"]),
    "broken_sysexit": ("broken", ["importing 'multiad_broken_sysexit:Backend' raised SystemExit: 3"]),
    "broken_interrupt": ("broken", ["raised KeyboardInterrupt: raised by multiad_broken_interrupt on purpose"]),
}  # fmt: skip
# Well-formed plugins that must not change what code using the in-tree backends gets.
TAKEOVER = ("broken_slow", "broken_takeover_torch", "broken_takeover_default")

PROBE = r"""
import io, json, sys
import numpy as np
import torch
import multiad, multiad.numpy as mnp
from multiad import _cli

def attempt(call):
    try:
        return [None, call()]
    except Exception as exc:
        return [type(exc).__name__, str(exc)]

def plugins_imported():
    return sorted(m for m in sys.modules if m.startswith("multiad_broken"))

cube = lambda u: mnp.sum(u * u * u)
f = lambda v, **kw: multiad.grad(cube, **kw)(v).tolist()  # tolist: to_numpy infers the backend too
x = np.array([1.0, -2.0, 3.0])
t = torch.tensor(x)
report = {"records": [], "select": {}, "in_tree": {}, "first": {}}
first = report["first"]
# Before anything lists the backends: selection by name and the default import no plugin.
first["numpy"] = f(x, backend="numpy")
multiad.set_backend("numpy")
first["set_backend"] = multiad.get_backend().name
multiad.set_backend(None)
first["default"] = multiad.get_backend().name
first["numpy_input"] = [type(multiad.grad(cube)(x)).__module__.split(".")[0], f(x)]
from multiad.testing import _spec  # what `python -m multiad check numpy` reports of the backend
first["distribution"] = list(_spec.distribution("numpy"))
first["imported"] = plugins_imported()
# Torch tensors are claimed by two backends: inference raises, any explicit selection works.
first["torch_inferred"] = attempt(lambda: f(t))
first["to_numpy_inferred"] = attempt(lambda: multiad.to_numpy(t).tolist())
with multiad.use_backend("torch"):
    first["torch_use_backend"] = attempt(lambda: f(t))
    first["to_numpy_use_backend"] = attempt(lambda: multiad.to_numpy(t).tolist())
first["torch_argument"] = attempt(lambda: f(t, backend="torch"))
first["takeover_argument"] = attempt(lambda: f(t, backend="broken_takeover_torch"))

for r in multiad.list_backends():
    report["records"].append({"name": r.name, "status": r.status, "reason": r.reason,
                              "distribution": r.distribution, "conflicts": list(r.conflicts)})
for name in sys.argv[1].split(","):
    seen = {}
    for how, call in [
        ("set_backend", lambda: multiad.set_backend(name)),
        ("use_backend", lambda: multiad.use_backend(name).__enter__()),
        ("grad", lambda: multiad.grad(lambda x: mnp.sum(x * x), backend=name)(np.ones(2))),
    ]:
        try:
            call()
            seen[how] = None
        except Exception as exc:
            seen[how] = [type(exc).__name__, isinstance(exc, LookupError), str(exc)]
    report["select"][name] = seen
for name in sys.argv[2].split(","):
    g = multiad.grad(lambda v: mnp.sum(mnp.sin(v)), backend=name)(x)
    with multiad.use_backend(name):
        report["in_tree"][name] = [type(g).__module__.split(".")[0], multiad.to_numpy(g).tolist()]
out = io.StringIO()
report["cli"] = [_cli.main(["backends"], out=out), out.getvalue()]
print("REPORT" + json.dumps(report))
"""


@pytest.fixture(scope="session")
def plugin_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All throwaway plugins, installed by one pip call into one temporary target."""
    root = tmp_path_factory.mktemp("broken-plugins")
    sources = []
    for src in sorted(PLUGINS.glob("broken-*")):
        dst = root / "src" / src.name  # built from a copy: the build leaves nothing in the tree
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
        sources.append(str(dst))
    target = root / "site"
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-input"]
    cmd += ["--disable-pip-version-check", "--target", str(target), *sources]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)
    return target


@pytest.fixture(scope="session")
def report(plugin_target: Path) -> dict[str, Any]:
    """What a process with the faulty plugins installed sees (see PROBE)."""
    env = {k: v for k, v in os.environ.items() if k != _select.ENV_VAR}
    env["PYTHONPATH"] = os.pathsep.join([str(plugin_target), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    res = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join([*EXPECTED, "no_such_backend"]), ",".join(IN_TREE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("REPORT"))
    return json.loads(line[len("REPORT") :])  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_faulty_plugin_is_listed_with_status_and_reason(report: dict[str, Any], name: str) -> None:
    records = {r["name"]: r for r in report["records"]}
    assert name in records, sorted(records)
    status, parts = EXPECTED[name]
    assert records[name]["status"] == status
    for part in parts:
        assert part in records[name]["reason"], records[name]["reason"]


def test_each_name_listed_once(report: dict[str, Any]) -> None:
    names = [r["name"] for r in report["records"]]
    assert len(names) == len(set(names)), names
    assert set(IN_TREE) | set(EXPECTED) | set(TAKEOVER) <= set(names)


def test_in_tree_backends_unaffected(report: dict[str, Any]) -> None:
    records = {r["name"]: r for r in report["records"]}
    x = np.array([1.0, -2.0, 3.0])
    for name in IN_TREE:
        assert records[name]["status"] == "available", records[name]
        module, g = report["in_tree"][name]
        assert module in {"torch": ("torch",), "jax": ("jax", "jaxlib")}.get(name, ("numpy",))
        np.testing.assert_allclose(g, np.cos(x), rtol=1e-6)
    # Available backends come first, and the in-tree ones keep their priority order.
    names = [r["name"] for r in report["records"]]
    available = [r["name"] for r in report["records"] if r["status"] == "available"]
    assert names[: len(available)] == available
    assert [n for n in available if n in IN_TREE] == list(IN_TREE)
    assert names[:3] == ["torch", "jax", "autograd"], names


def test_selecting_by_name_imports_no_other_plugin(report: dict[str, Any]) -> None:
    # Before anything needed every plugin: backend="numpy", set_backend and the default for
    # NumPy inputs imported no plugin module, so a slow or exiting plugin cannot delay or stop them.
    first = report["first"]
    assert first["imported"] == []
    np.testing.assert_allclose(first["numpy"], 3 * np.array([1.0, 4.0, 9.0]), rtol=1e-6)
    assert first["set_backend"] == "numpy"
    assert first["distribution"][0] == "multiad-numpy"


def test_priority_zero_plugin_is_not_the_default(report: dict[str, Any]) -> None:
    first = report["first"]
    assert first["default"] == "torch"
    module, g = first["numpy_input"]
    assert module == "torch"
    np.testing.assert_allclose(g, [3.0, 12.0, 27.0], rtol=1e-12)  # 3 x^2, not the plugin's 6 x^2


def test_plugin_claiming_torch_is_a_conflict(report: dict[str, Any]) -> None:
    first, expected = report["first"], [3.0, 12.0, 27.0]
    for key in ("torch_inferred", "to_numpy_inferred"):
        kind, msg = first[key]
        assert kind == "BackendError", first[key]
        assert "'broken_takeover_torch' and 'torch'" in msg and "use_backend" in msg, msg
    assert first["torch_inferred"][1].startswith("grad(<lambda>): torch arrays (Tensor) are claimed by")
    assert first["to_numpy_inferred"][1].startswith("to_numpy(x): ")
    # Any explicit selection works, and selects what it names.
    assert first["torch_use_backend"] == [None, expected]
    assert first["to_numpy_use_backend"] == [None, [1.0, -2.0, 3.0]]
    assert first["torch_argument"] == [None, expected]
    assert first["takeover_argument"] == [None, [2 * v for v in expected]]
    records = {r["name"]: r for r in report["records"]}
    assert records["torch"]["conflicts"] == ["torch arrays are also claimed by 'broken_takeover_torch'"]
    assert records["broken_takeover_torch"]["conflicts"] == ["torch arrays are also claimed by 'torch'"]
    assert records["jax"]["conflicts"] == [] and records["broken_takeover_default"]["conflicts"] == []


def test_backends_table_with_faulty_plugins(report: dict[str, Any]) -> None:
    code, text = report["cli"]
    assert code == 0, text
    rows = {ln.split()[0]: ln for ln in text.splitlines()[2:] if ln and not ln.startswith(("conflict", "calls"))}
    for name, (status, _) in EXPECTED.items():
        assert rows[name].split()[1 : 1 + len(status.split())] == status.split(), rows[name]
    assert rows["torch"].split()[1] == "conflict" and rows["broken_takeover_torch"].split()[1] == "conflict"
    assert rows["jax"].split()[1] == "available"
    assert "conflict: torch arrays are claimed by 'broken_takeover_torch' and 'torch'" in text


@pytest.mark.parametrize("name", list(EXPECTED))
@pytest.mark.parametrize("how", ["set_backend", "use_backend", "grad"])
def test_selecting_faulty_plugin_raises_backend_error(report: dict[str, Any], name: str, how: str) -> None:
    seen = report["select"][name][how]
    assert seen is not None, f"{how}({name!r}) did not raise"
    kind, is_lookup, msg = seen
    status, parts = EXPECTED[name]
    assert kind == "BackendError" and is_lookup
    prefix = {"set_backend": f"set_backend({name!r}): ", "use_backend": f"use_backend({name!r}): "}
    assert msg.startswith(prefix.get(how, "grad(<lambda>): ")), msg
    assert f"backend {name!r} is {status}: " in msg, msg
    for part in parts:
        assert part in msg, msg


def test_unknown_backend_in_the_same_process(report: dict[str, Any]) -> None:
    kind, _, msg = report["select"]["no_such_backend"]["grad"]
    assert kind == "BackendError"
    assert "unknown backend 'no_such_backend'; available backends: torch, jax, autograd, " in msg
