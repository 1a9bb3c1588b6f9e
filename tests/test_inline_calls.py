"""Small unary calls run on the event loop (server/aio_bridge.py): same answers, same errors."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from regimenguard.server.aio_bridge import (
    INLINE_REQUEST_BYTES,
    LoopAbort,
    LoopContext,
    call_inline,
    inline_when_small,
    runs_inline,
)
from regimenguard.server.servicer import RegimenCheckerServicer


class FakeAioContext:
    """What call_inline and LoopContext use of a grpc.aio.ServicerContext."""

    def __init__(self) -> None:
        self.aborted: tuple | None = None
        self.callbacks: list = []
        self.finished = False

    async def abort(self, code, details, trailing_metadata):  # type: ignore[no-untyped-def]
        self.aborted = (code, details, trailing_metadata)
        raise grpc.aio.AbortError()

    def done(self) -> bool:
        return self.finished

    def add_done_callback(self, callback) -> None:  # type: ignore[no-untyped-def]
        self.callbacks.append(callback)


def test_only_marked_handlers_with_small_requests_run_on_the_loop() -> None:
    for name in ("CheckRegimen", "ListDrugs", "ListRules"):
        method = getattr(RegimenCheckerServicer, name)
        assert runs_inline(method, 500)
        assert runs_inline(method, INLINE_REQUEST_BYTES)
        assert not runs_inline(method, INLINE_REQUEST_BYTES + 1)  # a large one: the pool
    for name in ("CheckRegimenBatch", "CheckRegimens", "ParseOrder"):
        assert not runs_inline(getattr(RegimenCheckerServicer, name), 10)


def test_an_abort_on_the_loop_becomes_the_calls_own_abort() -> None:
    context = FakeAioContext()

    @inline_when_small
    def handler(request, view):  # type: ignore[no-untyped-def]
        view.abort(grpc.StatusCode.INVALID_ARGUMENT, f"bad {request}", (("k", b"v"),))

    with pytest.raises(grpc.aio.AbortError):
        asyncio.run(call_inline(handler, "dose", context, LoopContext(context)))
    assert context.aborted == (grpc.StatusCode.INVALID_ARGUMENT, "bad dose", (("k", b"v"),))


def test_the_loop_context_reads_the_calls_state() -> None:
    context = FakeAioContext()
    view = LoopContext(context)
    assert view.is_active()
    seen: list[str] = []
    assert view.add_callback(lambda: seen.append("done"))
    context.finished = True
    for callback in context.callbacks:
        callback(context)
    assert not view.is_active() and seen == ["done"]
    with pytest.raises(LoopAbort):
        view.abort(grpc.StatusCode.INTERNAL, "x")
