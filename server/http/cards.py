"""CDS Hooks 2.0 cards: one per finding, plus an info card per order that could not be mapped.

A card carries the finding's headline as ``summary`` (under 140 characters), its severity as
``indicator``, the message, recommendation and the regimen's totals as markdown ``detail``,
the rule's ``source`` (label and URL from server/http/data/card_sources.csv, the rule id as
``source.topic``), ``overrideReasons`` on WARNING cards, and ``suggestions`` where
server/http/data/card_suggestions.csv names a concrete change for the rule. Every card's rule
id, severity and drugs are also under ``extension.regimenguard`` for machine readers.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from regimenguard.fhir.medication import UnmappedOrder
from regimenguard.fhir.regimen import MappedRegimen, OrderSource
from regimenguard.fhir.terminology import RXNORM, SNOMED
from regimenguard.regimen.headlines import headline
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import CheckResult, Finding, OrderAction, Severity
from regimenguard.server.http.presentation import Presentation, SuggestionRule

INDICATORS = {Severity.INFO: "info", Severity.WARNING: "warning", Severity.CRITICAL: "critical"}
RULE_TOPIC_SYSTEM = "urn:regimenguard:rule"
OVERRIDE_SYSTEM = "urn:regimenguard:override-reason"
SERVICE_LABEL = "RegimenGuard"


class CardMaker:
    """Built once at start-up (presentation data and the knowledge base's starting doses)."""

    def __init__(
        self,
        knowledge: Knowledge,
        presentation: Presentation,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.knowledge = knowledge
        self.presentation = presentation
        self.new_id = new_id
        self._summaries = {spec.rule_id: spec.summary for spec in knowledge.rules}

    def cards(self, result: CheckResult, mapped: MappedRegimen) -> list[dict[str, Any]]:
        selected = _selected_ingredients(result, mapped)
        offered: set[str] = set()  # drugs an earlier card already suggests adding
        cards = [
            self._card(finding, result, mapped, offered)
            for finding in result.findings
            if selected is None or not finding.drugs or selected.intersection(finding.drugs)
        ]
        cards.extend(self._unmapped_card(order) for order in mapped.unmapped)
        return cards

    # --- one finding --------------------------------------------------------------------------

    def _card(
        self, finding: Finding, result: CheckResult, mapped: MappedRegimen, offered: set[str]
    ) -> dict[str, Any]:
        card: dict[str, Any] = {
            "uuid": self.new_id(),
            "summary": headline(finding, result.summary),
            "indicator": INDICATORS[finding.severity],
            "detail": _detail(finding, result),
            "source": self._source(finding),
            "extension": {
                "regimenguard": {
                    "ruleId": finding.rule_id,
                    "severity": finding.severity.name,
                    "drugs": list(finding.drugs),
                    "ncpdpReasonCode": finding.ncpdp_reason_code,
                    "acknowledged": finding.acknowledged,
                }
            },
        }
        if finding.severity is Severity.WARNING:
            card["overrideReasons"] = [
                {"code": r.code, "system": OVERRIDE_SYSTEM, "display": r.display}
                for r in self.presentation.override_reasons
            ]
        suggestions = [
            suggestion
            for rule in self.presentation.suggestions.get(finding.rule_id, ())
            if (suggestion := self._suggestion(rule, finding, result, mapped, offered)) is not None
        ]
        if suggestions:
            card["suggestions"] = suggestions
            card["selectionBehavior"] = "at-most-one"
        return card

    def _source(self, finding: Finding) -> dict[str, Any]:
        source = self.presentation.sources[finding.rule_id]
        drug = finding.drugs[0] if finding.drugs else ""
        return {
            "label": source.label.replace("{drug}", drug or "the drug"),
            "url": source.url.replace("{drug}", quote(drug)),
            "topic": {
                "system": RULE_TOPIC_SYSTEM,
                "code": finding.rule_id,
                "display": self._summaries.get(finding.rule_id, finding.rule_id),
            },
        }

    def _unmapped_card(self, order: UnmappedOrder) -> dict[str, Any]:
        return {
            "uuid": self.new_id(),
            "summary": _short(f"Not checked: {order.name}"),
            "indicator": "info",
            "detail": (
                f"RegimenGuard could not check **{order.name}**: {order.reason}. "
                "The rest of the regimen was checked without it; review this order by hand."
            ),
            "source": {"label": SERVICE_LABEL},
        }

    # --- suggestions --------------------------------------------------------------------------

    def _suggestion(
        self,
        rule: SuggestionRule,
        finding: Finding,
        result: CheckResult,
        mapped: MappedRegimen,
        offered: set[str],
    ) -> dict[str, Any] | None:
        if rule.kind == "add":
            if rule.drug in offered or any(
                rule.drug in _ingredients(result, s) for s in mapped.sources
            ):
                return None  # already in the regimen, or suggested on an earlier card
            offered.add(rule.drug)
            return self._suggest(
                f"Add {rule.display}", [self._create(_new_order(rule, self.new_id()), rule.display)]
            )
        drafts = [s for s in mapped.sources if s.draft and s.reference and _is_new(result, s)]
        if rule.kind == "replace":
            if rule.drug not in finding.drugs:
                return None
            target = next((s for s in drafts if rule.drug in _ingredients(result, s)), None)
            start = self.knowledge.dosing.starting_doses.get(rule.replacement)
            if target is None or start is None:
                return None
            replacement = _replaced(
                target.resource,
                rule.replacement,
                self.knowledge.index.rxcui.get(rule.replacement, ""),
                start.start_mg_per_dose,
                self.new_id(),
            )
            label = (
                f"Replace {rule.drug} with {rule.replacement} {start.start_mg_per_dose:g} mg "
                "(its starting dose)"
            )
            return self._suggest(
                label,
                [
                    self._delete(target, f"Remove the {rule.drug} order"),
                    self._create(
                        replacement, f"Order {rule.replacement} {start.start_mg_per_dose:g} mg"
                    ),
                ],
            )
        if rule.kind == "fit_daily_limit":
            return self._fit_limit(rule, result, drafts)
        if rule.kind == "delete_draft":
            # a combination (two drugs or more): removing the new order that brought one of them
            # in resolves it; the last such draft goes
            involved = [s for s in drafts if set(finding.drugs) & set(_ingredients(result, s))]
            if len(finding.drugs) < 2 or not involved:
                return None
            target = involved[-1]
            name = result.summary.orders[target.index].order.drug
            return self._suggest(
                f"Remove the new {name} order", [self._delete(target, f"Remove {name}")]
            )
        return None

    def _fit_limit(
        self, rule: SuggestionRule, result: CheckResult, drafts: list[OrderSource]
    ) -> dict[str, Any] | None:
        """Fewer administrations a day of the last draft with the ingredient, to fit the limit."""
        limit = result.summary.acetaminophen_limit_mg_per_day
        orders = result.summary.orders
        per_order = {
            order.index: sum(
                (i.mg_per_day or 0.0) for i in order.ingredients if i.name == rule.drug
            )
            for order in orders
            if order.order.is_active
        }
        candidates = [s for s in drafts if per_order.get(s.index)]
        if not candidates:
            return None
        target = candidates[-1]
        order = orders[target.index]
        per_dose = sum((i.mg_per_dose or 0.0) for i in order.ingredients if i.name == rule.drug)
        others = sum(mg for index, mg in per_order.items() if index != target.index)
        allowed = limit - others
        name = order.order.drug
        if per_dose <= 0 or allowed < per_dose:
            return self._suggest(
                f"Remove the new {name} order: the other orders already reach the "
                f"{limit:,.0f} mg/day limit",
                [self._delete(target, f"Remove {name}")],
            )
        times = math.floor(allowed / per_dose + 1e-9)
        if times >= order.order.doses_per_day:
            return None
        updated = _with_daily_frequency(target.resource, times)
        total = others + times * per_dose
        return self._suggest(
            f"Lower {name} to {times} a day ({total:,.0f} mg/day of {rule.drug} in all, "
            f"limit {limit:,.0f})",
            [self._update(updated, f"{name} at most {times} times a day")],
        )

    def _suggest(self, label: str, actions: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "label": _short(label),
            "uuid": self.new_id(),
            "isRecommended": True,
            "actions": actions,
        }

    @staticmethod
    def _delete(source: OrderSource, description: str) -> dict[str, Any]:
        return {"type": "delete", "description": description, "resourceId": source.reference}

    @staticmethod
    def _create(resource: dict[str, Any], description: str) -> dict[str, Any]:
        return {"type": "create", "description": description, "resource": resource}

    @staticmethod
    def _update(resource: dict[str, Any], description: str) -> dict[str, Any]:
        return {"type": "update", "description": description, "resource": resource}


def _detail(finding: Finding, result: CheckResult) -> str:
    summary = result.summary
    lines = [finding.message, "", f"**What to do:** {finding.recommendation}", ""]
    lines += [
        "| Regimen total | Value |",
        "| --- | --- |",
        f"| Acetaminophen | {summary.acetaminophen_mg_per_day:,.0f} mg/day "
        f"(limit {summary.acetaminophen_limit_mg_per_day:,.0f}) |",
        f"| Opioids | {summary.morphine_mg_equivalents_per_day:,.0f} MME/day |",
        f"| Serotonergic agents | {summary.serotonergic_agents} |",
        "",
        f"Rule `{finding.rule_id}` · {finding.guideline_section} · NCPDP {finding.ncpdp_reason_code}",
    ]
    return "\n".join(lines)


def _short(text: str, limit: int = 139) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _ingredients(result: CheckResult, source: OrderSource) -> tuple[str, ...]:
    return result.summary.orders[source.index].ingredient_names


def _is_new(result: CheckResult, source: OrderSource) -> bool:
    return result.summary.orders[source.index].order.action in (
        OrderAction.START,
        OrderAction.CHANGE_DOSE,
    )


def _selected_ingredients(result: CheckResult, mapped: MappedRegimen) -> set[str] | None:
    """order-select: the ingredients of the selected orders (None: every card is shown)."""
    if not mapped.selections:
        return None
    found: set[str] = set()
    for source in mapped.sources:
        if source.selected:
            found.update(_ingredients(result, source))
    return found


def _replaced(
    resource: dict[str, Any], name: str, rxcui: str, dose_mg: float, new_id: str
) -> dict[str, Any]:
    """The draft order as another drug at ``dose_mg`` per administration, same schedule."""
    new = {
        key: value
        for key, value in resource.items()
        if key not in ("medicationCodeableConcept", "medicationReference", "contained", "id")
    }
    new["id"] = new_id
    concept: dict[str, Any] = {"text": name}
    if rxcui:
        concept["coding"] = [{"system": RXNORM, "code": rxcui, "display": name}]
    new["medicationCodeableConcept"] = concept
    dosages = [dict(d) for d in resource.get("dosageInstruction") or [] if isinstance(d, dict)]
    first = dosages[0] if dosages else {}
    first["doseAndRate"] = [
        {
            "doseQuantity": {
                "value": dose_mg,
                "unit": "mg",
                "system": "http://unitsofmeasure.org",
                "code": "mg",
            }
        }
    ]
    first.pop("maxDosePerPeriod", None)
    new["dosageInstruction"] = [first, *dosages[1:]]
    return new


def _with_daily_frequency(resource: dict[str, Any], times: int) -> dict[str, Any]:
    new = dict(resource)
    dosages = [dict(d) for d in resource.get("dosageInstruction") or [] if isinstance(d, dict)]
    first = dosages[0] if dosages else {}
    first["timing"] = {"repeat": {"frequency": times, "period": 1, "periodUnit": "d"}}
    first.pop("maxDosePerPeriod", None)
    new["dosageInstruction"] = [first, *dosages[1:]]
    return new


def _new_order(rule: SuggestionRule, new_id: str) -> dict[str, Any]:
    dosage: dict[str, Any] = {
        "doseAndRate": [
            {
                "doseQuantity": {
                    "value": rule.dose_value,
                    "unit": rule.dose_unit,
                    "system": "http://unitsofmeasure.org",
                    "code": rule.dose_unit,
                }
            }
        ],
        "asNeededBoolean": rule.as_needed,
    }
    if rule.route:
        dosage["route"] = {"coding": [{"system": SNOMED, "code": rule.route}]}
    return {
        "resourceType": "MedicationRequest",
        "id": new_id,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": rule.rxcui, "display": rule.display}],
            "text": rule.display,
        },
        "dosageInstruction": [dosage],
    }


def card_rule_ids(cards: Iterable[dict[str, Any]]) -> dict[str, str]:
    """card uuid -> rule id (for feedback)."""
    return {
        card["uuid"]: card.get("extension", {})
        .get("regimenguard", {})
        .get("ruleId", "UNMAPPED_ORDER")
        for card in cards
    }
