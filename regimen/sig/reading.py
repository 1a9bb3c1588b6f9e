"""What a sig means: its words (``grammar``) plus product knowledge (``products``) as a domain order.

The reading never guesses. Where the words leave a choice, it takes the one a pharmacist takes
and says so in ``assumptions`` (a range counted at its maximum, a duration read as a planned
course); where even a pharmacist would have to ask (``fentanyl 25 mcg q72h``: a patch, or a
buccal dose?), it refuses with a ``SigParseError`` that quotes the words and says what to write.
"""

from __future__ import annotations

from dataclasses import dataclass

from regimenguard.regimen.model import MedicationOrder, OrderAction, Route, TherapyResponse
from regimenguard.regimen.sig.grammar import ParsedSig, Quantity, SigParseError, parse_sig
from regimenguard.regimen.sig.products import NO_PRODUCTS, Product, ProductCatalog
from regimenguard.regimen.sig.vocabulary import TOPICAL_PRODUCT_FORMS
from regimenguard.regimen.sig.words import frequency_words, number, plural

_MG_PER = {"mg": 1.0, "g": 1000.0, "mcg": 0.001}
_ROUTES = {route.value: route for route in Route}
_ACTIONS = {
    None: OrderAction.CONTINUE,
    "continue": OrderAction.CONTINUE,
    "start": OrderAction.START,
    "change_dose": OrderAction.CHANGE_DOSE,
    "stop": OrderAction.STOP,
}
_RESPONSES = {
    None: TherapyResponse.UNASSESSED,
    "benefit": TherapyResponse.BENEFIT,
    "no_benefit": TherapyResponse.NO_BENEFIT,
    "not_tolerated": TherapyResponse.NOT_TOLERATED,
}
_PAIN_REASONS = ("pain", "spasm", "spasms", "ache", "stiffness", "sciatica")
_FREQUENCY_HINT = "expected daily, bid, tid, qid, q6h, q4-6h, every 8 hours, weekly, ..."


@dataclass(frozen=True, slots=True)
class SigReading:
    """One order as read: the domain order, and how it was read, in words."""

    text: str
    order: MedicationOrder
    ingredients: tuple[str, ...]  # what the name resolves to; () when unknown
    dose_amount: float | None  # per administration, in ``dose_unit``
    dose_unit: str  # "mg", "mcg/h", or a count unit ("tab") for a combination product
    dose: str  # per administration as people say it: "1,000 mg (2 tabs of 500 mg)"
    frequency: str  # "every 6 h", "3 times a day", "change every 72 h"
    assumptions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        """How the order was read, on one line (assumptions are listed separately)."""
        order = self.order
        parts = [order.drug]
        if self.dose:
            parts.append(self.dose)
        if self.frequency:
            parts.append(self.frequency + (" at most (as needed)" if order.as_needed else ""))
        parts.append(order.route.value)
        if order.extended_release:
            parts.append("extended-release")
        parts.append(order.action.value.replace("_", " "))
        if order.started_on:
            parts.append(f"started {order.started_on}")
        if order.planned_days:
            parts.append(f"for {order.planned_days} days")
        if order.previous_dose_mg:
            parts.append(f"from {number(order.previous_dose_mg)} mg")
        if order.response is not TherapyResponse.UNASSESSED:
            parts.append(f"response {order.response.value.replace('_', ' ')}")
        if order.indication:
            parts.append(f"for {order.indication} (not judged as back-pain therapy)")
        parts.extend(self.notes)
        return ", ".join(parts)


