"""Peak memory of chunked Jacobians: ``python -m benchmarks.memory [N] [CHUNK]``.

Each case runs in a fresh subprocess (so one case's allocator state does not hide another's
peak), warmed up on a small problem (N = 64, in chunks of 16 where chunked), and reports its peak resident memory (Linux ``VmHWM``,
reset once the inputs are made) above the resident memory at that point, as a multiple of the
Jacobian's own bytes. ``f(x) = tanh(W @ x)``, an ``N -> N`` float32
map, so the Jacobian is ``4 N^2`` bytes. The Hessians are of ``sum(tanh(W @ x)^2)``. ``loop.*`` are
the same chunks written by hand in JAX alone (``benchmarks/jax_loops.py``), the control for
what of JAX's figures is JAX's own.

``--only`` picks cases (``jax:multiad.jacrev``, or a variant name for every framework that has
it) and ``--chunked-only`` skips the unchunked column: at the issue's size, ``python -m
benchmarks.memory 20000 1000 --chunked-only --only ...`` (a 1.49 GiB Jacobian), one chunked
jacrev case takes about 2.5 minutes of CPU and peaks at 3.7 GB resident (``W`` in numpy and
JAX's copy of it, the Jacobian), so the full table there is a run of its own.

With ``--warm`` the measured call is the second at size ``N``: the first (unmeasured) one makes
the compiled kernels for these shapes (JAX's eager operations compile per shape, and their
compiler's memory stays with the process), so the peak is the transform's own arrays.
``--repeat K`` runs each case ``K`` times (fresh processes) and prints the median and the range.

Every process fixes glibc's mmap threshold (``mallopt``, as ``MALLOC_MMAP_THRESHOLD_=65536``
does), so that a freed block of more than 64 KiB leaves the resident set at once. With glibc's
default the threshold grows to the largest block freed so far (up to 32 MiB), later blocks of a
chunk's size come from the heap, and memory freed by the warm-up stays resident and is reused
without counting: the same second-call torch Hessian then read anywhere from 0.93 to 1.37.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
from typing import Any

CASES = [
    ("torch", "multiad.jacrev"), ("torch", "multiad.jacfwd"), ("torch", "multiad.hessian"),
    ("torch", "torch.func.jacrev"), ("torch", "torch.func.jacfwd"),
    ("jax", "multiad.jacrev"), ("jax", "multiad.jacfwd"), ("jax", "multiad.hessian"),
    ("jax", "jax.jacrev"), ("jax", "jax.jacfwd"), ("jax", "jax.hessian"),
    ("jax", "loop.jacrev"), ("jax", "loop.jacfwd"), ("jax", "loop.hessian"),
]  # fmt: skip
# ``loop.*``: the same chunks written by hand in JAX alone (benchmarks/jax_loops.py), measured
# only with a chunk size; ``jax.*`` and ``torch.func.jacfwd`` have no chunk size.


def _reset_peak() -> None:
    """Resets the process's peak resident set size (Linux: ``clear_refs``), so that making the
    inputs does not count."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def _peak_kib() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))


def _current_kib() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))


def _ready(x: Any) -> None:
    if hasattr(x, "block_until_ready"):
        x.block_until_ready()


def _fix_mmap_threshold() -> None:
    """glibc's ``mallopt(M_MMAP_THRESHOLD, 64 KiB)``, which also stops the threshold from growing
    (see the module's docstring); nothing where the C library is not glibc."""
    from .freed_memory import M_MMAP_THRESHOLD, mallopt

    try:
        mallopt(((M_MMAP_THRESHOLD, 65536),))
    except (OSError, AttributeError):
        pass


