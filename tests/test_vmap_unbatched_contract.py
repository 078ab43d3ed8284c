"""vmap's out_dims=None check asks of a backend's arrays only what the backend contract documents
(NOTE [Comparing an unbatched output] in multiad/_api_vmap.py): a concrete output is compared
through ``Backend.to_numpy``, never with the array class's ``&`` and ``|``, and a failure of the
check is never reported as "the values are not available"."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
from multiad._api_vmap import _unbatched
from multiad._backend import Backend


class NoLogic(np.ndarray):
    """An array class with comparisons but without ``&`` and ``|`` (as a small tape framework's own Tensor class may be)."""

    def __and__(self, other: Any) -> Any:
        raise TypeError(f"unsupported operand type(s) for &: 'NoLogic' and '{type(other).__name__}'")

    __rand__ = __or__ = __ror__ = __and__


def _numpy() -> Backend:
    with multiad.use_backend("numpy") as b:
        return b


def test_concrete_output_without_logical_operators_is_returned() -> None:
    c = np.array([0.5, np.nan, -2.0])
    o = np.stack([c, c, c]).view(NoLogic)  # the same at every batch index, nan included
    got = _unbatched("vmap(f)", o, 0, None, _numpy(), [np.ones((3, 2))])
    np.testing.assert_array_equal(np.asarray(got), c)


def test_varying_output_without_logical_operators_varies() -> None:
    o = np.array([[1.0, 2.0], [1.0, 2.5]]).view(NoLogic)
    with pytest.raises(multiad.InvalidArgumentError, match="varies over the batch"):
        _unbatched("vmap(f)", o, 0, None, _numpy(), [np.ones((2, 2))])


def test_failed_check_of_a_concrete_output_is_a_backend_error() -> None:
    base = type(_numpy())

    class Broken(base):  # type: ignore[valid-type, misc]
        name = "numpy[broken_to_numpy]"

        def to_numpy(self, x: Any) -> Any:
            raise TypeError("cannot convert")

    b = object.__new__(Broken)
    b.__dict__.update(_numpy().__dict__)
    o = np.ones((3, 2))
    with pytest.raises(multiad.BackendError, match=r"^vmap\(f\): the numpy\[broken_to_numpy\] backend's to_numpy failed .*TypeError: cannot convert") as e:  # fmt: skip
        _unbatched("vmap(f)", o, 0, None, b, [np.ones((3, 2))])
    assert "not available" not in str(e.value)


def test_traced_output_whose_namespace_lacks_a_name_says_so() -> None:
    # an output is_traced calls traced is compared by the namespace's functions; one the namespace
    # lacks is named (UnsupportedOperationError), not reported as values not available
    import sys
    import types

    lib = types.ModuleType("multiad_test_nolib")
    lib.equal, lib.logical_and, lib.logical_or, lib.all = np.equal, np.logical_and, np.logical_or, np.all  # type: ignore[attr-defined]
    sys.modules[lib.__name__] = lib

    class Traced:  # a framework's array class, of the module above
        def __init__(self, v: np.ndarray) -> None:
            self.v, self.shape, self.dtype = v, v.shape, v.dtype

        def __getitem__(self, i: Any) -> Any:
            return Traced(self.v[i])

    Traced.__module__ = lib.__name__
    traced_cls = Traced
    base = type(_numpy())
    cls = type(
        "TracedOutputs", (base,), {"name": "numpy[traced]", "is_traced": lambda self, x: isinstance(x, traced_cls)}
    )
    b = object.__new__(cls)
    b.__dict__.update(_numpy().__dict__)
    o = Traced(np.ones((3, 2)))
    try:
        with pytest.raises(multiad.UnsupportedOperationError, match=r"numpy_namespace\(\) lacks one .*isnan"):
            _unbatched("vmap(f)", o, 0, None, b, [np.ones((3, 2))])
    finally:
        del sys.modules[lib.__name__]
