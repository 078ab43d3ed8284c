"""Whether multiad compiles to the framework's own program: ``python -m benchmarks.compiled``.

For every workload and mode of :mod:`benchmarks.workloads` that has a direct counterpart (for
``jacobian(mode="auto")``, the direct version of the mode it picks):

- **jax.jit**: the optimised HLO of both sides (``jax.jit(f).lower(*args).compile().as_text()``)
  compared after normalisation (NOTE [Comparing compiled programs]), with its instruction
  counts and the equations of both jaxprs;
- **torch.compile**: the operations of the graph that ``torch.compile(f, fullgraph=True)``
  traces for both sides (``torch._dynamo.testing.CompileCounter``).

This turns "multiad under a compiler is the framework's own program" into an artefact rather
than a timing claim: a timing ratio under ``jax.jit`` away from 1.00 where the programs are
identical is noise. ``benchmarks.run`` adds the table to its JSON (``"compiled"``); run alone it
prints the table (``--markdown`` as in docs/benchmarks.md) and writes ``--out``.

NOTE [Comparing compiled programs]: XLA's text of a compiled module carries, besides the
program, the source locations of every operation (the ``FileNames`` ... ``StackFrames`` tables
and each instruction's ``metadata={...}``), the module's name (the jitted function's) and
instruction names numbered in the order the tracer created them, so a dead equation that the
compiler removed still shifts the numbers. These are dropped or renumbered in order of first
appearance; what remains (instructions, shapes, layouts, fusions and their order) must be equal
character for character for the programs to count as identical.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

import multiad

from .frameworks import FACTORIES, Framework
from .workloads import SMOKE_SIZES, WORKLOADS, Sizes, Skip

_LOCATION_TABLES = ("FileNames", "FunctionNames", "FileLocations", "StackFrames")
_HEADER = re.compile(r"^((?:ENTRY )?%\S+ )\((.*)\)( -> .*\{)$", re.M)


def normalized_hlo(text: str) -> str:
    """The HLO text ``text`` without source locations and with names renumbered (NOTE
    [Comparing compiled programs])."""
    kept, skipping = [], False
    for line in text.splitlines():
        if line.strip() in _LOCATION_TABLES:
            skipping = True
        elif skipping and not line.strip():
            skipping = False
        elif not skipping:
            kept.append(line)
    out = re.sub(r",? ?metadata=\{[^{}]*\}", "", "\n".join(kept))
    out = re.sub(r"^HloModule [^,\s]+", "HloModule m", out, flags=re.M)
    out = _HEADER.sub(lambda m: m.group(1) + "(" + re.sub(r"[\w.\-]+: ", "", m.group(2)) + ")" + m.group(3), out)
    names: dict[str, str] = {}
    out = re.sub(r"%[\w.\-]+", lambda m: names.setdefault(m.group(0), f"%{len(names)}"), out)
    return out.strip() + "\n"


def instructions(hlo: str) -> int:
    """The number of instructions in a normalised HLO text (every computation, fusions included)."""
    return sum(1 for line in hlo.splitlines() if re.match(r"^\s+(ROOT )?%\S+ = ", line))


def _modes(
    fw: Framework, sizes: Sizes, workloads: Iterable[str]
) -> Iterable[tuple[str, str, Any, Any, tuple[Any, ...]]]:
    for name in workloads:
        try:
            group = WORKLOADS[name](fw, sizes)
        except Skip:
            continue
        directs = {mode.name: mode.direct for mode in group.modes}
        for mode in group.modes:
            direct, name = mode.direct, mode.name
            if direct is None and mode.compiles_as is not None:  # jacobian(mode="auto"): the mode it picks
                direct, name = directs.get(mode.compiles_as), f"{mode.name} as {mode.compiles_as}"
            if mode.multiad is not None and direct is not None and not mode.skipped:
                yield group.workload, name, mode.multiad, direct, group.args


def _jax_rows(sizes: Sizes, workloads: Iterable[str]) -> list[dict[str, Any]]:
    import jax

    rows = []
    fw = FACTORIES["jax.jit"]()
    for workload, mode, ours, theirs, args in _modes(fw, sizes, workloads):
        row: dict[str, Any] = {"workload": workload, "mode": mode}
        progs = {}
        for side, fn in (("multiad", ours), ("direct", theirs)):
            progs[side] = normalized_hlo(jax.jit(fn).lower(*args).compile().as_text() or "")
            row[side] = {"hlo_instructions": instructions(progs[side]), "jaxpr_equations": _equations(jax, fn, args)}
        row["identical"] = progs["multiad"] == progs["direct"]
        rows.append(row)
    return rows


def _equations(jax: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> int:
    return len(jax.make_jaxpr(fn)(*args).eqns)


def _torch_rows(sizes: Sizes, workloads: Iterable[str]) -> list[dict[str, Any]]:
    import torch

    rows = []
    fw = FACTORIES["torch"]()
    for workload, mode, ours, theirs, args in _modes(fw, sizes, workloads):
        row: dict[str, Any] = {"workload": workload, "mode": mode}
        aten = {}
        for side, fn in (("multiad", ours), ("direct", theirs)):
            try:
                row[side], aten[side] = _traced(torch, fn, args)
            except Exception as exc:  # noqa: BLE001 - recorded: the table shows which side failed to trace, and why
                row[side] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
        m, d = row["multiad"], row["direct"]
        row["equal"] = "ops" in m and "ops" in d and (m["frames"], m["ops"]) == (d["frames"], d["ops"])
        if len(aten) == 2:
            row["aten_identical"] = aten["multiad"] == aten["direct"]
            mine, theirs_ = Counter(aten["multiad"]), Counter(aten["direct"])
            row["aten_only_multiad"] = sorted((mine - theirs_).elements())
            row["aten_only_direct"] = sorted((theirs_ - mine).elements())
        rows.append(row)
    torch._dynamo.reset()
    return rows


def _traced(torch: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[dict[str, int], list[str]]:
    """The graphs ``torch.compile(fn, fullgraph=True)`` traces: their count and operations
    (counted as ``torch._dynamo.testing.CompileCounter`` counts), and the ATen operations of
    the forward graphs that AOTAutograd makes of them (functionalized, bookkeeping gone), in order."""
    from torch._dynamo.backends.common import aot_autograd
    from torch._functorch._aot_autograd.utils import make_boxed_func

    counts = {"frames": 0, "ops": 0}
    aten: list[str] = []

    def forward(gm: Any, _: Any) -> Any:
        aten.extend(str(n.target) for n in gm.graph.nodes if n.op == "call_function")
        return make_boxed_func(gm.forward)

    lower = aot_autograd(fw_compiler=forward)

    def backend(gm: Any, example_inputs: Any) -> Any:
        counts["frames"] += 1
        counts["ops"] += sum(1 for n in gm.graph.nodes if "call" in n.op)
        return lower(gm, example_inputs)

    torch._dynamo.reset()
    torch.compile(fn, backend=backend, fullgraph=True)(*args)
    counts["aten_ops"] = len(aten)
    return counts, aten


def compare(
    sizes: Sizes, workloads: Iterable[str] | None = None, frameworks: Iterable[str] = ("jax.jit", "torch")
) -> dict[str, Any]:
    """``{"jax.jit": rows, "torch.compile": rows}`` for the frameworks asked for (``"jax.jit"``, ``"torch"``)."""
    names = list(workloads or WORKLOADS)
    out: dict[str, Any] = {}
    multiad.set_backend(None)  # torch and jax groups infer the backend from the arrays
    if "jax.jit" in frameworks:
        out["jax.jit"] = _jax_rows(sizes, names)
    if "torch" in frameworks:
        out["torch.compile"] = _torch_rows(sizes, names)
    return out


def markdown(compiled: dict[str, Any]) -> str:
    """The comparison as Markdown tables."""
    parts = []
    if compiled.get("jax.jit"):
        lines = [
            "| workload | mode | HLO instructions, multiad | jax | jaxpr equations, multiad | jax | compiled program |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in compiled["jax.jit"]:
            m, d = r["multiad"], r["direct"]
            same = "identical" if r["identical"] else "differs"
            lines.append(
                f"| {r['workload']} | {r['mode']} | {m['hlo_instructions']} | {d['hlo_instructions']} | "
                f"{m['jaxpr_equations']} | {d['jaxpr_equations']} | {same} |"
            )
        parts.append("\n".join(lines))
    if compiled.get("torch.compile"):
        lines = [
            "| workload | mode | Dynamo graph ops, multiad | torch.func | ATen ops, multiad | torch.func | ATen program |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in compiled["torch.compile"]:
            m, d = r["multiad"], r["direct"]
            if "error" in m or "error" in d:
                failed = "; ".join(
                    f"{k} fails: {s['error'][:80]}" for k, s in (("multiad", m), ("direct", d)) if "error" in s
                )
                lines.append(f"| {r['workload']} | {r['mode']} | | | | | {failed} |")
                continue
            verdict = "identical" if r["aten_identical"] else _aten_difference(r)
            graphs = "" if m["frames"] == d["frames"] == 1 else f" ({m['frames']} and {d['frames']} graphs)"
            lines.append(
                f"| {r['workload']} | {r['mode']} | {m['ops']}{graphs} | {d['ops']} | {m['aten_ops']} | {d['aten_ops']} | {verdict} |"
            )
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _aten_difference(row: dict[str, Any]) -> str:
    def names(ops: list[str]) -> str:
        short = [
            re.sub(r"^aten\.|\.default$|^<built-in function (\w+)>$", lambda m: m.group(1) or "", op) for op in ops
        ]
        return ", ".join(f"{n}x {op}" if n > 1 else op for op, n in Counter(short).items()) or "nothing"

    return f"differs: only multiad has {names(row['aten_only_multiad'])}; only torch.func has {names(row['aten_only_direct'])}"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compiled", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes")
    parser.add_argument("--only", nargs="+", choices=sorted(WORKLOADS), help="these workloads only")
    parser.add_argument("--frameworks", nargs="+", choices=["jax.jit", "torch"], default=["jax.jit", "torch"])
    parser.add_argument("--out", type=Path, help="JSON file to write")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = parser.parse_args(argv)
    result = compare(SMOKE_SIZES if args.smoke else Sizes(), args.only, args.frameworks)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(markdown(result), file=sys.stdout)
    return result


if __name__ == "__main__":
    np.set_printoptions(linewidth=120)
    main()
