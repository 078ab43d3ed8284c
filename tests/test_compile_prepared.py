"""Transforms traced by torch.compile through their decisions made once (NOTE [Prepared calls
under a compiler] in multiad/_prepared_traced.py): the values are the closed forms, a second call
with new values runs the same compiled program, and whatever the decisions depend on traces again
when it changes, while what ``f`` reads is never kept from an earlier trace."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad

torch = pytest.importorskip("torch")
dynamo_testing = pytest.importorskip("torch._dynamo.testing")
if not hasattr(torch, "compile"):
    pytest.skip("torch.compile is not available", allow_module_level=True)

X1 = torch.linspace(-1.0, 1.0, 5, dtype=torch.float64)
X2 = torch.linspace(0.3, 2.0, 5, dtype=torch.float64)
V = torch.linspace(0.5, -0.7, 5, dtype=torch.float64)
W = torch.tensor(1.7, dtype=torch.float64)


def _total(x: Any) -> Any:
    return torch.sin(x).sum()


def _rows(w: Any, x: Any) -> Any:
    return torch.sin(w * x).sum()


#: form -> (multiad's call of x, the closed form of x as numpy).
FORMS: dict[str, tuple[Callable[[Any], Any], Callable[[np.ndarray], Any]]] = {
    "grad": (lambda x: multiad.grad(_total)(x), np.cos),
    "value_and_grad": (lambda x: multiad.value_and_grad(_total)(x)[1], np.cos),
    "jacrev": (lambda x: multiad.jacrev(torch.sin)(x), lambda x: np.diag(np.cos(x))),
    "jacfwd": (lambda x: multiad.jacfwd(torch.sin)(x), lambda x: np.diag(np.cos(x))),
    "hessian": (lambda x: multiad.hessian(_total)(x), lambda x: np.diag(-np.sin(x))),
    "hvp": (lambda x: multiad.hvp(_total, (x,), (V,))[0], lambda x: -np.sin(x) * V.numpy()),
    "vhp": (lambda x: multiad.vhp(_total, (x,), (V,))[0], lambda x: -np.sin(x) * V.numpy()),
    "vmap": (
        lambda x: multiad.vmap(_rows, in_dims=(None, 0))(W, torch.stack([x, 2 * x])),
        lambda x: np.array([np.sin(1.7 * x).sum(), np.sin(3.4 * x).sum()]),
    ),
    "vjp": (lambda x: multiad.vjp(torch.sin, x)[1](V)[0], lambda x: np.cos(x) * V.numpy()),
    # mode="auto": forward mode for the tall Jacobian (5 -> 10), reverse mode for the wide one (5 -> 1).
    "jacobian auto tall": (
        lambda x: multiad.jacobian(lambda x: torch.cat([torch.sin(x), x**2]))(x),
        lambda x: np.concatenate([np.diag(np.cos(x)), np.diag(2 * x)]),
    ),
    "jacobian auto wide": (lambda x: multiad.jacobian(_total)(x), np.cos),
    "vmap out_dims": (
        lambda x: multiad.vmap(lambda x: torch.sin(x) * x[0], in_dims=-1, out_dims=1)(torch.stack([x, 2 * x], 1)),
        lambda x: np.stack([np.sin(x) * x[0], np.sin(2 * x) * 2 * x[0]], 1),
    ),
}


def _counted(fn: Callable[..., Any]) -> tuple[Callable[..., Any], Any]:
    torch._dynamo.reset()
    counter = dynamo_testing.CompileCounter()
    return torch.compile(fn, backend=counter, fullgraph=True), counter


@pytest.mark.parametrize("name", sorted(FORMS))
def test_traced_forms_compile_once_and_give_the_closed_forms(name: str) -> None:
    ours, closed = FORMS[name]
    compiled, counter = _counted(ours)
    for x in (X1, X2):
        np.testing.assert_allclose(compiled(x).detach().numpy(), closed(x.numpy()), rtol=1e-12, atol=1e-12)
    # The second call ran the first call's program: out_dims moves the batch axis with the table
    # of multiad._ops.do, which a traced call reads and does not fill (NOTE [Tables a trace reads
    # and does not fill] in multiad/_ops.py).
    assert counter.frame_count == 1


def test_one_shot_and_objects_see_what_f_reads_change() -> None:
    scale = [2.0]

    def f(x: Any) -> Any:
        return (scale[0] * torch.sin(x)).sum()

    g = multiad.grad(f)
    compiled, _ = _counted(lambda x: (g(x), multiad.hvp(f, (x,), (V,))[0], multiad.vmap(f)(x[None])))
    for s in (2.0, -3.0):
        scale[0] = s
        grad, hvp, mapped = compiled(X1)
        np.testing.assert_allclose(grad.numpy(), s * np.cos(X1.numpy()), rtol=1e-12)
        np.testing.assert_allclose(hvp.numpy(), -s * np.sin(X1.numpy()) * V.numpy(), rtol=1e-12)
        np.testing.assert_allclose(mapped.numpy(), [s * np.sin(X1.numpy()).sum()], rtol=1e-12)


def test_another_function_through_the_same_compiled_code() -> None:
    funs = [_total, lambda x: (x**3).sum()]
    compiled, _ = _counted(lambda x, k: multiad.hvp(funs[k], (x,), (V,))[0])
    np.testing.assert_allclose(compiled(X1, 0).numpy(), -np.sin(X1.numpy()) * V.numpy(), rtol=1e-12)
    np.testing.assert_allclose(compiled(X1, 1).numpy(), 6 * X1.numpy() * V.numpy(), rtol=1e-12)


@pytest.mark.usefixtures("clean_selection")
def test_a_changed_selection_traces_again() -> None:
    g = multiad.grad(_total)
    compiled, counter = _counted(lambda x: g(x))
    compiled(X1)
    multiad.set_backend("torch")
    np.testing.assert_allclose(compiled(X2).numpy(), np.cos(X2.numpy()), rtol=1e-12)
    assert counter.frame_count == 2  # set_backend's selection is guarded


@pytest.mark.usefixtures("clean_selection")
def test_a_selection_set_and_unset_runs_the_first_program_again() -> None:
    # NOTE [One guard for the state of selection]: the same selection and registry give back the
    # same state object, so the program traced first is found again.
    g = multiad.grad(_total)
    compiled, counter = _counted(lambda x: g(x))
    compiled(X1)
    multiad.set_backend("torch")
    compiled(X1)
    multiad.set_backend(None)
    np.testing.assert_allclose(compiled(X2).numpy(), np.cos(X2.numpy()), rtol=1e-12)
    assert counter.frame_count == 2


def test_a_changed_registry_traces_again() -> None:
    # NOTE [One guard for the state of selection]: a backend registered after the first trace
    # changes the state the trace guards, and the call traces again.
    code = (
        "import numpy as np, torch, multiad\n"
        "import torch._dynamo.testing as dt\n"
        "from multiad_torch import TorchBackend\n"
        "class Copy(TorchBackend):\n"
        "    name = 'torch-copy'\n"
        "    array_modules = ()\n"
        "x = torch.linspace(-1.0, 1.0, 5, dtype=torch.float64)\n"
        "g = multiad.grad(lambda x: torch.sin(x).sum())\n"
        "counter = dt.CompileCounter()\n"
        "c = torch.compile(lambda x: g(x), backend=counter, fullgraph=True)\n"
        "np.testing.assert_allclose(c(x).numpy(), np.cos(x.numpy()), rtol=1e-12)\n"
        "np.testing.assert_allclose(c(x).numpy(), np.cos(x.numpy()), rtol=1e-12)\n"
        "assert counter.frame_count == 1, counter.frame_count\n"
        "multiad.register_backend('torch-copy', Copy)\n"
        "np.testing.assert_allclose(c(x).numpy(), np.cos(x.numpy()), rtol=1e-12)\n"
        "assert counter.frame_count == 2, counter.frame_count\n"
        "print('ok')\n"
    )
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.pop("MULTIAD_BACKEND", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]


def test_another_dtype_traces_again_and_keeps_it() -> None:
    compiled, counter = _counted(lambda x: multiad.jacrev(torch.sin)(x))
    compiled(X1)
    out = compiled(X1.float())
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), np.diag(np.cos(X1.float().numpy())), rtol=1e-6)
    assert counter.frame_count == 2


def test_structured_outputs_and_several_arguments() -> None:
    def f(a: Any, b: Any) -> Any:
        return {"u": torch.sin(a), "v": a[:3] * b}

    b = torch.linspace(0.5, 2.0, 3, dtype=torch.float64)
    compiled, _ = _counted(lambda a, b: multiad.jacrev(f, argnums=(0, -1))(a, b))
    got = compiled(X1, b)
    a = X1.numpy()
    np.testing.assert_allclose(got["u"][0].numpy(), np.diag(np.cos(a)), rtol=1e-12)
    np.testing.assert_allclose(got["u"][1].numpy(), np.zeros((5, 3)))
    np.testing.assert_allclose(got["v"][0].numpy(), np.eye(3, 5) * b.numpy()[:, None], rtol=1e-12)
    np.testing.assert_allclose(got["v"][1].numpy(), np.diag(a[:3]), rtol=1e-12)


def test_second_order_of_several_primals() -> None:
    def f(a: Any, b: Any) -> Any:
        return (a * a * b).sum()

    b = X2 + 1.0
    compiled, _ = _counted(lambda a, b: multiad.hvp(f, (a, b), (V, V)))
    ha, hb = compiled(X1, b)
    np.testing.assert_allclose(ha.numpy(), (2 * b * V + 2 * X1 * V).numpy(), rtol=1e-12)
    np.testing.assert_allclose(hb.numpy(), (2 * X1 * V).numpy(), rtol=1e-12)


def test_an_integer_argument_under_compile_gets_the_error_naming_the_call() -> None:
    with pytest.raises(multiad.InvalidTypeError, match=r"^grad\(_total\): argument 0 has dtype int64"):
        torch.compile(lambda x: multiad.grad(_total)(x), backend="eager")(torch.arange(3))


@pytest.mark.usefixtures("clean_selection")
def test_the_environment_variable_is_read_when_the_call_is_traced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MULTIAD_BACKEND", "torch")
    compiled, counter = _counted(lambda x: multiad.grad(_total)(x))
    compiled(X1)
    monkeypatch.setenv("MULTIAD_BACKEND", "no-such-backend")  # not read again: no error, no new trace
    np.testing.assert_allclose(compiled(X2).numpy(), np.cos(X2.numpy()), rtol=1e-12)
    assert counter.frame_count == 1


def test_vjp_traced_checks_its_cotangents() -> None:
    def f(x: Any) -> Any:
        return torch.sin(x) * 2.0

    def pulls(x: Any) -> Any:
        _, pull = multiad.vjp(f, x)
        return pull(V)[0], pull(2 * V)[0]

    compiled, _ = _counted(pulls)
    once, twice = compiled(X1)
    np.testing.assert_allclose(once.numpy(), 2 * np.cos(X1.numpy()) * V.numpy(), rtol=1e-12)
    np.testing.assert_allclose(twice.numpy(), 4 * np.cos(X1.numpy()) * V.numpy(), rtol=1e-12)
    with pytest.raises(multiad.InvalidArgumentError, match=r"vjp\(f\) vjp_fn: cotangent"):
        torch.compile(lambda x: multiad.vjp(f, x)[1](torch.ones(4, dtype=torch.float64)), backend="eager")(X1)


def test_vjp_traced_of_a_structured_output() -> None:
    def f(a: Any, b: Any) -> Any:
        return {"s": torch.sin(a), "p": (a[:3] * b).sum()}

    b = torch.linspace(0.5, 2.0, 3, dtype=torch.float64)
    ct = {"s": V, "p": torch.tensor(2.0, dtype=torch.float64)}
    compiled, _ = _counted(lambda a, b: multiad.vjp(f, a, b)[1](ct))
    ga, gb = compiled(X1, b)
    want_a = np.cos(X1.numpy()) * V.numpy() + 2.0 * np.concatenate([b.numpy(), np.zeros(2)])
    np.testing.assert_allclose(ga.numpy(), want_a, rtol=1e-12)
    np.testing.assert_allclose(gb.numpy(), 2.0 * X1.numpy()[:3], rtol=1e-12)


def test_decisions_made_in_the_middle_of_a_trace() -> None:
    # NOTE [Decisions change nothing the trace reads]: a second decision of one transform object
    # (another dtype) and a transform nested in f are decided after the trace has read what the
    # first decision made.
    g = multiad.grad(_total)
    inner = multiad.jacrev(torch.sin)
    outer = multiad.jacrev(lambda x: inner(x).sum(0))

    def both(x: Any) -> Any:
        return g(x) + g(x.float()).double(), outer(x)

    compiled, counter = _counted(both)
    for x in (X1, X2):
        grads, jac = compiled(x)
        a = x.numpy()
        np.testing.assert_allclose(grads.numpy(), 2 * np.cos(a), rtol=1e-6, atol=1e-6)  # one half float32
        np.testing.assert_allclose(jac.numpy(), np.diag(-np.sin(a)), rtol=1e-12, atol=1e-12)
    assert counter.frame_count == 1


@pytest.mark.parametrize("name", ["hvp", "vhp", "jvp", "grad", "vjp"])
def test_a_graph_break_inside_f(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    # The frame resumed after the break compares structures made on both sides of it
    # (multiad._tree.same_structure), as torch.func's own transforms run through it.
    def f(z: Any) -> Any:
        print("a call the compiler cannot trace")
        return (z**3).sum()

    forms: dict[str, tuple[Callable[[Any], Any], Callable[[np.ndarray], Any]]] = {
        "hvp": (lambda x: multiad.hvp(f, (x,), (V,))[0], lambda x: 6 * x * V.numpy()),
        "vhp": (lambda x: multiad.vhp(f, (x,), (V,))[0], lambda x: 6 * x * V.numpy()),
        "jvp": (lambda x: multiad.jvp(f, (x,), (V,))[1], lambda x: (3 * x**2 * V.numpy()).sum()),
        "grad": (lambda x: multiad.grad(f)(x), lambda x: 3 * x**2),
        "vjp": (lambda x: multiad.vjp(f, x)[1](torch.tensor(2.0, dtype=torch.float64))[0], lambda x: 6 * x**2),
    }
    ours, closed = forms[name]
    torch._dynamo.reset()
    got = torch.compile(ours, backend="aot_eager")(X1)
    np.testing.assert_allclose(got.detach().numpy(), closed(X1.numpy()), rtol=1e-12)
    assert "a call the compiler cannot trace" in capsys.readouterr().out


def _with_rule(x: Any) -> Any:
    from multiad.testing._custom_rules import clip_gradient  # identity, its gradient clipped to [-1, 1]

    return torch.sin(clip_gradient(5.0 * x)) + 0.0 * x


#: Every traced form over a function whose custom_vjp rule the compiled graph would drop.
RULE_FORMS: dict[str, Callable[[Any], Any]] = {
    "grad": lambda x: multiad.grad(lambda y: _with_rule(y).sum())(x),
    "value_and_grad": lambda x: multiad.value_and_grad(lambda y: _with_rule(y).sum())(x)[1],
    "jacrev": lambda x: multiad.jacrev(_with_rule)(x),
    "jacfwd": lambda x: multiad.jacfwd(_with_rule)(x),
    "jacobian": lambda x: multiad.jacobian(_with_rule)(x),
    "hessian": lambda x: multiad.hessian(lambda y: _with_rule(y).sum())(x),
    "hvp": lambda x: multiad.hvp(lambda y: _with_rule(y).sum(), (x,), (V,))[0],
    "vhp": lambda x: multiad.vhp(lambda y: _with_rule(y).sum(), (x,), (V,))[0],
    "vjp": lambda x: multiad.vjp(_with_rule, x)[1](V)[0],
    # The backend's own traced vmap (NOTE [The traced vmap's flag]), and a transform under it.
    "vmap": lambda x: multiad.vmap(_with_rule)(torch.stack([x, 2 * x])),
    "vmap of grad": lambda x: multiad.vmap(multiad.grad(lambda y: _with_rule(y).sum()))(torch.stack([x, 2 * x])),
}


@pytest.mark.parametrize("name", sorted(RULE_FORMS))
def test_traced_forms_never_drop_a_custom_rule(name: str) -> None:
    # NOTE [Rules under a compiled transform] in the torch backend: the compiled call fails, it
    # never returns the derivative without the rule (5 cos(5x) where the rule clips it to cos(5x)).
    torch._dynamo.reset()
    with pytest.raises(Exception, match="drops a custom rule's derivative"):
        torch.compile(RULE_FORMS[name], backend="eager", fullgraph=True)(X1)


def test_transform_numbers_passed_to_the_compiled_function() -> None:
    # NOTE [Plain numbers in decisions]: a changed int becomes symbolic in the next trace.
    def f(a: Any, b: Any) -> Any:
        return (a**2 * b).sum()

    torch._dynamo.reset()
    compiled = torch.compile(lambda a, b, k: multiad.grad(f, argnums=k)(a, b), backend="eager", fullgraph=True)
    np.testing.assert_allclose(compiled(X1, X2, 0).numpy(), (2 * X1 * X2).numpy(), rtol=1e-12)
    np.testing.assert_allclose(compiled(X1, X2, 1).numpy(), (X1**2).numpy(), rtol=1e-12)
    mapped = torch.compile(lambda m, d: multiad.vmap(torch.sin, in_dims=d)(m), backend="eager", fullgraph=True)
    m = torch.stack([X1, X2])
    np.testing.assert_allclose(mapped(m, 0).numpy(), torch.sin(m).numpy(), rtol=1e-12)
    np.testing.assert_allclose(mapped(m, 1).numpy(), torch.sin(m).T.numpy(), rtol=1e-12)  # batch axis first


@pytest.mark.usefixtures("clean_selection")
def test_a_decision_is_not_reused_after_the_environment_variable_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    g = multiad.grad(_total)
    monkeypatch.setenv("MULTIAD_BACKEND", "torch")
    torch._dynamo.reset()
    torch.compile(lambda x: g(x), backend="eager")(X1)
    monkeypatch.setenv("MULTIAD_BACKEND", "numpy")  # torch tensors on the numpy backend: the general path's error
    torch._dynamo.reset()
    with pytest.raises(multiad.MultiADError):
        torch.compile(lambda x: g(x), backend="eager")(X1)
    with pytest.raises(multiad.MultiADError):
        g(X1)  # the same error without the compiler


def test_decisions_made_again_reuse_the_transform_built_for_them() -> None:
    # A process that traces the same kinds of call again and again (each trace after a reset, or
    # after the table of decisions was cleared) kept adding a transform to BUILT per decision.
    from multiad import _prepared_traced

    g = multiad.jacrev(torch.sin)
    counts = []
    for _ in range(3):
        _prepared_traced._DECISIONS.clear()
        torch._dynamo.reset()
        got = torch.compile(lambda x: g(x), backend="eager")(X1)
        np.testing.assert_allclose(got.numpy(), np.diag(np.cos(X1.numpy())), rtol=1e-12, atol=1e-12)
        counts.append(len(vars(_prepared_traced.BUILT)))
    assert counts[0] >= 1 and counts[1] == counts[0] and counts[2] == counts[0], counts


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_renaming_f_runs_the_same_program(name: str) -> None:
    # NOTE [Names made on the error path]: the traced hvp and vhp read f's name only where f's
    # output is wrong, so the compiled call does not guard it (the code of f it still guards).
    def f(x: Any) -> Any:
        return torch.sin(x).sum()

    product = getattr(multiad, name)
    compiled, counter = _counted(lambda x: product(f, (x,), (V,))[0])
    compiled(X1)
    f.__name__ = "renamed"
    np.testing.assert_allclose(compiled(X2).numpy(), -np.sin(X2.numpy()) * V.numpy(), rtol=1e-12)
    assert counter.frame_count == 1


def test_traced_hvp_keeps_the_dtype_of_each_primal() -> None:
    # NOTE [Guards of the traced hvp] in the torch backend: the traced hvp casts each tangent to
    # its primal's dtype as the eager one does (NOTE [Tangents in their value's dtype]).
    x, one = torch.tensor(1.5), torch.tensor(1.0)
    b, zero = torch.tensor(2.0, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64)
    compiled, _ = _counted(lambda x, t: multiad.hvp(lambda x: (x * 0.1) ** 2 * 3.0, (x,), (t,))[0])
    out = compiled(x, one)  # s'' = 0.06
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), 0.06, rtol=1e-6)
    two, _ = _counted(lambda x, b, t, z: multiad.hvp(lambda a, b: (a * 0.1) ** 2 * b, (x, b), (t, z)))
    ha, hb = two(x, b, one, zero)
    assert ha.dtype == torch.float32 and hb.dtype == torch.float64
    np.testing.assert_allclose([float(ha), float(hb)], [0.04, 0.03], rtol=1e-6)


def test_traced_hvp_of_a_non_scalar_f_raises_naming_the_call() -> None:
    # NOTE [Names made on the error path]: the name is made where the output check fails.
    def vec(x: Any) -> Any:
        return torch.sin(x)

    torch._dynamo.reset()
    compiled = torch.compile(lambda x: multiad.hvp(vec, (x,), (V,)), backend="eager", fullgraph=True)
    with pytest.raises(Exception, match=r"hvp\(vec\): f must return a scalar"):
        compiled(X1)


#: The forms whose f runs through the functions the core hands to the backend (scalar_of, outputs_of).
FLAGGED = ["grad", "value_and_grad", "jacrev", "jacfwd", "hessian", "hvp", "vhp", "vjp"]
#: The forms whose f runs through the torch backend's own traced vmap (NOTE [The traced vmap's flag]).
FLAGGED_BY_THE_BACKEND = ["vmap"]


@pytest.mark.parametrize("name", FLAGGED + FLAGGED_BY_THE_BACKEND)
def test_compiled_calls_replay_no_store_to_a_per_thread_flag(name: str) -> None:
    # NOTE [The flag set in a traced call]: a traced store to the backend's per-thread flag was
    # replayed after every compiled call through Dynamo's object_setattr_ignore_descriptor (a
    # Python call that finds a threading.local's attributes through an AttributeError). The
    # trace marks multiad's module-level flag instead, replayed as one attribute store; both
    # flags are False after the call, and the rule refusal that reads them still fires
    # (test_traced_forms_never_drop_a_custom_rule).
    from multiad_torch import _guard
    from torch._dynamo.eval_frame import _debug_get_cache_entry_list

    import multiad._prepared_traced as pt

    ours, closed = FORMS[name]

    def call(x: Any) -> Any:
        return ours(x)

    torch._dynamo.reset()
    compiled = torch.compile(call, backend="eager")
    for x in (X1, X2):
        np.testing.assert_allclose(compiled(x).numpy(), closed(x.numpy()), rtol=1e-12, atol=1e-12)
    (entry,) = _debug_get_cache_entry_list(call.__code__)
    assert "object_setattr_ignore_descriptor" not in entry.code.co_names
    flag = multiad._registry._records["torch"].backend.active_flag
    assert flag.active is False and pt._in_f is False and _guard._in_vmap is False
    assert multiad.Backend.in_traced_transform() is False


@pytest.mark.parametrize("name", ["grad", "value_and_grad", "jacrev", "jacfwd", "hessian", "jacobian"])
def test_a_transform_objects_constants_are_one_guarded_token(name: str) -> None:
    # NOTE [One token for a transform object's constants]: the compiled call guards one closure
    # cell for the transform, argnums, chunk_size, backend= and the call's name, not one each.
    from torch._dynamo.eval_frame import _debug_get_cache_entry_list

    f = _total if name in ("grad", "value_and_grad", "hessian") else torch.sin
    g = getattr(multiad, name)(f, argnums=0)

    def call(x: Any) -> Any:
        return g(x)

    torch._dynamo.reset()
    got = torch.compile(call, backend="eager")(X1)
    x = X1.numpy()
    want = {
        "grad": np.cos(x),
        "value_and_grad": np.cos(x),
        "hessian": np.diag(-np.sin(x)),
    }.get(name, np.diag(np.cos(x)))
    np.testing.assert_allclose((got[1] if name == "value_and_grad" else got).numpy(), want, rtol=1e-12, atol=1e-12)
    (entry,) = _debug_get_cache_entry_list(call.__code__)
    text = str(entry.guard_manager)
    for cell in ("transform", "argnums", "chunk_size", "backend", "call"):  # read in traced, its cells
        assert f'in traced (HINT: guard on "{cell}"' not in text, cell
    assert 'in traced (HINT: guard on "key")' in text


def test_transform_objects_of_other_constants_run_their_own_programs() -> None:
    # NOTE [One token for a transform object's constants]: objects differing in argnums alone
    # (the same call name) get different tokens, so neither runs the other's program.
    def call(g: Any, w: Any, x: Any) -> Any:
        return g(w, x)

    torch._dynamo.reset()
    compiled = torch.compile(call, backend="eager")
    d0 = compiled(multiad.grad(_rows, argnums=0), W, X1)
    d1 = compiled(multiad.grad(_rows, argnums=1), W, X1)
    x = X1.numpy()
    np.testing.assert_allclose(float(d0), float((x * np.cos(1.7 * x)).sum()), rtol=1e-12)
    np.testing.assert_allclose(d1.numpy(), 1.7 * np.cos(1.7 * x), rtol=1e-12)


#: A vmap of a transform object, both made outside the compiled function (as benchmarks/ does).
_VMAP_OF_JACREV = multiad.vmap(multiad.jacrev(torch.sin))
#: Forms whose traced path reached one of multiad's modules (or functools.partial) by two ways.
ALIASED = {
    "vjp": lambda x: multiad.vjp(torch.sin, x)[1](V)[0],
    "vmap of jacrev": lambda x: _VMAP_OF_JACREV(torch.stack([x, 2 * x])),
}


@pytest.mark.parametrize("name", sorted(ALIASED))
def test_traced_calls_reach_each_module_by_one_way(name: str) -> None:
    # NOTE [One way to each module in a trace] in multiad/_prepared_traced.py: an object reached
    # by two ways is a guard Dynamo checks in Python on every compiled call ("a is b").
    from torch._dynamo.eval_frame import _debug_get_cache_entry_list

    def call(x: Any) -> Any:
        return ALIASED[name](x)

    torch._dynamo.reset()
    got = torch.compile(call, backend="eager")(X1)
    x, v = X1.numpy(), V.numpy()
    want = np.cos(x) * v if name == "vjp" else np.stack([np.diag(np.cos(x)), np.diag(np.cos(2 * x))])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    (entry,) = _debug_get_cache_entry_list(call.__code__)
    aliases = [line for line in str(entry.guard_manager).splitlines() if "LAMBDA_GUARD" in line and " is " in line]
    for part in ("_prepared_traced", "_derive", "_registry", "partial"):
        assert not [a for a in aliases if part in a.split("#")[0]], (part, aliases)


#: Every traced form whose types went to a decision as ``type(x)`` (NOTE [Argument types in a
#: trace]), or whose array check read the torch backend's ``torch`` (NOTE [The array check reads
#: no torch module]), or whose vhp read ``_dense`` (NOTE [Guards of the traced hvp]).
ONE_WAY_TO_TORCH = ["grad", "jacrev", "jacfwd", "hessian", "hvp", "vhp", "vjp", "vmap"]


@pytest.mark.parametrize("name", ONE_WAY_TO_TORCH)
def test_traced_calls_reach_torch_by_the_ways_torch_func_does(name: str) -> None:
    # The compiler checks an object its trace reached by two ways with a guard run as Python on
    # every call ("a is b"): torch.Tensor and the torch module are reached by torch.func's own
    # modules, so multiad's traced path reaches neither by a way of its own.
    from torch._dynamo.eval_frame import _debug_get_cache_entry_list

    ours, closed = FORMS[name]

    def call(x: Any) -> Any:
        return ours(x)

    torch._dynamo.reset()
    got = torch.compile(call, backend="eager")(X1)
    np.testing.assert_allclose(got.numpy(), closed(X1.numpy()), rtol=1e-12, atol=1e-12)
    (entry,) = _debug_get_cache_entry_list(call.__code__)
    text = str(entry.guard_manager)
    aliases = [line.split("#")[0] for line in text.splitlines() if "LAMBDA_GUARD" in line and " is " in line]
    # torch.Tensor as Dynamo reaches type(x) of a tensor: a module global of its own, G['_<id>_c<n>'].
    ours_ = [a for a in aliases if "multiad_torch" in a or re.search(r"G\['_\d+_c\d+'\]\.Tensor", a)]
    assert not ours_, ours_
    assert "multiad_torch'].torch" not in text and "_dense" not in text


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_traced_second_order_calls_enter_one_function_of_multiads(name: str) -> None:
    # NOTE [The traced second-order call in one function]: from the public function the trace
    # enters _prepared_traced.second_order alone; the output check's words and _prepared's
    # GENERAL are read on the error path and the eager path only.
    from torch._dynamo.eval_frame import _debug_get_cache_entry_list

    ours, closed = FORMS[name]

    def call(x: Any) -> Any:
        return ours(x)

    torch._dynamo.reset()
    compiled = torch.compile(call, backend="eager")
    for x in (X1, X2):
        np.testing.assert_allclose(compiled(x).numpy(), closed(x.numpy()), rtol=1e-12, atol=1e-12)
    (entry,) = _debug_get_cache_entry_list(call.__code__)
    text = str(entry.guard_manager)
    for read in ("_prepared_second_order", "_GENERAL", "_check_scalar", "scalar_of", "__import_multiad_dot__prepared'"):
        assert read not in text, read
    assert "_traced_second_order.__code__" in text and "_registry.state" in text and "._in_f" in text


#: What a traced call once read through a module where one attribute of an object it reads
#: already serves: the backend's record (NOTE [The backends on the state] in multiad/_registry.py),
#: a module's constant (NOTE [Constants of a traced call]), and the callbacks' two constant-result
#: functions (NOTE [One function for a callback's questions]).
NOT_READ = ("_registry._records", "._JACOBIAN", "._GRAD", "_prepared_traced'].compiling", "_prepared_traced'].is_float")


@pytest.mark.parametrize("name", ["grad", "jacrev", "jacfwd", "hessian", "hvp", "vhp", "vjp", "vmap"])
def test_traced_calls_read_the_backend_from_the_state(name: str) -> None:
    from torch._dynamo.eval_frame import _debug_get_cache_entry_list

    ours, closed = FORMS[name]

    def call(x: Any) -> Any:
        return ours(x)

    torch._dynamo.reset()
    compiled = torch.compile(call, backend="eager")
    for x in (X1, X2):
        np.testing.assert_allclose(compiled(x).numpy(), closed(x.numpy()), rtol=1e-12, atol=1e-12)
    (entry,) = _debug_get_cache_entry_list(call.__code__)
    text = str(entry.guard_manager)
    for read in NOT_READ:
        assert read not in text, read
    assert "'backend torch')" in text


def test_each_state_holds_the_backends_of_its_table() -> None:
    # NOTE [The backends on the state]: every state, the one of a selection set too, holds each
    # record's backend under the prefixed name (no backend's name can hide the state's own fields).
    from multiad import _registry

    multiad.get_backend()  # the table discovered
    for selected in (None, "torch"):
        multiad.set_backend(selected)
        try:
            state = _registry.state
            for rec in _registry._records.values():
                if rec.backend is not None:
                    assert getattr(state, _registry.BACKEND + rec.name) is rec.backend
            assert state.generation == _registry._generation[0]
        finally:
            multiad.set_backend(None)


def test_the_traced_vjp_is_made_in_prepare() -> None:
    # NOTE [The traced vjp made in prepare] in the torch backend: the compiled call guards no code
    # of a second function of the backend's for it.
    from torch._dynamo.eval_frame import _debug_get_cache_entry_list

    ours, closed = FORMS["vjp"]

    def call(x: Any) -> Any:
        return ours(x)

    torch._dynamo.reset()
    compiled = torch.compile(call, backend="eager")
    for x in (X1, X2):
        np.testing.assert_allclose(compiled(x).numpy(), closed(x.numpy()), rtol=1e-12, atol=1e-12)
    (entry,) = _debug_get_cache_entry_list(call.__code__)
    text = str(entry.guard_manager)
    assert "_traced_transform" not in text and "multiad_torch'].func.vjp" in text