class _Reader:
    """The reading of one parsed sig against the catalog; collects the assumptions it makes."""

    def __init__(self, parsed: ParsedSig, catalog: ProductCatalog) -> None:
        self.parsed = parsed
        self.catalog = catalog
        self.assumptions: list[str] = []
        self.product = catalog.product(_product_names(parsed))
        self.text = parsed.text.strip()

    def refuse(self, part: str, reason: str) -> SigParseError:
        return SigParseError(f'could not read "{part}" in "{self.text}": {reason}')

    def assume(self, note: str) -> None:
        self.assumptions.append(note)

    # -- route ---------------------------------------------------------------------------

    def route(self, rate: bool) -> str:
        parsed, product = self.parsed, self.product
        stated = parsed.route
        if rate and stated not in (None, "transdermal"):
            raise self.refuse(parsed.route_text, "conflicts with the patch rate (mcg/h)")
        if product is not None and product.route:
            if stated is not None and stated != product.route:
                raise self.refuse(parsed.route_text, f"{product.name} is {product.route}")
            return product.route
        if stated is not None:
            return stated
        if rate:
            return "transdermal"
        return parsed.implied_route or "oral"

    # -- amounts -------------------------------------------------------------------------

    def is_rate(self) -> bool:
        """Whether the strength is a delivery rate: mcg/h written, or mcg on a rate product."""
        strength, product = self.parsed.strength, self.product
        if strength is None:
            return False
        if strength.unit == "mcg/h":
            return True
        rate_product = product is not None and product.is_rate
        transdermal = self.parsed.route == "transdermal" or self.parsed.form == "patch"
        rate_dosed = self.catalog.rate_dosed_when_transdermal(self.parsed.drug)
        if strength.unit == "mcg" and (rate_product or (transdermal and rate_dosed)):
            name = _patch_name(product.name if product is not None else self.parsed.drug)
            self.assume(
                f'"{strength.text}" on a {name} read as its delivery rate, '
                f"{number(strength.value)} mcg/h"
            )
            return True
        if rate_product:
            raise self.refuse(
                strength.text,
                f"{product.name}'s strength is a rate: write it in mcg/h",  # type: ignore[union-attr]
            )
        if strength.unit == "mcg" and self.parsed.form == "patch":
            raise self.refuse(
                strength.text,
                "a patch's strength: write its rate (25 mcg/h) or its mg per patch",
            )
        if strength.unit == "mcg" and rate_dosed and self.parsed.route is None and not product:
            raise self.refuse(
                strength.text,
                f'a {self.parsed.drug} patch is dosed by rate: write "{number(strength.value)} '
                'mcg/h patch", or give the route of a dose in mcg (buccal, sl, iv)',
            )
        return False

    def count(self, default_unit: str) -> float:
        count = self.parsed.count
        if count is None:
            self.assume(f"1 {default_unit} a dose (no count written)")
            return 1.0
        if count.is_range:
            self.assume(f'counted "{count.text}" at {plural(count.value, count.unit)}')
        if self.parsed.each_nostril:
            both = count.value * 2
            self.assume(f'"{count.text}" in each nostril = {plural(both, count.unit)} a dose')
            return both
        return count.value

    def strength_mg(self) -> float | None:
        strength = self.parsed.strength
        if strength is None:
            return None
        if strength.is_range:
            self.assume(f'counted "{strength.text}" at {number(strength.value)} {strength.unit}')
        return strength.value * _MG_PER[strength.unit]


def _product_names(parsed: ParsedSig) -> list[str]:
    """The names a product may go by in this order: as written, then with its form and strength
    ("Voltaren" + "gel", "lidocaine" + "5% patch")."""
    names = [parsed.drug]
    percent = f"{number(parsed.percent)}%" if parsed.percent is not None else ""
    if parsed.form:
        names.append(f"{parsed.drug} {parsed.form}")
        if percent:
            names.append(f"{parsed.drug} {percent} {parsed.form}")
            names.append(f"{parsed.drug} {parsed.form} {percent}")
    if percent:
        names.append(f"{parsed.drug} {percent}")
    return names


def _patch_name(name: str) -> str:
    return name if name.lower().endswith("patch") else f"{name} patch"


@dataclass(frozen=True, slots=True)
class _Amount:
    dose_mg: float = 0.0
    units: float = 0.0
    rate: float = 0.0
    shown: str = ""
    amount: float | None = None
    unit: str = ""
    drug: str = ""  # the name to send, when it is not the name as read ("Voltaren gel")
    gel_grams: float = 0.0  # grams of a gel or cream a dose: what a cap in g counts


