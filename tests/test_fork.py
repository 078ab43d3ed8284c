"""A process forked while another thread holds one of multiad's locks works in the child.

``os.fork`` (multiprocessing's "fork" start method, torch DataLoader workers) copies every lock
as it is, held where another thread was inside it, and that thread does not exist in the child.
Each test runs a fresh interpreter that stops a thread inside the lock, forks, and runs multiad in
the child with a time limit: a child that has not answered in time is reported as hung.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is not available on this platform")

# in_child(fn): fn() run in a fork of the script's process, as repr(result) or "Type: message",
# or "HUNG" where the child has not finished after CHILD_LIMIT seconds (then it is killed).
PRELUDE = r"""
import json, os, signal, sys, threading, time
import numpy as np
import multiad, multiad.numpy as mnp

CHILD_LIMIT = 60.0

def in_child(fn):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            out = repr(fn())
        except BaseException as exc:
            out = f"{type(exc).__name__}: {exc}"
        os.write(w, out.encode())
        os._exit(0)
    os.close(w)
    deadline = time.monotonic() + CHILD_LIMIT
    while not os.waitpid(pid, os.WNOHANG)[0]:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(r)
            return "HUNG"
        time.sleep(0.02)
    with os.fdopen(r, "rb") as f:
        return f.read().decode()
"""


def run_script(body: str) -> Any:
    env = {k: v for k, v in os.environ.items() if k != "MULTIAD_BACKEND"}
    res = subprocess.run([sys.executable, "-c", PRELUDE + body], capture_output=True, text=True, timeout=400, env=env)
    assert res.returncode == 0, res.stderr
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("RESULT"))
    return json.loads(line[len("RESULT") :])


# A thread stops inside a torch forward-mode transform (it holds the lock of NOTE [Forward mode
# and threads]); the child runs jvp, jacfwd and hessian of sum(z**3) at [1, 2].
TORCH_FORWARD = r"""
inside, release = threading.Event(), threading.Event()
def waits(z):
    inside.set()
    release.wait()
    return mnp.sum(z * z)
x = np.array([1.0, 2.0])
th = threading.Thread(target=lambda: multiad.jvp(waits, (x,), (x,), backend="torch"))
th.start()
inside.wait()
def cube(z):
    return mnp.sum(z ** 3)
def child():
    t = multiad.to_numpy(multiad.jvp(cube, (x,), (np.ones(2),), backend="torch")[1])
    j = multiad.to_numpy(multiad.jacfwd(lambda z: z ** 3, backend="torch")(x))
    h = multiad.to_numpy(multiad.hessian(cube, backend="torch")(x))
    return [float(t), j.tolist(), h.tolist()]
got = in_child(child)
release.set()
th.join()
print("RESULT" + json.dumps(got))
"""


def test_torch_forward_mode_in_a_child_forked_inside_one() -> None:
    """NOTE [Forward mode after fork] in backends/torch: the child's first forward-mode call hung."""
    pytest.importorskip("torch")
    got = run_script(TORCH_FORWARD)
    assert got != "HUNG", "the child hung on torch's forward-mode lock"
    # d/dz sum(z**3) = 3 z**2: jvp with ones 3 + 12; Jacobian of z**3 diag(3, 12); Hessian diag(6, 12).
    assert got == repr([15.0, [[3.0, 0.0], [0.0, 12.0]], [[6.0, 0.0], [0.0, 12.0]]])


# The child's answers for the backend whose load was cut short, and for autograd, whose first use
# imports the modules of all multiad's own backends (where it hung on the cut one's lock).
CHILD_AFTER_CUT_LOAD = r"""
def sq(z):
    return mnp.sum(z * z)
def on(name):
    return lambda: multiad.to_numpy(multiad.grad(sq, backend=name)(np.array([1.0, 2.0]))).tolist()
got = {"autograd": in_child(on("autograd")), "cut": in_child(on(CUT))}
release.set()
th.join()
got["parent"] = on(CUT)()
print("RESULT" + json.dumps(got))
"""

# A thread stops inside the torch backend's framework load (its first use in the process).
CUT_IN_LOAD = r"""
from multiad import _registry
CUT = "torch"
inside, release = threading.Event(), threading.Event()
cls = type(_registry.record(CUT).backend)
real = cls.load
def load(self):
    inside.set()
    release.wait()
    real(self)
cls.load = load
th = threading.Thread(target=lambda: multiad.grad(lambda z: mnp.sum(z * z), backend=CUT)(np.ones(2)))
th.start()
inside.wait()
"""

# A thread stops inside the import of a plugin module (a first-party entry point, as multiad's
# own backends are), which multiad's first use imports on every backend.
CUT_IN_IMPORT = r"""
import importlib.metadata, pathlib, tempfile, types
from multiad import _registry
CUT = "slowimport"
gate = sys.modules["fork_gate"] = types.ModuleType("fork_gate")
inside, release = gate.inside, gate.release = threading.Event(), threading.Event()
where = pathlib.Path(tempfile.mkdtemp())
(where / "slowimport_plugin.py").write_text(
    "import fork_gate\n"
    "fork_gate.inside.set()\n"
    "fork_gate.release.wait()\n"
    "from multiad_numpy import NumpyBackend\n"
    "class SlowImport(NumpyBackend):\n"
    "    name = 'slowimport'\n"
)
sys.path.insert(0, str(where))
_registry._discover()
ep = importlib.metadata.EntryPoint(CUT, "slowimport_plugin:SlowImport", _registry.GROUP)
_registry._entries[CUT] = _registry._Entry(CUT, [ep], [(None, None)], True)
th = threading.Thread(target=lambda: multiad.list_backends())
th.start()
inside.wait()
"""


@pytest.mark.parametrize("cut", ["load", "import"])
def test_backends_in_a_child_forked_while_a_backend_loads(cut: str) -> None:
    """NOTE [Loads cut short by fork] in multiad/_registry.py: every backend hung in the child."""
    if cut == "load":
        pytest.importorskip("torch")
    pytest.importorskip("autograd")
    got = run_script((CUT_IN_LOAD if cut == "load" else CUT_IN_IMPORT) + CHILD_AFTER_CUT_LOAD)
    assert got["autograd"] == repr([2.0, 4.0]), got  # the gradient of sum(z**2) at [1, 2]
    assert got["cut"].startswith("BackendError: grad(sq): backend "), got
    assert "is broken: another thread was" in got["cut"] and "when this process was forked" in got["cut"], got
    assert "use the backend once before forking" in got["cut"], got
    # The parent finishes the load and uses it (the stand-in plugin of "import" is the numpy backend's).
    assert got["parent"] == pytest.approx([2.0, 4.0], rel=1e-8)
