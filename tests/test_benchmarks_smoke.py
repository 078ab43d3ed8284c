"""The benchmarks run end to end on tiny sizes (no timing is asserted, only that they ran)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("jax")
pytest.importorskip("autograd")

from benchmarks import run
from benchmarks.frameworks import FACTORIES, OPT_IN
from benchmarks.workloads import WORKLOADS


def test_smoke_run_covers_every_workload_and_framework(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    # --stock-malloc: the allocator's settings would stay with this test process (NOTE [Freed
    # memory kept]; test_freed_memory_is_kept_for_the_next_calls_blocks runs them in its own).
    results = run.main(["--smoke", "--quiet", "--no-plots", "--stock-malloc", "--out", str(out)])
    assert results["machine"]["freed_memory"] == "returned: --stock-malloc"
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))
    seen = {(g["workload"], g["framework"]) for g in results["groups"]}
    skipped = {(s["workload"], s["framework"]) for s in results["skipped"]}
    for fw in FACTORIES:
        ran = {w for (w, f) in seen if f == fw}
        if fw in OPT_IN:  # run only when asked for (NOTE [Compiled torch calls])
            assert not ran and all(f != fw for (_, f) in skipped), fw
            continue
        assert len(ran) + len([1 for (_, f) in skipped if f == fw]) == len(WORKLOADS), fw
        # Exact backends run every workload; only the finite-difference backend may skip some.
        if not fw.startswith("numpy"):
            assert len(ran) == len(WORKLOADS), (fw, ran)
    for g in results["groups"]:
        for name, info in g["modes"].items():
            if "skipped" in info:
                continue
            assert info["multiad"]["median_s"] > 0, (g["workload"], g["framework"], name)
            if "agrees" in info:
                assert info["agrees"], (g["workload"], g["framework"], name, info["max_abs_diff"])
            if isinstance(info.get("direct"), dict):
                assert f"{name}: multiad / direct" in g["ratios"]
    for s in results["skipped"]:
        assert s["reason"], s
    # benchmarks/compiled.py: multiad under jax.jit compiles to jax's own HLO, and under
    # torch.compile traces one graph whose ATen program is torch.func's, except that
    # torch.func.jacfwd also splits and reshapes its result (views, no arithmetic) and makes the
    # basis with new_zeros where multiad uses zeros.
    compiled = results["compiled"]
    assert {r["workload"] for r in compiled["jax.jit"]} == {g["workload"] for g in results["groups"]}
    for r in compiled["jax.jit"]:
        assert r["identical"], r
        assert r["multiad"]["hlo_instructions"] == r["direct"]["hlo_instructions"] > 0, r
    assert len(compiled["torch.compile"]) == len(compiled["jax.jit"])
    views = {"split_with_sizes", "view", "_unsafe_view", "permute"}
    for r in compiled["torch.compile"]:
        assert r["multiad"]["frames"] == r["direct"]["frames"] == 1, r
        assert 0 < r["multiad"]["aten_ops"] <= r["direct"]["aten_ops"], r
        assert set(r["aten_only_multiad"]) <= {"aten.zeros.default"}, r
        allowed = {f"aten.{v}.default" for v in views} | {"aten.new_zeros.default", "<built-in function getitem>"}
        assert set(r["aten_only_direct"]) <= allowed, r


def test_harness_keeps_each_rounds_fastest_block_beside_its_mean() -> None:
    from benchmarks import harness

    settings = harness.Settings(rounds=3, min_rounds=3, block_s=0.002, budget_s=1.0, warmup=1, sub_blocks=8)
    calls = {"a": 0, "b": 0}

    def a() -> int:
        calls["a"] += 1
        return sum(range(200))

    def b() -> int:
        calls["b"] += 1
        return sum(range(400))

    t = harness.measure([("a", a), ("b", b)], lambda x: x, settings)
    # NOTE [Sweeps of long calls]: 8 blocks a round visit half of the 16 depths, so a sweep is
    # two rounds of one order; rounds come in pairs of opposite orders: 3 asked, 4 run, 2 sweeps
    assert t.sweep == 2
    for name in ("a", "b"):
        assert len(t.rounds[name]) == 4 and len(t.fastest[name]) == 2
        ts = t.rounds[name]
        assert 0 < t.fastest[name][0] <= min(ts[0], ts[2]) and 0 < t.fastest[name][1] <= min(ts[1], ts[3])
        # three calibration calls, then 4 rounds of 8 blocks, each block one untimed call and its timed ones
        assert calls[name] == 3 + 4 * 8 * (1 + t.calls_per_block[name])
    # NOTE [Same calls per block]: b takes twice as long as a, yet its blocks run as many calls
    assert t.calls_per_block["a"] == t.calls_per_block["b"]


def test_harness_runs_the_blocks_of_a_round_at_depths_across_a_stack_chunk() -> None:
    import sys

    from benchmarks import harness

    # NOTE [Depths across a stack chunk]: 16 blocks a round, at 16 depths 10 frames apart, the
    # same for both variants; with 4 blocks a round the depths come in turn over 4 rounds.
    def depth() -> int:
        frame, n = sys._getframe(), 0
        while frame is not None:
            frame, n = frame.f_back, n + 1
        return n

    # blocks of many short calls (16 a round), then of one call each (4 a round: block_s=0)
    for block_s, rounds in ((0.002, 2), (0.0, 4)):
        seen: dict[str, list[int]] = {"a": [], "b": []}
        settings = harness.Settings(rounds=rounds, min_rounds=rounds, block_s=block_s, budget_s=10.0, warmup=1)
        a, b = seen["a"], seen["b"]
        harness.measure(
            [("a", lambda a=a: a.append(depth())), ("b", lambda b=b: b.append(depth()))],
            lambda x: x,
            settings,
        )
        timed = {name: calls[harness._CALIBRATION :] for name, calls in seen.items()}  # after calibration
        assert timed["a"] == timed["b"]
        base = min(timed["a"])
        assert sorted(set(timed["a"])) == [base + harness._DEPTH_STEP * i for i in range(16)]


def test_interval_is_the_order_statistics_that_bound_the_median_at_95_percent() -> None:
    from benchmarks import harness

    # 6 pairs: P(all 6 on one side of the median) = 2 / 64, so [min, max] covers it with 62/64
    assert harness.coverage(6) == pytest.approx(1 - 2 / 64)
    # 5 pairs: [min, max] is all there is, at 30/32 < 95 %
    assert harness.coverage(5) == pytest.approx(1 - 2 / 32)
    # 20 pairs: P(Binomial(20, 1/2) <= 5) = 0.0207 <= 0.025 < P(<= 6) = 0.0577: the 6th from each end
    assert harness.coverage(20) == pytest.approx(1 - 2 * sum(math.comb(20, i) for i in range(6)) / 2**20)
    den = [1.0] * 40
    num = [1.0 + i / 100 for i in range(20) for _ in range(2)]  # pair i reads 1 + i / 100
    assert harness.interval(num, den) == (pytest.approx(1.05), pytest.approx(1.14))
    # against the best of several: the interval of the ratio to the one with the smallest median
    assert harness.interval(num, [2.0] * 40, den) == (pytest.approx(1.05), pytest.approx(1.14))


def _fake_blocks(monkeypatch: pytest.MonkeyPatch, per_call: dict[int, list[float]]) -> list[int]:
    """``harness._block`` returning, for the variant whose function returns ``key``, the next of
    ``per_call[key]`` (cycled); the list returned counts the timed blocks."""
    from benchmarks import harness

    seen = {key: 0 for key in per_call}
    blocks: list[int] = []

    def block(fn: object, sync: object, n: int, warm: bool = False) -> float:
        key = fn()  # type: ignore[operator]
        if not warm:
            return per_call[key][0]
        blocks.append(key)
        seen[key] += 1
        return per_call[key][seen[key] % len(per_call[key])]

    monkeypatch.setattr(harness, "_block", block)
    return blocks


@pytest.mark.parametrize("true_ratio", [1.0, 1.5])
def test_precise_comparisons_stop_after_six_pairs_whatever_their_ratio(
    monkeypatch: pytest.MonkeyPatch, true_ratio: float
) -> None:
    from benchmarks import harness

    blocks = _fake_blocks(monkeypatch, {0: [true_ratio * 1e-4], 1: [1e-4]})
    settings = harness.Settings(rounds=200, budget_s=1e9, precision=0.01)
    t = harness.measure([("a", lambda: 0), ("b", lambda: 1)], lambda x: x, settings)
    assert len(t.fastest["a"]) == 12  # the fewest rounds with a 95 % interval (NOTE [Stopping on precision])
    assert len(blocks) == 12 * 2 * settings.sub_blocks
    assert harness.ratio(t.fastest["a"], t.fastest["b"]) == pytest.approx(true_ratio)


def test_imprecise_comparisons_run_until_their_rounds_are_spent(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import harness

    # calls of about a second: 4 blocks a round, a sweep of 4 rounds (NOTE [Sweeps of long
    # calls]). a's blocks read 0.9 for a pair of sweeps (32 blocks), then 1.2 for the next: the
    # pairs' ratios are 0.9 and 1.2 in turn, so the interval never gets narrower than 0.01
    _fake_blocks(monkeypatch, {0: [0.9] * 32 + [1.2] * 32, 1: [1.0]})
    settings = harness.Settings(rounds=31, budget_s=1e9, precision=0.01)
    t = harness.measure([("a", lambda: 0), ("b", lambda: 1)], lambda x: x, settings)
    assert len(t.rounds["a"]) == 32  # the cap, in whole pairs of sweeps
    assert len(t.fastest["a"]) == 8
    low, high = harness.interval(t.fastest["a"], t.fastest["b"])
    assert (high - low) / 2 > 0.01


def test_measure_unfreezes_the_collector() -> None:
    import gc

    from benchmarks import harness

    settings = harness.Settings(rounds=2, min_rounds=2, block_s=0.001, budget_s=0.1, warmup=1)
    harness.measure([("a", lambda: 0), ("b", lambda: 1)], lambda x: x, settings)
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_ratio_cancels_a_position_effect_over_pairs_of_opposite_orders() -> None:
    from benchmarks import harness

    # true ratio 1.02; the side that runs first in a round is 10 % slower
    den = [1.0, 1.1, 1.0, 1.1, 1.0, 1.1]
    num = [1.02 * 1.1, 1.02, 1.02 * 1.1, 1.02, 1.02 * 1.1, 1.02]
    assert harness.ratio(num, den) == pytest.approx(1.02)
    assert harness.median([a / b for a, b in zip(num, den)]) != pytest.approx(1.02)


def test_each_comparison_is_timed_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    # NOTE [One comparison at a time]: nothing but the two (or three) calls compared is timed
    # between them, and every ratio comes from its own comparison's rounds.
    from benchmarks import harness
    from benchmarks.workloads import SMOKE_SIZES

    timed: list[tuple[str, ...]] = []
    # per variant a time per round, times the comparison's number: a ratio of two variants of
    # different comparisons would be off by that factor
    scale = {"jacfwd/multiad": 1.01, "jacfwd/direct": 1.0, "jacrev/multiad": 1.04, "jacrev/direct": 1.0}
    scale |= {"jacobian(auto)/multiad": 1.02, "jacfwd/direct again": 1.0}

    def measure(variants: list[tuple[str, object]], sync: object, settings: harness.Settings) -> harness.Timings:
        names = tuple(name for name, _ in variants)
        timed.append(names)
        factor = float(len(timed))
        rounds = {n: [scale[n] * factor * 1e-3] * 6 for n in names}
        return harness.Timings(rounds, rounds, dict.fromkeys(names, 1))

    monkeypatch.setattr(harness, "measure", measure)
    fw = FACTORIES["torch"]()
    group = WORKLOADS["tall"](fw, SMOKE_SIZES)
    entry = run._run_group(group, harness.Settings(rounds=6, budget_s=1.0))
    assert sorted(timed) == sorted(
        [
            ("jacfwd/multiad", "jacfwd/direct"),
            ("jacrev/multiad", "jacrev/direct"),
            ("jacobian(auto)/multiad", "jacfwd/multiad", "jacrev/multiad"),
            ("jacfwd/direct", "jacfwd/direct again"),
        ]
    )
    ratios = {k: v["value"] for k, v in entry["ratios"].items()}
    assert ratios["jacfwd: multiad / direct"] == pytest.approx(1.01)
    assert ratios["jacrev: multiad / direct"] == pytest.approx(1.04)
    assert ratios["auto / best of fwd, rev"] == pytest.approx(1.02 / 1.01)
    assert entry["control"]["value"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("per_call", "calls", "blocks", "rounds"),
    [(1e-4, 12, 16, 2), (5e-4, 2, 16, 2), (2e-3, 1, 10, 4), (1e-2, 1, 4, 8)],
)
def test_blocks_are_short_and_as_many_as_fill_a_round(
    monkeypatch: pytest.MonkeyPatch, per_call: float, calls: int, blocks: int, rounds: int
) -> None:
    # NOTE [Short blocks]: 16 blocks of about 1.25 ms per variant and round; one call per block
    # and at least 4 blocks where calls are longer, rounds then running in whole pairs of sweeps
    # over the 16 depths (NOTE [Sweeps of long calls]): 2 asked
    from benchmarks import harness

    timed = _fake_blocks(monkeypatch, {0: [per_call], 1: [per_call]})
    settings = harness.Settings(rounds=2, min_rounds=2, budget_s=1e9)
    t = harness.measure([("a", lambda: 0), ("b", lambda: 1)], lambda x: x, settings)
    assert t.calls_per_block == {"a": calls, "b": calls}
    assert len(t.rounds["a"]) == rounds
    assert len(timed) == 2 * rounds * blocks


def test_long_calls_are_read_at_each_sides_quiet_depth(monkeypatch: pytest.MonkeyPatch) -> None:
    # NOTE [Sweeps of long calls]: two variants of equal cost, each quiet (1.0) at two of the 16
    # depths and slow (1.5) elsewhere, at different depths; rounds of 4 blocks (long calls). Read
    # by rounds, a round holding a's quiet depths and not b's says 0.67; read by sweeps every
    # pair says 1.00.
    from benchmarks import harness

    quiet = {0: {3, 4}, 1: {5, 6}}
    depth = [0]

    def deeper(frames: int, call: Any, *args: Any) -> Any:
        depth[0] = frames // harness._DEPTH_STEP
        return call(*args)

    def block(fn: Any, sync: Any, n: int, warm: bool = False) -> float:
        key = fn()
        if not warm:
            return 0.01  # calibration: 10 ms calls, 4 blocks a round
        return 1.0 if depth[0] in quiet[key] else 1.5

    monkeypatch.setattr(harness, "_deeper", deeper)
    monkeypatch.setattr(harness, "_block", block)
    settings = harness.Settings(rounds=48, min_rounds=48, budget_s=1e9, precision=0.0)
    t = harness.measure([("a", lambda: 0), ("b", lambda: 1)], lambda x: x, settings)
    assert t.sweep == 4 and len(t.rounds["a"]) == 48 and len(t.fastest["a"]) == 12
    assert t.fastest["a"] == t.fastest["b"] == [1.0] * 12
    assert harness.interval(t.fastest["a"], t.fastest["b"]) == (1.0, 1.0)


def _rounds(ratios: list[float]) -> tuple[list[float], list[float]]:
    """Fastest-block times of two variants whose rounds read ``ratios``, the second always 1 ms."""
    return [r * 1e-3 for r in ratios], [1e-3] * len(ratios)


@pytest.mark.parametrize(
    ("ratios", "met"),
    [
        ([0.996, 1.003, 1.006, 1.009, 1.004, 1.002] * 2, True),  # above 1.00, the interval reaching it
        ([1.020, 1.024, 1.022, 1.026, 1.021, 1.025] * 2, False),  # the whole interval above 1.00
        ([0.990, 0.993, 0.991, 0.995, 0.992, 0.994] * 2, True),
    ],
)
def test_a_goal_within_noise_is_met_where_the_interval_reaches_it(ratios: list[float], met: bool) -> None:
    # NOTE [Goals within noise] in benchmarks/run.py: jax.jit rows run the same program on both sides
    r = run._ratio(list(_rounds(ratios)), 1.00, within_noise=True)
    assert r["met"] is met and r["within_noise"]
    assert r["ci"][0] <= 1.00 if met else r["ci"][0] > 1.00


def test_an_eager_goal_is_read_against_the_ratio_not_its_interval() -> None:
    ratios = [r for r in (1.04, 1.06, 1.055, 1.058, 1.056, 1.045) for _ in range(2)]  # pairs of rounds
    r = run._ratio(list(_rounds(ratios)), 1.05)
    assert r["ci"][0] < 1.05 < r["value"] and r["met"] is False and "within_noise" not in r


def test_stack_chunks_are_kept_across_calls_that_cross_a_chunk() -> None:
    # NOTE [Stack chunks kept]: a recursion 400 frames deep crosses CPython 3.11's 16 KiB stack
    # chunks; unkept, each crossing maps a fresh chunk and faults its pages in, kept, the chunks
    # are reused. Run in its own interpreter, which the allocator then serves until it exits.
    import shutil
    import subprocess
    import sys

    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler to build benchmarks/stack_chunks.c")
    script = """
