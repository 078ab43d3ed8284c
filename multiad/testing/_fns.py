"""The functions the conformance suite differentiates, each with closed-form derivatives.

Every function is written once with :mod:`multiad.numpy` (``f``), so it runs on every backend,
and once more in plain numpy as float64 closed forms: its value, its dense Jacobian over the
raveled differentiated arguments (rows: raveled output leaves), and for scalar functions its
Hessian and third derivative. tests/test_conformance_refs.py checks every closed form against
central finite differences of the value.

Arguments come in two groups: ``args`` are differentiated (any pytree of arrays) and ``consts``
are data passed after them and never differentiated.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import multiad
import multiad.numpy as mnp

from . import _trees

Args = tuple[Any, ...]
#: A closed form: numpy arrays in, a numpy array out.
Closed = Callable[..., np.ndarray]
#: How one argument is drawn: a shape (standard normal entries) or a function of the generator.
Draw = tuple[int, ...] | Callable[[np.random.Generator], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Fn:
    """A test function and its closed forms (see the module docstring)."""

    name: str
    family: str
    f: Callable[..., Any]
    value: Callable[..., Any]
    jac: Closed
    make_args: Callable[[np.random.Generator], Args]
    make_consts: Callable[[np.random.Generator], Args] = lambda rng: ()
    hess: Closed | None = None
    third: Closed | None = None
    has_aux: bool = False
    #: Python control flow on values: needs concrete arrays (no jax.jit, no vmap over it).
    concrete: bool = False
    #: What row ``r`` of a result of ``n`` rows computes, where the rows name parts of ``f`` (a
    #: failure names the part with the largest error); None where they do not.
    rows: Callable[[int, int], str | None] | None = None

    #: How many arguments and constants :meth:`inputs` draws, counted once here: the cases split
    #: their inputs by them inside compiled functions, where drawing them again (numpy's generator,
    #: zlib) broke the compiled graph (NOTE [Structures made inside the compiled function] in _run.py).
    counts: tuple[int, int] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        args, consts = self.inputs(rng_for(self.name))
        object.__setattr__(self, "counts", (len(args), len(consts)))

    def inputs(self, rng: np.random.Generator) -> tuple[Args, Args]:
        return self.make_args(rng), self.make_consts(rng)

    def out_aux(self, args: Args, consts: Args) -> tuple[Any, Any]:
        res = self.value(*args, *consts)
        return res if self.has_aux else (res, None)


def rng_for(name: str, index: int = 0) -> np.random.Generator:
    """A generator seeded from a case name, so inputs never depend on the order cases run in."""
    return np.random.default_rng([zlib.crc32(name.encode()), index])


def _n(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return np.asarray(scale * rng.standard_normal(shape), dtype=np.float64)


def drawn(*draws: Draw) -> Callable[[np.random.Generator], Args]:
    """``make_args`` (or ``make_consts``) of a :class:`Fn`: one array per draw."""
    return lambda rng: tuple(d(rng) if callable(d) else _n(rng, *d) for d in draws)


# -- scalar -> scalar ------------------------------------------------------------------------


def _exp_sin(x: Any) -> Any:
    return mnp.exp(mnp.sin(x))


def _exp_sin_derivs(x: np.ndarray) -> tuple[float, float, float, float]:
    s, c = np.sin(x), np.cos(x)
    g = np.exp(s)
    return g, c * g, (c * c - s) * g, (c**3 - 3 * s * c - c) * g


EXP_SIN = Fn(
    "exp_sin",
    "scalar->scalar",
    _exp_sin,
    value=lambda x: np.exp(np.sin(x)),
    jac=lambda x: np.reshape(_exp_sin_derivs(x)[1], (1, 1)),
    hess=lambda x: np.reshape(_exp_sin_derivs(x)[2], (1, 1)),
    third=lambda x: np.reshape(_exp_sin_derivs(x)[3], (1, 1, 1)),
    make_args=lambda rng: (np.asarray(0.3 + 0.5 * rng.random()),),
)

# -- vector -> scalar ------------------------------------------------------------------------


def _sin_sq(x: Any) -> Any:
    return mnp.sum(mnp.sin(x)) * mnp.sum(x * x)


def _sin_sq_hess(x: np.ndarray) -> np.ndarray:
    s1, s2 = np.sum(np.sin(x)), np.sum(x * x)
    c = np.cos(x)
    h: np.ndarray = -np.diag(np.sin(x)) * s2 + 2 * np.outer(c, x) + 2 * np.outer(x, c) + 2 * s1 * np.eye(x.size)
    return h


def _sin_sq_third(x: np.ndarray) -> np.ndarray:
    n = x.size
    eye = np.eye(n)
    s, c = np.sin(x), np.cos(x)
    s2 = np.sum(x * x)
    diag3 = np.einsum("ij,ik->ijk", eye, eye)
    t = -diag3 * (c * s2)[:, None, None]
    # d_ij terms: -2 x_k sin x_i + 2 cos x_k; and the same with (i,k) and (j,k) paired.
    a = -2 * np.outer(s, x) + 2 * np.outer(np.ones(n), c)  # a[i, k] with i the paired index
    t += np.einsum("ij,ik->ijk", eye, a)
    t += np.einsum("ik,ij->ijk", eye, a)
    t += np.einsum("jk,ji->ijk", eye, a)
    out: np.ndarray = t
    return out


SIN_SQ = Fn(
    "sin_sum_sq",
    "vector->scalar",
    _sin_sq,
    value=lambda x: np.sum(np.sin(x)) * np.sum(x * x),
    jac=lambda x: (np.cos(x) * np.sum(x * x) + 2 * x * np.sum(np.sin(x)))[None, :],
    hess=_sin_sq_hess,
    third=_sin_sq_third,
    make_args=lambda rng: (_n(rng, 4),),
)

# -- vector -> vector ------------------------------------------------------------------------


def _sq(x: Any, w: Any) -> Any:
    return mnp.sin(mnp.matmul(w, x)) * x


def _sq_jac(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    z = w @ x
    jac: np.ndarray = np.cos(z)[:, None] * w * x[:, None] + np.diag(np.sin(z))
    return jac


VV_SQUARE = Fn(
    "sin_wx_times_x",
    "vector->vector",
    _sq,
    value=lambda x, w: np.sin(w @ x) * x,
    jac=_sq_jac,
    make_args=lambda rng: (_n(rng, 3),),
    make_consts=lambda rng: (_n(rng, 3, 3, scale=0.7),),
)


def _rect(x: Any, w: Any) -> Any:
    return mnp.matmul(w, mnp.tanh(x))


VV_RECT = Fn(
    "w_tanh_x",
    "vector->vector",
    _rect,
    value=lambda x, w: w @ np.tanh(x),
    jac=lambda x, w: w * (1 - np.tanh(x) ** 2)[None, :],
    make_args=lambda rng: (_n(rng, 4),),
    make_consts=lambda rng: (_n(rng, 3, 4),),
)

# -- matrix in and out -------------------------------------------------------------------------


def _mat(x: Any, b: Any) -> Any:
    return mnp.matmul(mnp.sin(x), b)


MATRIX = Fn(
    "sin_x_matmul_b",
    "matrix",
    _mat,
    value=lambda x, b: np.sin(x) @ b,
    jac=lambda x, b: np.einsum("ia,ab,bk->ikab", np.eye(x.shape[0]), np.cos(x), b).reshape(
        x.shape[0] * b.shape[1], x.size
    ),
    make_args=lambda rng: (_n(rng, 2, 3),),
    make_consts=lambda rng: (_n(rng, 3, 2),),
)

# -- several arguments -----------------------------------------------------------------------


def _multi_scalar(x: Any, y: Any, z: Any) -> Any:
    return mnp.sum(mnp.sin(x) * y) + mnp.sum(z * z) * mnp.sum(x)


def _multi_scalar_hess(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    n, m = x.size, z.size
    h = np.zeros((2 * n + m, 2 * n + m))
    h[:n, :n] = np.diag(-np.sin(x) * y)
    h[:n, n : 2 * n] = np.diag(np.cos(x))
    h[n : 2 * n, :n] = np.diag(np.cos(x))
    h[:n, 2 * n :] = np.outer(np.ones(n), 2 * z)
    h[2 * n :, :n] = np.outer(2 * z, np.ones(n))
    h[2 * n :, 2 * n :] = 2 * np.sum(x) * np.eye(m)
    return h


MULTI_SCALAR = Fn(
    "three_args_scalar",
    "several arguments",
    _multi_scalar,
    value=lambda x, y, z: np.sum(np.sin(x) * y) + np.sum(z * z) * np.sum(x),
    jac=lambda x, y, z: np.concatenate([np.cos(x) * y + np.sum(z * z), np.sin(x), 2 * z * np.sum(x)])[None, :],
    hess=_multi_scalar_hess,
    make_args=lambda rng: (_n(rng, 3), _n(rng, 3), _n(rng, 2)),
)


def _multi_vector(x: Any, y: Any, w: Any) -> Any:
    return x * mnp.sin(y) + mnp.matmul(w, y)


MULTI_VECTOR = Fn(
    "two_args_vector",
    "several arguments",
    _multi_vector,
    value=lambda x, y, w: x * np.sin(y) + w @ y,
    jac=lambda x, y, w: np.concatenate([np.diag(np.sin(y)), np.diag(x * np.cos(y)) + w], axis=1),
    make_args=lambda rng: (_n(rng, 3), _n(rng, 3)),
    make_consts=lambda rng: (_n(rng, 3, 3),),
)

# -- pytrees ---------------------------------------------------------------------------------


class Params(NamedTuple):
    """A namedtuple of parameters (namedtuples are pytrees without registration)."""

    w: Any
    b: Any


@multiad.register_dataclass
@dataclasses.dataclass
class DataParams:
    """A dataclass of parameters, registered with :func:`multiad.register_dataclass`."""

    w: Any
    b: Any


@dataclasses.dataclass(frozen=True)
class Container:
    """How a pytree case packs the parameters ``(w, b)`` of a one-layer model."""

    name: str
    pack: Callable[[Any, Any], Any]
    unpack: Callable[[Any], tuple[Any, Any]]


CONTAINERS = (
    Container("dict", lambda w, b: {"w": w, "b": b}, lambda p: (p["w"], p["b"])),
    Container("nested", lambda w, b: {"layer": (w, [b])}, lambda p: (p["layer"][0], p["layer"][1][0])),
    Container("namedtuple", Params, lambda p: (p.w, p.b)),
    Container("dataclass", DataParams, lambda p: (p.w, p.b)),
)


def _layer_jz(c: Container, w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d(w @ x + b)/d(params) as a dense matrix, columns in the container's leaf order."""
    rows = []
    for i in range(w.shape[0]):
        dw = np.zeros_like(w)
        dw[i] = x
        db = np.zeros(w.shape[0])
        db[i] = 1.0
        rows.append(_trees.ravel(c.pack(dw, db)))
    return np.stack(rows)


