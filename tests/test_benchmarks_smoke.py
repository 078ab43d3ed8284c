"""The benchmarks run end to end on tiny sizes (no timing is asserted, only that they ran)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("jax")
pytest.importorskip("autograd")

from benchmarks import run
from benchmarks.frameworks import FACTORIES
from benchmarks.workloads import WORKLOADS


def test_smoke_run_covers_every_workload_and_framework(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    results = run.main(["--smoke", "--quiet", "--no-plots", "--out", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))
    seen = {(g["workload"], g["framework"]) for g in results["groups"]}
    skipped = {(s["workload"], s["framework"]) for s in results["skipped"]}
    for fw in FACTORIES:
        ran = {w for (w, f) in seen if f == fw}
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

    settings = harness.Settings(rounds=3, min_rounds=3, block_s=0.002, budget_s=1.0, warmup=1, sub_blocks=3)
    calls = {"a": 0, "b": 0}

    def a() -> int:
        calls["a"] += 1
        return sum(range(200))

    def b() -> int:
        calls["b"] += 1
        return sum(range(400))

    t = harness.measure([("a", a), ("b", b)], lambda x: x, settings)
    for name in ("a", "b"):
        # rounds come in pairs of opposite orders: 3 asked, 4 run
        assert len(t.rounds[name]) == len(t.fastest[name]) == 4
        assert all(0 < f <= m for f, m in zip(t.fastest[name], t.rounds[name]))
        # the first call, then 4 rounds of 3 blocks, each block one untimed call and its timed ones
        assert calls[name] == 1 + 4 * 3 * (1 + t.calls_per_block[name])


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
