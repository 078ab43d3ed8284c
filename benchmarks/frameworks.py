"""Each framework's version of the benchmarked functions and of the transforms, called directly.

A :class:`Framework` holds what a workload needs on one backend: the test functions written
against the framework's own array API, and the framework's own transforms (``None`` where the
framework has none, so a workload can skip that comparison). ``jax.jit`` is the jax framework
with every variant compiled.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Fn = Callable[..., Any]
Transform = Callable[..., Fn]


@dataclass
class Framework:
    """One row of the results: a multiad backend, eager or compiled."""

    name: str
    backend: str
    version: str
    asarray: Callable[[np.ndarray], Any]
    to_numpy: Callable[[Any], np.ndarray]
    #: ``predict(w, b, x) = tanh(x @ w.T + b)``: torch's F.linear then tanh, batched over x's leading axes.
    predict: Fn
    sum_all: Callable[[Any], Any]
    sum0: Callable[[Any], Any]
    sin: Callable[[Any], Any]
    stack: Callable[[list[Any]], Any]
    movedim: Callable[[Any, int, int], Any]
    matvec: Callable[[Any, Any], Any]
    eye: Callable[[int], Any]
    jacrev: Transform | None = None
    jacfwd: Transform | None = None
    hessian: Transform | None = None
    grad: Transform | None = None
    #: ``vjp(f, x) -> (out, pullback)`` with ``pullback(ct) -> gradient array``.
    vjp: Callable[[Fn, Any], tuple[Any, Fn]] | None = None
    hvp_fwd: Callable[[Fn, Any, Any], Any] | None = None
    hvp_rev: Callable[[Fn, Any, Any], Any] | None = None
    #: ``vmap(f, in_dims)``; None runs the direct batched workloads as a Python loop.
    vmap: Callable[[Fn, tuple[int | None, ...]], Fn] | None = None
    #: What a timed call is wrapped in (``jax.jit``) and what finishes it (``block_until_ready``).
    wrap: Callable[[Fn], Fn] = field(default=lambda f: f)
    sync: Callable[[Any], Any] = field(default=lambda r: r)
    #: Run before each workload's variants are wrapped (``torch._dynamo.reset``: NOTE [Compiled
    #: torch calls]).
    reset: Callable[[], None] = field(default=lambda: None)

    @property
    def compiled(self) -> bool:
        """Both sides compile to one program (goal 1.00 within noise, controls compiled apart)."""
        return self.name in COMPILED

    @property
    def exact(self) -> bool:
        return self.backend != "numpy"


def torch_framework() -> Framework:
    import torch
    import torch.func as tf

    torch.set_num_threads(1)

    def predict(w: Any, b: Any, x: Any) -> Any:
        return torch.tanh(x @ w.T + b)

    def vjp(f: Fn, x: Any) -> tuple[Any, Fn]:
        res = tf.vjp(f, x)
        return res[0], lambda ct: res[1](ct)[0]

    return Framework(
        name="torch", backend="torch", version=str(torch.__version__),
        asarray=torch.from_numpy, to_numpy=lambda t: t.detach().numpy(), predict=predict,
        sum_all=torch.sum, sum0=lambda y: y.sum(0), sin=torch.sin, stack=torch.stack,
        movedim=torch.movedim, matvec=torch.mv, eye=lambda n: torch.eye(n),
        jacrev=tf.jacrev, jacfwd=tf.jacfwd, hessian=tf.hessian, grad=tf.grad, vjp=vjp,
        hvp_fwd=lambda f, x, v: tf.jvp(tf.grad(f), (x,), (v,))[1],
        hvp_rev=lambda f, x, v: tf.vjp(tf.grad(f), x)[1](v)[0],
        vmap=lambda f, in_dims: tf.vmap(f, in_dims=in_dims),
    )  # fmt: skip


def jax_framework(jit: bool) -> Framework:
    import jax
    import jax.numpy as jnp

    def predict(w: Any, b: Any, x: Any) -> Any:
        return jnp.tanh(x @ w.T + b)

    def vjp(f: Fn, x: Any) -> tuple[Any, Fn]:
        out, pull = jax.vjp(f, x)
        return out, lambda ct: pull(ct)[0]

    return Framework(
        name="jax.jit" if jit else "jax", backend="jax", version=str(jax.__version__),
        asarray=jnp.asarray, to_numpy=np.asarray, predict=predict,
        sum_all=jnp.sum, sum0=lambda y: y.sum(0), sin=jnp.sin, stack=jnp.stack,
        movedim=jnp.moveaxis, matvec=jnp.matmul, eye=lambda n: jnp.eye(n, dtype=jnp.float32),
        jacrev=jax.jacrev, jacfwd=jax.jacfwd, hessian=jax.hessian, grad=jax.grad, vjp=vjp,
        hvp_fwd=lambda f, x, v: jax.jvp(jax.grad(f), (x,), (v,))[1],
        hvp_rev=lambda f, x, v: jax.vjp(jax.grad(f), x)[1](v)[0],
        vmap=lambda f, in_dims: jax.vmap(f, in_axes=in_dims),
        wrap=jax.jit if jit else (lambda f: f), sync=jax.block_until_ready,
    )  # fmt: skip


def autograd_framework() -> Framework:
    import importlib.metadata

    import autograd
    import autograd.numpy as anp
    from autograd.differential_operators import make_jvp_reversemode

    def predict(w: Any, b: Any, x: Any) -> Any:
        return anp.tanh(anp.dot(x, w.T) + b)

    def vjp(f: Fn, x: Any) -> tuple[Any, Fn]:
        pull, out = autograd.make_vjp(f)(x)
        return out, pull

    def jacfwd(f: Fn, argnums: int = 0) -> Fn:
        # HIPS autograd has no forward mode: its own reverse-of-reverse jvp, once per input element.
        def jac(*args: Any) -> Any:
            x = args[argnums]
            push = make_jvp_reversemode(f, argnums)(*args)
            cols = [push(t) for t in np.eye(x.size, dtype=x.dtype).reshape((x.size, *x.shape))]
            return np.moveaxis(np.stack(cols), 0, -1).reshape(np.shape(cols[0]) + x.shape)

        return jac

    return Framework(
        name="autograd", backend="autograd", version=importlib.metadata.version("autograd"),
        asarray=np.asarray, to_numpy=np.asarray, predict=predict,
        sum_all=anp.sum, sum0=lambda y: anp.sum(y, 0), sin=anp.sin, stack=anp.stack,
        movedim=anp.moveaxis, matvec=anp.dot, eye=lambda n: np.eye(n, dtype=np.float32),
        jacrev=autograd.jacobian, jacfwd=jacfwd, hessian=autograd.hessian, grad=autograd.grad, vjp=vjp,
        hvp_rev=lambda f, x, v: autograd.hessian_vector_product(f)(x, v),
    )  # fmt: skip


#: Central-difference weights per offset (in steps): the 2-point stencil (error O(h**2)) and the
#: 4-point one (O(h**4)). NOTE [Two stencils]: the numpy backend evaluates f at x +- h and
#: x +- 2h, returns the 4th-order combination and compares the two orders for its error
#: estimate (NOTE [Why four evaluations] in backends/numpy), so the 4-point stencil is the
#: hand-written code of the same cost and accuracy; the 2-point one is the cheapest a user
#: could write, with lower accuracy and no estimate. Both are reported.
STENCILS: dict[int, tuple[tuple[int, float], ...]] = {
    2: ((1, 1 / 2), (-1, -1 / 2)),
    4: ((2, -1 / 12), (1, 8 / 12), (-1, -8 / 12), (-2, 1 / 12)),
}


def fd_jacobian(points: int) -> Transform:
    """Central differences, one input element at a time, with ``points`` evaluations per element."""

    def transform(f: Fn, argnums: int = 0) -> Fn:
        def jac(*args: Any) -> Any:
            x = args[argnums]
            flat = x.reshape(-1)
            eps = float(np.finfo(x.dtype).eps) ** (1.0 / 3.0)
            cols = []
            for k in range(flat.size):
                h = eps * max(1.0, abs(float(flat[k])))
                col = 0.0
                for offset, weight in STENCILS[points]:
                    e = np.zeros_like(flat)
                    e[k] = offset * h
                    col = col + weight * f(*args[:argnums], (flat + e).reshape(x.shape), *args[argnums + 1 :])
                cols.append((col / h).reshape(-1))
            out_shape = np.shape(f(*args))
            return np.stack(cols, axis=1).astype(x.dtype).reshape(out_shape + x.shape)

        return jac

    return transform


def numpy_framework(points: int) -> Framework:
    def predict(w: Any, b: Any, x: Any) -> Any:
        return np.tanh(x @ w.T + b)

    return Framework(
        name="numpy" if points == 2 else f"numpy.{points}pt", backend="numpy", version=str(np.__version__),
        asarray=np.asarray, to_numpy=np.asarray, predict=predict,
        sum_all=np.sum, sum0=lambda y: y.sum(0), sin=np.sin, stack=np.stack,
        movedim=np.moveaxis, matvec=np.dot, eye=lambda n: np.eye(n, dtype=np.float32),
        jacrev=fd_jacobian(points), jacfwd=fd_jacobian(points),
    )  # fmt: skip


# NOTE [Compiled torch calls]: ``torch.compile`` (inductor, its default) of both sides, timed as
# ``jax.jit`` is: the goal is 1.00 within noise. Dynamo keeps compiled code per Python code
# object, and every ``multiad.jacrev(...)`` (every ``torch.func.jacrev(...)``) returns a closure
# of one code object, so after eight functions of one kind it stops compiling new ones and runs
# them eagerly (its recompile limit). Each workload therefore starts from Dynamo's reset state.
# It is not run unless asked for (``--frameworks torch.compile``): compiling every variant with
# inductor adds minutes to a run.
def torch_compiled_framework() -> Framework:
    import torch

    return dataclasses.replace(torch_framework(), name="torch.compile", wrap=torch.compile, reset=torch._dynamo.reset)


#: Frameworks whose two sides run as compiled programs (``Framework.compiled``).
COMPILED = ("jax.jit", "torch.compile")
#: Run only when named with ``--frameworks`` (NOTE [Compiled torch calls]).
OPT_IN = ("torch.compile",)

FACTORIES: dict[str, Callable[[], Framework]] = {
    "torch": torch_framework,
    "jax": functools.partial(jax_framework, False),
    "jax.jit": functools.partial(jax_framework, True),
    "autograd": autograd_framework,
    "numpy": functools.partial(numpy_framework, 2),
    "numpy.4pt": functools.partial(numpy_framework, 4),
    "torch.compile": torch_compiled_framework,
}
