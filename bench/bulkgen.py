"""Deterministic, lazy generator of distinct regimens for the bulk review, as wire bytes.

Regimen ``i`` is fully determined by ``i`` and the seed:

* template ``t = i % T`` picks a realistic regimen shape (1-8 orders: NSAID + PRN acetaminophen,
  ``Norco 10/325`` / ``Percocet 5/325`` / ``Ultracet`` PRN, muscle relaxants, duloxetine
  titration, opioids, a fentanyl patch, benzodiazepine + opioid, STOP orders, chronic
  medications with another indication) and the patient's conditions;
* the rest of ``i // T`` is read as a mixed-radix number giving the age (20-95, so older adults
  are common), the pain duration (0-51 weeks), the as-of date (28 days) and, per order, one of
  8 dose variants (dose, units per dose, doses per day or patch rate).

Distinct indices therefore give distinct clinical content (not only distinct request ids) for
``i < T * 76 * 52 * 28 * 8`` (over 14 million): a cache keyed on content would not help.

``Generator(unique_orders=True)`` moves every order's amount (dose, tablets per dose or patch
rate) by a distinct few parts per million as well, so that no two orders anywhere in the
population are the same content (the issue-13 "every order unique" case; slower to generate,
each order is serialized afresh).

Every ``INVALID_EVERY``-th regimen is deliberately invalid (a negative dose); its answer must
carry ``error`` and every other answer must not.

Speed: the orders of each template are serialized once per variant at start-up; a regimen is
then a concatenation of pre-encoded fields (protobuf wire format allows it: fields in number
order, exactly what SerializeToString produces). ``self_test`` parses generated regimens and
compares them with the same regimens built through the protobuf API.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from regimenguard.v1 import regimen_checker_pb2 as pb

INVALID_EVERY = 10_007
AGES = 76  # 20..95
WEEKS = 52
DAYS = 28
VARIANTS = 8
BASE_DATE = dt.date(2026, 11, 1)

Variant = Callable[[int], pb.MedicationOrder]


def _single(drug: str, dose: float, per_day: float, **extra) -> Variant:
    factors = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5)

    def build(v: int) -> pb.MedicationOrder:
        return pb.MedicationOrder(
            drug=drug, dose_mg=round(dose * factors[v], 3), doses_per_day=per_day, **extra
        )

    return build


def _combo(drug: str, **extra) -> Variant:
    def build(v: int) -> pb.MedicationOrder:
        return pb.MedicationOrder(
            drug=drug, units_per_dose=1 + v % 2, doses_per_day=(2, 3, 4, 6)[v // 2], **extra
        )

    return build


def _patch(v: int) -> pb.MedicationOrder:
    return pb.MedicationOrder(
        drug="fentanyl",
        route=pb.ROUTE_TRANSDERMAL,
        rate_mcg_per_hour=12 + 12.5 * v,
        action=pb.ORDER_ACTION_CONTINUE,
        started_on="2026-08-01",
    )


def _explicit_combo(v: int) -> pb.MedicationOrder:
    return pb.MedicationOrder(
        drug="hydrocodone/acetaminophen",
        ingredients=[
            pb.IngredientDose(name="hydrocodone", dose_mg=(2.5, 5, 7.5, 10)[v % 4]),
            pb.IngredientDose(name="acetaminophen", dose_mg=(300, 325)[v // 4]),
        ],
        doses_per_day=4,
        as_needed=True,
        action=pb.ORDER_ACTION_CONTINUE,
        started_on="2026-11-10",
    )


START, CONT, CHANGE, STOP = (
    pb.ORDER_ACTION_START,
    pb.ORDER_ACTION_CONTINUE,
    pb.ORDER_ACTION_CHANGE_DOSE,
    pb.ORDER_ACTION_STOP,
)
ATOMS: dict[str, Variant] = {
    "ibuprofen": _single("ibuprofen", 400, 3, action=CONT, started_on="2026-10-01"),
    "naproxen": _single("naproxen", 250, 2, action=START),
    "naproxen_stop": _single(
        "naproxen", 500, 2, action=STOP, response=pb.THERAPY_RESPONSE_NO_BENEFIT
    ),
    "meloxicam": _single(
        "meloxicam",
        7.5,
        1,
        action=CONT,
        started_on="2026-06-01",
        response=pb.THERAPY_RESPONSE_NO_BENEFIT,
    ),
    "apap_prn": _single("acetaminophen", 500, 4, as_needed=True, action=START),
    "tylenol": _single("Tylenol", 650, 3, action=CONT, started_on="2026-09-01"),
    "norco": _combo("Norco 10/325", as_needed=True, action=START, planned_days=7),
    "percocet": _combo("Percocet 5/325", as_needed=True, action=CONT, started_on="2026-09-15"),
    "ultracet": _combo("Ultracet", as_needed=True, action=START),
    "tylenol3": _combo("Tylenol #3", as_needed=True, action=CONT, started_on="2026-11-15"),
    "cyclobenzaprine": _single(
        "cyclobenzaprine", 5, 3, as_needed=True, action=START, planned_days=14
    ),
    "tizanidine": _single("tizanidine", 2, 3, action=CONT, started_on="2026-11-01"),
    "methocarbamol": _single("methocarbamol", 500, 4, action=CONT, started_on="2026-10-20"),
    "carisoprodol": _single("carisoprodol", 250, 3, action=CONT, started_on="2026-10-25"),
    "duloxetine_start": _single("duloxetine", 30, 1, action=START),
    "duloxetine_raise": _single(
        "duloxetine", 60, 1, action=CHANGE, started_on="2026-11-19", previous_dose_mg=30
    ),
    "tramadol_prn": _single("tramadol", 50, 4, as_needed=True, action=START),
    "oxycodone_prn": _single("oxycodone", 5, 6, as_needed=True, action=START, planned_days=3),
    "gabapentin": _single(
        "gabapentin", 300, 3, action=CONT, started_on="2025-01-10", indication="neuropathy"
    ),
    "diazepam": _single(
        "diazepam", 5, 2, as_needed=True, action=CONT, started_on="2026-05-01", indication="anxiety"
    ),
    "sertraline": _single(
        "sertraline", 50, 1, action=CONT, indication="depression", started_on="2023-07-01"
    ),
    "warfarin": _single(
        "warfarin", 5, 1, action=CONT, indication="atrial fibrillation", started_on="2024-02-01"
    ),
    "diclofenac_gel": _single("diclofenac", 40, 4, route=pb.ROUTE_TOPICAL, action=START),
    "celebrex": _single("Celebrex", 100, 2, action=START),
    "amitriptyline": _single("amitriptyline", 10, 1, action=CONT, started_on="2026-03-01"),
    "fentanyl_patch": _patch,
    "hydrocodone_apap": _explicit_combo,
    "lisinopril": _single("lisinopril", 10, 1, action=CONT, indication="hypertension"),
}

# (patient flags, orders): shapes of real low-back-pain regimens, small ones more common.
TEMPLATES: list[tuple[dict, list[str]]] = [
    ({}, ["ibuprofen"]),
    ({}, ["naproxen", "cyclobenzaprine"]),
    ({"gi_bleed_history": True}, ["ibuprofen", "apap_prn"]),
    ({}, ["meloxicam", "duloxetine_start"]),
    ({}, ["norco", "tizanidine", "naproxen_stop"]),
    ({"renal_impairment": True}, ["percocet", "apap_prn", "cyclobenzaprine"]),
    ({}, ["ultracet", "sertraline", "ibuprofen"]),
    ({"substance_use_disorder": True}, ["oxycodone_prn", "diazepam", "gabapentin"]),
    ({"cardiovascular_disease": True}, ["celebrex", "warfarin", "tylenol", "lisinopril"]),
    ({}, ["duloxetine_raise", "tizanidine", "ibuprofen", "apap_prn"]),
    ({"hepatic_impairment": True}, ["tylenol3", "tylenol", "methocarbamol", "diclofenac_gel"]),
    ({}, ["fentanyl_patch", "hydrocodone_apap", "carisoprodol", "gabapentin", "diazepam"]),
    ({"seizure_disorder": True}, ["tramadol_prn", "amitriptyline", "naproxen", "sertraline"]),
    ({}, ["norco", "percocet", "apap_prn", "ibuprofen", "cyclobenzaprine", "duloxetine_start"]),
    (
        {"refractory_symptoms": True},
        [
            "meloxicam",
            "tramadol_prn",
            "tizanidine",
            "naproxen_stop",
            "duloxetine_raise",
            "warfarin",
            "lisinopril",
        ],
    ),
    (
        {"alcohol_use_disorder": True},
        [
            "ultracet",
            "tylenol",
            "celebrex",
            "methocarbamol",
            "sertraline",
            "gabapentin",
            "hydrocodone_apap",
            "diclofenac_gel",
        ],
    ),
]
CAPACITY = len(TEMPLATES) * AGES * WEEKS * DAYS * VARIANTS


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def unique_amount(order: pb.MedicationOrder, serial: int) -> pb.MedicationOrder:
    """``order`` with its amount moved by ``serial`` parts in ten million (a distinct content)."""
    factor = 1 + serial * 1e-7
    if order.dose_mg:
        order.dose_mg *= factor
    elif order.units_per_dose:
        order.units_per_dose *= factor
    elif order.rate_mcg_per_hour:
        order.rate_mcg_per_hour *= factor
    else:
        order.doses_per_day *= factor
    for part in order.ingredients:
        part.dose_mg *= factor
    return order


class Generator:
    """``regimen(i)`` -> serialized CheckRegimenRequest; ``batch(start, n)`` -> batch bytes."""

    def __init__(self, seed: int = 20261123, *, unique_orders: bool = False) -> None:
        rng = random.Random(seed)
        self._unique = unique_orders
        self._variant_order: list[tuple[tuple[int, ...], ...]] = []
        # a seeded shuffle of the variant order per (template, slot): deterministic, not uniform
        self._templates = []
        for flags, atoms in TEMPLATES:
            slots = []
            orders = []
            for name in atoms:
                order = list(range(VARIANTS))
                rng.shuffle(order)
                orders.append(tuple(order))
                slots.append(tuple(_field(3, ATOMS[name](v).SerializeToString()) for v in order))
            self._variant_order.append(tuple(orders))
            flag_bytes = pb.Patient(**flags).SerializeToString()
            self._templates.append((flag_bytes, tuple(slots)))
        self._ages = [bytes([0x08]) + varint(20 + a) for a in range(AGES)]
        self._weeks = [b"" if w == 0 else bytes([0x50]) + varint(w) for w in range(WEEKS)]
        self._as_of = [
            _field(4, (BASE_DATE + dt.timedelta(days=d)).isoformat().encode()) for d in range(DAYS)
        ]
        self._invalid = _field(
            3, pb.MedicationOrder(drug="ibuprofen", dose_mg=-5, doses_per_day=2).SerializeToString()
        )
        self._count = len(self._templates)

    @staticmethod
    def is_invalid(i: int) -> bool:
        return i % INVALID_EVERY == INVALID_EVERY - 1

    def regimen(self, i: int) -> bytes:
        flags, slots = self._templates[i % self._count]
        rest = i // self._count
        rest, age = divmod(rest, AGES)
        rest, weeks = divmod(rest, WEEKS)
        rest, day = divmod(rest, DAYS)
        patient = self._ages[age] + flags + self._weeks[weeks]
        rid = b"r%d" % i
        parts = [b"\x0a", bytes((len(rid),)), rid, b"\x12", bytes((len(patient),)), patient]
        if self._unique:
            atoms = TEMPLATES[i % self._count][1]
            shuffled = self._variant_order[i % self._count]
            for slot, name in enumerate(atoms):
                rest, v = divmod(rest, VARIANTS)
                order = unique_amount(ATOMS[name](shuffled[slot][v]), i * 16 + slot + 1)
                parts.append(_field(3, order.SerializeToString()))
        else:
            for variants in slots:
                rest, v = divmod(rest, VARIANTS)
                parts.append(variants[v])
        if i % INVALID_EVERY == INVALID_EVERY - 1:
            parts.append(self._invalid)
        parts.append(self._as_of[day])
        return b"".join(parts)

    def batch(self, start: int, count: int) -> bytes:
        """A serialized CheckRegimenBatchRequest of regimens start .. start+count-1."""
        parts = []
        regimen = self.regimen
        for i in range(start, start + count):
            body = regimen(i)
            parts.append(b"\x0a" + varint(len(body)) + body)
        return b"".join(parts)

    def message(self, i: int) -> pb.CheckRegimenRequest:
        """The same regimen built through the protobuf API (slow; for the self-test)."""
        flags_dict, atoms = TEMPLATES[i % self._count]
        rest = i // self._count
        rest, age = divmod(rest, AGES)
        rest, weeks = divmod(rest, WEEKS)
        rest, day = divmod(rest, DAYS)
        request = pb.CheckRegimenRequest(
            request_id=f"r{i}",
            patient=pb.Patient(age_years=20 + age, pain_duration_weeks=weeks, **flags_dict),
            as_of=(BASE_DATE + dt.timedelta(days=day)).isoformat(),
        )
        _, slots = self._templates[i % self._count]
        for name, variants in zip(atoms, slots, strict=True):
            rest, v = divmod(rest, VARIANTS)
            # variants were shuffled: find which original variant sits at position v
            encoded = variants[v]
            for original in range(VARIANTS):
                candidate = ATOMS[name](original)
                if _field(3, candidate.SerializeToString()) == encoded:
                    request.medications.append(candidate)
                    break
        if self.is_invalid(i):
            request.medications.append(
                pb.MedicationOrder(drug="ibuprofen", dose_mg=-5, doses_per_day=2)
            )
        return request


def self_test(samples: int = 2000, distinct: int = 100_000) -> dict:
    """Generated bytes parse to the protobuf-built regimen; contents are distinct."""
    generator = Generator()
    step = max(1, 1_000_000 // samples)
    for i in range(0, 1_000_000, step):
        parsed = pb.CheckRegimenRequest.FromString(generator.regimen(i))
        expected = generator.message(i)
        assert parsed == expected, f"regimen {i}: bytes and protobuf API disagree"
        assert parsed.SerializeToString() == generator.regimen(i), f"regimen {i}: not canonical"
    seen = set()
    for i in range(distinct):
        body = generator.regimen(i)
        seen.add(body[body.index(b"\x12") :])  # everything but the request id
    assert len(seen) == distinct, f"only {len(seen)} distinct contents in {distinct}"
    batch = pb.CheckRegimenBatchRequest.FromString(generator.batch(5000, 1000))
    assert [r.request_id for r in batch.requests] == [f"r{i}" for i in range(5000, 6000)]
    return {
        "checked_against_protobuf_api": len(range(0, 1_000_000, step)),
        "distinct_contents_checked": distinct,
        "capacity_distinct": CAPACITY,
    }
