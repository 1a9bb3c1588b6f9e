"""The words of a sig: what the text of one medication order states, before any product knowledge.

``parse_sig`` reads the text left to right: an optional action, the drug name, then clauses.
Every token must be accounted for, otherwise ``SigParseError`` is raised quoting the part it
could not read and saying what it expected, e.g.
``could not read "xyz" in "ibuprofen 400 mg xyz bid"``. What the words *mean* for a product
(a patch's strength is a rate, Voltaren gel is 1%) is decided by ``regimen.sig.reading``.

Grammar (case-insensitive; tokens separated by spaces, commas, semicolons or parentheses;
single-word abbreviations may be dotted: ``t.i.d.``, ``q.8.h.``, ``p.o.``, ``p.r.n.``)::

    order      := [action] ["apply" | "take"] drug clause*
    action     := start | begin | new | stop | discontinue | d/c | dc | continue | cont | resume
                | increase | decrease | change | titrate
    drug       := a known product name (from the catalog, e.g. "Tylenol 8 HR Arthritis")
                | word+ ["#"N] [A/B | A-B | A/Bmg | A mg/B mg]   ("Norco 10/325", "5-325")
    clause     := rate | percent | dose | count | frequency | wear | prn | note | cap | route
                | form | release | date | duration | dispensed | response | filler
                | "to" dose | "from" dose | indication
    rate       := N mcg/h | N mcg/hr | N mcg per hour
    percent    := N%
    dose       := N unit | A-B unit  (mg, g, gm, mcg, ug; a range is counted at its maximum)
    count      := N form | A-B form | A to B form | A or B form | 1/2 form
                  (tab, tablet, cap, capsule, patch, pill, spray, puff, unit, film, lozenge)
    frequency  := daily | qd | bid | tid | qid | qhs | qam | qpm | at bedtime | nightly | weekly
                | twice weekly | qod | qNh | q A-B h | every N hours | every A to B hours
                | qNd | every N days | N times a day | Nx/day | N times a week
    wear       := N h on, M h off | on N h off M h | for N hours then remove      (patches)
    prn        := prn | as needed [for] [reason words]            ("prn severe pain")
    note       := with food | with meals | after meals | with water | on an empty stomach
                | to|on|over [the] SITE | do not crush | swallow whole        (kept, not used)
    cap        := max[imum] [of] N [unit] (/|per|a|in) (day|24 h) | not to exceed ... | no more
                  than ... | do not exceed ...              (bounds the count per day)
    route      := po | oral | by mouth | topical | transdermal | td | iv | im | sc | subq
                | intranasal | nasal | sl | sublingual | buccal | pr | rectal
    release    := ER | XR | SR | XL | CR | extended release | long-acting  (IR, DR, EC: not)
    date       := (started | started on | since | on) YYYY-MM-DD
    duration   := (for | x) N (days | weeks | months) | xNd          (a planned course)
    dispensed  := #N | disp N | qty N                              (kept as a note)
    response   := helping | no benefit | not tolerated | ...
    indication := for words, last in the order ("for depression"; "for severe pain" is pain)

Refused as ambiguous (SigParseError): two different values for the same thing (two doses, two
frequencies, two routes, ...), a number without a unit, dates that are not real ISO dates,
zero amounts, an "increase" whose new dose is not above the previous one.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Generic, TypeVar

__all__ = ["ParsedSig", "Quantity", "SigParseError", "name_pattern", "parse_sig"]


class SigParseError(ValueError):
    """The order text has a part the reader cannot read; the message quotes that part."""


@dataclass(frozen=True, slots=True)
class Quantity:
    """An amount as written: its value (the maximum of a range) and unit, and the words."""

    value: float
    unit: str  # mg, g, mcg, mcg/h; tab, cap, patch, ...; "dose" or "" for a cap without a unit
    text: str
    low: float | None = None  # the low end of a range ("1-2 tabs": 1)

    @property
    def is_range(self) -> bool:
        return self.low is not None and self.low != self.value


@dataclass(frozen=True, slots=True)
class Frequency:
    """How often, as written."""

    doses_per_day: float
    text: str
    interval_hours: float | None = None  # q8h: 8; q4-6h: 4 (the shortest interval)
    longest_hours: float | None = None  # q4-6h: 6


@dataclass(frozen=True, slots=True)
class ParsedSig:
    """What the words of one order state; None means "not stated"."""

    text: str
    drug: str
    action: str | None = None  # start | stop | continue | change_dose
    verb: str = ""
    strength: Quantity | None = None  # a mass (mg, g, mcg) or a rate (mcg/h)
    count: Quantity | None = None  # units per administration (tab, patch, ...)
    percent: float | None = None
    form: str | None = None  # the first dosage-form word: tab, patch, gel, cream, ...
    frequency: Frequency | None = None
    wear_hours: tuple[float, float] | None = None  # a patch: hours on, hours off
    as_needed: bool = False
    prn_reason: str = ""
    route: str | None = None  # the route the words state
    implied_route: str | None = None  # a route a form or verb suggests (patch, spray, apply)
    extended_release: bool | None = None
    started_on: datetime.date | None = None
    planned_days: int | None = None
    duration_text: str = ""
    response: str | None = None
    previous: Quantity | None = None
    indication: str = ""  # "for depression" -> "depression"; pain (or none) -> ""
    daily_cap: Quantity | None = None
    notes: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------
# Vocabulary: phrase -> meaning. Multi-word phrases match any whitespace between their words.

_ACTIONS: Mapping[str, str] = MappingProxyType(
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
_DECREASING_VERBS = frozenset({"decrease", "reduce"})

_FIXED_FREQUENCIES: Mapping[str, float] = MappingProxyType(
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

_WORD_NUMBERS: Mapping[str, int] = MappingProxyType(
    {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
)

# Routes a word states outright; two different ones in one order are a conflict.
_ROUTES: Mapping[str, str] = MappingProxyType(
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
        "in each nostril": "intranasal",
        "sl": "sublingual",
        "sublingual": "sublingual",
        "buccal": "sublingual",
        "pr": "rectal",
        "rectal": "rectal",
        "rectally": "rectal",
    }
)

# Dosage forms: the route each suggests when no route is stated (None: none).
_FORMS: Mapping[str, str | None] = MappingProxyType(
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
_FORM_NAMES: Mapping[str, str] = MappingProxyType(
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
_COUNT_UNITS = tuple(_FORM_NAMES)
TOPICAL_PRODUCT_FORMS = frozenset({"gel", "cream", "ointment", "lotion"})

_MASS_UNITS: Mapping[str, str] = MappingProxyType(
    {"mg": "mg", "g": "g", "gm": "g", "gram": "g", "grams": "g", "mcg": "mcg", "ug": "mcg"}
)
_MASS_PATTERN = r"(?:mg|gm|grams?|g|mcg|ug|µg|μg)"

_RELEASE: Mapping[str, bool] = MappingProxyType(
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

_PRN = ("prn", "as needed", "as-needed", "when needed", "if needed")

_RESPONSES: Mapping[str, str] = MappingProxyType(
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
_NOTES = (
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
)
_SITES = (
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
_FILLERS = ("take", "use", "give", "sig", "and", "then", "each time", "each dose", "per dose")

# Words that end a drug name even when what follows cannot be read, so that
# "cyclobenzaprine for pain tid" is refused instead of naming a drug "cyclobenzaprine for pain".
_NAME_STOP_WORDS = frozenset(
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
        *_ACTIONS,
        *_MASS_UNITS,
        *_COUNT_UNITS,
    }
)

# ---------------------------------------------------------------------------------------------
# Regular expressions, compiled once.

_FLAGS = re.IGNORECASE
_END = r"(?=[\s,;()]|$)"  # a token ends at a separator or at the end of the text
_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_COUNT_NUM = rf"(?:{_NUM}|one|two|three|four|five|six)"
_INT = r"\d+"
_HOURS = r"(?:hours|hour|hrs|hr|h)\.?"
_DAYS = r"(?:days|day|d)\.?"
_Q = r"q\.?"
_PER_DAY = r"(?:/|per|a|in|each|every)\s*(?:day|d|24\s*(?:hours|hour|hrs|hr|h))"


def _dotted(word: str) -> str:
    """``tid`` also as ``t.i.d.``: a short abbreviation may carry a dot after each letter."""
    if len(word) <= 4 and word.isalpha():
        return "".join(re.escape(letter) + r"\.?" for letter in word)
    return re.escape(word)


def _phrases(phrases: Iterable[str]) -> str:
    """An alternation of phrases, longest first, with flexible whitespace between words."""
    ordered = sorted(phrases, key=len, reverse=True)
    return "(?:" + "|".join(r"\s+".join(map(_dotted, p.split())) for p in ordered) + ")"


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern + _END, _FLAGS)


def name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern matching any of the given product names as a whole drug name (longest first)."""
    escaped = [r"\s+".join(map(re.escape, name.split())) for name in names if name.strip()]
    if not escaped:
        return None
    return _compile("(?:" + "|".join(sorted(escaped, key=len, reverse=True)) + ")")