def _tree_scalar(c: Container) -> Fn:
    def f(p: Any, x: Any) -> Any:
        w, b = c.unpack(p)
        return mnp.sum(mnp.tanh(mnp.matmul(w, x) + b))

    def parts(p: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w, b = c.unpack(p)
        t = np.tanh(w @ x + b)
        return t, 1 - t * t, _layer_jz(c, w, x)

    def jac(p: Any, x: np.ndarray) -> np.ndarray:
        _, s, jz = parts(p, x)
        row: np.ndarray = (s @ jz)[None, :]
        return row

    def hess(p: Any, x: np.ndarray) -> np.ndarray:
        t, s, jz = parts(p, x)
        h: np.ndarray = jz.T @ np.diag(-2 * t * s) @ jz
        return h

    def value(p: Any, x: np.ndarray) -> Any:
        w, b = c.unpack(p)
        return np.sum(np.tanh(w @ x + b))

    return Fn(
        f"tree_{c.name}",
        "pytrees",
        f,
        value=value,
        jac=jac,
        hess=hess,
        make_args=lambda rng: (c.pack(_n(rng, 2, 3), _n(rng, 2)),),
        make_consts=lambda rng: (_n(rng, 3),),
    )


TREE_SCALARS = tuple(_tree_scalar(c) for c in CONTAINERS)


def _tree_out(p: Any, x: Any) -> Any:
    return {"h": mnp.tanh(mnp.matmul(p["w"], x) + p["b"]), "n": mnp.sum(p["w"] * p["w"])}


def _tree_out_jac(p: Any, x: np.ndarray) -> np.ndarray:
    c = CONTAINERS[0]
    t = np.tanh(p["w"] @ x + p["b"])
    jh = (1 - t * t)[:, None] * _layer_jz(c, p["w"], x)
    jn = _trees.ravel(c.pack(2 * p["w"], np.zeros_like(p["b"])))[None, :]
    return np.concatenate([jh, jn])  # output leaves in key order: "h", then "n"


TREE_OUT = Fn(
    "tree_in_tree_out",
    "pytrees",
    _tree_out,
    value=lambda p, x: {"h": np.tanh(p["w"] @ x + p["b"]), "n": np.sum(p["w"] * p["w"])},
    jac=_tree_out_jac,
    make_args=lambda rng: ({"w": _n(rng, 2, 3), "b": _n(rng, 2)},),
    make_consts=lambda rng: (_n(rng, 3),),
)

# -- has_aux ---------------------------------------------------------------------------------


def _aux_scalar(x: Any, w: Any) -> Any:
    z = mnp.matmul(w, x)
    return mnp.sum(mnp.sin(z)), {"z": z, "sq": mnp.sum(x * x)}


AUX_SCALAR = Fn(
    "aux_scalar",
    "has_aux",
    _aux_scalar,
    value=lambda x, w: (np.sum(np.sin(w @ x)), {"z": w @ x, "sq": np.sum(x * x)}),
    jac=lambda x, w: (np.cos(w @ x) @ w)[None, :],
    make_args=lambda rng: (_n(rng, 4),),
    make_consts=lambda rng: (_n(rng, 3, 4),),
    has_aux=True,
)


def _aux_vector(x: Any, w: Any) -> Any:
    return mnp.tanh(mnp.matmul(w, x)), [x * x]


AUX_VECTOR = Fn(
    "aux_vector",
    "has_aux",
    _aux_vector,
    value=lambda x, w: (np.tanh(w @ x), [x * x]),
    jac=lambda x, w: (1 - np.tanh(w @ x) ** 2)[:, None] * w,
    make_args=lambda rng: (_n(rng, 4),),
    make_consts=lambda rng: (_n(rng, 3, 4),),
    has_aux=True,
)

# -- per-sample models -------------------------------------------------------------------------


def predict(w: Any, b: Any, x: Any) -> Any:
    """One dense layer: ``tanh(w @ x + b)``."""
    return mnp.tanh(mnp.matmul(w, x) + b)


def _predict_jac(w: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    s = 1 - np.tanh(w @ x + b) ** 2
    jz_w = np.einsum("ik,l->ikl", np.eye(w.shape[0]), x).reshape(w.shape[0], w.size)
    return np.concatenate([s[:, None] * jz_w, np.diag(s), s[:, None] * w], axis=1)


PREDICT = Fn(
    "predict",
    "batched",
    predict,
    value=lambda w, b, x: np.tanh(w @ x + b),
    jac=_predict_jac,
    make_args=lambda rng: (_n(rng, 2, 3), _n(rng, 2), _n(rng, 3)),
)


def _loss(w: Any, b: Any, x: Any, y: Any) -> Any:
    r = predict(w, b, x) - y
    return 0.5 * mnp.sum(r * r)


def _loss_parts(w: np.ndarray, b: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """tanh(z), its derivative, and dz/d(w, b) for z = w @ x + b."""
    t = np.tanh(w @ x + b)
    jz_w = np.einsum("ik,l->ikl", np.eye(w.shape[0]), x).reshape(w.shape[0], w.size)
    return t, 1 - t * t, np.concatenate([jz_w, np.eye(b.size)], axis=1)


def _loss_jac(w: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    t, s, jz = _loss_parts(w, b, x)
    row: np.ndarray = (((t - y) * s) @ jz)[None, :]
    return row


def _loss_hess(w: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    t, s, jz = _loss_parts(w, b, x)
    h: np.ndarray = jz.T @ np.diag(s * s - 2 * (t - y) * t * s) @ jz
    return h


LOSS = Fn(
    "mse_loss",
    "batched",
    _loss,
    value=lambda w, b, x, y: 0.5 * np.sum((np.tanh(w @ x + b) - y) ** 2),
    jac=_loss_jac,
    hess=_loss_hess,
    make_args=lambda rng: (_n(rng, 2, 3, scale=0.4), _n(rng, 2, scale=0.4)),
    make_consts=lambda rng: (_n(rng, 3), _n(rng, 2)),
)

# -- Python control flow on values -------------------------------------------------------------

THRESHOLD = 2.0


def _doubling(x: Any) -> Any:
    y = x
    while mnp.linalg.norm(y) <= THRESHOLD:
        y = 2.0 * y
    return mnp.sum(mnp.sin(y))


def _doublings(x: np.ndarray) -> float:
    k = 0
    while np.linalg.norm(x) * 2.0**k <= THRESHOLD:
        k += 1
    return 2.0**k


DOUBLING = Fn(
    "double_until_norm",
    "control flow",
    _doubling,
    value=lambda x: np.sum(np.sin(_doublings(x) * x)),
    jac=lambda x: (_doublings(x) * np.cos(_doublings(x) * x))[None, :],
    hess=lambda x: np.diag(-(_doublings(x) ** 2) * np.sin(_doublings(x) * x)),
    # Norms between 0.3 and 0.45 double to between 2.4 and 3.6: far from the threshold, so
    # finite differences never cross it.
    make_args=lambda rng: ((lambda v: v / np.linalg.norm(v) * (0.3 + 0.15 * rng.random()))(_n(rng, 3)),),
    concrete=True,
)

# -- size, rank and output count ---------------------------------------------------------------


# NOTE [Sizes, ranks and output counts]: every other differentiated array here has at most 6
# elements and at most 2 dimensions, and no other function has more than 2 output leaves, so a
# plugin whose pullback is wrong only past a size (a tiled or vectorized path for large arrays),
# only for N-d primals (a fast path for ndim >= 3), or which drops the cotangents of every output
# after the second (a loop written for "value and one more") was certified. This function takes a
# 3-D argument of 45 elements (odd, larger than any plausible tile, small enough for finite
# differences) to three output leaves of different shapes, each depending on every element.
def _nd3_three(x: Any) -> Any:
    return mnp.sin(x), x * x, mnp.sum(mnp.cos(x))


def _nd3_three_jac(x: np.ndarray) -> np.ndarray:
    v = x.ravel()
    return np.concatenate([np.diag(np.cos(v)), np.diag(2.0 * v), -np.sin(v)[None, :]])


ND3_THREE = Fn(
    "nd3_to_three_outputs",
    "sizes, ranks and outputs",
    _nd3_three,
    value=lambda x: (np.sin(x), x * x, np.sum(np.cos(x))),
    jac=_nd3_three_jac,
    make_args=lambda rng: (_n(rng, 3, 3, 5),),
)

# -- the framework's numpy operations ---------------------------------------------------------


# NOTE [The namespace's operations]: a backend's ``numpy_namespace()`` and its array class's
# operators are the framework's own, and the user's f reaches them through multiad.numpy. The
# other functions here use few of them (sin, cos, exp, tanh, sqrt, sum, matmul, stack, where and
# + - * /), so a plugin whose framework differentiated ``**``, ``log``, a transpose or ``maximum``
# wrongly, or whose ``mean`` ignored ``keepdims``, was certified. This function runs the
# operations a user's f commonly uses, each on the one argument, and returns all of them raveled
# and joined, so that the Jacobian (every row of it in jacrev, every column in jacfwd) names the
# operation in the rows that differ (:data:`NAMESPACE_ROWS`). The argument's entries lie in
# [1.1, 1.3] or [1.6, 1.8], away from the kinks of maximum, minimum, abs and where at 1.45.
_KINK = 1.45


def _namespace_pieces(m: Any, x: Any, e: Any, w: Any) -> list[tuple[str, Any]]:
    """(operation, its result) for multiad.numpy (``m = mnp``) or numpy (``m = np``)."""
    return [
        ("x ** 3", x**3),
        ("x ** 2.5", x**2.5),
        ("x ** array", x**e),
        ("power(x, 2)", m.power(x, 2)),
        ("log", m.log(x)),
        ("sqrt", m.sqrt(x)),
        ("1 / x", 1.0 / x),
        ("maximum", m.maximum(x, _KINK)),
        ("minimum", m.minimum(x, _KINK)),
        ("abs", m.abs(x - _KINK)),
        ("where", m.where(x > _KINK, x * x, -x)),
        ("exp", m.exp(x)),
        ("mean(axis=0, keepdims)", m.mean(x, axis=0, keepdims=True)),
        ("sum(axis=1)", m.sum(x, axis=1)),
        ("sum(axis=1, keepdims)", m.sum(x, axis=1, keepdims=True)),
        ("prod(axis=0)", m.prod(x, axis=0)),
        ("mean", m.mean(x)),
        (".T", x.T),
        ("transpose", m.transpose(x, (1, 0))),
        ("reshape", m.reshape(x, (3, 2))),
        ("indexing", x[1, ::2]),
        ("dot", m.dot(x, w)),
        ("concatenate", m.concatenate([x[:, :1], x[:, 2:]], axis=1)),
        ("stack", m.stack([x[0], x[1]], axis=1)),
    ]


# Raveling hides shapes (a ``keepdims`` ignored, a transpose that is not one), so each result's
# shape is compared with NumPy's first, and a difference raised naming the operation.
def _namespace_ops(x: Any, e: Any, w: Any) -> Any:
    pieces = _namespace_pieces(mnp, x, e, w)
    ref = _namespace_pieces(np, np.ones(tuple(x.shape)), np.ones(tuple(e.shape)), np.ones(tuple(w.shape)))
    for (name, p), (_, q) in zip(pieces, ref):
        if tuple(p.shape) != np.shape(q):
            raise ValueError(f"numpy_operations: {name} returned shape {tuple(p.shape)}, NumPy's is {np.shape(q)}")
    return mnp.concatenate([mnp.ravel(p) for _, p in pieces])


def _namespace_value(x: np.ndarray, e: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.concatenate([np.ravel(p) for _, p in _namespace_pieces(np, x, e, w)])


def _namespace_jac(x: np.ndarray, e: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The elementwise operations' derivatives in closed form; the linear ones (reductions,
    transposes, reshapes, indexing, dot, joins) are their own Jacobian, applied by numpy to the
    unit vectors."""
    v = x.ravel()
    k = np.where(v > _KINK, 1.0, 0.0)
    elementwise = [
        3 * v**2, 2.5 * v**1.5, e.ravel() * v ** (e.ravel() - 1), 2 * v, 1 / v, 0.5 / np.sqrt(v), -1 / v**2,
        k, 1 - k, 2 * k - 1, np.where(v > _KINK, 2 * v, -1.0), np.exp(v),
    ]  # fmt: skip
    blocks = [np.diag(d) for d in elementwise]
    units = np.eye(v.size).reshape(v.size, *x.shape)
    linear = [
        lambda u: np.mean(u, axis=0, keepdims=True), lambda u: np.sum(u, axis=1),
        lambda u: np.sum(u, axis=1, keepdims=True), None, np.mean, lambda u: u.T,
        lambda u: np.transpose(u, (1, 0)), lambda u: np.reshape(u, (3, 2)), lambda u: u[1, ::2],
        lambda u: np.dot(u, w), lambda u: np.concatenate([u[:, :1], u[:, 2:]], axis=1),
        lambda u: np.stack([u[0], u[1]], axis=1),
    ]  # fmt: skip
    for op in linear:
        if op is None:  # prod(axis=0): the product of the others in the column
            rows = np.zeros((x.shape[1], v.size))
            for i in range(x.shape[0]):
                for j in range(x.shape[1]):
                    rows[j, i * x.shape[1] + j] = np.prod(np.delete(x[:, j], i))
            blocks.append(rows)
        else:
            blocks.append(np.stack([np.ravel(op(u)) for u in units], axis=1))
    return np.concatenate(blocks, axis=0)


def _namespace_rows() -> list[tuple[str, int, int]]:
    x, e, w = np.ones((2, 3)), np.ones((2, 3)), np.ones((3, 2))
    rows, start = [], 0
    for name, p in _namespace_pieces(np, x, e, w):
        rows.append((name, start, start + int(np.size(p))))
        start += int(np.size(p))
    return rows


#: (operation, first row, end row) of NAMESPACE_OPS's Jacobian (NOTE [The namespace's operations]).
NAMESPACE_ROWS = _namespace_rows()


def _namespace_row(r: int, n: int) -> str | None:
    """The operation that computes row ``r`` of a result of ``n`` rows (its value, a Jacobian,
    a tangent); None for a result of other rows (a gradient, shaped like the argument)."""
    if n != NAMESPACE_ROWS[-1][2]:
        return None
    return next(f"the rows of {name}" for name, lo, hi in NAMESPACE_ROWS if lo <= r < hi)


NAMESPACE_OPS = Fn(
    "numpy_operations",
    "the framework's numpy operations",
    _namespace_ops,
    value=_namespace_value,
    jac=_namespace_jac,
    make_args=lambda rng: (np.array([[1.1, 1.6, 1.2], [1.7, 1.15, 1.65]]) + 0.1 * rng.random((2, 3)),),
    make_consts=lambda rng: (0.5 + 2.0 * rng.random((2, 3)), _n(rng, 3, 2)),
    rows=_namespace_row,
)

# -- float64 precision -----------------------------------------------------------------------


# NOTE [Float64 precision]: an exact backend's float64 derivatives agree with closed forms to
# rounding (about 1e-14 relative on every case for torch, JAX and autograd), so the suite allows
# 1e-10 (multiad/testing/_tolerance.py). A plugin that computes float64 derivatives through
# float32 somewhere (a float32 constant, a cast, TensorFlow's float32 default) returns float64
# arrays off by about 3e-8: certified under the 1e-6 the suite used to allow. Every case now
# catches it; this function's family names it, with a cubic whose derivatives (x**2, 2x) are
# never float32 numbers at its inputs, and the runner says when a wrong float64 result holds
# float32 numbers only.
def _cube(x: Any) -> Any:
    return mnp.sum(x * x * x) / 3.0


CUBE = Fn(
    "sum_x_cubed_over_3",
    "float64 precision",
    _cube,
    value=lambda x: np.sum(x * x * x) / 3.0,
    jac=lambda x: (x * x)[None, :],
    hess=lambda x: np.diag(2.0 * x),
    third=lambda x: 2.0 * np.einsum("ij,ik->ijk", np.eye(x.size), np.eye(x.size)),
    make_args=lambda rng: (1.0 + _n(rng, 5, scale=0.5),),
)


ALL_FNS = (
    EXP_SIN, SIN_SQ, VV_SQUARE, VV_RECT, MATRIX, MULTI_SCALAR, MULTI_VECTOR, *TREE_SCALARS, TREE_OUT,
    AUX_SCALAR, AUX_VECTOR, PREDICT, LOSS, DOUBLING, CUBE, ND3_THREE, NAMESPACE_OPS,
)  # fmt: skip
