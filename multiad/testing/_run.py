"""Running conformance cases against a backend, and the report they produce.

The pytest modules in :mod:`multiad.conformance` and :func:`check_backend` share this code:
:func:`plan` lists the items (case x device x dtype, each also under the backend's declared
compiler, ``Backend.compiler``) with the reason an item cannot run, and :func:`run_item` runs
one and returns its result record.
"""

from __future__ import annotations

import dataclasses
import platform
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

import multiad

from .. import _select
from .._backend import Backend
from .._errors import UnsupportedOperationError
from .._info import capabilities
from .._version import __version__
from . import _custom_cases, _device, _spec, _trees, _xfail
from ._suite import CASES, Case, inputs_as
from ._tolerance import Tolerance, tolerance
from ._xfail import XFail

SCHEMA = 1
DTYPES = ("float64", "float32")
#: ``--multiad-compile``: every case also compiled, the first case of each family, or none.
COMPILE_MODES = ("all", "sample", "none")


@dataclasses.dataclass(frozen=True)
class Item:
    """One case on one device in one dtype, under the backend's compiler (``jit``) or not."""

    case: Case
    device: str
    dtype: str
    jit: bool = False
    skip: str | None = None
    xfail: XFail | None = None

    @property
    def id(self) -> str:
        return f"{self.case.id}-{self.device}-{self.dtype}" + ("-compiled" if self.jit else "")


def _dtype_reason(b: Backend, dtype: str, device: str) -> str | None:
    try:
        x = b.asarray(np.zeros(2), dtype=dtype, device=_device.placement(b, device))
    except Exception as exc:  # noqa: BLE001 - reported as the reason
        return f"backend {b.name!r} cannot make {dtype} arrays on {device}: {type(exc).__name__}: {exc}"
    got = b.dtype_name(x)
    if got != dtype:
        hint = " (the suite called its enable_float64(); does the backend implement it?)" if dtype == "float64" else ""
        return f"backend {b.name!r} makes {got} arrays when asked for {dtype}{hint}"
    return None


def plan(
    b: Backend,
    devices: Sequence[str],
    dtypes: Sequence[str],
    cases: Iterable[Case] = CASES,
    xfails: Sequence[XFail] = (),
    compiled: str = "all",
) -> list[Item]:
    """Every item to run, each with the reason it must be skipped, if any, and its xfails entry.
    ``compiled`` (one of :data:`COMPILE_MODES`) says which cases also run under ``b.compiler``."""
    cases = list(cases)
    which = _compiled_cases(b, cases, compiled)
    env: dict[tuple[str, str], str | None] = {}
    for device in devices:
        for dtype in dtypes:
            env[device, dtype] = _device.available(b, device) or _dtype_reason(b, dtype, device)
    items = []
    for case in cases:
        for device in devices:
            for dtype in dtypes:
                for jit in (False, True) if case.id in which else (False,):
                    tol = tolerance(b.exact, dtype, device, case.order)
                    reason = env[device, dtype] or (tol if isinstance(tol, str) else None)
                    if reason is None and jit and case.fn.concrete:
                        reason = (
                            f"Python control flow on values needs concrete arrays; {b.compiler} traces abstract ones"
                        )
                    item = Item(case, device, dtype, jit, reason)
                    items.append(dataclasses.replace(item, xfail=_xfail.find(item.id, list(xfails))))
    return items


def _compiled_cases(b: Backend, cases: list[Case], mode: str) -> set[str]:
    if mode not in COMPILE_MODES:
        raise ValueError(f"--multiad-compile: expected one of {COMPILE_MODES}, got {mode!r}")
    if not b.compiler or mode == "none":
        return set()
    if mode == "all":
        return {c.id for c in cases}
    first: dict[str, str] = {}
    for c in cases:
        first.setdefault(c.family, c.id)
    return set(first.values())


# NOTE [Structures made inside the compiled function]: a compiled case must be one program, as
# users compile theirs. Under torch 2.13 it was not: the harness rebuilt the arguments inside the
# compiled function with a treespec made outside it, which Dynamo's optree polyfill refuses
# ("Expected `treespec` to be an instance of PyTreeSpec"), and every case split its inputs by
# drawing them again (numpy's generator, zlib.crc32): Dynamo skipped the whole function and
# compiled the frames below it one by one, some inside torch.func's transforms, where they see
# wrapped tensors. Which frames, and with which (automatically dynamic) shapes, depended on the
# cases compiled before, since the harness's and multiad's code objects are shared: the compiled
# w_tanh_x.jacfwd[chunk_size=k] cases failed in a run of all compiled cases ("Cannot access
# storage of TensorWrapper") and passed alone. The structure is now made inside the function
# from a template of placeholders, and :class:`_fns.Fn` counts its inputs once, when defined.
class _Slot:
    """A leaf's place in a template structure (NOTE [Structures made inside the compiled function])."""


