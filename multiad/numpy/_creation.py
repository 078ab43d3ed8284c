"""Creation functions: they make arrays of the selected backend with numpy's dtypes (see NOTE
[Creation dtypes]), unless an argument is already a framework's array (``array([x, 2 * x])``,
``linspace(a, b)`` of traced values), which they follow.

NOTE [Creation dtypes]: ``multiad.numpy`` promises numpy's semantics, so a creation function
gives the dtype numpy gives (``zeros(2)`` and ``asarray([1.0])`` are float64, ``arange(3)`` and
``full(2, 1)`` int64) on torch too, whose own default float dtype (float32) is a preference for
new tensors, not a limit (for every backend whose ``framework`` is torch, a third-party one
over ``torch.autograd`` included, not only the backend named "torch", and for every backend
declaring ``creates_float64``: TensorFlow's float32 default is a preference too, and its
operators refuse to mix float32 with float64, so a plugin over it whose ``mnp.ones(2)`` was
float32 made ``x + mnp.ones(2)`` of a float64 ``x`` raise). JAX computes in float64 only with its x64 mode on; without it, float64
data becomes float32 and int64 int32, silently, as ``jax.numpy``'s own creation functions do
(``multiad.asarray`` of a float64 numpy array warns instead: that is data losing precision). An
explicit ``dtype`` (any spelling: ``"float32"``, ``np.float32``, ``torch.float32``) wins.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _arrays, _select
from .._errors import MultiADError
from . import _dispatch
from ._outer import errors_named


def canonical_dtype_name(dtype: Any, call: str) -> str | None:
    """numpy's name of a dtype in any spelling (``"float32"``, ``np.float32``, a numpy dtype,
    ``float``, a torch dtype); None stays None."""
    if dtype is None:
        return None
    if isinstance(dtype, str):  # first: torch.compile cannot read str's module name
        if dtype == "bfloat16":
            return dtype
    elif type(dtype).__module__.partition(".")[0] == "torch":
        return str(dtype).rsplit(".", 1)[-1]
    try:
        name: str = np.dtype(dtype).name
    except TypeError:
        spelled = _framework_dtype_name(dtype)
        if spelled is not None:
            return spelled
        raise TypeError(
            f"{call}: {dtype!r} is not a dtype; give a numpy dtype name such as 'float32', a numpy type such "
            "as np.float32, or a framework's dtype (torch.float32, x.dtype of a backend's array)"
        ) from None
    return name


# NOTE [Framework dtypes by name]: a plugin's arrays have their framework's dtype objects, which
# numpy does not read (TensorFlow's tf.float32, which x.dtype of a tf.Tensor gives), so
# mnp.asarray(c, dtype=x.dtype), the way to make a constant in the argument's dtype, refused
# them. Such an object names itself the numpy way (tf.float32.name == "float32"), as
# Backend.dtype_name reads it; a name numpy knows (or bfloat16) is taken, anything else refused.
def _framework_dtype_name(dtype: Any) -> str | None:
    spelled = getattr(dtype, "name", None)
    if isinstance(dtype, type) or not isinstance(spelled, str):
        return None
    if spelled == "bfloat16":
        return spelled
    try:
        return str(np.dtype(spelled).name)
    except TypeError:
        return None


def _make(data: np.ndarray, dtype: Any, device: Any, call: str) -> Any:
    """``data`` (numpy's result, of numpy's dtype) as an array of the selected backend."""
    b = _select.get_backend()
    name = canonical_dtype_name(dtype, call)
    # NOTE [Creation dtypes]: torch's float32 default is a preference, for any backend over torch
    # (data.dtype read last: Dynamo cannot trace ndarray.dtype, and on torch it is not needed)
    if name is None and not _arrays.keeps_float64(b) and data.dtype == np.float64:
        name = b.default_dtype()  # JAX without x64: float32, silently
    try:
        return b.asarray(data, dtype=name, device=device)
    except Exception as exc:
        if isinstance(exc, (TypeError, ValueError)):
            _no_object_ints(data, b.name, call)
        if device is None or isinstance(exc, MultiADError):
            raise
        raise _arrays.not_placed(b, call, "the result", device, exc) from exc


def _no_object_ints(data: np.ndarray, backend: str, call: str) -> None:
    """NOTE [Python ints no dtype holds]: numpy makes an object array of a Python int outside
    int64 and uint64 (``asarray(2**64)``, ``array(-2**63 - 1)``, ``full(2, 2**64)``), which torch
    and JAX refuse with their own errors ("can't convert np.ndarray of type numpy.object_",
    "Error interpreting argument to stage as a JAX value"). Where a backend refuses such an
    array, the int is named in an OverflowError, numpy's error where a dtype must hold it
    (``asarray(2**64, dtype="uint64")``); other refusals stand. Read on the refusal only."""
    if data.dtype != object:
        return
    for v in data.flat:
        if isinstance(v, int) and not -(2**63) <= v <= 2**64 - 1:
            raise OverflowError(
                f"{call}: Python int {v} is outside int64 and uint64, the integers {backend} arrays hold "
                "(numpy makes an object array of it); give integers within [-2**63, 2**64 - 1], or a "
                "float (dtype='float64') for an approximate value"
            )


def zeros(shape: Any, dtype: Any = None, device: Any = None) -> Any:
    """An array of zeros of the selected backend (float64 by default, as in numpy)."""
    return _make(_numpy_made("mnp.zeros", np.zeros, shape), dtype, device, "mnp.zeros")


def ones(shape: Any, dtype: Any = None, device: Any = None) -> Any:
    """An array of ones of the selected backend (float64 by default, as in numpy)."""
    return _make(_numpy_made("mnp.ones", np.ones, shape), dtype, device, "mnp.ones")


def empty(shape: Any, dtype: Any = None, device: Any = None) -> Any:
    """An array of the selected backend (filled with zeros: multiad never hands out garbage)."""
    return _make(_numpy_made("mnp.empty", np.zeros, shape), dtype, device, "mnp.empty")


def full(shape: Any, fill_value: Any, dtype: Any = None, device: Any = None) -> Any:
    """A constant array of the selected backend, of ``fill_value``'s dtype by default (numpy's
    rule: ``full(2, 1)`` holds int64, ``full(2, 1.0)`` float64). A ``fill_value`` that is a
    framework's array (a value being differentiated) is broadcast instead: the result is of its
    framework and differentiable in it, on every backend (also while a transform traces it)."""
    if _dispatch.like(fill_value, call="mnp.full") != "numpy":  # NOTE [Traced fill values]
        from .. import numpy as mnp

        value = fill_value if dtype is None else mnp.astype(fill_value, canonical_dtype_name(dtype, "mnp.full"))
        dims = (shape,) if isinstance(shape, int) else tuple(shape)
        if any(d < 0 for d in dims):  # numpy's ValueError, named
            raise ValueError("mnp.full: negative dimensions are not allowed")
        return _filled(value, dims, "mnp.full")
    given = _numpy_dtype(dtype, "mnp.full")  # None: numpy's own dtype
    return _make(_numpy_made("mnp.full", np.full, shape, fill_value, given), dtype, device, "mnp.full")


def _numpy_dtype(dtype: Any, call: str) -> str | None:
    """NOTE [Values made in the dtype asked for]: numpy makes ``full(3, 2**63 + 5,
    dtype="uint64")`` and ``asarray([0, 2**63 + 5], dtype="uint64")`` in the dtype asked for,
    exactly, and raises OverflowError for an int the dtype cannot hold (``full(3, -1,
    dtype="uint64")``). Made without it and cast afterwards, the values were numpy's own
    choice first: ``[0, 2**63 + 5]`` is float64 (int64 and uint64 have no common integer
    dtype), which gave ``[0, 2**63]``, and ``-1`` wrapped to ``2**64 - 1`` silently. So the
    dtype, where numpy knows it (not bfloat16), is given to numpy's function."""
    name = canonical_dtype_name(dtype, call)
    return None if name is None or name == "bfloat16" else name


