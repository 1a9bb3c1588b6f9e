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

from regimenguard.interactions.resolver import NameMatch
from regimenguard.regimen.context_tables import OPIOID_USE_DISORDER
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import MedicationOrder, ResolvedIngredient, Route

_ROUTES = {route.value: route for route in Route}
LOOK_UP = object()  # contribution_of's match: not looked up yet
_TRANSDERMAL = Route.TRANSDERMAL

Contribution = tuple[MedicationOrder, str, tuple[ResolvedIngredient, ...], tuple[str, ...]]


def contribution_of(
    order: MedicationOrder, knowledge: Knowledge, match: object = LOOK_UP
) -> Contribution:
    """(the order as its product makes it, its product, ingredients, unresolved names);
    ``match``: what ``order.drug`` resolves to (a NameMatch, or None: unknown or no name), when
    the caller has looked it up; ``LOOK_UP``: look it up here."""
    effective, product, ingredients, unresolved = _resolve(order, knowledge, match)
    return effective, product, _for_indication(effective, ingredients, knowledge), unresolved


def _resolve(
    order: MedicationOrder, knowledge: Knowledge, known: object = LOOK_UP
) -> tuple[MedicationOrder, str, tuple[ResolvedIngredient, ...], tuple[str, ...]]:
    """The order as its product makes it, its product, ingredients and the names it could
    not resolve (before its indication is considered)."""
    resolver = knowledge.resolver
    unresolved: list[str] = []
    product = ""
    # (ingredient, counted mg per dose or None, salt of the stated weight, its factor)
    amounts: list[tuple[str, float | None, str, float]] = []

    if order.ingredients:
        if known is LOOK_UP:
            match = resolver.resolve(order.drug) if order.drug else None
        else:
            match = known  # type: ignore[assignment]
        product = match.product if match and match.is_combination else ""
        for ingredient in order.ingredients:
            part = resolver.resolve(ingredient.name)
            if part is None or part.is_combination or part.is_ambiguous or part.is_product:
                unresolved.append(ingredient.name)
            else:
                factor = part.factor(0)
                amounts.append(
                    (part.ingredients[0][0], ingredient.dose_mg * factor, part.salt(0), factor)
                )
    else:
        match = resolver.resolve(order.drug) if known is LOOK_UP else known  # type: ignore[assignment]
        if match is None:
            unresolved.append(order.drug)
        elif match.is_ambiguous:
            unresolved.append(order.drug)
            amounts.extend((name, None, "", 1.0) for name, _ in match.ingredients)
        elif match.is_product:
            product = match.product
            order = _with_product_form(order, match)
            units = order.units_per_dose or 1.0
            single = len(match.ingredients) == 1 and not any(match.rates)
            for position, (name, mg) in enumerate(match.ingredients):
                factor = match.factor(position)
                if single and order.dose_mg > 0:  # "Aleve 440 mg": the product's own substance
                    dose: float | None = order.dose_mg * factor
                else:
                    dose = None if mg is None else mg * units
                amounts.append((name, dose, match.salt(position), factor))
        else:
            transdermal_rate = order.route is _TRANSDERMAL and order.rate_mcg_per_hour > 0
            factor = match.factor(0)
            dose = None if transdermal_rate else order.dose_mg * factor
            amounts.append((match.ingredients[0][0], dose, match.salt(0), factor))

    index = knowledge.index
    systemic = order.route.is_systemic
    route_nodes = index.systemic_nodes if systemic else index.topical_nodes
    route_classes = index.systemic_classes if systemic else index.topical_classes
    transdermal_rate = order.route is _TRANSDERMAL and order.rate_mcg_per_hour > 0
    resolved = []
    for name, mg_per_dose, salt, factor in amounts:
        if transdermal_rate:
            mg_per_day: float | None = order.rate_mcg_per_hour * 24 / 1000
        else:
            mg_per_day = None if mg_per_dose is None else mg_per_dose * order.doses_per_day
        resolved.append(
            ResolvedIngredient(
                name=name,
                rxcui=index.rxcui.get(name, ""),
                mg_per_dose=None if mg_per_dose is None else round(mg_per_dose, 6),
                mg_per_day=None if mg_per_day is None else round(mg_per_day, 6),
                nodes=route_nodes[name],
                classes=route_classes[name],
                salt=salt,
                salt_factor=factor,
            )
        )
    return order, product, tuple(resolved), tuple(unresolved)


def _with_product_form(order: MedicationOrder, match: NameMatch) -> MedicationOrder:
    """The order as its product makes it: the dose form's route, release form and patch rate."""
    route = _ROUTES.get(match.route, order.route)
    extended = order.extended_release or match.extended_release
    rate = order.rate_mcg_per_hour
    rates = [r for r in match.rates if r is not None]
    if rates and rate == 0:
        rate = rates[0] * (order.units_per_dose or 1.0)
    if (route, extended, rate) == (order.route, order.extended_release, order.rate_mcg_per_hour):
        return order
    return replace(order, route=route, extended_release=extended, rate_mcg_per_hour=rate)


def _for_indication(
    order: MedicationOrder, ingredients: tuple[ResolvedIngredient, ...], knowledge: Knowledge
) -> tuple[ResolvedIngredient, ...]:
    """The ingredients without the classes the order's indication sets aside (methadone for
    OUD).

    Methadone or buprenorphine ordered for opioid use disorder is not a restricted pain opioid
    and carries no misuse warning for the disorder it treats (indication_treatments.csv); it is
    still an opioid for every interaction.
    """
    indication = order.indication
    if not indication:
        return ingredients
    context = knowledge.context
    meaning = context.meaning(indication)
    if not meaning:
        return ingredients
    changed = []
    for ingredient in ingredients:
        treatment = context.treatments.get((meaning, ingredient.name))
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
    context = knowledge.context
    if context.meaning(order.indication) != OPIOID_USE_DISORDER:
        return False
    treatments = context.treatments
    return any((OPIOID_USE_DISORDER, ingredient.name) in treatments for ingredient in ingredients)
