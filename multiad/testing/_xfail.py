"""Known failures (``--multiad-xfails FILE``): what each entry may excuse, and nothing more.

NOTE [Expected failures]: an entry is ``ITEM-ID-PATTERN EXPECTED``: an fnmatch pattern over item
ids and the failure it expects, a substring of the failure's message (an exception type such as
``NonDifferentiableError`` is part of that message). An item the pattern matches is

- ``xfailed`` when it fails with a message that contains EXPECTED;
- ``failed`` when it fails any other way, and always when its values deviate from the
  reference: a wrong number is never an expected failure, whatever the entry says;
- ``xpassed`` when it passes; like pytest's strict xfail, an xpass fails certification (the
  entry is stale: remove it).
"""

from __future__ import annotations

import dataclasses
import fnmatch
from typing import Any


@dataclasses.dataclass(frozen=True)
class XFail:
    pattern: str
    expected: str
    where: str = ""

    def matches(self, item_id: str) -> bool:
        return fnmatch.fnmatchcase(item_id, self.pattern)


def parse(lines: list[str], source: str) -> list[XFail]:
    """Entries of an xfails file; ValueError for a line without an expected failure."""
    entries = []
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pattern, _, expected = line.partition(" ")
        if not expected.strip():
            raise ValueError(
                f"--multiad-xfails {source}:{n}: give the expected failure (a substring of its message, or an "
                f"exception type) after the item id: {line!r}"
            )
        entries.append(XFail(pattern, expected.strip(), f"{source}:{n}"))
    return entries


def read(path: str) -> list[XFail]:
    with open(path, encoding="utf-8") as fh:
        return parse(fh.read().splitlines(), path)


def find(item_id: str, entries: list[XFail]) -> XFail | None:
    return next((e for e in entries if e.matches(item_id)), None)


def apply(rec: dict[str, Any], entry: XFail) -> dict[str, Any]:
    """``rec`` with the entry's verdict (NOTE [Expected failures])."""
    rec = dict(rec, xfail=entry.expected)
    status, reason = rec["status"], rec.get("reason", "")
    if status == "skipped":
        return rec
    if status == "passed":
        rec["status"] = "xpassed"
        rec["reason"] = f"XPASS: expected to fail with {entry.expected!r} ({entry.where}) but passed; remove the entry"
    elif rec.get("failure") == "values":
        rec["reason"] = f"a value mismatch is never an expected failure (entry {entry.where}): {reason}"
    elif entry.expected in reason:
        rec["status"] = "xfailed"
    else:
        rec["reason"] = f"failed otherwise than expected ({entry.expected!r}, {entry.where}): {reason}"
    return rec
