"""Prometheus metrics, an observer of the service layer, served on ``serve --metrics-port``.

Off unless the operator asks for them. ``Metrics`` owns its own registry (not prometheus_client's
global one), so that a process, or a test, can hold several. It is a ``regimenguard.regimen.observers``
observer: the service layer tells it about each regimen (domain values) and each call's end
(the status code the caller received and the duration), whichever front door it came through.

Series (label values are low-cardinality: method names of the registered services, status code
names, rule ids of the catalogue, severity and verdict names):

- ``regimenguard_calls_total{method,code}``: finished calls, health checks and reflection too;
  ``method`` is the full gRPC path (``/regimenguard.v1.RegimenCheckerService/CheckRegimen``),
  ``code`` the status code's name (``OK``, ``INVALID_ARGUMENT``, ...).
- ``regimenguard_call_duration_seconds{method}``: histogram of call durations (a stream: from
  its start to its end).
- ``regimenguard_findings_total{rule_id,severity}``: findings in the answers (every checked
  regimen: unary, batch items and stream items), ``severity`` without its prefix (``WARNING``).
- ``regimenguard_verdicts_total{verdict}``: verdicts of checked regimens (``ACCEPT``, ``REVIEW``,
  ``REJECT``), batch and stream items included.
- ``regimenguard_medications_per_request``: histogram of the number of medications of each
  regimen received (unary, batch item or stream item), whether or not it could be checked.
- ``regimenguard_item_errors_total``: batch and stream items answered with ``error``.
- ``regimenguard_knowledge_base_info{version}``: always 1; the knowledge-base version.
- ``regimenguard_order_records_lookups_total{result}`` (``hit``, ``miss``) and
  ``regimenguard_order_records_entries``: the checker's one cache, order records by content
  (``regimenguard.regimen.cache``); the hit rate is hits / (hits + misses). Read when scraped.
- The process collector's ``process_*`` series (this process's CPU, memory, open files) and
  ``python_info``, ``python_gc_*``.

No drug name, patient field or request id is ever a label.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, Info, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from regimenguard.regimen.cache import OrderRecords
from regimenguard.regimen.model import Severity, Verdict
from regimenguard.regimen.observers import CallRecord, CheckRecord

# Sub-millisecond checks up to slow batches and long streams.
DURATION_BUCKETS = (
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
MEDICATION_BUCKETS = (1, 2, 3, 5, 8, 13, 20, 50, 100)


class Metrics:
    """The server's metrics in a registry of their own; ``start`` serves them over HTTP."""

    def __init__(
        self,
        knowledge_base_version: str,
        *,
        runtime: bool = True,
        order_records: OrderRecords | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        if order_records is not None:
            registry.register(OrderRecordsCollector(order_records))
        self.calls = Counter(
            "regimenguard_calls",
            "Finished gRPC calls, by method and status code.",
            ("method", "code"),
            registry=registry,
        )
        self.duration = Histogram(
            "regimenguard_call_duration_seconds",
            "How long gRPC calls took, by method.",
            ("method",),
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.findings = Counter(
            "regimenguard_findings",
            "Findings in the answers, by rule id and severity.",
            ("rule_id", "severity"),
            registry=registry,
        )
        self.verdicts = Counter(
            "regimenguard_verdicts",
            "Verdicts of checked regimens (unary, batch and stream items).",
            ("verdict",),
            registry=registry,
        )
        self.medications = Histogram(
            "regimenguard_medications_per_request",
            "Medications in each regimen received (unary, batch or stream item).",
            buckets=MEDICATION_BUCKETS,
            registry=registry,
        )
        self.item_errors = Counter(
            "regimenguard_item_errors",
            "Batch and stream items answered with an error.",
            registry=registry,
        )
        self.knowledge_base = Info(
            "regimenguard_knowledge_base",
            "The knowledge base that checks regimens.",
            registry=registry,
        )
        self.knowledge_base.info({"version": knowledge_base_version})
        # By member (a Verdict hashes by identity; its .name is a Python call).
        self._verdict_children = {
            verdict: self.verdicts.labels(verdict.name).inc for verdict in Verdict
        }
        self._finding_children: dict[tuple[str, Severity], Callable[[], None]] = {}
        self._call_children: dict[tuple[str, str], Callable[[], None]] = {}
        self._duration_children: dict[str, Callable[[float], None]] = {}
        self._lock = threading.Lock()
        self._http: WSGIServer | None = None
        if runtime:
            ProcessCollector(registry=registry)
            PlatformCollector(registry=registry)
            GCCollector(registry=registry)

    # --- regimenguard.regimen.observers.Observer --------------------------------------------------------

    def checked(self, call: CallRecord, check: CheckRecord) -> None:
        self.medications.observe(check.medications)
        result = check.result
        if result is None:
            if call.many:
                self.item_errors.inc()
            return
        self._verdict_children[result.verdict]()
        children = self._finding_children
        for finding in result.findings:
            key = (finding.rule_id, finding.severity)
            increment = children.get(key)
            if increment is None:
                increment = self._child(children, key, self._finding_counter)
            increment()

    def call_ended(self, call: CallRecord) -> None:
        key = (call.method, call.code)
        increment = self._call_children.get(key)
        if increment is None:
            increment = self._child(self._call_children, key, self._call_counter)
        increment()
        observe = self._duration_children.get(call.method)
        if observe is None:
            observe = self._child(self._duration_children, call.method, self._duration_histogram)
        observe(call.seconds)

    # Each labels() child is made once per label set, under a lock; after that a lookup in a
    # plain dict finds its bound method (labels() itself takes a lock and builds a tuple).

    def _finding_counter(self, key: tuple[str, Severity]) -> Callable[[], None]:
        rule_id, severity = key
        return self.findings.labels(rule_id, severity.name).inc

    def _call_counter(self, key: tuple[str, str]) -> Callable[[], None]:
        method, code = key
        return self.calls.labels(method, code).inc

    def _duration_histogram(self, method: str) -> Callable[[float], None]:
        return self.duration.labels(method).observe

    def _child(self, cache: dict, key: Any, make: Callable[[Any], Any]) -> Any:  # type: ignore[type-arg]
        with self._lock:
            child = cache.get(key)
            if child is None:
                child = cache[key] = make(key)
            return child

    # --- HTTP ---------------------------------------------------------------------------------

    def start(self, port: int, host: str = "") -> int:
        """Serves ``/metrics`` on ``host:port`` (port 0: any free port) in a daemon thread.

        ``host`` may be gRPC-style (``[::]``); empty means every IPv4 interface. Returns the
        bound port. Raises OSError when the address cannot be bound.
        """
        if self._http is not None:
            raise RuntimeError("metrics are already being served")
        address = host.removeprefix("[").removesuffix("]") or "0.0.0.0"
        server, _thread = start_http_server(port, addr=address, registry=self.registry)
        self._http = server
        return int(server.server_port)

    @property
    def port(self) -> int | None:
        return None if self._http is None else int(self._http.server_port)

    def stop(self) -> None:
        """Stops serving (no-op when not started)."""
        server, self._http = self._http, None
        if server is not None:
            server.shutdown()
            server.server_close()


class OrderRecordsCollector:
    """The order-record cache's lookups (hits, misses) and entries, read at each scrape."""

    def __init__(self, records: OrderRecords) -> None:
        self._records = records

    def collect(self):  # type: ignore[no-untyped-def]
        stats = self._records.stats()
        lookups = CounterMetricFamily(
            "regimenguard_order_records_lookups",
            "Lookups in the cache of resolved orders, by result (hit or miss).",
            labels=("result",),
        )
        lookups.add_metric(("hit",), stats.hits)
        lookups.add_metric(("miss",), stats.misses)
        yield lookups
        yield GaugeMetricFamily(
            "regimenguard_order_records_entries",
            "Resolved orders held in the cache now.",
            value=stats.entries,
        )
