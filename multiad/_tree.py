"""Pytrees, with one leaf order on every backend.

NOTE [Why optree]: torch flattens dicts in insertion order while JAX and optree sort keys, and
HIPS autograd only knows lists, tuples and dicts. Using optree (the C++ pytree library that
PyTorch itself wraps) for every backend gives one structure and one leaf order everywhere, and
its namespaced registry lets users register their own containers for multiad alone.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import optree

from ._errors import InvalidTypeError
from ._ops import traced_now
from ._tree_checks import checked_registration

NAMESPACE = "multiad"

PyTree = Any
TreeSpec = optree.PyTreeSpec
T = TypeVar("T")


def flatten(tree: PyTree) -> tuple[list[Any], TreeSpec]:
    """Flattens ``tree`` into its leaves and structure (``None`` is an empty subtree)."""
    return optree.tree_flatten(tree, namespace=NAMESPACE)


#: The structure of a single leaf (one array).
LEAF: TreeSpec = optree.treespec_leaf(namespace=NAMESPACE)

#: NOTE [Arrays are leaves]: the array types of the backends (and numpy's) are leaves of every
#: tree, so a tuple of arguments that are all arrays has the structure of ``n`` leaves without
#: being flattened. Flattening costs a microsecond or more per array (optree asks each array's
#: type whether it is a named tuple), which a small call pays several times. Types are added as
#: backends meet them (``Flat``); registering an array type as a pytree node is not supported.
ARRAY_TYPES: set[type] = {np.ndarray}
_LEAVES: dict[int, TreeSpec] = {}


def leaves_spec(n: int) -> TreeSpec:
    """The structure of a tuple of ``n`` leaves."""
    spec = _LEAVES.get(n)
    if spec is None:
        spec = _LEAVES[n] = tuple_spec([LEAF] * n)
    return spec


#: Nodes whose structure may compare equal to a different one (NOTE [Structures per call] in
#: ``multiad/_flat.py``): dicts (another key order) and registered nodes (their data: ``1`` and ``True``).
_LOOSE_KINDS = frozenset(
    {optree.PyTreeKind.DICT, optree.PyTreeKind.DEFAULTDICT, optree.PyTreeKind.ORDEREDDICT, optree.PyTreeKind.CUSTOM}
)


def same_structure(a: TreeSpec, b: TreeSpec) -> bool:
    """Whether ``a`` and ``b`` rebuild the same structure. A structure built while torch.compile
    traces keeps the namespace on a leaf, where optree drops it (``PyTreeSpec(*, namespace=...)``
    against ``PyTreeSpec(*)``): both compare unequal, though they rebuild alike."""
    if a == b:
        return True
    if a.num_leaves != b.num_leaves:
        return False
    dummy = [0] * a.num_leaves
    return bool(flatten(a.unflatten(dummy))[1] == flatten(b.unflatten(dummy))[1])


def has_loose(spec: TreeSpec) -> bool:
    """Whether ``spec`` has a node that may compare equal to a different one: a dict or a
    registered node (NOTE [Structures per call] in ``multiad/_flat.py``)."""
    return spec.kind in _LOOSE_KINDS or any(map(has_loose, spec.children()))


def tuple_spec(children: list[TreeSpec]) -> TreeSpec:
    """The structure of a tuple of subtrees with structures ``children``."""
    return optree.treespec_tuple(children, namespace=NAMESPACE)


def unflatten(spec: TreeSpec, leaves: Any) -> PyTree:
    """Rebuilds a tree of structure ``spec`` from ``leaves``."""
    try:
        return optree.tree_unflatten(spec, leaves)
    except (TypeError, ValueError):
        settled = from_trace(spec)  # NOTE [Structures made in a trace, used after it]
        if settled is spec:
            raise
        return optree.tree_unflatten(settled, leaves)


# NOTE [Structures made in a trace, used after it]: torch.compile runs optree through Python
# stand-ins of its own (``torch._dynamo.polyfills.pytree``), so a structure made while it traces
# is the stand-in's ``PyTreeSpec``, and one kept in a function the compiled function returns (a
# ``vjp_fn``, a ``jvp_fn``) stays one. Outside the trace optree does not take it, and the stand-in
# cannot rebuild a dict (torch 2.13 with optree 0.20: it keeps a dict's keys in a form of its own
# and rebuilds with optree's function, "unhashable type: 'list'"): a ``vjp_fn`` of a dict output
# returned from ``torch.compile(..., backend="eager")`` raised multiad's error about node data that
# cannot be compared, where torch.func's works. Where optree refuses a structure, it is rebuilt
# from the stand-in's parts as optree's own (:func:`from_trace`); a structure of optree's own, the
# only kind outside compiled code otherwise, never takes this path.
def from_trace(spec: Any) -> Any:
    """``spec`` as optree's structure where it is torch.compile's stand-in for one (NOTE
    [Structures made in a trace, used after it]), else ``spec`` itself."""
    if type(spec).__module__ != "torch._dynamo.polyfills.pytree":
        return spec

    def example(node: Any) -> Any:
        kids = [example(c) for c in node._children]
        if node._type is None:
            return 0
        if node._type is dict and type(node._metadata) is tuple and len(node._metadata) == 2:
            original, ordered = node._metadata  # the stand-in's: keys in insertion and in sorted order
            values = dict(zip(ordered, kids))
            return {k: values[k] for k in original}
        return node._unflatten_func(node._metadata, kids)

    return optree.tree_structure(example(spec), none_is_leaf=spec.none_is_leaf, namespace=spec.namespace)


def tree_map(fn: Callable[..., Any], tree: PyTree, *rest: PyTree) -> PyTree:
    """Applies ``fn`` to every leaf of ``tree`` (and the matching leaves of ``rest``)."""
    return optree.tree_map(fn, tree, *rest, namespace=NAMESPACE)


def map_axes(fn: Callable[[Any], Any], prefix: Any) -> Any:
    """``prefix`` (an in_dims/out_dims tree, None a leaf) with ``fn`` applied to each leaf."""
    return optree.tree_map(fn, prefix, none_is_leaf=True, namespace=NAMESPACE)


# NOTE [Axes of a prefix under a compiler]: torch.compile traces optree through its own
# polyfills, which fail on some calls whose leaves are Python constants: a structure of a dict of
# ints (``optree.tree_structure``, ``tree_flatten_one_level``: "Unexpected type in sourceless
# builder (optree.registry.DictMetaData)") and a dict rebuilt around ints (``tree_unflatten``:
# "unhashable type: 'list'"). vmap's checks of ``in_dims`` and ``out_dims`` therefore take the
# prefix's leaves alone (:func:`axes`), and the out_dims of each output leaf are matched against
# the outputs themselves rather than against a tree of ints. A dict in ``in_dims`` or ``out_dims``
# then traces under ``fullgraph=True``, as with torch.func's vmap.
def axes(prefix: Any) -> list[Any]:
    """The leaves of ``prefix`` (an in_dims/out_dims tree, None a leaf), for checking each entry
    (NOTE [Axes of a prefix under a compiler])."""
    return optree.tree_leaves(prefix, none_is_leaf=True, namespace=NAMESPACE)


def leaf_axes(prefix: Any, tree: PyTree) -> list[Any]:
    """The per-leaf values of ``prefix`` (an int, None, or a prefix tree of them) over ``tree``."""
    n = optree.tree_structure(tree, namespace=NAMESPACE).num_leaves
    if prefix is None or isinstance(prefix, int):
        return [prefix] * n
    if traced_now():  # see NOTE [Prefixes walked by path under a compiler]
        return _leaf_axes_by_path(prefix, tree)
    full = optree.tree_broadcast_prefix(_keyed_like(prefix, tree), tree, none_is_leaf=True, namespace=NAMESPACE)
    return optree.tree_leaves(full, none_is_leaf=True, namespace=NAMESPACE)


# NOTE [Prefixes walked by path under a compiler]: torch.compile's copy of optree could not
# broadcast a prefix in which one int stands for a dict nested in the tree
# (``in_dims=({"a": 0, "b": 0},)`` with ``b`` a dict: "length mismatch"), where torch.func's vmap
# compiles. While a compiler traces, each leaf of the tree is followed down the prefix along the
# leaf's path (the keys and indices optree gives with the leaves, in their order) to the first int
# or None on the way, which gives the broadcast's values. On the way each dict of the prefix must
# have the keys of the tree's dict at that place, and each tuple or list its length, or ValueError
# is raised, as the broadcast raises. A container of another kind than the tree's at the same
# place (a tuple for a list, a tuple for a named tuple, a dict for a list, a container for a leaf)
# is refused with the broadcast's words (:func:`_other_kind`): followed by its indices, it was
# accepted under the compiler where the same call raised without one.
def _leaf_axes_by_path(prefix: Any, tree: PyTree) -> list[Any]:
    """:func:`leaf_axes` while a compiler traces (NOTE [Prefixes walked by path under a compiler])."""
    paths, _, _ = optree.tree_flatten_with_path(tree, none_is_leaf=True, namespace=NAMESPACE)
    out: list[Any] = []
    for path in paths:
        d, t = prefix, tree
        for k in path:
            if d is None or isinstance(d, int):
                break
            _other_kind(d, t)
            if isinstance(d, dict) and isinstance(t, dict):
                if d.keys() != t.keys():
                    raise ValueError(
                        f"the prefix's keys {sorted(d, key=repr)!r} are not the tree's {sorted(t, key=repr)!r}"
                    )
            elif isinstance(d, (list, tuple)) and isinstance(t, (list, tuple)) and len(d) != len(t):
                raise ValueError(f"the prefix has {len(d)} entries where the tree has {len(t)}")
            try:
                d, t = d[k], t[k]
            except (KeyError, IndexError, TypeError):
                raise ValueError(f"the prefix cannot follow the path {path!r} of a leaf") from None
        if not (d is None or isinstance(d, int)):
            _other_kind(d, t)  # a container of the prefix where the tree has a leaf
            raise ValueError(f"the prefix goes deeper than the tree at {path!r}")
        out.append(d)
    return out


def _other_kind(d: Any, t: Any) -> None:
    """Raises optree's broadcast's ValueError where the prefix's container ``d`` is of another
    kind than the tree's ``t`` at the same place (the kinds of dict are one kind: NOTE [Prefixes
    matched by key]); containers of other kinds (registered nodes) are left to the walk."""
    if isinstance(d, tuple) and hasattr(type(d), "_fields"):  # a named tuple
        if not (isinstance(t, tuple) and hasattr(type(t), "_fields")):
            raise ValueError(f"Expected an instance of collections.namedtuple, got {t!r}.")
        if type(t) is not type(d):
            raise ValueError(
                f"namedtuple type mismatch; expected type: {type(d)!r}, got type: {type(t)!r}; tuple: {t!r}."
            )
    elif type(d) in (tuple, list) and type(t) is not type(d):
        raise ValueError(f"Expected an instance of {type(d).__name__}, got {t!r}.")
    elif type(d) in _DICTS and type(t) not in _DICTS:
        raise ValueError(
            f"Expected an instance of dict, collections.OrderedDict, or collections.defaultdict, got {t!r}."
        )


class _Shown:
    """A leaf in an error message: an array by its shape and dtype."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def shown(tree: PyTree) -> PyTree:
    """``tree`` with each array leaf replaced by one whose repr is its shape and dtype
    (``array(shape=(2, 3), dtype=float64)``), for an error message that prints the tree: an
    array's own repr runs over many lines."""

    def one(leaf: Any) -> Any:
        shape, dtype = getattr(leaf, "shape", None), getattr(leaf, "dtype", None)
        if shape is None or dtype is None:
            return leaf
        return _Shown(f"array(shape={tuple(shape)}, dtype={str(dtype).removeprefix('torch.')})")

    return tree_map(one, tree)


