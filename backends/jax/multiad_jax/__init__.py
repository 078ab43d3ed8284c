"""The jax backend: JAX's vjp, jvp, vmap and its native jacrev, jacfwd and linearize.

Importing this module does not import JAX; :meth:`JaxBackend.load` does, on first use. The
backend never changes JAX's global configuration: float64 needs the user to enable x64
(``jax.config.update("jax_enable_x64", True)``). Every transform works under ``jax.jit``,
where it costs nothing beyond tracing.

NOTE [float64 input without x64]: with x64 off, ``jnp.asarray`` turns a float64 numpy array
into float32 (and complex128 into complex64) without a word, and derivatives come back with
relative errors near 1e-7 where the caller expects 1e-16. Converting a float64 or complex128
numpy argument (a Python float among them: the core hands one over as a float64 0-d array)
then warns :class:`multiad.AccuracyWarning` once per process and dtype, with the one-line fix;
the backend does not flip x64 itself, because that changes every other JAX computation in the
process. "Once" counts a warning that reached the caller: where a filter turned it into an
exception (``warnings.simplefilter("error", multiad.AccuracyWarning)``, as the docs
recommend), the next conversion raises again, rather than computing in float32 silently.

NOTE [64-bit integers without x64]: ``jnp.asarray`` turns int64 into int32 and uint64 into
uint32 by dropping the high bits, so ``2**40 + 3`` becomes ``3``: a wrong value, not a
rounded one, and JAX says nothing. An integer array whose values all fit the 32-bit type
loses nothing and converts silently (JAX's integers are 32-bit without x64, as its creation
functions' are); one with a value that does not fit raises InvalidArgumentError naming the
call, the value and the fixes (enable x64, or convert the data, to float64 for instance).
Checking costs one pass over the array's values, for 64-bit integer arrays with x64 off only.
An explicit 32-bit ``dtype`` asks for numpy's wrapping cast, which it gets.

NOTE [item() of a traced value]: JAX raises for ``float(x)``, ``x.tolist()`` and
``numpy.asarray(x)`` on a traced value, but ``x.item()`` of a value that JAX differentiates
eagerly returns its primal value, and the derivative through it is lost without a word
(``jax.grad(lambda t: t[0].item() * t[1])`` gives 0 for ``t[0]``). The backend wraps
``jax.core.Tracer.item`` once, when it loads: while one of its own transforms runs (a frame of
this package is on the stack; looked up only when ``item`` is called on a traced value), the
``item()`` of a floating-point value that would convert raises a NonDifferentiableError naming
it, as the torch backend does for ``Tensor.item()``. Outside multiad's transforms JAX's own
``item`` runs unchanged, and integer values (no derivative) convert as usual. "This package" is
``multiad_jax`` and its submodules only: a prefix test took a third-party plugin's module
(``multiad_jaxfwd``) for its own, so that plugin's transforms met this backend's error, which its
``translate_error`` could only know by its name. A JAX plugin guards ``item`` for its own
transforms itself (docs/plugins.md, Conversions).
"""

from __future__ import annotations

import functools
import re
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

import multiad

jax: Any = None
jnp: Any = None
#: the dtypes (float64, complex128) whose warning has reached the caller (NOTE [float64 input without x64])
_x64_warned: set[str] = set()
_x64_lock = threading.Lock()
#: a 64-bit integer dtype's 32-bit counterpart without x64 (NOTE [64-bit integers without x64])
_NARROWER = {"int64": np.dtype(np.int32), "uint64": np.dtype(np.uint32)}
#: what a float64 or complex128 array becomes without x64 (NOTE [float64 input without x64])
_NARROWED = {"float64": "float32", "complex128": "complex64"}
_WIDE = frozenset(_NARROWER) | frozenset(_NARROWED)