_SLOT = _Slot()


def _compiled(b: Backend, g: Callable[..., Any]) -> Callable[..., Any]:
    """``g`` under the backend's compiler; pytrees cross the boundary as flat leaves (multiad's
    registry knows containers, such as registered dataclasses, that a framework's may not)."""

    def call(*xs: Any) -> Any:
        leaves, in_spec = _trees.leaves(xs), _trees.structure(xs)
        out_spec: list[Any] = []
        # NOTE [Structures made inside the compiled function]
        template = _trees.unflatten(in_spec, [_SLOT] * len(leaves))

        def flat(*ls: Any) -> list[Any]:
            out = g(*_trees.unflatten(_trees.structure(template), list(ls)))
            out_spec[:] = [_trees.structure(out)]
            return _trees.leaves(out)

        result = b.compile(flat)(*leaves)
        return _trees.unflatten(out_spec[0], list(result))

    return call


#: Why a result that ``is_traced`` calls traced fails, and the fix (NOTE [Results outside transforms]).
ATTACHED = (
    "is still traced (is_traced says so) though the transform returned it to its caller, outside any "
    "transform: results returned at the top level must be detached from the framework's trace (torch: "
    "detach() the outputs and the pullback's gradients unless an enclosing transform of the backend is "
    "evaluating its function)"
)


# NOTE [Results outside transforms]: a transform called outside any other returns concrete arrays;
# a backend that returns them still attached to its trace (a torch tensor that requires grad) fails
# every case anyway, as to_numpy refuses them, but that error names the conversion, not the
# cause. So a result leaf that the backend's own is_traced calls traced is named as such.
def _traced(b: Backend, x: Any) -> bool:
    """Whether the backend calls ``x`` traced; False where is_traced cannot answer."""
    try:
        return bool(b.is_array(x) and b.is_traced(x))
    except Exception:  # noqa: BLE001 - a backend's is_traced failing on a result is not this check's concern
        return False


def _compare(
    b: Backend, actual: Any, expected: Any, tol: Tolerance, what: str, float64: bool = False,
    rows: Callable[[int, int], str | None] | None = None,
) -> tuple[list[str], float, float]:  # fmt: skip
    """Problems found, and the largest absolute and (normwise) relative errors; ``float64``: the
    item's dtype, whose results are named when they hold float32 numbers only; ``rows``: the
    function's name for row ``r`` of a leaf of ``n`` rows (:attr:`Fn.rows`), given where the
    error is largest."""
    s_act, s_exp = _trees.structure(actual), _trees.structure(expected)
    if s_act != s_exp:
        return [f"{what}: result structure {s_act} differs from the expected {s_exp}"], float("nan"), float("nan")
    problems, max_abs, max_rel = [], 0.0, 0.0
    for i, (a, e) in enumerate(zip(_trees.leaves(actual), _trees.leaves(expected))):
        try:
            a_np = np.asarray(b.to_numpy(a) if b.is_array(a) else a, dtype=np.float64)
            e_np = np.asarray(b.to_numpy(e) if b.is_array(e) else e, dtype=np.float64)
        except Exception as exc:  # noqa: BLE001 - a result that cannot be read is a failure
            attached = f" (it {ATTACHED})" if _traced(b, a) else ""
            problems.append(f"{what}: leaf {i} cannot be converted to numpy: {type(exc).__name__}: {exc}{attached}")
            max_abs = max_rel = float("inf")
            continue
        if a_np.shape != e_np.shape:
            problems.append(f"{what}: leaf {i} has shape {a_np.shape}, expected {e_np.shape}")
            continue
        if not np.all(np.isfinite(a_np)):
            problems.append(f"{what}: leaf {i} has non-finite values")
            max_abs = max_rel = float("inf")
            continue
        err = float(np.max(np.abs(a_np - e_np))) if a_np.size else 0.0
        scale = float(np.max(np.abs(e_np))) if e_np.size else 0.0
        rel = err / scale if scale > 0 else (0.0 if err == 0 else float("inf"))
        max_abs, max_rel = max(max_abs, err), max(max_rel, rel)
        if err > tol.atol + tol.rtol * scale:
            at = np.unravel_index(int(np.argmax(np.abs(a_np - e_np))), a_np.shape) if a_np.ndim else ()
            named = rows(int(at[0]), a_np.shape[0]) if rows is not None and at else None
            problems.append(
                f"{what}: leaf {i} (shape {a_np.shape}) is off by {err:.3g} (relative {rel:.3g}); "
                f"allowed {tol.atol:g} + {tol.rtol:g} * {scale:.3g}"
                + (f", most at row {at[0]}: {named}" if named else "")
                + (ZEROS if not np.any(a_np) else ROUNDED if float64 and _rounded(a_np, e_np, rel) else "")
            )
    return problems, max_abs, max_rel


