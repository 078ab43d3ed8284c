"""jacrev, jacfwd, jacobian, hessian, hvp and vhp: compositions of the first-order transforms."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any

from . import _custom_state, _derive, _plan, _prepared, _results, _tree
from ._api_ad import BackendArg, _all_args, _as_tuple, _check_like
from ._backend import Backend
from ._errors import InvalidArgumentError
from ._flat import (
    Argnums,
    Flat,
    check_callable,
    checked_argnums_and_chunk_size,
    fname,
    normalize_argnums,
)
from ._flat import check_second_order_scalar as _check_scalar
from ._prepared import GENERAL as _GENERAL
from ._prepared import second_order as _prepared_second_order
from ._prepared_traced import second_order as _traced_second_order
from ._select import PROBE as _PROBE

MODES = ("auto", "fwd", "rev")


def _jac(
    f: Callable[..., Any], argnums: Argnums, has_aux: bool, chunk_size: int | None, backend: BackendArg,
    transform: str, mode: str,
) -> Callable[..., Any]:  # fmt: skip
    check_callable(f, transform)
    call = f"{transform}({fname(f)})"
    argnums, chunk_size = checked_argnums_and_chunk_size(argnums, chunk_size, call)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        flat = Flat(f, args, kwargs, argnums, has_aux, backend, call)
        _derive.require(flat.backend, transform, call)
        if transform == "jacobian":  # an explicit mode (NOTE [Routes around declared gaps])
            _derive.require(flat.backend, "jacfwd" if mode == "fwd" else "jacrev", call)
        with flat.active():
            blocks, aux = _jac_blocks(flat, mode, chunk_size, call)
        jac = flat.unflatten_blocks(blocks)
        return (jac, flat.rebuild_aux(aux)) if has_aux else jac

    # NOTE [Prepared calls]: the backend's own jacrev, or its prepared forward-mode loop
    prepared = _prepared.wrap(
        "jacrev" if mode == "rev" else "jacfwd", f, argnums, has_aux, chunk_size, backend, call, wrapper
    )
    return functools.wraps(f)(prepared)


def _jac_blocks(flat: Flat, mode: str, chunk_size: int | None, call: str) -> tuple[list[list[Any]], Any]:
    """Jacobian blocks in ``mode``; forward mode falls back to reverse mode where it meets a
    custom_vjp function (NOTE [Forward mode through custom_vjp])."""
    b, p, has_aux = flat.backend, flat.primals, flat.has_aux
    if mode != "fwd":
        return _derive.jacrev(b, flat, p, has_aux, chunk_size, call)
    return _custom_state.or_reverse(
        lambda: _derive.jacfwd(b, flat, p, has_aux, chunk_size, call),
        lambda: _derive.jacrev(b, flat, p, has_aux, chunk_size, call),
    )


def jacrev(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False, chunk_size: int | None = None,
    backend: BackendArg = None,
) -> Callable[..., Any]:  # fmt: skip
    """The Jacobian of ``f`` by reverse mode (vmap of vjp over the output basis).

    Args:
        f: a function of arrays (pytrees allowed) returning arrays (pytrees allowed).
        argnums: position(s) of the arguments to differentiate.
        has_aux: whether ``f`` returns ``(output, aux)``.
        chunk_size: how many basis vectors to push through at once (memory bound); default all.
        backend: backend name or object.

    Returns:
        A function returning the Jacobian: for an output leaf ``y`` and input leaf ``x``, a block
        of shape ``y.shape + x.shape``, arranged as the output tree of input trees (a tuple of
        input trees for a tuple ``argnums``); ``(jac, aux)`` with ``has_aux``.

    Example:
        >>> import multiad, numpy as np
        >>> J = multiad.jacrev(lambda x: 2.0 * x, backend="numpy")(np.ones(2))
        >>> np.round(multiad.to_numpy(J), 6).tolist()
        [[2.0, 0.0], [0.0, 2.0]]
    """
    return _jac(f, argnums, has_aux, chunk_size, backend, "jacrev", "rev")


def jacfwd(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False, chunk_size: int | None = None,
    backend: BackendArg = None,
) -> Callable[..., Any]:  # fmt: skip
    """The Jacobian of ``f`` by forward mode (vmap of jvp over the input basis).

    Same arguments and output contract as :func:`jacrev`.

    Example:
        >>> import multiad, numpy as np
        >>> J = multiad.jacfwd(lambda x: x[::-1] * 1.0, backend="numpy")(np.ones(2))
        >>> np.round(multiad.to_numpy(J), 6).tolist()
        [[0.0, 1.0], [1.0, 0.0]]
    """
    return _jac(f, argnums, has_aux, chunk_size, backend, "jacfwd", "fwd")


# NOTE [Automatic mode]: ``jacobian(mode="auto")`` takes forward mode for a tall Jacobian (fewer
# input than output elements) and reverse mode otherwise, each costing one pass per element of
# the smaller side; the other mode where the backend cannot do that one (NOTE [Routes around
# declared gaps]). The output size is learnt from one forward evaluation on the first call for
# given input shapes and dtypes, and the choice cached for them (its docstring says the same to
# users, without the note's names).
def jacobian(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False, mode: str = "auto",
    chunk_size: int | None = None, backend: BackendArg = None,
) -> Callable[..., Any]:  # fmt: skip
    """The Jacobian of ``f``, choosing forward or reverse mode.

    ``mode="auto"`` takes forward mode when the differentiated inputs have fewer elements than
    the outputs (a tall Jacobian) and reverse mode otherwise (or the other mode, where the
    backend declares the chosen one unsupported or has no reverse mode). The first
    call for given input shapes learns the output size from one forward evaluation of ``f``
    and then runs the chosen mode (so under ``jax.jit`` the compiled program holds the chosen
    mode, and the unused forward evaluation is dropped by the compiler); the choice is cached
    per input shapes and dtypes, so later calls pay nothing.

    Same arguments (``argnums``, ``has_aux``, ``chunk_size``, ``backend``) and output contract
    as :func:`jacrev`. ``mode`` is ``"auto"``, ``"fwd"`` (as :func:`jacfwd`) or ``"rev"`` (as
    :func:`jacrev`); any other value raises :class:`InvalidArgumentError`.

    Example:
        >>> import multiad, numpy as np
        >>> J = multiad.jacobian(lambda x: x * x, backend="numpy")(np.array([1.0, 2.0]))
        >>> np.round(multiad.to_numpy(J), 4).tolist()
        [[2.0, 0.0], [0.0, 4.0]]
    """
    check_callable(f, "jacobian")
    call = f"jacobian({fname(f)})"
    if mode not in MODES:
        raise InvalidArgumentError(f"{call}: mode must be one of {MODES}, got {mode!r}")
    if mode != "auto":
        return _jac(f, argnums, has_aux, chunk_size, backend, "jacobian", mode)
    argnums, chunk_size = checked_argnums_and_chunk_size(argnums, chunk_size, call)
    # The cache of choices, looked up on the first call that is not traced: a compiler tracing
    # it would have to hash its keys (pytree structures), which it cannot trace.
    choices: list[dict[Any, str]] = []

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        flat = Flat(f, args, kwargs, argnums, has_aux, backend, call)
        b = flat.backend
        _derive.require(b, "jacobian", call)
        # Only a speed decision: a stale choice (an output size that depends on other arguments)
        # still gives the right Jacobian.
        # A compiled program holds its choice (NOTE [Compiled regions]): while traced, the cache
        # is neither read nor written.
        key, picked = None, None
        if not flat.traced:
            if not choices:
                choices.append(_choices(f))
            # Keyed by the backend object: one registered again under its name may declare other gaps.
            key = (argnums, flat.in_spec, tuple((tuple(p.shape), str(p.dtype)) for p in flat.primals), b)
            try:
                picked = choices[0].get(key)
            except (TypeError, ValueError):  # NOTE [Structures per call] in multiad/_flat.py
                key = None
        with flat.active():
            if picked is None:
                # On copies, which f may change in place: that f raises in the transform that
                # follows, and the caller's arrays stay as they were (NOTE [Arguments changed in
                # place by forward mode] in the torch backend).
                probe = flat.primals if flat.traced else tuple(b.snapshot(p) for p in flat.primals)
                res = _derive.guarded(b, call, flat, *probe)
                outs = res[0] if has_aux else res
                n_in = sum(_derive.size(p) for p in flat.primals)
                n_out = sum(_derive.size(o) for o in outs)
                picked = _plan.jacobian_mode(b, n_in, n_out)
                if key is not None:
                    choices[0][key] = picked
                flat.forget_aux()  # NOTE [Aux of the derivative's evaluation] in multiad/_derive.py
            blocks, aux = _jac_blocks(flat, picked, chunk_size, call)
        jac = flat.unflatten_blocks(blocks)
        return (jac, flat.rebuild_aux(aux)) if has_aux else jac

    def choose(b: Backend, args: tuple[Any, ...]) -> str | None:
        """The mode chosen for these arguments (all arrays or numbers), as the general path keys it."""
        diff = normalize_argnums(argnums, len(args), call)
        if not all(b.is_array(args[i]) for i in diff):
            return None  # a container or a number: the general path, which keys the choice by its leaves
        in_spec = _tree.LEAF if isinstance(argnums, int) else _tree.leaves_spec(len(diff))
        key = (argnums, in_spec, tuple((tuple(args[i].shape), str(args[i].dtype)) for i in diff), b)
        return _choices(f).get(key)

    def route(mode: str) -> Callable[..., Any]:
        """The general path of ``mode`` alone, for a signature whose mode is chosen (NOTE [Routes
        of automatic mode] in ``multiad/_prepared.py``; without aux or keywords, not traced)."""

        def by_mode(*args: Any) -> Any:
            flat = Flat(f, args, {}, argnums, False, backend, call)
            with flat.active():
                blocks, _ = _jac_blocks(flat, mode, chunk_size, call)
            return flat.unflatten_blocks(blocks)

        return by_mode

    # NOTE [Prepared calls]: once a signature's mode is chosen, the backend's own transform of
    # that mode, or that mode's general path.
    return functools.wraps(f)(
        _prepared.wrap("jacobian", f, argnums, has_aux, chunk_size, backend, call, wrapper, choose, route)
    )


# NOTE [Automatic mode] caches the choice per function, not per jacobian(...) object, so that
# code building the transform on every call (``jacobian(f)(x)``) evaluates f for its output size
# only once per input signature.
_CHOICES: weakref.WeakKeyDictionary[Any, dict[Any, str]] = weakref.WeakKeyDictionary()


def _choices(f: Any) -> dict[Any, str]:
    try:
        return _CHOICES.setdefault(f, {})
    except TypeError:  # not weakly referenceable: cache per jacobian(...) object only
        return {}


def _scalar_checked(f: Callable[..., Any], call: str) -> Callable[..., Any]:
    """``f`` with a check that it returns one array of shape ()."""

    def checked(*args: Any, **kwargs: Any) -> Any:
        out = f(*args, **kwargs)
        _check_scalar(call, out)
        return out

    return checked


# NOTE [Hessian blocks in the row argument's dtype]: block ``[i][j]`` of a Hessian is the
# derivative of the gradient for argument ``i`` (which reverse mode gives in argument ``i``'s
# dtype) with respect to argument ``j``. Forward over reverse (torch, JAX, numpy) pushes a
# tangent through that gradient and gives the block in argument ``i``'s dtype; reverse over
# reverse (autograd, and every backend where a custom_vjp function routes hessian to reverse
# mode: NOTE [Forward mode through custom_vjp]) pulls back to argument ``j`` and gave it in
# argument ``j``'s dtype, so a float32 and a float64 argument gave blocks ``[[f32, f64], [f32,
# f64]]`` on autograd where the other backends give ``[[f32, f32], [f64, f64]]``. The reverse
# route casts each block to its row argument's dtype (a differentiable cast, where the dtypes
# differ at all), as migration.md says: ``hessian`` stays in the (row) argument's dtype.
def _in_row_dtypes(b: Backend, blocks: list[list[Any]], primals: tuple[Any, ...]) -> list[list[Any]]:
    names = [b.dtype_name(p) for p in primals]
    if len(set(names)) <= 1:
        return blocks
    from .numpy import astype

    n = len(names)
    return [
        [blk if b.dtype_name(blk) == names[k % n] else astype(blk, names[k % n]) for blk in row]
        for k, row in enumerate(blocks)
    ]


def hessian(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False, chunk_size: int | None = None,
    *, backend: BackendArg = None,
) -> Callable[..., Any]:  # fmt: skip
    """The Hessian of ``f``: forward-over-reverse (``jacfwd(jacrev(f))``), or
    reverse-over-reverse (``jacrev(jacrev(f))``) where the backend has no forward mode.

    ``f`` may return any output, as for :func:`jacfwd`: for an output leaf ``y`` and
    differentiated leaves ``x_i`` and ``x_j`` the block has shape ``y.shape + x_i.shape +
    x_j.shape`` (for a scalar ``f`` of one argument of shape ``(n,)``, an ``(n, n)`` array).

    Args:
        f: a function of arrays (pytrees allowed) returning arrays (pytrees allowed).
        argnums: position (int) or positions (tuple) of the arguments to differentiate.
        has_aux: whether ``f`` returns ``(output, aux)``; then the result is ``(hessian, aux)``.
        chunk_size: how many basis vectors each level pushes through at once; default all.
        backend: backend name or object; default: the selected or inferred backend.

    Returns:
        A function returning the output tree of (input tree of input trees): ``H[i][j]`` for a
        scalar ``f`` and a tuple ``argnums``, ``H[k][i][j]`` for a tuple output.

    Example:
        >>> import multiad, multiad.numpy as mnp, numpy as np
        >>> H = multiad.hessian(lambda x: mnp.sum(x ** 3), backend="numpy")(np.array([1.0, 2.0]))
        >>> (np.round(multiad.to_numpy(H), 2) + 0.0).tolist()  # + 0.0 turns a -0.0 into 0.0
        [[6.0, 0.0], [0.0, 12.0]]
        >>> H = multiad.hessian(lambda x: x ** 3, backend="numpy")(np.array([1.0, 2.0]))
        >>> H.shape  # out.shape + in.shape + in.shape
        (2, 2, 2)
    """
    check_callable(f, "hessian")
    call = f"hessian({fname(f)})"
    argnums, chunk_size = checked_argnums_and_chunk_size(argnums, chunk_size, call)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        flat = Flat(f, args, kwargs, argnums, has_aux, backend, call)
        b = flat.backend
        _derive.require(b, "hessian", call)
        fwd = _plan.second_order(b) == _plan.FWD

        # Composed once at the flat level: the inner Jacobian as a flat function of the primals,
        # its blocks [i][j] in one flat tuple; both levels report errors as hessian(f).
        def inner(*xs: Any) -> Any:
            blocks, aux = _derive.jacrev(b, flat, xs, has_aux, chunk_size, call)
            flat_blocks = tuple(block for row in blocks for block in row)
            return (flat_blocks, aux) if has_aux else flat_blocks

        def reverse() -> Any:
            blocks, aux = _derive.jacrev(b, inner, flat.primals, has_aux, chunk_size, call)
            return _in_row_dtypes(b, blocks, flat.primals), aux

        with flat.active():
            if fwd:  # NOTE [Forward mode through custom_vjp]
                blocks, aux = _custom_state.or_reverse(
                    _derive.jacfwd, reverse, b, inner, flat.primals, has_aux, chunk_size, call
                )
            else:
                blocks, aux = reverse()
        n = len(flat.primals)
        hess = flat.unflatten_out(
            [
                flat.unflatten_in([flat.unflatten_in(blocks[i * n + j]) for j in range(n)])
                for i in range(len(blocks) // n)
            ]
        )
        return (hess, flat.rebuild_aux(aux)) if has_aux else hess

    # NOTE [Prepared calls]: the backend's own hessian (jacfwd of jacrev), where it has one.
    return functools.wraps(f)(_prepared.wrap("hessian", f, argnums, has_aux, chunk_size, backend, call, wrapper))


# NOTE [Second-order calls in one frame]: ``hvp`` and ``vhp`` ask for a prepared call themselves
# (NOTE [Prepared calls]) and reach :func:`_second_order`, the general path, only where it has
# none: a compiled call guards the code of each function its trace enters (3 entries checked on
# every call), and a prepared call needs no frame between the public function and the table.
# They ask the compiler probe themselves too, and a traced call goes from them straight to the
# traced second-order call (``_prepared_traced.second_order``), which tells the general path by
# None: the trace enters no function of ``_prepared``'s and reads neither its ``GENERAL`` nor the
# output check, which the traced call reaches on its error path alone (``_flat``'s, there).
def _second_order(
    f: Callable[..., Any], primals: Any, tangents: Any, backend: BackendArg, transform: str
) -> tuple[Any, ...]:
    """``hvp`` or ``vhp`` (``transform``) of ``f`` by the general path."""
    check_callable(f, transform)
    call = f"{transform}({fname(f)})"
    primals = _as_tuple(call, "primals", primals)
    tangents = _as_tuple(call, "tangents", tangents)
    if len(primals) != len(tangents) or not primals:
        raise InvalidArgumentError(
            f"{call}: got {len(primals)} primals and {len(tangents)} tangents; pass one tangent per primal"
        )
    flat = Flat(_scalar_checked(f, call), primals, {}, _all_args(len(primals)), False, backend, call)
    b = flat.backend
    fwd = (_plan.vhp_strategy(b) if transform == "vhp" else _plan.second_order(b)) == _plan.FWD
    # Checked here so that the error names this call, not the grad/jvp/vjp it is built from;
    # only this transform's own declaration counts (NOTE [Routes around declared gaps]).
    if b.unsupported or not b.has_vjp:
        _derive.require(b, transform, call)
        _derive.require_vjp(b, call)
    ts = tuple(_check_like(call, "tangents", tangents, list(flat.primals), flat.in_spec, b, flat.traced))
    # Composed once at the flat level: one Flat, one selection, one conversion per call.
    g = _derive.grad_fun(b, flat, call)

    def reverse() -> Any:
        _, pull, _ = _derive.vjp(b, g, flat.primals, False, call)
        return _results.pulled(b, call, _derive.guarded(b, call, pull, ts), flat.primals)

    with flat.active():
        if fwd:  # NOTE [Forward mode through custom_vjp]
            res = _custom_state.or_reverse(lambda: _derive.jvp(b, g, flat.primals, ts, False, call)[1], reverse)
        else:
            res = reverse()
    return tuple(flat.unflatten_in(res))


def hvp(f: Callable[..., Any], primals: Any, tangents: Any, backend: BackendArg = None) -> tuple[Any, ...]:
    """The Hessian of scalar ``f`` at ``primals`` applied to ``tangents``, without building it.

    Forward-over-reverse (jvp of grad); reverse-over-reverse where the backend has no forward
    mode.

    Args:
        f: a function of the primals returning a scalar (an array of shape ``()``).
        primals: tuple of the arguments of ``f``, the point at which the Hessian is taken.
        tangents: tuple with the structure, shapes and dtypes of ``primals``.
        backend: backend name or object; default: the selected or inferred backend.

    Returns:
        A tuple with one entry per primal, each with that primal's structure and shapes: the
        products ``H @ v`` only (not ``f``'s value, unlike ``torch.autograd.functional.hvp``).

    Example:
        >>> import multiad, multiad.numpy as mnp, numpy as np
        >>> (hv,) = multiad.hvp(lambda x: mnp.sum(x ** 3), (np.array([1.0, 2.0]),), (np.ones(2),), backend="numpy")
        >>> np.round(multiad.to_numpy(hv), 2).tolist()
        [6.0, 12.0]
    """
    # NOTE [Second-order calls in one frame]; by name: NOTE [One way to each module in a trace]
    if _PROBE[0]():  # compiling() (NOTE [One compiler probe])
        res = _traced_second_order("hvp", f, primals, tangents, backend)
        if res is not None:
            return res  # type: ignore[no-any-return]
    else:
        res = _prepared_second_order("hvp", f, primals, tangents, backend, _check_scalar)  # NOTE [Prepared calls]
        if res is not _GENERAL:
            return res  # type: ignore[no-any-return]
    return _second_order(f, primals, tangents, backend, "hvp")


def vhp(f: Callable[..., Any], primals: Any, tangents: Any, backend: BackendArg = None) -> tuple[Any, ...]:
    """``v^T H`` for scalar ``f`` by reverse-over-reverse (vjp of grad); a tuple per primal.

    Same arguments as :func:`hvp`. Returns a tuple with one entry per primal, each with that
    primal's structure and shapes. The Hessian is symmetric, so the values equal :func:`hvp`'s;
    ``vhp`` needs only reverse mode. On a backend that is not exact (finite differences) and
    has a forward mode, it is computed as :func:`hvp` is: the Hessian is symmetric, and
    differentiating a finite-difference gradient in reverse would cost ``4 n**2`` evaluations
    of ``f`` for ``n`` inputs where the forward route costs ``O(n)``.

    Example:
        >>> import multiad, multiad.numpy as mnp, numpy as np
        >>> (vh,) = multiad.vhp(lambda x: mnp.sum(x ** 3), (np.array([1.0, 2.0]),), (np.ones(2),), backend="numpy")
        >>> np.round(multiad.to_numpy(vh), 2).tolist()
        [6.0, 12.0]
    """
    # NOTE [Second-order calls in one frame]; by name: NOTE [One way to each module in a trace]
    if _PROBE[0]():  # compiling() (NOTE [One compiler probe])
        res = _traced_second_order("vhp", f, primals, tangents, backend)
        if res is not None:
            return res  # type: ignore[no-any-return]
    else:
        res = _prepared_second_order("vhp", f, primals, tangents, backend, _check_scalar)  # NOTE [Prepared calls]
        if res is not _GENERAL:
            return res  # type: ignore[no-any-return]
    return _second_order(f, primals, tangents, backend, "vhp")
