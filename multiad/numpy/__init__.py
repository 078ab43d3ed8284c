"""Numpy-named functions that run on every backend.

Each function dispatches on its arguments' types, also while they are traced by a backend's
transforms (torch.func's wrapped tensors, JAX tracers, autograd boxes), so a function written
once with ``multiad.numpy`` runs on every backend with numpy's semantics (``axis``,
``keepdims``, Python scalars, tuples of axes, also on torch). Where the frameworks' derivatives
disagree (at a kink such as ``abs`` at 0, at ties of ``maximum``, ``std`` of equal values), one
value is chosen and given on every backend. Results have numpy's dtypes on every backend (on
torch too, whose type promotion differs). Creation functions (``zeros``, ``eye``, ...) have no
array argument to follow: they make arrays of the selected backend (see
``multiad.get_backend``) with numpy's dtypes (``zeros(2)`` is float64 on torch too; JAX
without its x64 mode makes float32), or, with numpy's ``like=x``, of ``x``'s backend (NOTE
[Creation like=]). Names numpy has that are absent here are listed, with
reasons, in ``ABSENT``.

Example:
    >>> import multiad.numpy as mnp, numpy as np
    >>> float(mnp.sum(mnp.sin(np.zeros(3)) + 1.0))
    3.0
"""

# The design behind the docstring: NOTE [Numpy namespace design] (_dispatch.py), NOTE [Derivative
# conventions] (_composite.py), NOTE [numpy dtypes on torch] (_torch_dtypes.py) and NOTE [Creation
# dtypes] (_creation.py).

from __future__ import annotations

import math as _math
from typing import TYPE_CHECKING, Any

# numpy's own scalar types (mnp.float32 is np.float32): NOTE [Dtype names in multiad.numpy]
from numpy import bool as bool  # noqa: A004 - numpy's name
from numpy import bool_ as bool_
from numpy import byte as byte
from numpy import cdouble as cdouble
from numpy import complex64 as complex64
from numpy import complex128 as complex128
from numpy import csingle as csingle
from numpy import double as double
from numpy import float16 as float16
from numpy import float32 as float32
from numpy import float64 as float64
from numpy import half as half
from numpy import int8 as int8
from numpy import int16 as int16
from numpy import int32 as int32
from numpy import int64 as int64
from numpy import int_ as int_
from numpy import intc as intc
from numpy import intp as intp
from numpy import long as long
from numpy import longlong as longlong
from numpy import short as short
from numpy import single as single
from numpy import ubyte as ubyte
from numpy import uint as uint
from numpy import uint8 as uint8
from numpy import uint16 as uint16
from numpy import uint32 as uint32
from numpy import uint64 as uint64
from numpy import uintc as uintc
from numpy import uintp as uintp
from numpy import ulong as ulong
from numpy import ulonglong as ulonglong
from numpy import ushort as ushort

