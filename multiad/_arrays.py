"""Array conversion at the boundary of every transform, and the public asarray/to_numpy.

NOTE [Conversion policy]: with a backend chosen, numpy arrays and Python numbers among the
arguments become that backend's arrays (without a copy where the framework allows); arrays of
another framework raise MixedBackendError naming both. Arguments that are differentiated must
hold floating-point arrays: integer, boolean and complex inputs raise InvalidTypeError (complex
differentiation conventions differ between frameworks, and multiad does not pick one silently).
Arguments that are not differentiated keep Python numbers and non-array leaves as they are, so
they can carry static configuration.

NOTE [Python float arguments]: a Python ``float`` that is differentiated (an argument, or a leaf
of one) is converted as the float64 0-d numpy array it is in numpy's semantics, on every
backend: float64 on torch and on JAX with x64, and on JAX without x64 float32 with the same
AccuracyWarning as a float64 numpy array (NOTE [float64 input without x64] in backends/jax);
``multiad.asarray`` of a Python float does the same, and a Python ``complex`` becomes complex128
as in numpy (torch's own conversion gave complex64, 1.5e-9 off for ``0.1 + 1e-9j``). It took the backend's default dtype, so
``grad(lambda z: z**2)(1.0 + 1e-7)`` gave a float32 ``2.0000002384`` on torch and on JAX
without x64, without a warning, where autograd and numpy gave float64 ``2.0000002``. Python
ints and bools stay refused (their dtype is not a float), and a Python float that is not
differentiated reaches f unchanged (vmap's ``None`` arguments too), where it combines with
arrays as a weak scalar on every backend, as in numpy and the frameworks (``x * 0.5`` keeps
``x``'s dtype). Only this branch, for leaves that are not arrays, pays for the test.
"""

from __future__ import annotations

import numbers
import sys
from typing import Any

import numpy as np

from . import _registry, _select, _tree
from ._backend import CONVERTING, Backend
from ._errors import (
    InvalidArgumentError,
    InvalidTypeError,
    MixedBackendError,
    MultiADError,
    NonDifferentiableError,
    an,
)
from ._ops import traced_now

# NOTE [Differentiated float dtypes]: the float dtypes multiad differentiates, the same on every
# backend: float16, bfloat16, float32 and float64. numpy's longdouble (float128 on x86) is refused
# with InvalidTypeError even where the framework computes it (HIPS autograd, a numpy-based plugin):
# torch and JAX have no such dtype, the suite's tolerances, the numpy backend's step sizes and the
# float32/float64 checks of results are written for these four, and a gradient of a longdouble
# input would be certified by nothing. There is no declaration for more: the answer is kept per
# dtype, not per backend (FLOAT_DTYPES), and a backend declaring float128 would need the suite to
# test it first. docs/plugins.md (Dtypes) says so.
_FLOATS = frozenset({"float16", "bfloat16", "float32", "float64"})
#: Whether each dtype seen so far is a floating-point one (any backend's dtype objects).
FLOAT_DTYPES: dict[Any, bool] = {}


def is_float(backend: Backend, x: Any) -> tuple[bool, str]:
    """Whether array ``x`` has a floating-point dtype, and its dtype name ("" when answered from
    the cache by dtype)."""
    dt = x.dtype
    hit = FLOAT_DTYPES.get(dt)
    if hit is not None:
        return hit, ""
    name = backend.dtype_name(x)
    ok = name in _FLOATS
    # A byte-swapped numpy dtype is never taken as it is; NOTE [Tables a trace reads and does not fill] in multiad/_ops.py
    if getattr(dt, "isnative", True) and not traced_now():
        FLOAT_DTYPES[dt] = ok
    return ok, name