# NOTE [Spaced values made outside a compiler's trace]: torch.compile traces numpy's functions
# through its own implementation of them, which lacks some of their options: ``linspace`` with
# ``endpoint=False`` or ``retstep=True``, and ``geomspace`` (its branches on values). The values
# of ``linspace``, ``logspace`` and ``geomspace`` of Python numbers depend on those numbers alone,
# so they are made by :func:`_numpy_values`, which carries the compiler's constant-result mark:
# numpy's own function runs as ordinary Python, and the array enters the compiled program as a
# constant (a call with other numbers traces again: they are guarded as any value the trace reads).
def _numpy_values(name: str, *args: Any, **kwargs: Any) -> Any:
    """numpy's ``name(*args, **kwargs)``, as ordinary Python while a compiler traces (the mark below)."""
    return getattr(np, name)(*args, **kwargs)


setattr(_numpy_values, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


# NOTE [Counts of spaced values]: a length read from a traced shape (``linspace(0, 1,
# x.shape[0])``) is a symbolic int once torch.compile has seen a second shape, which no
# constant-result function can take ("assume_constant_result argument conversion failed"):
# under ``fullgraph=True`` the call raised from the second shape on. ``num`` is taken with
# ``operator.index`` first, as numpy takes it: a symbolic int becomes the int it stands for (the
# compiled program is then made for that length, as for any length numpy's values depend on),
# and a float raises numpy's TypeError, named with the call.
def _count(num: Any, call: str) -> int:
    """``num`` as numpy's count of values (NOTE [Counts of spaced values])."""
    try:
        return operator.index(num)
    except TypeError as e:
        raise TypeError(f"{call}: {e}") from None


def _linspace_step(start: Any, stop: Any, num: int, endpoint: bool) -> Any:
    """numpy's step of ``linspace`` of Python numbers, as a Python float (a compiler takes no
    numpy scalar from a constant-result function), as ordinary Python while a compiler traces."""
    return float(np.linspace(start, stop, num, endpoint=endpoint, retstep=True)[1])


setattr(_linspace_step, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


def _numpy_made(call: str, make: Callable[..., np.ndarray], *args: Any) -> np.ndarray:
    """numpy's array made by ``make(*args)``, numpy's own errors for a bad shape (``negative
    dimensions are not allowed``, a shape that is not integers) named with ``call``."""
    try:
        return make(*args)
    except (ValueError, TypeError, OverflowError) as exc:
        if type(exc) not in (ValueError, TypeError, OverflowError):  # numpy's subclasses pass unchanged
            raise
        raise type(exc)(f"{call}: {exc}") from None


# NOTE [Traced fill values]: ``full`` built its array with numpy (a traced fill became an object
# array: torch and JAX raised that numpy met a traced value, autograd returned one of its boxes
# as the gradient), and torch's ``full_like`` takes a Python number only while autograd's
# ``full_like`` has no derivative in the fill (its gradient was 0). A fill value that is a
# framework's array is broadcast to the shape and copied, which every framework differentiates.


def _filled(value: Any, shape: tuple[int, ...], call: str) -> Any:
    """A new array of ``shape`` holding ``value`` (an array of a framework) broadcast as numpy's
    ``copyto`` does: leading axes of length 1 beyond ``shape``'s are dropped (``[1.0]`` fills a
    0-d array)."""
    from .. import numpy as mnp

    have = tuple(value.shape)
    extra = len(have) - len(shape)
    if extra > 0 and all(n == 1 for n in have[:extra]):
        value = mnp.reshape(value, have[extra:])
    try:
        fits = np.broadcast_shapes(tuple(value.shape), shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{call}: could not broadcast input array from shape {have} into shape {shape}")
    return mnp.copy(mnp.broadcast_to(value, shape))


def _integer_fill(a: Any, fill_value: Any, lib: str, dtype: Any = None) -> Any:
    """NOTE [Integer fill values as numpy casts them]: numpy's ``full_like`` of an integer, float
    or bool array casts an integer fill into the array's dtype: a numpy scalar as its cast does
    (``np.uint64(2**63 + 5)`` into int8 is 5), a Python int with OverflowError where the dtype
    cannot hold it (``-1`` into uint8). torch and JAX wrapped the Python int (255), torch refused
    the numpy scalar ("an integer is required") and JAX an int above ``2**63 - 1``, also into
    float64. The fill is cast by numpy here, into ``dtype`` where one is given (torch refused
    ``np.uint64(2**63 + 5)`` for ``dtype="uint64"`` too): a Python number for torch, a numpy
    scalar of the dtype for JAX (which takes a uint64 above ``2**63 - 1`` so)."""
    from ._composite import dtype_name

    if not isinstance(fill_value, (int, np.integer, np.bool_)):
        return fill_value
    try:
        dtype = np.dtype(dtype_name(a) if dtype is None else canonical_dtype_name(dtype, "mnp.full_like"))
    except TypeError:  # bfloat16: the framework's own cast
        return fill_value
    if dtype.kind not in "iufb":  # bool too: np.uint64(2**64 - 1) is True, 2**63 numpy's OverflowError
        return fill_value
    cast = _numpy_made("mnp.full_like", np.full, (), fill_value, dtype)[()]  # numpy's cast, or its OverflowError
    return cast.item() if lib == "torch" else cast


def fill_follows(full_like: Any) -> Any:
    """``full_like`` (the dispatching one), broadcasting a fill value that is a framework's
    array (NOTE [Traced fill values])."""

    def wrapped(a: Any, fill_value: Any, *args: Any, **kwargs: Any) -> Any:
        if _dispatch.like(fill_value, call="mnp.full_like") == "numpy":
            lib = _dispatch.like(a, call="mnp.full_like")
            # (a Python number first: Dynamo traces np.ndim as a torch op, which returns no tensor)
            if (
                lib in ("numpy", "autograd")
                or isinstance(fill_value, (int, float, complex))
                or np.ndim(fill_value) == 0
            ):
                if isinstance(fill_value, np.ndarray):  # 0-d: its scalar (torch's full_like takes a number only)
                    fill_value = fill_value[()]
                if lib in ("torch", "jax") and not args:
                    fill_value = _integer_fill(a, fill_value, lib, kwargs.get("dtype"))
                try:
                    return full_like(a, fill_value, *args, **kwargs)
                except OverflowError as exc:  # numpy's, of a fill the dtype cannot hold: named
                    if str(exc).startswith("mnp."):
                        raise
                    raise OverflowError(f"mnp.full_like: {exc}") from None
            # a list or numpy array of fills on torch or JAX (whose full_like take a number only):
            # as a framework's array, broadcast below
            fill_value = _dispatch.to_array(lib, np.asarray(fill_value))
        from .. import numpy as mnp
        from ._composite import dtype_name

        base = mnp.zeros_like(a, *args, **kwargs)  # numpy's shape and dtype of the result
        return _filled(mnp.astype(fill_value, dtype_name(base)), tuple(base.shape), "mnp.full_like")

    wrapped.__name__ = wrapped.__qualname__ = "full_like"
    wrapped.__doc__ = full_like.__doc__
    return errors_named("full_like")(wrapped)


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None, device: Any = None) -> Any:
    """An identity matrix (ones on diagonal ``k``) of the selected backend."""
    return _make(np.eye(N, M, k), dtype, device, "mnp.eye")


def identity(n: int, dtype: Any = None, device: Any = None) -> Any:
    """The ``n`` by ``n`` identity matrix of the selected backend."""
    return _make(np.eye(n), dtype, device, "mnp.identity")


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None, device: Any = None) -> Any:
    """Ones at and below diagonal ``k``, of the selected backend (float64 by default, as in numpy).

    numpy's float64 is asked for by name: under torch.compile, Dynamo runs ``np.tri`` as its
    own numpy on torch, whose ``tri`` makes torch's default float32, so that the compiled
    ``mnp.tri(3)`` was float32 where the eager one is float64."""
    return _make(np.tri(N, M, k, dtype=np.float64), dtype, device, "mnp.tri")


def arange(*args: Any, dtype: Any = None, device: Any = None, **kwargs: Any) -> Any:
    """Evenly spaced values in an interval, of the selected backend: int64 for integer
    arguments, float64 for floats, as in numpy."""
    name = canonical_dtype_name(dtype, "mnp.arange")
    if name is not None and name != "bfloat16":  # numpy's values in the dtype (see NOTE [arange in a dtype])
        return _make(np.arange(*args, dtype=name, **kwargs), dtype, device, "mnp.arange")
    return _make(np.arange(*args, **kwargs), dtype, device, "mnp.arange")


# NOTE [arange in a dtype]: numpy's ``arange(start, stop, step, dtype=d)`` computes its first two
# values in ``d`` and steps by their difference: ``arange(-3, 3, 0.5, dtype=int)`` is -3, -2, ...,
# 8 and ``arange(0, 5, 0.5, dtype=int)`` ten zeros (numpy's docstring shows both). Casting the
# float64 values afterwards gave -3, -2, -2, -1, ... and 0, 0, 1, 1, ...: numpy's own arange makes
# the values, and only a dtype numpy lacks (torch's bfloat16) is cast afterwards.


def _floats(v: Any) -> Any:
    """An endpoint as numpy's ``v * 1.0``: integers become floats; Python numbers stay weak."""
    from .. import numpy as mnp
    from ._composite import inexact

    if isinstance(v, (bool, int, np.bool_)) and not isinstance(v, np.integer):
        return float(v)
    if isinstance(v, (list, tuple)) or (hasattr(v, "dtype") and not inexact(v)):
        return mnp.multiply(v, 1.0)
    return v


def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
    device: Any = None,
) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop``: arrays of the endpoints'
    framework (differentiable in them) when they are arrays, else of the selected backend."""
    lib = _dispatch.like(start, stop, call="mnp.linspace")
    num = _count(num, "mnp.linspace")  # NOTE [Counts of spaced values]
    if lib == "numpy" and not isinstance(start, np.ndarray) and not isinstance(stop, np.ndarray):
        name = None if dtype is None else canonical_dtype_name(dtype, "mnp.linspace")
        # NOTE [Spaced values made outside a compiler's trace]
        values = _numpy_values("linspace", start, stop, num, endpoint=endpoint, dtype=name, axis=axis)
        out = _make(values, None, device, "mnp.linspace")
        if not retstep:
            return out
        return out, np.float64(_linspace_step(start, stop, num, endpoint))
    from .. import numpy as mnp
    from ._composite import numpy_result

    fractions = _numpy_values("linspace", 0.0, 1.0, num, endpoint=endpoint)
    want = numpy_result("linspace", start, stop)
    if want in ("float16", "float32"):  # numpy's dtype: the endpoints' float dtype, not float64
        fractions = fractions.astype(want)
    # numpy computes in floats (``start * 1.0``): integer endpoints would wrap in ``stop - start``.
    start, stop = _floats(start), _floats(stop)
    span = mnp.subtract(stop, start)
    shape = (num,) + (1,) * len(getattr(span, "shape", ()))
    out = mnp.add(start, mnp.multiply(fractions.reshape(shape), span))
    if axis != 0:
        out = mnp.moveaxis(out, 0, axis)
    if dtype is not None:
        name = canonical_dtype_name(dtype, "mnp.linspace")
        if name is not None and name != "bfloat16" and np.issubdtype(np.dtype(name), np.integer):
            out = mnp.floor(out)  # numpy rounds towards -inf for an integer dtype, not towards 0
        out = mnp.astype(out, dtype)
    if retstep:
        div = num - 1 if endpoint else num
        return out, (mnp.divide(span, div) if div > 0 else np.nan)  # numpy's step of one value: nan
    return out


def array(
    object: Any,  # noqa: A002 - numpy's name
    dtype: Any = None,
    device: Any = None,
    *,
    copy: bool | None = True,
    order: str | None = None,
    ndmin: int = 0,
    **kwargs: Any,
) -> Any:
    """numpy's ``array``: nested lists of arrays and numbers become one array, stacked, of the
    arrays' framework (also of traced values inside a transform); without a framework's array,
    an array of the selected backend (see ``multiad.asarray``). An array argument is copied,
    as in numpy, on every backend (writing into the result leaves the argument as it was), and
    ``ndmin`` prepends length-one axes, as in numpy."""
    out = _convert(object, dtype, device, kwargs, "mnp.array")
    if copy:
        out = _copied(out, object)  # NOTE [array copies]
    return _at_least(out, ndmin, "mnp.array")


def asarray(
    a: Any, dtype: Any = None, order: str | None = None, *, device: Any = None, copy: bool | None = None, **kwargs: Any
) -> Any:
    """numpy's ``asarray``: ``array`` without a copy of an array argument of the selected
    backend's type (``copy=True`` copies it)."""
    out = _convert(a, dtype, device, kwargs, "mnp.asarray")
    return _copied(out, a) if copy else out


