"""The multiad conformance suite, as pytest modules.

Run it against a backend with ``pytest --pyargs multiad.conformance --multiad-backend=NAME``
(options: see :mod:`multiad.testing.pytest_plugin`). Without ``--multiad-backend`` every test
here is skipped with that instruction as the reason, so collecting this package (for instance
for doctests) runs nothing.
"""
