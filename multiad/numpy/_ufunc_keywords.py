"""numpy's ufunc keywords (``out=``, ``where=``, ``casting=``, ``order=``, ``dtype=``, ``subok=``,
``signature=``) on every backend.

NOTE [Ufunc keywords]: every numpy ufunc (``add``, ``exp``, ``maximum``, ``hypot``, ...) takes
the same keywords after its operands. multiad.numpy passed them to the framework's function as
they came: numpy and autograd arrays honoured them, torch's functions refused them with an error
naming an internal function, jax.numpy took some (``dtype=`` of ``add`` refused, of ``exp`` read
as an array) and the functions written here refused ``dtype=``. A call of a ufunc with keywords
now takes them the same way on every backend, before the framework sees them:

- their defaults (``out=None``, ``where=True``, ``casting="same_kind"``, ``order="K"``,
  ``subok=True``, ``signature=None``) are accepted and dropped;
- ``dtype=`` and ``casting=`` work as numpy's: numpy itself resolves the loop's dtypes from the
  operands' dtypes (``ufunc.resolve_dtypes``, raising numpy's casting errors with the call in
  front), the array operands are converted to the loop's dtypes, the function runs, and its
  results are converted to the output dtypes (torch's own functions take ``dtype=`` with
  numpy's casting check already, and keep it: it also knows torch's bfloat16);
- ``out=`` with an array raises NotImplementedError (NOTE [out= is refused]); ``where=`` other
  than True raises TypeError, since numpy leaves the unselected entries of a new result
  uninitialised (select from the result with ``mnp.where``); ``order=``, ``subok=`` and
  ``signature=`` other than their defaults raise TypeError saying what to do instead.

Only a call with keywords looks: the dispatching call tests ``kwargs`` first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: numpy's ufuncs by name (``mnp.NAME`` that are ufuncs in numpy).
UFUNCS: frozenset[str] = frozenset(n for n in dir(np) if isinstance(getattr(np, n, None), np.ufunc))
#: numpy's comparison ufuncs and its binary logical ones, which read integer operands as values
#: or truths rather than computing in their dtype.
COMPARISONS = frozenset("greater greater_equal less less_equal equal not_equal".split())
LOGICAL = frozenset("logical_and logical_or logical_xor".split())
_NIN: dict[str, int] = {n: getattr(np, n).nin for n in UFUNCS}
_DEFAULTS = {"out": None, "where": True, "casting": "same_kind", "order": "K", "subok": True, "signature": None}
_CASTINGS = ("no", "equiv", "safe", "same_kind", "unsafe")
_PYTHON = (bool, int, float, complex)


def operands(name: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The operands of a call of ufunc ``name``: numpy takes ``out`` positionally after them
    (``np.add(x, y, out)``), which numpy itself would write into and return; it is refused as
    ``out=`` is (None accepted), not handed on to the framework."""
    nin = _NIN[name]
    if len(args) <= nin:
        return args
    call = f"mnp.{name}"
    extra = args[nin:]
    nout = getattr(np, name).nout
    if len(extra) > nout:
        raise TypeError(
            f"{call}: takes at most {nin + nout} positional arguments ({nin} operands and out), got {len(args)}"
        )
    if any(o is not None for o in extra):
        raise NotImplementedError(
            f"{call}: out (numpy's positional argument after the operands) is not supported; use the returned array"
        )
    return args[:nin]


def split(name: str, own_dtype: bool, kwargs: dict[str, Any]) -> tuple[dict[str, Any], Any, Any]:
    """``(kwargs for the function, dtype, casting)`` of a call of ufunc ``name``: defaults
    dropped, the keywords multiad.numpy refuses raised (NOTE [Ufunc keywords]); ``dtype`` and
    ``casting`` are None where absent, or where the function takes ``dtype=`` itself
    (``own_dtype``: torch's) and no ``casting=`` is given."""
    call = f"mnp.{name}"
    rest: dict[str, Any] = {}
    dtype = casting = None
    for k, v in kwargs.items():
        if k in _DEFAULTS and _is_default(k, v):
            continue
        if k == "out":
            if isinstance(v, tuple) and all(o is None for o in v):
                continue
            raise NotImplementedError(f"{call}: out= is not supported; use the returned array")
        if k == "where":
            raise TypeError(
                f"{call}: numpy's where= is not supported by multiad.numpy (numpy leaves the other entries of "
                "a new result uninitialised); compute without it and select from the result with mnp.where"
            )
        if k == "casting":
            if v not in _CASTINGS:
                raise ValueError(f"{call}: casting must be one of {_CASTINGS}, got {v!r}")
            casting = v
        elif k == "dtype":
            dtype = v
        elif k in ("order", "subok"):
            raise TypeError(
                f"{call}: numpy's {k}={v!r} is not supported by multiad.numpy; results are arrays of the "
                f"arguments' framework, in its default layout; omit the keyword"
            )
        elif k == "signature":
            raise TypeError(
                f"{call}: numpy's signature= is not supported by multiad.numpy; give the loop's dtype as "
                "dtype=, or convert the arguments with mnp.astype"
            )
        elif getattr(np, name).signature is None:  # an elementwise ufunc takes no other keyword
            raise TypeError(f"{call}: got an unexpected keyword argument {k!r}")
        else:
            rest[k] = v
    if dtype is not None and casting is None and own_dtype:
        return {**rest, "dtype": dtype}, None, None  # torch's own numpy_typed (NOTE [Ufunc keywords])
    return rest, dtype, casting


