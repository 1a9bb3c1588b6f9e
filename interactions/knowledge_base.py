"""The interaction knowledge base as read from ``interactions/data``: typed, frozen records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interactions.datafile import DataError, Row, content_hash, load_table, read_manifest
from interactions.severity import Severity

DATA_DIR = Path(__file__).parent / "data"

NODE_KINDS = ("class", "drug", "condition")

# Patient conditions an edge may name (every boolean Patient field, plus the derived age
# group), with the words a message puts after "in a patient".
CONDITION_LABELS = {
    "hepatic_impairment": "with hepatic impairment",
    "renal_impairment": "with renal impairment",
    "alcohol_use_disorder": "with alcohol use disorder",
    "substance_use_disorder": "with a history of substance use disorder",
    "seizure_disorder": "with a seizure disorder",
    "gi_bleed_history": "with a history of gastrointestinal bleeding",
    "cardiovascular_disease": "with cardiovascular disease",
    "refractory_symptoms": "with refractory symptoms",
    "active_cancer_treatment": "in active cancer treatment",
    "palliative_care": "receiving palliative care",
    "opioid_tolerant": "who is opioid-tolerant",
    "older_adult": "aged 65 or older",
    "minor": "under 18",
}
CONDITIONS = frozenset(CONDITION_LABELS)


@dataclass(frozen=True, slots=True)
class DrugClass:
    class_id: str
    label: str
    parents: tuple[str, ...]
    systemic_only: bool
    duplicate_severity: Severity | None
    source: str


@dataclass(frozen=True, slots=True)
class Ingredient:
    name: str
    rxcui: str
    classes: tuple[str, ...]
    needs_confirmation: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class Alias:
    alias: str
    ingredient: str
    kind: str
    source: str


@dataclass(frozen=True, slots=True)
class ConditionalClass:
    """A class an ingredient belongs to only above a daily amount (aspirin as an NSAID)."""

    ingredient: str
    class_id: str
    above_mg_per_day: float
    source: str


@dataclass(frozen=True, slots=True)
class CombinationProduct:
    product: str
    rxcui: str
    strength: str
    ingredients: tuple[tuple[str, float], ...]
    brands: tuple[str, ...]
    extra_names: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class InteractionEdge:
    node_a: str
    node_b: str
    rule_id: str
    severity: Severity
    ncpdp_reason_code: str
    rationale: str
    recommendation: str
    section: str
    needs_confirmation: bool
    source: str


@dataclass(frozen=True, slots=True)
class SerotonergicAdvice:
    ingredient: str
    with_node: str  # the advice applies only when this node is present too ("" = always)
    recommendation: str
    source: str


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule of the catalogue: its stable id and how its findings are labelled."""

    rule_id: str
    default_severity: Severity
    ncpdp_reason_code: str
    guideline_section: str
    summary: str
    source: str


@dataclass(frozen=True, slots=True)
class InteractionData:
    version: str
    content_hash: str
    classes: tuple[DrugClass, ...]
    ingredients: tuple[Ingredient, ...]
    aliases: tuple[Alias, ...]
    conditional_classes: tuple[ConditionalClass, ...]
    products: tuple[CombinationProduct, ...]
    edges: tuple[InteractionEdge, ...]
    serotonergic_advice: tuple[SerotonergicAdvice, ...]
    rules: tuple[RuleSpec, ...]


def node_kind(node: str) -> tuple[str, str]:
    """Split ``class:nsaid`` into ``("class", "nsaid")``, rejecting unknown kinds."""
    kind, _, name = node.partition(":")
    if kind not in NODE_KINDS or not name:
        raise ValueError(f"node {node!r} must be class:ID, drug:NAME or condition:NAME")
    return kind, name


def _drug_class(row: Row) -> DrugClass:
    severity = row.text("duplicate_severity", required=False)
    return DrugClass(
        class_id=row.text("class"),
        label=row.text("label"),
        parents=row.items("parents"),
        systemic_only=row.flag("systemic_only"),
        duplicate_severity=Severity.parse(severity) if severity else None,
        source=row.text("source"),
    )


def _ingredient(row: Row) -> Ingredient:
    rxcui = row.text("rxcui", required=False)
    if rxcui and not rxcui.isdigit():
        raise ValueError(f"rxcui must be digits, not {rxcui!r}")
    return Ingredient(
        name=row.text("name"),
        rxcui=rxcui,
        classes=row.items("classes"),
        needs_confirmation=row.items("needs_confirmation"),
        source=row.text("source"),
    )