def _amount(reader: _Reader) -> _Amount:
    parsed, product = reader.parsed, reader.product
    if reader.is_rate():
        strength = parsed.strength
        assert strength is not None
        patches = reader.count("patch") if parsed.count is not None else 1.0
        rate = strength.value * patches
        shown = f"{number(rate)} mcg/h"
        if patches != 1:
            shown += f" ({plural(patches, 'patch')} of {number(strength.value)} mcg/h)"
            reader.assume(f"{plural(patches, 'patch')} of {number(strength.value)} mcg/h = {shown}")
        return _Amount(rate=rate, shown=shown, amount=rate, unit="mcg/h")
    if product is not None and product.known_content:
        return _product_units(reader, product)
    if parsed.percent is not None and parsed.strength is not None:
        return _percent_amount(reader, parsed.percent)
    topical_amount = parsed.form in TOPICAL_PRODUCT_FORMS or (
        product is not None and product.dose_form in TOPICAL_PRODUCT_FORMS
    )
    if topical_amount and parsed.strength is not None:
        form = parsed.form or (product.dose_form if product else "gel")
        raise reader.refuse(
            parsed.strength.text, f"an amount of {form} needs a % strength such as 1%"
        )
    sold = reader.catalog.strengths_sold(parsed.drug)
    if sold:
        raise reader.refuse(
            parsed.drug, f"sold as {', '.join(sold)}: write which strength (e.g. {sold[0]})"
        )
    mg = reader.strength_mg()
    count = parsed.count
    if mg is None:
        if count is None:
            return _Amount()
        units = reader.count(count.unit)
        return _Amount(units=units, shown=plural(units, count.unit), amount=units, unit=count.unit)
    units = 1.0
    if count is not None:
        units = reader.count(count.unit)
    strength = parsed.strength
    assert strength is not None
    if count is not None and parsed.count_restates_dose:
        each = strength.value / units
        reader.assume(
            f'"{strength.text} ({count.text})" read as {strength.text} a dose, '
            f"{plural(units, count.unit)} of {number(each)} {strength.unit}"
        )
        shown = f"{strength.text} ({plural(units, count.unit)} of {number(each)} {strength.unit})"
        return _Amount(dose_mg=mg, shown=shown, amount=mg, unit="mg")
    shown = f"{number(strength.value * units)} {strength.unit}"
    if count is not None:
        shown += f" ({plural(units, count.unit)} of {number(strength.value)} {strength.unit})"
    return _Amount(dose_mg=mg * units, shown=shown, amount=mg * units, unit="mg")


def _percent_amount(reader: _Reader, percent: float) -> _Amount:
    """A gel or cream of a written % strength: grams of product times the concentration."""
    parsed = reader.parsed
    strength = parsed.strength
    assert strength is not None
    if strength.unit != "g":
        raise reader.refuse(strength.text, "with a % strength give grams of product, e.g. 4 g")
    if strength.is_range:
        reader.assume(f'counted "{strength.text}" at {number(strength.value)} g')
    mg = percent / 100.0 * strength.value * 1000.0
    form = f" {parsed.form}" if parsed.form else ""
    shown = f"{number(mg)} mg ({number(strength.value)} g of {number(percent)}%{form})"
    return _Amount(dose_mg=mg, shown=shown, amount=mg, unit="mg", gel_grams=strength.value)


def _product_units(reader: _Reader, product: Product) -> _Amount:
    """A product whose unit content the knowledge base knows: the order counts its units."""
    if product.unit == "mg/g":
        return _grams_of_gel(reader, product)
    parsed = reader.parsed
    form = product.dose_form
    percent = f"{number(parsed.percent)}%" if parsed.percent is not None else ""
    if percent and percent not in product.name:
        reader.assume(
            f'"{percent}" is the concentration of {product.name}: counted by what a {form} holds'
        )
    single = len(product.strengths) == 1
    per_unit = product.strengths[0].stated if single else None
    strength = parsed.strength
    if strength is not None:
        mg = reader.strength_mg()
        assert mg is not None
        if per_unit is None:
            raise reader.refuse(
                strength.text, f"{product.name} is counted in {form}s: give the count, not mg"
            )
        if parsed.count is not None and abs(mg - per_unit) > 1e-9:
            raise reader.refuse(strength.text, f"{product.name} is {number(per_unit)} mg a {form}")
        if parsed.count is None:
            units = mg / per_unit
            if abs(units * 2 - round(units * 2)) > 1e-9:
                raise reader.refuse(
                    strength.text,
                    f"{product.name} is {number(per_unit)} mg a {form}: give the count of {form}s",
                )
            if units != 1:
                reader.assume(f'"{strength.text}" = {plural(units, form)} of {product.name}')
        else:
            units = reader.count(form)
    else:
        units = reader.count(form)
    if product.is_rate and product.rate:
        rate = product.rate * units
        return _Amount(
            units=units,
            shown=f"{number(rate)} mcg/h",
            amount=rate,
            unit="mcg/h",
            drug=product.name,
        )
    if single and per_unit is not None:
        part = product.strengths[0]
        amount = per_unit * units
        shown = f"{plural(units, form)} = {part.substance} {number(amount)} mg"
        if part.salt and part.mg_per_unit is not None:
            shown += f" ({part.ingredient} {number(round(part.mg_per_unit * units, 1))} mg)"
        return _Amount(units=units, shown=shown, amount=amount, unit="mg", drug=product.name)
    shown = f"{plural(units, form)} of {product.name}"
    return _Amount(units=units, shown=shown, amount=units, unit=form, drug=product.name)


