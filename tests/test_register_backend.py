"""Run-time registration (``register_backend``), validation of what a plugin declares, and the
rules that keep plugins from taking over (NOTE [Plugins never take over]), in-process, with the
registry restored after every test. Installed faulty plugins: tests/test_plugins_broken.py."""

from __future__ import annotations

import dataclasses
import signal
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pytest
from conftest import Case

import multiad
import multiad.numpy as mnp
from multiad import _registry, _select
from multiad._backend import API_VERSION
from multiad._guard import guarded


@pytest.fixture
def registry() -> Iterator[None]:
    """The registry as it was before the test, restored afterwards."""
    _registry.records()  # discover first, so that restoring does not hide the entry points
    state = _registry.snapshot()
    try:
        yield
    finally:
        _registry.restore(state)


def numpy_class() -> type[multiad.Backend]:
    return type(_registry.get("numpy"))


def make(name: str, **attrs: Any) -> type[multiad.Backend]:
    base = numpy_class()
    return type("Runtime", (base,), {"name": name, "__module__": __name__, **attrs})


@pytest.mark.usefixtures("registry")
def test_register_backend_then_use_it() -> None:
    cls = make("rt_fd")
    obj = multiad.register_backend("rt_fd", cls)
    assert isinstance(obj, cls)
    rec = {r.name: r for r in multiad.list_backends()}["rt_fd"]
    assert rec.status == "available" and rec.source == "register_backend"
    x = np.array([0.5, 1.5])
    g = multiad.grad(lambda v: mnp.sum(v**3), backend="rt_fd")(x)
    np.testing.assert_allclose(multiad.to_numpy(g), 3 * x**2, rtol=1e-6)
    with multiad.use_backend("rt_fd"):
        assert multiad.get_backend() is obj


@pytest.mark.usefixtures("registry")
def test_register_duplicate_name_needs_replace() -> None:
    first = multiad.register_backend("rt_dup", make("rt_dup"))
    with pytest.raises(multiad.BackendError) as info:
        multiad.register_backend("rt_dup", make("rt_dup"))
    msg = str(info.value)
    assert msg.startswith("register_backend('rt_dup', ...): a backend named 'rt_dup' is already registered")
    assert "pass replace=True" in msg
    assert _registry.get("rt_dup") is first
    second = multiad.register_backend("rt_dup", make("rt_dup"), replace=True)
    assert second is not first and _registry.get("rt_dup") is second
    # An in-tree name is protected the same way.
    with pytest.raises(multiad.BackendError, match=r"^register_backend\('numpy', \.\.\.\): a backend named 'numpy'"):
        multiad.register_backend("numpy", make("numpy"))
    assert type(_registry.get("numpy")) is numpy_class()


def _exit(self: Any) -> Any:
    raise SystemExit(4)


def _interrupt(self: Any) -> Any:
    raise KeyboardInterrupt("from the plugin")


class Failing(multiad.Backend):
    name: ClassVar[str] = "rt_bad"
    has_vjp: ClassVar[bool] = True

    def __init__(self) -> None:
        raise RuntimeError("no device")


