"""multiad.numpy's dtype= takes a plugin framework's dtype objects by their numpy name
(TensorFlow's ``tf.float32``, which ``x.dtype`` of a tf.Tensor gives); NOTE [Framework dtypes by name]."""

from __future__ import annotations

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp


class _FrameworkDType:
    """Like TensorFlow's ``DType``: numpy cannot read it, and its ``name`` is numpy's."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"fw.{self.name}"


def test_asarray_takes_a_framework_dtype_by_its_name() -> None:
    with multiad.use_backend("numpy"):
        out = mnp.asarray([1.0, 2.5], dtype=_FrameworkDType("float32"))
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, np.array([1.0, 2.5], dtype=np.float32))
        assert mnp.zeros(2, dtype=_FrameworkDType("int64")).dtype == np.int64


def test_a_name_numpy_does_not_know_is_refused() -> None:
    with multiad.use_backend("numpy"), pytest.raises(TypeError, match=r"^mnp\.asarray: fw\.qint8 is not a dtype"):
        mnp.asarray([1.0], dtype=_FrameworkDType("qint8"))