#: Why a float64 result holding float32 numbers only fails (NOTE [Float64 precision] in _fns.py).
ROUNDED = (
    ": its values are all float32 numbers, the closed form's are not: float64 derivatives computed "
    "through float32 (a float32 cast or constant, or the framework's float32 default dtype, inside "
    "the backend's primitives)"
)


#: Why an all-zero result fails: a zero is a float32 number too, so it was called rounding.
ZEROS = ": the result is all zeros (a derivative dropped, or detached from the primals?)"


def _rounded(actual: np.ndarray, expected: np.ndarray, rel: float) -> bool:
    """Whether ``actual`` holds float32 numbers only where ``expected`` does not, and is off by
    about float32's rounding (relative ``rel``): a result off by more (a dropped term, whole
    numbers) has another cause, however its numbers happen to round."""
    with np.errstate(over="ignore"):
        return bool(
            rel < 1e-5
            and np.array_equal(actual, actual.astype(np.float32).astype(np.float64))
            and not np.array_equal(expected, expected.astype(np.float32).astype(np.float64))
        )


def run_item(b: Backend, item: Item) -> dict[str, Any]:
    """Runs one item; returns its result record (``status`` passed, failed, skipped, xfailed or
    xpassed; NOTE [Expected failures])."""
    try:
        rec = _run(b, item)
    except Exception as exc:  # noqa: BLE001 - one item's failure never ends the run
        # Checking a result calls the backend again (to_numpy, is_array, dtype_name): what it
        # raises there fails this item, named, instead of ending the run without a report.
        rec = _record(b, item)
        rec.update(status="failed", failure="raised", reason=f"checking the result raised {type(exc).__name__}: {exc}")
    return _xfail.apply(rec, item.xfail) if item.xfail is not None else rec


def _record(b: Backend, item: Item) -> dict[str, Any]:
    """An item's result record before it runs: skipped, with its reason if it has one."""
    case = item.case
    return {
        "id": item.id, "case": case.id, "family": case.family, "transform": case.transform,
        "device": item.device, "dtype": item.dtype, "jit": item.jit, "compiler": b.compiler if item.jit else None,
        "status": "skipped",
        "max_abs_err": None, "max_rel_err": None, "rtol": None, "atol": None, "reason": item.skip or "",
    }  # fmt: skip