def _grams_of_gel(reader: _Reader, product: Product) -> _Amount:
    """``Voltaren gel 2 g``: grams of a gel whose strength per gram the knowledge base knows."""
    parsed = reader.parsed
    strength = parsed.strength
    part = product.strengths[0]
    if strength is None or strength.unit != "g":
        words = strength.text if strength is not None else parsed.drug
        raise reader.refuse(words, f"give the amount of {product.name} in grams, e.g. 4 g")
    stated = part.stated
    if (
        parsed.percent is not None
        and stated is not None
        and abs(parsed.percent * 10 - stated) > 1e-9
    ):
        raise reader.refuse(
            f"{number(parsed.percent)}%", f"{product.name} is {number(stated / 10)}%"
        )
    if strength.is_range:
        reader.assume(f'counted "{strength.text}" at {number(strength.value)} g')
    grams = strength.value
    amount = (stated or 0.0) * grams
    shown = f"{number(grams)} g = {part.substance} {number(amount)} mg"
    return _Amount(
        units=grams, shown=shown, amount=amount, unit="mg", drug=product.name, gel_grams=grams
    )


# -- frequency ---------------------------------------------------------------------------------


def _doses_per_day(reader: _Reader, amount: _Amount) -> tuple[float, str]:
    parsed = reader.parsed
    frequency = parsed.frequency
    per_day = frequency.doses_per_day if frequency is not None else 0.0
    interval = frequency.interval_hours if frequency is not None else None
    words = frequency_words(per_day, interval) if per_day else ""
    if frequency is not None and frequency.longest_hours is not None:
        words = f"every {number(frequency.interval_hours or 0)}-{number(frequency.longest_hours)} h"
        reader.assume(
            f'"{frequency.text}" counted at every {number(frequency.interval_hours or 0)} h'
            f" = {number(per_day)} a day"
        )
    if frequency is not None and frequency.low_per_day is not None:
        reader.assume(f'"{frequency.text}" counted at {number(per_day)} a day')
    if parsed.wear_hours is not None:
        on, off = parsed.wear_hours
        cycle_per_day = 24.0 / (on + off)
        if per_day and abs(per_day - cycle_per_day) > 1e-9:
            raise reader.refuse(
                frequency.text if frequency else parsed.text,
                f"conflicts with {number(on)} h on, {number(off)} h off",
            )
        per_day = cycle_per_day
        words = f"{number(on)} h on, {number(off)} h off"
        reader.assume(
            f"{number(on)} h on, {number(off)} h off: {plural(per_day, 'patch')} a day, "
            f"each worn {number(on)} h"
        )
    if amount.rate and words:
        words = f"change {words}"
    per_day = _capped(reader, amount, per_day)
    if per_day and not words:
        words = frequency_words(per_day)
    return per_day, words


def _capped(reader: _Reader, amount: _Amount, per_day: float) -> float:
    """A daily cap (``max 8/day``, ``not to exceed 3 g/day``) bounds the doses a day."""
    cap = reader.parsed.daily_cap
    if cap is None:
        return per_day
    per_dose, unit = _per_dose_in(reader, amount, cap)
    allowed = cap.value / per_dose
    if not per_day:
        reader.assume(f'"{cap.text}" read as at most {number(allowed)} doses a day')
        return allowed
    if allowed < per_day:
        reader.assume(
            f'"{cap.text}" bounds the count: {number(cap.value)} {unit} a day = '
            f"{number(allowed)} doses (not {number(per_day)})"
        )
        return allowed
    reader.assume(f'"{cap.text}": the count ({number(per_day)} doses a day) is within it')
    return per_day


