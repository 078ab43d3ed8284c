"""multiad's checks of ``f``'s output under ``torch.compile`` raise multiad's own error.

NOTE [Errors of f's output after a failed trace] in the torch backend's ``_callbacks.py``: under
``backend="eager"`` without ``fullgraph`` these calls raised the compiler's ``AssertionError:
False != True`` (torch 2.13), where the eager call raises multiad's InvalidArgumentError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import multiad

torch = pytest.importorskip("torch")
pytest.importorskip("torch._dynamo")
if not hasattr(torch, "compile"):
    pytest.skip("torch.compile is not available", allow_module_level=True)


def _sin(x: Any) -> Any:
    return torch.sin(x)


def _squares(y: Any) -> Any:
    return (y**2).sum()


def _pair(y: Any) -> Any:
    return (y.sum(), y.sum())


#: The calls whose output check fails: a non-scalar f (or a tuple of scalars) for the scalar
#: transforms, and has_aux=True with an f that returns no pair.
CASES: dict[str, Callable[[Any], Any]] = {
    "hvp": lambda x: multiad.hvp(_sin, (x,), (x,)),
    "vhp": lambda x: multiad.vhp(_sin, (x,), (x,)),
    "grad": lambda x: multiad.grad(_sin)(x),
    "grad of a tuple": lambda x: multiad.grad(_pair)(x),
    "value_and_grad": lambda x: multiad.value_and_grad(_sin)(x),
    "value_and_grad of a tuple": lambda x: multiad.value_and_grad(_pair)(x),
    "grad has_aux": lambda x: multiad.grad(_squares, has_aux=True)(x),
    "value_and_grad has_aux": lambda x: multiad.value_and_grad(_squares, has_aux=True)(x),
    "jacrev has_aux": lambda x: multiad.jacrev(_sin, has_aux=True)(x),
    "vjp has_aux": lambda x: multiad.vjp(_sin, x, has_aux=True),
}

#: (compiler backend, fullgraph)
SETTINGS = [("eager", False), ("eager", True), ("aot_eager", False), ("inductor", False)]


def _eager_message(fn: Callable[[Any], Any], x: Any) -> str:
    with pytest.raises(multiad.InvalidArgumentError) as info:
        fn(x)
    return str(info.value)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: f"{s[0]}{'-fullgraph' if s[1] else ''}")
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_wrong_output_of_f_under_torch_compile_raises_multiads_error(name: str, setting: tuple[str, bool]) -> None:
    fn = CASES[name]
    x = torch.linspace(-1.0, 1.0, 3, dtype=torch.float64)
    with multiad.use_backend("torch"):
        message = _eager_message(fn, x)
    assert message.startswith(name.split()[0])
    backend, fullgraph = setting
    torch._dynamo.reset()
    compiled = torch.compile(fn, backend=backend, fullgraph=fullgraph)
    multiad.set_backend("torch")
    try:
        for _ in range(2):  # the second call of the same compiled function raises it again
            if fullgraph:
                # The compiler reports the error as its own (docs/migration.md, "Transforms
                # under torch.compile"), with multiad's message in it.
                with pytest.raises(Exception) as info:
                    compiled(x)
                assert message in str(info.value)
            else:
                with pytest.raises(multiad.InvalidArgumentError) as caught:
                    compiled(x)
                assert str(caught.value) == message
    finally:
        multiad.set_backend(None)