import resource, sys
from benchmarks import stack_chunks

def down(n):
    return down(n - 1) + 1 if n else 0

def faults():
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    total = sum(down(400) for _ in range(300))
    return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before, total

print(*faults(), stack_chunks.keep(), *faults(), *faults(), stack_chunks.reused())
"""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, check=True)
    stock, total, state, _, total_kept, kept, _, reused = done.stdout.split()
    assert state == "kept", done.stdout
    assert int(total) == int(total_kept) == 300 * 400  # the same results either way
    if sys.version_info < (3, 13):  # interpreters that unmap a chunk as soon as the stack leaves it
        assert int(stock) >= 300, done.stdout
    assert int(kept) <= 10 and int(reused) >= 300, done.stdout


def test_freed_memory_is_kept_for_the_next_calls_blocks() -> None:
    # NOTE [Freed memory kept]: a 32 MiB block allocated, written and freed on each call, in the main thread and
    # in a thread started afterwards as the frameworks' pools are, faults its pages in on each
    # call with glibc's defaults and reuses them once kept. Its own interpreter, as the setting stays.
    import platform
    import subprocess
    import sys

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("the parameters set are glibc's")
    script = """
import ctypes, ctypes.util, resource, threading
from benchmarks import freed_memory

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
size = 32 << 20