def _convert(object: Any, dtype: Any, device: Any, kwargs: dict[str, Any], call: str) -> Any:  # noqa: A002
    from ._misc import astype

    if kwargs:  # numpy's subok, ndmax: no meaning for the frameworks' arrays (like=: NOTE [Creation like=])
        raise TypeError(f"{call}: unsupported keyword argument(s) {', '.join(sorted(kwargs))}; leave them out")
    lib = _dispatch.like(object, call=call)
    if lib != "numpy":
        out = _dispatch.to_array(lib, object) if isinstance(object, (list, tuple)) else object
        return out if dtype is None else astype(out, dtype)
    if isinstance(object, (list, tuple, bool, int, float, complex)):  # numpy's dtype (NOTE [Creation dtypes])
        given = _numpy_dtype(dtype, call)  # NOTE [Values made in the dtype asked for]
        data = np.asarray(object) if given is None else _numpy_made(call, np.asarray, object, given)
        return _make(data, dtype, device, call)
    if isinstance(object, np.ndarray) and _select.compiling():
        # NOTE [numpy arrays in compiled code]: a tensor in numpy's clothes, whose type the
        # compiler cannot ask for its module (multiad.asarray's backend inference): an array of
        # the backend in force, as the creation functions give.
        return _make(object, dtype, device, call)
    return _arrays.asarray(object, dtype=canonical_dtype_name(dtype, call), device=device)