#: JAX's ConcretizationTypeError for a size it must know while tracing (``jnp.nonzero``, which
#: ``mnp.where(cond)`` calls): NOTE [Shapes that depend on the values].
_SIZE_NOT_STATIC = re.compile(r"The size argument of jnp\.\w+ must be statically specified")


class DroppedDerivativeError(TypeError):
    """``x.item()`` of a traced floating-point value inside one of this backend's transforms."""


def _inside_transform() -> bool:
    """Whether a frame of this package is on the stack (NOTE [item() of a traced value])."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name == __name__ or name.startswith(__name__ + "."):  # not multiad_jaxfwd's: NOTE [item() of a traced value]
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _install_item_guard() -> None:
    """Wraps ``jax.core.Tracer.item`` once (NOTE [item() of a traced value])."""
    tracer = jax.core.Tracer
    original = tracer.item
    if hasattr(original, "_multiad_original"):
        return

    def item(self: Any, *args: Any) -> Any:
        if jnp.issubdtype(self.dtype, jnp.inexact) and self.to_concrete_value() is not None and _inside_transform():
            raise DroppedDerivativeError(
                "x.item() turns a traced value that carries a derivative into a Python number, which drops "
                "the derivative; keep it an array (x[()] for a 0-d array), or call "
                "jax.lax.stop_gradient(x) first for a value that is only logged or returned as aux"
            )
        return original(self, *args)

    item.__name__ = item.__qualname__ = "item"
    item.__doc__ = original.__doc__
    item._multiad_original = original  # type: ignore[attr-defined]
    tracer.item = item


class JaxBackend(multiad.Backend):
    name: ClassVar[str] = "jax"
    framework: ClassVar[str] = "jax"
    array_modules: ClassVar[tuple[str, ...]] = ("jax", "jaxlib")
    priority: ClassVar[int] = 20
    has_vjp: ClassVar[bool] = True
    has_custom_rules: ClassVar[bool] = True
    has_jvp: ClassVar[bool] = True
    has_vmap: ClassVar[bool] = True
    native: ClassVar[frozenset[str]] = frozenset({"value_and_grad", "jacrev", "jacfwd", "linearize"})
    compiler: ClassVar[str | None] = "jax.jit"
    writable: ClassVar[bool] = True  # through write: NOTE [Writing into a JAX array]
    pads_last_chunk: ClassVar[bool] = True  # eager operations compile per shape
    rolls_chunks: ClassVar[bool] = True  # under jax.jit: NOTE [Chunks in a fori_loop]

    def load(self) -> None:
        global jax, jnp
        import jax as _jax
        import jax.numpy as _jnp

        jax, jnp = _jax, _jnp
        _install_item_guard()

    def version(self) -> str | None:
        self.load()
        return str(jax.__version__)

    def devices(self) -> list[str]:
        self.load()
        return [f"{d.platform}:{d.id}" for d in jax.devices()]

    def default_dtype(self) -> str:
        return "float64" if jax.config.jax_enable_x64 else "float32"

    def is_array(self, x: Any) -> bool:
        return isinstance(x, jax.Array)

    def is_traced(self, x: Any) -> bool:
        return isinstance(x, jax.core.Tracer)

    def asarray(self, x: Any, dtype: Any = None, device: Any = None) -> Any:
        given = getattr(x, "dtype", None)
        if isinstance(given, np.dtype) and given.name in _WIDE and not jax.config.jax_enable_x64:
            self._narrowing(x, given.name, dtype)
        out = jnp.asarray(x, dtype=None if dtype is None else np.dtype(dtype))
        if isinstance(device, str):  # one of devices(): "gpu:0"; or a platform: "cpu" (numpy's), "cuda"
            found = [d for d in jax.devices() if f"{d.platform}:{d.id}" == device] or _first_of_platform(device)
            if not found:
                raise multiad.InvalidArgumentError(
                    f"{self.converting_call() or 'asarray(x)'}: device={device!r} is none of JAX's devices; "
                    f"give one of {self.devices()}, a platform name ('cpu'), a jax.Device, or leave device out for JAX's default"
                )
            device = found[0]
        return out if device is None else jax.device_put(out, device)

    def _narrowing(self, x: Any, name: str, dtype: Any) -> None:
        """Raises or warns for numpy data ``x`` of 64-bit dtype ``name`` that x64 off narrows
        (NOTE [64-bit integers without x64], NOTE [float64 input without x64])."""
        if name in _NARROWER:
            target = np.dtype(name if dtype is None else dtype)
            if target.kind in "iu" and target.itemsize == 8:
                _check_fits(x, _NARROWER[name], self.converting_call() or "jax backend")
            return
        if dtype is not None or name in _x64_warned or not _first_x64_warning(name):
            return
        call = self.converting_call() or "jax backend"  # NOTE [Conversions name their call] in multiad
        what = "a float64 numpy array or Python float" if name == "float64" else "a complex128 numpy array"
        try:
            self.warn_accuracy(
                f"{call}: {what} is computed in {_NARROWED[name]} because JAX's x64 mode is off "
                "(relative errors near 1e-7 instead of 1e-16); enable it at the start of the program with "
                'jax.config.update("jax_enable_x64", True). This warning is shown once per process'
            )
        except BaseException:
            with _x64_lock:  # a filter turned it into an error: not shown, so the next conversion raises too
                _x64_warned.discard(name)
            raise

    # Framework facts the conformance suite asks for (multiad.Backend); the backend never acts unasked.
    def compile(self, fun: Callable[..., Any]) -> Callable[..., Any]:
        return jax.jit(fun)  # type: ignore[no-any-return]

    def enable_float64(self) -> None:
        jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]

    def reproducible_float32(self, device: str) -> Any:
        return jax.default_matmul_precision("highest")

    def describe_device(self, device: str) -> dict[str, Any]:
        dev = next(d for d in jax.devices() if f"{d.platform}:{d.id}" == device)
        return {"model": getattr(dev, "device_kind", None), "driver": f"jax {jax.__version__}"}

    def to_numpy(self, x: Any) -> Any:
        return np.asarray(x)

    def eye(self, n: int, like: Any) -> Any:
        return jnp.eye(n, dtype=like.dtype)

    def identity_block(self, rows: tuple[int, int], cols: tuple[int, int], like: Any) -> Any:
        # NOTE [One program per chunk shape]: eager JAX compiles every operation once per shape,
        # and the default block (an eye joined with zeros before and after it) has different
        # zeros and a different join at every chunk's position: about three new programs per
        # chunk, whose compiled code stays with the process. One compiled comparison of two
        # iotas, the diagonal's offset an argument, makes every chunk of the same shape.
        (r0, r1), (c0, c1) = rows, cols
        return _identity_rows()(r0 - c0, (r1 - r0, c1 - c0), np.dtype(like.dtype))

    def write(self, block: Any, matrix: tuple[int, int], start: tuple[int, int], value: Any) -> Any:
        # NOTE [Writing into a JAX array]: a JAX array is immutable, and an eager
        # ``block.at[...].set(value)`` copies the whole block, once per chunk of a chunked
        # Jacobian. Outside a trace the write runs as one compiled update that donates the
        # block's buffer, so that XLA writes into it in place (the block is the core's own, never
        # seen by the caller); under a trace (vmap, an enclosing transform) the update is traced,
        # and under jax.jit it is the carry's update in a fori_loop (NOTE [Chunks in a
        # fori_loop]), which XLA makes in place.
        if isinstance(block, jax.core.Tracer) or isinstance(value, jax.core.Tracer):
            return _write_block(block, value, start[0], start[1], matrix)
        return _donating_write()(block, value, start[0], start[1], matrix)

    def write_columns(self, block: Any, matrix: tuple[int, int], start: tuple[int, int], columns: Any) -> Any:
        # The transpose inside the update, where XLA fuses it: an eager transpose would copy
        # the chunk first (NOTE [Writing into a JAX array]).
        if isinstance(block, jax.core.Tracer) or isinstance(columns, jax.core.Tracer):
            return _write_block(block, columns.T, start[0], start[1], matrix)
        return _donating_write(transposed=True)(block, columns, start[0], start[1], matrix)

    def read_chunk(self, x: Any, axis: int, start: Any, size: int) -> Any:
        # A start the fori_loop traces (NOTE [Chunks in a fori_loop]) takes a dynamic_slice;
        # a Python int, the default slice.
        if isinstance(start, int):
            return super().read_chunk(x, axis, start, size)
        return jax.lax.dynamic_slice_in_dim(x, start, size, axis)

    def loop_chunks(
        self, total: int, chunk: int, body: Callable[[Any, Any, Any], Any], carry: Any, like: Any, first: int = 0
    ) -> Any:
        # NOTE [Chunks in a fori_loop]: the chunks of a Jacobian traced under jax.jit as one
        # lax.fori_loop (NOTE [Rolled chunks] in multiad/_rolled.py): the blocks are its carry,
        # and each chunk's dynamic_update_slice into them is done in place by XLA. A single chunk
        # runs without a loop, its start a Python int. A chunked vmap runs through it too (NOTE
        # [Rolled vmap chunks] in multiad/_rolled.py), reading its chunks with read_chunk.
        count = -(-total // chunk)
        if count - first <= 1:
            return super().loop_chunks(total, chunk, body, carry, like, first)
        dtype = np.dtype(like.dtype)

        def step(k: Any, blocks: Any) -> Any:
            start = jnp.minimum(k * chunk, total - chunk)
            return body(start, _rows_of_identity(start, (chunk, total), dtype), blocks)

        return jax.lax.fori_loop(first, count, step, carry)

    def translate_error(self, exc: BaseException) -> str | None:
        if isinstance(exc, DroppedDerivativeError):
            return str(exc)
        if isinstance(exc, TypeError) and str(exc).startswith("JAX arrays are immutable"):
            return (
                "TypeError: JAX arrays are immutable; f assigns to an element or slice of an array (x[i] = v), "
                "which jax cannot do in place; build a new array instead (mnp.where(mask, v, x), "
                "mnp.concatenate), or use x.at[i].set(v) in code written for the jax backend only"
            )
        if isinstance(exc, jax.errors.JAXTypeError) or type(exc).__module__.startswith("jax.errors"):
            text = str(exc)
            found = re.search(r"The problem arose with the `([^`]+)` function", text)
            op = f" (in `{found.group(1)}`)" if found else ""
            head = f"{type(exc).__name__}{op}: {text.splitlines()[0].rstrip('.') if text else ''}"
            if isinstance(exc, jax.errors.TracerBoolConversionError):
                # NOTE [Truth of a traced value]: an `if` or `while` on an array's value. The
                # operations may well be multiad.numpy ones already; what cannot be traced is
                # Python deciding the branch from a value that jax.jit or a vmap makes abstract.
                return (
                    f"{head}; an `if` or `while` in f branches on the value of a traced array, which has no "
                    "concrete value under jax.jit, jax.vmap or multiad.vmap; use a fixed number of iterations, "
                    "select with mnp.where, or use jax.lax.while_loop / jax.lax.cond; or keep the loop out of "
                    "jax.jit (and vmap) so that it sees concrete values"
                )
            if isinstance(exc, jax.errors.NonConcreteBooleanIndexError) or _SIZE_NOT_STATIC.search(text):
                # NOTE [Shapes that depend on the values]: x[x > 0], or mnp.where(cond) with one
                # argument, under jax.jit or a vmap. f converts nothing, so the conversion hint
                # below misled; this says what torch's error for the same f says.
                return (
                    f"{head}; a shape in f depends on the values, as x[x > 0] or mnp.where(cond) make it, which "
                    "jax.jit and vmap cannot trace (under vmap the examples' shapes could differ); keep shapes fixed "
                    "(mnp.where(cond, x, 0) selects without changing them), or loop over the batch in Python and "
                    "keep such code out of jax.jit"
                )
            if isinstance(exc, jax.errors.UnexpectedTracerError):
                # NOTE [Escaped tracers]: a traced value used outside the trace that made it. Under
                # multiad the usual cause is a custom rule's nondiff argument computed from the
                # differentiated values (torch and autograd check that one before the call).
                return (
                    f"{head}; a traced value was used outside the transform that traced it: an argument in "
                    "nondiff_argnums of a custom rule that depends on the differentiated values (pass it as a "
                    "differentiated argument instead, the rule returning its cotangent or None), a value being "
                    "differentiated that a custom function or its rule closes over (pass it as an argument), or "
                    "a value f keeps (a global, an attribute) from an earlier call"
                )
            return (
                f"{head}; JAX traces f, so a Python or numpy conversion of a traced value (float, int, "
                "numpy.asarray) cannot be traced; write it with multiad.numpy or jax.numpy operations"
            )
        return None

    def vjp(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        if has_aux:
            outs, pullback, aux = jax.vjp(fun, *primals, has_aux=True)
            return outs, pullback, aux
        outs, pullback = jax.vjp(_bare(fun), *primals)
        if type(outs) is tuple:
            return outs, pullback, None
        return (outs,), _one_output(pullback), None  # NOTE [One output of a JAX vjp]

    def jvp(
        self, fun: Callable[..., Any], primals: tuple[Any, ...], tangents: tuple[Any, ...], has_aux: bool
    ) -> tuple[Any, Any, Any]:
        if has_aux:
            return jax.jvp(fun, primals, tangents, has_aux=True)  # type: ignore[no-any-return]
        outs, touts = jax.jvp(fun, primals, tangents)
        return outs, touts, None

    def vmap(self, fun: Callable[..., Any], in_axes: Sequence[int | None], chunk_size: int | None) -> Any:
        return jax.vmap(fun, in_axes=tuple(in_axes), out_axes=0)

    def value_and_grad(self, fun: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        res, grads = jax.value_and_grad(fun, argnums=tuple(range(len(primals))), has_aux=has_aux)(*primals)
        value, aux = res if has_aux else (res, None)
        return value, grads, aux

    # jax.jacrev/jax.jacfwd called with no helper frame in between: NOTE [Nested transforms near a
    # stack chunk boundary] in multiad/_derive.py.
    def jacrev(self, fun: Any, primals: tuple[Any, ...], has_aux: bool, chunk_size: int | None) -> Any:
        res = jax.jacrev(fun, argnums=tuple(range(len(primals))), has_aux=has_aux)(*primals)
        jac, aux = res if has_aux else (res, None)
        return [list(row) for row in jac], aux

    def jacfwd(self, fun: Any, primals: tuple[Any, ...], has_aux: bool, chunk_size: int | None) -> Any:
        res = jax.jacfwd(fun, argnums=tuple(range(len(primals))), has_aux=has_aux)(*primals)
        jac, aux = res if has_aux else (res, None)
        return [list(row) for row in jac], aux

    def linearize(self, fun: Any, primals: tuple[Any, ...]) -> tuple[Any, Any]:
        return jax.linearize(fun, *primals)  # type: ignore[no-any-return]

    def prepare(
        self, transform: str, fun: Callable[..., Any], argnums: int | tuple[int, ...], chunk_size: int | None
    ) -> Callable[..., Any] | None:
        # NOTE [Prepared JAX transforms]: JAX's own transform of the user's arguments, built once
        # per transform object and signature (NOTE [Prepared calls] in multiad/_prepared.py):
        # jax.jacrev, jax.jacfwd, jax.hessian, jax.value_and_grad, jax.grad under jvp or vjp. A built JAX
        # transform holds ``fun`` and nothing from a call (JAX traces ``fun`` afresh on every
        # eager call), so it stays right when f's closure changes, across threads, shapes and
        # dtypes. What is returned is a function of this module, so that a frame of this package
        # is on the stack while ``fun`` runs (NOTE [item() of a traced value]); it is the only
        # frame between the prepared call and JAX (NOTE [Nested transforms near a stack chunk
        # boundary] in multiad/_derive.py). Python bytecodes per eager call over the benchmark's
        # direct JAX code (sys.settrace), general path -> prepared: jacrev 16->16 +996 -> +163,
        # jacfwd 32->2048 +1076 -> +224, jacfwd(jacfwd) 512->32 +2299 -> +457, hessian 512->32
        # +1589 -> +225, hvp 2048 +725 -> -473 (the direct code builds jax.grad per call), and
        # vmap(hessian) 64x(31->33) +1195 -> -147; frames entered fell alike (+51 -> +4 on jacrev).
        if chunk_size is not None:
            return None
        if transform == "jacrev":
            return functools.partial(_call, jax.jacrev(fun, argnums=argnums))
        if transform == "jacfwd":
            return functools.partial(_call, jax.jacfwd(fun, argnums=argnums))
        if transform == "hessian":
            return functools.partial(_call, jax.hessian(fun, argnums=argnums))
        if transform == "grad_and_value":
            return functools.partial(_grad_and_value, jax.value_and_grad(fun, argnums=argnums))
        if transform in ("hvp", "vhp"):
            grad = jax.grad(fun, argnums=argnums)
            return functools.partial(_hvp if transform == "hvp" else _vhp, grad, type(argnums) is int)
        return None

    # -- custom derivative rules (multiad_jax/_custom.py) ------------------------------------
    def custom_vjp(self, rule: Any) -> Callable[..., Any]:
        from . import _custom

        return _custom.custom_vjp(rule)  # type: ignore[no-any-return]

    def custom_jvp(self, rule: Any) -> Callable[..., Any]:
        from . import _custom

        return _custom.custom_jvp(rule)  # type: ignore[no-any-return]


def _write_block(block: Any, value: Any, row: Any, col: Any, matrix: tuple[int, int]) -> Any:
    """``block`` with ``value`` at ``(row, col)`` of ``block`` viewed as ``matrix``."""
    written = jax.lax.dynamic_update_slice(block.reshape(matrix), value.astype(block.dtype), (row, col))
    return written.reshape(block.shape)


def _write_transposed(block: Any, columns: Any, row: Any, col: Any, matrix: tuple[int, int]) -> Any:
    """:func:`_write_block` of ``columns.T``."""
    return _write_block(block, columns.T, row, col, matrix)


_donating: dict[bool, Any] = {}


def _donating_write(transposed: bool = False) -> Any:
    """:func:`_write_block` (or :func:`_write_transposed`) compiled once, donating the block
    (NOTE [Writing into a JAX array])."""
    if transposed not in _donating:
        fun = _write_transposed if transposed else _write_block
        _donating[transposed] = jax.jit(fun, static_argnames=("matrix",), donate_argnums=0)
    return _donating[transposed]


def _rows_of_identity(offset: Any, shape: tuple[int, int], dtype: Any) -> Any:
    """A ``shape`` block with ones where the column is the row plus ``offset``."""
    row = jax.lax.broadcasted_iota(np.int32, shape, 0) + offset
    return (row == jax.lax.broadcasted_iota(np.int32, shape, 1)).astype(dtype)


_identity: list[Any] = []


def _identity_rows() -> Any:
    """:func:`_rows_of_identity` compiled once per shape and dtype (NOTE [One program per chunk shape])."""
    if not _identity:
        _identity.append(jax.jit(_rows_of_identity, static_argnames=("shape", "dtype")))
    return _identity[0]


def _check_fits(x: Any, narrow: np.dtype[Any], call: str) -> None:
    """Raises where 64-bit integer data ``x`` holds a value outside ``narrow``'s range
    (NOTE [64-bit integers without x64])."""
    data = np.asarray(x)
    if data.size == 0:
        return
    info = np.iinfo(narrow)
    lo, hi = int(data.min()), int(data.max())
    if info.min <= lo and hi <= info.max:
        return
    bad = lo if lo < info.min else hi
    wrapped = int(np.asarray(bad, dtype=data.dtype).astype(narrow))
    raise multiad.InvalidArgumentError(
        f"{call}: a numpy array of {data.dtype.name} holds {bad}, outside the {narrow.name} range "
        f"[{info.min}, {info.max}] that JAX's integers have with x64 off, where it would wrap around to {wrapped}; "
        'enable x64 at the start of the program with jax.config.update("jax_enable_x64", True), or convert '
        "the data first (to float64, say)"
    )


def _first_x64_warning(name: str) -> bool:
    """True for the first of the calls converting dtype ``name`` that claims its warning
    (NOTE [float64 input without x64])."""
    with _x64_lock:
        first = name not in _x64_warned
        _x64_warned.add(name)
    return first


# NOTE [One output of a JAX vjp]: JAX's pullback takes a cotangent with the structure of the
# function's output. Given a tuple of one array, it flattens the tuple on every call (a Python
# call of its ``is_leaf`` per node); given the array bare, as a direct ``jax.vjp(f, x)`` of one
# output is, it flattens one leaf. The flat function of vjp therefore returns its one output
# bare, and the pullback's ``one_cotangent`` (NOTE [Pullbacks of one output] in
# multiad/_api_ad.py) is JAX's own, which vjp_fn calls with the checked cotangent as it is.
def _bare(fun: Callable[..., Any]) -> Callable[..., Any]:
    """``fun`` returning its one output bare. A closure, not a partial: JAX reads the signature
    of what it transforms, and a partial's takes inspect ten times as long."""

    def bare(*xs: Any) -> Any:
        outs = fun(*xs)
        return outs[0] if len(outs) == 1 else outs

    return bare


