"""Bad inputs give the same multiad error on every backend.

Each case is a call with one thing wrong. On each of the four backends it must raise the named
:class:`multiad.MultiADError` subclass (which also derives from the matching built-in), with a
message that starts with the call (``grad(square): ...``), describes the value seen and says how
to fix it; and the message is the same on every backend apart from the backend's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp
from multiad import (
    InvalidArgumentError,
    InvalidTypeError,
    MixedBackendError,
    MultiADError,
    NonDifferentiableError,
    UnsupportedOperationError,
)
from multiad._backend import TRANSFORMS

BACKENDS = ("torch", "jax", "autograd", "numpy")
BUILTIN = {
    InvalidArgumentError: ValueError,
    InvalidTypeError: TypeError,
    MixedBackendError: TypeError,
    multiad.BackendError: LookupError,
    UnsupportedOperationError: NotImplementedError,
    NonDifferentiableError: TypeError,
}

X = np.array([1.0, 2.0])
XI = np.array([1, 2])


class _Unregistered:
    """A container multiad does not know (not registered as a pytree node)."""

    a = np.ones(2)


def total(x: Any) -> Any:
    return mnp.sum(x * x)


def total2(x: Any, y: Any) -> Any:
    return mnp.sum(x * y)


def double(x: Any) -> Any:
    return 2.0 * x


def pair(x: Any) -> Any:
    return (2.0 * x, x * x)


def with_aux(x: Any) -> Any:
    return mnp.sum(x), {"n": 1}


def no_pair(x: Any) -> Any:
    return mnp.sum(x)


def triple(x: Any) -> Any:
    return mnp.sum(x), 1, 2


def const_int(x: Any) -> Any:
    return 3


def argmax(x: Any) -> Any:
    return mnp.argmax(x)


def argsort(x: Any) -> Any:
    return mnp.argsort(x)


def positive(x: Any) -> Any:
    return mnp.all(x > 0)


@dataclass(frozen=True)
class Bad:
    """One bad call: ``run(backend_name)`` must raise ``error`` with ``prefix`` and ``parts``."""

    id: str
    run: Callable[[str], Any]
    error: type[MultiADError]
    prefix: str
    parts: tuple[str, ...]


def _vjp_fn(b: str, f: Callable[..., Any] = double) -> Any:
    return multiad.vjp(f, X, backend=b)[1]


def _lin_fn(b: str) -> Any:
    return multiad.linearize(double, X, backend=b)[1]


NON_SCALAR = ("f must return a scalar", "got shape (2,)", "use jacrev or vjp")
NON_SCALAR_2ND = ("f must return a scalar", "got shape (2,)", "hessian(f) (jacfwd(jacrev(f)), any output)")
ARGNUMS_TYPE = ("argnums must be an int or a non-empty tuple of ints",)
DTYPE = ("derivatives need floating-point inputs", "multiad.asarray(x, dtype='float64')")
OUT_DTYPE = ("only floating-point outputs have derivatives", "return a float (1.0 rather than 1", "has_aux=True")
AUX = ("has_aux=True requires f to return a pair (output, aux)", "return (output, aux)")

CASES = [
    # -- non-scalar output ------------------------------------------------------------------
    Bad("grad-nonscalar", lambda b: multiad.grad(double, backend=b)(X), InvalidArgumentError, "grad(double): ", NON_SCALAR),
    Bad("vag-nonscalar", lambda b: multiad.value_and_grad(double, backend=b)(X), InvalidArgumentError, "value_and_grad(double): ", NON_SCALAR),
    Bad("grad-tuple-out", lambda b: multiad.grad(pair, backend=b)(X), InvalidArgumentError, "grad(pair): ", ("f must return a scalar", "(2,), (2,)")),
    Bad("hvp-nonscalar", lambda b: multiad.hvp(double, (X,), (X,), backend=b), InvalidArgumentError, "hvp(double): ", NON_SCALAR_2ND),
    Bad("vhp-nonscalar", lambda b: multiad.vhp(double, (X,), (X,), backend=b), InvalidArgumentError, "vhp(double): ", NON_SCALAR_2ND),
    # -- argnums ----------------------------------------------------------------------------
    Bad("argnums-range", lambda b: multiad.grad(total, argnums=3, backend=b)(X), InvalidArgumentError, "grad(total): ", ("argnums=3 is out of range for 1 positional argument", "use positions 0 to 0")),
    Bad("argnums-range-neg", lambda b: multiad.grad(total2, argnums=-3, backend=b)(X, X), InvalidArgumentError, "grad(total2): ", ("argnums=-3 is out of range for 2", "0 to 1")),
    Bad("argnums-range-tuple", lambda b: multiad.jacrev(total2, argnums=(0, 2), backend=b)(X, X), InvalidArgumentError, "jacrev(total2): ", ("argnums=(0, 2) is out of range",)),
    Bad("argnums-range-hessian", lambda b: multiad.hessian(total, argnums=1, backend=b)(X), InvalidArgumentError, "hessian(total): ", ("argnums=1 is out of range",)),
    # keyword arguments are not differentiated: "use positions 0 to -1" said nothing of them
    Bad("argnums-kwargs-only", lambda b: multiad.grad(total, backend=b)(x=X), InvalidArgumentError, "grad(total): ", ("argnums=0 names a positional argument, but f was called with none", "pass the arguments to differentiate positionally")),
    Bad("argnums-no-args-jacrev", lambda b: multiad.jacrev(lambda: X, backend=b)(), InvalidArgumentError, "jacrev(<lambda>): ", ("f was called with none",)),
    Bad("argnums-dup", lambda b: multiad.grad(total2, argnums=(0, 0), backend=b)(X, X), InvalidArgumentError, "grad(total2): ", ("argnums=(0, 0) names an argument twice", "list each once")),
    # NOTE [Arguments without arrays]: the same error, saying what to change, for every transform
    Bad("argnums-no-arrays", lambda b: multiad.grad(total2, argnums=0, backend=b)(None, X), InvalidArgumentError, "grad(total2): ", ("argument 0 holds no arrays to differentiate", "give argnums the position of an argument that holds arrays")),
    Bad("argnums-no-arrays-empty-tuple", lambda b: multiad.grad(total2, argnums=(0, 1), backend=b)(X, ()), InvalidArgumentError, "grad(total2): ", ("argument 1 holds no arrays to differentiate", "leave it out of argnums (argnums=0)")),
    Bad("argnums-no-arrays-empty-dict-jacrev", lambda b: multiad.jacrev(total2, argnums=(0, 1), backend=b)(X, {}), InvalidArgumentError, "jacrev(total2): ", ("argument 1 holds no arrays to differentiate", "leave it out of argnums (argnums=0)")),
    Bad("argnums-no-arrays-jacfwd", lambda b: multiad.jacfwd(total2, argnums=1, backend=b)(X, []), InvalidArgumentError, "jacfwd(total2): ", ("argument 1 holds no arrays to differentiate", "give argnums the position")),
    Bad("argnums-no-arrays-hessian", lambda b: multiad.hessian(total2, argnums=(1, 0), backend=b)(X, None), InvalidArgumentError, "hessian(total2): ", ("argument 1 holds no arrays to differentiate", "leave it out of argnums (argnums=0)")),
    Bad("argnums-no-arrays-vjp", lambda b: multiad.vjp(total2, (), X, backend=b), InvalidArgumentError, "vjp(total2): ", ("primal 0 holds no arrays to differentiate", "give f the others in a closure")),
    Bad("argnums-dup-neg", lambda b: multiad.jacfwd(total2, argnums=(1, -1), backend=b)(X, X), InvalidArgumentError, "jacfwd(total2): ", ("names an argument twice",)),
    Bad("argnums-float", lambda b: multiad.grad(total, argnums=0.0, backend=b)(X), InvalidTypeError, "grad(total): ", (*ARGNUMS_TYPE, "got 0.0")),  # type: ignore[arg-type]
    Bad("argnums-str", lambda b: multiad.value_and_grad(total, argnums="0", backend=b)(X), InvalidTypeError, "value_and_grad(total): ", (*ARGNUMS_TYPE, "got '0'")),  # type: ignore[arg-type]
    Bad("argnums-empty", lambda b: multiad.jacrev(total, argnums=(), backend=b)(X), InvalidTypeError, "jacrev(total): ", (*ARGNUMS_TYPE, "got ()")),
    Bad("argnums-bool", lambda b: multiad.grad(total, argnums=True, backend=b)(X), InvalidTypeError, "grad(total): ", (*ARGNUMS_TYPE, "got True")),
    Bad("argnums-tuple-float", lambda b: multiad.hessian(total2, argnums=(0, 1.0), backend=b)(X, X), InvalidTypeError, "hessian(total2): ", (*ARGNUMS_TYPE, "got (0, 1.0)")),  # type: ignore[arg-type]
    Bad("argnums-jacobian-str", lambda b: multiad.jacobian(total, argnums="a", backend=b)(X), InvalidTypeError, "jacobian(total): ", ARGNUMS_TYPE),  # type: ignore[arg-type]
    # -- vmap in_dims / out_dims / batch sizes ----------------------------------------------
    Bad("in_dims-length", lambda b: multiad.vmap(total2, in_dims=(0,), backend=b)(X, X), InvalidArgumentError, "vmap(total2): ", ("in_dims has 1 entries but f got 2 positional arguments", "None for an unbatched one")),
    Bad("in_dims-str", lambda b: multiad.vmap(double, in_dims="0", backend=b)(X), InvalidTypeError, "vmap(double): ", ("in_dims entries must be ints or None, got '0'", "give an axis number")),
    Bad("in_dims-float", lambda b: multiad.vmap(total2, in_dims=(0, 0.5), backend=b)(X, X), InvalidTypeError, "vmap(total2): ", ("in_dims entries must be ints or None, got 0.5",)),
    Bad("in_dims-bool", lambda b: multiad.vmap(double, in_dims=True, backend=b)(X), InvalidTypeError, "vmap(double): ", ("got True",)),
    # a dict (or any container but a tuple or list) as the whole in_dims: JAX and torch.func refuse it
    Bad("in_dims-dict", lambda b: multiad.vmap(lambda p: p["a"], in_dims={"a": 0}, backend=b)({"a": X}), InvalidTypeError, "vmap(<lambda>): ", ("in_dims must be an int, None, or a tuple with one entry per positional argument", "got {'a': 0}", "in_dims=({'a': 0},)")),
    Bad("in_dims-axis", lambda b: multiad.vmap(double, in_dims=1, backend=b)(X), InvalidArgumentError, "vmap(double): ", ("in_dims maps axis 1 of leaf 0", "shape (2,)", "use an axis that exists")),
    Bad("in_dims-axis-neg", lambda b: multiad.vmap(double, in_dims=-2, backend=b)(X), InvalidArgumentError, "vmap(double): ", ("in_dims maps axis -2",)),
    Bad("in_dims-tree", lambda b: multiad.vmap(lambda p: p[0], in_dims=((0, 0, 0),), backend=b)((X, X)), InvalidArgumentError, "vmap(<lambda>): ", ("in_dims[0]=(0, 0, 0) does not match argument 0", "tree prefix")),
    Bad("out_dims-str", lambda b: multiad.vmap(double, out_dims="a", backend=b)(X), InvalidTypeError, "vmap(double): ", ("out_dims entries must be ints or None, got 'a'", "one per output")),
    Bad("out_dims-none-varies", lambda b: multiad.vmap(double, out_dims=None, backend=b)(X), InvalidArgumentError, "vmap(double): ", ("out_dims=None asks for output leaf 0 unbatched (None), but it varies over the batch", "give it an int out_dims")),
    Bad("out_dims-axis", lambda b: multiad.vmap(double, out_dims=1, backend=b)(X), InvalidArgumentError, "vmap(double): ", ("puts the batch axis at 1 of an output with 1 dims", "use an axis from -1 to 0")),
    Bad("out_dims-length", lambda b: multiad.vmap(pair, out_dims=(0, 0, 0), backend=b)(X), InvalidArgumentError, "vmap(pair): ", ("out_dims=(0, 0, 0) does not match the output", "tree prefix of the output")),
    Bad("batch-unequal", lambda b: multiad.vmap(total2, backend=b)(X, np.ones(3)), InvalidArgumentError, "vmap(total2): ", ("mapped axes must all have the same size", "leaf 0 axis 0 has size 2", "leaf 1 axis 0 has size 3", "equal batch sizes")),
    Bad("batch-unequal-axis", lambda b: multiad.vmap(total2, in_dims=(1, 0), backend=b)(np.ones((2, 4)), np.ones((3, 2))), InvalidArgumentError, "vmap(total2): ", ("axis 1 has size 4", "axis 0 has size 3")),
    Bad("vmap-unmapped", lambda b: multiad.vmap(double, in_dims=None, backend=b)(X), InvalidArgumentError, "vmap(double): ", ("in_dims maps no array argument",)),
    Bad("vmap-kwargs-only", lambda b: multiad.vmap(double, backend=b)(x=X), InvalidArgumentError, "vmap(double): ", ("in_dims maps no array argument", "keyword arguments are passed to f unbatched", "pass the batched arrays positionally")),
    Bad("vmap-chunk", lambda b: multiad.vmap(double, chunk_size=0, backend=b)(X), InvalidArgumentError, "vmap(double): ", ("chunk_size must be None or a positive int, got 0",)),
    Bad("jacrev-chunk", lambda b: multiad.jacrev(double, chunk_size=-1, backend=b)(X), InvalidArgumentError, "jacrev(double): ", ("chunk_size must be None or a positive int",)),
    Bad("jacobian-mode", lambda b: multiad.jacobian(double, mode="forward", backend=b)(X), InvalidArgumentError, "jacobian(double): ", ("mode must be one of ('auto', 'fwd', 'rev'), got 'forward'",)),
    # -- integer, boolean, complex inputs (NOTE [Conversion policy]) -------------------------
    Bad("int-grad", lambda b: multiad.grad(total, backend=b)(XI), InvalidTypeError, "grad(total): ", ("argument 0 has dtype int64", *DTYPE)),
    Bad("bool-grad", lambda b: multiad.grad(total, backend=b)(np.array([True, False])), InvalidTypeError, "grad(total): ", ("argument 0 has dtype bool", *DTYPE)),
    Bad("pyint-grad", lambda b: multiad.grad(total, backend=b)(3), InvalidTypeError, "grad(total): ", ("argument 0 has dtype int64", *DTYPE)),
    # a leaf of several in one argument is named by its path, not by the argument alone
    Bad("int-leaf-of-dict", lambda b: multiad.grad(lambda p: total(p["a"]), backend=b)({"a": X, "n": XI}), InvalidTypeError, "grad(<lambda>): ", ("argument 0 at ['n'] has dtype int", *DTYPE)),
    Bad("int-leaf-of-nested", lambda b: multiad.jacrev(lambda p: p[0], backend=b)((X, [X, XI])), InvalidTypeError, "jacrev(<lambda>): ", ("argument 0 at [1][1] has dtype int",)),
    Bad("int-argnums1", lambda b: multiad.grad(total2, argnums=1, backend=b)(X, XI), InvalidTypeError, "grad(total2): ", ("argument 1 has dtype int64",)),
    Bad("int-vjp", lambda b: multiad.vjp(double, XI, backend=b), InvalidTypeError, "vjp(double): ", ("argument 0 has dtype int64", *DTYPE)),
    Bad("int-jvp", lambda b: multiad.jvp(double, (XI,), (X,), backend=b), InvalidTypeError, "jvp(double): ", ("argument 0 has dtype int64",)),
    Bad("int-linearize", lambda b: multiad.linearize(double, XI, backend=b), InvalidTypeError, "linearize(double): ", ("dtype int64",)),
    Bad("int-jacrev", lambda b: multiad.jacrev(double, backend=b)(XI), InvalidTypeError, "jacrev(double): ", ("dtype int64",)),
    Bad("bool-jacfwd", lambda b: multiad.jacfwd(double, backend=b)(np.array([True])), InvalidTypeError, "jacfwd(double): ", ("dtype bool",)),
    Bad("int-hessian", lambda b: multiad.hessian(total, backend=b)(XI), InvalidTypeError, "hessian(total): ", ("dtype int64",)),
    Bad("int-hvp", lambda b: multiad.hvp(total, (XI,), (XI,), backend=b), InvalidTypeError, "hvp(total): ", ("dtype int64",)),
    Bad("complex-grad", lambda b: multiad.grad(total, backend=b)(X.astype(complex)), InvalidTypeError, "grad(total): ", ("dtype complex128", "split it into real and imaginary parts")),
    Bad("str-grad", lambda b: multiad.grad(total, backend=b)("x"), InvalidTypeError, "grad(total): ", ("argument 0 is a str, not an array",)),
    Bad("unregistered-grad", lambda b: multiad.grad(total, backend=b)(_Unregistered()), InvalidTypeError, "grad(total): ", ("argument 0 is a _Unregistered, not an array", "multiad.register_pytree_node")),
    # -- integer, boolean, complex outputs (NOTE [Outputs must be floats]) --------------------
    Bad("out-pyint-grad", lambda b: multiad.grad(const_int, backend=b)(X), InvalidTypeError, "grad(const_int): ", ("f's output has integer dtype int64", *OUT_DTYPE)),
    Bad("out-int-grad", lambda b: multiad.grad(argmax, backend=b)(X), InvalidTypeError, "grad(argmax): ", ("f's output has integer dtype int64", *OUT_DTYPE)),
    Bad("out-bool-grad", lambda b: multiad.grad(positive, backend=b)(X), InvalidTypeError, "grad(positive): ", ("f's output has boolean dtype bool", *OUT_DTYPE)),
    Bad("out-int-vag", lambda b: multiad.value_and_grad(const_int, backend=b)(X), InvalidTypeError, "value_and_grad(const_int): ", OUT_DTYPE),
    Bad("out-int-hessian", lambda b: multiad.hessian(const_int, backend=b)(X), InvalidTypeError, "hessian(const_int): ", OUT_DTYPE),
    Bad("out-int-hvp", lambda b: multiad.hvp(const_int, (X,), (X,), backend=b), InvalidTypeError, "hvp(const_int): ", OUT_DTYPE),
    Bad("out-int-vhp", lambda b: multiad.vhp(argmax, (X,), (X,), backend=b), InvalidTypeError, "vhp(argmax): ", OUT_DTYPE),
    Bad("out-int-vjp", lambda b: multiad.vjp(argsort, X, backend=b), InvalidTypeError, "vjp(argsort): ", OUT_DTYPE),
    Bad("out-int-jacrev", lambda b: multiad.jacrev(argsort, backend=b)(X), InvalidTypeError, "jacrev(argsort): ", OUT_DTYPE),
    Bad("out-int-jacfwd", lambda b: multiad.jacfwd(argsort, backend=b)(X), InvalidTypeError, "jacfwd(argsort): ", OUT_DTYPE),
    Bad("out-int-jvp", lambda b: multiad.jvp(argsort, (X,), (X,), backend=b), InvalidTypeError, "jvp(argsort): ", OUT_DTYPE),
    Bad("out-int-linearize", lambda b: multiad.linearize(argsort, X, backend=b), InvalidTypeError, "linearize(argsort): ", OUT_DTYPE),
    Bad("out-int-leaf", lambda b: multiad.jacrev(lambda x: (2.0 * x, argsort(x)), backend=b)(X), InvalidTypeError, "jacrev(<lambda>): ", ("leaf 1 of f's output has integer dtype int64", *OUT_DTYPE)),
    Bad("out-complex-jacrev", lambda b: multiad.jacrev(lambda x: x * (1 + 2j), backend=b)(X), InvalidTypeError, "jacrev(<lambda>): ", ("f's output has complex dtype complex128", "complex differentiation is not supported")),
    # -- has_aux ----------------------------------------------------------------------------
    Bad("aux-array", lambda b: multiad.grad(no_pair, has_aux=True, backend=b)(X), InvalidArgumentError, "grad(no_pair): ", (*AUX, "got a single array")),
    Bad("aux-triple", lambda b: multiad.grad(triple, has_aux=True, backend=b)(X), InvalidArgumentError, "grad(triple): ", (*AUX, "got a tuple of length 3")),
    Bad("aux-vag", lambda b: multiad.value_and_grad(no_pair, has_aux=True, backend=b)(X), InvalidArgumentError, "value_and_grad(no_pair): ", AUX),
    Bad("aux-vjp", lambda b: multiad.vjp(double, X, has_aux=True, backend=b), InvalidArgumentError, "vjp(double): ", (*AUX, "got a single array")),
    Bad("aux-jvp", lambda b: multiad.jvp(double, (X,), (X,), has_aux=True, backend=b), InvalidArgumentError, "jvp(double): ", AUX),
    Bad("aux-jacrev", lambda b: multiad.jacrev(double, has_aux=True, backend=b)(X), InvalidArgumentError, "jacrev(double): ", AUX),
    Bad("aux-jacfwd", lambda b: multiad.jacfwd(double, has_aux=True, backend=b)(X), InvalidArgumentError, "jacfwd(double): ", AUX),
    Bad("aux-jacobian", lambda b: multiad.jacobian(triple, has_aux=True, backend=b)(X), InvalidArgumentError, "jacobian(triple): ", (*AUX, "length 3")),
    # -- tangents and cotangents ------------------------------------------------------------
    Bad("ct-shape", lambda b: _vjp_fn(b)(np.ones(3)), InvalidArgumentError, "vjp(double) vjp_fn: ", ("cotangent leaf 0 has shape (3,), expected (2,)", "shaped like the matching leaf of the outputs")),
    Bad("ct-structure", lambda b: _vjp_fn(b)((X,)), InvalidArgumentError, "vjp(double) vjp_fn: ", ("cotangent has structure", "structure of the outputs")),
    Bad("ct-structure-pair", lambda b: _vjp_fn(b, pair)(X), InvalidArgumentError, "vjp(pair) vjp_fn: ", ("cotangent has structure",)),
    Bad("ct-dtype", lambda b: _vjp_fn(b)(X.astype(np.float32)), InvalidTypeError, "vjp(double) vjp_fn: ", ("cotangent leaf 0 has dtype float32, expected float64", "multiad.asarray(t, dtype='float64')")),
    Bad("ct-int", lambda b: _vjp_fn(b)(XI), InvalidTypeError, "vjp(double) vjp_fn: ", ("cotangent leaf 0 has dtype int64", *DTYPE)),
    Bad("tan-shape", lambda b: multiad.jvp(double, (X,), (np.ones(3),), backend=b), InvalidArgumentError, "jvp(double): ", ("tangents leaf 0 has shape (3,), expected (2,)", "matching leaf of the primals")),
    Bad("tan-structure", lambda b: multiad.jvp(double, (X,), ((X, X),), backend=b), InvalidArgumentError, "jvp(double): ", ("tangents has structure", "structure of the primals")),
    Bad("tan-dtype", lambda b: multiad.jvp(double, (X,), (X.astype(np.float32),), backend=b), InvalidTypeError, "jvp(double): ", ("tangents leaf 0 has dtype float32, expected float64",)),
    Bad("tan-bool", lambda b: multiad.jvp(double, (X,), (np.array([True, True]),), backend=b), InvalidTypeError, "jvp(double): ", ("tangents leaf 0 has dtype bool",)),
    Bad("tan-count", lambda b: multiad.jvp(double, (X,), (X, X), backend=b), InvalidArgumentError, "jvp(double): ", ("got 1 primals but 2 tangents", "one tangent per primal")),
    Bad("tan-not-tuple", lambda b: multiad.jvp(double, X, X, backend=b), InvalidTypeError, "jvp(double): ", ("primals must be a tuple", "write (primal,)")),
    Bad("lin-shape", lambda b: _lin_fn(b)(np.ones(3)), InvalidArgumentError, "linearize(double) jvp_fn: ", ("tangents leaf 0 has shape (3,)",)),
    Bad("lin-dtype", lambda b: _lin_fn(b)(X.astype(np.float32)), InvalidTypeError, "linearize(double) jvp_fn: ", ("dtype float32, expected float64",)),
    Bad("hvp-shape", lambda b: multiad.hvp(total, (X,), (np.ones(3),), backend=b), InvalidArgumentError, "hvp(total): ", ("tangents leaf 0 has shape (3,)",)),
    Bad("vhp-dtype", lambda b: multiad.vhp(total, (X,), (X.astype(np.float32),), backend=b), InvalidTypeError, "vhp(total): ", ("dtype float32",)),
    Bad("hvp-count", lambda b: multiad.hvp(total, (X,), (), backend=b), InvalidArgumentError, "hvp(total): ", ("got 1 primals and 0 tangents",)),
    # -- other ----------------------------------------------------------------------------
    Bad("not-callable", lambda b: multiad.grad(3, backend=b), InvalidTypeError, "grad(f): ", ("f must be callable, got int",)),  # type: ignore[arg-type]
    Bad("out-str", lambda b: multiad.jacrev(lambda x: "s", backend=b)(X), InvalidTypeError, "jacrev(<lambda>): ", ("f returned a str leaf",)),
    Bad("out-none", lambda b: multiad.vjp(lambda x: None, X, backend=b), InvalidArgumentError, "vjp(<lambda>): ", ("f returned no arrays (got None)", "return at least one floating-point array")),
    Bad("out-empty-jvp", lambda b: multiad.jvp(lambda x: {}, (X,), (X,), backend=b), InvalidArgumentError, "jvp(<lambda>): ", ("f returned no arrays (got {})", "return at least one floating-point array")),
    Bad("vmap-out-str", lambda b: multiad.vmap(lambda x: "s", backend=b)(X), InvalidTypeError, "vmap(<lambda>): ", ("f returned a str leaf",)),
    Bad("no-primals", lambda b: multiad.vjp(double, backend=b), InvalidArgumentError, "vjp(double): ", ("pass at least one primal",)),
    Bad("unknown-backend", lambda b: multiad.grad(total, backend="no-such")(X), multiad.BackendError, "grad(total): ", ("unknown backend 'no-such'", "available backends: torch, jax, autograd, numpy")),
]  # fmt: skip


def check(exc: BaseException, case: Bad) -> None:
    assert type(exc) is case.error, f"{type(exc).__name__}: {exc}"
    assert isinstance(exc, MultiADError) and isinstance(exc, BUILTIN[case.error])
    msg = str(exc)
    assert msg.startswith(case.prefix), msg
    for part in case.parts:
        assert part in msg, f"{part!r} not in {msg!r}"


def run_case(case: Bad, name: str) -> BaseException:
    with pytest.raises(MultiADError) as info:
        case.run(name)
    return info.value


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Bad, backend: Any) -> None:
    check(run_case(case, backend.name), case)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_same_message_on_every_backend(case: Bad) -> None:
    raw = {name: str(run_case(case, name)) for name in BACKENDS}
    messages = {name: msg.replace(f"'{name}'", "'<backend>'") for name, msg in raw.items()}
    assert len(set(raw.values())) == 1 or len(set(messages.values())) == 1, raw


# -- arrays of two frameworks -------------------------------------------------------------------


def framework_array(name: str, x: Any) -> Any:
    return multiad.asarray(np.asarray(x, dtype=np.float64), backend=name)


@pytest.mark.usefixtures("clean_selection")
def test_two_frameworks_in_one_call() -> None:
    t, j = framework_array("torch", X), framework_array("jax", X)
    expected = "arrays of two backends in one call, 'torch' and 'jax'; convert them with multiad.asarray"
    with pytest.raises(MixedBackendError, match=r"^grad\(total2\): ") as info:
        multiad.grad(total2)(t, j)
    assert expected in str(info.value)
    with pytest.raises(MixedBackendError, match=r"^vmap\(total2\): .*'torch' and 'jax'"):
        multiad.vmap(total2)(t, j)
    with pytest.raises(MixedBackendError, match=r"^jacrev\(<lambda>\): .*'jax' and 'torch'"):
        multiad.jacrev(lambda p: p["a"])({"a": j, "b": t})
    # The undifferentiated argument counts as well.
    with pytest.raises(MixedBackendError, match=r"^grad\(total2\): "):
        multiad.grad(total2, argnums=0)(t, j)


@pytest.mark.parametrize("owner", ["torch", "jax"])
@pytest.mark.parametrize("selected", BACKENDS)
def test_array_of_another_backend(owner: str, selected: str) -> None:
    if owner == selected:
        pytest.skip("same framework")
    x = framework_array(owner, X)
    prefix = f"grad(total): argument 0 is {_an(owner)} array"
    fix = f"convert it with multiad.asarray(x, backend={selected!r}) or select the {owner!r} backend"
    with pytest.raises(MixedBackendError) as info:
        multiad.grad(total, backend=selected)(x)
    assert str(info.value).startswith(prefix) and fix in str(info.value)
    _, vjp_fn = multiad.vjp(double, X, backend=selected)
    with pytest.raises(MixedBackendError, match=rf"^vjp\(double\) vjp_fn: cotangent leaf 0 is {_an(owner)} array"):
        vjp_fn(x)
    with pytest.raises(MixedBackendError, match=rf"^jvp\(double\): tangents leaf 0 is {_an(owner)} array"):
        multiad.jvp(double, (X,), (x,), backend=selected)
    with pytest.raises(MixedBackendError, match=rf"^vmap\(double\): leaf 0 of the arguments is {_an(owner)} array"):
        multiad.vmap(double, backend=selected)(x)


# -- backends that cannot do a transform --------------------------------------------------------


def limited(name: str, **declared: Any) -> multiad.Backend:
    """An instance of the ``name`` backend's class declaring ``declared`` instead."""
    base = type(multiad._registry.get(name))
    attrs = {"name": f"{name}-limited", "__module__": base.__module__, **declared}
    return type(f"Limited{base.__name__}", (base,), attrs)()  # type: ignore[no-any-return]