INVALID = [
    ("object", lambda: object(), ["gave object object", "not a multiad.Backend subclass or instance"]),
    ("class", lambda: int, ["gave type object", "not a multiad.Backend"]),
    ("constructor", lambda: Failing, ["constructing Failing raised RuntimeError: no device"]),
    ("api", lambda: make("rt_bad", api_version=API_VERSION + 1), [f"plugin API version {API_VERSION + 1}", "install a version of the plugin"]),
    ("primitives", lambda: make("rt_bad", has_vjp=False, has_jvp=False), ["declares neither has_vjp nor has_jvp"]),
    ("name", lambda: make("other"), ["registered as 'rt_bad' but the backend calls itself 'other'"]),
    ("framework", lambda: make("rt_bad", framework="multiad_no_such_framework"), ["'multiad_no_such_framework' is not installed"]),
    ("framework-parent", lambda: make("rt_bad", framework="multiad_missing_pkg.sub"), ["'multiad_missing_pkg.sub' is not installed", "No module named 'multiad_missing_pkg'"]),
    ("framework-type", lambda: make("rt_bad", framework=None), ["framework must be a module name (str), got None"]),
    ("native-none", lambda: make("rt_bad", native=None), ["native must be a frozenset of transform names, got None"]),
    ("native-unknown", lambda: make("rt_bad", native=frozenset({"hessian"})), ["declares native ['hessian'] that multiad does not know"]),
    ("native-chunks", lambda: make("rt_bad", native_chunks=3), ["native_chunks must be a frozenset of transform names, got 3"]),
    ("unsupported", lambda: make("rt_bad", unsupported=frozenset({"gradient"})), ["declares unsupported ['gradient'], which are not multiad transforms"]),
    ("array-modules-str", lambda: make("rt_bad", array_modules="torch"), ["array_modules must be a tuple of top-level module names such as ('torch',), got 'torch'"]),
    ("array-modules-dotted", lambda: make("rt_bad", array_modules=("jax.numpy",)), ["array_modules names ['jax.numpy']: give top-level module names only"]),
    ("array-modules-numpy", lambda: make("rt_bad", array_modules=("numpy",)), ["array_modules names ['numpy']", "NumPy arrays and Python numbers are neutral"]),
    ("priority", lambda: make("rt_bad", priority="high"), ["priority must be an int, got 'high'"]),
    ("flag", lambda: make("rt_bad", has_vmap=None), ["has_vmap must be True or False, got None"]),
    ("api-type", lambda: make("rt_bad", api_version="1"), ["api_version must be an int such as multiad.API_VERSION"]),
    ("exit-in-constructor", lambda: make("rt_bad", __init__=_exit), ["constructing Runtime raised SystemExit: 4"]),
    ("interrupt-in-constructor", lambda: make("rt_bad", __init__=_interrupt), ["constructing Runtime raised KeyboardInterrupt: from the plugin"]),
    ("exit-in-installed", lambda: make("rt_bad", installed=_exit), ["checking whether its framework is installed raised SystemExit: 4"]),
    ("declaration-raises", lambda: make("rt_bad", priority=property(_interrupt)), ["reading its declarations raised KeyboardInterrupt"]),
]  # fmt: skip


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(("what", "obj", "parts"), INVALID, ids=[i[0] for i in INVALID])
def test_register_invalid_names_the_plugin(what: str, obj: Any, parts: list[str]) -> None:
    with pytest.raises(multiad.BackendError) as info:
        multiad.register_backend("rt_bad", obj())
    msg = str(info.value)
    assert msg.startswith("register_backend('rt_bad', ...): "), msg
    assert msg.count("register_backend(") == 1, msg  # the prefix is not repeated
    for part in parts:
        assert part in msg, msg
    assert "rt_bad" not in [r.name for r in multiad.list_backends()]
    # Nothing else was disturbed.
    g = multiad.grad(lambda v: mnp.sum(v * v), backend="numpy")(np.array([1.0, 2.0]))
    np.testing.assert_allclose(multiad.to_numpy(g), [2.0, 4.0], rtol=1e-6)


@pytest.mark.parametrize("name", ["", 3, None])
def test_register_needs_a_name(name: Any) -> None:
    with pytest.raises(multiad.BackendError, match=r"the name must be a non-empty string"):
        multiad.register_backend(name, make("x"))


# -- plugins never take over (NOTE [Plugins never take over]) ------------------------------------


def torch_class() -> type[multiad.Backend]:
    return type(_registry.get("torch"))


def doubled(base: type[multiad.Backend], name: str, **attrs: Any) -> type[multiad.Backend]:
    """A backend whose gradients are twice the right ones, so that using it by mistake shows."""

    def vjp(self: Any, fun: Any, primals: tuple[Any, ...], has_aux: bool) -> tuple[Any, Any, Any]:
        outs, pullback, aux = base.vjp(self, fun, primals, has_aux)
        return outs, lambda cts: tuple(2 * g for g in pullback(cts)), aux

    body = {"name": name, "native": frozenset(), "native_chunks": frozenset(), "vjp": vjp}
    return type("Doubled", (base,), {"__module__": __name__, **body, **attrs})


def cube(x: Any) -> Any:
    return mnp.sum(x * x * x)


X = np.array([1.0, -2.0, 3.0])