def _run(b: Backend, item: Item) -> dict[str, Any]:
    case = item.case
    rec = _record(b, item)
    if item.skip:
        return rec
    tol = tolerance(b.exact, item.dtype, item.device, case.order)
    assert isinstance(tol, Tolerance)
    rec["rtol"], rec["atol"] = tol.rtol, tol.atol
    cast = inputs_as(item.dtype, case.inputs())
    dev = _device.placement(b, item.device)
    xs = _trees.tree_map(lambda a: b.asarray(a, dtype=item.dtype, device=dev), cast)
    before = [np.array(b.to_numpy(x), copy=True) for x in _trees.leaves(xs)]
    g = _compiled(b, case.build()) if item.jit else case.build()
    missing = sorted(case.uses & _custom_cases.unsupported(b))

    def failed(reason: str, kind: str) -> dict[str, Any]:
        rec["status"], rec["reason"], rec["failure"] = "failed", reason, kind
        return rec

    accepted = getattr(multiad, case.variant.accepts) if case.variant.accepts else None
    with _select.use_backend(b), _device.precision(b, item.device, item.dtype):
        try:
            out = g(*xs)
        except UnsupportedOperationError as exc:
            if missing:
                rec["status"], rec["unsupported"] = "passed", missing
                rec["reason"] = f"declared unsupported ({', '.join(missing)}) and raised UnsupportedOperationError"
                return rec
            return failed(f"raised UnsupportedOperationError for a transform the backend declares: {exc}", "raised")
        except Exception as exc:  # noqa: BLE001 - every failure becomes a report entry
            if accepted is not None and isinstance(exc, accepted):
                rec["status"], rec["raised"] = "passed", f"{type(exc).__name__}: {exc}"
                return rec
            tb = "".join(traceback.format_exception(exc, limit=-3)).strip()
            if missing:
                return failed(
                    f"declares {missing} unsupported but raised {type(exc).__name__}, not UnsupportedOperationError: "
                    f"{exc}",
                    "raised",
                )
            first, *rest = str(exc).split("\n", 1)
            hint = _conversion_hint(b, item) if accepted is not None else ""  # on the reason's first line
            return failed("\n".join([f"raised {type(exc).__name__}: {first}{hint}", *rest, tb]), "raised")
    if missing:
        return failed(
            f"declares {missing} unsupported, but the call ran instead of raising UnsupportedOperationError", "contract"
        )
    problems = _contract_problems(b, item, xs, before, out)
    if case.identity:
        lhs, rhs = out
        found, max_abs, max_rel = _compare(b, lhs, rhs, tol, "left side vs right side")
    else:
        expected = case.reference(inputs_as("float64", cast))
        f64 = item.dtype == "float64"
        found, max_abs, max_rel = _compare(b, out, expected, tol, "result vs closed form", f64, case.fn.rows)
    rec["max_abs_err"], rec["max_rel_err"] = max_abs, max_rel
    if found and case.dropped is not None:
        dropped = Case(case.dropped, case.variant).reference(inputs_as("float64", cast))
        if not _compare(b, out, dropped, tol, "")[0]:
            return failed(
                "dropped the derivative: the result equals the derivative with the converted value held constant "
                f"(a conversion inside f must raise {case.variant.accepts} or keep the derivative)",
                "dropped",
            )
    if found:
        return failed("; ".join(problems + found), "values")
    if problems:
        return failed("; ".join(problems), "contract")
    rec["status"], rec["reason"] = "passed", ""
    return rec


# NOTE [Conversions under the compiler]: under its compiler a framework refuses ``float(x)`` of a
# symbolic value with its own error (TensorFlow: TypeError "float() argument must be ... not
# 'SymbolicTensor'"), which reached the report unexplained while the eager item's reason named
# the fix. Both now say what the conversion must raise; the compiled one adds how: the backend's
# ``translate_error`` returns a reason for that error, and multiad raises NonDifferentiableError.
def _conversion_hint(b: Backend, item: Item) -> str:
    """The fix named when a conversion case raised something other than the error it accepts."""
    accepts = item.case.variant.accepts
    hint = f" (a conversion inside f must raise {accepts} or keep the derivative"
    if item.jit:
        hint += (
            f"; under {b.compiler} the framework raised this error instead: the backend's "
            f"translate_error(exc) must return a reason for it, and multiad then raises {accepts}"
        )
    return hint + ")"


def _contract_problems(b: Backend, item: Item, xs: Any, before: list[Any], out: Any) -> list[str]:
    """Inputs left unchanged; every result leaf an array of the backend, in the inputs' dtype and device."""
    problems = []
    for i, (x0, x) in enumerate(zip(before, _trees.leaves(xs))):
        try:
            x1 = b.to_numpy(x)
        except Exception as exc:  # noqa: BLE001 - converted before the call, so the call changed it
            problems.append(
                f"input leaf {i} was changed by the call: to_numpy converted it before and now raises "
                f"{type(exc).__name__}: {exc} (did the backend mark the caller's array as traced, "
                "e.g. requires_grad_() on it instead of on a detached copy?)"
            )
            continue
        if not np.array_equal(x0, x1):
            problems.append(f"input leaf {i} was modified by the call")
    for i, leaf in enumerate(_trees.leaves(out)):
        if isinstance(leaf, np.generic) and b.is_array(np.asarray(leaf)):
            leaf = np.asarray(leaf)  # numpy reductions return numpy scalars, not 0-d arrays
        if not b.is_array(leaf):
            problems.append(f"result leaf {i} is a {type(leaf).__name__}, not an array of the backend")
            continue
        if _traced(b, leaf):
            problems.append(f"result leaf {i} {ATTACHED}")
        if b.dtype_name(leaf) != item.dtype:
            problems.append(f"result leaf {i} has dtype {b.dtype_name(leaf)}, inputs are {item.dtype}")
        if _device.kind_of(b, leaf) != item.device:
            problems.append(f"result leaf {i} is on {b.device_of(leaf)}, inputs are on {item.device}")
    return problems


