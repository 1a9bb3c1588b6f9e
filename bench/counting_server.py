"""The project server (regimenguard.server.app.create_server, unchanged) plus a call-counting interceptor.

`python -m bench.counting_server --port N`

Used only by the round-robin demo, so that each process can say exactly how many calls it took.
On SIGTERM it stops like `regimen-guard serve` and prints one JSON line to stdout:
{"calls": {method: count}}. Throughput is never measured against this server (the interceptor
costs a little); the throughput figures use `regimen-guard serve`.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections import Counter

import grpc

from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.knowledge import load_knowledge
from regimenguard.server.app import ServerOptions, create_server


class CountingInterceptor(grpc.ServerInterceptor):
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method.rsplit("/", 1)[-1]
        with self._lock:
            self.calls[method] += 1
        return continuation(handler_call_details)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.counting_server")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    counter = CountingInterceptor()
    running = create_server(
        RegimenChecker(load_knowledge()),
        ServerOptions(host="127.0.0.1", port=args.port, interceptors=(counter,)),
    )
    if running.port == 0:
        print(f"cannot bind port {args.port}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    running.start()
    stop.wait()
    running.stop(1)
    print(json.dumps({"calls": dict(counter.calls)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
