"""mkdocs hook: benchmark plots on a page, by file-name pattern.

NOTE [Benchmark plots by pattern]: the plots under docs/benchmarks/ are written by
``make bench`` (benchmarks/report.py), with file names derived from the workload names. A page
asks for them with a marker such as ``<!-- benchmark plots: time-tall-*.png time-wide-*.png -->``;
this hook replaces the marker with one image per matching file, in sorted order. A pattern that
matches nothing is logged as a warning, which fails ``mkdocs build --strict``: a page never
silently loses its plots.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.benchmark_plots")
MARKER = re.compile(r"<!-- benchmark plots: (?P<patterns>[^>]*?) -->")


def on_page_markdown(markdown: str, page: Any, config: Any, **kwargs: Any) -> str:
    folder = Path(config["docs_dir"]) / "benchmarks"
    depth = page.file.src_uri.count("/")

    def images(match: re.Match[str]) -> str:
        lines = []
        for pattern in match.group("patterns").split():
            found = sorted(folder.glob(pattern))
            if not found:
                log.warning(f"{page.file.src_uri}: no benchmark plot matches docs/benchmarks/{pattern}; run make bench")
            for png in found:
                title = png.stem.replace("--", " to ").replace("-", " ")
                lines.append(f"![{title}]({'../' * depth}benchmarks/{png.name})")
        return "\n\n".join(lines)

    return MARKER.sub(images, markdown)
