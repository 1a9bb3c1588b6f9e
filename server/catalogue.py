"""ListDrugs and ListRules answers, built once from the knowledge base."""

from __future__ import annotations

from regimen.knowledge import Knowledge
from regimenguard.v1 import regimen_checker_pb2 as pb
from server.convert import SEVERITY_TO_PROTO


def drug_listing(knowledge: Knowledge) -> list[tuple[str, pb.Drug]]:
    """Every ingredient as a Drug, each with the text a query is matched against."""
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
            continue
        for name, _ in product.ingredients:
            products.setdefault(name, []).append(product.product)
    listing = []
    for ingredient in sorted(data.ingredients, key=lambda i: i.name):
        names = aliases.get(ingredient.name, {"brand": [], "synonym": []})
        classes = sorted(
            node[6:] for node in index.systemic_nodes[ingredient.name] if node.startswith("class:")
        )
        drug = pb.Drug(
            name=ingredient.name,
            rxcui=ingredient.rxcui,
            brands=sorted(names["brand"]),
            aliases=sorted(names["synonym"]),
            classes=classes,
            needs_confirmation=bool(ingredient.needs_confirmation)
            or ingredient.name in _unconfirmed_doses(knowledge),
            combination_products=products.get(ingredient.name, []),
        )
        key = " ".join(
            [ingredient.name, ingredient.rxcui, *names["brand"], *names["synonym"], *classes]
        ).casefold()
        listing.append((key, drug))
    return listing


def _unconfirmed_doses(knowledge: Knowledge) -> frozenset[str]:
    return frozenset(
        name
        for name, rows in knowledge.dosing.dose_limits.items()
        if any(row.needs_confirmation for row in rows)
    )


def rule_listing(knowledge: Knowledge) -> list[pb.Rule]:
    return [
        pb.Rule(
            rule_id=spec.rule_id,
            default_severity=SEVERITY_TO_PROTO[spec.default_severity],
            summary=spec.summary,
            guideline_section=spec.guideline_section,
            ncpdp_reason_code=spec.ncpdp_reason_code,
        )
        for spec in knowledge.rules
    ]


def page(items: list, page_size: int, page_token: str) -> tuple[list, str]:  # type: ignore[type-arg]
    """One page of ``items``; the token is the offset of the next page.

    Raises ValueError(field, description) for a bad size or token.
    """
    if page_size < 0:
        raise ValueError("page_size", "must not be negative (0 = everything)")
    start = 0
    if page_token:
        if not page_token.isdigit() or int(page_token) > len(items):
            raise ValueError("page_token", "is not a token returned by ListDrugs")
        start = int(page_token)
    end = len(items) if page_size == 0 else min(start + page_size, len(items))
    return items[start:end], (str(end) if end < len(items) else "")