def _per_dose_in(reader: _Reader, amount: _Amount, cap: Quantity) -> tuple[float, str]:
    """One administration in the cap's unit (mg, tabs, or doses), and that unit's name."""
    parsed = reader.parsed
    if cap.unit == "g" and amount.gel_grams:
        return amount.gel_grams, "g of gel"  # "max 32 g/day": grams of the gel, not of drug
    if cap.unit in _MG_PER:
        mg = amount.dose_mg or (amount.amount if amount.unit == "mg" else 0.0)
        if not mg:
            raise reader.refuse(cap.text, "a cap in mg or g needs a dose in mg per administration")
        return mg / _MG_PER[cap.unit], cap.unit
    if cap.unit == "dose":
        return 1.0, "doses"
    if cap.unit == "" and parsed.count is None:
        return 1.0, "doses"
    count = parsed.count
    if count is None:
        reader.assume(f'"{cap.text}" read with 1 {cap.unit} a dose (no count written)')
        return 1.0, plural(2, cap.unit).split(" ", 1)[1]
    unit = cap.unit or count.unit
    if unit != count.unit:
        raise reader.refuse(cap.text, f"the cap counts {unit}s, the dose {count.unit}s")
    return count.value, plural(2, unit).split(" ", 1)[1]


# -- course, action, indication ----------------------------------------------------------------


def _action(reader: _Reader) -> OrderAction:
    parsed = reader.parsed
    action = _ACTIONS[parsed.action]
    if parsed.planned_days:
        days = parsed.planned_days
        words = parsed.duration_text or f"for {days} days"
        if parsed.action is None and parsed.started_on is None:
            reader.assume(f'"{words}" read as a planned {days}-day course from today (a new order)')
            return OrderAction.START
        if parsed.action is None:
            reader.assume(f'"{words}" read as a planned {days}-day course from {parsed.started_on}')
        elif parsed.action != "start":
            reader.assume(f'"{words}" read as a planned {days}-day course')
    return action


def _indication(reader: _Reader) -> str:
    parsed = reader.parsed
    if parsed.indication or not parsed.prn_reason:
        return parsed.indication
    reason = parsed.prn_reason.lower()
    if reason.endswith(_PAIN_REASONS):
        return ""
    reader.assume(f'"prn {parsed.prn_reason}": taken for {reason}, not as back-pain therapy')
    return reason


def read_sig(text: str, catalog: ProductCatalog = NO_PRODUCTS) -> SigReading:
    """Read one order; raise SigParseError quoting the words it cannot read or settle."""
    parsed = parse_sig(text, catalog.names)
    reader = _Reader(parsed, catalog)
    amount = _amount(reader)
    rate = bool(amount.rate)
    route = reader.route(rate)
    action = _action(reader)
    per_day, words = _doses_per_day(reader, amount)
    if not per_day and not rate and action is not OrderAction.STOP:
        raise SigParseError(f'no frequency in "{reader.text}": {_FREQUENCY_HINT}')
    product = reader.product
    extended = bool(parsed.extended_release) or (
        parsed.extended_release is None and product is not None and product.extended_release
    )
    if product is not None and product.is_rate and parsed.form is None:
        reader.assume(f"{product.name} read as a transdermal patch")
    drug = amount.drug or parsed.drug
    previous = parsed.previous
    order = MedicationOrder(
        drug=drug,
        dose_mg=amount.dose_mg,
        rate_mcg_per_hour=amount.rate,
        doses_per_day=per_day,
        as_needed=parsed.as_needed,
        route=_ROUTES[route],
        extended_release=extended,
        action=action,
        started_on=parsed.started_on,
        previous_dose_mg=previous.value * _MG_PER.get(previous.unit, 1.0) if previous else 0.0,
        planned_days=parsed.planned_days or 0,
        response=_RESPONSES[parsed.response],
        indication=_indication(reader),
        units_per_dose=amount.units,
    )
    notes = list(parsed.notes)
    if parsed.as_needed and parsed.prn_reason and not order.indication:
        notes.insert(0, f"as needed for {parsed.prn_reason}")
    return SigReading(
        text=text,
        order=order,
        ingredients=catalog.ingredients(drug),
        dose_amount=amount.amount,
        dose_unit=amount.unit,
        dose=amount.shown,
        frequency=words,
        assumptions=tuple(reader.assumptions),
        notes=tuple(notes),
    )
