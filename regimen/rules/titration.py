"""Combination therapy principles: one new agent at a time, lowest dose, titrate by response.

Guideline, "Combination therapy": add medications one at a time, start with the lowest
possible dose and titrate by response; if an added medication brings no benefit, stop it
before adding another. These rules judge back-pain therapy only (orders with no indication).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from regimenguard.dosing.tables import StartingDose
from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.context_tables import DailyStart
from regimenguard.regimen.facts import RegimenFacts
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import Finding, ResolvedIngredient, ResolvedOrder
from regimenguard.regimen.rules.base import (
    CHANGE_DOSE,
    START,
    amount,
    join,
    kept_value,
    make_finding,
    new_finding,
    order_label,
    rule_finding,
    times_a_day,
)
from regimenguard.regimen.vocabulary import RESCUE_MEDICATION as RESCUE


def new_back_pain_agents(
    facts: RegimenFacts, spec: RuleSpec
) -> list[tuple[ResolvedOrder, tuple[str, ...]]]:
    """START orders for back pain whose ingredients are new, one entry per distinct agent.

    A combination product is one agent; the same ingredient started twice (scheduled + PRN) is
    one agent. Three rules ask (``spec``: the asking rule's), so it is computed once per request.
    """
    cached = facts.memo.get("new_back_pain_agents")
    if cached is None:
        cached = facts.memo["new_back_pain_agents"] = _new_back_pain_agents(facts, spec)
    return cached  # type: ignore[return-value]


def _new_back_pain_agents(
    facts: RegimenFacts, spec: RuleSpec
) -> list[tuple[ResolvedOrder, tuple[str, ...]]]:
    """Rescue medications kept on hand (naloxone) are not back-pain agents."""
    agents: dict[tuple[str, ...], ResolvedOrder] = {}
    uses = facts.ingredients
    knowledge = facts.knowledge
    for order in facts.back_pain_starts:
        parts = order.ingredients
        if len(parts) == 1:  # the common case: one ingredient, nothing to sort
            part = parts[0]
            if RESCUE in part.nodes or not uses[part.name].is_new:
                continue
            new: tuple[str, ...] = (part.name,)
        else:
            new = ()
            for name in kept_value(order, _agent_names, knowledge, spec):
                if uses[name].is_new:
                    new += (name,)
            if not new:
                continue
        if new not in agents:
            agents[new] = order
    if len(agents) < 2:
        return [(order, names) for names, order in agents.items()]
    return [(agents[names], names) for names in sorted(agents)]


def _agent_names(order: ResolvedOrder, knowledge: Knowledge, spec: RuleSpec) -> tuple[str, ...]:
    """The ingredients of an order that can be back-pain agents (not a rescue medication kept
    on hand), sorted: those of them that are new are the order's agent."""
    return tuple(sorted([part.name for part in order.ingredients if RESCUE not in part.nodes]))


def multiple_new_agents(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """More than one new back-pain agent started in one request."""
    agents = new_back_pain_agents(facts, spec)
    if len(agents) < 2:
        return ()
    labels = []
    drugs: set[str] = set()
    for order, names in agents:
        labels.append(order.order.drug or order_label(order))  # (order_label's common case)
        drugs.update(names)
    return (
        rule_finding(
            spec,
            spec.default_severity,
            tuple(sorted(drugs)),
            f"{len(agents)} new back-pain agents are started at once ({join(labels)}).",
            "Start one new agent now and add the next only after judging its benefit and "
            "tolerability, so that each effect can be attributed.",
        ),
    )


def add_before_stopping_ineffective(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """A new agent is started while a current back-pain agent without benefit continues."""
    if not facts.back_pain_no_benefit:  # (most regimens: nothing without benefit)
        return ()
    agents = new_back_pain_agents(facts, spec)
    if not agents:
        return ()
    ineffective = [order for order in facts.back_pain_no_benefit if order.order.action is not START]
    if not ineffective:
        return ()
    old = join([order_label(order) for order in ineffective])
    new = join([order_label(order) for order, _ in agents])
    return (
        make_finding(
            spec,
            drugs=[n for order in ineffective for n in order.ingredient_names]
            + [n for _, names in agents for n in names],
            message=f"{new} is started while {old} continues without benefit.",
            recommendation=f"Stop {old} (no benefit) before adding {new}.",
        ),
    )


def start_low(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """A new agent starts above its lowest starting dose, or more often than its interval allows.

    The starting doses are data (starting_doses.csv): duloxetine 30 mg, cyclobenzaprine 5 mg,
    tizanidine 2 mg (4 mg accepted with duloxetine or an NSAID), tramadol 50 mg no more often
    than every 6 h, amitriptyline and nortriptyline 25 mg, desipramine 50 mg. They are doses of
    immediate-release forms: an extended-release start (judged by
    TRAMADOL_EXTENDED_RELEASE_START where it matters) is not held to them. The daily amount
    is compared too (starting_daily_doses.csv): duloxetine 30 mg twice a day is 60 mg/day from
    the first day, though each dose is the usual 30 mg. What an order's start says depends on
    the order alone but for whether the regimen has a node that allows the combined start
    (``_starts_above``, kept in the order's record).
    """
    findings: list[Finding] = []
    agents = new_back_pain_agents(facts, spec)
    if not agents:
        return findings
    starts = facts.knowledge.dosing.starting_doses
    members = facts.members
    for order, names in agents:
        for name in names:  # an agent with a starting dose: most have none
            if name in starts:
                break
        else:
            continue
        for name, combined_with, alone, combined in kept_value(
            order, _starts_above, facts.knowledge, spec
        ):
            if name not in names:
                continue
            words = alone
            if combined_with and any(members.get(node) for node in combined_with):
                words = combined
            if words is not None:
                message, recommendation, section = words
                findings.append(
                    rule_finding(
                        spec, spec.default_severity, (name,), message, recommendation, section
                    )
                )
    return findings


# What a start above its usual start says: its message, recommendation and section ("": the
# rule's); and for one ingredient of an order: its name, the nodes any of which allows the
# combined start (none: no combined start), what it says without them and with one (None:
# nothing)
StartWords = tuple[str, str, str]
StartAbove = tuple[str, tuple[str, ...], StartWords | None, StartWords | None]


def _starts_above(
    order: ResolvedOrder, knowledge: Knowledge, spec: RuleSpec
) -> tuple[StartAbove, ...]:
    """Each ingredient of an immediate-release order with a starting dose that it starts above
    (its dose, its daily amount, or how often it is taken), with or without a node that allows
    the combined start."""
    if order.order.extended_release:
        return ()  # starting doses are immediate-release doses; ER starts have their own rule
    starts = knowledge.dosing.starting_doses
    daily_starts = knowledge.context.daily_starts
    found: list[StartAbove] = []
    for ingredient in order.ingredients:
        start = starts.get(ingredient.name)
        if start is None:
            continue
        combined_dose = start.combined_start_mg_per_dose
        alone = _start_words(order, ingredient, start, start.start_mg_per_dose, daily_starts)
        if combined_dose is None:
            combined_with: tuple[str, ...] = ()
            combined = alone
        else:
            combined_with = start.combined_with
            combined = _start_words(order, ingredient, start, combined_dose, daily_starts)
        if alone is not None or combined is not None:
            found.append((ingredient.name, combined_with, alone, combined))
    return tuple(found)


def _start_words(
    order: ResolvedOrder,
    ingredient: ResolvedIngredient,
    start: StartingDose,
    allowed: float,
    daily_starts: Mapping[str, DailyStart],
) -> StartWords | None:
    """What starting ``ingredient`` in ``order`` says when ``allowed`` a dose is its usual
    start; None when it starts within it."""
    problems = []
    dose = ingredient.mg_per_dose
    if dose is not None and dose > allowed:
        problems.append(f"starts at {amount(dose)} a dose; the usual start is {amount(allowed)}")
    daily_start = daily_starts.get(ingredient.name)
    daily = ingredient.mg_per_day
    if (
        daily_start is not None
        and daily is not None
        and daily > daily_start.start_mg_per_day + 1e-9
        and not problems  # a dose already too high is the first thing to fix
    ):
        problems.append(
            f"starts at {amount(daily)}/day ({times_a_day(order.order.doses_per_day)}); "
            f"the usual start is {amount(daily_start.start_mg_per_day)}/day"
        )
    hours = start.min_hours_between_doses
    if hours is not None and order.order.doses_per_day > 24 / hours + 1e-9:
        problems.append(
            f"is ordered {order.order.doses_per_day:g} times a day; start no more often than every {hours:g} h"
        )
    if not problems:
        return None
    return (
        f"New {ingredient.name} {' and '.join(problems)}.",
        (
            f"Start {ingredient.name} at {amount(allowed)}"
            + (
                f" ({amount(daily_start.start_mg_per_day)}/day at first)"
                if daily_start is not None
                else ""
            )
            + (f" no more often than every {hours:g} h" if hours else "")
            + " and titrate up by response."
        ),
        start.section,
    )


def titration_interval(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """A dose raised sooner after the start than the guideline's interval (duloxetine: 7 days).

    A CHANGE_DOSE counts as a raise when the new dose exceeds ``previous_dose_mg``; with no
    previous dose given, when it exceeds the starting dose. Without ``started_on`` the
    interval cannot be known and nothing is reported. What a raise says depends on its order
    alone but for the days since the start (``_raises``, kept in the order's record).
    """
    as_of = facts.request.as_of
    findings = []
    for order in facts.back_pain_dose_changes:
        raises = kept_value(order, _raises, facts.knowledge, spec)
        started = order.order.started_on
        if not raises or started is None:  # (an order without a start has no raises)
            continue
        days = (as_of - started).days
        for wait_days, drugs, head, tail, recommendation, section in raises:
            if days >= wait_days:
                continue
            findings.append(
                new_finding(
                    Finding,
                    (
                        spec.rule_id,
                        spec.default_severity,
                        drugs,
                        f"{head}{days}{tail}",
                        recommendation,
                        section or spec.guideline_section,
                        spec.ncpdp_reason_code,
                        False,  # acknowledged
                    ),
                )
            )
    return findings


# One raise of an order: the guideline's days before a raise, the finding's drugs, its message
# before and after the days since the start, its recommendation and its section ("": the rule's)
Raise = tuple[float, tuple[str], str, str, str, str]


def _raises(order: ResolvedOrder, knowledge: Knowledge, spec: RuleSpec) -> tuple[Raise, ...]:
    """Each ingredient of a CHANGE_DOSE order with a start whose dose it raises above the
    previous one (or, none given, above the starting dose), with the guideline's interval."""
    medication = order.order
    started = medication.started_on
    if medication.action is not CHANGE_DOSE or started is None:
        return ()
    starts = knowledge.dosing.starting_doses
    raises: list[Raise] = []
    for ingredient in order.ingredients:
        start = starts.get(ingredient.name)
        if start is None or start.min_days_before_increase is None:
            continue
        before = medication.previous_dose_mg or start.start_mg_per_dose
        dose = ingredient.mg_per_dose
        if dose is None or dose <= before:
            continue
        previous = amount(before)
        wait = f"{start.min_days_before_increase:g}"
        name = ingredient.name
        raises.append(
            (
                start.min_days_before_increase,
                (name,),
                f"{name.capitalize()} is raised from {previous} to {amount(dose)} ",
                f" days after it was started ({started.isoformat()}); the guideline waits "
                f"{wait} days.",
                f"Keep {previous} until {wait} days have passed, then raise it if tolerated.",
                start.section,
            )
        )
    return tuple(raises)