def _one_output(pullback: Any) -> Any:
    """``pullback`` of a bare output as a pullback of a tuple of one cotangent, with JAX's own as
    ``one_cotangent`` (NOTE [One output of a JAX vjp])."""

    def pull(cts: Sequence[Any]) -> Any:
        return pullback(cts[0])

    pull.one_cotangent = pullback  # type: ignore[attr-defined]
    return pull


# The prepared calls' functions (NOTE [Prepared JAX transforms]), bound with functools.partial:
# a partial adds no Python frame of its own.
def _call(transform: Any, *args: Any) -> Any:
    return transform(*args)


def _grad_and_value(value_and_grad: Any, *args: Any) -> tuple[Any, Any]:
    value, grads = value_and_grad(*args)
    return grads, value


def _hvp(grad: Any, one: bool, primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Any, ...]:
    res = jax.jvp(grad, primals, tangents)[1]
    return (res,) if one else res  # type: ignore[no-any-return]


def _vhp(grad: Any, one: bool, primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Any, ...]:
    return jax.vjp(grad, *primals)[1](tangents[0] if one else tangents)  # type: ignore[no-any-return]


def _first_of_platform(name: str) -> list[Any]:
    """The first device of the platform ``name`` ("cpu", "gpu", "cuda"), as ``jax.devices(name)``
    gives it, in a list; none for a name JAX has no devices of. NumPy's ``device="cpu"`` and
    torch's ``device="cuda"`` are then the same device on this backend as on theirs."""
    if ":" in name:
        return []
    try:
        return list(jax.devices(name)[:1])
    except (RuntimeError, ValueError):
        return []
