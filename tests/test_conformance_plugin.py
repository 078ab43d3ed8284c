"""The conformance suite as a plugin author meets it: an installed third-party backend is
discovered through its entry point and passes; deliberately wrong backends fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from test_conformance_backends import run_suite

PLUGINS = Path(__file__).resolve().parent / "plugins"


def test_example_plugin_is_discovered_and_passes(tmp_path: Path) -> None:
    # Build from a copy so that the build leaves nothing (build/, *.egg-info) in the source tree.
    src = tmp_path / "multiad-example"
    shutil.copytree(PLUGINS / "multiad-example", src)
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--target", str(target)]
    proc = subprocess.run([*pip, "-q", str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
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
    assert code == 0, output[-4000:]
    unsupported = [r for r in report["results"] if r.get("unsupported")]
    assert {"sin_wx_times_x.jacfwd", "sin_sum_sq.hessian == jacfwd(jacrev)"} <= {r["case"] for r in unsupported}
    assert all(r["unsupported"] == ["jacfwd"] and "UnsupportedOperationError" in r["reason"] for r in unsupported)


def test_xfails_file_marks_known_failures(tmp_path: Path) -> None:
    xfails = tmp_path / "xfails.txt"
    xfails.write_text(
        "# known problems\n"
        "exp_sin.grad-cpu-float64 gradients are scaled by 1.001 on purpose\n"
        "three_args_scalar.grad*-cpu-float64 the same, for several arguments\n"
    )
    select = "grad and (exp_sin or three_args_scalar) and not value_and_grad and not third"
    code, output, report = run_suite(
        "conformance_backends:ScaledGradient", tmp_path, "--multiad-device=cpu", f"--multiad-xfails={xfails}",
        "-k", select, pythonpath=str(PLUGINS),
    )  # fmt: skip
    assert code == 0, output[-4000:]
    xfailed = {r["case"]: r["reason"] for r in report["results"] if r["status"] == "xfailed"}
    assert xfailed["exp_sin.grad"] == "gradients are scaled by 1.001 on purpose"
    assert xfailed["three_args_scalar.grad[argnums=1]"] == "the same, for several arguments"
    assert len(xfailed) == 4 and report["summary"]["passed"] == 0

    # An entry for an item that passes is stale: strict xfail turns it into a failure.
    code, output, report = run_suite(
        "autograd", tmp_path, "--multiad-device=cpu", f"--multiad-xfails={xfails}", "-k", "exp_sin and grad"
    )
    assert code == 1, output[-2000:]
    assert report["summary"]["xpassed"] == 0 and report["summary"]["failed"] >= 1
