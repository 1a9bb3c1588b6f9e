"""The name resolver's start-up tables for a combination written without strengths, and
the RxNorm grammar's quick refusal of a name without digits.

``hydrocodone/APAP`` names a combination sold in many strengths: the resolver answers with the
strengths it is sold in, written in the order the ingredients were typed. Those strengths depend
on the knowledge base alone and are compiled once; they must be what the products say.
"""

from __future__ import annotations

import itertools

from regimenguard.interactions.resolver import NameResolver
from regimenguard.interactions.rxnorm_names import parse_rxnorm_name
from regimenguard.regimen.knowledge import Knowledge


def _sold_strengths(products, names) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """The strengths read from the products on the spot, as the resolver used to per call."""
    written = []
    for product in products:
        if any(part.unit == "MG/ML" for part in product.parts):
            continue
        by_name = {part.ingredient: part.value for part in product.parts}
        text = "/".join(f"{by_name[name]:g}" for name in names)
        if text not in written:
            written.append(text)
    return tuple(written)


def test_every_order_of_every_combination_has_the_strengths_its_products_say(
    knowledge: Knowledge,
) -> None:
    resolver = knowledge.resolver
    expected = {
        order: _sold_strengths(products, order)
        for ingredients, products in resolver._by_ingredients.items()
        for order in itertools.permutations(sorted(ingredients))
    }
    assert expected  # the knowledge base sells combinations
    assert dict(resolver._strengths_in_order) == expected


def test_a_combination_without_strengths_offers_them_in_the_order_typed(
    knowledge: Knowledge,
) -> None:
    resolver: NameResolver = knowledge.resolver
    forward = resolver.resolve("hydrocodone/acetaminophen")
    backward = resolver.resolve("APAP / hydrocodone")
    assert forward is not None and backward is not None
    assert forward.is_ambiguous and not forward.is_product
    assert [name for name, _ in forward.ingredients] == ["hydrocodone", "acetaminophen"]
    assert [name for name, _ in backward.ingredients] == ["acetaminophen", "hydrocodone"]
    assert "hydrocodone/acetaminophen 10/325" in forward.candidates
    assert "apap / hydrocodone 325/10" in backward.candidates
    assert len(forward.candidates) == len(set(forward.candidates)) == len(backward.candidates)
    # each strength is one a product is sold in: it resolves to that product
    strength = forward.candidates[0].rsplit(" ", 1)[1]
    sold = resolver.resolve(f"hydrocodone/acetaminophen {strength}")
    assert sold is not None and sold.is_product


def test_a_combination_nobody_sells_is_not_offered_strengths(knowledge: Knowledge) -> None:
    assert knowledge.resolver.resolve("ibuprofen/sertraline") is None


def test_only_a_name_with_digits_is_read_as_an_rxnorm_name() -> None:
    # every strength and a pack's every count is a number: a name without one is not read
    assert parse_rxnorm_name("hydrocodone/acetaminophen") is None
    assert parse_rxnorm_name("Oral Tablet / MG") is None
    single = parse_rxnorm_name("acetaminophen 325 MG Oral Tablet")
    pack = parse_rxnorm_name("{30 (acetaminophen 325 MG Oral Tablet)} Pack")
    # digits of any script are digits (the grammar's \d, as float() reads them)
    arabic = parse_rxnorm_name("acetaminophen \u0663\u0662\u0665 MG Oral Tablet")
    assert single is not None and pack is not None and arabic is not None
    assert single.components == arabic.components and single.components[0].value == 325.0
    assert pack.pack_count == 30 and pack.dose_form == "Oral Tablet"
