"""An "empty-work" RegimenCheckerService: the transport ceiling the project server is compared to.

`python -m bench.empty_server --port N`

Same service, same server settings (thread pool, message limits, keepalive, max concurrent RPCs,
health service) as regimenguard.server.app.create_server, but no checking: each call's request arrives parsed
(the generated deserializer runs, as in the project), a field is touched, and a FIXED prebuilt
CheckRegimenResponse is returned. The fixed response is the project's own answer to the 5-order
benchmark regimen (findings, summary with resolved orders and fired interactions), so response
serialization costs the same as in the project for that regimen.

CheckRegimenBatch and CheckRegimens parse the request too and answer with the same fixed response
per item (request_id echoed), pre-serialized, so the bulk transport ceiling can be measured.

On SIGTERM it prints one JSON line to stdout, {"calls": {method: count}}, and exits: an exact
per-process call counter for the round-robin demo.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections import Counter
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from regimenguard.server.app import SERVICE_NAME, ServerOptions
from regimenguard.v1 import regimen_checker_pb2 as pb


def fixed_response() -> pb.CheckRegimenResponse:
    from bench.regimens import AS_OF_DATE, sized_request
    from regimenguard.regimen.engine import RegimenChecker
    from regimenguard.regimen.knowledge import load_knowledge
    from regimenguard.server.convert import request_from_proto, response_from_result

    checker = RegimenChecker(load_knowledge())
    request = sized_request(5)
    return response_from_result(
        checker.check(request_from_proto(request, checker, today=AS_OF_DATE))
    )


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


class EmptyService:
    """Handlers of RegimenCheckerService that do no checking."""

    def __init__(self, response: pb.CheckRegimenResponse) -> None:
        self._response = response
        rest = pb.CheckRegimenResponse()
        rest.CopyFrom(response)
        rest.request_id = ""
        self._rest = rest.SerializeToString()  # every field but request_id (field 1)
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _count(self, method: str) -> None:
        with self._lock:
            self.calls[method] += 1

    def _item(self, request_id: str) -> bytes:
        """One serialized CheckRegimenResponse: the fixed answer with request_id echoed."""
        encoded = request_id.encode()
        return b"\x0a" + _varint(len(encoded)) + encoded + self._rest

    def check_regimen(self, request: pb.CheckRegimenRequest, context) -> pb.CheckRegimenResponse:
        self._count("CheckRegimen")
        if len(request.medications) > 100 or request.patient.age_years < 0:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad request")
        return self._response  # fixed and prebuilt; gRPC serializes it, as for the project

    def check_regimen_batch(self, request: pb.CheckRegimenBatchRequest, context) -> bytes:
        self._count("CheckRegimenBatch")
        parts = []
        for item in request.requests:
            encoded = self._item(item.request_id)
            parts.append(b"\x0a" + _varint(len(encoded)) + encoded)
        return b"".join(parts)

    def check_regimens(self, request_iterator, context):
        self._count("CheckRegimens")
        for item in request_iterator:
            yield self._item(item.request_id)

    def handler(self) -> grpc.GenericRpcHandler:
        return grpc.method_handlers_generic_handler(
            SERVICE_NAME,
            {
                "CheckRegimen": grpc.unary_unary_rpc_method_handler(
                    self.check_regimen,
                    request_deserializer=pb.CheckRegimenRequest.FromString,
                    response_serializer=pb.CheckRegimenResponse.SerializeToString,
                ),
                "CheckRegimenBatch": grpc.unary_unary_rpc_method_handler(
                    self.check_regimen_batch,
                    request_deserializer=pb.CheckRegimenBatchRequest.FromString,
                ),
                "CheckRegimens": grpc.stream_stream_rpc_method_handler(
                    self.check_regimens,
                    request_deserializer=pb.CheckRegimenRequest.FromString,
                ),
            },
        )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.empty_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=ServerOptions().threads)
    args = parser.parse_args()
    options = ServerOptions(host="127.0.0.1", port=args.port, threads=args.threads)
    service = EmptyService(fixed_response())
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=options.threads, thread_name_prefix="rpc"),
        options=options.channel_options(),
        maximum_concurrent_rpcs=options.max_concurrent_rpcs,
    )
    server.add_generic_rpc_handlers((service.handler(),))
    health_servicer = health.HealthServicer(
        experimental_non_blocking=True,
        experimental_thread_pool=futures.ThreadPoolExecutor(max_workers=1),
    )
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if server.add_insecure_port(f"{options.host}:{options.port}") == 0:
        print(f"cannot bind port {options.port}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    stop.wait()
    server.stop(1).wait()
    print(json.dumps({"calls": dict(service.calls)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