def call():  # a block as JAX's CPU buffers get one (numpy asks for huge pages, which fault less)
    p = libc.malloc(size)
    ctypes.memset(p, 1, size)
    byte = ctypes.string_at(p + size - 1, 1)
    libc.free(p)
    return byte[0]

def faults(out):
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    total = sum(call() for _ in range(20))
    out.append((resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before, total))

def in_thread():
    out = []
    t = threading.Thread(target=faults, args=(out,))
    t.start(); t.join()
    return out[0]

stock = []
faults(stock)
state = freed_memory.keep()
kept = []
faults(kept); faults(kept)
print(stock[0][0], stock[0][1], state, kept[1][0], kept[1][1], *in_thread(), freed_memory.keep())
"""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, check=True)
    stock, total, state, kept, total_kept, threaded, total_threaded, again = done.stdout.split()
    assert state == again == "kept", done.stdout
    assert int(total) == int(total_kept) == int(total_threaded) == 20  # the same results
    assert int(stock) >= 20 * 8192 // 2, done.stdout  # 32 MiB of 4 KiB pages, faulted on each call
    assert int(kept) <= 50 and int(threaded) <= 50, done.stdout  # a thread started later shares the kept heap


def test_long_calls_are_read_round_by_round_where_stack_chunks_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    # NOTE [Sweeps of long calls]: with chunks kept no depth is quieter than another, so each
    # round's fastest block is a reading of its own (4 blocks a round here, calls of 10 ms)
    from benchmarks import harness

    _fake_blocks(monkeypatch, {0: [1e-2], 1: [1e-2]})
    settings = harness.Settings(rounds=8, min_rounds=8, budget_s=1e9, sweeps=False)
    t = harness.measure([("a", lambda: 0), ("b", lambda: 1)], lambda x: x, settings)
    assert t.sweep == 1 and len(t.rounds["a"]) == len(t.fastest["a"]) == 8


def test_mnp_dispatch_benchmark_runs_every_row() -> None:
    from benchmarks import mnp_dispatch

    rows = mnp_dispatch.main(["--smoke", "--size", "64", "--frameworks", "torch", "jax", "autograd", "numpy"])
    seen = {(r["framework"], r["row"]) for r in rows}
    assert ("torch", "linalg.norm") in seen and ("jax", "hvp sum(sin(x))") in seen and ("numpy", "sin") in seen
    assert all(r["mnp_us"] > 0 and r["own_us"] > 0 and r["ratio"] > 0 for r in rows), rows


def test_guard_cost_times_both_sides_with_and_without_guards() -> None:
    pytest.importorskip("torch")
    from benchmarks import guard_cost

    t = guard_cost.measure("hvp", "hvp", rounds=1, number=2)
    assert set(t) == {"multiad guards", "direct guards", "multiad skipped", "direct skipped"}
    assert all(v > 0 for v in t.values()), t