def _alias(row: Row) -> Alias:
    kind = row.text("kind")
    if kind not in ("brand", "synonym"):
        raise ValueError(f"kind must be brand or synonym, not {kind!r}")
    return Alias(row.text("alias"), row.text("ingredient"), kind, row.text("source"))


def _conditional_class(row: Row) -> ConditionalClass:
    threshold = row.number("above_mg_per_day", required=True)
    assert threshold is not None
    return ConditionalClass(
        row.text("ingredient"), row.text("class"), threshold, row.text("source")
    )


def _product(row: Row) -> CombinationProduct:
    ingredients = []
    for item in row.items("ingredients"):
        name, _, amount = item.rpartition(":")
        try:
            mg = float(amount)
        except ValueError:
            raise ValueError(f"ingredient {item!r} must be name:mg") from None
        if not name or mg <= 0:
            raise ValueError(f"ingredient {item!r} must be name:mg with mg > 0")
        ingredients.append((name.strip(), mg))
    if len(ingredients) < 2:
        raise ValueError("a combination product needs at least two ingredients")
    return CombinationProduct(
        product=row.text("product"),
        rxcui=row.text("rxcui"),
        strength=row.text("strength"),
        ingredients=tuple(ingredients),
        brands=row.items("brands"),
        extra_names=row.items("extra_names"),
        source=row.text("source"),
    )


def _edge(row: Row) -> InteractionEdge:
    node_a, node_b = row.text("node_a"), row.text("node_b")
    node_kind(node_a)
    node_kind(node_b)
    return InteractionEdge(
        node_a=node_a,
        node_b=node_b,
        rule_id=row.text("rule_id"),
        severity=Severity.parse(row.text("severity")),
        ncpdp_reason_code=row.text("ncpdp_reason_code", required=False),
        rationale=row.text("rationale"),
        recommendation=row.text("recommendation"),
        section=row.text("section", required=False),
        needs_confirmation=row.flag("needs_confirmation"),
        source=row.text("source"),
    )


def _advice(row: Row) -> SerotonergicAdvice:
    with_node = row.text("with_node", required=False)
    if with_node:
        node_kind(with_node)
    return SerotonergicAdvice(
        row.text("ingredient"), with_node, row.text("recommendation"), row.text("source")
    )


def _rule(row: Row) -> RuleSpec:
    return RuleSpec(
        rule_id=row.text("rule_id"),
        default_severity=Severity.parse(row.text("default_severity")),
        ncpdp_reason_code=row.text("ncpdp_reason_code"),
        guideline_section=row.text("guideline_section"),
        summary=row.text("summary"),
        source=row.text("source"),
    )


_TABLES = {
    "classes": (
        "classes.csv",
        ("class", "label", "parents", "systemic_only", "duplicate_severity", "source"),
        _drug_class,
    ),
    "ingredients": (
        "ingredients.csv",
        ("name", "rxcui", "classes", "needs_confirmation", "source"),
        _ingredient,
    ),
    "aliases": ("aliases.csv", ("alias", "ingredient", "kind", "source"), _alias),
    "conditional_classes": (
        "conditional_classes.csv",
        ("ingredient", "class", "above_mg_per_day", "source"),
        _conditional_class,
    ),
    "products": (
        "combination_products.csv",
        ("product", "rxcui", "strength", "ingredients", "brands", "extra_names", "source"),
        _product,
    ),
    "edges": (
        "interactions.csv",
        (
            "node_a",
            "node_b",
            "rule_id",
            "severity",
            "ncpdp_reason_code",
            "rationale",
            "recommendation",
            "section",
            "needs_confirmation",
            "source",
        ),
        _edge,
    ),
    "serotonergic_advice": (
        "serotonergic_advice.csv",
        ("ingredient", "with_node", "recommendation", "source"),
        _advice,
    ),
    "rules": (
        "rules.csv",
        (
            "rule_id",
            "default_severity",
            "ncpdp_reason_code",
            "guideline_section",
            "summary",
            "source",
        ),
        _rule,
    ),
}