def no_like(name: str) -> TypeError:
    """The error for ``like=`` given to a function whose numpy version has none (NOTE [Creation like=])."""
    return TypeError(
        f"mnp.{name}: like= is not a keyword of numpy's {name}; omit it (the creation functions whose numpy "
        "version has it, such as mnp.zeros, mnp.eye, mnp.arange and mnp.asarray, take like=)"
    )


def _is_default(k: str, v: Any) -> bool:
    d = _DEFAULTS[k]
    return v is d if d is None or isinstance(d, bool) else (type(v) is str and v == d)


def loop_dtypes(name: str, args: tuple[Any, ...], dtype: Any, casting: Any) -> tuple[list[Any], list[Any]]:
    """numpy's dtypes for ufunc ``name``'s operands and results at ``args`` with ``dtype=`` and
    ``casting=`` (either may be None), numpy's casting errors with the call in front."""
    ufunc = getattr(np, name)
    call = f"mnp.{name}"
    if len(args) != ufunc.nin:
        raise TypeError(f"{call}: takes {ufunc.nin} operand(s) before its keywords, got {len(args)}")
    given = tuple(_numpy_dtype(a, call) for a in args) + (None,) * ufunc.nout
    options: dict[str, Any] = {"casting": casting or "same_kind"}
    if dtype is not None:
        try:
            want = np.dtype(_numpy_dtype_of(dtype, call))
        except TypeError as exc:
            raise TypeError(f"{call}: dtype={dtype!r} is not a dtype: {exc}") from None
        options["signature"] = (None,) * ufunc.nin + (want,) * ufunc.nout
    try:
        dts = ufunc.resolve_dtypes(given, **options)
    except TypeError as exc:  # numpy's UFuncTypeError: no loop, or a cast the casting rule refuses
        raise TypeError(f"{call}: {exc}") from None
    return list(dts[: ufunc.nin]), list(dts[ufunc.nin :])


def _numpy_dtype_of(dtype: Any, call: str) -> Any:
    """A torch dtype as numpy's; other spellings as they are."""
    if type(dtype).__module__ == "torch":
        from ._torch_dtypes import numpy_dtype, torch_dtype

        found = numpy_dtype(torch_dtype(dtype, call))
        if found is None:
            raise TypeError(f"{call}: dtype={dtype!r} has no numpy dtype; convert the arguments with mnp.astype")
        return found
    return dtype


def _numpy_dtype(a: Any, call: str) -> Any:
    if type(a) in _PYTHON:  # not np.float64, a float subclass that numpy 2 takes as strong float64
        return type(a)  # weak: numpy 2 resolves it by value kind, as the operation does
    dt = getattr(a, "dtype", None)
    if dt is None:
        return np.asarray(a).dtype
    if type(dt).__module__ == "torch":
        return _numpy_dtype_of(dt, call)
    return np.dtype(dt)


def run(name: str, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], dtype: Any, casting: Any) -> Any:
    """``fn(*args, **kwargs)`` computed in the loop dtypes numpy picks for ``dtype=``/``casting=``
    (NOTE [Ufunc keywords])."""
    from ._misc import astype

    ins, outs = loop_dtypes(name, args, dtype, casting)
    cast = tuple(a if type(a) in _PYTHON or _numpy_dtype(a, name) == d else astype(a, d) for a, d in zip(args, ins))
    res = fn(*cast, **kwargs)
    if isinstance(res, tuple):
        return type(res)(r if _numpy_dtype(r, name) == d else astype(r, d) for r, d in zip(res, outs))
    return res if _numpy_dtype(res, name) == outs[0] else astype(res, outs[0])
