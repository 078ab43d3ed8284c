"""Custom rules around and under torch.compile, against closed forms.

- A multiad transform of a compiled function that calls custom functions (NOTE [Rules applied
  under a transform of a compiled function] in the torch backend's ``_custom.py``): the order of
  the calls mattered, so each order runs in a new interpreter.
- ``multiad.vmap`` of a custom function under torch.compile (NOTE [Custom functions under a
  compiled vmap]): refused with grad mode on, with a message that says why; evaluated under
  ``torch.no_grad()``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import multiad  # noqa: E402
import multiad.numpy as mnp  # noqa: E402

_SCRIPT = """
import functools, json, sys, warnings
import numpy as np
import torch
import multiad, multiad.numpy as mnp
warnings.simplefilter("ignore")

@functools.partial(multiad.custom_vjp, nondiff_argnums=(0,))
def powk(k, x):
    return x ** k
powk.defvjp(lambda k, x: (x ** k, x), lambda k, x, g: (g * k * x ** (k - 1),))

@multiad.custom_vjp
def vsin(x):
    return mnp.sin(x)
vsin.defvjp(lambda x: (mnp.sin(x), (x,)), lambda r, g: (g * mnp.cos(r[0]),))

@functools.partial(multiad.custom_jvp, nondiff_argnums=(0,))
def scale(k, x):
    return k * mnp.exp(x)
@scale.defjvp
def _(k, primals, tangents):
    return scale(k, primals[0]), k * mnp.exp(primals[0]) * tangents[0]

def compiled(f):
    return torch.compile(f, backend="aot_eager")

x = torch.tensor([0.3, -1.2, 2.5], dtype=torch.float64)
CASES = {
    "vsin": lambda: multiad.grad(compiled(lambda z: mnp.sum(vsin(z))))(x),
    "powk": lambda: multiad.grad(compiled(lambda z: mnp.sum(powk(3, z))))(x),
    "scale": lambda: multiad.grad(compiled(lambda z: mnp.sum(scale(2.0, z))))(x),
    "jacrev powk": lambda: multiad.jacrev(compiled(lambda z: powk(3, z)))(x),
    "torch.func.grad vsin": lambda: torch.func.grad(compiled(lambda z: mnp.sum(vsin(z))))(x),
}
out = {}
for name in sys.argv[1:]:
    try:
        out[name] = CASES[name]().tolist()
    except Exception as exc:
        out[name] = f"{type(exc).__name__}: {str(exc)[:300]}"
print(json.dumps(out))
"""

_X = np.array([0.3, -1.2, 2.5])
CLOSED = {
    "vsin": np.cos(_X),
    "powk": 3 * _X**2,
    "scale": 2 * np.exp(_X),
    "jacrev powk": np.diag(3 * _X**2),
    "torch.func.grad vsin": np.cos(_X),
}

ORDERS = {
    "vjp rules, the plain one first": ["vsin", "powk", "jacrev powk"],
    "vjp rules, the nondiff one first": ["powk", "vsin", "torch.func.grad vsin"],
    "a jvp rule between": ["vsin", "scale", "powk"],
}


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_transforms_of_compiled_functions_apply_each_rule(order: str) -> None:
    # multiad.grad(torch.compile(f)) with a custom function in f failed torch's internal
    # assertion "dynamicLayerStack.size() >= level" once another compiled function had applied a
    # custom rule in the process (NOTE [Rules applied under a transform of a compiled function]).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.pop("MULTIAD_BACKEND", None)
    names = ORDERS[order]
    done = subprocess.run([sys.executable, "-c", _SCRIPT, *names], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    for name in names:
        assert not isinstance(out[name], str), f"{name}: {out[name]}"
        np.testing.assert_allclose(out[name], CLOSED[name], rtol=1e-12, err_msg=name)


@multiad.custom_vjp
def _sin7(x: Any) -> Any:
    """``sin(x)``, whose rule gives 7 where the function's derivative is ``cos(x)``."""
    return mnp.sin(x)


_sin7.defvjp(lambda x: (mnp.sin(x), None), lambda _, g: (g * 0.0 + 7.0,))

_XS = torch.tensor([[0.3, -1.2, 2.5], [1.1, 0.4, -0.7]], dtype=torch.float64)


def _vmapped(xs: Any) -> Any:
    return multiad.vmap(_sin7, backend="torch")(xs)


def test_a_compiled_vmap_of_a_custom_function_is_refused_saying_why() -> None:
    # It said "torch.compile of a multiad transform drops a custom rule's derivative ... call the
    # transform without torch.compile", as if vmap differentiated.
    torch._dynamo.reset()
    with pytest.raises(Exception, match="refused while grad mode is on, although vmap differentiates nothing") as info:
        torch.compile(_vmapped, backend="aot_eager", fullgraph=True)(_XS)
    assert "torch.no_grad()" in str(info.value)


@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_a_compiled_vmap_of_a_custom_function_under_no_grad(backend: str) -> None:
    torch._dynamo.reset()
    with torch.no_grad():
        got = torch.compile(_vmapped, backend=backend, fullgraph=True)(_XS)
    np.testing.assert_allclose(got.numpy(), np.sin(_XS.numpy()), rtol=1e-12)


def test_a_compiled_vmap_of_a_custom_function_without_fullgraph_applies_the_rule() -> None:
    # Run uncompiled by torch (the refusal is a graph break): the rule's 7, not cos(x).
    torch._dynamo.reset()
    xs = _XS.clone().requires_grad_()
    out = torch.compile(_vmapped, backend="aot_eager")(xs)
    np.testing.assert_allclose(out.detach().numpy(), np.sin(_XS.numpy()), rtol=1e-12)
    out.sum().backward()
    assert xs.grad is not None
    np.testing.assert_allclose(xs.grad.numpy(), np.full((2, 3), 7.0), rtol=0)
