"""Array operations the core needs on any backend's arrays, through autoray.

autoray is imported on first use rather than with multiad: its import pulls in opt_einsum and
would double the cost of ``import multiad``.

NOTE [Operations resolved eagerly]: autoray finds a library's function by importing it the first
time it is asked for, which a compiler that traces Python (torch.compile) cannot trace. The
first time a call uses a backend, :func:`prepare` resolves every operation the core uses for the
backend's array modules, outside any compiled region, so that traced calls only look them up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._backend import COMPILING_PROBES, Backend

#: The operations the core calls through :func:`do`.
CORE_OPS = ("reshape", "transpose", "concatenate", "stack", "zeros_like", "ones_like")

_prepared: set[str] = set()
#: Operations whose library autoray infers from the first array of a sequence argument.
_JOINS = frozenset({"concatenate", "stack"})
#: ``(name, type of the array autoray dispatches on)`` -> the function autoray chose for it
#: (NOTE [Operations looked up by type]).
_by_type: dict[tuple[str, type], Callable[..., Any]] = {}


# NOTE [Operations looked up by type]: autoray chooses a library from the class of the argument it
# dispatches on, through a functools.lru_cache, which torch.compile's Dynamo traces with a warning
# on every compiled call that reaches it (and which an error filter turns into a failure). The
# function autoray chose is kept per operation and class here, so that later calls, traced or
# not, look it up in a dict; calls with ``like=`` always go to autoray.


# NOTE [Tables a trace reads and does not fill]: a compiler that traces Python (torch.compile)
# guards each dict entry its trace looks up, an absent one included (``not key in table``). A
# trace that found an entry missing and added it made its own guard fail on the next call, which
# traced the same call again: two compiled frames where torch.func's transform has one, for the
# chunked ``hessian``, ``vmap`` with an ``out_dims`` other than 0, ``grad`` and ``jacobian`` of
# pytrees, and every function written with ``multiad.numpy``. The tables are memos filled on a
# miss: this module's ``_by_type``, the owners of array types (``multiad/_select.py``), the float
# dtypes seen (``multiad/_arrays.py``), ``multiad.numpy``'s implementations
# (``_dispatch.py``) and torch dtype plans (``_torch.py``, ``_torch_reduce.py``), and the torch
# backend's transforms built once. A traced call computes what it misses without adding it (its
# trace only: the compiled program does not run this code); calls that are not traced fill the
# tables, and their hits cost what they did. (An eager call made after the compiled one may add
# an entry the compiled one found missing; that one then traces once more and finds it.)


def do(name: str, *args: Any, **kwargs: Any) -> Any:
    """autoray's ``do``: numpy's function ``name`` for the library of the first argument (of its
    first element for ``concatenate`` and ``stack``)."""
    x = args[0] if args else None
    if name in _JOINS and isinstance(x, (list, tuple)) and x:
        x = x[0]
    key = (name, type(x))
    fn = None if "like" in kwargs else _by_type.get(key)
    if fn is None:
        import autoray

        if "like" in kwargs or x is None or (name in _JOINS and isinstance(x, (list, tuple))):
            return autoray.do(name, *args, **kwargs)
        fn = autoray.get_lib_fn(class_lib(type(x)), name)  # NOTE [Library of a class under a compiler]
        if not traced_now():  # NOTE [Tables a trace reads and does not fill]
            _by_type[key] = fn
    return fn(*args, **kwargs)


# NOTE [Library of a class under a compiler]: autoray names the library of an array's class
# (``infer_backend``) through a ``functools.lru_cache``, and torch.compile, tracing it, warned on
# every compiled multiad.numpy call (and on core operations first met in a trace) ("Dynamo detected a call to a functools.lru_cache-wrapped
# function"). The name depends on the class alone, so :func:`class_lib` asks autoray as
# ordinary Python (the compiler's constant-result mark) and keeps the answer.
_CLASS_LIBS: dict[type, str] = {}


class _OfClass:
    """An object whose ``__class__`` is a given class: what autoray's ``infer_backend`` reads."""

    __slots__ = ("cls",)

    def __init__(self, cls: type) -> None:
        self.cls = cls

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return self.cls


def class_lib(cls: type) -> str:
    """autoray's name of the library that defines array class ``cls`` (NOTE [Library of a
    class under a compiler])."""
    lib = _CLASS_LIBS.get(cls)
    if lib is None:
        import autoray

        lib = _CLASS_LIBS[cls] = autoray.infer_backend(_OfClass(cls))
    return lib


setattr(class_lib, "_dynamo_marked_constant", True)  # noqa: B010 - torch.compiler.assume_constant_result's mark


# NOTE [Probes defined before a trace asks them]: a backend's compiler probe joins
# COMPILING_PROBES when its class is defined, at the import of its plugin module. A compiler
# that traces Python (torch.compile) takes a list's contents when the trace first reads the list
# and does not see what ordinary Python code appends later in the same trace. A program whose
# first multiad call is a compiled ``multiad.numpy`` function on tensors read the list while it
# was still empty (``mnp``'s table of implementations asks :func:`traced_now` on a miss), then
# imported the torch backend, and every later question in that trace was answered "not traced":
# ``mnp.nanmax`` under ``fullgraph=True`` failed on a data-dependent branch, in a fresh process
# only. The places that can be the first to ask in a trace therefore define the probes first:
# the table of implementations in ``multiad/numpy/_dispatch.py`` imports multiad's own backend
# modules (``_registry.first_party_imported``, ordinary Python under a compiler; no framework
# and no other plugin is imported), the table of owners in ``multiad/_select.py`` asks after
# ``claims()`` imported the plugins, and the transforms ask through ``compiling()``, whose first
# use loads the backends before it asks. A third-party backend's compiler is not covered for a
# first ``mnp`` call: its plugin is imported only when a call needs it.
def traced_now() -> bool:
    """Whether a compiler that traces Python traces this call: the probes of ``compiling()``,
    asked here without its first use (``multiad/_select.py`` imports this module); see NOTE
    [Probes defined before a trace asks them]."""
    for probe in COMPILING_PROBES:
        if probe():
            return True
    return False


def prepare(b: Backend) -> None:
    """Resolves :data:`CORE_OPS` for ``b``'s array modules once (NOTE [Operations resolved eagerly])."""
    if b.name in _prepared:
        return
    _prepared.add(b.name)
    from autoray import get_lib_fn

    for module in b.array_modules:
        for name in CORE_OPS:
            try:
                get_lib_fn(module, name)
            except Exception:  # noqa: BLE001 - only a cache warm-up: do() resolves it when called
                pass
