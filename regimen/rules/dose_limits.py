"""DOSE_ABOVE_MAX and DOSE_ABOVE_GUIDELINE_RANGE: amounts per dose and per day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from regimenguard.dosing.index import DosingIndex, limit_at_age
from regimenguard.dosing.limits import ApplicableLimit
from regimenguard.dosing.tables import GuidelineRange
from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.facts import IngredientUse, RegimenFacts
from regimenguard.regimen.model import Finding
from regimenguard.regimen.rules.base import ROUTE_NAMES, SYSTEMIC_ROUTES, amount, rule_finding


def dose_above_max(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """An ingredient above its label maximum per administration or per day (CRITICAL).

    Limits depend on route, release form and age (tramadol over 75); orders by each route are
    totalled separately against that route's limit, and topical orders are never held to oral
    limits. Acetaminophen's daily total is ACETAMINOPHEN_DAILY_MAX's (its limit is stricter).
    """
    dosing = facts.knowledge.dosing
    limited = dosing.dose_limits
    age = facts.request.patient.age_years
    findings = []
    for name, use in facts.ingredients.items():
        # a single order's use already judged within its label at every age: nothing to ask
        if use.within_label_at_any_age or name not in limited or _within_label(use, dosing, age):
            continue
        check = _full_label_check(facts, use)
        if check.problems:
            findings.append(
                rule_finding(
                    spec,
                    spec.default_severity,
                    (name,),
                    f"{name.capitalize()}: {'; '.join(check.problems)}.",
                    f"Reduce {name} to within the label maximum "
                    f"({'; '.join(check.limits)}), or choose another agent.",
                    "; ".join(check.sources),
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
    for name, use in facts.ingredients.items():
        limit = ranges.get(name)
        if limit is None or not use.for_back_pain or _within_range(use, limit):
            continue
        if _label_problems(facts, use).problems:
            continue
        highest: float | None = None  # the highest immediate-release dose
        by_order: list[float] = []  # each order's mg/day (totalled with ``sum``, as before)
        for resolved in use.orders:
            order = resolved.order
            if not order.is_back_pain_therapy or order.route not in SYSTEMIC_ROUTES:
                continue
            first = True  # an order's dose is that of its first part of this ingredient
            parts: list[float] = []
            for ingredient in resolved.ingredients:
                if ingredient.name != name:
                    continue
                parts.append(ingredient.mg_per_day or 0.0)
                if first and not order.extended_release:
                    dose = ingredient.mg_per_dose
                    if dose is not None and (highest is None or dose > highest):
                        highest = dose
                first = False
            by_order.append(sum(parts))
        daily = sum(by_order)
        problems = []
        max_dose = limit.max_mg_per_dose
        if max_dose is not None and highest is not None and highest > max_dose:
            problems.append(f"{amount(highest)} a dose is above the guideline's {amount(max_dose)}")
        max_day = limit.max_mg_per_day
        if max_day is not None and daily > max_day:
            problems.append(f"{amount(daily)}/day is above the guideline's {amount(max_day)}/day")
        if problems:
            findings.append(
                rule_finding(
                    spec,
                    spec.default_severity,
                    (name,),
                    f"{name.capitalize()} for back pain: {'; '.join(problems)}.",
                    f"Use {name} within the guideline's range for back pain, or document "
                    "why a higher dose is needed.",
                    limit.section,
                )
            )
    return findings


# The relative margin by which an ingredient's daily total across all its orders must be below
# a guideline maximum to be known within it: the rule's own total is over a subset of those
# orders' amounts (summed per order), equal to it up to rounding at most.
_SUM_MARGIN = 1 - 1e-9


def _within_range(use: IngredientUse, limit: GuidelineRange) -> bool:
    """Known to be within the guideline range from the ingredient's totals over every order
    (its highest dose and its daily total bound those of its back-pain orders); False means
    "not known": the rule decides."""
    max_dose = limit.max_mg_per_dose
    if max_dose is not None:
        highest = use.max_mg_per_dose
        if highest is not None and highest > max_dose:
            return False
    max_day = limit.max_mg_per_day
    if max_day is None:
        return True
    total = use.mg_per_day
    if total < max_day * _SUM_MARGIN:
        return True
    # one order of this one ingredient (the common case): the rule's total is this one
    orders = use.orders
    return len(orders) == 1 and len(orders[0].ingredients) == 1 and not total > max_day


@dataclass(frozen=True, slots=True)
class _LabelCheck:
    problems: tuple[str, ...] = ()
    limits: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


_NO_PROBLEMS = _LabelCheck()


def _label_problems(facts: RegimenFacts, use: IngredientUse) -> _LabelCheck:
    """What exceeds the label, the maxima to respect, and the label rows that set them.

    Orders within their label are told apart with one lookup; otherwise the full check is
    computed once per ingredient and request (both dose rules need it).
    """
    name = use.name
    dosing = facts.knowledge.dosing
    if name not in dosing.dose_limits or _within_label(
        use, dosing, facts.request.patient.age_years
    ):
        return _NO_PROBLEMS
    return _full_label_check(facts, use)


def _full_label_check(facts: RegimenFacts, use: IngredientUse) -> _LabelCheck:
    """``_compute_label_check``, once per ingredient and request."""
    key = ("label", use.name)
    memo = facts.memo
    check = memo.get(key)
    if check is None:
        check = memo[key] = _compute_label_check(facts, use)
    return check  # type: ignore[return-value]  # the memo holds this key's _LabelCheck


def _compute_label_check(facts: RegimenFacts, use: IngredientUse) -> _LabelCheck:
    name = use.name
    label_limit = facts.knowledge.dosing.label_limit
    age = facts.request.patient.age_years
    problems: list[str] = []
    limits: list[str] = []
    sources: list[str] = []
    # (route, extended-release) -> its limit, looked up once for this request's orders
    by_form: dict[tuple[str, bool], ApplicableLimit | None] = {}
    # route -> [mg/day, extended-release seen]; and the salts its amounts were stated as
    daily_by_route: dict[str, list[float]] = {}
    salts_by_route: dict[str, set[tuple[str, float]]] = {}
    for resolved in use.orders:
        order = resolved.order
        if order.route not in SYSTEMIC_ROUTES:
            continue
        route = ROUTE_NAMES[order.route]
        extended = order.extended_release
        for ingredient in resolved.ingredients:
            if ingredient.name != name:
                continue
            totals = daily_by_route.get(route)
            if totals is None:
                totals = daily_by_route[route] = [0.0, 0.0]
                salts_by_route[route] = set()
            totals[0] += ingredient.mg_per_day or 0.0
            totals[1] = totals[1] or float(extended)
            salts_by_route[route].add((ingredient.salt, ingredient.salt_factor))
            dose = ingredient.mg_per_dose
            form = (route, extended)
            if form in by_form:
                limit = by_form[form]
            else:
                limit = by_form[form] = label_limit(
                    name, route, extended_release=extended, age_years=age
                )
            if limit is None or dose is None:
                continue
            max_dose = limit.max_mg_per_dose
            if max_dose is not None and dose > max_dose:
                stated = _as_stated(ingredient.salt, ingredient.salt_factor, dose, " a dose")
                maximum = amount(max_dose)
                problems.append(f"{amount(dose)} a dose{stated} exceeds the {maximum} maximum")
                limits.append(f"at most {maximum} a dose")
                sources.extend(limit.sources)
    for route, (daily, extended_seen) in daily_by_route.items():
        extended = bool(extended_seen)
        form = (route, extended)
        if form in by_form:
            limit = by_form[form]
        else:
            limit = label_limit(name, route, extended_release=extended, age_years=age)
        if limit is None:
            continue
        max_day = limit.max_mg_per_day
        if max_day is not None and daily > max_day:
            release = " for extended-release" if extended else ""
            if limit.day_row is not None and limit.day_row.min_age_years:
                release += f" over age {limit.day_row.min_age_years - 1}"
            salts = salts_by_route[route]
            stated = _as_stated(*next(iter(salts)), daily, "/day") if len(salts) == 1 else ""
            maximum = amount(max_day)
            problems.append(
                f"{amount(daily)}/day{stated} exceeds the {maximum}/day maximum{release}"
            )
            limits.append(f"at most {maximum}/day")
            sources.extend(limit.sources)
    if not problems:
        return _NO_PROBLEMS
    return _LabelCheck(
        tuple(dict.fromkeys(problems)), tuple(dict.fromkeys(limits)), tuple(dict.fromkeys(sources))
    )


def _within_label(use: IngredientUse, dosing: DosingIndex, age: int) -> bool:
    """An ingredient whose orders share one route and release form (the common case) known to
    be within its label, with one limit lookup; False means "not known": the full check decides.
    A single order's use is judged at every age once (its record keeps the use), then read.
    """
    orders = use.orders
    first = orders[0].order
    route = first.route
    extended = first.extended_release
    single = len(orders) == 1
    if route not in SYSTEMIC_ROUTES:
        return single
    brackets = dosing.label_limits.get((use.name, ROUTE_NAMES[route], extended), ())
    if single:
        known = use.within_label_at_any_age
        if known is None:
            known = use.within_label_at_any_age = all(
                [_within(use, limit, True) for _, limit in brackets]
            )
        if known:
            return True
    else:
        for resolved in orders:
            if resolved.order.route is not route or resolved.order.extended_release != extended:
                return False
    return _within(use, limit_at_age(brackets, age), single)


def _within(use: IngredientUse, limit: ApplicableLimit | None, single: bool) -> bool:
    """``_within_label`` for one limit (None: no limit applies)."""
    if limit is None:
        return True
    max_dose = limit.max_mg_per_dose
    if max_dose is not None:
        highest = use.max_mg_per_dose  # the highest dose of these orders
        if highest is not None and highest > max_dose:
            return False
    max_day = limit.max_mg_per_day
    if max_day is None:
        return True
    orders = use.orders
    if single and len(orders[0].ingredients) == 1:  # one amount: the daily total is its own
        return not use.mg_per_day > max_day
    if use.mg_per_day < max_day * _SUM_MARGIN:  # the same amounts, summed in another order
        return True
    name = use.name
    daily = 0.0  # summed as the full check sums it
    for resolved in orders:
        for ingredient in resolved.ingredients:
            if ingredient.name == name:
                daily += ingredient.mg_per_day or 0.0
    return not daily > max_day


def _as_stated(salt: str, factor: float, counted: float, per: str) -> str:
    """`` (1,650 mg/day as naproxen sodium)`` when the amount was stated as a salt."""
    if not salt or factor == 1:
        return ""
    return f" ({amount(round(counted / factor, 6))}{per} as {salt})"
