"""The in-tree backends use multiad as a third-party plugin can: through its public names.

multiad's own backends are plugins like any other (docs/plugins.md); what one of them needs from
the core belongs in the plugin API (``multiad.Backend`` and the names ``multiad`` exports), so
that a backend outside the repository can do the same. This test reads the backends' source and
lists every reach into a private part of multiad (a module or name starting with ``_``): an
import, an attribute read, or a module name looked up as a string (``sys.modules.get``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import multiad

BACKENDS = Path(__file__).resolve().parent.parent / "backends"

#: Private reaches that remain, each to be replaced by a public name of the plugin API (an entry
#: that is no longer there fails the test, so the list only shrinks). Keyed by the file relative
#: to backends/ and the dotted name reached. None remain: what a backend needs from the core is
#: in the plugin API (the custom rule's ``refuse_closed_over`` and ``transposing``,
#: ``Backend.numpy_function``, ``Backend.load_imported``).
KNOWN: set[tuple[str, str]] = set()

_DOTTED = re.compile(r"multiad(\.\w+)+")


def _private(dotted: str) -> bool:
    return dotted.split(".")[0] == "multiad" and any(part.startswith("_") for part in dotted.split(".")[1:])


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for an attribute chain rooted at a plain name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def private_reaches(source: str) -> set[str]:
    """The dotted names of private parts of multiad that ``source`` imports or reads."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and not node.level:
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Attribute):
            name = _dotted(node)
            if name is not None:
                found.add(name)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _DOTTED.fullmatch(node.value):
            found.add(node.value)
    return {name for name in found if _private(name)}


def test_the_scan_sees_each_way_of_reaching_a_private_module() -> None:
    source = (
        "import sys\nimport multiad\nimport multiad._plan\nfrom multiad import _select, grad\n"
        "from multiad._arrays import named_integers\nfrom . import _local\n"
        "sys.modules.get('multiad._prepared_traced')\nmultiad._registry.get('torch')\nmultiad.Backend.name\n"
        "'see multiad/_prepared_traced.py'\n"
    )
    assert private_reaches(source) == {
        "multiad._plan",
        "multiad._select",
        "multiad._arrays.named_integers",
        "multiad._prepared_traced",
        "multiad._registry",
        "multiad._registry.get",
    }


def test_backends_reach_no_private_part_of_multiad_but_the_known_ones() -> None:
    seen = set()
    for path in sorted(BACKENDS.rglob("*.py")):
        rel = path.relative_to(BACKENDS).as_posix()
        seen.update((rel, name) for name in private_reaches(path.read_text()))
    # Attribute chains under an imported private name count once, at the import.
    seen = {(rel, name) for rel, name in seen if not any(k == rel and name.startswith(f"{n}.") for k, n in seen)}
    assert seen - KNOWN == set(), "a backend reaches into multiad's private modules; add a public name instead"
    assert KNOWN - seen == set(), "these private reaches are gone: remove them from KNOWN"


def test_torch_backend_reads_the_callbacks_through_the_plugin_api() -> None:
    # NOTE [Callbacks run eagerly after a graph break] in the torch backend's _callbacks.py: it read
    # multiad._prepared_traced.CALLBACK_CODES through sys.modules, which a third-party backend could
    # not do; multiad.Backend.traced_callbacks() gives the same code objects.
    for path in (BACKENDS / "torch").rglob("*.py"):
        assert not any("_prepared" in name for name in private_reaches(path.read_text())), path
    names = [code.co_name for code in multiad.Backend.traced_callbacks()]
    # The traced calls' three (scalar_of's, outputs_of's, second_order's: NOTE [The traced
    # second-order call in one function]), then the prepared call's (NOTE [Errors of f's output
    # after a failed trace]).
    assert names == ["scalar", "outputs", "scalar", "structured", "outputs", "checked", "scalar"]
