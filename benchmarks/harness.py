"""A timeit-style harness: warm-up, blocks sized to a target duration, interleaved rounds, medians.

NOTE [Interleaved rounds]: a shared machine's speed drifts over seconds. Every variant of a
comparison (two calls, usually: NOTE [One comparison at a time] in run.py) is timed in each
round, the order reversed every other round (A B C, C B A, ...), so drift and any advantage of
going first or last touch all of them alike. Within a round each
variant runs as ``sub_blocks`` short blocks, interleaved (A B C A B C ...). Ratios are the median
over rounds of the per-round ratio of the fastest block of each variant; absolute times are the
median over rounds of the mean per-call time of the round's blocks. The garbage collector is
paused inside a round, as timeit does (NOTE [Collections between rounds]).

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

NOTE [Same calls per block]: the blocks of every variant of a comparison run the same number of
calls, sized from the fastest of three calls of the comparison's first variant. Sized per
variant from one call each (as before), the two sides of a comparison, the control's two copies
of one call included, often ran different numbers of calls per block (2 against 4, 1 against 3,
10 against 1 calls in the project's runs): the fastest of a round's blocks is a minimum, and a
minimum over blocks of fewer calls, which spread more, is lower, so the side with fewer calls
read faster. Controls with unequal blocks read 0.941 (1 against 3 calls, jax ``tall``), 0.985
(2 against 4) and 1.072 (torch ``jacobian 16->16``, 10 against 1), against 1.00 expected. The
fastest of the calibration calls, not their median, because a busy machine makes single calls
of 0.1 ms take several ms; the blocks are then short rather than long. For jacobian(auto) the
first variant is auto's own call, which is sized like the better mode it is compared with.

NOTE [Short blocks]: a round times each variant for about ``block_s`` (20 ms) as 16 short
blocks of about 1.25 ms, not 4 of 5 ms: on a shared machine under load the scheduler takes the
CPU from the process every few milliseconds, so nearly every 5 ms block contains a preemption,
while a good share of 1.25 ms blocks fit between two, and the fastest of 16 short blocks is one
that did. Side by side on this project's 2-core machine at a load of 8 to 10 (other processes
running tests), three repetitions of the same comparisons of torch's ``jacobian 16->16`` under
equal budgets read: the control 1.182, 1.007 and 0.877 with 4 blocks of 5 ms, 1.008, 0.991 and
0.997 with 16 of 1.25 ms (4 of 1.25 ms: 1.063, 1.097, 0.998); ``jacrev`` 1.004, 1.025, 1.045
against 1.043, 1.052, 1.046 (95 % intervals of +-0.21 to 0.77 against +-0.003 to 0.015); the
``vjp`` loop 1.019, 0.699, 1.375 against 1.017, 1.066, 1.053. Calls longer than a short block
run one per block, and as many blocks as fill ``block_s`` but at least 4, so that a round of
long calls does not grow 16-fold; those rows are imprecise on a busy machine whatever the
blocks (each call is preempted), and only more rounds narrow them (NOTE [Stopping on
precision]). A block still starts with one untimed call of its variant (NOTE [Pairs of opposite
orders]); with blocks of one or two calls that call is half of the time spent, which the budget
pays.

NOTE [Collections between rounds]: every round starts with ``gc.collect()``, so that the
garbage of one round is not collected inside the next. With torch, jax or autograd imported a
full collection traverses 170,000 to 250,000 objects and takes 0.10 to 0.19 s on this project's
machine: three to five times a round's timed blocks (8 blocks of 5 ms), so most of a group's
budget went to collecting, and groups of short calls ran 25 rounds in 6 to 10 s instead of
about 2. The objects that exist when a comparison starts (the frameworks' modules, the inputs,
the prepared transforms) are collected once and frozen (``gc.freeze()``) for the comparison;
the collection between rounds then only sees what the timed calls allocated, in microseconds.

NOTE [Stopping on precision]: a comparison runs pairs of rounds until its ratio is precise
enough, not a fixed number: from 6 pairs on it stops once the 95 % confidence interval of
the ratio (the median of the pairs' ratios) is narrower than ``precision`` on each side (0.01:
a 5 % goal needs a ratio known to about 1 %); it also stops once its budget is spent (after
``min_rounds`` at least), or after ``rounds``.
The interval is distribution-free: the pairs' ratios are independent draws, so the median lies
between their ``j``-th smallest and ``j``-th largest with probability ``1 - 2 P(Binomial(n,
1/2) <= j - 1)``; it exists at 95 % from 6 pairs (12 rounds), and with fewer (the floor of 3
pairs that long calls get) the interval reported is the smallest to the largest pair, with its
lower confidence (``coverage``). The pairs are taken as independent; a load that changes
over seconds makes neighbouring pairs alike, and the stated level is then optimistic. The rule looks at the spread of the pairs only, never at the
ratio's value or its distance from a goal, so it cannot stop a comparison because it passes;
the same rule applies to every comparison and to both of its sides alike, the control
included. Quiet rows stop after 6 pairs; the budget they leave goes to the group's later
comparisons (each gets at least its equal share of ``--budget``), and a group's leftover to the
run's later groups (each gets at least ``--budget``; ``run.py``), so that the noisy rows, mostly
calls of tens of milliseconds, get the time. The order of the run decides who gets leftovers,
never a ratio. Every ratio is published with
its interval, and a row whose interval is wider than its distance from the goal is not
resolved by the run, whichever side of the goal its ratio lies.
NOTE [Depths across a stack chunk]: CPython 3.11 and 3.12 keep Python frames in 16 KiB chunks
(2,048 words), map a new chunk when a call does not fit in the current one, and unmap it as
soon as the stack leaves it (python/cpython#142183; 3.13 and 3.14 keep one chunk since their
releases of March 2026). A call whose deepest frames, reached once per framework operation,
straddle a chunk's end pays a map, page faults and an unmap each time, 10 to 12 us: JAX's eager
``vmap(hessian)`` of the batched Hessian workload ran at 1.375 times the wall time at 238
faults a call than at 7, for the same work. Which side of a comparison straddles depends on the
caller's depth only: at the harness's own depth multiad's five extra frames (169 words) put
JAX's deepest frames past a chunk's end and JAX's own call not (multiad 17 to 27 faults a call,
JAX 1 to 10; ratio 1.03 to 1.05), 90 frames deeper it was the other way round (JAX 82 to 84,
multiad 13 to 32; ratio 0.85 and 0.93), and over one chunk's worth of depths the two averaged
102 and 100 faults a call. A benchmark timed at one depth measures where its caller happens to
stand. The blocks of a round therefore run at depths spread over one chunk, ``_DEPTH_STEP``
frames apart (a frame of ``_deeper`` holds 13 words; 16 steps of 10 frames span 2,080 words),
the same depths for every variant, and the fastest block of each variant (NOTE [Fastest block
per round]) is then one at a depth where its calls do not straddle: the cost of the work, not of
where the chunk boundary fell. The recursion runs before a block's clock starts.

NOTE [Sweeps of long calls]: a round of long calls has fewer than 16 blocks (NOTE [Short
blocks]), so it cannot visit every depth, and its fastest block is a minimum over the depths it
happened to get. Each side of a comparison is quiet at 2 to 4 of the 16 depths, and multiad's
quiet depths sit one to two steps from the framework's own (the frames multiad adds), so a round of
4 depths often held a quiet depth for one side and none for the other: in the project's run of
jax's ``hessian 512->32 (summed)`` ``jacrev(jacrev)`` (10 ms calls, 4 blocks a round) the rounds'
ratios spread from 0.9 to 1.2 and the median over 11 pairs read 1.061 (1.016 to 1.076), and
``tall`` ``jacrev`` (31 ms) 1.055 (0.951 to 1.206), for the same work on both sides. The depths
therefore go by pairs of rounds (both rounds of a pair, which run in opposite orders, at the same
depths), and a comparison of long calls is read by *sweeps*: the ``ceil(16 / blocks)`` rounds of
one order that together visit every depth. A variant's fastest time of a sweep is its fastest
block over the sweep's rounds, and two consecutive sweeps, of opposite orders, make the pair of
NOTE [Pairs of opposite orders]. Where a round has 16 blocks a sweep is one round, as before.
A sweep of 30 ms calls takes about 4 s, so such rows get fewer pairs within a budget, each of
which measures both sides at their own quiet depth. Where the run keeps freed stack chunks
(NOTE [Stack chunks kept] in stack_chunks.py) no depth is quieter than another, and rounds are
read one by one (``Settings.sweeps`` off): four times the pairs in the same time.
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
    """How long to measure: each comparison runs rounds in pairs until its ratio's confidence
    interval is narrower than ``precision`` (after ``min_rounds``), until ``budget_s`` per
    group is spent, or until ``rounds``; see NOTE [Stopping on precision]."""

    rounds: int = 200
    min_rounds: int = 6
    block_s: float = 0.02
    #: Blocks per variant and round, of ``block_s / sub_blocks`` each, fewer where calls are
    #: longer than that (NOTE [Fastest block per round], NOTE [Short blocks]).
    sub_blocks: int = 16
    budget_s: float = 6.0
    warmup: int = 2
    #: Half-width of the ratio's 95 % confidence interval at which a comparison stops.
    precision: float = 0.01
    #: Read long calls by sweeps over the stack depths (NOTE [Sweeps of long calls]); off where
    #: the run keeps freed stack chunks.
    sweeps: bool = True
    #: Time the first (checked) call only, no further rounds: for ``--smoke``.
    first_call_only: bool = False


SMOKE = Settings(rounds=1, min_rounds=1, block_s=0.0, budget_s=0.0, warmup=0, first_call_only=True)
#: Rounds before a 95 % interval of the median of pairs exists (6 pairs: NOTE [Stopping on precision]).
_CI_ROUNDS = 12
#: Blocks per variant and round where calls are too long for ``sub_blocks`` of them (NOTE [Short blocks]).
_FEWEST_BLOCKS = 4
#: Calls per variant, the fastest of the first variant's sizing the blocks (NOTE [Same calls per block]).
_CALIBRATION = 3
#: Frames between the depths at which a round's blocks run, and how many depths: 16 steps of
#: 10 frames of 13 words cover one 2,048-word stack chunk (NOTE [Depths across a stack chunk]).
_DEPTH_STEP = 10
_DEPTHS = 16


def _deeper(frames: int, call: Callable[..., float], *args: Any) -> float:
    """``call(*args)``, run ``frames`` Python frames below this one (NOTE [Depths across a stack chunk])."""
    if frames > 0:
        return _deeper(frames - 1, call, *args)
    return call(*args)


def _block(fn: Callable[[], Any], sync: Callable[[Any], Any], n: int, warm: bool = False) -> float:
    if warm:  # NOTE [Pairs of opposite orders]: one untimed call first
        sync(fn())
    start = time.perf_counter()
    for _ in range(n):
        sync(fn())
    return (time.perf_counter() - start) / n


@dataclass(frozen=True)
class Timings:
    """Per variant: the mean per-call seconds of each round's blocks (``rounds``), and the
    per-call seconds of the fastest block of each sweep (``fastest``; a sweep is a round where
    rounds have 16 blocks, NOTE [Sweeps of long calls])."""

    rounds: dict[str, list[float]]
    fastest: dict[str, list[float]]
    calls_per_block: dict[str, int]
    #: Wall-clock seconds the comparison took, calibration included.
    seconds: float = 0.0
    #: Rounds per sweep (NOTE [Sweeps of long calls]).
    sweep: int = 1


def measure(
    variants: Sequence[tuple[str, Callable[[], Any]]], sync: Callable[[Any], Any], settings: Settings
) -> Timings:
    """Times every variant in interleaved rounds (NOTE [Interleaved rounds]) until the ratio of
    the first variant to the best of the others is precise (NOTE [Stopping on precision])."""
    began = time.perf_counter()
    enabled = gc.isenabled()
    gc.collect()
    gc.freeze()  # NOTE [Collections between rounds]
    try:
        single: dict[str, float] = {}
        for name, fn in variants:
            for _ in range(max(0, settings.warmup - 1)):
                sync(fn())
            single[name] = min(_block(fn, sync, 1) for _ in range(_CALIBRATION))
        # NOTE [Same calls per block], NOTE [Short blocks]
        per_call = max(single[variants[0][0]], 1e-9)
        n = max(1, round(settings.block_s / max(1, settings.sub_blocks) / per_call))
        k = max(1, min(settings.sub_blocks, max(_FEWEST_BLOCKS, round(settings.block_s / (n * per_call)))))
        means: dict[str, list[float]] = {name: [] for name, _ in variants}
        fastest: dict[str, list[float]] = {name: [] for name, _ in variants}
        lowest: dict[str, list[float]] = {name: [] for name, _ in variants}  # per round
        first, *others = [name for name, _ in variants]
        # NOTE [Sweeps of long calls]: whole pairs of sweeps, one sweep a round where k == 16
        sweep = -(-_DEPTHS // k) if settings.rounds > 1 and settings.sweeps else 1
        rounds, cap = 0, max(1, settings.rounds)
        cap += -cap % (2 * sweep) if cap > 1 else 0  # NOTE [Pairs of opposite orders]
        while rounds < cap:
            order = list(variants if rounds % 2 == 0 else reversed(variants))
            blocks: dict[str, list[float]] = {name: [] for name, _ in variants}
            gc.collect()
            gc.disable()
            try:
                for j in range(k):
                    # NOTE [Depths across a stack chunk]: both rounds of a pair at the same depths
                    depth = ((rounds // 2) * k + j) % _DEPTHS * _DEPTH_STEP
                    for name, fn in order:
                        blocks[name].append(_deeper(depth, _block, fn, sync, n, True))
            finally:
                if enabled:
                    gc.enable()
            for name, ts in blocks.items():
                means[name].append(statistics.fmean(ts))
                lowest[name].append(min(ts))
            rounds += 1
            if rounds % (2 * sweep) and rounds < cap:
                continue  # whole pairs of sweeps only
            for name, ts in lowest.items():  # one entry per sweep, the two orders in turn
                fastest[name] += [min(ts[-2 * sweep :: 2]), min(ts[1 - 2 * sweep :: 2])] if len(ts) > 1 else ts
            if rounds < settings.min_rounds:
                continue
            if time.perf_counter() - began >= settings.budget_s:
                break
            if others and len(fastest[first]) >= _CI_ROUNDS:
                low, high = interval(fastest[first], *(fastest[o] for o in others))
                if (high - low) / 2 <= settings.precision:
                    break
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()
    return Timings(means, fastest, dict.fromkeys(single, n), time.perf_counter() - began, sweep)


def timed(fn: Callable[[], Any], sync: Callable[[Any], Any]) -> tuple[Any, float]:
    """One call's result and its duration in seconds."""
    start = time.perf_counter()
    result = sync(fn())
    return result, time.perf_counter() - start


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def _pairs(num: Sequence[float], den: Sequence[float]) -> list[float]:
    """Per pair of consecutive rounds, which ran in opposite orders, the geometric mean of the
    two rounds' ratios (NOTE [Pairs of opposite orders]); a single round gives its own ratio."""
    qs = [a / b for a, b in zip(num, den)]
    if len(qs) < 2:
        return qs
    return [math.sqrt(qs[i] * qs[i + 1]) for i in range(0, len(qs) - 1, 2)]