def call_transform(transform: str, b: multiad.Backend) -> Any:
    """Calls public ``transform`` on a smooth function, with backend ``b``."""
    scalar, vec = total, double
    calls: dict[str, Callable[[], Any]] = {
        "grad": lambda: multiad.grad(scalar, backend=b)(X),
        "value_and_grad": lambda: multiad.value_and_grad(scalar, backend=b)(X),
        "vjp": lambda: multiad.vjp(vec, X, backend=b),
        "jvp": lambda: multiad.jvp(vec, (X,), (X,), backend=b),
        "linearize": lambda: multiad.linearize(vec, X, backend=b),
        "vmap": lambda: multiad.vmap(vec, backend=b)(X),
        "jacrev": lambda: multiad.jacrev(vec, backend=b)(X),
        "jacfwd": lambda: multiad.jacfwd(vec, backend=b)(X),
        "jacobian": lambda: multiad.jacobian(vec, backend=b)(X),
        "hessian": lambda: multiad.hessian(scalar, backend=b)(X),
        "hvp": lambda: multiad.hvp(scalar, (X,), (X,), backend=b),
        "vhp": lambda: multiad.vhp(scalar, (X,), (X,), backend=b),
    }
    assert set(calls) == set(TRANSFORMS)
    return calls[transform]()


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_declared_unsupported_raises(transform: str, backend: Any) -> None:
    b = limited(backend.name, unsupported=frozenset({transform}))
    with pytest.raises(UnsupportedOperationError) as info:
        call_transform(transform, b)
    msg = str(info.value)
    assert msg.startswith(f"{transform}("), msg
    assert f"the '{backend.name}-limited' backend declares {transform} unsupported" in msg
    assert "select another backend" in msg
    # Every other transform works, or refuses under its own name because it is built on this one.
    for other in TRANSFORMS:
        if other == transform:
            continue
        try:
            call_transform(other, b)
        except UnsupportedOperationError as exc:
            assert str(exc).startswith(f"{other}("), str(exc)
            assert f"declares {transform} unsupported" in str(exc) or "declares jacrev unsupported" in str(exc)


