"""Conformance testing for multiad backends.

- :data:`CASES`: the conformance cases (a transform applied to a function written with
  :mod:`multiad.numpy`, with closed-form float64 references or a reference-free identity);
- :func:`tolerance`: the tolerance table (NOTE [Conformance tolerances]);
- :func:`check_backend`: runs the suite directly and returns the report dict;
- :func:`restricted`: a real backend with only its vjp, to exercise the core's derivations.

The same suite runs under pytest: ``pytest --pyargs multiad.conformance --multiad-backend=NAME``
(see :mod:`multiad.testing.pytest_plugin`), and ``python -m multiad.testing.report`` turns
reports into a capability matrix.
"""

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

__all__ = ["CASES", "Case", "Fn", "Item", "Tolerance", "check_backend", "plan", "restricted", "run_item", "tolerance"]
