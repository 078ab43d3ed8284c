"""CPython's freed data-stack chunks kept for reuse while the benchmarks run.

NOTE [Stack chunks kept]: CPython 3.11 and 3.12 keep Python frames in 16 KiB chunks, map a new
chunk with ``mmap`` when a call does not fit in the current one and unmap it as soon as the
stack leaves it (python/cpython#142183; NOTE [Depths across a stack chunk] in harness.py). A
call whose deepest frames straddle a chunk's end pays a map, page faults and an unmap each
time it crosses, and the crossings depend on where the caller's stack stands, not on the call:
JAX's eager ``jacrev(jacrev)`` of the ``hessian 512->32 (summed)`` workload, called at 16
depths on this project's machine while other work ran, took 10.4 to 44.6 ms a call with 0 to
661 page faults, both multiad's call and JAX's own, the fastest calls at the depths with fewest
faults. Spreading blocks over depths and keeping the
fastest (harness.py) answers this for short calls; for calls of tens of milliseconds, of which
a round holds few blocks, the depths' lottery dominated the rows.

CPython 3.13 and 3.14 keep a freed chunk for the next call since their releases of March 2026
(gh-145789). The harness does the same on older interpreters: ``keep()`` builds
``stack_chunks.c`` with the system's C compiler and installs it as the interpreter's object
arena allocator (``PyObject_SetArenaAllocator``, the documented hook through which CPython
allocates both pymalloc's arenas and the data-stack chunks). It hands every request to the
allocator it replaces, except that freed blocks of at most 64 KiB (the chunks; pymalloc's
arenas are 256 KiB or more) are held, eight at most, and handed out again for the next request
of the same size. Every block it holds or releases was allocated by the allocator it replaces,
to which it returns, so installing it while the interpreter runs is safe. With it the same call
faulted 0 to 2 times at each of the 16 depths (the median of 3 calls at each), against 0 to 370
without.

It changes how both sides of every comparison run alike, never what they compute; the results
record whether it was in place (``machine.stack_chunks``), and ``--stock-stack-chunks`` runs
without it. Without a C compiler the run goes on with the interpreter's own behaviour and says
so.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCE = Path(__file__).with_name("stack_chunks.c")
_lib: ctypes.CDLL | None = None


class _Arena(ctypes.Structure):
    """CPython's ``PyObjectArenaAllocator``."""

    _fields_ = [("ctx", ctypes.c_void_p), ("alloc", ctypes.c_void_p), ("free", ctypes.c_void_p)]


def keep() -> str:
    """Installs the allocator of NOTE [Stack chunks kept] (once); returns what the results
    record: ``"kept"``, or ``"unmapped: <why not>"``."""
    global _lib
    if _lib is not None:
        return "kept"
    if not getattr(sys, "_is_gil_enabled", lambda: True)():
        return "unmapped: a free-threaded interpreter, where the allocator is not called under a lock"
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return f"unmapped: no C compiler (cc) to build {SOURCE.name}"
    with tempfile.TemporaryDirectory() as tmp:
        built = Path(tmp) / "stack_chunks.so"
        done = subprocess.run(
            [cc, "-O2", "-shared", "-fPIC", "-o", str(built), str(SOURCE)], capture_output=True, text=True
        )
        if done.returncode != 0:
            return f"unmapped: {cc} could not build {SOURCE.name}: {done.stderr.strip()[:300]}"
        lib = ctypes.CDLL(str(built))  # stays mapped after the file is removed
    base = _Arena()
    ctypes.pythonapi.PyObject_GetArenaAllocator(ctypes.byref(base))
    lib.chunks_init.argtypes = [ctypes.c_void_p] * 3
    lib.chunks_init(base.ctx, base.alloc, base.free)
    lib.chunks_reused.restype = ctypes.c_ulonglong
    ours = _Arena(
        None,
        ctypes.cast(lib.chunks_alloc, ctypes.c_void_p).value,
        ctypes.cast(lib.chunks_free, ctypes.c_void_p).value,
    )
    ctypes.pythonapi.PyObject_SetArenaAllocator(ctypes.byref(ours))
    _lib = lib  # never unloaded: the interpreter calls into it from now on
    return "kept"


def reused() -> int:
    """How many freed chunks were handed out again since ``keep()``."""
    return int(_lib.chunks_reused()) if _lib is not None else 0
