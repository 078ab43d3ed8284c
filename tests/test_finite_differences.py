"""The numpy backend's finite differences: steps per component, error estimates and their
warning, the nesting limit, vhp's cost, values at call time; and JAX's float32 warning.

References are closed forms. Each test failed before the behaviour it checks was built.
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import multiad_numpy
import numpy as np
import pytest
from conftest import Counted
from test_docs import DOCS, run_page

import multiad
import multiad.numpy as mnp

NP = "numpy"


def d(f: Callable[..., Any]) -> Callable[..., Any]:
    return multiad.grad(f, backend=NP)


def sin_exp(x: Any) -> Any:
    return mnp.sin(x) * mnp.exp(x)


def sum_sin(x: Any) -> Any:
    return mnp.sum(mnp.sin(x))


def relu_sum(x: Any) -> Any:
    return mnp.sum(mnp.maximum(x, 0.0))


# -- steps per component ------------------------------------------------------------------------

X_WIDE = np.array([1e6, 0.5])
T_SECOND = np.array([0.0, 1.0])


def test_jvp_uses_a_step_per_component(strict: None) -> None:
    _, t = multiad.jvp(mnp.sin, (X_WIDE,), (T_SECOND,), backend=NP)
    np.testing.assert_allclose(t, [0.0, np.cos(0.5)], rtol=1e-8, atol=1e-12)
    # Components of several scales at once, each differenced with its own decade's step.
    x = np.array([1e6, 0.5, 3e3, 2e-3])
    _, t = multiad.jvp(mnp.log, (x,), (np.ones(4),), backend=NP)
    np.testing.assert_allclose(t, 1 / x, rtol=1e-8)


@pytest.mark.parametrize("small", [1e-4, 1e-8, -1e-12])
def test_jvp_of_tangents_of_very_different_sizes(strict: None, small: float) -> None:
    # One step for [1, small] moved the second component by small * step, below rounding:
    # its output came back wrong (0 for 1e-8 times 1e8) without a warning.
    v = np.array([1.0 / abs(small), small])
    x = np.array([0.5, 0.5])
    _, t = multiad.jvp(mnp.sin, (x,), (v,), backend=NP)
    np.testing.assert_allclose(t, v * np.cos(x), rtol=1e-8)
    counted = Counted(mnp.sin)
    multiad.jvp(counted, (x,), (np.array([1.0, 0.01]),), backend=NP)
    assert counted.calls == 5  # sizes within 1e3 of each other: one difference


def test_jvp_of_a_subnormal_tangent_component(strict: None) -> None:
    # Its group's step c / 5e-324 overflowed to inf and made every output nan.
    x = np.array([0.5, 0.7])
    _, t = multiad.jvp(mnp.sin, (x,), (np.array([5e-324, 1.0]),), backend=NP)
    np.testing.assert_allclose(t, [0.0, np.cos(0.7)], rtol=1e-8, atol=1e-300)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_tangent_that_is_not_finite_raises(bad: float) -> None:
    # A step along an infinite tangent is no step: ZeroDivisionError (inf) or all-nan outputs
    # (nan, also for the outputs the component does not touch).
    x = np.array([0.5, 0.7])
    with pytest.raises(multiad.InvalidArgumentError, match=r"^jvp\(sin\): a tangent holds nan or inf"):
        multiad.jvp(mnp.sin, (x,), (np.array([bad, 1.0]),), backend=NP)
    with pytest.raises(multiad.InvalidArgumentError, match=r"^hvp\(sum_sin\): a tangent holds nan or inf"):
        multiad.hvp(sum_sin, (x,), (np.array([bad, 1.0]),), backend=NP)


def test_linearize_and_hvp_use_a_step_per_component(strict: None) -> None:
    # linearize builds the whole Jacobian: log, whose scale follows |x|, suits both components.
    _, jvp_fn = multiad.linearize(mnp.log, X_WIDE, backend=NP)
    np.testing.assert_allclose(jvp_fn(np.ones(2)), [1e-6, 2.0], rtol=1e-8)
    (hv,) = multiad.hvp(sum_sin, (X_WIDE,), (T_SECOND,), backend=NP)
    np.testing.assert_allclose(hv, [0.0, -np.sin(0.5)], rtol=1e-4, atol=1e-6)


def test_an_inf_element_spoils_only_what_depends_on_it() -> None:
    x = np.array([np.inf, 0.5])
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.warns(
            multiad.AccuracyWarning, match="nan or inf at x or within a finite-difference step of it, for 1 element"
        ):
            _, t = multiad.jvp(mnp.sin, (x,), (T_SECOND,), backend=NP)
    assert np.isnan(t[0])  # sin(inf) is NaN: so is its derivative, which warns
    np.testing.assert_allclose(t[1], np.cos(0.5), rtol=1e-8)


# -- nesting beyond second order ----------------------------------------------------------------

X07 = np.array(0.7)


def test_second_order_nesting_is_allowed_and_accurate(strict: None) -> None:
    np.testing.assert_allclose(d(d(sin_exp))(X07), 2 * np.exp(0.7) * np.cos(0.7), rtol=1e-5)


def test_third_order_nesting_raises() -> None:
    with pytest.raises(multiad.UnsupportedOperationError, match=r"^grad\(sin_exp\): .*higher_order"):
        d(d(d(sin_exp)))(X07)


C = np.array([1.0, 2.0])
XC = np.array([0.3, -1.2])


def _scaled_by_a_constant_gradient(z: Any) -> Any:
    k = multiad.to_numpy(multiad.grad(lambda w: mnp.sum(w**3), backend=NP)(C))[0]  # 3, whatever z is
    return k * mnp.sum(mnp.sin(z) * z)


def test_a_constant_gradient_inside_f_counts_as_a_level_and_says_so() -> None:
    """NOTE [Levels counted, not orders] in backends/numpy: the message said "a derivative of
    order 3" for a Hessian whose f takes a gradient of constant data; it says what is counted
    and how to avoid it, and the value computed outside f gives the Hessian."""
    with pytest.raises(multiad.UnsupportedOperationError) as info:
        multiad.hessian(_scaled_by_a_constant_gradient, backend=NP)(XC)
    msg = str(info.value)
    assert "3 deep" in msg and "(a derivative of order 3)" not in msg
    assert "does not depend on f's arguments (a gradient of constant data inside f)" in msg
    assert "compute such a value once outside f and close over it" in msg and "higher_order" in msg
    k = multiad.to_numpy(multiad.grad(lambda w: mnp.sum(w**3), backend=NP)(C))[0]
    h = multiad.hessian(lambda z: k * mnp.sum(mnp.sin(z) * z), backend=NP)(XC)
    x = XC  # d2/dz2 of 3 z sin z: 3 (2 cos z - z sin z) on the diagonal
    np.testing.assert_allclose(h, np.diag(3 * (2 * np.cos(x) - x * np.sin(x))), rtol=1e-5, atol=2e-5)


def _sum_of_hessian(x: Any) -> Any:
    return mnp.sum(multiad.hessian(sin_exp, backend=NP)(x))


def _hvp_of_hvp(x: Any) -> Any:
    return multiad.hvp(lambda y: mnp.sum(multiad.hvp(sin_exp, (y,), (y,), backend=NP)[0]), (x,), (x,), backend=NP)


@pytest.mark.parametrize(
    ("max_order", "run", "call"),
    [
        (1, lambda: d(_sum_of_hessian)(X07), "grad(_sum_of_hessian)"),
        (2, lambda: d(_sum_of_hessian)(X07), "hessian(sin_exp)"),
        (1, lambda: _hvp_of_hvp(X07), "hvp(<lambda>)"),
        (2, lambda: _hvp_of_hvp(X07), "hvp(<lambda>)"),
    ],
)
def test_nesting_too_deep_names_a_call(max_order: int, run: Callable[[], Any], call: str) -> None:
    """The outer level of a composed transform (hessian, hvp), whose function is the core's own,
    names a call too (NOTE [Names of composed levels])."""
    with (
        multiad_numpy.higher_order(max_order),
        pytest.raises(multiad.UnsupportedOperationError, match=rf"^{re.escape(call)}: .*higher_order"),
    ):
        run()


def test_higher_order_opt_in_is_accurate(strict: None) -> None:
    with multiad_numpy.higher_order(3):
        third = d(d(d(sin_exp)))(X07)
    np.testing.assert_allclose(third, 2 * np.exp(0.7) * (np.cos(0.7) - np.sin(0.7)), rtol=1e-4)
    with multiad_numpy.higher_order(4):
        fourth = d(d(d(d(sin_exp))))(X07)
    np.testing.assert_allclose(fourth, -4 * np.exp(0.7) * np.sin(0.7), rtol=1e-4)
    # The opt-in ends with the block.
    with pytest.raises(multiad.UnsupportedOperationError):
        d(d(d(sin_exp)))(X07)


def test_higher_order_rejects_nonsense() -> None:
    with pytest.raises(multiad.InvalidArgumentError, match=r"^higher_order\(0\)"):
        with multiad_numpy.higher_order(0):
            pass


# -- error estimates and the warning ------------------------------------------------------------


def test_accuracy_warning_is_public() -> None:
    assert issubclass(multiad.AccuracyWarning, UserWarning)
    assert "AccuracyWarning" in multiad.__all__


@pytest.mark.parametrize("x", [0.0, 1e-6, -1e-6, 3e-6, 1e-5])
def test_a_kink_within_the_stencil_warns(x: float) -> None:
    with pytest.warns(multiad.AccuracyWarning, match=r"^grad\(relu_sum\): .*estimated error") as seen:
        multiad.grad(relu_sum, backend=NP)(np.array([x, 2.0]))
    assert seen[0].filename == __file__  # attributed to the caller, not to multiad


def test_a_kink_far_from_the_point_does_not_warn(strict: None) -> None:
    g = multiad.grad(relu_sum, backend=NP)(np.array([0.5, -0.5]))
    np.testing.assert_allclose(g, [1.0, 0.0], atol=1e-10)


def half_relu_squared(x: Any) -> Any:
    return mnp.sum(mnp.maximum(x, 0.0) ** 2) / 2


def test_second_derivatives_of_a_kinked_gradient_warn() -> None:
    # The gradient of half_relu_squared is relu(x): the Hessian jumps at 0.
    x, t = np.array([0.0, 1.0]), np.array([1.0, 0.0])
    with pytest.warns(multiad.AccuracyWarning, match=r"^hessian\(half_relu_squared\): .*order-2"):
        multiad.hessian(half_relu_squared, backend=NP)(x)
    with pytest.warns(multiad.AccuracyWarning, match=r"^hvp\(half_relu_squared\): .*order-2"):
        multiad.hvp(half_relu_squared, (x,), (t,), backend=NP)


SMOOTH: list[tuple[str, Callable[..., Any], Callable[[np.ndarray], np.ndarray]]] = [
    ("sin", lambda x: mnp.sum(mnp.sin(x)), np.cos),
    ("exp", lambda x: mnp.sum(mnp.exp(x)), np.exp),
    ("tanh", lambda x: mnp.sum(mnp.tanh(3 * x)), lambda x: 3 / np.cosh(3 * x) ** 2),
    ("cubic", lambda x: mnp.sum(x**3 + x**2), lambda x: 3 * x**2 + 2 * x),
    ("fast sin", lambda x: mnp.sum(mnp.sin(50 * x)), lambda x: 50 * np.cos(50 * x)),
    ("large", lambda x: mnp.sum(1e8 * mnp.sin(x)), lambda x: 1e8 * np.cos(x)),
]


def grad_and_estimate(f: Callable[..., Any], x: np.ndarray) -> tuple[np.ndarray, multiad_numpy.Estimate]:
    with multiad_numpy.record_errors() as records:
        g = multiad.grad(f, backend=NP)(x)
    (rec,) = records
    return g, rec


@pytest.mark.parametrize("name, f, df", SMOOTH, ids=[s[0] for s in SMOOTH])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_estimates_bound_the_true_error_of_smooth_functions(
    name: str, f: Callable[..., Any], df: Callable[[np.ndarray], np.ndarray], dtype: Any
) -> None:
    x = np.array([0.0, 0.3, -1.2, 2.0], dtype=dtype)
    # sin(50 x) in float32, where the step (5e-3) is a quarter of a radian of the sine, and
    # tanh(3 x) in float32, whose derivative at 2.0 (7.4e-5) is 1e-4 of f (0.72): float32's
    # rounding noise of f over the step (eps |f| / h, 4e-6) leaves it about 2% off.
    poor = (name, dtype) in {("fast sin", np.float32), ("tanh", np.float32)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if poor else "error")
        g, rec = grad_and_estimate(f, x)
    true = float(np.max(np.abs(g.astype(np.float64) - df(x.astype(np.float64)))))
    # The estimate bounds the true error (within rounding of the reference itself) ...
    assert true <= 10 * rec.error + 4 * float(np.finfo(dtype).eps) * float(np.max(np.abs(df(x)))), (true, rec)
    assert rec.order == 1 and 4 * x.size + 1 <= rec.evaluations <= 6 * x.size + 1
    # ... and smooth functions stay under the tolerance, except the two above.
    assert (rec.relative <= rec.tolerance) == (not poor), rec
    if name == "tanh" and dtype == np.float32:  # the warning is right: that element is off by more than 1e-3
        assert abs(g[3] / df(np.float64(x[3])) - 1) > 1e-3


def test_a_step_too_coarse_for_f_warns() -> None:
    x = np.array([0.0, 0.3, -1.2, 2.0], dtype=np.float32)  # at 2.0 the step is 1e-2
    with pytest.warns(multiad.AccuracyWarning, match=r"float32 tolerance"):
        multiad.grad(lambda x: mnp.sum(mnp.sin(50 * x)), backend=NP)(x)


@pytest.mark.parametrize("steps", [2.25, 3.0, 3.75])
def test_a_refinement_outside_the_domain_keeps_the_warning(steps: float) -> None:
    # log 2.25 to 3.75 steps from its domain's edge: f is finite at x +- h and x +- 2h, and the
    # result 1% to 10% off; the refining pair x +- 4h is outside (nan) and must not hide that.
    h = float(np.finfo(np.float64).eps) ** (1 / 3)  # the step at x = 0.3 (scale 1)
    edge = 0.3 - steps * h

    def f(x: Any) -> Any:
        return mnp.log(x - edge)

    exact = 1 / (0.3 - edge)
    with np.errstate(invalid="ignore"):
        for call in (
            lambda: multiad.grad(f, backend=NP)(0.3),
            lambda: multiad.jvp(f, (0.3,), (1.0,), backend=NP)[1],
            lambda: multiad.jacfwd(f, backend=NP)(np.array([0.3, 0.5]))[0, 0],
        ):
            with pytest.warns(multiad.AccuracyWarning, match=r"estimated error"):
                got = float(call())
            assert abs(got - exact) > 1e-3 * exact  # the warning is deserved


@pytest.mark.parametrize("dtype, large", [(np.float64, 1e8), (np.float32, 1e4)])
def test_a_large_output_value_does_not_hide_a_kink_in_another(dtype: Any, large: float) -> None:
    # |x - c| with c half a step above x: the central difference gives -0.58 for -1. Beside it
    # an output that is a large constant (or depends on another input only) has derivatives
    # of 0 and 1; its value must not become the scale the kinked entry is held to.
    h = float(np.finfo(dtype).eps) ** (1 / 3)  # the step at 0.3 (scale 1)
    c = 0.3 + 0.5 * h
    x = np.array([0.3, 1.0], dtype=dtype)

    def constant(x: Any) -> Any:
        return mnp.stack([mnp.abs(x[0] - c), large + 0 * x[1]])

    def shifted(x: Any) -> Any:
        return mnp.stack([mnp.abs(x[0] - c), large + x[1]])

    for f in (constant, shifted):
        for transform in (multiad.jacrev, multiad.jacfwd):
            with pytest.warns(multiad.AccuracyWarning, match=r"estimated error"):
                jac = transform(f, backend=NP)(x)
            assert abs(float(jac[0, 0]) + 1.0) > 0.1  # the warning is deserved
        with pytest.warns(multiad.AccuracyWarning, match=r"estimated error"):
            _, tangent = multiad.jvp(f, (x,), (np.array([1.0, 0.0], dtype=dtype),), backend=NP)
        assert abs(float(tangent[0]) + 1.0) > 0.1


def test_constants_and_minima_do_not_warn(strict: None) -> None:
    # A constant f: differences are exactly 0 and there is no noise to estimate.
    h = multiad.hessian(lambda x: mnp.sum(0 * x) + 3.0, backend=NP)(np.ones(3))
    np.testing.assert_array_equal(h, np.zeros((3, 3)))
    # The gradient at a minimum where f is 0 too: 0 within rounding, held to the curvature.
    g = multiad.grad(lambda x: mnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2), backend=NP)(
        np.ones(3) + 1e-9
    )
    np.testing.assert_allclose(g, 0.0, atol=1e-6)


def test_the_estimate_runs_under_a_program_that_raises_on_underflow(strict: None) -> None:
    # np.seterr(all="raise") (optimisation libraries' test suites set it) made the estimate's own
    # arithmetic on tiny values raise FloatingPointError; f itself runs with the caller's state.
    x, v = np.array([1.0, -2.0, 0.5]), np.array([0.3, 1.0, -1.0])

    def tiny(x: Any) -> Any:
        return 1e-300 * mnp.sum(x**2)

    with np.errstate(all="raise"):
        g = multiad.grad(tiny, backend=NP)(x)
        (hv,) = multiad.hvp(tiny, (x,), (v,), backend=NP)
        (vh,) = multiad.vhp(tiny, (x,), (v,), backend=NP)
        tangent = multiad.jvp(tiny, (x,), (v,), backend=NP)[1]
        with pytest.raises(FloatingPointError):  # f's own underflow, as the caller asked
            multiad.grad(lambda x: mnp.sum(mnp.exp(-x)), backend=NP)(np.full(2, 800.0))
        assert np.geterr()["under"] == "raise"
    np.testing.assert_allclose(g, 2e-300 * x, rtol=1e-8)
    np.testing.assert_allclose(tangent, 2e-300 * float(x @ v), rtol=1e-8)
    np.testing.assert_allclose(hv, 2e-300 * v, rtol=1e-5)
    np.testing.assert_allclose(vh, 2e-300 * v, rtol=1e-5)


def test_estimates_are_recorded_per_outermost_result(strict: None) -> None:
    x = np.array([0.2, 0.4, 0.6])
    with multiad_numpy.record_errors() as records:
        h = multiad.hessian(lambda x: mnp.sum(mnp.sin(x) * x), backend=NP)(x)
    (rec,) = records
    expected = np.diag(2 * np.cos(x) - x * np.sin(x))
    assert rec.order == 2 and rec.call.startswith("hessian(")
    true = float(np.max(np.abs(h - expected)))
    assert true <= 10 * rec.error and rec.relative <= rec.tolerance, (true, rec)


def test_the_module_examples_run() -> None:
    failed, attempted = doctest.testmod(multiad_numpy._levels, raise_on_error=False)
    assert attempted >= 2 and failed == 0


# -- vhp: the hvp path, not reverse-over-reverse ------------------------------------------------


def test_vhp_costs_what_hvp_costs(strict: None) -> None:
    n = 16
    x, t = np.linspace(-1.0, 1.0, n), np.linspace(0.5, -0.5, n)

    def energy(x: Any) -> Any:
        return mnp.sum(mnp.sin(x) * x)

    expected = (2 * np.cos(x) - x * np.sin(x)) * t
    fv, fh = Counted(energy), Counted(energy)
    (vh,) = multiad.vhp(fv, (x,), (t,), backend=NP)
    (hv,) = multiad.hvp(fh, (x,), (t,), backend=NP)
    np.testing.assert_allclose(vh, expected, rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(hv, expected, rtol=1e-4, atol=2e-5)
    assert fv.calls == fh.calls <= 10 * n + 5  # reverse-over-reverse took 4 n**2 + 1 (1025)


# -- values at call time ------------------------------------------------------------------------


def test_linearize_evaluates_f_once_at_the_values_of_the_call(strict: None) -> None:
    x = np.array([0.3, 1.1])
    counted = Counted(mnp.sin)
    out, jvp_fn = multiad.linearize(counted, x, backend=NP)
    calls = counted.calls
    x[:] = [2.0, -1.0]
    for t in (np.array([1.0, 0.0]), np.array([0.5, -2.0])):
        np.testing.assert_allclose(jvp_fn(t), np.cos([0.3, 1.1]) * t, rtol=1e-8)
    assert counted.calls == calls  # jvp_fn does not run f again
    np.testing.assert_allclose(out, np.sin([0.3, 1.1]))


def test_vjp_fn_sees_the_values_at_the_call() -> None:
    x = np.array([0.3, 1.1])
    _, vjp_fn = multiad.vjp(mnp.sin, x, backend=NP)
    x[:] = [2.0, -1.0]  # changed in place after the call
    (g,) = vjp_fn(np.ones(2))
    np.testing.assert_allclose(g, np.cos([0.3, 1.1]), rtol=1e-8)


# -- JAX without x64 ----------------------------------------------------------------------------

X64_PROBE = """
import warnings
import numpy as np
import multiad, multiad.numpy as mnp
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as seen:
    g = multiad.grad(lambda x: mnp.sum(mnp.sin(x)), backend="jax")
    for _ in range(3):
        out = g(np.array([1.0, 2.0]))
    g(np.array([1.0], dtype=np.float32))
