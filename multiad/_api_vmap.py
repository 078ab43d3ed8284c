"""vmap."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _arrays, _derive, _registry, _select, _tree
from ._api_ad import BackendArg
from ._errors import InvalidArgumentError, InvalidTypeError
from ._flat import check_callable, check_chunk_size, fname
from ._ops import do


def _is_axis(a: Any) -> bool:
    return a is None or (isinstance(a, int) and not isinstance(a, bool))


def _check_dims(call: str, name: str, dims: Any, allow_none: bool) -> None:
    leaves = _tree.leaf_axes(dims, dims) if not _is_axis(dims) else [dims]
    for a in leaves:
        if not _is_axis(a) or (a is None and not allow_none):
            raise InvalidTypeError(
                f"{call}: {name} entries must be ints{' or None' if allow_none else ''}, got {a!r} in {dims!r}; "
                f"give an axis number{', None (not batched)' if allow_none else ''} or a tuple with one per "
                f"{'argument' if allow_none else 'output'}"
            )


def vmap(
    f: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0, chunk_size: int | None = None,
    backend: BackendArg = None,
) -> Callable[..., Any]:  # fmt: skip
    """Vectorizes ``f`` over a batch axis of its arguments.

    Args:
        f: a function of arrays (pytrees allowed).
        in_dims: an int or None for every argument, or a tuple with one entry per positional
            argument, each an int, None (not batched) or a pytree prefix of that argument.
        out_dims: an int for every output, or a pytree prefix of the output.
        chunk_size: evaluate this many batch elements at a time (memory bound); default all.
        backend: backend name or object. Backends without a vmap run a Python loop.

    Returns:
        A function whose outputs carry the batch axis at ``out_dims``. Keyword arguments are
        passed through unbatched. Over an empty batch (mapped axes of size 0) each output has
        batch size 0 and the per-example shape and dtype; a backend without a vmap learns them
        by calling ``f`` once on an all-zero example (NOTE [Empty batches]).

    Example:
        >>> import multiad, multiad.numpy as mnp, numpy as np
        >>> out = multiad.vmap(lambda x, y: mnp.sum(x * y), in_dims=(0, None), backend="numpy")(np.ones((3, 2)), np.ones(2))
        >>> multiad.to_numpy(out).tolist()
        [2.0, 2.0, 2.0]
    """
    check_callable(f, "vmap")
    call = f"vmap({fname(f)})"
    check_chunk_size(chunk_size, call)
    if not isinstance(in_dims, (tuple, list)):
        _check_dims(call, "in_dims", in_dims, True)
    else:
        for d in in_dims:
            _check_dims(call, "in_dims", d, True)
    _check_dims(call, "out_dims", out_dims, False)

    plans: dict[Any, _Plan] = {}  # NOTE [Prepared vmap calls]

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        traced = _select.compiling()
        leaves: Any
        if not traced and _tree.ARRAY_TYPES.issuperset(map(type, args)):  # NOTE [Arrays are leaves]
            leaves, spec = args, _tree.leaves_spec(len(args))
        else:
            leaves, spec = _tree.flatten(args)
        plan = None
        if not traced:  # NOTE [Compiled regions]: no table while a compiler traces
            key = (spec, _select.chosen(backend, call, False), *map(type, leaves))
            plan = plans.get(key)
            if plan is not None and plan.generation != _registry.generation():
                plan = None
        if plan is None:
            plan = _Plan(args, leaves, in_dims, backend, call)
            if not traced:
                if len(plans) >= _MAX_PLANS:
                    plans.clear()
                plans[key] = plan
        b = plan.backend
        leaves_c = leaves
        if not plan.same:
            leaves_c = [_arrays.convert(b, x, call, f"leaf {k} of the arguments", False) for k, x in enumerate(leaves)]
        mapped_pos = plan.mapped_pos
        mapped = [leaves_c[k] for k in mapped_pos]
        mapped_axes = []
        for k, x, ax in zip(mapped_pos, mapped, plan.axes):
            ndim = len(x.shape)
            if not -ndim <= ax < ndim:
                raise InvalidArgumentError(
                    f"{call}: in_dims maps axis {ax} of leaf {k} of the arguments, which has shape "
                    f"{tuple(x.shape)}; use an axis that exists, or None for an unbatched argument"
                )
            mapped_axes.append(ax % ndim)
        _derive.batch_size(mapped, mapped_axes, call)
        out_spec: list[Any] = []

        def flat_fun(*xs: Any) -> tuple[Any, ...]:
            leaves = list(leaves_c)
            for pos, x in zip(mapped_pos, xs):
                leaves[pos] = x
            out = f(*_tree.unflatten(spec, leaves), **kwargs)
            if not traced and b.is_array(out):  # one array: NOTE [Arrays are leaves]
                out_spec[:] = [_tree.LEAF]
                return (out,)
            outs, spec_o = _tree.flatten(out)
            out_spec[:] = [spec_o]
            for o in outs:
                if not (b.is_array(o) or isinstance(o, (np.ndarray, np.generic, int, float))):
                    raise InvalidTypeError(f"{call}: f returned a {type(o).__name__} leaf; outputs must be arrays")
            return tuple(o if b.is_array(o) else b.asarray(o) for o in outs)

        with _select.active(b, traced):
            batched = _derive.vmap(b, flat_fun, mapped_axes, chunk_size, call)
            outs = _derive.guarded(b, call, batched, *mapped, verb="vectorize")
        (spec_o,) = out_spec
        if type(out_dims) is int and out_dims == 0:  # every output batched along axis 0 already
            return outs[0] if spec_o is _tree.LEAF else _tree.unflatten(spec_o, list(outs))
        example = _tree.unflatten(spec_o, [0] * len(outs))
        try:
            oaxes = _tree.leaf_axes(out_dims, example)
        except ValueError as exc:
            raise InvalidArgumentError(
                f"{call}: out_dims={out_dims!r} does not match the output: {exc}; give one int for every "
                "output, or a tree prefix of the output"
            ) from None
        moved = []
        for o, ax in zip(outs, oaxes):
            nd = len(o.shape)
            if not -nd <= ax < nd:
                raise InvalidArgumentError(
                    f"{call}: out_dims={out_dims!r} puts the batch axis at {ax} of an output with {nd} dims; "
                    f"use an axis from {-nd} to {nd - 1}"
                )
            moved.append(o if ax % nd == 0 else do("transpose", o, _moved_axes(nd, ax % nd)))
        return _tree.unflatten(spec_o, moved)

    return wrapper


# NOTE [Prepared vmap calls]: what a call of a vmap does with its arguments before mapping
# depends only on their structure and leaf types and on the backend chosen by ``backend=`` or
# the selection in force (as for the differentiating transforms, NOTE [Prepared signatures] in
# ``multiad/_flat.py``): checking ``in_dims`` against the arguments, inferring the backend,
# which leaves are mapped along which axis, and whether any leaf needs converting. Each vmap
# keeps that per signature in a small table of its own (an entry is dropped when the registry
# of backends has changed since it was made); a later call with the same signature only
# flattens its arguments and checks the mapped axes against the leaves' dimensions and batch
# sizes. Arguments with a leaf to convert (numpy arrays on torch or JAX) are converted on every
# call. While a compiler traces Python the table is not used.
_MAX_PLANS = 64


class _Plan:
    """The part of a vmap call's argument handling that depends only on its signature."""

    __slots__ = ("axes", "backend", "generation", "mapped_pos", "same")

    def __init__(self, args: tuple[Any, ...], leaves: list[Any], in_dims: Any, backend: BackendArg, call: str) -> None:
        self.generation = _registry.generation()
        if isinstance(in_dims, (tuple, list)):
            if len(in_dims) != len(args):
                raise InvalidArgumentError(
                    f"{call}: in_dims has {len(in_dims)} entries but f got {len(args)} positional arguments; "
                    "give one entry per argument (None for an unbatched one)"
                )
            per_arg = list(in_dims)
        else:
            per_arg = [in_dims] * len(args)
        axes: list[Any] = []
        for i, (arg, d) in enumerate(zip(args, per_arg)):
            try:
                axes.extend(_tree.leaf_axes(d, arg))
            except ValueError as exc:
                raise InvalidArgumentError(
                    f"{call}: in_dims[{i}]={d!r} does not match argument {i}: {exc}; give one int or None for "
                    "the whole argument, or a tree prefix of it"
                ) from None
        self.backend = b = _select.resolve(backend, leaves, call)
        _derive.require(b, "vmap", call)
        self.same = all(_arrays.unchanged(b, leaf, False, call) for leaf in leaves)
        _tree.ARRAY_TYPES.update(type(leaf) for leaf in leaves if b.is_array(leaf))  # NOTE [Arrays are leaves]
        self.mapped_pos: list[int] = []
        self.axes: list[int] = []
        for k, (leaf, ax) in enumerate(zip(leaves, axes)):
            x = _arrays.convert(b, leaf, call, f"leaf {k} of the arguments", False)
            if ax is None:
                continue
            if not b.is_array(x):
                raise InvalidArgumentError(
                    f"{call}: in_dims maps axis {ax} of leaf {k} of the arguments, which has type "
                    f"{type(x).__name__}; use an axis that exists, or None for an unbatched argument"
                )
            self.mapped_pos.append(k)
            self.axes.append(ax)
        if not self.mapped_pos:
            raise InvalidArgumentError(f"{call}: in_dims maps no array argument; at least one must be batched")


def _moved_axes(nd: int, to: int) -> tuple[int, ...]:
    """The permutation moving axis 0 to ``to``: a transpose, since torch has no vmap rule for
    ``moveaxis``, so that the batch axis can be placed inside an enclosing torch vmap."""
    rest = list(range(1, nd))
    return (*rest[:to], 0, *rest[to:])
