"""grad's f returns a scalar itself, not a container holding one (NOTE [A scalar in a container]
in multiad/_flat.py), and vjp_fn takes one cotangent (NOTE [One cotangent] in
multiad/_api_ad.py), as jax.grad and JAX's vjp_fn have it. Before, ``grad`` of
``lambda v: [sum(v**2)]`` returned the gradient on every backend (jax.grad and torch.func.grad
refuse it), and ``vjp_fn(ct, ct)`` raised Python's TypeError naming an internal closure."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp
from multiad import InvalidArgumentError, InvalidTypeError

X = np.array([1.0, 2.0])


@pytest.mark.parametrize(
    ("wrap", "kind"), [(lambda s: [s], "list"), (lambda s: (s,), "tuple"), (lambda s: {"loss": s}, "dict")]
)
@pytest.mark.parametrize("transform", ["grad", "value_and_grad"])
def test_grad_refuses_a_scalar_in_a_container(backend: Any, wrap: Any, kind: str, transform: str) -> None:
    def f(v: Any) -> Any:
        return wrap(mnp.sum(v**2))

    with pytest.raises(InvalidArgumentError) as info:
        getattr(multiad, transform)(f, backend=backend.name)(X)
    msg = str(info.value)
    assert msg.startswith(f"{transform}(f): f must return a scalar"), msg
    assert f"got a {kind} holding one" in msg and "return the scalar itself" in msg, msg


def test_grad_of_the_bare_scalar_and_with_aux(backend: Any) -> None:
    def f(v: Any) -> Any:
        return mnp.sum(v**2)

    backend.close(multiad.grad(f, backend=backend.name)(X), 2 * X)  # d/dv sum(v**2) = 2v
    g, _aux = multiad.grad(lambda v: (f(v), [v]), has_aux=True, backend=backend.name)(X)
    backend.close(g, 2 * X)


@pytest.mark.parametrize("several", [False, True])
def test_vjp_fn_takes_one_cotangent(backend: Any, several: bool) -> None:
    def f(v: Any) -> Any:
        return (v * 2.0, v * 3.0) if several else v * 2.0

    _out, vjp_fn = multiad.vjp(f, X, backend=backend.name)
    ct = np.ones(2)
    for args, n in [((ct, ct), 2), ((), 0), ((ct, ct, ct), 3)]:
        with pytest.raises(InvalidTypeError) as info:
            vjp_fn(*args)
        msg = str(info.value)
        assert msg.startswith("vjp(f) vjp_fn: takes one cotangent with the structure of f's output"), msg
        assert f"got {n} arguments" in msg, msg
    (g,) = vjp_fn((ct, ct) if several else ct)
    backend.close(g, np.full(2, 5.0 if several else 2.0))  # (2 + 3) or 2 per element
