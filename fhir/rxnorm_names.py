"""Reading an RxNorm normalized drug name: ingredients, strengths, dose form, brand.

The grammar is fixed (NLM, RxNorm technical documentation)::

    [NN HR ][Q UNIT ]ingredient[ salt] STRENGTH UNIT[ / ingredient[ salt] STRENGTH UNIT ...] Dose Form[ [Brand]]

``72 HR fentanyl 0.075 MG/HR Transdermal System``,
``acetaminophen 325 MG / hydrocodone bitartrate 10 MG Oral Tablet [Norco]``,
``12 HR Oxycodone Hydrochloride 10 MG Extended Release Oral Tablet``.

A strength stated for a salt (``naproxen sodium 550 MG``) is counted as written: the salt's weight
is a little more than the base's, so the total is never understated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from regimenguard.fhir.terminology import DoseForm, Terminology

_BRAND = re.compile(r"\s*\[([^\]]+)\]\s*$")
_DURATION = re.compile(r"^(\d+)\s+HR\s+", re.IGNORECASE)
_QUANTITY = re.compile(r"^\d+(?:\.\d+)?\s+(?:ML|MG|G|ACTUAT)\s+", re.IGNORECASE)
_COMPONENT = re.compile(
    r"^(?P<name>.+?)\s+(?P<value>\d+(?:\.\d+)?)\s+(?P<unit>[A-Z]+(?:/[A-Z]+)?)$", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Strength:
    ingredient: str  # lower-case, salt words removed
    value: float
    unit: str  # upper-case RxNorm unit: MG, MCG, MG/HR, MCG/HR, MG/ML, MG/G, ...


@dataclass(frozen=True, slots=True)
class RxNormName:
    strengths: tuple[Strength, ...]
    dose_form: DoseForm | None
    extended_release: bool
    brand: str


def parse_rxnorm_name(text: str, terminology: Terminology) -> RxNormName | None:
    """The parts of a normalized name, or None when ``text`` does not follow the grammar."""
    text = " ".join(text.split())
    brand = ""
    found = _BRAND.search(text)
    if found:
        brand, text = found.group(1).strip(), text[: found.start()]
    duration = _DURATION.match(text)
    if duration:
        text = text[duration.end() :]
    quantity = _QUANTITY.match(text)
    if quantity:
        text = text[quantity.end() :]
    form = _dose_form(text, terminology)
    if form is not None:
        text = text[: len(text) - len(form.name)].rstrip()
    strengths = []
    for part in text.split(" / "):
        component = _COMPONENT.match(part.strip())
        if component is None:
            return None
        strengths.append(
            Strength(
                ingredient=_without_salt(component.group("name"), terminology),
                value=float(component.group("value")),
                unit=component.group("unit").upper(),
            )
        )
    extended = bool(form and form.extended_release) or (
        duration is not None and form is not None and form.route.value == "oral"
    )
    return RxNormName(tuple(strengths), form, extended, brand)


def _dose_form(text: str, terminology: Terminology) -> DoseForm | None:
    """The longest known dose form the text ends with."""
    folded = text.casefold()
    best: DoseForm | None = None
    for name, form in terminology.dose_forms.items():
        if folded.endswith(" " + name) and (best is None or len(name) > len(best.name)):
            best = form
    return best


def _without_salt(name: str, terminology: Terminology) -> str:
    words = name.casefold().split()
    while len(words) > 1 and words[-1] in terminology.salts:
        words.pop()
    return " ".join(words)
