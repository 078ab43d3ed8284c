"""The conformance suite's tolerance table: the one place where accuracy expectations live.

NOTE [Conformance tolerances]: a result passes when, for every output leaf,
``max|actual - reference| <= atol + rtol * max|reference|`` (a normwise test, so that entries
near zero do not demand impossible relative accuracy). The table is keyed by what the backend
declares (``exact``), the dtype, the device and the derivative order of the case:

- exact backends (AD) in float64 agree with closed forms to 1e-10 relative at every order (torch,
  JAX and autograd reach about 1e-14 on every case; a derivative computed through float32 is off
  by about 3e-8, NOTE [Float64 precision] in _fns.py);
- float32 loses about four digits more; on CUDA the suite turns TF32 off (torch) or asks for the
  highest matmul precision (jax), and still allows five times more for reordered reductions;
- non-exact backends (``exact = False``, finite differences) get 1e-4 at first order and 5e-3 at
  second in float64; in float32 only first order is checkable, and third derivatives are not
  checkable at all. Cases that cannot be checked are skipped with the reason below, never
  passed silently.

Order 0 (plain values, for instance ``vmap`` of a function) uses the exact table for every
backend: no derivative is approximated.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float


_EXACT: dict[tuple[str, int], Tolerance] = {
    ("float64", 1): Tolerance(1e-10, 1e-12),
    ("float64", 2): Tolerance(1e-10, 1e-12),
    ("float64", 3): Tolerance(1e-10, 1e-12),
    ("float32", 1): Tolerance(1e-4, 1e-5),
    ("float32", 2): Tolerance(3e-4, 1e-4),
    ("float32", 3): Tolerance(1e-3, 1e-4),
}
_APPROX: dict[tuple[str, int], Tolerance] = {
    ("float64", 1): Tolerance(1e-4, 1e-6),
    ("float64", 2): Tolerance(5e-3, 1e-4),
    ("float32", 1): Tolerance(1e-2, 1e-3),
}
_CUDA_FLOAT32_FACTOR = 5.0


def tolerance(exact: bool, dtype: str, device: str, order: int) -> Tolerance | str:
    """The tolerance for a case, or the reason it cannot be checked (a string)."""
    order = max(order, 1) if exact else order
    if order == 0:
        return tolerance(True, dtype, device, 1)
    table = _EXACT if exact else _APPROX
    tol = table.get((dtype, order))
    if tol is None:
        if dtype not in ("float32", "float64"):
            return f"no tolerance is defined for dtype {dtype}"
        return (
            f"the backend declares exact=False (finite differences); order-{order} derivatives in {dtype} "
            "are below its resolution"
        )
    if device == "cuda" and dtype == "float32":
        tol = Tolerance(tol.rtol * _CUDA_FLOAT32_FACTOR, tol.atol * _CUDA_FLOAT32_FACTOR)
    return tol
