"""The interaction knowledge base as read from ``interactions/data``: typed, frozen records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from regimenguard.interactions.datafile import (
    DataError,
    Row,
    content_hash,
    load_table,
    read_manifest,
    split_items,
)
from regimenguard.interactions.products import Product, part_for
from regimenguard.interactions.rxnorm_names import UNITS, Component
from regimenguard.interactions.severity import Severity
from regimenguard.interactions.snapshot import read_snapshot, write_snapshot
from regimenguard.interactions.substances import SubstanceNames

DATA_DIR = Path(__file__).parent / "data"

NODE_KINDS = ("class", "drug", "condition")
ROUTES = (
    "oral",
    "topical",
    "transdermal",
    "injection",
    "intranasal",
    "sublingual",
    "rectal",
    "buccal",
)

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
class Salt:
    """A salt whose stated weight counts as ``factor`` times its weight of the ingredient.

    The data states the factor as two weights (550 mg naproxen sodium = 500 mg naproxen), so
    550 mg converts to exactly 500 mg.
    """

    salt: str
    ingredient: str
    factor: float
    counted_as: str  # "base", or the salt in which the ingredient's amounts are stated
    needs_confirmation: bool
    source: str


@dataclass(frozen=True, slots=True)
class DoseForm:
    dose_form: str
    route: str
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
    # the edge fires only when one of these nodes is present too (escalations are data)
    requires_any: tuple[str, ...] = ()
    # nodes whose presence or absence the finding states (e.g. gastroprotection)
    states_presence_of: tuple[str, ...] = ()


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
    products: tuple[Product, ...]
    edges: tuple[InteractionEdge, ...]
    serotonergic_advice: tuple[SerotonergicAdvice, ...]
    rules: tuple[RuleSpec, ...]
    salts: tuple[Salt, ...] = ()
    salt_words: tuple[str, ...] = ()
    dose_forms: tuple[DoseForm, ...] = ()
    substances: SubstanceNames | None = None

    def substance_names(self) -> SubstanceNames:
        """Ingredients, synonyms and salts as substance names (products, RxNorm names)."""
        if self.substances is not None:
            return self.substances
        return substance_names(self.ingredients, self.aliases, self.salts, self.salt_words)


def substance_names(ingredients: Any, aliases: Any, salts: Any, salt_words: Any) -> SubstanceNames:
    return SubstanceNames(
        (ingredient.name for ingredient in ingredients),
        {alias.alias: alias.ingredient for alias in aliases if alias.kind == "synonym"},
        {salt.salt: (salt.ingredient, salt.factor) for salt in salts},
        salt_words,
    )


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


def _salt(row: Row) -> Salt:
    stated = row.number("stated_mg", required=True)
    counted = row.number("counted_mg", required=True)
    assert stated is not None and counted is not None
    factor = counted / stated
    counted_as = row.text("counted_as")
    if counted_as not in ("base", row.text("salt")):
        raise ValueError("counted_as must be 'base' or the salt itself")
    return Salt(
        salt=row.text("salt"),
        ingredient=row.text("ingredient"),
        factor=factor,
        counted_as=counted_as,
        needs_confirmation=row.flag("needs_confirmation"),
        source=row.text("source"),
    )


def _dose_form(row: Row) -> DoseForm:
    route = row.text("route")
    if route not in ROUTES:
        raise ValueError(f"route must be one of {', '.join(ROUTES)}, not {route!r}")
    return DoseForm(row.text("dose_form"), route, row.text("source"))


def _component(item: str) -> Component:
    substance, _, strength = item.rpartition(":")
    if not substance.strip():
        raise ValueError(f"ingredient {item!r} must be substance:STRENGTH UNIT")
    if not strength.strip():
        return Component(substance.strip(), 0.0, "")  # a pack of several strengths
    value, _, unit = strength.strip().partition(" ")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"ingredient {item!r}: strength {value!r} is not a number") from None
    if number <= 0 or unit not in UNITS:
        raise ValueError(f"ingredient {item!r}: strength must be > 0 in one of {', '.join(UNITS)}")
    return Component(substance.strip(), number, unit)


def _product(
    row: Row, substances: SubstanceNames, parts_seen: dict[tuple[str, float | None, str], Any]
) -> Product:
    """A product row with its substances resolved; an unknown substance stops start-up.

    ``parts_seen`` memoizes parts across rows: a clinical drug and its branded versions state the
    same substances and strengths.
    """
    # products.csv has thousands of rows: read its cells directly (same checks as Row.text)
    cells = row.values
    rxcui = cells["rxcui"].strip()
    if rxcui and not rxcui.isdigit():
        raise ValueError(f"rxcui must be digits, not {rxcui!r}")
    quantity_text = cells["quantity"].strip()
    quantity, unit = None, ""
    if quantity_text:
        value, _, unit = quantity_text.partition(" ")
        try:
            quantity = float(value)
        except ValueError:
            raise ValueError(f"quantity {quantity_text!r} must be 'N ML'") from None
    parts = []
    for item in split_items(cells["ingredients"]):
        key = (item, quantity, unit)
        part = parts_seen.get(key)
        if part is None:
            component = _component(item)
            part = part_for(substances, component, quantity=quantity, quantity_unit=unit)
            if part is None:
                raise ValueError(f"unknown ingredient {component.substance!r}")
            parts_seen[key] = part
        parts.append(part)
    if not parts:
        raise ValueError("a product needs at least one ingredient")
    route = cells["route"].strip()
    if route and route not in ROUTES:
        raise ValueError(f"route must be empty or one of {', '.join(ROUTES)}, not {route!r}")
    release_hours = row.number("release_hours") if cells["release_hours"] else None
    dose_form = row.text("dose_form")
    return Product(  # positional, in the field order: thousands of rows
        rxcui,
        row.text("name"),
        tuple(parts),
        dose_form,
        route,
        (release_hours is not None and route != "transdermal") or "Extended Release" in dose_form,
        release_hours,
        split_items(cells["brands"]),
        split_items(cells["extra_names"]),
        split_items(cells["needs_confirmation"]),
        row.text("source"),
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
        requires_any=_nodes(row, "requires_any"),
        states_presence_of=_nodes(row, "states_presence_of"),
    )


def _nodes(row: Row, column: str) -> tuple[str, ...]:
    nodes = row.items(column)
    for node in nodes:
        node_kind(node)
    return nodes


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
    "salts": (
        "salts.csv",
        (
            "salt",
            "ingredient",
            "stated_mg",
            "counted_mg",
            "counted_as",
            "needs_confirmation",
            "source",
        ),
        _salt,
    ),
    "salt_words": ("salt_words.csv", ("word", "source"), lambda row: row.text("word")),
    "dose_forms": ("dose_forms.csv", ("dose_form", "route", "source"), _dose_form),
    "products": (
        "products.csv",
        (
            "rxcui",
            "name",
            "ingredients",
            "quantity",
            "release_hours",
            "dose_form",
            "route",
            "brands",
            "extra_names",
            "needs_confirmation",
            "source",
        ),
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
            "requires_any",
            "states_presence_of",
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


def load_interaction_data(directory: Path = DATA_DIR, *, snapshot: bool = True) -> InteractionData:
    """Read and cross-check every interaction data file.

    Raises DataError naming the file and row of the first problem found. With ``snapshot``,
    the tables come from the directory's snapshot when it was made from exactly these files by
    this code (regimenguard.interactions.snapshot): the same tables, without parsing each row.
    """
    files = data_files(directory)
    if snapshot:
        saved = read_snapshot(directory, files)
        if saved is not None:
            return _interaction_data(*saved)
    return _interaction_data(*_parse_tables(directory, files))


def write_interaction_snapshot(directory: Path = DATA_DIR) -> Path:
    """Parse the directory's files (refusing bad rows as start-up does) and save the tables."""
    files = data_files(directory)
    parsed = _parse_tables(directory, files)
    _interaction_data(*parsed)  # everything start-up checks, checked before anything is saved
    return write_snapshot(directory, files, parsed)


