"""Every name of multiad.numpy on every backend against numpy itself.

One test item per name runs all four backends over the argument forms of ``numpy_specs``:
values against numpy's for every form, then, for the first differentiable form (on smooth points,
broadcasting where the name broadcasts), first derivatives by reverse mode and second derivatives
by forward over reverse (``jvp`` of ``grad``, one pass giving both), against central finite
differences of numpy's own function along a random direction; an array inside a list argument
(``stack``'s) is differentiated in place in the list. The numpy backend checks values
and first derivatives (its own derivatives are finite differences). Names numpy has and
multiad.numpy lacks must be listed in ``mnp.ABSENT`` with a reason; names with a known gap on
one backend are in ``GAPS``, and an entry whose gap is closed fails the test.
"""

from __future__ import annotations

import contextlib
import functools
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS
from numpy_specs import SPECS, C

import multiad
import multiad.numpy as mnp

# (name, backend) pairs whose derivatives are known wrong or missing (values are still compared),
# with the reason. Keep this short: an entry whose derivatives are right fails the test.
GAPS: dict[tuple[str, str], str] = {}

# Decompositions whose vectors are defined up to sign: compared through sign-free squares.
SIGN_FREE = {"linalg.svd", "linalg.eigh", "linalg.eig", "linalg.qr"}
# Functions of symmetric matrices read one triangle; every framework differentiates them as
# functions of symmetric matrices, so they are compared along symmetric directions.
SYMMETRIC = {"linalg.cholesky", "linalg.eigh", "linalg.eigvalsh"}
NOT_NUMPY: dict[str, Callable[..., Any]] = {
    "stop_gradient": lambda x: x,
    "astype": lambda x, dtype: x.astype(dtype),
}
CONSTANTS = {"pi", "e", "inf", "nan", "euler_gamma", "newaxis", "ABSENT", "linalg", "r_", "c_"}
QUERIES = {"shape", "ndim", "size"}  # return Python ints, tested in test_numpy_semantics
DTYPE_INFO = {"finfo", "iinfo"}  # numpy's answers about dtypes, tested in test_numpy_dtype_names
CREATION = {"logspace", "zeros", "ones", "empty", "full", "eye", "identity", "tri", "arange", "linspace", "empty_like"}


def _resolve(module: Any, name: str) -> Any:
    obj = module
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _leaves(out: Any) -> list[Any]:
    if isinstance(out, (tuple, list)) or type(out).__name__ == "SequenceBox":
        return [leaf for o in out for leaf in _leaves(o)]
    return [out]


def _sign_free(name: str, leaves: list[Any]) -> list[Any]:
    return [mnp.multiply(v, v) for v in leaves] if name in SIGN_FREE else leaves


def _to_backend(x: Any, backend: str) -> Any:
    if isinstance(x, np.ndarray):
        return multiad.asarray(x, backend=backend)
    return x


def _close(got: Any, want: Any, what: str, rtol: float = 1e-9, atol: float = 1e-12) -> None:
    g = np.asarray(multiad.to_numpy(got))
    w = np.asarray(want)
    assert g.shape == w.shape, f"{what}: shape {g.shape}, numpy {w.shape}"
    if w.dtype == bool or np.issubdtype(w.dtype, np.integer):
        assert g.dtype.kind == w.dtype.kind, f"{what}: dtype {g.dtype}, numpy {w.dtype}"
        np.testing.assert_array_equal(g, w, err_msg=what)
    else:
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=what)


def _weights(want_leaves: list[Any], seed: int) -> list[np.ndarray | None]:
    r = np.random.default_rng(seed)
    out: list[np.ndarray | None] = []
    for w in want_leaves:
        a = np.asarray(w)
        out.append(r.uniform(0.5, 1.5, a.shape) if np.issubdtype(a.dtype, np.floating) else None)
    return out


def _arg(args: Any, p: int | tuple[int, int]) -> Any:
    return args[p] if isinstance(p, int) else args[p[0]][p[1]]