def close(g: Any, expected: np.ndarray) -> None:
    """Compares without multiad.to_numpy, which infers the backend from the array type too."""
    np.testing.assert_allclose(np.asarray(g.tolist()), expected, rtol=1e-12)


@pytest.mark.usefixtures("registry", "clean_selection")
def test_registered_claim_on_torch_arrays_is_a_conflict() -> None:
    t = Case("torch").array(X)
    close(multiad.grad(cube)(t), 3 * X**2)  # seen (and its owner cached) before the plugin
    multiad.register_backend("rt_torch", doubled(torch_class(), "rt_torch"))
    with pytest.raises(multiad.BackendError) as info:
        multiad.grad(cube)(t)
    msg = str(info.value)
    assert msg.startswith("grad(cube): torch arrays (Tensor) are claimed by several backends, 'rt_torch' and 'torch'")
    assert "use_backend" in msg and "python -m multiad backends" in msg
    with pytest.raises(multiad.BackendError, match=r"^to_numpy\(x\): torch arrays"):
        multiad.to_numpy(t)
    records = {r.name: r for r in multiad.list_backends()}
    assert records["torch"].conflicts == ("torch arrays are also claimed by 'rt_torch'",)
    assert records["rt_torch"].conflicts == ("torch arrays are also claimed by 'torch'",)
    assert records["torch"].status == records["rt_torch"].status == "available"
    # Every explicit selection works, and runs what it names.
    close(multiad.grad(cube, backend="torch")(t), 3 * X**2)
    close(multiad.grad(cube, backend="rt_torch")(t), 6 * X**2)
    with multiad.use_backend("torch"):
        close(multiad.grad(cube)(t), 3 * X**2)
        np.testing.assert_array_equal(multiad.to_numpy(t), X)
    multiad.set_backend("torch")
    close(multiad.grad(cube)(t), 3 * X**2)


@pytest.mark.usefixtures("registry", "clean_selection")
def test_registered_priority_zero_does_not_become_the_default() -> None:
    assert multiad.get_backend().name == "torch"
    multiad.register_backend("rt_first", doubled(numpy_class(), "rt_first", priority=0))
    assert multiad.get_backend().name == "torch"
    g = multiad.grad(cube)(X)
    assert isinstance(g, Case("torch").array_type)
    close(g, 3 * X**2)
    np.testing.assert_allclose(multiad.to_numpy(multiad.grad(cube, backend="rt_first")(X)), 6 * X**2, rtol=1e-6)
    # Listed after multiad's own backends, whatever its priority.
    available = [r.name for r in multiad.list_backends() if r.status == "available"]
    assert available.index("rt_first") > max(available.index(n) for n in ("torch", "jax", "autograd"))


@pytest.mark.usefixtures("registry", "clean_selection")
def test_without_own_backends_one_plugin_is_the_default_and_two_raise() -> None:
    with _registry._lock:
        for name, rec in list(_registry._records.items()):
            _registry._records[name] = dataclasses.replace(rec, first_party=False)
            if rec.status == "available" and name != "numpy":
                _registry._records[name] = dataclasses.replace(rec, status="not installed", first_party=False)
        _registry._changed()
    assert multiad.get_backend().name == "numpy"  # the only one left
    multiad.register_backend("rt_other", make("rt_other", priority=0))
    with pytest.raises(multiad.BackendError) as info:
        multiad.get_backend()
    msg = str(info.value)
    assert msg.startswith("get_backend(): no backend is selected")
    assert "several plugins are (rt_other, numpy)" in msg and "use_backend" in msg
    with pytest.raises(multiad.BackendError, match=r"^grad\(cube\): no backend is selected"):
        multiad.grad(cube)(X)
    np.testing.assert_allclose(multiad.to_numpy(multiad.grad(cube, backend="numpy")(X)), 3 * X**2, rtol=1e-6)


class _RtArray(np.ndarray):  # an array type of a framework multiad has not seen yet
    pass


_RtArray.__module__ = "multiad_rt_arrays"


