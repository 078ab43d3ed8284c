"""Plain PyTorch code once the torch backend has loaded: numpy operands of tensors outside multiad's
transforms (NOTE [numpy operands outside the transforms] in backends/torch).

The torch backend gives ``torch.Tensor`` an ``__array_ufunc__`` and wraps its conversion methods for
the whole process. The fresh-process tests run the same expressions in an interpreter where multiad
never loaded and in one where the torch backend has run, and require the same results (value, dtype,
derivative) and the same exception types; the others compare numpy operands of tensors with numpy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

torch = pytest.importorskip("torch")

#: Prints, as JSON, a description of each expression's result: what plain PyTorch code sees.
_PLAIN_TORCH_SCRIPT = r"""
import json, operator, sys, warnings
warnings.simplefilter("ignore")
import numpy as np, torch

if sys.argv[1] == "multiad":
    import multiad, multiad.numpy as mnp
    multiad.grad(lambda x: mnp.sum(x * x), backend="torch")(np.ones(2))
    assert hasattr(torch.Tensor, "__array_ufunc__")

OPERATORS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "//": operator.floordiv,
    "%": operator.mod, "**": operator.pow, "@": operator.matmul, "&": operator.and_, "|": operator.or_,
    "^": operator.xor, "<<": operator.lshift, ">>": operator.rshift, ">": operator.gt, ">=": operator.ge,
    "<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne, "divmod": divmod,
}
SCALARS = {"f64": np.float64(1.5), "f32": np.float32(1.5), "i64": np.int64(2), "i32": np.int32(2), "bool": np.bool_(True)}
TENSORS = {
    "float32": lambda: torch.tensor([0.5, 3.0]),
    "float64": lambda: torch.tensor([0.5, 3.0], dtype=torch.float64),
    "float32 requires grad": lambda: torch.tensor([0.5, 3.0], requires_grad=True),
    "float64 requires grad": lambda: torch.tensor([0.5, 3.0], dtype=torch.float64, requires_grad=True),
    "int64": lambda: torch.tensor([1, 3]),
    "bool": lambda: torch.tensor([True, False]),
}

def describe(r, leaf=None):
    if isinstance(r, tuple):
        return [describe(x, leaf) for x in r]
    if isinstance(r, torch.Tensor):
        d = [type(r).__name__, str(r.dtype), repr(r.tolist()), r.requires_grad, type(r.grad_fn).__name__]
        if r.requires_grad and leaf is not None and (r.is_floating_point() or r.is_complex()):
            (g,) = torch.autograd.grad(r.sum(), leaf, allow_unused=True)
            d.append(None if g is None else [str(g.dtype), repr(g.tolist())])
        return d
    return [type(r).__name__, str(getattr(r, "dtype", "")), repr(r.tolist() if hasattr(r, "tolist") else r)]

def run(fn, leaf=None):
    try:
        return describe(fn(), leaf)
    except Exception as e:
        return ["raised", type(e).__name__]

out = {}
for sym, op in OPERATORS.items():
    for sn, s in SCALARS.items():
        for tn, make in TENSORS.items():
            t = make()
            leaf = t if t.requires_grad else None
            out[f"{sn} {sym} {tn}"] = run(lambda: op(s, t), leaf)
            if sym != "divmod":  # divmod(t, s): torch has no __divmod__; see the note
                out[f"{tn} {sym} {sn}"] = run(lambda: op(t, s), leaf)

