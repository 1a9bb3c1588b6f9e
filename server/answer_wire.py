"""A check's answer as protobuf wire bytes, parsed into the response message in one call.

From Python, each of upb's field setters costs about a thousand instructions and a repeated
field's ``add`` more; parsing costs about ten per byte. So the findings and the summary are
written here as the bytes of their fields (``regimenguard.v1`` Finding, RegimenSummary,
ResolvedOrder, FiredInteraction; field numbers from the proto) and given to upb in one
``MergeFromString``: the message is then the one the field-by-field encoding makes
(``convert.fields_response``), and serializes to the same bytes (upb writes a message's fields in
field-number order, whatever order they were parsed in).

What no request changes is encoded at start-up (``WireTables``, compiled from the interaction
data): each rule's id with each severity, the guideline sections, NCPDP codes and
recommendations of the catalogue and its edges, the drug names, each edge's node_a, node_b,
rule_id and severity, each ingredient's name, RxCUI and classes for each route, the product
names. A text not in the tables is encoded when met. An order is the bytes kept with its record
(``OrderRecord.rendered``, from the record's second use on), else written here
(``resolved_order_fields``: about a third of the instructions of upb's setters for it). An
answer with a text or message of 4,096 bytes or more is not encoded here (IndexError).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from regimenguard.interactions.index import InteractionIndex, build_index
from regimenguard.interactions.knowledge_base import InteractionData
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import CheckResult, OrderAction, ResolvedOrder, Severity, Verdict

# field tags (field number << 3 | wire type; 2: length-delimited, 0: varint, 1: 64-bit)
RESPONSE_REQUEST_ID = b"\x0a"
RESPONSE_VERDICT = b"\x10"
RESPONSE_FINDING = b"\x1a"
RESPONSE_SUMMARY = b"\x22"
RESPONSE_KB_VERSION = b"\x2a"
FINDING_RULE_ID = b"\x0a"
FINDING_SEVERITY = b"\x10"
FINDING_DRUG = b"\x1a"
FINDING_MESSAGE = b"\x22"
FINDING_RECOMMENDATION = b"\x2a"
FINDING_SECTION = b"\x32"
FINDING_ACKNOWLEDGED = b"\x38"
FINDING_NCPDP = b"\x42"
FINDING_HEADLINE = b"\x4a"
SUMMARY_ACETAMINOPHEN = b"\x09"
SUMMARY_ACETAMINOPHEN_LIMIT = b"\x11"
SUMMARY_MME = b"\x19"
SUMMARY_SEROTONERGIC = b"\x20"
SUMMARY_ORDER = b"\x2a"
SUMMARY_INTERACTION = b"\x32"
SUMMARY_OUD_DRUG = b"\x3a"
SUMMARY_MME_UNCOUNTED = b"\x42"
ORDER_INDEX = b"\x08"
ORDER_DRUG = b"\x12"
ORDER_PRODUCT = b"\x1a"
ORDER_INGREDIENT = b"\x22"
ORDER_RESOLVED = b"\x28"
ORDER_ACTION = b"\x30"
INGREDIENT_NAME = b"\x0a"
INGREDIENT_RXCUI = b"\x12"
INGREDIENT_MG_PER_DOSE = b"\x19"
INGREDIENT_MG_PER_DAY = b"\x21"
INGREDIENT_CLASS = b"\x2a"
INTERACTION_NODE_A = b"\x0a"
INTERACTION_NODE_B = b"\x12"
INTERACTION_RULE_ID = b"\x1a"
INTERACTION_SEVERITY = b"\x20"
INTERACTION_DRUG = b"\x2a"
# the enums' numbers in regimenguard.v1 (Severity, Verdict)
SEVERITY_NUMBER = {Severity.INFO: 1, Severity.WARNING: 2, Severity.CRITICAL: 3}
VERDICT_NUMBER = {Verdict.ACCEPT: 1, Verdict.REVIEW: 2, Verdict.REJECT: 3}
ACTION_NUMBER = {
    OrderAction.CONTINUE: 1,
    OrderAction.START: 2,
    OrderAction.CHANGE_DOSE: 3,
    OrderAction.STOP: 4,
}
# an order record's first use: its bytes are kept from the second on (``order_bytes``)
USED_ONCE = "used once"


def varint(value: int) -> bytes:
    """``value`` (>= 0) as a protobuf varint."""
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# the varints of every length below 4,096 (two bytes at most): a finding, a text or an order
# longer than that is rare, and its answer is written field by field (IndexError); seven tables
# of 4,096 short bytes objects take about 2 MB of every worker's memory (16,384 would take 6 MB)
TABLED = 1 << 12
LENGTHS = tuple(varint(n) for n in range(TABLED))
_DOUBLE = struct.Struct("<d").pack
_ACKNOWLEDGED = (b"", FINDING_ACKNOWLEDGED + b"\x01")


def tagged_lengths(tag: bytes) -> tuple[bytes, ...]:
    """A length-delimited field's tag and length, by the length (below ``TABLED``)."""
    return tuple(tag + length for length in LENGTHS)


