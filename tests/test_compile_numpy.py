"""Every name of multiad.numpy under ``torch.compile(..., fullgraph=True)``: one graph, numpy's values.

A representative call of each name (the first argument form of ``numpy_specs.SPECS``, its numpy
arrays as torch tensors) is traced with ``fullgraph=True`` and compared with numpy's function on
the same values; where the form is differentiable, ``multiad.grad`` of a weighted sum of its
outputs is traced too and compared with central differences of numpy's function. The names
that cannot trace into one graph are listed, with the reason, in ``NOT_ONE_GRAPH`` and in
docs/migration.md ("multiad.numpy under torch.compile"); each is checked to still fail, so the
list stays exact, and a name that stops tracing fails its group.

Tracing is the slow part, so names are traced in groups (one compiled function returns the
outputs of a group's names) with a counting backend that compiles nothing
(``CompileCounter``, as tests/test_compile.py does); a failing group is traced again name by
name to say which names broke it.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy_specs import SPECS, C, u

import multiad

torch = pytest.importorskip("torch")
dynamo_testing = pytest.importorskip("torch._dynamo.testing")
if not hasattr(torch, "compile"):
    pytest.skip("torch.compile is not available", allow_module_level=True)

import multiad.numpy as mnp  # noqa: E402 - after the skips

#: names whose representative call cannot be one graph, with the reason (the docs state each).
NOT_ONE_GRAPH: dict[str, str] = {
    "linalg.eig": "the result's dtype depends on the values (real where every eigenvalue is real, as in numpy)",
    "linalg.eigvals": "the result's dtype depends on the values (real where every eigenvalue is real, as in numpy)",
}
NOT_NUMPY: dict[str, Callable[..., Any]] = {"stop_gradient": lambda x: x, "astype": lambda x, dtype: x.astype(dtype)}
SIGN_FREE = {"linalg.svd", "linalg.eigh", "linalg.eig", "linalg.qr"}  # vectors up to sign: their squares
SYMMETRIC = {"linalg.cholesky", "linalg.eigh", "linalg.eigvalsh"}  # differentiated along symmetric directions
GROUP = 24


def _resolve(module: Any, name: str) -> Any:
    for part in name.split("."):
        module = getattr(module, part)
    return module


def _leaves(out: Any) -> list[Any]:
    if isinstance(out, (tuple, list)):
        return [leaf for o in out for leaf in _leaves(o)]
    return [out]


def _squares(name: str, leaves: list[Any]) -> list[Any]:
    return [v * v for v in leaves] if name in SIGN_FREE else leaves


def _arrays(x: Any) -> list[np.ndarray]:
    """The numpy arrays of an argument (in lists, as stack's), in order."""
    if isinstance(x, np.ndarray):
        return [x]
    if isinstance(x, list):
        return [a for v in x for a in _arrays(v)]
    return []


class _Slot:
    """Where an argument's array goes (traced code never sees the numpy arrays themselves:
    dynamo would make them inputs of the graph)."""


def _template(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return _Slot()
    if isinstance(x, list):
        return [_template(v) for v in x]
    return x


def _fill(x: Any, it: Any) -> Any:
    """``x`` with its slots filled, in order, by the next items of ``it``."""
    if isinstance(x, _Slot):
        return next(it)
    if isinstance(x, list):
        return [_fill(v, it) for v in x]
    return x


class Case:
    """A name's representative call: its arrays as inputs, numpy's outputs, and the positions
    (indices into its arrays) it is differentiated in."""

    def __init__(self, name: str, call: C) -> None:
        self.name, self.call = name, call
        self.fn = _resolve(mnp, name)
        self.ref = NOT_NUMPY.get(name) or _resolve(np, name)
        self.arrays = [a for v in call.args for a in _arrays(v)]
        self.template = [_template(v) for v in call.args]
        self.diff = [self._index(p) for p in call.diff]
        self.kwargs = call.kwargs
        assert not any(isinstance(v, np.ndarray) for v in call.kwargs.values()), f"{name}: arrays given by keyword"

    def _index(self, p: int | tuple[int, int]) -> int:
        i, j = (p, None) if isinstance(p, int) else p
        before = sum(len(_arrays(v)) for v in self.call.args[:i])
        return before + (j or 0)

    def run(self, fn: Callable[..., Any], values: list[Any]) -> Any:
        it = iter(values)
        return fn(*[_fill(v, it) for v in self.template], **self.kwargs)

    def numpy(self, values: list[np.ndarray] | None = None) -> list[np.ndarray]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [np.asarray(v) for v in _leaves(self.run(self.ref, values or self.arrays))]


def _case(key: str) -> Case:
    name, _, form = key.partition("#")
    return Case(name, SPECS[name][int(form or 0)])


#: more forms than the first, ``name#i`` for ``SPECS[name][i]``: a Python number beside a tensor
#: (numpy code on it was traced by torch's own numpy, in float32), weights, lists.
MORE_FORMS = ["power#1", "hypot#5", "arctan2#5", "average#2", "std#6", "ptp#6", "linalg.norm#7", "i0#2"]
NAMES = sorted(SPECS) + MORE_FORMS
DIFFERENTIABLE = [n for n in NAMES if _case(n).diff and any(o.dtype.kind == "f" for o in _case(n).numpy())]


def _compiled(fn: Callable[..., Any], args: list[Any]) -> tuple[Any, int]:
    torch._dynamo.reset()
    counter = dynamo_testing.CompileCounter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = torch.compile(fn, backend=counter, fullgraph=True)(*args)
    return out, counter.frame_count


def _tensors(arrays: list[np.ndarray]) -> list[Any]:
    return [torch.tensor(a) for a in arrays]


def _values_program(cases: list[Case]) -> tuple[Callable[..., Any], list[Any]]:
    sizes = [len(c.arrays) for c in cases]

    def program(*xs: Any) -> Any:
        outs, k = [], 0
        for c, n in zip(cases, sizes, strict=True):
            outs.append(c.run(c.fn, list(xs[k : k + n])))
            k += n
        return outs

    return program, [t for c in cases for t in _tensors(c.arrays)]


def _check_values(cases: list[Case]) -> None:
    program, args = _values_program(cases)
    outs, frames = _compiled(program, args)
    assert frames == 1, frames
    for c, out in zip(cases, outs, strict=True):
        got, want = _leaves(out), c.numpy()
        assert len(got) == len(want), f"mnp.{c.name}: {len(got)} outputs, numpy {len(want)}"
        for g, w in zip(_squares(c.name, got), _squares(c.name, want), strict=True):
            g = np.asarray(g.detach().numpy() if isinstance(g, torch.Tensor) else g)
            assert g.shape == w.shape, f"mnp.{c.name}: shape {g.shape}, numpy {w.shape}"
            if w.dtype.kind in "biu":
                assert g.dtype.kind == w.dtype.kind, f"mnp.{c.name}: dtype {g.dtype}, numpy {w.dtype}"
                np.testing.assert_array_equal(g, w, err_msg=f"mnp.{c.name}")
            else:
                np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=f"mnp.{c.name}")


def _weights(c: Case) -> list[np.ndarray | None]:
    r = np.random.default_rng(len(c.name))
    return [r.uniform(0.5, 1.5, o.shape) if o.dtype.kind == "f" else None for o in _squares(c.name, c.numpy())]


def _directions(c: Case) -> list[np.ndarray]:
    r = np.random.default_rng(len(c.name) + 1)
    dirs = [r.uniform(-1.0, 1.0, c.arrays[i].shape) for i in c.diff]
    return [(d + np.swapaxes(d, -1, -2)) / 2 for d in dirs] if c.name in SYMMETRIC else dirs


def _check_grads(cases: list[Case]) -> None:
    """``multiad.grad`` of the sum of every case's weighted outputs, in every case's
    differentiated arrays, against central differences of numpy's function along a direction."""
    weights = [_weights(c) for c in cases]
    counts = [len(c.arrays) for c in cases]
    args = [torch.tensor(a) for c in cases for a in c.arrays]
    wargs = [torch.tensor(wi) for w in weights for wi in w if wi is not None]
    starts = [int(k) for k in np.cumsum([0, *counts])]  # Python ints: dynamo traces numpy's
    argnums = tuple(k + i for c, k in zip(cases, starts, strict=False) for i in c.diff)

    weighted = [[wi is not None for wi in w] for w in weights]  # traced code reads no numpy array

    def total(*xs: Any) -> Any:
        acc, wit = 0.0, iter(xs[len(args) :])
        for c, used, k, n in zip(cases, weighted, starts, counts, strict=False):
            leaves = _squares(c.name, _leaves(c.run(c.fn, list(xs[k : k + n]))))
            for o, weighted_here in zip(leaves, used, strict=True):
                if weighted_here:
                    acc = acc + mnp.sum(mnp.multiply(o, next(wit)))
        return acc

    grads, frames = _compiled(multiad.grad(total, argnums=argnums), [*args, *wargs])
    assert frames == 1, frames
    k = 0
    for c, w in zip(cases, weights, strict=True):
        n = len(c.diff)
        g = grads[k : k + n]
        k += n
        dirs = _directions(c)

        def f_np(h: float, c: Case = c, w: list[Any] = w, dirs: list[np.ndarray] = dirs) -> float:
            values = list(c.arrays)
            for i, d in zip(c.diff, dirs, strict=True):
                values[i] = values[i] + h * d
            outs = _squares(c.name, c.numpy(values))
            return float(sum(np.sum(o * wi) for o, wi in zip(outs, w, strict=True) if wi is not None))

        h = 1e-6
        want = (f_np(h) - f_np(-h)) / (2 * h)
        got = sum(float(np.sum(gi.numpy() * d)) for gi, d in zip(g, dirs, strict=True))
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=f"grad of mnp.{c.name}")


