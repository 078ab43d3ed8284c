"""Arguments a function of ``multiad.numpy`` cannot take, named with the call.

NOTE [Keywords numpy has]: the functions written in Python here (``var``, ``hypot``,
``ldexp``, ...) state their parameters, and numpy's versions take a few more (a ufunc's
``out=``, ``casting=``, ``order=``; ``like=`` of the creation functions). Python's own
TypeError for them, ``ldexp() got an unexpected keyword argument 'out'``, did not say which
call failed nor that numpy has the keyword. Each public function (not the dispatching ones,
which pass every argument on) is wrapped once at import: where Python refuses the arguments
before the function starts (the error's traceback has no frame of the function), the error is
raised again, a TypeError as Python's, starting with the call; a keyword numpy's function takes
is named as numpy's, with what to do instead (``out=`` alone: the NotImplementedError of NOTE
[out= is refused]). The wrapper costs one call; errors raised inside
the function pass unchanged. A ufunc's keywords (``dtype=``, ``casting=``, ``where=``, ...) are
taken before the function runs, as for the dispatching ufuncs (NOTE [Ufunc keywords]), and
``like=`` is taken by the creation functions whose numpy version has it (NOTE [Creation like=])
and refused in their words by every other function.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from ._like import LIKE, made_like
from ._outer import named
from ._ufunc_keywords import UFUNCS, no_like, run, split

_ADVICE = {
    "out": "use the returned array",
    "dtype": "convert the arguments with mnp.astype before the call, or the result after it",
    "where": "select from the result with mnp.where",
    "axes": "move the axes last with mnp.moveaxis before the call",
    "axis": "move the axes last with mnp.moveaxis before the call",
    "keepdims": "add the axis to the result with mnp.expand_dims",
    "like": "only the creation functions whose numpy version takes like= take it; omit the keyword",
    "device": "arrays are made where the backend makes them; omit the keyword",
}
_LAYOUT = "results are arrays of the arguments' framework, in its default layout and dtype rules; omit the keyword"


def numpy_function(qualified: str) -> Callable[..., Any] | None:
    """numpy's function of the name ``qualified`` (``"linalg.norm"``), or None."""
    found: Any = np
    for part in qualified.split("."):
        found = getattr(found, part, None)
    return found if callable(found) else None


def _numpy_keywords(qualified: str) -> frozenset[str]:
    fn = numpy_function(qualified)
    if fn is None:
        return frozenset()
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return frozenset()
    return frozenset(p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))


def _binding_error(qualified: str, fn: Callable[..., Any], kwargs: dict[str, Any], exc: TypeError) -> Exception:
    """The error for arguments ``fn`` refused (NOTE [Keywords numpy has])."""
    try:
        own = set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        own = set()
    numpys = _numpy_keywords(qualified)
    if "like" in kwargs and "like" not in own:  # also where numpy's function has none (logspace): one message
        return no_like(qualified)
    missing = sorted(k for k in kwargs if k not in own and k in numpys)
    if missing == ["out"]:  # as no_out says it (NOTE [out= is refused])
        return NotImplementedError(f"mnp.{qualified}: out= is not supported; use the returned array")
    if missing:
        advice: dict[str, list[str]] = {}
        for k in missing:
            advice.setdefault(_ADVICE.get(k, _LAYOUT), []).append(f"{k}=")
        said = ", ".join(f"{k}=" for k in missing)
        verb = "is" if len(missing) == 1 else "are"
        todo = "; ".join(a if len(advice) == 1 else f"{', '.join(ks)} {a}" for a, ks in advice.items())
        return TypeError(f"mnp.{qualified}: numpy's {said} {verb} not supported by multiad.numpy; {todo}")
    return TypeError(f"mnp.{qualified}: {exc}")


def named_arguments(qualified: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (numpy's ``qualified``), its refused arguments named with the call (NOTE
    [Keywords numpy has]), its 0-d numpy results numpy's scalars where numpy gives scalars
    (NOTE [numpy scalars from reductions])."""
    scalars = qualified in SCALAR_RESULTS
    ufunc = qualified in UFUNCS
    creation = qualified in LIKE
    call_name = f"mnp.{qualified}"

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            if ufunc:  # NOTE [Ufunc keywords]
                kwargs, dtype, casting = split(qualified, False, kwargs)
                if dtype is not None or casting is not None:
                    return run(qualified, call, args, kwargs, dtype, casting)
            elif creation and "like" in kwargs:  # NOTE [Creation like=]
                return made_like(qualified, call, args, kwargs)
        try:
            out = fn(*args, **kwargs)
        except TypeError as exc:
            tb = exc.__traceback__
            if tb is None or tb.tb_next is not None:  # raised inside fn: its own error
                if str(exc).startswith(f"{getattr(fn, '__name__', '')}() got an unexpected keyword"):
                    raise _binding_error(qualified, fn, kwargs, exc) from None  # fn's decorator refused it
                new = named(call_name, exc)
                if new is None:
                    raise
                raise new from exc
            raise _binding_error(qualified, fn, kwargs, exc) from None
        except Exception as exc:
            new = named(call_name, exc)
            if new is None:
                raise
            raise new from exc
        if scalars and not kwargs.get("keepdims"):  # keepdims=True: numpy's 0-d array, not a scalar
            if type(out) is np.ndarray:
                return out[()] if out.ndim == 0 else out
            if type(out) is tuple:
                return tuple(v[()] if type(v) is np.ndarray and v.ndim == 0 else v for v in out)
        return out

    return call


# NOTE [numpy scalars from reductions]: numpy's reductions and ufuncs return a numpy scalar
# (``np.float64``, a subclass of Python's float) where their result has no axes, and numpy's
# functions written with them (``median``, ``percentile``, ``std``, ``linalg.norm``, ``hypot``)
# do too. The same functions written once here return what their last operation gives, a 0-d
# array on numpy arrays (``isinstance(mnp.median(x), float)`` was False, ``json.dumps`` refused
# it). Their 0-d results on numpy arrays (the numpy backend, and autograd's arrays outside its
# transforms, which are numpy's) are numpy's scalars; torch and JAX return 0-d arrays of their
# own, as their reductions do, and autograd's traced values are its boxes. Functions whose
# numpy versions return 0-d arrays (``cov``, ``i0``, ``copy``, the creation functions) are not
# listed.
SCALAR_RESULTS = frozenset(
    "percentile nanpercentile quantile nanquantile median nanmedian nanmax nanmin nanstd nanvar "
    "nanmean nansum nanprod std var average ptp trapezoid inner dot vdot vecdot polyval interp hypot "
    "cbrt sinc arctan2 atan2 fmax fmin heaviside ldexp modf divmod clip isposinf isneginf linalg.cond "
    "linalg.norm linalg.vector_norm linalg.matrix_norm linalg.det".split()
)


def wrap_module(namespace: dict[str, Any], prefix: str, skip: Callable[[Any], bool]) -> None:
    """Wraps the public functions of a module's ``namespace`` (``prefix``: ``""`` or ``"linalg."``)."""
    for name, value in list(namespace.items()):
        if name.startswith("_") or not inspect.isfunction(value) or skip(value):
            continue
        namespace[name] = named_arguments(prefix + name, value)
