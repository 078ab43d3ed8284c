"""The jax backend with x64 off narrows 64-bit numpy data: int64 and uint64 data that does not
fit 32 bits raises (JAX would wrap ``2**40 + 3`` around to ``3``), data that fits converts
exactly, and complex128 warns as float64 does (NOTE [64-bit integers without x64] and NOTE
[float64 input without x64] in backends/jax). A warning a filter turns into an error raises on
every call, not on the first only. Run in fresh processes: the test session enables x64."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("jax")

PRELUDE = r"""
import json, warnings
import numpy as np
import multiad, multiad.numpy as mnp

def outcome(call):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            r = call()
            res = {"value": np.asarray(r).tolist(), "dtype": str(r.dtype)}
        except Exception as e:
            res = {"error": type(e).__name__, "message": str(e)}
    res["warnings"] = [str(q.message) for q in w if issubclass(q.category, multiad.AccuracyWarning)]
    return res
"""


def _run(body: str) -> object:
    script = PRELUDE + body + "\nprint('RESULT' + json.dumps(RESULT, default=str))\n"
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("RESULT"))
    return json.loads(line[len("RESULT") :])


BIG = 2**40 + 3
CALLS = {
    "asarray(x): ": "lambda: multiad.asarray(DATA, backend='jax')",
    "vmap(<lambda>): ": "lambda: multiad.vmap(lambda a: a * 1, backend='jax')(DATA)",
    "grad(<lambda>): ": "lambda: multiad.grad(lambda v, n: mnp.sum(v) * mnp.sum(n), backend='jax')"
    "(np.ones(2, np.float32), DATA)",
}


@pytest.mark.parametrize(
    ("data", "bad"),
    [(f"np.array([{BIG}, 5])", BIG), (f"np.array([5, -{BIG}])", -BIG), ("np.array([2**33], np.uint64)", 2**33)],
)
def test_64_bit_integers_beyond_32_bits_raise(data: str, bad: int) -> None:
    calls = ", ".join(call.replace("DATA", data) for call in CALLS.values())
    results = _run(f"RESULT = [outcome(c) for c in [{calls}]]")
    for start, res in zip(CALLS, results):  # type: ignore[call-overload]
        assert res.get("error") == "InvalidArgumentError", res  # JAX: [3, 5], silently
        msg = res["message"]
        assert msg.startswith(start) and str(bad) in msg, msg
        assert 'jax.config.update("jax_enable_x64", True)' in msg and "convert" in msg, msg


def test_64_bit_integers_that_fit_convert_exactly() -> None:
    n = [2**31 - 1, -(2**31), 7]
    body = f"""
n = np.array({n}, np.int64)
RESULT = [outcome(lambda: multiad.asarray(n, backend='jax')),
          outcome(lambda: multiad.asarray(np.array([2**32 - 1], np.uint64), backend='jax')),
          outcome(lambda: multiad.grad(lambda v, k: mnp.sum(v * (k % 5)), backend='jax')(np.ones(3, np.float32), n)),
          outcome(lambda: multiad.asarray(np.array([{BIG}]), backend='jax', dtype='float32'))]
"""
    as_int, as_uint, grad, as_float = _run(body)  # type: ignore[misc]
    assert as_int == {"value": n, "dtype": "int32", "warnings": []}
    assert as_uint == {"value": [2**32 - 1], "dtype": "uint32", "warnings": []}
    assert grad["value"] == [float(k % 5) for k in n] and not grad["warnings"]  # d/dv sum(v * (k % 5))
    assert as_float["value"] == [float(np.float32(BIG))], as_float  # an explicit dtype: numpy's cast


def test_complex128_warns_once_as_float64_does() -> None:
    body = """
z = np.array([1 + 1e-9j])
RESULT = [outcome(lambda: multiad.asarray(z, backend='jax')),
          outcome(lambda: multiad.vmap(lambda a: a * 1, backend='jax')(z)),
          outcome(lambda: multiad.asarray(np.ones(2), backend='jax'))]
"""
    first, second, float64 = _run(body)  # type: ignore[misc]
    assert first["dtype"] == "complex64"
    assert len(first["warnings"]) == 1, first
    msg = first["warnings"][0]
    assert msg.startswith("asarray(x): a complex128 numpy array is computed in complex64 because JAX's x64 mode is off")
    assert 'jax.config.update("jax_enable_x64", True)' in msg
    assert not second["warnings"]  # once per process
    assert len(float64["warnings"]) == 1 and "float64" in float64["warnings"][0]  # its own warning


def test_warning_made_an_error_raises_on_every_call() -> None:
    body = """
warnings.simplefilter("error", multiad.AccuracyWarning)
x = np.array([0.3, 1.7])
RESULT = []
for _ in range(3):
    try:
        g = multiad.grad(lambda v: mnp.sum(mnp.sin(v)), backend='jax')(x)
        RESULT.append(str(g.dtype))
    except multiad.AccuracyWarning as e:
        RESULT.append("raised: " + str(e))
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    multiad.grad(lambda v: mnp.sum(mnp.sin(v)), backend='jax')(x)
    multiad.grad(lambda v: mnp.sum(mnp.sin(v)), backend='jax')(x)
RESULT.append(len(w))
"""
    results = _run(body)
    # before: the first call raised, the next two returned float32 silently
    assert all(r.startswith("raised: grad(<lambda>): a float64 numpy array") for r in results[:3]), results
    assert results[3] == 1, results  # shown once, then once per process again
