"""The conformance suite as a plugin author meets it: an installed third-party backend is
discovered through its entry point and passes; deliberately wrong backends fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_conformance_backends import run_suite

from multiad.testing import check_backend

PLUGINS = Path(__file__).resolve().parent / "plugins"
XFAILS = Path(__file__).resolve().parent / "xfails"


def install(plugin: str, tmp_path: Path) -> Path:
    """pip-installs tests/plugins/PLUGIN into a fresh directory, which it returns."""
    # Build from a copy so that the build leaves nothing (build/, *.egg-info) in the source tree.
    src = tmp_path / plugin
    shutil.copytree(PLUGINS / plugin, src)
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--target", str(target)]
    proc = subprocess.run([*pip, "-q", str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return target


def test_example_plugin_is_discovered_and_passes(tmp_path: Path) -> None:
    target = install("multiad-example", tmp_path)
    assert (target / "multiad_example.py").exists()

    listing = (
        "import multiad\n"
        "for r in multiad.list_backends():\n"
        "    print(r.name, r.status, r.distribution, r.source, sep='|')\n"
    )
    env = {"PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", listing], capture_output=True, text=True, timeout=120,
        env={**_base_env(), **env}, cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = {line.split("|")[0]: line.split("|") for line in out.stdout.splitlines()}
    assert rows["example"][1:] == ["available", "multiad-example", "multiad_example:ExampleBackend"]

    code, output, report = run_suite("example", tmp_path, "--multiad-device=cpu", pythonpath=str(target))
    assert code == 0, output[-4000:]
    assert report["summary"]["failed"] == 0
    assert report["summary"]["passed"] >= 50
    assert report["backend"]["distribution"] == "multiad-example"


def _base_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.pop("MULTIAD_BACKEND", None)
    env.pop("PYTHONPATH", None)
    return env


def _failed_cases(report: dict) -> set[str]:  # type: ignore[type-arg]
    return {r["case"] for r in report["results"] if r["status"] == "failed"}


def test_gradient_off_by_a_thousandth_fails(tmp_path: Path) -> None:
    code, output, report = run_suite(
        "conformance_backends:ScaledGradient", tmp_path, "--multiad-device=cpu", pythonpath=str(PLUGINS)
    )
    assert code == 1, output[-2000:]
    failed = _failed_cases(report)
    assert {
        "exp_sin.grad",
        "sin_sum_sq.hessian",
        "sin_wx_times_x.vjp",
        "mse_loss.vmap(grad[argnums=(0, 1)])[in_dims=(None, None, 0, 0)]",
    } <= failed
    grad = next(r for r in report["results"] if r["case"] == "sin_sum_sq.grad")
    assert 5e-4 < grad["max_rel_err"] < 2e-3, grad  # the error is the injected factor 1.001
    # Plain vmap involves no derivative, so it still passes: the suite localizes the fault.
    assert all(r["status"] == "passed" for r in report["results"] if r["family"] == "vmap")


def test_transposed_jacobian_fails(tmp_path: Path) -> None:
    code, output, report = run_suite(
        "conformance_backends:TransposedJacobian", tmp_path, "--multiad-device=cpu", pythonpath=str(PLUGINS)
    )
    assert code == 1, output[-2000:]
    failed = _failed_cases(report)
    assert {"sin_wx_times_x.jacrev", "w_tanh_x.jacrev", "sin_wx_times_x.jacfwd == jacrev"} <= failed
    # Gradients (one output row) and jacfwd do not go through the faulty jacrev.
    assert not {"sin_sum_sq.grad", "sin_wx_times_x.jacfwd", "exp_sin.jacrev"} & failed


def test_declared_unsupported_transform_raises_and_passes(tmp_path: Path) -> None:
    code, output, report = run_suite(
        "conformance_backends:WithoutJacfwd", tmp_path, "--multiad-device=cpu", pythonpath=str(PLUGINS)
    )
    # Conversions included: autograd's code raising inside f is this backend's own framework, not
    # a sign that f needs the 'autograd' backend (NOTE [Foreign framework code]).
    assert code == 0, output[-4000:]
    unsupported = [r for r in report["results"] if r.get("unsupported")]
    assert {"sin_wx_times_x.jacfwd", "sin_sum_sq.hessian == jacfwd(jacrev)"} <= {r["case"] for r in unsupported}
    assert all(r["unsupported"] == ["jacfwd"] and "UnsupportedOperationError" in r["reason"] for r in unsupported)


def test_declared_unsupported_jacrev_still_has_jacobians_and_hessians(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    rep = check_backend("conformance_backends:WithoutJacrev", devices="cpu")
    assert rep["summary"]["failed"] == 0, [r["reason"] for r in rep["results"] if r["status"] == "failed"][:3]
    by_case = {r["case"]: r for r in rep["results"]}
    # Declared: jacrev itself (and jacobian with mode=rev) raise as declared ...
    assert by_case["sin_wx_times_x.jacrev"]["unsupported"] == ["jacrev"]
    assert by_case["w_tanh_x.jacobian[mode=rev]"]["unsupported"] == ["jacrev"]
    # ... while jacobian(mode="auto") and Hessians are computed and compared.
    for case in ("w_tanh_x.jacobian[mode=auto]", "sin_sum_sq.hessian", "exp_sin.hessian"):
        assert by_case[case]["status"] == "passed" and not by_case[case].get("unsupported"), by_case[case]
        assert by_case[case]["max_abs_err"] is not None


def test_xfails_excuse_only_the_named_failure(tmp_path: Path) -> None:
    xfails = tmp_path / "xfails.txt"
    xfails.write_text(
        "# known problems: ITEM-ID-PATTERN EXPECTED\n"
        "w_tanh_x?empty_x?.vjp-cpu-float64 cannot differentiate with respect to an empty array\n"
        "w_tanh_x?empty_x?.jvp-cpu-float64 ZeroDivisionError\n"
        "exp_sin.grad-cpu-float64 ValueError\n"
    )
    select = "(empty_x and (vjp or jvp)) or (exp_sin and grad and not value and not third)"
    code, output, report = run_suite(
        "conformance_backends:RaisesOnEmpty", tmp_path, "--multiad-device=cpu", f"--multiad-xfails={xfails}",
        "-k", select, pythonpath=str(PLUGINS),
    )  # fmt: skip
    assert code == 1, output[-4000:]
    status = {r["case"]: r for r in report["results"]}
    # The named failure is expected; another failure of the same item is not.
    assert status["w_tanh_x[empty_x].vjp"]["status"] == "xfailed"
    assert status["w_tanh_x[empty_x].jvp"]["status"] == "failed"
    assert "failed otherwise than expected ('ZeroDivisionError'" in status["w_tanh_x[empty_x].jvp"]["reason"]
    # An entry for an item that passes is stale: XPASS, which fails certification.
    assert status["exp_sin.grad"]["status"] == "xpassed" and "XPASS" in status["exp_sin.grad"]["reason"]
    assert report["summary"]["xpassed"] == 1 and report["summary"]["xfailed"] == 1
    assert "XPASS: expected to fail" in output


def test_xfails_never_excuse_wrong_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The same entries that once made a gradient scaled by 1.001 "certify" now leave it failed.
    xfails = tmp_path / "xfails.txt"
    xfails.write_text("*.grad* off by\n*.grad* result vs closed form\n")
    monkeypatch.syspath_prepend(str(PLUGINS))
    plain = check_backend("conformance_backends:ScaledGradient", devices="cpu")
    wrong = {r["id"] for r in plain["results"] if r["transform"] == "grad" and r.get("failure") == "values"}
    assert len(wrong) >= 5
    rep = check_backend("conformance_backends:ScaledGradient", devices="cpu", xfails=str(xfails))
    for r in rep["results"]:
        if r["id"] in wrong:
            assert r["status"] == "failed" and "a value mismatch is never an expected failure" in r["reason"], r


def test_xfails_entry_needs_an_expected_failure(tmp_path: Path) -> None:
    xfails = tmp_path / "xfails.txt"
    xfails.write_text("exp_sin.grad-cpu-float64\n")
    code, output, _ = run_suite("autograd", tmp_path, "--multiad-device=cpu", f"--multiad-xfails={xfails}")
    assert code != 0 and "give the expected failure" in output


#: Deliberately broken backends (tests/plugins/conformance_backends.py) and cases that must fail.
BROKEN = {
    "AliasedOnce": {"sum_sin_a_times_b.grad[argnums=(0, 1)](x, x)", "two_args_vector.jacfwd[argnums=(0, 1)](x, x)"},
    "FirstChunkOnly": {"w_tanh_x.jacfwd[chunk_size=1]", "w_tanh_x.jacfwd[chunk_size=3]",
                       "two_args_vector.jacfwd[argnums=(0, 1),chunk_size=4]"},
    "AccumulatingPullback": {"sin_wx_times_x.pullback_twice", "sin_wx_times_x.vmap(pullback)",
                             "sin_sum_sq.vmap(pullback)"},
    "RaisesOnEmpty": {"w_tanh_x[empty_x].vjp", "sum_sin[empty_x].grad"},
    "RaveledZeroD": {"exp_sin.grad", "sin_x_times_v[0d_x].vjp"},
    "NoneForIndependent": {"tanh_w[const].vjp", "sum_w_sq[const].grad"},
    "Float64Gradients": {"test_float32_derivatives_stay_float32"},
    "IgnoresJvpRules": {"custom.surrogate_floor.grad", "custom.surrogate_floor.jvp", "custom.surrogate_floor.hessian"},
    "OneGradientShort": {"test_primitives_keep_the_flat_contract", "sum_sin_a_times_b.grad[argnums=(0, 1)](x, x)"},
    "TracedFwd": {"custom.solver_in_fwd.grad", "custom.solver_in_fwd.jacrev"},
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_backend_fails(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    rep = check_backend(f"conformance_backends:{name}", devices="cpu")
    failed = _failed_cases(rep)
    assert BROKEN[name] <= failed, sorted(BROKEN[name] - failed)
    # The same broken backend passes what it does not break: the suite localizes the fault.
    assert any(r["status"] == "passed" and r["family"] == "vmap" for r in rep["results"])


def test_contract_item_names_the_primitive_at_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    rep = check_backend("conformance_backends:OneGradientShort", devices="cpu")
    (rec,) = [r for r in rep["results"] if r["case"] == "test_primitives_keep_the_flat_contract"]
    assert rec["status"] == "failed"
    assert "vjp's pullback((u, w)) (one gradient per primal): expected a tuple of 2 arrays, got 1" in rec["reason"]


def test_float64_gradients_fail_a_float64_only_run(tmp_path: Path) -> None:
    # The command the docs give (float64 only) still fails a backend that upcasts, and the
    # report says why in the check's own words.
    code, output, report = run_suite(
        "conformance_backends:Float64Gradients", tmp_path, "--multiad-device=cpu", "-k", "test_contract",
        pythonpath=str(PLUGINS),
    )  # fmt: skip
    assert code == 1, output[-2000:]
    (rec,) = [r for r in report["results"] if r["status"] == "failed"]
    assert rec["family"] == "contract" and rec["case"] == "test_float32_derivatives_stay_float32"
    assert "grad of float32 inputs gave float64" in rec["reason"], rec["reason"]


def test_conversion_that_drops_the_derivative_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    from conformance_backends import drops_conversions
    from multiad_autograd import AutogradBackend

    monkeypatch.setattr(AutogradBackend, "to_numpy", lambda self, x: drops_conversions(x))
    rep = check_backend("autograd", devices="cpu")
    conv = [r for r in rep["results"] if r["case"].startswith("sum_x_times_to_numpy_x.")]
    assert conv and all(r["status"] == "failed" and r["failure"] == "dropped" for r in conv)
    assert all("dropped the derivative" in r["reason"] for r in conv)


def test_numpy_conversion_that_drops_the_derivative_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # numpy.asarray(x) of a MyGrad tensor returns its values without asking, as TensorFlow's
    # eager tensors do: grad of sum(x * np.asarray(x)) then gives x instead of 2 x, no error.
    _mygrad(monkeypatch)
    rep = check_backend("multiad_mygrad:MygradBackend", devices="cpu", compiled="none")
    conv = {r["case"]: r for r in rep["results"] if r["case"].startswith("sum_x_times_np_asarray_x.")}
    assert {"sum_x_times_np_asarray_x.grad", "sum_x_times_np_asarray_x.vjp"} <= set(conv), sorted(conv)
    for case in ("sum_x_times_np_asarray_x.grad", "sum_x_times_np_asarray_x.vjp"):
        assert conv[case]["status"] == "failed" and conv[case]["failure"] == "dropped", conv[case]
        assert "dropped the derivative" in conv[case]["reason"]


# -- the MyGrad plugin: a framework the core knows nothing about ---------------------------------


def test_mygrad_plugin_is_installed_and_certified(tmp_path: Path) -> None:
    target = install("multiad-mygrad", tmp_path)
    xfails = f"--multiad-xfails={XFAILS / 'mygrad.txt'}"
    code, output, report = run_suite("mygrad", tmp_path, "--multiad-device=cpu", xfails, pythonpath=str(target))
    assert code == 0, output[-4000:]
    s = report["summary"]
    assert s["failed"] == 0 and s["xpassed"] == 0 and s["passed"] >= 140 and s["xfailed"] == 7
    assert report["backend"]["distribution"] == "multiad-mygrad"
    # docs/plugins.md ends with this run's result.
    line = f"{s['passed']} passed, {s['xfailed']} xfailed"
    assert f"```text\n{line}\n```" in (PLUGINS.parent.parent / "docs" / "plugins.md").read_text(), line
    unsupported = {r["transform"] for r in report["results"] if r.get("unsupported")}
    assert {"jvp", "jacfwd", "linearize", "hessian", "hvp", "vhp"} <= unsupported  # raised as declared
    # The families that catch wrong backends ran and passed on it.
    for family in ("aliased primals", "chunk_size", "pullbacks", "empty and 0-d", "conversions", "constant outputs"):
        assert any(r["family"] == family and r["status"] == "passed" for r in report["results"]), family


def _mygrad(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    monkeypatch.syspath_prepend(str(PLUGINS / "multiad-mygrad"))


def test_mygrad_with_tensorflow_device_strings_is_certified(monkeypatch: pytest.MonkeyPatch) -> None:
    _mygrad(monkeypatch)
    rep = check_backend("mygrad_variants:TensorFlowDevices", devices="cpu,cuda", xfails=str(XFAILS / "mygrad.txt"))
    assert rep["summary"]["failed"] == 0 and rep["summary"]["passed"] >= 140, rep["summary"]
    cuda = [r for r in rep["results"] if r["device"] == "cuda"]
    assert cuda and all(r["status"] == "skipped" and "/job:localhost" in r["reason"] for r in cuda)


#: Broken variants of the MyGrad plugin (tests/plugins/mygrad_variants.py) and cases that must fail.
MYGRAD_BROKEN = {
    "AliasedOnce": {"sum_sin_a_times_b.grad[argnums=(0, 1)](x, x)", "sum_sin_a_times_b.vjp(x, x)"},
    "TracedOnce": {"sin_wx_times_x.pullback_twice", "sin_wx_times_x.vmap(pullback)", "sin_wx_times_x.jacrev"},
    "DropsConversions": {"sum_x_times_to_numpy_x.grad", "sum_x_times_to_numpy_x.vjp"},
    "NoneForIndependent": {"tanh_w[const].vjp", "sum_w_sq[const].grad"},
    "FirstChunkOnly": {"w_tanh_x.jacrev[chunk_size=1]", "w_tanh_x.jacrev[chunk_size=2]",
                       "two_args_vector.jacrev[argnums=(0, 1),chunk_size=2]"},
    "RaveledZeroD": {"exp_sin.grad", "sin_x_times_v[0d_x].vjp"},
    "RaisesOnEmpty": {"w_tanh_x[empty_x].vjp", "sum_sin[empty_x].grad"},
    "ScaledGradient": {"sin_sum_sq.grad", "sin_wx_times_x.vjp"},
    "LogDerivativeWrong": {"numpy_operations.vjp", "numpy_operations.jacrev"},
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(MYGRAD_BROKEN))
def test_broken_mygrad_variant_is_not_certified(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _mygrad(monkeypatch)
    # With the certified plugin's own known failures: they excuse none of these defects.
    rep = check_backend(f"mygrad_variants:{name}", devices="cpu", xfails=str(XFAILS / "mygrad.txt"))
    failed = _failed_cases(rep)
    assert MYGRAD_BROKEN[name] <= failed, sorted(MYGRAD_BROKEN[name] - failed)


# -- a minimal plugin over torch.autograd.grad (tests/plugins/torch_grad_backends.py) ------------


def test_minimal_torch_autograd_grad_plugin_is_certified(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only a vjp: every other transform is derived by the core, in float64 and float32. The
    # plugin tells nested calls by a per-thread depth: TorchGrad, which asks only whether its
    # primals require grad, detaches the results of a vjp whose function closes over an outer
    # level's tensors (the vjp of a pullback that forward mode is derived as), so reverse mode
    # through jvp gave zeros (NOTE [Reverse over forward]).
    monkeypatch.syspath_prepend(str(PLUGINS))
    spec = "torch_grad_backends:ThreadLocalDepth"
    rep = check_backend(spec, devices="cpu", dtypes="float64,float32", compiled="none")
    assert rep["summary"]["failed"] == 0, [(r["id"], r["reason"]) for r in rep["results"] if r["status"] == "failed"]
    primals_only = check_backend("torch_grad_backends:TorchGrad", devices="cpu", dtypes="float64", compiled="none")
    failed = {r["case"] for r in primals_only["results"] if r["status"] == "failed"}
    # (the chunked Jacobians inside grad include jacfwd inside grad: reverse over forward too)
    nested = "test_chunked_jacobians_inside_an_enclosing_transform"
    assert failed and all("jvp" in c or "jacfwd" in c or c == nested for c in failed), sorted(failed)
    assert {"sin_sum_sq.grad(jvp)", "sin_sum_sq.jacrev(jacfwd)"} <= failed, sorted(failed)
    # float(x) inside f: refused by the plugin's function mode, where torch only warns.
    floats = [r for r in rep["results"] if r["case"].startswith("sum_x_times_float_sum_x.")]
    assert floats and all("NonDifferentiableError" in r.get("raised", "") for r in floats)
    ran = {r["transform"] for r in rep["results"] if r["status"] == "passed"}
    assert {"jvp", "jacfwd", "hessian", "hvp", "vhp", "linearize", "vmap"} <= ran


@pytest.mark.parametrize("name", ["SharedDepth", "ThreadLocalDepth"])
def test_nesting_state_shared_by_threads_fails(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    rep = check_backend(f"torch_grad_backends:{name}", devices="cpu", compiled="none")
    (rec,) = [r for r in rep["results"] if r["case"] == "test_calls_from_two_threads"]
    failed = _failed_cases(rep)
    if name == "ThreadLocalDepth":  # the same state kept per thread: certified
        assert not failed, failed
        return
    # Right in every single-threaded case: only the item with two threads sees it.
    assert failed == {"test_calls_from_two_threads"}, failed
    assert "thread B's grad, with hessian in thread A and grad in thread B" in rec["reason"], rec["reason"]
    assert "threading.local" in rec["reason"]


def test_aux_left_attached_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    rep = check_backend("torch_grad_backends:AuxAttached", devices="cpu", compiled="none")
    (rec,) = [r for r in rep["results"] if r["case"] == "test_primitives_keep_the_flat_contract"]
    assert rec["status"] == "failed"
    assert rec["reason"].startswith(
        "AssertionError: vjp's aux['twice'] (aux is returned as computed, holding no traced"
    ), rec["reason"]
    assert "aux_vector.jacrev" in _failed_cases(rep)


def test_forward_only_plugin_is_certified(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # has_jvp without has_vjp is a valid declaration: the transforms that need reverse mode are
    # refused by it, and the suite counts them as declared (NOTE [Declared without has_vjp]).
    monkeypatch.syspath_prepend(str(PLUGINS))
    xfails = tmp_path / "forward_only.txt"  # float() and item() of a torch.func dual tensor drop the tangent
    xfails.write_text(
        "sum_x_times_float_sum_x.jvp-* dropped the derivative\n"
        "sum_x_times_sum_x_item.jvp-* dropped the derivative\n"
        "sum_x_times_sum_x_tolist.jvp-* dropped the derivative\n"
    )
    rep = check_backend("torch_grad_backends:ForwardOnly", devices="cpu", compiled="none", xfails=str(xfails))
    assert rep["summary"]["failed"] == 0, [(r["id"], r["reason"]) for r in rep["results"] if r["status"] == "failed"]
    refused = {r["transform"] for r in rep["results"] if r.get("unsupported")}
    assert {"grad", "vjp", "jacrev", "hessian", "hvp", "vhp"} <= refused
    ran = {r["transform"] for r in rep["results"] if r["status"] == "passed" and not r.get("unsupported")}
    assert {"jvp", "jacfwd", "linearize", "vmap"} <= ran


def test_input_marked_as_traced_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    # The inputs convert before the call and raise after it: a failed item each, not a report
    # that never comes because the check itself raised.
    monkeypatch.syspath_prepend(str(PLUGINS))
    rep = check_backend("torch_grad_backends:MarksCallersTensor", devices="cpu", compiled="none")
    (rec,) = [r for r in rep["results"] if r["id"] == "exp_sin.grad-cpu-float64"]
    assert rec["status"] == "failed"
    assert rec["reason"].startswith("input leaf 0 was changed by the call: to_numpy converted it before"), rec["reason"]


def test_is_array_rejecting_traced_values_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    # The cases fail with multiad's error for f returning another framework's arrays; the
    # contract item says which declaration is at fault.
    monkeypatch.syspath_prepend(str(PLUGINS))
    rep = check_backend("torch_grad_backends:RejectsTraced", devices="cpu", compiled="none")
    (rec,) = [r for r in rep["results"] if r["case"] == "test_primitives_keep_the_flat_contract"]
    assert rec["reason"].startswith("AssertionError: is_array rejects Tensor, which the primitives pass to fun"), rec[
        "reason"
    ]