_SEPARATORS = re.compile(r"[\s,;()]+")
_TOKEN = re.compile(r"[^\s,;()]+")
_WHITESPACE = re.compile(r"\s+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WORD = re.compile(r"[a-z][a-z'\-]*" + _END, _FLAGS)

_ACTION_RE = _compile(f"(?P<word>{_phrases(_ACTIONS)})")
_NAME_WORD_RE = _compile(r"[^\W\d_][\w'’./\-]*")
_NAME_NUMBER_SIGN_RE = _compile(r"#\d+")
_NAME_STRENGTH_RE = _compile(rf"(?P<a>{_NUM})\s*(?:mg)?\s*(?P<sep>[/-])\s*(?P<b>{_NUM})\s*(?:mg)?")

_MASS = f"(?P<unit>{_MASS_PATTERN})"
_COUNT = f"(?P<unit>{_phrases(_COUNT_UNITS)})"

_RATE_RE = _compile(rf"(?P<num>{_NUM})\s*(?:mcg|ug|µg|μg)\s*(?:/|per\s+)\s*(?:hours|hour|hr|h)\.?")
_PERCENT_RE = _compile(rf"(?P<num>{_NUM})\s*%")
_DOSE_RANGE_RE = _compile(rf"(?P<a>{_NUM})\s*(?:-|to)\s*(?P<num>{_NUM})\s*{_MASS}")
_DOSE_RE = _compile(rf"(?P<num>{_NUM})\s*{_MASS}")
_FRACTION_COUNT_RE = _compile(rf"(?P<a>[1-3])/(?P<b>[2-4])\s*{_COUNT}")
_COUNT_RANGE_RE = _compile(
    rf"(?P<a>{_COUNT_NUM})\s*(?:-|to\s|or\s)\s*(?P<num>{_COUNT_NUM})\s*{_COUNT}"
)
_COUNT_RE = _compile(rf"(?P<num>{_COUNT_NUM})\s*{_COUNT}")
_TO_RE = _compile(rf"to\s+(?P<num>{_NUM})\s*(?:{_MASS}|(?P<count>{_phrases(_COUNT_UNITS)}))")
_FROM_RE = _compile(rf"from\s+(?P<num>{_NUM})\s*{_MASS}")
_FREQ_RANGE_RE = _compile(
    rf"(?:{_Q}|every)\s*(?P<a>{_INT})\s*(?:-|to\s)\s*(?P<b>{_INT})\s*\.?\s*{_HOURS}"
)
_FREQ_HOURS_RE = _compile(rf"(?:{_Q}|every)\s*(?P<num>{_NUM})\s*\.?\s*{_HOURS}")
_FREQ_DAYS_RE = _compile(rf"(?:{_Q}|every)\s*(?P<num>{_INT})\s*\.?\s*{_DAYS}")
_FREQ_TIMES_RE = _compile(
    rf"(?P<num>{_INT}|{_phrases(_WORD_NUMBERS)})\s*(?:x|times)\s*"
    r"(?:(?P<day>daily|a\s+day|per\s+day|each\s+day|/\s*day|/\s*d)|"
    r"(?P<week>weekly|a\s+week|per\s+week|/\s*week|/\s*wk))"
)
_FREQ_FIXED_RE = _compile(f"(?P<word>{_phrases(_FIXED_FREQUENCIES)})")
_WEAR_RE = _compile(
    rf"(?:(?P<on>{_NUM})\s*{_HOURS}\s+on[\s,;/]+(?:and\s+|then\s+)?(?P<off>{_NUM})\s*{_HOURS}\s+off"
    rf"|on\s+(?P<on2>{_NUM})\s*{_HOURS}[\s,;/]+(?:and\s+|then\s+)?off\s+(?P<off2>{_NUM})\s*{_HOURS}"
    rf"|(?:on\s+)?for\s+(?P<on3>{_NUM})\s*{_HOURS}\s+(?:then|and)\s+(?:remove|off)"
    rf"(?:\s+for\s+(?P<off3>{_NUM})\s*{_HOURS})?)"
)
_PRN_RE = _compile(f"(?P<word>{_phrases(_PRN)})")
_NOTE_RE = _compile(f"(?P<word>{_phrases(_NOTES)})")
_SITE_RE = _compile(rf"(?:to|on|over)\s+(?:the\s+)?(?P<site>{_phrases(_SITES)})")
_CAP_RE = _compile(
    r"(?:max(?:imum)?\.?(?:\s+of)?|not\s+to\s+exceed|do\s+not\s+exceed|don'?t\s+exceed"
    r"|no\s+more\s+than|nte)\s*"
    rf"(?P<num>{_NUM})\s*(?P<unit>{_MASS_PATTERN}|{_phrases(_COUNT_UNITS)}|doses?)?\s*{_PER_DAY}"
)
_ROUTE_RE = _compile(f"(?P<word>{_phrases(_ROUTES)})")
_FORM_RE = _compile(f"(?P<word>{_phrases(_FORMS)})")
_RELEASE_RE = _compile(f"(?P<word>{_phrases(_RELEASE)})")
_DATE_RE = _compile(r"(?:started(?:\s+on)?|since|on)[\s,]+(?P<value>[^\s,;()]+)")
_DURATION_RE = _compile(
    rf"(?:for\s+|x\s*)(?P<num>{_INT})\s*"
    r"(?:(?P<days>d|day|days)|(?P<weeks>w|wk|wks|week|weeks)|(?P<months>mo|month|months))"
)
_DISPENSED_RE = _compile(rf"(?:#|disp(?:ense)?:?\s*#?|qty:?\s*#?)\s*(?P<num>{_INT})")
_RESPONSE_RE = _compile(f"(?P<word>{_phrases(_RESPONSES)})")
_FILLER_RE = _compile(f"(?P<word>{_phrases(_FILLERS)})")
_APPLY_RE = _compile(r"apply|place|wear")
# The last clause: "for depression". Pain itself is the default indication.
_INDICATION_RE = re.compile(r"for\s+(?P<words>[a-z][a-z' -]*[a-z])\s*$", _FLAGS)
_PAIN_ENDINGS = ("pain", "spasm", "spasms", "lbp", "sciatica", "back ache", "backache")


# ---------------------------------------------------------------------------------------------
# Reading state

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _Fact(Generic[_T]):
    """A value read from the text, with the words that stated it (quoted in conflicts)."""

    value: _T
    snippet: str


@dataclass(slots=True)
class _State:
    """What has been read so far; each fact is stated once (or again with the same value)."""

    text: str
    action: str | None = None
    verb: str = ""
    drug: str = ""
    strength: _Fact[Quantity] | None = None
    previous: _Fact[Quantity] | None = None
    count: _Fact[Quantity] | None = None
    percent: _Fact[float] | None = None
    form: str | None = None
    frequency: _Fact[Frequency] | None = None
    wear: _Fact[tuple[float, float]] | None = None
    prn: _Fact[bool] | None = None
    prn_reason: str = ""
    route: _Fact[str] | None = None
    implied_route: _Fact[str] | None = None
    extended: _Fact[bool] | None = None
    started: _Fact[datetime.date] | None = None
    days: _Fact[int] | None = None
    indication: _Fact[str] | None = None
    response: _Fact[str] | None = None
    cap: _Fact[Quantity] | None = None
    notes: list[str] = field(default_factory=list)

    def error(self, part: str, reason: str = "") -> SigParseError:
        suffix = f": {reason}" if reason else ""
        return SigParseError(f'could not read "{part}" in "{self.text}"{suffix}')

    def merge(self, current: _Fact[_T] | None, value: _T, snippet: str) -> _Fact[_T]:
        """The fact to keep; stating a different value for it again is a conflict."""
        if current is None:
            return _Fact(value, snippet)
        if current.value != value:
            raise self.error(snippet, f'conflicts with "{current.snippet}"')
        return current


def _value(fact: _Fact[_T] | None) -> _T | None:
    return None if fact is None else fact.value


def _number(state: _State, raw: str, snippet: str) -> float:
    word = raw.lower()
    value = float(_WORD_NUMBERS[word]) if word in _WORD_NUMBERS else float(raw.replace(",", ""))
    if value <= 0:
        raise state.error(snippet, "the amount must be greater than zero")
    return value


def _key(phrase: str) -> str:
    return _WHITESPACE.sub(" ", phrase.lower().replace(".", ""))


# ---------------------------------------------------------------------------------------------
# Clause handlers: each reads one matched clause into the state; one may return where the
# reading goes on when it consumed more than its match (a prn reason).

_Handler = Callable[[_State, re.Match[str]], int | None]


def _read_rate(state: _State, match: re.Match[str]) -> None:
    rate = Quantity(_number(state, match["num"], match[0]), "mcg/h", match[0])
    state.strength = state.merge(state.strength, rate, match[0])


def _read_percent(state: _State, match: re.Match[str]) -> None:
    percent = _number(state, match["num"], match[0])
    state.percent = state.merge(state.percent, percent, match[0])


def _mass(state: _State, match: re.Match[str], low: str | None = None) -> Quantity:
    unit = _MASS_UNITS.get(match["unit"].lower(), "mcg")
    value = _number(state, match["num"], match[0])
    low_value = None if low is None else _number(state, low, match[0])
    if low_value is not None and low_value >= value:
        raise state.error(match[0], "a range goes from the lower to the higher amount")
    return Quantity(value, unit, match[0], low_value)


def _read_dose(state: _State, match: re.Match[str]) -> None:
    state.strength = state.merge(state.strength, _mass(state, match), match[0])


def _read_dose_range(state: _State, match: re.Match[str]) -> None:
    state.strength = state.merge(state.strength, _mass(state, match, match["a"]), match[0])


def _set_count(state: _State, count: Quantity, form: str, snippet: str) -> None:
    state.count = state.merge(state.count, count, snippet)
    _read_form_word(state, form, snippet)


def _count_unit(form: str) -> str:
    return _FORM_NAMES[_key(form)]


def _read_count(state: _State, match: re.Match[str]) -> None:
    count = Quantity(_number(state, match["num"], match[0]), _count_unit(match["unit"]), match[0])
    _set_count(state, count, match["unit"], match[0])


def _read_count_range(state: _State, match: re.Match[str]) -> None:
    low = _number(state, match["a"], match[0])
    high = _number(state, match["num"], match[0])
    if low >= high:
        raise state.error(match[0], "a range goes from the lower to the higher count")
    count = Quantity(high, _count_unit(match["unit"]), match[0], low)
    _set_count(state, count, match["unit"], match[0])


def _read_fraction_count(state: _State, match: re.Match[str]) -> None:
    numerator, denominator = int(match["a"]), int(match["b"])
    if numerator >= denominator:
        raise state.error(match[0], "a fraction of a unit must be below 1")
    count = Quantity(numerator / denominator, _count_unit(match["unit"]), match[0])
    _set_count(state, count, match["unit"], match[0])


def _read_to(state: _State, match: re.Match[str]) -> None:
    _require_change(state, match[0])
    if match["count"]:
        count = Quantity(
            _number(state, match["num"], match[0]), _count_unit(match["count"]), match[0]
        )
        _set_count(state, count, match["count"], match[0])
    else:
        _read_dose(state, match)


def _read_from(state: _State, match: re.Match[str]) -> None:
    _require_change(state, match[0])
    state.previous = state.merge(state.previous, _mass(state, match), match[0])


def _require_change(state: _State, snippet: str) -> None:
    if state.action != "change_dose":
        raise state.error(snippet, "only an increase, decrease, change or titrate order has one")


def _set_frequency(state: _State, frequency: Frequency, snippet: str) -> None:
    current = state.frequency
    if current is not None and current.value.doses_per_day == frequency.doses_per_day:
        return  # "daily at bedtime": the same count said twice
    state.frequency = state.merge(state.frequency, frequency, snippet)


def _read_every_hours(state: _State, match: re.Match[str]) -> None:
    hours = _number(state, match["num"], match[0])
    _set_frequency(state, Frequency(24.0 / hours, match[0], hours), match[0])


def _read_every_days(state: _State, match: re.Match[str]) -> None:
    days = _number(state, match["num"], match[0])
    _set_frequency(state, Frequency(1.0 / days, match[0], days * 24.0), match[0])


def _read_every_range(state: _State, match: re.Match[str]) -> None:
    shortest, longest = sorted((int(match["a"]), int(match["b"])))
    if shortest <= 0:
        raise state.error(match[0], "the interval must be greater than zero")
    # the most frequent end of the range: an as-needed order counts at its maximum
    frequency = Frequency(24.0 / shortest, match[0], float(shortest), float(longest))
    _set_frequency(state, frequency, match[0])


def _read_times(state: _State, match: re.Match[str]) -> None:
    times = _number(state, match["num"], match[0])
    per_day = times / 7.0 if match["week"] else times
    _set_frequency(state, Frequency(per_day, match[0]), match[0])


def _read_fixed_frequency(state: _State, match: re.Match[str]) -> None:
    per_day = _FIXED_FREQUENCIES[_key(match["word"])]
    _set_frequency(state, Frequency(per_day, match[0]), match[0])


def _read_wear(state: _State, match: re.Match[str]) -> None:
    on_text = match["on"] or match["on2"] or match["on3"]
    off_text = match["off"] or match["off2"] or match["off3"]
    on = _number(state, on_text, match[0])
    off = _number(state, off_text, match[0]) if off_text else max(24.0 - on, 0.0)
    if on + off <= 0 or on > 24 * 7:
        raise state.error(match[0], "hours on and off must add up to the wear cycle")
    state.wear = state.merge(state.wear, (on, off), match[0])


def _read_prn(state: _State, match: re.Match[str]) -> int:
    """``prn`` and the reason after it, up to the next clause: "prn severe pain"."""
    state.prn = state.merge(state.prn, True, match[0])
    pos = _skip(state.text, match.end())
    if state.text[pos : pos + 4].lower() == "for " and not _DURATION_RE.match(state.text, pos):
        pos = _skip(state.text, pos + 3)
    words = []
    while pos < len(state.text) and not _starts_clause(state.text, pos):
        word = _WORD.match(state.text, pos)
        if word is None or word[0].lower() in _NAME_STOP_WORDS:
            break
        words.append(word[0])
        pos = _skip(state.text, word.end())
    if words:
        state.prn_reason = " ".join(words)
    return pos


def _read_note(state: _State, match: re.Match[str]) -> None:
    state.notes.append(_WHITESPACE.sub(" ", match[0]))


def _read_route(state: _State, match: re.Match[str]) -> None:
    state.route = state.merge(state.route, _ROUTES[_key(match["word"])], match[0])


def _read_form(state: _State, match: re.Match[str]) -> None:
    _read_form_word(state, match["word"], match[0])


def _read_form_word(state: _State, form: str, snippet: str) -> None:
    word = _key(form)
    if state.form is None:
        state.form = _FORM_NAMES.get(word, word)
    implied = _FORMS.get(word)
    if implied is not None:
        state.implied_route = state.merge(state.implied_route, implied, snippet)


def _read_release(state: _State, match: re.Match[str]) -> None:
    extended = _RELEASE[_key(match["word"])]
    state.extended = state.merge(state.extended, extended, match[0])


def _read_date(state: _State, match: re.Match[str]) -> None:
    value = match["value"]
    if not _ISO_DATE.fullmatch(value):
        raise state.error(value, "a date must be written YYYY-MM-DD")
    try:
        started = datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise state.error(value, "no such date") from exc
    state.started = state.merge(state.started, started, match[0])


def _read_duration(state: _State, match: re.Match[str]) -> None:
    unit_days = 7 if match["weeks"] else 30 if match["months"] else 1
    days = int(match["num"]) * unit_days
    if days <= 0:
        raise state.error(match[0], "the duration must be greater than zero")
    state.days = state.merge(state.days, days, match[0])


def _read_cap(state: _State, match: re.Match[str]) -> None:
    raw = (match["unit"] or "").lower()
    if raw in _MASS_UNITS or raw in ("µg", "μg"):
        unit = _MASS_UNITS.get(raw, "mcg")
    elif raw.startswith("dose"):
        unit = "dose"
    elif raw:
        unit = _count_unit(raw)
    else:
        unit = ""
    cap = Quantity(_number(state, match["num"], match[0]), unit, match[0])
    state.cap = state.merge(state.cap, cap, match[0])


def _read_dispensed(state: _State, match: re.Match[str]) -> None:
    state.notes.append(f"{match[0]} dispensed")


def _read_indication(state: _State, match: re.Match[str]) -> None:
    words = _key(match["words"])
    if any(_starts_clause(word, 0) for word in words.split(" ")):
        raise state.error(match[0], "an indication (for ...) must be the last part of the order")
    pain = words.endswith(_PAIN_ENDINGS) or words in ("lbp", "back", "low back")
    state.indication = state.merge(state.indication, "" if pain else words, match[0])


def _read_response(state: _State, match: re.Match[str]) -> None:
    response = _RESPONSES[_key(match["word"])]
    state.response = state.merge(state.response, response, match[0])


def _read_filler(state: _State, match: re.Match[str]) -> None:
    return None


def _read_site(state: _State, match: re.Match[str]) -> None:
    state.notes.append(_WHITESPACE.sub(" ", match[0]))


def _read_apply(state: _State, match: re.Match[str]) -> None:
    state.implied_route = state.merge(state.implied_route, "topical", match[0])


# Order matters: the first rule that matches at the current position consumes the clause.
_CLAUSE_RULES: tuple[tuple[re.Pattern[str], _Handler], ...] = (
    (_RATE_RE, _read_rate),
    (_PERCENT_RE, _read_percent),
    (_CAP_RE, _read_cap),
    (_FRACTION_COUNT_RE, _read_fraction_count),
    (_FREQ_TIMES_RE, _read_times),
    (_WEAR_RE, _read_wear),
    (_DOSE_RANGE_RE, _read_dose_range),
    (_COUNT_RANGE_RE, _read_count_range),
    (_DOSE_RE, _read_dose),
    (_COUNT_RE, _read_count),
    (_TO_RE, _read_to),
    (_FROM_RE, _read_from),
    (_SITE_RE, _read_site),
    (_FREQ_RANGE_RE, _read_every_range),
    (_FREQ_HOURS_RE, _read_every_hours),
    (_FREQ_DAYS_RE, _read_every_days),
    (_FREQ_FIXED_RE, _read_fixed_frequency),
    (_PRN_RE, _read_prn),
    (_NOTE_RE, _read_note),
    (_ROUTE_RE, _read_route),
    (_FORM_RE, _read_form),
    (_RELEASE_RE, _read_release),
    (_DATE_RE, _read_date),
    (_DURATION_RE, _read_duration),
    (_DISPENSED_RE, _read_dispensed),
    (_RESPONSE_RE, _read_response),
    (_APPLY_RE, _read_apply),
    (_FILLER_RE, _read_filler),
    (_INDICATION_RE, _read_indication),
)

_UNREAD_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "to": "expected a dose such as 60 mg, or a site such as lower back",
        "from": "expected a dose such as 30 mg",
        "for": "expected a duration such as 14 days, or an indication at the end",
        "x": "expected a duration such as 14 days",
        "started": "expected a date YYYY-MM-DD",
        "since": "expected a date YYYY-MM-DD",
        "on": "expected a date YYYY-MM-DD or a site such as lower back",
        "max": "expected a daily cap such as max 8/day or max 3 g/day",
        "q": "expected an interval such as q6h or q4-6h",
        "every": "expected an interval such as every 6 hours",
    }
)


