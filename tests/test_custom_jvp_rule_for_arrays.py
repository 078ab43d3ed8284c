"""A jvp rule written ``rule(x, t)``, for arrays, where it gets ``(primals, tangents)`` tuples.

It passes the signature check (two parameters) and computed on the tuples: torch and JAX raised
their own TypeError, autograd an output shape error that did not say why (NOTE [jvp rules
written for arrays]).
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
T = np.array([1.0, -2.0])
EXPECTED = (
    r"f: its jvp rule is written for arrays, as jvp_rule\(x, t\), but it is called as jvp_rule\(primals, "
    r"tangents\), with primals = \(x,\) and tangents = \(t,\) tuples of the differentiated arguments \(on the "
    r"tuples it raised .*\); write it as def jvp_rule\(primals, tangents\) and unpack them first, \(x,\), \(t,\) "
    r"= primals, tangents, returning \(output, tangent_output\)"
)


def _sin(rule: Callable[..., Any]) -> Any:
    @multiad.custom_jvp
    def f(x: Any) -> Any:
        return mnp.sin(x)

    f.defjvp(rule)
    return f


def _array_form(x: Any, t: Any) -> Any:
    return mnp.sin(x), mnp.cos(x) * t


def _tuple_form(primals: Any, tangents: Any) -> Any:
    (x,), (t,) = primals, tangents
    return mnp.sin(x), mnp.cos(x) * t


@pytest.mark.parametrize("how", ["grad", "jvp", "jacfwd", "jacrev", "hessian"])
def test_rule_for_arrays_is_named(ad_backend: Case, how: str) -> None:
    f = _sin(_array_form)
    calls: dict[str, Callable[[], Any]] = {
        "grad": lambda: multiad.grad(lambda x: mnp.sum(f(x)))(X),
        "jvp": lambda: multiad.jvp(f, (X,), (T,)),
        "jacfwd": lambda: multiad.jacfwd(f)(X),
        "jacrev": lambda: multiad.jacrev(f)(X),
        "hessian": lambda: multiad.hessian(lambda x: mnp.sum(f(x)))(X),
    }
    with multiad.use_backend(ad_backend.name):
        with pytest.raises(multiad.InvalidTypeError, match=EXPECTED):
            calls[how]()
    # written as the message says, the same call gives cos(x) (closed form)
    f.defjvp(_tuple_form)
    with multiad.use_backend(ad_backend.name):
        if how == "grad":
            ad_backend.close(calls[how](), np.cos(X))
        elif how == "jvp":
            ad_backend.close(calls[how](), (np.sin(X), np.cos(X) * T))
        elif how == "hessian":
            ad_backend.close(calls[how](), np.diag(-np.sin(X)), order=2)
        else:
            ad_backend.close(calls[how](), np.diag(np.cos(X)))


def test_rule_for_arrays_with_nondiff_arguments(ad_backend: Case) -> None:
    def scaled(n: float, x: Any) -> Any:
        return n * mnp.sin(x)

    g = multiad.custom_jvp(scaled, nondiff_argnums=(0,))
    g.defjvp(lambda n, x, t: (n * mnp.sin(x), n * mnp.cos(x) * t))
    with multiad.use_backend(ad_backend.name):
        with pytest.raises(
            multiad.InvalidTypeError,
            match=r"scaled: its jvp rule is written for arrays, as jvp_rule\(n, x, t\), but it is called as "
            r"jvp_rule\(n, primals, tangents\), with primals = \(x,\) .* write it as def jvp_rule\(n, primals, "
            r"tangents\) and unpack them first, \(x,\), \(t,\) = primals, tangents",
        ):
            multiad.grad(lambda x: mnp.sum(g(3.0, x)))(X)


def test_rule_for_arrays_under_the_frameworks_own_transforms() -> None:
    jax = pytest.importorskip("jax")
    f = _sin(_array_form)
    with pytest.raises(multiad.InvalidTypeError, match=EXPECTED):
        jax.jit(jax.grad(lambda x: f(x).sum()))(jax.numpy.asarray(X))
    torch = pytest.importorskip("torch")
    f = _sin(_array_form)
    x = torch.tensor(X, requires_grad=True)
    with pytest.raises(multiad.InvalidTypeError, match=EXPECTED):
        f(x).sum().backward()


def test_other_failures_of_a_rule_are_its_own(ad_backend: Case) -> None:
    # a rule in the documented form failing for its own reason raises its own error, unchanged
    class Broken(Exception):
        pass

    def broken(primals: Any, tangents: Any) -> Any:
        raise Broken("the rule's own failure")

    f = _sin(broken)
    with multiad.use_backend(ad_backend.name):
        with pytest.raises(Broken, match="the rule's own failure"):
            multiad.grad(lambda x: mnp.sum(f(x)))(X)
    # a rule for arrays that also fails on arrays is not taken for one written for arrays
    f = _sin(lambda x, t: (mnp.sin(x)[:1], mnp.cos(x) * t))
    with multiad.use_backend(ad_backend.name):
        with pytest.raises(Exception) as info:
            multiad.jvp(f, (X,), (T,))
    assert "is written for arrays" not in str(info.value)


def test_two_differentiated_arguments_fail_the_signature_check(ad_backend: Case) -> None:
    # rule(x, y, tx, ty) cannot take (primals, tangents): the existing signature check names it
    h = multiad.custom_jvp(lambda x, y: x * y)
    h.defjvp(lambda x, y, tx, ty: (x * y, tx * y + x * ty))
    with multiad.use_backend(ad_backend.name):
        with pytest.raises(multiad.InvalidTypeError, match=r"its jvp rule cannot be called as jvp_rule\(primals"):
            multiad.grad(lambda x: mnp.sum(h(x, x)))(X)


def test_numpy_backend_refuses_before_the_rule_and_evaluates_plain_calls() -> None:
    # the numpy backend (finite differences) has no custom rules: its refusal, as for any rule;
    # a plain call evaluates f, as numpy would (the rule is not called)
    f = _sin(_array_form)
    with pytest.raises(multiad.UnsupportedOperationError, match=r"f: the 'numpy' backend does not support custom"):
        multiad.grad(lambda x: mnp.sum(f(x)), backend="numpy")(X)
    np.testing.assert_array_equal(f(X), np.sin(X))
