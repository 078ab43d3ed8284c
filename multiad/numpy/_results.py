"""numpy's named tuples of ``linalg`` results, for the backends whose functions return plain tuples.

NOTE [Named linalg results]: numpy's ``linalg.svd``, ``qr``, ``eigh`` and ``slogdet`` return named
tuples (``svd(a).U``, ``qr(a).Q``); JAX's do too, torch's implementations here plain tuples, so
``mnp.linalg.svd(x).U`` raised AttributeError on torch only. Their results are put in these.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class SVDResult(NamedTuple):
    U: Any
    S: Any
    Vh: Any


class QRResult(NamedTuple):
    Q: Any
    R: Any


class EighResult(NamedTuple):
    eigenvalues: Any
    eigenvectors: Any


class SlogdetResult(NamedTuple):
    sign: Any
    logabsdet: Any


NAMED: dict[str, type] = {
    "linalg.svd": SVDResult,
    "linalg.qr": QRResult,
    "linalg.eigh": EighResult,
    "linalg.slogdet": SlogdetResult,
}
