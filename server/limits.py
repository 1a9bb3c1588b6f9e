"""`serve` flags for the limits on waiting calls, and their defaults (server/app.py applies them;
docs/security-operations.md explains them): streams per connection, a stream's idle time, a
connection's idle time and age."""

from __future__ import annotations

import argparse
from typing import Any

# Waiting calls cost no thread, so they are bounded by these (docs/security-operations.md);
# regimenguard.server.app applies them. They live here so that the command line can show them
# without importing the server.
DEFAULT_MAX_STREAMS_PER_CONNECTION = (
    256  # HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS; = the calls per process
)
DEFAULT_STREAM_IDLE_SECONDS = 300.0  # a CheckRegimens stream with no new item this long ends
DEFAULT_CONNECTION_IDLE_SECONDS = 300.0  # a connection with no call this long gets GOAWAY
DEFAULT_CONNECTION_AGE_SECONDS = 1800.0  # every connection gets GOAWAY after this long ...


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be a positive, finite number: {text!r}")
        return value

    return parse


def add_connection_limits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-streams-per-connection",
        type=_positive(int),
        default=DEFAULT_MAX_STREAMS_PER_CONNECTION,
        metavar="N",
        help=f"concurrent calls on one HTTP/2 connection (default {DEFAULT_MAX_STREAMS_PER_CONNECTION})",
    )
    parser.add_argument(
        "--stream-idle",
        type=_positive(float),
        default=DEFAULT_STREAM_IDLE_SECONDS,
        metavar="SECONDS",
        help="end a CheckRegimens stream that sends no item for this long, DEADLINE_EXCEEDED "
        f"(default {DEFAULT_STREAM_IDLE_SECONDS:g})",
    )
    parser.add_argument(
        "--connection-idle",
        type=_positive(float),
        default=DEFAULT_CONNECTION_IDLE_SECONDS,
        metavar="SECONDS",
        help=f"close a connection with no call for this long (default {DEFAULT_CONNECTION_IDLE_SECONDS:g})",
    )
    parser.add_argument(
        "--connection-age",
        type=_positive(float),
        default=DEFAULT_CONNECTION_AGE_SECONDS,
        metavar="SECONDS",
        help="ask clients to reconnect after this long, so that no connection (nor a request "
        f"trickling in on it) lasts for ever (default {DEFAULT_CONNECTION_AGE_SECONDS:g})",
    )


def connection_limits(args: argparse.Namespace) -> dict[str, Any]:
    """The ServerOptions fields the flags set."""
    return {
        "max_streams_per_connection": args.max_streams_per_connection,
        "stream_idle_seconds": args.stream_idle,
        "connection_idle_seconds": args.connection_idle,
        "connection_age_seconds": args.connection_age,
    }
