"""``import multiad`` imports no framework (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

FRAMEWORKS = ("torch", "jax", "jaxlib", "autograd")

CHILD = """
import json, sys
{imports}
print(json.dumps(sorted(m for m in sys.modules if m.partition(".")[0] in {frameworks!r})))
"""


def imported_frameworks(imports: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "MULTIAD_BACKEND"}
    code = CHILD.format(imports=imports, frameworks=FRAMEWORKS)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "imports",
    [
        "import multiad",
        "import multiad.numpy",
        "import multiad, multiad.numpy; multiad.list_backends()",
        "import multiad, multiad.numpy as mnp, numpy as np; multiad.grad(lambda x: mnp.sum(x * x), backend='numpy')(np.ones(2))",
    ],
)
def test_no_framework_imported(imports: str) -> None:
    assert imported_frameworks(imports) == []


def test_the_check_can_fail() -> None:
    """The same child process does see a framework once one is used."""
    assert "torch" in imported_frameworks("import multiad, numpy as np; multiad.asarray(np.ones(2), backend='torch')")