def _best(dens: Sequence[Sequence[float]]) -> Sequence[float]:
    return min(dens, key=median)


def ratio(num: Sequence[float], den: Sequence[float]) -> float:
    """The ratio of two variants' times, given per round (the fastest block of each round,
    NOTE [Fastest block per round]): the median over pairs of rounds of opposite orders of the
    geometric mean of the pair's two ratios (NOTE [Pairs of opposite orders])."""
    return median(_pairs(num, den))


def ratio_to_best(num: Sequence[float], *dens: Sequence[float]) -> float:
    """``ratio(num, best)`` where ``best`` is the one of ``dens`` with the smallest median.

    The best variant is chosen once over all rounds, not per round: the smaller of two noisy
    times in each round is biased low whenever the two are close, which would read as overhead
    of ``num`` that is not there.
    """
    return ratio(num, _best(dens))


def interval(num: Sequence[float], *dens: Sequence[float]) -> tuple[float, float]:
    """A confidence interval of ``ratio_to_best(num, *dens)`` (of ``ratio(num, den)`` for one
    ``den``): the order statistics of the pairs' ratios that bound their median with at least
    95 % confidence (NOTE [Stopping on precision]); the smallest and largest pair's ratio
    where there are fewer than 6 pairs (less than 95 %: ``coverage`` says how much)."""
    xs = sorted(_pairs(num, _best(dens)))
    j = _order(len(xs))
    return xs[j], xs[len(xs) - 1 - j]


def coverage(pairs: int) -> float:
    """The confidence of :func:`interval` over ``pairs`` pairs of rounds."""
    j = _order(pairs)
    return 1.0 - 2.0 * sum(math.comb(pairs, i) for i in range(j + 1)) / 2.0**pairs if pairs else 0.0


def _order(n: int) -> int:
    """The largest ``j`` (0-based) with P(Binomial(n, 1/2) <= j) <= 2.5 %, or 0: the median lies
    between the ``j``-th smallest and the ``j``-th largest of ``n`` samples with probability at
    least 95 % (distribution-free; the pairs' ratios are independent draws of one distribution)."""
    j, tail = 0, 0.0
    for i in range(n):
        tail += math.comb(n, i) / 2.0**n
        if tail > 0.025:
            break
        j = i
    return j
