"""The module beside this file raises on import on purpose: keep pytest's doctest collection out."""

collect_ignore = ["multiad_broken_import.py"]
