"""A plugin module that fails while being imported."""

raise ImportError("multiad_broken_import needs a library that is missing (raised on purpose)")
