"""Starting a long-acting or opioid-tolerant-only opioid: LONG_ACTING_OPIOID_START, OPIOID_TOLERANT_ONLY.

CDC 2022 recommendation 3: when starting opioids, prescribe immediate-release opioids instead of
extended-release/long-acting (ER/LA) ones. Some products carry a boxed warning restricting them
to opioid-tolerant patients (transdermal fentanyl, transmucosal fentanyl, extended-release
hydromorphone): started in a patient without tolerance they can cause fatal respiratory
depression. Which forms are which is data (dosing/data/opioid_forms.csv), as is the definition
of tolerance (opioid_thresholds.csv: 60 MME/day for at least 7 days).

Orders for opioid use disorder are not judged here: the pain guideline does not cover them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.context_tables import FormProfile
from regimenguard.regimen.facts import (
    OPIOID,
    RegimenFacts,
    has_own_er_rule,
    needs_tolerance,
)
from regimenguard.regimen.model import Finding, ResolvedIngredient, ResolvedOrder
from regimenguard.regimen.rules.base import (
    ROUTE_NAMES,
    START,
    amount,
    form_label,
    join,
    make_finding,
    order_amount,
)


@dataclass(frozen=True, slots=True)
class Tolerance:
    """Whether the patient is opioid-tolerant, and the evidence either way."""

    tolerant: bool
    current_mme_per_day: float  # opioids taken for at least the tolerance period
    reason: str


def current_opioid_orders(facts: RegimenFacts) -> list[ResolvedOrder]:
    """Opioid orders the patient already takes: continued, changed, or stopped as a switch."""
    current = []
    for order in facts.orders:
        if order.order.action is START:
            continue
        for ingredient in order.ingredients:
            if OPIOID in ingredient.nodes:
                current.append(order)
                break
    return current


def opioid_tolerance(facts: RegimenFacts) -> Tolerance:
    """Tolerant by the patient flag, or by current opioids of >= 60 MME/day for >= 7 days.

    An order counts toward tolerance only when its start is known and at least the tolerance
    period before the check (or before its stop); an order of unknown duration proves nothing.
    """
    cached = facts.memo.get("opioid_tolerance")
    if isinstance(cached, Tolerance):
        return cached
    thresholds = facts.knowledge.context.thresholds
    needed_mme = thresholds["opioid_tolerance_mme_per_day"]
    needed_days = thresholds["opioid_tolerance_days"]
    long_enough = 0.0
    as_of = facts.request.as_of
    for order in current_opioid_orders(facts):
        started = order.order.started_on
        until = order.order.stopped_on or as_of
        if started is None or (until - started).days < needed_days:
            continue
        long_enough += sum(facts.mme_of(order).by_ingredient.values())
    if facts.request.patient.opioid_tolerant:
        tolerance = Tolerance(True, long_enough, "the patient is documented as opioid-tolerant")
    elif long_enough >= needed_mme:
        tolerance = Tolerance(
            True,
            long_enough,
            f"current opioids total {amount(long_enough, 'MME')}/day for {needed_days:g} days or more",
        )
    else:
        tolerance = Tolerance(
            False,
            long_enough,
            f"opioids taken for {needed_days:g} days or more total {amount(long_enough, 'MME')}/day "
            f"(tolerance needs {amount(needed_mme, 'MME')}/day for {needed_days:g} days or more) "
            "and the patient is not documented as opioid-tolerant",
        )
    facts.memo["opioid_tolerance"] = tolerance
    return tolerance


def _started_forms(
    facts: RegimenFacts,
) -> list[tuple[ResolvedOrder, ResolvedIngredient, FormProfile]]:
    """Opioids started for pain, with what their form's data rows say (two rules ask: once per
    request)."""
    started = facts.memo.get("started opioid forms")
    if started is None:
        started = facts.memo["started opioid forms"] = _find_started_forms(facts)
    return started  # type: ignore[return-value]  # the memo holds this key's list


def _find_started_forms(
    facts: RegimenFacts,
) -> list[tuple[ResolvedOrder, ResolvedIngredient, FormProfile]]:
    form = facts.knowledge.context.form
    oud_orders = facts.oud_orders
    started = []
    for order in facts.active_orders:
        medication = order.order
        if medication.action is not START or (oud_orders and facts.is_oud_treatment(order)):
            continue
        for ingredient in order.ingredients:
            if OPIOID not in ingredient.nodes:
                continue
            profile = form(
                ingredient.name, ROUTE_NAMES[medication.route], medication.extended_release
            )
            started.append((order, ingredient, profile))
    return started


def long_acting_opioid_start(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """An ER/LA opioid started while no opioid is current (WARNING, CDC 2022 recommendation 3).

    An opioid continued, changed, or stopped in the same request (a switch from short-acting)
    is current. A product for opioid-tolerant patients only started without tolerance is
    OPIOID_TOLERANT_ONLY's (CRITICAL), not repeated here.
    """
    if current_opioid_orders(facts):
        return ()
    started = []
    for order, ingredient, profile in _started_forms(facts):
        if not profile.long_acting or has_own_er_rule(ingredient, facts.knowledge):
            continue
        if needs_tolerance(order, ingredient, profile) and not opioid_tolerance(facts).tolerant:
            continue
        started.append((order, ingredient, profile))
    if not started:
        return ()
    forms = [form_label(order, ingredient.name) for order, ingredient, _ in started]
    amounts = [order_amount(order, ingredient.name) for order, ingredient, _ in started]
    return (
        make_finding(
            spec,
            drugs=[ingredient.name for _, ingredient, _ in started],
            message=(
                f"{join(forms).capitalize()} ({'; '.join(amounts)}) is started in a patient taking "
                "no opioid: extended-release and long-acting opioids carry a higher overdose risk "
                "at initiation than immediate-release ones."
            ),
            recommendation=(
                "If an opioid is needed, start an immediate-release opioid at the lowest effective "
                "dose; keep extended-release or long-acting opioids for severe, continuous pain "
                "in a patient already taking opioids."
            ),
        ),
    )


def opioid_tolerant_only(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """A product for opioid-tolerant patients only, started without tolerance (CRITICAL)."""
    findings = []
    for order, ingredient, profile in _started_forms(facts):
        if not needs_tolerance(order, ingredient, profile):
            continue
        tolerance = opioid_tolerance(facts)
        if tolerance.tolerant:
            continue
        form = form_label(order, ingredient.name)
        findings.append(
            make_finding(
                spec,
                drugs=[ingredient.name],
                message=(
                    f"{form.capitalize()} ({order_amount(order, ingredient.name)}) is labelled for "
                    f"opioid-tolerant patients only{'' if profile.tolerant_only else ' at this amount'}, "
                    f"and this patient is not known to be tolerant: {tolerance.reason}."
                ),
                recommendation=(
                    f"Do not start {form} in a patient without opioid tolerance (risk of fatal "
                    "respiratory depression); use an immediate-release opioid at the lowest dose if "
                    "one is needed. If the patient is tolerant, document the current opioid with "
                    "its start date, or set opioid_tolerant."
                ),
                section="; ".join(profile.tolerant_sources) or spec.guideline_section,
            )
        )
    return findings
