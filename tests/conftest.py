"""Shared fixtures: one parametrized ``backend`` case per in-tree backend, and tolerances.

JAX computes in float32 unless x64 is enabled; the session enables it once, before any test,
so that every backend works in float64 and the references below can be compared tightly.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import optree
import pytest

import multiad
from multiad import _select

BACKENDS = ("torch", "jax", "autograd", "numpy")
AD_BACKENDS = ("torch", "jax", "autograd")


def pytest_sessionstart(session: pytest.Session) -> None:
    import jax

    jax.config.update("jax_enable_x64", True)


def array_type(name: str) -> type:
    """The array class results of the ``name`` backend have."""
    if name == "torch":
        import torch

        return torch.Tensor  # type: ignore[no-any-return]
    if name == "jax":
        import jax

        return jax.Array  # type: ignore[no-any-return]
    return np.ndarray


def tolerance(name: str, order: int = 1) -> dict[str, float]:
    """rtol/atol for derivatives of ``order`` computed by backend ``name``.

    AD backends are exact up to float64 rounding; the numpy backend differentiates by central
    finite differences (NOTE [Finite-difference steps]), and nested differences lose more.
    """
    if name == "numpy" or name.startswith("numpy["):
        tol = 1e-4 if order <= 1 else 5e-3
        return {"rtol": tol, "atol": tol}
    return {"rtol": 1e-6, "atol": 1e-9}


def tree_leaves(tree: Any) -> list[Any]:
    return optree.tree_leaves(tree, namespace="multiad")  # type: ignore[no-any-return]


def tree_structure(tree: Any) -> Any:
    return optree.tree_structure(tree, namespace="multiad")


@dataclass(frozen=True)
class Case:
    """One backend under test: its name, tolerances and result array type."""

    name: str

    @property
    def array_type(self) -> type:
        return array_type(self.name)

    def tol(self, order: int = 1) -> dict[str, float]:
        return tolerance(self.name, order)

    def array(self, x: Any) -> Any:
        """``x`` as a float64 array of this backend."""
        return multiad.asarray(np.asarray(x, dtype=np.float64), backend=self.name)

    def close(self, actual: Any, expected: Any, order: int = 1) -> None:
        assert_tree_close(actual, expected, self.name, order)


def central_gradient(f: Callable[[Any], Any], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """The gradient of numpy's scalar ``f`` at ``x`` by central differences, one element at a
    time: a reference independent of multiad."""
    want = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        want.flat[i] = (f(x + e) - f(x - e)) / (2 * h)
    return want


def assert_tree_close(actual: Any, expected: Any, name: str, order: int = 1) -> None:
    """``actual`` has ``expected``'s structure, each leaf is a float64 array of backend ``name``
    with the expected shape and values within :func:`tolerance`."""
    s_act, s_exp = tree_structure(actual), tree_structure(expected)
    assert s_act == s_exp, f"structure {s_act} != expected {s_exp}"
    kind = array_type(name.split("[")[0])
    for i, (a, e) in enumerate(zip(tree_leaves(actual), tree_leaves(expected))):
        assert isinstance(a, kind), f"leaf {i}: {type(a).__name__} is not a {kind.__name__}"
        a_np = multiad.to_numpy(a)
        e_np = np.asarray(e, dtype=np.float64)
        assert a_np.dtype == np.float64, f"leaf {i}: dtype {a_np.dtype}"
        assert a_np.shape == e_np.shape, f"leaf {i}: shape {a_np.shape} != expected {e_np.shape}"
        np.testing.assert_allclose(a_np, e_np, err_msg=f"leaf {i}", **tolerance(name, order))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Case:
    """Each in-tree backend in turn."""
    return Case(request.param)


@pytest.fixture(params=AD_BACKENDS)
def ad_backend(request: pytest.FixtureRequest) -> Case:
    """Each backend that differentiates exactly."""
    return Case(request.param)


@pytest.fixture
def clean_selection(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No process default and no $MULTIAD_BACKEND during the test; the default is restored after."""
    monkeypatch.delenv(_select.ENV_VAR, raising=False)
    saved = _select._default
    multiad.set_backend(None)
    try:
        yield
    finally:
        multiad.set_backend(saved)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def run_threads(worker: Callable[[int], None], errors: list[BaseException], n: int) -> None:
    """Runs ``worker(tid)`` in ``n`` threads at once and fails with the first error a worker
    appended to ``errors``."""
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


@pytest.fixture
def strict() -> Iterator[None]:
    """Any AccuracyWarning fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", multiad.AccuracyWarning)
        yield


class Counted:
    """``f`` counting its evaluations."""

    def __init__(self, f: Callable[..., Any]) -> None:
        self.f, self.calls = f, 0
        self.__name__ = f.__name__

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        return self.f(*args)
