"""Dispatch of numpy-named functions on the arguments' types.

NOTE [Numpy namespace design]: a call ``mnp.NAME(*args)`` finds the framework of its array
arguments (also inside lists, and while a transform traces them: torch.func's wrapped tensors,
JAX tracers, autograd boxes) and runs NAME with numpy's semantics there:

- numpy, autograd and JAX arrays go to ``numpy``, ``autograd.numpy`` and ``jax.numpy``, which
  follow numpy's signatures, with the few corrections in ``_fixes.py`` (keywords JAX renamed,
  derivative conventions of NOTE [Derivative conventions]);
- torch tensors go to ``_torch.py``/``_torch_shape.py`` (and the modules it collects), which
  implement numpy's signatures and semantics (``axis``, ``keepdims``, Python scalars, type
  promotion, tuples of axes) with torch operations, explicitly, one function per name.

Lists and tuples in array positions become arrays first, as numpy does (``mean([x, y])``,
``array([x, 2 * x])`` of traced values), so a list is never concatenated by ``+``.
autoray was the first design: its translation layer maps names but not numpy's semantics
(``maximum(z, 0.0)``, ``prod(axis=None, keepdims=True)``, ``trace(offset=)``, ``tensordot`` with
negative axes, ``clip(a_min=)`` all failed on torch or JAX), and fixing those cases one by one
inside its wrappers was more code than stating the torch implementations directly.
array-api-compat was evaluated too: it does not wrap autograd boxes, and it follows the array
API's names and semantics (``concat``, no ``ddof`` defaults of numpy's, no ``linalg.norm``),
not numpy's. autoray is kept for one job it does well: naming the library of an array type.
"""

from __future__ import annotations

import functools
import importlib
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .._arrays import native_order
from .._errors import InvalidTypeError, MixedBackendError, UnsupportedOperationError
from .._ops import class_lib, traced_now
from . import _axis_args, _complex, _jax_ints, _zerod
from . import _ufunc_keywords as _ufk
from ._outer import named
from ._results import NAMED

_SCALARS = (int, float, complex, bool, str, bytes, slice)
_FRAMEWORKS = ("torch", "jax", "autograd")
_cache: dict[tuple[str, str], Callable[..., Any]] = {}
#: What a function of :data:`FAST` answers for a call it leaves to the general path.
SLOW: Any = object()
#: Functions run first for the common forms of a few calls, by name (NOTE [Common calls on torch]
#: in ``_torch_fast.py``, which fills it when torch's implementations load): each takes the
#: call's arguments and keywords and returns the result, or SLOW for the general path.
FAST: dict[str, Callable[[tuple[Any, ...], dict[str, Any]], Any]] = {}
#: ``linalg.norm``'s common form, by the type of its array (NOTE [Common calls on torch]).
FAST_NORM: dict[type, Callable[[Any, Any, Any, bool], Any]] = {}


def _lib_of(x: Any, found: set[str]) -> None:
    if isinstance(x, (list, tuple)):
        for v in x:
            _lib_of(v, found)
    elif x is not None and not isinstance(x, _SCALARS) and not isinstance(x, np.ndarray):
        # numpy arrays skipped before autoray: under torch.compile an index table built with
        # numpy is a traced array whose class autoray cannot inspect
        lib = class_lib(type(x))
        if lib in _FRAMEWORKS:
            found.add(lib)
        elif lib != "numpy":
            sub = _SUBCLASSES.get(type(x))
            if sub is None:
                sub = _subclass_lib(type(x))
            if sub:
                found.add(sub)


#: The framework of an array class defined elsewhere (a user's subclass of ``torch.Tensor``), or
#: a plugin's lib (NOTE [Plugin arrays in multiad.numpy]), or "". Cleared when the registry changes.
_SUBCLASSES: dict[type, str] = {}
#: The module whose functions run each plugin lib ("plugin:NAME") seen: the backend's namespace, or numpy.
_PLUGIN_NAMESPACES: dict[str, Any] = {}


