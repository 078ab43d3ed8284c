"""Rules written with the wrong signature, or returning outputs unlike the function's.

A fwd/bwd/jvp rule with the wrong number of parameters failed with Python's bare TypeError
from inside the framework's backward pass (NOTE [Rule signatures checked at the first call]);
a fwd or jvp rule whose output is shaped unlike the function's raised torch's own errors, or
gave a gradient without an error (NOTE [Rule outputs shaped like the function's]).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp

X = np.array([0.3, 0.5])


def _vjp_sin(fwd: Callable[..., Any], bwd: Callable[..., Any]) -> Any:
    @multiad.custom_vjp
    def f(x: Any) -> Any:
        return mnp.sin(x)

    f.defvjp(fwd, bwd)
    return f


def _grad_of_sum(f: Any) -> Any:
    return multiad.grad(lambda x: mnp.sum(f(x)))(X)


@pytest.mark.parametrize(
    ("fwd", "bwd", "match"),
    [
        (
            lambda x: (mnp.sin(x), mnp.cos(x)),
            lambda g: (g,),
            r"f: its bwd rule cannot be called as bwd\(residuals, g\)",
        ),
        (lambda x, y: (mnp.sin(x), None), lambda r, g: (g,), r"f: its fwd rule cannot be called as fwd\(x\)"),
        (lambda: (mnp.sin(X), None), lambda r, g: (g,), r"f: its fwd rule cannot be called as fwd\(x\)"),
        (lambda x: (mnp.sin(x), None), lambda r, g, h: (g,), r"f: its bwd rule cannot be called as bwd"),
    ],
    ids=["bwd-without-residuals", "fwd-two-parameters", "fwd-no-parameter", "bwd-three-parameters"],
)
def test_rule_arity_is_checked_at_the_call(ad_backend: Case, fwd: Any, bwd: Any, match: str) -> None:
    f = _vjp_sin(fwd, bwd)
    with multiad.use_backend(ad_backend.name):
        with pytest.raises(multiad.InvalidTypeError, match=match + r".*; write "):
            _grad_of_sum(f)


def test_bwd_missing_the_nondiff_arguments(ad_backend: Case) -> None:
    @multiad.custom_vjp
    def scaled(x: Any, n: float) -> Any:
        return x * n

    scaled = multiad.custom_vjp(scaled.fun, nondiff_argnums=(1,))
    scaled.defvjp(lambda x, n: (x * n, None), lambda r, g: (2.0 * g,))
    with multiad.use_backend(ad_backend.name):
        with pytest.raises(
            multiad.InvalidTypeError,
            match=r"scaled: its bwd rule cannot be called as bwd\(n, residuals, g\) \(the nondiff_argnums argument",
        ):
            multiad.grad(lambda x: mnp.sum(scaled(x, 2.0)))(X)
    # right once it takes n first: the gradient is n
    scaled.defvjp(lambda x, n: (x * n, None), lambda n, r, g: (n * g,))
    with multiad.use_backend(ad_backend.name):
        ad_backend.close(multiad.grad(lambda x: mnp.sum(scaled(x, 2.0)))(X), 2.0 * np.ones(2))


def test_jvp_rule_arity(ad_backend: Case) -> None:
    j = multiad.custom_jvp(lambda x: mnp.sin(x))
    j.defjvp(lambda primals: (mnp.sin(primals[0]), mnp.cos(primals[0])))
    with multiad.use_backend(ad_backend.name):
        with pytest.raises(
            multiad.InvalidTypeError, match=r"<lambda>: its jvp rule cannot be called as jvp_rule\(primals, tangents\)"
        ):
            multiad.grad(lambda x: mnp.sum(j(x)))(X)
        with pytest.raises(multiad.InvalidTypeError, match=r"its jvp rule cannot be called"):
            multiad.jvp(j, (X,), (X,))


def test_arity_is_checked_on_plain_calls_too(ad_backend: Case) -> None:
    # NOTE [Rule signatures checked at the first call]: after the nondiff_argnums range check
    f = _vjp_sin(lambda x: (mnp.sin(x), None), lambda g: (g,))
    with pytest.raises(multiad.InvalidTypeError, match=r"f: its bwd rule"):
        f(ad_backend.array(X))
    bad_range = multiad.custom_vjp(lambda x: x, nondiff_argnums=(3,))
    bad_range.defvjp(lambda x: (x, None), lambda g: (g,))
    with pytest.raises(multiad.InvalidArgumentError, match="out of range"):
        bad_range(ad_backend.array(X))


def test_right_rules_with_defaults_and_varargs_pass(ad_backend: Case) -> None:
    # parameters with defaults and *args bind: the gradient is cos(x) (closed form)
    f = _vjp_sin(lambda *xs: (mnp.sin(xs[0]), mnp.cos(xs[0])), lambda r, g, unused=None: (g * r,))
    with multiad.use_backend(ad_backend.name):
        ad_backend.close(_grad_of_sum(f), np.cos(X))


@pytest.mark.parametrize("how", ["grad", "vjp", "jacrev"])
def test_fwd_output_shaped_unlike_the_function(ad_backend: Case, how: str) -> None:
    f = _vjp_sin(lambda x: (mnp.sin(x)[:1], mnp.cos(x)), lambda r, g: (g * r,))
    calls: dict[str, Callable[[], Any]] = {
        "grad": lambda: _grad_of_sum(f),
        "vjp": lambda: multiad.vjp(f, X)[1](np.ones(2)),
        "jacrev": lambda: multiad.jacrev(f)(X),
    }
    with multiad.use_backend(ad_backend.name):
        with pytest.raises(
            multiad.InvalidArgumentError,
            match=r"f: the fwd rule returned an output leaf 0 of shape \(1,\) where f returns shape \(2,\); fwd returns",
        ):
            calls[how]()


def test_fwd_output_structured_unlike_the_function(ad_backend: Case) -> None:
    # a fwd returning the function's two outputs without residuals
    @multiad.custom_vjp
    def two(x: Any) -> Any:
        return mnp.sin(x), mnp.cos(x)

    two.defvjp(lambda x: (mnp.sin(x), mnp.cos(x)), lambda r, g: (g[0] * r - g[1],))
    with multiad.use_backend(ad_backend.name):
        with pytest.raises(multiad.InvalidArgumentError, match=r"two: the fwd rule returned an output with structure"):
            multiad.grad(lambda x: mnp.sum(two(x)[0]))(X)


@pytest.mark.parametrize("how", ["grad", "jvp"])
def test_jvp_rule_output_shaped_unlike_the_function(ad_backend: Case, how: str) -> None:
    j = multiad.custom_jvp(lambda x: mnp.sin(x))
    j.defjvp(lambda p, t: (mnp.sin(p[0])[:1], mnp.cos(p[0])[:1] * t[0][:1]))
    with multiad.use_backend(ad_backend.name):
        with pytest.raises(
            multiad.InvalidArgumentError, match=r"the jvp rule returned an output leaf 0 of shape \(1,\)"
        ):
            if how == "grad":
                multiad.grad(lambda x: mnp.sum(j(x)))(X)
            else:
                multiad.jvp(j, (X,), (X,))


def test_output_shapes_follow_nondiff_arguments(ad_backend: Case) -> None:
    # the output's shape depends on a nondiff array: the function is evaluated again before a
    # mismatch with an earlier call's shapes is reported, so right rules are never refused
    @multiad.custom_vjp
    def take(x: Any, idx: Any) -> Any:
        return x[idx]

    take = multiad.custom_vjp(take.fun, nondiff_argnums=(1,))

    take.defvjp(lambda x, idx: (x[idx], x), lambda idx, r, g: (_scatter(r, idx, g),))
    with multiad.use_backend(ad_backend.name):
        for idx in (np.array([0]), np.array([1, 0, 1])):
            got = multiad.grad(lambda x, idx=idx: mnp.sum(take(x, idx) ** 2))(X)
            want = np.zeros(2)
            np.add.at(want, idx, 2 * X[idx])
            ad_backend.close(got, want)


def _scatter(like: Any, idx: Any, g: Any) -> Any:
    onehot = mnp.asarray((np.arange(2)[:, None] == np.asarray(idx)[None, :]).astype(np.float64))
    return mnp.matmul(onehot, g) + 0.0 * like
