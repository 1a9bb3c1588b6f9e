"""The words of a sig and what each means: actions, frequencies, routes, forms, units, notes.

Language, not product knowledge: "bid" is twice a day for every drug. Multi-word phrases match
any whitespace between their words; short abbreviations also match dotted (``t.i.d.``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

ACTIONS: Mapping[str, str] = MappingProxyType(
    {
        "start": "start",
        "begin": "start",
        "new": "start",
        "initiate": "start",
        "stop": "stop",
        "discontinue": "stop",
        "d/c": "stop",
        "dc": "stop",
        "continue": "continue",
        "cont": "continue",
        "resume": "continue",
        "increase": "change_dose",
        "decrease": "change_dose",
        "reduce": "change_dose",
        "change": "change_dose",
        "titrate": "change_dose",
    }
)
DECREASING_VERBS = frozenset({"decrease", "reduce"})

FIXED_FREQUENCIES: Mapping[str, float] = MappingProxyType(
    {
        "daily": 1.0,
        "qd": 1.0,
        "qday": 1.0,
        "once daily": 1.0,
        "once a day": 1.0,
        "once per day": 1.0,
        "every day": 1.0,
        "qam": 1.0,
        "qpm": 1.0,
        "every morning": 1.0,
        "in the morning": 1.0,
        "every night": 1.0,
        "every evening": 1.0,
        "in the evening": 1.0,
        "at bedtime": 1.0,
        "at night": 1.0,
        "before bed": 1.0,
        "qhs": 1.0,
        "hs": 1.0,
        "nightly": 1.0,
        "bid": 2.0,
        "twice daily": 2.0,
        "twice a day": 2.0,
        "twice per day": 2.0,
        "tid": 3.0,
        "thrice daily": 3.0,
        "qid": 4.0,
        "weekly": 1.0 / 7.0,
        "once weekly": 1.0 / 7.0,
        "once a week": 1.0 / 7.0,
        "every week": 1.0 / 7.0,
        "qweek": 1.0 / 7.0,
        "qwk": 1.0 / 7.0,
        "twice weekly": 2.0 / 7.0,
        "twice a week": 2.0 / 7.0,
        "qod": 0.5,
        "every other day": 0.5,
    }
)

# Times of day: each distinct one is a dose ("qam and qhs" is twice a day); with a count word
# they say when ("daily at bedtime" is once a day).
TIMES_OF_DAY: Mapping[str, str] = MappingProxyType(
    {
        "qam": "morning",
        "every morning": "morning",
        "in the morning": "morning",
        "qpm": "evening",
        "every evening": "evening",
        "in the evening": "evening",
        "at bedtime": "bedtime",
        "at night": "bedtime",
        "before bed": "bedtime",
        "qhs": "bedtime",
        "hs": "bedtime",
        "nightly": "bedtime",
        "every night": "bedtime",
    }
)

WORD_NUMBERS: Mapping[str, int] = MappingProxyType(
    {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
)

# Routes a word states outright; two different ones in one order are a conflict.
ROUTES: Mapping[str, str] = MappingProxyType(
    {
        "po": "oral",
        "oral": "oral",
        "orally": "oral",
        "by mouth": "oral",
        "topical": "topical",
        "topically": "topical",
        "transdermal": "transdermal",
        "transdermally": "transdermal",
        "td": "transdermal",
        "iv": "injection",
        "im": "injection",
        "sc": "injection",
        "subq": "injection",
        "subcut": "injection",
        "sq": "injection",
        "inj": "injection",
        "injection": "injection",
        "intranasal": "intranasal",
        "nasal": "intranasal",
        "sl": "sublingual",
        "sublingual": "sublingual",
        "buccal": "sublingual",
        "pr": "rectal",
        "rectal": "rectal",
        "rectally": "rectal",
    }
)

# Dosage forms: the route each suggests when no route is stated (None: none).
FORMS: Mapping[str, str | None] = MappingProxyType(
    {
        "tab": None,
        "tabs": None,
        "tablet": None,
        "tablets": None,
        "cap": None,
        "caps": None,
        "capsule": None,
        "capsules": None,
        "pill": None,
        "pills": None,
        "caplet": None,
        "caplets": None,
        "gelcap": None,
        "gelcaps": None,
        "softgel": None,
        "softgels": None,
        "odt": None,
        "solution": None,
        "liquid": None,
        "film": None,
        "films": None,
        "lozenge": None,
        "lozenges": None,
        "patch": "topical",
        "patches": "topical",
        "system": "topical",
        "gel": "topical",
        "cream": "topical",
        "ointment": "topical",
        "lotion": "topical",
        "spray": "intranasal",
        "sprays": "intranasal",
        "suppository": "rectal",
        "suppositories": "rectal",
    }
)
FORM_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "tab": "tab",
        "tabs": "tab",
        "tablet": "tab",
        "tablets": "tab",
        "cap": "cap",
        "caps": "cap",
        "capsule": "cap",
        "capsules": "cap",
        "pill": "tab",
        "pills": "tab",
        "caplet": "tab",
        "caplets": "tab",
        "gelcap": "cap",
        "gelcaps": "cap",
        "softgel": "cap",
        "softgels": "cap",
        "patch": "patch",
        "patches": "patch",
        "system": "patch",
        "spray": "spray",
        "sprays": "spray",
        "film": "film",
        "films": "film",
        "lozenge": "lozenge",
        "lozenges": "lozenge",
        "suppository": "suppository",
        "suppositories": "suppository",
        "puff": "puff",
        "puffs": "puff",
        "unit": "unit",
        "units": "unit",
    }
)
COUNT_UNITS = tuple(FORM_NAMES)
TOPICAL_PRODUCT_FORMS = frozenset({"gel", "cream", "ointment", "lotion"})

MASS_UNITS: Mapping[str, str] = MappingProxyType(
    {"mg": "mg", "g": "g", "gm": "g", "gram": "g", "grams": "g", "mcg": "mcg", "ug": "mcg"}
)
MASS_PATTERN = r"(?:mg|gm|grams?|g|mcg|ug|µg|μg)"

RELEASE: Mapping[str, bool] = MappingProxyType(
    {
        "er": True,
        "xr": True,
        "sr": True,
        "xl": True,
        "cr": True,
        "extended-release": True,
        "extended release": True,
        "long-acting": True,
        "long acting": True,
        "ir": False,
        "immediate-release": False,
        "immediate release": False,
        "dr": False,
        "ec": False,
        "delayed release": False,
        "delayed-release": False,
    }
)

REASON_JOINERS = frozenset({"to", "or", "and"})  # "prn moderate to severe pain"
PRN = ("prn", "as needed", "as-needed", "when needed", "if needed")

RESPONSES: Mapping[str, str] = MappingProxyType(
    {
        "helping": "benefit",
        "helps": "benefit",
        "effective": "benefit",
        "benefit": "benefit",
        "working": "benefit",
        "no benefit": "no_benefit",
        "not helping": "no_benefit",
        "ineffective": "no_benefit",
        "no relief": "no_benefit",
        "not working": "no_benefit",
        "not effective": "no_benefit",
        "not tolerated": "not_tolerated",
        "intolerant": "not_tolerated",
        "side effects": "not_tolerated",
    }
)

# Administration notes: kept with the reading, they change no amount.
NOTES = (
    "with food",
    "with meals",
    "with a meal",
    "with milk",
    "with water",
    "with a full glass of water",
    "after meals",
    "after food",
    "before meals",
    "with breakfast",
    "with dinner",
    "with supper",
    "on an empty stomach",
    "do not crush",
    "do not chew",
    "swallow whole",
    "while awake",
    "for up to 12 hours",
    "remove after 12 hours",
    "around the clock",
    "atc",
    "then stop",  # after a duration: the course ends, as it says
    "then discontinue",
    "no refills",
)
SITES = (
    "lower back",
    "low back",
    "back",
    "lumbar area",
    "lumbar region",
    "affected area",
    "affected areas",
    "painful area",
    "painful areas",
    "area of pain",
    "skin",
    "intact skin",
    "clean dry skin",
    "neck",
    "shoulder",
    "shoulders",
    "knee",
    "knees",
    "hip",
    "hips",
    "upper arm",
    "chest",
    "upper back",
)
# Filler words of a sig that carry no fact.
FILLERS = (
    "take",
    "use",
    "give",
    "sig",
    "and",
    "each time",
    "each dose",
    "per dose",
    "per tablet",
    "per tab",
    "per capsule",
    "per cap",
    "per patch",
    "change",
    "replace",
    "remove and replace",
)

# Words that end a drug name even when what follows cannot be read, so that
# "cyclobenzaprine for pain tid" is refused instead of naming a drug "cyclobenzaprine for pain".
NAME_STOP_WORDS = frozenset(
    {
        "to",
        "from",
        "for",
        "x",
        "started",
        "since",
        "on",
        "as",
        "no",
        "not",
        "every",
        "once",
        "twice",
        "thrice",
        "at",
        "per",
        "q",
        "max",
        "take",
        "apply",
        *ACTIONS,
        *MASS_UNITS,
        *COUNT_UNITS,
    }
)
