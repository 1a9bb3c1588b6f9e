"""regimenguard.regimen.resolution: the plain-substance path gives the general path's values.

An order without ingredients whose name is one substance (no product, not sold in several
strengths: ``ibuprofen``, ``naproxen sodium``, ``Advil``) is resolved by ``_plain`` without the
general path's lists; every such name the knowledge base knows, on every route and in each
shape of order (a dose, a salt's dose, a patch rate, no amount), must resolve to exactly what
the general path makes of it.
"""

from __future__ import annotations

import pytest

from regimenguard.regimen import resolution
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import MedicationOrder, Route


def _plain_names(knowledge: Knowledge) -> list[str]:
    data = knowledge.data
    names = [
        *(ingredient.name for ingredient in data.ingredients),
        *(salt.salt for salt in data.salts),
        *(alias.alias for alias in data.aliases),
    ]
    plain = []
    for name in names:
        match = knowledge.resolver.resolve(name)
        if match is not None and not match.product and not match.candidates:
            plain.append(name)
    return plain


ORDERS = [
    {"dose_mg": 600.0000123, "doses_per_day": 3.0},
    {"dose_mg": 550.0, "doses_per_day": 2.0, "as_needed": True},
    {"dose_mg": 0.333333333, "doses_per_day": 7.0},
    {"dose_mg": 0.0, "doses_per_day": 0.0},
    {"rate_mcg_per_hour": 25.1250475, "dose_mg": 12.0},
    {"rate_mcg_per_hour": 0.0, "dose_mg": 12.5, "doses_per_day": 1.0},
]


def test_every_plain_name_resolves_as_the_general_path_does(knowledge: Knowledge) -> None:
    names = _plain_names(knowledge)
    assert len(names) > 100  # ingredients, salts and brand aliases of one substance
    compared = 0
    for name in names:
        match = knowledge.resolver.resolve(name)
        for route in Route:
            for shape in ORDERS:
                order = MedicationOrder(name, route=route, **shape)  # type: ignore[arg-type]
                plain = resolution._plain(order, match, knowledge)  # type: ignore[arg-type]
                assert plain == resolution._general(order, knowledge, match), (name, route)
                assert resolution._resolve(order, knowledge) == plain
                compared += 1
    assert compared == len(names) * len(Route) * len(ORDERS)


def test_a_salt_counts_as_its_substance_on_the_plain_path(knowledge: Knowledge) -> None:
    order = MedicationOrder("naproxen sodium", dose_mg=550, doses_per_day=2)
    _, product, (ingredient,), unresolved = resolution._resolve(order, knowledge)
    assert (product, unresolved) == ("", ())
    assert ingredient.name == "naproxen"
    assert ingredient.salt == "naproxen sodium"
    assert ingredient.mg_per_dose == pytest.approx(500, abs=0.5)
    assert ingredient.mg_per_day == pytest.approx(1000, abs=1)


def test_a_patch_rate_is_its_daily_amount_on_the_plain_path(knowledge: Knowledge) -> None:
    order = MedicationOrder("fentanyl", rate_mcg_per_hour=25, route=Route.TRANSDERMAL)
    _, _, (ingredient,), _ = resolution._resolve(order, knowledge)
    assert ingredient.mg_per_dose is None
    assert ingredient.mg_per_day == 0.6  # 25 mcg/h for 24 h
