"""A well-formed plugin whose import is slow (it sleeps); selecting another backend must not
import it at all."""

from __future__ import annotations

import time
from typing import ClassVar

from multiad_numpy import NumpyBackend

time.sleep(0.5)


class SlowBackend(NumpyBackend):
    name: ClassVar[str] = "broken_slow"
    priority: ClassVar[int] = 100