def _subclass_lib(cls: type) -> str:
    """The framework whose array class ``cls`` derives from, else the lib of the plugin that
    claims ``cls`` (NOTE [Plugin arrays in multiad.numpy]), else "": autoray names a class by its
    own module, so a subclass of ``torch.Tensor`` defined in a user's module would run numpy's
    function (forward-mode transforms keep the subclass of their inputs)."""
    lib = ""
    for base in cls.__mro__[1:]:
        top = base.__module__.split(".")[0]
        top = "jax" if top == "jaxlib" else top
        if top in _FRAMEWORKS:
            lib = top
            break
    if not lib:
        lib, settled = _plugin_lib(cls)
        if not settled:  # contested: the answer follows the selection (NOTE [Contested plugin arrays])
            return lib
    _SUBCLASSES[cls] = lib
    return lib


# NOTE [Plugin arrays in multiad.numpy]: numpy's own functions run on any array type that
# implements numpy's protocols (``__array_function__``, ``__array_ufunc__``: MyGrad's Tensor
# records its graph through them), and *convert* any other, through ``__array__`` or the buffer
# protocol. A TensorFlow tensor is of the second kind: ``numpy.sin(t)`` is a numpy array, and
# inside ``grad`` the derivative through it was dropped without an error (``grad`` of
# ``mnp.sum(x**2)`` on a plugin over TensorFlow gave zeros). So an array class that an
# installed backend claims (``array_modules``) gets that backend's lib, ``"plugin:NAME"``, whose
# functions are those of
# - the backend's own ``numpy_namespace()`` where it names one (``tf.experimental.numpy``);
# - else numpy, where the class implements ``__array_function__`` (MyGrad): numpy's functions
#   hand the call to the class;
# - else none: the call raises InvalidTypeError naming the backend and the ways out.
# A lib of its own, rather than "numpy", keeps such arrays out of the branches written for numpy
# arrays (``np.asarray(x).astype``, ``np.array(a, copy=True)`` converted MyGrad's tensors too,
# dropping their derivatives), and lets ``mnp.stop_gradient`` ask the backend
# (``Backend.stop_gradient``: it returned the array unchanged, derivative and all).
# Classes no backend claims run in numpy, as before (they are numpy's business).
_REFUSED: dict[type, str] = {}  # classes no function runs, with the backend claiming them


# NOTE [Contested plugin arrays]: where two installed backends claim the same array module (a
# plugin and a variant of it, two plugins over TensorFlow), the class was treated as unclaimed,
# so numpy's own functions ran on it and converted it: grad of mnp.sum(mnp.sin(x) * x) of a
# tf.Tensor gave zeros without an error, even with one of the two selected by backend=. Such a
# class belongs to the selected backend where that is one of the claimants, as for inference
# (``_select.owner_of``), and otherwise the call raises BackendError naming them. The answer
# depends on the selection, so it is not cached with the class.
def _plugin_lib(cls: type) -> tuple[str, bool]:
    """The lib of the backend claiming ``cls`` and whether that answer holds whatever the selection."""
    from .. import _registry, _select

    top = cls.__module__.partition(".")[0]
    owners = _registry.owners(top)
    if not owners:  # unclaimed: numpy's business, unless the selected backend claims it
        chosen = _select.selected("multiad.numpy")
        if chosen is None or top not in chosen.array_modules:
            return "", False
        backend, settled = chosen, False  # NOTE [Arrays of an unregistered backend]
    else:
        settled = len(owners) == 1
        owner = owners[0] if settled else _select.owner_of_contested(cls, "multiad.numpy")
        backend = _registry.get(owner, "multiad.numpy")
    namespace = backend.numpy_namespace()
    if namespace is None and getattr(cls, "__array_function__", None) is not None:
        namespace = np
    if namespace is None:
        _REFUSED[cls] = backend.name
        return "<refused>", settled
    lib = f"plugin:{backend.name}"
    _PLUGIN_NAMESPACES[lib] = namespace
    _PLUGIN_BACKENDS[lib] = backend
    return lib, settled


# NOTE [Arrays of an unregistered backend]: a Backend used without registering it (the
# conformance suite's ``--multiad-backend=module:object`` for a plugin under development, or
# ``backend=`` given an instance) claims its arrays only while it is selected: the registry
# does not know it, so its arrays were unclaimed and numpy's functions converted them (an
# uninstalled TensorFlow plugin failed 127 conformance items, most as wrong derivatives). While
# such a backend is selected, a class of its ``array_modules`` that no registered backend claims
# is its; the answer follows the selection and is not cached with the class.
#: The backend of each plugin lib seen (a registered one's, or an unregistered selected one's).
_PLUGIN_BACKENDS: dict[str, Any] = {}