class _DtypeOf:
    """A stand-in with the ``dtype`` of an array, for ``Backend.dtype_name``."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype


def is_float_dtype(backend: Backend, dtype: Any) -> bool:
    """Whether ``dtype`` (of ``backend``'s arrays) is a floating-point one, as :func:`is_float`
    answers for an array of it, without keeping the answer in :data:`FLOAT_DTYPES`; False where
    the backend's ``dtype_name`` reads more of an array than its dtype."""
    hit = FLOAT_DTYPES.get(dtype)
    if hit is not None:
        return hit
    try:
        return backend.dtype_name(_DtypeOf(dtype)) in _FLOATS
    except Exception:  # noqa: BLE001 - a backend's dtype_name that needs the array itself
        return False


# NOTE [numpy array subclasses]: an argument that is an instance of a subclass of
# ``numpy.ndarray`` is taken as the plain array of its data, on every backend alike, as torch
# and JAX take it: ``f`` sees an ndarray (or the framework's array), never the subclass. Two
# subclasses change what ``f`` computes and are refused instead. A ``numpy.matrix`` multiplies
# ``x * x`` as a matrix product, which the plain array computes elementwise: torch, JAX and numpy
# differentiated the elementwise function, another function than numpy's ``f(m)``, without an
# error (autograd refused it, blaming a plain numpy function). A masked array
# (``numpy.ma.MaskedArray``): its mask says which elements do not count, and a plain array of its data counts them all, so torch and numpy
# returned ``sum(x**2)`` of ``[1, --, 3]`` as 14 where numpy's ``f`` gives 10, without an error
# (JAX refused it; autograd refused it blaming a plain numpy function). No backend keeps the
# mask, so every backend refuses it, in arguments, tangents, cotangents, vmap's arguments and
# ``asarray``, with :func:`masked_error`. ``numpy.ma`` is asked only where it was imported: no
# masked array exists before.
def masked_error(call: str, what: str) -> InvalidTypeError:
    """The error for a masked array as ``what`` of ``call`` (NOTE [numpy array subclasses])."""
    return InvalidTypeError(
        f"{call}: {what} is a numpy masked array; no backend keeps its mask (a plain array of its data "
        "counts the masked elements), so it is refused: pass arr.filled(value) for a plain array, or pass the data and "
        "the mask separately (arr.data and numpy.ma.getmaskarray(arr)) and apply the mask inside f, for "
        "instance with mnp.where"
    )


def plain_ndarray(leaf: np.ndarray, call: str, what: str) -> np.ndarray:
    """``leaf``, an instance of a subclass of ndarray, as the plain ndarray of its data; a
    masked array raises :func:`masked_error` (NOTE [numpy array subclasses])."""
    ma = sys.modules.get("numpy.ma")
    if ma is not None and isinstance(leaf, ma.MaskedArray):
        raise masked_error(call, what)
    if isinstance(leaf, np.matrix):
        raise InvalidTypeError(
            f"{call}: {what} is a numpy.matrix, whose * and ** are matrix products where the backends' "
            "arrays (and numpy's ndarray) compute elementwise, so f would be differentiated as another "
            "function; pass numpy.asarray(m) (and write matrix products with @)"
        )
    return np.asarray(leaf)


def unchanged(backend: Backend, leaf: Any, diff: bool, call: str) -> bool:
    """Whether :func:`convert` passes ``leaf`` on as it is, which its type alone decides
    (NOTE [Prepared signatures] in ``multiad/_flat.py``); dtypes are checked separately."""
    if isinstance(leaf, np.ndarray) and backend.is_array(leaf):
        # numpy's arrays are the backend's own (autograd, numpy). A differentiated one is taken as
        # it is only with a native float dtype (``FLOAT_DTYPES`` holds native dtypes only); a
        # byte-swapped one that is not differentiated may reach f as it is, which numpy computes
        # with. A subclass's instance is converted (NOTE [numpy array subclasses]).
        return bool(leaf.dtype.isnative) and type(leaf) is np.ndarray
    if isinstance(leaf, (np.ndarray, np.generic)):
        return False
    if backend.is_array(leaf):
        return True
    return not diff and _select.owner_of(leaf, call, prefer=backend.name) in (None, backend.name)


def convert(backend: Backend, leaf: Any, call: str, what: str, diff: bool) -> Any:
    """One argument leaf as the backend needs it (see NOTE [Conversion policy])."""
    if isinstance(leaf, np.ndarray) and type(leaf) is not np.ndarray:
        leaf = plain_ndarray(leaf, call, what)  # NOTE [numpy array subclasses]
    if isinstance(leaf, np.ndarray) and not leaf.dtype.isnative:
        leaf = native_order(leaf)
    if backend.is_array(leaf):
        x = leaf
    elif isinstance(leaf, (np.ndarray, np.generic)) or (diff and isinstance(leaf, numbers.Number)):
        # NOTE [Conversions name their call] in multiad/_backend.py (not while a compiler traces:
        # torch.compile does not follow context variables, and no backend warns there)
        token = None if backend.compiling() else CONVERTING.set(call)
        try:
            if isinstance(leaf, (float, complex)) and not isinstance(leaf, np.generic):
                x = backend.asarray(np.asarray(leaf))  # float64, complex128: NOTE [Python float arguments]
            else:
                x = backend.asarray(leaf)
        except MultiADError:  # the backend's own refusal, which names the call (the jax backend's int64 without x64)
            raise
        except (TypeError, ValueError, OverflowError) as exc:  # float128, object arrays, ints beyond int64
            kind = leaf.dtype if isinstance(leaf, (np.ndarray, np.generic)) else type(leaf).__name__
            detail = (str(exc).strip().splitlines() or [""])[0]
            raise InvalidTypeError(
                f"{call}: {what} ({kind}) cannot become {an(backend.name)} array ({type(exc).__name__}: {detail}); "
                "convert it first, for instance multiad.asarray(x, dtype='float64')"
            ) from exc
        finally:
            if token is not None:
                CONVERTING.reset(token)
    else:
        owner = _select.owner_of(leaf, call, prefer=backend.name)
        if owner is not None and owner != backend.name:
            raise MixedBackendError(
                f"{call}: {what} is {an(owner)} array ({type(leaf).__name__}) "
                f"but the backend is "
                f"{backend.name!r}; convert it with multiad.asarray(x, backend={backend.name!r}) "
                f"or select the {owner!r} backend"
            )
        if not diff:
            return leaf
        hint = (
            "; a container of arrays is differentiated leaf by leaf once its type is registered "
            "(multiad.register_pytree_node, or multiad.register_dataclass for a dataclass)"
            if not isinstance(leaf, (str, bytes, int, complex))
            else ""
        )
        raise InvalidTypeError(
            f"{call}: {what} is a {type(leaf).__name__}, not an array; differentiated arguments "
            f"must be arrays or Python floats{hint}"
        )
    if diff:
        ok, name = is_float(backend, x)
        if not ok:
            name = name or backend.dtype_name(x)
            if "complex" in name:
                hint = "complex differentiation is not supported; split it into real and imaginary parts"
            elif name.startswith("float"):  # float128 (numpy's longdouble): NOTE [Differentiated float dtypes]
                hint = (
                    "multiad differentiates float16, bfloat16, float32 and float64 only, on every backend (also "
                    f"where the framework computes {name}, as the {backend.name} backend's may); convert it, for "
                    "instance multiad.asarray(x, dtype='float64')"
                )
            else:
                hint = (
                    "derivatives need floating-point inputs; convert it, for instance "
                    "multiad.asarray(x, dtype='float64')"
                )
            raise InvalidTypeError(f"{call}: {what} has dtype {name}; {hint}")
    return x


def native_order(x: np.ndarray) -> np.ndarray:
    """A numpy array in the machine's byte order (a big-endian ``'>f8'`` array, read from a
    file, becomes ``float64``): frameworks take native byte order only."""
    return x.astype(x.dtype.newbyteorder("="))


def named_integers(x: np.ndarray) -> np.ndarray | None:
    """NOTE [numpy's long long arrays]: where C's long is 64 bits, numpy has two int64 and two
    uint64 types, the second one C's long long (dtype char ``'q'``, ``'Q'``), which numpy picks
    for some values of its own (``np.full(3, 2**63 + 5)`` and ``np.asarray(2**63 + 5)`` are
    ``numpy.ulonglong``); torch converts the first only ("can't convert np.ndarray of type
    numpy.ulonglong"). Where a conversion is refused, such an array is viewed as the dtype's
    named type (the same bits) and converted again; None for any other array (the refusal
    stands)."""
    if x.dtype.char not in "qQ":
        return None
    named = np.dtype(x.dtype.name)
    return None if named.char == x.dtype.char else x.view(named)


def keeps_float64(b: Backend) -> bool:
    """Whether ``b`` keeps float64 values in float64 although its default float dtype may be
    float32: every backend over torch, and those declaring ``creates_float64`` (NOTE [Creation
    dtypes] in multiad/numpy/_creation.py, NOTE [Python float outputs] in multiad/_flat.py)."""
    return b.creates_float64 or b.framework.partition(".")[0] == "torch"


# NOTE [Lists of numbers are array data]: ``x`` itself a (nested) list or tuple of numbers is one
# array, as numpy.asarray reads it. The test looked only at the leaves, and a list holding dicts
# of numbers (``[{"b": 0.5}]``) has numbers as leaves too: numpy made an object array of it, refused
# as "dtype object ... (None has no value)", while ``[{"b": np.array(0.5)}]`` converted as a pytree
# and the transforms take such a list as one. Only lists and tuples (namedtuples included, as in
# numpy) down to the numbers make array data; a dict or another container anywhere makes ``x`` a
# pytree, each number one array.
def _number_lists(x: Any) -> bool:
    """Whether ``x`` is a number, or a list or tuple whose elements are all such (NOTE [Lists of numbers are array data])."""
    if isinstance(x, (list, tuple)):
        return all([_number_lists(v) for v in x])
    return isinstance(x, numbers.Number)


def asarray(x: Any, backend: str | Backend | None = None, dtype: Any = None, device: Any = None) -> Any:
    """Converts ``x`` (an array, a number, or a pytree of them) to the backend's arrays.

    Args:
        x: a numpy array, Python number, array of any installed backend, or a pytree of them.
        backend: name or object; defaults to the selected backend (see ``get_backend``), then to
            the backend owning ``x``.
        dtype: a numpy-style dtype name or object (``"float64"``, ``np.float32``).
        device: a framework device (``"cuda:0"`` for torch, ``"gpu:0"`` for JAX, a name from the
            backend's ``devices()``); ``"cpu"``, NumPy's name, is a device on every backend that
            has one; default: the framework's default.

    Returns:
        The same structure with every leaf a backend array. Arrays of another framework are
        copied through host memory. ``x`` itself a (nested) list or tuple of Python numbers is
        array data, as in ``numpy.asarray``, not a pytree; inside a container (a dict's value,
        say) lists and tuples are pytrees, as in the transforms, and each number becomes one
        array, and a list or tuple holding a dict (``[{"b": 0.5}]``) is a pytree too. Without ``dtype``, a Python float leaf and a list of numbers take numpy's dtype
        (float64; on JAX without x64 float32, with the AccuracyWarning a float64 numpy array
        gets), as a Python float argument of a transform and ``multiad.numpy.asarray`` do; pass
        ``dtype`` for one dtype everywhere.

    Raises:
        InvalidTypeError: a leaf is no numeric data (a str, an object or str array) or
            ``dtype`` is no numeric numpy dtype, or the backend cannot convert a leaf.
        InvalidArgumentError: the backend has no such ``device``.

    Example:
        >>> import multiad
        >>> multiad.to_numpy(multiad.asarray([1.0, 2.0], backend="numpy"))
        array([1., 2.])
    """
    _check_dtype(dtype)
    leaves, spec = _tree.flatten(x)
    bare = len(leaves) == 1 and leaves[0] is x  # x itself one leaf, named "x" in errors
    if (
        isinstance(x, (list, tuple))
        and leaves
        and all(isinstance(v, numbers.Number) for v in leaves)
        and _number_lists(x)  # NOTE [Lists of numbers are array data]
    ):
        try:
            data = np.asarray(x)
        except ValueError as exc:  # numpy's "inhomogeneous shape"
            raise InvalidArgumentError(
                f"asarray(x): x is a nested list of numbers whose lists at one depth differ in length, "
                f"which is no array (numpy: {exc}); give lists of equal lengths, or a dict of arrays"
            ) from None
        leaves, spec, bare = [data], _tree.flatten(0)[1], True
    traced = _select.PROBE[0]()  # compiling() (NOTE [One compiler probe])
    if traced and backend is None and all(type(leaf) is np.ndarray for leaf in leaves):
        # NOTE [numpy arrays in compiled code]: tensors in numpy's clothes, whose type's module and
        # dtype the compiler cannot read: the backend in force, as multiad.numpy's creation functions.
        b = _select.get_backend()
    else:
        b = _select.resolve(backend, leaves, "asarray(x)")
    out: list[Any] = []
    # NOTE [Conversions name their call] in multiad/_backend.py (not while a compiler traces:
    # torch.compile does not follow context variables)
    token = None if traced else CONVERTING.set("asarray(x)")
    try:
        for k, leaf in enumerate(leaves):
            if isinstance(leaf, np.ndarray) and type(leaf) is not np.ndarray:  # NOTE [numpy array subclasses]
                leaf = plain_ndarray(leaf, "asarray(x)", "x" if leaf is x else f"leaf {k} of x")
            if type(leaf) is np.ndarray:  # neutral (owner_of's answer)
                if not traced and not leaf.dtype.isnative:
                    leaf = native_order(leaf)
            else:
                owner = _select.owner_of(leaf, "asarray(x)", prefer=b.name)
                if owner is not None and owner != b.name:
                    leaf = _registry.get(owner, "asarray(x)").to_numpy(leaf)
                    if isinstance(leaf, np.ndarray) and not leaf.dtype.isnative:
                        leaf = native_order(leaf)
            if dtype is None and isinstance(leaf, (float, complex)) and not isinstance(leaf, np.generic):
                leaf = np.asarray(leaf)  # float64, complex128: NOTE [Python float arguments]
            what = "x" if bare else f"leaf {k} of x"
            if not traced:  # a compiler cannot read a traced numpy array's dtype
                _check_numbers(leaf, what)
            try:
                res = b.asarray(leaf, dtype=dtype, device=device)
            except MultiADError:
                raise
            except (TypeError, ValueError, RuntimeError, OverflowError, StopIteration, AssertionError) as exc:
                raise _refused(b, leaf, what, device, exc) from exc
            if not traced and isinstance(res, np.ndarray):  # numpy's asarray makes an object array of anything
                _check_numbers(res, what)
            out.append(res)
    finally:
        if token is not None:
            CONVERTING.reset(token)
    return _tree.unflatten(spec, out)


# NOTE [asarray of what is no number]: numpy's asarray makes an array of anything (a str is a
# "<U3" array, a list holding None an object array), which the numpy and autograd backends
# returned as it was and torch and JAX refused with their own words; a dtype name numpy does
# not know raised numpy's "data type not understood", and a device the framework does not
# have its raw error (JAX's: an empty StopIteration). asarray refuses them all with
# InvalidTypeError/InvalidArgumentError starting with the call, as the transforms refuse such
# arguments: data of a kind no backend computes with (object, str, bytes, records, datetimes),
# a dtype of those kinds or one numpy does not know, and a conversion the backend refused.
_NOT_NUMBERS = {"O": "object", "S": "bytes", "U": "str", "V": "record", "M": "datetime", "m": "timedelta"}


def _check_dtype(dtype: Any) -> None:
    """Raises for a ``dtype`` argument of asarray that is no numeric numpy dtype (NOTE [asarray of what is no number])."""
    if dtype is None:
        return
    try:
        kind = np.dtype(dtype).kind
    except TypeError as exc:
        raise InvalidTypeError(
            f"asarray(x): dtype={dtype!r} is not a dtype numpy knows ({exc}); give a numpy dtype name or "
            "object, such as 'float32', 'float64', 'int64' or numpy.float64"
        ) from None
    if kind in _NOT_NUMBERS:
        raise InvalidTypeError(
            f"asarray(x): dtype={dtype!r} holds {_NOT_NUMBERS[kind]} values, which no backend computes with; "
            "give a numeric dtype, such as 'float64' or 'int64'"
        )


# What an object array may hold and still be plain data (refused as "no number" below).
_PLAIN = (numbers.Number, str, bytes, type(None), list, tuple, dict, np.generic)


def _check_numbers(leaf: Any, what: str) -> None:
    """Raises where ``leaf`` is data of a kind no backend computes with (NOTE [asarray of what is no number])."""
    if isinstance(leaf, (str, bytes)):
        raise InvalidTypeError(
            f"asarray(x): {what} is a {type(leaf).__name__}, not a number or an array; give numbers "
            "(float(s) for the text of one)"
        )
    kind = leaf.dtype.kind if isinstance(leaf, (np.ndarray, np.generic)) else ""
    if kind == "O":
        held = next((e for e in np.asarray(leaf).flat if not isinstance(e, _PLAIN)), None)
        if held is not None:  # numpy.asarray of a value being differentiated: an array holding it
            raise NonDifferentiableError(
                f"asarray(x): {what} is an object array holding a {type(held).__name__} (numpy.asarray of an "
                "array that carries a derivative wraps it and drops the derivative); convert the array "
                "itself with multiad.numpy.asarray(x), or multiad.numpy.stop_gradient(x) for its value"
            )
    if kind in _NOT_NUMBERS:
        hint = (
            "; for an object array that holds numbers, numpy.asarray(x, dtype='float64') first (None has no value)"
            if kind == "O"
            else ""
        )
        raise InvalidTypeError(
            f"asarray(x): {what} has dtype {leaf.dtype} ({_NOT_NUMBERS[kind]} values), which no backend "
            f"computes with; give numeric data{hint}"
        )


def _refused(b: Backend, leaf: Any, what: str, device: Any, exc: BaseException) -> MultiADError:
    """The error for a conversion the backend refused (NOTE [asarray of what is no number])."""
    kind = leaf.dtype if isinstance(leaf, (np.ndarray, np.generic)) else type(leaf).__name__
    if device is not None:
        return not_placed(b, "asarray(x)", f"{what} ({kind})", device, exc)
    return InvalidTypeError(
        f"asarray(x): {what} ({kind}) cannot become {an(b.name)} array {reason_of(exc)}; convert it first, "
        "for instance to a numpy array with numpy.asarray(x, dtype='float64')"
    )


def reason_of(exc: BaseException) -> str:
    """``exc`` in brackets for a message: its type and the first line of its text."""
    detail = (str(exc).strip().splitlines() or [""])[0]
    return f"({type(exc).__name__}{': ' + detail if detail else ''})"


def not_placed(b: Backend, call: str, what: str, device: Any, exc: BaseException) -> InvalidArgumentError:
    """The error for ``what`` that ``b`` could not make or move on ``device``: a device this
    build lacks (torch without CUDA raises a bare AssertionError) or one it cannot name."""
    try:
        known = f"one of its devices, {b.devices()}"
    except Exception:  # noqa: BLE001 - only the hint is lost
        known = "one of its devices"
    return InvalidArgumentError(
        f"{call}: the {b.name} backend could not place {what} on device={device!r} {reason_of(exc)}; "
        f"give {known}, or leave device out for the framework's default"
    )


def to_numpy(x: Any) -> Any:
    """Converts every array leaf of ``x`` to a numpy array (detached, on the host).

    A dtype numpy does not have becomes the nearest wider one: torch's ``bfloat16`` becomes
    ``float32``. Inside a transformed function, converting a value that carries a derivative
    raises NonDifferentiableError (the conversion would drop the derivative); convert a
    detached value, or keep the framework's arrays.

    Example:
        >>> import multiad
        >>> multiad.to_numpy(2.0)
        array(2.)
    """

    chosen = _select._context.get()

    def one(leaf: Any) -> Any:
        # The backend of a use_backend block converts its own arrays (a backend under test
        # need not be registered); others go to the backend that owns their type.
        if chosen is not None and chosen.is_array(leaf) and not isinstance(leaf, np.ndarray):
            return chosen.to_numpy(leaf)
        owner = _select.owner_of(leaf, "to_numpy(x)")
        if owner is None:
            return np.asarray(leaf)
        return _registry.get(owner, "to_numpy(x)").to_numpy(leaf)

    return _tree.tree_map(one, x)
