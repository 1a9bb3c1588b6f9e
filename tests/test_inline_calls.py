"""Small unary calls run on the event loop (server/aio_bridge.py): same answers, same errors."""

from __future__ import annotations

import asyncio
import types

import grpc
import pytest

from regimenguard.regimen.observers import CallRecord
from regimenguard.server.aio_bridge import (
    INLINE_REQUEST_BYTES,
    LoopAbort,
    LoopContext,
    call_inline,
    inline_when_small,
    runs_inline,
)
from regimenguard.server.logging_interceptor import ObservingInterceptor
from regimenguard.server.memory import LARGE_MESSAGE_BYTES
from regimenguard.server.servicer import RegimenCheckerServicer, as_service


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


def test_a_request_checked_on_the_loop_is_never_one_the_budget_holds() -> None:
    """The observing interceptor's loop path reserves nothing from the memory budget."""
    assert INLINE_REQUEST_BYTES < LARGE_MESSAGE_BYTES


class CallContext(FakeAioContext):
    """A fake aio context with what the observing interceptor reads of a call."""

    def code(self):  # type: ignore[no-untyped-def]
        return None if self.aborted is None else self.aborted[0]

    def peer(self) -> str:
        return "ipv4:127.0.0.1:5000"

    def peer_identities(self) -> None:
        return None

    def time_remaining(self) -> float:
        return 5.0


class Ended:
    """An observer that keeps each call's method, code and peer."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def checked(self, call: CallRecord, check: object) -> None:
        pass

    def call_ended(self, call: CallRecord) -> None:
        self.calls.append((call.method, call.code, call.peer))


@inline_when_small
def echo(request, view):  # type: ignore[no-untyped-def]
    if request == b"refuse":
        view.abort(grpc.StatusCode.FAILED_PRECONDITION, "refused on the loop")
    return request


def test_the_observed_handler_is_made_once_and_answers_on_the_loop(checker) -> None:  # type: ignore[no-untyped-def]
    ended = Ended()
    interceptor = ObservingInterceptor(as_service(checker).with_observers([ended]))
    handler = grpc.unary_unary_rpc_method_handler(echo)
    details = types.SimpleNamespace(method="/x.v1.Echo/Echo", invocation_metadata=())

    async def observed(under: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        async def continuation(_):  # type: ignore[no-untyped-def]
            return under

        return await interceptor.intercept_service(continuation, details)

    async def calls() -> None:
        first = await observed(handler)
        assert await observed(handler) is first  # made once for the method's handler
        replaced = await observed(grpc.unary_unary_rpc_method_handler(echo))
        assert replaced is not first  # a new handler under it: a new observed handler
        assert await first.unary_unary(b"ping", CallContext()) == b"ping"
        refused = CallContext()
        with pytest.raises(grpc.aio.AbortError):
            await replaced.unary_unary(b"refuse", refused)
        assert refused.aborted == (grpc.StatusCode.FAILED_PRECONDITION, "refused on the loop", ())

    asyncio.run(calls())
    peer = "ipv4:127.0.0.1:5000"
    assert ended.calls == [
        ("/x.v1.Echo/Echo", "OK", peer),
        ("/x.v1.Echo/Echo", "FAILED_PRECONDITION", peer),
    ]