def plugin_backend(lib: str) -> Any:
    """The backend of a plugin lib (``"plugin:NAME"``), or None for any other lib."""
    if not lib.startswith("plugin:"):
        return None
    found = _PLUGIN_BACKENDS.get(lib)
    if found is not None:
        return found
    from .. import _registry

    return _registry.get(lib.partition(":")[2], "multiad.numpy")


def _plugin_changed() -> None:
    # A lib cached for a class may name a backend that is gone or replaced: forget them all.
    # (Framework subclasses are recomputed cheaply.)
    _SUBCLASSES.clear()
    _REFUSED.clear()
    _PLUGIN_NAMESPACES.clear()
    _PLUGIN_BACKENDS.clear()
    for key in [k for k in _cache if k[0].startswith("plugin:")]:
        _cache.pop(key, None)


def _register_hook() -> None:
    from .. import _registry

    _registry.on_change.append(_plugin_changed)


_register_hook()


def _refused(call: str, args: tuple[Any, ...]) -> InvalidTypeError:
    cls = next(c for c in _classes(args) if c in _REFUSED)
    name = _REFUSED[cls]
    return InvalidTypeError(
        f"{call}: {cls.__module__}.{cls.__qualname__} arrays (backend {name!r}) have no numpy functions: numpy would "
        f"convert them to numpy arrays and drop their derivatives. Use the framework's own functions for them, or "
        f"give the backend a numpy_namespace() (see the plugin guide) or arrays that implement __array_function__"
    )


def _classes(args: Any) -> list[type]:
    out: list[type] = []
    for a in args:
        if isinstance(a, (list, tuple)):
            out.extend(_classes(a))
        else:
            out.append(type(a))
    return out


def like(*args: Any, call: str = "multiad.numpy") -> str:
    """The library that runs a call on ``args``: a framework if any argument is one's array,
    else ``"numpy"``. Arrays of two frameworks raise MixedBackendError."""
    found: set[str] = set()
    for a in args:
        _lib_of(a, found)
    if not found:
        return "numpy"
    if "<refused>" in found:  # NOTE [Plugin arrays in multiad.numpy]
        raise _refused(call, args)
    if len(found) > 1:
        raise MixedBackendError(
            f"{call}: the arguments mix arrays of {' and '.join(sorted(_shown(f) for f in found))}; convert them to "
            "one framework with multiad.asarray(x, backend=...)"
        )
    return found.pop()


def _shown(lib: str) -> str:
    return lib.partition(":")[2] if lib.startswith("plugin:") else lib


def _module(lib: str) -> Any:
    if lib == "numpy":  # not through importlib, which torch.compile does not trace
        return np
    if lib.startswith("plugin:"):
        return _PLUGIN_NAMESPACES[lib]
    return importlib.import_module({"numpy": "numpy", "autograd": "autograd.numpy", "jax": "jax.numpy"}[lib])


def lookup(lib: str, name: str) -> Callable[..., Any] | None:
    """The function that runs numpy's ``name`` on arrays of ``lib``, or None: found, not cached."""
    from . import _fixes

    if lib == "torch":
        from ._torch import IMPL

        return _fixes.TORCH_FIXES.get(name) or IMPL.get(name)
    found = _fixes.FIXES.get(lib, {}).get(name)
    if found is None:
        found = _module(lib)
        for part in name.split("."):
            found = getattr(found, part, None)
    return found


def impl(lib: str, name: str) -> Callable[..., Any]:
    """The function that runs numpy's ``name`` on arrays of ``lib``."""
    key = (lib, name)
    fn = _cache.get(key)
    if fn is not None:
        return fn
    found = lookup(lib, name)
    if found is None:
        if lib.startswith("plugin:"):  # NOTE [Plugin arrays in multiad.numpy]
            raise UnsupportedOperationError(
                f"mnp.{name}: backend {_shown(lib)!r} has no {name} for its arrays (its numpy_namespace() "
                f"{getattr(_PLUGIN_NAMESPACES[lib], '__name__', 'module')!r} lacks it); use the framework's own function"
            )
        raise NotImplementedError(f"mnp.{name}: no implementation for {lib} arrays")
    from .. import _registry

    _registry.first_party_imported()  # NOTE [Probes defined before a trace asks them] in multiad/_ops.py
    if not traced_now():  # NOTE [Tables a trace reads and does not fill] in multiad/_ops.py
        _cache[key] = found
    return found


