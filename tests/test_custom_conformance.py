"""The conformance suite's custom-rule family, run both ways (NOTE [Custom rules both ways])."""

from __future__ import annotations

from typing import Any

import pytest
from multiad_autograd import AutogradBackend

import multiad
from multiad.testing import _run
from multiad.testing._custom_cases import FAMILY
from multiad.testing._suite import CASES

CUSTOM = [c for c in CASES if c.family == FAMILY]


def _run_family(b: multiad.Backend) -> list[dict[str, Any]]:
    b.load()
    # Not under the backend's compiler (torch.compile takes seconds per case; see docs/plugins.md).
    return [_run.run_item(b, item) for item in _run.plan(b, ["cpu"], ["float64"], CUSTOM, compiled="none")]


class IgnoresRules(AutogradBackend):
    """Declares custom rules but differentiates the function itself: the suite must catch it."""

    name = "autograd-ignores-rules"

    def custom_vjp(self, rule: Any) -> Any:
        return rule.fun

    def custom_jvp(self, rule: Any) -> Any:
        return rule.fun


class WithoutRules(AutogradBackend):
    name = "autograd-without-rules"
    has_custom_rules = False


def test_the_family_covers_the_six_rules() -> None:
    names = {c.fn.name for c in CUSTOM}
    assert names == {
        "custom.clip_gradient",
        "custom.surrogate_floor",
        "custom.log1pexp[large]",
        "custom.log1pexp",
        "custom.nondiff_argnums",
        "custom.fixed_point",
        "custom.solver_in_fwd",  # NOTE [A solver inside fwd]
    }
    assert {"grad", "hessian", "jacfwd", "jacrev"} <= {c.transform for c in CUSTOM}


@pytest.mark.parametrize("name", ["torch", "autograd"])
def test_a_backend_with_rules_passes(name: str) -> None:
    recs = _run_family(_backend(name))
    assert [r for r in recs if r["status"] != "passed"] == []
    assert not any(r.get("unsupported") for r in recs)


def _backend(name: str) -> multiad.Backend:
    with multiad.use_backend(name) as b:
        return b


def test_a_backend_without_rules_passes_by_raising() -> None:
    for b in (_backend("numpy"), WithoutRules()):
        recs = _run_family(b)
        ran = [r for r in recs if r["status"] != "skipped"]
        assert ran and all(r["status"] == "passed" and r["unsupported"] == ["custom_rules"] for r in ran), b.name


def test_a_backend_that_ignores_the_rules_fails() -> None:
    recs = _run_family(IgnoresRules())
    failed = {r["case"] for r in recs if r["status"] == "failed"}
    # the clipped rule differs from the function's derivative (5 instead of 1)
    assert {"custom.clip_gradient.grad", "custom.clip_gradient.jacrev"} <= failed
    # a wrong number is named as one; the solver's body, differentiated instead of its rule,
    # meets float() of a traced iterate and raises (NOTE [A solver inside fwd])
    assert all(
        ("NonDifferentiableError" in r["reason"])
        if r["case"].startswith("custom.solver_in_fwd.")
        else ("off by" in r["reason"])
        for r in recs
        if r["status"] == "failed"
    )
    assert {"custom.solver_in_fwd.grad", "custom.solver_in_fwd.jacrev"} <= failed