# ---------------------------------------------------------------------------------------------
# The reader: action, drug name, then clauses, left to right.


def _skip(text: str, pos: int) -> int:
    separators = _SEPARATORS.match(text, pos)
    return separators.end() if separators else pos


def _unread(state: _State, pos: int) -> SigParseError:
    token_match = _TOKEN.match(state.text, pos)
    token = token_match[0] if token_match else state.text[pos:]
    if token[0].isdigit() or token[0] == ".":
        following = _TOKEN.match(state.text, _skip(state.text, pos + len(token)))
        if "-" in token or (following and following[0].lower() in ("to", "or")):
            reason = "a range needs a unit such as 1-2 tabs or 5-10 mg"
        else:
            reason = "a number needs a unit such as mg, g, mcg, mcg/h, tabs or patch"
        return state.error(token, reason)
    reason = _UNREAD_REASONS.get(token.lower(), "")
    if not reason:
        reason = (
            "expected a dose, a count, a frequency (bid, q6h), prn, a route, a duration "
            "(x 7 days) or a start date"
        )
    return state.error(token, reason)


def _read_action(state: _State, pos: int) -> int:
    match = _ACTION_RE.match(state.text, pos)
    if match is None:
        return pos
    state.action = _ACTIONS[_key(match["word"])]
    state.verb = _key(match["word"])
    return _skip(state.text, match.end())


