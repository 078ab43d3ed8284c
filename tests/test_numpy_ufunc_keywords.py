"""numpy's ufunc keywords on every backend (NOTE [Ufunc keywords]): defaults accepted, dtype=
and casting= as numpy computes them, the others refused with errors that start with the call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp
from tests.conftest import Case

X = np.array([0.5, 1.75, -2.25])
Y = np.array([1.5, 0.25, 3.0])


def _np(v: Any) -> np.ndarray:
    return np.asarray(multiad.to_numpy(v))


@pytest.mark.parametrize(
    ("name", "args"),
    [("add", (X, Y)), ("exp", (X,)), ("maximum", (X, Y)), ("hypot", (X, Y)), ("arctan2", (X, Y)), ("cbrt", (X,))],
)
@pytest.mark.parametrize("dtype", [np.float32, "float64"])
def test_dtype_as_numpy(backend: Case, name: str, args: tuple[Any, ...], dtype: Any) -> None:
    want = getattr(np, name)(*args, dtype=dtype)
    got = getattr(mnp, name)(*(backend.array(a) for a in args), dtype=dtype)
    assert _np(got).dtype == want.dtype
    np.testing.assert_allclose(_np(got), want, rtol=1e-6)


def test_dtype_of_two_results(backend: Case) -> None:
    frac, whole = mnp.modf(backend.array(X), dtype=np.float32)
    want = np.modf(X, dtype=np.float32)
    for g, w in zip((frac, whole), want):
        assert _np(g).dtype == np.float32
        np.testing.assert_array_equal(_np(g), w)


def test_casting(backend: Case) -> None:
    x, y = backend.array(X), backend.array(Y)
    got = mnp.add(x, y, dtype=np.int64, casting="unsafe")
    np.testing.assert_array_equal(_np(got), np.add(X, Y, dtype=np.int64, casting="unsafe"))  # [1, 1, 0]
    assert _np(got).dtype == np.int64
    with pytest.raises(
        TypeError, match=r"^mnp\.add: .*Cannot cast ufunc 'add' input 0 from dtype\('float64'\) to dtype\('int64'\)"
    ):
        mnp.add(x, y, dtype=np.int64)
    ints = multiad.asarray(np.array([1, 2, 3], dtype=np.int8), backend=backend.name)
    with pytest.raises(TypeError, match=r"^mnp\.add: "):
        mnp.add(ints, x, casting="no")
    np.testing.assert_array_equal(_np(mnp.add(ints, x, casting="safe")), np.add(np.array([1, 2, 3], np.int8), X))


def test_defaults_accepted(backend: Case) -> None:
    x, y = backend.array(X), backend.array(Y)
    got = mnp.add(x, y, out=None, where=True, casting="same_kind", order="K", subok=True, signature=None)
    backend.close(got, X + Y)
    backend.close(mnp.hypot(x, y, out=None, where=True, order="K"), np.hypot(X, Y))


REFUSED: list[tuple[str, Callable[[Any, Any], Any], type[Exception], str]] = [
    ("out", lambda x, y: mnp.add(x, y, out=np.empty(3)), NotImplementedError, r"^mnp\.add: out= is not supported; use the returned array"),
    ("out-python", lambda x, y: mnp.hypot(x, y, out=np.empty(3)), NotImplementedError, r"^mnp\.hypot: out= is not supported"),
    ("where", lambda x, y: mnp.add(x, y, where=np.array([True, False, True])), TypeError, r"^mnp\.add: numpy's where= is not supported by multiad.numpy .*mnp\.where"),
    ("where-unary", lambda x, y: mnp.exp(x, where=False), TypeError, r"^mnp\.exp: numpy's where= is not supported"),
    ("where-python", lambda x, y: mnp.arctan2(x, y, where=np.array([True, False, True])), TypeError, r"^mnp\.arctan2: numpy's where= is not supported"),
    ("order", lambda x, y: mnp.add(x, y, order="C"), TypeError, r"^mnp\.add: numpy's order='C' is not supported by multiad.numpy; .*omit the keyword"),
    ("order-python", lambda x, y: mnp.hypot(x, y, order="F"), TypeError, r"^mnp\.hypot: numpy's order='F' is not supported"),
    ("subok", lambda x, y: mnp.negative(x, subok=False), TypeError, r"^mnp\.negative: numpy's subok=False is not supported"),
    ("signature", lambda x, y: mnp.add(x, y, signature="dd->d"), TypeError, r"^mnp\.add: numpy's signature= is not supported by multiad.numpy; give the loop's dtype as dtype="),
    ("casting-bad", lambda x, y: mnp.add(x, y, casting="never"), ValueError, r"^mnp\.add: casting must be one of"),
    ("unknown", lambda x, y: mnp.sqrt(x, bogus=1), TypeError, r"^mnp\.sqrt: got an unexpected keyword argument 'bogus'"),
    ("like-logspace", lambda x, y: mnp.logspace(0, 1, 3, like=x), TypeError, r"^mnp\.logspace: like= is not a keyword of numpy's logspace; omit it"),
    ("like-linspace", lambda x, y: mnp.linspace(0, 1, 3, like=x), TypeError, r"^mnp\.linspace: like= is not a keyword of numpy's linspace; omit it"),
    ("like-zeros_like", lambda x, y: mnp.zeros_like(x, like=x), TypeError, r"^mnp\.zeros_like: like= is not a keyword of numpy's zeros_like; omit it"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "fn", "exc", "match"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_the_same_everywhere(backend: Case, case: str, fn: Callable[[Any, Any], Any], exc: type[Exception], match: str) -> None:  # fmt: skip
    with pytest.raises(exc, match=match):
        fn(backend.array(X), backend.array(Y))


def test_out_is_not_written(backend: Case) -> None:
    out = np.zeros(3)
    with pytest.raises(NotImplementedError):
        mnp.add(backend.array(X), backend.array(Y), out=out)
    np.testing.assert_array_equal(out, np.zeros(3))


def test_dtype_inside_a_transform(ad_backend: Case) -> None:
    g = multiad.grad(lambda x: mnp.sum(mnp.exp(x, dtype=np.float64) * 2.0), backend=ad_backend.name)
    ad_backend.close(g(ad_backend.array(X)), 2.0 * np.exp(X))
