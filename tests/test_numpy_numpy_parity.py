"""Small places where ``multiad.numpy`` differed from numpy 2 itself, checked on every backend
against numpy's own result or error (autograd: inside ``multiad.grad``, on its boxed values)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

X = np.array([1.0, 2.0, 4.0, 7.5])


def on_backend(backend: Any, fn: Callable[[Any], Any], x: np.ndarray = X) -> Any:
    """``fn`` of ``x`` as an array of ``backend`` (autograd: its boxed value while
    differentiating), returned as a numpy array."""
    if backend.name != "autograd":
        return multiad.to_numpy(fn(backend.array(x)))
    seen: list[Any] = []

    def f(t: Any) -> Any:
        seen.append(fn(t))
        return mnp.sum(t)

    multiad.grad(f, backend="autograd")(x)
    out = seen[0]
    return np.asarray(getattr(out, "_value", out))


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")  # numpy's own nanvar
@pytest.mark.parametrize("name", ["var", "std", "nanvar", "nanstd"])
@pytest.mark.parametrize("dtype", [complex, np.complex64, np.complex128])
@pytest.mark.parametrize("where", [True, np.array([True, False, True, True])])
def test_variance_in_complex_dtype(backend: Any, name: str, dtype: Any, where: Any) -> None:
    """numpy computes ``var(x, dtype=complex)`` in that dtype and gives it: complex128 with a
    zero imaginary part (complex64 for ``dtype=np.complex64``); mnp gave the real dtype."""
    want = getattr(np, name)(X, dtype=dtype, where=where)
    got = on_backend(backend, lambda t: getattr(mnp, name)(t, dtype=dtype, where=where))
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6 if want.dtype == np.complex64 else 1e-12)


@pytest.mark.parametrize("key", ["prepend", "append"])
def test_diff_refuses_none_to_join(backend: Any, key: str) -> None:
    """numpy's ``diff`` joins ``prepend``/``append`` as values and raises a TypeError for None
    (only leaving the argument out means none); mnp computed as if it were left out."""
    with pytest.raises(TypeError):
        np.diff(X, **{key: None})
    with pytest.raises(TypeError, match=rf"mnp\.diff: {key}=None"):
        on_backend(backend, lambda t: mnp.diff(t, **{key: None}))
    np.testing.assert_allclose(on_backend(backend, lambda t: mnp.diff(t, **{key: 0.5})), np.diff(X, **{key: 0.5}))
    np.testing.assert_allclose(on_backend(backend, lambda t: mnp.diff(t, 2)), np.diff(X, 2))


@pytest.mark.parametrize("rtol", [0.1, None])
@pytest.mark.parametrize("positional", [False, True])
def test_pinv_refuses_rcond_with_rtol(backend: Any, rtol: Any, positional: bool) -> None:
    """numpy raises ValueError "`rtol` and `rcond` can't be both set." when ``rtol`` is given
    (None too) beside an ``rcond``; JAX's own message named the call twice ("mnp.linalg.pinv:
    pinv: ..."), and torch and JAX computed with ``rtol=None``."""
    a = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]])
    args: tuple[Any, ...] = (0.1,) if positional else ()
    kwargs: dict[str, Any] = {"rtol": rtol} if positional else {"rcond": 0.1, "rtol": rtol}
    with pytest.raises(ValueError, match="`rtol` and `rcond` can't be both set") as want:
        np.linalg.pinv(a, *args, **kwargs)
    with pytest.raises(ValueError) as got:
        on_backend(backend, lambda t: mnp.linalg.pinv(t, *args, **kwargs), a)
    assert str(got.value) == f"mnp.linalg.pinv: {want.value}"
    np.testing.assert_allclose(
        on_backend(backend, lambda t: mnp.linalg.pinv(t, rtol=0.1), a), np.linalg.pinv(a, rtol=0.1), rtol=1e-10
    )


@pytest.mark.parametrize(
    ("shapes", "axes"),
    [
        (((3, 2), (3, 2)), ([1], [0])),  # sizes differ
        (((3, 4), (4, 3)), 2),
        (((2, 3), (3,)), ([1, 0], [0])),  # axis lists of unequal length
        (((3, 2, 2), (2,)), 2),  # a count beyond the second operand's dimensions
        (((2,), (2, 2)), 2),
    ],
)
def test_tensordot_mismatch_is_numpys_error(backend: Any, shapes: Any, axes: Any) -> None:
    """tensordot's bad ``axes`` raise numpy's error type, named: torch raised RuntimeError and
    JAX TypeError for axis lists of unequal length (numpy: ValueError "shape-mismatch for
    sum") and for a count beyond an operand's dimensions (numpy: IndexError)."""
    a, b = (np.linspace(0.5, 2.0, int(np.prod(s))).reshape(s) for s in shapes)
    with pytest.raises(Exception) as want:
        np.tensordot(a, b, axes=axes)
    with pytest.raises(type(want.value), match=r"^mnp\.tensordot: "):
        on_backend(backend, lambda t: mnp.tensordot(t, b, axes=axes), a)


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "full", "full-traced"])
@pytest.mark.parametrize("shape", [(2, -1), -3])
def test_creation_refuses_negative_dimensions(backend: Any, name: str, shape: Any) -> None:
    """numpy raises ValueError "negative dimensions are not allowed"; mnp raised numpy's
    message without the call's name (``like=`` an array of each backend, and a fill value
    being differentiated)."""
    call = name.split("-")[0]
    fill: tuple[Any, ...] = (1.5,) if call == "full" else ()
    with pytest.raises(ValueError, match=r"^negative dimensions are not allowed$"):
        getattr(np, call)(shape, *fill)

    def make(t: Any) -> Any:
        if name == "full-traced":
            return mnp.full(shape, t[0])
        return getattr(mnp, call)(shape, *fill, like=t)

    with pytest.raises(ValueError, match=rf"^mnp\.{call}: negative dimensions are not allowed$"):
        on_backend(backend, make)
