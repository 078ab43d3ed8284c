"""``python -m multiad backends`` and ``python -m multiad check NAME`` (see multiad/_cli.py)."""

import sys

from ._cli import main

sys.exit(main())
