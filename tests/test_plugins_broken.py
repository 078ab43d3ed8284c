"""Faulty plugins are listed with their status and never break the other backends.

NOTE [Throwaway plugins]: ``tests/plugins/broken-*/`` are small distributions, each faulty in
one way (raises on import, names an object that is not a backend, declares another plugin API
version, two distributions claiming one name, a framework that is not installed). One pip call
installs them all into a temporary target once per session; a subprocess with that target on
PYTHONPATH then lists the backends, selects each faulty one and uses the in-tree ones, and
reports what it saw as JSON. Run-time registration (``register_backend``) is tested in-process,
with the registry restored afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp
from multiad import _registry, _select
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
}  # fmt: skip

PROBE = r"""
import json, sys
import numpy as np
import multiad, multiad.numpy as mnp

report = {"records": [], "select": {}, "in_tree": {}}
for r in multiad.list_backends():
    report["records"].append({"name": r.name, "status": r.status, "reason": r.reason,
                              "distribution": r.distribution})
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
x = np.array([1.0, -2.0, 3.0])
for name in sys.argv[2].split(","):
    g = multiad.grad(lambda v: mnp.sum(mnp.sin(v)), backend=name)(x)
    report["in_tree"][name] = [type(g).__module__.split(".")[0], multiad.to_numpy(g).tolist()]
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
    assert res.returncode == 0, res.stderr
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
    assert set(IN_TREE) | set(EXPECTED) <= set(names)


def test_in_tree_backends_unaffected(report: dict[str, Any]) -> None:
    records = {r["name"]: r for r in report["records"]}
    x = np.array([1.0, -2.0, 3.0])
    for name in IN_TREE:
        assert records[name]["status"] == "available", records[name]
        module, g = report["in_tree"][name]
        assert module in {"torch": ("torch",), "jax": ("jax", "jaxlib")}.get(name, ("numpy",))
        np.testing.assert_allclose(g, np.cos(x), rtol=1e-6)
    # Available backends come first, in priority order, whatever the plugins did.
    assert [r["name"] for r in report["records"][:4]] == list(IN_TREE)


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
    assert "unknown backend 'no_such_backend'; available backends: torch, jax, autograd, numpy" in msg


# -- register_backend at run time ---------------------------------------------------------------


@pytest.fixture
def registry() -> Iterator[None]:
    """The registry as it was before the test, restored afterwards."""
    _registry.records()  # discover first, so that restoring does not hide the entry points
    records, modules = dict(_registry._records), dict(_registry._module_map)
    try:
        yield
    finally:
        with _registry._lock:
            _registry._records.clear()
            _registry._records.update(records)
            _registry._module_map.clear()
            _registry._module_map.update(modules)


def numpy_class() -> type[multiad.Backend]:
    return type(_registry.get("numpy"))


def make(name: str, **attrs: Any) -> type[multiad.Backend]:
    base = numpy_class()
    return type("Runtime", (base,), {"name": name, "__module__": __name__, **attrs})


@pytest.mark.usefixtures("registry")
def test_register_backend_then_use_it() -> None:
    cls = make("rt_fd")
    obj = multiad.register_backend("rt_fd", cls)
    assert isinstance(obj, cls)
    rec = {r.name: r for r in multiad.list_backends()}["rt_fd"]
    assert rec.status == "available" and rec.source == "register_backend"
    x = np.array([0.5, 1.5])
    g = multiad.grad(lambda v: mnp.sum(v**3), backend="rt_fd")(x)
    np.testing.assert_allclose(multiad.to_numpy(g), 3 * x**2, rtol=1e-6)
    with multiad.use_backend("rt_fd"):
        assert multiad.get_backend() is obj


@pytest.mark.usefixtures("registry")
def test_register_duplicate_name_needs_replace() -> None:
    first = multiad.register_backend("rt_dup", make("rt_dup"))
    with pytest.raises(multiad.BackendError) as info:
        multiad.register_backend("rt_dup", make("rt_dup"))
    msg = str(info.value)
    assert msg.startswith("register_backend('rt_dup', ...): a backend named 'rt_dup' is already registered")
    assert "pass replace=True" in msg
    assert _registry.get("rt_dup") is first
    second = multiad.register_backend("rt_dup", make("rt_dup"), replace=True)
    assert second is not first and _registry.get("rt_dup") is second
    # An in-tree name is protected the same way.
    with pytest.raises(multiad.BackendError, match=r"^register_backend\('numpy', \.\.\.\): a backend named 'numpy'"):
        multiad.register_backend("numpy", make("numpy"))
    assert type(_registry.get("numpy")) is numpy_class()


class Failing(multiad.Backend):
    name: ClassVar[str] = "rt_bad"
    has_vjp: ClassVar[bool] = True

    def __init__(self) -> None:
        raise RuntimeError("no device")


INVALID = [
    ("object", lambda: object(), ["gave object object", "not a multiad.Backend subclass or instance"]),
    ("class", lambda: int, ["gave type object", "not a multiad.Backend"]),
    ("constructor", lambda: Failing, ["constructing Failing raised RuntimeError: no device"]),
    ("api", lambda: make("rt_bad", api_version=API_VERSION + 1), [f"plugin API version {API_VERSION + 1}", "install a version of the plugin"]),
    ("primitives", lambda: make("rt_bad", has_vjp=False, has_jvp=False), ["declares neither has_vjp nor has_jvp"]),
    ("name", lambda: make("other"), ["registered as 'rt_bad' but the backend calls itself 'other'"]),
    ("framework", lambda: make("rt_bad", framework="multiad_no_such_framework"), ["'multiad_no_such_framework' is not installed"]),
]  # fmt: skip


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(("what", "obj", "parts"), INVALID, ids=[i[0] for i in INVALID])
def test_register_invalid_names_the_plugin(what: str, obj: Any, parts: list[str]) -> None:
    with pytest.raises(multiad.BackendError) as info:
        multiad.register_backend("rt_bad", obj())
    msg = str(info.value)
    assert msg.startswith("register_backend('rt_bad', ...): "), msg
    for part in parts:
        assert part in msg, msg
    assert "rt_bad" not in [r.name for r in multiad.list_backends()]
    # Nothing else was disturbed.
    g = multiad.grad(lambda v: mnp.sum(v * v), backend="numpy")(np.array([1.0, 2.0]))
    np.testing.assert_allclose(multiad.to_numpy(g), [2.0, 4.0], rtol=1e-6)


@pytest.mark.parametrize("name", ["", 3, None])
def test_register_needs_a_name(name: Any) -> None:
    with pytest.raises(multiad.BackendError, match=r"the name must be a non-empty string"):
        multiad.register_backend(name, make("x"))