def _one(framework: str, variant: str, n: int, chunk: int | None, warm: bool = False) -> dict[str, float]:
    _fix_mmap_threshold()
    import numpy as np

    import multiad

    rng = np.random.default_rng(0)

    def problem(size: int) -> tuple[Any, Any, Any, Any, Any]:
        """``f``, its scalar ``total``, ``x``, and the framework's jacrev and jacfwd."""
        w_np = (rng.standard_normal((size, size)) / np.sqrt(size)).astype(np.float32)
        x_np = rng.standard_normal(size).astype(np.float32)
        if framework == "torch":
            import torch

            torch.set_num_threads(1)
            w, x = torch.from_numpy(w_np), torch.from_numpy(x_np)
            return (
                (lambda x: torch.tanh(w @ x)),
                (lambda x: (torch.tanh(w @ x) ** 2).sum()),
                x,
                torch.func.jacrev,
                torch.func.jacfwd,
            )
        import jax
        import jax.numpy as jnp

        # JAX copies a numpy array in asynchronously: without the wait the copy of W (as large
        # as the Jacobian) could be made after ``base``, inside the measured call.
        wj, xj = jax.block_until_ready((jnp.asarray(w_np), jnp.asarray(x_np)))  # type: ignore[no-untyped-call]
        return (lambda x: jnp.tanh(wj @ x)), (lambda x: jnp.sum(jnp.tanh(wj @ x) ** 2)), xj, jax.jacrev, jax.jacfwd

    def transform(f: Any, total: Any, jacrev: Any, jacfwd: Any, chunk: int | None = chunk) -> Any:
        if variant.startswith("loop."):
            from benchmarks import jax_loops

            return getattr(jax_loops, variant[5:])(total if variant == "loop.hessian" else f, chunk)
        if variant == "jax.hessian":
            import jax

            return jax.hessian(total)
        if variant.endswith("jacrev") and not variant.startswith("multiad"):
            return jacrev(f) if chunk is None or "jax" in variant else jacrev(f, chunk_size=chunk)
        if variant.endswith("jacfwd") and not variant.startswith("multiad"):
            return jacfwd(f)  # neither torch.func.jacfwd nor jax.jacfwd takes a chunk_size
        if variant == "multiad.hessian":
            return multiad.hessian(total, chunk_size=chunk)
        return getattr(multiad, variant.split(".")[1])(f, chunk_size=chunk)

    # Warm up on a small problem: first-use imports and kernel caches are not the transform's.
    small = problem(64)
    _ready(transform(small[0], small[1], small[3], small[4], None if chunk is None else 16)(small[2]))
    f, total, x, jacrev, jacfwd = problem(n)
    fn = transform(f, total, jacrev, jacfwd)
    if warm:
        _ready(fn(x))
    # Whatever the warm-up left to free is freed now, not during the measured call, where
    # the resident set would drop below ``base``: arrays in reference cycles (gc) and, on JAX,
    # deletions that are still queued behind the last computation.
    gc.collect()
    _ready(x + 1)
    base = _current_kib()
    _reset_peak()
    _ready(fn(x))
    peak = _peak_kib()
    jac_kib = n * n * 4 / 1024
    return {"peak_above_inputs_x": (peak - base) / jac_kib, "jacobian_mib": jac_kib / 1024}


def _summary(got: list[float], repeat: int) -> str:
    """One run's figure, or the median and range of several; "error" if a run failed."""
    if len(got) < max(1, repeat):
        return " error"
    if len(got) == 1:
        return f"{got[0]:6.2f}"
    return f"{statistics.median(got):6.2f} ({min(got):.2f}-{max(got):.2f})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.add_argument("n", nargs="?", type=int, default=4000)
    parser.add_argument("chunk", nargs="?", type=int, default=250)
    parser.add_argument("--warm", action="store_true", help="measure the second call at size N (see above)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; prints the median and the range")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="CASE",
        help="these cases only, as FRAMEWORK:VARIANT (jax:multiad.jacrev) or VARIANT",
    )
    parser.add_argument(
        "--chunked-only", action="store_true", help="measure with chunk_size only (no unchunked column)"
    )
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        framework, variant, chunk = args.one
        print(json.dumps(_one(framework, variant, args.n, None if chunk == "none" else int(chunk), args.warm)))
        return
    print(
        f"N = {args.n}, Jacobian {args.n * args.n * 4 / 2**20:.0f} MiB; peak RSS above inputs / Jacobian bytes"
        + (" (second call)" if args.warm else "")
    )
    cases = CASES
    if args.only:
        unknown = [c for c in args.only if not any(c in (f"{fw}:{v}", v) for fw, v in CASES)]
        if unknown:
            parser.error(f"--only: unknown cases {unknown}; cases are {[f'{fw}:{v}' for fw, v in CASES]}")
        cases = [(fw, v) for fw, v in CASES if f"{fw}:{v}" in args.only or v in args.only]
    for framework, variant in cases:
        row = []
        for chunk in ("none", str(args.chunk)):
            if chunk == "none" and args.chunked_only:
                row.append("   .  ")  # not measured in this run (--chunked-only)
                continue
            if chunk != "none" and variant in ("jax.jacrev", "jax.jacfwd", "jax.hessian", "torch.func.jacfwd"):
                row.append("   -  ")  # no chunk_size in the framework's own
                continue
            if chunk == "none" and variant.startswith("loop."):
                row.append("   -  ")  # a loop over chunks needs a chunk size
                continue
            cmd = [sys.executable, "-m", "benchmarks.memory", str(args.n), "--one", framework, variant, chunk]
            cmd += ["--warm"] if args.warm else []
            # A fixed mmap threshold: glibc then returns every large block when it is freed,
            # so the resident size follows live memory instead of the allocator's free lists.
            env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
            got = []
            for _ in range(max(1, args.repeat)):
                out = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
                try:
                    got.append(json.loads(out.stdout.strip().splitlines()[-1])["peak_above_inputs_x"])
                except (ValueError, IndexError):
                    print(out.stderr[-2000:], file=sys.stderr)
            row.append(_summary(got, args.repeat))
        print(f"{framework:6s} {variant:20s} no chunk {row[0]}   chunk_size={args.chunk}: {row[1]}", flush=True)


if __name__ == "__main__":
    main()