def load_interaction_data(directory: Path = DATA_DIR) -> InteractionData:
    """Read and cross-check every interaction data file.

    Raises DataError naming the file and row of the first problem found.
    """
    manifest = read_manifest(directory)
    located = {
        key: load_table(directory / filename, columns, parse)
        for key, (filename, columns, parse) in _TABLES.items()
    }
    _check_references(located)
    paths = [directory / "manifest.toml", *(directory / name for name, _, _ in _TABLES.values())]
    tables = {key: tuple(record for _, record in rows) for key, rows in located.items()}
    return InteractionData(
        version=str(manifest["version"]),
        content_hash=content_hash(paths),
        **tables,  # type: ignore[arg-type]
    )


def _fail(key: str, line: int, message: str) -> DataError:
    return DataError(f"{_TABLES[key][0]} row {line}: {message}")


def _unique(key: str, rows: Any, name_of: Any) -> set[str]:
    """The names of a table, which must differ even ignoring case."""
    folded: set[str] = set()
    names: set[str] = set()
    for line, record in rows:
        name = name_of(record)
        if name.casefold() in folded:
            raise _fail(key, line, f"{name!r} appears twice")
        folded.add(name.casefold())
        names.add(name)
    return names


def _check_references(located: dict[str, Any]) -> None:
    """Every name a row refers to must exist; every name that resolves must be unique."""
    classes = _unique("classes", located["classes"], lambda c: c.class_id)
    ingredients = _unique("ingredients", located["ingredients"], lambda i: i.name)
    rules = _unique("rules", located["rules"], lambda r: r.rule_id)
    products = _unique("products", located["products"], lambda p: p.product)

    def known(node: str) -> bool:
        kind, name = node_kind(node)
        return name in {"class": classes, "drug": ingredients, "condition": CONDITIONS}[kind]

    for line, drug_class in located["classes"]:
        for parent in drug_class.parents:
            if parent not in classes:
                raise _fail("classes", line, f"unknown parent class {parent!r}")
    rxcuis: set[str] = set()
    for line, ingredient in located["ingredients"]:
        for class_id in ingredient.classes:
            if class_id not in classes:
                raise _fail("ingredients", line, f"unknown class {class_id!r}")
        rxcui = ingredient.rxcui
        if rxcui and rxcui in rxcuis:
            raise _fail("ingredients", line, f"rxcui {rxcui} appears twice")
        rxcuis.add(rxcui)
    names = {name.casefold() for name in (*ingredients, *products)}
    for line, alias in located["aliases"]:
        key = alias.alias.casefold()
        if alias.ingredient not in ingredients:
            raise _fail("aliases", line, f"unknown ingredient {alias.ingredient!r}")
        if key in names:
            raise _fail("aliases", line, f"alias {alias.alias!r} is already a name")
        names.add(key)
    for line, conditional in located["conditional_classes"]:
        if conditional.ingredient not in ingredients or conditional.class_id not in classes:
            raise _fail("conditional_classes", line, "unknown ingredient or class")
    for line, product in located["products"]:
        for name, _ in product.ingredients:
            if name not in ingredients:
                raise _fail("products", line, f"unknown ingredient {name!r}")
        if product.rxcui in rxcuis:
            raise _fail("products", line, f"rxcui {product.rxcui} is already used")
        rxcuis.add(product.rxcui)
    for line, edge in located["edges"]:
        for node in (edge.node_a, edge.node_b):
            if not known(node):
                raise _fail("edges", line, f"unknown node {node!r}")
        if edge.rule_id not in rules:
            raise _fail("edges", line, f"unknown rule id {edge.rule_id!r}")
    for line, advice in located["serotonergic_advice"]:
        if advice.with_node and not known(advice.with_node):
            raise _fail("serotonergic_advice", line, f"unknown node {advice.with_node!r}")
        if advice.ingredient not in ingredients:
            raise _fail("serotonergic_advice", line, f"unknown ingredient {advice.ingredient!r}")


__all__ = [
    "CONDITIONS",
    "CONDITION_LABELS",
    "DATA_DIR",
    "Alias",
    "CombinationProduct",
    "ConditionalClass",
    "DataError",
    "DrugClass",
    "Ingredient",
    "InteractionData",
    "InteractionEdge",
    "RuleSpec",
    "SerotonergicAdvice",
    "load_interaction_data",
    "node_kind",
]