@pytest.mark.parametrize("name", ["torch", "jax", "numpy"])
def test_forward_only_backend_refuses_reverse_mode(name: str) -> None:
    b = limited(name, has_vjp=False, native=frozenset())
    for transform in ("grad", "vjp", "jacrev", "vhp"):
        with pytest.raises(UnsupportedOperationError, match=rf"^{transform}\(.*has no reverse mode \(vjp\); select"):
            call_transform(transform, b)
    # Forward mode gives the true derivatives, not zeros: d(2x) = 2 dx.
    _, t = multiad.jvp(double, (X,), (np.array([1.0, -3.0]),), backend=b)
    np.testing.assert_allclose(multiad.to_numpy(t), [2.0, -6.0], rtol=1e-6)
    np.testing.assert_allclose(multiad.to_numpy(multiad.jacfwd(double, backend=b)(X)), 2 * np.eye(2), rtol=1e-6)


def tall(x: Any) -> Any:
    return mnp.concatenate([mnp.sin(x), x * x, 3.0 * x])


def tall_jacobian(x: np.ndarray) -> np.ndarray:
    return np.concatenate([np.diag(np.cos(x)), np.diag(2 * x), 3 * np.eye(len(x))])


@pytest.mark.parametrize("name", ["torch", "jax"])
@pytest.mark.parametrize("gap", ["jacfwd", "jacrev", "jvp", "grad", "vjp", "no vjp"])
def test_routes_around_a_declared_gap(name: str, gap: str) -> None:
    # NOTE [Routes around declared gaps]: jacobian(auto) takes the mode the backend has, and
    # Hessians go reverse-over-reverse without jacfwd or jvp, instead of refusing under the
    # name of a transform the user did not call.
    declared: dict[str, Any] = {"native": frozenset()}
    declared.update({"has_vjp": False} if gap == "no vjp" else {"unsupported": frozenset({gap})})
    b = limited(name, **declared)
    x = np.array([0.3, -1.2, 2.0])
    wide = lambda v: mnp.sum(mnp.sin(v)) * v[:2]  # noqa: E731
    s = np.sum(np.sin(x))
    wide_jac = np.outer(np.cos(x), x[:2]).T + np.eye(2, 3) * s
    for f, expected in ((tall, tall_jacobian(x)), (wide, wide_jac)):
        np.testing.assert_allclose(multiad.to_numpy(multiad.jacobian(f, backend=b)(x)), expected, rtol=1e-12)
    if gap != "no vjp":
        h = multiad.hessian(lambda v: mnp.sum(mnp.sin(v) * v), backend=b)(x)
        np.testing.assert_allclose(multiad.to_numpy(h), np.diag(2 * np.cos(x) - x * np.sin(x)), rtol=1e-12)
        for second in (multiad.hvp, multiad.vhp):
            (hv,) = second(lambda v: mnp.sum(mnp.sin(v) * v), (x,), (np.ones(3),), backend=b)
            np.testing.assert_allclose(multiad.to_numpy(hv), 2 * np.cos(x) - x * np.sin(x), rtol=1e-12)
    # An explicit mode still refuses, under the call's own name.
    if gap in ("jacfwd", "jacrev"):
        mode = "fwd" if gap == "jacfwd" else "rev"
        with pytest.raises(UnsupportedOperationError, match=rf"^jacobian\(tall\): .* declares {gap} unsupported"):
            multiad.jacobian(tall, mode=mode, backend=b)(x)