from . import linalg as linalg
from ._absent import ABSENT as ABSENT
from ._absent import absent_name_error as _absent_name_error
from ._composite import average as average
from ._composite import cbrt as cbrt
from ._composite import clip as clip
from ._composite import dot as dot
from ._composite import inner as inner
from ._composite import median as median
from ._composite import outer as outer
from ._composite import ptp as ptp
from ._composite import std as std
from ._composite import var as var
from ._composite import vdot as vdot
from ._conventions import arctan2 as arctan2
from ._conventions import fmax as fmax
from ._conventions import fmin as fmin
from ._conventions import heaviside as heaviside
from ._conventions import hypot as hypot
from ._conventions import sinc as sinc
from ._creation import arange as arange
from ._creation import array as array
from ._creation import asarray as asarray
from ._creation import empty as empty
from ._creation import eye as eye
from ._creation import fill_follows as _fill_follows
from ._creation import full as full
from ._creation import geomspace as geomspace
from ._creation import identity as identity
from ._creation import linspace as linspace
from ._creation import ones as ones
from ._creation import tri as tri
from ._creation import zeros as zeros
from ._dispatch import ALL as _ALL
from ._dispatch import SEQUENCE as _SEQ
from ._dispatch import dispatching as _d
from ._dispatch import passes_all as _passes_all
from ._dtype_names import finfo as finfo
from ._dtype_names import iinfo as iinfo
from ._extras import corrcoef as corrcoef
from ._extras import cov as cov
from ._extras import cumulative_prod as cumulative_prod
from ._extras import cumulative_sum as cumulative_sum
from ._extras import divmod as divmod  # noqa: A004 - numpy's name
from ._extras import ediff1d as ediff1d
from ._extras import einsum as einsum
from ._extras import isneginf as isneginf
from ._extras import isposinf as isposinf
from ._extras import ldexp as ldexp
from ._extras import least_ndim as _least_ndim
from ._extras import logspace as logspace
from ._extras import matrix_transpose as matrix_transpose
from ._extras import matvec as matvec
from ._extras import modf as modf
from ._extras import nancumprod as nancumprod
from ._extras import nancumsum as nancumsum
from ._extras import nanmax as nanmax
from ._extras import nanmean as nanmean
from ._extras import nanmin as nanmin
from ._extras import nanprod as nanprod
from ._extras import nanstd as nanstd
from ._extras import nansum as nansum
from ._extras import nanvar as nanvar
from ._extras import permute_dims as permute_dims
from ._extras import polyval as polyval
from ._extras import rollaxis as rollaxis
from ._extras import select as select
from ._extras import traced_replacements as _traced_replacements
from ._extras import trapezoid as trapezoid
from ._extras import unstack as unstack
from ._extras import vander as vander
from ._extras import vecdot as vecdot
from ._extras import vecmat as vecmat
from ._index import c_ as c_
from ._index import r_ as r_
from ._keywords import wrap_module as _wrap_module
from ._layout import block as block
from ._layout import diff as diff
from ._layout import gradient as gradient
from ._layout import pad as pad
from ._layout import rot90 as rot90
from ._layout import trace as trace
from ._misc import array_equal as array_equal
from ._misc import array_equiv as array_equiv
from ._misc import astype as astype
from ._misc import copy as copy
from ._misc import ndim as ndim
from ._misc import shape as shape
from ._misc import size as size
from ._misc import stop_gradient as stop_gradient
from ._quantile import nanmedian as nanmedian
from ._quantile import nanpercentile as nanpercentile
from ._quantile import nanquantile as nanquantile
from ._quantile import percentile as percentile
from ._quantile import quantile as quantile
from ._signal import convolve as convolve
from ._signal import correlate as correlate
from ._signal import i0 as i0
from ._signal import interp as interp
from ._signal import unwrap as unwrap

pi = _math.pi
e = _math.e
inf = _math.inf
nan = _math.nan
euler_gamma = 0.5772156649015329
newaxis = None

