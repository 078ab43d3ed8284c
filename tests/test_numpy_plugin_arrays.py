"""multiad.numpy on the arrays of a third-party backend (NOTE [Plugin arrays in multiad.numpy]).

numpy's own functions convert an array class that implements neither ``__array_function__`` nor
``__array_ufunc__`` (a TensorFlow tensor): before, ``mnp.sum(t)`` of such a plugin's array was a
numpy float, and ``grad`` through it gave zeros without an error. Now the backend's
``numpy_namespace()`` runs them, and without one the call raises.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp
from multiad import _registry

PLUGINS = Path(__file__).parent / "plugins"
MODULE = "multiad_test_boxes"  # the top-level module of the array classes, as a framework's


def _module() -> types.ModuleType:
    mod = sys.modules.get(MODULE)
    if mod is None:
        mod = sys.modules[MODULE] = types.ModuleType(MODULE)
    return mod


class Box:
    """An array class numpy converts (``__array__`` only), as TensorFlow's tensors."""

    def __init__(self, value: Any) -> None:
        self.value = value if isinstance(value, np.ndarray) else np.asarray(value, dtype=float)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.value if dtype is None else self.value.astype(dtype)

    def __mul__(self, other: Any) -> Box:
        return Box(self.value * (other.value if isinstance(other, Box) else other))

    __rmul__ = __mul__


