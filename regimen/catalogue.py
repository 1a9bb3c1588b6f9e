"""The knowledge base's drugs as a listing a front door can search and page: built once."""

from __future__ import annotations

from dataclasses import dataclass

from regimenguard.regimen.knowledge import Knowledge


@dataclass(frozen=True, slots=True)
class DrugEntry:
    """One ingredient of the knowledge base, with every name it is known by."""

    name: str
    rxcui: str
    brands: tuple[str, ...]
    aliases: tuple[str, ...]
    classes: tuple[str, ...]
    needs_confirmation: bool
    combination_products: tuple[str, ...]
    search_key: str  # the casefolded text a query is matched against


def drug_entries(knowledge: Knowledge) -> tuple[DrugEntry, ...]:
    """Every ingredient, by name."""
    data = knowledge.data
    index = knowledge.index
    aliases: dict[str, dict[str, list[str]]] = {}
    salts = {salt.salt: salt.ingredient for salt in data.salts}
    for salt in data.salts:
        aliases.setdefault(salt.ingredient, {"brand": [], "synonym": []})["synonym"].append(
            salt.salt
        )
    for alias in data.aliases:
        ingredient = salts.get(alias.ingredient, alias.ingredient)  # Anaprox: naproxen sodium
        aliases.setdefault(ingredient, {"brand": [], "synonym": []})[alias.kind].append(alias.alias)
    products: dict[str, list[str]] = {}
    for product in data.products:
        if not product.is_combination:
            continue  # the single-ingredient products are listed by code, not here
        for name, _ in product.ingredients:
            products.setdefault(name, []).append(product.product)
    unconfirmed = _unconfirmed_doses(knowledge)
    entries = []
    for ingredient in sorted(data.ingredients, key=lambda i: i.name):
        names = aliases.get(ingredient.name, {"brand": [], "synonym": []})
        classes = tuple(
            sorted(
                node[6:]
                for node in index.systemic_nodes[ingredient.name]
                if node.startswith("class:")
            )
        )
        brands, synonyms = tuple(sorted(names["brand"])), tuple(sorted(names["synonym"]))
        entries.append(
            DrugEntry(
                name=ingredient.name,
                rxcui=ingredient.rxcui,
                brands=brands,
                aliases=synonyms,
                classes=classes,
                needs_confirmation=bool(ingredient.needs_confirmation)
                or ingredient.name in unconfirmed,
                combination_products=tuple(products.get(ingredient.name, [])),
                search_key=" ".join(
                    [
                        ingredient.name,
                        ingredient.rxcui,
                        *names["brand"],
                        *names["synonym"],
                        *classes,
                    ]
                ).casefold(),
            )
        )
    return tuple(entries)


def _unconfirmed_doses(knowledge: Knowledge) -> frozenset[str]:
    return frozenset(
        name
        for name, rows in knowledge.dosing.dose_limits.items()
        if any(row.needs_confirmation for row in rows)
    )


def matching(entries: tuple[DrugEntry, ...], query: str) -> list[DrugEntry]:
    """The entries whose names, RxCUI or classes contain ``query`` (any case); all for ''."""
    query = query.strip().casefold()
    return [entry for entry in entries if not query or query in entry.search_key]
