"""The regimen checker's domain model: what a request and an answer are, free of protobuf."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from regimenguard.interactions.severity import Severity as Severity  # re-exported for the rules
from regimenguard.regimen.slots_init import fast_init

if TYPE_CHECKING:
    from regimenguard.regimen.order_record import OrderRecord

_T = TypeVar("_T")


class _Enum(enum.Enum):
    """An enum hashed by identity: its members are singletons, so this agrees with ``==``, and
    a dict or set lookup (the orders are cache keys) needs no Python-level ``__hash__`` call."""

    __hash__ = object.__hash__


class Route(_Enum):
    ORAL = "oral"
    TOPICAL = "topical"
    TRANSDERMAL = "transdermal"
    INJECTION = "injection"
    INTRANASAL = "intranasal"
    SUBLINGUAL = "sublingual"
    RECTAL = "rectal"
    BUCCAL = "buccal"

    @property
    def is_systemic(self) -> bool:
        """Everything but a topical application acts on the whole body."""
        return self is not _TOPICAL


class OrderAction(_Enum):
    CONTINUE = "continue"
    START = "start"
    CHANGE_DOSE = "change_dose"
    STOP = "stop"


class TherapyResponse(_Enum):
    UNASSESSED = "unassessed"
    BENEFIT = "benefit"
    NO_BENEFIT = "no_benefit"
    NOT_TOLERATED = "not_tolerated"


# members the model's properties compare with, as module constants: an enum class's attribute
# costs a call of its metaclass's __getattr__ hook (Python 3.11) where a global is one lookup
_TOPICAL = Route.TOPICAL
_STOP = OrderAction.STOP


class Verdict(_Enum):
    ACCEPT = "accept"
    REVIEW = "review"
    REJECT = "reject"


@fast_init
@dataclass(frozen=True, slots=True)
class Patient:
    age_years: int = 0
    hepatic_impairment: bool = False
    renal_impairment: bool = False
    alcohol_use_disorder: bool = False
    substance_use_disorder: bool = False
    seizure_disorder: bool = False
    gi_bleed_history: bool = False
    cardiovascular_disease: bool = False
    refractory_symptoms: bool = False
    pain_duration_weeks: int = 0
    active_cancer_treatment: bool = False
    palliative_care: bool = False
    opioid_tolerant: bool = False


# The patient's boolean conditions (every bool field of Patient), in declaration order.
PATIENT_CONDITIONS: tuple[str, ...] = tuple(
    f.name for f in fields(Patient) if f.type in ("bool", bool)
)


@fast_init
@dataclass(frozen=True, slots=True)
class IngredientDose:
    name: str
    dose_mg: float


@fast_init
@dataclass(frozen=True, slots=True)
class MedicationOrder:
    drug: str
    dose_mg: float = 0.0
    ingredients: tuple[IngredientDose, ...] = ()
    rate_mcg_per_hour: float = 0.0
    doses_per_day: float = 0.0
    as_needed: bool = False
    route: Route = Route.ORAL
    extended_release: bool = False
    action: OrderAction = OrderAction.CONTINUE
    started_on: dt.date | None = None
    previous_dose_mg: float = 0.0
    planned_days: int = 0
    response: TherapyResponse = TherapyResponse.UNASSESSED
    indication: str = ""
    units_per_dose: float = 0.0
    # for a STOP order: the day it was or will be stopped (None = the request's as_of)
    stopped_on: dt.date | None = None

    @property
    def is_back_pain_therapy(self) -> bool:
        """An order with no indication is back-pain therapy; others are only context."""
        return not self.indication

    @property
    def is_active(self) -> bool:
        """Part of the resulting regimen (a STOP order is not)."""
        return self.action is not _STOP


@fast_init
@dataclass(frozen=True, slots=True)
class Acknowledgement:
    rule_id: str
    reason: str
    drugs: tuple[str, ...] = ()


@fast_init
@dataclass(frozen=True, slots=True)
class RegimenRequest:
    request_id: str
    as_of: dt.date
    patient: Patient = field(default_factory=Patient)
    medications: tuple[MedicationOrder, ...] = ()
    acknowledgements: tuple[Acknowledgement, ...] = ()
    # the orders' records (regimenguard.regimen.order_record), when the door that decoded the
    # request built them; used only while they are those of ``medications``; not its value
    order_records: tuple[OrderRecord, ...] = field(default=(), compare=False, repr=False)


class Finding(NamedTuple):
    """One finding of a check. A named tuple, not a frozen dataclass: a check builds a dozen,
    and a tuple is built in one C call (a third of the frozen dataclass's cost); it is as
    immutable, and compares and hashes by its fields alike."""

    rule_id: str
    severity: Severity
    drugs: tuple[str, ...]
    message: str
    recommendation: str
    guideline_section: str
    ncpdp_reason_code: str
    acknowledged: bool = False


@fast_init
@dataclass(frozen=True, slots=True)
class ResolvedIngredient:
    """One ingredient an order contributes; amounts are None when they cannot be known."""

    name: str
    rxcui: str
    mg_per_dose: float | None
    mg_per_day: float | None
    # the ingredient's graph nodes for this order's route: ``drug:NAME`` and its ``class:ID``s
    nodes: frozenset[str]
    # the class ids among those nodes, sorted (precomputed by the knowledge base's index)
    classes: tuple[str, ...] = ()
    # the salt whose weight the order or product stated ("" = counted as stated), and the
    # counted mg per stated mg (550 mg naproxen sodium counts as 500 mg naproxen: 0.9091)
    salt: str = ""
    salt_factor: float = 1.0

    @property
    def salt_mg_per_day(self) -> float | None:
        """The daily amount as stated, in the salt's weight (for messages)."""
        if not self.salt or self.mg_per_day is None:
            return None
        return self.mg_per_day / self.salt_factor


@fast_init
@dataclass(frozen=True, slots=True)
class ResolvedOrder:
    index: int
    order: MedicationOrder
    product: str
    ingredients: tuple[ResolvedIngredient, ...]
    unresolved_names: tuple[str, ...] = ()
    # the record it was resolved from (regimenguard.regimen.order_record); not its value
    record: OrderRecord | None = field(default=None, compare=False, repr=False)

    @property
    def resolved(self) -> bool:
        return not self.unresolved_names

    @property
    def ingredient_names(self) -> tuple[str, ...]:
        return tuple(ingredient.name for ingredient in self.ingredients)


class FiredInteraction(NamedTuple):
    """An interaction edge both of whose ends the regimen has (a named tuple, as ``Finding``)."""

    node_a: str
    node_b: str
    rule_id: str
    severity: Severity
    drugs: tuple[str, ...]


@fast_init
@dataclass(frozen=True, slots=True)
class RegimenSummary:
    acetaminophen_mg_per_day: float
    acetaminophen_limit_mg_per_day: float
    morphine_mg_equivalents_per_day: float
    serotonergic_agents: int
    orders: tuple[ResolvedOrder, ...]
    interactions: tuple[FiredInteraction, ...] = ()
    # opioids ordered for opioid use disorder: apart from the pain MME above
    oud_treatment_drugs: tuple[str, ...] = ()
    # opioids the MME total could not count (it is then a lower bound)
    mme_uncounted_drugs: tuple[str, ...] = ()


@fast_init
@dataclass(frozen=True, slots=True)
class CheckResult:
    request_id: str
    verdict: Verdict
    findings: tuple[Finding, ...]
    summary: RegimenSummary
    knowledge_base_version: str


def _assembler(cls: type[_T]) -> Callable[..., _T]:
    """A function that builds a ``cls`` (a frozen slots dataclass) from the values of all its
    fields, positionally, as ``cls(*values)`` does, at about a third of the cost.

    A frozen dataclass fills each slot through a descriptor call (``fast_init``); the assembler
    fills them with plain attribute stores on an instance of a mutable twin class of the very
    same slots, then makes that instance a ``cls`` (``__class__`` assignment, which Python allows
    between classes of one layout). What comes out is a ``cls`` like any other: frozen, compared,
    hashed and printed the same. For the objects built once per new order and per request.
    """
    names = tuple(field.name for field in fields(cls))  # type: ignore[arg-type]
    if cls.__bases__ != (object,) or tuple(getattr(cls, "__slots__", ())) != names:
        raise TypeError(f"_assembler: {cls.__name__} is not a plain slots dataclass")
    twin = type(f"_{cls.__name__}Slots", (), {"__slots__": names})
    parameters = ", ".join(names)
    stores = "".join(f"    made.{name} = {name}\n" for name in names)
    source = (
        f"def assemble({parameters}):\n    made = _new(_twin)\n{stores}"
        "    made.__class__ = _cls\n    return made\n"
    )
    namespace: dict[str, object] = {"_new": object.__new__, "_twin": twin, "_cls": cls}
    exec(source, namespace)
    assemble = namespace["assemble"]
    assemble.__qualname__ = assemble.__name__ = f"assemble_{cls.__name__}"  # type: ignore[attr-defined]
    return assemble  # type: ignore[return-value]


# MedicationOrder(*values) etc. with every field given, in field order (see _assembler)
assemble_order: Callable[..., MedicationOrder] = _assembler(MedicationOrder)
assemble_ingredient: Callable[..., ResolvedIngredient] = _assembler(ResolvedIngredient)
assemble_patient: Callable[..., Patient] = _assembler(Patient)
assemble_request: Callable[..., RegimenRequest] = _assembler(RegimenRequest)
assemble_resolved_order: Callable[..., ResolvedOrder] = _assembler(ResolvedOrder)
assemble_summary: Callable[..., RegimenSummary] = _assembler(RegimenSummary)
assemble_result: Callable[..., CheckResult] = _assembler(CheckResult)
