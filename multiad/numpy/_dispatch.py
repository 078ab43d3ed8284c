"""Dispatch of numpy-named functions on the arguments' types.

NOTE [Why autoray]: autoray maps numpy names onto torch, jax.numpy, autograd.numpy and numpy
(translating keyword arguments such as ``axis`` to torch's ``dim``) and infers the library from
the argument's class module without importing frameworks. It handles autograd's ArrayBox,
torch.func's wrapped tensors and JAX tracers, which is what functions traced by a backend's
transforms receive. array-api-compat was evaluated too: it does not wrap autograd boxes, and
its torch namespace follows the array API rather than numpy names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from autoray import do, infer_backend_multi

_SCALARS = (int, float, complex, bool)


def _arrays(args: tuple[Any, ...]) -> list[Any]:
    found: list[Any] = []
    for a in args:
        if isinstance(a, (list, tuple)):
            found.extend(x for x in a if not isinstance(x, (*_SCALARS, str)) and x is not None)
        elif not isinstance(a, (*_SCALARS, str)) and a is not None:
            found.append(a)
    return found


def like(*args: Any) -> str:
    """The autoray library name for a call on ``args`` (frameworks win over numpy)."""
    arrays = _arrays(args)
    return infer_backend_multi(*arrays) if arrays else "numpy"


def _lift(lib: str, a: Any) -> Any:
    """Numpy arrays among framework arrays become that framework's arrays."""
    if lib in ("numpy", "autograd", "builtins"):
        return a
    if isinstance(a, np.ndarray):
        return do("asarray", a, like=lib)
    if isinstance(a, (list, tuple)):
        return type(a)(_lift(lib, x) for x in a)
    return a


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    lib = like(*args)
    if lib not in ("numpy", "autograd", "builtins"):
        args = tuple(_lift(lib, a) for a in args)
    return do(name, *args, like=lib, **kwargs)


def dispatching(name: str, doc: str) -> Callable[..., Any]:
    def fn(*args: Any, **kwargs: Any) -> Any:
        return call(name, *args, **kwargs)

    fn.__name__ = fn.__qualname__ = name.rsplit(".", 1)[-1]
    fn.__doc__ = f"{doc} (numpy's ``{name}``, dispatched on the argument types)."
    return fn
