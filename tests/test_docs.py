"""The executable documentation pages run, in order, on every in-tree backend.

NOTE [Executable docs]: docs/tutorial.md and docs/library-authors.md are markdown whose
```python blocks form one program. The pages check their own results against closed-form
NumPy references with asserts, on each backend in ``BACKENDS``; these tests run the blocks in
order in one namespace (so a block that raises fails the test), then check that the page did
cover the four in-tree backends. The build side (``make docs``, mkdocs in strict mode) is
checked here too when mkdocs is installed, so a broken link fails the suite.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import BACKENDS

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
