"""How often a custom_vjp's ``fwd`` runs, and what second derivatives through a rule give.

``fwd`` runs once per differentiated call on every backend (the function itself once per
signature of arguments, for the check of fwd's output shapes): the value, the gradient and every
call of a pullback come from that evaluation (a ``fwd`` that draws a dropout mask gives the
gradient of the value it returned). Higher derivatives through ``fwd``'s residuals stay exact.
Where a rule is not the function's derivative, second derivatives follow each framework's
convention (docs/custom-rules.md, "A rule that is not the derivative, differentiated twice"):
the closed forms of both conventions are pinned here, so that a change is noticed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp
from multiad.testing._custom_rules import clip_gradient

X = np.array([0.1, 0.2, 0.3])


def _with_rules(backend: Case) -> None:
    if backend.name == "numpy":
        pytest.skip("the numpy backend has no custom rules (tests/test_custom.py checks that it raises)")


class Dropout:
    """A custom_vjp dropout whose ``fwd`` draws its mask: records every draw."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)
        self.masks: list[np.ndarray] = []
        self.fn = multiad.custom_vjp(self._fun)
        self.fn.defvjp(self._fwd, lambda res, g: (g * res[0],))

    def _fun(self, x: Any) -> Any:
        return self._fwd(x)[0]

    def _fwd(self, x: Any) -> Any:
        mask = (self.rng.random(tuple(x.shape)) > 0.5) * 2.0
        self.masks.append(mask)
        scale = mnp.ones_like(x) * mask  # a residual the framework carries
        return x * scale, (scale,)


def test_value_and_gradient_come_from_one_run_of_fwd(backend: Case) -> None:
    _with_rules(backend)
    d = Dropout()
    xn = np.arange(1.0, 9.0)
    x = backend.array(xn)
    with multiad.use_backend(backend.name):
        for trial in range(5):
            v, g = multiad.value_and_grad(lambda x: mnp.sum(d.fn(x)))(x)
            # one run of fwd per gradient, and one of the function (which calls fwd here) at the
            # first differentiated call, for its output shapes (NOTE [Rule outputs shaped like the
            # function's])
            assert len(d.masks) == trial + 2
            backend.close(v, np.sum(xn * d.masks[-1]))
            backend.close(g, d.masks[-1])
        ct = np.linspace(-1.0, 1.0, 8)
        out, vjp_fn = multiad.vjp(d.fn, x)
        mask = d.masks[-1]
        backend.close(out, xn * mask)
        for _ in range(3):  # the same residuals at every call, no run of fwd
            backend.close(vjp_fn(backend.array(ct))[0], ct * mask)
        assert len(d.masks) == 7
        backend.close(multiad.jacrev(d.fn)(x), np.diag(d.masks[-1]))
        assert len(d.masks) == 8


@multiad.custom_vjp
def _sin(x: Any) -> Any:
    return mnp.sin(x)


_sin.defvjp(lambda x: (mnp.sin(x), mnp.cos(x)), lambda c, g: (g * c,))


def test_higher_derivatives_go_through_fwds_residuals(backend: Case) -> None:
    """The rule is sin's derivative with cos(x) as a residual: the third derivative is -cos(x)."""
    _with_rules(backend)
    x = backend.array(X)
    f = lambda x: mnp.sum(_sin(x))  # noqa: E731
    with multiad.use_backend(backend.name):
        backend.close(multiad.hessian(f)(x), np.diag(-np.sin(X)), order=2)
        third = np.zeros((3, 3, 3))
        third[np.arange(3), np.arange(3), np.arange(3)] = -np.cos(X)
        backend.close(multiad.jacrev(multiad.hessian(f))(x), third, order=2)


def test_torch_backward_runs_fwd_once_and_create_graph_differentiates_the_residuals() -> None:
    import torch

    d = Dropout()
    x = torch.arange(1.0, 5.0, dtype=torch.float64, requires_grad=True)
    torch.sum(d.fn(x)).backward()
    # fwd once, and the function (which calls fwd here) once for its output shapes
    assert len(d.masks) == 2 and x.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), d.masks[-1])
    xs = torch.tensor(X, requires_grad=True)
    (g,) = torch.autograd.grad(torch.sum(_sin(xs) ** 2), xs, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), np.sin(2 * X), rtol=1e-12)
    (h,) = torch.autograd.grad(g.sum(), xs)
    np.testing.assert_allclose(h.numpy(), 2 * np.cos(2 * X), rtol=1e-12)
    # under torch.func.vmap, then .backward(): the rule, also where fwd calls the function itself
    for fn in (clip_gradient, _clip_everywhere):
        xb = torch.ones(3, 2, dtype=torch.float64, requires_grad=True)
        torch.func.vmap(lambda r: torch.sum(5.0 * fn(r)))(xb).sum().backward()  # noqa: B023
        assert xb.grad is not None
        np.testing.assert_array_equal(xb.grad.numpy(), np.ones((3, 2)))