def _check_derivatives(name: str, backend: str, call: C, ref: Callable[..., Any], fn: Callable[..., Any]) -> None:
    pos = call.diff
    primals = [np.asarray(_arg(call.args, p), dtype=float) for p in pos]
    r = np.random.default_rng(len(name))
    dirs = [r.uniform(-1.0, 1.0, p.shape) for p in primals]
    if name in SYMMETRIC:
        dirs = [(d + np.swapaxes(d, -1, -2)) / 2 for d in dirs]
    weights = _weights([np.asarray(v) for v in _sign_free(name, _leaves(ref(*call.args, **call.kwargs)))], 1)

    def with_args(dargs: tuple[Any, ...], conv: Callable[[Any], Any]) -> list[Any]:
        # list arguments holding a differentiated array are copied (as lists), then filled in
        args = [
            list(a) if any(isinstance(p, tuple) and p[0] == i for p in pos) else conv(a)
            for i, a in enumerate(call.args)
        ]
        for p, d in zip(pos, dargs, strict=True):
            if isinstance(p, int):
                args[p] = d
            else:
                args[p[0]][p[1]] = d
        return args

    def f_np(*dargs: Any) -> float:
        out = _sign_free(name, _leaves(ref(*with_args(dargs, lambda a: a), **call.kwargs)))
        return float(sum(np.sum(np.asarray(o) * w) for o, w in zip(out, weights, strict=True) if w is not None))

    def f_mnp(*dargs: Any) -> Any:
        out = _sign_free(name, _leaves(fn(*with_args(dargs, lambda a: _to_backend(a, backend)), **call.kwargs)))
        terms = [mnp.sum(mnp.multiply(o, w)) for o, w in zip(out, weights, strict=True) if w is not None]
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total

    def shifted(h: float) -> list[np.ndarray]:
        return [p + h * d for p, d in zip(primals, dirs, strict=True)]

    h1, h2 = 1e-6, 1e-4
    d1 = (f_np(*shifted(h1)) - f_np(*shifted(-h1))) / (2 * h1)
    d2 = (f_np(*shifted(h2)) - 2 * f_np(*primals) + f_np(*shifted(-h2))) / (h2 * h2)
    what = f"mnp.{name}{call} on {backend}"
    tol1 = 1e-4 if backend == "numpy" else 1e-6
    grad_f = multiad.grad(f_mnp, argnums=tuple(range(len(pos))), backend=backend)
    if backend == "numpy":
        g, hv = grad_f(*primals), None
    else:  # forward over reverse: the gradient and the Hessian-vector product in one pass
        g, hv = multiad.jvp(grad_f, tuple(primals), tuple(dirs), backend=backend)
    got1 = sum(float(np.sum(multiad.to_numpy(gi) * d)) for gi, d in zip(g, dirs, strict=True))
    np.testing.assert_allclose(got1, d1, rtol=tol1, atol=tol1, err_msg=f"grad of {what}")
    if hv is None:
        return
    got2 = sum(float(np.sum(multiad.to_numpy(hi) * d)) for hi, d in zip(hv, dirs, strict=True))
    np.testing.assert_allclose(got2, d2, rtol=1e-4, atol=1e-4, err_msg=f"hvp of {what}")


def _eager(backend: str) -> Any:
    """JAX runs op by op here: jax.numpy's functions are jitted, and compiling each of them for
    each name's shapes and transforms was most of this test's time, while compiled primitives
    are shared between names. Values and derivatives are the same either way (this test
    checks numpy's semantics and derivatives, not tracing under jax.jit)."""
    if backend != "jax":
        return contextlib.nullcontext()
    import jax

    return jax.disable_jit()


@pytest.mark.parametrize("name", sorted(SPECS))
def test_name_matches_numpy_on_every_backend(name: str) -> None:
    ref = NOT_NUMPY.get(name) or _resolve(np, name)
    fn = _resolve(mnp, name)
    failures = []
    for backend in BACKENDS:
        checked = False  # derivatives of the first differentiable form (values of all forms)
        for call in SPECS[name]:
            try:
                with warnings.catch_warnings(), _eager(backend):
                    warnings.simplefilter("ignore")
                    want = ref(*call.args, **call.kwargs)
                    got = fn(*[_to_backend(a, backend) for a in call.args], **call.kwargs)
                    gl, wl = _leaves(got), _leaves(want)
                    assert len(gl) == len(wl), f"{len(gl)} outputs, numpy {len(wl)}"
                    for i, (a, b) in enumerate(zip(_sign_free(name, gl), _sign_free(name, wl), strict=True)):
                        _close(a, b, f"mnp.{name} output {i}")
                    if call.diff and not checked:
                        checked = True
                        if (name, backend) not in GAPS:
                            _check_derivatives(name, backend, call, ref, fn)
                        elif _passes(functools.partial(_check_derivatives, name, backend, call, ref, fn)):
                            raise AssertionError("derivatives are right now: remove the entry from GAPS")
            except Exception as exc:  # noqa: BLE001 - collect every backend's failure, then report them all
                failures.append(f"{backend}: {_describe(call)}: {type(exc).__name__}: {_first_line(exc)}")
    assert not failures, "\n".join(failures)


def _passes(check: Callable[[], None]) -> bool:
    try:
        check()
    except Exception:  # noqa: BLE001 - any failure means the gap is still there
        return False
    return True


def _describe(call: C) -> str:
    def one(a: Any) -> str:
        if isinstance(a, np.ndarray):
            return f"{a.dtype}{list(a.shape)}"
        return "list" if isinstance(a, list) else repr(a)

    kw = ", ".join(f"{k}={one(v)}" for k, v in call.kwargs.items())
    return f"({', '.join(one(a) for a in call.args)}{', ' + kw if kw else ''}) diff={call.diff}"


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    detail = [ln for ln in lines if ln.startswith(("Max absolute", "Mismatched"))]
    return " | ".join(lines[:1] + detail[:1])[:300]


def _numpy_names(module: Any) -> set[str]:
    return {
        n for n in dir(module) if not n.startswith("_") and not isinstance(getattr(module, n), (types.ModuleType, type))
    }