# -- NaN stays NaN ------------------------------------------------------------------------------


def test_nan_gradients_stay_nan(backend: Any) -> None:
    x = np.array([-1.0, 4.0])
    g = multiad.to_numpy(multiad.grad(lambda v: mnp.sum(mnp.sqrt(v)), backend=backend.name)(x))
    assert np.isnan(g[0]), g
    if backend.name != "numpy":  # finite differences of a NaN sum are NaN everywhere
        np.testing.assert_allclose(g[1], 0.25)
    jac = multiad.to_numpy(multiad.jacrev(lambda v: mnp.sqrt(v), backend=backend.name)(x))
    assert np.isnan(jac[0, 0]), jac
    if backend.name != "numpy":  # its pullback contracts with the whole Jacobian: 0 * NaN
        np.testing.assert_allclose(jac[1, 1], 0.25)
    _, t = multiad.jvp(lambda v: mnp.sqrt(v), (x,), (np.ones(2),), backend=backend.name)
    assert np.isnan(multiad.to_numpy(t)[0])
    _, vjp_fn = multiad.vjp(lambda v: v * np.nan, x, backend=backend.name)
    assert np.isnan(multiad.to_numpy(vjp_fn(np.ones(2))[0])).all()


# -- operations the framework cannot differentiate ---------------------------------------------


