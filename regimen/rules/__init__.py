"""The rule registry: every rule id of the catalogue, mapped to the function that checks it.

This is the one place rules are registered. The catalogue's metadata (default severity,
NCPDP code, guideline section, summary) is data (interactions/data/rules.csv); start-up checks
that every catalogue row has exactly one function here and every function a row. Each rule
also names its triggers: the graph nodes (or markers) without which it cannot fire, so the
engine skips it with one set test.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from regimenguard.regimen import vocabulary
from regimenguard.regimen.compiled import (
    LONG_ACTING_OPIOID_START,
    SNRI_START,
    TOLERANT_ONLY_OPIOID_START,
    schedule_marker,
)
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.rules.acetaminophen import acetaminophen_daily_max
from regimenguard.regimen.rules.appropriateness import (
    duloxetine_subacute,
    not_recommended_for_back_pain,
)
from regimenguard.regimen.rules.base import Rule, on, on_drugs, on_edges
from regimenguard.regimen.rules.benzodiazepine_opioid import benzodiazepine_with_opioid
from regimenguard.regimen.rules.combinations import (
    duplicate_ingredient,
    duplicate_therapy,
    pairwise,
    serotonergic_combination,
)
from regimenguard.regimen.rules.dose_limits import dose_above_guideline_range, dose_above_max
from regimenguard.regimen.rules.muscle_relaxants import (
    muscle_relaxant_duration,
    nonpreferred_muscle_relaxant,
)
from regimenguard.regimen.rules.naloxone import naloxone_not_prescribed
from regimenguard.regimen.rules.nsaid_acetaminophen import nsaid_with_acetaminophen
from regimenguard.regimen.rules.nsaids import nsaid_previously_ineffective, nsaid_risk
from regimenguard.regimen.rules.older_adults import older_adult_caution
from regimenguard.regimen.rules.opioid_starts import long_acting_opioid_start, opioid_tolerant_only
from regimenguard.regimen.rules.opioids import (
    mme_incomplete,
    opioid_daily_mme,
    opioid_not_first_line,
)
from regimenguard.regimen.rules.patient_scope import patient_under_18
from regimenguard.regimen.rules.schedule import dosing_schedule, extended_release_start
from regimenguard.regimen.rules.titration import (
    add_before_stopping_ineffective,
    multiple_new_agents,
    start_low,
    titration_interval,
)
from regimenguard.regimen.rules.unknown_drug import unknown_drug


def _schedule_broken(knowledge: Knowledge, rule_id: str) -> frozenset[str]:
    """A back-pain order breaking a scheduling constraint of this rule (its marker)."""
    return frozenset({schedule_marker(rule_id)})


RULES: Mapping[str, Rule] = MappingProxyType(
    {
        "ACETAMINOPHEN_DAILY_MAX": Rule(acetaminophen_daily_max, on(vocabulary.ACETAMINOPHEN)),
        "DOSE_ABOVE_MAX": Rule(dose_above_max, on_drugs(lambda k: k.dosing.dose_limits)),
        "DOSE_ABOVE_GUIDELINE_RANGE": Rule(
            dose_above_guideline_range, on_drugs(lambda k: k.dosing.guideline_ranges)
        ),
        "NSAID_WITH_ACETAMINOPHEN": Rule(nsaid_with_acetaminophen, on_edges()),
        "DUPLICATE_THERAPY": Rule(
            duplicate_therapy, lambda k, _: frozenset(k.index.duplicate_severity)
        ),
        "SEROTONERGIC_COMBINATION": Rule(serotonergic_combination, on(vocabulary.SEROTONERGIC)),
        "CONTRAINDICATED_COMBINATION": Rule(pairwise, on_edges()),
        "BENZODIAZEPINE_WITH_OPIOID": Rule(benzodiazepine_with_opioid, on_edges()),
        "CNS_DEPRESSANT_COMBINATION": Rule(pairwise, on_edges()),
        "MULTIPLE_NEW_AGENTS": Rule(multiple_new_agents, on("order:start")),
        "ADD_BEFORE_STOPPING_INEFFECTIVE": Rule(add_before_stopping_ineffective, on("order:start")),
        "START_LOW": Rule(start_low, on_drugs(lambda k: k.dosing.starting_doses)),
        "TITRATION_INTERVAL": Rule(titration_interval, on("order:change_dose")),
        "DOSING_SCHEDULE": Rule(dosing_schedule, _schedule_broken),
        "MUSCLE_RELAXANT_DURATION": Rule(muscle_relaxant_duration, on(vocabulary.MUSCLE_RELAXANT)),
        "TRAMADOL_EXTENDED_RELEASE_START": Rule(extended_release_start, _schedule_broken),
        "SEIZURE_RISK": Rule(pairwise, on_edges()),
        "MISUSE_RISK": Rule(pairwise, on_edges()),
        "OPIOID_NOT_FIRST_LINE": Rule(opioid_not_first_line, on(vocabulary.RESTRICTED_OPIOID)),
        "OPIOID_DAILY_MME": Rule(opioid_daily_mme, on(vocabulary.OPIOID)),
        "NOT_RECOMMENDED_FOR_BACK_PAIN": Rule(
            not_recommended_for_back_pain, on(vocabulary.NOT_RECOMMENDED_FOR_BACK_PAIN)
        ),
        "NONPREFERRED_MUSCLE_RELAXANT": Rule(
            nonpreferred_muscle_relaxant, on(vocabulary.MUSCLE_RELAXANT)
        ),
        "NSAID_RISK": Rule(nsaid_risk, on_edges(vocabulary.NSAID)),
        "NSAID_PREVIOUSLY_INEFFECTIVE": Rule(nsaid_previously_ineffective, on(vocabulary.NSAID)),
        "OLDER_ADULT_CAUTION": Rule(older_adult_caution, on_edges(vocabulary.OLDER_ADULT)),
        "DULOXETINE_SUBACUTE": Rule(duloxetine_subacute, on(SNRI_START)),
        "DRUG_CONDITION": Rule(pairwise, on_edges()),
        "UNKNOWN_DRUG": Rule(unknown_drug, on("order:unresolved")),
        "LONG_ACTING_OPIOID_START": Rule(long_acting_opioid_start, on(LONG_ACTING_OPIOID_START)),
        "OPIOID_TOLERANT_ONLY": Rule(opioid_tolerant_only, on(TOLERANT_ONLY_OPIOID_START)),
        "MME_INCOMPLETE": Rule(mme_incomplete, on(vocabulary.OPIOID)),
        "NALOXONE_NOT_PRESCRIBED": Rule(naloxone_not_prescribed, on(vocabulary.OPIOID)),
        "PATIENT_UNDER_18": Rule(patient_under_18, on(vocabulary.MINOR)),
        "DUPLICATE_INGREDIENT": Rule(duplicate_ingredient, on("order:repeated_ingredient")),
        "NSAID_DRUG_INTERACTION": Rule(pairwise, on_edges()),
        "OPIOID_CYP_INTERACTION": Rule(pairwise, on_edges()),
        "QT_PROLONGATION": Rule(pairwise, on_edges()),
    }
)