t, w, t1 = torch.tensor([0.5, 3.0]), torch.tensor([0.5, 3.0], requires_grad=True), torch.tensor([1.5])
w1, b = torch.tensor([1.5], requires_grad=True), torch.tensor([True, False])
torch.manual_seed(0)
linear = torch.nn.Linear(2, 1)
EXTRA = {
    "np.isfinite(t)": lambda: np.isfinite(t),
    "np.logical_not(b)": lambda: np.logical_not(b),
    "np.sin(t)": lambda: np.sin(t),
    "np.sin(w)": lambda: np.sin(w),
    "np.modf(t)": lambda: np.modf(t),
    "np.add.reduce(t)": lambda: np.add.reduce(t),
    "np.add.outer(t, t)": lambda: np.add.outer(t, t),
    "np.multiply.accumulate(t)": lambda: np.multiply.accumulate(t),
    "np.add.at(t, [0], 1.0)": lambda: np.add.at(t, [0], 1.0),
    "t after np.add.at": lambda: t,
    "np.add(t, 2.0)": lambda: np.add(t, 2.0),
    "np.greater(t, 1.0)": lambda: np.greater(t, 1.0),
    "np.add(t, t)": lambda: np.add(t, t),
    "np.multiply(t, np.float64(2.0))": lambda: np.multiply(t, np.float64(2.0)),
    "np.maximum(np.float64(1.0), t)": lambda: np.maximum(np.float64(1.0), t),
    "np.maximum(np.float64(1.0), w)": lambda: np.maximum(np.float64(1.0), w),
    "np.add(t, 1.0, dtype=np.float32)": lambda: np.add(t, 1.0, dtype=np.float32),
    "np.add(t, 1.0, out=...)": lambda: np.add(t, 1.0, out=np.empty(2, dtype=np.float32)),
    "np.sqrt(4.0) * w": lambda: np.sqrt(4.0) * w,
    "np.float64(1.1) < 1.1 in float32": lambda: np.float64(1.1) < torch.tensor([1.1]),
    "np.float64(1.1) >= 1.1 in float32": lambda: np.float64(1.1) >= torch.tensor([1.1]),
    "np.float64(0.5) * linear": lambda: np.float64(0.5) * linear(torch.ones(1, 2)).sum(),
    "torch.func.grad": lambda: torch.func.grad(lambda x: (np.float64(0.5) * x**2).sum())(torch.tensor([1.0, 3.0])),
    "torch.func.vmap": lambda: torch.func.vmap(lambda x: np.float64(2.0) * x)(torch.ones(2, 2)),
    "torch.func.jvp": lambda: torch.func.jvp(lambda x: np.float32(3.0) - x, (t,), (t,)),
    "w.item()": lambda: w1.item(),
    "float(w)": lambda: float(w1),
    "int(t)": lambda: int(t1),
    "complex(t)": lambda: complex(t1),
    "w.tolist()": lambda: w.tolist(),
    "w.numpy()": lambda: w.numpy(),
    "np.asarray(t)": lambda: np.asarray(t),
    "np.asarray(w)": lambda: np.asarray(w),
    "np.asarray(t, dtype=float64)": lambda: np.asarray(t, dtype=np.float64),
    "float(x) inside torch.func.grad": lambda: torch.func.grad(lambda x: x.sum() * float(x.sum()))(t),
}
for k, fn in EXTRA.items():
    out[k] = run(fn, w if "w" in k else None)
