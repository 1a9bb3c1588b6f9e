"""The words of a sig: what the text of one medication order states, before any product knowledge.

``parse_sig`` reads the text left to right: an optional action, the drug name, then clauses.
Every token must be accounted for, otherwise ``SigParseError`` is raised quoting the part it
could not read and saying what it expected, e.g.
``could not read "xyz" in "ibuprofen 400 mg xyz bid"``. What the words *mean* for a product
(a patch's strength is a rate, Voltaren gel is 1%) is decided by ``regimenguard.regimen.sig.reading``.

Grammar (case-insensitive; tokens separated by spaces, commas, semicolons, colons or
parentheses; single-word abbreviations may be dotted: ``t.i.d.``, ``q.8.h.``, ``p.o.``)::

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
    count      := N form | A-B form | A to B form | A or B form | 1/2 form | N tab(s)
                  (tab, tablet, caplet, cap, capsule, softgel, patch, pill, spray, puff, unit,
                  film, lozenge); "(2 tabs)" right after a dose restates it (800 mg (2 tabs));
                  "in each nostril" doubles a count of sprays
    frequency  := daily | qd | bid | tid | qid | qhs | qam | qpm | at bedtime | nightly | weekly
                | twice weekly | qod | qNh | q A-B h | every N hours | every A to B hours
                | qNd | every N days | N times a day | Nx/day | N times a week | tid-qid
                  (times of day are doses: "qam and qhs" is twice a day; "daily at bedtime"
                  once; "bid at bedtime" is refused)
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
zero amounts, an "increase" whose new dose is not above the previous one, a second step of a
schedule ("then ..."), which must be written as its own order.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Generic, TypeVar

from regimenguard.regimen.sig.vocabulary import (
    ACTIONS,
    COUNT_UNITS,
    DECREASING_VERBS,
    FILLERS,
    FIXED_FREQUENCIES,
    FORM_NAMES,
    FORMS,
    MASS_PATTERN,
    MASS_UNITS,
    NAME_STOP_WORDS,
    NOTES,
    PRN,
    REASON_JOINERS,
    RELEASE,
    RESPONSES,
    ROUTES,
    SITES,
    TIMES_OF_DAY,
    WORD_NUMBERS,
)

__all__ = ["ParsedSig", "Quantity", "SigParseError", "name_pattern", "parse_sig"]


class SigParseError(ValueError):
    """The order text has a part the reader cannot read; the message quotes that part."""


@dataclass(frozen=True, slots=True)
class Quantity:
    """An amount as written: its value (the maximum of a range) and unit, and the words."""

    value: float
    unit: str  # mg, g, mcg, mcg/h; tab, cap, patch, ...; "dose" or "" for a cap without a unit
    text: str = field(compare=False)  # "2 tabs" and "2 tablets" state the same count
    low: float | None = None  # the low end of a range ("1-2 tabs": 1)

    @property
    def is_range(self) -> bool:
        return self.low is not None and self.low != self.value


@dataclass(frozen=True, slots=True)
class Frequency:
    """How often, as written."""

    doses_per_day: float
    # how it was written; two phrases giving the same count agree ("bid ... twice daily")
    text: str = field(compare=False)
    interval_hours: float | None = field(default=None, compare=False)  # q8h: 8; q4-6h: 4
    longest_hours: float | None = field(default=None, compare=False)  # q4-6h: 6
    low_per_day: float | None = field(default=None, compare=False)  # "tid-qid": 3 (as 4)


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
    route_text: str = ""  # the words that stated it ("po")
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
    each_nostril: bool = False  # "1 spray in each nostril": the count is per nostril
    count_restates_dose: bool = False  # "800 mg (2 tabs)": the dose is the total of the count


# ---------------------------------------------------------------------------------------------
# Regular expressions, compiled once.

_FLAGS = re.IGNORECASE
_END = r"(?=[\s,;:()]|$)"  # a token ends at a separator or at the end of the text
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


_SEPARATORS = re.compile(r"[\s,;:()]+")
_TOKEN = re.compile(r"[^\s,;:()]+")
_WHITESPACE = re.compile(r"\s+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WORD = re.compile(r"[a-z][a-z'\-]*" + _END, _FLAGS)

_ACTION_RE = _compile(f"(?P<word>{_phrases(ACTIONS)})")
_NAME_WORD_RE = _compile(r"rxcui:\d+|[^\W\d_][\w'’./\-]*")
_NAME_NUMBER_SIGN_RE = _compile(r"#\d+")
_NAME_STRENGTH_RE = _compile(rf"(?P<a>{_NUM})\s*(?:mg)?\s*(?P<sep>[/-])\s*(?P<b>{_NUM})\s*(?:mg)?")

_MASS = f"(?P<unit>{MASS_PATTERN})"
_COUNT = rf"(?P<unit>{_phrases(COUNT_UNITS)})(?:\(s\)|\(es\))?"

_RATE_RE = _compile(rf"(?P<num>{_NUM})\s*(?:mcg|ug|µg|μg)\s*(?:/|per\s+)\s*(?:hours|hour|hr|h)\.?")
_PERCENT_RE = _compile(rf"(?P<num>{_NUM})\s*%")
_DOSE_RANGE_RE = _compile(rf"(?P<a>{_NUM})\s*(?:-|to)\s*(?P<num>{_NUM})\s*{_MASS}")
_DOSE_RE = _compile(rf"(?P<num>{_NUM})\s*{_MASS}")
_FRACTION_COUNT_RE = _compile(rf"(?P<a>[1-3])/(?P<b>[2-4])\s*{_COUNT}")
_COUNT_RANGE_RE = _compile(
    rf"(?P<a>{_COUNT_NUM})\s*(?:-|to\s|or\s)\s*(?P<num>{_COUNT_NUM})\s*{_COUNT}"
)
_COUNT_RE = _compile(rf"(?P<num>{_COUNT_NUM})\s*{_COUNT}")
_TO_RE = _compile(rf"to\s+(?P<num>{_NUM})\s*(?:{_MASS}|(?P<count>{_phrases(COUNT_UNITS)}))")
_FROM_RE = _compile(rf"from\s+(?P<num>{_NUM})\s*{_MASS}")
_FREQ_RANGE_RE = _compile(
    rf"(?:{_Q}|every)\s*(?P<a>{_INT})\s*(?:-|to\s)\s*(?P<b>{_INT})\s*\.?\s*{_HOURS}"
)
_FREQ_HOURS_RE = _compile(rf"(?:{_Q}|every)\s*(?P<num>{_COUNT_NUM})\s*\.?\s*{_HOURS}")
_FREQ_DAYS_RE = _compile(rf"(?:{_Q}|every)\s*(?P<num>{_INT})\s*\.?\s*{_DAYS}")
_FREQ_TIMES_RE = _compile(
    rf"(?P<num>{_INT}|{_phrases(WORD_NUMBERS)})\s*(?:x|times)\s*"
    r"(?:(?P<day>daily|a\s+day|per\s+day|each\s+day|/\s*day|/\s*d)|"
    r"(?P<week>weekly|a\s+week|per\s+week|/\s*week|/\s*wk))"
)
_FREQ_FIXED_RE = _compile(f"(?P<word>{_phrases(FIXED_FREQUENCIES)})")
_TIMES_WORDS = {"qd": 1.0, "daily": 1.0, "bid": 2.0, "tid": 3.0, "qid": 4.0}
_FREQ_WORD_RANGE_RE = _compile(
    rf"(?P<a>{_phrases(_TIMES_WORDS)})\s*(?:-|to\s|or\s)\s*(?P<b>{_phrases(_TIMES_WORDS)})"
)
_WEAR_RE = _compile(
    rf"(?:(?P<on>{_NUM})\s*{_HOURS}\s+on[\s,;/]+(?:and\s+|then\s+)?(?P<off>{_NUM})\s*{_HOURS}\s+off"
    rf"|on\s+(?P<on2>{_NUM})\s*{_HOURS}[\s,;/]+(?:and\s+|then\s+)?off\s+(?P<off2>{_NUM})\s*{_HOURS}"
    rf"|(?:on\s+)?for\s+(?P<on3>{_NUM})\s*{_HOURS}\s+(?:then|and)\s+(?:remove|off)"
    rf"(?:\s+for\s+(?P<off3>{_NUM})\s*{_HOURS})?)"
)
_PRN_RE = _compile(f"(?P<word>{_phrases(PRN)})")
_NOSTRILS_RE = _compile(r"(?:in\s+|into\s+)?(?:each|both)\s+nostrils?")
_NOTE_RE = _compile(f"(?P<word>{_phrases(NOTES)})")
_SITE_RE = _compile(rf"(?:to|on|over)\s+(?:the\s+)?(?P<site>{_phrases(SITES)})")
_CAP_RE = _compile(
    r"(?:max(?:imum)?\.?(?:\s+of)?|not\s+to\s+exceed|do\s+not\s+exceed|don'?t\s+exceed"
    r"|no\s+more\s+than|nte)\s*"
    rf"(?P<num>{_NUM})\s*(?P<unit>{MASS_PATTERN}|{_phrases(COUNT_UNITS)}|doses?)?\s*{_PER_DAY}"
)
_ROUTE_RE = _compile(f"(?P<word>{_phrases(ROUTES)})")
_FORM_RE = _compile(f"(?P<word>{_phrases(FORMS)})")
_RELEASE_RE = _compile(f"(?P<word>{_phrases(RELEASE)})")
_DATE_RE = _compile(r"(?:started(?:\s+on)?|since|on)[\s,]+(?P<value>[^\s,;()]+)")
_DURATION_RE = _compile(
    rf"(?:for\s+|x\s*)(?P<num>{_INT})\s*"
    r"(?:(?P<days>d|day|days)|(?P<weeks>w|wk|wks|week|weeks)|(?P<months>mo|month|months))"
)
_DISPENSED_RE = _compile(
    rf"(?:#|disp(?:ense)?:?\s*#?|qty:?\s*#?|refills?:?\s*(?:x\s*)?|rf:?\s*x?\s*)\s*(?P<num>{_INT})"
)
_RESPONSE_RE = _compile(f"(?P<word>{_phrases(RESPONSES)})")
_FILLER_RE = _compile(f"(?P<word>{_phrases(FILLERS)})")
_APPLY_RE = _compile(r"apply|place|wear")
_RX_RE = _compile(r"rx:?")
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
    times_of_day: dict[str, str] = field(default_factory=dict)  # time -> the words
    each_nostril: bool = False
    count_restates_dose: bool = False  # "800 mg (2 tabs)": the count explains the dose

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
    value = float(WORD_NUMBERS[word]) if word in WORD_NUMBERS else float(raw.replace(",", ""))
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
    unit = MASS_UNITS.get(match["unit"].lower(), "mcg")
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
    return FORM_NAMES[_key(form)]


def _read_count(state: _State, match: re.Match[str]) -> None:
    count = Quantity(_number(state, match["num"], match[0]), _count_unit(match["unit"]), match[0])
    _set_count(state, count, match["unit"], match[0])
    before, after = match.string[: match.start()].rstrip(), match.string[match.end() :].lstrip()
    if state.strength is not None and before.endswith("(") and after.startswith(")"):
        state.count_restates_dose = True


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


def _read_word_range(state: _State, match: re.Match[str]) -> None:
    low, high = sorted((_TIMES_WORDS[_key(match["a"])], _TIMES_WORDS[_key(match["b"])]))
    if low == high:
        raise state.error(match[0], "a range goes from the lower to the higher count")
    _set_frequency(state, Frequency(high, match[0], low_per_day=low), match[0])


def _read_fixed_frequency(state: _State, match: re.Match[str]) -> None:
    word = _key(match["word"])
    if word in TIMES_OF_DAY:
        state.times_of_day.setdefault(TIMES_OF_DAY[word], match[0])
        return
    per_day = FIXED_FREQUENCIES[word]
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
        if word is None:
            break
        joiner = words and word[0].lower() in REASON_JOINERS
        if word[0].lower() in NAME_STOP_WORDS and not joiner:
            break
        if joiner:
            after = _skip(state.text, word.end())
            if _starts_clause(state.text, after) or not _WORD.match(state.text, after):
                break
        words.append(word[0])
        pos = _skip(state.text, word.end())
    if words:
        state.prn_reason = " ".join(words)
    return pos


def _read_nostrils(state: _State, match: re.Match[str]) -> None:
    state.route = state.merge(state.route, "intranasal", match[0])
    state.each_nostril = True


def _read_note(state: _State, match: re.Match[str]) -> None:
    state.notes.append(_WHITESPACE.sub(" ", match[0]))


def _read_route(state: _State, match: re.Match[str]) -> None:
    state.route = state.merge(state.route, ROUTES[_key(match["word"])], match[0])


def _read_form(state: _State, match: re.Match[str]) -> None:
    _read_form_word(state, match["word"], match[0])


def _read_form_word(state: _State, form: str, snippet: str) -> None:
    word = _key(form)
    if state.form is None:
        state.form = FORM_NAMES.get(word, word)
    implied = FORMS.get(word)
    if implied is not None:
        state.implied_route = state.merge(state.implied_route, implied, snippet)


def _read_release(state: _State, match: re.Match[str]) -> None:
    extended = RELEASE[_key(match["word"])]
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
    if raw in MASS_UNITS or raw in ("µg", "μg"):
        unit = MASS_UNITS.get(raw, "mcg")
    elif raw.startswith("dose"):
        unit = "dose"
    elif raw:
        unit = _count_unit(raw)
    else:
        unit = ""
    cap = Quantity(_number(state, match["num"], match[0]), unit, match[0])
    state.cap = state.merge(state.cap, cap, match[0])


def _read_dispensed(state: _State, match: re.Match[str]) -> None:
    words = _WHITESPACE.sub(" ", match[0])
    state.notes.append(f"{words} dispensed" if words.startswith("#") else words)


def _read_indication(state: _State, match: re.Match[str]) -> None:
    words = _key(match["words"])
    if any(_starts_clause(word, 0) for word in words.split(" ")):
        raise state.error(match[0], "an indication (for ...) must be the last part of the order")
    pain = words.endswith(_PAIN_ENDINGS) or words in ("lbp", "back", "low back")
    state.indication = state.merge(state.indication, "" if pain else words, match[0])


def _read_response(state: _State, match: re.Match[str]) -> None:
    response = RESPONSES[_key(match["word"])]
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
    (_FREQ_WORD_RANGE_RE, _read_word_range),
    (_FREQ_FIXED_RE, _read_fixed_frequency),
    (_PRN_RE, _read_prn),
    (_NOSTRILS_RE, _read_nostrils),
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
        "then": "a second step of a schedule: write each step as its own order",
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
    state.action = ACTIONS[_key(match["word"])]
    state.verb = _key(match["word"])
    return _skip(state.text, match.end())


def _read_leading_verb(state: _State, pos: int) -> int:
    """ "apply" (a topical or transdermal product follows) or "take" before the drug name."""
    match = _APPLY_RE.match(state.text, pos)
    if match is not None:
        _read_apply(state, match)
        return _skip(state.text, match.end())
    match = _FILLER_RE.match(state.text, pos) or _RX_RE.match(state.text, pos)
    if match is not None and _key(match[0]) in ("take", "rx", "rx:"):
        return _read_leading_verb(state, _skip(state.text, match.end()))
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
        if word is None or word[0].lower() in NAME_STOP_WORDS:
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
    if state.verb in DECREASING_VERBS and dose.value >= previous.value:
        raise state.error(state.verb, f"the new dose {dose.text} is not below {previous.text}")


def _count_times_of_day(state: _State) -> None:
    """ "qam and qhs": a dose at each time named; with "daily" or "bid" the counts must agree."""
    times = state.times_of_day
    if not times:
        return
    words = " and ".join(times.values())
    stated = state.frequency
    if stated is None:
        state.frequency = _Fact(Frequency(float(len(times)), words), words)
    elif stated.value.doses_per_day != len(times):
        raise state.error(words, f'conflicts with "{stated.snippet}"')


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
    _count_times_of_day(state)
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
        route_text=state.route.snippet if state.route else "",
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
        each_nostril=state.each_nostril,
        count_restates_dose=state.count_restates_dose,
    )
