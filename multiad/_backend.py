"""The backend contract.

A backend supplies a few primitives over *flat* functions: a function of positional arrays that
returns a tuple of arrays (and, with ``has_aux``, a pair ``(outputs, aux)``). Pytrees, ``argnums``,
``has_aux`` bookkeeping, argument checking and every derived transform live once in the core;
see ``multiad/_plan.py`` for how the core chooses among derivations from what a backend declares.

Primitives (a backend declares which it has with the ``has_*`` flags):

- ``vjp(fun, primals, has_aux) -> (outs, pullback, aux)``; ``pullback(cotangents) -> tuple``
  with one entry per primal.
- ``jvp(fun, primals, tangents, has_aux) -> (outs, tangent_outs, aux)``.
- ``vmap(fun, in_axes, chunk_size) -> batched_fun``; outputs are batched along axis 0. ``in_axes``
  has one entry per argument: an axis, or None for an array passed unbatched. ``batched_fun``
  may be called many times, each time with new arguments.

Optional native overrides, named in ``native`` (see :data:`NATIVE_OVERRIDES`): ``value_and_grad``
returns ``(value, grads, aux)``, ``grads`` one array per primal; ``jacrev`` and ``jacfwd`` return
``(blocks, aux)`` with ``blocks[i][j]`` of shape ``outs[i].shape + primals[j].shape``;
``linearize`` returns ``(outs, jvp_fn)`` with ``jvp_fn(*tangents)`` a tuple of arrays.

A backend whose framework compiles by tracing Python bytecode (torch.compile) overrides the
class method ``compiling`` so that multiad keeps its per-context state (the ``use_backend``
selection, its caches) out of traced code, which such a compiler cannot follow.

Custom derivative rules (``has_custom_rules``): ``custom_vjp(rule)`` and ``custom_jvp(rule)``
build the framework's own custom-rule mechanism from a rule given at the flat level and return
a flat function of the arrays (what the rule holds is described at ``Backend.custom_vjp`` and
``Backend.custom_jvp``). A backend that does not declare them raises
UnsupportedOperationError when it differentiates a custom function.

Arrays: ``asarray`` is required. ``is_array``, ``to_numpy``, ``eye`` and ``dtype_name`` have
defaults built from ``array_modules`` and the backend-neutral dispatch (``multiad/_ops.py``);
``default_dtype``, ``devices``, ``device_of`` and ``version`` describe the framework.

Framework facts the conformance suite asks for (never acted on by the backend unasked):
``compiler``/``compile`` (the framework's compiler, for instance ``jax.jit``),
``enable_float64`` (JAX's x64 switch: a backend never flips it itself),
``reproducible_float32`` (full-precision float32 matmuls on GPUs, TF32 off) and
``describe_device``. A backend module must not import its framework at import time: ``load()``
does that on first use, so that ``import multiad`` and listing backends stay cheap.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib.util
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from types import CodeType
from typing import Any, ClassVar

import numpy as np

from ._errors import AccuracyWarning, UnsupportedOperationError

#: The plugin API version this multiad implements. A backend declaring another major
#: version is listed as incompatible and refused.
API_VERSION = 1

FlatFun = Callable[..., Any]
Pullback = Callable[[tuple[Any, ...]], tuple[Any, ...]]

#: The transforms a backend may override natively (named in ``Backend.native``).
NATIVE_OVERRIDES = frozenset({"value_and_grad", "jacrev", "jacfwd", "linearize"})

TRANSFORMS = (
    "grad", "value_and_grad", "vjp", "jvp", "linearize", "vmap",
    "jacrev", "jacfwd", "jacobian", "hessian", "hvp", "vhp",
)  # fmt: skip


#: The ``compiling`` probes of the backend classes that define one (NOTE [Compiled regions]).
COMPILING_PROBES: list[Callable[[], bool]] = []
#: Called after a probe joins :data:`COMPILING_PROBES` (``multiad/_select.py`` keeps a shortcut).
ON_NEW_PROBE: list[Callable[[], None]] = []


# NOTE [Conversions name their call]: a warning about a conversion (the jax backend's float64
# input without x64: NOTE [float64 input without x64] in backends/jax) starts with the call, as
# every warning does ("grad(f): ..."), but ``Backend.asarray`` is not told the call. The core sets
# the call whose arguments, tangents or cotangents it converts (``multiad/_arrays.py``) around its
# ``asarray`` calls; a backend reads it with :meth:`Backend.converting_call`. Only the conversion
# path pays for it (a context variable set and reset per converted leaf), never a call whose
# arguments are the backend's arrays already.
CONVERTING: contextvars.ContextVar[str | None] = contextvars.ContextVar("multiad_converting", default=None)


class Backend:
    """Base class of every multiad backend, in-tree or third party.

    Subclasses set the class attributes below and implement the primitives they declare.
    An instance is created once per process by the registry; ``load()`` is called before the
    first primitive and must import the framework.
    """

    #: Name under which the backend is registered (``multiad.set_backend(name)``).
    name: ClassVar[str] = ""
    #: Plugin API version the backend was written against (compare :data:`API_VERSION`).
    api_version: ClassVar[int] = API_VERSION
    #: Importable module that must be installed for the backend to be available.
    framework: ClassVar[str] = ""
    #: Top-level module names of the backend's array classes, for inference without imports.
    array_modules: ClassVar[tuple[str, ...]] = ()
    #: Lower comes first when nothing selects a backend and the arrays do not tell.
    priority: ClassVar[int] = 100
    #: Declared primitives.
    has_vjp: ClassVar[bool] = False
    has_jvp: ClassVar[bool] = False
    has_vmap: ClassVar[bool] = False
    #: Whether ``vmap`` honours ``chunk_size`` itself (otherwise the core chunks).
    vmap_chunks: ClassVar[bool] = False
    #: Whether a Jacobian computed in chunks (``chunk_size``) is written chunk by chunk into one
    #: preallocated array through :meth:`write`; otherwise its chunks are joined at the end.
    #: Inside an enclosing transform the chunks are values it traces, and :meth:`write` must
    #: keep their derivative (torch's in-place writes, JAX's traced update); where the
    #: framework's writes store the values only, leave this False.
    # NOTE [Chunked Jacobians] in multiad/_derive.py
    writable: ClassVar[bool] = False
    #: Whether derivatives are exact up to rounding (False for finite differences).
    exact: ClassVar[bool] = True
    #: Whether ``multiad.numpy``'s creation functions give numpy's float64 on this backend even
    #: though :meth:`default_dtype` is float32: the framework's float32 default is a preference
    #: for new arrays, not a limit (TensorFlow; every backend whose ``framework`` is torch counts
    #: as declaring it). False: float data takes :meth:`default_dtype` (JAX without x64).
    # NOTE [Creation dtypes] in multiad/numpy/_creation.py
    creates_float64: ClassVar[bool] = False
    #: Natively overridden transforms (subset of value_and_grad, jacrev, jacfwd, linearize).
    native: ClassVar[frozenset[str]] = frozenset()
    #: Native overrides that also honour ``chunk_size`` (otherwise the core derives chunked calls).
    native_chunks: ClassVar[frozenset[str]] = frozenset()
    #: Public transforms the backend cannot perform at all; they raise UnsupportedOperationError.
    unsupported: ClassVar[frozenset[str]] = frozenset()
    #: Whether ``custom_vjp`` and ``custom_jvp`` build the framework's custom-rule mechanism.
    has_custom_rules: ClassVar[bool] = False
    #: A per-thread object whose ``active`` attribute the backend's own checks read while the
    #: user's function runs under one of its transforms (torch: the conversion guard), or None.
    #: The functions multiad hands to :meth:`prepare` set it around the user's function
    #: themselves (NOTE [One frame for the guard and the output check] in multiad/_prepared.py).
    active_flag: ClassVar[Any] = None
    #: Whether a forward-mode Jacobian asked for with ``chunk_size`` pushes its columns through
    #: the vjp of the (linear) pullback, computed once per call, rather than through ``jvp``: for
    #: a framework whose forward mode makes, per chunk, the zero tangent of every array ``f``
    #: closes over, in full. Needs ``has_vjp``.
    # NOTE [Linearize once] in multiad/_derive.py, NOTE [Chunked forward mode by the pullback]
    chunks_by_pullback: ClassVar[bool] = False
    #: Whether a chunked Jacobian pushes its last, smaller chunk with as many basis rows as the
    #: others (zero past the end), for a framework whose eager operations compile per shape,
    #: so that one compiled shape serves every chunk.
    # NOTE [A last chunk of the same shape] in multiad/_derive.py
    pads_last_chunk: ClassVar[bool] = False
    #: Whether a chunked Jacobian built while the framework traces a program (a new array is
    #: traced: :meth:`is_traced` of :meth:`zeros`, as under ``jax.jit``) runs its chunks as one
    #: loop of the framework's, :meth:`loop_chunks`, so that the program does not grow with the
    #: number of chunks and the compiler writes each chunk into the Jacobian in place.
    # NOTE [Rolled chunks] in multiad/_rolled.py
    rolls_chunks: ClassVar[bool] = False
    #: Whether a call of ``vmap`` costs much more than a loop over a small batch (a vmap that
    #: retraces or compiles per call): the core then loops for batches up to this size, and uses
    #: ``vmap`` only for larger ones. 0: always use ``vmap``.
    loop_below: ClassVar[int] = 0
    #: The name of the framework's compiler (``"jax.jit"``, ``"torch.compile"``, ``"tf.function"``),
    #: or None; :meth:`compile` applies it. The conformance suite runs its cases under it too.
    compiler: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        probe = cls.__dict__.get("compiling")
        if probe is not None:
            fn = probe.__func__ if isinstance(probe, classmethod) else probe
            if fn not in [getattr(p, "__func__", p) for p in COMPILING_PROBES]:
                COMPILING_PROBES.append(cls.compiling)
                for hook in ON_NEW_PROBE:
                    hook()

    # -- lifecycle -------------------------------------------------------------------------
    @classmethod
    def compiling(cls) -> bool:
        """Whether a compiler of this framework that traces Python (``torch.compile``) is tracing
        the current call; it must not load the framework. Where it says True, multiad keeps its
        per-context state (the ``use_backend`` selection, its caches) out of the traced code."""
        return False  # NOTE [Compiled regions] in multiad/_select.py

    @classmethod
    def load_imported(cls) -> bool:
        """Loads multiad's own backends whose frameworks are imported now, as the first multiad
        call of a process does, and the registered backends of this class (``cls``, exactly);
        returns True. For a :meth:`compiling` probe that finds its compiler tracing while its
        backend is not loaded yet (its framework imported after multiad's first call): loading
        and resolving the backend's operations is Python a compiler cannot trace, so the probe
        calls this, then answers True, and must itself run as ordinary Python under the compiler
        (torch: a function carrying the mark of ``torch.compiler.assume_constant_result``, as the
        torch backend's probe does). Imports no other plugin."""
        from . import _select  # imported by ``import multiad``; a cycle at module level

        return _select.load_imported(cls)  # NOTE [First use under a compiler] in multiad/_select.py

    def installed(self) -> bool:
        """Whether the framework can be imported, found without importing it."""
        return not self.framework or importlib.util.find_spec(self.framework) is not None

    def load(self) -> None:
        """Imports the framework. Called once, before the first primitive."""

    def version(self) -> str | None:
        """The framework's version, or None if unknown. May import the framework."""
        return None

    def devices(self) -> list[str]:
        """The devices the framework sees, for instance ``["cpu", "cuda:0"]``."""
        return ["cpu"]

    def device_of(self, x: Any) -> str:
        """The device an array lives on, as ``kind`` or ``kind:index`` in lower case (``"cpu"``,
        ``"cuda:0"``; GPUs as ``cuda`` or ``gpu``). The default reads ``x.device``: an object
        with ``type`` and ``index`` (torch), with ``platform`` and ``id`` (JAX), or a string,
        of which a TensorFlow-style ``/job:.../device:CPU:0`` gives ``cpu:0``. An array that
        records no device (None, or the empty string of a tensor inside ``tf.function``) is on the
        default device, given as ``"cpu"``."""
        dev = getattr(x, "device", None)
        if callable(dev):
            dev = dev()
        if dev is None or dev == "":
            return "cpu"  # NOTE [Arrays without a device]
        if not isinstance(dev, str):
            kind = getattr(dev, "type", None) or getattr(dev, "platform", None)
            index = getattr(dev, "index", None)
            index = getattr(dev, "id", None) if index is None else index
            if kind is None:
                dev = str(dev)
            else:
                return f"{kind}".lower() + ("" if index is None else f":{index}")
        if "device:" in dev:
            dev = dev.rpartition("device:")[2]
        return dev.lower()

    def describe_device(self, device: str) -> dict[str, Any]:
        """``model`` and ``driver`` of one of :meth:`devices`, for reports; unknown ones None."""
        return {"model": None, "driver": None}

    # -- arrays ----------------------------------------------------------------------------
    def is_array(self, x: Any) -> bool:
        """Whether ``x`` is one of this backend's arrays (including traced ones). The default
        accepts objects whose type's top-level module is in ``array_modules``."""
        return type(x).__module__.partition(".")[0] in self.array_modules

    def is_traced(self, x: Any) -> bool:
        """Whether array ``x`` is a value an enclosing transform of the framework differentiates
        or traces (a tracer, a wrapped or boxed value, a torch tensor that requires grad), as
        opposed to a concrete array. ``vmap``'s ``out_dims=None`` asks it of the batched
        arguments: an output declared unbatched is checked by its values, which a traced array
        does not have (a concrete output is compared through :meth:`to_numpy`, a traced one by the
        namespace's ``equal``/``isnan``/``logical_and``/``logical_or``/``all``). The default says
        False: right for a backend whose transforms pass concrete arrays (finite differences)."""
        return False  # NOTE [Unbatched outputs] in multiad/_api_vmap.py

    def asarray(self, x: Any, dtype: Any = None, device: Any = None) -> Any:
        """Converts numpy arrays, Python numbers and own arrays; avoids a copy where it can.
        ``dtype`` is None or a numpy dtype or its name (``"float32"``; ``multiad.numpy`` and the
        conformance suite pass names).
        ``device`` is None (the default device) or one of the strings :meth:`devices` lists."""
        raise NotImplementedError

    def to_numpy(self, x: Any) -> Any:
        """Converts one of this backend's arrays to a numpy array (on the host). A value that
        carries a derivative (inside a transformed function) must raise NonDifferentiableError
        rather than drop it. The default converts with the dispatch layer's ``to_numpy``."""
        from ._ops import do

        return do("to_numpy", x)

    def numpy_namespace(self) -> Any:
        """A module with numpy's functions for this backend's arrays (``tf.experimental.numpy``),
        which ``multiad.numpy`` calls with them, or None (the default). Called after
        :meth:`load`. Without one, ``multiad.numpy`` calls numpy's own functions, which reach
        arrays implementing ``__array_function__`` and ``__array_ufunc__`` (MyGrad's), and
        refuses arrays that do not, which numpy would convert, dropping their derivatives.
        multiad's own backends' arrays never come here: ``multiad.numpy`` has their functions
        itself."""
        return None  # NOTE [Plugin arrays in multiad.numpy] in multiad/numpy/_dispatch.py

    def stop_gradient(self, x: Any) -> Any:
        """``x``'s value as a constant of differentiation (``tf.stop_gradient``, a detached
        tensor), for ``multiad.numpy.stop_gradient`` of this backend's arrays where
        ``multiad.numpy`` does not know the framework (a plugin's). The default raises."""
        raise UnsupportedOperationError(
            f"mnp.stop_gradient: backend {self.name!r} defines no stop_gradient, so its arrays cannot be held "
            "constant; the backend's author can add Backend.stop_gradient (see the plugin guide)"
        )

    def snapshot(self, x: Any) -> Any:
        """A copy of array ``x`` that later in-place changes to ``x`` do not reach, so that a
        result computed later uses the value ``x`` had when the transform was called; the
        default copies numpy arrays and returns anything else as it is. Not called while a
        compiler traces the call."""
        return x.copy() if isinstance(x, np.ndarray) else x  # NOTE [Values at call time]

    def constant_argument(self, x: Any) -> Any:
        """Array ``x`` of this backend, a leaf of an argument ``f`` is given but not
        differentiated (outside ``argnums``, or a keyword argument), as ``f`` receives it at
        every evaluation of the call; the core calls it once per call and leaf, never for a
        differentiated leaf or an array ``f`` closes over. The default returns ``x`` unchanged.
        A backend that evaluates ``f`` many times per call (finite differences) can return a
        read-only view, so that ``f`` cannot change the caller's array or see another value at
        each evaluation; its :meth:`translate_error` then names the refused write."""
        return x  # NOTE [Arguments outside argnums] in multiad/_flat.py

    def eye(self, n: int, like: Any) -> Any:
        """An ``n`` by ``n`` identity with the dtype and device of ``like``. The default converts
        numpy's with :meth:`asarray`, on :meth:`device_of` ``like``."""
        import numpy as np

        return self.asarray(np.eye(n), dtype=self.dtype_name(like), device=self._placement_of(like))

    # NOTE [Arrays without a device]: TensorFlow's symbolic tensors (inside ``tf.function``)
    # have ``device == ""`` until the graph is placed. Read as a device name, the empty string
    # made :meth:`eye` (every Jacobian's basis) ask ``asarray(device="")``, which no backend
    # lists, so every Jacobian and Hessian under the compiler failed. Such an array goes where
    # the framework places new arrays by default, which ``asarray(device=None)`` asks for, and
    # :meth:`_placement_of` gives None for ``"cpu"``.
    def _placement_of(self, x: Any) -> str | None:
        dev = self.device_of(x)
        return None if dev.partition(":")[0] == "cpu" else dev

    def zeros(self, shape: tuple[int, ...], like: Any) -> Any:
        """A new array of zeros of ``shape`` with the dtype and device of ``like``."""
        from ._ops import do

        return do("zeros", shape, dtype=like.dtype, like=like)

    def identity_block(self, rows: tuple[int, int], cols: tuple[int, int], like: Any) -> Any:
        """Rows ``rows[0]:rows[1]`` and columns ``cols[0]:cols[1]`` of an identity matrix, with the
        dtype and device of ``like``: one chunk of the basis of a Jacobian computed in chunks
        (``chunk_size``). The default joins an :meth:`eye` with :meth:`zeros` around it."""
        # NOTE [Chunked Jacobians] in multiad/_derive.py
        (r0, r1), (c0, c1) = rows, cols
        lo, hi = max(r0, c0), min(r1, c1)
        if hi <= lo:
            return self.zeros((r1 - r0, c1 - c0), like)
        block = self.eye(hi - lo, like)
        block = self._padded(block, lo - c0, c1 - hi, 1, like)
        return self._padded(block, lo - r0, r1 - hi, 0, like)

    def _padded(self, block: Any, before: int, after: int, axis: int, like: Any) -> Any:
        """The 2-D ``block`` with ``before`` and ``after`` zeros added along ``axis``."""
        if not (before or after):
            return block

        def zeros(n: int) -> Any:
            shape = [int(d) for d in block.shape]
            shape[axis] = n
            return self.zeros(tuple(shape), like)

        parts = ([zeros(before)] if before else []) + [block] + ([zeros(after)] if after else [])
        return self.concatenate(parts, axis)

    def concatenate(self, parts: list[Any], axis: int) -> Any:
        """The arrays ``parts`` joined along ``axis``, as ``numpy.concatenate``."""
        from ._ops import do

        return do("concatenate", parts, axis=axis)

    def write(self, block: Any, matrix: tuple[int, int], start: tuple[int, int], value: Any) -> Any:
        """``block`` with the 2-D ``value`` written at ``start`` of ``block`` viewed as a
        ``matrix`` (rows, columns) in row-major order; only :attr:`writable` backends are asked.
        ``value`` may be a value an enclosing transform traces (a chunked Jacobian inside
        ``grad``), and the block returned must keep its derivative.
        The caller owns ``block`` and uses only the array returned. The default writes with
        ``__setitem__``, in place where ``block.reshape(matrix)`` is a view (else into the copy
        that reshape made, which is returned)."""
        (r, c), (k, m) = start, value.shape
        view = block.reshape(matrix)
        view[r : r + k, c : c + m] = value  # NOTE [Writes of traced chunks] in multiad/_derive.py
        return view.reshape(block.shape)

    def write_columns(self, block: Any, matrix: tuple[int, int], start: tuple[int, int], columns: Any) -> Any:
        """:meth:`write` of the transpose of the 2-D ``columns`` (one row per column written): a
        forward-mode chunk comes as columns. The default transposes and calls :meth:`write`;
        a framework whose transpose copies (eager JAX) can transpose inside its update."""
        from ._ops import do

        return self.write(block, matrix, start, do("transpose", columns))

    def read_chunk(self, x: Any, axis: int, start: Any, size: int) -> Any:
        """``size`` entries of ``x`` along ``axis`` from ``start``: a chunk of a batch that a chunked
        vmap run by :meth:`loop_chunks` reads, its ``start`` the loop's, which the framework's
        loop traces. Asked only of backends declaring :attr:`rolls_chunks`; the default slices,
        which takes a Python int."""
        # NOTE [Rolled vmap chunks] in multiad/_rolled.py
        return x[(slice(None),) * axis + (slice(start, start + size),)]

    def loop_chunks(
        self, total: int, chunk: int, body: Callable[[Any, Any, Any], Any], carry: Any, like: Any, first: int = 0
    ) -> Any:
        """The chunks of ``range(total)``, ``chunk`` indices each, from the ``first``-th on:
        ``carry = body(start, rows, carry)`` for each, and the last ``carry`` returned. ``start``
        is the chunk's first index; the last chunk starts at ``total - chunk`` (it overlaps the
        one before it where ``chunk`` does not divide ``total``), so that every chunk has one
        shape. ``rows`` is rows ``start:start + chunk`` of the ``total`` by ``total`` identity,
        dtype and device of ``like``. Asked only of backends declaring :attr:`rolls_chunks`, which
        run the loop as the framework's own (a traced ``start`` then reaches :meth:`write` and
        :meth:`write_columns`); the default is a Python loop."""
        # NOTE [Rolled chunks] in multiad/_rolled.py
        count = -(-total // chunk)
        for k in range(first, count):
            start = min(k * chunk, total - chunk)
            carry = body(start, self.identity_block((start, start + chunk), (0, total), like), carry)
        return carry

    def default_dtype(self) -> str:
        """The float dtype creation functions use when none is given."""
        return "float64"

    def dtype_name(self, x: Any) -> str:
        """The numpy-style name of ``x``'s dtype (``"float32"``, ``"int64"``, ...). The default
        takes the last part of its ``str`` (``torch.float32`` gives ``float32``), and the dtype's
        ``name`` where the ``str`` is a TensorFlow-style ``<dtype: 'float32'>``."""
        name = str(x.dtype).rsplit(".", 1)[-1]
        return name if name[:1] != "<" else str(x.dtype.name)

    # -- framework settings the conformance suite asks for -----------------------------------
    def compile(self, fun: Callable[..., Any]) -> Callable[..., Any]:
        """``fun`` (positional arrays in, a list of arrays out) under :attr:`compiler`."""
        raise NotImplementedError(f"backend {self.name!r} declares no compiler")

    def enable_float64(self) -> None:
        """Makes the framework compute in float64 when asked to (JAX's x64 switch). Called by
        the conformance suite, or by an application, never by the backend itself."""

    @contextlib.contextmanager
    def reproducible_float32(self, device: str) -> Iterator[None]:
        """Full-precision float32 matrix products on ``device`` while the context is open
        (TF32 off), restoring the previous settings afterwards."""
        yield

    def translate_error(self, exc: BaseException) -> str | None:
        """If ``exc`` means an operation could not be differentiated, a one-line reason."""
        return None

    # -- primitives ------------------------------------------------------------------------
    # NOTE [Nested primitives]: the primitives and native overrides are called with values an
    # outer transform traces (a Hessian differentiates a gradient; forward mode is derived as the
    # vjp of the pullback, whose cotangents are then traced too), so each must keep the
    # derivatives of its inputs, as the framework's higher-order mode does (``create_graph``), or
    # raise UnsupportedOperationError; the docstrings say so in a plugin author's words.
    def vjp(self, fun: FlatFun, primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Pullback, Any]:
        """``(outputs, pullback, aux)`` of the flat ``fun`` (positional arrays in, a tuple of
        arrays out; with ``has_aux``, a pair ``(outputs, aux)``) at ``primals``.

        ``pullback(cotangents)`` takes one cotangent per output and returns one array per primal
        (zeros for a primal an output does not depend on); it may be called any number of times.
        Nested use: the primals may be values an outer transform is tracing (a
        Hessian differentiates a gradient), and the pullback's cotangents may be too (multiad
        derives forward mode as the vjp of the pullback): outputs and gradients then carry the
        derivatives with respect to them, as the framework's higher-order mode does
        (``create_graph`` in torch.autograd). A framework without higher-order derivatives
        raises UnsupportedOperationError there, never returns values without their derivatives.
        """
        raise NotImplementedError

    def jvp(
        self, fun: FlatFun, primals: tuple[Any, ...], tangents: tuple[Any, ...], has_aux: bool
    ) -> tuple[Any, Any, Any]:
        """``(outputs, tangent_outputs, aux)`` of the flat ``fun`` at ``primals`` along
        ``tangents`` (one per primal, in its shape and dtype): one tangent output per output,
        zeros for an output that does not depend on the primals. Primals and tangents may be
        traced by an outer transform, as for :meth:`vjp`."""
        raise NotImplementedError

    def vmap(self, fun: FlatFun, in_axes: Sequence[int | None], chunk_size: int | None) -> FlatFun:
        """The flat ``fun`` mapped over axis ``in_axes[i]`` of argument ``i`` (None: passed
        unbatched to every element), its outputs batched along axis 0. The batched function is
        called again with new arguments and must use each call's values. With
        :attr:`vmap_chunks`, at most ``chunk_size`` elements at a time (None: all at once)."""
        raise NotImplementedError

    # -- optional native overrides -----------------------------------------------------------
    def value_and_grad(self, fun: FlatFun, primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        """``(value, grads, aux)`` of ``fun`` with one gradient per primal. Unlike the flat
        functions the primitives receive, this ``fun`` returns one scalar array, not a tuple (or
        ``(scalar, aux)`` with ``has_aux``). Asked when ``"value_and_grad"`` is in :attr:`native`."""
        raise NotImplementedError

    def jacrev(self, fun: FlatFun, primals: tuple[Any, ...], has_aux: bool, chunk_size: int | None) -> Any:
        """``(blocks, aux)`` for the flat ``fun``: ``blocks[i][j]`` of shape
        ``outs[i].shape + primals[j].shape``, in reverse mode. Asked only when ``"jacrev"`` is in
        :attr:`native` (and, with a ``chunk_size``, in :attr:`native_chunks`). Like the
        primitives it is differentiated by outer transforms (a Hessian is a Jacobian of it), as
        described at :meth:`vjp`."""
        raise NotImplementedError

    def jacfwd(self, fun: FlatFun, primals: tuple[Any, ...], has_aux: bool, chunk_size: int | None) -> Any:
        """As :meth:`jacrev`, in forward mode; asked when ``"jacfwd"`` is in :attr:`native`."""
        raise NotImplementedError

    def linearize(self, fun: FlatFun, primals: tuple[Any, ...]) -> tuple[Any, Callable[..., Any]]:
        """``(outs, jvp_fn)`` for the flat ``fun`` (no aux): ``jvp_fn(*tangents)`` returns a tuple
        with one tangent output per output, for any tangents, any number of times. Asked when
        ``"linearize"`` is in :attr:`native`."""
        raise NotImplementedError

    def prepare(
        self, transform: str, fun: Callable[..., Any], argnums: int | tuple[int, ...], chunk_size: int | None
    ) -> Callable[..., Any] | None:
        """The framework's own ``transform`` of ``fun`` built once, or None (the default) for none:
        multiad asks once per transformed function and then calls the result for every call,
        in place of its own derivation.

        ``fun`` takes the user's positional arguments as they are and returns one array or a
        tuple of arrays. ``transform`` is ``"jacrev"`` (returning, per output array, one block for
        an int ``argnums`` or a tuple of blocks for a tuple; one output array gives its row bare),
        ``"jacfwd"`` (the same results; asked only of a backend without ``jvp`` and ``vmap``,
        for which multiad would otherwise compute one column at a time, or of one whose own
        ``jacfwd`` is native),
        ``"hessian"`` (forward-over-reverse; per output array a block, or a tuple of tuples of
        blocks for a tuple ``argnums``), ``"grad_and_value"`` (``fun`` returns one scalar; returning
        ``(grads, value)``, the gradient bare for an int ``argnums``), or ``"hvp"``/``"vhp"``
        (``fun`` returns one scalar; a function of ``(primals, tangents)`` returning a tuple with
        one product per primal, forward-over-reverse or reverse-over-reverse). The result runs
        the backend's own guards and locks, as its primitives do, except :attr:`active_flag`,
        which ``fun`` sets itself.

        While a compiler that traces Python traces the call (this backend's ``compiling`` probe),
        ``prepare`` is asked inside the trace, for each traced call, where
        :meth:`prepare_traced` gives nothing: then also for ``"jacfwd"`` and for ``"vjp"`` (a
        function of the primals returning ``(out, pullback)``, the framework's own vjp of all of
        them), and the result must be code the compiler traces.
        """
        # NOTE [Prepared calls] in multiad/_prepared.py, NOTE [Columns by a loop], and NOTE
        # [Prepared calls under a compiler] in multiad/_prepared_traced.py.
        return None

    def prepare_traced(
        self, transform: str, fun: Callable[..., Any], argnums: int | tuple[int, ...], chunk_size: int | None
    ) -> Callable[..., Any] | None:
        """:meth:`prepare` for calls a compiler that traces Python (this backend's ``compiling``
        probe) traces: asked outside the trace, once per kind of call, for the transform the
        compiler then traces on every traced call. It must be code the compiler traces (no
        locks, no retries), and ``fun``'s first two arguments are passed through, not
        differentiated (``argnums`` counts them): the user's function is one of them, so the
        transform holds none. ``transform`` is ``"jacrev"``, ``"jacfwd"``, ``"hessian"`` or
        ``"grad_and_value"``, with :meth:`prepare`'s results. The default, None, has each traced
        call build the transform by :meth:`prepare`, which the compiler then traces too."""
        return None  # NOTE [Transforms built outside the trace] in multiad/_prepared_traced.py

    # -- custom derivative rules (has_custom_rules) --------------------------------------------
    def custom_vjp(self, rule: Any) -> FlatFun:
        """A flat function computing ``rule.fun`` whose reverse-mode derivative is ``rule.fwd``
        then ``rule.bwd``, built with the framework's own custom-rule mechanism.

        The rule is one call's rule at the flat level: ``rule.fun(*xs)`` returns a tuple of output arrays;
        ``rule.fwd(*xs)`` returns ``(outs, residuals)``, both tuples of arrays;
        ``rule.bwd(residuals, cts)`` takes those residuals and one cotangent per output and
        returns one entry per ``xs``, ``None`` for a zero derivative. The function returned is
        called with the differentiated arrays ``xs`` and returns the tuple of outputs.

        The rule also has ``name`` (the custom function's, to start messages with), ``backend``
        (this backend), ``nondiff`` (the ``nondiff_argnums`` arguments, as passed) and a check
        for frameworks whose mechanism takes values a function closes over for constants
        (torch's ``autograd.Function``, autograd's primitives): ``rule.refuse_closed_over(carries)``
        raises InvalidArgumentError where the function or a rule closes over a value for which
        ``carries(value)`` (the backend's test of a value being differentiated) is true; call it
        where the rule is applied to values being differentiated."""
        raise NotImplementedError  # NOTE [Custom rules at the flat level] in multiad/_custom_rules.py

    def custom_jvp(self, rule: Any) -> FlatFun:
        """A flat function computing ``rule.fun`` whose forward-mode derivative is ``rule.jvp``
        (and whose reverse-mode derivative is its transpose), built with the framework's mechanism.

        ``rule.fun(*xs)`` returns a tuple of output arrays and ``rule.jvp(xs, ts)`` returns
        ``(outs, tangent_outs)`` for tuples of primals and tangents (zeros as the tangent of an
        integer or boolean output, which a framework wanting its own form replaces: float0 on
        JAX, ``None`` in torch's ``jvp``, left out of torch's transpose); the rule's jvp is linear in
        ``ts``, so a framework without forward-mode rules can transpose it for reverse mode: run
        that transposition (the vjp of ``ts -> rule.jvp(xs, ts)[1]``) inside ``with
        rule.transposing():``, which raises UnsupportedOperationError where a rule that calls its
        own function on the tangents would be transposed within itself without end. The rule
        has :meth:`custom_vjp`'s ``name``, ``backend``, ``nondiff`` and ``refuse_closed_over``."""
        raise NotImplementedError  # NOTE [Custom rules at the flat level] in multiad/_custom_rules.py

    # -- helpers for implementations -------------------------------------------------------------
    def converting_call(self) -> str | None:
        """The call (``"grad(f)"``) whose argument, tangent or cotangent multiad is converting
        with :meth:`asarray`, for a warning :meth:`asarray` gives to start with; None where
        ``asarray`` was called otherwise."""
        return CONVERTING.get()  # NOTE [Conversions name their call]

    @staticmethod
    def read_only_view(x: Any) -> Any:
        """A read-only view of NumPy array ``x`` (anything else as it is), for a
        :meth:`constant_argument` that keeps ``f`` from changing the caller's array: a backend
        that evaluates ``f`` several times per call (finite differences, a loop over a batch)
        must not let one evaluation change what the next one sees."""
        from ._read_only import read_only_view

        return read_only_view(x)

    @staticmethod
    def refused_write(exc: BaseException) -> str | None:
        """For :meth:`translate_error`: the reason to give where NumPy refused a write into an
        array from :meth:`read_only_view` (f changed an argument in place, and how to change a
        copy instead), or None for any other error."""
        from ._read_only import refused_write

        return refused_write(exc)

    @staticmethod
    def numpy_function(name: str, framework: str) -> Callable[..., Any]:
        """The function ``multiad.numpy.<name>`` runs on arrays of ``framework`` (``"torch"``,
        ``"jax"``, ``"autograd"`` or ``"numpy"``: the frameworks ``multiad.numpy`` has functions
        for itself), with numpy's signature and semantics but without the dispatch on argument
        types: for a backend over one of these frameworks that hands a numpy function to
        ``multiad.numpy`` from a hook of its own, many times per call of ``f``, where the arrays'
        framework is known (the torch backend's ``torch.Tensor.__array_ufunc__`` runs
        ``numpy.multiply(a, t)`` of a numpy array ``a`` as ``multiad.numpy.multiply``). Imports
        the framework; call it from :meth:`load`, once per name. ValueError for a name
        ``multiad.numpy`` lacks on that framework."""
        # NOTE [numpy arrays inside f] in backends/torch/multiad_torch/_numpy_operands.py
        from .numpy import _dispatch

        if framework not in ("torch", "jax", "autograd", "numpy"):
            raise ValueError(
                f"Backend.numpy_function({name!r}, {framework!r}): framework must be 'torch', 'jax', 'autograd' or "
                "'numpy'; a plugin's own arrays run its numpy_namespace()"
            )
        found = _dispatch.lookup(framework, name)
        if found is None:
            raise ValueError(
                f"Backend.numpy_function({name!r}, {framework!r}): multiad.numpy has no {name} for {framework}"
            )
        return found

    @staticmethod
    def traced_callbacks() -> tuple[CodeType, ...]:
        """The code objects of multiad's functions that a transform :meth:`prepare` or
        :meth:`prepare_traced` returns runs between the framework and the user's function (one of
        them is the function the framework's transform differentiates; it calls ``f`` and checks
        its output), and of no other function. The same tuple for the whole process; reading it costs nothing per call.

        For a compiler that compiles Python frames by code object: where the framework runs its
        transform eagerly after a graph break in ``f``, it starts these functions as frames of
        their own, and a backend may tell its compiler not to compile them (the torch backend
        does: its transform then runs eagerly, with ``f`` as ordinary Python)."""
        # NOTE [Callbacks run eagerly after a graph break] in backends/torch/multiad_torch/_callbacks.py
        from . import _prepared  # imported by ``import multiad``; a cycle at module level

        return _prepared.CALLBACK_CODES

    @staticmethod
    def in_traced_transform() -> bool:
        """Whether the user's function runs under one of multiad's transforms in a call that a
        compiler is tracing (as :attr:`active_flag` says in a call that runs eagerly). The
        functions multiad hands to :meth:`prepare` and :meth:`prepare_traced` mark this, not the
        per-thread flag, while a compiler traces them: a compiler that replays a traced store
        after every compiled call replays it as one module attribute's store. Read while a
        compiler traces; False outside every trace."""
        # NOTE [The flag set in a traced call] in multiad/_prepared_traced.py
        from . import _prepared_traced  # imported by ``import multiad``; a cycle at module level

        return _prepared_traced._in_f

    def warn_accuracy(self, message: str) -> None:
        """Warns :class:`multiad.AccuracyWarning` with ``message`` (which starts with the call),
        attributed to the first caller outside multiad and this backend's package."""
        internal = (_package_dir(Backend), _package_dir(type(self)))
        frame, level = sys._getframe(1), 2  # stacklevel 2 is the caller of this method
        while frame is not None and frame.f_code.co_filename.startswith(internal):
            frame, level = frame.f_back, level + 1  # type: ignore[assignment]
        warnings.warn(AccuracyWarning(message), stacklevel=level)

    def __repr__(self) -> str:
        return f"<multiad backend {self.name!r}>"


def _package_dir(cls: type) -> str:
    """The directory of the top-level package that defines ``cls``, with a trailing separator."""
    top = sys.modules.get(cls.__module__.split(".")[0])
    path = getattr(top, "__file__", None) or ""
    return os.path.dirname(path) + os.sep if path else "\0"
