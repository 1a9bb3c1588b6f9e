"""Building, starting and stopping the gRPC server (after grpc/grpc examples/python)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent import futures
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc

from regimen.engine import RegimenChecker
from server.servicer import RegimenCheckerServicer

log = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RegimenCheckerService"].full_name
HEALTH_SERVICE_NAME = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
# Health answers for the whole server ("") and for the checker service by name.
HEALTH_NAMES = ("", SERVICE_NAME)
DEFAULT_PORT = 50051
DEFAULT_THREADS = 16
DEFAULT_GRACE_SECONDS = 10.0
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ServerOptions:
    host: str = "[::]"
    port: int = DEFAULT_PORT
    threads: int = DEFAULT_THREADS
    # Calls beyond this many in flight get RESOURCE_EXHAUSTED instead of queueing without bound.
    max_concurrent_rpcs: int | None = 256
    reuse_port: bool = False
    max_message_bytes: int = MAX_MESSAGE_BYTES
    credentials: grpc.ServerCredentials | None = None
    interceptors: Sequence[grpc.ServerInterceptor] = ()

    def channel_options(self) -> list[tuple[str, int]]:
        return [
            ("grpc.so_reuseport", 1 if self.reuse_port else 0),
            ("grpc.max_receive_message_length", self.max_message_bytes),
            ("grpc.max_send_message_length", self.max_message_bytes),
            # Keepalive: ping idle clients every 5 min, allow client pings every 10 s at most.
            ("grpc.keepalive_time_ms", 300_000),
            ("grpc.keepalive_timeout_ms", 20_000),
            ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
            ("grpc.keepalive_permit_without_calls", 1),
        ]


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    health: health.HealthServicer

    def start(self) -> None:
        self.server.start()
        for name in HEALTH_NAMES:
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    def stop(self, grace: float = DEFAULT_GRACE_SECONDS) -> None:
        """NOT_SERVING first, so balancers drain us; then let in-flight calls finish."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()


def create_server(checker: RegimenChecker, options: ServerOptions | None = None) -> RunningServer:
    """A server with the checker, health and reflection services, bound but not started.

    Returns the bound port (useful with port 0). Health reports NOT_SERVING until start().
    """
    options = options or ServerOptions()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=options.threads, thread_name_prefix="rpc"),
        options=options.channel_options(),
        maximum_concurrent_rpcs=options.max_concurrent_rpcs,
        interceptors=list(options.interceptors),
    )
    pb_grpc.add_RegimenCheckerServiceServicer_to_server(RegimenCheckerServicer(checker), server)
    health_servicer = health.HealthServicer(
        experimental_non_blocking=True,
        experimental_thread_pool=futures.ThreadPoolExecutor(max_workers=1),
    )
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    address = f"{options.host}:{options.port}"
    if options.credentials is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, options.credentials)
    for name in HEALTH_NAMES:
        health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    return RunningServer(server, port, health_servicer)