def to_array(lib: str, obj: Any) -> Any:
    """A list or tuple (nested, of arrays and numbers) as one array of ``lib``, like numpy.array."""
    if lib == "numpy":
        return np.asarray(obj)
    if lib == "torch":
        from ._torch import stack_nested

        return stack_nested(obj)
    return _module(lib).array(obj)


def _lists_to_arrays(lib: str, args: tuple[Any, ...], arrays: int) -> tuple[Any, ...]:
    if arrays == SEQUENCE:
        if args and isinstance(args[0], (list, tuple)):
            seq = [to_array(lib, a) if isinstance(a, (list, tuple)) else a for a in args[0]]
            return (seq, *args[1:])
        return args
    n = len(args) if arrays == ALL else arrays
    if not any(isinstance(a, (list, tuple)) for a in args[:n]):
        return args
    return tuple(to_array(lib, a) if i < n and isinstance(a, (list, tuple)) else a for i, a in enumerate(args))


ALL = -1
SEQUENCE = -2
_UFUNCS = _ufk.UFUNCS
_NIN = {n: getattr(np, n).nin for n in _UFUNCS}
_SEQUENCES = (list, tuple)
_NEUTRAL = (*_SCALARS, np.ndarray, type(None))


# NOTE [The arguments' library at first sight]: a call pays for finding its arguments' library
# (NOTE [Numpy namespace design]) each time, and most calls pass arrays of one framework and
# numbers only, positionally. ``call`` reads those directly (the class's library, asked of
# :func:`class_lib` as ``like`` asks it: a constant under a compiler, so no table is read and no
# guard added), and so the items of a list or tuple argument (which ``_lists_to_arrays`` then
# converts as before); any other argument (a nested list, a subclass or a plugin's array, arrays
# of two frameworks, a keyword whose value is not a number, None or a numpy array) goes through
# ``like`` as before, which also raises the errors; keywords of numbers (``axis=0``) add no
# library there either. numpy arrays and numbers alone are "numpy", as ``like`` says. The
# profile of ``mnp.sin`` of a tensor lost five Python calls (benchmarks/mnp_dispatch.py).


