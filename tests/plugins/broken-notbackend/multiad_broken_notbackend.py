"""A plugin whose entry point names an object that is not a multiad backend."""

NOT_A_BACKEND = {"name": "broken_notbackend"}
