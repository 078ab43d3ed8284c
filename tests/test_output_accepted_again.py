"""An output of the type and dtype accepted last time is taken at once; anything else takes the
full check, with the same errors (NOTE [One output array accepted again] in multiad/_flat.py).
Each call first runs f returning a float array (filling the signature's accepted pair), then the
same signature with f returning something the full check refuses: the refusal must still come,
in the same words as for an f that never returned a float array."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp
from multiad import InvalidArgumentError, InvalidTypeError

X = np.array([0.5, -1.0, 2.0])

BAD: dict[str, Any] = {
    "integer dtype": lambda v: mnp.asarray(v > 0, dtype="int64"),
    "boolean dtype": lambda v: v > 0,
    "a string": lambda v: "no array",
    "no arrays": lambda v: None,
    "a list holding a string": lambda v: [mnp.sin(v), "no array"],
}
ERRORS = {
    "integer dtype": (InvalidTypeError, "f's output has integer dtype int64"),
    "boolean dtype": (InvalidTypeError, "f's output has boolean dtype bool"),
    "a string": (InvalidTypeError, "f returned a str leaf"),
    "no arrays": (InvalidArgumentError, "f returned no arrays"),
    "a list holding a string": (InvalidTypeError, "f returned a str leaf"),
}


def _switchable(bad: Any) -> tuple[list[bool], Any]:
    good = [True]

    def f(w: Any, v: Any) -> Any:
        return mnp.sin(v) * w if good[0] else bad(v)

    return good, f


@pytest.mark.parametrize("kind", sorted(BAD))
def test_jacrev_refuses_after_accepting(backend: Any, kind: str) -> None:
    good, f = _switchable(BAD[kind])
    jac = multiad.jacrev(f, argnums=1, backend=backend.name)
    backend.close(jac(2.0, X), np.diag(2.0 * np.cos(X)))  # d/dv 2 sin(v)
    good[0] = False
    error, words = ERRORS[kind]
    with pytest.raises(error) as info:
        jac(2.0, X)
    assert words in str(info.value), str(info.value)

    def f(w: Any, v: Any) -> Any:  # never returns a float array: the same message
        return BAD[kind](v)

    with pytest.raises(error) as fresh:
        multiad.jacrev(f, argnums=1, backend=backend.name)(2.0, X)
    assert str(info.value) == str(fresh.value)


@pytest.mark.parametrize("kind", sorted(BAD))
def test_vjp_refuses_after_accepting(backend: Any, kind: str) -> None:
    x = multiad.asarray(X, backend=backend.name)
    out, pull = multiad.vjp(mnp.sin, x, backend=backend.name)
    backend.close(pull(mnp.ones_like(out))[0], np.cos(X))
    error, words = ERRORS[kind]
    with pytest.raises(error) as info:
        multiad.vjp(BAD[kind], x, backend=backend.name)
    assert words in str(info.value), str(info.value)


def test_numpy_refuses_an_output_changed_within_one_call() -> None:
    """The numpy backend evaluates f many times per call: the second evaluation's integer
    output is refused although the first one's float array was accepted."""
    seen = [0]

    def f(v: Any) -> Any:
        seen[0] += 1
        return v * 3.0 if seen[0] == 1 else (v > 0).astype(np.int64)

    with pytest.raises(InvalidTypeError, match="f's output has integer dtype int64"):
        multiad.jacrev(f, backend="numpy")(X)
    assert seen[0] > 1


def test_another_float_dtype_after_an_accepted_one(backend: Any) -> None:
    """A float32 output after a float64 one takes the full check and is accepted."""
    dtype = ["float64"]

    def f(v: Any) -> Any:
        return mnp.asarray(mnp.sin(v), dtype=dtype[0])

    jac = multiad.jacrev(f, backend=backend.name)
    backend.close(jac(X), np.diag(np.cos(X)))
    dtype[0] = "float32"
    np.testing.assert_allclose(multiad.to_numpy(jac(X)), np.diag(np.cos(X)), rtol=1e-3, atol=1e-3)
    out, _ = multiad.vjp(f, multiad.asarray(X, backend=backend.name), backend=backend.name)
    assert multiad.to_numpy(out).dtype == np.float32


def test_numpy_byte_swapped_output_after_a_native_one() -> None:
    """A byte-swapped float64 output (another dtype object, equal to no native one) takes the full
    check after a native one was accepted, and is refused as before (NOTE [Outputs must be floats])."""
    swapped = [False]

    def f(v: Any) -> Any:
        y = np.sin(v)
        return y.astype(y.dtype.newbyteorder()) if swapped[0] else y

    jac = multiad.jacrev(f, backend="numpy")
    np.testing.assert_allclose(jac(X), np.diag(np.cos(X)), rtol=1e-6, atol=1e-8)
    swapped[0] = True
    with pytest.raises(InvalidTypeError, match="f's output has non-floating-point dtype >f8"):
        jac(X)
