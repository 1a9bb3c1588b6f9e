"""Clients that wait: CheckRegimens streams that never send their next item, and unary callers
whose request trickles in a byte at a time (raw HTTP/2 frames, so the request never completes).

For the starvation tests (tests/test_slow_clients.py) and bench/; loopback only.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import grpc

from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests.hardening_support import review_request

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
FRAME_DATA, FRAME_HEADERS, FRAME_SETTINGS = 0, 1, 4
FLAG_ACK, FLAG_END_HEADERS = 0x1, 0x4
CHECK_REGIMEN = "/regimenguard.v1.RegimenCheckerService/CheckRegimen"
# A gRPC message that announces 4,000 bytes and sends them one at a time.
ANNOUNCED_BYTES = 4000


def _frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return (
        len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload
    )


def _literal(name: str, value: str) -> bytes:
    """An HPACK literal header field without indexing, new name, no Huffman (RFC 7541 6.2.2)."""
    out = b"\x00"
    for text in (name.encode(), value.encode()):
        assert len(text) < 127
        out += bytes([len(text)]) + text
    return out


class SlowUnarySender:
    """One connection with one CheckRegimen call whose request arrives a byte per ``tick``."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=5)
        headers = b"".join(
            _literal(name, value)
            for name, value in (
                (":method", "POST"),
                (":scheme", "http"),
                (":path", CHECK_REGIMEN),
                (":authority", f"{host}:{port}"),
                ("content-type", "application/grpc"),
                ("te", "trailers"),
            )
        )
        self.sock.sendall(
            PREFACE
            + _frame(FRAME_SETTINGS, 0, 0, b"")
            + _frame(FRAME_HEADERS, FLAG_END_HEADERS, 1, headers)
            # The gRPC length prefix: not compressed, ANNOUNCED_BYTES to come.
            + _frame(FRAME_DATA, 0, 1, b"\x00" + ANNOUNCED_BYTES.to_bytes(4, "big"))
        )
        self.sent = 0
        self._acked = False

    def tick(self) -> None:
        """Acknowledge the server's SETTINGS once, then one more byte of the request."""
        if not self._acked:
            self._read_settings()
        if self.sent < ANNOUNCED_BYTES - 1:  # never the last byte: the request never completes
            self.sock.sendall(_frame(FRAME_DATA, 0, 1, b"\x0a"))
            self.sent += 1

    def _read_settings(self) -> None:
        self.sock.settimeout(0.05)
        with contextlib.suppress(TimeoutError, BlockingIOError):
            data = self.sock.recv(65536)
            if data:
                self.sock.sendall(_frame(FRAME_SETTINGS, FLAG_ACK, 0, b""))
                self._acked = True

    def close(self) -> None:
        self.sock.close()


@dataclass
class Stalls:
    """``streams`` CheckRegimens streams (``per_connection`` to a connection) that send one item
    and then nothing, and ``senders`` SlowUnarySenders, held until ``release()``."""

    target: str
    streams: int
    senders: int
    per_connection: int = 8
    tick_seconds: float = 0.2
    _release: threading.Event = field(default_factory=threading.Event)
    _channels: list[grpc.Channel] = field(default_factory=list)
    _calls: list[object] = field(default_factory=list)
    _slow: list[SlowUnarySender] = field(default_factory=list)
    _ticker: threading.Thread | None = None

    def hold(self) -> None:
        host, port = self.target.rsplit(":", 1)
        for number in range(self.streams):
            if number % self.per_connection == 0:
                self._channels.append(
                    grpc.insecure_channel(
                        self.target, options=[("grpc.use_local_subchannel_pool", 1)]
                    )
                )
            stub = pb_grpc.RegimenCheckerServiceStub(self._channels[-1])
            call = stub.CheckRegimens(self._one_then_wait(number), timeout=120)
            self._calls.append(call)
        self._slow = [SlowUnarySender(host, int(port)) for _ in range(self.senders)]
        self._ticker = threading.Thread(target=self._trickle, daemon=True)
        self._ticker.start()

    def _one_then_wait(self, number: int) -> Iterator[object]:
        yield review_request(f"stalled-{number}")
        self._release.wait(120)  # then nothing, until released

    def _trickle(self) -> None:
        while not self._release.wait(self.tick_seconds):
            for sender in self._slow:
                with contextlib.suppress(OSError):
                    sender.tick()

    def held(self) -> tuple[int, int]:
        """(streams still open, slow senders still connected): the stalls are real."""
        streams = sum(1 for call in self._calls if call.is_active())  # type: ignore[attr-defined]
        senders = 0
        for sender in self._slow:
            sender.sock.settimeout(0)
            try:
                senders += sender.sock.recv(65536, socket.MSG_PEEK) != b""
            except BlockingIOError:
                senders += 1  # nothing to read, and not closed
            except OSError:
                pass
        return streams, senders

    def release(self) -> None:
        self._release.set()
        for call in self._calls:
            call.cancel()  # type: ignore[attr-defined]
        for sender in self._slow:
            sender.close()
        for channel in self._channels:
            channel.close()
        if self._ticker is not None:
            self._ticker.join(5)
