"""Memory that fits the pod: a budget on the large messages being worked on at once.

A request's bytes arrive in gRPC's own buffers; what costs memory after that is the work on it:
the parsed message (protobuf objects take several times the bytes on the wire), the domain
objects, the answer. Eight 16 MiB batches worked on at once pushed one worker past 512 MiB.
So a request larger than ``LARGE_MESSAGE_BYTES`` must first reserve its size from a per-process
budget (``ServerOptions.large_message_budget_bytes``, default 32 MiB: two of the largest
messages at once); one that does not fit waits for the budget, on the event loop, holding no
thread, until its deadline. Small requests never wait.

When the last large message of a burst is done, the freed heap is handed back to the system
(``malloc_trim``, glibc), so that the process does not stay at its peak after the burst.

And a process keeps two malloc arenas (``limit_malloc_arenas``): glibc gives each thread that
allocates a heap of its own, up to eight per core, and each holds its free pages at its own
peak. The checks are CPU-bound Python, one thread at a time under the GIL: more arenas buy
nothing but resident memory (measured in make bench's bulk run: the largest worker's peak fell
from 163 to 135 MB with 16 threads).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
import sys
from collections.abc import AsyncIterator

log = logging.getLogger(__name__)

LARGE_MESSAGE_BYTES = 1024 * 1024
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number for the arena limit (glibc malloc.h)
DEFAULT_LARGE_MESSAGE_BUDGET_BYTES = 32 * 1024 * 1024


def _malloc_trim() -> None:
    """Return free heap pages to the system (glibc); nothing elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """At most ``arenas`` malloc heaps in this process and the workers forked from it (glibc;
    call before threads start). MALLOC_ARENA_MAX in the environment, if set, is left to rule.
    True when the limit was set."""
    if not sys.platform.startswith("linux") or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    return False


class MessageBudget:
    """Bytes of large messages being worked on at once, at most ``limit`` (one message larger
    than the whole budget still runs, alone)."""

    def __init__(self, limit: int = DEFAULT_LARGE_MESSAGE_BUDGET_BYTES) -> None:
        self.limit = limit
        self.in_use = 0
        self.peak = 0
        self._changed: asyncio.Condition | None = None

    def reserve(self, size: int) -> contextlib.AbstractAsyncContextManager[None]:
        """An ``async with`` that holds ``size`` bytes of the budget (waiting for them if
        need be); a small message's takes nothing and never waits."""
        if size < LARGE_MESSAGE_BYTES:
            return _NO_WAIT  # every call has one: no generator-based context manager for it
        return self._reserve(size)

    @contextlib.asynccontextmanager
    async def _reserve(self, size: int) -> AsyncIterator[None]:
        if self._changed is None:
            self._changed = asyncio.Condition()
        changed = self._changed
        share = min(size, self.limit)
        async with changed:
            await changed.wait_for(lambda: self.in_use + share <= self.limit)
            self.in_use += share
            self.peak = max(self.peak, self.in_use)
        try:
            yield
        finally:
            async with changed:
                self.in_use -= share
                changed.notify_all()
                last = self.in_use == 0
            if last:  # in the background: the answer need not wait for it
                asyncio.get_running_loop().run_in_executor(None, _malloc_trim)


class _NoWait:
    """The budget's answer to a small message: an ``async with`` that does nothing."""

    __slots__ = ()

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc_info: object) -> None:
        return None


_NO_WAIT = _NoWait()