def _copied(out: Any, source: Any) -> Any:
    """NOTE [array copies]: numpy's ``array(x)`` copies an array ``x``, so writing into the
    result leaves ``x`` as it was; ``multiad.asarray`` (and torch's ``as_tensor`` under it)
    returns ``x`` itself or shares its memory where it can. Mutable results made from an array
    (numpy arrays, torch tensors) are copied; JAX arrays and autograd's boxes are immutable."""
    if isinstance(source, (list, tuple)) or (not isinstance(source, np.ndarray) and np.isscalar(source)):
        return out  # newly made (np.isscalar does not trace on a numpy array under torch.compile)
    if isinstance(out, np.ndarray):
        return out.copy()
    if type(out).__module__.partition(".")[0] == "torch":
        return out.clone()
    return out


def _at_least(out: Any, ndmin: int, call: str) -> Any:
    """``out`` with length-one axes prepended up to ``ndmin`` axes (numpy's ``ndmin``)."""
    if not isinstance(ndmin, (int, np.integer)) or isinstance(ndmin, bool):
        raise TypeError(f"{call}: ndmin must be an integer, got {ndmin!r}")
    shape = tuple(out.shape)
    if len(shape) >= ndmin:
        return out
    from .. import numpy as mnp

    return mnp.reshape(out, (1,) * (int(ndmin) - len(shape)) + shape)


