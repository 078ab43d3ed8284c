"""Runs the benchmarks: ``python -m benchmarks.run [--smoke] [--publish] [--only WORKLOAD ...]``.

Every workload runs on every framework (torch, jax eagerly, jax under ``jax.jit``, HIPS
autograd, numpy finite differences where sizes allow); results are printed as a table, written
as JSON under benchmarks/results/, and plotted. For jax.jit and torch the compiled programs of
both sides are compared too (``benchmarks/compiled.py``; ``"compiled"`` in the JSON).
Both sides under ``torch.compile`` are timed only when asked for (``--frameworks torch.compile``;
NOTE [Compiled torch calls] in frameworks.py).
``--publish`` also copies the JSON and the plots to docs/benchmarks/.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm  # type: ignore[import-untyped]

import multiad

from . import compiled, freed_memory, harness, machine, report, stack_chunks
from .frameworks import FACTORIES, OPT_IN, Framework
from .workloads import SMOKE_SIZES, WORKLOADS, Group, Sizes, Skip

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DOCS = HERE.parent / "docs" / "benchmarks"
#: Goals for multiad / direct: eagerly, under jax.jit (where both compile to one program), the
#: numpy backend against a hand-written stencil, and jacobian(mode="auto") against the better mode.
GOAL_EAGER, GOAL_JIT, GOAL_NUMPY, GOAL_AUTO = 1.05, 1.00, 1.10, 1.05
#: NOTE [Neutral arrays]: autograd and numpy arrays are plain numpy arrays, which multiad treats
#: as neutral (they infer no backend), so those groups select their backend with set_backend;
#: torch and jax groups rely on inference from the argument types, the common usage.
SELECTED = ("autograd", "numpy")
#: The control of a group: its first direct call timed a second time, as if it were another
#: variant; ``direct again / direct`` is the ratio noise alone gives (NOTE [Fastest block per round]).
#: Under a compiler it is compiled a second time (NOTE [Controls compiled apart]).
_AGAIN = "direct again"

# NOTE [Controls compiled apart]: under ``jax.jit`` multiad's call and jax's own are two
# executables of one program, compiled apart, and code and buffers that sit elsewhere in memory
# can run a little faster or slower. ``jax.jit`` of the same function a second time reuses the
# executable it compiled first, so a control built that way times one executable against itself
# and cannot show that. The control's second copy is therefore the direct call behind a wrapper
# of its own (traced away, so the program is the same), which jax traces and compiles anew: the
# control then reads what compiling the framework's own program twice does to its time.


def _again(fw: Framework, direct: Any) -> Any:
    """The control's second copy of ``direct`` (NOTE [Controls compiled apart])."""
    if not fw.compiled:
        return fw.wrap(direct)
    return fw.wrap(lambda *args: direct(*args))


def _tolerances(fw: Framework) -> tuple[float, float]:
    return (2e-3, 2e-4) if fw.exact else (5e-2, 5e-2)