class ProtocolBox(Box):
    """An array class implementing numpy's function protocol, as MyGrad's Tensor."""

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        unboxed = [a.value if isinstance(a, Box) else a for a in args]
        return ProtocolBox(func(*unboxed, **kwargs))

    def __array_ufunc__(self, ufunc: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        unboxed = [a.value if isinstance(a, Box) else a for a in args]
        return ProtocolBox(getattr(ufunc, method)(*unboxed, **kwargs))


for _cls in (Box, ProtocolBox):
    _cls.__module__ = MODULE
    setattr(_module(), _cls.__name__, _cls)

#: A numpy namespace for Box, recording what it was asked.
NAMESPACE = types.SimpleNamespace(
    calls=[],
    sin=lambda x: (NAMESPACE.calls.append("sin"), Box(np.sin(x.value)))[1],
    sum=lambda x, axis=None: (NAMESPACE.calls.append("sum"), Box(np.sum(x.value, axis=axis)))[1],
    asarray=lambda x, dtype=None: (NAMESPACE.calls.append("asarray"), Box(np.asarray(x.value, dtype=dtype)))[1],
    array=lambda obj: (NAMESPACE.calls.append("array"), Box([np.asarray(v) for v in obj]))[1],
)


def _backend(name: str, namespace: Any) -> type[multiad.Backend]:
    base = type(_registry.get("numpy"))

    def numpy_namespace(self: multiad.Backend) -> Any:
        return namespace

    attrs: dict[str, Any] = {
        "name": name,
        "__module__": __name__,
        "array_modules": (MODULE,),
        "numpy_namespace": numpy_namespace,
    }
    return type("BoxBackend", (base,), attrs)


@pytest.fixture
def registry() -> Iterator[None]:
    _registry.records()
    state = _registry.snapshot()
    try:
        yield
    finally:
        _registry.restore(state)


@pytest.mark.usefixtures("registry")
def test_plugin_array_that_numpy_would_convert_raises() -> None:
    multiad.register_backend("boxes", _backend("boxes", None))
    with pytest.raises(multiad.InvalidTypeError) as info:
        mnp.sin(Box([0.5, 1.0]))
    msg = str(info.value)
    assert msg.startswith("mnp.sin: "), msg
    assert "'boxes'" in msg and "numpy_namespace" in msg and "drop their derivatives" in msg
    with pytest.raises(multiad.InvalidTypeError, match=r"^mnp\.sum: "):
        mnp.sum([Box([0.5]), Box([1.0])])  # found inside a list too


@pytest.mark.usefixtures("registry")
def test_plugin_namespace_runs_its_arrays() -> None:
    multiad.register_backend("boxes", _backend("boxes", NAMESPACE))
    NAMESPACE.calls.clear()
    x = Box([0.5, 1.0])
    out = mnp.sin(x)
    assert isinstance(out, Box) and NAMESPACE.calls == ["sin"]
    np.testing.assert_allclose(out.value, np.sin([0.5, 1.0]))
    total = mnp.sum(2.0 * x, axis=0)
    assert isinstance(total, Box) and NAMESPACE.calls == ["sin", "sum"]
    np.testing.assert_allclose(total.value, 3.0)
    # multiad's own error, as every error multiad raises (UnsupportedOperationError is also a
    # NotImplementedError, so callers catching that still do)
    with pytest.raises(
        multiad.UnsupportedOperationError, match=r"^mnp\.cos: backend 'boxes' has no cos for its arrays"
    ):
        mnp.cos(x)  # the namespace lacks it: named as the backend's, not as "plugin:boxes arrays"


@pytest.mark.usefixtures("registry")
def test_arrays_two_backends_claim_run_in_the_selected_ones_namespace() -> None:
    # NOTE [Contested plugin arrays]: numpy's own functions ran here and converted the Box
    # (a tf.Tensor's derivative was dropped: grad gave zeros, with a backend selected).
    other = types.SimpleNamespace(sin=lambda x: Box(np.sin(x.value) + 100.0))
    multiad.register_backend("boxes", _backend("boxes", NAMESPACE))
    multiad.register_backend("boxes2", _backend("boxes2", other))
    x = Box([0.5, 1.0])
    with pytest.raises(multiad.BackendError, match=r"^multiad\.numpy: .*'boxes' and 'boxes2'"):
        mnp.sin(x)  # nothing selects one of them: refused, never run in numpy
    with multiad.use_backend("boxes"):
        out = mnp.sin(x)
    assert isinstance(out, Box)
    np.testing.assert_allclose(out.value, np.sin([0.5, 1.0]))
    with multiad.use_backend("boxes2"):
        out = mnp.sin(x)
    assert isinstance(out, Box)
    np.testing.assert_allclose(out.value, np.sin([0.5, 1.0]) + 100.0)


@pytest.mark.usefixtures("registry")
def test_arrays_of_a_selected_unregistered_backend_run_in_its_namespace() -> None:
    # NOTE [Arrays of an unregistered backend]: the conformance suite's module:object spec selects
    # a backend the registry does not know; numpy's own functions converted its arrays.
    backend = _backend("boxes-unregistered", NAMESPACE)()
    NAMESPACE.calls.clear()
    x = Box([0.5, 1.0])
    assert isinstance(mnp.sin(x), np.ndarray)  # unclaimed while nothing claims it: numpy's, as before
    with multiad.use_backend(backend):
        out = mnp.sin(x)
        total = mnp.sum(out)
    assert isinstance(out, Box) and isinstance(total, Box) and NAMESPACE.calls == ["sin", "sum"]
    np.testing.assert_allclose(total.value, np.sum(np.sin([0.5, 1.0])))
    assert isinstance(mnp.sin(x), np.ndarray)  # the selection ended: not remembered for the class


@pytest.mark.usefixtures("registry")
def test_astype_and_stop_gradient_of_a_plugin_array() -> None:
    multiad.register_backend("boxes", _backend("boxes", NAMESPACE))
    NAMESPACE.calls.clear()
    x = Box([0.5, 1.0])
    cast = mnp.astype(x, np.float32)  # Box has no astype method: the namespace's asarray
    assert isinstance(cast, Box) and cast.value.dtype == np.float32 and NAMESPACE.calls == ["asarray"]
    # the default Backend.stop_gradient raises: returning x would keep its derivative
    with pytest.raises(multiad.UnsupportedOperationError, match=r"^mnp\.stop_gradient: backend 'boxes'"):
        mnp.stop_gradient(x)


@pytest.fixture
def mygrad_backend(registry: None) -> str:
    pytest.importorskip("mygrad")
    monkey = pytest.MonkeyPatch()
    monkey.syspath_prepend(str(PLUGINS / "multiad-mygrad"))
    try:
        from multiad_mygrad import MygradBackend
    finally:
        monkey.undo()
    multiad.register_backend("mygrad-test", type("MygradTest", (MygradBackend,), {"name": "mygrad-test"}))
    return "mygrad-test"


def test_stop_gradient_on_mygrad_holds_the_value_constant(mygrad_backend: str) -> None:
    # d/dz sum(z * const(z)) = z. Before, mnp.stop_gradient returned MyGrad's tensor as it was,
    # derivative and all: 2 z, without an error.
    x = np.array([1.0, -2.0, 0.5])
    g = multiad.grad(lambda z: mnp.sum(z * mnp.stop_gradient(z)), backend=mygrad_backend)(x)
    np.testing.assert_allclose(multiad.to_numpy(g), x)


def test_copy_on_mygrad_keeps_the_derivative(mygrad_backend: str) -> None:
    # d/dz sum(z * copy(z)) = 2 z. Before, np.array(tensor, copy=True) made a numpy array: z.
    x = np.array([1.0, -2.0, 0.5])
    g = multiad.grad(lambda z: mnp.sum(z * mnp.copy(z)), backend=mygrad_backend)(x)
    np.testing.assert_allclose(multiad.to_numpy(g), 2 * x)


@pytest.mark.usefixtures("registry")
def test_plugin_arrays_with_numpy_protocols_still_run_in_numpy() -> None:
    # MyGrad's route: numpy's functions reach the class's __array_function__ / __array_ufunc__.
    multiad.register_backend("boxes", _backend("boxes", None))
    out = mnp.sum(ProtocolBox([0.5, 1.0]))
    assert isinstance(out, ProtocolBox)
    np.testing.assert_allclose(out.value, 1.5)
    assert isinstance(mnp.sin(ProtocolBox([0.5])), ProtocolBox)


@pytest.mark.usefixtures("registry")
def test_unclaimed_array_classes_run_in_numpy_as_before() -> None:
    out = mnp.sin(Box([0.5]))
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, np.sin([0.5]))