def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None, axis: int = 0) -> Any:
    """``num`` values from ``start`` to ``stop`` spaced evenly on a log scale (numpy's geomspace:
    the signs of ``start``, the endpoints exact): arrays of the endpoints' framework
    (differentiable in them) when they are arrays, else of the selected backend. Known zero
    endpoints raise ValueError, as in numpy; traced ones give nan."""
    lib = _dispatch.like(start, stop, call="mnp.geomspace")
    num = _count(num, "mnp.geomspace")  # NOTE [Counts of spaced values]
    name = canonical_dtype_name(dtype, "mnp.geomspace")
    known = [v for v in (start, stop) if _dispatch.like(v) == "numpy"]
    # A Python number compared as itself: a compiler traces numpy's comparison as a branch on data.
    if any(v == 0 if isinstance(v, (int, float)) else np.any(np.asarray(v) == 0) for v in known):
        raise ValueError("mnp.geomspace: a geometric sequence cannot include zero; give nonzero start and stop")
    if lib == "numpy" and not isinstance(start, np.ndarray) and not isinstance(stop, np.ndarray):
        try:
            values = _numpy_values("geomspace", start, stop, num, endpoint=endpoint, dtype=name, axis=axis)
        except (TypeError, ValueError) as e:
            raise type(e)(f"mnp.geomspace: {e}") from None
        return _make(values, None, None, "mnp.geomspace")
    from .. import numpy as mnp
    from ._composite import cast_as_numpy, dtype_name, result_type_name

    first, last = mnp.multiply(start, 1.0), mnp.multiply(stop, 1.0)
    want = result_type_name(dtype_name(first), dtype_name(last), "float64")  # numpy's: float64 at least
    first, last = cast_as_numpy(first, want), cast_as_numpy(last, want)
    sign = mnp.sign(first)
    first, last = mnp.broadcast_arrays(mnp.divide(first, sign), mnp.divide(last, sign))
    out = mnp.logspace(mnp.log10(first), mnp.log10(last), num, endpoint=endpoint)
    if num > 0:  # numpy's endpoints are the arguments themselves, not 10 ** log10 of them
        ends = [mnp.expand_dims(first, 0)]
        inner = num - 1 if (endpoint and num > 1) else num
        if inner > 1:
            ends.append(mnp.take(out, list(range(1, inner)), axis=0))
        if endpoint and num > 1:
            ends.append(mnp.expand_dims(last, 0))
        out = mnp.concatenate(ends, axis=0) if len(ends) > 1 else ends[0]
    out = mnp.multiply(sign, out)
    if axis != 0:
        out = mnp.moveaxis(out, 0, axis)
    return out if name is None else mnp.astype(out, name)
