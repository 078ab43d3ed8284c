"""The results as a text table and as PNG plots (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import machine


def _us(entry: dict[str, Any] | None) -> str:
    if not isinstance(entry, dict):
        return "-"
    t = float(entry["median_s"]) * 1e6
    return f"{t:,.0f} us" if t < 1e5 else f"{t / 1e3:,.1f} ms"


def rows(results: dict[str, Any]) -> list[list[str]]:
    """One row per workload, framework and mode: times, ratio, goal."""
    out = []
    for g in results["groups"]:
        for name, info in g["modes"].items():
            if "skipped" in info:
                out.append([g["workload"], g["framework"], name, "skipped", "", "", "", info["skipped"]])
                continue
            r = g["ratios"].get(f"{name}: multiad / direct")
            ratio = f"{r['value']:.3f}" if r else "-"
            ci = _interval(r)
            goal = f"{_bound(r)} " + ("met" if r["met"] else "MISSED") if r else ""
            agree = "" if info.get("agrees", True) else "RESULTS DIFFER"
            out.append(
                [
                    g["workload"],
                    g["framework"],
                    name,
                    _us(info.get("multiad")),
                    _us(info.get("direct")),
                    ratio,
                    ci,
                    goal or agree,
                ]
            )
        for label, r in g["ratios"].items():
            if ": multiad / direct" not in label:
                met = "met" if r["met"] else "MISSED"
                out.append(
                    [
                        g["workload"],
                        g["framework"],
                        label,
                        "",
                        "",
                        f"{r['value']:.3f}",
                        _interval(r),
                        f"{_bound(r)} {met}",
                    ]
                )
        if "control" in g:  # NOTE [Fastest block per round] in harness.py
            c = g["control"]
            out.append(
                [
                    g["workload"],
                    g["framework"],
                    f"control: {c['mode']}, direct again / direct",
                    "",
                    "",
                    f"{c['value']:.3f}",
                    _interval(c),
                    "noise alone",
                ]
            )
    for s in results["skipped"]:
        out.append([s["workload"], s["framework"], "(all)", "skipped", "", "", "", s["reason"]])
    return out


HEADER = ["workload", "framework", "mode", "multiad", "direct", "ratio", "interval", "goal"]


def _bound(r: dict[str, Any]) -> str:
    """A goal as the table states it (NOTE [Goals within noise] in run.py)."""
    return f"{r['goal']:.2f} within noise" if r.get("within_noise") else f"<= {r['goal']:.2f}"


def _interval(r: dict[str, Any] | None) -> str:
    """The ratio's confidence interval and its level (NOTE [Stopping on precision] in harness.py)."""
    if not r or "ci" not in r:
        return "-"
    low, high = r["ci"]
    return f"{low:.3f} to {high:.3f} ({r['ci_level']:.0%}, {r['pairs']} pairs)"


def table(results: dict[str, Any]) -> str:
    body = rows(results)
    widths = [max(len(r[i]) for r in [HEADER, *body]) for i in range(len(HEADER))]

    def line(r: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()

    text = [machine.summary(results["machine"]), "", line(HEADER), line(["-" * w for w in widths])]
    return "\n".join(text + [line(r) for r in body])


def markdown(results: dict[str, Any]) -> str:
    """The same table in Markdown (for docs/benchmarks.md)."""
    body = [[c.replace("|", "\\|") for c in r] for r in rows(results)]
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in body])


def goal_summary(results: dict[str, Any]) -> str:
    """Per goal and framework: how many comparisons held, and the median and range of the ratios."""
    import statistics

    buckets: dict[tuple[str, str], list[tuple[float, bool]]] = {}
    widths: dict[tuple[str, str], list[float]] = {}
    for g in results["groups"]:
        for label, r in g["ratios"].items():
            kind = "multiad / direct" if ": multiad / direct" in label else label
            buckets.setdefault((kind, g["framework"]), []).append((float(r["value"]), bool(r["met"])))
            widths.setdefault((kind, g["framework"]), []).extend(_half_width(r))
        if "control" in g:
            widths.setdefault(("control", g["framework"]), []).extend(_half_width(g["control"]))
    lines = [
        "| goal | framework | held | median | range | widest interval (half-width) |",
        "|---|---|---|---|---|---|",
    ]
    for (kind, fw), vals in sorted(buckets.items()):
        xs = [v for v, _ in vals]
        goal = next(
            _bound(r)
            for g in results["groups"]
            if g["framework"] == fw
            for label, r in g["ratios"].items()
            if label == kind or label.endswith(": " + kind)
        )
        lines.append(
            f"| {kind} {goal} | {fw} | {sum(m for _, m in vals)} of {len(vals)} | "
            f"{statistics.median(xs):.3f} | {min(xs):.3f} to {max(xs):.3f} | {_widest(widths[kind, fw])} |"
        )
    controls: dict[str, list[float]] = {}
    for g in results["groups"]:
        if "control" in g:
            controls.setdefault(g["framework"], []).append(float(g["control"]["value"]))
    for fw, xs in sorted(controls.items()):
        lines.append(
            f"| control: direct again / direct (noise alone) | {fw} | - | "
            f"{statistics.median(xs):.3f} | {min(xs):.3f} to {max(xs):.3f} | "
            f"{_widest(widths.get(('control', fw), []))} |"
        )
    return "\n".join(lines)


