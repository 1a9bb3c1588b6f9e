"""Serving the HTTP door with uvicorn in a thread of its own (its own event loop).

Independent of how the gRPC server runs: ``HttpServer.start`` binds (SO_REUSEPORT when several
worker processes share the port), starts uvicorn and waits until it listens; ``stop`` says
NOT_SERVING on /healthz, waits ``drain`` seconds, then lets uvicorn finish the requests in
flight within the grace period. TLS from the same certificate and key as the gRPC door
(``--tls-cert``/``--tls-key``; ``--tls-client-ca`` requires client certificates).
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from regimenguard.server.tls import ServerTLS

START_TIMEOUT_SECONDS = 10.0


class HttpServer:
    def __init__(
        self,
        app: Starlette,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ServerTLS | None = None,
        reuse_port: bool = False,
        grace_seconds: float = 10.0,
    ) -> None:
        self.app = app
        self.host = host.removeprefix("[").removesuffix("]") or "0.0.0.0"
        self.requested_port = port
        self.tls = tls
        self.reuse_port = reuse_port
        self.grace_seconds = grace_seconds
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._tls_dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    def start(self) -> int:
        """Binds and serves; returns the port. Raises OSError when the address cannot be bound."""
        sock = self._bind()
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_config=None,
            access_log=False,  # the service layer's access log covers HTTP calls
            timeout_graceful_shutdown=max(1, int(self.grace_seconds)),
            server_header=False,
            **self._tls_options(),
        )
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[sock])),  # type: ignore[union-attr]
            name="http",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise OSError(f"the HTTP server did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        self.app.state.health.serving = True
        return self.port

    def stop(self, *, drain: float = 0.0) -> None:
        self.app.state.health.serving = False
        if drain:
            time.sleep(drain)
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(self.grace_seconds + 2)
        if self._tls_dir is not None:
            self._tls_dir.cleanup()

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((self.host, self.requested_port))
        except OSError:
            sock.close()
            raise
        sock.listen(128)
        sock.setblocking(False)
        return sock

    def _tls_options(self) -> dict[str, object]:
        if self.tls is None:
            return {}
        # uvicorn reads files: the PEM bytes go to a private temporary folder for its start.
        self._tls_dir = tempfile.TemporaryDirectory(prefix="regimenguard-tls-")
        folder = Path(self._tls_dir.name)
        os.chmod(folder, 0o700)
        (folder / "cert.pem").write_bytes(self.tls.cert_chain)
        (folder / "key.pem").write_bytes(self.tls.private_key)
        options: dict[str, object] = {
            "ssl_certfile": str(folder / "cert.pem"),
            "ssl_keyfile": str(folder / "key.pem"),
        }
        if self.tls.client_ca is not None:
            (folder / "ca.pem").write_bytes(self.tls.client_ca)
            options["ssl_ca_certs"] = str(folder / "ca.pem")
            options["ssl_cert_reqs"] = ssl.CERT_REQUIRED
        return options