def data_files(directory: Path) -> list[Path]:
    """The files the interaction data is read from: the manifest and every table."""
    return [directory / "manifest.toml", *(directory / name for name, _, _ in _TABLES.values())]


def _parse_tables(
    directory: Path, files: list[Path]
) -> tuple[str, str, dict[str, tuple[Any, ...]]]:
    """(version, content hash, table name -> records) from the CSV files, every row checked."""
    manifest = read_manifest(directory)
    located = {
        key: load_table(directory / filename, columns, parse)
        for key, (filename, columns, parse) in _TABLES.items()
        if key != "products"
    }
    substances = substance_names(
        *(tuple(record for _, record in located[key]) for key in _SUBSTANCE_TABLES)
    )
    filename, columns, parse = _TABLES["products"]
    parts_seen: dict[tuple[str, float | None, str], Any] = {}
    located["products"] = load_table(
        directory / filename, columns, lambda row: parse(row, substances, parts_seen)
    )
    _check_references(located)
    tables = {key: tuple(record for _, record in rows) for key, rows in located.items()}
    return str(manifest["version"]), content_hash(files), tables


def _interaction_data(
    version: str, data_hash: str, tables: dict[str, tuple[Any, ...]]
) -> InteractionData:
    return InteractionData(
        version=version,
        content_hash=data_hash,
        substances=substance_names(*(tables[key] for key in _SUBSTANCE_TABLES)),
        **tables,  # type: ignore[arg-type]
    )


