"""``convolve``, ``correlate``, ``interp``, ``unwrap``, ``i0``, ``block`` and ``geomspace`` against
numpy over every mode, length order, dtype and edge case, their derivatives against closed forms
(test_numpy_namespace checks them against numpy's finite differences too), tracing under
``jax.jit`` and ``vmap``, and their errors."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from conftest import AD_BACKENDS, BACKENDS

import multiad
import multiad.numpy as mnp

rng = np.random.default_rng(5)


def on(backend: str, x: Any) -> Any:
    return multiad.asarray(x, backend=backend) if isinstance(x, np.ndarray) else x


def same(got: Any, want: Any, backend: str, what: str) -> None:
    g, w = np.asarray(multiad.to_numpy(got)), np.asarray(want)
    assert g.shape == w.shape, f"{what}: shape {g.shape}, numpy {w.shape}"
    single = w.dtype == np.float32 or g.dtype == np.float32
    if backend != "jax":  # JAX keeps its own promotion (docs/api-numpy.md)
        assert g.dtype == w.dtype, f"{what}: dtype {g.dtype}, numpy {w.dtype}"
    else:
        single = single or "float32" in what
    np.testing.assert_allclose(g, w, rtol=1e-5 if single else 1e-11, atol=1e-12, equal_nan=True, err_msg=what)


@pytest.mark.parametrize("backend", BACKENDS)
def test_convolve_and_correlate_match_numpy(backend: str) -> None:
    for n, m in [(5, 3), (3, 5), (4, 4), (1, 3), (6, 2), (2, 7), (1, 1)]:
        for dt in ("float64", "float32", "int32", "bool"):
            a, v = (rng.normal(size=n) * 3).astype(dt), (rng.normal(size=m) * 3).astype(dt)
            for mode in ("full", "same", "valid", 0, 1, 2):
                for name in ("convolve", "correlate"):
                    want = getattr(np, name)(a, v, mode)
                    got = getattr(mnp, name)(on(backend, a), on(backend, v), mode)
                    same(got, want, backend, f"{name}({dt}[{n}], {dt}[{m}], {mode!r})")
    same(mnp.convolve(2.0, on(backend, np.array([1.0, 3.0]))), np.convolve(2.0, [1.0, 3.0]), backend, "0-d")


@pytest.mark.parametrize("backend", BACKENDS)
def test_interp_matches_numpy(backend: str) -> None:
    xp = np.sort(rng.uniform(0, 5, 6))
    fp = rng.normal(size=6)
    x = np.concatenate([rng.uniform(-1, 6, 10), xp, [np.nan, np.inf, -np.inf, 1.5, 2.5]]).reshape(3, 7)
    for kw in ({}, {"left": -7.0, "right": 9.0}, {"period": 2.0}, {"period": -2.5}):
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # inf % period is nan, as numpy warns
            want = np.interp(x, xp, fp, **kw)
            got = mnp.interp(on(backend, x), on(backend, xp), on(backend, fp), **kw)
        same(got, want, backend, f"{kw}")
    same(mnp.interp(2.5, on(backend, xp), on(backend, fp)), np.interp(2.5, xp, fp), backend, "a number")
    same(mnp.interp(on(backend, x), xp[:1], on(backend, fp[:1])), np.interp(x, xp[:1], fp[:1]), backend, "one point")
    repeated = np.array([0.0, 1.0, 1.0, 2.0])
    same(mnp.interp(on(backend, x), repeated, on(backend, fp[:4])), np.interp(x, repeated, fp[:4]), backend, "repeat")
    x32, fp32 = x.astype(np.float32), fp.astype(np.float32)
    same(mnp.interp(on(backend, x32), xp, on(backend, fp32)), np.interp(x32, xp, fp32), backend, "float32")
    ints = np.arange(-1, 7).astype(np.int32)
    same(mnp.interp(on(backend, ints), xp, on(backend, fp)), np.interp(ints, xp, fp), backend, "int32 x")


@pytest.mark.parametrize("backend", BACKENDS)
def test_unwrap_i0_block_and_geomspace_match_numpy(backend: str) -> None:
    p = np.cumsum(rng.normal(size=(3, 8)) * 2, axis=1)
    for kw in ({}, {"axis": 0}, {"discont": 4.0}, {"period": 3.0}, {"discont": 1.0, "axis": -1}):
        for data in (p, p.astype(np.float32), np.mod(p, 2 * np.pi), p[:, :1]):
            same(mnp.unwrap(on(backend, data), **kw), np.unwrap(data, **kw), backend, f"unwrap {data.dtype} {kw}")
    steps = np.array([0, 5, 9, 2, 14, 3, 20, 17])
    for kw in ({"period": 6}, {"period": 7}, {}):  # integers: numpy's boundary rule depends on the period's parity
        same(mnp.unwrap(on(backend, steps), **kw), np.unwrap(steps, **kw), backend, f"unwrap int {kw}")
    # numpy differences booleans by xor and unsigned integers with wrapping, then computes in float64
    for data in (np.array([True, False, True, True]), np.array([2, 3, 7, 254, 255, 0], dtype=np.uint8)):
        same(mnp.unwrap(on(backend, data)), np.unwrap(data), backend, f"unwrap {data.dtype}")
    x = np.concatenate([np.linspace(-20, 20, 41), [0.0, 8.0, -8.0, 7.99, 8.01, np.nan, np.inf, 700.0]])
    for data in (x, x.astype(np.float32), np.arange(-10, 10), np.array([True, False])):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow to inf, as in numpy
            same(mnp.i0(on(backend, data)), np.i0(data), backend, f"i0 {data.dtype}")
    a, b, c, v = rng.normal(size=(2, 2)), rng.normal(size=(2, 3)), rng.normal(size=(1, 5)), rng.normal(size=3)
    blocks = [
        lambda a, b, c, v: [[a, b], [c]],
        lambda a, b, c, v: [v, 1.0, v],
        lambda a, b, c, v: [[v], [v]],
        lambda a, b, c, v: a,
        lambda a, b, c, v: [[[a]]],
        lambda a, b, c, v: [[a, np.zeros((2, 1))], [np.ones((1, 2)), 2.0]],
        lambda a, b, c, v: [[mnp.astype(a, "float32"), a]],
    ]
    for i, make in enumerate(blocks):
        same(
            mnp.block(make(*(on(backend, t) for t in (a, b, c, v)))), np.block(make(a, b, c, v)), backend, f"block {i}"
        )
    ends = [
        (1.0, 1000.0),
        (-1.0, -1000.0),
        (np.array([1.0, 2.0]), np.array([10.0, 3.0])),
        (2.0, np.array([[5.0], [0.5]])),
    ]
    for start, stop in ends:
        for kw in ({}, {"num": 5}, {"num": 4, "endpoint": False}, {"num": 1}, {"num": 0}, {"num": 3, "axis": -1}):
            with multiad.use_backend(backend):
                got = mnp.geomspace(on(backend, start), on(backend, stop), **kw)
            same(got, np.geomspace(start, stop, **kw), backend, f"geomspace({start}, {stop}, {kw})")
    f32 = np.float32([1, 2]), np.float32([4, 5])
    same(mnp.geomspace(*(on(backend, t) for t in f32), num=3), np.geomspace(*f32, num=3), backend, "geomspace float32")


def _i1(x: float) -> float:
    """The modified Bessel function i1, the derivative of i0, by its power series."""
    return sum((x / 2) ** (2 * k + 1) / (math.factorial(k) * math.factorial(k + 1)) for k in range(60))


@pytest.mark.parametrize("backend", AD_BACKENDS)
def test_derivatives_have_their_closed_forms(backend: str) -> None:
    def grad(f: Any, *args: Any, argnums: Any = 0) -> Any:
        g = multiad.grad(f, argnums=argnums, backend=backend)(*args)
        return [np.asarray(multiad.to_numpy(t)) for t in g] if isinstance(g, tuple) else np.asarray(multiad.to_numpy(g))

    a, v, w = rng.normal(size=5), rng.normal(size=3), rng.normal(size=7)
    # sum(w * convolve(a, v)): d/da is correlate(w, v) (valid), d/dv correlate(w, a) (valid)
    ga, gv = grad(lambda a, v: mnp.sum(mnp.convolve(a, v) * w), a, v, argnums=(0, 1))
    np.testing.assert_allclose(ga, np.correlate(w, v, "valid"), rtol=1e-12)
    np.testing.assert_allclose(gv, np.correlate(w, a, "valid"), rtol=1e-12)
    xp, fp = np.array([0.0, 1.0, 3.0]), np.array([2.0, 4.0, 1.0])
    # interp: slope of the segment holding x (2, then -1.5); 0 outside; in fp the hat functions
    np.testing.assert_allclose(
        grad(lambda x: mnp.sum(mnp.interp(x, xp, fp)), np.array([0.5, 2.0, 4.0])), [2.0, -1.5, 0.0]
    )
    np.testing.assert_allclose(grad(lambda f: mnp.interp(2.0, xp, f), fp), [0.0, 0.5, 0.5])
    np.testing.assert_allclose(grad(lambda p: mnp.interp(0.5, p, fp), xp), [-1.0, -1.0, 0.0])
    p = np.array([0.0, 3.0, 6.5, 0.5])  # unwrap: corrections are piecewise constant
    np.testing.assert_allclose(grad(lambda p: mnp.sum(mnp.unwrap(p) * np.arange(1.0, 5.0)), p), np.arange(1.0, 5.0))
    xs = np.array([-9.5, -2.0, 0.0, 0.7, 8.5, 15.0])
    np.testing.assert_allclose(grad(lambda x: mnp.sum(mnp.i0(x)), xs), [_i1(t) for t in xs], rtol=1e-12, atol=1e-15)
    m = rng.normal(size=(2, 2))
    g = grad(lambda m: mnp.sum(mnp.block([[m, 2.0 * m], [m * m, m]])), m)
    np.testing.assert_allclose(g, 1.0 + 2.0 + 2.0 * m + 1.0, rtol=1e-12)
    # geomspace(s, e, 4)[k] = s ** (1 - k / 3) * e ** (k / 3): d/ds of the sum
    s, e, t = 2.0, 54.0, np.arange(4) / 3.0
    gs = grad(lambda s: mnp.sum(mnp.geomspace(s, np.float64(e), 4)), np.array(s))
    np.testing.assert_allclose(gs, np.sum((1 - t) * s ** (-t) * e**t), rtol=1e-12)


def test_interp_and_convolve_trace_under_jit_and_vmap() -> None:
    import jax

    xp, fp = np.array([0.0, 1.0, 3.0]), np.array([2.0, 4.0, 1.0])
    xs = np.array([[0.5, 2.0], [-1.0, 3.0]])
    jitted = jax.jit(lambda x, p, f: mnp.interp(x, p, f))
    np.testing.assert_allclose(jitted(xs, xp, fp), np.interp(xs, xp, fp))
    rows, v = rng.normal(size=(3, 4)), rng.normal(size=2)
    for backend in ("jax", "torch"):
        got = multiad.vmap(lambda r: mnp.convolve(r, v, "same"), backend=backend)(on(backend, rows))
        np.testing.assert_allclose(multiad.to_numpy(got), [np.convolve(r, v, "same") for r in rows], rtol=1e-12)
        got = multiad.vmap(lambda x: mnp.interp(x, xp, fp), backend=backend)(on(backend, xs))
        np.testing.assert_allclose(multiad.to_numpy(got), np.interp(xs, xp, fp), rtol=1e-12)


ERRORS = [
    (lambda x: mnp.convolve(x, x, "VALID"), ValueError, r"^mnp\.convolve: mode must be 'valid', 'same' or 'full'"),
    (lambda x: mnp.correlate(mnp.reshape(x, (2, 2)), x), ValueError, r"^mnp\.correlate: a must be 1-d"),
    (lambda x: mnp.convolve(x, x[:0]), ValueError, r"^mnp\.convolve: v cannot be empty"),
    (lambda x: mnp.interp(x, mnp.sort(x), x[:3]), ValueError, r"^mnp\.interp: fp and xp are not of the same length"),
    (lambda x: mnp.interp(x, x[:0], x[:0]), ValueError, r"^mnp\.interp: array of sample points is empty"),
    (lambda x: mnp.interp(x, x, x), ValueError, r"^mnp\.interp: xp must be increasing"),
    (lambda x: mnp.interp(x, x, x, period=0), ValueError, r"^mnp\.interp: period must be a non-zero value"),
    (lambda x: mnp.interp(x, mnp.reshape(x, (2, 2)), x), ValueError, r"^mnp\.interp: xp and fp must be 1-d"),
    (lambda x: mnp.block([x, (x,)]), TypeError, r"^mnp\.block: arrays\[1\] is a tuple"),
    (lambda x: mnp.block([[x], x]), ValueError, r"^mnp\.block: list depths are mismatched"),
    (lambda x: mnp.block([[x], []]), ValueError, r"^mnp\.block: the list at arrays\[1\] cannot be empty"),
    (lambda x: mnp.geomspace(0.0, x), ValueError, r"^mnp\.geomspace: a geometric sequence cannot include zero"),
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_input_raises_with_the_call(backend: str) -> None:
    x = on(backend, np.array([1.0, 2.0, 4.0, 3.0]))
    for call, kind, pattern in ERRORS:
        with pytest.raises(kind, match=pattern):
            call(x)
