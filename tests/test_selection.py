"""Which backend a call uses (NOTE [Selection precedence]), the backend table, and isolation of
``use_backend`` between threads and asyncio tasks."""

from __future__ import annotations

import asyncio
import contextvars
import importlib.metadata
import threading
from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS, Case, array_type

import multiad
import multiad.numpy as mnp
from multiad import _select

X = np.array([0.3, -1.2, 2.0])


def sin_x(x: Any) -> Any:
    return mnp.sum(mnp.sin(x) * x)


def grad_type(**kwargs: Any) -> type:
    return type(multiad.grad(sin_x, **kwargs)(X))


pytestmark = pytest.mark.usefixtures("clean_selection")


def test_priority_order_without_selection() -> None:
    assert multiad.get_backend().name == "torch"
    assert issubclass(grad_type(), array_type("torch"))


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_inference_from_array_types(name: str) -> None:
    x = Case(name).array(X)
    g = multiad.grad(sin_x)(x)
    Case(name).close(g, np.sin(X) + X * np.cos(X))
    # numpy arrays and Python numbers among the arguments are neutral.
    g = multiad.grad(lambda a, b, c: mnp.sum(a * b) * c)(x, X, 2.0)
    Case(name).close(g, 2.0 * X)


def test_environment_variable_beats_inference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MULTIAD_BACKEND", "jax")
    assert multiad.get_backend().name == "jax"
    assert issubclass(grad_type(), array_type("jax"))
    with pytest.raises(multiad.MixedBackendError, match="torch"):
        multiad.grad(sin_x)(Case("torch").array(X))
    monkeypatch.setenv("MULTIAD_BACKEND", "no-such-backend")
    with pytest.raises(multiad.BackendError, match=r"MULTIAD_BACKEND.*unknown backend 'no-such-backend'"):
        multiad.get_backend()


def test_set_backend_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MULTIAD_BACKEND", "jax")
    multiad.set_backend("numpy")
    assert multiad.get_backend().name == "numpy"
    assert grad_type() is np.ndarray
    multiad.set_backend(None)
    assert multiad.get_backend().name == "jax"


def test_use_backend_beats_set_backend_and_nests() -> None:
    multiad.set_backend("torch")
    with multiad.use_backend("jax") as b:
        assert b.name == "jax" and multiad.get_backend() is b
        assert issubclass(grad_type(), array_type("jax"))
        with multiad.use_backend("numpy"):
            assert multiad.get_backend().name == "numpy"
            assert multiad.grad(sin_x)(X).__class__ is np.ndarray
        assert multiad.get_backend().name == "jax"
    assert multiad.get_backend().name == "torch"


def test_backend_argument_beats_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MULTIAD_BACKEND", "autograd")
    multiad.set_backend("numpy")
    with multiad.use_backend("jax"):
        assert issubclass(grad_type(backend="torch"), array_type("torch"))
        # A backend object works as well as a name.
        with multiad.use_backend("torch") as torch_backend:
            pass
        assert issubclass(grad_type(backend=torch_backend), array_type("torch"))


def test_creation_follows_selection(backend: Case) -> None:
    with multiad.use_backend(backend.name):
        z = mnp.zeros((2, 3))
    assert isinstance(z, backend.array_type) and tuple(z.shape) == (2, 3)


def test_numpy_input_converts(backend: Case) -> None:
    x = backend.array(X)
    assert isinstance(x, backend.array_type) and multiad.to_numpy(x).dtype == np.float64
    g = multiad.grad(sin_x, backend=backend.name)(X)
    assert isinstance(g, backend.array_type)
    out = multiad.vmap(mnp.sin, backend=backend.name)(X[:, None])
    backend.close(out, np.sin(X[:, None]), order=0)


def test_list_backends_records() -> None:
    records = {r.name: r for r in multiad.list_backends()}
    for name in BACKENDS:
        r = records[name]
        assert r.status == "available", r.reason
        assert r.distribution == f"multiad-{name}"
        assert r.version == importlib.metadata.version(f"multiad-{name}")
    order = [r.name for r in multiad.list_backends() if r.name in BACKENDS]
    assert order == list(BACKENDS)


