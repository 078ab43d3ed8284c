"""What ``multiad.numpy`` adds to a call: ``python -m benchmarks.mnp_dispatch [--frameworks ...]``.

NOTE [Cost of multiad.numpy per call]: the other benchmarks write ``f`` in each framework's own
API on both sides (NOTE [Same function on both sides] in workloads.py), so they measure the
transforms and not ``multiad.numpy``'s dispatch, which every call of a function written once
with ``mnp`` pays: finding the arguments' framework, numpy's keyword and dtype rules, the
framework's function. Here the two sides differ in that alone:

- *per op*: ``mnp.NAME(args)`` against the framework's own function on the same arrays, eagerly
  (torch float32 tensors, JAX arrays, numpy arrays against ``autograd.numpy``; small arrays, so
  the fixed cost shows), with a control (the framework's call against itself);
- *transforms*: multiad's transform of the tutorials' small functions written with ``mnp``
  against the same transform of the function written with the framework's API: hvp of
  ``sum(sin(x))`` at 2048, jacrev 16 -> 16 of ``tanh(x @ w.T + b)``.

Each row is one comparison in interleaved rounds of the harness (NOTE [Interleaved rounds] in
harness.py): the ratio ``mnp / own`` with its 95 % interval, and both sides' times. No goal is
set; the published figures are in docs/benchmarks.md ("multiad.numpy's cost per call").
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import multiad
import multiad.numpy as mnp

from . import harness

Fn = Callable[[], Any]


@dataclass
class Row:
    label: str
    mnp: Fn
    own: Fn


@dataclass
class Setup:
    name: str
    backend: str | None  # selected with set_backend (numpy arrays infer none: NOTE [Neutral arrays] in run.py)
    rows: list[Row]
    sync: Callable[[Any], Any]


def _arrays(convert: Callable[[np.ndarray], Any], n: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)

    def arr(*shape: int) -> Any:
        return convert(rng.standard_normal(shape).astype(np.float32))

    return {"x": arr(n), "y": arr(n), "a": arr(32, 32), "b": arr(32, 32), "w": arr(16, 16), "c": arr(16), "v": arr(16)}


def _rows(ns: Any, d: dict[str, Any], own: dict[str, Callable[..., Any]], transforms: bool = True) -> list[Row]:
    """The rows of one framework: ``ns`` its numpy-like namespace, ``own`` its functions where
    they are not ``ns``'s of numpy's name."""
    x, y, a, b = d["x"], d["y"], d["a"], d["b"]
    cond = x > 0
    shape = (x.shape[0] // 32, 32)

    def native(name: str, default: Fn) -> Callable[..., Any]:
        return own.get(name, default)

    rows = [
        Row("sin", lambda: mnp.sin(x), native("sin", lambda: ns.sin(x))),
        Row("tanh", lambda: mnp.tanh(x), native("tanh", lambda: ns.tanh(x))),
        Row("exp", lambda: mnp.exp(x), native("exp", lambda: ns.exp(x))),
        Row("sum", lambda: mnp.sum(x), native("sum", lambda: ns.sum(x))),
        Row("mean", lambda: mnp.mean(x), native("mean", lambda: ns.mean(x))),
        Row("sum(axis=0)", lambda: mnp.sum(a, axis=0), native("sum0", lambda: ns.sum(a, axis=0))),
        Row("matmul", lambda: mnp.matmul(a, b), native("matmul", lambda: ns.matmul(a, b))),
        Row("where", lambda: mnp.where(cond, x, y), native("where", lambda: ns.where(cond, x, y))),
        Row("reshape", lambda: mnp.reshape(x, shape), native("reshape", lambda: ns.reshape(x, shape))),
        Row(
            "concatenate",
            lambda: mnp.concatenate([x, y]),
            native("concatenate", lambda: ns.concatenate([x, y])),
        ),
        Row("linalg.norm", lambda: mnp.linalg.norm(x), native("norm", lambda: ns.linalg.norm(x))),
    ]
    if transforms:
        rows += _transforms(ns, d, own)
    return rows


def _transforms(ns: Any, d: dict[str, Any], own: dict[str, Callable[..., Any]]) -> list[Row]:
    """The tutorials' small functions under multiad's transforms, written with mnp and with ``ns``."""
    x, y, w, c, v = d["x"], d["y"], d["w"], d["c"], d["v"]
    own_linear = own.get("linear") or (lambda z: ns.tanh(z @ w.T + c))

    def sum_sin_mnp(z: Any) -> Any:
        return mnp.sum(mnp.sin(z))

    def sum_sin_own(z: Any) -> Any:
        return ns.sum(ns.sin(z))

    def linear_mnp(z: Any) -> Any:
        return mnp.tanh(mnp.matmul(z, mnp.transpose(w)) + c)

    jac_mnp, jac_own = multiad.jacrev(linear_mnp), multiad.jacrev(own_linear)
    grad_mnp, grad_own = multiad.grad(sum_sin_mnp), multiad.grad(sum_sin_own)
    return [
        Row("grad sum(sin(x))", lambda: grad_mnp(x), lambda: grad_own(x)),
        Row(
            "hvp sum(sin(x))",
            lambda: multiad.hvp(sum_sin_mnp, (x,), (y,))[0],
            lambda: multiad.hvp(sum_sin_own, (x,), (y,))[0],
        ),
        Row("jacrev tanh(x @ w.T + b) 16->16", lambda: jac_mnp(v), lambda: jac_own(v)),
    ]


def torch_setup(n: int) -> Setup:
    import torch

    d = _arrays(torch.from_numpy, n)
    x, y, a, w, c = d["x"], d["y"], d["a"], d["w"], d["c"]
    linear = torch.nn.functional.linear
    own: dict[str, Callable[..., Any]] = {
        "concatenate": lambda: torch.cat([x, y]),
        "sum0": lambda: torch.sum(a, dim=0),
        "linear": lambda z: torch.tanh(linear(z, w, c)),
    }
    return Setup("torch", None, _rows(torch, d, own), lambda r: r)


def jax_setup(n: int) -> Setup:
    import jax
    import jax.numpy as jnp

    d = _arrays(jnp.asarray, n)
    return Setup("jax", None, _rows(jnp, d, {}), jax.block_until_ready)


def autograd_setup(n: int) -> Setup:
    import autograd.numpy as anp

    d = _arrays(np.asarray, n)
    return Setup("autograd", "autograd", _rows(anp, d, {}), lambda r: r)


def numpy_setup(n: int) -> Setup:
    d = _arrays(np.asarray, n)
    # the numpy backend's transforms are finite differences: only the per-op rows
    return Setup("numpy", "numpy", _rows(np, d, {}, transforms=False), lambda r: r)


SETUPS: dict[str, Callable[[int], Setup]] = {
    "torch": torch_setup,
    "jax": jax_setup,
    "autograd": autograd_setup,
    "numpy": numpy_setup,
}


def _agree(mnp_out: Any, own_out: Any) -> bool:
    got, want = multiad.to_numpy(mnp_out), multiad.to_numpy(own_out)
    return bool(np.shape(got) == np.shape(want) and np.allclose(got, want, rtol=1e-5, atol=1e-6))


# NOTE [Warm-up of eager JAX]: multiad's transforms run eagerly on JAX take a dozen calls to
# settle (JAX fills its caches of traced primitives): the first calls of grad of sum(sin(x))
# took 12 ms, later ones 0.87 ms, on both sides. The harness's two warm-up calls left the
# first rounds of one side slow (2.46 read for two equal calls); every row now starts after
# 25 calls of each side.
_WARM_UP = 25


def run_setup(setup: Setup, settings: harness.Settings) -> list[dict[str, Any]]:
    """One framework's rows: ratio, interval and both sides' times, and the control first."""
    out: list[dict[str, Any]] = []
    multiad.set_backend(setup.backend)
    try:
        first = setup.rows[0]
        comparisons = [("control (own / own)", first.own, first.own)]
        comparisons += [(r.label, r.mnp, r.own) for r in setup.rows]
        for label, mine, theirs in comparisons:
            if not _agree(mine(), theirs()):
                raise AssertionError(f"{setup.name} {label}: mnp's result differs from the framework's own")
            for _ in range(0 if settings.first_call_only else _WARM_UP):  # NOTE [Warm-up of eager JAX]
                setup.sync(mine())
                setup.sync(theirs())
            t = harness.measure([("mnp", mine), ("own", theirs)], setup.sync, settings)
            low, high = harness.interval(t.fastest["mnp"], t.fastest["own"])
            out.append({
                "framework": setup.name,
                "row": label,
                "ratio": harness.ratio(t.fastest["mnp"], t.fastest["own"]),
                "ci": [low, high],
                "mnp_us": harness.median(t.fastest["mnp"]) * 1e6,
                "own_us": harness.median(t.fastest["own"]) * 1e6,
                "pairs": len(t.fastest["mnp"]) // 2,
            })  # fmt: skip
    finally:
        multiad.set_backend(None)
    return out


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| framework | call | mnp (us) | own (us) | mnp / own | 95 % interval |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['framework']} | {r['row']} | {r['mnp_us']:.1f} | {r['own_us']:.1f} | {r['ratio']:.2f} | "
            f"{r['ci'][0]:.2f} to {r['ci'][1]:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mnp_dispatch", description=__doc__)
    parser.add_argument("--frameworks", nargs="+", choices=sorted(SETUPS), default=["torch", "jax", "autograd"])
    parser.add_argument("--size", type=int, default=2048, help="elements of the 1-d arrays (a multiple of 32)")
    parser.add_argument("--budget", type=float, default=1.5, help="seconds per comparison, at most")
    parser.add_argument("--smoke", action="store_true", help="one round per row: checks that everything runs")
    parser.add_argument("--out", type=Path, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    if args.size < 32 or args.size % 32:
        parser.error("--size must be a positive multiple of 32")
    settings = harness.SMOKE if args.smoke else harness.Settings(budget_s=args.budget)
    rows: list[dict[str, Any]] = []
    for name in args.frameworks:
        rows += run_setup(SETUPS[name](args.size), settings)
        print(f"{name}: done", file=sys.stderr)
    print(table(rows))
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1) + "\n")
    return rows


if __name__ == "__main__":
    main()