_FINDINGS = tagged_lengths(RESPONSE_FINDING)
_MESSAGES = tagged_lengths(FINDING_MESSAGE)
_RECOMMENDATIONS = tagged_lengths(FINDING_RECOMMENDATION)
_HEADLINES = tagged_lengths(FINDING_HEADLINE)
_ORDERS = tagged_lengths(SUMMARY_ORDER)
_INTERACTIONS = tagged_lengths(SUMMARY_INTERACTION)
_ORDER_DRUGS = tagged_lengths(ORDER_DRUG)
_INGREDIENTS = tagged_lengths(ORDER_INGREDIENT)
# an order's last fields, by its action, indexed by whether it resolved (resolved, action)
_ACTIONS = {
    action: (ORDER_ACTION + varint(n), ORDER_RESOLVED + b"\x01" + ORDER_ACTION + varint(n))
    for action, n in ACTION_NUMBER.items()
}
# an ingredient's amounts: each a tag byte and a little-endian double
_MG_PER_DOSE, _MG_PER_DAY = INGREDIENT_MG_PER_DOSE[0], INGREDIENT_MG_PER_DAY[0]
_AMOUNT = struct.Struct("<Bd").pack
_TWO_AMOUNTS = struct.Struct("<BdBd").pack
_VERDICTS = {verdict: RESPONSE_VERDICT + varint(n) for verdict, n in VERDICT_NUMBER.items()}


def text_field(tag: bytes, text: str) -> bytes:
    """A string field: its tag, its length and its UTF-8 (nothing for an empty text, which a
    proto3 message does not write)."""
    return _repeated_text(tag, text) if text else b""


def _repeated_text(tag: bytes, text: str) -> bytes:
    """An item of a repeated string field (an empty text is an item too)."""
    data = text.encode()
    size = len(data)
    return b"".join((tag, LENGTHS[size] if size < TABLED else varint(size), data))


def _texts(tag: bytes, texts: Iterable[str]) -> dict[str, bytes]:
    return {text: text_field(tag, text) for text in texts}


def rule_severity_fields(rule_id: str) -> tuple[bytes, ...]:
    """A finding's rule_id and severity fields, indexed by the severity (1, 2, 3)."""
    rule = text_field(FINDING_RULE_ID, rule_id)
    return (b"", *(rule + FINDING_SEVERITY + varint(SEVERITY_NUMBER[s]) for s in Severity))


def _slow_names(drugs: Iterable[str], prepared: dict[str, bytes]) -> bytes:
    """A finding's drugs fields, a name not prepared encoded when met."""
    return b"".join([prepared.get(name) or _repeated_text(FINDING_DRUG, name) for name in drugs])


def _interaction_fields(node_a: str, node_b: str, rule_id: str, severity: Severity) -> bytes:
    """A fired interaction's node_a, node_b, rule_id and severity fields."""
    return b"".join(
        (
            text_field(INTERACTION_NODE_A, node_a),
            text_field(INTERACTION_NODE_B, node_b),
            text_field(INTERACTION_RULE_ID, rule_id),
            INTERACTION_SEVERITY + varint(SEVERITY_NUMBER[severity]),
        )
    )


def ingredient_fields(name: str, rxcui: str, classes: Sequence[str]) -> tuple[bytes, bytes]:
    """A resolved ingredient's fields before its amounts (name, rxcui) and after them
    (classes: each one, an empty text too, as a repeated field writes it)."""
    tail = b"".join([_repeated_text(INGREDIENT_CLASS, label) for label in classes])
    head = text_field(INGREDIENT_NAME, name) + text_field(INGREDIENT_RXCUI, rxcui)
    return head, tail