@multiad.custom_vjp
def _twice(x: Any) -> Any:
    """The identity, with the rule ``2 g`` (not its derivative)."""
    return x


_twice.defvjp(lambda x: (x, None), lambda res, g: (2.0 * g,))


@multiad.custom_jvp
def _twice_fwd(x: Any) -> Any:
    """The identity, with the tangent rule ``2 t`` (not its derivative)."""
    return x


@_twice_fwd.defjvp
def _twice_fwd_jvp(primals: Any, tangents: Any) -> Any:
    return primals[0], 2.0 * tangents[0]


@multiad.custom_vjp
def _clip_everywhere(x: Any) -> Any:
    return x


_clip_everywhere.defvjp(lambda x: (_clip_everywhere(x), None), lambda res, g: (mnp.clip(g, -1.0, 1.0),))

# hessian(sum(fn(x) ** 3)) at X: the rule at every order (torch, autograd), or at the innermost
# derivative only (JAX, which differentiates fwd and the rules as ordinary code at outer orders)
SECOND_ORDER = {
    "clip_gradient": (clip_gradient, np.clip(6 * X, -1.0, 1.0), 6 * X),
    "twice (custom_vjp)": (_twice, 24 * X, 12 * X),
    "twice (custom_jvp)": (_twice_fwd, 24 * X, 12 * X),
    # fwd calls the function itself: JAX meets it at outer orders and applies the rule there too
    "clip_gradient, fwd calling itself": (_clip_everywhere, np.clip(6 * X, -1.0, 1.0), np.clip(6 * X, -1.0, 1.0)),
}


@pytest.mark.parametrize("example", list(SECOND_ORDER))
def test_second_derivatives_through_a_rule_that_is_not_the_derivative(backend: Case, example: str) -> None:
    _with_rules(backend)
    fn, every_order, innermost = SECOND_ORDER[example]
    f = lambda x: mnp.sum(fn(x) ** 3)  # noqa: E731
    x = backend.array(X)
    first = 3 * X**2 if "clip" in example else 6 * X**2  # the same on every backend
    diag = innermost if backend.name == "jax" else every_order
    with multiad.use_backend(backend.name):
        backend.close(multiad.grad(f)(x), first)
        backend.close(multiad.hessian(f)(x), np.diag(diag), order=2)
        backend.close(multiad.jacrev(multiad.grad(f))(x), np.diag(diag), order=2)


def test_torch_compile_of_a_transform_never_drops_a_custom_vjp_rule() -> None:
    # NOTE [Rules under a compiled transform]: torch 2.13 compiles the rule's forward without its
    # backward (5 where the rule gives 1); the call must fail, never return the rule-less number.
    import torch

    f = lambda x: mnp.sum(5.0 * clip_gradient(x))  # noqa: E731
    x = torch.tensor([0.3, 0.7], dtype=torch.float64)
    torch._dynamo.reset()
    with pytest.raises(Exception, match="drops a custom rule's derivative"):
        torch.compile(multiad.grad(f), backend="eager", fullgraph=True)(x)
    for compiler in ("eager", "aot_eager"):
        torch._dynamo.reset()
        try:
            got = torch.compile(multiad.grad(f), backend=compiler)(x)
        except Exception:  # noqa: BLE001 - refused (torch cannot always fall back inside torch.func)
            continue
        np.testing.assert_allclose(got.numpy(), [1.0, 1.0])
    torch._dynamo.reset()
    xr = x.clone().requires_grad_()
    torch.compile(f, backend="eager")(xr).backward()  # a compiled forward: loss.backward() runs the rule
    assert xr.grad is not None
    np.testing.assert_allclose(xr.grad.numpy(), [1.0, 1.0])


def test_a_compiled_forward_differentiated_by_backward_applies_a_custom_jvp_rule() -> None:
    # The rule's output structure, recorded while torch.compile traced the forward, kept optree's
    # namespace on a leaf, and the backward pass (run eagerly) refused its own leaf as another structure.
    import torch

    x = torch.tensor([0.3, -0.5, 0.1], dtype=torch.float64, requires_grad=True)
    torch._dynamo.reset()
    torch.compile(lambda t: (_twice_fwd(t) ** 3).sum(), backend="eager")(x).backward()
    assert x.grad is not None  # the rule's derivative is 2: d/dx sum(f(x)^3) = 3 x^2 * 2
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.detach().numpy() ** 2, rtol=1e-12)
