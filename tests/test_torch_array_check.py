"""The torch backend's array check (NOTE [The array check reads no torch module] in the backend):
``isinstance(x, torch._C.TensorBase)`` names the objects ``isinstance(x, torch.Tensor)`` names."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad

torch = pytest.importorskip("torch")


def _backend() -> Any:
    multiad.grad(lambda x: (x * x).sum(), backend="torch")(torch.ones(2))  # loads the backend
    return multiad._registry._records["torch"].backend


class _Sub(torch.Tensor):
    pass


def _objects() -> list[Any]:
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        fake = torch.ones(2)
    x = torch.linspace(0.0, 1.0, 3, dtype=torch.float64)
    return [
        x,
        torch.nn.Parameter(torch.ones(2)),
        x.as_subclass(_Sub),
        fake,
        torch.tensor(1.0),
        torch.ones(2, dtype=torch.int64),
        np.ones(2),
        np.float64(1.0),
        1.0,
        [x],
        None,
    ]


def test_torch_tensor_is_the_only_subclass_torch_allows() -> None:
    # The premise of the check: no class but torch.Tensor (and its subclasses) derives from TensorBase.
    base = torch._C.TensorBase if hasattr(torch._C, "TensorBase") else torch._C._TensorBase
    assert base.__subclasses__() == [torch.Tensor]
    with pytest.raises(RuntimeError, match="subclass _TensorBase directly"):

        class _Direct(base):  # type: ignore[misc, valid-type]
            pass


@pytest.mark.parametrize("k", range(11))
def test_is_array_names_what_isinstance_tensor_names(k: int) -> None:
    x = _objects()[k]
    assert _backend().is_array(x) is isinstance(x, torch.Tensor)


def test_is_array_of_torch_func_wrapped_tensors() -> None:
    b, seen = _backend(), []

    def f(x: Any) -> Any:
        seen.append((b.is_array(x), isinstance(x, torch.Tensor), torch._C._functorch.is_functorch_wrapped_tensor(x)))
        return (x * x).sum()

    torch.func.grad(f)(torch.ones(2))
    torch.func.vmap(f)(torch.ones(2, 2))
    torch.func.jvp(f, (torch.ones(2),), (torch.ones(2),))
    assert seen == [(True, True, True)] * 3


def test_is_array_while_compiling() -> None:
    b = _backend()

    def g(x: Any, y: Any) -> Any:
        return x * (2.0 if b.is_array(x) else 0.0) + (1.0 if b.is_array(y) else -1.0)

    torch._dynamo.reset()
    c = torch.compile(g, backend="eager", fullgraph=True)
    np.testing.assert_allclose(c(torch.ones(2), torch.ones(2)).numpy(), [3.0, 3.0])
    np.testing.assert_allclose(c(torch.ones(2), 1.0).numpy(), [1.0, 1.0])
