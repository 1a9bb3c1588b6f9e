"""StartupError: the server cannot start. Its own module, so that the command line can catch it
without importing the server."""

from __future__ import annotations


class StartupError(RuntimeError):
    """The server cannot start (bad data, bad configuration, port in use)."""
