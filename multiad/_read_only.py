"""Read-only views of the arrays ``f`` is given but does not differentiate, and the message for a
write into one (NOTE [Arguments f may not change] in the numpy backend; NOTE [Arguments outside
argnums] in ``multiad/_flat.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np


def read_only_view(a: Any) -> Any:
    """A read-only view of numpy array ``a``; anything else (a framework's array, a traced value)
    as it is."""
    if type(a) is not np.ndarray:
        return a
    v = a.view()
    v.flags.writeable = False
    return v


# numpy's messages for a write into a read-only array.
_READ_ONLY = frozenset({"assignment destination is read-only", "output array is read-only"})


def refused_write(exc: BaseException) -> str | None:
    """The reason a backend's ``translate_error`` gives for numpy refusing a write into a
    read-only argument, or None for any other error."""
    if isinstance(exc, ValueError) and str(exc) in _READ_ONLY:
        return (
            f"{type(exc).__name__}: {exc}: f changes in place an array it is given as an argument "
            "(x *= 2, x[i] = v), differentiated or not (an argument outside argnums, a keyword argument, "
            "an argument vmap does not batch), which every evaluation of f would repeat (at each "
            "finite-difference point, for each batch element); change a copy "
            "(x = x.copy() first) or compute a new array (x = x * 2)"
        )
    return None