def _read_leading_verb(state: _State, pos: int) -> int:
    """ "apply" (a topical or transdermal product follows) or "take" before the drug name."""
    match = _APPLY_RE.match(state.text, pos)
    if match is not None:
        _read_apply(state, match)
        return _skip(state.text, match.end())
    match = _FILLER_RE.match(state.text, pos)
    if match is not None and _key(match["word"]) == "take":
        return _skip(state.text, match.end())
    return pos


def _starts_clause(text: str, pos: int) -> bool:
    return any(pattern.match(text, pos) for pattern, _ in _CLAUSE_RULES)


def _is_strength(match: re.Match[str]) -> bool:
    """ "10/325", "5-325", "300-30": a combination strength; "1/2" (a part of a tablet) and
    "1-2" or "5-10" (a range of amounts) are not."""
    a, b = float(match["a"].replace(",", "")), float(match["b"].replace(",", ""))
    if a < b <= 4:
        return False
    return not (match["sep"] == "-" and a < b <= 4 * a)


def _read_drug(state: _State, pos: int, products: re.Pattern[str] | None) -> int:
    """A known product name, or leading words, an optional "#3" and an "N/N" strength."""
    text = state.text
    if products is not None:
        known = products.match(text, pos)
        if known is not None:
            state.drug = _WHITESPACE.sub(" ", known[0])
            return _skip(text, known.end())
    words: list[str] = []
    while pos < len(text):
        strength = _NAME_STRENGTH_RE.match(text, pos) if words else None
        if strength is not None and _is_strength(strength):
            words.append(f"{strength['a']}/{strength['b']}")
            pos = _skip(text, strength.end())
            break
        number_sign = _NAME_NUMBER_SIGN_RE.match(text, pos) if words else None
        if number_sign is None and _starts_clause(text, pos):
            break
        word = number_sign or _NAME_WORD_RE.match(text, pos)
        if word is None or word[0].lower() in _NAME_STOP_WORDS:
            break
        words.append(word[0])
        pos = _skip(text, word.end())
    if not words:
        raise SigParseError(f'could not read a drug name in "{text}": expected it first')
    state.drug = " ".join(words)
    return pos


