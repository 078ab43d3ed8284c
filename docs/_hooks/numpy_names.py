"""mkdocs hook: the table of multiad.numpy's names on docs/api-numpy.md, from the live module.

NOTE [Generated numpy table]: most of multiad.numpy's functions are made by a factory
(``sin = _d("sin", "Sine")``), which static analysis (mkdocstrings' default) sees as plain
attributes. This hook imports multiad.numpy (which imports no framework) and replaces the
marker below with one row per public name and the first line of its docstring, so the page
lists every name the module exports and cannot drift from it. A second marker receives the
table of numpy names left out (``multiad.numpy.ABSENT``), grouped by reason.
"""

from __future__ import annotations

import inspect
from typing import Any

MARKER = "<!-- multiad.numpy names -->"
ABSENT_MARKER = "<!-- multiad.numpy absent names -->"


def _rows(module: Any, prefix: str) -> list[str]:
    rows = []
    for name in sorted(module.__all__):
        obj = getattr(module, name)
        if inspect.ismodule(obj):
            continue
        if name == "ABSENT":
            rows.append(f"| `{prefix}{name}` | numpy's names left out, with the reason (the table below) |")
            continue
        if isinstance(obj, type):  # NOTE [Dtype names in multiad.numpy]
            rows.append(f"| `{prefix}{name}` | numpy's dtype `np.{name}` itself, taken as a dtype on every backend |")
            continue
        if not callable(obj) or isinstance(obj, (int, float)):
            rows.append(f"| `{prefix}{name}` | constant, as in numpy (`{obj!r}`) |")
            continue
        doc = (inspect.getdoc(obj) or "").strip().splitlines()
        summary = doc[0].replace("|", "\\|") if doc else ""
        rows.append(f"| `{prefix}{name}` | {summary} |")
    return rows


def _absent_rows(absent: dict[str, str]) -> list[str]:
    by_reason: dict[str, list[str]] = {}
    for name, reason in absent.items():
        by_reason.setdefault(reason, []).append(name)
    rows = ["| reason | numpy names |", "|---|---|"]
    for reason, names in by_reason.items():
        rows.append(f"| {reason} | {', '.join(f'`{n}`' for n in sorted(names))} |")
    return rows


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if MARKER not in markdown:
        return markdown
    import multiad.numpy as mnp

    lines = ["| name | what it does |", "|---|---|"]
    lines += _rows(mnp, "mnp.") + _rows(mnp.linalg, "mnp.linalg.")
    markdown = markdown.replace(MARKER, "\n".join(lines))
    return markdown.replace(ABSENT_MARKER, "\n".join(_absent_rows(mnp.ABSENT)))