def test_unknown_backend_lists_available() -> None:
    pattern = r"unknown backend 'nope'; available backends: torch, jax, autograd, numpy"
    with pytest.raises(multiad.BackendError, match=r"^set_backend\('nope'\): " + pattern):
        multiad.set_backend("nope")
    with pytest.raises(multiad.BackendError, match=pattern), multiad.use_backend("nope"):
        pass
    with pytest.raises(multiad.BackendError, match=r"^grad\(sin_x\): " + pattern):
        multiad.grad(sin_x, backend="nope")(X)
    assert issubclass(multiad.BackendError, LookupError)


def test_mixed_backends_raise() -> None:
    xt, xj = Case("torch").array(X), Case("jax").array(X)
    with pytest.raises(multiad.MixedBackendError, match=r"^grad\(<lambda>\): .*'torch'.*'jax'"):
        multiad.grad(lambda a, b: mnp.sum(a * b))(xt, xj)
    with pytest.raises(multiad.MixedBackendError, match=r"'jax'.*'torch'"):
        multiad.vmap(lambda a, b: a * b)(xj, xt)
    # A torch array passed to the jax backend names both too.
    with pytest.raises(multiad.MixedBackendError, match=r"torch.*'jax'"):
        multiad.grad(sin_x, backend="jax")(xt)
    assert issubclass(multiad.MixedBackendError, TypeError)


def test_threads_are_isolated() -> None:
    names = ["torch", "jax", "autograd", "numpy"] * 2
    barrier = threading.Barrier(len(names))
    seen: dict[int, tuple[str, str, type]] = {}
    errors: list[BaseException] = []

    def work(i: int, name: str) -> None:
        try:
            with multiad.use_backend(name):
                barrier.wait(timeout=30)  # every thread is inside its own use_backend now
                g = multiad.grad(sin_x)(X)
                barrier.wait(timeout=30)
                seen[i] = (name, multiad.get_backend().name, type(g))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i, n)) for i, n in enumerate(names)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(seen) == len(names)
    for want, got, kind in seen.values():
        assert got == want
        assert issubclass(kind, array_type(want))
    assert _select._context.get() is None


def test_set_backend_is_process_wide() -> None:
    multiad.set_backend("jax")
    seen: list[str] = []
    t = threading.Thread(target=lambda: seen.append(multiad.get_backend().name))
    t.start()
    t.join()
    assert seen == ["jax"]


def test_asyncio_tasks_are_isolated() -> None:
    async def work(name: str) -> tuple[str, str]:
        with multiad.use_backend(name):
            await asyncio.sleep(0)  # let the other tasks enter their own use_backend
            inside = multiad.get_backend().name
            await asyncio.sleep(0)
            g = multiad.grad(sin_x)(X)
            assert isinstance(g, array_type(name))
            return name, inside

    async def main() -> list[tuple[str, str]]:
        return list(await asyncio.gather(*(work(n) for n in BACKENDS * 2)))

    results = asyncio.run(main())
    assert [want for want, _ in results] == list(BACKENDS * 2)
    assert all(want == got for want, got in results)


def test_a_compiler_probe_defined_later_is_asked() -> None:
    # NOTE [One compiler probe]: compiling() asks its one probe alone until another joins.
    from multiad import _backend

    _select.compiling()  # the first use is done
    tracing = [False]

    class Traced(multiad.Backend):
        name = "traced-probe-test"

        @classmethod
        def compiling(cls) -> bool:
            return tracing[0]

    try:
        assert _select.compiling() is False
        tracing[0] = True
        assert _select.compiling() is True
        assert _select.PROBE[0]() is True  # what hot paths call
    finally:
        _backend.COMPILING_PROBES.remove(Traced.compiling)
        _select._new_probe()
    assert _select.compiling() is False


def test_blocks_that_end_out_of_order_leave_the_innermost_open_block() -> None:
    # NOTE [Blocks that end out of order]: leaving the outer block first used to restore "no
    # selection" while the inner block was open, and leaving the inner one then selected the
    # outer block's backend for good.
    outer, inner = multiad.use_backend("jax"), multiad.use_backend("autograd")
    outer.__enter__()
    inner.__enter__()
    outer.__exit__(None, None, None)
    assert multiad.get_backend().name == "autograd"
    assert isinstance(multiad.grad(sin_x)(X), np.ndarray)
    inner.__exit__(None, None, None)
    assert _select._context.get() is None
    assert multiad.get_backend().name == "torch"


