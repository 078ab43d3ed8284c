"""Small functions: shape queries, ``copy``, ``astype`` and ``stop_gradient``."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _dispatch


def shape(a: Any) -> tuple[int, ...]:
    """The shape of an array (or of numpy.asarray of a list)."""
    return tuple(int(s) for s in (a.shape if hasattr(a, "shape") else np.shape(a)))


def ndim(a: Any) -> int:
    """The number of axes."""
    return len(shape(a))


def size(a: Any, axis: int | tuple[int, ...] | None = None) -> int:
    """The number of elements (along ``axis``, an axis or a tuple of them, if given)."""
    from ._composite import _normalized

    s = shape(a)
    if axis is None:
        return int(np.prod(s, dtype=np.int64))
    n = 1
    for ax in _normalized("size", axis, len(s)):  # numpy's AxisError for an axis out of range
        n *= int(s[ax])
    return n


def copy(a: Any) -> Any:
    """A copy (differentiable: the identity for derivatives)."""
    from ._composite import inexact

    if isinstance(a, (list, tuple)):  # a new array already
        return _dispatch.to_array(_dispatch.like(a, call="mnp.copy"), a)
    lib = _dispatch.like(a, call="mnp.copy")
    plugin = lib.startswith("plugin:")  # NOTE [Plugin arrays in multiad.numpy]
    if inexact(a) and (plugin or lib in ("jax", "autograd")):  # differentiable there (torch's clone is)
        return _dispatch.call("positive", a)
    # integers and booleans: no derivative to keep; numpy's: a 0-d array of a scalar, as np.copy
    if lib == "torch":
        return a.clone()
    if lib == "jax":
        import jax.numpy as jnp

        return jnp.array(a, copy=True)
    if lib == "autograd":
        from autograd.tracer import getval

        return np.array(getval(a), copy=True)
    if plugin:  # integers and booleans: the array's own copy (np.array would convert it)
        return a.copy() if hasattr(a, "copy") else _dispatch.call("copy", a)
    return np.array(a, copy=True)


def astype(x: Any, dtype: Any, /, *, copy: bool = True) -> Any:
    """``x`` converted to a dtype in any spelling: a numpy name (``"float32"``), a numpy type or
    dtype (``np.float64``), a Python type (``float``), or a torch dtype (``torch.float32``)."""
    from ._creation import asarray, canonical_dtype_name

    if isinstance(x, (list, tuple)):  # array data, as for every mnp function (traced values stacked)
        try:
            x = asarray(x)
        except ValueError as exc:  # ragged data: numpy's words, with the call in front
            if str(exc).startswith("mnp."):
                raise
            raise ValueError(f"mnp.astype: {exc}") from None
    lib = _dispatch.like(x, call="mnp.astype")
    if lib == "torch":
        from ._torch_dtypes import torch_dtype

        y = x.to(torch_dtype(dtype))
        return y.clone() if copy and y is x else y  # torch returns x itself for its own dtype
    name = canonical_dtype_name(dtype, "mnp.astype")
    if lib == "numpy":
        return np.asarray(x).astype(name)
    if lib.startswith("plugin:") and not hasattr(x, "astype"):  # NOTE [Plugin arrays in multiad.numpy]
        return _dispatch.call("asarray", x, dtype=name)
    if lib == "autograd" and not np.issubdtype(np.dtype(name), np.inexact):
        # NOTE [Integer casts on autograd]: autograd's astype passes the cotangent back whatever
        # the target dtype, so an integer or bool cast (piecewise constant: derivative 0, as
        # torch and JAX give) had derivative 1; the value is cast unboxed, a constant.
        from autograd.tracer import getval

        return getval(x).astype(name)
    return x.astype(name)


def stop_gradient(x: Any) -> Any:
    """``x`` as a constant for differentiation: its value, with derivative 0 (torch's
    ``detach``, ``jax.lax.stop_gradient``, autograd's unboxing; numpy arrays pass unchanged).
    ``x`` may be a pytree (a dict, list, tuple or registered container), as for
    ``jax.lax.stop_gradient``: every leaf is held constant and the structure is kept.

    The numpy backend differentiates by finite differences, which see only values, not where
    they came from, so it cannot hold a value constant: inside its transforms that differentiate
    this raises (under ``vmap`` alone the value is returned).

    Example:
        >>> import multiad, multiad.numpy as mnp
        >>> float(multiad.grad(lambda x: x * mnp.stop_gradient(x), backend="autograd")(3.0))
        3.0
    """
    if not hasattr(x, "shape") and not isinstance(x, (int, float, complex)):
        # NOTE [stop_gradient of a container]: a dict held no array for the dispatch to find and
        # came back unchanged, derivatives and all (a tuple or list on autograd too): each leaf
        # is held constant instead, as jax.lax.stop_gradient does.
        from .. import _tree

        leaves, spec = _tree.flatten(x)
        if not (len(leaves) == 1 and leaves[0] is x):
            return _tree.unflatten(spec, [stop_gradient(leaf) for leaf in leaves])
    lib = _dispatch.like(x, call="mnp.stop_gradient")
    plugin = _dispatch.plugin_backend(lib)
    if plugin is not None:  # NOTE [Plugin arrays in multiad.numpy]
        return plugin.stop_gradient(x)
    if lib == "numpy":
        from .. import _custom_state

        # only while such a backend differentiates: not under use_backend alone, nor in a vmap
        # (which takes no derivative), where the value passes through as it is
        b = _custom_state.differentiating_without_rules()
        if b is not None and not b.exact:
            from .._errors import UnsupportedOperationError  # a NotImplementedError too

            raise UnsupportedOperationError(
                f"mnp.stop_gradient: the {b.name!r} backend differentiates by finite differences, which "
                "cannot hold a value constant; use a backend with automatic differentiation "
                "(torch, jax, autograd), or pass the constant as a separate, undifferentiated argument"
            )
        return x
    from ._fixes_common import stop_gradient as _stop

    return _stop(lib, x)


def array_equal(a1: Any, a2: Any, equal_nan: bool = False) -> bool:
    """Whether two arrays have the same shape and elements."""
    if shape(a1) != shape(a2):
        return False
    same = _dispatch.call("equal", a1, a2, arrays=2)
    if equal_nan:
        both = _dispatch.call("logical_and", _dispatch.call("isnan", a1), _dispatch.call("isnan", a2), arrays=2)
        same = _dispatch.call("logical_or", same, both, arrays=2)
    return bool(_dispatch.call("all", same))


def array_equiv(a1: Any, a2: Any) -> bool:
    """Whether two arrays are equal after broadcasting."""
    try:
        np.broadcast_shapes(shape(a1), shape(a2))
    except ValueError:
        return False
    return bool(_dispatch.call("all", _dispatch.call("equal", a1, a2, arrays=2)))
