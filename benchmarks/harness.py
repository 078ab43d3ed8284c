"""A timeit-style harness: warm-up, blocks sized to a target duration, interleaved rounds, medians.

NOTE [Interleaved rounds]: a shared machine's speed drifts over seconds. Every variant of a
comparison (two calls, usually: NOTE [One comparison at a time] in run.py) is timed in each
round, the order reversed every other round (A B C, C B A, ...), so drift and any advantage of
going first or last touch all of them alike. Within a round each
variant runs as ``sub_blocks`` short blocks, interleaved (A B C A B C ...). Ratios are the median
over rounds of the per-round ratio of the fastest block of each variant; absolute times are the
median over rounds of the mean per-call time of the round's blocks. The garbage collector is
paused inside a round, as timeit does.

NOTE [Pairs of opposite orders]: where a variant runs within its round matters, and not only
through drift. A block that follows a different computation starts with cold caches and
allocator; one that follows the same computation (the other side of its pair, which runs the
same kernels on the same arrays) starts warm. In the project's published run before the
remedies below, the multiad / direct ratios of the rounds where multiad ran first were 1.05 to
1.29, of those where direct ran first 0.86 to 1.05, for the same calls; the median over all
rounds landed anywhere between. Two remedies: every timed block starts after one untimed call
of its own variant, so that each block starts from its own computation's state whatever ran
before; and the rounds come in pairs of opposite orders (A B C D, then D C B A), the reported
ratio being the median over pairs of the geometric mean of the pair's two ratios, so that what
is left of a position effect, a factor ``p`` in one round and ``1 / p`` in the other, cancels.

NOTE [Fastest block per round]: what multiad adds to a call is deterministic work; what a shared
machine adds (another process, the hypervisor taking the CPU, a cache flushed) only makes a
block slower, never faster. The fastest of a round's blocks is therefore the best estimate of
each variant's own cost, as timeit's documentation says of its minimum, and the ratio of two
fastest blocks is the ratio of the two costs. Timing the framework's call against itself (the
"control" of every group, ``direct / direct``) measures what the estimator makes of noise
alone: on this project's 2-core machine, under load, 6 repetitions of 25 rounds of torch's
wide jacrev gave a control spread (standard deviation of the run's ratio) of 0.042 with the
round's mean time and 0.011 with its fastest block, both centred on 1.00; the reports print
every group's control so that a ratio can be read against its noise.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Settings:
    """How long to measure: ``rounds`` at most, within ``budget_s`` per group where possible."""

    rounds: int = 15
    min_rounds: int = 6
    block_s: float = 0.02
    #: Blocks per variant and round, of ``block_s / sub_blocks`` each (NOTE [Fastest block per round]).
    sub_blocks: int = 4
    budget_s: float = 6.0
    warmup: int = 2
    #: Time the first (checked) call only, no further rounds: for ``--smoke``.
    first_call_only: bool = False


SMOKE = Settings(rounds=1, min_rounds=1, block_s=0.0, budget_s=0.0, warmup=0, first_call_only=True)


def _block(fn: Callable[[], Any], sync: Callable[[Any], Any], n: int, warm: bool = False) -> float:
    if warm:  # NOTE [Pairs of opposite orders]: one untimed call first
        sync(fn())
    start = time.perf_counter()
    for _ in range(n):
        sync(fn())
    return (time.perf_counter() - start) / n


@dataclass(frozen=True)
class Timings:
    """Per variant, one entry per round: the mean per-call seconds of the round's blocks
    (``rounds``), and the per-call seconds of its fastest block (``fastest``)."""

    rounds: dict[str, list[float]]
    fastest: dict[str, list[float]]
    calls_per_block: dict[str, int]


def measure(
    variants: Sequence[tuple[str, Callable[[], Any]]], sync: Callable[[Any], Any], settings: Settings
) -> Timings:
    """Times every variant in interleaved rounds (NOTE [Interleaved rounds])."""
    single: dict[str, float] = {}
    for name, fn in variants:
        for _ in range(max(0, settings.warmup - 1)):
            sync(fn())
        single[name] = _block(fn, sync, 1)
    k = max(1, settings.sub_blocks)
    calls = {name: max(1, round(settings.block_s / k / max(t, 1e-9))) for name, t in single.items()}
    per_round = k * sum((calls[name] + 1) * single[name] for name, _ in variants)
    rounds = int(min(settings.rounds, max(settings.min_rounds, settings.budget_s // max(per_round, 1e-9))))
    rounds += rounds % 2 if rounds > 1 else 0  # pairs of opposite orders (NOTE [Pairs of opposite orders])
    means: dict[str, list[float]] = {name: [] for name, _ in variants}
    fastest: dict[str, list[float]] = {name: [] for name, _ in variants}
    enabled = gc.isenabled()
    for r in range(rounds):
        order = list(variants if r % 2 == 0 else reversed(variants))
        blocks: dict[str, list[float]] = {name: [] for name, _ in variants}
        gc.collect()
        gc.disable()
        try:
            for _ in range(k):
                for name, fn in order:
                    blocks[name].append(_block(fn, sync, calls[name], True))
        finally:
            if enabled:
                gc.enable()
        for name, ts in blocks.items():
            means[name].append(statistics.fmean(ts))
            fastest[name].append(min(ts))
    return Timings(means, fastest, calls)


def timed(fn: Callable[[], Any], sync: Callable[[Any], Any]) -> tuple[Any, float]:
    """One call's result and its duration in seconds."""
    start = time.perf_counter()
    result = sync(fn())
    return result, time.perf_counter() - start


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def ratio(num: Sequence[float], den: Sequence[float]) -> float:
    """The ratio of two variants' times, given per round (the fastest block of each round,
    NOTE [Fastest block per round]): per pair of consecutive rounds, which ran in opposite
    orders, the geometric mean of the two rounds' ratios; the median over pairs (NOTE [Pairs of
    opposite orders]). A single round gives its own ratio."""
    qs = [a / b for a, b in zip(num, den)]
    if len(qs) < 2:
        return median(qs)
    return median([math.sqrt(qs[i] * qs[i + 1]) for i in range(0, len(qs) - 1, 2)])


def ratio_to_best(num: Sequence[float], *dens: Sequence[float]) -> float:
    """``ratio(num, best)`` where ``best`` is the one of ``dens`` with the smallest median.

    The best variant is chosen once over all rounds, not per round: the smaller of two noisy
    times in each round is biased low whenever the two are close, which would read as overhead
    of ``num`` that is not there.
    """
    return ratio(num, min(dens, key=median))
