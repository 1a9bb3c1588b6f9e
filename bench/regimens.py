"""Realistic regimens for the benchmarks, as protobuf messages (and, through the product's own
converter, as prebuilt domain objects).

Everything is deterministic: the same seed gives the same regimens, byte for byte.

The building blocks are *order atoms*: low-back-pain orders as a prescriber writes them (NSAIDs,
acetaminophen, combination products such as ``Norco 10/325``, ``Percocet 5/325`` and
``Ultracet``, PRN orders, muscle relaxants, duloxetine titrations, opioids, a fentanyl patch,
STOP orders) plus the chronic medications of an older adult that the knowledge base knows
(warfarin, sertraline, aspirin 81 mg) and some it does not (metformin, lisinopril ...), which is
what a real medication list sent for checking looks like.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from regimenguard.v1 import regimen_checker_pb2 as pb

AS_OF = "2026-11-23"
AS_OF_DATE = dt.date(2026, 11, 23)
PRN = True

# Each atom: keyword arguments of pb.MedicationOrder (enum values as pb constants).
BACK_PAIN_ATOMS: list[dict] = [
    dict(
        drug="ibuprofen",
        dose_mg=600,
        doses_per_day=3,
        action=pb.ORDER_ACTION_CONTINUE,
        started_on="2026-10-01",
        response=pb.THERAPY_RESPONSE_BENEFIT,
    ),
    dict(
        drug="acetaminophen",
        dose_mg=1000,
        doses_per_day=4,
        as_needed=PRN,
        action=pb.ORDER_ACTION_START,
    ),
    dict(
        drug="Norco 10/325",
        units_per_dose=1,
        doses_per_day=4,
        as_needed=PRN,
        action=pb.ORDER_ACTION_START,
        planned_days=7,
    ),
    dict(
        drug="cyclobenzaprine",
        dose_mg=5,
        doses_per_day=3,
        as_needed=PRN,
        action=pb.ORDER_ACTION_START,
        planned_days=14,
    ),
    dict(
        drug="duloxetine",
        dose_mg=60,
        doses_per_day=1,
        action=pb.ORDER_ACTION_CHANGE_DOSE,
        started_on="2026-11-19",
        previous_dose_mg=30,
    ),
    dict(
        drug="Percocet 5/325",
        units_per_dose=2,
        doses_per_day=4,
        as_needed=PRN,
        action=pb.ORDER_ACTION_CONTINUE,
        started_on="2026-09-15",
    ),
    dict(
        drug="naproxen",
        dose_mg=500,
        doses_per_day=2,
        action=pb.ORDER_ACTION_STOP,
        response=pb.THERAPY_RESPONSE_NO_BENEFIT,
    ),
    dict(
        drug="Ultracet",
        units_per_dose=2,
        doses_per_day=4,
        as_needed=PRN,
        action=pb.ORDER_ACTION_START,
    ),
    dict(
        drug="tizanidine",
        dose_mg=4,
        doses_per_day=3,
        action=pb.ORDER_ACTION_CONTINUE,
        started_on="2026-11-01",
    ),
    dict(
        drug="meloxicam",
        dose_mg=15,
        doses_per_day=1,
        action=pb.ORDER_ACTION_CONTINUE,
        started_on="2026-06-01",
        response=pb.THERAPY_RESPONSE_NO_BENEFIT,
    ),
    dict(drug="tramadol", dose_mg=50, doses_per_day=4, as_needed=PRN, action=pb.ORDER_ACTION_START),
    dict(
        drug="gabapentin",
        dose_mg=300,
        doses_per_day=3,
        action=pb.ORDER_ACTION_CONTINUE,
        started_on="2025-01-10",
        indication="neuropathy",
    ),
    dict(
        drug="methocarbamol",
        dose_mg=750,
        doses_per_day=4,
        action=pb.ORDER_ACTION_CONTINUE,
        started_on="2026-10-20",
    ),
    dict(
        drug="oxycodone",
        dose_mg=5,
        doses_per_day=6,
        as_needed=PRN,
        action=pb.ORDER_ACTION_START,
        planned_days=3,
    ),
    dict(
        drug="hydrocodone/acetaminophen",
        ingredients=[dict(name="hydrocodone", dose_mg=5), dict(name="acetaminophen", dose_mg=325)],
        doses_per_day=4,
        as_needed=PRN,
        action=pb.ORDER_ACTION_CONTINUE,
        started_on="2026-11-10",
    ),
    dict(
        drug="Tylenol #3",
        units_per_dose=1,
        doses_per_day=4,
        as_needed=PRN,
        action=pb.ORDER_ACTION_CONTINUE,
        started_on="2026-11-15",
    ),
    dict(
        drug="diclofenac",
        dose_mg=40,
        doses_per_day=4,
        route=pb.ROUTE_TOPICAL,
        action=pb.ORDER_ACTION_START,
    ),
    dict(
        drug="carisoprodol",
        dose_mg=350,
        doses_per_day=3,
        action=pb.ORDER_ACTION_CONTINUE,
        started_on="2026-10-25",
    ),
    dict(
        drug="fentanyl",
        rate_mcg_per_hour=25,
        route=pb.ROUTE_TRANSDERMAL,
        action=pb.ORDER_ACTION_CONTINUE,
        started_on="2026-08-01",
    ),
    dict(
        drug="diazepam",
        dose_mg=5,
        doses_per_day=2,
        as_needed=PRN,
        action=pb.ORDER_ACTION_CONTINUE,
        started_on="2026-05-01",
        indication="anxiety",
    ),
    dict(drug="Celebrex", dose_mg=200, doses_per_day=1, action=pb.ORDER_ACTION_START),
    dict(
        drug="prednisone", dose_mg=20, doses_per_day=1, action=pb.ORDER_ACTION_START, planned_days=5
    ),
    dict(
        drug="amitriptyline",
        dose_mg=25,
        doses_per_day=1,
        action=pb.ORDER_ACTION_CONTINUE,
        started_on="2026-03-01",
    ),
    dict(
        drug="Advil",
        dose_mg=400,
        doses_per_day=4,
        as_needed=PRN,
        action=pb.ORDER_ACTION_CONTINUE,
        started_on="2026-11-01",
    ),
]

# Chronic medications of an older adult: known to the knowledge base ...
CHRONIC_KNOWN_ATOMS: list[dict] = [
    dict(
        drug="warfarin",
        dose_mg=5,
        doses_per_day=1,
        indication="atrial fibrillation",
        started_on="2024-02-01",
    ),
    dict(
        drug="sertraline",
        dose_mg=50,
        doses_per_day=1,
        indication="depression",
        started_on="2023-07-01",
    ),
    dict(
        drug="aspirin",
        dose_mg=81,
        doses_per_day=1,
        indication="cardioprotection",
        started_on="2022-01-01",
    ),
    dict(
        drug="Eliquis",
        dose_mg=5,
        doses_per_day=2,
        indication="atrial fibrillation",
        started_on="2025-03-01",
    ),
    dict(
        drug="trazodone",
        dose_mg=50,
        doses_per_day=1,
        indication="insomnia",
        started_on="2025-09-01",
    ),
    dict(
        drug="lorazepam",
        dose_mg=0.5,
        doses_per_day=1,
        as_needed=PRN,
        indication="insomnia",
        started_on="2025-09-01",
    ),
    dict(drug="Plavix", dose_mg=75, doses_per_day=1, indication="stent", started_on="2021-05-01"),
    dict(
        drug="pregabalin",
        dose_mg=75,
        doses_per_day=2,
        indication="neuropathy",
        started_on="2025-04-01",
    ),
]
# ... and not known to it (reported as UNKNOWN_DRUG, with close-match suggestions).
CHRONIC_UNKNOWN_ATOMS: list[dict] = [
    dict(drug="metformin", dose_mg=500, doses_per_day=2, indication="diabetes"),
    dict(drug="lisinopril", dose_mg=10, doses_per_day=1, indication="hypertension"),
    dict(drug="atorvastatin", dose_mg=40, doses_per_day=1, indication="hyperlipidemia"),
    dict(drug="levothyroxine", dose_mg=0.075, doses_per_day=1, indication="hypothyroidism"),
    dict(drug="amlodipine", dose_mg=5, doses_per_day=1, indication="hypertension"),
    dict(drug="omeprazole", dose_mg=20, doses_per_day=1, indication="GERD"),
]

OLDER_ADULT = dict(
    age_years=72,
    renal_impairment=True,
    gi_bleed_history=False,
    cardiovascular_disease=True,
    pain_duration_weeks=10,
)
ADULT = dict(age_years=48, pain_duration_weeks=14)


def order(atom: dict, *, scale: float = 1.0) -> pb.MedicationOrder:
    fields = dict(atom)
    parts = fields.pop("ingredients", None)
    message = pb.MedicationOrder(**fields)
    if parts:
        message.ingredients.extend(pb.IngredientDose(**p) for p in parts)
    if scale != 1.0:
        if message.dose_mg:
            message.dose_mg = round(message.dose_mg * scale, 3)
        if message.units_per_dose:
            message.units_per_dose = 1 if scale < 1 else 2
    return message


def sized_request(
    size: int, *, known_only: bool = False, request_id: str = ""
) -> pb.CheckRegimenRequest:
    """A realistic regimen of exactly ``size`` orders.

    1: one NSAID for an adult. 5: NSAID + PRN acetaminophen + Norco 10/325 PRN + cyclobenzaprine
    PRN + a duloxetine dose raise, for an older adult. 20 and 50: the back-pain atoms, then the
    older adult's chronic medications (a few unknown to the knowledge base unless
    ``known_only``), then further back-pain orders at other doses (duplicates, PRN + scheduled)
    until the size is reached.
    """
    if size == 1:
        return pb.CheckRegimenRequest(
            request_id=request_id or "size-1",
            as_of=AS_OF,
            patient=pb.Patient(**ADULT),
            medications=[order(BACK_PAIN_ATOMS[0])],
        )
    chronic = list(CHRONIC_KNOWN_ATOMS)
    if not known_only:
        unknown = 1 if size <= 20 else 3
        chronic = CHRONIC_UNKNOWN_ATOMS[:unknown] + chronic
    if size <= 5:
        atoms = BACK_PAIN_ATOMS[:size]
    else:
        head = BACK_PAIN_ATOMS[: max(size - len(chronic), 0)]
        atoms = head + chronic[: size - len(head)]
    meds = [order(atom) for atom in atoms]
    round_no = 1
    while len(meds) < size:  # 50: repeat back-pain orders at other strengths
        for atom in BACK_PAIN_ATOMS:
            if len(meds) >= size:
                break
            meds.append(order(atom, scale=0.5 if round_no % 2 else 1.5))
        round_no += 1
    request = pb.CheckRegimenRequest(
        request_id=request_id or f"size-{size}",
        as_of=AS_OF,
        patient=pb.Patient(**OLDER_ADULT),
        medications=meds,
    )
    if size >= 5:
        request.acknowledgements.append(
            pb.Acknowledgement(
                rule_id="NSAID_WITH_ACETAMINOPHEN",
                reason="short overlap while the NSAID is tapered",
            )
        )
    assert len(request.medications) == size, (size, len(request.medications))
    return request


def unary_pool(count: int = 64, size: int = 5) -> list[pb.CheckRegimenRequest]:
    """Distinct ``size``-order regimens for the unary load (ages, doses and ids vary)."""
    pool = []
    for n in range(count):
        request = sized_request(size, request_id=f"unary-{n}")
        request.patient.age_years = 40 + n % 50
        request.medications[0].dose_mg = 200 + 100 * (n % 7)
        pool.append(request)
    return pool


def response_sample(count: int = 4) -> Iterator[pb.CheckRegimenRequest]:
    for size in (1, 5, 20, 50)[:count]:
        yield sized_request(size)


def unique_orders(message: pb.CheckRegimenRequest, serial: int) -> pb.CheckRegimenRequest:
    """A copy of ``message`` whose every order is new content (no cache keyed on orders helps).

    Each order's amount moves by a distinct few parts per ten million (``serial`` numbers the
    copy; see ``bench.bulkgen.unique_amount``): the clinical picture stays the original's.
    """
    from bench.bulkgen import unique_amount

    copy = pb.CheckRegimenRequest()
    copy.CopyFrom(message)
    copy.request_id = f"{message.request_id}-u{serial}"
    size = len(copy.medications)
    for slot, medication in enumerate(copy.medications):
        unique_amount(medication, serial * size + slot + 1)
    return copy