def mismatch(prefix: Any, tree: PyTree) -> str:
    """optree's words for why ``prefix`` (in_dims, out_dims) is not a prefix of ``tree``, with
    ``tree``'s arrays shown by shape and dtype (:func:`shown`); "no match" where it finds none."""
    try:
        leaf_axes(prefix, shown(tree))
    except ValueError as exc:
        return str(exc).rstrip(".")
    return "no match"


# NOTE [Prefixes matched by key]: optree matches a dict of a prefix (in_dims, out_dims) with a dict
# of the tree by its keys, but the broadcast keeps the prefix's own kind of dict and key order, and
# the leaves of an OrderedDict come in insertion order where those of a dict come in sorted key
# order. A prefix ``OrderedDict([("b", 1), ("a", 0)])`` over ``OrderedDict([("a", x), ("b", y)])``
# (or any mix of dict and OrderedDict) thus gave each leaf the other key's axis. The prefix's
# dicts are rebuilt as the tree's kind of dict in the tree's key order first, at any depth (inside
# tuples, named tuples and registered nodes too), so every entry reaches the leaf of its own key;
# keys that differ are left to optree's error.
_DICTS = (dict, collections.OrderedDict, collections.defaultdict)


def _keyed_like(prefix: Any, tree: Any) -> Any:
    """``prefix`` with each of its dicts that has the keys of the matching dict of ``tree`` made
    that dict's kind, in its key order (NOTE [Prefixes matched by key]); containers of other
    kinds (tuples, lists, named tuples, registered nodes) are rebuilt around their children."""
    if type(prefix) in _DICTS and type(tree) in _DICTS:
        if prefix.keys() != tree.keys():
            return prefix
        items = [(k, _keyed_like(prefix[k], tree[k])) for k in tree]
        if type(tree) is collections.defaultdict:
            return collections.defaultdict(tree.default_factory, items)
        return type(tree)(items)
    if prefix is None or isinstance(prefix, int) or type(prefix) is not type(tree):
        return prefix
    try:
        p = optree.tree_flatten_one_level(prefix, none_is_leaf=True, namespace=NAMESPACE)
        t = optree.tree_flatten_one_level(tree, none_is_leaf=True, namespace=NAMESPACE)
        if len(p.children) != len(t.children):
            return prefix
        return p.unflatten_func(p.metadata, [_keyed_like(a, b) for a, b in zip(p.children, t.children)])
    except Exception:  # noqa: BLE001 - a leaf, or a node that cannot hold ints: left to optree's own match
        return prefix


