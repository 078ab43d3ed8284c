"""What the backend declares is consistent with the plugin contract (multiad/_backend.py)."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import multiad
import multiad.numpy as mnp
from multiad._backend import NATIVE_OVERRIDES, TRANSFORMS
from multiad.testing import _custom_cases, _device
from multiad.testing._tolerance import Tolerance, tolerance


def _widest_float(b: Any) -> str:
    """float64, or float32 where the backend makes float32 arrays when asked for float64 (NOTE
    [Contract items in the dtype the backend computes]).

    NOTE [Contract items in the dtype the backend computes]: the suite asks the backend for
    float64 (``enable_float64``, JAX's x64 switch) only when the run lists float64, and a
    framework left as it is may compute in float32 (JAX without x64 turns float64 inputs into
    float32 ones). The items below that compare float64 closed forms then met float32 numbers at
    the float64 tolerance and failed a correct backend in a float32-only run, blaming it (the
    threads item said "state shared by threads?"). They now make their inputs in the float the
    backend gives for float64 and compare at that dtype's tolerance: float64 in a run that lists
    it, float32 where the framework has no float64 switched on; a wrong number is still off by
    far more than float32's tolerance. The cases themselves are skipped in a dtype the backend
    cannot make (``_dtype_reason`` in multiad/testing/_run.py)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # JAX warns that float64 is not available
        got = b.dtype_name(b.asarray(np.zeros(2), dtype="float64"))
    return "float32" if got == "float32" else "float64"


def test_declarations(conformance_backend: Any) -> None:
    b = conformance_backend
    assert b.api_version == multiad.API_VERSION, f"api_version {b.api_version} != {multiad.API_VERSION}"
    assert b.has_vjp or b.has_jvp, "a backend needs a vjp or a jvp primitive"
    assert set(b.unsupported) <= set(TRANSFORMS), (
        f"unsupported names unknown transforms: {set(b.unsupported) - set(TRANSFORMS)}"
    )
    assert set(b.native) <= NATIVE_OVERRIDES, (
        f"native names transforms that cannot be overridden: {set(b.native) - NATIVE_OVERRIDES}"
    )
    assert set(b.native_chunks) <= set(b.native), "native_chunks must be a subset of native"
    assert not b.vmap_chunks or b.has_vmap, "vmap_chunks without has_vmap"


def test_version_and_devices(conformance_backend: Any) -> None:
    b = conformance_backend
    version = b.version()
    assert version is None or (isinstance(version, str) and version), f"version() returned {version!r}"
    devices = b.devices()
    assert isinstance(devices, list) and all(isinstance(d, str) for d in devices), f"devices() returned {devices!r}"
    assert any(_device.kind(d) == "cpu" for d in devices), f"devices() lists no cpu device: {devices}"


def test_array_round_trip(conformance_backend: Any) -> None:
    b = conformance_backend
    x = np.arange(6.0).reshape(2, 3)
    a = b.asarray(x)
    assert b.is_array(a), f"asarray gave a {type(a).__name__}, which is_array rejects"
    assert not b.is_array([1.0, 2.0]), "is_array accepts a Python list"
    back = b.to_numpy(a)
    assert isinstance(back, np.ndarray) and back.shape == (2, 3) and np.array_equal(back, x)
    assert b.dtype_name(b.asarray(x, dtype="float32")) == "float32"
    eye = b.to_numpy(b.eye(3, like=a))
    assert np.array_equal(eye, np.eye(3)), f"eye(3) gave {eye}"


def test_custom_rules_declared_with_their_methods(conformance_backend: Any) -> None:
    """A backend declaring has_custom_rules builds both kinds of rule (NOTE [Custom rules both ways])."""
    b = conformance_backend
    if not b.has_custom_rules:
        return
    for method in ("custom_vjp", "custom_jvp"):
        assert getattr(type(b), method) is not getattr(multiad.Backend, method), (
            f"has_custom_rules is declared but {method} is not implemented"
        )


def test_float32_derivatives_stay_float32(conformance_backend: Any) -> None:
    """Derivatives keep the inputs' dtype (NOTE [float32 in every run]).

    NOTE [float32 in every run]: the cases run in the dtypes ``--multiad-dtypes`` names,
    float64 by default, and a backend that computes its derivatives in float64 whatever the
    inputs (a pullback that upcasts, a Jacobian assembled in numpy's default dtype) gives the
    right numbers there. So this item runs one function through every transform in float32 on
    the CPU in every run, checking the dtype of each result and its first-order values.
    """
    b = conformance_backend
    xn = np.array([0.5, -1.0, 2.0])
    x = b.asarray(xn, dtype="float32")
    ones = b.asarray(np.ones(3), dtype="float32")
    batch = b.asarray(np.stack([xn, 2 * xn]), dtype="float32")

    def f(v: Any) -> Any:
        return mnp.sum(mnp.sin(v) * v)

    def g(v: Any) -> Any:
        return mnp.sin(v) * v

    d1 = np.sin(xn) + xn * np.cos(xn)
    d2 = 2 * np.cos(xn) - xn * np.sin(xn)
    calls: dict[str, tuple[Callable[[], Any], np.ndarray | None, int]] = {
        "grad": (lambda: multiad.grad(f, backend=b)(x), d1, 1),
        "value_and_grad": (lambda: multiad.value_and_grad(f, backend=b)(x)[1], d1, 1),
        "vjp": (lambda: multiad.vjp(g, x, backend=b)[1](ones)[0], d1, 1),
        "jvp": (lambda: multiad.jvp(g, (x,), (ones,), backend=b)[1], d1, 1),
        "linearize": (lambda: multiad.linearize(g, x, backend=b)[1](ones), d1, 1),
        "jacrev": (lambda: multiad.jacrev(g, backend=b)(x), np.diag(d1), 1),
        "jacfwd": (lambda: multiad.jacfwd(g, backend=b)(x), np.diag(d1), 1),
        "hessian": (lambda: multiad.hessian(f, backend=b)(x), np.diag(d2), 2),
        "hvp": (lambda: multiad.hvp(f, (x,), (ones,), backend=b)[0], d2, 2),
        "vmap": (lambda: multiad.vmap(multiad.grad(f, backend=b), backend=b)(batch), None, 1),
    }
    problems = []
    for name, (call, expected, order) in calls.items():
        if name in b.unsupported or (order == 2 and "hessian" in b.unsupported):
            continue
        try:
            out = call()
        except multiad.UnsupportedOperationError:
            continue  # the declared-unsupported cases check that refusal
        except Exception as exc:  # noqa: BLE001 - reported with the others
            problems.append(f"{name} of float32 inputs raised {type(exc).__name__}: {exc}")
            continue
        if not b.is_array(out):  # None, a tuple, numpy's array: no dtype of the backend's to read
            problems.append(f"{name} of float32 inputs gave {type(out).__name__}, not an array of the backend")
            continue
        if b.dtype_name(out) != "float32":
            problems.append(f"{name} of float32 inputs gave {b.dtype_name(out)}")
            continue
        tol = tolerance(b.exact, "float32", "cpu", order)
        if expected is not None and isinstance(tol, Tolerance):
            err = float(np.max(np.abs(np.asarray(b.to_numpy(out), dtype=np.float64) - expected)))
            if err > tol.atol + tol.rtol * float(np.max(np.abs(expected))):
                problems.append(f"{name} of float32 inputs is off by {err:.3g}")
    assert not problems, "; ".join(problems)


def test_primitives_keep_the_flat_contract(conformance_backend: Any) -> None:
    """Each declared primitive and native override, called directly as multiad calls it, returns
    what the contract says (NOTE [Primitives checked directly])."""
    # NOTE [Primitives checked directly]: the cases reach the primitives through multiad's
    # core, so a primitive returning one gradient too few or a tangent per primal instead of per
    # output fails them with an error from inside the core (a tree that does not unflatten, an
    # index out of range). This item calls them itself, on two primals of different shapes and
    # two outputs, and names the primitive and the rule it breaks.
    b = conformance_backend
    xn, yn = np.array([0.5, -1.0, 2.0]), np.array([[0.3, 0.7], [-0.2, 1.1]])
    un, wn = np.array([1.0, -2.0, 0.5]), np.array([[0.4, -0.1], [0.9, 0.2]])
    dtype = _widest_float(b)
    x, y, u, w = (b.asarray(a, dtype=dtype) for a in (xn, yn, un, wn))
    tol = tolerance(b.exact, dtype, "cpu", 1)
    assert isinstance(tol, Tolerance)
    problems: list[str] = []

    rejected: set[str] = set()  # types of values the primitives pass to fun that is_array rejects

    def fun(p: Any, q: Any) -> tuple[Any, Any]:  # outs: p * sum(q) (3,) and sin(q) (2, 2)
        rejected.update(type(a).__name__ for a in (p, q) if not b.is_array(a))
        return (p * mnp.sum(q), mnp.sin(q))

    def fun_aux(p: Any, q: Any) -> tuple[tuple[Any, Any], Any]:
        return fun(p, q), {"twice": 2.0 * q}

    def check(what: str, got: Any, expected: list[np.ndarray]) -> None:
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            n = len(got) if isinstance(got, (tuple, list)) else type(got).__name__
            problems.append(f"{what}: expected a tuple of {len(expected)} arrays, got {n}")
            return
        for k, (g, e) in enumerate(zip(got, expected)):
            if not b.is_array(g):
                problems.append(f"{what}[{k}] is a {type(g).__name__}, not an array of the backend")
                continue
            try:
                a = np.asarray(b.to_numpy(g), dtype=np.float64)
            except Exception as exc:  # noqa: BLE001 - a value still attached to a trace, named here
                problems.append(f"{what}[{k}] cannot be converted to numpy ({type(exc).__name__}: {exc})")
                continue
            if a.shape != e.shape:
                problems.append(f"{what}[{k}] has shape {a.shape}, expected {e.shape}")
            elif np.max(np.abs(a - e), initial=0.0) > tol.atol + tol.rtol * np.max(np.abs(e), initial=0.0):
                problems.append(f"{what}[{k}] differs from the closed form by {np.max(np.abs(a - e)):.3g}")

    def check_aux(what: str, aux: Any) -> None:
        if not isinstance(aux, dict) or set(aux) != {"twice"}:
            problems.append(f"{what} with has_aux returned aux {aux!r}, not the dict fun returned")
        else:
            check(
                f"{what}'s aux['twice'] (aux is returned as computed, holding no traced values)",
                (aux["twice"],),
                [2.0 * yn],
            )

    s = float(yn.sum())
    outs = [xn * s, np.sin(yn)]
    grads = [un * s, np.full_like(yn, un @ xn) + np.cos(yn) * wn]  # pullback of (u, w)
    tangents = [un * s + xn * float(wn.sum()), np.cos(yn) * wn]  # along (u, w)
    with multiad.use_backend(b):
        if b.has_vjp:
            o, pullback, aux = b.vjp(fun_aux, (x, y), True)
            check("vjp outputs", o, outs)
            check("vjp's pullback((u, w)) (one gradient per primal)", pullback((u, w)), grads)
            check_aux("vjp", aux)
        if b.has_jvp:
            o, t, aux = b.jvp(fun_aux, (x, y), (u, w), True)
            check("jvp outputs", o, outs)
            check("jvp tangent outputs (one per output)", t, tangents)
            check_aux("jvp", aux)
        _check_size_rank_and_outputs(b, dtype, check)
        if b.has_vmap:
            batched = b.vmap(fun, [0, None], None)(b.asarray(np.stack([xn, 2 * xn]), dtype=dtype), y)
            check(
                "vmap(fun, in_axes=[0, None]) outputs",
                batched,
                [np.stack([xn * s, 2 * xn * s]), np.stack([outs[1]] * 2)],
            )
        if "value_and_grad" in b.native:
            value, g, _ = b.value_and_grad(lambda p, q: mnp.sum(p * mnp.sum(q)), (x, y), False)
            check("native value_and_grad value", (value,), [np.array(xn.sum() * s)])
            check("native value_and_grad gradients", g, [np.full_like(xn, s), np.full_like(yn, xn.sum())])
        jac = [[np.diag(np.full(3, s)), np.broadcast_to(xn[:, None, None], (3, 2, 2))],
               [np.zeros((2, 2, 3)), np.diag(np.cos(yn).ravel()).reshape(2, 2, 2, 2)]]  # fmt: skip
        for name in ("jacrev", "jacfwd"):
            if name in b.native:
                blocks, _ = getattr(b, name)(fun, (x, y), False, None)
                if len(blocks) != 2:
                    problems.append(f"native {name}: expected 2 rows of blocks (one per output), got {len(blocks)}")
                    continue
                for i in range(2):
                    check(f"native {name} blocks[{i}]", blocks[i], jac[i])
        if "linearize" in b.native:
            o, jvp_fn = b.linearize(fun, (x, y))
            check("native linearize outputs", o, outs)
            check("native linearize jvp_fn(u, w)", jvp_fn(u, w), tangents)
    if rejected:
        problems.insert(
            0,
            f"is_array rejects {', '.join(sorted(rejected))}, which the primitives pass to fun: it must accept "
            "the backend's traced values too (multiad takes what it rejects for another framework's arrays)",
        )
    assert not problems, "; ".join(problems)


def _check_size_rank_and_outputs(b: Any, dtype: str, check: Callable[[str, Any, list[np.ndarray]], None]) -> None:
    """The primitives on a 3-D primal of 45 elements and three outputs (NOTE [Sizes, ranks and
    output counts] in multiad/testing/_fns.py): a pullback wrong past some size or rank, or one
    dropping the cotangents after the second output's, fails here with the primitive named."""
    pn, rn = np.array([0.5, -1.0, 2.0]), np.linspace(-1.2, 1.0, 45).reshape(3, 3, 5)
    un, tn, cn = np.array([1.0, -2.0, 0.5]), np.cos(3.0 * rn), np.array([-1.5, 0.5, 2.0, 1.0, -0.7])
    p, r, u, t, c = (b.asarray(a, dtype=dtype) for a in (pn, rn, un, tn, cn))

    def fun3(a: Any, z: Any) -> tuple[Any, Any, Any]:  # outs: a * sum(z) (3,), sin(z) (3, 3, 5), (5,)
        return (a * mnp.sum(z), mnp.sin(z), mnp.sum(z * z, axis=(0, 1)))

    s = float(rn.sum())
    outs = [pn * s, np.sin(rn), np.sum(rn * rn, axis=(0, 1))]
    what = "on a (3,) and a (3, 3, 5) primal with three outputs"
    if b.has_vjp:
        o, pullback, _ = b.vjp(fun3, (p, r), False)
        check(f"vjp outputs {what}", o, outs)
        grads = [un * s, np.full_like(rn, un @ pn) + np.cos(rn) * tn + 2.0 * cn * rn]
        check(f"vjp's pullback((u, t, c)) {what}", pullback((u, t, c)), grads)
    if b.has_jvp:
        o, touts, _ = b.jvp(fun3, (p, r), (u, t), False)
        check(f"jvp outputs {what}", o, outs)
        tangents = [un * s + pn * float(tn.sum()), np.cos(rn) * tn, 2.0 * np.sum(rn * tn, axis=(0, 1))]
        check(f"jvp tangent outputs {what}", touts, tangents)


def test_calls_from_two_threads(conformance_backend: Any) -> None:
    """A transform called in one thread while another thread is inside a transformed function
    gives both threads their own right results (NOTE [Two threads at once])."""
    # NOTE [Two threads at once]: multiad holds no lock around a backend's primitives, and
    # use_backend is per thread, so two threads may differentiate at the same time. A backend
    # that keeps its nesting state where threads share it (a depth counter or a "tracing" flag
    # on the instance or the module, rather than in threading.local) is right in every
    # single-threaded case and wrong here: a top-level call taken for a nested one returns
    # values still attached to a trace, a nested one taken for top level drops its second
    # derivatives. So thread A's function waits, on its first call, until thread B has run a
    # whole transform, in both orders (A's Hessian around B's gradient and the reverse). The
    # waits time out (a backend may serialize its calls with a lock), which costs time only.
    b = conformance_backend
    xn = np.array([0.5, -1.0, 2.0])
    d1 = np.sin(xn) + xn * np.cos(xn)  # grad, jacrev and jacfwd of a scalar f all give it
    expected = {"grad": d1, "jacrev": d1, "jacfwd": d1, "hessian": np.diag(2 * np.cos(xn) - xn * np.sin(xn))}
    gaps = _custom_cases.unsupported(b)
    first_order = [t for t in ("grad", "jacrev", "jacfwd") if t not in gaps][:1]
    if not first_order:
        return  # the declared-unsupported cases check the refusals
    (one,) = first_order
    pairs = [("hessian", one), (one, "hessian")] if "hessian" not in gaps else [(one, one)]
    dtype = _widest_float(b)

    def off(transform: str, got: np.ndarray) -> str | None:
        tol = tolerance(b.exact, dtype, "cpu", 2 if transform == "hessian" else 1)
        if isinstance(tol, Tolerance) and not np.allclose(got, expected[transform], rtol=tol.rtol, atol=tol.atol):
            return f"off by {float(np.max(np.abs(got - expected[transform]))):.3g}"
        return None

    # The same transforms in one thread first: a result wrong without threads is not a threads problem.
    alone = []
    for transform in dict.fromkeys(t for pair in pairs for t in pair):
        with multiad.use_backend(b):
            got = np.asarray(b.to_numpy(getattr(multiad, transform)(_f)(b.asarray(xn, dtype=dtype))), dtype=np.float64)
        if (problem := off(transform, got)) is not None:
            alone.append(f"{transform} in one thread, no other running: {problem} from the closed form")
    assert not alone, "; ".join(alone) + " (wrong without threads: see the cases of these transforms)"
    problems: list[str] = []
    for first, second in pairs:
        results = _two_threads(b, xn, first, second, dtype)
        for key, label in (("A", f"thread A's {first} (inside f while B ran)"), ("B", f"thread B's {second}")):
            what = f"{label}, with {first} in thread A and {second} in thread B"
            if key not in results:
                problems.append(f"{what}: did not finish")
                continue
            transform, got, own = results[key]
            if isinstance(got, BaseException):
                problems.append(f"{what}: raised {type(got).__name__}: {got}")
                continue
            if not own:
                problems.append(f"{what}: the result is not an array of the backend")
            elif (problem := off(transform, got)) is not None:
                problems.append(f"{what}: {problem}")
    assert not problems, "; ".join(problems) + " (state shared by threads? keep nesting state in threading.local)"


def _f(v: Any) -> Any:
    return mnp.sum(mnp.sin(v) * v)


def _two_threads(b: Any, xn: np.ndarray, first: str, second: str, dtype: str) -> dict[str, Any]:
    """Thread A's ``first`` of f, whose first call waits until thread B has run ``second``:
    ``{"A": (transform, result as numpy or the exception, is_array), "B": ...}``."""
    inside, done = threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def waits(v: Any) -> Any:
        if not inside.is_set():
            inside.set()
            done.wait(10.0)
        return _f(v)

    def run(key: str, transform: str, fun: Callable[[Any], Any]) -> None:
        try:
            if key == "B":
                inside.wait(10.0)
            with multiad.use_backend(b):
                out = getattr(multiad, transform)(fun)(b.asarray(xn, dtype=dtype))
                results[key] = (transform, np.asarray(b.to_numpy(out), dtype=np.float64), b.is_array(out))
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            results[key] = (transform, exc, False)
        finally:
            if key == "B":
                done.set()

    threads = [
        threading.Thread(target=run, args=("A", first, waits)),
        threading.Thread(target=run, args=("B", second, _f)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60.0)
    return results


def test_is_traced_inside_and_outside_transforms(conformance_backend: Any) -> None:
    """``is_traced`` says False of a concrete array and, on an exact backend, True of the argument
    its transform passes to the user's function (docs/plugins.md, Traced values)."""
    b = conformance_backend
    x = b.asarray(np.array([0.5, -1.0, 2.0]))
    assert not b.is_traced(x), "is_traced says True of a concrete array (asarray's, outside any transform)"
    if not b.exact or "grad" in _custom_cases.unsupported(b):
        return  # finite differences pass concrete arrays, for which the default False is right
    seen: list[bool] = []

    def f(v: Any) -> Any:
        seen.append(bool(b.is_traced(v)))
        return mnp.sum(v * v)

    with multiad.use_backend(b):
        multiad.grad(f)(x)
    assert seen and all(seen), (
        f"is_traced said {seen} of the argument grad passes to f: an exact backend's transforms trace "
        "their arguments, and is_traced must say so (override Backend.is_traced: a JAX tracer, a tensor "
        "that requires grad, an autograd box); with the default False, vmap(out_dims=None) inside a "
        "transform gives the derivative of batch index 0 alone, silently"
    )


def test_unbatched_output_inside_a_transform(conformance_backend: Any) -> None:
    """``vmap(..., out_dims=None)`` of an output that depends on the batch, inside ``grad``, over a
    batch of equal rows: multiad raises InvalidArgumentError, because the check of equal values
    cannot stand for "does not depend on the batch" on traced values. A backend whose is_traced
    says False of them lets the check pass, and the gradient reaches batch index 0 alone."""
    b = conformance_backend
    if {"grad", "vmap"} & _custom_cases.unsupported(b):
        return
    xn = np.array([[1.0, 2.0]] * 3)

    def f(rows: Any) -> Any:
        return mnp.sum(multiad.vmap(lambda r: 2 * r, out_dims=None)(rows))

    hint = " (is_traced says False of the batched argument inside grad? override Backend.is_traced)"
    try:
        with multiad.use_backend(b):
            got = multiad.grad(f)(b.asarray(xn))
    except multiad.InvalidArgumentError as e:
        # on an exact backend the refusal must come from is_traced of the batched argument, not from a
        # failed comparison; finite differences (concrete arguments) find the perturbed rows differ
        reasons = ("traces the batched arguments",) if b.exact else ("traces the batched arguments", "varies")
        assert any(r in str(e) for r in reasons), f"raised for another reason: {e}{hint}"
        return
    except multiad.MultiADError as e:
        raise AssertionError(f"raised {type(e).__name__} instead of InvalidArgumentError: {e}{hint}") from e
    g = np.asarray(b.to_numpy(got), dtype=np.float64)
    index0 = np.zeros_like(xn)
    index0[0] = 2.0
    assert not np.allclose(g, index0), f"gave the derivative of batch index 0 alone, {g.tolist()}{hint}"
    raise AssertionError(f"gave {g.tolist()} instead of raising InvalidArgumentError{hint}")


def test_unbatched_output_at_the_top_level(conformance_backend: Any) -> None:
    """``vmap(..., out_dims=None)`` at the top level (no compiler, no enclosing transform) of an
    output the same at every batch index returns it once; one that varies raises
    InvalidArgumentError saying so (NOTE [Comparing an unbatched output]: the core compares through
    ``to_numpy``, and asks nothing of the array class but what the contract documents)."""
    b = conformance_backend
    if "vmap" in _custom_cases.unsupported(b):
        return
    xn = np.array([[0.5, 1.5], [2.0, 3.0], [-1.0, 0.25]])
    cn = np.array([0.5, np.nan, -2.0])
    c = b.asarray(cn)
    with multiad.use_backend(b):
        got = multiad.vmap(lambda a: mnp.sum(a) * 0.0 + c * 2.0, out_dims=None)(b.asarray(xn))
        assert tuple(got.shape) == (3,), f"gave shape {tuple(got.shape)}, expected (3,) (no batch axis)"
        np.testing.assert_array_equal(np.asarray(b.to_numpy(got), dtype=np.float64), 2.0 * cn)
        pair = multiad.vmap(lambda a: (a * 3.0, c + 1.0), out_dims=(0, None))(b.asarray(xn))
        np.testing.assert_allclose(np.asarray(b.to_numpy(pair[0]), dtype=np.float64), 3.0 * xn, rtol=1e-6)
        np.testing.assert_array_equal(np.asarray(b.to_numpy(pair[1]), dtype=np.float64), cn + 1.0)
        try:
            multiad.vmap(lambda a: a * 2.0, out_dims=None)(b.asarray(xn))
        except multiad.InvalidArgumentError as e:
            assert "varies over the batch" in str(e), f"refused an output that varies for another reason: {e}"
        else:
            raise AssertionError("returned an output that varies over the batch as unbatched")


def test_chunked_jacobians_inside_an_enclosing_transform(conformance_backend: Any) -> None:
    """A chunked ``jacrev``, ``jacfwd`` and ``hessian`` (``chunk_size`` smaller than the Jacobian)
    inside an enclosing ``grad`` and ``vjp``, against closed forms: the chunks are then values the
    enclosing transform traces, and on a ``writable`` backend they reach ``Backend.write``, which
    must keep their derivative (NOTE [Chunked Jacobians]). F(a) = sin(a) a_0, a in R^4."""
    b = conformance_backend
    if {"grad", "vjp", "jacrev", "jacfwd", "hessian"} & _custom_cases.unsupported(b):
        return
    an = np.array([0.3, -0.7, 1.1, 0.5])
    wn = np.array([[0.5, -1.0, 2.0, 0.25], [1.5, 0.75, -0.5, 1.0], [-2.0, 0.5, 1.25, -0.75], [1.0, 2.5, -1.5, 0.5]])

    def F(a: Any) -> Any:
        return mnp.sin(a) * a[0]

    # d/da_k sum(J) with J = diag(cos(a) a_0) + sin(a) e_0^T; d/da_k sum(H) of s = a_0 sum(sin(a))
    d_sum_j = -np.sin(an) * an[0] + np.cos(an)
    d_sum_j[0] += np.sum(np.cos(an))
    d_sum_h = -an[0] * np.cos(an) - 2.0 * np.sin(an)
    d_sum_h[0] -= np.sum(np.sin(an))
    # d/da_k sum(W * J)
    d_w_j = -np.diag(wn) * np.sin(an) * an[0] + wn[:, 0] * np.cos(an)
    d_w_j[0] += np.sum(np.diag(wn) * np.cos(an))
    a = b.asarray(an)
    with multiad.use_backend(b):
        got: dict[str, Any] = {
            "grad(sum(jacrev(F, chunk_size=2)))": multiad.grad(lambda x: mnp.sum(multiad.jacrev(F, chunk_size=2)(x)))(
                a
            ),
            "grad(sum(jacfwd(F, chunk_size=3)))": multiad.grad(lambda x: mnp.sum(multiad.jacfwd(F, chunk_size=3)(x)))(
                a
            ),
            "vjp(jacrev(F, chunk_size=2)) with W": multiad.vjp(multiad.jacrev(F, chunk_size=2), a)[1](b.asarray(wn))[0],
            "vjp(jacfwd(F, chunk_size=3)) with W": multiad.vjp(multiad.jacfwd(F, chunk_size=3), a)[1](b.asarray(wn))[0],
        }
        if b.exact:  # a third derivative: finite differences nest only two deep
            got["grad(sum(hessian(s, chunk_size=2)))"] = multiad.grad(
                lambda x: mnp.sum(multiad.hessian(lambda y: mnp.sum(mnp.sin(y)) * y[0], chunk_size=2)(x))
            )(a)
    want = {
        "grad(sum(jacrev(F, chunk_size=2)))": d_sum_j,
        "grad(sum(jacfwd(F, chunk_size=3)))": d_sum_j,
        "vjp(jacrev(F, chunk_size=2)) with W": d_w_j,
        "vjp(jacfwd(F, chunk_size=3)) with W": d_w_j,
        "grad(sum(hessian(s, chunk_size=2)))": d_sum_h,
    }
    hint = (
        " (the backend declares writable = True: its write receives chunks the enclosing transform traces and "
        "must keep their derivative, as torch's in-place writes under autograd do; a write that stores the "
        "values only, as numpy's __setitem__, drops it: override Backend.write, or leave writable False)"
        if b.writable
        else ""
    )
    rtol = 1e-6 if b.exact else 1e-3
    wrong = []
    for name, value in got.items():
        g = np.asarray(b.to_numpy(value), dtype=np.float64)
        if g.shape != want[name].shape or not np.allclose(g, want[name], rtol=rtol, atol=rtol):
            wrong.append(f"{name} = {np.round(g, 6).tolist()}, closed form {np.round(want[name], 6).tolist()}")
    assert not wrong, "; ".join(wrong) + hint


def test_results_keep_the_arguments_values_at_call_time(conformance_backend: Any) -> None:
    """A pullback from ``vjp`` and the function from ``linearize``, called after the caller has
    changed the argument in place, give the derivative at the value it had when the transform was
    called (``Backend.snapshot``; arrays that cannot be written in place skip this)."""
    b = conformance_backend
    xn = np.array([0.5, -1.0, 2.0])
    want = np.cos(xn) * xn + np.sin(xn)  # d/dx sin(x) x, elementwise
    problems = []
    for name in ("vjp", "linearize"):
        if name in _custom_cases.unsupported(b):
            continue
        x = b.asarray(xn.copy(), dtype=_widest_float(b))
        with multiad.use_backend(b):
            _, fn = getattr(multiad, name)(lambda v: mnp.sin(v) * v, x)
            try:
                x[...] = b.asarray(10.0 * xn, dtype=b.dtype_name(x))
            except Exception:  # noqa: BLE001 - arrays that cannot be written in place: nothing to check
                return
            if not np.array_equal(b.to_numpy(x), 10.0 * xn):
                return
            try:
                out = fn(b.asarray(np.ones(3), dtype=b.dtype_name(x)))
            except Exception as exc:  # noqa: BLE001 - reported below
                problems.append(f"{name}: calling its function raised {type(exc).__name__}: {exc}")
                continue
        got = np.asarray(b.to_numpy(out[0] if isinstance(out, tuple) else out), dtype=np.float64)
        tol = tolerance(b.exact, b.dtype_name(x), "cpu", 1)
        if isinstance(tol, Tolerance) and not np.allclose(got, want, rtol=tol.rtol, atol=tol.atol):
            problems.append(f"{name}: gave {got.tolist()}, the derivative at the original argument is {want.tolist()}")
    assert not problems, (
        "; ".join(problems) + " (after x[...] = 10 * x; a framework whose arrays change in place needs "
        "Backend.snapshot to copy them, as torch's x.clone())"
    )
