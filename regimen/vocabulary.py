"""Every knowledge-base node a rule names, declared once and checked at start-up.

Rules are gated on classes (``class:nsaid``), conditions (``condition:older_adult``) and a few
drugs by id. The ids are the data's (classes.csv, ingredients.csv); a rule that names one the
data no longer has would silently never fire. So each id a rule uses is declared here, rules
import it from here, and ``check_vocabulary`` (called by ``load_knowledge``) stops start-up
naming every declared id the knowledge base's graph does not have: renaming a class in the
data without renaming it here fails loudly.
"""

from __future__ import annotations

from collections.abc import Container

from regimenguard.interactions.datafile import DataError

# --- classes (interactions/data/classes.csv) ------------------------------------------------
OPIOID = "class:opioid"
RESTRICTED_OPIOID = "class:restricted_opioid"
OPIOID_OVERDOSE_REVERSAL = "class:opioid_overdose_reversal"
SEROTONERGIC = "class:serotonergic"
SNRI = "class:snri"
BENZODIAZEPINE = "class:benzodiazepine"
NSAID = "class:nsaid"
NOT_RECOMMENDED_FOR_BACK_PAIN = "class:not_recommended_for_back_pain"
CNS_ACTIVE = "class:cns_active"
MUSCLE_RELAXANT = "class:skeletal_muscle_relaxant"
PREFERRED_MUSCLE_RELAXANT = "class:preferred_muscle_relaxant"
MISUSE_RISK_MODERATE = "class:misuse_risk_moderate"
RESCUE_MEDICATION = "class:rescue_medication"

# --- patient conditions (regimenguard.interactions.knowledge_base.CONDITIONS) -----------------------------
OLDER_ADULT = "condition:older_adult"
MINOR = "condition:minor"

# --- drugs a rule is about by name (interactions/data/ingredients.csv) ----------------------
ACETAMINOPHEN = "drug:acetaminophen"

VOCABULARY: frozenset[str] = frozenset(
    value
    for name, value in dict(globals()).items()
    if name.isupper() and isinstance(value, str) and ":" in value
)


def check_vocabulary(nodes: Container[str], vocabulary: frozenset[str] = VOCABULARY) -> None:
    """Raise DataError naming every declared id that is not a node of the knowledge base."""
    missing = sorted(node for node in vocabulary if node not in nodes)
    if missing:
        raise DataError(
            "the rules name nodes the knowledge base does not have (renamed or removed in the "
            f"data? see regimen/vocabulary.py): {', '.join(missing)}"
        )