def call(name: str, *args: Any, arrays: int = 1, **kwargs: Any) -> Any:
    """Runs numpy's ``name`` on the library of the arguments (see NOTE [Numpy namespace design])."""
    fast = FAST.get(name)
    if fast is not None:  # NOTE [Common calls on torch] in _torch_fast.py
        out = fast(args, kwargs)
        if out is not SLOW:
            return out
    ufunc = name in _UFUNCS
    if ufunc and len(args) > _NIN[name]:
        args = _ufk.operands(name, args)
    # NOTE [The arguments' library at first sight]
    lib, lists = "numpy", False
    for a in args:
        if isinstance(a, _NEUTRAL):
            continue
        if isinstance(a, _SEQUENCES):
            lists = True
            for v in a:  # one level: arrays and numbers (stack, concatenate, mean([x, y]))
                if isinstance(v, _NEUTRAL):
                    continue
                one = "" if isinstance(v, _SEQUENCES) else class_lib(type(v))
                if one not in _FRAMEWORKS or (one != lib and lib != "numpy"):
                    lib = ""
                    break
                lib = one
            if not lib:
                break
            continue
        one = class_lib(type(a))
        if one not in _FRAMEWORKS or (one != lib and lib != "numpy"):
            lib = ""
            break
        lib = one
    seen = bool(lib) and (not kwargs or all(isinstance(v, _NEUTRAL) for v in kwargs.values()))
    if not seen:
        lib = like(*args, *kwargs.values(), call=f"mnp.{name}")
    if lib != "torch" and name in _complex.CHECKED:  # torch asks numpy anyway
        _complex.check(name, args)  # NOTE [Ufuncs without complex loops]
    if lists or not seen:
        args = _lists_to_arrays(lib, args, arrays)
    if lib == "jax" and (ufunc or name == "where"):
        args = _jax_ints.adjust(name, args)  # NOTE [Python ints beside JAX integer arrays]
    if lib == "jax" and isinstance(kwargs.get("where"), (list, tuple)):  # jax.numpy refuses lists
        kwargs["where"] = np.asarray(kwargs["where"], dtype=bool)  # numpy's reading: [0, 1], [0.5, 0] too
    if kwargs:
        if ufunc:  # NOTE [Ufunc keywords]
            kwargs, dtype, casting = _ufk.split(name, lib == "torch", kwargs)
            if dtype is not None or casting is not None:
                return _ufk.run(name, functools.partial(call, name, arrays=arrays), args, kwargs, dtype, casting)
        elif "like" in kwargs:  # numpy's creation functions (arange, ...): as mnp.zeros says it
            raise _ufk.no_like(name)
    if (kwargs or len(args) > 1) and name in _axis_args.CHECKED and (lib == "torch" or lib == "jax"):
        args, kwargs = _axis_args.check(name, args, kwargs, lib)  # NOTE [Reduction arguments as numpy checks them]
    if name in _zerod.RULES:
        args, kwargs = _zerod.adjust(name, lib, args, kwargs)
    if name == "mean" and lib in ("torch", "jax"):  # numpy and autograd warn themselves
        _warn_empty_mean(args, kwargs, lib)
    fn = _cache.get((lib, name)) or impl(lib, name)
    try:
        out = fn(*args, **kwargs)
    except (RuntimeError, TypeError) as exc:
        if lib == "torch" and type(exc) is NotImplementedError and "for 'UInt" in str(exc):
            from ._torch_unsigned import retry  # NOTE [Wide unsigned integers on torch]

            return retry(name, args, kwargs, impl(lib, name), exc)
        if lib == "jax" and _non_native(args, kwargs):  # NOTE [Byte order on JAX]
            return call(name, *_native(args), arrays=arrays, **{k: _native((v,))[0] for k, v in kwargs.items()})
        shaped = _shape_error(name, lib, exc) or _named_error(name, lib, exc, args, kwargs)
        if shaped is None:
            raise
        raise shaped from exc
    except (ValueError, IndexError, NotImplementedError, ZeroDivisionError, StopIteration) as exc:
        named = _named_error(name, lib, exc, args, kwargs)
        if named is None:
            raise
        raise named from exc
    if lib == "autograd" and type(out).__name__ == "SequenceBox":
        return _unbox_sequence(out)
    if type(out) is tuple and name in NAMED:  # NOTE [Named linalg results]
        return NAMED[name](*out)
    return out


def _warn_empty_mean(args: tuple[Any, ...], kwargs: dict[str, Any], lib: str) -> None:
    """numpy's "Mean of empty slice" RuntimeWarning for a mean over no values (NOTE [Warnings
    of empty slices]), told by the shape: torch and JAX give numpy's nan without it."""
    x = args[0] if args else kwargs.get("a")
    shape = getattr(x, "shape", None)
    if shape is None or kwargs.get("where", True) is not True:
        return
    axis = kwargs.get("axis", args[1] if len(args) > 1 else None)
    axes = range(len(shape)) if axis is None else axis if isinstance(axis, (tuple, list)) else (axis,)
    n = 1
    try:
        for a in axes:
            n *= int(shape[a])
    except (IndexError, TypeError):  # an axis out of range: the call raises its own error
        return
    if n == 0:
        if lib == "jax":
            _empty_integer_mean(args, kwargs)
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=3)


