"""DOSE_ABOVE_MAX and DOSE_ABOVE_GUIDELINE_RANGE: amounts per dose and per day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.facts import IngredientUse, RegimenFacts
from regimenguard.regimen.model import Finding, ResolvedOrder
from regimenguard.regimen.rules.base import amount, make_finding


def dose_above_max(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """An ingredient above its label maximum per administration or per day (CRITICAL).

    Limits depend on route, release form and age (tramadol over 75); orders by each route are
    totalled separately against that route's limit, and topical orders are never held to oral
    limits. Acetaminophen's daily total is ACETAMINOPHEN_DAILY_MAX's (its limit is stricter).
    """
    findings = []
    for use in facts.ingredients.values():
        check = _label_problems(facts, use)
        if check.problems:
            findings.append(
                make_finding(
                    spec,
                    drugs=[use.name],
                    message=f"{use.name.capitalize()}: {'; '.join(check.problems)}.",
                    recommendation=(
                        f"Reduce {use.name} to within the label maximum "
                        f"({'; '.join(check.limits)}), or choose another agent."
                    ),
                    section="; ".join(check.sources),
                )
            )
    return findings


def dose_above_guideline_range(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """Above the guideline's stated range but within the label maximum (WARNING).

    Judged on back-pain orders only: a higher dose for another indication (duloxetine for
    depression) is not a deviation from this guideline. Per-dose ranges are for immediate-
    release forms, so extended-release orders are held to the daily range only.
    """
    ranges = facts.knowledge.dosing.guideline_ranges
    findings = []
    for use in facts.ingredients.values():
        limit = ranges.get(use.name)
        if limit is None or not use.for_back_pain or _label_problems(facts, use).problems:
            continue
        orders = [
            o for o in use.orders if o.order.is_back_pain_therapy and o.order.route.is_systemic
        ]
        problems = []
        per_dose = [_mg_per_dose(o, use.name) for o in orders if not o.order.extended_release]
        highest = max((dose for dose in per_dose if dose is not None), default=None)
        if (
            limit.max_mg_per_dose is not None
            and highest is not None
            and highest > limit.max_mg_per_dose
        ):
            problems.append(
                f"{amount(highest)} a dose is above the guideline's {amount(limit.max_mg_per_dose)}"
            )
        daily = sum(_mg_per_day(o, use.name) for o in orders)
        if limit.max_mg_per_day is not None and daily > limit.max_mg_per_day:
            problems.append(
                f"{amount(daily)}/day is above the guideline's {amount(limit.max_mg_per_day)}/day"
            )
        if problems:
            findings.append(
                make_finding(
                    spec,
                    drugs=[use.name],
                    message=f"{use.name.capitalize()} for back pain: {'; '.join(problems)}.",
                    recommendation=(
                        f"Use {use.name} within the guideline's range for back pain, or document "
                        "why a higher dose is needed."
                    ),
                    section=limit.section,
                )
            )
    return findings


@dataclass(frozen=True, slots=True)
class _LabelCheck:
    problems: tuple[str, ...] = ()
    limits: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


_NO_PROBLEMS = _LabelCheck()


def _label_problems(facts: RegimenFacts, use: IngredientUse) -> _LabelCheck:
    """What exceeds the label, the maxima to respect, and the label rows that set them.

    Computed once per ingredient and request (both dose rules need it).
    """
    key = ("label", use.name)
    check = facts.memo.get(key)
    if check is None:
        check = facts.memo[key] = _compute_label_check(facts, use)
    return check  # type: ignore[return-value]  # the memo holds this key's _LabelCheck


def _compute_label_check(facts: RegimenFacts, use: IngredientUse) -> _LabelCheck:
    dosing = facts.knowledge.dosing
    if use.name not in dosing.dose_limits:
        return _NO_PROBLEMS
    age = facts.patient.age_years
    problems: list[str] = []
    limits: list[str] = []
    sources: list[str] = []
    daily_by_route: dict[str, list[float]] = {}  # route -> [mg/day, extended-release seen]
    for order in use.orders:
        if not order.order.route.is_systemic:
            continue
        route = order.order.route.value
        extended = order.order.extended_release
        for ingredient in order.ingredients:
            if ingredient.name != use.name:
                continue
            totals = daily_by_route.setdefault(route, [0.0, 0.0])
            totals[0] += ingredient.mg_per_day or 0.0
            totals[1] = totals[1] or float(extended)
            dose = ingredient.mg_per_dose
            limit = dosing.label_limit(use.name, route, extended_release=extended, age_years=age)
            if (
                limit
                and limit.max_mg_per_dose is not None
                and dose is not None
                and dose > limit.max_mg_per_dose
            ):
                stated = _as_stated(ingredient.salt, ingredient.salt_factor, dose, " a dose")
                problems.append(
                    f"{amount(dose)} a dose{stated} exceeds the {amount(limit.max_mg_per_dose)} maximum"
                )
                limits.append(f"at most {amount(limit.max_mg_per_dose)} a dose")
                sources.extend(limit.sources)
    for route, (daily, extended_seen) in daily_by_route.items():
        extended = bool(extended_seen)
        limit = dosing.label_limit(use.name, route, extended_release=extended, age_years=age)
        if limit and limit.max_mg_per_day is not None and daily > limit.max_mg_per_day:
            form = " for extended-release" if extended else ""
            if limit.day_row is not None and limit.day_row.min_age_years:
                form += f" over age {limit.day_row.min_age_years - 1}"
            salts = {
                (i.salt, i.salt_factor)
                for o in use.orders
                for i in o.ingredients
                if i.name == use.name and o.order.route.value == route
            }
            stated = _as_stated(*next(iter(salts)), daily, "/day") if len(salts) == 1 else ""
            problems.append(
                f"{amount(daily)}/day{stated} exceeds the {amount(limit.max_mg_per_day)}/day maximum{form}"
            )
            limits.append(f"at most {amount(limit.max_mg_per_day)}/day")
            sources.extend(limit.sources)
    if not problems:
        return _NO_PROBLEMS
    return _LabelCheck(
        tuple(dict.fromkeys(problems)), tuple(dict.fromkeys(limits)), tuple(dict.fromkeys(sources))
    )


def _as_stated(salt: str, factor: float, counted: float, per: str) -> str:
    """`` (1,650 mg/day as naproxen sodium)`` when the amount was stated as a salt."""
    if not salt or factor == 1:
        return ""
    return f" ({amount(round(counted / factor, 6))}{per} as {salt})"


def _mg_per_dose(order: ResolvedOrder, name: str) -> float | None:
    return next((i.mg_per_dose for i in order.ingredients if i.name == name), None)


def _mg_per_day(order: ResolvedOrder, name: str) -> float:
    return sum(i.mg_per_day or 0.0 for i in order.ingredients if i.name == name)
