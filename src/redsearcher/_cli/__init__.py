"""The ``redsearcher`` command: a thin layer over the Python API (every command is a function)."""

from redsearcher._cli._app import app, main

__all__ = ["app", "main"]
