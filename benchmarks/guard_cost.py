"""What Dynamo's guards cost per compiled call: ``python -m benchmarks.guard_cost [MODE ...]``.

For the small ``torch.compile`` rows of :mod:`benchmarks.workloads` (calls of 20 to 200 us),
each side (multiad's and torch.func's) is compiled with inductor, warmed up, and then timed
twice, alternating the sides round by round: as compiled, and with guard evaluation switched
off (``torch.compiler.set_stance("default", skip_guard_eval_unsafe=True)``, which runs the
cached program without checking its guards; safe here because nothing the guards read changes
between the calls). The first ratio is what the benchmark measures; the second is the same
call without its guards. Where the second is 1.00 and the first is not, the programs and the
Python around them cost the same, and the difference is the guards alone.

NOTE [Guards measured by switching them off]: counting guard lines (``str()`` of a cache
entry's guard manager) says how many checks there are, not what they cost: a check on a
closure cell reached through four accessors costs more than an identity check on a local.
Switching the checks off measures their whole cost in the call as the benchmark makes it.
``min`` of the rounds is reported, as in the instruction counts: the machine adds time, never
takes it away.
"""

from __future__ import annotations

import argparse
import functools
import timeit
from collections.abc import Callable
from typing import Any

#: (workload, mode) of the rows timed by default: the calls short enough for the guards to show
ROWS = (
    ("hvp", "hvp"),
    ("hvp", "vhp (rev-over-rev)"),
    ("jacobian16", "jacrev"),
    ("jacobian16", "jacfwd"),
    ("jacobian16", "vjp loop"),
    ("batched_jacobian", "vmap(jacrev)"),
    ("batched_hessian", "vmap(hessian)"),
)


def _best(fn: Callable[[], Any], number: int) -> float:
    """Microseconds per call of ``fn``: the best of three repeats of ``number`` calls."""
    return min(timeit.repeat(fn, number=number, repeat=3)) / number * 1e6


def measure(workload: str, mode_name: str, rounds: int, number: int) -> dict[str, float]:
    """Per side and stance (``multiad``, ``direct``; ``guards``, ``skipped``), microseconds per call."""
    import torch

    from .frameworks import torch_compiled_framework
    from .workloads import WORKLOADS, Sizes

    torch._dynamo.reset()
    fw = torch_compiled_framework()
    group = WORKLOADS[workload](fw, Sizes())
    mode = next(m for m in group.modes if m.name == mode_name)
    if mode.multiad is None or mode.direct is None:
        raise SystemExit(f"benchmarks.guard_cost: {workload} {mode_name!r} has no direct side")
    args = group.args
    sides = {"multiad": torch.compile(mode.multiad), "direct": torch.compile(mode.direct)}
    for compiled in sides.values():
        for _ in range(3):
            compiled(*args)
    best: dict[str, float] = {}
    for _ in range(rounds):
        for skip in (False, True):
            with torch.compiler.set_stance("default", skip_guard_eval_unsafe=skip):
                for side, compiled in sides.items():
                    key = f"{side} {'skipped' if skip else 'guards'}"
                    t = _best(functools.partial(compiled, *args), number)
                    best[key] = min(t, best.get(key, t))
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.guard_cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("modes", nargs="*", help="modes to time (default: every row of ROWS)")
    parser.add_argument("--rounds", type=int, default=5, help="alternated rounds per stance (default 5)")
    parser.add_argument("--number", type=int, default=200, help="calls per timing (default 200)")
    args = parser.parse_args(argv)
    rows = [r for r in ROWS if not args.modes or r[1] in args.modes]
    print(
        "| workload | mode | multiad | direct | ratio | guards skipped: multiad | direct | ratio | guards: multiad | direct |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for workload, mode_name in rows:
        t = measure(workload, mode_name, args.rounds, args.number)
        mg, dg, ms, ds = t["multiad guards"], t["direct guards"], t["multiad skipped"], t["direct skipped"]
        print(
            f"| {workload} | {mode_name} | {mg:.1f} us | {dg:.1f} us | {mg / dg:.3f} | {ms:.1f} us | {ds:.1f} us "
            f"| {ms / ds:.3f} | {mg - ms:.1f} us | {dg - ds:.1f} us |",
            flush=True,
        )


if __name__ == "__main__":
    main()
