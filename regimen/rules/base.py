"""What every rule shares: the rule signature, finding construction and number formatting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.facts import ROUTE_NAMES as ROUTE_NAMES  # re-exported for the rules
from regimenguard.regimen.facts import RegimenFacts
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import (
    Finding,
    OrderAction,
    ResolvedOrder,
    Route,
    Severity,
    TherapyResponse,
)

# Enum members and properties the rules test per order, as module constants: on Python 3.11
# ``OrderAction.START``, ``route.value`` and ``route.is_systemic`` are each a Python-level
# lookup (0.2-0.5 µs), a global is a dictionary read.
START = OrderAction.START
CHANGE_DOSE = OrderAction.CHANGE_DOSE
BENEFIT, NO_BENEFIT = TherapyResponse.BENEFIT, TherapyResponse.NO_BENEFIT
NOT_TOLERATED = TherapyResponse.NOT_TOLERATED
INFO, WARNING, CRITICAL = Severity.INFO, Severity.WARNING, Severity.CRITICAL
TRANSDERMAL = Route.TRANSDERMAL
# the routes that act on the whole body (Route.is_systemic); each route's name as the dosing
# tables spell it is ROUTE_NAMES (from the facts)
SYSTEMIC_ROUTES: frozenset[Route] = frozenset(route for route in Route if route.is_systemic)

RuleCheck = Callable[[RegimenFacts, RuleSpec], Iterable[Finding]]
# The nodes (or markers, see RegimenFacts.present) any one of which can make a rule fire,
# computed once from the knowledge base; a rule none of whose triggers is present is skipped.
Triggers = Callable[[Knowledge, str], frozenset[str]]


@dataclass(frozen=True, slots=True)
class Rule:
    check: RuleCheck
    triggers: Triggers


def on(*nodes: str) -> Triggers:
    """Fixed trigger nodes: ``on("class:serotonergic")``."""
    return lambda knowledge, rule_id: frozenset(nodes)


def on_edges(*nodes: str) -> Triggers:
    """The rule's own interaction edges having fired, or any of ``nodes``."""
    return lambda knowledge, rule_id: frozenset({f"edges:{rule_id}", *nodes})


def on_drugs(table: Callable[[Knowledge], Iterable[str]]) -> Triggers:
    """Any drug with a row in a dosing table: ``on_drugs(lambda k: k.dosing.dose_limits)``."""
    return lambda knowledge, rule_id: frozenset(f"drug:{name}" for name in table(knowledge))


def make_finding(
    spec: RuleSpec,
    *,
    drugs: Iterable[str],
    message: str,
    recommendation: str,
    severity: Severity | None = None,
    section: str = "",
    ncpdp_reason_code: str = "",
) -> Finding:
    """The finding of a rule; ``drugs`` without repeats, sorted (one name, the common case,
    as it is)."""
    kind = type(drugs)
    if (kind is list or kind is tuple) and len(drugs) == 1:  # type: ignore[arg-type]
        names: tuple[str, ...] = (drugs[0],)  # type: ignore[index]
    else:
        names = tuple(sorted(set(drugs)))
    return new_finding(
        Finding,
        (
            spec.rule_id,
            severity or spec.default_severity,
            names,
            message,
            recommendation,
            section or spec.guideline_section,
            ncpdp_reason_code or spec.ncpdp_reason_code,
            False,  # acknowledged
        ),
    )


# ``Finding(...)`` is a named tuple's Python-level ``__new__``, which only hands its fields to
# ``tuple.__new__``: the rules build their findings with that call itself, every field given
new_finding = tuple.__new__


def rule_finding(
    spec: RuleSpec,
    severity: Severity,
    drugs: tuple[str, ...],
    message: str,
    recommendation: str,
    section: str = "",
) -> Finding:
    """``make_finding`` for a rule's usual finding, at half its cost (positional, no keyword
    handling): ``drugs`` already sorted without repeats, the rule's section when ``section``
    is empty, the rule's NCPDP code."""
    return new_finding(
        Finding,
        (
            spec.rule_id,
            severity,
            drugs,
            message,
            recommendation,
            section or spec.guideline_section,
            spec.ncpdp_reason_code,
            False,  # acknowledged
        ),
    )


