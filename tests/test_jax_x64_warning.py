"""The jax backend's warning for float64 input with x64 off starts with the call that converted
the array, as every AccuracyWarning does (NOTE [Conversions name their call] in
multiad/_backend.py), and is shown once per process (NOTE [float64 input without x64] in
backends/jax). Run in fresh processes: the test session enables x64, and the warning is once
per process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("jax")

SCRIPT = r"""
import json, warnings
import numpy as np
import multiad, multiad.numpy as mnp

def sumsq(x):
    return mnp.sum(x ** 2)

x = np.array([1.0, 2.0])
seen = []
for first in FIRST:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        first()
    seen.append([str(q.message) for q in w if issubclass(q.category, multiad.AccuracyWarning)])
print("RESULT" + json.dumps(seen))
"""

CASES = {
    # what runs, in order: the messages each one warned
    "grad": "[lambda: multiad.grad(sumsq, backend='jax')(x), lambda: multiad.jacfwd(sumsq, backend='jax')(x),"
    " lambda: multiad.asarray(x, backend='jax')]",
    "asarray": "[lambda: multiad.asarray(x, backend='jax'), lambda: multiad.grad(sumsq, backend='jax')(x)]",
    "vmap": "[lambda: multiad.vmap(lambda v: v * 2.0, backend='jax')(x)]",
    # a Python float is a float64 0-d array (NOTE [Python float arguments] in multiad/_arrays.py)
    "python_float": "[lambda: multiad.grad(lambda z: z ** 2, backend='jax')(1.0 + 1e-7), lambda: multiad.grad(sumsq, backend='jax')(x)]",
}
STARTS = {
    "grad": "grad(sumsq): ",
    "asarray": "asarray(x): ",
    "vmap": "vmap(<lambda>): ",
    "python_float": "grad(<lambda>): ",
}


def _run(case: str) -> list[list[str]]:
    script = SCRIPT.replace("FIRST", CASES[case])
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("RESULT"))
    return json.loads(line[len("RESULT") :])  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", sorted(CASES))
def test_x64_warning_names_the_call_once_per_process(case: str) -> None:
    seen = _run(case)
    first, rest = seen[0], seen[1:]
    assert len(first) == 1, seen
    msg = first[0]
    assert msg.startswith(STARTS[case] + "a float64 numpy array or Python float is computed in float32"), msg
    assert 'jax.config.update("jax_enable_x64", True)' in msg and "once per process" in msg
    assert all(not later for later in rest), seen  # once per process
