"""grad, value_and_grad, vjp, jvp and linearize."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _custom_state, _derive, _plan, _prepared, _registry, _results, _select, _tree
from ._arrays import convert
from ._backend import Backend
from ._errors import InvalidArgumentError, InvalidTypeError, NonDifferentiableError
from ._flat import Argnums, Flat, as_argnums, check_argnums_type, check_callable, fname, of_arrays, scalar_out, wraps
from ._ops import do
from ._prepared_traced import Box as _Box
from ._prepared_traced import decide as _decide_traced
from ._prepared_traced import outputs_of as _outputs_of

BackendArg = str | Backend | None
#: The context's backend set and reset (NOTE [Selection precedence]), bound once: vjp_fn runs them per cotangent.
_set_context, _reset_context = _select._context.set, _select._context.reset


def value_and_grad(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False, *, backend: BackendArg = None
) -> Callable[..., Any]:
    """A function returning ``f``'s value and its gradient with respect to ``argnums``.

    Args:
        f: a function returning a floating-point scalar (an array of shape ``()``, or a Python
            float, not a list or tuple holding one, which raises InvalidArgumentError as in
            ``jax.grad``); with ``has_aux``, a pair ``(scalar, aux)``. Integer, boolean and complex
            outputs raise InvalidTypeError (their derivatives are not defined: return a float,
            for instance ``mnp.astype(out, float)``, or pass a count through ``has_aux``).
        argnums: position (int) or positions (tuple) of the arguments to differentiate.
        has_aux: whether ``f`` returns ``(output, aux)``; aux is returned, not differentiated.
        backend: backend name or object; default: the selected or inferred backend.

    Returns:
        A function returning ``(value, grad)``, or ``((value, aux), grad)`` with ``has_aux``.
        ``grad`` has the structure of the differentiated argument, or a tuple of such with a
        tuple ``argnums``.

    Example:
        >>> import multiad, multiad.numpy as mnp, numpy as np
        >>> v, g = multiad.value_and_grad(lambda x: mnp.sum(x ** 2), backend="numpy")(np.array([1.0, 2.0]))
        >>> float(v), np.round(multiad.to_numpy(g), 4).tolist()
        (5.0, [2.0, 4.0])
    """
    if type(argnums) is not int:  # NOTE [Integers by __index__]
        argnums = as_argnums(argnums)
    vg = _value_and_grad(f, argnums, has_aux, backend, "value_and_grad")
    call = f"value_and_grad({fname(f)})"  # NOTE [Prepared calls]
    return wraps(f, _prepared.wrap("value_and_grad", f, argnums, has_aux, None, backend, call, vg))


def _value_and_grad(
    f: Callable[..., Any], argnums: Argnums, has_aux: bool, backend: BackendArg, transform: str
) -> Callable[..., Any]:
    check_callable(f, transform)
    call = f"{transform}({fname(f)})"
    check_argnums_type(argnums, call)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        flat = Flat(f, args, kwargs, argnums, has_aux, backend, call)
        b = flat.backend
        _derive.require(b, transform, call)
        with flat.active():
            if _plan.native(b, "value_and_grad"):
                value, grads, aux = _derive.guarded(
                    b, call, b.value_and_grad, _scalar_flat(flat, call), flat.primals, has_aux
                )
                grads = _results.pulled(b, call, grads, flat.primals, what="value_and_grad")
            else:
                outs, pullback, aux = _derive.vjp(b, flat, flat.primals, has_aux, call)
                scalar_out(call, outs, flat.out_spec)
                grads = _derive.guarded(b, call, pullback, (do("ones_like", outs[0]),))
                grads = _results.pulled(b, call, grads, flat.primals)  # NOTE [Results of a backend's primitives]
                value = outs[0]
        return ((value, flat.rebuild_aux(aux)) if has_aux else value), flat.unflatten_in(grads)

    return wrapper


def _scalar_flat(flat: Flat, call: str) -> Callable[..., Any]:
    """The flat function returning its one scalar output bare, as a native ``value_and_grad`` wants."""

    def scalar(*xs: Any) -> Any:
        res = flat(*xs)
        outs, aux = res if flat.has_aux else (res, None)
        scalar_out(call, outs, flat.out_spec)
        return (outs[0], aux) if flat.has_aux else outs[0]

    return scalar


def grad(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False, *, backend: BackendArg = None
) -> Callable[..., Any]:
    """A function returning the gradient of scalar-valued ``f`` with respect to ``argnums``.

    Args:
        f: a function returning a floating-point scalar (an array of shape ``()``, or a Python
            float, not a list or tuple holding one, which raises InvalidArgumentError as in
            ``jax.grad``); with ``has_aux``, a pair ``(scalar, aux)``. Integer, boolean and complex
            outputs raise InvalidTypeError (their derivatives are not defined: return a float,
            for instance ``mnp.astype(out, float)``, or pass a count through ``has_aux``).
        argnums: position (int) or positions (tuple) of the arguments to differentiate.
        has_aux: whether ``f`` returns ``(output, aux)``; aux is returned as it is.
        backend: backend name or object; default: the selected or inferred backend.

    Returns:
        A function returning ``grad``, or ``(grad, aux)`` with ``has_aux``. ``grad`` has the
        structure and shapes of the differentiated argument (a tuple of those for a tuple
        ``argnums``), as arrays of the backend.

    Example:
        >>> import multiad, multiad.numpy as mnp, numpy as np
        >>> g = multiad.grad(lambda x: mnp.sum(mnp.sin(x)), backend="numpy")(np.zeros(3))
        >>> np.round(multiad.to_numpy(g), 6).tolist()
        [1.0, 1.0, 1.0]
    """
    if type(argnums) is not int:  # NOTE [Integers by __index__]
        argnums = as_argnums(argnums)
    vg = _value_and_grad(f, argnums, has_aux, backend, "grad")

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    # NOTE [Prepared calls]: the backend's own grad, where it has one.
    return wraps(f, _prepared.wrap("grad", f, argnums, has_aux, None, backend, f"grad({fname(f)})", wrapper))


def _all_args(n: int) -> tuple[int, ...]:
    """``argnums`` for every one of ``n`` arguments."""
    return _ALL_ARGS[n] if n < len(_ALL_ARGS) else tuple(range(n))


_ALL_ARGS = tuple(tuple(range(n)) for n in range(16))


# NOTE [Python float tangents]: a Python float is weakly typed (NumPy's NEP 50): as a tangent or
# cotangent it takes the dtype of the matching primal or output leaf, as it does on JAX with x64,
# autograd and numpy. Converted alone it would take torch's default dtype (float32) and be refused
# against a float64 leaf, so `vjp_fn(1.0)` worked on every backend but torch.
_NUMPY_FLOATS = frozenset({"float16", "float32", "float64"})


def _check_like(
    call: str, what: str, given: Any, ref_leaves: Sequence[Any], ref_spec: Any, b: Backend, traced: bool
) -> list[Any]:
    """Checks that ``given`` matches the structure, shapes and dtypes of the reference leaves;
    ``traced``: whether a compiler traces the call (its structures are compared with each other)."""
    leaves: list[Any]
    if traced:
        leaves, spec = _tree.flatten(given)
    elif type(given) in _tree.ARRAY_TYPES:  # NOTE [Arrays are leaves]
        leaves, spec = [given], _tree.LEAF
    elif type(given) is tuple and _tree.ARRAY_TYPES.issuperset(map(type, given)):
        leaves, spec = list(given), _tree.leaves_spec(len(given))
    else:
        leaves, spec = _tree.flatten(given)
    ref_name = "outputs" if what.startswith("cot") else "primals"
    try:
        # A structure made while a compiler traces keeps the namespace on a leaf: where the two
        # were made on either side of a graph break, only same_structure sees them equal.
        same = spec == ref_spec or _tree.same_structure(spec, ref_spec)
    except (TypeError, ValueError) as exc:  # a registered node's data without a truth value for ==
        settled = _tree.from_trace(ref_spec)  # NOTE [Structures made in a trace, used after it]
        if settled is not ref_spec:
            return _check_like(call, what, given, ref_leaves, settled, b, traced)
        raise InvalidArgumentError(
            f"{call}: the registered nodes of {what} hold data that cannot be compared with those of the "
            f"{ref_name} ({type(exc).__name__}: {exc}); build {what} with the {ref_name}' own node data "
            "(for instance multiad.tree_map over them)"
        ) from None
    if same:  # the common case: the backend's arrays, shaped and typed as the references
        for x, ref in zip(leaves, ref_leaves):
            if not (b.is_array(x) and x.shape == ref.shape and x.dtype == ref.dtype) or (
                type(x) is not np.ndarray and isinstance(x, np.ndarray)
            ):
                break  # (NOTE [numpy array subclasses] in multiad/_arrays.py)
        else:
            return leaves
    else:
        raise InvalidArgumentError(
            f"{call}: {what} has structure {spec}, expected {ref_spec}; pass one with the structure of the {ref_name}"
        )
    out = []
    for i, (x, ref) in enumerate(zip(leaves, ref_leaves)):
        if type(x) is float and (name := b.dtype_name(ref)) in _NUMPY_FLOATS:  # NOTE [Python float tangents]
            x = b.asarray(x, dtype=name)
        # Converted (and dtype-checked) on every backend alike, numpy arrays included.
        x = convert(b, x, call, f"{what} leaf {i}", True)
        if tuple(x.shape) != tuple(ref.shape):
            raise InvalidArgumentError(
                f"{call}: {what} leaf {i} has shape {tuple(x.shape)}, expected {tuple(ref.shape)}; "
                f"pass one shaped like the matching leaf of the {ref_name}"
            )
        if x.dtype != ref.dtype and b.dtype_name(x) != b.dtype_name(ref):
            raise InvalidTypeError(
                f"{call}: {what} leaf {i} has dtype {b.dtype_name(x)}, expected {b.dtype_name(ref)}; "
                f"convert it with multiad.asarray(t, dtype={b.dtype_name(ref)!r})"
            )
        out.append(x)
    return out


# NOTE [Values at call time]: vjp_fn and linearize's jvp_fn outlive the call and keep the
# primals (torch and autograd save them for the backward pass; a torch tensor made from a numpy
# array shares its memory), and often f's output and aux arrays too (``exp`` saves its result):
# torch.func's and autograd's own pullbacks then change when the caller changes ``out`` in place.
# The primals are copied once with Backend.snapshot before f runs, and the output and aux arrays
# handed to the caller are copies too, so that changing any of them in place afterwards cannot
# change a derivative. Arrays f closes over are not copied (documented in reliability.md). grad
# and the Jacobians finish within the call and copy nothing, and neither does a call a compiler
# traces: a compiled program's inputs cannot change in place while it runs.


# NOTE [Calls from C]: ``tuple(map(b.snapshot, (x,)))`` costs about 2,500 machine instructions
# more than ``(b.snapshot(x),)`` (callgrind, CPython 3.11): the map and its tuple, and a Python
# function called from C code enters a new evaluation loop, where a call from Python code does
# not. vjp copies its one primal and checks its one output by direct calls; several go through
# map as before. Together with the output check below this takes about 1,250 instructions off a
# torch vjp (of about 410,000).


class _NoReference:
    """The type no cotangent has (a vjp_fn without a reference output checks every cotangent)."""


def vjp(f: Callable[..., Any], *primals: Any, has_aux: bool = False, backend: BackendArg = None) -> Any:
    """Evaluates ``f(*primals)`` and returns its vector-Jacobian product function.

    Args:
        f: a function of the primals returning an array or a pytree of arrays; with
            ``has_aux``, a pair ``(output, aux)``.
        *primals: the arguments of ``f`` (arrays or pytrees of arrays); all are differentiated.
        has_aux: whether ``f`` returns ``(output, aux)``; aux is returned as it is.
        backend: backend name or object; default: the selected or inferred backend.

    Returns:
        ``(out, vjp_fn)`` or, with ``has_aux``, ``(out, vjp_fn, aux)``. ``vjp_fn(cotangent)``
        takes a cotangent with the structure, shapes and dtypes of ``out`` and returns a tuple
        with one entry per primal, each shaped like that primal. It depends only on the
        primals' values at this call: changing the primals, ``out`` or ``aux`` in place
        afterwards does not change it (they are copied where the backend would keep a
        reference to them).

    Example:
        >>> import multiad, numpy as np
        >>> out, vjp_fn = multiad.vjp(lambda x: 3.0 * x, np.ones(2), backend="numpy")
        >>> np.round(multiad.to_numpy(vjp_fn(np.array([1.0, 2.0]))[0]), 6).tolist()
        [3.0, 6.0]
    """
    if not callable(f):
        check_callable(f, "vjp")
    call = f"vjp({getattr(f, '__name__', None) or type(f).__name__})"  # fname(f), inlined
    if not primals:
        raise InvalidArgumentError(f"{call}: pass at least one primal, as vjp(f, x)")
    traced = _select.PROBE[0]()  # compiling() (NOTE [One compiler probe])
    if traced and not has_aux:  # NOTE [Prepared calls under a compiler] in multiad/_prepared_traced.py
        res = _traced_vjp(f, primals, backend, call)
        if res is not None:
            return res
    flat = of_arrays(f, primals, has_aux, backend, call, traced)  # NOTE [Calls of arrays alone]
    b = flat.backend
    if "vjp" in b.unsupported:
        _derive.require(b, "vjp", call)
    primals = flat.primals
    if not traced:  # NOTE [Values at call time]; one primal without map (NOTE [Calls from C])
        primals = (b.snapshot(primals[0]),) if len(primals) == 1 else tuple(map(b.snapshot, primals))
    # flat.active(), inlined: this runs once per call (NOTE [Context set outright]).
    token = None if traced else _set_context(b)
    plain = b.has_custom_rules and not traced
    try:
        if plain and b.has_vjp:  # _derive.vjp, inlined: this runs once per call
            try:
                outs, pullback, aux = b.vjp(flat, primals, has_aux)
            except Exception as exc:  # a MultiADError too: NOTE [Errors of nested transforms] in _derive.py
                err = _derive.translate(b, call, exc)
                if err is None:
                    raise
                raise err from exc
            if type(outs) is not tuple or not (b.is_array(outs[0]) if len(outs) == 1 else all(map(b.is_array, outs))):
                outs = _derive._arrays(b, outs)
        else:
            outs, pullback, aux = _derive.vjp(b, flat, primals, has_aux, call)
    finally:
        if token is not None:
            _reset_context(token)
    out_spec = flat.out_spec
    if has_aux and not traced:  # NOTE [Values at call time]
        aux = tuple(map(b.snapshot, aux))
    # Traced or not as vjp was (NOTE [Compiled regions]): a vjp_fn made while a compiler traces is
    # called in that program, and torch.compile cannot compile one made outside (torch.func's own
    # pullback loses its graph there).
    # One output array, not traced: a cotangent of its type, shape and dtype is taken as it is.
    ref_type: Any
    if out_spec is _tree.LEAF and not traced:
        out = b.snapshot(outs[0])  # flat.unflatten_out(outs), copied (NOTE [Values at call time])
        ref_type, ref_shape, ref_dtype = type(out), out.shape, out.dtype
        one = getattr(pullback, "one_cotangent", None) if plain and flat._prep.whole else None
    else:
        out = flat.unflatten_out(outs if traced else tuple(map(b.snapshot, outs)))  # NOTE [Values at call time]
        ref_type, ref_shape, ref_dtype, one = _NoReference, None, None, None
    raw = getattr(pullback, "one_primal", None) if one is not None and len(primals) == 1 else None
    bare = getattr(pullback, "one_gradient", None) if one is not None and raw is None and len(primals) == 1 else None
    # NOTE [vjp_fn built by a function of its own]
    ref = (ref_type, ref_shape, ref_dtype, outs, out_spec, b, call, primals)
    if raw is not None:  # NOTE [Pullbacks of one output]
        vjp_fn = _one_vjp_fn(ref, raw[0], raw[2], type(primals[0]), None, raw[1])
    elif bare is not None:  # NOTE [Pullbacks of one output]
        vjp_fn = _one_vjp_fn(ref, bare[0], bare[1], type(primals[0]), primals[0].dtype)
    elif one is not None:  # NOTE [Pullbacks of one output]
        vjp_fn = _one_vjp_fn(ref, one, None, None, None)
    else:
        vjp_fn = _vjp_fn(ref, pullback, flat, plain, traced)
    return (out, vjp_fn, flat.rebuild_aux(aux)) if has_aux else (out, vjp_fn)


def _traced_vjp(f: Callable[..., Any], primals: tuple[Any, ...], backend: BackendArg, call: str) -> Any:
    """``vjp(f, *primals)`` while a compiler traces it, by the framework's own vjp, or None for
    the general path (NOTE [Prepared calls under a compiler] in ``multiad/_prepared_traced.py``)."""
    n = len(primals)
    # NOTE [Argument types in a trace], [Symbolic ints in a trace] in multiad/_prepared_traced.py
    types = tuple(
        [type(a) if isinstance(a, int) or getattr(a, "dtype", None) is None else a.__class__ for a in primals]
    )
    dtypes = tuple([None if isinstance(p, int) else getattr(p, "dtype", None) for p in primals])
    argnums = 0 if n == 1 else tuple(range(n))
    # NOTE [One guard for the state of selection] in multiad/_registry.py
    state = _registry.state
    d = _decide_traced("vjp", argnums, None, backend, state, types, dtypes, call)
    if d is None:
        return None
    # NOTE [The backends on the state] in multiad/_registry.py
    b: Backend | None = getattr(state, "backend " + d[0], None)
    if b is None:
        return None
    is_array = b.is_array
    for p in primals:
        if not is_array(p):
            return None
    # By name: NOTE [One way to each module in a trace] in multiad/_prepared_traced.py (the
    # callback h is inlined with that module's globals).
    box = _Box()  # the output structure, where f returns more than one array
    h = _outputs_of(b, d[0], call)
    native = b.prepare("vjp", lambda *xs: h(box, f, *xs), argnums, None)
    if native is None:
        return None
    out, pullback = native(*primals)  # NOTE [Errors of traced calls] in multiad/_prepared_traced.py
    if box.spec is None:  # one output array

        def vjp_fn(cotangent: Any = _NO_COTANGENT, *more: Any) -> tuple[Any, ...]:
            if more or cotangent is _NO_COTANGENT:
                raise _cotangent_count(call, cotangent, more)
            if not (is_array(cotangent) and cotangent.shape == out.shape and cotangent.dtype == out.dtype):
                # Against a structure made in the trace: the compiler's pytree functions take no other.
                ref_spec = _tree.flatten(out)[1]
                cotangent = _check_like(f"{call} vjp_fn", "cotangent", cotangent, [out], ref_spec, b, True)[0]
            return tuple(pullback(cotangent))

        return out, vjp_fn
    spec = box.spec

    def vjp_fns(cotangent: Any = _NO_COTANGENT, *more: Any) -> tuple[Any, ...]:
        if more or cotangent is _NO_COTANGENT:
            raise _cotangent_count(call, cotangent, more)
        cts = _check_like(f"{call} vjp_fn", "cotangent", cotangent, out, spec, b, True)
        return tuple(pullback(type(out)(cts)))  # the container the framework's vjp returned

    return _tree.unflatten(spec, list(out)), vjp_fns


# NOTE [One cotangent]: vjp_fn takes one cotangent with the structure of f's output, as JAX's
# does; called with none or several, Python's own TypeError named the closure
# (``_one_vjp_fn.<locals>.vjp_fn() takes 1 positional argument but 2 were given``). It takes
# the others to say so in the words of the other vjp_fn errors (the empty tuple of ``*more``
# costs no allocation on the usual call).
_NO_COTANGENT: Any = object()


def _cotangent_count(call: str, cotangent: Any, more: tuple[Any, ...]) -> InvalidTypeError:
    """The error of a vjp_fn called with no cotangent or several (NOTE [One cotangent])."""
    n = 0 if cotangent is _NO_COTANGENT else 1 + len(more)
    return InvalidTypeError(
        f"{call} vjp_fn: takes one cotangent with the structure of f's output (a tuple for several outputs), "
        f"got {n} arguments; pass vjp_fn(ct) for one output, vjp_fn((ct1, ct2)) for a tuple of two"
    )


# NOTE [vjp_fn built by a function of its own]: the kinds of vjp_fn (of one output, through the
# pullback's one_cotangent or one_gradient, and the general one) are closures built by
# functions of their own rather than in vjp's body: CPython makes a cell for every variable that
# any closure of a function reads, on every call, whichever closure that call builds, so vjp made
# 17 cells per call where the one-output vjp_fn reads 8 (callgrind, torch ``jacobian 16->16``: a
# vjp 2,100 instructions fewer, of about 397,000). ``ref`` is what both compare a
# cotangent with: the type, shape and dtype of the one output array (or _NoReference), the
# output leaves and structure, the backend and the call's name; and the primals, which the
# gradients are checked against (NOTE [Results of a backend's primitives] in multiad/_results.py).
_Reference = tuple[Any, Any, Any, tuple[Any, ...], Any, Backend, str, tuple[Any, ...]]


def _one_vjp_fn(
    ref: _Reference,
    one: Callable[..., Any],
    finish: Callable[..., Any] | None,
    in_type: Any,
    in_dtype: Any,
    unusual: Callable[[Any], Any] | None = None,
) -> Callable[..., tuple[Any, ...]]:
    """vjp_fn of one output through the pullback's ``one_cotangent`` (``finish`` None: it returns
    the gradients) or, for one primal, its ``one_primal`` (``unusual`` given: ``one`` returns
    the tuple of the one gradient, taken as it is where that gradient has the primal's type and
    is not ``unusual``) or ``one_gradient`` (``one`` returns the gradient, taken where it has
    the primal's type and dtype); ``finish`` makes the tuple of any other result: NOTE
    [Pullbacks of one output]. The gradients are checked against the primals (NOTE [Results of a
    backend's primitives] in multiad/_results.py): one gradient of the primal's type and shape is
    taken as it is, anything else goes through ``_results.pulled``, after ``finish``. What only
    the unusual paths read stays in ``ref`` (one cell: NOTE [vjp_fn built by a function of its own])."""
    ref_type, ref_shape, ref_dtype, _, _, b, call, primals = ref
    # The rank alone where the framework returns a tuple (one_primal: a torch tensor's shape costs
    # about 1,000 instructions to read, its ndim half of that): NOTE [Results of a backend's primitives].
    in_shape = None if in_type is None else primals[0].ndim if unusual is not None else primals[0].shape

    def vjp_fn(cotangent: Any = _NO_COTANGENT, *more: Any) -> tuple[Any, ...]:
        if more or cotangent is _NO_COTANGENT:
            raise _cotangent_count(call, cotangent, more)
        if type(cotangent) is not ref_type or cotangent.shape != ref_shape or cotangent.dtype is not ref_dtype:
            cotangent = _check_like(f"{call} vjp_fn", "cotangent", cotangent, ref[3], ref[4], b, False)[0]
        try:  # no context set: NOTE [Context set outright]
            g = one(cotangent)
            if finish is None:
                return _results.pulled(b, call, g, ref[7], " vjp_fn")
            if unusual is not None:
                if len(g) == 1 and type(g0 := g[0]) is in_type and g0.ndim == in_shape and not unusual(g0):
                    return g  # type: ignore[no-any-return]
                return _results.pulled(b, call, finish(g) if type(g) is tuple and len(g) == 1 else g, ref[7], " vjp_fn")
            if type(g) is in_type and g.dtype is in_dtype and g.shape == in_shape:
                return (g,)
            return _results.pulled(b, call, (g,) if g is None else finish(g), ref[7], " vjp_fn")
        except Exception as exc:
            err = _derive.translate(b, call, exc)
            if err is None:
                raise
            raise err from exc

    return vjp_fn


def _vjp_fn(
    ref: _Reference, pullback: Callable[..., Any], flat: Flat, plain: bool, traced: bool
) -> Callable[..., tuple[Any, ...]]:
    """vjp_fn through the backend's pullback of a tuple of cotangents; ``plain``: the backend has
    custom rules and the call is not traced (no context set, NOTE [Context set outright])."""
    ref_type, ref_shape, ref_dtype, outs, out_spec, b, call, primals = ref
    whole = flat._prep.whole

    def vjp_fn(cotangent: Any = _NO_COTANGENT, *more: Any) -> tuple[Any, ...]:
        if more or cotangent is _NO_COTANGENT:
            raise _cotangent_count(call, cotangent, more)
        if type(cotangent) is ref_type and cotangent.shape == ref_shape and cotangent.dtype is ref_dtype:
            cts: tuple[Any, ...] = (cotangent,)
        else:
            cts = tuple(_check_like(f"{call} vjp_fn", "cotangent", cotangent, outs, out_spec, b, traced))
        if not plain:
            grads = _select.run_in(b, traced, _derive.guarded, b, call, pullback, cts)
        else:  # _derive.guarded, inlined: this runs once per cotangent (no context set: NOTE [Context set outright])
            try:
                grads = pullback(cts)
            except Exception as exc:
                err = _derive.translate(b, call, exc)
                if err is None:
                    raise
                raise err from exc
        grads = _results.pulled(b, call, grads, primals, " vjp_fn")  # NOTE [Results of a backend's primitives]
        return grads if whole else tuple(flat.unflatten_in(grads))

    return vjp_fn


# NOTE [Pullbacks of one output]: a backend's pullback takes a tuple of cotangents, one per output
# leaf. A backend whose framework takes the cotangent of a single output bare (torch.func,
# autograd) wraps its pullback for that; it may give the pullback an attribute ``one_cotangent``,
# the framework's own pullback (torch) or its own of a bare cotangent (autograd, with the same
# checks of the gradients), which takes that cotangent as it is and returns a tuple with one
# entry per primal. vjp's vjp_fn calls it directly when the output is one array and the backend needs no
# marks (NOTE [Backends without custom rules]): the cotangent is checked and errors translated
# exactly as in the general vjp_fn. A backend whose framework returns the gradient of a single
# primal bare (autograd) may also give ``one_gradient = (raw, finish)``: ``raw(cotangent)`` is
# the framework's pullback, and for one primal vjp_fn returns its result as the gradient where it
# has the primal's type and dtype, and ``finish(result)`` (the backend's checks and casts, a
# tuple) where not: one Python frame less per pullback. One whose framework returns a tuple
# already (torch.func) may give ``one_primal = (raw, unusual, finish)`` instead: for one primal
# vjp_fn returns ``raw(cotangent)``'s tuple as it is where its one gradient has the primal's
# type and ``unusual(gradient)`` is false (raw guarantees the primal's dtype), and
# ``finish(tuple)`` where not; ``unusual`` is best a C function (torch: ``Tensor._is_zerotensor``),
# which opens no Python frame. It is asked for before ``one_gradient``. vjp_fn checks each of
# these results' count, type and shape (``one_primal``'s rank: its arrays have ``ndim``), NOTE
# [Results of a backend's primitives] in multiad/_results.py.

# NOTE [Context set outright]: vjp (not traced), prepared calls whose selection does not name
# their backend, and ``_select.enter`` (hvp, vhp) make the call's backend the context's backend
# without first asking whether the selection in force names it already: where it does, setting
# it changes nothing nested calls resolve (the context's backend is that same backend), and the
# question costs as much as the setting, which happens anyway whenever nothing is selected
# (backends inferred from the arrays). vjp_fn of a backend with custom rules sets no context:
# f does not run again there, and the only multiad code its backward pass runs is custom rules,
# which set their backend themselves (NOTE [Rules run under their backend] in
# ``multiad/_custom_rules.py``), so a loop of pullbacks pays nothing for them. The vjp_fn of a
# backend without custom rules (NOTE [Backends without custom rules]), whose pullback may run f
# again, still sets it.


def _as_tuple(call: str, name: str, value: Any) -> tuple[Any, ...]:
    if not isinstance(value, (tuple, list)):
        raise InvalidTypeError(
            f"{call}: {name} must be a tuple with one entry per argument of f, got {type(value).__name__}; write ({name[:-1]},) for one argument"
        )
    return tuple(value)


def jvp(f: Callable[..., Any], primals: Any, tangents: Any, has_aux: bool = False, backend: BackendArg = None) -> Any:
    """Evaluates ``f(*primals)`` and the Jacobian-vector product with ``tangents``.

    Args:
        f: a function of the primals returning an array or a pytree of arrays; with
            ``has_aux``, a pair ``(output, aux)``.
        primals: tuple of the arguments of ``f`` (arrays or pytrees of arrays); all are
            differentiated.
        tangents: tuple with the structure, shapes and dtypes of ``primals``.
        has_aux: whether ``f`` returns ``(output, aux)``; aux is returned as it is.
        backend: backend name or object; default: the selected or inferred backend.

    Returns:
        ``(out, tangent_out)``, or ``(out, tangent_out, aux)`` with ``has_aux``; ``tangent_out``
        has the structure of ``out``.

    Example:
        >>> import multiad, numpy as np
        >>> out, t = multiad.jvp(lambda x: x * x, (np.array([3.0]),), (np.array([1.0]),), backend="numpy")
        >>> np.round(multiad.to_numpy(t), 5).tolist()
        [6.0]
    """
    check_callable(f, "jvp")
    call = f"jvp({fname(f)})"
    primals = _as_tuple(call, "primals", primals)
    tangents = _as_tuple(call, "tangents", tangents)
    if len(primals) != len(tangents):
        raise InvalidArgumentError(
            f"{call}: got {len(primals)} primals but {len(tangents)} tangents; pass one tangent per primal"
        )
    if not primals:
        raise InvalidArgumentError(f"{call}: pass at least one primal")
    flat = Flat(f, primals, {}, tuple(range(len(primals))), has_aux, backend, call)
    b = flat.backend
    _derive.require(b, "jvp", call)
    ts = _check_like(call, "tangents", tangents, list(flat.primals), flat.in_spec, b, flat.traced)
    with flat.active():
        outs, touts, aux = _derive.jvp(b, flat, flat.primals, tuple(ts), has_aux, call)
    result = (flat.unflatten_out(outs), flat.unflatten_out(touts))
    return result + (flat.rebuild_aux(aux),) if has_aux else result


# NOTE [Linearize under a compiler]: NOTE [Linearize once] keeps the framework's pullbacks in
# ``jvp_fn``, and under torch.compile they hold the trace's own wrapped tensors (torch.func's
# GradTrackingTensor). A ``jvp_fn`` returned from the compiled function made those tensors outputs
# of the compiled program, which AOTAutograd cannot take ("Cannot access storage of TensorWrapper":
# BackendCompilerFailed under ``backend="aot_eager"`` and inductor). While a compiler traces,
# ``linearize`` of a backend with forward mode therefore evaluates ``f`` once for ``out`` and
# ``jvp_fn`` runs the backend's jvp at the saved primals, as for an ``f`` reverse mode cannot
# follow: each ``jvp_fn`` call evaluates ``f`` again, in the compiled program where it is called
# in the compiled function, and eagerly where it is called after it. ``jvp_fn`` then holds the
# primals themselves, not a copy: called after the compiled function, it sees changes made to
# them in place in between.
def linearize(f: Callable[..., Any], *primals: Any, backend: BackendArg = None) -> tuple[Any, Callable[..., Any]]:
    """Evaluates ``f(*primals)`` and returns ``(out, jvp_fn)``; ``jvp_fn(*tangents)`` is the
    Jacobian-vector product at ``primals``, with the structure of ``out``.

    Args:
        f: a function of the primals returning an array or a pytree of arrays.
        *primals: the point to linearize at (arrays or pytrees of arrays).
        backend: backend name or object; default: the selected or inferred backend.

    Returns:
        ``(out, jvp_fn)``. ``jvp_fn`` takes one tangent per primal, each with that primal's
        structure, shapes and dtypes, and returns a tangent with the structure and shapes of
        ``out``. ``f`` is evaluated once, here, and ``jvp_fn`` reuses that evaluation however
        often it is called (jax: ``jax.linearize``; numpy: the finite-difference Jacobian;
        other backends with exact reverse mode: the vjp of the linear pullback), so its
        tangents match ``out`` even for a stochastic ``f`` (on an exact backend: finite
        differences of a stochastic ``f`` are noise, and numpy's call warns). A backend
        without any of these (forward-mode-only plugins) evaluates ``f`` again, at the saved
        primals, on each ``jvp_fn`` call, and so does a backend with forward mode for an ``f``
        that its reverse mode cannot follow (torch: an ``f`` that changes in place a value an
        operation saved for the derivative). ``jvp_fn`` depends only on the primals' values at this call:
        changing them or ``out`` in place afterwards does not change it.

    Example:
        >>> import multiad, numpy as np
        >>> out, jvp_fn = multiad.linearize(lambda x: 2.0 * x, np.ones(2), backend="numpy")
        >>> np.round(multiad.to_numpy(jvp_fn(np.array([1.0, -1.0]))), 6).tolist()
        [2.0, -2.0]
    """
    check_callable(f, "linearize")
    call = f"linearize({fname(f)})"
    if not primals:
        raise InvalidArgumentError(f"{call}: pass at least one primal, as linearize(f, x)")
    flat = Flat(f, primals, {}, tuple(range(len(primals))), False, backend, call)
    b = flat.backend
    _derive.require(b, "linearize", call)
    primals = flat.primals if flat.traced else tuple(map(b.snapshot, flat.primals))  # NOTE [Values at call time]
    push: Callable[..., Any] | None = None
    with flat.active():
        native = _plan.native(b, "linearize")
        once = native or _plan.linearize_by_vjp(b)
        if flat.traced and b.has_jvp:  # NOTE [Linearize under a compiler]
            native = once = False
        try:
            with _custom_state.forward():  # NOTE [Forward mode through custom_vjp]
                if native:
                    outs, push = _derive.guarded(b, call, b.linearize, flat, primals)
                elif once:
                    outs, push, _ = _derive.pushforward(b, flat, primals, False, call)
        except _custom_state.ForwardOverCustomVJPError as exc:
            raise _custom_state.named_by(call, exc) from None
        except NonDifferentiableError:
            if not b.has_jvp:
                raise
        if push is None and once:  # NOTE [Forward mode where the pullback cannot follow] in multiad/_derive.py
            zeros = tuple(b.zeros(tuple(p.shape), p) for p in primals)  # an f forward mode cannot follow raises here
            outs = tuple(_derive.jvp(b, flat, primals, zeros, False, call)[0])
        elif push is None:
            outs = tuple(_derive.guarded(b, call, flat, *primals))
        if push is None:  # f again on each call, at the saved primals

            def again(*ts: Any) -> Any:
                return _derive.jvp(b, flat, primals, ts, False, call)[1]

            push = again
    pushed: Callable[..., Any] = push
    out_spec = flat.out_spec
    out = flat.unflatten_out(outs if flat.traced else tuple(map(b.snapshot, outs)))  # NOTE [Values at call time]

    def jvp_fn(*tangents: Any) -> Any:
        ts = _check_like(
            f"{call} jvp_fn", "tangents", tangents, list(flat.primals), flat.in_spec, b, _select.compiling()
        )
        with _select.active(b):
            touts = _derive.guarded(b, call, pushed, *ts)
        if native:  # NOTE [Results of a backend's primitives]
            touts = _results.pushed(b, call, touts, outs, "linearize's jvp_fn")
        assert out_spec is not None
        return _tree.unflatten(out_spec, list(touts))

    return out, jvp_fn