def conv_float(x: Any) -> Any:
    return mnp.sum(x) * float(x[0])


def conv_item(x: Any) -> Any:
    return mnp.sum(x) * x[0].item()


def conv_tolist(x: Any) -> Any:
    return mnp.sum(x) * x.tolist()[0]


def conv_numpy(x: Any) -> Any:
    return mnp.sum(x) * np.asarray(x)[0]


def plain_cbrt(x: Any) -> Any:
    return mnp.sum(np.cbrt(x))


def object_array(x: Any) -> Any:
    return mnp.sum(np.asarray(x) * x)


NONDIFF = [
    ("torch", conv_float, "float(tensor)"),
    ("torch", conv_item, "Tensor.item()"),
    ("torch", conv_tolist, "Tensor.tolist()"),
    ("torch", conv_numpy, "numpy.asarray(tensor)"),
    ("jax", conv_float, "ConcretizationTypeError (in `float`)"),
    ("jax", conv_item, "x.item()"),
    ("jax", conv_tolist, "ConcretizationTypeError"),
    ("jax", conv_numpy, "TracerArrayConversionError"),
    ("autograd", conv_float, "float() argument"),
    ("autograd", conv_item, "no attribute 'item'"),
    ("autograd", plain_cbrt, "ufunc 'cbrt'"),
    ("autograd", object_array, "object array"),
]


