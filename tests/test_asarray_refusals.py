"""multiad.asarray refuses what no backend computes with, a dtype numpy does not know and a
device the framework does not have, with an error that starts with the call and says what to
give instead (NOTE [asarray of what is no number] in multiad/_arrays.py). Before, the numpy and
autograd backends returned str and object arrays as they were, JAX raised an empty
StopIteration for an unknown device, and the rest were the frameworks' own raw errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import multiad
from multiad import InvalidArgumentError, InvalidTypeError, _registry

DATA: list[tuple[str, Any, str]] = [
    ("str", "abc", "asarray(x): x is a str, not a number or an array"),
    ("bytes", b"abc", "asarray(x): x is a bytes, not a number or an array"),
    ("str array", np.array(["a", "b"]), "asarray(x): x has dtype <U1 (str values)"),
    ("object array", np.array([1.0, None], dtype=object), "asarray(x): x has dtype object (object values)"),
    ("datetime array", np.array(["2020-01-01"], dtype="datetime64[D]"), "asarray(x): x has dtype datetime64[D]"),
    ("leaf of a dict", {"a": np.ones(2), "b": "abc"}, "asarray(x): leaf 1 of x is a str"),
]


@pytest.mark.parametrize(("label", "data", "start"), DATA, ids=[d[0] for d in DATA])
def test_data_that_is_no_number_is_refused(backend: Any, label: str, data: Any, start: str) -> None:
    with pytest.raises(InvalidTypeError) as info:
        multiad.asarray(data, backend=backend.name)
    assert str(info.value).startswith(start), str(info.value)
    assert "give" in str(info.value)


@pytest.mark.parametrize("dtype", ["float77", "not a dtype", object(), "U3", object])
def test_a_dtype_that_is_no_numeric_numpy_dtype_is_refused(backend: Any, dtype: Any) -> None:
    with pytest.raises(InvalidTypeError) as info:
        multiad.asarray(np.ones(2), backend=backend.name, dtype=dtype)
    msg = str(info.value)
    assert msg.startswith(f"asarray(x): dtype={dtype!r} "), msg
    assert "'float64'" in msg


def test_numeric_data_still_converts(backend: Any) -> None:
    # numpy's own values and dtypes, for data near the refused kinds
    for data, dtype, expected in [
        (np.array([1.0, 2.5], dtype=object), "float64", np.array([1.0, 2.5])),
        ([1, 2], "float32", np.array([1.0, 2.0], np.float32)),
        (np.array([True, False]), None, np.array([True, False])),
        ({"a": 1.5}, None, {"a": np.asarray(1.5)}),
    ]:
        if isinstance(data, np.ndarray) and data.dtype == object:
            data = np.asarray(data, dtype=dtype)
        got = multiad.to_numpy(multiad.asarray(data, backend=backend.name, dtype=dtype))
        if isinstance(expected, dict):
            np.testing.assert_array_equal(got["a"], expected["a"])
        else:
            np.testing.assert_array_equal(got, expected)
            assert got.dtype == expected.dtype


def test_an_unknown_device_is_refused(backend: Any) -> None:
    with pytest.raises(InvalidArgumentError) as info:  # jax: an empty StopIteration; torch: RuntimeError
        multiad.asarray(np.ones(2), backend=backend.name, device="gpu77")
    msg = str(info.value)
    assert msg.startswith("asarray(x): ") and "'gpu77'" in msg, msg
    devices = _registry.get(backend.name).devices() if backend.name in ("torch", "jax") else []
    assert all(d in msg for d in devices), msg  # the devices to choose from


LISTS_OF_DICTS: list[tuple[Any, Any]] = [
    ([{"b": 0.5}], [{"b": np.asarray(0.5)}]),
    (({"b": np.float64(0.5)},), ({"b": np.asarray(0.5)},)),
    ([{"a": 1.0, "b": 2}], [{"a": np.asarray(1.0), "b": np.asarray(2)}]),
    ([[{"b": 0.25}], (1.5, {"c": 3.0})], [[{"b": np.asarray(0.25)}], (np.asarray(1.5), {"c": np.asarray(3.0)})]),
]


@pytest.mark.parametrize(("data", "expected"), LISTS_OF_DICTS, ids=[str(d[0]) for d in LISTS_OF_DICTS])
def test_a_list_holding_dicts_of_numbers_is_a_pytree(backend: Any, data: Any, expected: Any) -> None:
    # NOTE [Lists of numbers are array data]: only lists and tuples down to the numbers are one
    # array; [{"b": 0.5}] was made an object array and refused ("None has no value"), while
    # [{"b": np.array(0.5)}] converted as a pytree
    got = multiad.asarray(data, backend=backend.name)
    got_leaves, got_spec = multiad.tree_flatten(got)
    want_leaves, want_spec = multiad.tree_flatten(expected)
    assert got_spec == want_spec
    for g, w in zip(got_leaves, want_leaves):
        g = multiad.to_numpy(g)
        np.testing.assert_array_equal(g, w)
        assert g.shape == w.shape and g.dtype.kind == w.dtype.kind
    # a list of numbers (namedtuples, nested lists) is still one array, as numpy.asarray reads it
    whole = multiad.to_numpy(multiad.asarray([[1.0, 2.0], (3.0, 4.0)], backend=backend.name))
    np.testing.assert_array_equal(whole, np.asarray([[1.0, 2.0], (3.0, 4.0)]))