@pytest.mark.usefixtures("registry", "clean_selection")
def test_register_after_the_array_type_was_seen() -> None:
    x = X.view(_RtArray)
    assert _select.infer([x], "t") is None  # unclaimed: neutral, and cached as such
    cls = make("rt_arrays", array_modules=("multiad_rt_arrays",), is_array=lambda self, v: isinstance(v, np.ndarray))
    multiad.register_backend("rt_arrays", cls)
    assert _select.infer([x], "t") == "rt_arrays"
    g = multiad.grad(cube)(x)
    assert isinstance(g, np.ndarray)
    np.testing.assert_allclose(g, 3 * X**2, rtol=1e-6)


@pytest.mark.usefixtures("registry", "clean_selection")
def test_replacing_a_backend_updates_inference() -> None:
    t = Case("torch").array(X)
    assert _select.infer([t], "t") == "torch"
    replacement = multiad.register_backend("torch", doubled(torch_class(), "torch"), replace=True)
    assert multiad.get_backend() is replacement  # it takes the rank of the backend it replaces
    close(multiad.grad(cube)(t), 6 * X**2)


@pytest.mark.usefixtures("registry", "clean_selection")
def test_replacing_a_backend_reaches_vjp_of_arrays() -> None:
    # vjp of array arguments keeps its signatures in a table of its own (NOTE [Keys without the structure]).
    t = Case("torch").array(X)

    def pulled() -> Any:
        out, pull = multiad.vjp(cube, t)
        return pull(mnp.ones_like(out))[0]

    for _ in range(3):  # the first calls fill both tables
        close(pulled(), 3 * X**2)
    multiad.register_backend("torch", doubled(torch_class(), "torch"), replace=True)
    close(pulled(), 6 * X**2)


# -- plugin code that raises BaseException (NOTE [Interrupts from plugins]) ----------------------


def test_guarded_records_what_a_plugin_raises() -> None:
    for exc in (SystemExit(2), KeyboardInterrupt("plugin"), GeneratorExit(), ValueError("v")):

        def boom(exc: BaseException = exc) -> None:
            raise exc

        result, caught = guarded(boom)
        assert result is None and caught is exc
    assert guarded(lambda: 5) == (5, None)


def test_guarded_lets_a_real_interrupt_through() -> None:
    def typed() -> None:
        signal.raise_signal(signal.SIGINT)  # as if the user pressed Ctrl-C while the plugin ran

    # Python's own handler, as in an interactive program: a process started in the background
    # (a CI runner, `cmd &`) may inherit SIGINT ignored, and then no signal is delivered at all.
    outer = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        before = signal.getsignal(signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            guarded(typed)
        assert signal.getsignal(signal.SIGINT) is before  # the handler is restored
    finally:
        signal.signal(signal.SIGINT, outer)


def test_guarded_in_a_thread_records_a_plugin_interrupt() -> None:
    seen: list[Any] = []

    def boom() -> None:
        raise KeyboardInterrupt("plugin")

    thread = threading.Thread(target=lambda: seen.append(guarded(boom)))
    thread.start()
    thread.join()
    assert seen[0][0] is None and isinstance(seen[0][1], KeyboardInterrupt)


def test_own_backends_are_read_from_multiads_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    reqs = ["numpy>=1.24", 'Multiad_Torch>=0.1; extra == "torch"', 'multiad.jax; extra == "jax"']
    monkeypatch.setattr(importlib.metadata, "requires", lambda name: reqs if name == "multiad" else None)
    assert _registry._own_distributions() == {"numpy", "multiad-torch", "multiad-jax"}

    def missing(name: str) -> None:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "requires", missing)
    assert _registry._own_distributions() is None  # an uninstalled source tree: priority alone orders


@pytest.mark.usefixtures("registry")
def test_an_owner_read_before_a_registration_is_not_cached() -> None:
    # A thread that read the claims, then lost the race against register_backend, must not
    # store what it read after the registration cleared the cache.
    claimants, gen = _registry.claims("multiad_rt_arrays")
    assert claimants == ()
    multiad.register_backend("rt_arrays", make("rt_arrays", array_modules=("multiad_rt_arrays",)))
    cache: dict[Any, Any] = {}
    _registry.remember(cache, _RtArray, "<neutral>", gen)
    assert cache == {}
    claimants, gen = _registry.claims("multiad_rt_arrays")
    assert claimants == ("rt_arrays",)
    _registry.remember(cache, _RtArray, "rt_arrays", gen)
    assert cache == {_RtArray: "rt_arrays"}