def register_pytree_node(
    cls: type,
    flatten_fn: Callable[[Any], tuple[Any, Any]],
    unflatten_fn: Callable[[Any, Any], Any],
) -> None:
    """Registers a container type for multiad's transforms: ``flatten_fn(x) -> (children, aux)``,
    ``unflatten_fn(aux, children) -> x``. The registration is multiad's own (an optree
    namespace): it does not change how torch or JAX see the type.

    Raises:
        InvalidTypeError: ``cls`` is not a class (a string, an instance), a function is not
            callable or cannot take its arguments; at a flatten, ``flatten_fn`` returned
            something other than a pair whose children are a tuple or list (an array as the
            children, ``(x.a, aux)`` for ``((x.a,), aux)``, would make each element a leaf);
            ``unflatten_fn``'s parameters named ``(children, aux)``, the wrong order; at a
            rebuild, ``unflatten_fn`` raised one of Python's built-in exceptions (the message
            says whether it takes its parameters in the wrong order).
        InvalidArgumentError: ``cls`` is already registered (register each class once), or is
            a built-in container.

    Example:
        >>> import multiad, numpy as np
        >>> class Pair:
        ...     def __init__(self, a, b):
        ...         self.a, self.b = a, b
        >>> multiad.register_pytree_node(Pair, lambda p: ((p.a, p.b), None), lambda _, c: Pair(*c))
        >>> g = multiad.grad(lambda p: (p.a * p.b).sum(), backend="numpy")(Pair(np.ones(2), np.full(2, 3.0)))
        >>> np.round(g.a, 6).tolist(), np.round(g.b, 6).tolist()
        ([3.0, 3.0], [1.0, 1.0])
    """

    # NOTE [Registrations checked] in _tree_checks.py
    name = cls.__name__ if isinstance(cls, type) else repr(cls) if isinstance(cls, str) else "cls"
    checked_registration(f"register_pytree_node({name}, ...)", cls, flatten_fn, unflatten_fn, NAMESPACE)


