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

from ._backend import Backend

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
        fn = _by_type[key] = autoray.get_lib_fn(autoray.infer_backend(x), name)
    return fn(*args, **kwargs)


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
