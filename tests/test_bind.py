"""Safe default bind: `serve` without --host listens on loopback only (127.0.0.1 and ::1), and
plaintext on an address other machines can reach is a warning at start-up."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from regimenguard.server.app import ServerOptions
from regimenguard.server.main import is_loopback, plaintext_warning
from regimenguard.server.tls import ServerTLS
from tests.hardening_support import ServerProcess, health_status, make_pki

TCP_LISTEN = "0A"


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a listening TCP socket on ``port`` (from /proc/net/tcp*), IPv4
    ones mapped into IPv6 shown as IPv4."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state != TCP_LISTEN or int(port_hex, 16) != port:
                continue
            assert len(address) == width
            if width == 8:
                found.add(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
            else:
                words = [address[i : i + 8] for i in range(0, 32, 8)]
                raw = "".join(bytes.fromhex(w)[::-1].hex() for w in words)
                ip = ipaddress.IPv6Address(bytes.fromhex(raw))
                found.add(str(ip.ipv4_mapped or ip))  # gRPC binds 127.0.0.1 as ::ffff:127.0.0.1
    return found


@pytest.mark.e2e
def test_serve_without_host_listens_on_loopback_only(tmp_path: Path) -> None:
    server = ServerProcess.start(tmp_path, "--workers", "1", host=None)
    try:
        server.wait_serving()
        with grpc.insecure_channel(f"[::1]:{server.port}") as channel:
            assert health_status(channel, timeout=5) == health_pb2.HealthCheckResponse.SERVING
        assert listening_addresses(server.port) == {"127.0.0.1", "::1"}
        assert "not a loopback address" not in server.log  # no warning on loopback
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("[::1]", True),
        ("::1", True),
        ("[::]", False),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
        ("regimenguard.example", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_plaintext_on_every_interface_warns_and_tls_does_not(tmp_path: Path) -> None:
    warning = plaintext_warning(ServerOptions(host="[::]"))
    assert warning and "plaintext on [::]" in warning and "--tls-cert" in warning
    assert plaintext_warning(ServerOptions(host="0.0.0.0"))
    assert plaintext_warning(ServerOptions()) is None  # the default: loopback
    pki = make_pki(tmp_path)
    tls = ServerTLS.load(pki.server_cert, pki.server_key)
    assert plaintext_warning(ServerOptions(host="[::]", tls=tls)) is None