def resolved_order_fields(order: ResolvedOrder, tables: WireTables) -> bytes:
    """``order``'s ResolvedOrder fields but its index (field 1), in field-number order, its
    defaults left out: the bytes upb writes for the message ``convert._add_resolved_order``
    makes, without its ``medication_index``. An amount that is None or zero is not written
    (the field-by-field answer sets ``amount or 0.0``, so a -0.0 is not written either).

    Raises IndexError for a text of ``TABLED`` bytes or more (``LENGTHS``)."""
    checked = order.order
    drug = checked.drug.encode()
    fields = [_ORDER_DRUGS[len(drug)], drug] if drug else []
    product = order.product
    if product:
        fields.append(tables.products.get(product) or text_field(ORDER_PRODUCT, product))
    add = fields.append
    known = tables.ingredients.get
    for ingredient in order.ingredients:
        name, classes = ingredient.name, ingredient.classes
        head_tail = known((name, classes))
        if head_tail is None or ingredient.rxcui != head_tail[2]:
            head, tail = ingredient_fields(name, ingredient.rxcui, classes)
        else:
            head, tail, _ = head_tail
        dose, day = ingredient.mg_per_dose, ingredient.mg_per_day
        if dose and day:
            body = head + _TWO_AMOUNTS(_MG_PER_DOSE, dose, _MG_PER_DAY, day) + tail
        elif dose:
            body = head + _AMOUNT(_MG_PER_DOSE, dose) + tail
        elif day:
            body = head + _AMOUNT(_MG_PER_DAY, day) + tail
        else:
            body = head + tail
        add(_INGREDIENTS[len(body)])
        add(body)
    add(_ACTIONS[checked.action][not order.unresolved_names])
    return b"".join(fields)


def order_bytes(order: ResolvedOrder, tables: WireTables) -> bytes:
    """``order``'s ResolvedOrder fields but its index: the bytes kept with its record when it
    has them, else written (``resolved_order_fields``), and kept with the record when it is
    used a second time (a record used once, as every order of a bulk run whose orders are all
    unique, keeps nothing)."""
    record = order.record
    if record is None:
        return resolved_order_fields(order, tables)
    kept = record.rendered
    if kept.__class__ is bytes:
        return kept  # type: ignore[return-value]
    data = resolved_order_fields(order, tables)
    record.rendered = USED_ONCE if kept is None else data
    return data


@dataclass(frozen=True, slots=True)
class WireTables:
    """The fields of an answer that no request changes, encoded (see the module's doc)."""

    # a finding's rule_id and severity fields, by rule id, indexed by the severity (1..3)
    rule_severities: dict[str, tuple[bytes, ...]]
    sections: dict[str, bytes]
    codes: dict[str, bytes]
    recommendations: dict[str, bytes]
    finding_drugs: dict[str, bytes]
    # a fired interaction's node_a, node_b, rule_id and severity, by those four values
    interactions: dict[tuple[str, str, str, Severity], bytes]
    interaction_drugs: dict[str, bytes]
    # a resolved ingredient's fields before and after its amounts, and its RxCUI, by its name
    # and classes (``ingredient_fields``), for each ingredient and route of the index
    ingredients: dict[tuple[str, tuple[str, ...]], tuple[bytes, bytes, str]]
    # a resolved order's product field, by the product's name
    products: dict[str, bytes]

    @classmethod
    def of_knowledge(cls, knowledge: Knowledge) -> WireTables:
        """The tables of a loaded knowledge base, from its data and the index it has built (what
        the servicer and the command line's local mode make at start-up)."""
        return cls.compile(knowledge.data, knowledge.index)

    @classmethod
    def compile(cls, data: InteractionData, index: InteractionIndex | None = None) -> WireTables:
        """The tables of ``data``; ``index``: its index (the knowledge's), else built here
        (for the ingredients' classes by route)."""
        rule_ids = {spec.rule_id for spec in data.rules} | {edge.rule_id for edge in data.edges}
        drugs = {ingredient.name for ingredient in data.ingredients}
        if index is None:
            index = build_index(data)[1]
        return cls(
            rule_severities={rule_id: rule_severity_fields(rule_id) for rule_id in rule_ids},
            sections=_texts(
                FINDING_SECTION,
                {"", *(s.guideline_section for s in data.rules), *(e.section for e in data.edges)},
            ),
            codes=_texts(
                FINDING_NCPDP,
                {
                    "",
                    *(s.ncpdp_reason_code for s in data.rules),
                    *(e.ncpdp_reason_code for e in data.edges),
                },
            ),
            recommendations=_texts(
                FINDING_RECOMMENDATION,
                {
                    *(edge.recommendation for edge in data.edges),
                    *(advice.recommendation for advice in data.serotonergic_advice),
                },
            ),
            finding_drugs=_texts(FINDING_DRUG, drugs),
            interactions={
                (edge.node_a, edge.node_b, edge.rule_id, edge.severity): _interaction_fields(
                    edge.node_a, edge.node_b, edge.rule_id, edge.severity
                )
                for edge in data.edges
            },
            interaction_drugs=_texts(INTERACTION_DRUG, drugs),
            ingredients={
                (name, classes): (
                    *ingredient_fields(name, index.rxcui.get(name, ""), classes),
                    index.rxcui.get(name, ""),
                )
                for by_route in (index.systemic_classes, index.topical_classes)
                for name, classes in by_route.items()
            },
            products=_texts(ORDER_PRODUCT, {product.product for product in data.products}),
        )

    @classmethod
    def empty(cls) -> WireTables:
        """No prepared field: every text encoded when met (the same bytes, more work)."""
        return cls({}, {}, {}, {}, {}, {}, {}, {}, {})


