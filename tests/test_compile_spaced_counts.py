"""mnp.linspace, logspace and geomspace with a length read from a traced shape compile under
torch.compile with fullgraph=True at every shape (NOTE [Counts of spaced values] in
multiad/numpy/_creation.py): from the second shape on the compiler made the length a symbolic
int, which the constant-result function making numpy's values could not take."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad.numpy as mnp

torch = pytest.importorskip("torch")

FORMS: dict[str, tuple[Callable[[Any], Any], Callable[[int], Any]]] = {
    "linspace": (lambda x: x * mnp.linspace(0.0, 1.0, x.shape[0]), lambda n: np.linspace(0.0, 1.0, n)),
    "linspace open": (
        lambda x: x * mnp.linspace(-1.0, 2.0, x.shape[0], endpoint=False),
        lambda n: np.linspace(-1.0, 2.0, n, endpoint=False),
    ),
    "logspace": (lambda x: x * mnp.logspace(0.0, 2.0, x.shape[0]), lambda n: np.logspace(0.0, 2.0, n)),
    "geomspace": (lambda x: x * mnp.geomspace(1.0, 8.0, x.shape[0]), lambda n: np.geomspace(1.0, 8.0, n)),
}


@pytest.mark.parametrize("form", list(FORMS))
def test_spaced_values_of_a_traced_length_compile_in_one_graph(form: str) -> None:
    fn, expected = FORMS[form]
    compiled = torch.compile(fn, backend="aot_eager", fullgraph=True)
    for n in (4, 6, 9, 6):
        got = compiled(torch.ones(n, dtype=torch.float64))
        np.testing.assert_allclose(got.numpy(), expected(n), rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", ["linspace", "logspace", "geomspace"])
def test_a_float_count_is_numpys_type_error(name: str) -> None:
    with pytest.raises(TypeError, match=rf"^mnp\.{name}: 'float' object cannot be interpreted as an integer"):
        getattr(mnp, name)(1.0, 2.0, 2.5)
