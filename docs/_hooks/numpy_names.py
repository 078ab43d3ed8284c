"""mkdocs hook: the table of multiad.numpy's names on docs/api-numpy.md, from the live module.

NOTE [Generated numpy table]: most of multiad.numpy's functions are made by a factory
(``sin = _d("sin", "Sine")``), which static analysis (mkdocstrings' default) sees as plain
attributes. This hook imports multiad.numpy (which imports no framework) and replaces the
marker below with one row per public name and the first line of its docstring, so the page
lists every name the module exports and cannot drift from it.
"""

from __future__ import annotations

import inspect
from typing import Any

MARKER = "<!-- multiad.numpy names -->"


def _rows(module: Any, prefix: str) -> list[str]:
    rows = []
    for name in sorted(module.__all__):
        obj = getattr(module, name)
        if inspect.ismodule(obj):
            continue
        doc = (inspect.getdoc(obj) or "").strip().splitlines()
        summary = doc[0].replace("|", "\\|") if doc else ""
        rows.append(f"| `{prefix}{name}` | {summary} |")
    return rows


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if MARKER not in markdown:
        return markdown
    import multiad.numpy as mnp

    lines = ["| name | what it does |", "|---|---|"]
    lines += _rows(mnp, "mnp.") + _rows(mnp.linalg, "mnp.linalg.")
    return markdown.replace(MARKER, "\n".join(lines))
