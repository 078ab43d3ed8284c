"""Backends wrong only past a size, a rank, an output count or a nesting depth fail the suite
(NOTE [Sizes, ranks and output counts] in multiad/testing/_fns.py, NOTE [Forward mode three
deep] in multiad/testing/_cases.py): each was certified with every other case passing."""

from __future__ import annotations

from pathlib import Path

import pytest

from multiad.conformance.test_contract import test_primitives_keep_the_flat_contract as flat_contract
from multiad.testing import _run, _spec
from multiad.testing._suite import CASES

PLUGINS = Path(__file__).resolve().parent / "plugins"
NEW = ("nd3_to_three_outputs.", "sin_sum_sq.third derivative[jacfwd(jacfwd(jacfwd))]")
# (The dot-product identity catches them too on a backend with its own jvp; autograd's jvp is its
# vjp transposed, wrong the same way, so the identity can hold.)
ND3 = {"nd3_to_three_outputs.vjp", "nd3_to_three_outputs.jacrev"}
#: backend -> (new cases it must fail, whether the flat-contract item fails it too)
WRONG = {
    "BigLastNegated": (ND3, True),
    "ThirdCotangentDropped": (ND3, True),
    "NdimThreeNegated": (ND3, True),
    "JvpTwoDeepDetached": ({"sin_sum_sq.third derivative[jacfwd(jacfwd(jacfwd))]"}, False),
}


def _failed(spec: str) -> set[str]:
    b = _spec.load(spec)
    _spec.prepare(b, ["float64"])
    cases = [c for c in CASES if c.id.startswith(NEW)]
    assert len(cases) == 6, [c.id for c in cases]
    items = _run.plan(b, ["cpu"], ["float64"], cases, compiled="none")
    return {item.case.id for item in items if _run.run_item(b, item)["status"] == "failed"}


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_past_a_size_rank_output_count_or_depth_fails(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    cases, contract = WRONG[name]
    failed = _failed(f"conformance_backends:{name}")
    assert cases <= failed, sorted(cases - failed)  # autograd's jvp is its vjp transposed: it may fail more
    b = _spec.load(f"conformance_backends:{name}")
    if contract:
        with pytest.raises(AssertionError, match=r"pullback\(\(u, t, c\)\) on a \(3,\) and a \(3, 3, 5\) primal"):
            flat_contract(b)
    else:
        flat_contract(b)


@pytest.mark.parametrize("name", ["autograd", "numpy"])
def test_right_backends_pass_the_new_cases(name: str) -> None:
    assert _failed(name) == set()
    flat_contract(_spec.load(name))
