"""A conversion that drops a derivative, under ``torch.compile``, raises NonDifferentiableError.

NOTE [Errors of f run eagerly in a traced call] in ``multiad/_prepared_traced.py``: where ``f``
breaks the graph on ``float(t)``, ``t.item()`` or ``t.tolist()`` inside a compiled transform, the
transform runs eagerly and the torch backend's refusal escaped untranslated (its internal
DroppedDerivativeError, a RuntimeError), depending on what the process had compiled before. In
a fresh process, where nothing else ran first.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("torch")

_CODE = """
import torch, multiad, multiad.numpy as mnp
multiad.set_backend("torch")
conv = {
    "float": lambda s: float(s),
    "item": lambda s: s.item(),
    "tolist": lambda s: s.tolist(),
}
calls = {
    "grad": lambda f, x: multiad.grad(f)(x),
    "value_and_grad": lambda f, x: multiad.value_and_grad(f)(x),
    "vjp": lambda f, x: multiad.vjp(f, x)[1](torch.ones((), dtype=x.dtype)),
    "jacrev": lambda f, x: multiad.jacrev(f)(x),
    "hvp": lambda f, x: multiad.hvp(f, (x,), (x,)),
}
x = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
for cname, c in conv.items():
    f = lambda x, c=c: mnp.sum(x) * c(mnp.sum(x))
    for name, call in calls.items():
        try:
            call(f, x)
            raise SystemExit(f"{name} {cname}: eager call gave no error")
        except multiad.NonDifferentiableError as e:
            want = str(e)
        for backend in ("eager", "aot_eager"):
            compiled = torch.compile(lambda x, call=call, f=f: call(f, x), backend=backend)
            for i in range(2):
                try:
                    compiled(x)
                    raise SystemExit(f"{name} {cname} {backend}: no error")
                except multiad.NonDifferentiableError as e:
                    assert str(e) == want, (name, cname, backend, str(e), want)
                except Exception as e:
                    raise SystemExit(f"{name} {cname} {backend} call {i}: {type(e).__name__}: {e}")
print("ok")
"""


def test_conversions_under_torch_compile_raise_nondifferentiable_error_in_a_fresh_process() -> None:
    run = subprocess.run([sys.executable, "-c", _CODE], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stdout[-2000:] + run.stderr[-3000:]