# Elementwise math of one array.
sin = _d("sin", "Sine")
cos = _d("cos", "Cosine")
tan = _d("tan", "Tangent")
arcsin = _d("arcsin", "Inverse sine")
arccos = _d("arccos", "Inverse cosine")
arctan = _d("arctan", "Inverse tangent")
sinh = _d("sinh", "Hyperbolic sine")
cosh = _d("cosh", "Hyperbolic cosine")
tanh = _d("tanh", "Hyperbolic tangent")
arcsinh = _d("arcsinh", "Inverse hyperbolic sine")
arccosh = _d("arccosh", "Inverse hyperbolic cosine")
arctanh = _d("arctanh", "Inverse hyperbolic tangent")
exp = _d("exp", "Exponential")
exp2 = _d("exp2", "2 to the power x")
expm1 = _d("expm1", "exp(x) - 1")
log = _d("log", "Natural logarithm")
log1p = _d("log1p", "log(1 + x)")
log2 = _d("log2", "Base-2 logarithm")
log10 = _d("log10", "Base-10 logarithm")
sqrt = _d("sqrt", "Square root")
square = _d("square", "Square")
abs = _d("abs", "Absolute value")  # noqa: A001 - numpy's name
absolute = _d("absolute", "Absolute value")
fabs = _d("fabs", "Absolute value (floating)")
sign = _d("sign", "Sign")
negative = _d("negative", "Negation")
positive = _d("positive", "Unary plus (a copy)")
reciprocal = _d("reciprocal", "1 / x")
floor = _d("floor", "Floor")
ceil = _d("ceil", "Ceiling")
trunc = _d("trunc", "Truncation towards zero")
fix = _d("fix", "Rounding towards zero")
rint = _d("rint", "Rounding to the nearest integer (half to even)")
round = _d("round", "Rounding to given decimals (half to even)")  # noqa: A001 - numpy's name
around = _d("around", "Rounding to given decimals (half to even)")
deg2rad = _d("deg2rad", "Degrees to radians")
rad2deg = _d("rad2deg", "Radians to degrees")
radians = _d("radians", "Degrees to radians")
degrees = _d("degrees", "Radians to degrees")
conj = _d("conj", "Complex conjugate (the identity on real arrays)")
conjugate = _d("conjugate", "Complex conjugate (the identity on real arrays)")
# NOTE [Parts of complex arrays] in _torch_complex.py
real = _d("real", "Real part (the array itself for real arrays)")
imag = _d("imag", "Imaginary part (zeros of the array's dtype for real arrays)")
angle = _d("angle", "Counterclockwise angle from the positive real axis, angle(z, deg=False)")
nan_to_num = _traced_replacements(_d("nan_to_num", "Replace nan and infinities by numbers"))
isnan = _d("isnan", "Test for nan")
isinf = _d("isinf", "Test for infinity")
isfinite = _d("isfinite", "Test for finite values")
signbit = _d("signbit", "Test the sign bit")
logical_not = _d("logical_not", "Logical not")
# Elementwise math of two arrays (broadcasting, Python numbers allowed).
add = _d("add", "Sum", 2)
subtract = _d("subtract", "Difference", 2)
multiply = _d("multiply", "Product", 2)
divide = _d("divide", "True division", 2)
true_divide = _d("true_divide", "True division", 2)
floor_divide = _d("floor_divide", "Division rounded down", 2)
mod = _d("mod", "Remainder with the sign of the divisor", 2)
remainder = _d("remainder", "Remainder with the sign of the divisor", 2)
fmod = _d("fmod", "Remainder with the sign of the dividend", 2)
power = _d("power", "Power", 2)
float_power = _d("float_power", "Power in float64", 2)
maximum = _d("maximum", "Elementwise maximum", 2)
minimum = _d("minimum", "Elementwise minimum", 2)
logaddexp = _d("logaddexp", "log(exp(x1) + exp(x2))", 2)
logaddexp2 = _d("logaddexp2", "log2(2**x1 + 2**x2)", 2)
copysign = _d("copysign", "Magnitude of x1 with the sign of x2", 2)
greater = _d("greater", "x1 > x2", 2)
greater_equal = _d("greater_equal", "x1 >= x2", 2)
less = _d("less", "x1 < x2", 2)
less_equal = _d("less_equal", "x1 <= x2", 2)
equal = _d("equal", "x1 == x2", 2)
not_equal = _d("not_equal", "x1 != x2", 2)
logical_and = _d("logical_and", "Logical and", 2)
logical_or = _d("logical_or", "Logical or", 2)
logical_xor = _d("logical_xor", "Logical exclusive or", 2)
isclose = _d("isclose", "Elementwise closeness test", 2)
allclose = _d("allclose", "Whether all elements are close", 2)
where = _d("where", "Select by a condition", 3)
# Reductions and scans.
sum = _d("sum", "Sum")  # noqa: A001 - numpy's name
prod = _d("prod", "Product")
mean = _d("mean", "Mean")
max = _d("max", "Maximum")  # noqa: A001 - numpy's name
min = _d("min", "Minimum")  # noqa: A001 - numpy's name
amax = _d("amax", "Maximum")
amin = _d("amin", "Minimum")
all = _d("all", "Whether all elements are true")  # noqa: A001 - numpy's name
any = _d("any", "Whether any element is true")  # noqa: A001 - numpy's name
cumsum = _d("cumsum", "Cumulative sum")
cumprod = _d("cumprod", "Cumulative product")
argmax = _d("argmax", "Index of the maximum")
argmin = _d("argmin", "Index of the minimum")
sort = _d("sort", "Sorted copy")
argsort = _d("argsort", "Indices that sort (stable)")
count_nonzero = _d("count_nonzero", "Number of non-zero elements")
# Linear algebra.
matmul = _d("matmul", "Matrix product", 2)
tensordot = _d("tensordot", "Tensor dot product over given axes", 2)
kron = _d("kron", "Kronecker product", 2)
cross = _d("cross", "Cross product of 3-vectors", 2)
diagonal = _d("diagonal", "A diagonal")
diag = _d("diag", "Diagonal of a matrix, or a matrix from a diagonal")
diagflat = _d("diagflat", "A matrix with the flattened input on a diagonal")
tril = _d("tril", "Lower triangle")
triu = _d("triu", "Upper triangle")
# Shapes, joining, splitting, indexing.
reshape = _d("reshape", "Reshape")
ravel = _d("ravel", "Flatten")
transpose = _d("transpose", "Permute axes (reverse them by default)")
swapaxes = _d("swapaxes", "Swap two axes")
moveaxis = _d("moveaxis", "Move axes")
expand_dims = _d("expand_dims", "Insert length-one axes")
squeeze = _d("squeeze", "Remove length-one axes")
broadcast_to = _d("broadcast_to", "Broadcast to a shape")
broadcast_arrays = _d("broadcast_arrays", "Broadcast arrays against each other", _ALL)
atleast_1d = _d("atleast_1d", "View with at least one axis", _ALL)
atleast_2d = _d("atleast_2d", "View with at least two axes", _ALL)
atleast_3d = _d("atleast_3d", "View with at least three axes", _ALL)
stack = _d("stack", "Stack along a new axis", _SEQ)
concatenate = _d("concatenate", "Join along an axis", _SEQ)
vstack = _d("vstack", "Stack rows", _SEQ)
hstack = _d("hstack", "Stack columns", _SEQ)
dstack = _d("dstack", "Stack along the third axis", _SEQ)
column_stack = _d("column_stack", "Stack 1-d arrays as columns", _SEQ)
append = _d("append", "Append values (flattened without an axis)", 2)
split = _d("split", "Split into equal parts or at indices")
array_split = _d("array_split", "Split into nearly equal parts or at indices")
vsplit = _least_ndim(_d("vsplit", "Split along the first axis"), 2)
hsplit = _least_ndim(_d("hsplit", "Split along the second axis"), 1)
dsplit = _least_ndim(_d("dsplit", "Split along the third axis"), 3)
tile = _d("tile", "Repeat the whole array")
repeat = _d("repeat", "Repeat elements", 2)
flip = _d("flip", "Reverse the order along axes (all by default)")
fliplr = _d("fliplr", "Reverse the second axis")
flipud = _d("flipud", "Reverse the first axis")
roll = _d("roll", "Roll elements along an axis")
take = _d("take", "Elements at indices along an axis (numpy's indexing rules)", 2)
take_along_axis = _d("take_along_axis", "Elements at matching indices along an axis", 2)
meshgrid = _d("meshgrid", "Coordinate matrices from coordinate vectors", _ALL)
zeros_like = _d("zeros_like", "Zeros shaped like the argument")
ones_like = _d("ones_like", "Ones shaped like the argument")
full_like = _fill_follows(_d("full_like", "A constant shaped like the argument"))
empty_like = _d("empty_like", "An array shaped like the argument")

# numpy's array-API names for the functions above.
acos, acosh, asin, asinh, atan, atanh = arccos, arccosh, arcsin, arcsinh, arctan, arctanh
atan2, pow, concat, row_stack = arctan2, power, concatenate, vstack  # noqa: A001 - numpy's names

_wrap_module(globals(), "", _passes_all)  # NOTE [Keywords numpy has]
_wrap_module(vars(linalg), "linalg.", _passes_all)

if not TYPE_CHECKING:  # a module __getattr__ would make every attribute Any to a type checker

    def __getattr__(name: str) -> Any:
        """NOTE [Absent names say why]: ``mnp.searchsorted`` raises numpy's AttributeError with
        the reason ``ABSENT`` gives, so that the error says what to use instead."""
        raise _absent_name_error(__name__, name)


# isidentifier: pytest's assertion rewriting (multiad ships a pytest plugin) adds "@py_builtins".
__all__ = [
    n for n in dir() if n.isidentifier() and not n.startswith("_") and n not in ("annotations", "Any", "TYPE_CHECKING")
]


def __dir__() -> list[str]:
    """The public names alone (``dir`` listed the private modules and helpers too)."""
    return sorted(__all__)