def register_dataclass(
    cls: type[T],
    data_fields: Sequence[str] | None = None,
    meta_fields: Sequence[str] | None = None,
    drop_fields: Sequence[str] = (),
) -> type[T]:
    """Registers a dataclass as a pytree, as ``jax.tree_util.register_dataclass`` does.

    ``data_fields`` are its children (arrays, differentiated and batched), in the order given;
    ``meta_fields`` are part of its structure (hashable static values: a size, a name), kept as
    they are and compared between structures; ``drop_fields`` are left out of both (fields
    the class's ``__init__`` sets itself). Without ``data_fields`` and ``meta_fields``, the
    fields declared with ``metadata={"static": True}`` are meta fields and the others are data
    fields, in declaration order. ``cls(**fields)`` must rebuild an instance from them.

    Usable as a decorator::

        @multiad.register_dataclass
        @dataclasses.dataclass
        class Params:
            w: Any
            b: Any
            activation: str = dataclasses.field(default="tanh", metadata={"static": True})
    """
    call = f"register_dataclass({getattr(cls, '__name__', cls)!r})"
    if not isinstance(cls, type):  # NOTE [Registrations checked]
        raise InvalidTypeError(f"{call}: cls must be a class, got {type(cls).__name__} {cls!r}; decorate the class")
    if (data_fields is None) != (meta_fields is None):
        raise TypeError(
            f"{call}: give both data_fields and meta_fields, or neither (then the fields' metadata decides)"
        )
    for kind, names in (("data_fields", data_fields), ("meta_fields", meta_fields), ("drop_fields", drop_fields)):
        if names is not None and (isinstance(names, str) or not all(isinstance(n, str) for n in names)):
            raise TypeError(f"{call}: {kind} must be a sequence of field names, got {names!r}")  # "ab" is not two
    if data_fields is None or meta_fields is None:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{call}: expected a dataclass; decorate it with @dataclasses.dataclass first")
        fields = [f for f in dataclasses.fields(cls) if f.name not in drop_fields]
        data_fields = [f.name for f in fields if not f.metadata.get("static", False)]
        meta_fields = [f.name for f in fields if f.metadata.get("static", False)]
    data, meta = tuple(data_fields), tuple(meta_fields)
    if len(set(data + meta)) != len(data) + len(meta):
        raise ValueError(f"{call}: a field is named twice in data_fields {data} and meta_fields {meta}")
    if dataclasses.is_dataclass(cls):
        init = {f.name for f in dataclasses.fields(cls) if f.init} - set(drop_fields)
        if set(data + meta) != init:
            raise ValueError(
                f"{call}: data_fields and meta_fields must name the fields __init__ takes, each once: "
                f"missing {sorted(init - set(data + meta))}, not in __init__ {sorted(set(data + meta) - init)} "
                "(name the rest in drop_fields)"
            )

    def _flatten(x: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        return tuple(getattr(x, n) for n in data), tuple(getattr(x, n) for n in meta)

    def _unflatten(aux: tuple[Any, ...], children: Any) -> Any:
        return cls(**dict(zip(data, children)), **dict(zip(meta, aux)))

    checked_registration(call, cls, _flatten, _unflatten, NAMESPACE, wrap_flatten=False)
    return cls