_SUBSTANCE_TABLES = ("ingredients", "aliases", "salts", "salt_words")


def _check_class_members(located: dict[str, Any]) -> None:
    """Every class must have an ingredient, directly or through a class below it."""
    parents = {c.class_id: c.parents for _, c in located["classes"]}
    populated: set[str] = set()
    pending = [c for _, ingredient in located["ingredients"] for c in ingredient.classes]
    pending += [row.class_id for _, row in located["conditional_classes"]]
    while pending:
        class_id = pending.pop()
        if class_id not in populated:
            populated.add(class_id)
            pending.extend(parents.get(class_id, ()))
    for line, drug_class in located["classes"]:
        if drug_class.class_id not in populated:
            raise _fail("classes", line, f"class {drug_class.class_id!r} has no ingredient")


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
    salts = _unique("salts", located["salts"], lambda s: s.salt)
    _unique("dose_forms", located["dose_forms"], lambda d: d.dose_form)

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
    _check_class_members(located)
    for line, salt in located["salts"]:
        if salt.ingredient not in ingredients:
            raise _fail("salts", line, f"unknown ingredient {salt.ingredient!r}")
        if salt.salt.casefold() in {name.casefold() for name in ingredients}:
            raise _fail("salts", line, f"salt {salt.salt!r} is already an ingredient")
    names = {name.casefold() for name in (*ingredients, *products, *salts)}
    for line, alias in located["aliases"]:
        key = alias.alias.casefold()
        if alias.ingredient not in ingredients and alias.ingredient not in salts:
            raise _fail(
                "aliases", line, f"unknown ingredient {alias.ingredient!r} (nor a salt of one)"
            )
        if key in names:
            raise _fail("aliases", line, f"alias {alias.alias!r} is already a name")
        names.add(key)
    for line, conditional in located["conditional_classes"]:
        if conditional.ingredient not in ingredients or conditional.class_id not in classes:
            raise _fail("conditional_classes", line, "unknown ingredient or class")
    for line, product in located["products"]:
        if product.rxcui and product.rxcui in rxcuis:
            raise _fail("products", line, f"rxcui {product.rxcui} is already used")
        rxcuis.add(product.rxcui)
        for name in product.extra_names:
            if name.casefold() in names:
                raise _fail("products", line, f"extra name {name!r} is already a name")
            names.add(name.casefold())
    for line, edge in located["edges"]:
        for node in (edge.node_a, edge.node_b, *edge.requires_any, *edge.states_presence_of):
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
    "ConditionalClass",
    "DataError",
    "DoseForm",
    "DrugClass",
    "Ingredient",
    "InteractionData",
    "InteractionEdge",
    "Product",
    "RuleSpec",
    "Salt",
    "SerotonergicAdvice",
    "load_interaction_data",
    "node_kind",
]
