"""A backend whose primitives return wrongly structured results gets a clear error naming the
call and the backend, never a wrong result (NOTE [Results of a backend's primitives] in
multiad/_results.py): one gradient too few, None, a raveled 0-d gradient, numpy arrays."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp
from multiad._backend import Backend
from multiad._restricted import restricted

torch = pytest.importorskip("torch")

Defect = Callable[[tuple[Any, ...]], Any]
#: defect -> (what it does to a tuple of results, what the error says after "the NAME backend's pullback")
DEFECTS: dict[str, tuple[Defect, str]] = {
    "too_few": (lambda gs: tuple(gs)[:-1], r"returned \d+ gradients? for \d+ primals?;"),
    "none": (lambda gs: (None, *tuple(gs)[1:]), r"returned None as gradient 0;"),
    "raveled": (lambda gs: tuple(g.reshape(-1) for g in gs), r"returned gradient 0 of shape \(1,\), expected \(\)"),
    "numpy": (
        lambda gs: tuple(g.detach().numpy() if isinstance(g, torch.Tensor) else g for g in gs),
        r"returned a numpy.ndarray as gradient 0, not an array of the \S+ backend;",
    ),
}


def _real(name: str) -> Backend:
    with multiad.use_backend(name) as real:
        pass
    return real


def _misbehaving(name: str, defect: str, *, fast: bool, jvp: bool = False) -> Backend:
    """The ``name`` backend's primitives only (NOTE [Forcing the derived paths]), its pullbacks
    (and with ``jvp`` its tangent outputs) changed by ``defect``; ``fast``: the pullbacks keep
    their fast-path attributes (NOTE [Pullbacks of one output]), changed the same way."""
    real = restricted(_real(name), jvp=jvp)
    base, bad = type(real), DEFECTS[defect][0]

    def vjp(self: Backend, fun: Any, primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = base.vjp(self, fun, primals, has_aux)

        def pull(cts: Any) -> Any:
            return bad(pullback(cts))

        if fast and hasattr(pullback, "one_cotangent"):
            one = pullback.one_cotangent
            pull.one_cotangent = lambda ct: bad(one(ct))  # type: ignore[attr-defined]
        if fast and hasattr(pullback, "one_primal"):
            raw, unusual, finish = pullback.one_primal
            pull.one_primal = (lambda ct: bad(raw(ct)), unusual, finish)  # type: ignore[attr-defined]
        if fast and hasattr(pullback, "one_gradient"):  # a bare gradient: only the shape can be wrong here
            raw1, finish1 = pullback.one_gradient
            pull.one_gradient = (lambda ct: bad((raw1(ct),))[0], finish1)  # type: ignore[attr-defined]
        return outs, pull, aux

    def jvp_(self: Backend, fun: Any, primals: Any, tangents: Any, has_aux: bool) -> tuple[Any, Any, Any]:
        outs, touts, aux = base.jvp(self, fun, primals, tangents, has_aux)
        return outs, bad(touts), aux

    attrs: dict[str, Any] = {"name": f"{name}[{defect}]", "vjp": vjp, "__module__": __name__}
    if jvp:
        attrs = {"name": f"{name}[{defect}]", "jvp": jvp_, "__module__": __name__}
    cls = type(f"Misbehaving{base.__name__}", (base,), attrs)
    b: Backend = object.__new__(cls)
    b.__dict__.update(real.__dict__)
    return b


def f(x: Any) -> Any:
    return mnp.sum(mnp.sin(x) * x)


def g2(x: Any, y: Any) -> Any:
    return mnp.sum(mnp.sin(x) * y)


def _raises(b: Backend, call: str, said: str, run: Callable[[], Any], what: str = "pullback") -> None:
    with pytest.raises(multiad.BackendError, match=rf"^{call}: the {re.escape(b.name)} backend's {what} {said}"):
        run()


def _arrays(name: str, *shapes: tuple[int, ...]) -> list[Any]:
    rng = np.random.default_rng(0)
    return [multiad.asarray(rng.standard_normal(s), backend=name) for s in shapes]


CALLS: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {  # call -> (its name, what it runs)
    "grad": (r"grad\(f\)", lambda x, s: multiad.grad(f)(x)),
    "grad0d": (r"grad\(f\)", lambda x, s: multiad.grad(f)(s)),
    "grad2": (r"grad\(g2\)", lambda x, s: multiad.grad(g2, argnums=(0, 1))(s, s)),
    "vjp_fn": (r"vjp\(sin\) vjp_fn", lambda x, s: multiad.vjp(mnp.sin, s)[1](mnp.ones_like(s))),
    "vjp_fn2": (r"vjp\(g2\) vjp_fn", lambda x, s: multiad.vjp(g2, s, s)[1](mnp.ones_like(s))),
    "jacrev": (r"jacrev\(f\)", lambda x, s: multiad.jacrev(f)(s)),
    "hessian": (r"hessian\(f\)", lambda x, s: multiad.hessian(f)(s)),
}


@pytest.mark.parametrize("fast", [False, True], ids=["pullback", "fast-path"])
@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_torch_pullback_defects_raise(defect: str, call: str, fast: bool) -> None:
    if (defect, call) == ("raveled", "grad"):
        pytest.skip("a raveled gradient of a 1-d primal is the gradient")
    if (defect, call) == ("numpy", "hessian"):  # the backend's own conversion fails first, under the outer level
        pytest.skip("converting a traced gradient raises inside the backend's pullback (NonDifferentiableError)")
    b = _misbehaving("torch", defect, fast=fast)
    x, s = _arrays("torch", (3,), ())
    name, run = CALLS[call]
    with multiad.use_backend(b):
        _raises(b, name, DEFECTS[defect][1], lambda: run(x, s))


@pytest.mark.parametrize("defect", ["too_few", "none", "raveled"])
@pytest.mark.parametrize("call", ["grad2", "grad0d", "vjp_fn", "vjp_fn2", "jacrev"])
def test_autograd_pullback_defects_raise(defect: str, call: str) -> None:
    if (defect, call) == ("too_few", "vjp_fn"):
        pytest.skip("its pullback's one_gradient returns one gradient bare: it cannot return one too few")
    b = _misbehaving("autograd", defect, fast=True)
    x, s = _arrays("autograd", (3,), ())
    name, run = CALLS[call]
    with multiad.use_backend(b):
        _raises(b, name, DEFECTS[defect][1], lambda: run(x, s))


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_torch_jvp_defects_raise(defect: str) -> None:
    b = _misbehaving("torch", defect, fast=False, jvp=True)
    (s,) = _arrays("torch", ())
    said = DEFECTS[defect][1].replace("gradient", "tangent output").replace("primal", "output")
    with multiad.use_backend(b):
        _raises(b, r"jvp\(sin\)", said, lambda: multiad.jvp(mnp.sin, (s,), (mnp.ones_like(s),)), "jvp")


def test_right_backends_pass() -> None:
    for name in ("torch", "autograd"):
        x, s = _arrays(name, (3,), ())
        xn, sn = multiad.to_numpy(x), multiad.to_numpy(s)
        with multiad.use_backend(restricted(_real(name))):
            got = multiad.grad(g2, argnums=(0, 1))(x, x)
            np.testing.assert_allclose(multiad.to_numpy(got[0]), np.cos(xn) * xn)
            np.testing.assert_allclose(multiad.to_numpy(got[1]), np.sin(xn))
            (gs,) = multiad.vjp(mnp.sin, s)[1](mnp.ones_like(s))
            assert tuple(gs.shape) == ()
            np.testing.assert_allclose(multiad.to_numpy(gs), np.cos(sn))


def _bad_prepare(defect: str) -> Backend:
    """The torch backend, its prepared ``grad_and_value`` (NOTE [Prepared calls]) changed by ``defect``."""
    real = _real("torch")
    base, bad = type(real), DEFECTS[defect][0]

    def prepare(self: Backend, transform: str, fun: Any, argnums: Any, chunk_size: Any) -> Any:
        native = base.prepare(self, transform, fun, argnums, chunk_size)
        if native is None or transform != "grad_and_value":
            return native

        def wrong(*args: Any) -> Any:
            grads, value = native(*args)
            return (bad(grads) if isinstance(argnums, tuple) else bad((grads,))[0]), value

        return wrong

    cls = type("PreparedWrong", (base,), {"name": f"torch[{defect}]", "prepare": prepare, "__module__": __name__})
    b: Backend = object.__new__(cls)
    b.__dict__.update(real.__dict__)
    return b


@pytest.mark.parametrize("defect", sorted(DEFECTS))
@pytest.mark.parametrize("call", ["grad0d", "grad2"])
def test_prepared_grad_defects_raise(defect: str, call: str) -> None:
    if (defect, call) == ("too_few", "grad0d"):
        pytest.skip("a prepared grad of an int argnums returns its one gradient bare")
    if defect == "raveled":
        pytest.skip(
            "a prepared transform's gradients are checked for count and type (NOTE [Results of a backend's primitives])"
        )
    b = _bad_prepare(defect)
    (s,) = _arrays("torch", ())
    name = CALLS[call][0]
    transform = multiad.grad(f) if call == "grad0d" else multiad.grad(g2, argnums=(0, 1))
    args = (s,) if call == "grad0d" else (s, s)
    with multiad.use_backend(b):
        transform(*args)  # the first call of a signature takes the general path (NOTE [Prepared calls])
        _raises(b, name, DEFECTS[defect][1], lambda: transform(*args), "prepared grad_and_value")


VMAP_DEFECTS: dict[str, tuple[Defect, str]] = {
    "none": (lambda outs: (None, *outs[1:]), r"returned None as output 0, not an array"),
    "numpy": (
        lambda outs: tuple(o.detach().numpy() for o in outs),
        r"returned a numpy.ndarray as output 0, not an array",
    ),
    "unbatched": (lambda outs: tuple(o[0] for o in outs), r"returned output 0 of shape \(3,\), expected a batch of 4"),
    "bare": (lambda outs: outs[0], r"returned a torch.Tensor, not a tuple of arrays"),
}


@pytest.mark.parametrize("defect", sorted(VMAP_DEFECTS))
def test_torch_vmap_defects_raise(defect: str) -> None:
    real = restricted(_real("torch"), vmap=True)
    base, bad = type(real), VMAP_DEFECTS[defect][0]

    def vmap(self: Backend, fun: Any, in_axes: Any, chunk_size: Any) -> Any:
        inner = base.vmap(self, fun, in_axes, chunk_size)
        return lambda *args: bad(inner(*args))

    cls = type("VmapWrong", (base,), {"name": f"torch[{defect}]", "vmap": vmap, "__module__": __name__})
    b: Backend = object.__new__(cls)
    b.__dict__.update(real.__dict__)
    (xs,) = _arrays("torch", (4, 3))
    with multiad.use_backend(b):
        _raises(b, r"vmap\(sin\)", VMAP_DEFECTS[defect][1], lambda: multiad.vmap(mnp.sin)(xs), "vmap")


@pytest.mark.parametrize("defect", ["too_few", "none", "numpy"])  # a raveled 1-d gradient is the gradient
def test_the_suites_float32_item_names_the_defect(defect: str) -> None:
    """The conformance suite's float32 item, which runs before the flat-contract item, reports a
    misbehaving pullback as an assertion naming it, not as a crash of its own (an AttributeError
    reading the dtype of None) or a bare IndexError."""
    from multiad.conformance.test_contract import test_float32_derivatives_stay_float32 as float32_item

    b = _misbehaving("autograd" if defect != "numpy" else "torch", defect, fast=True)
    said = (
        rf"grad of float32 inputs raised BackendError: grad\(f\): the {re.escape(b.name)} backend's pullback returned"
    )
    with pytest.raises(AssertionError, match=said):
        float32_item(b)
