"""vmap."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _arrays, _derive, _select, _tree
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

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if isinstance(in_dims, (tuple, list)):
            if len(in_dims) != len(args):
                raise InvalidArgumentError(
                    f"{call}: in_dims has {len(in_dims)} entries but f got {len(args)} positional arguments; "
                    "give one entry per argument (None for an unbatched one)"
                )
            per_arg = list(in_dims)
        else:
            per_arg = [in_dims] * len(args)
        specs, all_leaves, axes = [], [], []
        for i, (arg, d) in enumerate(zip(args, per_arg)):
            leaves, spec = _tree.flatten(arg)
            try:
                leaf_axes = _tree.leaf_axes(d, arg)
            except ValueError as exc:
                raise InvalidArgumentError(
                    f"{call}: in_dims[{i}]={d!r} does not match argument {i}: {exc}; give one int or None for "
                    "the whole argument, or a tree prefix of it"
                ) from None
            specs.append(spec)
            all_leaves.extend(leaves)
            axes.extend(leaf_axes)
        b = _select.resolve(backend, all_leaves, call)
        _derive.require(b, "vmap", call)
        mapped_pos, mapped, mapped_axes = [], [], []
        leaves_c = list(all_leaves)
        for k, (leaf, ax) in enumerate(zip(all_leaves, axes)):
            what = f"leaf {k} of the arguments"
            if ax is None:
                leaves_c[k] = _arrays.convert(b, leaf, call, what, False)
                continue
            x = _arrays.convert(b, leaf, call, what, False)
            ndim = len(getattr(x, "shape", ()))
            if not b.is_array(x) or not -ndim <= ax < ndim:
                raise InvalidArgumentError(
                    f"{call}: in_dims maps axis {ax} of {what}, which has "
                    f"{'shape ' + str(tuple(x.shape)) if b.is_array(x) else 'type ' + type(x).__name__}; "
                    "use an axis that exists, or None for an unbatched argument"
                )
            mapped_pos.append(k)
            mapped.append(x)
            mapped_axes.append(ax % ndim)
        if not mapped:
            raise InvalidArgumentError(f"{call}: in_dims maps no array argument; at least one must be batched")
        _derive.batch_size(mapped, mapped_axes, call)
        out_spec: list[Any] = []

        def flat_fun(*xs: Any) -> tuple[Any, ...]:
            leaves = list(leaves_c)
            for pos, x in zip(mapped_pos, xs):
                leaves[pos] = x
            rebuilt, start = [], 0
            for spec in specs:
                rebuilt.append(_tree.unflatten(spec, leaves[start : start + spec.num_leaves]))
                start += spec.num_leaves
            out = f(*rebuilt, **kwargs)
            outs, spec_o = _tree.flatten(out)
            out_spec[:] = [spec_o, _tree.unflatten(spec_o, [0] * len(outs))]
            for o in outs:
                if not (b.is_array(o) or isinstance(o, (np.ndarray, np.generic, int, float))):
                    raise InvalidTypeError(f"{call}: f returned a {type(o).__name__} leaf; outputs must be arrays")
            return tuple(o if b.is_array(o) else b.asarray(o) for o in outs)

        with _select.active(b):
            batched = _derive.vmap(b, flat_fun, mapped_axes, chunk_size, call)
            outs = _derive.guarded(b, call, batched, *mapped, verb="vectorize")
        spec_o, example = out_spec
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
            moved.append(o if ax % nd == 0 else do("moveaxis", o, 0, ax % nd))
        return _tree.unflatten(spec_o, moved)

    return wrapper