def _read_clauses(state: _State, pos: int) -> None:
    text = state.text
    while pos < len(text):
        for pattern, handler in _CLAUSE_RULES:
            match = pattern.match(text, pos)
            if match is not None:
                after = handler(state, match)
                pos = _skip(text, match.end() if after is None else after)
                break
        else:
            raise _unread(state, pos)


def _check_direction(state: _State) -> None:
    dose, previous = _value(state.strength), _value(state.previous)
    if dose is None or previous is None or dose.unit != previous.unit:
        return
    if state.verb == "increase" and dose.value <= previous.value:
        raise state.error(state.verb, f"the new dose {dose.text} is not above {previous.text}")
    if state.verb in _DECREASING_VERBS and dose.value >= previous.value:
        raise state.error(state.verb, f"the new dose {dose.text} is not below {previous.text}")


def parse_sig(text: str, products: re.Pattern[str] | None = None) -> ParsedSig:
    """Read the words of one order; raise SigParseError quoting any part that cannot be read.

    ``products`` matches multi-word product names that are read whole as the drug name
    ("Tylenol 8 HR Arthritis"): see ``name_pattern``.
    """
    stripped = text.strip()
    if not stripped:
        raise SigParseError("could not read an empty medication order")
    state = _State(text=stripped)
    pos = _skip(stripped, 0)
    pos = _read_action(state, pos)
    pos = _read_leading_verb(state, pos)
    pos = _read_drug(state, pos, products)
    _read_clauses(state, pos)
    _check_direction(state)
    return ParsedSig(
        text=text,
        drug=state.drug,
        action=state.action,
        verb=state.verb,
        strength=_value(state.strength),
        count=_value(state.count),
        percent=_value(state.percent),
        form=state.form,
        frequency=_value(state.frequency),
        wear_hours=_value(state.wear),
        as_needed=state.prn is not None,
        prn_reason=state.prn_reason,
        route=_value(state.route),
        implied_route=_value(state.implied_route),
        extended_release=_value(state.extended),
        started_on=_value(state.started),
        planned_days=_value(state.days),
        duration_text=state.days.snippet if state.days else "",
        response=_value(state.response),
        previous=_value(state.previous),
        indication=_value(state.indication) or "",
        daily_cap=_value(state.cap),
        notes=tuple(state.notes),
    )