def _transforms_of(f: Callable[..., Any], name: str) -> dict[str, Callable[[], Any]]:
    vec = lambda x: f(x) * x  # noqa: E731 - vector-valued version for the Jacobian transforms
    vec.__name__ = f.__name__
    return {
        "grad": lambda: multiad.grad(f, backend=name)(X),
        "vjp": lambda: multiad.vjp(vec, X, backend=name)[1](np.ones(2)),  # some fail in the pullback
        "jvp": lambda: multiad.jvp(vec, (X,), (X,), backend=name),
        "jacrev": lambda: multiad.jacrev(vec, backend=name)(X),
        "jacfwd": lambda: multiad.jacfwd(vec, backend=name)(X),
        "hessian": lambda: multiad.hessian(f, backend=name)(X),
        "hvp": lambda: multiad.hvp(f, (X,), (X,), backend=name),
    }


@pytest.mark.parametrize(("name", "f", "op"), NONDIFF, ids=[f"{n}-{f.__name__}" for n, f, _ in NONDIFF])
@pytest.mark.parametrize("transform", ["grad", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "hvp"])
def test_nondifferentiable_op_is_named(name: str, f: Callable[..., Any], op: str, transform: str) -> None:
    with pytest.raises(NonDifferentiableError) as info:
        _transforms_of(f, name)[transform]()
    msg = str(info.value)
    assert msg.startswith(f"{transform}({f.__name__}): the {name} backend could not differentiate f: "), msg
    assert op in msg, msg
    assert any(fix in msg for fix in ("multiad.numpy", ".detach()", "stop_gradient")), msg  # says how to fix it
    assert isinstance(info.value, TypeError)


def test_torch_refusals_inside_f_name_the_call() -> None:
    # torch.func refuses autograd's own API inside f, saved tensor hooks and in-place changes of
    # captured tensors with RuntimeErrors that named neither the call nor multiad; each is
    # translated as torch's other AD errors are, its first line kept.
    torch = pytest.importorskip("torch")
    captured = torch.zeros(3, dtype=torch.float64)

    def requires(x: Any) -> Any:
        x.requires_grad_()
        return x.sin().sum()

    def retains(x: Any) -> Any:
        y = x.sin()
        y.retain_grad()
        return y.sum()

    def hooks(x: Any) -> Any:
        with torch.autograd.graph.save_on_cpu():
            return x.sin().sum()

    def mutates(x: Any) -> Any:
        captured.copy_(x)
        return (x * captured).sum()

    x = torch.tensor(X, dtype=torch.float64)
    for f, words in (
        (requires, "Tensor.requires_grad_()"),
        (retains, "Tensor.retain_grad()"),
        (hooks, "saved tensor hooks"),
        (mutates, "mutate a captured Tensor"),
    ):
        with pytest.raises(NonDifferentiableError, match=rf"^grad\({f.__name__}\): the torch backend ") as info:
            multiad.grad(f)(x)
        assert words in str(info.value)
    with pytest.raises(NonDifferentiableError, match=r"^vmap\(requires\): .*Tensor\.requires_grad_\(\)"):
        multiad.vmap(requires)(x[None])


@pytest.mark.parametrize(
    "transform", ["grad", "value_and_grad", "jacrev", "vjp", "hessian", "hvp", "vhp", "jvp", "jacfwd", "linearize"]
)
def test_torch_in_place_change_of_an_argument_is_named(transform: str) -> None:
    # Reverse mode cannot follow x.mul_(...) on an argument: torch's own RuntimeError named the
    # tensor "a leaf Variable" and not the call; every call (the prepared ones too) names both.
    torch = pytest.importorskip("torch")

    def grow(x: Any) -> Any:
        x.mul_(2.0)
        return (x**2).sum()

    def x() -> Any:
        return torch.tensor(X, dtype=torch.float64)

    calls = {
        "grad": lambda: multiad.grad(grow)(x()),
        "value_and_grad": lambda: multiad.value_and_grad(grow)(x()),
        "jacrev": lambda: multiad.jacrev(grow)(x()),
        "vjp": lambda: multiad.vjp(grow, x()),
        "hessian": lambda: multiad.hessian(grow)(x()),
        "hvp": lambda: multiad.hvp(grow, (x(),), (x(),)),
        "vhp": lambda: multiad.vhp(grow, (x(),), (x(),)),
        # forward mode followed the change and wrote into the argument (NOTE [Arguments changed
        # in place by forward mode])
        "jvp": lambda: multiad.jvp(grow, (x(),), (x(),)),
        "jacfwd": lambda: multiad.jacfwd(grow)(x()),
        "linearize": lambda: multiad.linearize(grow, x()),
    }
    for _ in range(3):
        with pytest.raises(
            NonDifferentiableError, match=rf"^{transform}\(grow\): .*changes a differentiated argument in place"
        ):
            calls[transform]()


