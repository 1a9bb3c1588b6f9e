"""What one order's opioids contribute to morphine milligram equivalents per day.

CDC 2022 conversion factors (dosing/data); an opioid the CDC does not convert (buprenorphine),
or one that cannot be counted (no factor for the order's route or product, or no amount), is
named instead. It depends on the resolved order alone: ``OrderRecord.mme`` keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from regimenguard.dosing.mme import mme_per_day
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import ResolvedOrder, Route
from regimenguard.regimen.slots_init import fast_init
from regimenguard.regimen.vocabulary import OPIOID

_TRANSDERMAL = Route.TRANSDERMAL  # a module constant: an enum class attribute costs a hook call


@fast_init
@dataclass(frozen=True, slots=True)
class OrderMme:
    """What one order's opioids contribute to MME/day, and which of them cannot be counted."""

    by_ingredient: Mapping[str, float]
    uncounted: tuple[str, ...] = ()  # no factor for this route/product, or no amount
    not_applicable: tuple[str, ...] = ()  # the CDC does not convert it (buprenorphine)


def order_mme(order: ResolvedOrder, knowledge: Knowledge) -> OrderMme:
    """MME/day of one order's opioids (CDC 2022 factors), whatever the order's action."""
    table = knowledge.dosing.mme
    context = knowledge.context
    transdermal = order.order.route is _TRANSDERMAL
    by_ingredient: dict[str, float] = {}
    uncounted: list[str] = []
    not_applicable: list[str] = []
    for ingredient in order.ingredients:
        if OPIOID not in ingredient.nodes:
            continue
        factor = table.factor(ingredient.name, transdermal=transdermal)
        if factor is None:
            profile = context.form(
                ingredient.name, order.order.route.value, order.order.extended_release
            )
            (not_applicable if profile.mme_not_applicable else uncounted).append(ingredient.name)
            continue
        rate = order.order.rate_mcg_per_hour
        if (factor.unit == "mg" and ingredient.mg_per_day is None) or (
            factor.unit == "mcg_per_hour" and rate <= 0
        ):
            uncounted.append(ingredient.name)
            continue
        by_ingredient[ingredient.name] = by_ingredient.get(ingredient.name, 0.0) + mme_per_day(
            factor, mg_per_day=ingredient.mg_per_day or 0.0, rate_mcg_per_hour=rate
        )
    return OrderMme(by_ingredient, tuple(uncounted), tuple(not_applicable))


NO_OPIOID = OrderMme({})  # what an order without an opioid contributes
