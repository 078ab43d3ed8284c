"""Messages of custom rules that the docs promise (docs/custom-rules.md).

A bwd whose count of entries is wrong for a call that passes a parameter with a default says
so (the docs promised it; the message said nothing about the passed default before).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp


def test_wrong_bwd_count_names_a_passed_default(ad_backend: Case) -> None:
    @multiad.custom_vjp
    def fs(x: Any, s: Any = 2.0) -> Any:
        return s * x

    fs.defvjp(lambda x, s=2.0: (s * x, s), lambda s, g: (g * s,))
    with multiad.use_backend(ad_backend.name):
        # left at its default: one entry, the gradient is s = 2
        ad_backend.close(multiad.grad(lambda x: mnp.sum(fs(x)))(np.ones(3)), 2.0 * np.ones(3))
        with pytest.raises(multiad.InvalidArgumentError, match=r"fs: .*passed 1 parameter\(s\) that have defaults"):
            multiad.grad(lambda x: mnp.sum(fs(x, 3.0)))(np.ones(3))