def test_every_numpy_name_is_present_or_listed_absent() -> None:
    missing = sorted((_numpy_names(np) - set(mnp.__all__)) - set(mnp.ABSENT))
    missing += sorted(
        f"linalg.{n}" for n in _numpy_names(np.linalg) - set(mnp.linalg.__all__) if f"linalg.{n}" not in mnp.ABSENT
    )
    assert not missing, f"numpy names neither in multiad.numpy nor in mnp.ABSENT: {missing}"
    listed_but_present = sorted(
        n for n in mnp.ABSENT if n in mnp.__all__ or n.removeprefix("linalg.") in mnp.linalg.__all__
    )
    assert not listed_but_present, listed_but_present


def test_every_exported_name_has_argument_forms() -> None:
    names = {n for n in mnp.__all__ if n not in CONSTANTS | QUERIES | CREATION | DTYPE_INFO}
    names -= {n for n in names if isinstance(getattr(mnp, n), type)}  # numpy's dtype names, numpy's own objects
    names |= {f"linalg.{n}" for n in mnp.linalg.__all__}
    assert not sorted(names - set(SPECS)), sorted(names - set(SPECS))


def test_docs_state_the_coverage_of_numpys_differentiable_names() -> None:
    from multiad.numpy._absent import WITH_DERIVATIVE

    main = _numpy_names(np)
    lin = {f"linalg.{n}" for n in _numpy_names(np.linalg)}
    present = {n for n in main if n in mnp.__all__} | {n for n in lin if n[7:] in mnp.linalg.__all__}
    counts = []
    for names in (main, lin):
        have = len(names & present)
        with_derivative = have + sum(1 for n in names - present if mnp.ABSENT[n] in WITH_DERIVATIVE)
        counts.append(f"{have} of the {with_derivative}")
    doc = (Path(__file__).parent.parent / "docs" / "api-numpy.md").read_text()
    text = " ".join(doc.split())
    assert f"**{counts[0]}** in numpy's main namespace and **{counts[1]}** in `numpy.linalg`" in text, counts


def test_a_user_subclass_of_a_tensor_runs_torch_code_under_every_transform() -> None:
    # Forward mode keeps the subclass of its inputs; multiad.numpy must still run torch code on it
    # (autoray names a class by the module that defines it).
    torch = pytest.importorskip("torch")

    class Sub(torch.Tensor):
        pass

    x = np.array([0.3, 0.7, -1.1])
    s = torch.tensor(x, dtype=torch.float64).as_subclass(Sub)
    np.testing.assert_allclose(multiad.to_numpy(multiad.jacfwd(mnp.sin)(s)), np.diag(np.cos(x)), rtol=1e-12)
    np.testing.assert_allclose(multiad.to_numpy(multiad.jacrev(mnp.sin)(s)), np.diag(np.cos(x)), rtol=1e-12)
    _, t = multiad.jvp(mnp.sin, (s,), (torch.ones(3, dtype=torch.float64),))
    np.testing.assert_allclose(multiad.to_numpy(t), np.cos(x), rtol=1e-12)
    h = multiad.hessian(lambda v: mnp.sum(mnp.sin(v)))(s)
    np.testing.assert_allclose(multiad.to_numpy(h), np.diag(-np.sin(x)), rtol=1e-12)


def test_an_absent_name_says_why() -> None:
    for module, name, reason in [
        (mnp, "searchsorted", ": integer-valued"),
        (mnp.linalg, "tensorinv", ": linalg: write them"),
        (mnp, "no_such_name", "$"),
    ]:
        with pytest.raises(AttributeError, match=rf"'{module.__name__}' has no attribute '{name}'{reason}"):
            getattr(module, name)
        assert not hasattr(module, name)


def test_an_absent_numpy_submodule_says_why() -> None:
    # mnp.fft raised a bare "module 'multiad.numpy' has no attribute 'fft'", where absent
    # functions (mnp.real, mnp.linalg.lstsq) give their reason.
    with pytest.raises(AttributeError, match=r"'multiad.numpy' has no attribute 'fft': numpy.fft: complex results"):
        mnp.fft  # noqa: B018 - the attribute access is the test
    submodules = {n for n in dir(np) if not n.startswith("_") and isinstance(getattr(np, n), types.ModuleType)}
    for name in sorted(submodules - {"linalg"}):
        with pytest.raises(AttributeError, match=rf"'multiad.numpy' has no attribute '{name}': \S"):
            getattr(mnp, name)


@pytest.mark.parametrize("module", [mnp, mnp.linalg], ids=["numpy", "linalg"])
def test_dir_lists_the_public_names(module: Any) -> None:
    # dir(multiad.numpy) listed its private modules (_dispatch, _fixes, ...) and typing helpers
    names = dir(module)
    assert names == sorted(module.__all__)
    assert not [n for n in names if n.startswith("_") or n in ("Any", "TYPE_CHECKING", "annotations")]
    assert all(hasattr(module, n) for n in names)
    assert "sum" in dir(mnp) and "linalg" in dir(mnp) and "norm" in dir(mnp.linalg)
