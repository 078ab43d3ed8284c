"""A timeit-style harness: warm-up, blocks sized to a target duration, interleaved rounds, medians.

NOTE [Interleaved rounds]: a shared machine's speed drifts over seconds. Every variant of a
group is timed once per round, the order reversed every other round (A B C, C B A, ...), so
drift and any advantage of going first or last touch all of them alike; ratios are the median over rounds of the per-round ratio, absolute times the median over
rounds of the per-call time. The garbage collector is paused inside a timed block, as timeit does.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Settings:
    """How long to measure: ``rounds`` at most, within ``budget_s`` per group where possible."""

    rounds: int = 15
    min_rounds: int = 5
    block_s: float = 0.02
    budget_s: float = 6.0
    warmup: int = 2
    #: Time the first (checked) call only, no further rounds: for ``--smoke``.
    first_call_only: bool = False


SMOKE = Settings(rounds=1, min_rounds=1, block_s=0.0, budget_s=0.0, warmup=0, first_call_only=True)


def _block(fn: Callable[[], Any], sync: Callable[[Any], Any], n: int) -> float:
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(n):
            sync(fn())
        return (time.perf_counter() - start) / n
    finally:
        if enabled:
            gc.enable()


def measure(
    variants: Sequence[tuple[str, Callable[[], Any]]], sync: Callable[[Any], Any], settings: Settings
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Per-call seconds of every variant, one entry per round, and the calls per block."""
    single: dict[str, float] = {}
    for name, fn in variants:
        for _ in range(max(0, settings.warmup - 1)):
            sync(fn())
        single[name] = _block(fn, sync, 1)
    calls = {name: max(1, round(settings.block_s / max(t, 1e-9))) for name, t in single.items()}
    per_round = sum(calls[name] * single[name] for name, _ in variants)
    rounds = int(min(settings.rounds, max(settings.min_rounds, settings.budget_s // max(per_round, 1e-9))))
    times: dict[str, list[float]] = {name: [] for name, _ in variants}
    for r in range(rounds):
        gc.collect()
        for name, fn in variants if r % 2 == 0 else reversed(variants):
            times[name].append(_block(fn, sync, calls[name]))
    return times, calls


def timed(fn: Callable[[], Any], sync: Callable[[Any], Any]) -> tuple[Any, float]:
    """One call's result and its duration in seconds."""
    start = time.perf_counter()
    result = sync(fn())
    return result, time.perf_counter() - start


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def ratio(num: Sequence[float], den: Sequence[float]) -> float:
    """Median over rounds of ``num[r] / den[r]`` (NOTE [Interleaved rounds])."""
    return median([a / b for a, b in zip(num, den)])


def ratio_to_best(num: Sequence[float], *dens: Sequence[float]) -> float:
    """``ratio(num, best)`` where ``best`` is the one of ``dens`` with the smallest median.

    The best variant is chosen once over all rounds, not per round: the smaller of two noisy
    times in each round is biased low whenever the two are close, which would read as overhead
    of ``num`` that is not there.
    """
    return ratio(num, min(dens, key=median))
