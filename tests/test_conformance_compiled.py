"""Compiled conformance cases are one program, as users compile theirs (NOTE [Structures made
inside the compiled function] in ``multiad/testing/_run.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from multiad import _registry
from multiad.testing import _fns, _run

torch = pytest.importorskip("torch")


def test_fn_counts_match_its_inputs() -> None:
    for fn in _fns.ALL_FNS:
        args, consts = fn.inputs(_fns.rng_for(fn.name))
        assert fn.counts == (len(args), len(consts)), fn.name


@pytest.mark.parametrize("case", ["w_tanh_x.jacfwd[chunk_size=2]", "w_tanh_x.jacrev"])
def test_a_compiled_case_traces_without_a_graph_break(case: str) -> None:
    # The harness's own treespec and input draws broke the graph: Dynamo skipped the function and
    # compiled the frames below it, inside torch.func's transforms, one by one; whether they
    # compiled depended on the cases run before ("Cannot access storage of TensorWrapper").
    from torch._dynamo.utils import counters

    b = _registry.get("torch")
    (item,) = [i for i in _run.plan(b, ["cpu"], ["float64"], compiled="all") if i.jit and i.case.id == case]
    torch._dynamo.reset()
    counters.clear()
    rec = _run.run_item(b, item)
    assert rec["status"] == "passed", rec.get("reason")
    assert dict(counters["graph_break"]) == {}
    assert np.isfinite(rec["max_abs_err"])
