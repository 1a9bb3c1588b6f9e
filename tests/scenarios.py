"""Clinical scenarios from the guideline, as data: request, expected verdict and findings.

Each scenario is a regimen a prescriber might propose for subacute or chronic low back pain,
written from the guideline text (shared/seed, pharmacologic sections) and the rule catalogue
(shared/spec/clinical-rules.md). ``request`` is a ``CheckRegimenRequest`` in protobuf JSON form
(camelCase), exactly what a pharmacy system would send; tests/test_scenarios.py sends every
scenario through the gRPC API.

Expectations:

- ``verdict``: ``ACCEPT``, ``REVIEW`` or ``REJECT``.
- ``must``: rule id -> required severity (``INFO``/``WARNING``/``CRITICAL``), or None for any;
  a finding of that rule (with that severity) must be present.
- ``must_not``: rule ids that must not appear at all.
- ``only``: the findings' rule ids are exactly ``must``'s (quiet regimens: nothing else).
- ``max_severity``: no finding above this severity (guideline-endorsed regimens: ``INFO``).
- ``acknowledged`` / ``unacknowledged``: rule ids whose findings must all be (or not be)
  marked acknowledged.
- ``mentions``: rule id -> words that the finding's message or recommendation must contain.
- ``ncpdp``: rule id -> the NCPDP reason code the finding must carry.
- ``summary``: RegimenSummary fields (JSON names) -> expected value.
- ``bug``: set when the product gets this scenario wrong; the test is then xfail(strict=True)
  with this reason, and the scenario keeps the clinically expected outcome.

All scenarios are checked as of 2026-11-23 unless they say otherwise, so durations are exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

AS_OF = "2026-11-23"
START = "ORDER_ACTION_START"
CONTINUE = "ORDER_ACTION_CONTINUE"
CHANGE_DOSE = "ORDER_ACTION_CHANGE_DOSE"
STOP = "ORDER_ACTION_STOP"
BENEFIT = "THERAPY_RESPONSE_BENEFIT"
NO_BENEFIT = "THERAPY_RESPONSE_NO_BENEFIT"
TOPICAL = "ROUTE_TOPICAL"
TRANSDERMAL = "ROUTE_TRANSDERMAL"

ADULT = {"ageYears": 45}
OLDER = {"ageYears": 72}

SEVERITIES = ("INFO", "WARNING", "CRITICAL")
VERDICTS = ("ACCEPT", "REVIEW", "REJECT")


@dataclass(frozen=True)
class Scenario:
    name: str
    rationale: str
    request: Mapping[str, Any]
    verdict: str
    must: Mapping[str, str | None] = field(default_factory=dict)
    must_not: tuple[str, ...] = ()
    only: bool = False
    max_severity: str | None = None
    acknowledged: tuple[str, ...] = ()
    unacknowledged: tuple[str, ...] = ()
    mentions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ncpdp: Mapping[str, str] = field(default_factory=dict)
    summary: Mapping[str, float] = field(default_factory=dict)
    bug: str | None = None

    def __post_init__(self) -> None:
        assert self.verdict in VERDICTS, self.name
        assert all(s is None or s in SEVERITIES for s in self.must.values()), self.name
        assert not set(self.must) & set(self.must_not), self.name
        assert self.max_severity is None or self.max_severity in SEVERITIES, self.name


# --- request builders (plain dicts in protobuf JSON form) -------------------------------------


def med(drug: str, dose: float | None = None, per_day: float | None = None, **fields: Any):
    """A MedicationOrder dict; keyword arguments are its JSON (camelCase) fields."""
    order: dict[str, Any] = {"drug": drug}
    if dose is not None:
        order["doseMg"] = dose
    if per_day is not None:
        order["dosesPerDay"] = per_day
    order.update(fields)
    return order


def start(drug: str, dose: float | None = None, per_day: float | None = None, **fields: Any):
    return med(drug, dose, per_day, action=START, **fields)


def stop(drug: str, **fields: Any):
    return {"drug": drug, "action": STOP, **fields}


def req(*meds: dict[str, Any], patient: Mapping[str, Any] | None = None, acks=(), **fields: Any):
    """A CheckRegimenRequest dict made on AS_OF."""
    request: dict[str, Any] = {"asOf": AS_OF, "medications": list(meds)}
    if patient is not None:
        request["patient"] = dict(patient)
    if acks:
        request["acknowledgements"] = list(acks)
    request.update(fields)
    return request


def ack(
    rule_id: str, *drugs: str, reason: str = "reviewed with the patient; benefits outweigh risks"
):
    acknowledgement: dict[str, Any] = {"ruleId": rule_id, "reason": reason}
    if drugs:
        acknowledgement["drugs"] = list(drugs)
    return acknowledgement


# Common orders.
NAPROXEN = med("naproxen", 500, 2)
APAP_650_PRN = med("acetaminophen", 650, 4, asNeeded=True)

S = Scenario


SCENARIOS: tuple[Scenario, ...] = (
    # ---------------------------------------------------------------------------------------
    # Guideline-endorsed regimens (clinical-rules.md): ACCEPT, nothing above INFO.
    # ---------------------------------------------------------------------------------------
    S(
        "endorsed_naproxen_alone",
        "Nonopioid analgesics (NSAIDs): an NSAID at a usual dose, continued when effective, in a patient without NSAID risks.",
        req(NAPROXEN, patient=ADULT),
        "ACCEPT",
        only=True,
        max_severity="INFO",
        must_not=("NSAID_RISK", "DOSE_ABOVE_MAX", "DUPLICATE_THERAPY"),
    ),
    S(
        "endorsed_acetaminophen_650_q6h_prn",
        "Nonopioid analgesics (Acetaminophen): 650 mg every six hours as needed (2,600 mg/day) for most adults.",
        req(APAP_650_PRN, patient=ADULT),
        "ACCEPT",
        only=True,
        max_severity="INFO",
        must_not=("ACETAMINOPHEN_DAILY_MAX", "DOSE_ABOVE_MAX"),
        summary={"acetaminophenMgPerDay": 2600, "acetaminophenLimitMgPerDay": 3000},
    ),
    S(
        "endorsed_nsaid_continued_duloxetine_30_started",
        "Combination therapy: NSAIDs with duloxetine 30 mg once daily for chronic pain.",
        req(
            NAPROXEN, start("duloxetine", 30, 1), patient={"ageYears": 52, "painDurationWeeks": 20}
        ),
        "ACCEPT",
        must={"NSAID_RISK": "INFO"},  # an NSAID with an SNRI: bleeding, INFO alone
        only=True,
        max_severity="INFO",
        must_not=(
            "START_LOW",
            "DULOXETINE_SUBACUTE",
            "MULTIPLE_NEW_AGENTS",
            "SEROTONERGIC_COMBINATION",
        ),
    ),
    S(
        "endorsed_nsaid_continued_cyclobenzaprine_5_tid_prn_short_course",
        "Combination therapy: NSAIDs with cyclobenzaprine 5 mg three times daily as needed, a trial of up to four weeks.",
        req(NAPROXEN, start("cyclobenzaprine", 5, 3, asNeeded=True, plannedDays=14), patient=ADULT),
        "ACCEPT",
        only=True,
        max_severity="INFO",
        must_not=(
            "MUSCLE_RELAXANT_DURATION",
            "START_LOW",
            "SEROTONERGIC_COMBINATION",
            "OLDER_ADULT_CAUTION",
        ),
    ),
    S(
        "endorsed_nsaid_continued_tizanidine_4_tid_prn_started",
        "Combination therapy: NSAIDs with tizanidine 4 to 8 mg three times daily as needed (4 mg start accepted with an NSAID).",
        req(NAPROXEN, start("tizanidine", 4, 3, asNeeded=True, plannedDays=21), patient=ADULT),
        "ACCEPT",
        only=True,
        max_severity="INFO",
        must_not=("START_LOW", "DOSE_ABOVE_GUIDELINE_RANGE"),
    ),
    S(
        "endorsed_nsaid_continued_tizanidine_2_tid_prn_started",
        "Skeletal muscle relaxants for short-term relief: tizanidine 2 to 8 mg three times daily as needed, added to an NSAID.",
        req(NAPROXEN, start("tizanidine", 2, 3, asNeeded=True), patient=ADULT),
        "ACCEPT",
        only=True,
        max_severity="INFO",
        must_not=("START_LOW",),
    ),
    S(
        "endorsed_duloxetine_60_continued_tizanidine_4_started",
        "Combination therapy: duloxetine 60 mg daily with tizanidine 4 to 8 mg three times daily as needed (tizanidine preferred: not serotonergic).",
        req(
            med("duloxetine", 60, 1, startedOn="2026-08-01", response=BENEFIT),
            start("tizanidine", 4, 3, asNeeded=True),
            patient={"ageYears": 50, "painDurationWeeks": 30},
        ),
        "ACCEPT",
        only=True,
        max_severity="INFO",
        must_not=("SEROTONERGIC_COMBINATION", "START_LOW", "DOSE_ABOVE_GUIDELINE_RANGE"),
    ),
    S(
        "endorsed_duloxetine_raised_30_to_60_on_day_7",
        "Duloxetine: started at 30 mg once daily and after one week increased to 60 mg (day 7 is one week).",
        req(
            med("duloxetine", 60, 1, action=CHANGE_DOSE, previousDoseMg=30, startedOn="2026-11-16"),
            patient={"ageYears": 58, "painDurationWeeks": 26},
        ),
        "ACCEPT",
        only=True,
        max_severity="INFO",
        must_not=("TITRATION_INTERVAL", "DOSE_ABOVE_GUIDELINE_RANGE"),
    ),
    S(
        "endorsed_duloxetine_raised_30_to_60_after_two_weeks",
        "Duloxetine: increased to 60 mg once daily after one week if tolerated.",
        req(
            NAPROXEN,
            med("duloxetine", 60, 1, action=CHANGE_DOSE, previousDoseMg=30, startedOn="2026-11-09"),
            patient={"ageYears": 58, "painDurationWeeks": 26},
        ),
        "ACCEPT",
        must={"NSAID_RISK": "INFO"},  # an NSAID with an SNRI: bleeding, INFO alone
        only=True,
        max_severity="INFO",
        must_not=("TITRATION_INTERVAL",),
    ),
    S(
        "endorsed_cyclobenzaprine_long_term_criteria_met",
        "Long-term use of skeletal muscle relaxants: continued beyond four weeks in refractory pain when it helps and is tolerated (INFO only).",
        req(
            NAPROXEN,
            med("cyclobenzaprine", 5, 3, asNeeded=True, startedOn="2026-08-01", response=BENEFIT),
            patient={"ageYears": 49, "refractorySymptoms": True, "painDurationWeeks": 40},
        ),
        "ACCEPT",
        must={"MUSCLE_RELAXANT_DURATION": "INFO"},
        only=True,
        max_severity="INFO",
    ),
    S(
        "endorsed_tizanidine_long_term_with_duloxetine_criteria_met",
        "Long-term use of skeletal muscle relaxants: alone or in combination (duloxetine + tizanidine) in refractory pain with benefit.",
        req(
            med("duloxetine", 60, 1, startedOn="2026-05-01", response=BENEFIT),
            med("tizanidine", 4, 3, asNeeded=True, startedOn="2026-07-01", response=BENEFIT),
            patient={"ageYears": 55, "refractorySymptoms": True, "painDurationWeeks": 60},
        ),
        "ACCEPT",
        must={"MUSCLE_RELAXANT_DURATION": "INFO"},
        only=True,
        max_severity="INFO",
    ),
    # ---------------------------------------------------------------------------------------
    # Other quiet regimens the guideline supports.
    # ---------------------------------------------------------------------------------------
    S(
        "quiet_tramadol_50_q6h_prn_started_adult_no_risks",
        "Tramadol: start at the lowest dose, 50 mg every six hours as needed; not an 'other opioid' (no OPIOID_NOT_FIRST_LINE), 40 MME/day.",
        req(
            start("tramadol", 50, 4, asNeeded=True),
            patient={"ageYears": 47, "painDurationWeeks": 30},
        ),
        "ACCEPT",
        only=True,
        max_severity="INFO",
        must_not=(
            "OPIOID_NOT_FIRST_LINE",
            "START_LOW",
            "OPIOID_DAILY_MME",
            "SEROTONERGIC_COMBINATION",
            "MISUSE_RISK",
            "SEIZURE_RISK",
            "TRAMADOL_EXTENDED_RELEASE_START",
        ),
        summary={"morphineMgEquivalentsPerDay": 40, "serotonergicAgents": 1},
    ),
    S(
        "quiet_nortriptyline_25_qhs_started",
        "Tricyclic antidepressants: nortriptyline 25 to 75 mg once daily at bedtime; 25 mg is the start.",
        req(start("nortriptyline", 25, 1), patient={"ageYears": 44, "painDurationWeeks": 20}),
        "ACCEPT",
        only=True,
        max_severity="INFO",
        must_not=("DOSING_SCHEDULE", "START_LOW", "OLDER_ADULT_CAUTION"),
    ),
    S(
        "quiet_desipramine_50_qhs_started",
        "Tricyclic antidepressants: desipramine 50 to 150 mg once daily at bedtime; 50 mg is the start.",
        req(start("desipramine", 50, 1), patient={"ageYears": 39}),
        "ACCEPT",
        only=True,
        max_severity="INFO",
        must_not=("START_LOW", "DOSING_SCHEDULE"),
    ),
    S(
        "quiet_topical_diclofenac_with_acetaminophen",
        "Nonopioid analgesics: 'we do not combine acetaminophen with NSAIDs' concerns systemic NSAIDs; a topical NSAID is not one.",
        req(med("diclofenac", 40, 4, route=TOPICAL), APAP_650_PRN, patient=ADULT),
        "ACCEPT",
        only=True,
        max_severity="INFO",
        must_not=("NSAID_WITH_ACETAMINOPHEN", "DOSE_ABOVE_MAX", "NSAID_RISK"),
    ),
    S(
        "quiet_topical_diclofenac_gi_bleed_history",
        "Nonopioid analgesics (NSAIDs): GI risk factors concern systemic NSAIDs; topical diclofenac is not judged as one.",
        req(
            med("Voltaren", 40, 4, route=TOPICAL), patient={"ageYears": 58, "giBleedHistory": True}
        ),
        "ACCEPT",
        only=True,
        must_not=("NSAID_RISK",),
    ),
    S(
        "quiet_tizanidine_2mg_started_older_adult",
        "Skeletal muscle relaxants: tizanidine is not on the Beers avoid list (unlike cyclobenzaprine), so no older-adult caution.",
        req(start("tizanidine", 2, 3, asNeeded=True), patient=OLDER),
        "ACCEPT",
        only=True,
        must_not=("OLDER_ADULT_CAUTION", "START_LOW"),
    ),
    S(
        "quiet_brands_cymbalta_started_with_aleve",
        "Combination therapy: an NSAID (Aleve = naproxen) with duloxetine (Cymbalta) 30 mg; brands resolve to their ingredients.",
        req(
            med("Aleve", 220, 2),
            start("Cymbalta", 30, 1),
            patient={"ageYears": 61, "painDurationWeeks": 16},
        ),
        "ACCEPT",
        must={"NSAID_RISK": "INFO"},  # an NSAID with an SNRI: bleeding, INFO alone
        only=True,
        must_not=("UNKNOWN_DRUG", "START_LOW"),
    ),
    S(
        "quiet_rxcui_72625_duloxetine_started",
        "Duloxetine 30 mg once daily given by its RxNorm ingredient code rxcui:72625, with an NSAID.",
        req(
            NAPROXEN, start("rxcui:72625", 30, 1), patient={"ageYears": 50, "painDurationWeeks": 16}
        ),
        "ACCEPT",
        must={"NSAID_RISK": "INFO"},  # an NSAID with an SNRI: bleeding, INFO alone
        only=True,
        must_not=("UNKNOWN_DRUG",),
    ),
    S(
        "quiet_acetaminophen_er_1300_bid",
        "Nonopioid analgesics (Acetaminophen): the extended-release 1,300 mg dose is within its label per-dose maximum; 2,600 mg/day is within 3 g.",
        req(med("acetaminophen", 1300, 2, extendedRelease=True), patient=ADULT),
        "ACCEPT",
        only=True,
        must_not=("DOSE_ABOVE_MAX", "ACETAMINOPHEN_DAILY_MAX"),
    ),
    # ---------------------------------------------------------------------------------------
    # ACETAMINOPHEN_DAILY_MAX: every source counts; 3 g adult, 2 g older/hepatic/alcohol.
    # ---------------------------------------------------------------------------------------
    S(
        "apap_exactly_3000_adult_within_limit",
        "Nonopioid analgesics (Acetaminophen): maximum 3 grams per 24 hours for most adults; exactly 3,000 mg is within it.",
        req(med("acetaminophen", 1000, 3), patient=ADULT),
        "ACCEPT",
        only=True,
        must_not=("ACETAMINOPHEN_DAILY_MAX", "DOSE_ABOVE_MAX"),
        summary={"acetaminophenMgPerDay": 3000, "acetaminophenLimitMgPerDay": 3000},
    ),
    S(
        "apap_3250_adult_over_limit",
        "Nonopioid analgesics (Acetaminophen): 650 mg five times a day is 3,250 mg, over the 3 g maximum.",
        req(med("acetaminophen", 650, 5, asNeeded=True), patient=ADULT),
        "REJECT",
        must={"ACETAMINOPHEN_DAILY_MAX": "CRITICAL"},
        ncpdp={"ACETAMINOPHEN_DAILY_MAX": "HD"},
        mentions={"ACETAMINOPHEN_DAILY_MAX": ("3,250", "3,000")},
        summary={"acetaminophenMgPerDay": 3250},
    ),
    S(
        "apap_exactly_2000_age_65_within_limit",
        "Nonopioid analgesics (Acetaminophen): a lower total daily dose for older adults; exactly 2,000 mg at 65 is within it.",
        req(med("acetaminophen", 500, 4, asNeeded=True), patient={"ageYears": 65}),
        "ACCEPT",
        only=True,
        must_not=("ACETAMINOPHEN_DAILY_MAX",),
        summary={"acetaminophenMgPerDay": 2000, "acetaminophenLimitMgPerDay": 2000},
    ),
    S(
        "apap_2600_age_65_over_limit",
        "Nonopioid analgesics (Acetaminophen): the adult 650 mg q6h regimen (2,600 mg) exceeds the older adult's lower daily limit.",
        req(APAP_650_PRN, patient={"ageYears": 65}),
        "REJECT",
        must={"ACETAMINOPHEN_DAILY_MAX": "CRITICAL"},
        summary={"acetaminophenLimitMgPerDay": 2000},
    ),
    S(
        "apap_2600_hepatic_impairment_over_limit",
        "Nonopioid analgesics (Acetaminophen): a lower total daily dose for those with any hepatic impairment.",
        req(APAP_650_PRN, patient={"ageYears": 40, "hepaticImpairment": True}),
        "REJECT",
        must={"ACETAMINOPHEN_DAILY_MAX": "CRITICAL"},
        summary={"acetaminophenLimitMgPerDay": 2000},
    ),
    S(
        "apap_2600_alcohol_use_disorder_over_limit",
        "Nonopioid analgesics (Acetaminophen): hepatotoxicity; the catalogue applies the 2 g limit with alcohol use disorder.",
        req(APAP_650_PRN, patient={"ageYears": 40, "alcoholUseDisorder": True}),
        "REJECT",
        must={"ACETAMINOPHEN_DAILY_MAX": "CRITICAL"},
    ),
    S(
        "norco_10_325_two_tablets_q6h_counts_650_per_dose",
        "Nonopioid analgesics: consider all sources of acetaminophen; Norco 10/325 x2 is 650 mg acetaminophen and 20 mg hydrocodone a dose.",
        req(
            med("Norco 10/325", per_day=4, unitsPerDose=2, asNeeded=True, startedOn="2026-05-01"),
            patient=ADULT,
        ),
        "REVIEW",
        must={"OPIOID_DAILY_MME": "WARNING", "OPIOID_NOT_FIRST_LINE": "INFO"},
        must_not=("ACETAMINOPHEN_DAILY_MAX", "DOSE_ABOVE_MAX"),
        summary={"acetaminophenMgPerDay": 2600, "morphineMgEquivalentsPerDay": 80},
    ),
    S(
        "norco_10_325_two_tablets_plus_otc_tylenol_over_limit",
        "Nonopioid analgesics: all sources of acetaminophen, prescription and OTC: Norco 2 tabs q6h (2,600) + Tylenol 500 = 3,100 mg.",
        req(
            med("Norco 10/325", per_day=4, unitsPerDose=2, asNeeded=True, startedOn="2026-05-01"),
            med("Tylenol", 500, 1),
            patient=ADULT,
        ),
        "REJECT",
        must={"ACETAMINOPHEN_DAILY_MAX": "CRITICAL", "OPIOID_DAILY_MME": "WARNING"},
        must_not=("NSAID_WITH_ACETAMINOPHEN",),
        summary={"acetaminophenMgPerDay": 3100},
    ),
    S(
        "percocet_plus_tylenol_over_limit",
        "Nonopioid analgesics: Percocet 5/325 q6h (1,300 mg) plus Tylenol 1,000 mg twice daily = 3,300 mg acetaminophen.",
        req(
            med("Percocet 5/325", per_day=4, asNeeded=True, startedOn="2026-06-01"),
            med("Tylenol", 1000, 2),
            patient={"ageYears": 55, "refractorySymptoms": True},
        ),
        "REJECT",
        must={"ACETAMINOPHEN_DAILY_MAX": "CRITICAL"},
        must_not=("OPIOID_DAILY_MME", "DOSE_ABOVE_MAX"),
        summary={"acetaminophenMgPerDay": 3300, "morphineMgEquivalentsPerDay": 30},
    ),
    S(
        "apap_for_osteoarthritis_counts_toward_total",
        "Nonopioid analgesics: every acetaminophen source counts, whatever it is for: 3,000 mg for knee OA + Percocet 5/325 twice daily.",
        req(
            med("acetaminophen", 1000, 3, indication="knee osteoarthritis"),
            med("Percocet 5/325", per_day=2, asNeeded=True, startedOn="2026-06-01"),
            patient={"ageYears": 60, "refractorySymptoms": True},
        ),
        "REJECT",
        must={"ACETAMINOPHEN_DAILY_MAX": "CRITICAL"},
        summary={"acetaminophenMgPerDay": 3650},
    ),
    S(
        "tylenol_with_codeine_3_two_tabs_six_times_daily",
        "Nonopioid analgesics / Other opioids: Tylenol #3 two tablets q4h = 3,600 mg acetaminophen and 360 mg codeine (54 MME).",
        req(
            med(
                "Tylenol with Codeine #3",
                per_day=6,
                unitsPerDose=2,
                asNeeded=True,
                startedOn="2026-09-01",
            ),
            patient=ADULT,
        ),
        "REJECT",
        must={"ACETAMINOPHEN_DAILY_MAX": "CRITICAL", "OPIOID_DAILY_MME": "WARNING"},
        must_not=("DOSE_ABOVE_MAX",),
        summary={"acetaminophenMgPerDay": 3600, "morphineMgEquivalentsPerDay": 54},
    ),
    S(
        "rxcui_857002_hydrocodone_apap_5_325_plus_rxcui_161",
        "Nonopioid analgesics: combination product by RxCUI (857002, hydrocodone/APAP 5/325) x2 q6h + acetaminophen (rxcui:161) 500 mg = 3,100 mg.",
        req(
            med("rxcui:857002", per_day=4, unitsPerDose=2, asNeeded=True, startedOn="2026-06-01"),
            med("rxcui:161", 500, 1),
            patient=ADULT,
        ),
        "REJECT",
        must={"ACETAMINOPHEN_DAILY_MAX": "CRITICAL"},
        must_not=("UNKNOWN_DRUG", "OPIOID_DAILY_MME"),
        summary={"acetaminophenMgPerDay": 3100, "morphineMgEquivalentsPerDay": 40},
    ),
    # ---------------------------------------------------------------------------------------
    # DOSE_ABOVE_MAX (label maxima) and DOSE_ABOVE_GUIDELINE_RANGE.
    # ---------------------------------------------------------------------------------------
    S(
        "acetaminophen_1300_immediate_release_dose",
        "Nonopioid analgesics (Acetaminophen): label maximum 1,000 mg per dose for immediate release, though 2,600 mg/day is within 3 g.",
        req(med("acetaminophen", 1300, 2), patient=ADULT),
        "REJECT",
        must={"DOSE_ABOVE_MAX": "CRITICAL"},
        must_not=("ACETAMINOPHEN_DAILY_MAX",),
    ),
    S(
        "tramadol_100_five_times_daily_500mg",
        "Tramadol: 50 to 100 mg every six hours; label maximum 400 mg/day; 500 mg/day is also 100 MME.",
        req(med("tramadol", 100, 5, startedOn="2026-09-01"), patient=ADULT),
        "REJECT",
        must={"DOSE_ABOVE_MAX": "CRITICAL", "OPIOID_DAILY_MME": "CRITICAL"},
        must_not=("OPIOID_NOT_FIRST_LINE",),
    ),
    S(
        "tramadol_400_mg_day_age_80",
        "Tramadol: label maximum 300 mg/day over age 75; 100 mg q6h at 80 exceeds it.",
        req(med("tramadol", 100, 4, startedOn="2026-09-01"), patient={"ageYears": 80}),
        "REJECT",
        must={"DOSE_ABOVE_MAX": "CRITICAL", "OPIOID_DAILY_MME": "WARNING"},
    ),
    S(
        "tramadol_400_mg_day_age_75_within_label",
        "Tramadol: the 300 mg/day limit applies over 75; at 75, 400 mg/day is within the label (80 MME still needs review).",
        req(med("tramadol", 100, 4, startedOn="2026-09-01"), patient={"ageYears": 75}),
        "REVIEW",
        must={"OPIOID_DAILY_MME": "WARNING"},
        must_not=("DOSE_ABOVE_MAX", "DOSE_ABOVE_GUIDELINE_RANGE"),
    ),
    S(
        "tramadol_extended_release_400_daily",
        "Tramadol: extended-release label maximum 300 mg/day.",
        req(med("tramadol", 400, 1, extendedRelease=True, startedOn="2026-08-01"), patient=ADULT),
        "REJECT",
        must={"DOSE_ABOVE_MAX": "CRITICAL"},
    ),
    S(
        "cyclobenzaprine_10_qid_40mg",
        "Skeletal muscle relaxants: cyclobenzaprine 5 to 10 mg three times daily; label maximum 30 mg/day.",
        req(med("cyclobenzaprine", 10, 4, startedOn="2026-11-10"), patient=ADULT),
        "REJECT",
        must={"DOSE_ABOVE_MAX": "CRITICAL"},
        must_not=("MUSCLE_RELAXANT_DURATION",),
    ),
    S(
        "ibuprofen_scheduled_plus_prn_over_daily_max",
        "Nonopioid analgesics: the same NSAID scheduled and as needed is one ingredient; 800 mg x3 + 800 mg x2 PRN = 4,000 mg/day.",
        req(med("ibuprofen", 800, 3), med("ibuprofen", 800, 2, asNeeded=True), patient=ADULT),
        "REJECT",
        must={"DOSE_ABOVE_MAX": "CRITICAL"},
        must_not=("DUPLICATE_THERAPY",),
    ),
    S(
        "duloxetine_90_for_back_pain_above_guideline",
        "Duloxetine: the guideline's dose is 60 mg once daily; 90 mg is within the label but above the guideline.",
        req(med("duloxetine", 90, 1, startedOn="2026-06-01"), patient={"ageYears": 50}),
        "REVIEW",
        must={"DOSE_ABOVE_GUIDELINE_RANGE": "WARNING"},
        must_not=("DOSE_ABOVE_MAX",),
    ),
    S(
        "duloxetine_90_for_depression_not_judged_by_back_pain_range",
        "Duloxetine: a higher dose for coexisting depression is not a deviation from the back-pain guideline.",
        req(
            med(
                "duloxetine", 90, 1, startedOn="2026-06-01", indication="major depressive disorder"
            ),
            patient={"ageYears": 50},
        ),
        "ACCEPT",
        only=True,
        must_not=("DOSE_ABOVE_GUIDELINE_RANGE",),
    ),
    S(
        "tizanidine_12mg_dose_above_guideline",
        "Skeletal muscle relaxants: tizanidine 2 to 8 mg a dose; 12 mg is within the label (16 mg) but above the guideline.",
        req(med("Zanaflex", 12, 2, startedOn="2026-11-10"), patient=ADULT),
        "REVIEW",
        must={"DOSE_ABOVE_GUIDELINE_RANGE": "WARNING"},
        must_not=("DOSE_ABOVE_MAX",),
    ),
    S(
        "amitriptyline_100_qhs_above_guideline",
        "Tricyclic antidepressants: amitriptyline 25 to 75 mg once daily at bedtime; 100 mg is above that range.",
        req(med("amitriptyline", 100, 1, startedOn="2026-06-01"), patient={"ageYears": 48}),
        "REVIEW",
        must={"DOSE_ABOVE_GUIDELINE_RANGE": "WARNING"},
        must_not=("DOSING_SCHEDULE", "DOSE_ABOVE_MAX"),
    ),
    # ---------------------------------------------------------------------------------------
    # NSAID_WITH_ACETAMINOPHEN.
    # ---------------------------------------------------------------------------------------
    S(
        "ibuprofen_with_acetaminophen",
        "Nonopioid analgesics: 'We do not combine acetaminophen with NSAIDs.'",
        req(med("ibuprofen", 400, 3), APAP_650_PRN, patient=ADULT),
        "REVIEW",
        must={"NSAID_WITH_ACETAMINOPHEN": "WARNING"},
        only=True,
        ncpdp={"NSAID_WITH_ACETAMINOPHEN": "SR"},
    ),
    S(
        "naproxen_with_norco_acetaminophen_hidden_in_product",
        "Nonopioid analgesics: acetaminophen from any source, including a combination opioid tablet, with an NSAID.",
        req(
            NAPROXEN,
            med("Norco 5/325", per_day=4, asNeeded=True, startedOn="2026-06-01"),
            patient=ADULT,
        ),
        "REVIEW",
        must={"NSAID_WITH_ACETAMINOPHEN": "WARNING", "OPIOID_NOT_FIRST_LINE": "INFO"},
        must_not=("OPIOID_DAILY_MME",),
        summary={"morphineMgEquivalentsPerDay": 20},
    ),
    S(
        "rxcui_161_acetaminophen_with_advil",
        "Nonopioid analgesics: acetaminophen given by RxCUI 161 with ibuprofen (Advil) is still the NSAID + acetaminophen combination.",
        req(med("rxcui:161", 500, 3), med("Advil", 400, 3), patient=ADULT),
        "REVIEW",
        must={"NSAID_WITH_ACETAMINOPHEN": "WARNING"},
        must_not=("UNKNOWN_DRUG",),
    ),
    S(
        "low_dose_aspirin_with_acetaminophen",
        "Nonopioid analgesics: aspirin 81 mg for cardioprotection is antiplatelet therapy, not an analgesic NSAID.",
        req(
            med("aspirin", 81, 1, indication="secondary prevention after myocardial infarction"),
            APAP_650_PRN,
            patient={"ageYears": 60, "cardiovascularDisease": True},
        ),
        "ACCEPT",
        only=True,
        must_not=("NSAID_WITH_ACETAMINOPHEN", "NSAID_RISK", "DUPLICATE_THERAPY"),
    ),
    S(
        "analgesic_aspirin_with_acetaminophen",
        "Nonopioid analgesics: aspirin 650 mg q6h (2,600 mg/day) is an analgesic NSAID; not combined with acetaminophen.",
        req(med("aspirin", 650, 4), med("acetaminophen", 650, 3, asNeeded=True), patient=ADULT),
        "REVIEW",
        must={"NSAID_WITH_ACETAMINOPHEN": "WARNING"},
    ),
    # ---------------------------------------------------------------------------------------
    # DUPLICATE_THERAPY.
    # ---------------------------------------------------------------------------------------
    S(
        "advil_plus_aleve_two_nsaids",
        "Combination therapy / Nonopioid analgesics: two systemic NSAIDs (ibuprofen and naproxen) add harm without benefit.",
        req(med("Advil", 400, 3), med("Aleve", 220, 2), patient=ADULT),
        "REJECT",
        must={"DUPLICATE_THERAPY": "CRITICAL"},
        ncpdp={"DUPLICATE_THERAPY": "TD"},
    ),
    S(
        "celecoxib_plus_meloxicam_two_nsaids",
        "Combination therapy: a COX-2 selective NSAID is still an NSAID; two together are duplicate therapy.",
        req(med("celecoxib", 200, 1), med("meloxicam", 7.5, 1), patient=ADULT),
        "REJECT",
        must={"DUPLICATE_THERAPY": "CRITICAL"},
    ),
    S(
        "cyclobenzaprine_plus_tizanidine_two_relaxants",
        "Skeletal muscle relaxants: one relaxant at a time; two together are duplicate therapy.",
        req(
            med("Flexeril", 5, 3, asNeeded=True, startedOn="2026-11-10"),
            start("tizanidine", 2, 3, asNeeded=True),
            patient=ADULT,
        ),
        "REVIEW",
        must={"DUPLICATE_THERAPY": "WARNING"},
        must_not=("SEROTONERGIC_COMBINATION", "CONTRAINDICATED_COMBINATION"),
    ),
    S(
        "amitriptyline_plus_nortriptyline_two_tcas",
        "Tricyclic antidepressants: one TCA at bedtime; two TCAs are duplicate (and both serotonergic).",
        req(
            med("amitriptyline", 25, 1, startedOn="2026-08-01"),
            med("Pamelor", 25, 1, startedOn="2026-10-01"),
            patient={"ageYears": 50},
        ),
        "REVIEW",
        must={"DUPLICATE_THERAPY": "WARNING", "SEROTONERGIC_COMBINATION": "WARNING"},
    ),
    S(
        "tramadol_plus_oxycodone_two_opioids",
        "Restricted use of opioids: two opioids together (tramadol + oxycodone, 55 MME/day).",
        req(
            med("tramadol", 50, 4, asNeeded=True, startedOn="2026-06-01"),
            med("oxycodone", 5, 2, asNeeded=True, startedOn="2026-09-01"),
            patient={"ageYears": 50, "refractorySymptoms": True},
        ),
        "REVIEW",
        must={"DUPLICATE_THERAPY": "WARNING", "OPIOID_DAILY_MME": "WARNING"},
        summary={"morphineMgEquivalentsPerDay": 55},
    ),
    S(
        "ibuprofen_scheduled_plus_prn_same_ingredient",
        "Nonopioid analgesics: scheduled + as-needed ibuprofen is one NSAID (2,000 mg/day), not duplicate therapy.",
        req(med("ibuprofen", 400, 3), med("Motrin", 400, 2, asNeeded=True), patient=ADULT),
        "ACCEPT",
        only=True,
        must_not=("DUPLICATE_THERAPY", "DOSE_ABOVE_MAX"),
    ),
    S(
        "low_dose_aspirin_with_naproxen_not_duplicate",
        "Nonopioid analgesics: aspirin 81 mg (antiplatelet dose) is not counted as a second NSAID beside naproxen; FDA NSAID labeling: an antiplatelet agent with an NSAID raises GI bleeding risk (NSAID_RISK WARNING, issue 10).",
        req(
            med("aspirin", 81, 1, indication="primary prevention"),
            NAPROXEN,
            patient={"ageYears": 55},
        ),
        "REVIEW",
        must={"NSAID_RISK": "WARNING"},
        only=True,
        must_not=("DUPLICATE_THERAPY",),
        mentions={"NSAID_RISK": ("aspirin", "no gastroprotective agents")},
    ),
    # ---------------------------------------------------------------------------------------
    # SEROTONERGIC_COMBINATION.
    # ---------------------------------------------------------------------------------------
    S(
        "duloxetine_plus_cyclobenzaprine",
        "Combination therapy: tizanidine is preferred over cyclobenzaprine with duloxetine because of additive serotonergic effects.",
        req(
            med("duloxetine", 60, 1, startedOn="2026-08-01"),
            start("cyclobenzaprine", 5, 3, asNeeded=True),
            patient={"ageYears": 50},
        ),
        "REVIEW",
        must={"SEROTONERGIC_COMBINATION": "WARNING"},
        only=True,
        mentions={"SEROTONERGIC_COMBINATION": ("tizanidine",)},
        ncpdp={"SEROTONERGIC_COMBINATION": "AT"},
    ),
    S(
        "duloxetine_tramadol_cyclobenzaprine_three_serotonergic",
        "Tramadol: serotonin syndrome, especially when combined with other serotonergic agents; three together.",
        req(
            med("Cymbalta", 60, 1, startedOn="2026-08-01"),
            med("tramadol", 50, 4, asNeeded=True, startedOn="2026-10-01"),
            med("Flexeril", 5, 3, asNeeded=True, startedOn="2026-11-10"),
            patient={"ageYears": 50},
        ),
        "REJECT",
        must={"SEROTONERGIC_COMBINATION": "CRITICAL"},
        summary={"serotonergicAgents": 3},
    ),
    S(
        "ultracet_with_duloxetine",
        "Tramadol: Ultracet (tramadol/acetaminophen) is tramadol, serotonergic with duloxetine; serotonin syndrome and seizure risk.",
        req(
            med("duloxetine", 60, 1, startedOn="2026-08-01"),
            start("Ultracet", per_day=4, asNeeded=True),
            patient={"ageYears": 50},
        ),
        "REVIEW",
        must={"SEROTONERGIC_COMBINATION": "WARNING"},
        mentions={"SEROTONERGIC_COMBINATION": ("serotonin syndrome", "seizure")},
        must_not=("ACETAMINOPHEN_DAILY_MAX", "START_LOW"),
        summary={"acetaminophenMgPerDay": 1300, "serotonergicAgents": 2},
    ),
    S(
        "sertraline_for_depression_started_with_duloxetine",
        "Therapies not recommended / Combination therapy: sertraline for depression is not back-pain therapy but adds serotonergic load.",
        req(
            start("sertraline", 50, 1, indication="depression"),
            start("duloxetine", 30, 1),
            patient={"ageYears": 44, "painDurationWeeks": 20},
        ),
        "REVIEW",
        must={"SEROTONERGIC_COMBINATION": "WARNING"},
        must_not=("NOT_RECOMMENDED_FOR_BACK_PAIN", "MULTIPLE_NEW_AGENTS", "START_LOW"),
    ),
    S(
        "st_johns_wort_with_tramadol",
        "Tramadol / Therapies not recommended (herbal preparations): St John's wort is serotonergic and not a back-pain therapy.",
        req(
            med("St. John's wort", 300, 3),
            med("tramadol", 50, 4, asNeeded=True, startedOn="2026-10-01"),
            patient=ADULT,
        ),
        "REVIEW",
        must={"SEROTONERGIC_COMBINATION": "WARNING", "NOT_RECOMMENDED_FOR_BACK_PAIN": "INFO"},
    ),
    # ---------------------------------------------------------------------------------------
    # CONTRAINDICATED_COMBINATION (label).
    # ---------------------------------------------------------------------------------------
    S(
        "phenelzine_for_depression_with_duloxetine",
        "FDA label: an MAOI with a serotonergic agent (duloxetine) is contraindicated.",
        req(
            med("phenelzine", 15, 3, indication="depression"),
            start("duloxetine", 30, 1),
            patient={"ageYears": 50},
        ),
        "REJECT",
        must={"CONTRAINDICATED_COMBINATION": "CRITICAL"},
        ncpdp={"CONTRAINDICATED_COMBINATION": "DD"},
    ),
    S(
        "zanaflex_with_cipro",
        "FDA label (tizanidine): contraindicated with ciprofloxacin, a strong CYP1A2 inhibitor.",
        req(
            med("Zanaflex", 4, 3, asNeeded=True, startedOn="2026-11-10"),
            start("Cipro", 500, 2, indication="urinary tract infection", plannedDays=7),
            patient=ADULT,
        ),
        "REJECT",
        must={"CONTRAINDICATED_COMBINATION": "CRITICAL"},
    ),
    S(
        "tizanidine_with_fluvoxamine",
        "FDA label (tizanidine): contraindicated with fluvoxamine.",
        req(
            med("fluvoxamine", 100, 1, indication="obsessive-compulsive disorder"),
            start("tizanidine", 2, 3),
            patient=ADULT,
        ),
        "REJECT",
        must={"CONTRAINDICATED_COMBINATION": "CRITICAL"},
    ),
    S(
        "duloxetine_with_thioridazine",
        "FDA label (duloxetine): contraindicated with thioridazine.",
        req(
            med("thioridazine", 50, 2, indication="schizophrenia"),
            start("duloxetine", 30, 1),
            patient=ADULT,
        ),
        "REJECT",
        must={"CONTRAINDICATED_COMBINATION": "CRITICAL"},
    ),
    S(
        "linezolid_with_tramadol",
        "FDA label: linezolid is an MAOI; with tramadol (serotonergic) contraindicated.",
        req(
            start("linezolid", 600, 2, indication="pneumonia", plannedDays=10),
            med("tramadol", 50, 4, asNeeded=True, startedOn="2026-10-01"),
            patient=ADULT,
        ),
        "REJECT",
        must={"CONTRAINDICATED_COMBINATION": "CRITICAL"},
    ),
    S(
        "cyclobenzaprine_with_ciprofloxacin_not_contraindicated",
        "FDA label: the CYP1A2 contraindication is tizanidine's; cyclobenzaprine with ciprofloxacin is not a label contraindication.",
        req(
            start("cyclobenzaprine", 5, 3, asNeeded=True),
            start("ciprofloxacin", 500, 2, indication="urinary tract infection", plannedDays=7),
            patient=ADULT,
        ),
        "ACCEPT",
        only=True,
        must_not=("CONTRAINDICATED_COMBINATION", "MULTIPLE_NEW_AGENTS"),
    ),
    S(
        "tizanidine_with_sertraline_not_contraindicated",
        "Combination therapy: tizanidine is not serotonergic and sertraline is not a strong CYP1A2 inhibitor.",
        req(
            med("sertraline", 100, 1, indication="depression"),
            start("tizanidine", 2, 3, asNeeded=True),
            patient=ADULT,
        ),
        "ACCEPT",
        only=True,
        must_not=(
            "CONTRAINDICATED_COMBINATION",
            "SEROTONERGIC_COMBINATION",
            "NOT_RECOMMENDED_FOR_BACK_PAIN",
        ),
    ),
    # ---------------------------------------------------------------------------------------
    # BENZODIAZEPINE_WITH_OPIOID and CNS_DEPRESSANT_COMBINATION.
    # ---------------------------------------------------------------------------------------
    S(
        "diazepam_for_anxiety_with_tramadol",
        "Therapies not recommended (Benzodiazepines): the combination of benzodiazepines and opioids, tramadol included, should be avoided.",
        req(
            med("Valium", 5, 2, indication="generalized anxiety disorder"),
            start("tramadol", 50, 4, asNeeded=True),
            patient=ADULT,
        ),
        "REJECT",
        must={"BENZODIAZEPINE_WITH_OPIOID": "CRITICAL"},
        must_not=("NOT_RECOMMENDED_FOR_BACK_PAIN",),
        ncpdp={"BENZODIAZEPINE_WITH_OPIOID": "DD"},
    ),
    S(
        "lorazepam_with_percocet",
        "Therapies not recommended (Benzodiazepines): marked increase in overdose risk with an opioid.",
        req(
            med("lorazepam", 1, 2, indication="insomnia"),
            med("Percocet 5/325", per_day=3, asNeeded=True, startedOn="2026-07-01"),
            patient={"ageYears": 58},
        ),
        "REJECT",
        must={"BENZODIAZEPINE_WITH_OPIOID": "CRITICAL"},
    ),
    S(
        "diazepam_stopped_tramadol_started",
        "Therapies not recommended (Benzodiazepines): the benzodiazepine is stopped, so tramadol does not join it.",
        req(stop("diazepam"), start("tramadol", 50, 4, asNeeded=True), patient=ADULT),
        "ACCEPT",
        only=True,
        must_not=(
            "BENZODIAZEPINE_WITH_OPIOID",
            "NOT_RECOMMENDED_FOR_BACK_PAIN",
            "CNS_DEPRESSANT_COMBINATION",
        ),
    ),
    S(
        "oxycodone_with_gabapentin_for_neuralgia",
        "CDC / FDA label: a gabapentinoid added to an opioid raises respiratory depression risk (gabapentin for PHN is not judged as back-pain therapy).",
        req(
            med("oxycodone", 5, 4, asNeeded=True, startedOn="2026-03-01"),
            med("gabapentin", 300, 3, indication="postherpetic neuralgia"),
            patient={"ageYears": 60, "refractorySymptoms": True},
        ),
        "REVIEW",
        must={"CNS_DEPRESSANT_COMBINATION": "WARNING", "OPIOID_NOT_FIRST_LINE": "INFO"},
        must_not=("NOT_RECOMMENDED_FOR_BACK_PAIN", "OPIOID_DAILY_MME"),
    ),
    S(
        "tramadol_with_carisoprodol",
        "Skeletal muscle relaxants (carisoprodol abuse potential) / CDC: carisoprodol with an opioid.",
        req(
            med("tramadol", 50, 4, asNeeded=True, startedOn="2026-10-01"),
            med("Soma", 350, 3, startedOn="2026-11-16"),
            patient=ADULT,
        ),
        "REVIEW",
        must={"CNS_DEPRESSANT_COMBINATION": "WARNING", "NONPREFERRED_MUSCLE_RELAXANT": "WARNING"},
        must_not=("MUSCLE_RELAXANT_DURATION",),
    ),
    S(
        "norco_with_cyclobenzaprine_refractory",
        "CDC: a muscle relaxant with an opioid adds sedation (INFO); long-term hydrocodone advice to lower the MME (INFO).",
        req(
            med("Norco 5/325", per_day=4, asNeeded=True, startedOn="2026-01-15"),
            start("cyclobenzaprine", 5, 3, asNeeded=True, plannedDays=14),
            patient={"ageYears": 57, "refractorySymptoms": True},
        ),
        "ACCEPT",
        must={"CNS_DEPRESSANT_COMBINATION": "INFO", "OPIOID_NOT_FIRST_LINE": "INFO"},
        only=True,
        max_severity="INFO",
        must_not=("SEROTONERGIC_COMBINATION",),
    ),
    # ---------------------------------------------------------------------------------------
    # MULTIPLE_NEW_AGENTS, ADD_BEFORE_STOPPING_INEFFECTIVE, START_LOW, TITRATION_INTERVAL.
    # ---------------------------------------------------------------------------------------
    S(
        "naproxen_and_cyclobenzaprine_started_together",
        "Combination therapy: add medications one at a time.",
        req(
            start("naproxen", 500, 2),
            start("cyclobenzaprine", 5, 3, asNeeded=True, plannedDays=14),
            patient=ADULT,
        ),
        "REVIEW",
        must={"MULTIPLE_NEW_AGENTS": "WARNING"},
        only=True,
    ),
    S(
        "acetaminophen_scheduled_and_prn_started_one_agent",
        "Combination therapy: the same drug scheduled and as needed is one new agent (2,000 mg/day total).",
        req(
            start("acetaminophen", 500, 2),
            start("acetaminophen", 500, 2, asNeeded=True),
            patient=ADULT,
        ),
        "ACCEPT",
        only=True,
        must_not=("MULTIPLE_NEW_AGENTS",),
        summary={"acetaminophenMgPerDay": 2000},
    ),
    S(
        "naproxen_no_benefit_continued_duloxetine_added",
        "Combination therapy: if no benefit is obtained, discontinue before another medication is added; NSAIDs not used chronically if ineffective.",
        req(
            med("naproxen", 500, 2, response=NO_BENEFIT),
            start("duloxetine", 30, 1),
            patient={"ageYears": 50, "painDurationWeeks": 20},
        ),
        "REVIEW",
        must={
            "ADD_BEFORE_STOPPING_INEFFECTIVE": "WARNING",
            "NSAID_PREVIOUSLY_INEFFECTIVE": "WARNING",
        },
    ),
    S(
        "naproxen_no_benefit_stopped_duloxetine_started",
        "Combination therapy: the ineffective NSAID is stopped while duloxetine is started, as the guideline advises.",
        req(
            stop("naproxen", response=NO_BENEFIT),
            start("duloxetine", 30, 1),
            patient={"ageYears": 50, "painDurationWeeks": 20},
        ),
        "ACCEPT",
        only=True,
        max_severity="INFO",
        must_not=(
            "ADD_BEFORE_STOPPING_INEFFECTIVE",
            "NSAID_PREVIOUSLY_INEFFECTIVE",
            "MULTIPLE_NEW_AGENTS",
        ),
    ),
    S(
        "cyclobenzaprine_no_benefit_continued_duloxetine_added",
        "Combination therapy: a muscle relaxant without benefit should be stopped before duloxetine is added.",
        req(
            med(
                "cyclobenzaprine", 5, 3, asNeeded=True, startedOn="2026-11-09", response=NO_BENEFIT
            ),
            start("duloxetine", 30, 1),
            patient={"ageYears": 50, "painDurationWeeks": 20},
        ),
        "REVIEW",
        must={"ADD_BEFORE_STOPPING_INEFFECTIVE": "WARNING", "SEROTONERGIC_COMBINATION": "WARNING"},
        must_not=("NSAID_PREVIOUSLY_INEFFECTIVE",),
    ),
    S(
        "duloxetine_started_at_60",
        "Duloxetine: started at 30 mg once daily, not 60 mg.",
        req(
            NAPROXEN, start("duloxetine", 60, 1), patient={"ageYears": 50, "painDurationWeeks": 20}
        ),
        "REVIEW",
        must={"NSAID_RISK": "INFO", "START_LOW": "WARNING"},
        only=True,
        ncpdp={"START_LOW": "HD"},
    ),
    S(
        "tizanidine_4mg_started_alone",
        "Skeletal muscle relaxants: tizanidine starts at 2 mg; 4 mg is accepted only with duloxetine or an NSAID.",
        req(start("tizanidine", 4, 3, asNeeded=True), patient=ADULT),
        "REVIEW",
        must={"START_LOW": "WARNING"},
        only=True,
    ),
    S(
        "cyclobenzaprine_started_at_10",
        "Combination therapy: start with the lowest possible dose; cyclobenzaprine starts at 5 mg.",
        req(
            NAPROXEN, start("cyclobenzaprine", 10, 3, asNeeded=True, plannedDays=14), patient=ADULT
        ),
        "REVIEW",
        must={"START_LOW": "WARNING"},
        must_not=("DOSE_ABOVE_MAX", "DOSE_ABOVE_GUIDELINE_RANGE"),
    ),
    S(
        "tramadol_50_q4h_started",
        "Tramadol: start 50 mg every six or eight hours; every four hours (6 a day) is above the starting frequency.",
        req(start("tramadol", 50, 6, asNeeded=True), patient=ADULT),
        "REVIEW",
        must={"START_LOW": "WARNING", "OPIOID_DAILY_MME": "WARNING"},
    ),
    S(
        "tramadol_100_started",
        "Tramadol: we typically start at the lowest dose (25 to 50 mg); 100 mg a dose is a titration step.",
        req(start("Ultram", 100, 3, asNeeded=True), patient=ADULT),
        "REVIEW",
        must={"START_LOW": "WARNING"},
        must_not=("DOSE_ABOVE_MAX",),
    ),
    S(
        "nortriptyline_started_at_50",
        "Tricyclic antidepressants: start at the lowest dose (nortriptyline 25 mg).",
        req(start("nortriptyline", 50, 1), patient=ADULT),
        "REVIEW",
        must={"START_LOW": "WARNING"},
        only=True,
    ),
    S(
        "duloxetine_raised_on_day_6",
        "Duloxetine: increased to 60 mg only after one week; day 6 is too early.",
        req(
            med("duloxetine", 60, 1, action=CHANGE_DOSE, previousDoseMg=30, startedOn="2026-11-17"),
            patient={"ageYears": 58, "painDurationWeeks": 26},
        ),
        "REVIEW",
        must={"TITRATION_INTERVAL": "WARNING"},
        only=True,
        ncpdp={"TITRATION_INTERVAL": "SR"},
    ),
    # ---------------------------------------------------------------------------------------
    # DOSING_SCHEDULE and TRAMADOL_EXTENDED_RELEASE_START.
    # ---------------------------------------------------------------------------------------
    S(
        "duloxetine_as_needed",
        "Duloxetine: must be taken every day, rather than 'as needed'.",
        req(med("duloxetine", 30, 1, asNeeded=True, startedOn="2026-10-01"), patient=ADULT),
        "REVIEW",
        must={"DOSING_SCHEDULE": "WARNING"},
        only=True,
    ),
    S(
        "amitriptyline_twice_daily",
        "Tricyclic antidepressants: once daily at bedtime, not twice daily.",
        req(med("amitriptyline", 25, 2, startedOn="2026-09-01"), patient=ADULT),
        "REVIEW",
        must={"DOSING_SCHEDULE": "WARNING"},
        must_not=("DOSE_ABOVE_GUIDELINE_RANGE",),
    ),
    S(
        "tramadol_extended_release_as_needed",
        "Tramadol: a long-acting preparation is for a stable standing schedule, not as needed.",
        req(
            med("ConZip", 100, 1, extendedRelease=True, asNeeded=True, startedOn="2026-08-01"),
            patient=ADULT,
        ),
        "REVIEW",
        must={"DOSING_SCHEDULE": "WARNING"},
        must_not=("TRAMADOL_EXTENDED_RELEASE_START",),
    ),
    S(
        "tramadol_extended_release_started_without_short_acting",
        "Tramadol: we never use a long-acting tramadol preparation when initiating tramadol therapy.",
        req(start("tramadol", 100, 1, extendedRelease=True), patient=ADULT),
        "REVIEW",
        must={"TRAMADOL_EXTENDED_RELEASE_START": "WARNING"},
        ncpdp={"TRAMADOL_EXTENDED_RELEASE_START": "SF"},
    ),
    S(
        "tramadol_short_acting_stopped_extended_release_started",
        "Tramadol: patients on a stable standing short-acting schedule (50 mg q6h) may convert to long-acting tramadol 200 mg daily; tramadol is not a new agent.",
        req(
            stop("tramadol", startedOn="2026-05-01"),
            start("tramadol", 200, 1, extendedRelease=True),
            patient=ADULT,
        ),
        "ACCEPT",
        only=True,
        must_not=("TRAMADOL_EXTENDED_RELEASE_START", "START_LOW", "MULTIPLE_NEW_AGENTS"),
    ),
    S(
        "tramadol_converted_to_extended_release_while_naproxen_started",
        "Tramadol / Combination therapy: converting tramadol to its long-acting form adds no agent; naproxen is the only new one.",
        req(
            stop("tramadol", startedOn="2026-05-01"),
            start("tramadol", 200, 1, extendedRelease=True),
            start("naproxen", 500, 2),
            patient=ADULT,
        ),
        "ACCEPT",
        only=True,
        must_not=("MULTIPLE_NEW_AGENTS", "START_LOW", "TRAMADOL_EXTENDED_RELEASE_START"),
    ),
    S(
        "oxycodone_converted_to_extended_release_long_term",
        "Other opioids (already on opioid therapy): converting long-term oxycodone to OxyContin at the same 20 mg/day is not an opioid start; advise lowering the MME (INFO).",
        req(
            stop("oxycodone", startedOn="2025-09-01"),
            start("OxyContin", 10, 2, extendedRelease=True),
            patient={"ageYears": 58},
        ),
        "ACCEPT",
        must={"OPIOID_NOT_FIRST_LINE": "INFO"},
        only=True,
        max_severity="INFO",
    ),
    # ---------------------------------------------------------------------------------------
    # MUSCLE_RELAXANT_DURATION.
    # ---------------------------------------------------------------------------------------
    S(
        "cyclobenzaprine_planned_28_days",
        "Skeletal muscle relaxants for short-term relief: a trial for up to four weeks (28 days).",
        req(start("cyclobenzaprine", 5, 3, asNeeded=True, plannedDays=28), patient=ADULT),
        "ACCEPT",
        only=True,
        must_not=("MUSCLE_RELAXANT_DURATION",),
    ),
    S(
        "cyclobenzaprine_planned_29_days",
        "Skeletal muscle relaxants for short-term relief: a planned 29-day course exceeds four weeks.",
        req(start("cyclobenzaprine", 5, 3, asNeeded=True, plannedDays=29), patient=ADULT),
        "REVIEW",
        must={"MUSCLE_RELAXANT_DURATION": "WARNING"},
        only=True,
        ncpdp={"MUSCLE_RELAXANT_DURATION": "MX"},
    ),
    S(
        "tizanidine_28_days_elapsed",
        "Skeletal muscle relaxants for short-term relief: 28 days from start to today is within four weeks.",
        req(med("tizanidine", 2, 3, asNeeded=True, startedOn="2026-10-26"), patient=ADULT),
        "ACCEPT",
        only=True,
        must_not=("MUSCLE_RELAXANT_DURATION",),
    ),
    S(
        "tizanidine_29_days_elapsed",
        "Skeletal muscle relaxants for short-term relief: 29 days from start exceeds four weeks.",
        req(med("tizanidine", 2, 3, asNeeded=True, startedOn="2026-10-25"), patient=ADULT),
        "REVIEW",
        must={"MUSCLE_RELAXANT_DURATION": "WARNING"},
        only=True,
    ),
    S(
        "cyclobenzaprine_long_term_benefit_but_not_refractory",
        "Long-term use of skeletal muscle relaxants: only in refractory back pain; benefit alone does not justify months of use.",
        req(
            med("cyclobenzaprine", 5, 3, asNeeded=True, startedOn="2026-08-01", response=BENEFIT),
            patient={"ageYears": 49},
        ),
        "REVIEW",
        must={"MUSCLE_RELAXANT_DURATION": "WARNING"},
    ),
    S(
        "cyclobenzaprine_long_term_refractory_not_tolerated",
        "Long-term use of skeletal muscle relaxants: only where the medication is well tolerated.",
        req(
            med(
                "cyclobenzaprine",
                5,
                3,
                asNeeded=True,
                startedOn="2026-08-01",
                response="THERAPY_RESPONSE_NOT_TOLERATED",
            ),
            patient={"ageYears": 49, "refractorySymptoms": True},
        ),
        "REVIEW",
        must={"MUSCLE_RELAXANT_DURATION": "WARNING"},
    ),
    S(
        "carisoprodol_22_days",
        "Skeletal muscle relaxants (carisoprodol, label): at most 21 days; also not preferred (abuse potential).",
        req(med("carisoprodol", 250, 3, startedOn="2026-11-01"), patient=ADULT),
        "REVIEW",
        must={"MUSCLE_RELAXANT_DURATION": "WARNING", "NONPREFERRED_MUSCLE_RELAXANT": "WARNING"},
    ),
    S(
        "baclofen_for_ms_spasticity_long_term",
        "Skeletal muscle relaxants: long-term baclofen for multiple sclerosis spasticity is not back-pain therapy.",
        req(
            med(
                "baclofen",
                10,
                3,
                startedOn="2025-01-01",
                indication="multiple sclerosis spasticity",
            ),
            patient=ADULT,
        ),
        "ACCEPT",
        only=True,
        must_not=("MUSCLE_RELAXANT_DURATION", "NONPREFERRED_MUSCLE_RELAXANT"),
    ),
    # ---------------------------------------------------------------------------------------
    # SEIZURE_RISK and MISUSE_RISK.
    # ---------------------------------------------------------------------------------------
    S(
        "tramadol_in_seizure_disorder",
        "Tramadol: lowers the seizure threshold.",
        req(
            start("tramadol", 50, 4, asNeeded=True),
            patient={"ageYears": 40, "seizureDisorder": True},
        ),
        "REVIEW",
        must={"SEIZURE_RISK": "WARNING"},
        only=True,
        ncpdp={"SEIZURE_RISK": "MC"},
    ),
    S(
        "tramadol_with_bupropion_for_depression",
        "Tramadol: seizure threshold; bupropion (for depression, not back pain) lowers it too.",
        req(
            med("Wellbutrin", 150, 2, indication="depression"),
            start("tramadol", 50, 4, asNeeded=True),
            patient=ADULT,
        ),
        "REVIEW",
        must={"SEIZURE_RISK": "WARNING"},
        must_not=("NOT_RECOMMENDED_FOR_BACK_PAIN",),
    ),
    S(
        "duloxetine_in_seizure_disorder",
        "Duloxetine: no seizure-threshold rule applies to duloxetine (the tramadol caution is tramadol's).",
        req(
            start("duloxetine", 30, 1),
            patient={"ageYears": 40, "seizureDisorder": True, "painDurationWeeks": 20},
        ),
        "ACCEPT",
        only=True,
        must_not=("SEIZURE_RISK",),
    ),
    S(
        "tramadol_in_substance_use_disorder",
        "Tramadol: prescribe with caution in patients with a history of substance use disorder.",
        req(
            start("tramadol", 50, 4, asNeeded=True),
            patient={"ageYears": 40, "substanceUseDisorder": True},
        ),
        "REVIEW",
        must={"MISUSE_RISK": "WARNING", "NALOXONE_NOT_PRESCRIBED": "WARNING"},
        only=True,
    ),
    S(
        "oxycodone_started_in_substance_use_disorder",
        "Other opioids: restrict opioids to patients not highly vulnerable to dependence, misuse or addiction.",
        req(
            start("oxycodone", 5, 4, asNeeded=True),
            patient={"ageYears": 40, "substanceUseDisorder": True},
        ),
        "REJECT",
        must={"MISUSE_RISK": "CRITICAL", "OPIOID_NOT_FIRST_LINE": "WARNING"},
        ncpdp={"MISUSE_RISK": "MC"},
    ),
    S(
        "carisoprodol_in_substance_use_disorder",
        "Skeletal muscle relaxants: carisoprodol has abuse potential, the reason it is not preferred.",
        req(
            start("carisoprodol", 250, 3, plannedDays=14),
            patient={"ageYears": 40, "substanceUseDisorder": True},
        ),
        "REVIEW",
        must={"MISUSE_RISK": "WARNING", "NONPREFERRED_MUSCLE_RELAXANT": "WARNING"},
    ),
    S(
        "clonazepam_for_panic_in_substance_use_disorder",
        "Therapies not recommended (Benzodiazepines): potential for dependency and abuse.",
        req(
            med("Klonopin", 0.5, 2, indication="panic disorder"),
            patient={"ageYears": 40, "substanceUseDisorder": True},
        ),
        "REVIEW",
        must={"MISUSE_RISK": "WARNING"},
        must_not=("NOT_RECOMMENDED_FOR_BACK_PAIN",),
    ),
    S(
        "cyclobenzaprine_in_substance_use_disorder",
        "Skeletal muscle relaxants: cyclobenzaprine does not have the abuse potential of carisoprodol.",
        req(
            NAPROXEN,
            start("cyclobenzaprine", 5, 3, asNeeded=True, plannedDays=14),
            patient={"ageYears": 40, "substanceUseDisorder": True},
        ),
        "ACCEPT",
        only=True,
        must_not=("MISUSE_RISK",),
    ),
    # ---------------------------------------------------------------------------------------
    # OPIOID_NOT_FIRST_LINE and OPIOID_DAILY_MME.
    # ---------------------------------------------------------------------------------------
    S(
        "oxycodone_started_not_refractory",
        "Restricted use of opioids: opioids should not be used routinely for chronic low back pain.",
        req(start("oxycodone", 5, 4, asNeeded=True), patient=ADULT),
        "REVIEW",
        must={"OPIOID_NOT_FIRST_LINE": "WARNING"},
        only=True,
        ncpdp={"OPIOID_NOT_FIRST_LINE": "SD"},
        summary={"morphineMgEquivalentsPerDay": 30},
    ),
    S(
        "oxycodone_started_refractory",
        "Other opioids: reserved for persistent, disabling symptoms despite all other attempts (INFO when refractory).",
        req(
            start("oxycodone", 5, 4, asNeeded=True),
            patient={"ageYears": 45, "refractorySymptoms": True},
        ),
        "ACCEPT",
        must={"OPIOID_NOT_FIRST_LINE": "INFO"},
        only=True,
    ),
    S(
        "hydrocodone_long_term_continued",
        "Other opioids (already on opioid therapy): attempt to lower the morphine milligram equivalent dose (INFO).",
        req(med("Norco 5/325", per_day=3, startedOn="2025-06-01"), patient={"ageYears": 63}),
        "ACCEPT",
        must={"OPIOID_NOT_FIRST_LINE": "INFO"},
        only=True,
    ),
    S(
        "mme_exactly_50",
        "CDC 2022: 50 MME/day calls for reassessment; Norco 10/325 five a day is exactly 50.",
        req(
            med("Norco 10/325", per_day=5, startedOn="2026-04-01"),
            patient={"ageYears": 55, "refractorySymptoms": True},
        ),
        "REVIEW",
        must={"OPIOID_DAILY_MME": "WARNING"},
        ncpdp={"OPIOID_DAILY_MME": "HD"},
        summary={"morphineMgEquivalentsPerDay": 50},
    ),
    S(
        "mme_49_5",
        "CDC 2022: oxycodone 5.5 mg six times a day is 49.5 MME/day, just under 50.",
        req(
            med("oxycodone", 5.5, 6, startedOn="2026-04-01"),
            patient={"ageYears": 55, "refractorySymptoms": True},
        ),
        "ACCEPT",
        must={"OPIOID_NOT_FIRST_LINE": "INFO"},
        only=True,
        must_not=("OPIOID_DAILY_MME",),
        summary={"morphineMgEquivalentsPerDay": 49.5},
    ),
    S(
        "mme_exactly_90",
        "CDC 2022: avoid 90 MME/day or more; oxycodone 15 mg q6h is exactly 90.",
        req(
            med("oxycodone", 15, 4, startedOn="2026-04-01"),
            patient={"ageYears": 55, "refractorySymptoms": True},
        ),
        "REJECT",
        must={"OPIOID_DAILY_MME": "CRITICAL"},
        summary={"morphineMgEquivalentsPerDay": 90},
    ),
    S(
        "mme_from_post_operative_oxycodone_counts",
        "CDC 2022: MME counts every opioid, including one ordered for another indication (post-operative pain).",
        req(
            start(
                "oxycodone", 10, 4, asNeeded=True, indication="post-operative pain", plannedDays=5
            ),
            patient={"ageYears": 50},
        ),
        "REVIEW",
        must={"OPIOID_DAILY_MME": "WARNING"},
        must_not=("OPIOID_NOT_FIRST_LINE",),
        summary={"morphineMgEquivalentsPerDay": 60},
    ),
    S(
        "fentanyl_patch_25_mcg_per_hour",
        "CDC 2022: transdermal fentanyl 25 mcg/h is 60 MME/day.",
        req(
            {
                "drug": "Duragesic",
                "rateMcgPerHour": 25,
                "route": TRANSDERMAL,
                "startedOn": "2026-01-01",
            },
            patient={"ageYears": 66, "refractorySymptoms": True},
        ),
        "REVIEW",
        must={"OPIOID_DAILY_MME": "WARNING", "OPIOID_NOT_FIRST_LINE": "INFO"},
        summary={"morphineMgEquivalentsPerDay": 60},
    ),
    # ---------------------------------------------------------------------------------------
    # NOT_RECOMMENDED_FOR_BACK_PAIN and NONPREFERRED_MUSCLE_RELAXANT.
    # ---------------------------------------------------------------------------------------
    S(
        "gabapentin_for_back_pain",
        "Therapies not recommended (Antiepileptics): gabapentinoids have limited, mixed evidence for back pain.",
        req(start("gabapentin", 300, 3), patient=ADULT),
        "ACCEPT",
        must={"NOT_RECOMMENDED_FOR_BACK_PAIN": "INFO"},
        only=True,
        ncpdp={"NOT_RECOMMENDED_FOR_BACK_PAIN": "SD"},
    ),
    S(
        "gabapentin_for_postherpetic_neuralgia",
        "Therapies not recommended: the rule concerns back-pain orders; gabapentin for postherpetic neuralgia is another indication.",
        req(start("gabapentin", 300, 3, indication="postherpetic neuralgia"), patient=ADULT),
        "ACCEPT",
        only=True,
        must_not=("NOT_RECOMMENDED_FOR_BACK_PAIN",),
    ),
    S(
        "sertraline_for_back_pain",
        "Therapies not recommended (Other antidepressants): antidepressants other than duloxetine and TCAs have not shown benefit.",
        req(start("Zoloft", 50, 1), patient=ADULT),
        "ACCEPT",
        must={"NOT_RECOMMENDED_FOR_BACK_PAIN": "INFO"},
        only=True,
    ),
    S(
        "diazepam_for_back_pain",
        "Therapies not recommended (Benzodiazepines): not approved for back pain; dependency and abuse (WARNING).",
        req(start("diazepam", 5, 3, plannedDays=7), patient=ADULT),
        "REVIEW",
        must={"NOT_RECOMMENDED_FOR_BACK_PAIN": "WARNING"},
        only=True,
    ),
    S(
        "prednisone_for_back_pain",
        "Therapies not recommended (Systemic corticosteroids): no trial supports them for nonradicular subacute/chronic pain.",
        req(start("prednisone", 20, 1, plannedDays=5), patient=ADULT),
        "ACCEPT",
        must={"NOT_RECOMMENDED_FOR_BACK_PAIN": "INFO"},
        only=True,
    ),
    S(
        "glucosamine_for_back_pain",
        "Therapies not recommended (Glucosamine): no difference from placebo in chronic back pain.",
        req(med("glucosamine sulfate", 1500, 1), patient=ADULT),
        "ACCEPT",
        must={"NOT_RECOMMENDED_FOR_BACK_PAIN": "INFO"},
        only=True,
    ),
    S(
        "devils_claw_for_back_pain",
        "Therapies not recommended (Herbal preparations): short trials with methodologic limitations.",
        req(med("Harpagophytum procumbens", 600, 3), patient=ADULT),
        "ACCEPT",
        must={"NOT_RECOMMENDED_FOR_BACK_PAIN": "INFO"},
        must_not=("UNKNOWN_DRUG",),
    ),
    S(
        "methocarbamol_started",
        "Skeletal muscle relaxants: cyclobenzaprine or tizanidine are preferred (better studied).",
        req(start("Robaxin", 750, 3, asNeeded=True, plannedDays=14), patient=ADULT),
        "ACCEPT",
        must={"NONPREFERRED_MUSCLE_RELAXANT": "INFO"},
        only=True,
        ncpdp={"NONPREFERRED_MUSCLE_RELAXANT": "PS"},
    ),
    S(
        "carisoprodol_started",
        "Skeletal muscle relaxants: carisoprodol is not preferred because of its abuse potential (WARNING).",
        req(start("Soma", 250, 3, plannedDays=14), patient=ADULT),
        "REVIEW",
        must={"NONPREFERRED_MUSCLE_RELAXANT": "WARNING"},
        only=True,
    ),
    # ---------------------------------------------------------------------------------------
    # NSAID_RISK and NSAID_PREVIOUSLY_INEFFECTIVE.
    # ---------------------------------------------------------------------------------------
    S(
        "naproxen_with_gi_bleed_history",
        "Nonopioid analgesics (NSAIDs): assess risk factors for GI complications before recommending.",
        req(NAPROXEN, patient={"ageYears": 50, "giBleedHistory": True}),
        "REVIEW",
        must={"NSAID_RISK": "WARNING"},
        only=True,
        ncpdp={"NSAID_RISK": "MC"},
    ),
    S(
        "celecoxib_with_renal_impairment",
        "Nonopioid analgesics (NSAIDs): kidney side effects; a COX-2 inhibitor is still an NSAID.",
        req(med("Celebrex", 200, 1), patient={"ageYears": 50, "renalImpairment": True}),
        "REVIEW",
        must={"NSAID_RISK": "WARNING"},
        only=True,
    ),
    S(
        "ibuprofen_with_warfarin",
        "Nonopioid analgesics (NSAIDs) / FDA label: an NSAID with an anticoagulant (NCPDP DD).",
        req(
            med("warfarin", 5, 1, indication="atrial fibrillation"),
            med("ibuprofen", 400, 3),
            patient=ADULT,
        ),
        "REVIEW",
        must={"NSAID_RISK": "WARNING"},
        ncpdp={"NSAID_RISK": "DD"},
    ),
    S(
        "ketorolac_8_days",
        "FDA label (ketorolac): at most 5 days in total (NCPDP MX).",
        req(med("ketorolac", 10, 4, startedOn="2026-11-15"), patient=ADULT),
        "REVIEW",
        must={"NSAID_RISK": "WARNING"},
        ncpdp={"NSAID_RISK": "MX"},
    ),
    S(
        "ketorolac_5_days",
        "FDA label (ketorolac): 5 days is within the limit.",
        req(med("ketorolac", 10, 4, startedOn="2026-11-18"), patient=ADULT),
        "ACCEPT",
        only=True,
        must_not=("NSAID_RISK", "DOSE_ABOVE_MAX"),
    ),
    S(
        "naproxen_older_adult_alone",
        "Nonopioid analgesics (NSAIDs) / Beers: an older adult alone is advice (INFO), not a warning.",
        req(NAPROXEN, patient={"ageYears": 70}),
        "ACCEPT",
        must={"NSAID_RISK": "INFO"},
        only=True,
        max_severity="INFO",
    ),
    S(
        "naproxen_no_benefit_continued",
        "Nonopioid analgesics (NSAIDs): we do not use NSAIDs for chronic therapy if they were ineffective.",
        req(med("naproxen", 500, 2, response=NO_BENEFIT, startedOn="2026-09-01"), patient=ADULT),
        "REVIEW",
        must={"NSAID_PREVIOUSLY_INEFFECTIVE": "WARNING"},
        only=True,
        ncpdp={"NSAID_PREVIOUSLY_INEFFECTIVE": "SD"},
    ),
    S(
        "naproxen_benefit_continued",
        "Nonopioid analgesics (NSAIDs): if NSAIDs are effective, we continue them without adding therapy.",
        req(med("naproxen", 500, 2, response=BENEFIT, startedOn="2026-09-01"), patient=ADULT),
        "ACCEPT",
        only=True,
        must_not=("NSAID_PREVIOUSLY_INEFFECTIVE",),
    ),
    # ---------------------------------------------------------------------------------------
    # OLDER_ADULT_CAUTION.
    # ---------------------------------------------------------------------------------------
    S(
        "amitriptyline_in_older_adult",
        "Tricyclic antidepressants: use with caution in older patients.",
        req(start("amitriptyline", 25, 1), patient={"ageYears": 70}),
        "REVIEW",
        must={"OLDER_ADULT_CAUTION": "WARNING"},
        only=True,
        ncpdp={"OLDER_ADULT_CAUTION": "PA"},
    ),
    S(
        "contract_example_duloxetine_cyclobenzaprine_age_70",
        "Combination therapy (prefer tizanidine with duloxetine) and Beers (cyclobenzaprine in an older adult): the API contract's example.",
        req(
            med("duloxetine", 60, 1, startedOn="2026-09-01"),
            start("cyclobenzaprine", 5, 3, asNeeded=True),
            patient={"ageYears": 70, "hepaticImpairment": False},
        ),
        "REVIEW",
        must={"OLDER_ADULT_CAUTION": "WARNING", "SEROTONERGIC_COMBINATION": "WARNING"},
    ),
    S(
        "three_cns_active_drugs_older_adult",
        "Beers: 3 or more CNS-active drugs in an older adult (duloxetine, tizanidine, gabapentin for neuropathy).",
        req(
            med("duloxetine", 60, 1, startedOn="2026-06-01"),
            med("tizanidine", 2, 3, asNeeded=True, startedOn="2026-11-10"),
            med("gabapentin", 300, 3, indication="diabetic neuropathy"),
            patient={"ageYears": 68},
        ),
        "REVIEW",
        must={"OLDER_ADULT_CAUTION": "WARNING"},
        must_not=("NOT_RECOMMENDED_FOR_BACK_PAIN", "SEROTONERGIC_COMBINATION"),
    ),
    S(
        "two_cns_active_drugs_older_adult",
        "Combination therapy: duloxetine + tizanidine in an older adult is two CNS-active drugs, under the Beers count of 3.",
        req(
            med("duloxetine", 60, 1, startedOn="2026-06-01"),
            start("tizanidine", 4, 3, asNeeded=True),
            patient={"ageYears": 70, "painDurationWeeks": 30},
        ),
        "ACCEPT",
        only=True,
        must_not=("OLDER_ADULT_CAUTION",),
    ),
    S(
        "cyclobenzaprine_age_64",
        "Beers applies from 65; a 64-year-old on cyclobenzaprine is not an older adult.",
        req(
            NAPROXEN,
            start("cyclobenzaprine", 5, 3, asNeeded=True, plannedDays=14),
            patient={"ageYears": 64},
        ),
        "ACCEPT",
        only=True,
        must_not=("OLDER_ADULT_CAUTION", "NSAID_RISK"),
    ),
    # ---------------------------------------------------------------------------------------
    # DULOXETINE_SUBACUTE and DRUG_CONDITION.
    # ---------------------------------------------------------------------------------------
    S(
        "duloxetine_started_at_8_weeks",
        "Duloxetine: the longer onset of action limits its role in subacute back pain.",
        req(NAPROXEN, start("duloxetine", 30, 1), patient={"ageYears": 45, "painDurationWeeks": 8}),
        "ACCEPT",
        must={"NSAID_RISK": "INFO", "DULOXETINE_SUBACUTE": "INFO"},
        only=True,
        ncpdp={"DULOXETINE_SUBACUTE": "SD"},
    ),
    S(
        "duloxetine_started_at_12_weeks",
        "Duloxetine: chronic is over 12 weeks; at 12 weeks the pain is still subacute.",
        req(
            NAPROXEN, start("duloxetine", 30, 1), patient={"ageYears": 45, "painDurationWeeks": 12}
        ),
        "ACCEPT",
        must={"NSAID_RISK": "INFO", "DULOXETINE_SUBACUTE": "INFO"},
        only=True,
    ),
    S(
        "duloxetine_started_at_13_weeks",
        "Duloxetine: second-line therapy for chronic (>12 weeks) low back pain.",
        req(
            NAPROXEN, start("duloxetine", 30, 1), patient={"ageYears": 45, "painDurationWeeks": 13}
        ),
        "ACCEPT",
        must={"NSAID_RISK": "INFO"},  # an NSAID with an SNRI: bleeding, INFO alone
        only=True,
        must_not=("DULOXETINE_SUBACUTE",),
    ),
    S(
        "duloxetine_in_hepatic_impairment",
        "FDA label (duloxetine): avoid in chronic liver disease.",
        req(
            med("duloxetine", 60, 1, startedOn="2026-06-01"),
            patient={"ageYears": 55, "hepaticImpairment": True},
        ),
        "REVIEW",
        must={"DRUG_CONDITION": "WARNING"},
        only=True,
        ncpdp={"DRUG_CONDITION": "MC"},
    ),
    S(
        "duloxetine_in_alcohol_use_disorder",
        "FDA label (duloxetine): severe liver injury with substantial alcohol use.",
        req(
            med("duloxetine", 60, 1, startedOn="2026-06-01"),
            patient={"ageYears": 55, "alcoholUseDisorder": True},
        ),
        "REVIEW",
        must={"DRUG_CONDITION": "WARNING"},
        only=True,
    ),
    S(
        "tizanidine_in_hepatic_impairment",
        "FDA label (tizanidine): hepatically cleared and hepatotoxic.",
        req(
            NAPROXEN,
            start("tizanidine", 2, 3, asNeeded=True),
            patient={"ageYears": 55, "hepaticImpairment": True},
        ),
        "REVIEW",
        must={"DRUG_CONDITION": "WARNING"},
        only=True,
    ),
    S(
        "cyclobenzaprine_in_hepatic_impairment",
        "FDA label: the catalogue's hepatic cautions are duloxetine's and tizanidine's, not cyclobenzaprine's.",
        req(
            NAPROXEN,
            start("cyclobenzaprine", 5, 3, asNeeded=True, plannedDays=14),
            patient={"ageYears": 55, "hepaticImpairment": True},
        ),
        "ACCEPT",
        only=True,
        must_not=("DRUG_CONDITION",),
    ),
    # ---------------------------------------------------------------------------------------
    # UNKNOWN_DRUG: the rest is still checked.
    # ---------------------------------------------------------------------------------------
    S(
        "unknown_drug_among_duloxetine_and_tramadol",
        "Tramadol / Combination therapy: an unresolvable name is flagged, and duloxetine + tramadol is still found.",
        req(
            med("Zorvexatrol", 10, 1),
            med("duloxetine", 60, 1, startedOn="2026-08-01"),
            start("tramadol", 50, 4, asNeeded=True),
            patient=ADULT,
        ),
        "REVIEW",
        must={"UNKNOWN_DRUG": "WARNING", "SEROTONERGIC_COMBINATION": "WARNING"},
        ncpdp={"UNKNOWN_DRUG": "MS"},
    ),
    S(
        "misspelled_flexiril_suggests_flexeril",
        "Skeletal muscle relaxants: a misspelled relaxant cannot be checked; suggest the close match.",
        req(NAPROXEN, start("Flexiril", 5, 3, asNeeded=True), patient=ADULT),
        "REVIEW",
        must={"UNKNOWN_DRUG": "WARNING"},
        mentions={"UNKNOWN_DRUG": ("Flexeril",)},
    ),
    S(
        "percocet_without_strength_with_ibuprofen",
        "Nonopioid analgesics: Percocet without a strength cannot be counted, but its acetaminophen is still an NSAID interaction.",
        req(
            med("Percocet", per_day=4, asNeeded=True, startedOn="2026-09-01"),
            med("ibuprofen", 400, 3),
            patient=ADULT,
        ),
        "REVIEW",
        must={"UNKNOWN_DRUG": "WARNING", "NSAID_WITH_ACETAMINOPHEN": "WARNING"},
    ),
    # ---------------------------------------------------------------------------------------
    # Clinical fidelity (issue 11): washouts, OUD treatment, long-acting and tolerant-only
    # opioids, MME that cannot be counted, naloxone, patient context, doses, actionable text.
    # Each has its near miss.
    # ---------------------------------------------------------------------------------------
    S(
        "washout_maoi_stopped_today_duloxetine_started",
        "FDA label (Nardil, Cymbalta): a serotonergic drug within 14 days of stopping an MAOI is contraindicated; the stop does not end the interaction.",
        req(
            stop("phenelzine", indication="depression"),
            start("duloxetine", 30, 1),
            patient={"ageYears": 50, "painDurationWeeks": 20},
        ),
        "REJECT",
        must={"CONTRAINDICATED_COMBINATION": "CRITICAL"},
        mentions={"CONTRAINDICATED_COMBINATION": ("stopped today", "14-day washout", "2026-12-07")},
        ncpdp={"CONTRAINDICATED_COMBINATION": "DD"},
    ),
    S(
        "washout_maoi_stopped_15_days_ago_duloxetine_started",
        "FDA label (Nardil): 15 days after the MAOI was stopped, its 14-day washout has passed (near miss).",
        req(
            stop("phenelzine", stoppedOn="2026-11-08", indication="depression"),
            start("duloxetine", 30, 1),
            patient={"ageYears": 50, "painDurationWeeks": 20},
        ),
        "ACCEPT",
        only=True,
        max_severity="INFO",
        must_not=("CONTRAINDICATED_COMBINATION",),
    ),
    S(
        "washout_fluoxetine_stopped_four_weeks_before_phenelzine",
        "FDA label (Prozac): at least 5 weeks after stopping fluoxetine before an MAOI.",
        req(
            stop("fluoxetine", stoppedOn="2026-10-26", indication="depression"),
            start("phenelzine", 15, 3, indication="depression"),
            patient=ADULT,
        ),
        "REJECT",
        must={"CONTRAINDICATED_COMBINATION": "CRITICAL"},
        mentions={"CONTRAINDICATED_COMBINATION": ("28 days ago", "35-day washout")},
    ),
    S(
        "washout_fluoxetine_stopped_six_weeks_before_phenelzine",
        "FDA label (Prozac): six weeks after fluoxetine was stopped, an MAOI may start (near miss).",
        req(
            stop("fluoxetine", stoppedOn="2026-10-12", indication="depression"),
            start("phenelzine", 15, 3, indication="depression"),
            patient=ADULT,
        ),
        "ACCEPT",
        must_not=("CONTRAINDICATED_COMBINATION",),
        max_severity="INFO",
    ),
    S(
        "quiet_methadone_maintenance_for_oud_with_naloxone",
        "CDC 2022 (scope): methadone for opioid use disorder is not pain treatment; no MME thresholds, no misuse CRITICAL, no opioid restriction.",
        req(
            med("methadone", 80, 1, indication="opioid use disorder", startedOn="2025-06-01"),
            med("naloxone", 4, 1, asNeeded=True, route="ROUTE_INTRANASAL"),
            NAPROXEN,
            patient={"ageYears": 41, "substanceUseDisorder": True},
        ),
        "ACCEPT",
        only=True,
        max_severity="INFO",
        must_not=(
            "OPIOID_DAILY_MME",
            "MISUSE_RISK",
            "OPIOID_NOT_FIRST_LINE",
            "NALOXONE_NOT_PRESCRIBED",
        ),
        summary={"morphineMgEquivalentsPerDay": 0},
    ),
    S(
        "quiet_buprenorphine_for_moud_with_naloxone",
        "FDA label (Subutex): buprenorphine for OUD (written MOUD) in a patient with substance use disorder is not misuse.",
        req(
            med(
                "buprenorphine",
                8,
                2,
                route="ROUTE_SUBLINGUAL",
                indication="MOUD",
                startedOn="2026-01-10",
            ),
            med("Narcan", 4, 1, asNeeded=True, route="ROUTE_INTRANASAL"),
            patient={"ageYears": 33, "substanceUseDisorder": True},
        ),
        "ACCEPT",
        only=True,
        max_severity="INFO",
        must_not=("MISUSE_RISK", "MME_INCOMPLETE", "OPIOID_NOT_FIRST_LINE"),
    ),
    S(
        "methadone_for_pain_is_376_mme",
        "CDC 2022: methadone 80 mg/day for pain is 376 MME/day (near miss of OUD treatment).",
        req(
            med("methadone", 40, 2, startedOn="2025-06-01"),
            med("naloxone", 4, 1, asNeeded=True, route="ROUTE_INTRANASAL"),
            patient=ADULT,
        ),
        "REJECT",
        must={"OPIOID_DAILY_MME": "CRITICAL"},
        mentions={"OPIOID_DAILY_MME": ("376 MME",)},
        summary={"morphineMgEquivalentsPerDay": 376},
    ),
    S(
        "oud_methadone_with_alprazolam_for_panic",
        "FDA boxed warning: OUD treatment still counts with a benzodiazepine; no muscle relaxant is proposed for panic disorder.",
        req(
            med("methadone", 60, 1, indication="OUD", startedOn="2025-06-01"),
            med("alprazolam", 0.5, 2, indication="panic disorder"),
            patient=ADULT,
        ),
        "REJECT",
        must={"BENZODIAZEPINE_WITH_OPIOID": "CRITICAL", "NALOXONE_NOT_PRESCRIBED": "WARNING"},
        must_not=("OPIOID_DAILY_MME",),
        mentions={"BENZODIAZEPINE_WITH_OPIOID": ("opioid use disorder", "1 mg/day", "naloxone")},
    ),
    S(
        "oxycodone_er_started_opioid_naive",
        "CDC 2022 recommendation 3: start with immediate-release opioids, not extended-release/long-acting ones.",
        req(start("OxyContin", 10, 2, extendedRelease=True), NAPROXEN, patient=ADULT),
        "REVIEW",
        must={"LONG_ACTING_OPIOID_START": "WARNING", "OPIOID_NOT_FIRST_LINE": "WARNING"},
        must_not=("OPIOID_TOLERANT_ONLY",),
        ncpdp={"LONG_ACTING_OPIOID_START": "SF"},
        mentions={"LONG_ACTING_OPIOID_START": ("extended-release oxycodone", "immediate-release")},
    ),
    S(
        "oxycodone_er_added_to_current_oxycodone",
        "CDC 2022 recommendation 3 covers initiation only: ER oxycodone added to a current opioid (near miss).",
        req(
            start("OxyContin", 10, 2, extendedRelease=True),
            med("oxycodone", 5, 2, asNeeded=True, startedOn="2026-08-01"),
            med("naloxone", 4, 1, asNeeded=True, route="ROUTE_INTRANASAL"),
            patient={"ageYears": 45, "refractorySymptoms": True},
        ),
        "ACCEPT",
        must_not=("LONG_ACTING_OPIOID_START", "TRAMADOL_EXTENDED_RELEASE_START"),
        max_severity="INFO",
    ),
    S(
        "fentanyl_patch_started_opioid_naive",
        "FDA label (Duragesic, boxed warning): for opioid-tolerant patients only; fatal respiratory depression in opioid-naive patients.",
        req(start("Duragesic", rateMcgPerHour=25, route=TRANSDERMAL), patient=ADULT),
        "REJECT",
        must={"OPIOID_TOLERANT_ONLY": "CRITICAL"},
        must_not=("LONG_ACTING_OPIOID_START",),
        ncpdp={"OPIOID_TOLERANT_ONLY": "SF"},
        mentions={"OPIOID_TOLERANT_ONLY": ("opioid-tolerant", "60 MME/day")},
    ),
    S(
        "fentanyl_patch_after_a_month_of_90_mme_oxycodone",
        "FDA label (Duragesic): a patient on 90 MME/day for a month is opioid-tolerant; the switch is not CRITICAL (near miss).",
        req(
            start("Duragesic", rateMcgPerHour=25, route=TRANSDERMAL),
            stop("oxycodone", doseMg=15, dosesPerDay=4, startedOn="2026-10-01"),
            med("naloxone", 4, 1, asNeeded=True, route="ROUTE_INTRANASAL"),
            patient={"ageYears": 58, "refractorySymptoms": True},
        ),
        "REVIEW",
        must={"OPIOID_DAILY_MME": "WARNING"},
        must_not=("OPIOID_TOLERANT_ONLY", "LONG_ACTING_OPIOID_START"),
    ),
    S(
        "fentanyl_patch_documented_opioid_tolerant",
        "FDA label (Duragesic): the prescriber documents opioid tolerance (near miss); CDC 2022 recommendation 3 still applies.",
        req(
            start("Duragesic", rateMcgPerHour=12, route=TRANSDERMAL),
            med("naloxone", 4, 1, asNeeded=True, route="ROUTE_INTRANASAL"),
            patient={"ageYears": 58, "opioidTolerant": True, "refractorySymptoms": True},
        ),
        "REVIEW",
        must={"LONG_ACTING_OPIOID_START": "WARNING"},
        must_not=("OPIOID_TOLERANT_ONLY",),
    ),
    S(
        "buccal_fentanyl_makes_the_mme_total_a_lower_bound",
        "CDC 2022: transmucosal fentanyl has no MME factor; a total without it must not pass as complete.",
        req(
            med("fentanyl", 0.2, 4, route="ROUTE_BUCCAL", startedOn="2026-09-01"),
            med("oxycodone", 10, 4, startedOn="2026-09-01"),
            med("naloxone", 4, 1, asNeeded=True, route="ROUTE_INTRANASAL"),
            patient={"ageYears": 62, "refractorySymptoms": True},
        ),
        "REVIEW",
        must={"MME_INCOMPLETE": "WARNING", "OPIOID_DAILY_MME": "WARNING"},
        ncpdp={"MME_INCOMPLETE": "MS"},
        mentions={"MME_INCOMPLETE": ("buccal fentanyl", "lower bound", "60 MME/day")},
        summary={"morphineMgEquivalentsPerDay": 60},
    ),
    S(
        "meperidine_has_no_cdc_factor",
        "CDC 2022: meperidine has no conversion factor; its MME is not a silent zero.",
        req(med("Demerol", 50, 4, startedOn="2026-11-01"), patient=ADULT),
        "REVIEW",
        must={"MME_INCOMPLETE": "WARNING"},
        mentions={"MME_INCOMPLETE": ("meperidine",)},
    ),
    S(
        "oxycodone_60_mme_without_naloxone",
        "CDC 2022 recommendation 8: offer naloxone at 50 MME/day or more.",
        req(
            med("oxycodone", 10, 4, startedOn="2026-06-01"),
            patient={"ageYears": 60, "refractorySymptoms": True},
        ),
        "REVIEW",
        must={"NALOXONE_NOT_PRESCRIBED": "WARNING", "OPIOID_DAILY_MME": "WARNING"},
        must_not=("MME_INCOMPLETE",),
        ncpdp={"NALOXONE_NOT_PRESCRIBED": "AD"},
        mentions={"NALOXONE_NOT_PRESCRIBED": ("60 MME/day", "naloxone")},
    ),
    S(
        "oxycodone_60_mme_with_naloxone",
        "CDC 2022 recommendation 8: naloxone is in the regimen (near miss).",
        req(
            med("oxycodone", 10, 4, startedOn="2026-06-01"),
            med("Narcan", 4, 1, asNeeded=True, route="ROUTE_INTRANASAL"),
            patient={"ageYears": 60, "refractorySymptoms": True},
        ),
        "REVIEW",
        must={"OPIOID_DAILY_MME": "WARNING"},
        must_not=("NALOXONE_NOT_PRESCRIBED",),
    ),
    S(
        "tramadol_with_tizanidine_below_50_mme_needs_no_naloxone",
        "CDC 2022 recommendation 8: an opioid with a muscle relaxant alone below 50 MME/day is not an overdose risk factor (near miss).",
        req(
            med("tramadol", 50, 3, asNeeded=True, startedOn="2026-10-01"),
            med("tizanidine", 2, 3, asNeeded=True, startedOn="2026-11-10"),
            patient=ADULT,
        ),
        "ACCEPT",
        must={"CNS_DEPRESSANT_COMBINATION": "INFO"},
        must_not=("NALOXONE_NOT_PRESCRIBED",),
        max_severity="INFO",
    ),
    S(
        "cancer_treatment_oxycodone_120_mme_is_advice_only",
        "CDC 2022 (scope): pain of active cancer treatment is outside the guideline; MME thresholds and the opioid restriction become INFO.",
        req(
            start("oxycodone", 20, 4),
            med("naloxone", 4, 1, asNeeded=True, route="ROUTE_INTRANASAL"),
            patient={"ageYears": 64, "activeCancerTreatment": True},
        ),
        "ACCEPT",
        must={"OPIOID_DAILY_MME": "INFO", "OPIOID_NOT_FIRST_LINE": "INFO"},
        max_severity="INFO",
        mentions={"OPIOID_DAILY_MME": ("120 MME", "does not cover")},
    ),
    S(
        "palliative_care_oxycodone_120_mme_is_advice_only",
        "CDC 2022 (scope): palliative and end-of-life care are outside the guideline.",
        req(
            start("oxycodone", 20, 4),
            med("naloxone", 4, 1, asNeeded=True, route="ROUTE_INTRANASAL"),
            patient={"ageYears": 80, "palliativeCare": True},
        ),
        "ACCEPT",
        must={"OPIOID_DAILY_MME": "INFO"},
        max_severity="INFO",
    ),
    S(
        "oxycodone_120_mme_without_cancer_or_palliative_care",
        "CDC 2022: the same regimen outside cancer or palliative care is CRITICAL (near miss).",
        req(
            start("oxycodone", 20, 4),
            med("naloxone", 4, 1, asNeeded=True, route="ROUTE_INTRANASAL"),
            patient={"ageYears": 64},
        ),
        "REJECT",
        must={"OPIOID_DAILY_MME": "CRITICAL", "OPIOID_NOT_FIRST_LINE": "WARNING"},
    ),
    S(
        "adolescent_on_naproxen",
        "Guideline scope: the guideline is for adults; a 16-year-old gets one warning and the adult limits still apply.",
        req(NAPROXEN, patient={"ageYears": 16}),
        "REVIEW",
        must={"PATIENT_UNDER_18": "WARNING"},
        only=True,
        ncpdp={"PATIENT_UNDER_18": "PA"},
    ),
    S(
        "eighteen_year_old_on_naproxen",
        "Guideline scope: an 18-year-old is an adult (near miss).",
        req(NAPROXEN, patient={"ageYears": 18}),
        "ACCEPT",
        only=True,
        must_not=("PATIENT_UNDER_18",),
    ),
    S(
        "duloxetine_30_mg_twice_daily_started",
        "Duloxetine: start at 30 mg once daily; 30 mg twice daily is 60 mg/day from day 1.",
        req(
            NAPROXEN, start("duloxetine", 30, 2), patient={"ageYears": 52, "painDurationWeeks": 20}
        ),
        "REVIEW",
        must={"NSAID_RISK": "INFO", "START_LOW": "WARNING"},
        only=True,
        mentions={"START_LOW": ("60 mg/day", "30 mg/day")},
    ),
    S(
        "quiet_doxepin_3_mg_for_sleep_older_adult",
        "AGS Beers Criteria 2023: doxepin at 6 mg/day or less is not on the anticholinergic list.",
        req(med("doxepin", 3, 1, indication="insomnia"), patient=OLDER),
        "ACCEPT",
        only=True,
        max_severity="INFO",
        must_not=("OLDER_ADULT_CAUTION",),
    ),
    S(
        "doxepin_25_mg_older_adult",
        "AGS Beers Criteria 2023: doxepin above 6 mg/day is a strongly anticholinergic TCA (near miss).",
        req(med("doxepin", 25, 1, indication="depression"), patient=OLDER),
        "REVIEW",
        must={"OLDER_ADULT_CAUTION": "WARNING"},
    ),
    S(
        "two_scheduled_naproxen_orders",
        "NCPDP ingredient duplication: two scheduled naproxen orders are one ingredient ordered twice.",
        req(NAPROXEN, med("naproxen", 250, 2), patient=ADULT),
        "REVIEW",
        must={"DUPLICATE_INGREDIENT": "WARNING"},
        only=True,
        ncpdp={"DUPLICATE_INGREDIENT": "ID"},
        mentions={"DUPLICATE_INGREDIENT": ("1,000 mg/day", "500 mg/day")},
    ),
    S(
        "tramadol_scheduled_plus_as_needed_is_not_a_duplicate",
        "Guideline (Tramadol): a standing dose with an as-needed dose for breakthrough is one regimen (near miss).",
        req(
            med("tramadol", 50, 2, startedOn="2026-10-01"),
            med("tramadol", 50, 2, asNeeded=True, startedOn="2026-10-01"),
            patient=ADULT,
        ),
        "ACCEPT",
        only=True,
        must_not=("DUPLICATE_INGREDIENT", "DUPLICATE_THERAPY"),
    ),
    S(
        "lorazepam_for_anxiety_with_percocet_is_actionable",
        "CDC 2022 recommendations 8 and 11: the finding names the doses and MME, recommends tapering one and offering naloxone.",
        req(
            med("lorazepam", 1, 2, indication="anxiety"),
            med("Percocet 5/325", dosesPerDay=4, unitsPerDose=2, startedOn="2026-09-01"),
            patient=ADULT,
        ),
        "REJECT",
        must={"BENZODIAZEPINE_WITH_OPIOID": "CRITICAL", "NALOXONE_NOT_PRESCRIBED": "WARNING"},
        mentions={
            "BENZODIAZEPINE_WITH_OPIOID": ("2 mg/day", "60 MME/day", "Taper one", "naloxone"),
        },
    ),
    S(
        "diazepam_for_back_pain_with_oxycodone_suggests_a_muscle_relaxant",
        "Guideline (Benzodiazepines): a benzodiazepine ordered for back pain is replaced by a nonbenzodiazepine muscle relaxant (near miss of the anxiety case).",
        req(
            med("diazepam", 5, 2, startedOn="2026-11-01"),
            med("oxycodone", 5, 2, startedOn="2026-09-01"),
            med("naloxone", 4, 1, asNeeded=True, route="ROUTE_INTRANASAL"),
            patient=ADULT,
        ),
        "REJECT",
        must={"BENZODIAZEPINE_WITH_OPIOID": "CRITICAL"},
        must_not=("NALOXONE_NOT_PRESCRIBED",),
        mentions={
            "BENZODIAZEPINE_WITH_OPIOID": ("nonbenzodiazepine muscle relaxant", "15 MME/day"),
        },
    ),
    S(
        "excedrin_with_tylenol_names_each_product",
        "Nonopioid analgesics: Excedrin's aspirin at 1,000 mg/day is an NSAID taken with acetaminophen; the finding says which product carries which.",
        req(
            med(
                "Excedrin",
                dosesPerDay=2,
                ingredients=[
                    {"name": "aspirin", "doseMg": 500},
                    {"name": "acetaminophen", "doseMg": 500},
                ],
            ),
            med("Tylenol", 500, 2),
            patient=ADULT,
        ),
        "REVIEW",
        must={"NSAID_WITH_ACETAMINOPHEN": "WARNING"},
        mentions={
            "NSAID_WITH_ACETAMINOPHEN": ("aspirin 1,000 mg/day", "Excedrin", "Tylenol 1,000 mg/day")
        },
    ),
    S(
        "low_dose_aspirin_with_acetaminophen_is_not_an_nsaid_pair",
        "FDA label (Bayer): aspirin 81 mg/day is antiplatelet, not an NSAID; with acetaminophen it is not NSAID_WITH_ACETAMINOPHEN (near miss of Excedrin).",
        req(med("aspirin", 81, 1, indication="cardioprotection"), APAP_650_PRN, patient=ADULT),
        "ACCEPT",
        only=True,
        must_not=("NSAID_WITH_ACETAMINOPHEN", "DUPLICATE_INGREDIENT"),
    ),
    S(
        "tizanidine_40_days_without_refractory_symptoms",
        "Long-term use of skeletal muscle relaxants: the finding names the missing criterion, the days over, and tapers tizanidine.",
        req(med("tizanidine", 4, 3, startedOn="2026-10-14", response=BENEFIT), patient=ADULT),
        "REVIEW",
        must={"MUSCLE_RELAXANT_DURATION": "WARNING"},
        mentions={
            "MUSCLE_RELAXANT_DURATION": (
                "12 days over",
                "not documented as refractory",
                "Taper tizanidine",
            ),
        },
    ),
    S(
        "older_adult_methocarbamol_advice_is_about_muscle_relaxants",
        "AGS Beers Criteria 2023: muscle-relaxant advice for a muscle relaxant.",
        req(med("methocarbamol", 750, 3, startedOn="2026-11-10"), patient=OLDER),
        "REVIEW",
        must={"OLDER_ADULT_CAUTION": "WARNING"},
        mentions={"OLDER_ADULT_CAUTION": ("muscle relaxant", "tizanidine or baclofen")},
    ),
    # ---------------------------------------------------------------------------------------
    # Acknowledgements.
    # ---------------------------------------------------------------------------------------
    S(
        "acknowledged_warning_accepts",
        "Nonopioid analgesics: the prescriber has reviewed the NSAID + acetaminophen warning; an acknowledged WARNING does not hold the order.",
        req(
            med("ibuprofen", 400, 3),
            APAP_650_PRN,
            patient=ADULT,
            acks=[ack("NSAID_WITH_ACETAMINOPHEN")],
        ),
        "ACCEPT",
        must={"NSAID_WITH_ACETAMINOPHEN": "WARNING"},
        acknowledged=("NSAID_WITH_ACETAMINOPHEN",),
    ),
    S(
        "acknowledged_critical_still_rejects",
        "Combination therapy: two NSAIDs must not be dispensed as written; a CRITICAL cannot be acknowledged away.",
        req(
            med("Advil", 400, 3),
            med("Aleve", 220, 2),
            patient=ADULT,
            acks=[ack("DUPLICATE_THERAPY")],
        ),
        "REJECT",
        must={"DUPLICATE_THERAPY": "CRITICAL"},
        unacknowledged=("DUPLICATE_THERAPY",),
    ),
    S(
        "acknowledged_apap_max_still_rejects",
        "Nonopioid analgesics (Acetaminophen): over the 3 g maximum is never acknowledged away.",
        req(
            med("acetaminophen", 1000, 4),
            patient=ADULT,
            acks=[ack("ACETAMINOPHEN_DAILY_MAX", "acetaminophen")],
        ),
        "REJECT",
        must={"ACETAMINOPHEN_DAILY_MAX": "CRITICAL"},
        unacknowledged=("ACETAMINOPHEN_DAILY_MAX",),
    ),
    S(
        "acknowledgement_covering_some_drugs_does_not_apply",
        "Combination therapy: an acknowledgement naming only duloxetine does not cover the duloxetine + cyclobenzaprine finding.",
        req(
            med("duloxetine", 60, 1, startedOn="2026-08-01"),
            start("cyclobenzaprine", 5, 3, asNeeded=True),
            patient={"ageYears": 50},
            acks=[ack("SEROTONERGIC_COMBINATION", "duloxetine")],
        ),
        "REVIEW",
        must={"SEROTONERGIC_COMBINATION": "WARNING"},
        unacknowledged=("SEROTONERGIC_COMBINATION",),
    ),
    S(
        "acknowledgement_by_brand_names_covers_all_drugs",
        "Combination therapy: acknowledging the pair by brand names (Cymbalta, Flexeril) covers the serotonergic finding.",
        req(
            med("duloxetine", 60, 1, startedOn="2026-08-01"),
            start("cyclobenzaprine", 5, 3, asNeeded=True),
            patient={"ageYears": 50},
            acks=[ack("SEROTONERGIC_COMBINATION", "Cymbalta", "Flexeril")],
        ),
        "ACCEPT",
        must={"SEROTONERGIC_COMBINATION": "WARNING"},
        acknowledged=("SEROTONERGIC_COMBINATION",),
    ),
    S(
        "acknowledgement_of_other_rule_does_not_apply",
        "Acknowledgements are per rule: acknowledging NSAID_RISK does not clear an NSAID + acetaminophen warning.",
        req(med("ibuprofen", 400, 3), APAP_650_PRN, patient=ADULT, acks=[ack("NSAID_RISK")]),
        "REVIEW",
        must={"NSAID_WITH_ACETAMINOPHEN": "WARNING"},
        unacknowledged=("NSAID_WITH_ACETAMINOPHEN",),
    ),
    S(
        "acknowledged_new_drug_joins_reviewed_pair",
        "Tramadol: a pair acknowledged (duloxetine + cyclobenzaprine) does not cover tramadol joining it (three agents: CRITICAL).",
        req(
            med("duloxetine", 60, 1, startedOn="2026-08-01"),
            med("cyclobenzaprine", 5, 3, asNeeded=True, startedOn="2026-11-10"),
            start("tramadol", 50, 4, asNeeded=True),
            patient={"ageYears": 50},
            acks=[ack("SEROTONERGIC_COMBINATION", "duloxetine", "cyclobenzaprine")],
        ),
        "REJECT",
        must={"SEROTONERGIC_COMBINATION": "CRITICAL"},
        unacknowledged=("SEROTONERGIC_COMBINATION",),
    ),
    # ---------------------------------------------------------------------------------------
    # The outpatient formulary (issue 10): co-medications, product codes, names, salts.
    # ---------------------------------------------------------------------------------------
    S(
        "formulary_everyday_comedications_are_quiet",
        "Issue 10: naproxen with lisinopril, atorvastatin, metformin and PPIs: known drugs no rule concerns are quiet.",
        req(
            NAPROXEN,
            med("lisinopril", 20, 1, indication="hypertension"),
            med("atorvastatin", 40, 1, indication="hyperlipidemia"),
            med("metformin", 500, 2, indication="diabetes"),
            med("omeprazole", 20, 1, indication="GERD"),
            med("caffeine", 100, 1, indication="alertness"),
            patient=ADULT,
        ),
        "ACCEPT",
        only=True,
        must_not=("UNKNOWN_DRUG", "NSAID_DRUG_INTERACTION"),
    ),
    S(
        "formulary_triple_whammy",
        "FDA NSAID labeling: an NSAID with an ACE inhibitor and a diuretic risks acute kidney injury.",
        req(
            NAPROXEN,
            med("lisinopril", 20, 1, indication="hypertension"),
            med("hydrochlorothiazide", 25, 1, indication="hypertension"),
            patient=ADULT,
        ),
        "REVIEW",
        must={"NSAID_DRUG_INTERACTION": "WARNING"},
        only=True,
        mentions={"NSAID_DRUG_INTERACTION": ("hydrochlorothiazide", "kidney")},
        ncpdp={"NSAID_DRUG_INTERACTION": "DD"},
    ),
    S(
        "formulary_clarithromycin_with_oxycodone",
        "FDA label (OxyContin, boxed warning): a strong CYP3A4 inhibitor with oxycodone can cause fatal respiratory depression.",
        req(
            med("oxycodone", 5, 4, startedOn="2026-06-01"),
            med("clarithromycin", 500, 2, indication="pneumonia"),
            patient=ADULT,
        ),
        "REJECT",
        must={"OPIOID_CYP_INTERACTION": "CRITICAL"},
        must_not=("UNKNOWN_DRUG",),
    ),
    S(
        "formulary_paroxetine_with_tramadol",
        "FDA label (Ultram): a strong CYP2D6 inhibitor blocks tramadol's activation.",
        req(
            med("tramadol", 50, 4, startedOn="2026-09-01"),
            med("paroxetine", 20, 1, indication="depression"),
            patient=ADULT,
        ),
        "REVIEW",
        must={"OPIOID_CYP_INTERACTION": "WARNING", "SEROTONERGIC_COMBINATION": "WARNING"},
        only=True,
    ),
    S(
        "formulary_morphine_with_clarithromycin",
        "Morphine is not cleared by CYP3A4: no metabolic interaction with clarithromycin.",
        req(
            med("morphine", 10, 3, startedOn="2026-06-01"),
            med("clarithromycin", 500, 2, indication="pneumonia"),
            patient=ADULT,
        ),
        "ACCEPT",
        must_not=("OPIOID_CYP_INTERACTION", "QT_PROLONGATION"),
    ),
    S(
        "formulary_methadone_with_ondansetron",
        "FDA label (Dolophine): methadone with another QT-prolonging drug risks torsades de pointes.",
        req(
            med("methadone", 5, 2, startedOn="2026-06-01"),
            med("ondansetron", 4, 2, indication="nausea"),
            patient=ADULT,
        ),
        "REVIEW",
        must={"QT_PROLONGATION": "WARNING"},
    ),
    S(
        "formulary_methadone_with_famotidine",
        "Famotidine has no known QT risk: no QT_PROLONGATION.",
        req(
            med("methadone", 5, 2, startedOn="2026-06-01"),
            med("famotidine", 20, 2, indication="GERD"),
            patient=ADULT,
        ),
        "ACCEPT",
        must_not=("QT_PROLONGATION", "UNKNOWN_DRUG"),
    ),
    S(
        "formulary_flurazepam_with_oxycodone",
        "Issue 10: flurazepam (a benzodiazepine) with oxycodone is REJECT, not an unknown drug.",
        req(
            med("flurazepam", 15, 1, indication="insomnia"),
            med("oxycodone", 5, 4, startedOn="2026-06-01"),
            patient=ADULT,
        ),
        "REJECT",
        must={"BENZODIAZEPINE_WITH_OPIOID": "CRITICAL"},
        must_not=("UNKNOWN_DRUG",),
    ),
    S(
        "formulary_zolpidem_with_oxycodone",
        "FDA opioid boxed warning: other CNS depressants (z-drugs).",
        req(
            med("zolpidem", 5, 1, indication="insomnia"),
            med("oxycodone", 5, 4, startedOn="2026-06-01"),
            patient=ADULT,
        ),
        "REVIEW",
        must={"CNS_DEPRESSANT_COMBINATION": "WARNING"},
    ),
    S(
        "formulary_rxcui_856999_one_tablet_q6h",
        "RxNorm 856999 is hydrocodone 10 mg / acetaminophen 325 mg: 1 tablet q6h is 1,300 mg acetaminophen and 40 MME a day.",
        req(
            med("rxcui:856999", unitsPerDose=1, dosesPerDay=4, startedOn="2026-06-01"),
            patient=ADULT,
        ),
        "ACCEPT",
        must_not=("UNKNOWN_DRUG", "ACETAMINOPHEN_DAILY_MAX"),
        summary={"acetaminophenMgPerDay": 1300, "morphineMgEquivalentsPerDay": 40},
    ),
    S(
        "formulary_rxcui_197696_fentanyl_patch",
        "RxNorm 197696 is the 75 mcg/h fentanyl patch: 75 x 2.4 = 180 MME a day (CDC 2022).",
        req(
            med("rxcui:197696", unitsPerDose=1, dosesPerDay=1, startedOn="2026-06-01"),
            patient=ADULT,
        ),
        "REJECT",
        must={"OPIOID_DAILY_MME": "CRITICAL"},
        must_not=("UNKNOWN_DRUG",),
        summary={"morphineMgEquivalentsPerDay": 180},
    ),
    S(
        "formulary_tylenol_es_2_tabs_qid",
        "Tylenol ES is 500 mg a tablet: 2 tablets four times a day is 4,000 mg a day.",
        req(med("Tylenol ES", unitsPerDose=2, dosesPerDay=4), patient=ADULT),
        "REJECT",
        must={"ACETAMINOPHEN_DAILY_MAX": "CRITICAL"},
        must_not=("UNKNOWN_DRUG",),
        summary={"acetaminophenMgPerDay": 4000},
    ),
    S(
        "formulary_naproxen_sodium_550_tid",
        "FDA label (Anaprox DS): 550 mg naproxen sodium is 500 mg naproxen; three a day is 1,500 mg, the maximum.",
        req(med("naproxen sodium", 550, 3), patient=ADULT),
        "ACCEPT",
        only=True,
        must_not=("DOSE_ABOVE_MAX",),
    ),
    S(
        "formulary_naproxen_sodium_550_qid",
        "FDA label (Anaprox DS): 2,200 mg naproxen sodium is 2,000 mg naproxen, above 1,500 mg.",
        req(med("naproxen sodium", 550, 4), patient=ADULT),
        "REJECT",
        must={"DOSE_ABOVE_MAX": "CRITICAL"},
        mentions={"DOSE_ABOVE_MAX": ("2,000 mg/day", "2,200 mg/day as naproxen sodium")},
    ),
    S(
        "formulary_nsaid_ssri_older_adult",
        "NSAID + SSRI in an older adult: GI bleeding WARNING, saying that omeprazole protects the stomach.",
        req(
            NAPROXEN,
            med("sertraline", 50, 1, indication="depression"),
            med("omeprazole", 20, 1, indication="GI protection"),
            patient=OLDER,
        ),
        "REVIEW",
        must={"NSAID_RISK": "WARNING"},
        mentions={"NSAID_RISK": ("sertraline", "omeprazole")},
    ),
)

BY_NAME: Mapping[str, Scenario] = {scenario.name: scenario for scenario in SCENARIOS}
assert len(BY_NAME) == len(SCENARIOS), "scenario names must be unique"
