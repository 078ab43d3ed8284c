"""The base class's device defaults on arrays that record no device (TensorFlow's symbolic
tensors inside ``tf.function`` report ``device == ""``); see NOTE [Arrays without a device]."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

import multiad


class _Symbolic:
    """A stand-in for a tensor inside ``tf.function``: a dtype, and an empty device string."""

    def __init__(self, value: np.ndarray, device: str) -> None:
        self.value = value
        self.dtype = value.dtype
        self.device = device


class _Backend(multiad.Backend):
    name: ClassVar[str] = "device-of-test"

    def asarray(self, x: Any, dtype: Any = None, device: Any = None) -> Any:
        if device is not None:
            raise multiad.InvalidArgumentError(f"asarray: no device {device!r}; this backend sees ['cpu:0']")
        value = x.value if isinstance(x, _Symbolic) else np.asarray(x, dtype=dtype)
        return _Symbolic(np.asarray(value, dtype=dtype), "/job:localhost/replica:0/task:0/device:CPU:0")


def test_an_empty_device_string_is_the_default_device() -> None:
    b = _Backend()
    assert b.device_of(_Symbolic(np.zeros(2), "")) == "cpu"
    assert b.device_of(_Symbolic(np.zeros(2), "/job:localhost/replica:0/task:0/device:CPU:0")) == "cpu:0"


def test_eye_like_an_array_without_a_device() -> None:
    b = _Backend()
    eye = b.eye(3, _Symbolic(np.zeros(2, dtype=np.float32), ""))
    assert eye.dtype == np.float32
    np.testing.assert_array_equal(eye.value, np.eye(3))
