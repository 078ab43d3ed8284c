"""Memory freed by the C allocator kept in the process while the benchmarks run.

NOTE [Freed memory kept]: glibc's ``malloc`` serves a block of more than its mmap threshold
(128 KiB, growing to at most 32 MiB as larger blocks are freed) with a fresh ``mmap`` and gives
it back to the kernel when it is freed; smaller blocks come from a heap whose free top is given
back once it passes the trim threshold. JAX's CPU buffers, torch's and numpy's arrays all come
from ``malloc``. A call that makes arrays of tens of MB therefore faults every page of them in
again on every call, and the kernel zeroes each page first: on this project's machine JAX's
eager ``full Hessian @ v`` (a 2048 x 2048 float32 Hessian) faulted 24,581 pages a call, half its
50 ms, and ``hessian 512->32 (vector)`` (32 MiB results, above any threshold) 32,772. How long
that takes varies with what the kernel and the host are doing (this machine's kernel also runs
DAMON, which reclaims pages in the background): the same call of 16 ms took 9 to 20 ms, on
both sides of a comparison, and rows of tens of milliseconds read anywhere from 0.8 to 1.2
between runs.

While the benchmarks run, ``keep()`` sets three of glibc's documented ``mallopt`` parameters: no
block is served by ``mmap`` (``M_MMAP_MAX`` 0), free memory is never trimmed from a heap
(``M_TRIM_THRESHOLD`` 2 GiB) and every thread shares the main heap (``M_ARENA_MAX`` 1), so a
freed block is reused for the next call's block of its size, as allocators that cache freed
memory (jemalloc, tcmalloc, PyTorch's CUDA allocator) do. The same calls then fault 0 to 2 pages
each. It changes how both sides of every comparison allocate alike, never what they compute; a
call that keeps more memory alive than the framework's own still pays for it, in its first calls
and in the memory the process holds (``benchmarks/memory.py``, which measures peaks in its own
processes, fixes the opposite setting). The results record whether it was in place
(``machine.freed_memory``), and ``--stock-malloc`` runs without it. Where the C library is not
glibc the run goes on with the allocator's own behaviour and says so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

# glibc's malloc.h
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -3, -4, -8
_SETTINGS = ((M_ARENA_MAX, 1), (M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, 2**31 - 1))
_state: str | None = None


def mallopt(settings: tuple[tuple[int, int], ...]) -> list[int]:
    """glibc's ``mallopt(param, value)`` for each pair; the parameters it refused. Raises
    OSError or AttributeError where the C library has no ``mallopt``."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return [name for name, value in settings if libc.mallopt(name, value) != 1]


def keep() -> str:
    """Sets the parameters of NOTE [Freed memory kept] (once, before the frameworks start their
    threads); returns what the results record: ``"kept"``, or ``"returned: <why not>"``."""
    global _state
    if _state is not None:
        return _state
    if platform.libc_ver()[0] != "glibc":
        _state = "returned: the C library is not glibc, whose mallopt parameters these are"
        return _state
    try:
        refused = mallopt(_SETTINGS)
    except (OSError, AttributeError) as e:
        _state = f"returned: glibc's mallopt could not be called ({e})"
        return _state
    _state = "kept" if not refused else f"returned: mallopt refused parameters {refused}"
    return _state
