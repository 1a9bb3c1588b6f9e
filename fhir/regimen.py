"""A whole regimen from FHIR: draft orders, the active medication list, the Patient, Conditions.

- Draft MedicationRequests are the orders being started (``draft``, ``active`` or ``on-hold``):
  START, or CHANGE_DOSE when ``priorPrescription`` points at an active MedicationRequest (whose
  dose becomes the previous dose and whose start date is kept); ``stopped`` or ``cancelled``
  drafts are STOP orders; ``entered-in-error`` and ``completed`` drafts are left out.
- Active MedicationRequests (``active``, ``on-hold``) are the continuing regimen (CONTINUE),
  except one a draft replaces or repeats (same id).
- Orders that cannot be mapped are returned as ``UnmappedOrder`` and the rest is still checked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from regimenguard.fhir.medication import MedicationMapper, UnmappedOrder
from regimenguard.fhir.patient import patient_from_fhir
from regimenguard.fhir.reader import Reader
from regimenguard.fhir.terminology import Terminology, load_terminology
from regimenguard.interactions.resolver import NameResolver
from regimenguard.regimen.model import (
    PATIENT_CONDITIONS,
    MedicationOrder,
    OrderAction,
    RegimenRequest,
)

DRAFT_STATUSES = frozenset({"draft", "active", "on-hold"})
STOP_STATUSES = frozenset({"stopped", "cancelled"})
ACTIVE_STATUSES = frozenset({"active", "on-hold"})


@dataclass(frozen=True, slots=True)
class Located:
    """A resource and where it was found in the request (for OperationOutcome locations)."""

    resource: dict[str, Any]
    where: str


@dataclass(frozen=True, slots=True)
class OrderSource:
    """Where ``request.medications[index]`` came from."""

    index: int
    resource: dict[str, Any]
    draft: bool
    selected: bool

    @property
    def reference(self) -> str:
        rid = self.resource.get("id")
        return f"MedicationRequest/{rid}" if isinstance(rid, str) and rid else ""


@dataclass(frozen=True, slots=True)
class MappedRegimen:
    request: RegimenRequest
    sources: tuple[OrderSource, ...]
    unmapped: tuple[UnmappedOrder, ...] = ()
    selections: frozenset[str] = field(default_factory=frozenset)


class RegimenMapper:
    """Built once at start-up from the terminology tables and the knowledge base's names."""

    def __init__(self, resolver: NameResolver, terminology: Terminology | None = None) -> None:
        self.terminology = terminology or load_terminology(
            patient_fields=frozenset(PATIENT_CONDITIONS)
        )
        self.medications = MedicationMapper(self.terminology, resolver)

    def map(
        self,
        *,
        request_id: str,
        as_of: dt.date,
        patient: Located | None,
        conditions: Sequence[Located] = (),
        drafts: Sequence[Located] = (),
        actives: Sequence[Located] = (),
        medications: Mapping[str, dict[str, Any]] = {},
        selections: frozenset[str] = frozenset(),
    ) -> MappedRegimen:
        """Raises FhirInvalid naming every element of a wrong type."""
        reader = Reader()
        domain_patient = patient_from_fhir(
            patient.resource if patient else None,
            [c.resource for c in conditions],
            self.terminology,
            reader.at(patient.where if patient else "prefetch"),
            as_of,
        )
        by_reference = {ref: item for item in actives for ref in _references(item.resource)}
        replaced: set[str] = set()
        orders: list[MedicationOrder] = []
        sources: list[OrderSource] = []
        unmapped: list[UnmappedOrder] = []

        def add(item: Located, action: OrderAction, draft: bool, previous=None) -> None:  # type: ignore[no-untyped-def]
            mapped = self.medications.map(
                item.resource,
                reader.at(item.where),
                action=action,
                medications=medications,
                previous=previous,
            )
            if isinstance(mapped, UnmappedOrder):
                unmapped.append(mapped)
                return
            reference = next(iter(_references(item.resource)), "")
            source = OrderSource(
                len(orders), item.resource, draft, draft and reference in selections
            )
            orders.append(mapped)
            sources.append(source)

        for item in drafts:
            status = _status(item, reader)
            replaced.update(_references(item.resource))
            if status in STOP_STATUSES:
                add(item, OrderAction.STOP, True)
                continue
            if status is not None and status not in DRAFT_STATUSES:
                continue
            prior_ref = _prior(item.resource)
            prior = by_reference.get(prior_ref) if prior_ref else None
            if prior is None:
                add(item, OrderAction.START, True)
                continue
            replaced.add(prior_ref)  # type: ignore[arg-type]
            previous = self.medications.map(
                prior.resource,
                reader.at(prior.where),
                action=OrderAction.CONTINUE,
                medications=medications,
            )
            add(
                item,
                OrderAction.CHANGE_DOSE,
                True,
                previous if isinstance(previous, MedicationOrder) else None,
            )
        for item in actives:
            status = _status(item, reader)
            if status is not None and status not in ACTIVE_STATUSES:
                continue
            if replaced.intersection(_references(item.resource)):
                continue
            add(item, OrderAction.CONTINUE, False)
        reader.raise_if_invalid()
        request = RegimenRequest(
            request_id=request_id, as_of=as_of, patient=domain_patient, medications=tuple(orders)
        )
        return MappedRegimen(request, tuple(sources), tuple(unmapped), selections)


def _references(resource: dict[str, Any]) -> tuple[str, ...]:
    rid = resource.get("id")
    if not isinstance(rid, str) or not rid:
        return ()
    return (f"MedicationRequest/{rid}",)


def _prior(resource: dict[str, Any]) -> str | None:
    prior = resource.get("priorPrescription")
    if isinstance(prior, dict) and isinstance(prior.get("reference"), str):
        ref = prior["reference"]
        return ref if "/" in ref else f"MedicationRequest/{ref}"
    return None


def _status(item: Located, reader: Reader) -> str | None:
    return reader.at(item.where).string(item.resource.get("status"), "MedicationRequest.status")
