"""multiad's transforms compiled themselves, ``torch.compile(multiad.grad(f), fullgraph=True,
dynamic=True)``, as the first compile of a new interpreter (NOTE [A token the compiler keeps
constant] in multiad/_prepared_traced.py): one graph, called at two shapes without a second
trace, each value against its closed form."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")

_SCRIPT = """
import json, warnings
import torch
from torch._dynamo.testing import CompileCounter
import multiad
warnings.simplefilter("ignore")

def f(x):
    return torch.sum(torch.sin(x) ** 2)

def fv(x):
    return torch.sin(x) ** 2

def rows(w, x):
    return torch.sum(torch.sin(w * x))

W = torch.tensor(1.7, dtype=torch.float64)
counter = CompileCounter()
compiled = torch.compile({target}, fullgraph=True, dynamic=True, backend=counter)
got = []
for n in (5, 7):
    x = torch.linspace(-1.0, 1.3, n, dtype=torch.float64)
    v = torch.linspace(0.5, -0.7, n, dtype=torch.float64)
    res = compiled({args})
    res = {post}
    got.append([r.tolist() for r in res] if isinstance(res, tuple) else res.tolist())
print(json.dumps({{"got": got, "frames": counter.frame_count}}))
"""

#: name -> (what is compiled, its arguments, what is made of its result, the closed form of (x, v)).
CASES = {
    "grad": ("multiad.grad(f)", "x", "res", lambda x, v: np.sin(2 * x)),
    "value_and_grad": (
        "multiad.value_and_grad(f)",
        "x",
        "res",
        lambda x, v: (np.sum(np.sin(x) ** 2), np.sin(2 * x)),
    ),
    "jacrev": ("multiad.jacrev(fv)", "x", "res", lambda x, v: np.diag(np.sin(2 * x))),
    "jacfwd": ("multiad.jacfwd(fv)", "x", "res", lambda x, v: np.diag(np.sin(2 * x))),
    "jacobian": ("multiad.jacobian(fv)", "x", "res", lambda x, v: np.diag(np.sin(2 * x))),
    "hessian": ("multiad.hessian(f)", "x", "res", lambda x, v: np.diag(2 * np.cos(2 * x))),
    "vmap": ("multiad.vmap(fv)", "x", "res", lambda x, v: np.sin(x) ** 2),
    "vmap in_dims": (
        "multiad.vmap(rows, in_dims=(None, 0))",
        "W, torch.stack([x, 2 * x])",
        "res",
        lambda x, v: np.array([np.sin(1.7 * x).sum(), np.sin(3.4 * x).sum()]),
    ),
    "vmap out_dims": (
        "multiad.vmap(fv, in_dims=-1, out_dims=1, chunk_size=2)",
        "torch.stack([x, 2 * x], 1)",
        "res",
        lambda x, v: np.stack([np.sin(x) ** 2, np.sin(2 * x) ** 2], 1),
    ),
    "hvp": ("multiad.hvp", "f, (x,), (v,)", "res", lambda x, v: (2 * np.cos(2 * x) * v,)),
    "vhp": ("multiad.vhp", "f, (x,), (v,)", "res", lambda x, v: (2 * np.cos(2 * x) * v,)),
    "jvp": ("multiad.jvp", "fv, (x,), (v,)", "res", lambda x, v: (np.sin(x) ** 2, np.sin(2 * x) * v)),
    # A function out of a compiled region does not run in it (torch.func's own vjp_fn cannot be
    # returned from one at all): the pullback is applied inside.
    "vjp": ("lambda x, v: multiad.vjp(fv, x)[1](v)", "x, v", "res", lambda x, v: (np.sin(2 * x) * v,)),
    "linearize": (
        "multiad.linearize",
        "fv, x",
        "(res[0], res[1](v))",
        lambda x, v: (np.sin(x) ** 2, np.sin(2 * x) * v),
    ),
}

#: Traced again at the second shape, as torch.func's own ``hessian`` and ``jvp`` of ``grad`` are
#: (forward over reverse, torch 2.13), and linearize, which returns its jvp_fn out of the region.
FRAMES = {"hessian": 2, "hvp": 2, "linearize": 2}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_transform_compiled_with_dynamic_shapes_first_in_the_process(name: str) -> None:
    target, args, post, closed = CASES[name]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.pop("MULTIAD_BACKEND", None)
    script = _SCRIPT.format(target=target, args=args, post=post)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["frames"] == FRAMES.get(name, 1), f"{name}: traced {out['frames']} times over two shapes"
    for n, got in zip((5, 7), out["got"]):
        x, v = np.linspace(-1.0, 1.3, n), np.linspace(0.5, -0.7, n)
        want = closed(x, v)
        if isinstance(want, tuple):
            assert len(got) == len(want)
            for g, w in zip(got, want):
                np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
