"""The answer written as wire bytes (server/answer_wire.py) is the field-by-field answer.

``response_from_result`` parses the bytes ``answer_bytes`` writes; ``fields_response`` sets each
field through upb. The two must be the same message, byte for byte once serialized: for the
bench's regimens (orders met for the first time, the second, and with their bytes kept), for
texts no table holds, for texts that are not ASCII, and for a text too long for the table of
lengths. The start-up tables must hold what encoding their texts one by one gives.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from bench.bulkgen import Generator
from bench.regimens import AS_OF_DATE, sized_request, unary_pool, unique_orders
from regimenguard.interactions.index import build_index
from regimenguard.interactions.knowledge_base import load_interaction_data
from regimenguard.regimen.headlines import (
    CAPITALIZED_DRUGS,
    COMPILED,
    DRUGS,
    HEADLINES,
    STATIC,
    VALUES,
    HeadlineWriter,
    compile_template,
)
from regimenguard.regimen.model import (
    CheckResult,
    Finding,
    FiredInteraction,
    OrderAction,
    RegimenSummary,
    Severity,
)
from regimenguard.regimen.service import RegimenService
from regimenguard.regimen.validation import RequestInvalid
from regimenguard.server import answer_wire
from regimenguard.server.answer_wire import (
    LENGTHS,
    NO_TABLES,
    TABLED,
    USED_ONCE,
    WireTables,
    answer_bytes,
    resolved_order_fields,
    text_field,
    varint,
)
from regimenguard.server.convert import (
    ACTION_TO_PROTO,
    SEVERITY_TO_PROTO,
    _add_resolved_order,
    decode_request,
    fields_response,
    response_from_result,
)
from regimenguard.v1 import regimen_checker_pb2 as pb

# what the servicer compiles at start-up from its knowledge base
TABLES = WireTables.compile(load_interaction_data())


@pytest.fixture(scope="module")
def service() -> RegimenService:
    return RegimenService.from_config()


def _result(service: RegimenService, message: pb.CheckRegimenRequest) -> CheckResult | None:
    domain = decode_request(
        message, service.knowledge, today=AS_OF_DATE, records=service.order_records
    )
    if isinstance(domain, RequestInvalid):
        return None
    try:
        return service.check(domain)
    except RequestInvalid:
        return None


def _assert_same(result: CheckResult) -> bytes:
    expected = fields_response(result)
    got = response_from_result(result, tables=TABLES)
    assert got == expected
    wire = got.SerializeToString(deterministic=True)
    assert wire == expected.SerializeToString(deterministic=True)
    assert response_from_result(result) == expected  # without tables: each text encoded when met
    batch = pb.CheckRegimenBatchResponse()
    assert response_from_result(result, batch.responses.add(), TABLES) == expected
    return wire


def _requests() -> list[pb.CheckRegimenRequest]:
    repeated = [m for size in (1, 5, 50) for m in list(unary_pool(256, size))[:40]]
    unique = [
        unique_orders(sized_request(size, request_id=f"u{size}"), i)
        for size in (1, 5, 20)
        for i in range(10)
    ]
    generated = [
        pb.CheckRegimenRequest.FromString(Generator(unique_orders=kind).regimen(i))
        for kind in (False, True)
        for i in range(300)
    ]
    return [*repeated, *unique, *generated]


def _kept(result: CheckResult) -> int:
    """How many of the answer's orders have their bytes kept with their record."""
    return sum(
        order.record is not None and order.record.rendered.__class__ is bytes
        for order in result.summary.orders
    )


def test_the_wire_answer_is_the_field_by_field_answer(service: RegimenService) -> None:
    kept = written = 0
    for message in _requests():
        # the first use of an order, the second (its bytes kept then) and the third (kept bytes)
        for _ in range(3):
            result = _result(service, message)
            if result is None:
                continue
            found = _kept(result)
            kept += found
            written += len(result.summary.orders) - found
            _assert_same(result)
    # both paths taken: orders written in the answer and orders whose bytes were kept
    assert kept > 500 and written > 500


