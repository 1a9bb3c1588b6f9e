"""Table-driven tests for regimenguard.regimen.sig: the grammar of sigs and their reading without product
knowledge (every amount, form and route written)."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from regimenguard.regimen.model import MedicationOrder, OrderAction, Route, TherapyResponse
from regimenguard.regimen.sig import SigParseError, parse_sig, read_sig


def order_of(text: str) -> MedicationOrder:
    """The domain order a sig is read as, with no product knowledge (everything written)."""
    return read_sig(text).order


# Whole orders: every field of the domain order is compared.
WHOLE = [
    (
        "Norco 10/325 1 tab q4h prn",
        MedicationOrder("Norco 10/325", doses_per_day=6.0, as_needed=True),
    ),
    (
        "Tylenol 500 mg 2 tabs q6h prn",
        MedicationOrder("Tylenol", dose_mg=1000.0, doses_per_day=4.0, as_needed=True),
    ),
    (
        "duloxetine 30 mg daily started 2026-10-01",
        MedicationOrder(
            "duloxetine", dose_mg=30.0, doses_per_day=1.0, started_on=datetime.date(2026, 10, 1)
        ),
    ),
    (
        "start cyclobenzaprine 5 mg tid prn for 14 days",
        MedicationOrder(
            "cyclobenzaprine",
            dose_mg=5.0,
            doses_per_day=3.0,
            as_needed=True,
            action=OrderAction.START,
            planned_days=14,
        ),
    ),
    (
        "diclofenac 1% gel 4 g qid topical",
        MedicationOrder("diclofenac", dose_mg=40.0, doses_per_day=4.0, route=Route.TOPICAL),
    ),
    (
        "fentanyl 25 mcg/h patch q72h",
        MedicationOrder(
            "fentanyl", rate_mcg_per_hour=25.0, doses_per_day=1 / 3, route=Route.TRANSDERMAL
        ),
    ),
    (
        "tramadol ER 100 mg daily",
        MedicationOrder("tramadol", dose_mg=100.0, doses_per_day=1.0, extended_release=True),
    ),
    (
        "increase duloxetine to 60 mg daily",
        MedicationOrder(
            "duloxetine", dose_mg=60.0, doses_per_day=1.0, action=OrderAction.CHANGE_DOSE
        ),
    ),
    (
        "stop ibuprofen 400 mg tid no benefit",
        MedicationOrder(
            "ibuprofen",
            dose_mg=400.0,
            doses_per_day=3.0,
            action=OrderAction.STOP,
            response=TherapyResponse.NO_BENEFIT,
        ),
    ),
    (
        "continue naproxen 500 mg bid helping",
        MedicationOrder(
            "naproxen", dose_mg=500.0, doses_per_day=2.0, response=TherapyResponse.BENEFIT
        ),
    ),
    (
        "increase duloxetine to 60 mg (from 30 mg) daily",
        MedicationOrder(
            "duloxetine",
            dose_mg=60.0,
            doses_per_day=1.0,
            action=OrderAction.CHANGE_DOSE,
            previous_dose_mg=30.0,
        ),
    ),
    (
        "decrease gabapentin from 600 mg to 300 mg tid",
        MedicationOrder(
            "gabapentin",
            dose_mg=300.0,
            doses_per_day=3.0,
            action=OrderAction.CHANGE_DOSE,
            previous_dose_mg=600.0,
        ),
    ),
    (
        "Tylenol 500 mg, 2 tabs, q6h, prn, po",
        MedicationOrder("Tylenol", dose_mg=1000.0, doses_per_day=4.0, as_needed=True),
    ),
    (
        "Butrans 10 mcg/hr 1 patch weekly since 2026-09-15",
        MedicationOrder(
            "Butrans",
            rate_mcg_per_hour=10.0,
            doses_per_day=1.0 / 7.0,
            route=Route.TRANSDERMAL,
            started_on=datetime.date(2026, 9, 15),
        ),
    ),
    ("stop ibuprofen", MedicationOrder("ibuprofen", action=OrderAction.STOP)),
]


@pytest.mark.parametrize(("text", "expected"), WHOLE, ids=[text for text, _ in WHOLE])
def test_whole_order(text: str, expected: MedicationOrder) -> None:
    order = order_of(text)
    # the units of a combination (1 tab) are a fact of the reading; compared separately
    assert dataclasses.replace(order, units_per_dose=0.0) == dataclasses.replace(
        expected, doses_per_day=pytest.approx(expected.doses_per_day)
    )


def test_a_combination_is_counted_in_units() -> None:
    order = order_of("Percocet 5/325 1/2 tab q6h")
    assert order.units_per_dose == 0.5 and order.dose_mg == 0.0


FREQUENCIES = [
    ("daily", 1.0),
    ("qd", 1.0),
    ("once daily", 1.0),
    ("once a day", 1.0),
    ("every day", 1.0),
    ("qam", 1.0),
    ("qpm", 1.0),
    ("at bedtime", 1.0),
    ("qhs", 1.0),
    ("nightly", 1.0),
    ("bid", 2.0),
    ("BID", 2.0),
    ("twice daily", 2.0),
    ("twice a day", 2.0),
    ("tid", 3.0),
    ("three times daily", 3.0),
    ("three times a day", 3.0),
    ("3 times daily", 3.0),
    ("qid", 4.0),
    ("four times daily", 4.0),
    ("q4h", 6.0),
    ("q 8 h", 3.0),
    ("q12 hours", 2.0),
    ("every 6 hours", 4.0),
    ("every 8 hrs", 3.0),
    ("q6-8h", 4.0),
    ("every 6-8 hours", 4.0),
    ("q6-8 hours", 4.0),
    ("every 4 to 6 hours", 6.0),
    ("2 times a day", 2.0),
    ("3x daily", 3.0),
    ("3x/day", 3.0),
    ("weekly", 1.0 / 7.0),
]


@pytest.mark.parametrize(("frequency", "doses_per_day"), FREQUENCIES)
def test_frequency(frequency: str, doses_per_day: float) -> None:
    order = order_of(f"naproxen 250 mg {frequency}")
    assert order.doses_per_day == pytest.approx(doses_per_day)
    assert order.dose_mg == 250.0
    assert order.drug == "naproxen"


@pytest.mark.parametrize("prn", ["prn", "PRN", "as needed", "as-needed"])
def test_as_needed(prn: str) -> None:
    order = order_of(f"ibuprofen 400 mg q6h {prn}")
    assert order.as_needed is True
    assert order.doses_per_day == 4.0


ROUTES = [
    ("ibuprofen 400 mg po", "oral"),
    ("ibuprofen 400 mg oral", "oral"),
    ("ibuprofen 400 mg by mouth", "oral"),
    ("ibuprofen 400 mg orally", "oral"),
    ("capsaicin cream tid", "topical"),
    ("diclofenac gel qid", "topical"),
    ("lidocaine topically bid", "topical"),
    ("apply diclofenac 1% gel 2 g qid", "topical"),
    ("lidocaine 5% patch daily", "topical"),
    ("lidocaine patch transdermal daily", "transdermal"),
    ("buprenorphine 5 mcg/h td", "transdermal"),
    ("morphine 4 mg iv q4h", "injection"),
    ("ketorolac 30 mg im", "injection"),
    ("methylprednisolone 40 mg injection", "injection"),
    ("naloxone 4 mg intranasal", "intranasal"),
    ("ketorolac 1 spray q6h", "intranasal"),
    ("buprenorphine 2 mg sl daily", "sublingual"),
    ("fentanyl 100 mcg buccal", "sublingual"),
    ("indomethacin 50 mg pr", "rectal"),
    ("acetaminophen 650 mg rectal q6h", "rectal"),
    ("meloxicam 15 mg daily", None),
]


@pytest.mark.parametrize(("text", "route"), ROUTES)
def test_route(text: str, route: str | None) -> None:
    sig = parse_sig(text)
    assert (sig.route or sig.implied_route) == route


AMOUNTS = [
    # text, dose_mg, units_per_dose, rate_mcg_per_hour
    ("ibuprofen 400 mg", 400.0, None, None),
    ("ibuprofen 400mg", 400.0, None, None),
    ("methocarbamol 1.5 g", 1500.0, None, None),
    ("methocarbamol 1.5 gm", 1500.0, None, None),
    ("acetaminophen 1,000 mg", 1000.0, None, None),
    ("oxycodone 7.5 mg", 7.5, None, None),
    ("fentanyl 100 mcg", 0.1, None, None),
    ("fentanyl 100 ug", 0.1, None, None),
    ("fentanyl 100 µg", 0.1, None, None),
    ("Tylenol 2 tabs 500 mg", 1000.0, None, None),
    ("gabapentin 300 mg 2 capsules", 600.0, None, None),
    ("Norco 7.5/325 2 tablets", None, 2.0, None),
    ("Percocet 5/325 1/2 tab", None, 0.5, None),
    ("ibuprofen 1 pill", None, 1.0, None),
    ("fentanyl 25 mcg/hr", None, None, 25.0),
    ("fentanyl 25mcg/h", None, None, 25.0),
    ("fentanyl 12.5 mcg/hour 1 patch", None, 1.0, 12.5),
    ("diclofenac 1% gel 4 g", 40.0, None, None),
    ("capsaicin 0.025% cream 2 g", 0.5, None, None),
]


@pytest.mark.parametrize(("text", "dose_mg", "units", "rate"), AMOUNTS)
def test_amount(text: str, dose_mg: float | None, units: float | None, rate: float | None) -> None:
    order = order_of(f"{text} daily")
    assert order.dose_mg == pytest.approx(dose_mg or 0.0)
    assert order.units_per_dose == (0.0 if rate else units or 0.0)  # a rate counts the patches
    assert order.rate_mcg_per_hour == (rate or 0.0)


RELEASE = [
    ("tramadol ER 100 mg daily", "tramadol", True),
    ("oxycodone er 10 mg bid", "oxycodone", True),
    ("metformin XR 500 mg", "metformin", True),
    ("cyclobenzaprine SR 15 mg", "cyclobenzaprine", True),
    ("oxybutynin XL 5 mg", "oxybutynin", True),
    ("carbidopa levodopa CR 1 tab", "carbidopa levodopa", True),
    ("morphine extended-release 15 mg", "morphine", True),
    ("morphine extended release 15 mg", "morphine", True),
    ("hydromorphone long-acting 8 mg", "hydromorphone", True),
    ("oxycodone IR 5 mg q4h", "oxycodone", False),
    ("oxycodone 5 mg q4h", "oxycodone", False),
]


@pytest.mark.parametrize(("text", "drug", "extended"), RELEASE)
def test_release(text: str, drug: str, extended: bool) -> None:
    sig = parse_sig(text)
    assert bool(sig.extended_release) is extended
    assert sig.drug == drug


ACTIONS = [
    ("start meloxicam 7.5 mg daily", "start"),
    ("begin meloxicam 7.5 mg daily", "start"),
    ("new meloxicam 7.5 mg daily", "start"),
    ("stop meloxicam 7.5 mg daily", "stop"),
    ("discontinue meloxicam 7.5 mg daily", "stop"),
    ("d/c meloxicam 7.5 mg daily", "stop"),
    ("continue meloxicam 7.5 mg daily", "continue"),
    ("cont meloxicam 7.5 mg daily", "continue"),
    ("Change meloxicam to 7.5 mg daily", "change_dose"),
    ("titrate meloxicam to 7.5 mg daily", "change_dose"),
    ("meloxicam 7.5 mg daily", None),
]


@pytest.mark.parametrize(("text", "action"), ACTIONS)
def test_action(text: str, action: str | None) -> None:
    sig = parse_sig(text)
    assert sig.action == action
    assert sig.drug == "meloxicam"
    assert sig.strength is not None and sig.strength.value == 7.5


DRUG_NAMES = [
    ("Norco 10/325 1 tab q4h prn", "Norco 10/325"),
    ("Norco 7.5/325 1 tab", "Norco 7.5/325"),
    ("Ultracet 37.5/325 2 tabs", "Ultracet 37.5/325"),
    ("St John's wort 300 mg tid", "St John's wort"),
    ("methylene blue 50 mg", "methylene blue"),
    ("Tylenol  with   Codeine #3, 1 tab", "Tylenol with Codeine #3"),
    ("  Aleve 220 mg bid  ", "Aleve"),
]


@pytest.mark.parametrize(("text", "drug"), DRUG_NAMES)
def test_drug_name(text: str, drug: str) -> None:
    sig = parse_sig(text)
    assert sig.drug == drug
    assert sig.text == text


@pytest.mark.parametrize(
    "text",
    [
        "duloxetine 30 mg daily started 2026-10-01",
        "duloxetine 30 mg daily since 2026-10-01",
        "duloxetine 30 mg daily started on 2026-10-01",
        "duloxetine 30 mg daily on 2026-10-01",
    ],
)
def test_started_on(text: str) -> None:
    assert parse_sig(text).started_on == datetime.date(2026, 10, 1)


@pytest.mark.parametrize(
    ("duration", "days"),
    [
        ("for 14 days", 14),
        ("for 10 d", 10),
        ("x 14 days", 14),
        ("x14d", 14),
        ("for 2 weeks", 14),
        ("x 3 weeks", 21),
        ("for 1 wk", 7),
    ],
)
def test_planned_days(duration: str, days: int) -> None:
    assert parse_sig(f"cyclobenzaprine 5 mg tid {duration}").planned_days == days


@pytest.mark.parametrize(
    ("words", "response"),
    [
        ("helping", "benefit"),
        ("helps", "benefit"),
        ("effective", "benefit"),
        ("benefit", "benefit"),
        ("working", "benefit"),
        ("no benefit", "no_benefit"),
        ("not helping", "no_benefit"),
        ("ineffective", "no_benefit"),
        ("no relief", "no_benefit"),
        ("not working", "no_benefit"),
        ("not tolerated", "not_tolerated"),
        ("intolerant", "not_tolerated"),
        ("side effects", "not_tolerated"),
    ],
)
def test_response(words: str, response: str) -> None:
    assert parse_sig(f"continue naproxen 500 mg bid {words}").response == response


ERRORS = [
    # text, the part the message must quote
    ("ibuprofen 400 mg xyz bid", "xyz"),
    ("ibuprofen 400 bid", "400"),
    ("ibuprofen 400 mg 600 mg bid", "600 mg"),
    ("ibuprofen 400 mg bid tid", "tid"),
    ("ibuprofen 400 mg po iv", "iv"),
    ("fentanyl 25 mcg/h po", "po"),
    ("fentanyl 25 mcg/h 100 mg", "100 mg"),
    ("duloxetine 30 mg daily started 2026-13-01", "2026-13-01"),
    ("duloxetine 30 mg daily started 10/01/2026", "10/01/2026"),
    ("duloxetine 30 mg daily started", "started"),
    ("cyclobenzaprine 5 mg tid for", "for"),
    ("cyclobenzaprine 5 mg for pain tid", "for pain tid"),
    ("Voltaren gel 4 g qid", "4 g"),
    ("lidocaine 5% patch 700 mg", "700 mg"),
    ("ibuprofen from 400 mg", "from 400 mg"),
    ("increase duloxetine from 60 mg to 30 mg", "increase"),
    ("ibuprofen 0 mg", "0 mg"),
    ("ibuprofen 400 mg q0h", "q0h"),
    ("ibuprofen 400 mg 5 mL", "5"),
    ("Norco 10/325 1/2", "1/2"),
]


@pytest.mark.parametrize(("text", "part"), ERRORS)
def test_error_quotes_unread_part(text: str, part: str) -> None:
    with pytest.raises(SigParseError) as raised:
        read_sig(text)
    message = str(raised.value)
    assert message.startswith(f'could not read "{part}" in "{text}"')


@pytest.mark.parametrize("text", ["500 mg bid", "start 1 tab daily", "prn", "(, )"])
def test_error_no_drug_name(text: str) -> None:
    with pytest.raises(SigParseError, match="could not read a drug name") as raised:
        parse_sig(text)
    assert f'"{text.strip()}"' in str(raised.value)


@pytest.mark.parametrize("text", ["", "   "])
def test_error_empty(text: str) -> None:
    with pytest.raises(SigParseError, match="empty medication order"):
        parse_sig(text)


def test_error_is_a_value_error() -> None:
    assert issubclass(SigParseError, ValueError)


def test_result_is_frozen() -> None:
    reading = read_sig("ibuprofen 400 mg tid")
    with pytest.raises(dataclasses.FrozenInstanceError):
        reading.order = reading.order  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        reading.order.dose_mg = 800.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "indication", "planned_days"),
    [
        ("sertraline 50 mg daily for depression", "depression", None),
        ("baclofen 10 mg tid for MS spasticity", "ms spasticity", None),
        ("naproxen 500 mg bid for low back pain", "", None),
        ("cyclobenzaprine 5 mg tid prn for pain", "", None),
        ("start cyclobenzaprine 5 mg tid prn for 14 days", "", 14),
        ("gabapentin 300 mg tid for 2 weeks for neuropathy", "neuropathy", 14),
    ],
)
def test_indication_is_the_last_clause(
    text: str, indication: str, planned_days: int | None
) -> None:
    sig = parse_sig(text)
    assert sig.indication == indication
    assert sig.planned_days == planned_days


@pytest.mark.parametrize(
    ("per_day", "interval", "words"),
    [
        (1, None, "once a day"),
        (2, None, "twice a day"),
        (3, None, "3 times a day"),
        (3, 8, "every 8 h"),
        (1 / 3, 72, "every 72 h"),
        (1 / 7, None, "once a week"),
        (2 / 7, None, "2 times a week"),
        (0.5, None, "every 48 h"),
        (1 / 3, None, "every 72 h"),
        (2.5, None, "2.5 times a day"),
    ],
)
def test_frequency_words_as_people_say_them(
    per_day: float, interval: float | None, words: str
) -> None:
    from regimenguard.regimen.sig.words import frequency_words

    assert frequency_words(per_day, interval) == words


def test_server_field_errors_name_the_typed_order() -> None:
    from regimenguard.client.orders import name_typed_orders

    texts = ["naproxen 500 mg bid", "ibuprofen tid"]
    violations = [("medications[1].dose_mg", "must be greater than 0")]
    assert name_typed_orders(violations, texts) == [
        '--med 1 "ibuprofen tid": no dose (write one, e.g. 400 mg, or a count of tabs for a '
        "combination)"
    ]
    assert name_typed_orders([("as_of", "must be a date")], texts) is None