@pytest.mark.parametrize("mode", ["jvp", "jacfwd", "jacobian-fwd", "jacobian-auto"])
def test_torch_forward_mode_leaves_the_callers_array_as_it_was(mode: str) -> None:
    # torch.func.jvp wrote f's in-place change into the primal: the caller's numpy array (whose
    # memory the converted tensor shares) became [0, 2, 4] without an error, and
    # jacobian(mode="auto") raised or not by the shapes (reverse mode refuses the change).
    pytest.importorskip("torch")

    def zero_first(x: Any) -> Any:
        x[0] = 0.0
        return x * 3.0

    x = np.array([1.0, 2.0, 4.0])
    calls = {
        "jvp": lambda: multiad.jvp(zero_first, (x,), (np.ones(3),), backend="torch"),
        "jacfwd": lambda: multiad.jacfwd(zero_first, backend="torch")(x),
        "jacobian-fwd": lambda: multiad.jacobian(zero_first, mode="fwd", backend="torch")(x),
        "jacobian-auto": lambda: multiad.jacobian(zero_first, backend="torch")(x),
    }
    with pytest.raises(NonDifferentiableError, match=r"changes a differentiated argument in place"):
        calls[mode]()
    np.testing.assert_array_equal(x, [1.0, 2.0, 4.0])


def test_torch_forward_mode_follows_in_place_changes_of_intermediates() -> None:
    # A value f computes (not an argument) changed in place stays forward mode's to follow
    # (NOTE [Forward mode where the pullback cannot follow]): d/dx of 2 exp(x) is 2 exp(x).
    pytest.importorskip("torch")

    def doubled_exp(x: Any) -> Any:
        y = mnp.exp(x)
        y *= 2.0
        return y

    x = np.array([0.5, -1.0])
    jac = multiad.jacfwd(doubled_exp, backend="torch")(x)
    np.testing.assert_allclose(multiad.to_numpy(jac), np.diag(2.0 * np.exp(x)), rtol=1e-14)
    _, tangent = multiad.jvp(doubled_exp, (x,), (np.ones(2),), backend="torch")
    np.testing.assert_allclose(multiad.to_numpy(tangent), 2.0 * np.exp(x), rtol=1e-14)


@pytest.mark.parametrize("transform", ["grad", "jacrev", "jacfwd", "jvp"])
def test_torch_in_place_change_of_an_argument_outside_argnums_is_named(transform: str) -> None:
    # torch.func.grad(f, argnums=1) lets f write into argument 0 (it wraps every argument);
    # multiad passes the arguments it does not differentiate into f as they are, and torch
    # refuses the write with "please rewrite the function ... to explicitly accept the mutated
    # Tensor(s) as inputs", advice that does not apply: the tensor already is an input. The
    # error names the argument's role and a change that works.
    torch = pytest.importorskip("torch")

    def overwrite(x: Any, y: Any) -> Any:
        x[:2] = y
        return (x**2).sum() if transform == "grad" else x**2

    y = torch.tensor([0.5, -1.5], dtype=torch.float64)
    calls = {
        "grad": lambda f: multiad.grad(f, argnums=1)(torch.zeros(3, dtype=torch.float64), y),
        "jacrev": lambda f: multiad.jacrev(f, argnums=1)(torch.zeros(3, dtype=torch.float64), y),
        "jacfwd": lambda f: multiad.jacfwd(f, argnums=1)(torch.zeros(3, dtype=torch.float64), y),
        "jvp": lambda f: multiad.jvp(
            partial(f, torch.zeros(3, dtype=torch.float64)), (y,), (torch.ones(2, dtype=torch.float64),)
        ),
    }
    with pytest.raises(NonDifferentiableError, match=rf"^{transform}\(") as info:
        calls[transform](overwrite)
    message = str(info.value)
    assert "mutate a captured Tensor" in message and "outside argnums" in message and "clone()" in message
    assert "explicitly accept the mutated" not in message

    def overwrite_copy(x: Any, y: Any) -> Any:  # the change the message gives
        x = x.clone()
        x[:2] = y
        return (x**2).sum() if transform == "grad" else x**2

    result = calls[transform](overwrite_copy)
    # d/dy of x**2 with x = (y0, y1, 0): 2 * y on the diagonal of the first two rows
    expected = {
        "grad": 2 * y.numpy(),
        "jacrev": np.array([[1.0, 0.0], [0.0, -3.0], [0.0, 0.0]]),
        "jacfwd": np.array([[1.0, 0.0], [0.0, -3.0], [0.0, 0.0]]),
        "jvp": np.array([1.0, -3.0, 0.0]),
    }[transform]
    np.testing.assert_allclose(multiad.to_numpy(result[1] if transform == "jvp" else result), expected)


def test_torch_in_place_change_of_an_unbatched_argument_is_named() -> None:
    # torch.func.vmap refuses `x.mul_(y)` with x unbatched (in_dims None) and y batched in a
    # RuntimeError that names neither the call nor multiad, and asks for a bug report; the
    # error names the call and what to change, and the change it gives works.
    torch = pytest.importorskip("torch")

    def scale(x: Any, y: Any) -> Any:
        return x.mul_(y)

    x, ys = torch.ones(3, dtype=torch.float64), torch.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(NonDifferentiableError, match=r"^vmap\(scale\): .*not batched.*in_dims None") as info:
        multiad.vmap(scale, in_dims=(None, 0))(x, ys)
    assert "file a bug report" not in str(info.value)
    out = multiad.vmap(lambda x, y: x * y, in_dims=(None, 0))(x, ys)
    np.testing.assert_allclose(multiad.to_numpy(out), np.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "jacrev", "vjp", "hessian", "hvp", "vhp"])
def test_torch_in_place_change_of_a_saved_value_is_named(transform: str) -> None:
    # `e -= 1` on an intermediate tensor that reverse mode saved (exp saves its output) made
    # torch raise its own RuntimeError from the backward pass, naming neither the call nor a fix.
    pytest.importorskip("torch")

    def shift(x: Any) -> Any:
        e = mnp.exp(x)
        e -= 1.0  # in place on torch, a new array on JAX and autograd
        return mnp.sum(e * x)

    calls = {
        "grad": lambda: multiad.grad(shift, backend="torch")(X),
        "value_and_grad": lambda: multiad.value_and_grad(shift, backend="torch")(X),
        "jacrev": lambda: multiad.jacrev(shift, backend="torch")(X),
        "vjp": lambda: multiad.vjp(shift, X, backend="torch")[1](np.array(1.0)),
        "hessian": lambda: multiad.hessian(shift, backend="torch")(X),
        "hvp": lambda: multiad.hvp(shift, (X,), (X,), backend="torch"),
        "vhp": lambda: multiad.vhp(shift, (X,), (X,), backend="torch"),
    }
    for _ in range(2):
        with pytest.raises(NonDifferentiableError, match=rf"^{transform}\(shift\): .*in place.*e = e - 1"):
            calls[transform]()
    # Forward mode follows the change: the derivative is the closed form's.
    _, tangent = multiad.jvp(shift, (X,), (np.ones(2),), backend="torch")
    assert np.allclose(multiad.to_numpy(tangent), np.sum(np.exp(X) - 1.0 + X * np.exp(X)))


def test_torch_conversions_without_derivative_are_allowed() -> None:
    # A detached value, or an argument that is not differentiated, may become a number.
    def f(x: Any, scale: Any) -> Any:
        return mnp.sum(x * x) * x.detach()[0].item() * float(scale)

    x, scale = framework_array("torch", X), framework_array("torch", 3.0)
    g = multiad.grad(f)(x, scale)
    np.testing.assert_allclose(multiad.to_numpy(g), 2 * X * 1.0 * 3.0)
    (value, aux), g = multiad.value_and_grad(lambda v: (mnp.sum(v * v), v.detach().sum().item()), has_aux=True)(x)
    assert aux == pytest.approx(3.0) and float(value) == pytest.approx(5.0)
    np.testing.assert_allclose(multiad.to_numpy(g), 2 * X)


