"""The conformance suite fails reverse mode through a detached jvp, float64 derivatives that are
1e-7 off or rounded through float32, and names the fix for a compiled conversion's error.

NOTE [Reverse over forward] in multiad/testing/_nested.py, NOTE [Float64 precision] in
multiad/testing/_fns.py, NOTE [Conversions under the compiler] in multiad/testing/_run.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from multiad.testing import _run, _spec
from multiad.testing._suite import CASES
from multiad.testing._tolerance import Tolerance

PLUGINS = Path(__file__).resolve().parent / "plugins"
NESTED = ("sin_sum_sq.grad(jvp)", "sin_sum_sq.vjp(jvp)", "sin_sum_sq.jacrev(jacfwd)", "exp_sin.grad(jvp)",
          "exp_sin.jacrev(jacfwd)", "three_args_scalar.grad(jvp)", "three_args_scalar.vjp(jvp)",
          "sin_sum_sq.jvp(grad) == grad(jvp)")  # fmt: skip
PRECISION = ("sum_x_cubed_over_3.grad", "sum_x_cubed_over_3.vjp", "sum_x_cubed_over_3.hessian", "sin_sum_sq.grad")


def _results(
    spec: str, cases: tuple[str, ...], dtypes: tuple[str, ...] = ("float64",), compiled: str = "none"
) -> dict[str, Any]:
    b = _spec.load(spec)
    _spec.prepare(b, list(dtypes))
    chosen = [c for c in CASES if c.id in cases]
    assert {c.id for c in chosen} == set(cases)
    return {it.id: _run.run_item(b, it) for it in _run.plan(b, ["cpu"], list(dtypes), chosen, compiled=compiled)}


@pytest.mark.parametrize("name", ["autograd", "torch"])
def test_reverse_over_forward_passes_in_tree(name: str) -> None:
    res = _results(name, NESTED + PRECISION, ("float64", "float32"))
    assert all(r["status"] == "passed" for r in res.values()), {
        k: r["reason"] for k, r in res.items() if r["status"] != "passed"
    }


def test_jvp_detached_from_reverse_mode_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    res = _results("conformance_backends:JvpDetached", NESTED, ("float64", "float32"))
    assert all(r["status"] == "failed" and r["failure"] == "values" for r in res.values()), res
    # the same backend's forward mode alone is right
    ok = _results("conformance_backends:JvpDetached", ("sin_sum_sq.jvp", "sin_sum_sq.hessian"))
    assert all(r["status"] == "passed" for r in ok.values()), ok


@pytest.mark.parametrize("name", ["Float32Derivatives", "GradientOffBy1e7"])
def test_float64_derivatives_off_by_1e7_fail(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    res = _results(f"conformance_backends:{name}", PRECISION)
    assert all(r["status"] == "failed" and r["failure"] == "values" for r in res.values()), res
    rounded = [("float32 numbers" in r["reason"]) for r in res.values()]
    assert all(rounded) if name == "Float32Derivatives" else not any(rounded), res
    # float32 runs keep their float32 tolerance
    res32 = _results(f"conformance_backends:{name}", PRECISION, ("float32",))
    assert all(r["status"] == "passed" for r in res32.values()), res32


def test_compiled_conversion_error_names_translate_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("jax")
    from multiad_jax import JaxBackend

    monkeypatch.setattr(JaxBackend, "translate_error", lambda self, exc: None)
    res = _results("jax", ("sum_x_times_float_sum_x.grad",), compiled="all")
    eager, compiled = (
        res["sum_x_times_float_sum_x.grad-cpu-float64"],
        res["sum_x_times_float_sum_x.grad-cpu-float64-compiled"],
    )
    for r in (eager, compiled):
        assert r["status"] == "failed", r
        assert "a conversion inside f must raise NonDifferentiableError or keep the derivative" in r["reason"], r
    assert "under jax.jit the framework raised this error instead" in compiled["reason"].splitlines()[0]
    assert "translate_error(exc) must return a reason for it" in compiled["reason"].splitlines()[0]


def test_an_all_zero_result_is_not_called_float32_rounding(monkeypatch: pytest.MonkeyPatch) -> None:
    """A zero is a float32 number: a detached derivative (zeros) was reported as float64 computed
    through float32; it is named as zeros, and neither zeros nor whole numbers far off get the
    float32 reason."""
    monkeypatch.syspath_prepend(str(PLUGINS))
    res = _results("conformance_backends:JvpDetached", ("sin_sum_sq.grad(jvp)",))
    (r,) = res.values()
    assert r["status"] == "failed" and "all zeros" in r["reason"] and "float32 numbers" not in r["reason"], r
    b = _spec.load("numpy")
    tol = Tolerance(1e-10, 1e-12)
    expected = np.array([0.3, 1.7, -2.2])
    whole = _run._compare(b, np.array([0.0, 2.0, -2.0]), expected, tol, "r", True)[0]
    rounded = _run._compare(b, expected.astype(np.float32).astype(np.float64), expected, tol, "r", True)[0]
    assert whole and "float32 numbers" not in whole[0] and "all zeros" not in whole[0], whole
    assert rounded and "float32 numbers" in rounded[0], rounded