print(json.dumps(out))
"""


def _plain_torch_results(mode: str) -> dict[str, Any]:
    """The script's results in a new interpreter: ``plain`` never imports multiad, ``multiad`` runs
    the torch backend first."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.pop("MULTIAD_BACKEND", None)
    done = subprocess.run(
        [sys.executable, "-c", _PLAIN_TORCH_SCRIPT, mode], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results: dict[str, Any] = json.loads(done.stdout)
    return results


def test_plain_torch_code_gives_the_same_results_once_the_torch_backend_has_run() -> None:
    # Loading the backend made np.float64(2.0) * w raise "Can't call numpy() on Tensor that requires
    # grad" (also in nn.Module losses, torch.func.grad and vmap), np.float64(1.0) > t uint8 instead
    # of bool, and np.float64(2.0) * t float64 instead of float32; every operator with a numpy scalar
    # on the left went to numpy instead of the tensor's own operator.
    plain = _plain_torch_results("plain")
    after = _plain_torch_results("multiad")
    assert plain.keys() == after.keys()
    changed = {k: (plain[k], after[k]) for k in plain if plain[k] != after[k]}
    assert not changed, f"{len(changed)} of {len(plain)} differ, e.g. {dict(list(changed.items())[:8])}"
    # The matrix is not vacuous: results with derivatives, bool comparisons, torch's errors.
    assert plain["f64 * float32 requires grad"] == [
        "Tensor", "torch.float32", "[0.75, 4.5]", True, "MulBackward0", ["torch.float32", "[1.5, 1.5]"]
    ]  # fmt: skip
    assert plain["f64 > float32"][:3] == ["Tensor", "torch.bool", "[True, False]"]
    assert plain["np.float64(1.1) < 1.1 in float32"][2] == "[False]"  # torch compares in float32
    assert plain["np.isfinite(t)"][1] == "torch.uint8"  # torch's own __array_wrap__, not multiad's
    assert plain["w.numpy()"] == ["raised", "RuntimeError"]
    assert plain["np.add.at(t, [0], 1.0)"] == ["raised", "TypeError"]


@pytest.fixture(scope="module", autouse=True)
def _torch_backend_loaded() -> None:
    multiad.grad(lambda x: mnp.sum(x * x), backend="torch")(np.ones(2))


A = np.array([2.0, 0.0, -1.5])
T_VALUES = np.array([0.5, 0.0, 3.0])
COMPARISONS = {
    "greater": lambda a, b: a > b,
    "greater_equal": lambda a, b: a >= b,
    "less": lambda a, b: a < b,
    "less_equal": lambda a, b: a <= b,
    "equal": lambda a, b: a == b,
    "not_equal": lambda a, b: a != b,
}


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("name", sorted(COMPARISONS))
@pytest.mark.parametrize("array_first", [True, False])
def test_comparisons_with_a_numpy_array_are_bool(name: str, dtype: str, array_first: bool) -> None:
    # They were uint8 outside the transforms, so ~(a > t) was 254/255 and t[~(a > t)] took every
    # element; a == t was Python's identity comparison (one bool) before the backend loaded.
    op = COMPARISONS[name]
    t = torch.tensor(T_VALUES.astype(dtype))
    got = op(A, t) if array_first else op(t, A)
    want = op(A, T_VALUES.astype(dtype)) if array_first else op(T_VALUES.astype(dtype), A)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.bool, got
    np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_array_equal((~got).numpy(), ~want)
    np.testing.assert_array_equal(t[~got].numpy(), T_VALUES.astype(dtype)[~want])
    np.testing.assert_array_equal(getattr(np, name)(A, t).numpy(), getattr(np, name)(A, T_VALUES.astype(dtype)))


def test_a_mask_from_a_numpy_array_agrees_with_numpy_and_the_transforms() -> None:
    # The outside tester's case: 2.5 where numpy and value_and_grad give 2.25.
    thr = np.array([2.0, 0.0])

    def f(x: Any) -> Any:
        return mnp.sum(mnp.where(~(thr > x), x**2, 0.0))

    x = np.array([0.5, 1.5])
    value, g = multiad.value_and_grad(f, backend="torch")(x)
    assert f(x) == 2.25
    assert float(f(torch.tensor(x))) == 2.25
    assert float(value) == 2.25
    np.testing.assert_array_equal(g.numpy(), [0.0, 3.0])
    bools = np.array([True, False]) + torch.tensor([True, True])
    assert bools.dtype == torch.bool and bools.tolist() == [True, True]


#: (f, its derivative as a function of the tensor's values) with the numpy array A.
ARITHMETIC: dict[str, tuple[Any, Any]] = {
    "a + w": (lambda a, w: a + w, lambda x: np.ones_like(x)),
    "w - a": (lambda a, w: w - a, lambda x: np.ones_like(x)),
    "a - w": (lambda a, w: a - w, lambda x: -np.ones_like(x)),
    "a * w": (lambda a, w: a * w, lambda x: A),
    "a / w": (lambda a, w: a / w, lambda x: -A / x**2),
    "w / a": (lambda a, w: w / np.where(a == 0, 4.0, a), lambda x: 1 / np.where(A == 0, 4.0, A)),
    "a ** w": (lambda a, w: np.abs(a) ** w, lambda x: np.abs(A) ** x * np.log(np.where(A == 0, 1.0, np.abs(A)))),
    "w ** a": (lambda a, w: w**a, lambda x: A * x ** (A - 1)),
    "a @ w": (lambda a, w: a @ w, lambda x: A),
    "np.maximum(a, w)": (lambda a, w: np.maximum(a, w), lambda x: (x > A).astype(float)),
    "np.minimum(w, a)": (lambda a, w: np.minimum(w, a), lambda x: (x < A).astype(float)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", sorted(ARITHMETIC))
def test_numpy_arrays_with_a_tensor_that_requires_grad(case: str, dtype: str) -> None:
    # Outside the transforms they raised "Can't call numpy() on Tensor that requires grad"; now they
    # run as inside them: numpy's value and dtype, and the tensor's derivative.
    f, df = ARITHMETIC[case]
    x = np.array([0.5, 1.25, 3.0], dtype=dtype)
    w = torch.tensor(x, requires_grad=True)
    got = f(A, w)
    want = f(A, x)
    assert got.dtype == getattr(torch, np.asarray(want).dtype.name), (got.dtype, np.asarray(want).dtype)
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-6 if dtype == "float32" else 1e-14)
    (g,) = torch.autograd.grad(got.sum(), w)
    assert g.dtype == w.dtype
    np.testing.assert_allclose(g.numpy(), df(x.astype(np.float64)), rtol=1e-5 if dtype == "float32" else 1e-12)


def test_numpy_array_divided_by_a_tensor_is_numpys_quotient() -> None:
    # torch's __rtruediv__ computed a / t as a * t.reciprocal(), rounded in float32 first.
    t = torch.tensor([3.0, 7.0, 0.1])
    np.testing.assert_array_equal((A / t).numpy(), A / t.numpy())


def test_numpy_scalar_with_a_tensor_keeps_numpys_promotion_inside_the_transforms() -> None:
    # Inside the transforms unchanged: numpy's promotion for a numpy scalar on the left (float64),
    # while outside them the same expression is torch's operator (float32), as without multiad.
    x = np.array([0.5, 3.0], dtype=np.float32)
    seen: list[Any] = []

    def f(t: Any) -> Any:
        y = np.float64(2.0) * t
        seen.append(y.dtype)
        return mnp.sum(y)

    g = multiad.grad(f, backend="torch")(x)
    assert seen == [torch.float64]
    np.testing.assert_array_equal(g.numpy(), [2.0, 2.0])
    assert (np.float64(2.0) * torch.tensor(x)).dtype == torch.float32