def _groups(names: list[str]) -> list[list[str]]:
    names = [n for n in names if n not in NOT_ONE_GRAPH]
    return [names[i : i + GROUP] for i in range(0, len(names), GROUP)]


def _blame(check: Callable[[list[Case]], None], names: list[str]) -> None:
    """Runs ``check`` on the group; where it fails, on each name alone, and reports the names."""
    try:
        check([_case(n) for n in names])
    except Exception:  # the group failed: find the names that break it
        failures = []
        for n in names:
            try:
                check([_case(n)])
            except Exception as e:  # noqa: BLE001 - every failing name is reported
                failures.append(f"mnp.{n}: {type(e).__name__}: {str(e).strip().splitlines()[0][:300]}")
        if not failures:
            raise
        raise AssertionError("\n".join(failures)) from None


@pytest.mark.parametrize("names", _groups(NAMES), ids=lambda ns: f"{ns[0]}..{ns[-1]}")
def test_multiad_numpy_traces_into_one_graph_with_numpys_values(names: list[str]) -> None:
    _blame(_check_values, names)


@pytest.mark.parametrize("names", _groups(DIFFERENTIABLE), ids=lambda ns: f"{ns[0]}..{ns[-1]}")
def test_grad_of_multiad_numpy_traces_into_one_graph(names: list[str]) -> None:
    _blame(_check_grads, names)


