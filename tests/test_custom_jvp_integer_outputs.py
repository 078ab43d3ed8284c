"""A custom_jvp function with integer or boolean outputs: the rule returns None as their tangent.

Before, no tangent worked on every backend: JAX raised its own TypeError for any tangent but a
float0 one (multiad made None a float64 zero), torch's jvp raised its own RuntimeError, and an
integer zero failed torch.func.vjp (NOTE [Outputs without tangents] in
multiad/_custom_rules.py). Compared with the closed form of d/dx max(x)^2 and with JAX's own
custom_jvp on the same function.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp

X = np.array([0.3, -2.0, 4.0, 1.0])
T = np.arange(4.0)
GRAD = np.array([0.0, 0.0, 8.0, 0.0])  # d/dx max(x)^2 at X: 2 * 4 at the argmax


def _square_of_max(zero: Any) -> Any:
    """(max(x)^2, (argmax(x), max(x) > 0)), the tangents of the integer and boolean outputs
    ``zero(output)``."""

    @multiad.custom_jvp
    def f(x: Any) -> Any:
        i = mnp.argmax(x)
        return x[i] * x[i], (i, x[i] > 0)

    @f.defjvp
    def f_jvp(primals: Any, tangents: Any) -> Any:
        (x,), (dx,) = primals, tangents
        i = mnp.argmax(x)
        out = (x[i] * x[i], (i, x[i] > 0))
        return out, (2 * x[i] * dx[i], (zero(out[1][0]), zero(out[1][1])))

    return f


def _first(f: Any) -> Any:
    return lambda x: f(x)[0]


def test_none_is_the_tangent_of_integer_outputs(ad_backend: Case) -> None:
    f = _square_of_max(lambda out: None)
    with multiad.use_backend(ad_backend.name):
        ad_backend.close(multiad.grad(_first(f))(X), GRAD)
        ad_backend.close(multiad.jacfwd(_first(f))(X), GRAD)
        ad_backend.close(multiad.jacrev(_first(f))(X), GRAD)
        _, tout = multiad.jvp(_first(f), (X,), (T,))
        ad_backend.close(tout, 2 * 4.0 * T[2])
        ad_backend.close(multiad.hessian(_first(f))(X), np.diag([0.0, 0.0, 2.0, 0.0]), order=2)
        # the integer output as aux, next to the derivative
        _, tout, index = multiad.jvp(lambda x: (f(x)[0], f(x)[1][0]), (X,), (T,), has_aux=True)
        ad_backend.close(tout, 8.0 * T[2])
        assert int(multiad.to_numpy(index)) == 2


def test_jax_float0_tangent_is_accepted() -> None:
    import jax

    f = _square_of_max(lambda out: np.zeros(np.shape(out), dtype=jax.dtypes.float0))
    for name in ("torch", "jax", "autograd"):
        with multiad.use_backend(name):
            np.testing.assert_allclose(multiad.to_numpy(multiad.grad(_first(f))(X)), GRAD)
            np.testing.assert_allclose(multiad.to_numpy(multiad.jvp(_first(f), (X,), (T,))[1]), 8.0 * T[2])


def test_against_jax_custom_jvp() -> None:
    import jax
    import jax.numpy as jnp

    @jax.custom_jvp
    def g(x: Any) -> Any:
        i = jnp.argmax(x)
        return x[i] * x[i], i

    @g.defjvp
    def g_jvp(primals: Any, tangents: Any) -> Any:
        (x,), (dx,) = primals, tangents
        out = g(x)
        return out, (2 * x[out[1]] * dx[out[1]], np.zeros((), dtype=jax.dtypes.float0))

    f = _square_of_max(lambda out: None)
    oracle = np.asarray(jax.grad(lambda x: g(x)[0])(jnp.asarray(X)))
    for name in ("torch", "jax", "autograd"):
        np.testing.assert_allclose(multiad.to_numpy(multiad.grad(_first(f), backend=name)(X)), oracle)


@pytest.mark.parametrize(
    "zero",
    [lambda out: 0, lambda out: mnp.zeros_like(out), lambda out: mnp.zeros_like(out, dtype="float64")],
    ids=["int 0", "zeros_like", "float zeros"],
)
def test_other_tangents_of_integer_outputs_are_refused(ad_backend: Case, zero: Any) -> None:
    f = _square_of_max(zero)
    with multiad.use_backend(ad_backend.name):
        for call in (lambda: multiad.grad(_first(f))(X), lambda: multiad.jvp(_first(f), (X,), (T,))):
            with pytest.raises(
                multiad.InvalidArgumentError,
                match=r"f: the jvp rule returned a tangent for output leaf 1 of dtype int64",
            ):
                call()
