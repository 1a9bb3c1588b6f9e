"""A single order's use judged within its label maxima at every age once (the use its record
keeps, ``IngredientUse.within_label_at_any_age``) answers what the age-by-age check answers:
``dose_limits._within_label`` agrees with that check (as it was before the flag, below) at
every age bracket's edge, on generated regimens whose orders repeat (the kept uses are read
again) and whose every order is unique."""

from __future__ import annotations

import pytest

from bench.bulkgen import Generator
from regimenguard.dosing.index import DosingIndex
from regimenguard.regimen.cache import OrderRecords
from regimenguard.regimen.facts import IngredientUse, build_facts
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.rules.base import ROUTE_NAMES, SYSTEMIC_ROUTES
from regimenguard.regimen.rules.dose_limits import _within_label
from regimenguard.regimen.validation import RequestInvalid, normalized, request_error
from regimenguard.server.convert import decode_request
from regimenguard.v1 import regimen_checker_pb2 as pb

AGES = (0, 17, 18, 64, 65, 74, 75, 76, 90)


def _age_by_age(use: IngredientUse, dosing: DosingIndex, age: int) -> bool:
    """The check for one age, written out: every order on one systemic route and form, its
    highest dose and its daily total within that age's limit."""
    orders = use.orders
    route, extended = orders[0].order.route, orders[0].order.extended_release
    if route not in SYSTEMIC_ROUTES:
        return len(orders) == 1
    if any(o.order.route is not route or o.order.extended_release != extended for o in orders):
        return False
    limit = dosing.label_limit(
        use.name, ROUTE_NAMES[route], extended_release=extended, age_years=age
    )
    if limit is None:
        return True
    highest = use.max_mg_per_dose
    if (
        limit.max_mg_per_dose is not None
        and highest is not None
        and highest > limit.max_mg_per_dose
    ):
        return False
    if limit.max_mg_per_day is None:
        return True
    daily = 0.0
    for order in orders:
        for ingredient in order.ingredients:
            if ingredient.name == use.name:
                daily += ingredient.mg_per_day or 0.0
    return not daily > limit.max_mg_per_day


@pytest.mark.parametrize("unique", [False, True], ids=["orders-repeat", "every-order-unique"])
def test_the_flag_answers_as_the_age_by_age_check(knowledge: Knowledge, unique: bool) -> None:
    generator = Generator(unique_orders=unique)
    dosing = knowledge.dosing
    records = OrderRecords()  # the checker's cache: kept uses are read again across regimens
    judged = outside = 0
    for i in range(0, 6000, 3):
        decoded = decode_request(pb.CheckRegimenRequest.FromString(generator.regimen(i)), knowledge)
        if isinstance(decoded, RequestInvalid) or request_error(
            decoded, knowledge.settings, knowledge
        ):
            continue
        facts = build_facts(normalized(decoded), knowledge, records)
        for name, use in facts.ingredients.items():
            if name not in dosing.dose_limits:
                continue
            for age in AGES:
                expected = _age_by_age(use, dosing, age)
                assert _within_label(use, dosing, age) == expected, (i, name, age)
                judged += 1
                outside += not expected
    assert judged > 1000
    assert outside > 10  # the sample has orders above a label maximum