def amount(value: float, unit: str = "mg") -> str:
    """``3900`` -> ``3,900 mg``; ``7.5`` -> ``7.5 mg``.

    The text is that of ``{:,.0f}`` for a whole number and ``{:,.2f}`` less its trailing zeros
    otherwise; digit grouping of a float is slow, so a number with no digit to group is
    formatted without it, and a whole one below a million is grouped from its integer.
    """
    rounded = round(value)
    if -1e-9 < value - rounded < 1e-9:
        if 0 < rounded < 1000:  # the common case: nothing to group
            return f"{rounded} {unit}" if unit else str(rounded)
        if 0 < rounded < 1_000_000:
            digits = str(rounded)
            if unit:
                return f"{digits[:-3]},{digits[-3:]} {unit}"
            text = f"{digits[:-3]},{digits[-3:]}"
        else:
            text = f"{value:,.0f}"
    else:
        text = (f"{value:.2f}" if -999 < value < 999 else f"{value:,.2f}").rstrip("0")
    return f"{text} {unit}" if unit else text


def join(names: Sequence[str], conjunction: str = "and") -> str:
    """``a``; ``a and b``; ``a, b and c`` (or another conjunction)."""
    if type(names) is not list and type(names) is not tuple:
        names = list(names)
    count = len(names)
    if count <= 1:
        return names[0] if count else ""
    if count == 2:
        return f"{names[0]} {conjunction} {names[1]}"
    return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"


def sentence(text: str) -> str:
    """First letter upper-case, the rest as written (drug names stay lower-case inside)."""
    return text[:1].upper() + text[1:]


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural_word or word + 's')}"


def course_days(order: ResolvedOrder, as_of: dt.date) -> int | None:
    """Length of a course: planned days for a new order; for a current one, the days from its
    start to ``as_of`` or its planned course (counted from its start, or from ``as_of`` when the
    start is unknown: ``continue baclofen ... for 6 weeks``), whichever is longer."""
    medication = order.order
    planned = medication.planned_days
    started = medication.started_on
    if medication.action is START or started is None:
        return planned or None
    return max((as_of - started).days, planned)


def order_label(order: ResolvedOrder) -> str:
    """How an order was written, for messages: ``Norco 10/325`` or ``ibuprofen``."""
    return order.order.drug or order.product or join(order.ingredient_names)


def times_a_day(doses_per_day: float) -> str:
    """``1`` -> ``once a day``; ``2`` -> ``twice a day``; ``4`` -> ``4 times a day``."""
    if doses_per_day == 1:
        return "once a day"
    if doses_per_day == 2:
        return "twice a day"
    if 2 < doses_per_day < 1e6 and doses_per_day == int(doses_per_day):  # ``:g`` is slow
        return f"{int(doses_per_day)} times a day"
    return f"{doses_per_day:g} times a day"


def order_amount(order: ResolvedOrder, name: str) -> str:
    """One ingredient's amount in one order, as a prescriber reads it.

    ``lorazepam 1 mg twice a day (2 mg/day)``; ``Percocet 5/325 (oxycodone 5 mg) 4 times a day
    as needed (20 mg/day at most)``; ``fentanyl 25 mcg/h``; an unknown amount says so. The text
    depends on the order alone: the order's record (regimenguard.regimen.order_record) keeps it,
    by the ingredient's name. Other texts of one order alone are kept there too, by a key with a
    ``:`` (no ingredient name has one): ``day:NAME`` (``daily_amounts``), ``mme:NAME`` (the
    opioid of BENZODIAZEPINE_WITH_OPIOID).
    """
    return kept_text(order, name, name, _order_amount)


def kept_text(
    order: ResolvedOrder, key: str, name: str, make: Callable[[ResolvedOrder, str], str]
) -> str:
    """``make(order, name)``, a text of the order alone, kept in the order's record under
    ``key`` (see ``order_amount``) when the order is its record's."""
    record = order.record
    if record is None or record.ingredients is not order.ingredients:
        return make(order, name)
    texts = record.amount_texts
    text = texts.get(key)
    if text is None:
        text = texts[key] = make(order, name)
    return text