hits = [w for w in seen if issubclass(w.category, multiad.AccuracyWarning)]
print(len(hits), str(out.dtype), hits[0].filename if hits else "")
print(hits[0].message if hits else "")
"""


def test_jax_float64_without_x64_warns_once_per_process() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_") and k != "MULTIAD_BACKEND"}
    res = subprocess.run([sys.executable, "-c", X64_PROBE], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    first, message = res.stdout.strip().splitlines()[-2:]
    count, dtype, filename = first.split(" ")
    assert (count, dtype, filename) == ("1", "float32", "<string>")
    assert 'jax.config.update("jax_enable_x64", True)' in message


def test_jax_float64_with_x64_does_not_warn(strict: None) -> None:
    g = multiad.grad(lambda x: mnp.sum(mnp.sin(x)), backend="jax")(np.array([1.0, 2.0]))
    np.testing.assert_allclose(multiad.to_numpy(g), np.cos([1.0, 2.0]), rtol=1e-15)


def test_the_reliability_page_runs(strict: None, capsys: pytest.CaptureFixture[str]) -> None:
    run_page(DOCS / "reliability.md")
    assert "grad(<lambda>): estimated" in capsys.readouterr().out


# -- columns at once ----------------------------------------------------------------------------


def test_only_doubtful_columns_are_refined_and_f_may_keep_its_argument() -> None:
    # NOTE [Columns at once]: 4 evaluations per column, 2 more for the kinked column only, and 1
    # for the column at -1.5, where no value of f changed across the stencil while f(x) is not 0
    # (NOTE [Values too coarse to change]: f one input's magnitude away, unchanged again).
    kept: list[Any] = []

    def f(x: Any) -> Any:
        kept.append(x)  # f keeps its argument: every call must get its own array
        return mnp.maximum(x, 0.0) * 1.0

    counted = Counted(f)
    x = np.array([0.0, 2.0, -1.5])
    with pytest.warns(multiad.AccuracyWarning):
        jac = multiad.jacfwd(counted, backend=NP)(x)
    assert counted.calls == 1 + 4 * 3 + 2 + 1
    np.testing.assert_allclose(jac[1:, 1:], np.diag([1.0, 0.0]), atol=1e-10)
    assert len({id(a) for a in kept}) == len(kept)
    assert np.array_equal(kept[0], x) and all(np.count_nonzero(a != x) == 1 for a in kept[1:])


@pytest.mark.parametrize("transform", ["grad", "jacrev", "jvp", "hessian", "vjp"])
def test_f_changing_its_argument_in_place_raises_and_leaves_it(transform: str) -> None:
    # NOTE [Arguments f may not change]: the caller's array was doubled and every later
    # difference was taken at the doubled point (grad [16, 32] for the true [8, 16]).
    def f(z: Any) -> Any:
        z *= 2.0
        return mnp.sum(z**2) * mnp.ones(2)

    x = np.array([1.0, 2.0])
    calls = {
        "grad": lambda: multiad.grad(lambda z: f(z)[0], backend=NP)(x),
        "jacrev": lambda: multiad.jacrev(f, backend=NP)(x),
        "jvp": lambda: multiad.jvp(f, (x,), (np.ones(2),), backend=NP),
        "hessian": lambda: multiad.hessian(lambda z: f(z)[0], backend=NP)(x),
        "vjp": lambda: multiad.vjp(f, x, backend=NP),
    }
    with pytest.raises(multiad.NonDifferentiableError, match=r"changes in place an array it is given"):
        calls[transform]()
    assert x.tolist() == [1.0, 2.0]


def test_f_may_change_a_copy_of_its_argument(strict: None) -> None:
    def f(z: Any) -> Any:
        z = z.copy()
        z *= 2.0
        return mnp.sum(z**2)

    np.testing.assert_allclose(multiad.grad(f, backend=NP)(np.array([1.0, 2.0])), [8.0, 16.0], rtol=1e-8)


# NOTE [Arguments outside argnums]: f got the arguments it does not differentiate as the caller's
# arrays, at every evaluation: x[:2] = y with argnums=1 left the caller's x holding the last
# perturbed y, and x[:2] += y gave each evaluation another x.
_OUTSIDE = ["grad", "value_and_grad", "jacrev", "jacfwd", "jacobian", "hessian"]


def _outside(transform: str, f: Callable[..., Any], x: Any, y: Any) -> Any:
    return getattr(multiad, transform)(f, argnums=1, backend=NP)(x, y)


def _overwrite(x: Any, y: Any) -> Any:
    x[:2] = y
    return mnp.sum(x**2)


def _accumulate(x: Any, y: Any) -> Any:
    x[:2] += y
    return mnp.sum(x[:2] * y)


@pytest.mark.parametrize("transform", _OUTSIDE)
@pytest.mark.parametrize("f", [_overwrite, _accumulate], ids=["overwrite", "accumulate"])
def test_f_changing_an_argument_outside_argnums_raises_and_leaves_it(transform: str, f: Callable[..., Any]) -> None:
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.5])
    with pytest.raises(multiad.NonDifferentiableError, match=rf"^{transform}\({f.__name__}\): ") as info:
        _outside(transform, f, x, y)
    message = str(info.value)
    assert "outside argnums" in message and "x = x.copy()" in message
    assert x.tolist() == [1.0, 2.0, 3.0] and y.tolist() == [0.5, -1.5]
    assert x.flags.writeable  # the caller's array is left writable


def _copied(x: Any, y: Any) -> Any:  # the change the error advises
    x = x.copy()
    x[:2] = y
    return mnp.sum(x**2)


@pytest.mark.parametrize("transform", _OUTSIDE)
def test_f_may_change_a_copy_of_an_argument_outside_argnums(strict: None, transform: str) -> None:
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.5])
    expected = {  # of y0**2 + y1**2 + 9
        "grad": 2 * y,
        "value_and_grad": 2 * y,
        "jacrev": 2 * y,
        "jacfwd": 2 * y,
        "jacobian": 2 * y,
        "hessian": 2 * np.eye(2),
    }[transform]
    result = _outside(transform, _copied, x, y)
    if transform == "value_and_grad":
        np.testing.assert_allclose(result[0], 0.25 + 2.25 + 9.0, rtol=1e-12)
        result = result[1]
    tol = 1e-4 if transform == "hessian" else 1e-6  # nested differences: NOTE [Nesting levels]
    np.testing.assert_allclose(result, expected, rtol=tol, atol=tol)
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_f_changing_a_keyword_argument_or_a_leaf_outside_argnums_raises() -> None:
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.5])

    def keyword(y: Any, *, x: Any) -> Any:
        return _overwrite(x, y)

    def leaf(p: Any, y: Any) -> Any:
        return _overwrite(p["x"], y) * p["scale"]

    with pytest.raises(multiad.NonDifferentiableError, match=r"^grad\(keyword\): .*outside argnums"):
        multiad.grad(keyword, backend=NP)(y, x=x)
    with pytest.raises(multiad.NonDifferentiableError, match=r"^jacfwd\(leaf\): .*outside argnums"):
        multiad.jacfwd(leaf, argnums=1, backend=NP)({"x": x, "scale": 2.0}, y)
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_arguments_outside_argnums_in_nested_transforms_and_vmap(strict: None) -> None:
    # Read (not written) arguments outside argnums at every level: closed forms.
    def f(x: Any, y: Any) -> Any:
        return mnp.sum(mnp.sin(x) * y**2)

    x, y = np.array([0.3, 0.7]), np.array([1.5, -0.5])
    np.testing.assert_allclose(
        multiad.hessian(f, argnums=0, backend=NP)(x, y), np.diag(-np.sin(x) * y**2), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        multiad.jacfwd(multiad.grad(f, argnums=0), argnums=1, backend=NP)(x, y),
        np.diag(2 * np.cos(x) * y),
        rtol=1e-5,
        atol=1e-5,
    )
    xs = np.stack([x, 2 * x])
    np.testing.assert_allclose(
        multiad.vmap(multiad.grad(f, argnums=0, backend=NP), in_dims=(0, None), backend=NP)(xs, y),
        np.cos(xs) * y**2,
        rtol=1e-8,
    )
    # The inner grad gets the outer level's perturbed x outside its argnums: a write is refused
    # there, and the error names the call made and the level inside it.
    with pytest.raises(
        multiad.NonDifferentiableError, match=r"^jacfwd\(_overwrite\): .* at grad\(_overwrite\) inside it: "
    ):
        multiad.jacfwd(multiad.grad(_overwrite, argnums=1), argnums=0, backend=NP)(np.ones(3), y)


def _warned_and_counted(f: Callable[..., Any], x: np.ndarray, record: bool) -> tuple[list[str], int]:
    counted = Counted(f)
    with warnings.catch_warnings(record=True) as seen, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", RuntimeWarning)
        if record:
            with multiad_numpy.record_errors():
                multiad.jacfwd(counted, backend=NP)(x)
        else:
            multiad.jacfwd(counted, backend=NP)(x)
    return [str(w.message) for w in seen if issubclass(w.category, multiad.AccuracyWarning)], counted.calls


BOUND_CASES: list[tuple[str, Callable[..., Any], np.ndarray]] = [
    *[
        (f"sin({k} x) float32", lambda x, k=k: mnp.sin(k * x), np.array([0.0, 0.3, -1.2, 2.0], np.float32))
        for k in (1, 4, 8, 12, 16, 24, 50)
    ],
    *[
        (f"relu at {x0}", lambda x: mnp.maximum(x, 0.0) * 1.0, np.array([x0, 2.0, -1.5]))
        for x0 in (0.0, 1e-6, 3e-5, 1e-4, 1e-3)
    ],
    ("sqrt at 0", lambda x: mnp.sqrt(x), np.array([0.0, 1.0])),
    ("pole at 0", lambda x: 1.0 / x, np.array([0.0, 1.0, 2.0])),
    ("tanh near 0, float32", lambda x: mnp.tanh(x * 1e-3), np.array([0.1, -0.2], np.float32)),
    ("exp, large values", lambda x: mnp.exp(x), np.array([40.0, 0.0, -3.0])),
    (
        "a kink beside a large value",
        lambda x: mnp.stack([mnp.abs(x[0] - 0.3 - 3e-6), 1e8 + 0 * x[1]]),
        np.array([0.3, 1.0]),
    ),
    ("a large value beside a smooth output", lambda x: mnp.stack([mnp.sin(x[0]), 1e8 + x[1]]), np.array([0.3, 1.0])),
]


@pytest.mark.parametrize("f, x", [c[1:] for c in BOUND_CASES], ids=[c[0] for c in BOUND_CASES])
def test_the_bound_warns_and_evaluates_as_the_full_estimate(f: Callable[..., Any], x: np.ndarray) -> None:
    # NOTE [Bound first]: without record_errors a result shown below the tolerance skips the
    # element-wise estimate; it must warn and evaluate f exactly as the full estimate does.
    assert _warned_and_counted(f, x, record=False) == _warned_and_counted(f, x, record=True)


def test_outputs_changing_shape_raise() -> None:
    def f(x: Any) -> Any:
        return mnp.sin(x) if x[0] == 0.5 else mnp.sin(x[:2])

    with pytest.raises(multiad.InvalidArgumentError, match=r"^jacrev\(f\): f returned outputs of shapes"):
        multiad.jacrev(f, backend=NP)(np.array([0.5, 1.0, 2.0]))


def test_a_float32_argument_beside_a_float64_one_steps_as_float32() -> None:
    # Differentiated together, a float32 and a float64 argument share the level's float64 step
    # factor; the float32 argument could not hold that step (rounded by up to 2 %), and its
    # derivative was off by 5e-3 where differentiated alone it is within 1e-5.
    x = np.array([0.3, -1.2, 2.0], dtype=np.float32)
    c = np.array([-0.65, -0.17, 1.66])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", multiad.AccuracyWarning)
        gx, gc = multiad.grad(lambda a, b: mnp.sum(a * b), argnums=(0, 1), backend="numpy")(x, c)
        jx, _ = multiad.jacrev(lambda a, b: a * b, argnums=(0, 1), backend="numpy")(x, c)
        _, tout = multiad.jvp(
            lambda a, b: mnp.sum(a * b), (x, c), (np.ones(3, np.float32), np.zeros(3)), backend="numpy"
        )
    np.testing.assert_allclose(gx, c, rtol=2e-5)
    np.testing.assert_allclose(gc, x, rtol=1e-8)
    np.testing.assert_allclose(np.diag(jx), c, rtol=2e-5)
    np.testing.assert_allclose(tout, c.sum(), rtol=2e-5)


@pytest.mark.parametrize("small, wide", [(np.float32, np.float64), (np.float16, np.float64), (np.float16, np.float32)])
@pytest.mark.parametrize("magnitude", [1e-3, 1.0, 7.0, 1e3])
def test_a_coarse_argument_beside_a_finer_one_steps_as_it_can_hold(small: Any, wide: Any, magnitude: float) -> None:
    # x + h rounded to a float32 argument moves by up to eps32 |x| from the nominal step
    # (1e-5 of it), and with float64 values of f nothing else hid that: the derivative of the
    # float32 argument of a * c was off by 1e-5 relative while the estimate said 1e-10 and no
    # warning came. Each f here promotes a first, so its values are exact to the wide dtype:
    # where the stencil is exact (a * c, a**2 c) the result must be good to the wide dtype's
    # tolerance without a warning; elsewhere (sin) within it or warned; the estimate covers the error.
    # jacfwd: its columns are in the output's (wide) dtype; jacrev's rows are in each argument's.
    x = (magnitude * np.array([0.61, -1.37, 1.93, 0.999, -0.501])).astype(small)
    c = np.array([-0.65, 1.17, 1.66, 0.93, -1.4], dtype=wide)
    xs, cs, k = x.astype(np.float64), c.astype(np.float64), max(1.0, magnitude)
    t = np.array([1.0, -0.3, 0.01, 0.7, 2.0], dtype=small)  # jvp: a tangent over several components
    cases = [
        (True, lambda a, b: a * b, np.diag(cs)),
        (True, lambda a, b: (a * b) * a, np.diag(2 * xs * cs)),
        (False, lambda a, b: mnp.sin(a * b / k), np.diag(np.cos(xs * cs / k) * cs / k)),
    ]
    tol = float(np.finfo(wide).eps) ** 0.5
    for exact_stencil, f, jac in cases:
        for how in ("jacfwd", "jvp"):
            with multiad_numpy.record_errors() as records, warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always", multiad.AccuracyWarning)
                if how == "jacfwd":
                    got, want = multiad.jacfwd(f, argnums=(0, 1), backend=NP)(x, c)[0], jac
                else:
                    got = multiad.jvp(f, (x, c), (t, np.zeros(5, wide)), backend=NP)[1]
                    want = jac @ t.astype(np.float64)
            scale = float(np.max(np.abs(jac))) * (1.0 if how == "jacfwd" else float(np.max(np.abs(t))))
            err, warned = float(np.max(np.abs(got - want))), bool(seen)
            # float16's jvp keeps a second-order residual of its rounded stencil (eps16**2 / c16)
            if exact_stencil and (how == "jacfwd" or small != np.float16):
                assert err <= 2 * tol * scale and not warned, (how, f, err, records)
            if wide == np.float64:  # (float32 values: the estimate is held to |f| / s, far larger here)
                assert err <= tol * scale or warned, (how, f, err, records)
            assert records[0].error >= 0.2 * err or err <= 1e-6 * tol * scale, (how, f, err, records)