#: the names SPECS leaves out (creation functions and queries), each written for numpy and multiad.numpy
#: alike (``m`` is the module), given a 2 x 3 array.
OTHER_CALLS: dict[str, Callable[[Any, Any], Any]] = {
    "zeros": lambda m, a: m.zeros((2, 3)) + a,
    "ones": lambda m, a: m.ones(3) * a,
    "empty": lambda m, a: m.shape(m.empty((2, 1))),
    "full": lambda m, a: m.full((2, 3), 0.5) - a,
    "eye": lambda m, a: m.eye(3) @ a[0],
    "identity": lambda m, a: m.identity(2) @ a,
    "tri": lambda m, a: m.tri(2, 3, 1) * a,
    "arange": lambda m, a: m.arange(3) + a,
    "linspace": lambda m, a: m.linspace(a[0, 0], a[1, 1], 4),
    "logspace": lambda m, a: m.logspace(a[0, 0], a[1, 1], 3),
    "empty_like": lambda m, a: m.shape(m.empty_like(a)),
    "shape": lambda m, a: m.ones(m.shape(a)) * m.ndim(a) * m.size(a),
}


def test_creation_functions_and_queries_trace_into_one_graph() -> None:
    names = sorted(OTHER_CALLS)
    a = u(2, 3)
    outs, frames = _compiled(lambda t: [OTHER_CALLS[n](mnp, t) for n in names], [torch.tensor(a)])
    assert frames == 1
    for n, got in zip(names, outs, strict=True):
        got = np.asarray(got.numpy() if isinstance(got, torch.Tensor) else got)
        want = np.asarray(OTHER_CALLS[n](np, a))
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"mnp.{n}")
        assert got.dtype == want.dtype, f"mnp.{n}: {got.dtype}, numpy {want.dtype}"  # tri was float32 here
    # each made alone, as numpy makes it: a float32 tri beside float64 data was computed in float64
    made = _compiled(lambda: [mnp.tri(3), mnp.tri(2, 3, 1), mnp.eye(2), mnp.zeros(2)], [])[0]
    assert [t.dtype for t in made] == [torch.float64] * 4