def _run_group(group: Group, settings: harness.Settings) -> dict[str, Any]:
    fw = group.framework
    fw.reset()  # NOTE [Compiled torch calls] in frameworks.py
    rtol, atol = _tolerances(fw)
    entry: dict[str, Any] = {"workload": group.workload, "framework": fw.name, "modes": {}, "ratios": {}}
    variants = []
    first: dict[str, float] = {}
    control: str | None = None
    for mode in group.modes:
        info: dict[str, Any] = {}
        entry["modes"][mode.name] = info
        if mode.skipped or mode.multiad is None:
            info["skipped"] = mode.skipped or "no multiad variant"
            continue
        calls = {"multiad": fw.wrap(mode.multiad)}
        if mode.direct is not None:
            calls["direct"] = fw.wrap(mode.direct)
        else:
            info["direct"] = None
        results = {}
        for side, fn in calls.items():
            value, first[f"{mode.name}/{side}"] = harness.timed(functools.partial(fn, *group.args), fw.sync)
            results[side] = fw.to_numpy(value)
        if mode.direct is None and mode.reference is not None:
            results["direct"] = fw.to_numpy(fw.sync(mode.reference(*group.args)))
        if "direct" in results:
            a, b = results["multiad"], results["direct"]
            info["shape_agrees"] = a.shape == b.shape
            info["max_abs_diff"] = float(np.max(np.abs(a - b))) if a.shape == b.shape else None
            info["agrees"] = bool(a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol))
        for side, fn in calls.items():
            variants.append((f"{mode.name}/{side}", functools.partial(fn, *group.args)))
        if control is None and mode.direct is not None:  # NOTE [Fastest block per round]
            control = mode.name
            variants.append((f"{mode.name}/{_AGAIN}", functools.partial(_again(fw, mode.direct), *group.args)))
    if settings.first_call_only:
        times = fastest = {k: [t] for k, t in first.items()}
        calls_per_block = dict.fromkeys(first, 1)
        paired: dict[tuple[str, ...], harness.Timings] = {}
    else:
        paired = _measure_pairs(group, dict(variants), control, fw, settings)
        times, fastest, calls_per_block = {}, {}, {}
        entry["comparisons"] = [
            {"variants": list(keys), "rounds": len(t.rounds[keys[0]]), "seconds": round(t.seconds, 3)}
            | {"calls_per_block": t.calls_per_block[keys[0]], "sweep": t.sweep, "fastest_s": t.fastest}
            for keys, t in paired.items()
        ]
        for timings in paired.values():  # a variant's figures from the first comparison it is in
            for key in timings.rounds:
                times.setdefault(key, timings.rounds[key])
                fastest.setdefault(key, timings.fastest[key])
                calls_per_block.setdefault(key, timings.calls_per_block[key])
    goal = GOAL_JIT if fw.compiled else GOAL_NUMPY if fw.backend == "numpy" else GOAL_EAGER
    for mode in group.modes:
        info = entry["modes"][mode.name]
        for side in ("multiad", "direct"):
            key = f"{mode.name}/{side}"
            if key in times:
                info[side] = {"median_s": harness.median(times[key]), "rounds_s": times[key]}
                info[side]["fastest_s"] = fastest[key]
                info[side]["calls_per_block"] = calls_per_block[key]
        if "multiad" in info and isinstance(info.get("direct"), dict):
            ts = [fastest[f"{mode.name}/multiad"], fastest[f"{mode.name}/direct"]]
            entry["ratios"][f"{mode.name}: multiad / direct"] = _ratio(ts, goal, fw.compiled)
    for label, num, dens in group.best_of:
        keys = (f"{num}/multiad", *[f"{d}/multiad" for d in dens])
        if all(k in times for k in keys):
            own = paired.get(keys)
            ts = [(fastest if own is None else own.fastest)[k] for k in keys]
            entry["ratios"][label] = _ratio(ts, GOAL_AUTO)
    if control is not None and not settings.first_call_only:
        own = paired[(f"{control}/direct", f"{control}/{_AGAIN}")]
        again, direct = own.fastest[f"{control}/{_AGAIN}"], own.fastest[f"{control}/direct"]
        entry["control"] = {"mode": control, **_ratio([again, direct], None)}
    return entry


