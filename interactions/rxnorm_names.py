"""RxNorm normalized names, read by their grammar (pure: no knowledge base, no I/O).

RxNorm writes clinical and branded drugs (SCD, SBD) and packs (GPCK, BPCK) in a fixed form:

    [QUANTITY ][Abuse-Deterrent ][NN HR ]substance[ salt] STRENGTH UNIT[ / substance STRENGTH UNIT ...] Dose Form[ [Brand]]
    {N (product) / N (product) ...} Pack[ [Brand]]

for example ``acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet``,
``24 HR tramadol hydrochloride 100 MG Extended Release Oral Capsule [ConZip]``,
``72 HR fentanyl 0.075 MG/HR Transdermal System`` or ``1 ML buprenorphine 0.3 MG/ML Injection``.
This module splits such a name into its parts; which ingredient a substance is (and what its
salt weighs) is the knowledge base's business (interactions/products.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Units RxNorm writes after a strength, longest first so that MG/ML is not read as MG.
UNITS = (
    "MG/ACTUAT",
    "MCG/ACTUAT",
    "MG/HR",
    "MCG/HR",
    "MG/ML",
    "MCG/ML",
    "MG/MG",
    "MG/G",
    "UNT/ML",
    "UNT/G",
    "MEQ/ML",
    "MG",
    "MCG",
    "UNT",
    "MEQ",
    "%",
)
_NUMBER = r"\d+(?:\.\d+)?|\.\d+"
_UNIT = "|".join(re.escape(unit) for unit in UNITS)
_COMPONENT = re.compile(rf"^(?P<substance>.+?) (?P<value>{_NUMBER}) ?(?P<unit>{_UNIT})(?= |$)")
_QUANTITY = re.compile(rf"^(?P<value>{_NUMBER}) (?P<unit>ML|ACTUAT|G|MG) ")
_RELEASE = re.compile(rf"^(?P<hours>{_NUMBER}) HR ")
_QUALIFIERS = ("Abuse-Deterrent ", "Matrix Delivery ", "3-Bead ")
_BRAND = re.compile(r"^(?P<rest>.*?) \[(?P<brand>[^\[\]]+)\]$")
_PACK = re.compile(r"^\{(?P<items>.+)\} Pack(?: \[(?P<brand>[^\[\]]+)\])?$")
_PACK_ITEM = re.compile(
    rf"^(?P<count>\d+) (?:\((?P<quantity>{_NUMBER}) (?P<quantity_unit>ML|G|ACTUAT)\) )?\((?P<product>.+)\)$"
)
_EXTENDED = re.compile(r"\bExtended Release\b")
_DIGIT = re.compile(r"\d")  # what _NUMBER and a pack's count begin with


@dataclass(frozen=True, slots=True)
class Component:
    """One ``substance STRENGTH UNIT`` of a name: the substance as written (salt included)."""

    substance: str
    value: float
    unit: str  # as RxNorm writes it: MG, MCG, MG/ML, MG/HR, MCG/HR, MG/ACTUAT, MG/G, %, ...


@dataclass(frozen=True, slots=True)
class RxNormName:
    components: tuple[Component, ...]
    dose_form: str
    brand: str = ""
    release_hours: float | None = None  # ``12 HR`` before the substance
    quantity: float | None = None  # ``1 ML`` before the substance: the unit's volume
    quantity_unit: str = ""
    pack_count: int | None = None  # a pack: how many units of the (single) product it holds
    qualifiers: tuple[str, ...] = ()

    @property
    def extended_release(self) -> bool:
        return bool(_EXTENDED.search(self.dose_form)) or (
            self.release_hours is not None and "Transdermal" not in self.dose_form
        )


def parse_rxnorm_name(text: str) -> RxNormName | None:
    """The parts of an RxNorm normalized name, or None when ``text`` does not follow the grammar."""
    if _DIGIT.search(text) is None:
        return None  # every strength (and a pack's every count) is written with digits
    text = " ".join(text.split())
    pack = _PACK.match(text)
    if pack is not None:
        return _parse_pack(pack["items"], pack["brand"] or "")
    brand = ""
    branded = _BRAND.match(text)
    if branded is not None:
        text, brand = branded["rest"], branded["brand"]
    parsed = _parse_product(text)
    if parsed is None:
        return None
    return RxNormName(
        components=parsed.components,
        dose_form=parsed.dose_form,
        brand=brand,
        release_hours=parsed.release_hours,
        quantity=parsed.quantity,
        quantity_unit=parsed.quantity_unit,
        qualifiers=parsed.qualifiers,
    )


def _parse_product(text: str) -> RxNormName | None:
    quantity = quantity_unit = None
    match = _QUANTITY.match(text)
    if match is not None and _COMPONENT.match(text[match.end() :]):
        quantity, quantity_unit = float(match["value"]), match["unit"]
        text = text[match.end() :]
    qualifiers = []
    release_hours = None
    changed = True
    while changed:
        changed = False
        for qualifier in _QUALIFIERS:
            if text.startswith(qualifier):
                qualifiers.append(qualifier.strip())
                text = text[len(qualifier) :]
                changed = True
        release = _RELEASE.match(text)
        if release is not None and release_hours is None:
            release_hours = float(release["hours"])
            text = text[release.end() :]
            changed = True
    components = []
    rest = text
    while True:
        component = _COMPONENT.match(rest)
        if component is None:
            return None
        components.append(
            Component(component["substance"], float(component["value"]), component["unit"])
        )
        rest = rest[component.end() :]
        if rest.startswith(" / "):
            rest = rest[3:]
            continue
        break
    dose_form = rest.strip()
    if not dose_form or not dose_form[0].isupper():
        return None
    return RxNormName(
        components=tuple(components),
        dose_form=dose_form,
        release_hours=release_hours,
        quantity=quantity,
        quantity_unit=quantity_unit or "",
        qualifiers=tuple(qualifiers),
    )


def _parse_pack(items_text: str, brand: str) -> RxNormName | None:
    """A pack: its products must share ingredients; strengths that differ are not per-unit facts."""
    items = []
    for item in (part.strip() for part in items_text.split(" / ")):
        match = _PACK_ITEM.match(item)
        if match is None:
            return None
        inner = parse_rxnorm_name(match["product"])
        if inner is None or inner.pack_count is not None:
            return None
        quantity = float(match["quantity"]) if match["quantity"] else inner.quantity
        quantity_unit = match["quantity_unit"] or inner.quantity_unit
        items.append((int(match["count"]), inner, quantity, quantity_unit))
    _, first, quantity, quantity_unit = items[0]
    same = all(inner.components == first.components for _, inner, _, _ in items)
    substances = [c.substance for c in first.components]
    if not all([c.substance for c in inner.components] == substances for _, inner, _, _ in items):
        return None
    components = first.components if same else tuple(Component(s, 0.0, "") for s in substances)
    return RxNormName(
        components=components,
        dose_form=first.dose_form,
        brand=brand,
        release_hours=first.release_hours,
        quantity=quantity if same else None,
        quantity_unit=quantity_unit if same else "",
        pack_count=sum(count for count, _, _, _ in items),
        qualifiers=first.qualifiers,
    )
