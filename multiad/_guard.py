"""Running a plugin's code so that nothing it raises stops multiad.

NOTE [Interrupts from plugins]: importing a plugin, constructing its backend, asking whether its
framework is installed and loading the framework run through :func:`guarded`, which catches
every exception, ``BaseException`` subclasses included: a plugin that calls ``sys.exit()`` or
raises ``KeyboardInterrupt`` or ``GeneratorExit`` at import is recorded as broken with the reason,
and every other backend keeps working. One exception is let through: a ``KeyboardInterrupt`` that
comes from a real interrupt (Ctrl-C, SIGINT) delivered while the plugin ran, because the user who
typed it wants the program to stop. The two are told apart without guessing: while plugin code
runs in the main thread, a SIGINT handler wrapping the current one notes that a signal arrived
and then delegates to it. Signals reach only the main thread, so a ``KeyboardInterrupt`` raised
in another thread, or while SIGINT is ignored or left to the operating system, is the plugin's.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")


@contextmanager
def _interrupts() -> Iterator[list[bool]]:
    """Yields a list that holds True once a real SIGINT arrived during the block."""
    seen: list[bool] = []
    previous: Any = None
    handler: Any = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.getsignal(signal.SIGINT)
        if callable(previous):

            def note(signum: int, frame: FrameType | None) -> Any:
                seen.append(True)
                return previous(signum, frame)

            try:
                signal.signal(signal.SIGINT, note)
                handler = note
            except ValueError:  # not the main interpreter
                pass
    try:
        yield seen
    finally:
        if handler is not None and signal.getsignal(signal.SIGINT) is handler:  # unless the plugin set its own
            try:
                signal.signal(signal.SIGINT, previous)
            except ValueError:
                pass


def guarded(fn: Callable[[], T]) -> tuple[T | None, BaseException | None]:
    """``(fn(), None)``, or ``(None, exc)`` for whatever ``fn`` raised, except a real interrupt
    (NOTE [Interrupts from plugins])."""
    with _interrupts() as seen:
        try:
            return fn(), None
        except BaseException as exc:  # a plugin must not stop multiad, see the note
            if isinstance(exc, KeyboardInterrupt) and seen:
                raise
            return None, exc
