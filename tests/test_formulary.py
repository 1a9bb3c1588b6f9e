"""The outpatient formulary (issue 10): random real-world regimens, RxNorm products, names, salts.

Expected findings are computed here from the interaction data itself (class memberships,
edges and their escalation conditions, duplicate-therapy classes), never by asking the engine,
so a resolver or rule that drifts from the data fails.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import re
from collections.abc import Iterator
from pathlib import Path

import grpc
import grpc_testing
import pytest

from regimenguard.interactions.knowledge_base import InteractionData
from regimenguard.interactions.rxnorm_names import parse_rxnorm_name
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import MedicationOrder, Patient, RegimenRequest, Route, Severity
from regimenguard.server.servicer import RegimenCheckerServicer
from regimenguard.v1 import regimen_checker_pb2 as pb
from tests.grpc_helpers import SERVICE, AbortWithStatusServicer, order, request
from tests.rule_helpers import fired, only

REPO = Path(__file__).resolve().parents[1]
TOP_DRUGS = REPO / "tests" / "data" / "top_outpatient_drugs.csv"
NSAIDS = ("naproxen", "ibuprofen", "meloxicam", "celecoxib", "diclofenac", "etodolac")
AS_OF = dt.date(2026, 11, 23)
ADULT = Patient(age_years=45)
REGIMENS = 40


def top_drugs() -> list[str]:
    with TOP_DRUGS.open(newline="", encoding="utf-8") as handle:
        return [row["name"] for row in csv.DictReader(handle)]


# --- expected findings from the data ------------------------------------------------------------


def class_closures(data: InteractionData) -> dict[str, set[str]]:
    """ingredient -> its drug node and every class node above it (systemic route)."""
    parents = {c.class_id: c.parents for c in data.classes}
    closures = {}
    for ingredient in data.ingredients:
        nodes = {f"drug:{ingredient.name}"}
        pending = list(ingredient.classes)
        while pending:
            class_id = pending.pop()
            if f"class:{class_id}" not in nodes:
                nodes.add(f"class:{class_id}")
                pending.extend(parents[class_id])
        closures[ingredient.name] = nodes
    return closures


def expected_rules(knowledge: Knowledge, ingredients: list[str]) -> dict[str, Severity]:
    """Rule id -> the most severe finding the data calls for (adult, no conditions, tiny doses)."""
    data = knowledge.data
    closures = class_closures(data)
    members: dict[str, set[str]] = {}
    for name in ingredients:
        # dose_exemptions.csv: at 1-2 mg/day, doxepin is not counted as a TCA (Beers: > 6 mg/day)
        exempt = {
            f"class:{row.class_id}" for row in knowledge.context.dose_exemptions.get(name, ())
        }
        for node in closures[name] - exempt:
            members.setdefault(node, set()).add(name)
    expected: dict[str, Severity] = {}

    def expect(rule_id: str, severity: Severity) -> None:
        expected[rule_id] = max(severity, expected.get(rule_id, severity))

    for edge in data.edges:
        side_a, side_b = members.get(edge.node_a, set()), members.get(edge.node_b, set())
        if not side_a or not side_b or not any(a != b for a in side_a for b in side_b):
            continue  # conditions never hold for this patient; one drug alone is no interaction
        if edge.requires_any and not any(
            members.get(node, set()) - side_a - side_b for node in edge.requires_any
        ):
            continue
        expect(edge.rule_id, edge.severity)
    for drug_class in data.classes:
        if (
            drug_class.duplicate_severity
            and len(members.get(f"class:{drug_class.class_id}", ())) >= 2
        ):
            expect("DUPLICATE_THERAPY", drug_class.duplicate_severity)
    serotonergic = len(members.get("class:serotonergic", ()))
    if serotonergic >= 2:
        expect(
            "SEROTONERGIC_COMBINATION", Severity.CRITICAL if serotonergic >= 3 else Severity.WARNING
        )
    opioids = members.get("class:opioid", set())
    for opioid in opioids:  # oral orders: an opioid the CDC table does not convert orally
        no_factor = knowledge.dosing.mme.factor(opioid, transdermal=False) is None
        if no_factor and not knowledge.context.form(opioid, "oral", False).mme_not_applicable:
            expect("MME_INCOMPLETE", Severity.WARNING)
    if (
        opioids
        and members.get("class:benzodiazepine")
        and not members.get("class:opioid_overdose_reversal")
    ):
        expect("NALOXONE_NOT_PRESCRIBED", Severity.WARNING)  # CDC 2022 recommendation 8
    return expected


def random_regimens() -> Iterator[tuple[int, list[str]]]:
    drugs = top_drugs()
    for seed in range(REGIMENS):
        nsaid = NSAIDS[seed % len(NSAIDS)]
        chosen = random.Random(seed).sample([name for name in drugs if name != nsaid], 20)
        yield seed, [*chosen, nsaid]


@pytest.mark.parametrize(("seed", "drugs"), list(random_regimens()), ids=lambda v: str(v)[:12])
def test_random_regimen_of_20_top_drugs_plus_an_nsaid(
    check, knowledge: Knowledge, seed, drugs
) -> None:
    """No UNKNOWN_DRUG, and exactly the rules (at their severities) the data's interactions call for.

    Co-medications are continued for their own indication at 1 mg once daily, so dose, course
    and appropriateness rules stay out of it (the doses are below every dose exemption's
    threshold too); the NSAID is the back-pain order.
    """
    orders = [
        MedicationOrder(name, 1.0, doses_per_day=1, indication="co-medication")
        for name in drugs[:-1]
    ]
    orders.append(MedicationOrder(drugs[-1], 1.0, doses_per_day=2))
    result = check(*orders, patient=ADULT)
    resolved = sorted({i.name for o in result.summary.orders for i in o.ingredients})
    assert resolved == sorted(set(drugs)), seed
    actual: dict[str, Severity] = {}
    for finding in result.findings:
        actual[finding.rule_id] = max(
            finding.severity, actual.get(finding.rule_id, finding.severity)
        )
    assert "UNKNOWN_DRUG" not in actual
    assert actual == expected_rules(knowledge, sorted(set(drugs))), (seed, drugs)


def test_top_list_has_300_drugs_all_known(knowledge: Knowledge) -> None:
    drugs = top_drugs()
    assert len(drugs) >= 300 and len(set(drugs)) == len(drugs)
    assert [name for name in drugs if knowledge.resolver.resolve(name) is None] == []


def test_the_random_regimen_test_can_see_interactions(knowledge: Knowledge) -> None:
    """The expected-set computation is not vacuous: it finds the triple whammy and duplicates."""
    expected = expected_rules(knowledge, ["naproxen", "lisinopril", "furosemide", "ibuprofen"])
    assert expected == {
        "NSAID_DRUG_INTERACTION": Severity.WARNING,
        "DUPLICATE_THERAPY": Severity.CRITICAL,
    }


# --- the shared RxNorm reference ---------------------------------------------------------------


def reference_dir() -> Path | None:
    candidates = [
        os.environ.get("REGIMENGUARD_SHARED", ""),
        REPO.parent / "shared",
        REPO.parents[1] / "shared",
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "reference" / "rxnorm").is_dir():
            return Path(candidate) / "reference" / "rxnorm"
    return None


def reference_rows(name: str) -> list[dict[str, str]]:
    directory = reference_dir()
    if directory is None:
        pytest.skip("the shared RxNorm reference (../shared/reference/rxnorm) is not present")
    with (directory / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


_QUANTITY_ML = re.compile(r"^(\d+(?:\.\d+)?) ML ")


def test_every_reference_opioid_ingredient_resolves_with_its_strength(knowledge: Knowledge) -> None:
    """opioid_product_ingredients.csv: the code gives the opioid with the listed strength."""
    ingredients = {i.name for i in knowledge.data.ingredients}
    stated: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in reference_rows("opioid_product_ingredients.csv"):
        stated.setdefault((row["drug_rxcui"], row["ingredient"].casefold()), []).append(row)
    checked = 0
    for (rxcui, ingredient), rows in stated.items():
        name = rows[0]["drug_name"]
        assert ingredient in ingredients, ingredient
        match = knowledge.resolver.resolve(f"rxcui:{rxcui}")
        assert match is not None, name
        names = [other for other, _ in match.ingredients]
        assert ingredient in names, name
        position = names.index(ingredient)
        units = {row["strength_unit"] for row in rows}
        total = sum(float(row["strength_value"]) for row in rows)  # two salts of one opioid
        if units <= {"MG/HR", "MCG/HR"}:
            rate = total * (1000 if units == {"MG/HR"} else 1)
            assert match.rates[position] == pytest.approx(rate), name
            assert match.route == "transdermal", name
        else:
            quantity = _QUANTITY_ML.match(name)
            expected = total * (float(quantity[1]) if quantity and units == {"MG/ML"} else 1)
            assert match.ingredients[position][1] == pytest.approx(expected), name
        checked += 1
    assert checked > 900


def test_every_reference_product_with_known_ingredients_resolves(knowledge: Knowledge) -> None:
    """Every product (code and name) of both reference files whose substances the KB holds."""
    substances = knowledge.data.substance_names()
    rows = [
        (r["drug_rxcui"], r["drug_name"]) for r in reference_rows("opioid_product_ingredients.csv")
    ]
    rows += [(r["rxcui"], r["display"]) for r in reference_rows("medication_value_sets.csv")]
    products = dict(rows)
    resolved = benzodiazepines = 0
    for rxcui, name in products.items():
        parsed = parse_rxnorm_name(name)
        assert parsed is not None, name
        parts = [substances.resolve(c.substance) for c in parsed.components]
        if any(part is None for part in parts):
            continue  # e.g. phentermine, sevoflurane: not in the formulary
        expected = sorted({part.ingredient for part in parts})  # type: ignore[union-attr]
        for text in (f"rxcui:{rxcui}", name):
            match = knowledge.resolver.resolve(text)
            assert match is not None and not match.is_ambiguous, text
            assert sorted(i for i, _ in match.ingredients) == expected, text
            amounts = dict(match.ingredients)
            stated: dict[str, float] = {}
            for component, part in zip(parsed.components, parts, strict=True):
                if component.unit == "MG" and parsed.pack_count is None:
                    key = part.ingredient  # type: ignore[union-attr]
                    stated[key] = stated.get(key, 0.0) + component.value * part.factor  # type: ignore[union-attr]
            for ingredient, mg in stated.items():
                assert amounts[ingredient] == pytest.approx(mg), (text, ingredient)
        by_code = knowledge.resolver.resolve(f"rxcui:{rxcui}")
        by_name = knowledge.resolver.resolve(name)
        assert by_code.ingredients == by_name.ingredients, name  # type: ignore[union-attr]
        resolved += 1
        benzodiazepines += any(
            "class:benzodiazepine" in knowledge.index.systemic_nodes[i]
            for i, _ in by_code.ingredients  # type: ignore[union-attr]
        )
    assert resolved > 1400 and benzodiazepines > 200


def test_reference_strengths_by_name_match_the_stated_strengths(knowledge: Knowledge) -> None:
    """``acetaminophen 325 MG / hydrocodone bitartrate 10 MG Oral Tablet``: 325 and 10 mg a unit."""
    cases = {
        "acetaminophen 325 MG / hydrocodone bitartrate 10 MG Oral Tablet": {
            "acetaminophen": 325,
            "hydrocodone": 10,
        },
        "acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet": {
            "acetaminophen": 325,
            "oxycodone": 5,
        },
        "24 HR tramadol hydrochloride 100 MG Extended Release Oral Capsule [ConZip]": {
            "tramadol": 100
        },
        "1 ML buprenorphine 0.3 MG/ML Injection": {"buprenorphine": 0.3},
        "flurazepam hydrochloride 15 MG Oral Capsule": {"flurazepam": 15},
    }
    for name, amounts in cases.items():
        match = knowledge.resolver.resolve(name)
        assert match is not None and dict(match.ingredients) == amounts, name
    conzip = knowledge.resolver.resolve(
        "24 HR tramadol hydrochloride 100 MG Extended Release Oral Capsule [ConZip]"
    )
    assert conzip is not None and conzip.extended_release and conzip.route == "oral"
    patch = knowledge.resolver.resolve("72 HR fentanyl 0.075 MG/HR Transdermal System")
    assert patch is not None and patch.rates == (75.0,) and patch.route == "transdermal"


# --- product codes in regimens ------------------------------------------------------------------


def test_rxcui_856999_one_tablet_q6h_counts_both_ingredients(check) -> None:
    result = check(
        MedicationOrder("rxcui:856999", units_per_dose=1, doses_per_day=4), patient=ADULT
    )
    (resolved,) = result.summary.orders
    assert {i.name: i.mg_per_dose for i in resolved.ingredients} == {
        "acetaminophen": 325,
        "hydrocodone": 10,
    }
    assert result.summary.acetaminophen_mg_per_day == 1300
    assert result.summary.morphine_mg_equivalents_per_day == 40


def test_rxcui_197696_is_a_75_mcg_per_hour_patch(check) -> None:
    result = check(
        MedicationOrder("rxcui:197696", units_per_dose=1, doses_per_day=1), patient=ADULT
    )
    (resolved,) = result.summary.orders
    assert resolved.order.route is Route.TRANSDERMAL and resolved.order.rate_mcg_per_hour == 75
    assert result.summary.morphine_mg_equivalents_per_day == pytest.approx(180)
    assert only(result, "OPIOID_DAILY_MME").severity is Severity.CRITICAL


def test_flurazepam_with_oxycodone_is_rejected(check) -> None:
    result = check(
        MedicationOrder("flurazepam", 15, doses_per_day=1, indication="insomnia"),
        MedicationOrder("oxycodone", 5, doses_per_day=4),
        patient=ADULT,
    )
    assert only(result, "BENZODIAZEPINE_WITH_OPIOID").severity is Severity.CRITICAL
    assert not fired(result, "UNKNOWN_DRUG")


# --- names as people write them -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "amounts"),
    [
        ("hydrocodone/APAP 10/325", {"hydrocodone": 10, "acetaminophen": 325}),
        ("APAP/hydrocodone 325/10", {"hydrocodone": 10, "acetaminophen": 325}),
        ("hydrocodone-acetaminophen 10-325", {"hydrocodone": 10, "acetaminophen": 325}),
        ("hydrocodone/APAP 10/325mg", {"hydrocodone": 10, "acetaminophen": 325}),
        ("acetaminophen-codeine 300/30", {"codeine": 30, "acetaminophen": 300}),
        ("oxycodone/acetaminophen 5/325 tab", {"oxycodone": 5, "acetaminophen": 325}),
        ("Norco 10/325", {"hydrocodone": 10, "acetaminophen": 325}),
        ("Norco 325/10", {"hydrocodone": 10, "acetaminophen": 325}),
        ("Percocet 5/325", {"oxycodone": 5, "acetaminophen": 325}),
        ("Ultracet", {"tramadol": 37.5, "acetaminophen": 325}),
        ("Tylenol ES", {"acetaminophen": 500}),
        ("Tylenol Extra Strength", {"acetaminophen": 500}),
        ("Tylenol Arthritis", {"acetaminophen": 650}),
        ("Tylenol PM", {"acetaminophen": 500, "diphenhydramine": 25}),
        ("Excedrin", {"acetaminophen": 250, "aspirin": 250, "caffeine": 65}),
        ("Advil PM", {"ibuprofen": 200, "diphenhydramine": 38}),
        ("Aleve", {"naproxen": 200}),
        ("Anaprox DS", {"naproxen": 500}),
        ("Lidoderm 5%", {"lidocaine": 700}),
        ("Tylenol #3", {"codeine": 30, "acetaminophen": 300}),
    ],
)
def test_written_name_resolves_to_its_product(knowledge: Knowledge, name: str, amounts) -> None:
    match = knowledge.resolver.resolve(name)
    assert match is not None and match.is_product, name
    assert dict(match.ingredients) == pytest.approx(amounts), name


def test_tylenol_arthritis_is_extended_release_and_brands_of_several_strengths_ask(
    knowledge: Knowledge,
) -> None:
    arthritis = knowledge.resolver.resolve("Tylenol 8 HR Arthritis Pain")
    assert arthritis is not None and arthritis.extended_release
    for name in ("Norco", "NyQuil", "hydrocodone/APAP"):
        match = knowledge.resolver.resolve(name)
        assert match is not None and match.is_ambiguous, name
        assert all(knowledge.resolver.resolve(candidate) for candidate in match.candidates), name


def test_4000_mg_of_acetaminophen_from_written_combinations_is_rejected(check) -> None:
    result = check(
        MedicationOrder("hydrocodone/APAP 10/325", units_per_dose=2, doses_per_day=4),
        MedicationOrder("Tylenol ES", units_per_dose=2, doses_per_day=1),
        MedicationOrder("Excedrin", units_per_dose=2, doses_per_day=1),
        patient=ADULT,
    )
    assert result.summary.acetaminophen_mg_per_day == 2600 + 1000 + 500
    finding = only(result, "ACETAMINOPHEN_DAILY_MAX")
    assert finding.severity is Severity.CRITICAL and "4,100 mg" in finding.message


def test_unknown_combination_strength_is_unknown_drug_with_real_strengths(check) -> None:
    result = check(
        MedicationOrder("hydrocodone/APAP 10/3250", units_per_dose=1, doses_per_day=4),
        patient=ADULT,
    )
    finding = only(result, "UNKNOWN_DRUG")
    assert "10/325" in finding.recommendation
    assert result.summary.acetaminophen_mg_per_day == 0


# --- salts ---------------------------------------------------------------------------------------


def test_naproxen_sodium_550_tid_is_1500_mg_of_naproxen(check) -> None:
    result = check(MedicationOrder("naproxen sodium", 550, doses_per_day=3), patient=ADULT)
    assert result.findings == ()
    (resolved,) = result.summary.orders
    (naproxen,) = resolved.ingredients
    assert (naproxen.name, naproxen.mg_per_day, naproxen.salt) == (
        "naproxen",
        1500,
        "naproxen sodium",
    )


def test_naproxen_sodium_above_the_maximum_shows_both_amounts(check) -> None:
    finding = only(
        check(MedicationOrder("Anaprox", 550, doses_per_day=4), patient=ADULT), "DOSE_ABOVE_MAX"
    )
    assert "2,000 mg/day (2,200 mg/day as naproxen sodium)" in finding.message
    assert "1,500 mg/day" in finding.message


def test_single_strength_product_with_a_stated_dose_uses_its_salt(check) -> None:
    result = check(MedicationOrder("Aleve", 440, doses_per_day=2), patient=ADULT)
    (resolved,) = result.summary.orders
    assert resolved.ingredients[0].mg_per_dose == pytest.approx(400)


def test_diclofenac_potassium_converts_with_its_factor(check) -> None:
    result = check(MedicationOrder("diclofenac potassium", 50, doses_per_day=3), patient=ADULT)
    (resolved,) = result.summary.orders
    assert resolved.ingredients[0].mg_per_day == pytest.approx(150 * 296.15 / 334.24, rel=1e-6)
    assert not fired(result, "DOSE_ABOVE_MAX")


# --- through the API ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(checker):  # type: ignore[no-untyped-def]
    servicer = RegimenCheckerServicer(checker, today=lambda: AS_OF)
    return grpc_testing.server_from_dictionary(
        {SERVICE: AbortWithStatusServicer(servicer)}, grpc_testing.strict_real_time()
    )


def call(api, message: pb.CheckRegimenRequest):  # type: ignore[no-untyped-def]
    rpc = api.invoke_unary_unary(SERVICE.methods_by_name["CheckRegimen"], (), message, 10)
    response, _, code, details = rpc.termination()
    assert code is grpc.StatusCode.OK, details
    return response


def test_api_unresolvable_combination_with_dose_mg_is_unknown_drug_not_invalid(api) -> None:
    response = call(
        api, request(order("hydrocodone/APAP 10/3250", 1, 4), order("naproxen", 500, 2))
    )
    assert [f.rule_id for f in response.findings] == ["UNKNOWN_DRUG"]
    assert "10/325" in response.findings[0].recommendation


def test_api_product_code_and_written_names(api) -> None:
    response = call(
        api,
        request(
            order("rxcui:856999", 0, 4, units_per_dose=1),
            order("Tylenol ES", 0, 4, units_per_dose=2),
        ),
    )
    assert response.summary.acetaminophen_mg_per_day == 1300 + 4000
    assert response.verdict == pb.VERDICT_REJECT
    assert "ACETAMINOPHEN_DAILY_MAX" in [f.rule_id for f in response.findings]


def test_api_everyday_comedications_with_an_nsaid_accept(api) -> None:
    others = (
        "lisinopril",
        "atorvastatin",
        "metformin",
        "omeprazole",
        "pantoprazole",
        "misoprostol",
        "caffeine",
    )
    meds = [order(name, 10, 1, indication="co-medication") for name in others]
    response = call(api, request(order("naproxen", 500, 2), *meds))
    assert response.verdict == pb.VERDICT_ACCEPT
    assert list(response.findings) == []
    assert all(o.resolved for o in response.summary.orders)


def test_api_nsaid_gi_risk_finding_states_gastroprotection(api) -> None:
    meds = (
        order("naproxen", 500, 2),
        order("sertraline", 50, 1, indication="depression"),
        order("prednisone", 10, 1, indication="asthma"),
    )
    without = call(api, request(*meds))
    with_ppi = call(api, request(*meds, order("pantoprazole", 40, 1, indication="GI protection")))
    risks = [f for f in without.findings if f.rule_id == "NSAID_RISK"]
    assert risks and all(f.severity == pb.SEVERITY_WARNING for f in risks)
    assert all("no gastroprotective agents" in f.message.lower() for f in risks)
    assert all("pantoprazole" in f.message for f in with_ppi.findings if f.rule_id == "NSAID_RISK")


def test_api_duloxetine_with_an_nsaid_stays_accept_and_escalates_in_older_adults(api) -> None:
    meds = (order("naproxen", 500, 2), order("duloxetine", 60, 1))
    assert call(api, request(*meds)).verdict == pb.VERDICT_ACCEPT
    older = call(api, request(*meds, patient=pb.Patient(age_years=70)))
    (risk,) = [f for f in older.findings if f.rule_id == "NSAID_RISK" and "duloxetine" in f.drugs]
    assert risk.severity == pb.SEVERITY_WARNING and "aged 65 or older" in risk.message


def test_request_through_the_domain_model_is_checked_once(checker) -> None:
    """The same order twice in one request is one ingredient: no duplicate finding."""
    result = checker.check(
        RegimenRequest(
            "r",
            AS_OF,
            ADULT,
            (MedicationOrder("Tylenol ES", units_per_dose=1, doses_per_day=2),) * 2,
        )
    )
    assert result.summary.acetaminophen_mg_per_day == 2000
    assert not fired(result, "DUPLICATE_THERAPY")