def test_leaving_a_block_that_is_not_open_raises() -> None:
    # an extra __exit__ (never entered, or leaving twice) was silently accepted
    block = multiad.use_backend("jax")
    message = r"^multiad\.use_backend\('jax'\)\.__exit__: this block is not open"
    with pytest.raises(RuntimeError, match=message):
        block.__exit__(None, None, None)
    with multiad.use_backend("numpy"):
        with block:
            assert multiad.get_backend().name == "jax"
        with pytest.raises(RuntimeError, match=message):
            block.__exit__(None, None, None)
        assert multiad.get_backend().name == "numpy"  # the failed exit changed nothing
    assert _select._context.get() is None


def test_a_block_ended_in_another_thread_is_not_an_extra_exit() -> None:
    # NOTE [Blocks that end out of order]: a generator finished in another thread leaves its
    # block there, which changes nothing in that thread's selection and raises nothing
    def selecting() -> Any:
        with multiad.use_backend("numpy"):
            yield multiad.get_backend().name
            yield multiad.get_backend().name

    gen = selecting()
    seen: list[Any] = []
    errors: list[BaseException] = []
    # entered in a copy of this context, which keeps the block the other thread cannot end
    assert contextvars.copy_context().run(next, gen) == "numpy"

    def finish() -> None:
        try:
            seen.append(multiad.get_backend().name)
            seen.extend(gen)
            seen.append(multiad.get_backend().name)
        except Exception as exc:  # noqa: BLE001 - any error in the thread fails the test below
            errors.append(exc)

    thread = threading.Thread(target=finish)
    thread.start()
    thread.join()
    assert not errors
    assert seen == ["torch", "torch", "torch"]
    assert _select._context.get() is None


def test_a_block_left_by_another_thread_can_still_be_left_where_it_was_entered() -> None:
    # NOTE [Blocks left in another context]: thread B's __exit__ of a block thread A had entered
    # counted as leaving it, and A's own __exit__ then raised "this block is not open" while
    # A was still inside it (numpy selected), so A could not leave it at all.
    block = multiad.use_backend("numpy")
    entered, left = threading.Event(), threading.Event()
    seen: list[Any] = []

    def a() -> None:
        block.__enter__()
        seen.append(multiad.get_backend().name)
        entered.set()
        left.wait(30)
        seen.append(multiad.get_backend().name)  # B's exit changes nothing here
        try:
            block.__exit__(None, None, None)
        except RuntimeError as exc:
            seen.append(f"RuntimeError: {exc}")
        seen.append(multiad.get_backend().name)

    def b() -> None:
        entered.wait(30)
        block.__exit__(None, None, None)  # never entered here: changes nothing here either
        seen.append(("b", multiad.get_backend().name))
        left.set()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == ["numpy", ("b", "torch"), "numpy", "torch"]
    with pytest.raises(RuntimeError, match="this block is not open"):  # both exits counted
        block.__exit__(None, None, None)


def test_generators_yielding_inside_blocks_leave_no_selection_behind() -> None:
    def selecting(name: str) -> Any:
        with multiad.use_backend(name):
            yield multiad.get_backend().name
            yield multiad.get_backend().name

    first, second = selecting("jax"), selecting("numpy")
    assert next(first) == "jax" and next(second) == "numpy"
    next(first), next(second)
    for gen in (first, second):  # first's block ends while second's is open
        assert next(gen, None) is None
    assert _select._context.get() is None
    assert multiad.get_backend().name == "torch"
    assert issubclass(grad_type(), array_type("torch"))


def test_one_use_backend_object_entered_twice_and_as_a_decorator() -> None:
    block = multiad.use_backend("jax")
    with block as b:
        with block as again:  # re-entry was an AttributeError of contextlib's generator manager
            assert again is b and multiad.get_backend() is b
        assert multiad.get_backend() is b
        with multiad.use_backend("numpy"):
            assert multiad.get_backend().name == "numpy"
        assert multiad.get_backend() is b
    assert _select._context.get() is None

    @multiad.use_backend("autograd")
    def gradient() -> Any:
        return multiad.grad(sin_x)(X)

    for _ in range(2):
        assert isinstance(gradient(), np.ndarray)
        assert _select._context.get() is None
    with pytest.raises(multiad.BackendError, match="use_backend"):
        multiad.use_backend("no-such-backend")
