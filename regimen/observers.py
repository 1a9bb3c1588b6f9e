"""What the service layer tells its observers (access log, metrics, later traces): domain values.

The service calls ``checked`` once per regimen (checked or refused) and ``call_ended`` once per
call, whichever front door it came through (gRPC, HTTP, the CLI's local mode). A front door
opens a call with ``RegimenService.start_call``, adds what only it knows (the peer, the status
code it answered with) and ends it with ``RegimenService.end_call``; the records carry no
protobuf or HTTP types.

Protected health information (drug names, patient fields, a drug query) is in the records
(``CheckRecord.drugs``, ``CheckRecord.patient``, ``CallRecord.query``) for an observer that is
allowed to show it; it is each observer's policy (the access log shows it only under
``--log-phi``; metrics never).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from regimenguard.regimen.model import CheckResult, Patient, RegimenRequest
from regimenguard.regimen.validation import RequestInvalid, order_names

# Status codes as strings, by gRPC's names (an HTTP door maps them to its statuses).
OK = "OK"
INVALID_ARGUMENT = "INVALID_ARGUMENT"
INTERNAL = "INTERNAL"


@dataclass(slots=True, eq=False)
class CheckRecord:
    """One regimen: its answer (``result``), its refusal (``refused``), or a failure (a bug)."""

    request: RegimenRequest | None = None
    result: CheckResult | None = None
    refused: RequestInvalid | None = None
    failed: bool = False
    seconds: float = 0.0

    @property
    def request_id(self) -> str:
        if self.request is not None:
            return self.request.request_id
        return self.refused.request_id if self.refused is not None else ""

    @property
    def medications(self) -> int:
        if self.request is not None:
            return len(self.request.medications)
        return self.refused.medications if self.refused is not None else 0

    @property
    def code(self) -> str:
        if self.failed:
            return INTERNAL
        return INVALID_ARGUMENT if self.refused is not None else OK

    @property
    def verdict(self) -> str | None:
        """``ACCEPT``, ``REVIEW`` or ``REJECT``; None when the regimen was not checked."""
        # _name_: the member's own attribute (.name is a Python-level descriptor call)
        return None if self.result is None else self.result.verdict._name_

    @property
    def findings(self) -> tuple[tuple[str, str], ...]:
        """(rule id, severity name) of every finding reported, in the answer's order."""
        if self.result is None:
            return ()
        return tuple((f.rule_id, f.severity.name) for f in self.result.findings)

    @property
    def finding_counts(self) -> Counter[tuple[str, str]]:
        return Counter(self.findings)

    # --- protected health information -----------------------------------------------------

    @property
    def drugs(self) -> tuple[str, ...]:
        if self.request is not None:
            return order_names(self.request.medications)
        return self.refused.drugs if self.refused is not None else ()

    @property
    def patient(self) -> Patient | None:
        if self.request is not None:
            return self.request.patient
        return self.refused.patient if self.refused is not None else None


@dataclass(slots=True, eq=False)
class CallRecord:
    """One call through a front door, with the totals of the regimens it carried."""

    method: str  # the door's name for it: "/regimenguard.v1.RegimenCheckerService/CheckRegimen"
    door: str = "local"  # "grpc", "http", "local"
    started: float = field(default_factory=time.perf_counter)
    code: str = OK
    seconds: float = 0.0
    many: bool = False  # a batch or a stream: each item answered on its own
    request_id: str | None = None  # the first regimen's
    items: int = 0
    medications: int = 0
    findings: int = 0
    errors: int = 0  # items of a batch or stream answered with an error
    verdict: str | None = None  # a single check's
    peer: str = ""
    client: str = ""  # the client certificate's identity, under mutual TLS
    query: str | None = None  # a drug search (it may name a patient's drug: PHI)
    # Observers' own per-call state (the access log's PHI lists, say), by observer.
    notes: dict[str, Any] = field(default_factory=dict)
    ended: bool = False

    def count(self, check: CheckRecord) -> None:
        """Adds one regimen's totals (the service does, before observers see it)."""
        self.items += 1
        self.medications += check.medications
        if self.request_id is None:
            self.request_id = check.request_id
        if check.result is not None:
            self.findings += len(check.result.findings)
            if not self.many:
                self.verdict = check.verdict
        elif self.many:
            self.errors += 1


class Observer(Protocol):
    """Told about every regimen and every call; must be cheap and must not raise."""

    def checked(self, call: CallRecord, check: CheckRecord) -> None:
        """One regimen of ``call`` was answered (or refused, or failed)."""

    def call_ended(self, call: CallRecord) -> None:
        """``call`` finished (``call.code``, ``call.seconds`` are final); once per call."""