def test_an_orders_written_fields_are_upbs(service: RegimenService) -> None:
    """``resolved_order_fields`` writes the bytes upb serializes for the field-by-field
    ResolvedOrder without its index: for every order of the bench's regimens, and for
    amounts and texts at their edges (None, 0.0, -0.0, NaN, empty texts, an empty class,
    unresolved names, each action)."""
    orders = []
    for message in _requests():
        result = _result(service, message)
        if result is not None:
            orders.extend(result.summary.orders)
    assert len(orders) > 1_000
    first = next(order for order in orders if order.ingredients)
    ingredient = first.ingredients[0]
    for dose, day in ((None, None), (0.0, -0.0), (-0.0, 1e-300), (math.nan, math.inf), (-5.5, 3)):
        for classes in ((), ("",), ("class:a", "é")):
            changed = dataclasses.replace(
                ingredient, mg_per_dose=dose, mg_per_day=day, classes=classes, rxcui=""
            )
            for action in OrderAction:
                order = dataclasses.replace(first.order, action=action, drug="")
                orders.append(
                    dataclasses.replace(
                        first,
                        order=order,
                        product="",
                        ingredients=(changed, ingredient),
                        unresolved_names=("x",),
                    )
                )
    for order in orders:
        expected = pb.CheckRegimenResponse()
        _add_resolved_order(expected.summary.orders.add, dataclasses.replace(order, record=None))
        message = expected.summary.orders[0]
        message.ClearField("medication_index")
        expected_bytes = message.SerializeToString()
        assert resolved_order_fields(order, TABLES) == expected_bytes, order
        assert resolved_order_fields(order, NO_TABLES) == expected_bytes, order


def test_an_order_keeps_its_bytes_from_its_second_use_on(service: RegimenService) -> None:
    message = unique_orders(sized_request(5, request_id="kept"), 123_456)
    uses = []
    for _ in range(3):
        result = _result(service, message)
        assert result is not None
        response_from_result(result, tables=TABLES)
        uses.append([order.record.rendered for order in result.summary.orders])  # type: ignore[union-attr]
    assert all(rendered == USED_ONCE for rendered in uses[0])  # a bulk run keeps nothing
    assert all(rendered.__class__ is bytes for rendered in uses[1])
    assert uses[2] == uses[1]


def test_texts_no_table_holds_are_encoded_when_met(service: RegimenService) -> None:
    seen = 0
    for message in list(unary_pool(256, 5))[:20]:
        for _ in range(3):
            result = _result(service, message)
            assert result is not None
            headlines = HeadlineWriter(result.summary).headlines(result.findings)
            assert answer_bytes(result, headlines, NO_TABLES) == answer_bytes(
                result, headlines, TABLES
            )
            seen += len(result.findings) + len(result.summary.interactions)
    assert seen


def test_unknown_drugs_not_ascii_and_overlong_texts(service: RegimenService) -> None:
    message = pb.CheckRegimenRequest(
        request_id="réq-1",
        as_of="2026-11-23",
        medications=[
            pb.MedicationOrder(drug="ibuprofen", dose_mg=600, doses_per_day=3),
            pb.MedicationOrder(drug="not-a-drug-µ", dose_mg=5, doses_per_day=1),
        ],
    )
    for _ in range(3):
        result = _result(service, message)
        assert result is not None
        assert any(f.rule_id == "UNKNOWN_DRUG" for f in result.findings)
        _assert_same(result)
    finding = result.findings[0]
    long_text = "naïve " * 4000  # 28,000 bytes: past the table of lengths
    just_past = "x" * TABLED  # the shortest text past it
    for changed in (
        finding._replace(message=long_text),
        finding._replace(message=just_past),
        finding._replace(message=just_past[:-1]),
        finding._replace(recommendation="«Ré» " + finding.recommendation),
        finding._replace(guideline_section="A site's own section", ncpdp_reason_code="ZZ"),
        finding._replace(drugs=("x-drug", "y-drug", "z-drug"), acknowledged=True),
        finding._replace(rule_id="A_RULE_OF_NO_TABLE", severity=Severity.INFO),
        # drug lists of each length, names prepared or not, an empty name (a repeated field's
        # item all the same)
        finding._replace(drugs=()),
        finding._replace(drugs=("",)),
        finding._replace(drugs=("ibuprofen", "")),
        finding._replace(drugs=("x-drug", "naproxen")),
        finding._replace(drugs=("ibuprofen", "naproxen")),
        finding._replace(drugs=("ibuprofen", "naproxen", "duloxetine", "tramadol")),
        finding._replace(drugs=("ibuprofen", "naproxen", "µ-drug")),
    ):
        other = CheckResult(
            result.request_id,
            result.verdict,
            (changed, *result.findings[1:]),
            result.summary,
            result.knowledge_base_version,
        )
        _assert_same(other)
    with pytest.raises(IndexError):
        answer_bytes(_with_message(result, long_text), ["h"] * len(result.findings), TABLES)
    fired = FiredInteraction("drug:a", "class:b", "A_RULE", Severity.WARNING, ("x-drug",))
    for interactions, names in (
        ((fired, fired._replace(drugs=("", "ibuprofen", "y-drug"))), ("", "méthadone")),
        ((fired._replace(drugs=()), fired._replace(drugs=("",))), ("",)),
    ):
        summary = dataclasses.replace(
            result.summary,
            interactions=interactions,
            oud_treatment_drugs=names,
            mme_uncounted_drugs=names,
        )
        _assert_same(
            CheckResult(
                result.request_id,
                result.verdict,
                result.findings,
                summary,
                result.knowledge_base_version,
            )
        )


