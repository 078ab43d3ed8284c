"""Conformance testing for multiad backends.

- :data:`CASES`: the conformance cases (a transform applied to a function written with
  :mod:`multiad.numpy`, with closed-form float64 references or a reference-free identity);
- :func:`tolerance`: the tolerance table (NOTE [Conformance tolerances]);
- :func:`check_backend`: runs the suite directly and returns the report dict;
- :func:`restricted`: a real backend with only its vjp, to exercise the core's derivations.

The same suite runs under pytest: ``pytest --pyargs multiad.conformance --multiad-backend=NAME``
(see :mod:`multiad.testing.pytest_plugin`), and ``python -m multiad.testing.report`` turns
reports into a capability matrix.

Names are imported on first use: pytest loads :mod:`multiad.testing.pytest_plugin` in every
session, and that must not pay for the suite.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._restricted import restricted as restricted
    from ._fns import Fn as Fn
    from ._run import Item as Item
    from ._run import check_backend as check_backend
    from ._run import plan as plan
    from ._run import run_item as run_item
    from ._suite import CASES as CASES
    from ._suite import Case as Case
    from ._tolerance import Tolerance as Tolerance
    from ._tolerance import tolerance as tolerance

_WHERE = {
    "restricted": "multiad._restricted",
    "Fn": "multiad.testing._fns",
    "Item": "multiad.testing._run",
    "check_backend": "multiad.testing._run",
    "plan": "multiad.testing._run",
    "run_item": "multiad.testing._run",
    "CASES": "multiad.testing._suite",
    "Case": "multiad.testing._suite",
    "Tolerance": "multiad.testing._tolerance",
    "tolerance": "multiad.testing._tolerance",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'multiad.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
