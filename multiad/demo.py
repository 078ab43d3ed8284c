"""``make demo``: the tutorial's computations on every installed backend, and how closely they agree.

Run with ``python -m multiad.demo``. One function, written once with :mod:`multiad.numpy`, is
differentiated on each available backend; each result is compared with a closed-form float64
value and with the other backends.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

import multiad
import multiad.numpy as mnp


def predict(weight: Any, bias: Any, x: Any) -> Any:
    """One dense layer with tanh: the tutorial's model."""
    return mnp.tanh(mnp.matmul(weight, x) + bias)


def loss(x: Any) -> Any:
    return mnp.sum(mnp.sin(x) * x)


def _cases(
    w: np.ndarray, b: np.ndarray, x: np.ndarray, xb: np.ndarray
) -> dict[str, tuple[Callable[[], Any], np.ndarray]]:
    """Name -> (computation on the current backend, closed-form reference)."""
    s = 1.0 - np.tanh(w @ x + b) ** 2
    sb = 1.0 - np.tanh(xb @ w.T + b) ** 2
    v = np.linspace(-1.0, 1.0, x.size)
    h_diag = 2 * np.cos(x) - x * np.sin(x)
    return {
        "jacobian 16->16 (jacrev)": (lambda: multiad.jacrev(predict, argnums=2)(w, b, x), s[:, None] * w),
        "jacobian (jacfwd)": (lambda: multiad.jacfwd(predict, argnums=2)(w, b, x), s[:, None] * w),
        "hessian of sum(sin(x) x)": (lambda: multiad.hessian(loss)(x), np.diag(h_diag)),
        "batched jacobian (vmap)": (
            lambda: multiad.vmap(multiad.jacrev(predict, argnums=2), in_dims=(None, None, 0))(w, b, xb),
            sb[:, :, None] * w[None],
        ),
        "hessian-vector product (hvp)": (lambda: multiad.hvp(loss, (x,), (v,))[0], h_diag * v),
    }


def main() -> int:
    rng = np.random.default_rng(0)
    d = 16
    w, b, x = rng.standard_normal((d, d)), rng.standard_normal(d), rng.standard_normal(d)
    xb = rng.standard_normal((4, d))
    names = [r.name for r in multiad.list_backends() if r.status == "available"]
    for r in multiad.list_backends():
        if r.status != "available":
            print(f"skipping backend {r.name!r}: {r.status} ({r.reason})")
    try:
        import jax

        jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]  # the demo compares in float64
    except ImportError:
        pass
    results: dict[str, dict[str, np.ndarray]] = {}
    worst = 0.0
    for name in names:
        print(f"\n== backend {name} ==")
        with multiad.use_backend(name):
            for case, (compute, ref) in _cases(w, b, x, xb).items():
                got = multiad.to_numpy(compute())
                err = float(np.max(np.abs(got - ref)) / max(1.0, float(np.max(np.abs(ref)))))
                results.setdefault(case, {})[name] = got
                tol = 5e-3 if not multiad.get_backend().exact else 1e-8
                worst = max(worst, err / tol)
                print(f"  {case:30s} shape {got.shape!s:14s} error vs closed form {err:.1e}")
    print("\n== agreement between backends (largest elementwise difference) ==")
    for case, per in results.items():
        gaps = [
            f"{a} vs {c}: {np.max(np.abs(per[a] - per[c])):.1e}" for i, a in enumerate(per) for c in list(per)[i + 1 :]
        ]
        print(f"  {case}: " + ("; ".join(gaps) if gaps else "one backend only"))
    ok = worst <= 1.0
    print("\nall backends agree with the closed forms" if ok else "\nSOME RESULTS EXCEED THEIR TOLERANCE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
