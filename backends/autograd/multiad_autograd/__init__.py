"""The HIPS autograd backend: reverse mode natively (``autograd.core.make_vjp``, NOTE [Pullback without a closure]).

Forward mode is derived by the core as the vjp of the (linear) pullback, and vmap by the
core's loop, exactly as autograd itself derives ``make_jvp_reversemode``. Importing this module
does not import autograd; :meth:`AutogradBackend.load` does, on first use.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import numpy as np
import optree

import multiad

from . import _operands

new_box: Any = None
box_types: Any = None
new_root: Any = None
toposort: Any = None
add_outgrads: Any = None
vspace: Any = None
getval: Any = None
Box: Any = None
ArrayBox: Any = None
ag_tuple: Any = None
anp: Any = None
trace_stack: Any = None


# NOTE [Arguments autograd's f may not change]: autograd passes ``f`` the caller's own numpy
# arrays for the arguments it does not differentiate (outside ``argnums``, keyword arguments) and,
# in the core's loop ``vmap``, for the unbatched ones (``in_dims`` None), so an ``f`` that changed
# one in place changed the caller's array and gave every later evaluation another input:
# ``vmap(f, in_dims=(0, None))`` with ``y *= 2`` in ``f`` gave ``[6, 12, 24, 48]`` for ``[6, 6, 6,
# 6]`` and left the caller's ``y`` at 16, and each call of ``grad(f)(x, y=y)`` another gradient.
# As the numpy backend does (NOTE [Arguments f may not change] there), those arrays reach ``f`` as
# read-only views (``constant_argument``, once per call), and the write raises
# NonDifferentiableError naming the call, with the caller's array left as it was. A view costs
# no copy; the differentiated arguments are autograd's boxes, which cannot be written anyway.
class AutogradBackend(multiad.Backend):
    name: ClassVar[str] = "autograd"
    framework: ClassVar[str] = "autograd"
    array_modules: ClassVar[tuple[str, ...]] = ("autograd",)
    priority: ClassVar[int] = 30
    has_vjp: ClassVar[bool] = True
    has_custom_rules: ClassVar[bool] = True
    # Not writable: inside an enclosing transform (hessian's outer level) a chunk's rows are
    # ArrayBoxes, which cannot be stored into a numpy array; chunks are joined at the end.
    writable: ClassVar[bool] = False

    def load(self) -> None:
        global new_box, box_types, new_root, toposort, add_outgrads, vspace, getval, Box, ArrayBox, ag_tuple, anp
        global trace_stack
        import autograd.builtins
        import autograd.core
        import autograd.numpy
        import autograd.numpy.numpy_boxes
        import autograd.tracer

        new_root, getval = autograd.core.VJPNode.new_root, autograd.tracer.getval
        new_box, box_types = autograd.tracer.new_box, autograd.tracer.box_types
        Box = autograd.tracer.Box
        toposort, add_outgrads, vspace = autograd.core.toposort, autograd.core.add_outgrads, autograd.core.vspace
        ArrayBox, ag_tuple = autograd.numpy.numpy_boxes.ArrayBox, autograd.builtins.tuple
        anp = autograd.numpy
        if not isinstance(autograd.tracer.trace_stack, _ThreadTraceStack):  # NOTE [Trace numbers per thread]
            autograd.tracer.trace_stack = _ThreadTraceStack(autograd.tracer.trace_stack)
        trace_stack = autograd.tracer.trace_stack
        _operands.install(ArrayBox, Box, trace_stack)  # NOTE [Arrays of another framework as operands]

    def version(self) -> str | None:
        import importlib.metadata

        return importlib.metadata.version("autograd")

    def is_array(self, x: Any) -> bool:
        return isinstance(x, (np.ndarray, ArrayBox))

    def asarray(self, x: Any, dtype: Any = None, device: Any = None) -> Any:
        if device not in (None, "cpu"):
            raise multiad.InvalidArgumentError(
                f"asarray(x): the autograd backend runs on the CPU only, got device={device!r}"
            )
        if isinstance(x, ArrayBox):
            return x
        return np.asarray(x, dtype=dtype)

    def to_numpy(self, x: Any) -> Any:
        if isinstance(x, ArrayBox):
            # getval would return the value and silently drop the derivative.
            raise DroppedDerivativeError(
                "multiad.to_numpy(x) (or multiad.asarray(x, backend=...) of another backend) of a traced "
                "value drops its derivative; keep it an array of the autograd backend and write the "
                "function with multiad.numpy or autograd.numpy"
            )
        return np.asarray(x)

    def eye(self, n: int, like: Any) -> Any:
        return np.eye(n, dtype=getval(like).dtype)

    def dtype_name(self, x: Any) -> str:
        # NOTE [Boxed Python numbers]: autograd's own transforms box a Python float argument
        # (``autograd.grad(f)(0.7)``) in an ArrayBox around the float itself, which has no
        # dtype; numpy's dtype of that number is the array's (float64).
        value = getval(x)
        return str(value.dtype if hasattr(value, "dtype") else np.result_type(value))

    def constant_argument(self, x: Any) -> Any:
        """A read-only view of numpy array ``x`` (NOTE [Arguments autograd's f may not change])."""
        return self.read_only_view(x)

    def translate_error(self, exc: BaseException) -> str | None:
        if isinstance(exc, (LeakedTraceError, DroppedDerivativeError)):
            return str(exc)
        written = self.refused_write(exc)  # NOTE [Arguments autograd's f may not change]
        if written is not None:
            return written
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        # Only messages autograd (or numpy, about autograd's boxes) writes: a user's own error
        # raised in f passes unchanged.
        if isinstance(exc, NotImplementedError) and re.match(r"[VJ]JP of \S+ wrt argnums? .* not defined", msg):
            return f"{type(exc).__name__}: {msg}"
        if isinstance(exc, TypeError) and "ArrayBox" in msg and "returned NotImplemented from __array_ufunc__" in msg:
            if ", out=(" in msg:
                # NOTE [In-place updates with a traced value]: ``dy = mnp.zeros_like(y); dy += y``
                # is numpy's ufunc with ``out=dy``, which autograd's box refuses; the message
                # said a plain numpy function was applied and named neither the update nor the fix.
                return (
                    f"{type(exc).__name__}: {msg} (f updates a numpy array in place with a traced value "
                    "(x += v, x *= v, or a ufunc's out=), which autograd cannot record; compute a new array "
                    "instead (x = x + v))"
                )
        if isinstance(exc, TypeError) and ("ArrayBox" in msg or msg.startswith("Can't differentiate w.r.t. type")):
            return (
                f"{type(exc).__name__}: {msg} (a plain numpy function was applied to a traced value; "
                "write the function with multiad.numpy or autograd.numpy)"
            )
        missing = re.match(r"'ArrayBox' object has no attribute '(\w+)'", msg)
        if isinstance(exc, AttributeError) and missing:
            # x.item(), x.tolist() and a few other ndarray methods do not exist on autograd's boxes.
            return (
                f"{type(exc).__name__}: {msg} (autograd traces f with boxes that have numpy's operators but not "
                f"every ndarray method; write it with multiad.numpy operations"
                + (
                    ", and keep the value an array: x.item() and x.tolist() would drop its derivative, x[()] "
                    "indexes a 0-d array"
                    if missing.group(1) in ("item", "tolist", "itemset")
                    else ""
                )
                + ")"
            )
        if isinstance(exc, ValueError) and "ArrayBox" in str(exc.__cause__ or ""):
            # NOTE [Assignment of a traced value]: numpy's "setting an array element with a
            # sequence", from float() of autograd's box, whose message named neither cause: a
            # traced value assigned into a numpy array (dy = mnp.zeros_like(y); dy[0] = y[1]) or
            # converted by numpy.array(..., dtype=float). The jax backend names the assignment.
            return (
                f"{type(exc).__name__}: {msg} (f assigns a traced value into an element or slice of a numpy array "
                "(x[i] = v), or makes a numpy array of traced values with a dtype (numpy.array(..., dtype=float)), "
                "which autograd cannot record; build a new array instead (mnp.where(mask, v, x), mnp.stack, "
                "mnp.concatenate))"
            )
        if isinstance(exc, TypeError) and "dtype('O')" in msg:
            # numpy.asarray or numpy.array of traced values builds an object array of boxes.
            return (
                f"{type(exc).__name__}: {msg} (a numpy function turned traced values into an object array, "
                "as numpy.asarray and numpy.array do; write the function with multiad.numpy or autograd.numpy)"
            )
        return None

    def is_traced(self, x: Any) -> bool:
        return isinstance(x, Box)

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        # NOTE [Unpacked single input and output]: autograd traces a tuple as a boxed container,
        # which costs a container node in every forward and backward pass. One primal and one
        # output (the common case, and every column of a derived Jacobian) are passed unpacked.
        # Unpacked, a function that leaks traced values through numpy.asarray returns an object
        # array of boxes instead of failing inside autograd, so results are checked for that.
        n = len(primals)
        aux_cell: list[Any] = []
        single_out: list[bool] = []
        number: list[int] = []  # this trace's number, for the check of its outputs

        def run(xs: Any) -> Any:
            res = fun(xs) if n == 1 else fun(*[xs[i] for i in range(n)])
            if has_aux:  # NOTE [Aux of this trace alone]
                res, aux = res
                level = xs._trace
                aux_cell.append(
                    optree.tree_map(
                        lambda a: a._value if isinstance(a, Box) and a._trace == level else a, aux, namespace="multiad"
                    )
                )
            single_out.append(len(res) == 1)
            number.append(xs._trace)
            return res[0] if single_out[0] else ag_tuple(res)

        pullback, outs = _make_vjp(run, primals[0] if n == 1 else tuple(primals))
        outs = (outs,) if single_out[0] else tuple(outs)
        _check_not_leaked(outs, number[0])
        aux_value = aux_cell[0] if has_aux else None

        dtypes = tuple(_float_dtype(p) for p in primals)
        dtype0 = dtypes[0]

        def finish(grads: Any) -> tuple[Any, ...]:
            grads = (grads,) if n == 1 else tuple(grads)
            _check_not_leaked(grads)
            # a 0-d primal gets a numpy scalar back from autograd; results are arrays
            arrays = (g if isinstance(g, (np.ndarray, ArrayBox)) else np.asarray(g) for g in grads)
            return tuple(_as_dtype(g, dt) for g, dt in zip(arrays, dtypes, strict=True))

        if n == 1 and single_out[0]:
            # One primal and one output: every column of a derived Jacobian runs this, so it
            # is kept to the call and one check (NOTE [Unpacked single input and output]).
            def pull_one(cts: tuple[Any, ...]) -> tuple[Any, ...]:
                grads = pullback(cts[0])
                if type(grads) is _NDARRAY and grads.dtype is dtype0:
                    return (grads,)
                return finish(grads)

            def one_cotangent(ct: Any) -> tuple[Any, ...]:  # NOTE [Pullbacks of one output]: pull_one's, bare
                grads = pullback(ct)
                if type(grads) is _NDARRAY and grads.dtype is dtype0:
                    return (grads,)
                return finish(grads)

            pull_one.one_cotangent = one_cotangent  # type: ignore[attr-defined]
            if not isinstance(
                primals[0], Box
            ):  # a traced primal's results are checked: NOTE [Boxes of a finished trace]
                pull_one.one_gradient = (pullback, finish)  # type: ignore[attr-defined]
            return outs, pull_one, aux_value

        def pull(cts: tuple[Any, ...]) -> tuple[Any, ...]:
            grads = pullback(cts[0] if single_out[0] else tuple(cts))
            if n == 1 and type(grads) is _NDARRAY and grads.dtype is dtype0:  # the common case
                return (grads,)
            return finish(grads)

        return outs, pull, aux_value

    def prepare(
        self, transform: str, fun: Callable[..., Any], argnums: int | tuple[int, ...], chunk_size: int | None
    ) -> Callable[..., Any] | None:
        # NOTE [Prepared forward mode]: autograd has no forward mode and no vmap, so the general
        # path's jacfwd is the loop of NOTE [Columns by a loop] over the linearized pullback
        # (NOTE [Linearize once] in multiad/_derive.py). Prepared, the same loop runs without the
        # general path's layers per call (flattening, the basis built per chunk, the checks of
        # the stacked columns): f is linearized once per call with this backend's own vjp (which
        # checks for leaked traces, NOTE [Unpacked single input and output]), and each column is
        # one pullback of a row of the identity. autograd's own jacobian (reverse mode) runs
        # more instructions than the general path's jacrev, so jacrev and grad are not prepared.
        if transform != "jacfwd" or chunk_size is not None:
            return None
        return functools.partial(_jacfwd, self, fun, argnums)

    # -- custom derivative rules (multiad_autograd/_custom.py) ------------------------------------
    def custom_vjp(self, rule: Any) -> Callable[..., Any]:
        from . import _custom

        return _custom.custom_vjp(rule)  # type: ignore[no-any-return]

    def custom_jvp(self, rule: Any) -> Callable[..., Any]:
        from . import _custom

        return _custom.custom_jvp(rule)  # type: ignore[no-any-return]


class DroppedDerivativeError(TypeError):
    """A conversion to numpy of a value autograd is tracing (see ``AutogradBackend.to_numpy``)."""


class LeakedTraceError(TypeError):
    """A traced value ended up inside a numpy object array (numpy.asarray on a traced value)."""


_OBJECT = np.dtype(object)
_NDARRAY = np.ndarray


# NOTE [Aux of this trace alone]: with ``has_aux``, the aux values f returns are boxes of this
# vjp's trace where they depend on the primals; they leave the trace unboxed by one level, as
# autograd's own ``make_vjp`` unboxes its output. ``getval`` unboxes every level, so an aux that
# depends on an enclosing transform's input lost that dependence: ``grad`` of
# ``lambda x: grad(g, has_aux=True)(x)[1] * sin(x)`` differentiated the aux as a constant and
# returned a wrong derivative (torch.func and JAX keep it, as here).


# NOTE [Derivatives in the input's dtype]: several of autograd's own derivative rules promote
# float32 to float64 (``maximum``, ``where``, ``mean``, ``std``, ``linalg.norm``, ...: numpy
# float64 constants and boolean masks divided by floats), so a float32 input got float64
# derivatives where torch, JAX and the numpy backend return float32. Each cotangent leaves the
# backend's pullback in its primal's floating dtype (``astype``, which autograd differentiates,
# so higher derivatives stay traced); the common case, already in that dtype, costs one
# comparison. Columns of the prepared jacfwd, which bypass the pullback, are cast the same way.
def _float_dtype(x: Any) -> Any:
    """The floating dtype of a primal (its derivatives' dtype), or None for any other."""
    dt = getattr(getval(x), "dtype", None)
    return dt if dt is not None and dt.kind == "f" else None


def _as_dtype(g: Any, dtype: Any) -> Any:
    """``g`` in ``dtype`` where both are floating and differ (NOTE [Derivatives in the input's dtype])."""
    if dtype is None:
        return g
    have = getval(g).dtype
    return g.astype(dtype) if have != dtype and have.kind == "f" else g


# NOTE [Pullback without a closure]: ``autograd.core.make_vjp`` traces ``fun`` and returns a
# closure ``vjp(g)`` that calls ``backward_pass(g, end_node)``: one more Python frame on every
# pullback, which a loop of pullbacks (a Jacobian by rows, vjp_fn called per basis cotangent)
# pays per row. :func:`_make_vjp` is make_vjp with the same trace and the same two cases, its
# pullback autograd's ``backward_pass`` with the end node bound by ``functools.partial`` (no
# frame of its own); where the output does not depend on ``x`` (no end node), it is make_vjp's
# zeros. The end node is bound positionally, as the first argument of :func:`_backward_pass`
# (``backward_pass`` written out with its arguments swapped): a ``partial`` holding a keyword
# argument copies its keywords into a new dict and unpacks them again on every call (about 370
# machine instructions per pullback under callgrind, 16 per ``jacobian 16->16``). The
# trace is autograd's ``tracer.trace`` written out, so that an output independent of ``x`` gets
# its zeros without autograd's "Output seems independent of input" warning, which a multiad user
# cannot act on (a constant or linear function's Hessian is right as zeros, and the other
# backends say nothing).
def _make_vjp(fun: Callable[..., Any], x: Any) -> tuple[Callable[[Any], Any], Any]:
    """``autograd.core.make_vjp(fun, x)`` (NOTE [Pullback without a closure])."""
    with trace_stack.new_own_trace() as number:
        end = fun(new_box(x, number, new_root()))
    if type(end) in box_types and end._trace == number:
        return functools.partial(_backward_pass, end._node), end._value
    return (lambda g: vspace(x).zeros()), end


def _backward_pass(end_node: Any, g: Any) -> Any:
    """``autograd.core.backward_pass(g, end_node)``, the same steps (NOTE [Pullback without a closure])."""
    outgrads = {end_node: (g, False)}
    for node in toposort(end_node):
        outgrad = outgrads.pop(node)
        ingrads = node.vjp(outgrad[0])
        for parent, ingrad in zip(node.parents, ingrads):
            outgrads[parent] = add_outgrads(outgrads.get(parent), ingrad)
    return outgrad[0]


_PLAIN = {np.ndarray}


def _check_not_leaked(arrays: tuple[Any, ...], own: int = -2) -> None:
    """Raises for results that hold traced values where arrays were due. ``own``: the number of
    the trace that just made ``arrays``; a box of that trace in its own output came through an
    object array (its elements boxes, as ``numpy.asarray`` of a traced value builds), not from a
    pullback kept after its transform."""
    for a in arrays:
        if getattr(a if type(a) is np.ndarray else getval(a), "dtype", None) == _OBJECT or (
            isinstance(a, Box) and a._trace == own
        ):
            raise LeakedTraceError(
                "numpy.asarray (or another plain numpy call) turned a traced value into an object array; "
                "write the function with multiad.numpy or autograd.numpy"
            )
        if isinstance(a, Box) and a._trace > trace_stack.top:  # NOTE [Boxes of a finished trace]
            raise LeakedTraceError(
                "a traced value of a transform that has returned came out here: a vjp_fn or jvp_fn made "
                "inside a transform of f was kept (returned as aux or stored) and called after it ended; "
                "call vjp (or linearize) outside the transform, or call its function inside it"
            )


# NOTE [Boxes of a finished trace]: autograd numbers its traces by depth (``trace_stack.top``
# while one runs). A pullback made inside a transform and called after that transform returned
# (returned as aux, say) still computes with the boxes of the finished trace and returns them:
# an ArrayBox where an array was due, silently. A box whose trace is deeper than the deepest
# running one is such a leftover. Checked where a result is not a plain array anyway (off the
# common path), so the check costs nothing per column. A leftover met while a new trace of the
# same depth runs cannot be told apart this way. The depth is the calling thread's (NOTE [Trace
# numbers per thread]): with autograd's one counter for the process, a trace that ended in
# another thread lowered ``top`` below a trace still running in this one, whose own boxes were
# then taken for leftovers (hessians from 4 threads raised within 30 calls).


# NOTE [Trace numbers per thread]: autograd tells a trace's boxes from those of the traces around
# it by number (the depth ``trace_stack.top`` when the trace began), and its ``trace_stack`` is one
# counter for the process. With traces running in several threads, a trace ending in one thread
# lowered the count under another's, and a trace then nested in that other thread could get the
# number of the one enclosing it: their boxes were taken for one level and the derivative of an
# inner grad in a value of the outer one was lost (``grad(a -> sum(grad(y -> sum(sin(a y)))(x)))``
# gave 0 in about one call in fifty from 6 threads, without an error). The backend gives
# autograd's tracer a counter per thread (the same depths within one thread, restored when a
# trace raises, which autograd's own does not do): nesting is per thread, as traced values
# never cross threads. It replaces ``autograd.tracer.trace_stack`` when the backend loads, so
# ``autograd.grad`` called directly gets it too.
class _ThreadTraceStack(threading.local):
    """autograd's ``TraceStack`` with its depth per thread (NOTE [Trace numbers per thread])."""

    def __init__(self, before: Any) -> None:
        # a thread that enters it inside a trace of the counter it replaced (autograd.grad around
        # the call that loaded the backend) numbers its traces above that one's
        self.top = before.top
        #: multiad's own traces open in this thread (NOTE [Arrays of another framework as operands])
        self.own = 0

    @contextlib.contextmanager
    def new_trace(self) -> Iterator[int]:
        self.top += 1
        try:
            yield self.top
        finally:
            self.top -= 1

    @contextlib.contextmanager
    def new_own_trace(self) -> Iterator[int]:
        """``new_trace`` of a trace of multiad's, counted in ``own``."""
        self.top += 1
        self.own += 1
        try:
            yield self.top
        finally:
            self.top -= 1
            self.own -= 1


def _block(parts: list[Any], out_shape: tuple[int, ...], in_shape: tuple[int, ...]) -> Any:
    """The Jacobian block ``out_shape + in_shape`` of one output from its columns ``parts``:
    stacked, then moved (NOTE [Columns moved, not copied]), with autograd's own stack where the
    columns are traced values of an enclosing transform."""
    stacked = (np.stack if set(map(type, parts)) == _PLAIN else anp.stack)(parts)
    nd = len(out_shape)
    return (stacked.transpose((*range(1, nd + 1), 0)) if nd else stacked).reshape(out_shape + in_shape)


# NOTE [Columns of one input and one output]: with one differentiated array in and one array
# out, each column is one call of autograd's own pullback of the linearized pullback, as the
# framework's make_jvp_reversemode makes it, without this backend's vjp around it (a tuple built,
# indexed and checked per column). What that vjp checks still holds: the inner pullback checks
# its gradients for leaked traces while the outer one is traced, and the stacked columns are
# checked once.


def _jacfwd(b: AutogradBackend, fun: Callable[..., Any], argnums: int | tuple[int, ...], *args: Any) -> Any:
    """The prepared jacfwd of ``fun`` (NOTE [Prepared forward mode]): per output array, one block
    for an int ``argnums`` or a tuple of blocks; one output array gives its row bare."""
    one = type(argnums) is int
    nums: tuple[int, ...] = (argnums,) if one else argnums  # type: ignore[assignment]
    single: list[bool] = []

    def flat(*xs: Any) -> tuple[Any, ...]:
        given = list(args)
        for i, x in zip(nums, xs):
            given[i] = x
        res = fun(*given)
        if type(res) is tuple or type(res) is list:
            single.append(False)
            return tuple(res)
        single.append(True)
        return (res,)

    primals = tuple(args[i] for i in nums)
    outs, pull, _ = b.vjp(flat, primals, False)
    ones = tuple(np.ones_like(getval(o)) for o in outs)
    if len(primals) == 1 and len(outs) == 1:  # NOTE [Columns of one input and one output]
        x, o, inner = primals[0], outs[0], pull.one_cotangent
        push_one = _make_vjp(lambda ct: inner(ct)[0], ones[0])[0]
        parts = [push_one(e) for e in np.eye(x.size, dtype=getval(x).dtype).reshape((x.size, *x.shape))]
        block = _as_dtype(_block(parts, o.shape, x.shape), _float_dtype(o))
        _check_not_leaked((block,))
        value = block if one else (block,)
        return value if single[0] else (value,)
    _, push, _ = b.vjp(lambda *cts: tuple(pull(cts)), ones, False)
    rows: list[list[Any]] = [[] for _ in outs]
    for j, x in enumerate(primals):
        n = x.size  # at least 1: an empty input takes the general path (NOTE [Empty Jacobians])
        basis = np.eye(n, dtype=getval(x).dtype).reshape((n, *x.shape))
        if len(primals) == 1:
            cols = [push((e,)) for e in basis]
        else:
            tangents = [np.zeros_like(getval(p)) for p in primals]
            cols = []
            for e in basis:
                tangents[j] = e
                cols.append(push(tuple(tangents)))
        for k, o in enumerate(outs):
            rows[k].append(_block([c[k] for c in cols], o.shape, x.shape))
    res = [r[0] if one else tuple(r) for r in rows]
    return res[0] if single[0] else tuple(res)
