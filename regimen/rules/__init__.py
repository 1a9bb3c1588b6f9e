"""The rule registry: every rule id of the catalogue, mapped to the function that checks it.

This is the one place rules are registered. The catalogue's metadata (default severity,
NCPDP code, guideline section, summary) is data (interactions/data/rules.csv); start-up checks
that every catalogue row has exactly one function here and every function a row.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from regimen.rules.acetaminophen import acetaminophen_daily_max
from regimen.rules.appropriateness import duloxetine_subacute, not_recommended_for_back_pain
from regimen.rules.base import RuleCheck
from regimen.rules.combinations import duplicate_therapy, pairwise, serotonergic_combination
from regimen.rules.dose_limits import dose_above_guideline_range, dose_above_max
from regimen.rules.muscle_relaxants import muscle_relaxant_duration, nonpreferred_muscle_relaxant
from regimen.rules.nsaids import nsaid_previously_ineffective, nsaid_risk
from regimen.rules.older_adults import older_adult_caution
from regimen.rules.opioids import opioid_daily_mme, opioid_not_first_line
from regimen.rules.schedule import dosing_schedule, extended_release_start
from regimen.rules.titration import (
    add_before_stopping_ineffective,
    multiple_new_agents,
    start_low,
    titration_interval,
)
from regimen.rules.unknown_drug import unknown_drug

RULES: Mapping[str, RuleCheck] = MappingProxyType(
    {
        "ACETAMINOPHEN_DAILY_MAX": acetaminophen_daily_max,
        "DOSE_ABOVE_MAX": dose_above_max,
        "DOSE_ABOVE_GUIDELINE_RANGE": dose_above_guideline_range,
        "NSAID_WITH_ACETAMINOPHEN": pairwise,
        "DUPLICATE_THERAPY": duplicate_therapy,
        "SEROTONERGIC_COMBINATION": serotonergic_combination,
        "CONTRAINDICATED_COMBINATION": pairwise,
        "BENZODIAZEPINE_WITH_OPIOID": pairwise,
        "CNS_DEPRESSANT_COMBINATION": pairwise,
        "MULTIPLE_NEW_AGENTS": multiple_new_agents,
        "ADD_BEFORE_STOPPING_INEFFECTIVE": add_before_stopping_ineffective,
        "START_LOW": start_low,
        "TITRATION_INTERVAL": titration_interval,
        "DOSING_SCHEDULE": dosing_schedule,
        "MUSCLE_RELAXANT_DURATION": muscle_relaxant_duration,
        "TRAMADOL_EXTENDED_RELEASE_START": extended_release_start,
        "SEIZURE_RISK": pairwise,
        "MISUSE_RISK": pairwise,
        "OPIOID_NOT_FIRST_LINE": opioid_not_first_line,
        "OPIOID_DAILY_MME": opioid_daily_mme,
        "NOT_RECOMMENDED_FOR_BACK_PAIN": not_recommended_for_back_pain,
        "NONPREFERRED_MUSCLE_RELAXANT": nonpreferred_muscle_relaxant,
        "NSAID_RISK": nsaid_risk,
        "NSAID_PREVIOUSLY_INEFFECTIVE": nsaid_previously_ineffective,
        "OLDER_ADULT_CAUTION": older_adult_caution,
        "DULOXETINE_SUBACUTE": duloxetine_subacute,
        "DRUG_CONDITION": pairwise,
        "UNKNOWN_DRUG": unknown_drug,
    }
)
