"""Where multiad's per-call time goes: ``python -m benchmarks.profile [WORKLOAD] [FRAMEWORK] [MODE]``.

Runs one mode of one workload (default: jacrev of the 16 -> 16 Jacobian on torch) under
cProfile, multiad's variant and the direct one, and prints the functions with the most own time
in each, so the difference between the two lists is multiad's overhead.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats

import multiad

from .frameworks import FACTORIES
from .run import SELECTED
from .workloads import WORKLOADS, Sizes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    parser.add_argument("workload", nargs="?", default="jacobian16", choices=sorted(WORKLOADS))
    parser.add_argument("framework", nargs="?", default="torch", choices=sorted(FACTORIES))
    parser.add_argument("mode", nargs="?", default="jacrev")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)

    fw = FACTORIES[args.framework]()
    multiad.set_backend(fw.backend if fw.backend in SELECTED else None)
    group = WORKLOADS[args.workload](fw, Sizes())
    mode = next((m for m in group.modes if m.name == args.mode), None)
    if mode is None:
        parser.error(f"mode must be one of {[m.name for m in group.modes]}")
    for side, fn in (("multiad", mode.multiad), ("direct", mode.direct)):
        if fn is None:
            continue
        call = fw.wrap(fn)
        for _ in range(5):
            fw.sync(call(*group.args))
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.calls):
            fw.sync(call(*group.args))
        prof.disable()
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out).sort_stats("tottime")
        per_call = stats.total_tt / args.calls * 1e6  # type: ignore[attr-defined]
        stats.print_stats(args.top)
        print(f"== {side}: {per_call:,.0f} us per call under the profiler ==")
        print(out.getvalue().split("\n", 6)[-1])


if __name__ == "__main__":
    main()
