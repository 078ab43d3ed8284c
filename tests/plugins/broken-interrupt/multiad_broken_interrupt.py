"""A plugin module that raises KeyboardInterrupt while being imported (no signal involved)."""

raise KeyboardInterrupt("raised by multiad_broken_interrupt on purpose")
