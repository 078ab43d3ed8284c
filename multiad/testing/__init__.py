"""Conformance testing for multiad backends."""
