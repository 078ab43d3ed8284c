"""numpy's TypeError for complex operands of the functions numpy defines no complex loop for.

NOTE [Ufuncs without complex loops]: JAX computed ``deg2rad``, ``arctan2``, ``logaddexp``,
``logaddexp2`` and ``ldexp`` of complex arrays (numpy has no value there) and refused ``hypot``,
``signbit`` and ``copysign`` with a ValueError; some errors named an inner call (``mnp.signbit``
for ``cbrt``). Which calls numpy refuses is read from numpy itself here.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS

import multiad
import multiad.numpy as mnp

Z1 = np.array([1.0 + 2.0j, -3.5 + 0.5j])
Z2 = np.array([2.0 + 1.0j, 1.0 - 1.0j])
UNARY = ["floor", "ceil", "trunc", "fix", "signbit", "isneginf", "isposinf", "cbrt", "deg2rad", "rad2deg",
         "degrees", "radians", "fabs", "modf", "sin", "exp", "sqrt", "negative", "isnan"]  # fmt: skip
BINARY = ["fmod", "remainder", "mod", "floor_divide", "divmod", "arctan2", "hypot", "copysign", "logaddexp",
          "logaddexp2", "heaviside", "ldexp", "add", "multiply", "maximum", "power", "true_divide"]  # fmt: skip


def _operands(name: str) -> tuple[Any, ...]:
    return (Z1,) if name in UNARY else (Z1, Z2)


def _numpy_refuses(name: str) -> bool:
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            getattr(np, name)(*_operands(name))
    except TypeError:
        return True
    return False


def test_numpy_refuses_the_expected_calls() -> None:
    # the cases below test both answers
    assert _numpy_refuses("floor") and _numpy_refuses("logaddexp") and not _numpy_refuses("maximum")


@pytest.mark.parametrize("name", UNARY + BINARY)
@pytest.mark.parametrize("backend", BACKENDS)
def test_complex_operands_as_numpy(backend: str, name: str) -> None:
    args = [multiad.asarray(z, backend=backend) for z in _operands(name)]
    if _numpy_refuses(name):
        with pytest.raises(TypeError, match=rf"^mnp\.{name}: "):
            getattr(mnp, name)(*args)
        return
    if backend == "torch" and name == "maximum":  # torch has no complex maximum: its error, naming the call
        with pytest.raises(RuntimeError, match=r"^mnp\.maximum: maximum not implemented for complex"):
            mnp.maximum(*args)
        return
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = getattr(np, name)(*_operands(name))
    got = getattr(mnp, name)(*args)
    np.testing.assert_allclose(multiad.to_numpy(got), want, rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_python_complex_operand_is_refused_too(backend: str) -> None:
    with pytest.raises(TypeError, match=r"^mnp\.fmod: "):
        mnp.fmod(multiad.asarray(np.array([1.0, 2.0]), backend=backend), 1j)
    with pytest.raises(TypeError):
        np.fmod(np.array([1.0, 2.0]), 1j)