def _half_width(r: dict[str, Any]) -> list[float]:
    return [(r["ci"][1] - r["ci"][0]) / 2] if "ci" in r else []


def _widest(hws: list[float]) -> str:
    return f"{max(hws):.3f}" if hws else "-"


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.split(" ")[0] + "-" + text.split(" ")[1]).lower()


def plots(results: dict[str, Any], folder: Path) -> list[Path]:
    """Per workload: median time per framework and mode (multiad next to direct), log scale;
    and one summary of every multiad / direct ratio against its goal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    workloads: dict[str, list[dict[str, Any]]] = {}
    for g in results["groups"]:
        workloads.setdefault(g["workload"], []).append(g)
    for wname, groups in workloads.items():
        labels, multi, direct = [], [], []
        for g in groups:
            for mode, info in g["modes"].items():
                if "multiad" not in info:
                    continue
                labels.append(f"{g['framework']}\n{mode}")
                multi.append(info["multiad"]["median_s"] * 1e3)
                d = info.get("direct")
                direct.append(d["median_s"] * 1e3 if isinstance(d, dict) else 0.0)
        fig, ax = plt.subplots(figsize=(max(6.0, 0.75 * len(labels) + 2), 4.2))
        xs = range(len(labels))
        ax.bar([x - 0.2 for x in xs], multi, 0.4, label="multiad")
        ax.bar([x + 0.2 for x in xs], direct, 0.4, label="direct (framework API)")
        ax.set_yscale("log")
        ax.set_ylabel("median time per call (ms, log)")
        ax.set_xticks(list(xs), labels, fontsize=7, rotation=45, ha="right")
        ax.set_title(wname)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = folder / f"time-{_slug(wname)}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)

    overhead = _overhead_plot(results, folder, plt)
    if overhead is not None:
        paths.append(overhead)

    names, values, goals = [], [], []
    for g in results["groups"]:
        for label, r in g["ratios"].items():
            names.append(f"{g['workload']} | {g['framework']} | {label.replace(': multiad / direct', '')}")
            values.append(r["value"])
            goals.append(r["goal"])
    if names:
        fig, ax = plt.subplots(figsize=(8.5, 0.22 * len(names) + 1.5))
        ys = range(len(names))
        colors = ["tab:green" if v <= goal else "tab:red" for v, goal in zip(values, goals)]
        clip = 3.5
        ax.barh(list(ys), [min(v, clip) for v in values], color=colors)
        for y, v in zip(ys, values):
            if v > clip:
                ax.text(clip, y, f" {v:.1f}", va="center", fontsize=6)
        ax.scatter(goals, list(ys), marker="|", color="black", s=60, label="goal", zorder=3)
        ax.axvline(1.0, color="gray", linewidth=0.8)
        ax.set_yticks(list(ys), names, fontsize=6)
        ax.invert_yaxis()
        ax.set_xlabel("ratio (multiad / direct; auto / best mode), median over interleaved rounds")
        ax.set_xlim(0, max(1.3, min(max(values) * 1.05, clip + 0.4)))
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        path = folder / "ratios.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def overheads(results: dict[str, Any]) -> dict[str, list[tuple[float, float]]]:
    """Per framework, ``(direct seconds, multiad seconds - direct seconds)`` of every mode with both sides."""
    out: dict[str, list[tuple[float, float]]] = {}
    for g in results["groups"]:
        for info in g["modes"].values():
            m, d = info.get("multiad"), info.get("direct")
            if isinstance(m, dict) and isinstance(d, dict):
                out.setdefault(g["framework"], []).append((d["median_s"], m["median_s"] - d["median_s"]))
    return out


def _overhead_plot(results: dict[str, Any], folder: Path, plt: Any) -> Path | None:
    """The fixed cost multiad adds per call against how long the call takes, per framework."""
    data = overheads(results)
    if not data:
        return None
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    for fw, pts in sorted(data.items()):
        ax.scatter([d * 1e3 for d, _ in pts], [o * 1e6 for _, o in pts], label=fw, s=18)
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=10.0)
    ax.axhline(0.0, color="gray", linewidth=0.8)
    ax.set_xlabel("call duration, direct (ms, log)")
    ax.set_ylabel("multiad - direct per call (us, symlog)")
    ax.set_title("Fixed cost per call against call duration")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = folder / "overhead.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    """``python -m benchmarks.report RESULTS.json``: the Markdown table of a saved run."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=main.__doc__)
    parser.add_argument("results", type=Path)
    parser.add_argument("--plots", type=Path, help="also redraw the plots into this folder")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    if args.plots:
        plots(results, args.plots)
    print(machine.summary(results["machine"]) + "\n")
    print(markdown(results))
    print("\n" + goal_summary(results))


if __name__ == "__main__":
    main()