def header(b: Backend, spec: str, devices: Sequence[str], dtypes: Sequence[str]) -> dict[str, Any]:
    """The report's description of what was tested, where."""
    dist, dist_version = _spec.distribution(spec)
    try:
        version = b.version()
    except Exception as exc:  # noqa: BLE001 - description only
        version = f"unknown ({type(exc).__name__})"
    return {
        "schema": SCHEMA,
        "backend": {
            "name": b.name, "spec": spec, "version": version, "distribution": dist,
            "distribution_version": dist_version, "exact": b.exact, "declares": capabilities(b),
            "compiler": b.compiler,
        },
        "multiad_version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "devices": [_device.describe(b, d) for d in devices],
        "dtypes": list(dtypes),
    }  # fmt: skip


def contract_results(b: Backend) -> list[dict[str, Any]]:
    """The records of ``multiad/conformance/test_contract.py``'s checks, in source order, as the
    pytest run reports them: ``check_backend`` certifies what the documented command does."""
    from ..conformance import test_contract  # the checks live with the pytest modules

    checks = [f for name, f in vars(test_contract).items() if name.startswith("test_") and callable(f)]
    checks.sort(key=lambda f: f.__code__.co_firstlineno)
    results = []
    for check in checks:
        rec: dict[str, Any] = {
            "id": check.__name__, "case": check.__name__, "family": "contract", "transform": check.__name__,
            "device": "-", "dtype": "-", "jit": False, "status": "passed",
        }  # fmt: skip
        try:
            check(b)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a report entry
            rec["status"] = "failed"
            rec["reason"] = (f"{type(exc).__name__}: {exc}".strip().splitlines() or ["failed"])[0]
        results.append(rec)
    return results


def summarize(results: list[dict[str, Any]]) -> dict[str, int]:
    counts = {s: 0 for s in ("passed", "failed", "skipped", "xfailed", "xpassed")}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    counts["total"] = len(results)
    return counts


def devices_for(option: str) -> list[str]:
    """``--multiad-device`` as a list of device kinds."""
    if option == "all":
        return list(_device.KINDS)
    kinds = [d.strip() for d in option.split(",") if d.strip()]
    bad = [d for d in kinds if d not in _device.KINDS]
    if bad:
        raise ValueError(f"--multiad-device: unknown device kind(s) {bad}; use cpu, cuda or all")
    return kinds


def dtypes_for(option: str) -> list[str]:
    """``--multiad-dtypes`` as a list of dtype names."""
    dtypes = [d.strip() for d in option.split(",") if d.strip()]
    bad = [d for d in dtypes if d not in DTYPES]
    if bad or not dtypes:
        raise ValueError(f"--multiad-dtypes: expected a comma-separated subset of {DTYPES}, got {option!r}")
    return dtypes


def check_backend(
    name: str,
    devices: Sequence[str] | str = ("cpu", "cuda"),
    dtypes: Sequence[str] | str = ("float64",),
    xfails: str | None = None,
    compiled: str = "all",
) -> dict[str, Any]:
    """Runs the conformance suite against backend ``name`` (a registered name or ``module:object``)
    directly, without pytest, and returns the report (the same JSON-ready dict that
    ``pytest --pyargs multiad.conformance --multiad-report PATH`` writes). ``xfails`` is the path
    of a known-failures file (NOTE [Expected failures]); ``compiled`` says which cases also run
    under the backend's compiler (``all``, ``sample``: the first case of each family, ``none``).

    Example:
        >>> from multiad.testing import check_backend
        >>> report = check_backend("numpy", devices="cpu", dtypes="float64")  # doctest: +SKIP
        >>> report["summary"]["failed"]  # doctest: +SKIP
        0
    """
    devs = devices_for(devices) if isinstance(devices, str) else list(devices)
    dts = dtypes_for(dtypes) if isinstance(dtypes, str) else list(dtypes)
    b = _spec.load(name)
    _spec.prepare(b, dts)
    report = header(b, name, devs, dts)
    entries = _xfail.read(xfails) if xfails else []
    results = contract_results(b)
    results += [run_item(b, item) for item in plan(b, devs, dts, xfails=entries, compiled=compiled)]
    report["summary"] = summarize(results)
    report["results"] = results
    return report
