"""The replay pages of the two reference tutorials run on every backend and match native torch.

NOTE [Replay pages]: docs/tutorial-jacobians-hessians.md and docs/tutorial-autograd.md are
written as one user's program on the selected backend (NOTE [Executable docs] in
tests/test_docs.py for how blocks are extracted). Here each page runs once per backend inside
``multiad.use_backend``, with its sizes block (the block starting ``# Sizes``) swapped for small
sizes, and every result the page names is compared with the same computation written with
torch.func / torch.autograd in float64, from the page's own inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS
from test_docs import DOCS, python_blocks

import multiad
from multiad import _select

torch = pytest.importorskip("torch")
tf = torch.func
F = torch.nn.functional

#: max |multiad - torch| / max(1, max |torch|), per backend: exact backends and finite differences.
TOL = {"exact": (1e-9, 1e-9), "numpy": (1e-5, 2e-3)}  # (first order, second order)


@pytest.fixture(autouse=True)
def restore_selection() -> Iterator[None]:
    saved = _select._default
    try:
        yield
    finally:
        multiad.set_backend(saved)


def run_replay(page: Path, sizes: str, backend: str) -> dict[str, Any]:
    blocks = python_blocks(page)
    at = [i for i, b in enumerate(blocks) if b.startswith("# Sizes")]
    assert len(at) == 1, f"{page.name} needs exactly one block starting with '# Sizes'"
    blocks[at[0]] = sizes
    ns: dict[str, Any] = {"__name__": f"replay_{page.stem.replace('-', '_')}"}
    with multiad.use_backend(backend):
        for i, src in enumerate(blocks):
            exec(compile(src, f"{page.name} [python block {i + 1}]", "exec"), ns)
    return ns


def t(a: Any) -> Any:
    return torch.as_tensor(np.asarray(multiad.to_numpy(a), dtype=np.float64))


def compare(ns: dict[str, Any], refs: dict[str, tuple[Any, int]], backend: str) -> dict[str, float]:
    """Relative max errors per name; asserts shapes and tolerances."""
    errors = {}
    kind = "numpy" if backend == "numpy" else "exact"
    for name, (ref, order) in refs.items():
        want = ref.detach().numpy() if isinstance(ref, torch.Tensor) else np.asarray(ref)
        got = multiad.to_numpy(ns[name])
        assert got.shape == want.shape, (name, backend, got.shape, want.shape)
        err = float(np.max(np.abs(got - want))) / max(1.0, float(np.max(np.abs(want))))
        assert err <= TOL[kind][order - 1], (name, backend, err)
        errors[name] = err
    return errors


def predict_t(weight: Any, bias: Any, x: Any) -> Any:
    return F.linear(x, weight, bias).tanh()


def jacobians_hessians_refs(ns: dict[str, Any]) -> dict[str, tuple[Any, int]]:
    w, b, x = t(ns["weight"]), t(ns["bias"]), t(ns["x"])
    jac = tf.jacrev(predict_t, argnums=2)(w, b, x)
    jw, jb = tf.jacrev(predict_t, argnums=(0, 1))(w, b, x)
    tall = tf.jacrev(predict_t, argnums=2)(t(ns["w_tall"]), t(ns["b_tall"]), t(ns["x_tall"]))
    wide = tf.jacfwd(predict_t, argnums=2)(t(ns["w_wide"]), t(ns["b_wide"]), t(ns["x_wide"]))
    hess = tf.hessian(predict_t, argnums=2)(t(ns["w_hess"]), t(ns["b_hess"]), t(ns["x_hess"]))
    wb, bb, xb = t(ns["w_batch"]), t(ns["b_batch"]), t(ns["x_batch"])
    bjac = tf.vmap(tf.jacrev(predict_t, argnums=2), in_dims=(None, None, 0))(wb, bb, xb)
    bhess = tf.vmap(tf.hessian(predict_t, argnums=2), in_dims=(None, None, 0))(wb, bb, xb)
    hv = tf.jvp(tf.grad(lambda x: x.sin().sum()), (t(ns["x_hvp"]),), (t(ns["tangent"]),))[1]
    return {
        "jacobian_loop": (jac, 1), "jacobian_vmap": (jac, 1), "jacobian_rev": (jac, 1),
        "jacobian_weight": (jw, 1), "jacobian_bias": (jb, 1),
        "tall_fwd": (tall, 1), "tall_rev": (tall, 1), "wide_fwd": (wide, 1), "wide_rev": (wide, 1),
        "hess_api": (hess, 2), "hess_fwdfwd": (hess, 2),
        "batch_jacobian0": (bjac, 1), "batch_jacobian1": (bjac, 1), "batch_hess": (bhess, 2),
        "hvp_fwdrev": (hv, 2), "hvp_revrev": (hv, 2), "hvp_api": (hv, 2), "vhp_api": (hv, 2),
    }  # fmt: skip


def autograd_refs(ns: dict[str, Any]) -> dict[str, tuple[Any, int]]:
    taf = torch.autograd.functional
    a = t(ns["a"]).requires_grad_()
    (2 * a.sin() + 1).sum().backward()

    # The tutorial's TinyModel, loaded with the page's initial parameters.
    p = ns["params"]
    model = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.ReLU(), torch.nn.Linear(1, 1)).double()
    with torch.no_grad():
        for layer, name in ((model[0], "layer1"), (model[2], "layer2")):
            layer.weight = torch.nn.Parameter(t(p[name]["weight"]))
            layer.bias = torch.nn.Parameter(t(p[name]["bias"]))
    x, target = t(ns["some_input"]), t(ns["ideal_output"])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001)
    loss = (target - model(x)).pow(2).sum()
    loss.backward()
    first = [q.grad.clone() for q in model.parameters()]  # type: ignore[union-attr]
    optimizer.step()
    stepped = [q.detach().clone() for q in model.parameters()]
    for _ in range(5):
        (target - model(x)).pow(2).sum().backward()
    accumulated = [q.grad.clone() for q in model.parameters()]  # type: ignore[union-attr]

    def tree(leaves: list[Any]) -> dict[str, Any]:
        return {"layer1": {"weight": leaves[0], "bias": leaves[1]}, "layer2": {"weight": leaves[2], "bias": leaves[3]}}

    xd = t(ns["x_doubling"]).requires_grad_()
    y = xd * 2
    while y.data.norm() < 1000:
        y = y * 2
    y.backward(t(ns["v"]))

    def exp_adder(x: Any, y: Any) -> Any:
        return 2 * x.exp() + 3 * y

    def two_outputs(x: Any, y: Any) -> Any:
        return x * y, x.sin() + y**2

    def pow_reducer(x: Any, y: Any) -> Any:
        return (2 * x**3 + 3 * x * y**2).sum()

    def doubling(x: Any) -> Any:
        y = x * 2
        while y.norm() < 1000:
            y = y * 2
        return y

    x3, y3, u3, w3, v = t(ns["x3"]), t(ns["y3"]), t(ns["u3"]), t(ns["w3"]), t(ns["v"])
    xr, yr = x3.clone().requires_grad_(), y3.clone().requires_grad_()
    gx, gy = torch.autograd.grad(pow_reducer(xr, yr), (xr, yr), create_graph=True)
    norm_grad = torch.autograd.grad((gx**2).sum() + (gy**2).sum(), (xr, yr))
    vjp_out, vjp_value = taf.vjp(doubling, t(ns["x_doubling"]), v)
    jvp_out, jvp_value = taf.jvp(exp_adder, (x3, y3), (u3, w3))
    pow_out, hvp_pair = taf.hvp(pow_reducer, (x3, y3), (u3, w3))
    _, vhp_pair = taf.vhp(pow_reducer, (x3, y3), (u3, w3))
    refs: dict[str, tuple[Any, int]] = {
        "a_grad": (a.grad, 1),
        "loss": (loss, 1),
        "x_grad": (xd.grad, 1),
        "y_doubling": (y, 1),
        "d_add_d_a": (taf.jacobian(lambda a: 2 * a + 3 * t(ns["ones"]), t(ns["ones"])), 1),
        "plain_sum": (5 * t(ns["ones"]), 1),
        "vjp_out": (vjp_out, 1), "vjp_value": (vjp_value, 1),
        "jvp_out": (jvp_out, 1), "jvp_value": (jvp_value, 1),
        "pow_value": (pow_out, 1),
    }  # fmt: skip
    nested = {
        "grads": (tree(first), 1),
        "params_after_step": (tree(stepped), 1),
        "accumulated": (tree(accumulated), 1),
        "jac_exp_1": (taf.jacobian(exp_adder, (t(ns["x1"]), t(ns["y1"]))), 1),
        "jac_exp_3": (taf.jacobian(exp_adder, (x3, y3)), 1),
        # torch's forward-mode strategy returns a list where the default returns a tuple.
        "jac_exp_3_fwd": (tuple(taf.jacobian(exp_adder, (x3, y3), vectorize=True, strategy="forward-mode")), 1),
        "jac_two": (taf.jacobian(two_outputs, (x3, y3)), 1),
        "hess_pair": (taf.hessian(pow_reducer, (x3, y3)), 2),
        "hvp_pair": (hvp_pair, 2),
        "vhp_pair": (vhp_pair, 2),
        "grad_of_grad_norm": (norm_grad, 2),
    }
    for name, (ref, order) in nested.items():
        # The same layout in both: tuples of tuples and dicts, matched leaf by leaf.
        got_leaves, got_spec = multiad.tree_flatten(ns[name])
        ref_leaves, ref_spec = multiad.tree_flatten(ref)
        assert got_spec == ref_spec, (name, got_spec, ref_spec)
        for i, (g, r) in enumerate(zip(got_leaves, ref_leaves)):
            ns[f"{name}[{i}]"] = g
            refs[f"{name}[{i}]"] = (r, order)
    return refs


JH_SIZES = "D = 4\nTALL = (3, 7)\nWIDE = (7, 3)\nHESS = (5, 3)\nBATCH, B_IN, B_OUT = 3, 4, 5\nN_HVP = 6\n"

PAGES: dict[str, tuple[str, str, Callable[[dict[str, Any]], dict[str, tuple[Any, int]]]]] = {
    "jacobians-hessians": ("tutorial-jacobians-hessians.md", JH_SIZES, jacobians_hessians_refs),
    "autograd": ("tutorial-autograd.md", "BATCH_SIZE = 4\nDIM_IN = 6\nHIDDEN_SIZE = 5\nDIM_OUT = 3\n", autograd_refs),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("page", sorted(PAGES))
def test_replay_matches_torch(page: str, backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    filename, sizes, refs = PAGES[page]
    ns = run_replay(DOCS / filename, sizes, backend)
    errors = compare(ns, refs(ns), backend)
    with capsys.disabled():
        worst = max(errors, key=errors.__getitem__)
        print(f"\n{page} [{backend}]: {len(errors)} results match torch; largest error {errors[worst]:.1e} ({worst})")
