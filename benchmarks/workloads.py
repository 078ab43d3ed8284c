"""The benchmarked computations (the tutorial's shapes), each as multiad and direct variants.

A workload builds a :class:`Group` for one framework: the arguments, and per mode a multiad
function and the same computation written against the framework (``None`` where the framework
has no counterpart). A mode both sides lack is recorded as skipped with its reason.

NOTE [Same function on both sides]: both sides differentiate the same function, written with
the framework's own array API, so the ratio measures what multiad's transforms add per call
(argument checks, selection, pytree flattening, conversions), not its ``multiad.numpy`` dispatch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import multiad

from .frameworks import Fn, Framework


@dataclass(frozen=True)
class Sizes:
    d: int = 16
    tall: tuple[int, int] = (32, 2048)
    wide: tuple[int, int] = (2048, 32)
    hess: tuple[int, int] = (512, 32)
    #: the vector-valued Hessian on autograd, which has no forward mode (NOTE in hessian_vector)
    hess_autograd: tuple[int, int] = (64, 8)
    hvp: int = 2048
    batch: tuple[int, int, int] = (64, 31, 33)


SMOKE_SIZES = Sizes(d=4, tall=(3, 12), wide=(12, 3), hess=(6, 3), hess_autograd=(6, 3), hvp=8, batch=(3, 4, 5))


@dataclass
class Mode:
    name: str
    multiad: Fn | None
    direct: Fn | None
    skipped: str = ""
    #: Without a direct counterpart, what the multiad result is checked against.
    reference: Fn | None = None
    #: Without a direct counterpart, the mode of the group whose direct version multiad's should
    #: compile to (benchmarks/compiled.py): for jacobian(mode="auto"), the mode it picks.
    compiles_as: str | None = None


@dataclass
class Group:
    workload: str
    framework: Framework
    args: tuple[Any, ...]
    modes: list[Mode]
    #: (label, numerator mode, denominator modes): multiad's times, ``num / min(dens)`` per round.
    best_of: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)


class Skip(Exception):
    """A workload that does not run on a framework, with the reason."""


def _data(fw: Framework, *shapes: tuple[int, ...]) -> tuple[Any, ...]:
    """Standard normal float32 arrays; matrices scaled by 1/sqrt(columns) so that tanh does
    not saturate (saturated, float32 overflows in autograd's tanh derivative)."""
    rng = np.random.default_rng(0)
    out = []
    for s in shapes:
        a = rng.standard_normal(s).astype(np.float32)
        out.append(fw.asarray(a / np.float32(np.sqrt(s[-1])) if len(s) == 2 else a))
    return tuple(out)


def _batched(fw: Framework, f: Fn) -> Fn:
    """``f`` mapped over the batch of x: the framework's vmap, or a Python loop without one."""
    if fw.vmap is not None:
        return fw.vmap(f, (None, None, 0))
    return lambda w, b, x: fw.stack([f(w, b, xi) for xi in x])


def jacobian16(fw: Framework, s: Sizes) -> Group:
    """predict's Jacobian with respect to x, 16 -> 16: a row-by-row loop of vjp, jacrev, jacfwd."""
    w, b, x = _data(fw, (s.d, s.d), (s.d,), (s.d,))
    rows = list(fw.eye(s.d))

    def loop_multiad(w: Any, b: Any, x: Any) -> Any:
        _, pull = multiad.vjp(lambda x: fw.predict(w, b, x), x)
        return fw.stack([pull(e)[0] for e in rows])

    loop_direct = None
    if fw.vjp is not None:
        vjp = fw.vjp

        def loop_direct(w: Any, b: Any, x: Any) -> Any:
            _, pull = vjp(lambda x: fw.predict(w, b, x), x)
            return fw.stack([pull(e) for e in rows])

    return Group(
        "jacobian 16->16", fw, (w, b, x),
        [
            Mode("vjp loop", loop_multiad, loop_direct),
            Mode("jacrev", multiad.jacrev(fw.predict, 2), fw.jacrev and fw.jacrev(fw.predict, 2)),
            Mode("jacfwd", multiad.jacfwd(fw.predict, 2), fw.jacfwd and fw.jacfwd(fw.predict, 2)),
        ],
    )  # fmt: skip


def _fwd_rev(fw: Framework, name: str, n_in: int, n_out: int) -> Group:
    w, b, x = _data(fw, (n_out, n_in), (n_out,), (n_in,))
    return Group(
        name, fw, (w, b, x),
        [
            Mode("jacfwd", multiad.jacfwd(fw.predict, 2), fw.jacfwd and fw.jacfwd(fw.predict, 2)),
            Mode("jacrev", multiad.jacrev(fw.predict, 2), fw.jacrev and fw.jacrev(fw.predict, 2)),
            Mode("jacobian(auto)", multiad.jacobian(fw.predict, 2, mode="auto"), None,
                 reference=fw.jacrev and fw.jacrev(fw.predict, 2),
                 compiles_as="jacfwd" if n_in < n_out else "jacrev"),  # NOTE [Automatic mode]
        ],
        best_of=[("auto / best of fwd, rev", "jacobian(auto)", ("jacfwd", "jacrev"))],
    )  # fmt: skip


def tall(fw: Framework, s: Sizes) -> Group:
    """jacfwd, jacrev and jacobian(mode="auto") on a tall Jacobian (32 -> 2048)."""
    return _fwd_rev(fw, f"tall {s.tall[0]}->{s.tall[1]}", *s.tall)


def wide(fw: Framework, s: Sizes) -> Group:
    """jacfwd, jacrev and jacobian(mode="auto") on a wide Jacobian (2048 -> 32)."""
    if not fw.exact and s.wide[0] > 256:
        raise Skip("finite differences cost four evaluations per input element; run on small inputs only")
    return _fwd_rev(fw, f"wide {s.wide[0]}->{s.wide[1]}", *s.wide)


def _no_second_order(fw: Framework) -> None:
    if not fw.exact:
        raise Skip("nested finite differences in float32 are not accurate enough to compare")


def hessian(fw: Framework, s: Sizes) -> Group:
    """Hessian of sum(predict(w, b, x)) with respect to x (512 inputs, 32 outputs summed)."""
    _no_second_order(fw)
    n_in, n_out = s.hess
    w, b, x = _data(fw, (n_out, n_in), (n_out,), (n_in,))

    def total(w: Any, b: Any, x: Any) -> Any:
        return fw.sum_all(fw.predict(w, b, x))

    fwdfwd = Mode(
        "jacfwd(jacfwd)", multiad.jacfwd(multiad.jacfwd(total, 2), 2), fw.jacfwd and fw.jacfwd(fw.jacfwd(total, 2), 2)
    )
    if fw.backend == "autograd":
        fwdfwd = Mode(
            "jacfwd(jacfwd)", None, None,
            "autograd has no forward mode: each jvp is two reverse passes, n*n of them here",
        )  # fmt: skip
    return Group(
        f"hessian {n_in}->{n_out} (summed)", fw, (w, b, x),
        [
            Mode("hessian", multiad.hessian(total, 2), fw.hessian and fw.hessian(total, 2)),
            fwdfwd,
            Mode("jacrev(jacrev)", multiad.jacrev(multiad.jacrev(total, 2), 2), fw.jacrev and fw.jacrev(fw.jacrev(total, 2), 2)),
        ],
    )  # fmt: skip


def hessian_vector(fw: Framework, s: Sizes) -> Group:
    """Hessian of the vector-valued predict with respect to x (512 inputs, 32 outputs): the
    tutorial's own `hessian(predict, argnums=2)`, shape (32, 512, 512), against jacfwd(jacfwd)."""
    _no_second_order(fw)
    n_in, n_out = s.hess
    if fw.backend == "autograd":
        # no forward mode: the outer level is a reverse pass per entry of the Jacobian (16384 at
        # 512 -> 32, minutes per call); measured at the tutorial's 64 -> 8 (512 outer passes)
        n_in, n_out = s.hess_autograd
    w, b, x = _data(fw, (n_out, n_in), (n_out,), (n_in,))
    fwdfwd = Mode("jacfwd(jacfwd)", multiad.jacfwd(multiad.jacfwd(fw.predict, 2), 2),
                  fw.jacfwd and fw.jacfwd(fw.jacfwd(fw.predict, 2), 2))  # fmt: skip
    if fw.backend == "autograd":
        fwdfwd = Mode("jacfwd(jacfwd)", None, None, "autograd has no forward mode to nest")
    return Group(
        f"hessian {n_in}->{n_out} (vector)", fw, (w, b, x),
        [Mode("hessian", multiad.hessian(fw.predict, 2), fw.hessian and fw.hessian(fw.predict, 2)), fwdfwd],
    )  # fmt: skip


def _bind(product: Callable[[Fn, Any, Any], Any] | None, f: Fn) -> Fn | None:
    if product is None:
        return None
    return lambda x, v: product(f, x, v)


def hvp(fw: Framework, s: Sizes) -> Group:
    """Hessian-vector product of sum(sin(x)) on 2048 inputs, three ways."""
    _no_second_order(fw)
    x, v = _data(fw, (s.hvp,), (s.hvp,))

    def f(x: Any) -> Any:
        return fw.sum_all(fw.sin(x))

    # multiad.hvp is forward-over-reverse where the backend has forward mode, else reverse-over-reverse.
    direct_hvp, direct_vhp = fw.hvp_fwd or fw.hvp_rev, fw.hvp_rev
    mh = multiad.hessian(f)
    dh = fw.hessian and fw.hessian(f)
    full = Mode(
        "full Hessian @ v",
        lambda x, v: fw.matvec(mh(x), v),
        dh and (lambda x, v: fw.matvec(dh(x), v)),
    )
    if fw.backend == "autograd":
        full = Mode(
            "full Hessian @ v", None, None, "autograd builds the Hessian with one reverse pass per row (n of them)"
        )
    return Group(
        f"hvp {s.hvp}", fw, (x, v),
        [
            Mode("hvp", lambda x, v: multiad.hvp(f, (x,), (v,))[0], _bind(direct_hvp, f)),
            Mode("vhp (rev-over-rev)", lambda x, v: multiad.vhp(f, (x,), (v,))[0], _bind(direct_vhp, f)),
            full,
        ],
    )  # fmt: skip


def batched_jacobian(fw: Framework, s: Sizes) -> Group:
    """Per-sample Jacobians of predict, batch 64, 31 -> 33: vmap of jacrev, and the sum trick."""
    n, d_in, d_out = s.batch
    w, b, x = _data(fw, (d_out, d_in), (d_out,), (n, d_in))

    def summed(w: Any, b: Any, x: Any) -> Any:
        return fw.sum0(fw.predict(w, b, x))

    jr = multiad.jacrev(summed, 2)
    direct_trick = None
    if fw.jacrev is not None:
        djr = fw.jacrev(summed, 2)

        def direct_trick(w: Any, b: Any, x: Any) -> Any:
            return fw.movedim(djr(w, b, x), 1, 0)

    return Group(
        f"batched jacobian {n}x({d_in}->{d_out})", fw, (w, b, x),
        [
            Mode("vmap(jacrev)", multiad.vmap(multiad.jacrev(fw.predict, 2), in_dims=(None, None, 0)),
                 fw.jacrev and _batched(fw, fw.jacrev(fw.predict, 2))),
            Mode("sum trick", lambda w, b, x: fw.movedim(jr(w, b, x), 1, 0), direct_trick),
        ],
    )  # fmt: skip


def batched_hessian(fw: Framework, s: Sizes) -> Group:
    """Per-sample Hessians of sum(predict) over x, batch 64, 31 inputs: vmap of hessian, and
    the sum trick (the Jacobian of the batch-summed gradient)."""
    _no_second_order(fw)
    n, d_in, d_out = s.batch
    w, b, x = _data(fw, (d_out, d_in), (d_out,), (n, d_in))

    def total(w: Any, b: Any, x: Any) -> Any:
        return fw.sum_all(fw.predict(w, b, x))

    mg = multiad.grad(total, 2)
    mj = multiad.jacrev(lambda w, b, x: fw.sum0(mg(w, b, x)), 2)
    direct_trick: Callable[..., Any] | None = None
    if fw.jacrev is not None and fw.grad is not None:
        dg = fw.grad(total, 2)
        dj = fw.jacrev(lambda w, b, x: fw.sum0(dg(w, b, x)), 2)

        def direct_trick(w: Any, b: Any, x: Any) -> Any:
            return fw.movedim(dj(w, b, x), 1, 0)

    return Group(
        f"batched hessian {n}x({d_in}->{d_out}, summed)", fw, (w, b, x),
        [
            Mode("vmap(hessian)", multiad.vmap(multiad.hessian(total, 2), in_dims=(None, None, 0)),
                 fw.hessian and _batched(fw, fw.hessian(total, 2))),
            Mode("sum trick", lambda w, b, x: fw.movedim(mj(w, b, x), 1, 0), direct_trick),
        ],
    )  # fmt: skip


WORKLOADS: dict[str, Callable[[Framework, Sizes], Group]] = {
    "jacobian16": jacobian16,
    "tall": tall,
    "wide": wide,
    "hessian": hessian,
    "hessian_vector": hessian_vector,
    "hvp": hvp,
    "batched_jacobian": batched_jacobian,
    "batched_hessian": batched_hessian,
}