def _ratio(times: list[list[float]], goal: float | None, within_noise: bool = False) -> dict[str, Any]:
    """``times[0]`` against the best of the others: the ratio, its confidence interval (NOTE
    [Stopping on precision] in harness.py) and, with a goal, whether it is met (``within_noise``:
    NOTE [Goals within noise])."""
    low, high = harness.interval(*times)
    pairs = max(1, len(times[0]) // 2)
    out: dict[str, Any] = {"value": harness.ratio_to_best(*times), "ci": [low, high]}
    out |= {"ci_level": harness.coverage(pairs), "pairs": pairs}
    if goal is not None:
        out |= {"goal": goal, "met": (low if within_noise else out["value"]) <= goal}
        if within_noise:
            out["within_noise"] = True
    return out


# NOTE [Goals within noise]: under ``jax.jit`` multiad's call and jax's own run the same compiled
# program (benchmarks/compiled.py compares the two programs' HLO), and the goal is a ratio of
# 1.00 within noise, not a ratio below 1.00: a row is met when its 95 % interval reaches 1.00
# (the run cannot tell it from 1.00, or it is below), and missed only when the whole interval
# lies above. Read as ``ratio <= 1.00``, two equal programs would miss the goal in about half of
# the rows by noise alone (8 of 19 rows read above 1.00 in one run, every interval but one
# holding 1.00). The eager goals stay ratios read against their bound: there the two sides run
# different code, and an interval that reaches across 1.05 is reported as not resolved.


# NOTE [One comparison at a time]: a ratio compares two calls timed against each other, and
# nothing else is timed between them: each comparison (a mode's multiad and direct calls; the
# control's direct call and its second copy; jacobian(auto) and the modes it chooses between)
# is measured on its own, in interleaved rounds (NOTE [Interleaved rounds] in harness.py), one
# comparison after another. Timing a whole group in one rotation (``A/m A/d A/again B/m B/d C/m
# C/d``, then reversed) made each call follow a different neighbour in each order: torch's
# hessian group put ``jacrev(jacrev)``'s multiad call after ``jacfwd(jacfwd)`` (78 ms, its own
# working set) in one order and its direct call after ``hessian``'s multiad call (2 ms) in the
# other, so the opposite orders did not cancel. Measured in one process, three repetitions,
# the group rotation read the control (direct against itself) 1.050 to 1.083 and ``jacrev(jacrev)``
# 1.052 to 1.074; the same calls compared one pair at a time read the control 0.997 to 1.003 and
# ``jacrev(jacrev)`` 1.003 to 1.023. Two calls alternating see only each other, and a position
# effect in one order is the mirror of the other's. The group's time budget is shared among its
# comparisons.
def _measure_pairs(
    group: Group, variants: dict[str, Any], control: str | None, fw: Framework, settings: harness.Settings
) -> dict[tuple[str, ...], harness.Timings]:
    """Timings of each comparison of ``group``, keyed by the names of its variants (NOTE [One
    comparison at a time])."""
    best = [(f"{num}/multiad", *[f"{d}/multiad" for d in dens]) for _, num, dens in group.best_of]
    best = [keys for keys in best if all(k in variants for k in keys)]
    comparisons: list[tuple[str, ...]] = []
    for mode in group.modes:
        pair = tuple(k for k in (f"{mode.name}/multiad", f"{mode.name}/direct") if k in variants)
        if len(pair) == 2 or (pair and all(pair[0] != keys[0] for keys in best)):  # else timed in its best_of
            comparisons.append(pair)
    comparisons += best
    if control is not None:
        comparisons.append((f"{control}/direct", f"{control}/{_AGAIN}"))
    out: dict[tuple[str, ...], harness.Timings] = {}
    left = settings.budget_s
    share = settings.budget_s / max(1, len(comparisons))
    for i, keys in enumerate(comparisons):  # what a precise comparison leaves goes to the next
        each = dataclasses.replace(settings, budget_s=max(share, left / (len(comparisons) - i)))
        out[keys] = harness.measure([(k, variants[k]) for k in keys], fw.sync, each)
        left = max(0.0, left - out[keys].seconds)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one round: checks that everything runs")
    parser.add_argument("--only", nargs="+", choices=sorted(WORKLOADS), help="run these workloads only")
    parser.add_argument("--frameworks", nargs="+", choices=sorted(FACTORIES), help="run on these only")
    parser.add_argument("--out", type=Path, help="JSON file to write (default benchmarks/results/<time>.json)")
    parser.add_argument("--no-plots", action="store_true", help="do not draw PNG plots")
    parser.add_argument("--publish", action="store_true", help="also copy JSON and plots to docs/benchmarks/")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    parser.add_argument(
        "--no-compiled", action="store_true", help="skip comparing the compiled programs (benchmarks/compiled.py)"
    )
    parser.add_argument(
        "--rounds", type=int, default=harness.Settings.rounds, help="interleaved rounds per comparison, at most"
    )
    parser.add_argument(
        "--precision",
        type=float,
        default=harness.Settings.precision,
        help="a comparison stops once its ratio's 95%% interval is this narrow (half-width)",
    )
    parser.add_argument(
        "--budget", type=float, default=harness.Settings.budget_s, help="seconds per group, where rounds allow"
    )
    parser.add_argument(
        "--stock-stack-chunks",
        action="store_true",
        help="leave the interpreter's stack chunks unkept (NOTE [Stack chunks kept] in stack_chunks.py)",
    )
    parser.add_argument(
        "--stock-malloc",
        action="store_true",
        help="let the C allocator give freed memory back to the kernel (NOTE [Freed memory kept] in freed_memory.py)",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.budget <= 0 or args.precision < 0:
        parser.error("--rounds must be at least 1, --budget positive and --precision not negative")

    chunks = "unmapped: --stock-stack-chunks" if args.stock_stack_chunks else stack_chunks.keep()
    freed = "returned: --stock-malloc" if args.stock_malloc else freed_memory.keep()  # before any framework starts
    # More rounds narrow the medians on a shared machine; the published run uses more than the default.
    settings = (
        harness.SMOKE
        if args.smoke
        else harness.Settings(
            rounds=args.rounds, budget_s=args.budget, precision=args.precision, sweeps=chunks != "kept"
        )
    )
    sizes = SMOKE_SIZES if args.smoke else Sizes()
    names = args.frameworks or [n for n in FACTORIES if n not in OPT_IN]
    workloads = args.only or list(WORKLOADS)
    frameworks = [FACTORIES[n]() for n in names]
    started = datetime.datetime.now(datetime.UTC)
    results: dict[str, Any] = {
        "machine": machine.describe() | {"stack_chunks": chunks, "freed_memory": freed},
        "smoke": args.smoke,
        "sizes": sizes.__dict__,
        "settings": settings.__dict__,
        "started": started.isoformat(timespec="seconds"),
        "groups": [],
        "skipped": [],
    }
    jobs = [(w, fw) for w in workloads for fw in frameworks]
    left = settings.budget_s * len(jobs)  # NOTE [Stopping on precision] in harness.py
    for i, (wname, fw) in enumerate(tqdm(jobs, desc="benchmarks", unit="group", disable=args.quiet, file=sys.stderr)):
        multiad.set_backend(fw.backend if fw.backend in SELECTED else None)
        each = dataclasses.replace(settings, budget_s=max(settings.budget_s, left / (len(jobs) - i)))
        try:
            results["groups"].append(_run_group(WORKLOADS[wname](fw, sizes), each))
            left -= sum(c["seconds"] for c in results["groups"][-1].get("comparisons", []))
        except Skip as why:
            results["skipped"].append({"workload": wname, "framework": fw.name, "reason": str(why)})
        finally:
            multiad.set_backend(None)
    under_compilers = [n for n in names if n in ("jax.jit", "torch")]
    if under_compilers and not args.no_compiled:  # the same program? (benchmarks/compiled.py)
        results["compiled"] = compiled.compare(sizes, workloads, under_compilers)
    results["seconds"] = round((datetime.datetime.now(datetime.UTC) - started).total_seconds(), 1)

    out = args.out or RESULTS / f"results-{'smoke-' if args.smoke else ''}{started:%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    if not args.quiet:
        print(report.table(results))
        if "compiled" in results:
            print("\n" + compiled.markdown(results["compiled"]))
        print(f"\nwrote {out}")
    if not args.no_plots:
        pngs = report.plots(results, out.parent / "plots")
        if not args.quiet:
            print(f"wrote {len(pngs)} plots to {out.parent / 'plots'}")
        if args.publish:
            DOCS.mkdir(parents=True, exist_ok=True)
            for png in pngs:
                shutil.copy(png, DOCS / png.name)
    if args.publish:
        shutil.copy(out, DOCS / "results-cpu.json")
    return results


if __name__ == "__main__":
    main()
