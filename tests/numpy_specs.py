"""Argument forms for every name of multiad.numpy, checked against numpy by test_numpy_namespace.

Each name maps to calls ``C(args, kwargs, diff)``: numpy arrays in ``args`` become the backend's
arrays, Python numbers and lists stay as they are (numpy's argument forms), and ``diff`` names
the positions differentiated (against finite differences of numpy's own function): an ``int`` is
an argument, a pair ``(i, j)`` is the array ``args[i][j]`` inside a list argument (``stack``,
``concatenate``, ...). Inputs are
drawn away from kinks, ties and domain edges, so the finite differences are accurate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

rng = np.random.default_rng(0)


def u(*shape: int, lo: float = 0.2, hi: float = 0.9) -> np.ndarray:
    """Distinct values in (lo, hi), no ties."""
    n = int(np.prod(shape, dtype=int))
    vals = lo + (hi - lo) * (np.arange(n) + rng.uniform(0.1, 0.9, n)) / max(n, 1)
    return rng.permutation(vals).reshape(shape)


def as_kind(kind: str, x: Any) -> Any:
    """``x`` (a numpy array) as a new array of ``kind``: "torch", "jax", or numpy otherwise."""
    if kind == "torch":
        import torch

        return torch.from_numpy(np.array(x))
    if kind == "jax":
        import jax.numpy as jnp

        return jnp.asarray(x)
    return np.array(x)


def spd(n: int) -> np.ndarray:
    a = u(n, n, lo=-1.0, hi=1.0)
    return a @ a.T + n * np.eye(n)


@dataclass
class C:
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    diff: tuple[int | tuple[int, int], ...] = (0,)


def _unary(lo: float = 0.2, hi: float = 0.9, diff: bool = True) -> list[C]:
    d = (0,) if diff else ()
    return [
        C((u(2, 3, lo=lo, hi=hi),), diff=d),
        C((np.array(u(1, lo=lo, hi=hi)[0]),), diff=d),
        C(([float(v) for v in u(3, lo=lo, hi=hi)],), diff=()),
        C((float(u(1, lo=lo, hi=hi)[0]),), diff=()),
    ]


def _binary(lo: float = 0.2, hi: float = 0.9, diff: bool = True, lo2: float | None = None) -> list[C]:
    lo2 = lo if lo2 is None else lo2
    d2, d1, d0 = ((0, 1), (0,), (1,)) if diff else ((), (), ())
    return [
        C((u(2, 3, lo=lo, hi=hi), u(3, lo=lo2, hi=hi)), diff=d2),
        C((0.45, u(2, 3, lo=lo2, hi=hi)), diff=d0),
        C((u(2, 3, lo=lo, hi=hi), 0.55), diff=d1),
        C((u(2, 3, lo=lo, hi=hi), u(2, 3, lo=lo2, hi=hi)), diff=d2),
        C((np.array(0.35), u(3, lo=lo2, hi=hi)), diff=d2),
        C(([0.3, 0.6], u(2, lo=lo2, hi=hi)), diff=d0),
    ]


def _reduction(diff: bool = True, lo: float = 0.2, hi: float = 0.9) -> list[C]:
    d = (0,) if diff else ()
    x = u(2, 3, 4, lo=lo, hi=hi)
    return [
        C((x,), diff=d),
        C((x,), {"axis": -1}, diff=d),
        C((x,), {"axis": (0, 2), "keepdims": True}, diff=d),
        C((x,), {"axis": None, "keepdims": True}, diff=d),
        C((x, 1), diff=d),
        C((np.array(u(1, lo=lo, hi=hi)[0]),), diff=d),
        C(([[0.3, 0.5], [0.7, 0.2]],), {"axis": 0}, diff=()),
    ]


def _scan() -> list[C]:
    x = u(3, 4)
    return [C((x,)), C((x,), {"axis": -1}), C((x, 0)), C(([0.3, 0.5, 0.2],), diff=())]


UNARY = {
    **{n: _unary() for n in "sin cos tan arcsin arccos arctan sinh cosh tanh arctanh exp exp2 expm1".split()},
    **{n: _unary() for n in "log log1p log2 log10 sqrt square cbrt reciprocal deg2rad rad2deg radians".split()},
    **{n: _unary() for n in "degrees negative positive conj conjugate nan_to_num copy".split()},
    **{n: _unary(-0.9, 0.9) for n in "real imag angle".split()},
    "arcsinh": _unary(-0.8, 0.9),
    "arccosh": _unary(1.2, 3.0),
    "sinc": _unary(0.1, 0.9),
    "abs": _unary(-0.9, 0.9),
    "absolute": _unary(-0.9, 0.9),
    "fabs": _unary(-0.9, 0.9),
    **{n: _unary(-2.9, 2.9) for n in "sign floor ceil trunc fix rint round around".split()},
    **{n: _unary(diff=False) for n in "isnan isinf isfinite signbit logical_not".split()},
}
BINARY = {
    **{n: _binary() for n in "add subtract multiply divide true_divide power arctan2 hypot".split()},
    **{n: _binary() for n in "logaddexp logaddexp2 float_power".split()},
    **{n: _binary(-0.9, 0.9) for n in "maximum minimum fmax fmin copysign".split()},
    **{n: _binary(0.3, 2.9, lo2=0.3) for n in "mod remainder fmod floor_divide".split()},
    **{n: _binary(-0.9, 0.9, diff=False) for n in "greater greater_equal less less_equal equal not_equal".split()},
    **{n: _binary(-0.9, 0.9, diff=False) for n in "logical_and logical_or logical_xor isclose heaviside".split()},
}
REDUCTIONS = {
    **{n: _reduction() for n in "sum prod mean max min amax amin ptp".split()},
    **{n: _reduction(diff=False) for n in "all any count_nonzero".split()},
    "std": _reduction() + [C((u(3, 4),), {"ddof": 1, "axis": 0})],
    "var": _reduction() + [C((u(3, 4),), {"ddof": 1, "axis": 0})],
    "median": [C((u(3, 5),)), C((u(3, 4),), {"axis": -1}), C((u(4, 3),), {"axis": 0, "keepdims": True})],
    "average": [C((u(3, 4),)), C((u(3, 4),), {"axis": 1, "weights": u(4)}), C((u(3, 4), 0, u(3)), diff=(0, 2))],
}
X34 = u(3, 4)
_P = u(3, 3, lo=-1.0, hi=1.0) + 2.0 * np.eye(3)
REAL_SPECTRUM = _P @ np.diag([0.5, 1.5, 3.0]) @ np.linalg.inv(_P)  # not symmetric, distinct real eigenvalues
M3 = u(3, 3, lo=-1.0, hi=1.0)
OTHER: dict[str, list[C]] = {
    "cumsum": _scan(),
    "cumprod": _scan(),
    "sort": [C((u(3, 4),)), C((u(3, 4),), {"axis": 0}), C((u(3, 4),), {"axis": None})],
    "argsort": [C((u(3, 4),), diff=()), C((u(3, 4),), {"axis": 0}, diff=())],
    "argmax": [C((X34,), diff=()), C((X34,), {"axis": -1}, diff=()), C((X34, 0), diff=())],
    "argmin": [C((X34,), diff=()), C((X34,), {"axis": -1}, diff=()), C((X34, 0), diff=())],
    "diff": [C((u(3, 4),)), C((u(3, 4),), {"n": 2, "axis": 0}), C((u(4),), {"prepend": 0.1, "append": 0.2})],
    "gradient": [C((u(5),)), C((u(5), 0.5)), C((u(3, 4),), {"axis": -1}), C((u(3, 4),))],
    "clip": [
        C((u(2, 3), 0.3, 0.7)),
        C((u(2, 3),), {"a_min": 0.3, "a_max": 0.7}),
        C((u(2, 3),), {"min": 0.4, "max": None}),
        C((u(2, 3), u(3, lo=0.0, hi=0.25), 0.6), diff=(0, 1)),
    ],
    "where": [
        C((u(2, 3) > 0.5, u(2, 3), u(2, 3)), diff=(1, 2)),
        C((u(2, 3) > 0.5, u(2, 3), 0.0), diff=(1,)),
        C((u(3) > 0.5, 1.0, u(2, 3)), diff=(2,)),
    ],
    "matmul": [C((u(2, 3), u(3, 4)), diff=(0, 1)), C((u(3), u(3, 2)), diff=(0, 1)), C((u(2, 2, 3), u(3)), diff=(0, 1))],
    "dot": [
        C((u(3), u(3)), diff=(0, 1)),
        C((u(2, 3), u(3, 2)), diff=(0, 1)),
        C((np.array(0.5), u(3)), diff=(0, 1)),
        C((u(2, 3), 2.0), diff=(0,)),
        C((u(2, 2, 3), u(3, 2)), diff=(0, 1)),
        C(([0.2, 0.4], u(2)), diff=(1,)),
    ],
    "vdot": [C((u(2, 3), u(2, 3)), diff=(0, 1))],
    "inner": [C((u(3), u(3)), diff=(0, 1)), C((u(2, 3), u(4, 3)), diff=(0, 1)), C((np.array(0.5), u(3)), diff=(0, 1))],
    "outer": [C((u(3), u(2)), diff=(0, 1)), C((u(2, 2), u(2)), diff=(0, 1))],
    "tensordot": [
        C((u(2, 3), u(3, 4)), {"axes": 1}, diff=(0, 1)),
        C((u(3), u(3, 2)), {"axes": [-1, 0]}, diff=(0, 1)),
        C((u(2, 3, 4), u(3, 4, 2)), diff=(0, 1)),
        C((u(2, 3), u(2, 3)), {"axes": ([0, 1], [0, 1])}, diff=(0, 1)),
    ],
    "einsum": [
        C(("ij,jk->ik", u(2, 3), u(3, 2)), diff=(1, 2)),
        C(("ii", u(3, 3)), diff=(1,)),
        C((u(2, 3), [0, 1], u(3, 2), [1, 2], [0, 2]), diff=(0, 2)),
    ],
    "kron": [C((u(2, 2), u(2, 3)), diff=(0, 1)), C((u(2), u(3)), diff=(0, 1))],
    "cross": [
        C((u(3), u(3)), diff=(0, 1)),
        C((u(2, 3), u(3)), diff=(0, 1)),
        C((u(3, 2), u(3, 2)), {"axis": 0}, diff=(0, 1)),
    ],
    "trace": [C((u(3, 3),)), C((u(3, 4),), {"offset": 1}), C((u(2, 3, 3),), {"axis1": 1, "axis2": 2})],
    "diagonal": [C((u(3, 3),)), C((u(3, 4),), {"offset": -1}), C((u(2, 3, 3),), {"axis1": 1, "axis2": 2})],
    "diag": [C((u(3, 3),)), C((u(3),)), C((u(3),), {"k": 1}), C((u(3, 4), -1))],
    "diagflat": [C((u(2, 2),)), C((u(3), 1))],
    "tril": [C((u(3, 3),)), C((u(3, 4),), {"k": -1}), C((u(2, 3, 3), 1))],
    "triu": [C((u(3, 3),)), C((u(3, 4),), {"k": 1}), C((u(2, 3, 3), -1))],
    "reshape": [C((u(2, 3), (3, 2))), C((u(2, 3), -1)), C((u(6),), {"shape": (2, -1)})],
    "ravel": [C((u(2, 3),))],
    "transpose": [C((u(2, 3),)), C((u(2, 3, 4), (1, 0, 2))), C((u(2, 3, 4),), {"axes": (-1, 0, 1)})],
    "swapaxes": [C((u(2, 3, 4), 0, -1))],
    "moveaxis": [C((u(2, 3, 4), 0, -1)), C((u(2, 3, 4), (0, 1), (2, 0)))],
    "expand_dims": [C((u(2, 3), 0)), C((u(2, 3), -1)), C((u(2, 3), (0, 3)))],
    "squeeze": [C((u(1, 3, 1),)), C((u(1, 3, 1),), {"axis": -1}), C((u(1, 3, 1), (0, 2)))],
    "broadcast_to": [C((u(3), (2, 3))), C((np.array(0.5), 4))],
    "broadcast_arrays": [C((u(3), u(2, 1)), diff=(0, 1))],
    "atleast_1d": [C((np.array(0.5),)), C((u(2, 3),))],
    "atleast_2d": [C((np.array(0.5),)), C((u(3),)), C((u(2, 3),))],
    "atleast_3d": [C((np.array(0.5),)), C((u(3),)), C((u(2, 3),))],
    "stack": [C(([u(3), u(3)],), diff=((0, 0), (0, 1))), C(([u(3), u(3)],), {"axis": -1}, diff=())],
    "concatenate": [
        C(([u(2, 3), u(1, 3)],), diff=((0, 0), (0, 1))),
        C(([u(2, 3), u(2, 1)],), {"axis": -1}, diff=()),
        C(([u(2, 3), u(2)],), {"axis": None}, diff=()),
    ],
    "vstack": [C(([u(3), u(2, 3)],), diff=((0, 0), (0, 1)))],
    "hstack": [C(([u(3), u(2)],), diff=((0, 0), (0, 1))), C(([u(2, 3), u(2, 1)],), diff=())],
    "dstack": [C(([u(3), u(3)],), diff=((0, 0), (0, 1)))],
    "column_stack": [C(([u(3), u(3, 2)],), diff=((0, 0), (0, 1)))],
    "append": [C((u(3), u(2)), diff=(0, 1)), C((u(2, 3), u(1, 3)), {"axis": 0}, diff=(0, 1))],
    "split": [C((u(6), 3)), C((u(6), [1, 4])), C((u(2, 6), 2), {"axis": -1})],
    "array_split": [C((u(7), 3)), C((u(2, 5), [2]), {"axis": 1})],
    "vsplit": [C((u(4, 3), 2))],
    "hsplit": [C((u(3, 4), 2)), C((u(4), 2))],
    "dsplit": [C((u(2, 2, 4), 2))],
    "tile": [C((u(3), 2)), C((u(2, 3), (2, 1, 2)))],
    "repeat": [C((u(3), 2)), C((u(2, 3), 2), {"axis": -1}), C((u(2, 3), [1, 2]), {"axis": 0})],
    "flip": [C((u(2, 3),)), C((u(2, 3),), {"axis": -1}), C((u(2, 3, 2), (0, 2)))],
    "fliplr": [C((u(2, 3),))],
    "flipud": [C((u(2, 3),))],
    "rot90": [C((u(2, 3),)), C((u(2, 3), 3)), C((u(2, 3, 4),), {"axes": (1, 2)})],
    "roll": [C((u(5), 2)), C((u(2, 3), -1), {"axis": 1}), C((u(2, 3), 1))],
    "pad": [
        C((u(3), 1)),
        C((u(2, 3), ((1, 0), (0, 2))), {"constant_values": 0.5}),
        C((u(2, 3), 1), {"mode": "edge"}),
        C((u(4), (2, 1)), {"mode": "reflect"}),
        C((u(2, 3), 2), {"mode": "wrap"}),
        # odd reflection: 2 * edge - mirrored, chunk after chunk past the length
        C((u(5), 2), {"mode": "reflect", "reflect_type": "odd"}),
        C((u(4), (3, 1)), {"mode": "symmetric", "reflect_type": "odd"}),
        C((u(3), (7, 4)), {"mode": "reflect", "reflect_type": "odd"}),
        C((u(2, 3), ((3, 1), (4, 5))), {"mode": "symmetric", "reflect_type": "odd"}),
    ],
    "take": [C((u(5), [0, 3, -1])), C((u(2, 4), [[0, 1], [3, 3]]), {"axis": 1}), C((u(3, 4), 2, -1))],
    "take_along_axis": [C((u(2, 3), np.array([[0, 2], [1, 1]]), 1)), C((u(2, 3), np.array([[1, 0, 1]]), 0))],
    "meshgrid": [C((u(3), u(2)), diff=(0, 1)), C((u(3), u(2)), {"indexing": "ij"}, diff=(0, 1))],
    "zeros_like": [C((u(2, 3),), diff=())],
    "ones_like": [C((u(2, 3),), diff=())],
    "full_like": [C((u(2, 3), 0.5), diff=())],
    "array": [C(([u(3), u(3)],), diff=((0, 0), (0, 1))), C(([[0.5, 1.0]],), diff=())],
    "asarray": [C(([u(2), u(2)],), diff=((0, 0), (0, 1)))],
    "stop_gradient": [C((u(3),), diff=())],
    "astype": [C((u(3), "float32"), diff=())],
    "linalg.norm": [
        C((u(3),)),
        C((u(2, 3),)),
        C((u(2, 3),), {"axis": -1, "keepdims": True}),
        C((u(2, 3),), {"ord": 1, "axis": 0}),
        C((u(3, 3),), {"ord": "fro"}),
        C((u(3, 3),), {"ord": 2}),
        C((u(3),), {"ord": np.inf}),
        C(([0.3, 0.4],), diff=()),
    ],
    "linalg.inv": [C((spd(3),)), C((np.stack([spd(2), spd(2)]),))],
    "linalg.det": [C((M3,)), C((np.stack([spd(2), M3[:2, :2]]),))],
    "linalg.slogdet": [C((M3,)), C((spd(3),))],
    "linalg.solve": [C((spd(3), u(3)), diff=(0, 1)), C((spd(3), u(3, 2)), diff=(0, 1))],
    "linalg.cholesky": [C((spd(3),))],
    "linalg.svd": [C((u(3, 2),), {"full_matrices": False}), C((u(2, 3),), {"compute_uv": False})],
    "linalg.eigh": [C((spd(3),))],
    "linalg.eigvalsh": [C((spd(3),))],
    "linalg.eig": [C((REAL_SPECTRUM,)), C((np.stack([REAL_SPECTRUM, REAL_SPECTRUM.T]),))],
    "linalg.eigvals": [C((REAL_SPECTRUM,)), C((np.stack([REAL_SPECTRUM, spd(3)]),))],
    "linalg.pinv": [C((u(3, 2),))],
    "linalg.qr": [C((u(3, 2),))],
    "linalg.matrix_power": [C((M3, 3)), C((spd(2), -1))],
    "linalg.multi_dot": [C(([u(2, 3), u(3, 3), u(3)],), diff=((0, 0), (0, 1), (0, 2)))],
}
SPECS: dict[str, list[C]] = {**UNARY, **BINARY, **REDUCTIONS, **OTHER}

NANX = u(3, 4)
NANX[1, 2] = np.nan
EXTRAS: dict[str, list[C]] = {
    "acos": _unary(),
    "asin": _unary(),
    "atan": _unary(),
    "atanh": _unary(),
    "asinh": _unary(-0.8, 0.9),
    "acosh": _unary(1.2, 3.0),
    "atan2": _binary(),
    "pow": _binary(),
    "concat": OTHER["concatenate"],
    "row_stack": OTHER["vstack"],
    "trapezoid": [C((u(5),)), C((u(3, 4),), {"dx": 0.5, "axis": 0}), C((u(4), np.sort(u(4))), diff=(0, 1))],
    "cov": [C((u(3, 5),)), C((u(5, 3),), {"rowvar": False, "ddof": 0}), C((u(5), u(5)), diff=(0, 1))],
    "corrcoef": [C((u(3, 5),)), C((u(5), u(5)), diff=(0, 1))],
    **{
        n: [C((NANX,)), C((NANX,), {"axis": 1}), C((u(2, 3),), {"axis": 0, "keepdims": True})]
        for n in "nansum nanprod nanmax nanmin nanmean nanvar nanstd".split()
    },
    **{n: [C((NANX,)), C((NANX,), {"axis": 1}), C((u(2, 3), 0))] for n in "nancumsum nancumprod".split()},
    "nanmedian": [C((NANX,)), C((NANX,), {"axis": 1}), C((u(2, 3),), {"axis": 0, "keepdims": True})],
    **{
        name: [
            C((u(3, 5), 0.3 * scale)),
            C((u(3, 4), [0.0, 0.1 * scale, 0.5 * scale, 1.0 * scale]), {"axis": -1}),
            C((u(4, 3), np.array([0.25, 0.8]) * scale), {"axis": 0, "keepdims": True, "method": "median_unbiased"}),
            C((u(3, 4), 0.6 * scale), {"axis": (0, 1), "method": "nearest"}),
            C((u(2, 3, 4), 0.45 * scale), {"axis": (0, 2), "method": "averaged_inverted_cdf"}),
        ]
        for name, scale in (("quantile", 1.0), ("percentile", 100.0))
    },
    **{
        name: [
            C((NANX, 0.3 * scale)),
            C((NANX, [0.2 * scale, 0.7 * scale]), {"axis": 1}),
            C((NANX, 0.4 * scale), {"axis": 0, "keepdims": True, "method": "hazen"}),
            C((NANX, 0.4 * scale), {"axis": 1, "method": "lower"}),
        ]
        for name, scale in (("nanquantile", 1.0), ("nanpercentile", 100.0))
    },
    "convolve": [
        C((u(5), u(3)), diff=(0, 1)),
        C((u(3), u(5)), {"mode": "same"}, diff=(0, 1)),
        C((u(4), u(4)), {"mode": "valid"}, diff=(0, 1)),
        C(([0.5, 1.0], u(3)), diff=(1,)),
    ],
    "correlate": [
        C((u(5), u(3)), diff=(0, 1)),
        C((u(3), u(6)), {"mode": "full"}, diff=(0, 1)),
        C((u(4), u(2)), {"mode": "same"}, diff=(0, 1)),
    ],
    "interp": [
        C((u(6, lo=-0.5, hi=3.5), np.array([0.0, 0.7, 1.5, 2.2, 3.0]), u(5)), diff=(0, 1, 2)),
        C((u(2, 3, lo=0.0, hi=3.0), np.array([0.0, 1.0, 3.0]), u(3)), {"left": -1.0, "right": 2.0}, diff=(0, 2)),
        C((u(4, lo=0.0, hi=10.0), np.array([0.5, 2.0, 3.5]), u(3)), {"period": 4.0}, diff=(0, 2)),
        C((1.7, [0.0, 1.0, 2.0], [1.0, 3.0, 2.0]), diff=()),
    ],
    "unwrap": [
        C((np.cumsum(u(8, lo=-4.0, hi=4.0)),)),
        C((np.cumsum(u(3, 5, lo=-4.0, hi=4.0), axis=0),), {"axis": 0}),
        C((np.cumsum(u(6, lo=-3.0, hi=3.0)),), {"period": 3.0, "discont": 2.0}),
    ],
    "i0": _unary(-12.0, 12.0),
    "block": [
        C(([u(3), u(2)],), diff=((0, 0), (0, 1))),
        C(([[u(2, 2), u(2, 1)], [u(1, 3)]],), diff=()),
        C(([[u(2)], [u(2)]],), diff=()),
    ],
    "geomspace": [
        C((u(2) + 0.5, u(2) + 2.0), {"num": 4}, diff=(0, 1)),
        C((-(u(3) + 0.5), -3.0, 5), {"endpoint": False}),
        C((np.array(0.5), np.array(8.0)), {"num": 3, "axis": 0}, diff=(0, 1)),
    ],
    "polyval": [C((u(3), u(4)), diff=(0, 1)), C(([0.5, -1.0, 2.0], u(2, 2)), diff=(1,))],
    "vander": [C((u(3),)), C((u(3), 4), {"increasing": True})],
    "select": [C(([u(4) > 0.5, u(4) > 0.3], [u(4), u(4)], 0.5), diff=((1, 0), (1, 1)))],
    "divmod": [C((u(4, lo=0.3, hi=2.9), u(4, lo=0.3, hi=0.9)), diff=(0, 1))],
    "modf": [C((u(4, lo=-2.9, hi=2.9),))],
    "ldexp": [C((u(4), np.array([1, -2, 0, 3])))],
    "unstack": [C((u(2, 3),)), C((u(2, 3),), {"axis": 1})],
    "vecdot": [C((u(2, 3), u(3)), diff=(0, 1)), C((u(3, 2), u(3, 2)), {"axis": 0}, diff=(0, 1))],
    "matvec": [C((u(2, 3), u(3)), diff=(0, 1))],
    "vecmat": [C((u(3), u(3, 2)), diff=(0, 1))],
    "rollaxis": [C((u(2, 3, 4), 2)), C((u(2, 3, 4), 0, 2))],
    "matrix_transpose": [C((u(2, 3, 4),))],
    "permute_dims": [C((u(2, 3, 4), (2, 0, 1)))],
    "isposinf": [C((np.array([1.0, np.inf, -np.inf]),), diff=())],
    "isneginf": [C((np.array([1.0, np.inf, -np.inf]),), diff=())],
    "cumulative_sum": [C((u(4),)), C((u(2, 3),), {"axis": 1, "include_initial": True})],
    "cumulative_prod": [C((u(4),)), C((u(2, 3),), {"axis": 0, "include_initial": True})],
    "ediff1d": [C((u(2, 3),)), C((u(4),), {"to_begin": 0.5, "to_end": np.array([1.0, 2.0])})],
    "linalg.cond": [C((spd(3),))],
    "allclose": [C((X34, X34 + 1e-9), diff=()), C((X34, 0.5), diff=())],
    "array_equal": [C((X34, X34.copy()), diff=()), C((X34, X34[:2]), diff=())],
    "array_equiv": [C((X34[:1], np.broadcast_to(X34[:1], (3, 4))), diff=()), C((X34, X34[:2]), diff=())],
    "linalg.svdvals": [C((u(3, 2),))],
    "linalg.vector_norm": [
        C((u(2, 3),)),
        C((u(2, 3),), {"axis": 1, "ord": 1}),
        # a tuple of axes is one vector, not a matrix (linalg.norm's reading)
        C((u(2, 3, 4),), {"axis": (0, 1)}),
        C((u(2, 3, 4),), {"axis": (2, 0), "ord": 1, "keepdims": True}),
        C((u(2, 3, 4),), {"axis": (-1, 1), "ord": np.inf}),
        C((u(2, 3, 4),), {"axis": (0, 1, 2), "ord": 3}),
    ],
    "linalg.matrix_norm": [C((u(2, 3, 3),)), C((u(3, 3),), {"ord": 1})],
    "linalg.matrix_transpose": [C((u(2, 3),))],
    "linalg.outer": [C((u(3), u(2)), diff=(0, 1))],
    "linalg.matmul": [C((u(2, 3), u(3, 2)), diff=(0, 1))],
    "linalg.tensordot": [C((u(2, 3), u(3, 2)), {"axes": 1}, diff=(0, 1))],
    "linalg.trace": [C((u(2, 3, 3),), {"offset": 1})],
    "linalg.diagonal": [C((u(2, 3, 3),))],
    "linalg.cross": [C((u(2, 3), u(2, 3)), diff=(0, 1))],
    "linalg.vecdot": [C((u(2, 3), u(2, 3)), diff=(0, 1))],
}
SPECS.update(EXTRAS)