_Value = TypeVar("_Value")


# What a rule derives from one order alone (``kept_value``): from the order, the knowledge base
# and the rule's catalogue row (the knowledge base's own)
Derive = Callable[[ResolvedOrder, Knowledge, RuleSpec], _Value]


def kept_value(
    order: ResolvedOrder, derive: Derive[_Value], knowledge: Knowledge, spec: RuleSpec
) -> _Value:
    """``derive(order, knowledge, spec)``, kept in the order's record (by ``derive`` itself)
    when the order is its record's, so that the requests repeating the order read it again.
    What is kept is texts and numbers, never the order (which refers back to its record)."""
    record = order.record
    if record is None or record.ingredients is not order.ingredients:
        return derive(order, knowledge, spec)
    values = record.rule_values
    if derive in values:
        return cast(_Value, values[derive])
    value = values[derive] = derive(order, knowledge, spec)
    return value


def _order_amount(order: ResolvedOrder, name: str) -> str:
    medication = order.order
    label = order_label(order)
    if label.casefold() == name:
        named, closing = label, ""
    else:
        named, closing = f"{label} ({name}", ")"
    rate = medication.rate_mcg_per_hour
    if rate > 0:
        return f"{named}{closing} {amount(rate, 'mcg/h')}"
    for ingredient in order.ingredients:  # the first ingredient of this name
        if ingredient.name == name:
            break
    else:
        return f"{named}{closing}, amount unknown"
    per_dose = ingredient.mg_per_dose
    per_day = ingredient.mg_per_day
    if per_day is None or per_dose is None:
        return f"{named}{closing}, amount unknown"
    times = times_a_day(medication.doses_per_day)
    if medication.as_needed:
        return (
            f"{named} {amount(per_dose)}{closing} {times} as needed ({amount(per_day)}/day at most)"
        )
    return f"{named} {amount(per_dose)}{closing} {times} ({amount(per_day)}/day)"


# An ingredient's daily total across its active orders as a text (``5,300 mg``); each of
# those orders with ``<label> <mg>/day`` for the ingredient's known daily amount in it ("" when
# none is known); and those texts joined by ``; `` when every one is known ("" otherwise: each
# rule then words the unknown ones its own way)
DailyAmounts = tuple[str, list[tuple[ResolvedOrder, str]], str]


def daily_amounts(facts: RegimenFacts, name: str) -> DailyAmounts:
    """The daily total and each order's daily amount of an ingredient (``DailyAmounts``); two
    rules ask (acetaminophen's daily maximum and NSAID + acetaminophen), so once per request."""
    key = ("daily amounts", name)
    memo = facts.memo
    found = memo.get(key)
    if found is None:
        use = facts.ingredients[name]
        found = memo[key] = (amount(use.mg_per_day), *_daily_amounts(use.orders, name))
    return found  # type: ignore[return-value]  # the memo holds this key's DailyAmounts


def _daily_amounts(
    orders: Iterable[ResolvedOrder], name: str
) -> tuple[list[tuple[ResolvedOrder, str]], str]:
    key = f"day:{name}"
    amounts = []
    texts = []
    for order in orders:
        text = kept_text(order, key, name, _daily_amount)
        amounts.append((order, text))
        texts.append(text)
    return amounts, "; ".join(texts) if all(texts) else ""


def _daily_amount(order: ResolvedOrder, name: str) -> str:
    """``<label> <mg>/day`` for the ingredient's known daily amount in ``order``; "" if none."""
    known = [i.mg_per_day for i in order.ingredients if i.name == name and i.mg_per_day is not None]
    return f"{order_label(order)} {amount(sum(known))}/day" if known else ""


def form_label(order: ResolvedOrder, name: str) -> str:
    """``extended-release oxycodone``, ``transdermal fentanyl``, ``buccal fentanyl``."""
    medication = order.order
    route = ROUTE_NAMES[medication.route]
    if route == "oral":
        return f"extended-release {name}" if medication.extended_release else name
    if medication.extended_release:
        return f"extended-release {route} {name}"
    return f"{route} {name}"