@pytest.mark.parametrize("name", sorted(NOT_ONE_GRAPH))
def test_names_listed_as_not_one_graph_still_fail(name: str) -> None:
    # An entry that traces now must leave the list (and the docs).
    with pytest.raises(torch._dynamo.exc.TorchDynamoException):
        _check_values([_case(name)])


def test_docs_list_exactly_the_names_that_are_not_one_graph() -> None:
    text = (Path(__file__).parent.parent / "docs" / "migration.md").read_text()
    section = text.split("### multiad.numpy under torch.compile", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `mnp\.([\w.]+)", section, flags=re.M))
    assert listed == set(NOT_ONE_GRAPH), (sorted(listed), sorted(NOT_ONE_GRAPH))


#: Spaced values of Python numbers, in the forms torch.compile's own numpy lacks (NOTE [Spaced
#: values made outside a compiler's trace] in multiad/numpy/_creation.py).
SPACED = {
    "linspace endpoint=False": (lambda: mnp.linspace(0.0, 1.0, 3, endpoint=False), lambda: np.linspace(0.0, 1.0, 3, endpoint=False)),
    "linspace retstep": (lambda: mnp.linspace(0.0, 1.0, 5, retstep=True)[0] * mnp.linspace(0.0, 1.0, 5, retstep=True)[1], lambda: np.linspace(0.0, 1.0, 5) * 0.25),
    "logspace": (lambda: mnp.logspace(0.0, 2.0, 3, endpoint=False), lambda: np.logspace(0.0, 2.0, 3, endpoint=False)),
    "geomspace": (lambda: mnp.geomspace(1.0, 4.0, 3), lambda: np.geomspace(1.0, 4.0, 3)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(SPACED))
def test_spaced_values_of_numbers_trace_one_graph(name: str) -> None:
    ours, numpys = SPACED[name]
    x = torch.linspace(0.5, 1.5, numpys().shape[0], dtype=torch.float64)
    torch._dynamo.reset()
    counter = dynamo_testing.CompileCounter()
    got = torch.compile(lambda x: multiad.grad(lambda y: (y * ours()).sum())(x), backend=counter, fullgraph=True)(x)
    np.testing.assert_allclose(got.numpy(), numpys(), rtol=1e-12)
    assert counter.frame_count == 1


def test_compiled_multiad_numpy_and_its_gradient_warn_nothing() -> None:
    # NOTE [Library of a class under a compiler]: each compiled call of a multiad.numpy function
    # warned "Dynamo detected a call to a functools.lru_cache-wrapped function" (autoray's
    # infer_backend, traced); the value was right, the warning was noise on every program.
    def f(x: Any) -> Any:
        return mnp.sum(mnp.sin(x) * x)

    torch._dynamo.reset()
    x = torch.linspace(0.0, 1.0, 5, dtype=torch.float64)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        value = torch.compile(f, backend="eager")(x)
        g = torch.compile(multiad.grad(f), backend="eager")(x)
    xs = x.numpy()
    np.testing.assert_allclose(value.item(), np.sum(np.sin(xs) * xs), rtol=1e-14)
    np.testing.assert_allclose(g.numpy(), np.sin(xs) + xs * np.cos(xs), rtol=1e-14)
    ours = [str(w.message) for w in seen if "lru_cache" in str(w.message) or "multiad" in str(w.filename)]
    assert not ours, ours


@pytest.mark.parametrize("name", ["jacfwd", "hessian"])
def test_compiled_forward_mode_with_aux_warns_nothing(name: str) -> None:
    # NOTE [Library of a class under a compiler]: an operation of the core first met in a trace
    # (placing jacfwd's columns with aux) asked autoray for the tensor's library through its
    # lru_cache, traced, and warned, with f written in plain torch.
    transform = getattr(multiad, name)
    torch._dynamo.reset()
    x = torch.linspace(0.2, 1.0, 3, dtype=torch.float64)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out, aux = torch.compile(
            lambda x: transform(lambda x: ((torch.sin(x) * x).sum(), x * 2.0), has_aux=True)(x),
            backend="eager",
            fullgraph=True,
        )(x)
    xs = x.numpy()
    first = np.sin(xs) + xs * np.cos(xs)
    want = first if name == "jacfwd" else np.diag(2 * np.cos(xs) - xs * np.sin(xs))
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(aux.numpy(), 2 * xs, rtol=0)
    ours = [str(w.message) for w in seen if "lru_cache" in str(w.message) or "multiad" in str(w.filename)]
    assert not ours, ours


def test_numpy_arrays_made_in_a_trace_after_eager_numpy_calls() -> None:
    # NOTE [A dtype table a trace cannot read]: eager calls with numpy arrays fill a table of dtype
    # names, which a trace then could not read (after autograd's tests ran, these broke the graph)
    mnp.sum(torch.ones(2))  # multiad.numpy on torch in use, as in any program that compiles it
    for fn in (mnp.std, mnp.hypot, mnp.linalg.norm):
        fn(np.ones((2, 2)), np.ones((2, 2))) if fn is mnp.hypot else fn(np.ones((2, 2)))
    rows, pair = [[0.3, 0.5], [0.7, 0.2]], [0.3, 0.6]

    def program(t: Any) -> Any:  # lists made into numpy arrays in the trace, with a tensor
        return mnp.std(rows, axis=0) + mnp.hypot(pair, t) + mnp.arctan2(pair, t) + mnp.linalg.norm(pair)

    t = torch.tensor([0.8, 0.4], dtype=torch.float64)
    out, frames = _compiled(program, [t])
    assert frames == 1
    a, p, tn = np.array(rows), np.array(pair), t.numpy()
    want = a.std(axis=0) + np.hypot(p, tn) + np.arctan2(p, tn) + np.linalg.norm(p)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12)


# docs/migration.md: a Python float that changes between calls is traced as a symbolic float from
# its second value on; with dynamic=False (or as a 0-d tensor, not for q) these compile, one
# program per value, with numpy's values.
FLOAT_ARGUMENT: dict[str, Callable[[Any, Any, Any], Any]] = {
    "linspace": lambda m, z, c: m.sum(z * m.linspace(0.0, c, 3)),
    "logspace": lambda m, z, c: m.sum(z * m.logspace(0.0, c, 3)),
    "geomspace": lambda m, z, c: m.sum(z * m.geomspace(1.0, c, 3)),
    "clip": lambda m, z, c: m.sum(m.clip(z, 0.0, c)),
    "polyval": lambda m, z, c: m.polyval(z, c),
    "interp": lambda m, z, c: m.interp(c, m.asarray([0.0, 5.0]), m.asarray([1.0, 2.0])) * m.sum(z),
    "quantile": lambda m, z, c: m.quantile(z, c / 10.0),
}


@pytest.mark.parametrize("name", sorted(FLOAT_ARGUMENT))
def test_changing_python_floats_compile_as_documented(name: str) -> None:
    fn = FLOAT_ARGUMENT[name]
    z = np.array([0.5, 1.5, 3.0])
    forms = [("dynamic=False", lambda c: c)] + (
        [] if name == "quantile" else [("0-d tensor", lambda c: torch.tensor(c, dtype=torch.float64))]
    )
    for form, given in forms:
        torch._dynamo.reset()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled = torch.compile(
                lambda t, c: fn(mnp, t, c),
                backend="eager",
                fullgraph=True,
                dynamic=False if form == "dynamic=False" else None,
            )
            for c in (1.25, 2.5, 3.75):
                got = compiled(torch.tensor(z), given(c))
                np.testing.assert_allclose(float(got), float(fn(np, z, c)), rtol=1e-12, err_msg=f"{name}, {form}, {c}")