NO_TABLES = WireTables.empty()


def answer_bytes(result: CheckResult, headlines: Sequence[str], tables: WireTables) -> bytes:
    """``result`` as the wire bytes of a ``CheckRegimenResponse``, its findings with
    ``headlines`` (in their order); each order's bytes are its record's, written when it has
    none kept (``order_bytes``).

    Raises IndexError for a text or message of ``TABLED`` bytes or more (``LENGTHS``).
    """
    summary = result.summary
    lengths = LENGTHS
    totals = [
        SUMMARY_ACETAMINOPHEN,
        _DOUBLE(summary.acetaminophen_mg_per_day),
        SUMMARY_ACETAMINOPHEN_LIMIT,
        _DOUBLE(summary.acetaminophen_limit_mg_per_day),
        SUMMARY_MME,
        _DOUBLE(summary.morphine_mg_equivalents_per_day),
        SUMMARY_SEROTONERGIC,
        lengths[summary.serotonergic_agents],
    ]
    add = totals.append
    for order in summary.orders:
        record = order.record
        kept = None if record is None else record.rendered
        if kept.__class__ is not bytes:
            kept = order_bytes(order, tables)
        index = order.index
        if index:  # the kept bytes are the order's without its index (field 1)
            index_field = ORDER_INDEX + lengths[index]
            add(_ORDERS[len(index_field) + len(kept)])  # type: ignore[arg-type]
            add(index_field)
        else:
            add(_ORDERS[len(kept)])  # type: ignore[arg-type]
        add(kept)  # type: ignore[arg-type]
    fired_fields = tables.interactions.get
    interaction_drugs = tables.interaction_drugs.get
    for fired in summary.interactions:
        static = fired_fields(fired[:4]) or _interaction_fields(*fired[:4])
        drugs = fired[4]
        if len(drugs) == 1:
            name = drugs[0]
            body = static + (interaction_drugs(name) or _repeated_text(INTERACTION_DRUG, name))
        else:
            body = b"".join(
                [
                    static,
                    *[interaction_drugs(n) or _repeated_text(INTERACTION_DRUG, n) for n in drugs],
                ]
            )
        add(_INTERACTIONS[len(body)])
        add(body)
    for name in summary.oud_treatment_drugs:
        add(_repeated_text(SUMMARY_OUD_DRUG, name))
    for name in summary.mme_uncounted_drugs:
        add(_repeated_text(SUMMARY_MME_UNCOUNTED, name))
    body = b"".join(totals)
    request_id = result.request_id.encode()
    version = result.knowledge_base_version.encode()
    parts = [
        RESPONSE_REQUEST_ID,
        lengths[len(request_id)],
        request_id,
        _VERDICTS[result.verdict],
        RESPONSE_KB_VERSION,
        lengths[len(version)],
        version,
        RESPONSE_SUMMARY,
        lengths[len(body)] if len(body) < TABLED else varint(len(body)),
        body,
    ]
    append = parts.append
    rule_severities = tables.rule_severities.get
    sections, codes = tables.sections.get, tables.codes.get
    prepared_names = tables.finding_drugs
    finding_drugs = prepared_names.get
    join = b"".join
    for finding, said in zip(result.findings, headlines, strict=True):
        rule_id, severity, drugs, message, recommendation, section, code, acknowledged = finding
        text = message.encode()
        advice = recommendation.encode()
        said = said.encode()  # type: ignore[assignment]
        count = len(drugs)
        if count == 1:
            names = finding_drugs(drugs[0]) or _slow_names(drugs, prepared_names)
        elif count == 2:
            first, second = drugs
            one, two = finding_drugs(first), finding_drugs(second)
            names = one + two if one and two else _slow_names(drugs, prepared_names)
        else:
            try:  # every name prepared: the fields joined in C
                names = join(map(finding_drugs, drugs))  # type: ignore[arg-type]
            except TypeError:  # a name not prepared (None)
                names = _slow_names(drugs, prepared_names)
        body = join(
            (
                (rule_severities(rule_id) or rule_severity_fields(rule_id))[severity],
                names,
                _MESSAGES[len(text)],
                text,
                _RECOMMENDATIONS[len(advice)],
                advice,
                sections(section) or text_field(FINDING_SECTION, section),
                _ACKNOWLEDGED[acknowledged],
                codes(code) or text_field(FINDING_NCPDP, code),
                _HEADLINES[len(said)],
                said,  # type: ignore[misc]
            )
        )
        append(_FINDINGS[len(body)])
        append(body)
    return join(parts)
