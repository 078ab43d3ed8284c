"""A compiled program that is the process's first use of multiad (NOTE [Probes defined before a
trace asks them] in multiad/_ops.py): each case runs in a new interpreter, where no backend has
been imported yet, and is compared with numpy."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")

_SCRIPT = """
import json, sys, warnings
import torch
import multiad, multiad.numpy as mnp
from multiad import _select
warnings.simplefilter("ignore")

def program(x):
    first = {first}
    return first, _select.compiling()

compiled = torch.compile(program, fullgraph=True)
x = torch.tensor([1.0, 4.0, 2.0], dtype=torch.float64)
value, traced = compiled(x)
print(json.dumps({{"value": value.tolist(), "traced": traced}}))
"""

CASES = {
    "mnp.nanmax(x)": 4.0,  # warns on an all-nan slice: a data-dependent branch unless traced is known
    "mnp.sum(x * x)": 21.0,
    "mnp.mean(x)": 7.0 / 3.0,
}


@pytest.mark.parametrize("first", sorted(CASES))
def test_a_compiled_mnp_program_first_in_the_process(first: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.pop("MULTIAD_BACKEND", None)
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT.format(first=first)], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(out["value"], CASES[first], rtol=1e-12)
    assert out["traced"] is True, "after an mnp call, multiad no longer knew that torch.compile traces the call"
