"""What one order resolves to: its product, its ingredients with per-dose and per-day amounts
and graph nodes for its route, and the names it could not resolve.

A product's dose form decides the route, release form and, for a transdermal system, the
delivery rate: the resolved order carries them (``rxcui:197696``, one patch, is fentanyl
75 mcg/h, transdermal). The order's indication can set classes aside (methadone for opioid use
disorder). It depends on the order and the knowledge base alone; ``OrderRecord`` keeps it
(regimenguard.regimen.order_record).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from regimenguard.interactions.resolver import LOOK_UP, NameMatch
from regimenguard.regimen.context_tables import OPIOID_USE_DISORDER
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import (
    MedicationOrder,
    ResolvedIngredient,
    Route,
    assemble_ingredient,
)

_ROUTES = {route.value: route for route in Route}
_TRANSDERMAL = Route.TRANSDERMAL
_TOPICAL = Route.TOPICAL

# 1.5 * 2**52: added to and taken from a float in [0, 2**51), it leaves the nearest integer
# (IEEE 754 rounds the sum to a whole number, to even on a tie)
_TO_INTEGER = 6755399441055744.0


def patch_mg_per_day(rate_mcg_per_hour: float) -> float:
    """What a transdermal patch delivers in a day, in mg, from its rate in mcg per hour."""
    return rate_mcg_per_hour * 24 / 1000


def round6(value: float) -> float:
    """``round(value, 6)``, the very same float, in a fraction of its instructions.

    ``round`` writes the value's exact decimal expansion rounded to six places (half to even)
    and reads that back. For 0 < value * 1e6 < 1e11 the product is within 8e-6 of the exact
    value * 10**6, so when it is more than 0.4999 from half-way between two integers both
    round to the same integer n, and n / 1e6 (a correctly rounded division of two exact
    floats) is the float nearest n * 10**-6, which is what ``round`` reads back. Any other
    value (zero, negative, huge, NaN, close to half-way, not a float) goes to ``round``.
    """
    scaled = value * 1e6
    nearest = scaled + _TO_INTEGER - _TO_INTEGER
    if 0.0 < scaled < 1e11 and -0.4999 < scaled - nearest < 0.4999 and value.__class__ is float:
        return nearest / 1e6
    return round(value, 6)


Contribution = tuple[MedicationOrder, str, tuple[ResolvedIngredient, ...], tuple[str, ...]]


def contribution_of(
    order: MedicationOrder, knowledge: Knowledge, match: object = LOOK_UP
) -> Contribution:
    """(the order as its product makes it, its product, ingredients, unresolved names);
    ``match``: what ``order.drug`` resolves to (a NameMatch, or None: unknown or no name), when
    the caller has looked it up; ``LOOK_UP``: look it up here."""
    effective, product, ingredients, unresolved = _resolve(order, knowledge, match)
    if effective.indication:
        meaning = knowledge.context.meaning(effective.indication)
        if meaning:
            ingredients = _for_indication(meaning, ingredients, knowledge)
    return effective, product, ingredients, unresolved


def contribution_and_oud(
    order: MedicationOrder, knowledge: Knowledge, match: object = LOOK_UP
) -> tuple[Contribution, bool]:
    """``contribution_of(order, knowledge, match)``, and whether the order treats opioid use
    disorder (``treats_oud`` of what it contributes): its indication is read once for both."""
    effective, product, ingredients, unresolved = _resolve(order, knowledge, match)
    if not effective.indication:
        return (effective, product, ingredients, unresolved), False
    meaning = knowledge.context.meaning(effective.indication)
    if not meaning:
        return (effective, product, ingredients, unresolved), False
    ingredients = _for_indication(meaning, ingredients, knowledge)
    return (effective, product, ingredients, unresolved), _treats_oud(
        meaning, ingredients, knowledge
    )


def _resolve(
    order: MedicationOrder, knowledge: Knowledge, known: object = LOOK_UP
) -> tuple[MedicationOrder, str, tuple[ResolvedIngredient, ...], tuple[str, ...]]:
    """The order as its product makes it, its product, ingredients and the names it could
    not resolve (before its indication is considered)."""
    if not order.ingredients:
        match = knowledge.resolver.resolve(order.drug) if known is LOOK_UP else known
        # NameMatch's properties read inline: a name of one substance (no product, no
        # candidates), the most common order, is resolved by _plain
        if match is not None and not match.candidates and not match.product:  # type: ignore[attr-defined]
            return _plain(order, match, knowledge)  # type: ignore[arg-type]
        known = match
    return _general(order, knowledge, known)


def _general(
    order: MedicationOrder, knowledge: Knowledge, known: object = LOOK_UP
) -> tuple[MedicationOrder, str, tuple[ResolvedIngredient, ...], tuple[str, ...]]:
    """``_resolve`` of any order: a product, a name sold in several strengths, an order of
    ingredients, an unknown name, and a plain substance too (``_plain``'s values)."""
    resolver = knowledge.resolver
    unresolved: list[str] = []
    product = ""
    # (ingredient, counted mg per dose or None, salt of the stated weight, its factor)
    amounts: list[tuple[str, float | None, str, float]] = []

    # NameMatch's properties and its factor()/salt() read inline (is_combination: more than
    # one ingredient; is_ambiguous: candidates; is_product: a product without candidates)
    if order.ingredients:
        if known is LOOK_UP:
            match = resolver.resolve(order.drug) if order.drug else None
        else:
            match = known  # type: ignore[assignment]
        product = match.product if match and len(match.ingredients) > 1 else ""
        for ingredient in order.ingredients:
            part = resolver.resolve(ingredient.name)
            if part is None or len(part.ingredients) > 1 or part.candidates or part.product:
                unresolved.append(ingredient.name)
            else:
                factors, salts = part.factors, part.salts
                factor = factors[0] if factors else 1.0
                amounts.append(
                    (
                        part.ingredients[0][0],
                        ingredient.dose_mg * factor,
                        salts[0] if salts else "",
                        factor,
                    )
                )
    else:
        match = resolver.resolve(order.drug) if known is LOOK_UP else known  # type: ignore[assignment]
        if match is None:
            unresolved.append(order.drug)
        elif match.candidates:
            unresolved.append(order.drug)
            amounts.extend((name, None, "", 1.0) for name, _ in match.ingredients)
        elif match.product:
            product = match.product
            order = _with_product_form(order, match)
            units = order.units_per_dose or 1.0
            single = len(match.ingredients) == 1 and not any(match.rates)
            factors, salts = match.factors, match.salts
            for position, (name, mg) in enumerate(match.ingredients):
                factor = factors[position] if position < len(factors) else 1.0
                if single and order.dose_mg > 0:  # "Aleve 440 mg": the product's own substance
                    dose: float | None = order.dose_mg * factor
                else:
                    dose = None if mg is None else mg * units
                salt = salts[position] if position < len(salts) else ""
                amounts.append((name, dose, salt, factor))
        else:
            transdermal_rate = order.route is _TRANSDERMAL and order.rate_mcg_per_hour > 0
            factors, salts = match.factors, match.salts
            factor = factors[0] if factors else 1.0
            dose = None if transdermal_rate else order.dose_mg * factor
            amounts.append((match.ingredients[0][0], dose, salts[0] if salts else "", factor))

    compiled = knowledge.compiled
    route = order.route
    # each ingredient's (RxCUI, nodes, classes) for the route, compiled from the index (every
    # route but a topical one is systemic: Route.is_systemic)
    topical = route is _TOPICAL
    rows = compiled.topical_ingredients if topical else compiled.systemic_ingredients
    if route is _TRANSDERMAL and order.rate_mcg_per_hour > 0:
        rate_mg_per_day: float | None = patch_mg_per_day(order.rate_mcg_per_hour)
    else:
        rate_mg_per_day = None
    doses_per_day = order.doses_per_day
    resolved = []
    for name, mg_per_dose, salt, factor in amounts:
        if rate_mg_per_day is not None:
            mg_per_day = rate_mg_per_day
        else:
            mg_per_day = None if mg_per_dose is None else mg_per_dose * doses_per_day
        rxcui, nodes, classes = rows[name]
        resolved.append(  # ResolvedIngredient(...), its fields in order (see model._assembler)
            assemble_ingredient(
                name,
                rxcui,
                None if mg_per_dose is None else round6(mg_per_dose),
                None if mg_per_day is None else round6(mg_per_day),
                nodes,
                classes,
                salt,
                factor,
            )
        )
    return order, product, tuple(resolved), tuple(unresolved)


def _plain(
    order: MedicationOrder, match: NameMatch, knowledge: Knowledge
) -> tuple[MedicationOrder, str, tuple[ResolvedIngredient, ...], tuple[str, ...]]:
    """``_resolve`` of an order without ingredients whose name resolves to ``match``, a plain
    substance (neither a product nor a name sold in several strengths): its one ingredient,
    the same values as the general path computes (a patch's rate is its daily amount; else
    the dose counted as the substance, times doses per day), with no lists in between."""
    name = match.ingredients[0][0]
    factors, salts = match.factors, match.salts
    factor = factors[0] if factors else 1.0
    compiled = knowledge.compiled
    route = order.route
    rows = compiled.topical_ingredients if route is _TOPICAL else compiled.systemic_ingredients
    rxcui, nodes, classes = rows[name]
    rate = order.rate_mcg_per_hour
    if route is _TRANSDERMAL and rate > 0:
        mg_per_dose = None
        mg_per_day = round6(patch_mg_per_day(rate))
    else:
        dose = order.dose_mg * factor
        mg_per_dose = round6(dose)
        mg_per_day = round6(dose * order.doses_per_day)
    ingredient = assemble_ingredient(  # ResolvedIngredient(...), its fields in order
        name, rxcui, mg_per_dose, mg_per_day, nodes, classes, salts[0] if salts else "", factor
    )
    return order, "", (ingredient,), ()


def _with_product_form(order: MedicationOrder, match: NameMatch) -> MedicationOrder:
    """The order as its product makes it: the dose form's route, release form and patch rate."""
    route = _ROUTES.get(match.route, order.route)
    extended = order.extended_release or match.extended_release
    rate = order.rate_mcg_per_hour
    if rate == 0:
        for unit_rate in match.rates:  # the first ingredient with a rate
            if unit_rate is not None:
                rate = unit_rate * (order.units_per_dose or 1.0)
                break
    if (
        route is order.route
        and extended == order.extended_release
        and rate == order.rate_mcg_per_hour
    ):
        return order
    return replace(order, route=route, extended_release=extended, rate_mcg_per_hour=rate)


def _for_indication(
    meaning: str, ingredients: tuple[ResolvedIngredient, ...], knowledge: Knowledge
) -> tuple[ResolvedIngredient, ...]:
    """The ingredients without the classes the order's indication (its ``meaning``, not
    empty) sets aside (methadone for OUD).

    Methadone or buprenorphine ordered for opioid use disorder is not a restricted pain opioid
    and carries no misuse warning for the disorder it treats (indication_treatments.csv); it is
    still an opioid for every interaction.
    """
    treatments = knowledge.context.treatments
    changed = []
    for ingredient in ingredients:
        treatment = treatments.get((meaning, ingredient.name))
        if treatment is None:
            changed.append(ingredient)
            continue
        dropped = {f"class:{class_id}" for class_id in treatment.without_classes}
        changed.append(
            replace(
                ingredient,
                nodes=ingredient.nodes - dropped,
                classes=tuple(c for c in ingredient.classes if f"class:{c}" not in dropped),
            )
        )
    return tuple(changed)


def treats_oud(
    order: MedicationOrder, ingredients: Iterable[ResolvedIngredient], knowledge: Knowledge
) -> bool:
    """True when ``order`` treats opioid use disorder with one of its ingredients."""
    if not order.indication:
        return False
    return _treats_oud(knowledge.context.meaning(order.indication), ingredients, knowledge)


def _treats_oud(
    meaning: str, ingredients: Iterable[ResolvedIngredient], knowledge: Knowledge
) -> bool:
    """``treats_oud`` of an order whose indication means ``meaning``."""
    if meaning != OPIOID_USE_DISORDER:
        return False
    treatments = knowledge.context.treatments
    return any((OPIOID_USE_DISORDER, ingredient.name) in treatments for ingredient in ingredients)
