"""The asyncio server's plumbing: an event loop on a thread of its own, and a blocking view of a
call's context for the handlers that run on worker threads.

The server is ``grpc.aio`` (see server/app.py): a call that waits (a stream waiting for its next
item, a request trickling in, a client that does not read) costs a coroutine, not a thread.
Checking is CPU work in plain Python, so the handlers that do it stay ordinary functions, run on
a bounded thread pool (the loop's default executor) only once their request has arrived in
full. They see ``ThreadContext``: the ``grpc.ServicerContext`` methods they use, each forwarded
to the loop.

A handler marked ``inline_when_small`` (a unary check, the drug and rule lists) runs on the loop
itself when its request is small (``INLINE_REQUEST_BYTES``): its work is then a few
milliseconds at most, less than what handing it to a thread and back costs (two switches of
the GIL and a wake-up of the loop per call). It sees ``LoopContext``, the same blocking API
over the call's own context.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent import futures
from typing import Any, TypeVar

import grpc

T = TypeVar("T")

# A unary request up to this size is checked on the loop by a handler marked inline_when_small:
# about 100 orders, a check of 15 ms at most, the longest the loop is held by one call.
INLINE_REQUEST_BYTES = 16 * 1024


def inline_when_small(behavior: Callable[..., T]) -> Callable[..., T]:
    """Marks a plain unary handler whose small requests run on the loop (see LoopContext)."""
    behavior.inline_when_small = True  # type: ignore[attr-defined]
    return behavior


def runs_inline(behavior: Callable[..., Any], request_bytes: int) -> bool:
    return request_bytes <= INLINE_REQUEST_BYTES and getattr(behavior, "inline_when_small", False)


class HandlerTable:
    """The handler an asyncio interceptor makes (``make(method, handler)``) for each method's
    handler, made once: a method's handler is the same object call after call. A handler that
    is not (the closing gate's refusal, say) gets a new one, which replaces the method's.
    Used on the event loop only."""

    __slots__ = ("_made", "_make")

    def __init__(self, make: Callable[[str, Any], Any]) -> None:
        self._make = make
        self._made: dict[str, tuple[Any, Any]] = {}

    def handler(self, method: str, under: Any) -> Any:
        made = self._made.get(method)
        if made is not None and made[0] is under:
            return made[1]
        handler = self._make(method, under)
        self._made[method] = (under, handler)
        return handler


class LoopThread:
    """An asyncio event loop running on a daemon thread; ``run`` waits for a coroutine on it."""

    def __init__(self, threads: int, name: str = "grpc-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self.pool = futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="rpc")
        self.loop.set_default_executor(self.pool)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.pool.shutdown(wait=False, cancel_futures=True)
        if not self._thread.is_alive():
            self.loop.close()


class _BlockingContext:
    """The blocking ``grpc.ServicerContext`` API that the handlers use, over a grpc.aio
    ServicerContext: what either view forwards as it is. Ending the call (``abort``), whether it
    is still active and its callbacks depend on the thread the handler runs on."""

    __slots__ = ("_context",)

    def __init__(self, context: grpc.aio.ServicerContext) -> None:
        self._context = context

    def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata=()) -> None:  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def abort_with_status(self, status: grpc.Status) -> None:
        self.abort(status.code, status.details, status.trailing_metadata)

    def set_code(self, code: grpc.StatusCode) -> None:
        self._context.set_code(code)

    def set_details(self, details: str) -> None:
        self._context.set_details(details)

    def set_trailing_metadata(self, metadata) -> None:  # type: ignore[no-untyped-def]
        self._context.set_trailing_metadata(tuple(metadata))

    def code(self) -> grpc.StatusCode | None:
        return self._context.code()

    def time_remaining(self) -> float | None:
        return self._context.time_remaining()

    def invocation_metadata(self) -> Sequence[tuple[str, str | bytes]]:
        return self._context.invocation_metadata() or ()

    def peer(self) -> str:
        return self._context.peer()

    def peer_identities(self) -> Sequence[bytes] | None:
        return self._context.peer_identities()

    def auth_context(self) -> dict[str, Any]:
        return self._context.auth_context()


class ThreadContext(_BlockingContext):
    """A grpc.aio ServicerContext seen from a worker thread, with the blocking API of
    ``grpc.ServicerContext`` that the handlers use (abort, is_active, add_callback, ...)."""

    __slots__ = ("_finished", "_loop")

    def __init__(self, context: grpc.aio.ServicerContext, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(context)
        self._loop = loop
        self._finished = threading.Event()
        context.add_done_callback(lambda _: self._finished.set())

    def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata=()) -> None:  # type: ignore[no-untyped-def]
        future = asyncio.run_coroutine_threadsafe(
            self._context.abort(code, details, tuple(trailing_metadata)), self._loop
        )
        future.result()  # raises the AbortError that ends the handler
        raise RuntimeError("abort did not raise")  # pragma: no cover

    def is_active(self) -> bool:
        """False once the call has ended: answered, cancelled, or past its deadline (gRPC
        cancels it then). Not from the clock alone: a handler that stopped at the deadline by
        its own reading would answer OK with part of the work, racing the caller's deadline."""
        return not (self._finished.is_set() or self._context.done())

    def add_callback(self, callback: Callable[[], None]) -> bool:
        self._loop.call_soon_threadsafe(self._context.add_done_callback, lambda _: callback())
        return True


class LoopAbort(Exception):
    """Raised by LoopContext.abort: the caller awaits the aio context's abort with these."""

    def __init__(self, code: grpc.StatusCode, details: str, trailing_metadata: Any) -> None:
        super().__init__(code, details)
        self.code, self.details, self.trailing_metadata = code, details, tuple(trailing_metadata)


class LoopContext(_BlockingContext):
    """The same blocking API for a plain handler running on the loop's own thread. ``abort``
    cannot await there: it raises LoopAbort, which its caller (``call_inline``, or the observing
    interceptor's unary handler) turns into the awaited abort."""

    __slots__ = ()

    def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata=()) -> None:  # type: ignore[no-untyped-def]
        raise LoopAbort(code, details, trailing_metadata)

    def is_active(self) -> bool:
        return not self._context.done()

    def add_callback(self, callback: Callable[[], None]) -> bool:
        self._context.add_done_callback(lambda _: callback())
        return True


async def call_inline(
    behavior: Callable[..., T], argument: Any, context: grpc.aio.ServicerContext, view: Any
) -> T:
    """``behavior(argument, view)`` on the loop (``view`` wraps a LoopContext of ``context``);
    an abort inside it becomes the aio context's abort."""
    try:
        return behavior(argument, view)
    except LoopAbort as abort:
        await context.abort(abort.code, abort.details, abort.trailing_metadata)
        raise  # unreachable: abort raises


def is_async(behavior: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(behavior) or inspect.isasyncgenfunction(behavior)


async def call_blocking(
    behavior: Callable[..., T], argument: Any, context: grpc.aio.ServicerContext
) -> T:
    """``behavior(argument, context)`` on the thread pool, with a ThreadContext."""
    loop = asyncio.get_running_loop()
    return await in_pool(behavior, argument, ThreadContext(context, loop))


async def in_pool(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` on the thread pool (CPU work that would stall the loop)."""
    # The caller's context (its trace span, above all) goes with the work to the pool thread.
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(None, context.run, function, *args)
