"""Instructions per call, counted by callgrind: ``python -m benchmarks.instructions WORKLOAD FRAMEWORK MODE``.

A shared machine moves wall-clock ratios by more than the few percent being looked for; the
number of instructions a call executes does not move with the load. Each side of the mode
(multiad's and the direct one) runs in its own process under ``valgrind --tool=callgrind``,
warmed up by five calls, then ``--calls`` more with the garbage collector paused, counted alone:
collection is off at the start (``--collect-atstart=no``) and switched on only inside
``itertools.starmap``'s step (``--toggle-collect=starmap_next``), which runs nothing but the
measured calls. ``PYTHONHASHSEED`` is fixed. Two runs of the same side agree to about 100
instructions in 6.8 million (autograd ``wide`` jacrev: 6,807,166 and 6,807,260).

``--against MODE`` counts multiad's side of another mode of the workload in place of the direct
side: ``python -m benchmarks.instructions tall torch "jacobian(auto)" --against jacfwd`` compares
``jacobian(mode="auto")`` with the mode it runs (it has no direct side of its own).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import re
import subprocess
import sys

import multiad

from .frameworks import FACTORIES
from .run import SELECTED
from .workloads import WORKLOADS, Sizes


def _calls(workload: str, framework: str, mode_name: str, side: str, calls: int) -> None:
    """The measured process: ``calls`` calls of one side inside ``itertools.starmap``
    (``side`` ``"multiad"``, ``"direct"``, or ``"multiad:MODE"`` for multiad's side of MODE)."""
    if side.startswith("multiad:"):
        mode_name, side = side.split(":", 1)[1], "multiad"
    fw = FACTORIES[framework]()
    multiad.set_backend(fw.backend if fw.backend in SELECTED else None)
    group = WORKLOADS[workload](fw, Sizes())
    mode = next(m for m in group.modes if m.name == mode_name)
    fn = fw.wrap(getattr(mode, side))
    for _ in range(5):
        fw.sync(fn(*group.args))
    gc.collect()
    gc.disable()
    for _ in itertools.starmap(lambda: [fw.sync(fn(*group.args))], [()] * calls):
        pass


def count(workload: str, framework: str, mode: str, side: str, calls: int) -> int:
    """Instructions per call of one side (see the module's docstring)."""
    cmd = [
        "valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=starmap_next",
        "--callgrind-out-file=/dev/null", sys.executable, "-m", "benchmarks.instructions",
        workload, framework, mode, "--calls", str(calls), "--one", side,
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, env={**os.environ, "PYTHONHASHSEED": "0"})
    collected = [int(n) for n in re.findall(r"Collected : (\d+)", out.stderr)]
    if out.returncode or not collected:
        raise RuntimeError(f"no count from callgrind (exit status {out.returncode}):\n{out.stderr[-2000:]}")
    return max(collected) // calls


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("framework", choices=sorted(FACTORIES))
    parser.add_argument("mode")
    parser.add_argument("--calls", type=int, default=10, help="measured calls per side")
    parser.add_argument("--against", metavar="MODE", help="count multiad's side of MODE in place of the direct side")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        _calls(args.workload, args.framework, args.mode, args.one, args.calls)
        return
    other, label = ("direct", "direct") if args.against is None else (f"multiad:{args.against}", args.against)
    m = count(args.workload, args.framework, args.mode, "multiad", args.calls)
    d = count(args.workload, args.framework, args.mode, other, args.calls)
    print(
        f"{args.workload} {args.framework} {args.mode}: multiad {m:,} {label} {d:,} instructions per call ({m / d:.4f})"
    )


if __name__ == "__main__":
    main()