def _with_message(result: CheckResult, text: str) -> CheckResult:
    first: Finding = result.findings[0]._replace(message=text)
    return CheckResult(
        result.request_id,
        result.verdict,
        (first, *result.findings[1:]),
        result.summary,
        result.knowledge_base_version,
    )


def test_the_start_up_tables_hold_each_text_encoded() -> None:
    data = load_interaction_data()
    assert WireTables.compile(data) == TABLES
    for spec in data.rules:
        fields = TABLES.rule_severities[spec.rule_id]
        for severity in Severity:
            expected = pb.Finding(rule_id=spec.rule_id, severity=SEVERITY_TO_PROTO[severity])
            assert fields[severity] == expected.SerializeToString()
        section = pb.Finding(guideline_section=spec.guideline_section).SerializeToString()
        assert TABLES.sections[spec.guideline_section] == section
        code = pb.Finding(ncpdp_reason_code=spec.ncpdp_reason_code).SerializeToString()
        assert TABLES.codes[spec.ncpdp_reason_code] == code
    for edge in data.edges:
        fired = pb.FiredInteraction(
            node_a=edge.node_a,
            node_b=edge.node_b,
            rule_id=edge.rule_id,
            severity=SEVERITY_TO_PROTO[edge.severity],
        )
        key = (edge.node_a, edge.node_b, edge.rule_id, edge.severity)
        assert TABLES.interactions[key] == fired.SerializeToString()
    for ingredient in data.ingredients:
        name = ingredient.name
        assert TABLES.finding_drugs[name] == pb.Finding(drugs=[name]).SerializeToString()
        assert (
            TABLES.interaction_drugs[name] == pb.FiredInteraction(drugs=[name]).SerializeToString()
        )
    assert TABLES.sections[""] == b"" and TABLES.codes[""] == b""
    index = build_index(data)[1]
    assert WireTables.compile(data, index) == TABLES
    for (name, classes), (head, tail, rxcui) in TABLES.ingredients.items():
        assert rxcui == index.rxcui.get(name, "")
        assert classes in (index.systemic_classes.get(name), index.topical_classes.get(name))
        expected = pb.ResolvedIngredient(name=name, rxcui=rxcui, classes=classes)
        assert head + tail == expected.SerializeToString()
        assert head == pb.ResolvedIngredient(name=name, rxcui=rxcui).SerializeToString()
    assert len(TABLES.ingredients) >= len(data.ingredients)
    for product in data.products:
        expected = pb.ResolvedOrder(product=product.product).SerializeToString()
        assert TABLES.products[product.product] == expected


@pytest.mark.parametrize(
    "value", [0, 1, 127, 128, 300, 4_095, 4_096, 16_383, 16_384, 2**31, 2**63 - 1]
)
def test_varints_and_text_fields(value: int) -> None:
    assert pb.FiredInteraction(severity=1).SerializeToString() == b"\x20" + varint(1)
    encoded = pb.ResolvedOrder(medication_index=min(value, 2**31 - 1)).SerializeToString()
    if 0 < value < 2**31:
        assert encoded == b"\x08" + varint(value)
    if value < len(LENGTHS):
        assert LENGTHS[value] == varint(value)
    text = "é" * min(value, 20_000)
    assert text_field(b"\x22", text) == pb.Finding(message=text).SerializeToString()


