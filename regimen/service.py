"""The service layer every front door shares: check, check_many, drugs, rules.

The gRPC servicer, the CLI's local mode and the HTTP door decode their own wire format into a
``RegimenRequest`` (or a ``RequestInvalid`` when even that fails), call this layer, and encode
what it returns. Validation, the check itself and the observers (access log, metrics) are here,
the same for every door.

A door that wants its calls observed as calls opens one with ``start_call``, passes it to each
method, and ends it with ``end_call`` (with the status it answered). Without a call, each method
is a call of its own, observed as ``check``, ``check_many``, ``drugs`` or ``rules`` with door
``local``. With no observers, none of the records is made.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.interactions.lookup import DrugLookup
from regimenguard.regimen.cache import OrderRecords
from regimenguard.regimen.catalogue import DrugEntry, drug_entries
from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.knowledge import Knowledge, load_knowledge
from regimenguard.regimen.model import CheckResult, RegimenRequest
from regimenguard.regimen.observers import INTERNAL, CallRecord, CheckRecord, Observer
from regimenguard.regimen.order_record import records_for, with_records
from regimenguard.regimen.settings import Settings, load_settings
from regimenguard.regimen.validation import RequestInvalid, normalized, request_error

log = logging.getLogger(__name__)


class CheckFailed(Exception):
    """An item of ``check_many`` whose check raised (a bug): it costs that item only."""

    def __init__(self, request_id: str = "") -> None:
        self.request_id = request_id
        super().__init__("internal error checking this item")


class RegimenService:
    """Built once at start-up; every method is then safe to call from many threads."""

    def __init__(
        self,
        knowledge: Knowledge,
        observers: Iterable[Observer] = (),
        *,
        checker: RegimenChecker | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.checker = checker if checker is not None else RegimenChecker(knowledge)
        self.observers: tuple[Observer, ...] = tuple(observers)
        self._drugs = drug_entries(knowledge)
        self._lookup = DrugLookup(knowledge.resolver)

    @classmethod
    def from_config(
        cls, path: Path | None = None, observers: Iterable[Observer] = ()
    ) -> RegimenService:
        """Knowledge and site settings (``path``: a site TOML file; None: the defaults).

        Raises DataError or SettingsError (each naming the file, row or key) when either
        cannot be used.
        """
        return cls(load_knowledge(load_settings(path)), observers)

    def with_observers(self, observers: Iterable[Observer]) -> RegimenService:
        """The same knowledge and checker, observed by ``observers`` as well."""
        return RegimenService(self.knowledge, (*self.observers, *observers), checker=self.checker)

    @property
    def settings(self) -> Settings:
        return self.knowledge.settings

    @property
    def version(self) -> str:
        return self.knowledge.version

    # --- calls --------------------------------------------------------------------------------

    def start_call(self, method: str, door: str = "local") -> CallRecord:
        return CallRecord(method=method, door=door)

    def end_call(self, call: CallRecord, code: str | None = None) -> None:
        """Ends ``call`` with ``code`` (or the code the service recorded); once per call."""
        if call.ended:
            return
        call.ended = True
        call.seconds = time.perf_counter() - call.started
        if code is not None:
            call.code = code
        for observer in self.observers:
            try:
                observer.call_ended(call)
            except Exception:  # an observer's bug must not cost the caller its answer
                log.exception("observer %r failed at the end of a call", observer)

    # --- checks -------------------------------------------------------------------------------

    def check(
        self, request: RegimenRequest | RequestInvalid, *, call: CallRecord | None = None
    ) -> CheckResult:
        """The answer for one regimen; raises RequestInvalid (every bad field by path).

        A ``RequestInvalid`` given as the request (a door that could not decode it) is observed
        and raised, so that refused requests are counted like any other.
        """
        if not self.observers:
            return self._check(request)
        own = call is None
        if call is None:
            call = self.start_call("check")
        try:
            return self._observed(request, call)
        except RequestInvalid:
            call.code = "INVALID_ARGUMENT"
            raise
        except Exception:
            call.code = INTERNAL
            raise
        finally:
            if own:
                self.end_call(call)

    def check_many(
        self,
        requests: Iterable[RegimenRequest | RequestInvalid],
        *,
        call: CallRecord | None = None,
    ) -> Iterator[CheckResult | RequestInvalid | CheckFailed]:
        """One answer per item, in order: its result, or its error, and the rest go on.

        An item given as ``RequestInvalid`` (it could not be decoded) is answered with itself;
        an item whose check raises (a bug) with ``CheckFailed``. Lazy: an item is checked when
        its answer is asked for, so a door can stop early (a client that went away).
        """
        own = call is None and bool(self.observers)
        if call is None and self.observers:
            call = self.start_call("check_many")
        if call is not None:
            call.many = True
        try:
            for request in requests:
                try:
                    if call is None:
                        yield self._check(request)
                    else:
                        yield self._observed(request, call)
                except RequestInvalid as invalid:
                    yield invalid
                except Exception:
                    log.exception("internal error checking a batch item")
                    yield CheckFailed(_request_id(request))
        finally:
            if own and call is not None:
                self.end_call(call)

    def _check(self, request: RegimenRequest | RequestInvalid) -> CheckResult:
        if isinstance(request, RequestInvalid):
            raise request
        knowledge = self.knowledge
        # each order decoded, validated and resolved once (regimenguard.regimen.order_record)
        records = records_for(
            request.medications, knowledge, self.checker.order_records, request.order_records
        )
        error = request_error(
            request,
            knowledge.settings,
            knowledge,
            orders=[record.violations for record in records],
        )
        if error is not None:
            raise error
        checked = normalized(request, [record.order for record in records])
        return self.checker.check(with_records(checked, records))

    def _observed(self, request: RegimenRequest | RequestInvalid, call: CallRecord) -> CheckResult:
        started = time.perf_counter()
        record = CheckRecord(request=None if isinstance(request, RequestInvalid) else request)
        try:
            record.result = self._check(request)
            return record.result
        except RequestInvalid as invalid:
            record.refused = invalid
            raise
        except Exception:
            record.failed = True
            raise
        finally:
            record.seconds = time.perf_counter() - started
            if record.refused is not None:
                record.request = None  # what was received is in the error
            call.count(record)
            for observer in self.observers:
                try:
                    observer.checked(call, record)
                except Exception:
                    log.exception("observer %r failed after a check", observer)

    @property
    def order_records(self) -> OrderRecords:
        """The checker's one cache: order records by content (regimenguard.regimen.order_record),
        for a door that looks its orders up as it decodes them."""
        return self.checker.order_records

    # --- listings -----------------------------------------------------------------------------

    @property
    def drug_entries(self) -> tuple[DrugEntry, ...]:
        """Every drug of the knowledge base (for a door that prepares its answers at start-up)."""
        return self._drugs

    def drugs(self, query: str = "", *, call: CallRecord | None = None) -> list[DrugEntry]:
        """The knowledge base's drugs whose names, RxCUI or classes contain ``query``."""
        if call is not None:
            call.query = query
        elif self.observers:
            call = self.start_call("drugs")
            call.query = query
            try:
                return self._matching(query)
            finally:
                self.end_call(call)
        return self._matching(query)

    def _matching(self, query: str) -> list[DrugEntry]:
        """What ``drugs`` finds: what a check resolves (interactions/lookup.py), else text."""
        return self._lookup.search(
            query, self._drugs, key_of=lambda entry: entry.search_key, name_of=lambda e: e.name
        )

    def rules(self) -> Sequence[RuleSpec]:
        """Every rule of the catalogue, in catalogue order."""
        return self.knowledge.rules


def _request_id(request: RegimenRequest | RequestInvalid) -> str:
    return request.request_id
