"""Metrics of the HTTP door, in the server's registry (regimenguard.server.metrics.Metrics) when it has one.

- ``regimenguard_http_requests_total{route,status}``: HTTP requests by route template
  (``/cds-services/{service_id}``) and status code.
- ``regimenguard_cds_feedback_total{rule_id,outcome}``: CDS Hooks card feedback by rule
  (``accepted``, ``overridden``); overridden / (accepted + overridden) per rule is the alert
  override rate a pharmacy committee reviews.
- ``regimenguard_cds_override_reasons_total{rule_id,reason}``: override reasons by rule (the
  codes the cards offer; anything else counts as ``other``).

Checks, verdicts and findings are counted by the service layer's observers, whichever door.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "regimenguard_http_requests",
            "HTTP requests, by route template and status.",
            ("route", "status"),
            registry=self.registry,
        )
        self.feedback = Counter(
            "regimenguard_cds_feedback",
            "CDS Hooks card feedback, by rule id and outcome.",
            ("rule_id", "outcome"),
            registry=self.registry,
        )
        self.override_reasons = Counter(
            "regimenguard_cds_override_reasons",
            "Override reasons given for CDS Hooks cards, by rule id and reason code.",
            ("rule_id", "reason"),
            registry=self.registry,
        )

    def request(self, route: str, status: int) -> None:
        self.requests.labels(route, str(status)).inc()