def _empty_integer_mean(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """NOTE [Empty integer means on JAX]: the mean of no values in an integer ``dtype=`` divides
    the integer 0 by 0, which XLA evaluates while compiling: the process dies (SIGFPE). numpy
    casts its nan to the integer dtype (a C-undefined value, int64's minimum on x86), so there is
    no value to give; the call raises instead."""
    dtype = kwargs.get("dtype", args[2] if len(args) > 2 else None)
    if dtype is not None and np.dtype(dtype).kind in "iub":
        raise ValueError(
            f"mnp.mean: the mean of no values with dtype={np.dtype(dtype).name} is undefined (numpy casts nan "
            "to an integer) and JAX's compiler dies on it (integer division by zero): pass a float dtype= "
            "or average a non-empty axis"
        )


# NOTE [Byte order on JAX]: JAX refuses a numpy array in non-native byte order (``'>f8'`` read
# from a file) with a TypeError that does not name the call; the arguments and parameters of
# multiad's transforms are converted to native order, and so, where JAX refuses one, are the
# numpy operands of a multiad.numpy function: the call runs again with native copies. Only
# the error path looks.
def _non_native(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    return any(isinstance(a, np.ndarray) and not a.dtype.isnative for a in (*args, *kwargs.values()))


def _native(args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(native_order(a) if isinstance(a, np.ndarray) and not a.dtype.isnative else a for a in args)


# NOTE [Shape errors]: numpy raises ValueError for arguments whose shapes do not fit (operands
# that do not broadcast, matmul, reshape, concatenate or stack of mismatched sizes); torch raises
# RuntimeError and JAX TypeError, with messages that do not name the call. Such an error, told
# by the framework's own message, is raised again as a ValueError that is also the framework's
# type (code catching RuntimeError or TypeError keeps working), its message starting with the
# call. Other errors pass unchanged, and errors of subclasses (multiad's own, raised by an inner
# call) are never wrapped twice.
_SHAPE_MESSAGES = {
    "torch": (
        "The size of tensor a",
        "mat1 and mat2 shapes cannot be multiplied",
        "shape '[",
        "Sizes of tensors must match",
        "inconsistent tensor size",
        "stack expects each tensor to be equal size",
        "subscript",
        "Incompatible shapes",
        "The expanded size of the tensor",
        "the number of sizes provided",  # broadcast_to a shape of fewer dimensions
        "size mismatch",
        "Expected size for first two dimensions of batch2 tensor",
        "contracted dimensions need to match",
    ),
    "jax": (
        "got incompatible shapes for broadcasting",
        "dot_general requires contracting dimensions to have the same shape",
        "cannot reshape array of shape",
        "Cannot concatenate arrays with shapes",
    ),
}
_SHAPE_TYPES: dict[type, type] = {}


def _shape_error(name: str, lib: str, exc: BaseException) -> BaseException | None:
    """``exc`` as numpy's ValueError starting with the call where it is a framework's shape
    mismatch (NOTE [Shape errors]), else None."""
    base = type(exc)
    if base not in (RuntimeError, TypeError) or lib not in _SHAPE_MESSAGES:
        return None
    msg = str(exc)
    if not any(m in msg for m in _SHAPE_MESSAGES[lib]):
        return None
    cls = _SHAPE_TYPES.get(base)
    if cls is None:
        cls = _SHAPE_TYPES[base] = type(f"Shape{base.__name__}", (ValueError, base), {"__module__": __name__})
    shaped: BaseException = cls(f"mnp.{name}: {msg}")
    return shaped


# NOTE [Framework errors name the call]: torch's and JAX's other errors for bad arguments (an
# axis out of range, a dtype without a kernel) are raised
# again with the same builtin type, the message starting with the call (``mnp.cumsum:
# ...``), so that they say which call failed. Errors of other types (numpy's LinAlgError,
# multiad's own, the frameworks' own classes) pass unchanged.
# An axis out of range is numpy's AxisError on every backend (a subclass of ValueError and
# IndexError, so code catching either keeps working), its message starting with the call:
# numpy's own AxisError (raised by numpy and autograd, and by the torch functions here) passed
# without the call's name, JAX raised a ValueError and torch's own functions (``moveaxis``,
# ``roll``, ``diagonal``) an IndexError, ``Dimension out of range``. numpy's own TypeError,
# ValueError and IndexError on numpy and autograd arrays (``mnp.sum(x, axis=0.5)``,
# ``mnp.sort(x, keepdims=True)``) are named the same way, so that a bad argument's error starts
# with the call on every backend (NOTE [Reduction arguments as numpy checks them]); numpy's
# subclasses of them (UFuncTypeError, LinAlgError) pass unchanged.
_NAMED_TYPES = (RuntimeError, TypeError, ValueError, IndexError, NotImplementedError, ZeroDivisionError)
_NUMPYS_NAMED = (TypeError, ValueError, IndexError)
_JAX_AXIS = re.compile(r"axis -?\d+ is out of bounds for array of dimension \d+")


def _named_error(
    name: str, lib: str, exc: BaseException, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
) -> BaseException | None:
    """``exc``, an error of a builtin type, with the call in front of its message (NOTE
    [Framework errors name the call]); None for the others."""
    if name in _axis_args.OUT and isinstance(exc, (TypeError, NotImplementedError)):
        bad = _axis_args.bad_out(name, args, kwargs or {})  # a dtype in numpy's out slot
        if bad is not None:
            return bad
    msg = str(exc)
    # raised by another function this one calls (NOTE [Errors of composite functions]), or numpy's AxisError
    if msg.startswith("mnp.") or isinstance(exc, np.exceptions.AxisError):
        return named(f"mnp.{name}", exc)
    if msg.startswith("multiad"):
        return None
    if lib == "numpy" or lib == "autograd":  # numpy's own errors: those of builtin types, named
        return type(exc)(f"mnp.{name}: {msg}") if type(exc) in _NUMPYS_NAMED else None
    if lib not in ("torch", "jax"):
        return None
    if type(exc) in (IndexError, ValueError) and (name in _axis_args.CHECKED or name in _axis_args.PAIRS):
        # an int axis out of range
        wrong = _axis_args.out_of_range(name, args, kwargs or {})
        if wrong is not None:
            return wrong
    if type(exc) is (IndexError if lib == "torch" else ValueError) and (
        msg.startswith("Dimension out of range") if lib == "torch" else _JAX_AXIS.match(msg)
    ):
        return np.exceptions.AxisError(f"mnp.{name}: {msg}")
    if type(exc) is StopIteration:  # raised by a framework's generator: an argument it could not read
        return ValueError(f"mnp.{name}: invalid arguments (the framework stopped reading them)")
    if type(exc) not in _NAMED_TYPES:
        return None
    if lib == "torch" and type(exc) is IndexError and "to have non-zero size" in msg:
        # numpy's ValueError for a reduction without identity over no values (max, argmin, ...)
        return ValueError(f"mnp.{name}: zero-size array to reduction operation {name} which has no identity ({msg})")
    return type(exc)(f"mnp.{name}: {msg}")


def _unbox_sequence(box: Any) -> Any:
    """NOTE [Sequences of autograd boxes]: while autograd traces, its functions that return
    several arrays (``split``, ``linalg.eigh``, ...) return one SequenceBox, not numpy's list or
    tuple of arrays; a transform given it as an output saw one leaf that is not an array. The
    box is indexed into numpy's container (a list, a tuple or its named tuple) of array boxes.
    Under nested transforms (a jvp inside a vjp) the box's value is itself a SequenceBox: the
    container's type is read from the innermost value, so a list stays a list at every level."""
    items = [box[i] for i in range(len(box))]
    value = box._value
    while type(value).__name__ == "SequenceBox":
        value = value._value
    if isinstance(value, list):
        return items
    kind = type(value)
    return kind(*items) if hasattr(kind, "_fields") else tuple(items)


def dispatching(name: str, doc: str, arrays: int = 1) -> Callable[..., Any]:
    """A public function ``name`` that dispatches (``arrays``: how many leading positional
    arguments are array-like, ``ALL`` for every one, ``SEQUENCE`` for a first argument that is a
    sequence of arrays)."""

    def fn(*args: Any, **kwargs: Any) -> Any:
        return call(name, *args, arrays=arrays, **kwargs)

    fn.__name__ = fn.__qualname__ = name.rsplit(".", 1)[-1]
    fn.__doc__ = f"{doc} (numpy's ``{name}``, dispatched on the argument types)."
    return fn


_DISPATCHING_CODE = dispatching("", "").__code__


def passes_all(fn: Any) -> bool:
    """Whether ``fn`` was made by :func:`dispatching` (it takes any arguments and passes them on)."""
    return getattr(fn, "__code__", None) is _DISPATCHING_CODE