def test_the_wire_tags_are_the_proto_field_numbers() -> None:
    def tag(message: type, name: str) -> bytes:
        field = message.DESCRIPTOR.fields_by_name[name]
        wire = 2 if field.type in (field.TYPE_STRING, field.TYPE_MESSAGE) else 0
        if field.type == field.TYPE_DOUBLE:
            wire = 1
        return varint(field.number << 3 | wire)

    expected = {
        "RESPONSE_REQUEST_ID": (pb.CheckRegimenResponse, "request_id"),
        "RESPONSE_VERDICT": (pb.CheckRegimenResponse, "verdict"),
        "RESPONSE_FINDING": (pb.CheckRegimenResponse, "findings"),
        "RESPONSE_SUMMARY": (pb.CheckRegimenResponse, "summary"),
        "RESPONSE_KB_VERSION": (pb.CheckRegimenResponse, "knowledge_base_version"),
        "FINDING_RULE_ID": (pb.Finding, "rule_id"),
        "FINDING_SEVERITY": (pb.Finding, "severity"),
        "FINDING_DRUG": (pb.Finding, "drugs"),
        "FINDING_MESSAGE": (pb.Finding, "message"),
        "FINDING_RECOMMENDATION": (pb.Finding, "recommendation"),
        "FINDING_SECTION": (pb.Finding, "guideline_section"),
        "FINDING_ACKNOWLEDGED": (pb.Finding, "acknowledged"),
        "FINDING_NCPDP": (pb.Finding, "ncpdp_reason_code"),
        "FINDING_HEADLINE": (pb.Finding, "headline"),
        "SUMMARY_ACETAMINOPHEN": (pb.RegimenSummary, "acetaminophen_mg_per_day"),
        "SUMMARY_ACETAMINOPHEN_LIMIT": (pb.RegimenSummary, "acetaminophen_limit_mg_per_day"),
        "SUMMARY_MME": (pb.RegimenSummary, "morphine_mg_equivalents_per_day"),
        "SUMMARY_SEROTONERGIC": (pb.RegimenSummary, "serotonergic_agents"),
        "SUMMARY_ORDER": (pb.RegimenSummary, "orders"),
        "SUMMARY_INTERACTION": (pb.RegimenSummary, "interactions"),
        "SUMMARY_OUD_DRUG": (pb.RegimenSummary, "oud_treatment_drugs"),
        "SUMMARY_MME_UNCOUNTED": (pb.RegimenSummary, "mme_uncounted_drugs"),
        "ORDER_INDEX": (pb.ResolvedOrder, "medication_index"),
        "ORDER_DRUG": (pb.ResolvedOrder, "drug"),
        "ORDER_PRODUCT": (pb.ResolvedOrder, "product"),
        "ORDER_INGREDIENT": (pb.ResolvedOrder, "ingredients"),
        "ORDER_RESOLVED": (pb.ResolvedOrder, "resolved"),
        "ORDER_ACTION": (pb.ResolvedOrder, "action"),
        "INGREDIENT_NAME": (pb.ResolvedIngredient, "name"),
        "INGREDIENT_RXCUI": (pb.ResolvedIngredient, "rxcui"),
        "INGREDIENT_MG_PER_DOSE": (pb.ResolvedIngredient, "mg_per_dose"),
        "INGREDIENT_MG_PER_DAY": (pb.ResolvedIngredient, "mg_per_day"),
        "INGREDIENT_CLASS": (pb.ResolvedIngredient, "classes"),
        "INTERACTION_NODE_A": (pb.FiredInteraction, "node_a"),
        "INTERACTION_NODE_B": (pb.FiredInteraction, "node_b"),
        "INTERACTION_RULE_ID": (pb.FiredInteraction, "rule_id"),
        "INTERACTION_SEVERITY": (pb.FiredInteraction, "severity"),
        "INTERACTION_DRUG": (pb.FiredInteraction, "drugs"),
    }
    for constant, (message, name) in expected.items():
        assert getattr(answer_wire, constant) == tag(message, name), constant
    assert answer_wire.ACTION_NUMBER == ACTION_TO_PROTO


def test_an_answers_headlines_are_each_findings_headline_in_order() -> None:
    summary = RegimenSummary(4_250.0, 3_000.0, 92.5, 2, ())
    drug_lists = [(), ("naproxen",), ("duloxetine", "tramadol"), ("a", "b", "c")]
    findings = [
        Finding(rule_id, Severity.WARNING, drugs, "m", "r", "s", "")
        for rule_id in HEADLINES
        for drugs in drug_lists
    ]
    writer = HeadlineWriter(summary)
    one_by_one = [HeadlineWriter(summary).headline(finding) for finding in findings]
    assert writer.headlines(findings) == one_by_one
    assert writer.headlines(list(reversed(findings))) == list(reversed(one_by_one))
    assert {COMPILED[rule][1] for rule in HEADLINES} == {STATIC, DRUGS, CAPITALIZED_DRUGS, VALUES}
    assert compile_template("Seizure risk: {drugs}") == ("Seizure risk: %s", DRUGS, None)
    assert compile_template("{Drugs}: 5% off") == ("%s: 5%% off", CAPITALIZED_DRUGS, None)
    assert compile_template("No placeholder, 5%") == ("No placeholder, 5%", STATIC, None)
    assert compile_template("{drugs} {Drugs}")[1] == VALUES


def test_the_tables_of_a_loaded_knowledge_base_are_those_of_its_data(knowledge) -> None:  # type: ignore[no-untyped-def]
    # the servicer and the local mode make them from the knowledge's own index (no second one)
    assert WireTables.of_knowledge(knowledge) == TABLES
