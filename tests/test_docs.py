"""The executable documentation pages run, in order, on every in-tree backend.

NOTE [Executable docs]: docs/tutorial.md, docs/library-authors.md and docs/custom-rules.md are markdown whose
```python blocks form one program. The pages check their own results against closed-form
NumPy references with asserts, on each backend in ``BACKENDS``; these tests run the blocks in
order in one namespace (so a block that raises fails the test), then check that the page did
cover the four in-tree backends. The build side (``make docs``, mkdocs in strict mode) is
checked here too when mkdocs is installed, so a broken link fails the suite.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS

import multiad

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def python_blocks(page: Path) -> list[str]:
    """The page's ```python blocks, in order."""
    return FENCE.findall(page.read_text(encoding="utf-8"))


def run_page(page: Path) -> dict[str, Any]:
    """Executes the page's blocks in one namespace; returns the namespace."""
    blocks = python_blocks(page)
    assert blocks, f"{page.name} has no python blocks"
    ns: dict[str, Any] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    for i, src in enumerate(blocks):
        code = compile(src, f"{page.name} [python block {i + 1}]", "exec")
        exec(code, ns)
    return ns


def test_fence_extraction_sees_every_block() -> None:
    text = "intro\n```python\na = 1\n```\nmiddle\n```python\nb = a + 1\n```\n```sh\nnot python\n```\n"
    page = DOCS.parent / "tests" / "_fence_probe.md"
    try:
        page.write_text(text, encoding="utf-8")
        assert python_blocks(page) == ["a = 1\n", "b = a + 1\n"]
        assert run_page(page)["b"] == 2
    finally:
        page.unlink()


def test_tutorial_runs_on_every_backend(capsys: pytest.CaptureFixture[str]) -> None:
    ns = run_page(DOCS / "tutorial.md")
    assert ns["BACKENDS"] == list(BACKENDS)
    sections = {what for what, _ in ns["CHECKED"]}
    assert len(sections) >= 15, sorted(sections)
    assert {(what, name) for what in sections for name in BACKENDS} == set(ns["CHECKED"])
    printed = capsys.readouterr().out
    assert printed.count("max relative difference") == len(ns["CHECKED"])
    assert printed.count("largest difference between two backends") == len(sections)


def test_library_authors_page_runs_on_every_backend() -> None:
    ns = run_page(DOCS / "library-authors.md")
    assert sorted(ns["SOLVED"]) == sorted(BACKENDS)
    assert sorted(ns["DIFFERENTIATED"]) == sorted(BACKENDS)
    assert ns["DIFFERENTIATED"]["numpy"] == "refused"


def test_custom_rules_page_runs_on_every_backend() -> None:
    ns = run_page(DOCS / "custom-rules.md")
    assert ns["BACKENDS"] == list(BACKENDS)
    examples = {"clip_gradient", "log1pexp", "fixed_point"}
    assert {(e, name) for e in examples for name in BACKENDS} <= set(ns["CHECKED"])
    assert {("second_order", name) for name in BACKENDS if name != "numpy"} <= set(ns["CHECKED"])


def test_index_quick_example(clean_selection: None) -> None:
    ns = run_page(DOCS / "index.md")
    w, b, x = ns["w"], ns["b"], ns["x"]
    t = np.tanh(w @ x + b)
    s = 1.0 - t**2
    import torch

    assert isinstance(ns["J"], torch.Tensor)
    np.testing.assert_allclose(multiad.to_numpy(ns["J"]), s[:, None] * w, rtol=1e-12, atol=1e-12)
    assert isinstance(ns["H"], np.ndarray)  # computed inside use_backend("autograd")
    np.testing.assert_allclose(ns["H"], w.T @ np.diag(-2.0 * t * s) @ w, rtol=1e-10, atol=1e-10)


def test_api_page_says_a_generators_block_is_in_force_for_its_caller(clean_selection: None) -> None:
    # docs/api.md states, with an example run here, that a use_backend block a generator yields
    # inside stays in force for the caller until the generator resumes past it or ends
    import doctest

    text = (DOCS / "api.md").read_text(encoding="utf-8")
    start = text.index("**A `use_backend` block inside a generator")
    section = text[start : text.index("\n::: ", start)]
    assert "set_backend" in section and "around the code that consumes them" in section
    test = doctest.DocTestParser().get_doctest(section, {}, "api.md#use_backend-generators", str(DOCS / "api.md"), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False) == doctest.TestResults(failed=0, attempted=9)


def test_help_of_public_names_states_behaviour_not_internal_notes() -> None:
    # help() shows users the docstrings; "see NOTE [...]" names a comment in the source they
    # cannot read (the notes' names belong in code comments)
    import pydoc

    shown = [n for n in multiad.__all__ if not isinstance(getattr(multiad, n), (int, float, str, type(None)))]
    assert "grad" in shown and "vmap" in shown and "use_backend" in shown
    naming = [n for n in shown if "NOTE [" in pydoc.render_doc(getattr(multiad, n), renderer=pydoc.plaintext)]
    assert naming == []


def test_help_of_numpy_namespace_states_behaviour_not_internal_notes() -> None:
    # the same for multiad.numpy and multiad.numpy.linalg: help() of every public name and of
    # both modules
    import pydoc
    import types

    import multiad.numpy as mnp
    import multiad.numpy.linalg as mla

    data = (int, float, str, type(None), tuple, list, dict, set, frozenset, types.MappingProxyType)
    shown = {
        f"{mod.__name__}.{n}": getattr(mod, n)
        for mod, names in ((mnp, mnp.__all__), (mla, mla.__all__))
        for n in names
        if not isinstance(getattr(mod, n), (*data, types.ModuleType))
    }
    assert {"multiad.numpy.sum", "multiad.numpy.array", "multiad.numpy.linalg.inv"} <= shown.keys()
    assert len([n for n in shown if n.startswith("multiad.numpy.linalg.")]) >= 20
    naming = sorted(n for n, obj in shown.items() if "NOTE [" in pydoc.render_doc(obj, renderer=pydoc.plaintext))
    # help() of the modules: their docstrings and what help lists beside the public names
    naming += [mod.__name__ for mod in (mnp, mla) if "NOTE [" in pydoc.render_doc(mod, renderer=pydoc.plaintext)]
    assert naming == []


MKDOCS = shutil.which("mkdocs", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(MKDOCS is None, reason="mkdocs is not installed next to this Python")
def test_docs_build_strict(tmp_path: Path) -> None:
    """``make docs``: mkdocs in strict mode fails on any broken link, missing page or include."""
    assert MKDOCS is not None
    proc = subprocess.run(
        [MKDOCS, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for page in ("tutorial", "library-authors", "plugins", "api", "api-numpy", "migration", "capabilities"):
        assert (tmp_path / "site" / page / "index.html").exists(), page
    numpy_api = (tmp_path / "site" / "api-numpy" / "index.html").read_text(encoding="utf-8")
    import multiad.numpy as mnp

    missing = [n for n in mnp.__all__ if n != "linalg" and f"mnp.{n}<" not in numpy_api]
    assert not missing, missing
