"""Read a medication order written the way a pharmacist types it ("sig") into a ParsedSig.

The parser never guesses: every token of the text must be accounted for, otherwise
``SigParseError`` is raised with a message that quotes the part it could not read, e.g.
``could not read "xyz" in "ibuprofen 400 mg xyz bid"``.

Grammar (case-insensitive; tokens are separated by spaces, commas or parentheses)::

    order      := [action] ["apply"] drug clause*
    action     := start | begin | new                         -> "start"
                | stop | discontinue | d/c | dc               -> "stop"
                | continue | cont                             -> "continue"
                | increase | decrease | change | titrate      -> "change_dose"
    drug       := word+ ["#"N] [N/N]   leading words up to the first number, dose, frequency,
                                       route, release marker or keyword; a combination strength
                                       "10/325" directly after the words ends the name and is
                                       part of it ("Norco 10/325", "Tylenol with Codeine #3")
    clause     := rate | percent | dose | count | frequency | prn | route | form | release
                | date | duration | response | "to" dose | "from" dose
    rate       := N mcg/h | N mcg/hr | N mcg/hour | N mcg per hour     (implies transdermal)
    percent    := N%                   concentration of a gel, cream, ointment, solution, patch
    dose       := N (mg | g | gm | mcg | ug | µg)     g x1000, mcg /1000; "7.5", "1,000"
    count      := N (tab[s] | tablet[s] | cap[s] | capsule[s] | patch[es] | pill[s] | spray[s]
                    | puff[s] | unit[s])               also "1/2 tab", "3/4 tab"
    frequency  := daily | qd | qday | once daily | once a day | every day | qam | qpm | qhs | hs
                | at bedtime | nightly | every morning | every night  -> 1
                | bid | twice daily | twice a day                    -> 2
                | tid | three times daily | 3 times a day            -> 3
                | qid | four times daily                             -> 4
                | N times daily | N times a day | Nx daily | Nx/day   -> N
                | qNh | q N h | every N hours | every N hrs         -> 24/N
                | qA-Bh | every A-B hours | every A to B hours       -> 24/min(A, B) (maximum)
                | weekly | once weekly -> 1/7;  qod | every other day -> 1/2
    prn        := prn | as needed | as-needed
    route      := po | oral | orally | by mouth                    -> oral
                | topical | topically | apply | gel | cream | ointment -> topical
                | transdermal | td                                 -> transdermal
                | iv | im | sc | subq | subcut | sq | inj | injection -> injection
                | intranasal | nasal                                -> intranasal
                | sl | sublingual | buccal                          -> sublingual
                | pr | rectal | rectally                            -> rectal
                A bare "patch" means topical and a bare "spray" intranasal, unless a stated route
                (or a mcg/h rate, which means transdermal) says otherwise.
    form       := tab[s] | tablet[s] | cap[s] | capsule[s] | pill[s] | solution | patch[es]
                | spray[s]        (consumed; gel, cream and ointment are topical routes)
    release    := ER | XR | SR | XL | CR | extended-release | extended release | long-acting
                | long acting     -> extended_release; IR | immediate release -> not extended
    date       := (started | started on | since | on) YYYY-MM-DD
    duration   := (for | x) N (d | day | days | w | wk | wks | week | weeks) | xNd | xNw
    indication := for words, last in the order ("for depression"); "for back pain" = none
    response   := helping | helps | effective | benefit | working   -> "benefit"
                | no benefit | not helping | ineffective | no relief | not working
                | not effective                                     -> "no_benefit"
                | not tolerated | intolerant | side effects         -> "not_tolerated"
    to / from  := "to" dose-or-count, "from" dose: only after a change_dose action

How amounts combine into ``dose_mg``:

* a strength and a count multiply: "500 mg 2 tabs" -> 1000 mg per administration;
* a percent and an amount in grams: "1% gel 4 g" -> 1/100 * 4000 mg = 40 mg;
* a count alone is ``units_per_dose``; a mcg/h rate is ``rate_mcg_per_hour``.

Refused as ambiguous (SigParseError): two different values for the same thing (two doses, two
frequencies, two routes, ...); a number without a unit; a gel, cream or ointment amount without
a % strength (grams of product are not mg of drug); a % strength with an amount in mg; a rate
with a non-transdermal route; an "increase" whose new dose is not above the previous one (and
the reverse for "decrease"); zero amounts; dates that are not real ISO dates.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Generic, TypeVar

__all__ = ["ParsedSig", "SigParseError", "parse_sig"]


class SigParseError(ValueError):
    """The order text has a part the parser cannot read; the message quotes that part."""


@dataclass(frozen=True, slots=True)
class ParsedSig:
    """One medication order as read from its text; None means "not stated"."""

    text: str
    drug: str
    dose_mg: float | None
    units_per_dose: float | None
    rate_mcg_per_hour: float | None
    doses_per_day: float | None
    as_needed: bool
    route: str | None
    extended_release: bool
    action: str | None
    started_on: datetime.date | None
    planned_days: int | None
    response: str | None
    previous_dose_mg: float | None
    indication: str = ""  # "for depression" -> "depression"; back pain (or none) -> ""


# ---------------------------------------------------------------------------------------------
# Vocabulary: phrase -> meaning. Multi-word phrases match any whitespace between their words.

_ACTIONS: Mapping[str, str] = MappingProxyType(
    {
        "start": "start",
        "begin": "start",
        "new": "start",
        "stop": "stop",
        "discontinue": "stop",
        "d/c": "stop",
        "dc": "stop",
        "continue": "continue",
        "cont": "continue",
        "increase": "change_dose",
        "decrease": "change_dose",
        "change": "change_dose",
        "titrate": "change_dose",
    }
)

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
        "every night": 1.0,
        "every evening": 1.0,
        "at bedtime": 1.0,
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
        "apply": "topical",
        "gel": "topical",
        "cream": "topical",
        "ointment": "topical",
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

# Dosage forms: consumed; a patch or a spray suggests a route only when no route is stated.
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
        "solution": None,
        "patch": "topical",
        "patches": "topical",
        "spray": "intranasal",
        "sprays": "intranasal",
    }
)

_COUNT_UNITS: Mapping[str, str | None] = MappingProxyType(
    {
        **{name: route for name, route in _FORMS.items() if name != "solution"},
        "puff": None,
        "puffs": None,
        "unit": None,
        "units": None,
    }
)

_MASS_UNITS: Mapping[str, float] = MappingProxyType(
    {"mg": 1.0, "g": 1000.0, "gm": 1000.0, "mcg": 0.001, "ug": 0.001, "µg": 0.001, "μg": 0.001}
)

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
    }
)

_PRN = ("prn", "as needed", "as-needed")

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

_TOPICAL_PRODUCT_FORMS = frozenset({"gel", "cream", "ointment"})

# Words that end a drug name even when what follows them cannot be read, so that
# "cyclobenzaprine for pain" is refused instead of naming a drug "cyclobenzaprine for pain".
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
        *_ACTIONS,
        *_MASS_UNITS,
        *_COUNT_UNITS,
    }
)

# ---------------------------------------------------------------------------------------------
# Regular expressions, compiled once.

_FLAGS = re.IGNORECASE
_END = r"(?=[\s,()]|$)"  # a token ends at a separator or at the end of the text
_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_INT = r"\d+"
_HOURS = r"(?:h|hr|hrs|hour|hours)"


def _phrases(phrases: Iterable[str]) -> str:
    """An alternation of phrases, longest first, with flexible whitespace between words."""
    ordered = sorted(phrases, key=len, reverse=True)
    return "(?:" + "|".join(r"\s+".join(map(re.escape, p.split())) for p in ordered) + ")"


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern + _END, _FLAGS)


_SEPARATORS = re.compile(r"[\s,()]+")
_TOKEN = re.compile(r"[^\s,()]+")
_WHITESPACE = re.compile(r"\s+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

_ACTION_RE = _compile(f"(?P<word>{_phrases(_ACTIONS)})")
_NAME_WORD_RE = _compile(r"[^\W\d_][\w'’./\-]*")
_NAME_NUMBER_SIGN_RE = _compile(r"#\d+")
_NAME_STRENGTH_RE = _compile(rf"(?P<a>{_NUM})/(?P<b>{_NUM})")

_MASS = f"(?P<unit>{_phrases(_MASS_UNITS)})"
_COUNT = f"(?P<unit>{_phrases(_COUNT_UNITS)})"

_RATE_RE = _compile(rf"(?P<num>{_NUM})\s*(?:mcg|ug|µg|μg)\s*(?:/|per\s+)\s*(?:h|hr|hour)")
_PERCENT_RE = _compile(rf"(?P<num>{_NUM})\s*%")
_DOSE_RE = _compile(rf"(?P<num>{_NUM})\s*{_MASS}")
_FRACTION_COUNT_RE = _compile(rf"(?P<a>[1-3])/(?P<b>[2-4])\s*{_COUNT}")
_COUNT_RE = _compile(rf"(?P<num>{_NUM})\s*{_COUNT}")
_TO_RE = _compile(rf"to\s+(?P<num>{_NUM})\s*(?:{_MASS}|(?P<count>{_phrases(_COUNT_UNITS)}))")
_FROM_RE = _compile(rf"from\s+(?P<num>{_NUM})\s*{_MASS}")
_FREQ_RANGE_RE = _compile(rf"(?:q|every)\s*(?P<a>{_INT})\s*(?:-|to\s)\s*(?P<b>{_INT})\s*{_HOURS}")
_FREQ_HOURS_RE = _compile(rf"(?:q|every)\s*(?P<num>{_NUM})\s*{_HOURS}")
_FREQ_TIMES_RE = _compile(
    rf"(?P<num>{_INT}|{_phrases(_WORD_NUMBERS)})\s*(?:x|times)\s*"
    r"(?:daily|a\s+day|per\s+day|each\s+day|/\s*day|/\s*d)"
)
_FREQ_FIXED_RE = _compile(f"(?P<word>{_phrases(_FIXED_FREQUENCIES)})")
_PRN_RE = _compile(_phrases(_PRN))
_ROUTE_RE = _compile(f"(?P<word>{_phrases(_ROUTES)})")
_FORM_RE = _compile(f"(?P<word>{_phrases(_FORMS)})")
_RELEASE_RE = _compile(f"(?P<word>{_phrases(_RELEASE)})")
_DATE_RE = _compile(r"(?:started(?:\s+on)?|since|on)[\s,]+(?P<value>[^\s,()]+)")
_DURATION_RE = _compile(
    rf"(?:for\s+|x\s*)(?P<num>{_INT})\s*(?:(?P<days>d|day|days)|(?P<weeks>w|wk|wks|week|weeks))"
)
_RESPONSE_RE = _compile(f"(?P<word>{_phrases(_RESPONSES)})")
# The last clause: "for depression". Back pain itself is the default indication.
_INDICATION_RE = re.compile(r"for\s+(?P<words>[a-z][a-z' -]*[a-z])\s*$", _FLAGS)
_BACK_PAIN = frozenset({"back pain", "low back pain", "lbp", "chronic low back pain", "pain"})


# ---------------------------------------------------------------------------------------------
# Parsing state

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _Fact(Generic[_T]):
    """A value read from the text, with the words that stated it (quoted in conflicts)."""

    value: _T
    snippet: str


@dataclass(frozen=True, slots=True)
class _Amount:
    """A strength: a mass in mg (with the unit as written) or a mcg/h rate."""

    kind: str  # "mass" | "rate"
    amount: float  # mg for a mass, mcg/h for a rate
    unit: str = field(default="", compare=False)


@dataclass(slots=True)
class _State:
    """What has been read so far; each fact is stated once (or again with the same value)."""

    text: str
    action: str | None = None
    verb: str = ""
    drug: str = ""
    strength: _Fact[_Amount] | None = None
    previous: _Fact[_Amount] | None = None
    count: _Fact[float] | None = None
    percent: _Fact[float] | None = None
    frequency: _Fact[float] | None = None
    prn: _Fact[bool] | None = None
    route: _Fact[str] | None = None
    implied_route: _Fact[str] | None = None
    topical_product: str | None = None
    extended: _Fact[bool] | None = None
    started: _Fact[datetime.date] | None = None
    days: _Fact[int] | None = None
    indication: _Fact[str] | None = None
    response: _Fact[str] | None = None

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
    value = float(raw.replace(",", ""))
    if value <= 0:
        raise state.error(snippet, "the amount must be greater than zero")
    return value


# ---------------------------------------------------------------------------------------------
# Clause handlers: each reads one matched clause into the state.


def _read_rate(state: _State, match: re.Match[str]) -> None:
    rate = _Amount("rate", _number(state, match["num"], match[0]))
    state.strength = state.merge(state.strength, rate, match[0])
    state.route = state.merge(state.route, "transdermal", match[0])


def _read_percent(state: _State, match: re.Match[str]) -> None:
    percent = _number(state, match["num"], match[0])
    state.percent = state.merge(state.percent, percent, match[0])


def _mass(state: _State, match: re.Match[str]) -> _Amount:
    unit = match["unit"].lower()
    return _Amount("mass", _number(state, match["num"], match[0]) * _MASS_UNITS[unit], unit)


def _read_dose(state: _State, match: re.Match[str]) -> None:
    state.strength = state.merge(state.strength, _mass(state, match), match[0])


def _set_count(state: _State, count: float, form: str, snippet: str) -> None:
    state.count = state.merge(state.count, count, snippet)
    _read_form_route(state, form, snippet)


def _read_count(state: _State, match: re.Match[str]) -> None:
    _set_count(state, _number(state, match["num"], match[0]), match["unit"], match[0])


def _read_fraction_count(state: _State, match: re.Match[str]) -> None:
    numerator, denominator = int(match["a"]), int(match["b"])
    if numerator >= denominator:
        raise state.error(match[0], "a fraction of a unit must be below 1")
    _set_count(state, numerator / denominator, match["unit"], match[0])


def _read_to(state: _State, match: re.Match[str]) -> None:
    _require_change(state, match[0])
    if match["count"]:
        _set_count(state, _number(state, match["num"], match[0]), match["count"], match[0])
    else:
        _read_dose(state, match)


def _read_from(state: _State, match: re.Match[str]) -> None:
    _require_change(state, match[0])
    state.previous = state.merge(state.previous, _mass(state, match), match[0])


def _require_change(state: _State, snippet: str) -> None:
    if state.action != "change_dose":
        raise state.error(snippet, "only an increase, decrease, change or titrate order has one")


def _set_frequency(state: _State, doses_per_day: float, snippet: str) -> None:
    state.frequency = state.merge(state.frequency, doses_per_day, snippet)


def _read_every_hours(state: _State, match: re.Match[str]) -> None:
    hours = _number(state, match["num"], match[0])
    _set_frequency(state, 24.0 / hours, match[0])


def _read_every_range(state: _State, match: re.Match[str]) -> None:
    shortest = min(int(match["a"]), int(match["b"]))
    if shortest <= 0:
        raise state.error(match[0], "the interval must be greater than zero")
    _set_frequency(state, 24.0 / shortest, match[0])  # the most frequent end of the range


def _read_times(state: _State, match: re.Match[str]) -> None:
    word = match["num"].lower()
    times = _WORD_NUMBERS[word] if word in _WORD_NUMBERS else int(word)
    if times <= 0:
        raise state.error(match[0], "the amount must be greater than zero")
    _set_frequency(state, float(times), match[0])


def _read_fixed_frequency(state: _State, match: re.Match[str]) -> None:
    _set_frequency(state, _FIXED_FREQUENCIES[_key(match["word"])], match[0])


def _read_prn(state: _State, match: re.Match[str]) -> None:
    state.prn = state.merge(state.prn, True, match[0])


def _read_route(state: _State, match: re.Match[str]) -> None:
    word = _key(match["word"])
    state.route = state.merge(state.route, _ROUTES[word], match[0])
    if word in _TOPICAL_PRODUCT_FORMS and state.topical_product is None:
        state.topical_product = match[0]


def _read_form(state: _State, match: re.Match[str]) -> None:
    _read_form_route(state, match["word"], match[0])


def _read_form_route(state: _State, form: str, snippet: str) -> None:
    implied = _COUNT_UNITS.get(_key(form))
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
    days = int(match["num"]) * (7 if match["weeks"] else 1)
    if days <= 0:
        raise state.error(match[0], "the duration must be greater than zero")
    state.days = state.merge(state.days, days, match[0])


def _read_indication(state: _State, match: re.Match[str]) -> None:
    words = _key(match["words"])
    if any(_starts_clause(word, 0) for word in words.split(" ")):
        raise state.error(match[0], "an indication (for ...) must be the last part of the order")
    state.indication = state.merge(state.indication, "" if words in _BACK_PAIN else words, match[0])


def _read_response(state: _State, match: re.Match[str]) -> None:
    response = _RESPONSES[_key(match["word"])]
    state.response = state.merge(state.response, response, match[0])


def _key(phrase: str) -> str:
    return _WHITESPACE.sub(" ", phrase.lower())


_Handler = Callable[[_State, re.Match[str]], None]

# Order matters: the first rule that matches at the current position consumes the clause.
_CLAUSE_RULES: tuple[tuple[re.Pattern[str], _Handler], ...] = (
    (_RATE_RE, _read_rate),
    (_PERCENT_RE, _read_percent),
    (_FRACTION_COUNT_RE, _read_fraction_count),
    (_FREQ_TIMES_RE, _read_times),
    (_DOSE_RE, _read_dose),
    (_COUNT_RE, _read_count),
    (_TO_RE, _read_to),
    (_FROM_RE, _read_from),
    (_FREQ_RANGE_RE, _read_every_range),
    (_FREQ_HOURS_RE, _read_every_hours),
    (_FREQ_FIXED_RE, _read_fixed_frequency),
    (_PRN_RE, _read_prn),
    (_ROUTE_RE, _read_route),
    (_FORM_RE, _read_form),
    (_RELEASE_RE, _read_release),
    (_DATE_RE, _read_date),
    (_DURATION_RE, _read_duration),
    (_RESPONSE_RE, _read_response),
    (_INDICATION_RE, _read_indication),
)

_UNREAD_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "to": "expected a dose such as 60 mg",
        "from": "expected a dose such as 30 mg",
        "for": "expected a duration such as 14 days, or an indication at the end",
        "x": "expected a duration such as 14 days",
        "started": "expected a date YYYY-MM-DD",
        "since": "expected a date YYYY-MM-DD",
        "on": "expected a date YYYY-MM-DD",
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
        return state.error(token, "a number needs a unit such as mg, g, mcg or tabs")
    return state.error(token, _UNREAD_REASONS.get(token.lower(), ""))


def _read_action(state: _State, pos: int) -> int:
    match = _ACTION_RE.match(state.text, pos)
    if match is None:
        return pos
    state.action = _ACTIONS[match["word"].lower()]
    state.verb = match["word"].lower()
    return _skip(state.text, match.end())


def _read_leading_apply(state: _State, pos: int) -> int:
    match = _ROUTE_RE.match(state.text, pos)
    if match is None or match["word"].lower() != "apply":
        return pos
    _read_route(state, match)
    return _skip(state.text, match.end())


def _starts_clause(text: str, pos: int) -> bool:
    return any(pattern.match(text, pos) for pattern, _ in _CLAUSE_RULES)


def _is_fraction(match: re.Match[str]) -> bool:
    """ "1/2" or "3/4" is a part of a tablet, not a combination strength like "10/325"."""
    a, b = float(match["a"].replace(",", "")), float(match["b"].replace(",", ""))
    return a < b <= 4


def _read_drug(state: _State, pos: int) -> int:
    """Leading words, an optional "#3", and an optional "N/N" strength that ends the name."""
    text = state.text
    words: list[str] = []
    while pos < len(text) and not _starts_clause(text, pos):
        strength = _NAME_STRENGTH_RE.match(text, pos)
        if strength is not None and words and not _is_fraction(strength):
            words.append(strength[0])
            pos = _skip(text, strength.end())
            break
        word = _NAME_WORD_RE.match(text, pos) or (
            _NAME_NUMBER_SIGN_RE.match(text, pos) if words else None
        )
        if word is None or word[0].lower() in _NAME_STOP_WORDS:
            break
        words.append(word[0])
        pos = _skip(text, word.end())
    if not words:
        raise SigParseError(f'could not read a drug name in "{text}"')
    state.drug = " ".join(words)
    return pos


def _read_clauses(state: _State, pos: int) -> None:
    text = state.text
    while pos < len(text):
        for pattern, handler in _CLAUSE_RULES:
            match = pattern.match(text, pos)
            if match is not None:
                handler(state, match)
                pos = _skip(text, match.end())
                break
        else:
            raise _unread(state, pos)


# ---------------------------------------------------------------------------------------------
# Assembling the result


def _mass_mg(fact: _Fact[_Amount] | None) -> float | None:
    if fact is None or fact.value.kind != "mass":
        return None
    return fact.value.amount


def _dose_mg(state: _State) -> float | None:
    """mg per administration from the strength, a % concentration and a count."""
    mass = _mass_mg(state.strength)
    if mass is None or state.strength is None:
        return None
    if state.percent is not None:
        if state.strength.value.unit not in ("g", "gm"):
            raise state.error(state.strength.snippet, "with a % strength give grams of product")
        mass = state.percent.value / 100.0 * mass
    elif state.topical_product is not None:
        reason = f"an amount of {state.topical_product} needs a % strength such as 1%"
        raise state.error(state.strength.snippet, reason)
    if state.count is not None:
        mass *= state.count.value
    return mass


def _units_per_dose(state: _State) -> float | None:
    if state.count is None or _mass_mg(state.strength) is not None:
        return None
    return state.count.value


def _rate(state: _State) -> float | None:
    if state.strength is None or state.strength.value.kind != "rate":
        return None
    return state.strength.value.amount


def _check_direction(state: _State, dose: float | None, previous: float | None) -> None:
    if dose is None or previous is None:
        return
    if state.verb == "increase" and dose <= previous:
        raise state.error(state.verb, f"the new dose {dose:g} mg is not above {previous:g} mg")
    if state.verb == "decrease" and dose >= previous:
        raise state.error(state.verb, f"the new dose {dose:g} mg is not below {previous:g} mg")


def _result(state: _State, original: str) -> ParsedSig:
    dose = _dose_mg(state)
    previous = _mass_mg(state.previous)
    _check_direction(state, dose, previous)
    return ParsedSig(
        text=original,
        drug=state.drug,
        dose_mg=dose,
        units_per_dose=_units_per_dose(state),
        rate_mcg_per_hour=_rate(state),
        doses_per_day=_value(state.frequency),
        as_needed=state.prn is not None,
        route=_value(state.route) or _value(state.implied_route),
        extended_release=bool(_value(state.extended)),
        action=state.action,
        started_on=_value(state.started),
        planned_days=_value(state.days),
        response=_value(state.response),
        previous_dose_mg=previous,
        indication=_value(state.indication) or "",
    )


def parse_sig(text: str) -> ParsedSig:
    """Read one medication order; raise SigParseError quoting any part that cannot be read."""
    stripped = text.strip()
    if not stripped:
        raise SigParseError("could not read an empty medication order")
    state = _State(text=stripped)
    pos = _skip(stripped, 0)
    pos = _read_action(state, pos)
    pos = _read_leading_apply(state, pos)
    pos = _read_drug(state, pos)
    _read_clauses(state, pos)
    return _result(state, text)
