"""numpy's ``like=`` of the creation functions (``mnp.eye(n, like=x)``).

NOTE [Creation like=]: a creation function without array arguments (``zeros``, ``eye``,
``arange``, ``asarray`` of numpy data, ...) makes an array of the selected backend (NOTE
[Creation dtypes]). Library code run under a framework's own transform with no backend selected
(``jax.grad(f)``, ``jax.jit(f)``, ``autograd.grad(f)``) then mixed the default backend's tensor into
the framework's values and failed with Python's TypeError (``unsupported operand type(s) for *:
'LinearizeTracer' and 'Tensor'``). numpy's answer is ``like=`` (NEP 35): ``like=x`` makes the
array by the backend ``x`` belongs to, found as every dispatching function finds it (a torch
tensor: torch, a JAX array or tracer: jax, an autograd box: autograd); a numpy array (autograd's
arrays outside its transforms too) keeps the selection, as numpy's ``like=`` of an ndarray gives
an ndarray. A backend over the same framework that is selected (a plugin over torch) is kept.
The array is made on ``x``'s device (a tensor's; a concrete JAX array's when it is not the
default device) unless ``device=`` is given; the dtype is the function's (``dtype=``, else
numpy's default), as ``like=`` never changes it in numpy. A ``like=`` that is not an array
raises numpy's TypeError with the call; ``like=None`` is numpy's default. Only the functions
whose numpy version takes ``like=`` take it (``linspace``, ``geomspace``, ``logspace`` refuse it).
Handled once, in the wrapper every public function has (NOTE [Keywords numpy has]): calls
without keywords pay nothing more. The backend is set as the context's for the call
(``_select.run_in``), so the creation functions read it where they read the selection; while a
compiler traces, the context is not read (NOTE [Compiled regions]), and a ``like=`` whose backend
differs from the selection raises there instead of giving an array of the other backend.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _registry, _select
from .._backend import Backend
from .._errors import UnsupportedOperationError
from . import _dispatch

#: The creation functions taking ``like=`` (numpy 2's), and where their data argument is (a
#: framework's array there must be of ``like``'s framework): (position, keyword) or None.
LIKE: dict[str, tuple[int, str] | None] = {
    "zeros": None,
    "ones": None,
    "empty": None,
    "eye": None,
    "identity": None,
    "tri": None,
    "arange": None,
    "full": (1, "fill_value"),
    "array": (0, "object"),
    "asarray": (0, "a"),
}


def made_like(name: str, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``fn(*args, **kwargs)`` (``mnp.<name>``) with its ``like=`` array's backend (NOTE [Creation like=])."""
    kwargs = dict(kwargs)
    ref = kwargs.pop("like")
    if ref is None:
        return fn(*args, **kwargs)
    call = f"mnp.{name}"
    where = LIKE[name]
    data: tuple[Any, ...] = ()
    if where is not None:
        pos, key = where
        data = (args[pos],) if len(args) > pos else (kwargs[key],) if key in kwargs else ()
    lib = _dispatch.like(ref, *data, call=call)
    if lib == "numpy":
        if not isinstance(ref, (np.ndarray, np.generic)) and _dispatch.like(ref, call=call) == "numpy":
            raise TypeError(
                f"{call}: like= must be an array (numpy's, or a framework's), got {type(ref).__name__}; "
                "give the array whose kind the result should have"
            )
        return fn(*args, **kwargs)
    backend = _backend_of(lib, call)
    if kwargs.get("device") is None:
        device = _device_of(ref, backend)
        if device is not None:
            kwargs["device"] = device
    traced = _select.compiling()
    if traced and _select.get_backend() is not backend:  # NOTE [like= while a compiler traces]
        raise UnsupportedOperationError(
            f"{call}: like= of a {backend.name} array while a compiler traces, with backend "
            f"{_select.get_backend().name!r} selected (use_backend is not read while a compiler traces); "
            f"select the backend with multiad.set_backend({backend.name!r}), or create the array outside "
            "the compiled function"
        )
    return _select.run_in(backend, traced, functools.partial(fn, *args, **kwargs))


# NOTE [like= while a compiler traces]: the creation functions find their backend through the
# selection, and while a compiler traces the context (use_backend, and the backend run_in sets
# for like=) is not read (NOTE [Compiled regions]), so a like= whose backend differs from the
# selection in force cannot be honoured there. It raised a bare NotImplementedError; it is now
# multiad's UnsupportedOperationError (a NotImplementedError), as every error multiad raises
# derives from MultiADError. Under torch.compile the compiler shows it inside its own error
# (fullgraph=True) or runs the function again outside the trace after the graph break. A first
# use of the torch backend inside the traced call with another backend selected ended, with or
# without like=, in a RecursionError between Dynamo's conversion of its numpy results and the
# backend's Tensor.numpy guard; installing the guard now empties Dynamo's cached table of tensor
# methods (see NOTE [Guard installed after Dynamo's tables] in the torch backend).


def _backend_of(lib: str, call: str) -> Backend:
    if lib.startswith("plugin:"):
        return _registry.get(lib.partition(":")[2], call)
    chosen = _select.selected(call)
    if chosen is not None and chosen.framework.partition(".")[0] == lib:
        return chosen
    return _registry.get(lib, call)


def _device_of(ref: Any, backend: Backend) -> Any:
    """``ref``'s device, where the backend would otherwise make the array elsewhere."""
    top = backend.framework.partition(".")[0]
    if top == "torch":
        return getattr(ref, "device", None)
    if top == "jax" and not backend.is_traced(ref) and hasattr(ref, "devices"):
        import jax

        devices = ref.devices()
        if len(devices) == 1:
            (device,) = devices
            return None if device == jax.devices()[0] else device
    return None