@pytest.mark.usefixtures("registry")
def test_registry_changes_reach_the_dispatch() -> None:
    multiad.register_backend("boxes", _backend("boxes", None))
    with pytest.raises(multiad.InvalidTypeError):
        mnp.sin(Box([0.5]))
    multiad.register_backend("boxes", _backend("boxes", NAMESPACE), replace=True)
    NAMESPACE.calls.clear()
    assert isinstance(mnp.sin(Box([0.5])), Box) and NAMESPACE.calls == ["sin"]


def test_namespace_default_is_none() -> None:
    class Plain(multiad.Backend):
        name: ClassVar[str] = "plain"

        def asarray(self, x: Any, dtype: Any = None, device: Any = None) -> Any:
            return np.asarray(x, dtype=dtype)

    assert Plain().numpy_namespace() is None


class _TFStyleDType:
    """A dtype spelled as TensorFlow's: ``str`` gives ``<dtype: 'float32'>``, ``name`` the name."""

    name = "float32"

    def __str__(self) -> str:
        return "<dtype: 'float32'>"


class _TorchStyleDType:
    def __str__(self) -> str:
        return "torch.float64"


def test_default_dtype_name_reads_the_dtype_name() -> None:
    class Plain(multiad.Backend):
        name: ClassVar[str] = "plain"

        def asarray(self, x: Any, dtype: Any = None, device: Any = None) -> Any:
            return np.asarray(x, dtype=dtype)

    b = Plain()
    assert b.dtype_name(types.SimpleNamespace(dtype=_TFStyleDType())) == "float32"  # was "<dtype: 'float32'>"
    assert b.dtype_name(types.SimpleNamespace(dtype=_TorchStyleDType())) == "float64"
    assert b.dtype_name(np.zeros(2, dtype=np.float32)) == "float32"


def test_numpy_namespace_reads_tensorflow_style_dtype_names() -> None:
    # mnp's own dtype test (is x floating?) read "<dtype: 'float64'>": a float tensor was taken
    # for an integer one (mnp.linalg.norm then cast it through JAX)
    from multiad.numpy import _composite

    tf_style = types.SimpleNamespace(dtype=_TFStyleDType())
    assert _composite.dtype_name(tf_style) == "float32"
    assert _composite.inexact(tf_style)


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize("creates_float64", [False, True])
def test_creation_dtype_of_a_float32_default(creates_float64: bool) -> None:
    # NOTE [Creation dtypes]: a backend whose float32 default is a limit (JAX without x64) gets
    # float32 from mnp.ones; one declaring creates_float64 (TensorFlow) numpy's float64, which a
    # float64 argument can be added to (TensorFlow's operators refuse to mix the two).
    base = type(_registry.get("numpy"))
    attrs = {
        "name": "f32default",
        "__module__": __name__,
        "creates_float64": creates_float64,
        "default_dtype": lambda self: "float32",
    }
    multiad.register_backend("f32default", type("F32Default", (base,), attrs))
    with multiad.use_backend("f32default"):
        assert mnp.ones(2).dtype == (np.float64 if creates_float64 else np.float32)
        assert mnp.linspace(0.0, 1.0, 3).dtype == (np.float64 if creates_float64 else np.float32)
        assert mnp.ones(2, dtype="float32").dtype == np.float32  # an explicit dtype wins


@pytest.mark.usefixtures("registry")
def test_creates_float64_must_be_a_bool() -> None:
    base = type(_registry.get("numpy"))
    bad = type("Bad", (base,), {"name": "badflag", "__module__": __name__, "creates_float64": "yes"})
    with pytest.raises(multiad.BackendError, match="creates_float64"):
        multiad.register_backend("badflag", bad)