def test_jax_item_outside_derivatives_is_allowed() -> None:
    # x.item() raises only on a value that carries one of multiad's derivatives: a stopped
    # gradient, an argument not differentiated, and jax.grad outside multiad convert as usual.
    jax = pytest.importorskip("jax")
    x = np.array([0.3, 0.7], dtype=np.float32)

    def f(t: Any, scale: Any) -> Any:
        return t[1] * jax.lax.stop_gradient(t[0]).item() * scale.item()

    g = multiad.to_numpy(multiad.grad(f, backend="jax")(x, np.float32(3.0)))
    np.testing.assert_allclose(g, [0.0, 0.3 * 3.0], rtol=1e-6)
    plain = jax.grad(lambda t: t[0].item() * t[1])(x)  # JAX's own behaviour, unchanged
    np.testing.assert_allclose(np.asarray(plain), [0.0, 0.3], rtol=1e-6)


@pytest.mark.parametrize("transform", ["grad", "jacfwd", "vmap"])
def test_jax_item_assignment_is_named_with_the_call(transform: str) -> None:
    pytest.importorskip("jax")

    def f_assigns(x: Any) -> Any:
        y = x * 1.0
        y[0] = 0.0
        return mnp.sum(y)

    with pytest.raises(multiad.NonDifferentiableError, match=rf"^{transform}\(f_assigns\): .*immutable.*mnp\.where"):
        getattr(multiad, transform)(f_assigns, backend="jax")(np.ones((2, 3)) if transform == "vmap" else np.ones(3))


@pytest.mark.parametrize("transform", ["grad", "jacrev", "hessian"])
def test_autograd_assignment_of_a_traced_value_is_named(transform: str) -> None:
    # the NumPy-style ODE right-hand side: numpy's bare "setting an array element with a sequence"
    pytest.importorskip("autograd")

    def rhs(y: Any) -> Any:
        dy = mnp.zeros_like(y)
        dy[0] = y[1]
        dy[1] = -y[0]
        return mnp.sum(dy**2) if transform != "jacrev" else dy

    with pytest.raises(
        multiad.NonDifferentiableError, match=rf"^{transform}\(rhs\): .*assigns a traced value.*mnp\.where"
    ):
        getattr(multiad, transform)(rhs, backend="autograd")(np.array([1.0, 2.0]))


def test_finite_differences_treat_conversions_as_part_of_f() -> None:
    # The numpy backend sees f as a black box: float(x[0]) is a function of x like any other.
    g = multiad.to_numpy(multiad.grad(conv_float, backend="numpy")(X))
    np.testing.assert_allclose(g, [X.sum() + X[0], X[0]], rtol=1e-6)


@pytest.mark.parametrize(
    ("name", "f", "op"),
    [
        ("torch", lambda x: x * float(x), ".item()"),
        ("torch", lambda x: x if x > 0 else -x, "data-dependent control flow"),
        ("jax", lambda x: x * float(x), "ConcretizationTypeError (in `float`)"),
        ("jax", lambda x: x if x > 0 else -x, "TracerBoolConversionError"),
    ],
)
def test_vmap_untraceable_op_is_named(name: str, f: Callable[..., Any], op: str) -> None:
    with pytest.raises(NonDifferentiableError, match=rf"^vmap\(<lambda>\): the {name} backend could not vectorize f: "):
        multiad.vmap(f, backend=name)(X)
    with pytest.raises(NonDifferentiableError) as info:
        multiad.vmap(f, backend=name)(X)
    assert op in str(info.value)


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_vmap_of_value_dependent_branches_says_how_to_fix(name: str) -> None:
    with pytest.raises(NonDifferentiableError) as info:
        multiad.vmap(lambda x: x if x > 0 else -x, backend=name)(X)
    assert "mnp.where" in str(info.value)
    assert "fixed number of iterations" in str(info.value)


@pytest.mark.parametrize("name", ["autograd", "numpy"])
def test_loop_vmap_runs_python_conversions(name: str) -> None:
    out = multiad.vmap(lambda x: x * float(x), backend=name)(np.array([1.0, -2.0, 3.0]))
    np.testing.assert_allclose(multiad.to_numpy(out), [1.0, 4.0, 9.0])


def test_error_raised_by_f_itself_passes_unchanged(backend: Any) -> None:
    class Mine(ValueError):
        pass

    def f(x: Any) -> Any:
        raise Mine("from f")

    calls: list[Callable[[], Any]] = [
        lambda: multiad.grad(f, backend=backend.name)(X),
        lambda: multiad.jvp(f, (X,), (X,), backend=backend.name),
        lambda: multiad.vmap(f, backend=backend.name)(X),
    ]
    for transform in calls:
        with pytest.raises(Mine, match="from f"):
            transform()


@pytest.mark.skipif(np.dtype(np.longdouble) == np.dtype(np.float64), reason="longdouble is float64 here")
@pytest.mark.parametrize("name", BACKENDS)
def test_arguments_no_framework_takes_raise_with_the_call(name: str) -> None:
    # float128 said "derivatives need floating-point inputs" (it is floating) on autograd and
    # numpy, and torch and JAX raised their own conversion errors without the call's name.
    f = multiad.grad(lambda x: mnp.sum(x**2), backend=name)
    for bad, shown in ((np.ones(2, np.longdouble), "float128"), (np.array([1.0, 2.0], dtype=object), "object")):
        with pytest.raises(InvalidTypeError, match=r"^grad\(<lambda>\): argument 0 ") as info:
            f(bad)
        assert shown in str(info.value)
        assert "derivatives need floating-point inputs" not in str(info.value) or shown == "object"


@pytest.mark.parametrize("owner", ["torch", "jax"])
def test_an_output_of_another_framework_names_the_closed_over_array(owner: str) -> None:
    """On the numpy backend, f that multiplies by a torch or JAX array it closes over returns
    that framework's array: the error says so and how to convert, not that it is no array."""
    c = multiad.asarray(np.ones(2), backend=owner)
    x = np.array([1.0, 2.0])
    for call, run in [
        ("grad", lambda: multiad.grad(lambda x: mnp.sum(x * c), backend="numpy")(x)),
        ("jacrev", lambda: multiad.jacrev(lambda x: x * c, backend="numpy")(x)),
        ("vmap", lambda: multiad.vmap(lambda x: x * c, backend="numpy")(np.ones((3, 2)))),
    ]:
        with pytest.raises(MixedBackendError, match=rf"^{call}\(<lambda>\): f returned {_an(owner)} array") as info:
            run()
        assert "multiad.asarray" in str(info.value)


def test_asarray_of_a_ragged_list_raises_with_the_call() -> None:
    with pytest.raises(ValueError):  # numpy's own rule
        np.asarray([[1.0], [1.0, 2.0]])
    with pytest.raises(InvalidArgumentError, match=r"^asarray\(x\): .*equal lengths"):
        multiad.asarray([[1.0], [1.0, 2.0]], backend="numpy")


def _an(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word
