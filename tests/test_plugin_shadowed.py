"""A plugin module shadowed by a directory of the same name (a namespace package) is named as
the likely cause in the broken backend's reason, with the fix (NOTE [Shadowed plugin modules])."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from multiad._registry import shadowed

PROBE = """
import multiad
try:
    multiad.set_backend("shadowdemo")
except multiad.BackendError as exc:
    print(exc)
"""


def _layout(tmp_path: Path) -> tuple[Path, Path]:
    """A plugin's entry point (site/) and its project directory, which holds multiad_shadowdemo/."""
    site, project = tmp_path / "site", tmp_path / "project"
    info = site / "multiad_shadowdemo-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: multiad-shadowdemo\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[multiad.backends]\nshadowdemo = multiad_shadowdemo:DemoBackend\n")
    # No module file in site/: an editable install (pip install -e) finds its module through a
    # finder that sys.meta_path asks after the path finder, which has already returned the
    # namespace package, as the TensorFlow plugin's author met it.
    (project / "multiad_shadowdemo").mkdir(parents=True)
    (project / "multiad_shadowdemo" / "multiad_shadowdemo.py").write_text("# the plugin's source, no __init__.py\n")
    return site, project


def test_shadowing_directory_is_named_with_the_fix(tmp_path: Path) -> None:
    site, project = _layout(tmp_path)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    run = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )
    out = run.stdout + run.stderr
    assert "module 'multiad_shadowdemo' has no attribute 'DemoBackend'" in out, out
    assert "'multiad_shadowdemo' was imported as a namespace package from" in out, out
    assert str(project / "multiad_shadowdemo") in out, out
    assert "a directory named multiad_shadowdemo without __init__.py on sys.path" in out, out
    assert "run from another directory, or give the plugin a src/ layout" in out, out


def test_an_ordinary_module_is_not_called_shadowed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "multiad_plain_mod.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import multiad_plain_mod  # noqa: F401

    assert shadowed("multiad_plain_mod", AttributeError("no attribute 'Backend'")) == ""
    assert shadowed("multiad_never_imported", AttributeError("no attribute 'Backend'")) == ""
