"""A FHIR R4 MedicationRequest as a domain MedicationOrder, element by element.

- The drug: ``medicationCodeableConcept`` or ``medicationReference`` to a contained (``#id``)
  or bundled (``Medication/id``) Medication. An RxNorm code the knowledge base knows (an
  ingredient or a combination product) resolves by code; a product code it does not know is
  read from its display by the RxNorm name grammar (ingredients, strengths, dose form); else the
  concept's text or display is the name (an unknown name is an UNKNOWN_DRUG finding).
- The dose: ``doseAndRate.doseQuantity`` or the high end of ``doseRange`` in UCUM mass (mg, ug,
  g), in units (``{tablet}``, ``TAB``, ``{capsule}``, ``{patch}``) times the product's strength,
  or in mL/g of a product with a concentration; a patch by ``rateQuantity`` or by its strength
  (``0.075 MG/HR``).
- How often: ``timing.repeat`` (``frequencyMax`` over ``frequency``, the shorter of ``period``
  and ``periodMax``, so a range counts at its maximum; ``timeOfDay`` and ``when`` count their
  entries per day) or ``timing.code`` (BID, Q6H, ...), capped by ``maxDosePerPeriod``.
- ``asNeededBoolean``/``asNeededCodeableConcept``; ``route`` (SNOMED CT, else the dose form's);
  ``dispenseRequest.expectedSupplyDuration`` -> planned days; ``authoredOn`` or
  ``dispenseRequest.validityPeriod.start`` -> started on; ``reasonCode`` -> indication (a
  low-back-pain code or text means none); the therapy-response extension below.

An order the mapping cannot turn into an order (no drug at all, no dose, no frequency) is an
``UnmappedOrder`` naming why; a wrongly typed element is an issue of the Reader.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from regimenguard.fhir.reader import Reader
from regimenguard.fhir.rxnorm_names import RxNormName, Strength, parse_rxnorm_name
from regimenguard.fhir.terminology import LOW_BACK_PAIN, RXNORM, SNOMED, DoseForm, Terminology
from regimenguard.interactions.resolver import NameResolver
from regimenguard.regimen.model import (
    IngredientDose,
    MedicationOrder,
    OrderAction,
    Route,
    TherapyResponse,
)

# RegimenGuard's own extension for what FHIR has no element for (docs/cds-hooks.md).
THERAPY_RESPONSE_URL = "urn:regimenguard:fhir:StructureDefinition:therapy-response"
RESPONSES = {
    "benefit": TherapyResponse.BENEFIT,
    "no-benefit": TherapyResponse.NO_BENEFIT,
    "not-tolerated": TherapyResponse.NOT_TOLERATED,
}
# UCUM units (code or unit text, casefolded), unit conversions rather than clinical facts.
MASS_MG = {"mg": 1.0, "ug": 0.001, "mcg": 0.001, "µg": 0.001, "g": 1000.0, "kg": 1_000_000.0}
COUNT_UNITS = frozenset(
    {
        "{spray}",
        "{actuat}",
        "{tablet}",
        "{tbl}",
        "tab",
        "tablet",
        "tablets",
        "{capsule}",
        "cap",
        "capsule",
        "capsules",
        "{patch}",
        "patch",
        "{each}",
        "{unit}",
        "1",
    }
)
VOLUME_ML = {"ml": 1.0, "l": 1000.0}
RATE_MCG_PER_HOUR = {"ug/h": 1.0, "mcg/h": 1.0, "mcg/hr": 1.0, "mg/h": 1000.0, "mg/hr": 1000.0}
PERIOD_DAYS = {
    "s": 1 / 86400,
    "min": 1 / 1440,
    "h": 1 / 24,
    "d": 1.0,
    "wk": 7.0,
    "mo": 30.0,
    "a": 365.0,
}
DURATION_DAYS = {"d": 1.0, "day": 1.0, "days": 1.0, "wk": 7.0, "mo": 30.0, "a": 365.0}
STRENGTH_MG = {"MG": 1.0, "MCG": 0.001}
# per unit of dose quantity: MG/ML with mL, MG/G with g
CONCENTRATION = {"MG/ML": "ml", "MG/G": "g"}
PATCH_RATE = {"MG/HR": 1000.0, "MCG/HR": 1.0}
BACK_PAIN_WORDS = frozenset({"back pain", "low back pain", "lower back pain", "lumbago"})


@dataclass(frozen=True, slots=True)
class UnmappedOrder:
    """An order that cannot be checked, and why (shown to the prescriber in an info card)."""

    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class Drug:
    """What the order names, before its dose."""

    name: str  # the drug text given to the checker
    label: str  # how to name it to a person
    parsed: RxNormName | None = None
    combination_units: bool = False  # a combination product that resolved: dose in units
    explicit: bool = False  # Medication.ingredient amounts: the order carries its ingredients
    single_product: bool = False  # a one-ingredient product: a dose in mg is also understood


class MedicationMapper:
    """Built once (terminology + the knowledge base's name resolver); maps many orders."""

    def __init__(self, terminology: Terminology, resolver: NameResolver) -> None:
        self.terminology = terminology
        self.resolver = resolver

    def map(
        self,
        resource: dict[str, Any],
        reader: Reader,
        *,
        action: OrderAction,
        medications: Mapping[str, dict[str, Any]] = {},
        path: str = "MedicationRequest",
        previous: MedicationOrder | None = None,
    ) -> MedicationOrder | UnmappedOrder:
        concept, medication = self._concept(resource, reader, path, medications)
        drug = self._drug(concept, medication, reader, path)
        dosage = self._first_dosage(resource, reader, path)
        if drug is None:
            return UnmappedOrder("an order", "it names no medication (no code, text or display)")
        route = self._route(dosage, drug, reader, path)
        started = reader.date(resource.get("authoredOn"), f"{path}.authoredOn")
        dispense = reader.obj(resource.get("dispenseRequest"), f"{path}.dispenseRequest") or {}
        if started is None:
            validity = reader.obj(
                dispense.get("validityPeriod"), f"{path}.dispenseRequest.validityPeriod"
            )
            started = reader.date(
                (validity or {}).get("start"), f"{path}.dispenseRequest.validityPeriod.start"
            )
        order = MedicationOrder(
            drug=drug.name,
            route=route,
            extended_release=bool(drug.parsed and drug.parsed.extended_release)
            or self._form_extended(medication),
            action=action,
            started_on=previous.started_on if previous and previous.started_on else started,
            previous_dose_mg=previous.dose_mg if previous else 0.0,
            planned_days=self._planned_days(dispense, reader, f"{path}.dispenseRequest"),
            indication=self._indication(resource, reader, path),
            response=self._response(resource, reader, path),
        )
        if action is OrderAction.STOP:
            # A stopped order's last day is the end of its validity period (default: the check
            # date): a drug stopped within its washout still counts for those interactions.
            validity = reader.obj(
                dispense.get("validityPeriod"), f"{path}.dispenseRequest.validityPeriod"
            )
            stopped = reader.date(
                (validity or {}).get("end"), f"{path}.dispenseRequest.validityPeriod.end"
            )
            if stopped is not None:
                order = _with(order, stopped_on=stopped)
            if dosage is None:
                return order
            # A stopped order's amount still says something (a switch from a current opioid
            # keeps the patient opioid-tolerant); one that cannot be read is simply stopped.
            stopped_amount = self._stopped_amount(order, dosage, drug, route, reader, path)
            return stopped_amount if stopped_amount is not None else order
        if dosage is None:
            return UnmappedOrder(drug.label, "it has no dosageInstruction")
        dpath = f"{path}.dosageInstruction[0]"
        as_needed = self._as_needed(dosage, reader, dpath)
        amount = self._amount(dosage, drug, route, reader, dpath)
        # timing is read even when the amount is unknown, so that every bad element is named
        per_day = self._doses_per_day(
            dosage, reader, dpath, _Amount() if isinstance(amount, str) else amount
        )
        if isinstance(amount, str):
            return UnmappedOrder(drug.label, amount)
        if per_day is None and amount.rate_mcg_per_hour > 0:
            per_day = 1.0  # a patch's rate is its dose; how often it is changed does not add
        if per_day is None:
            return UnmappedOrder(drug.label, "its timing gives no frequency")
        return _with(
            order,
            dose_mg=amount.dose_mg,
            ingredients=amount.ingredients,
            units_per_dose=amount.units_per_dose,
            rate_mcg_per_hour=amount.rate_mcg_per_hour,
            doses_per_day=per_day,
            as_needed=as_needed,
        )

    # --- the drug ---------------------------------------------------------------------------

    def _concept(
        self,
        resource: dict[str, Any],
        reader: Reader,
        path: str,
        medications: Mapping[str, dict[str, Any]],
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        concept = reader.obj(
            resource.get("medicationCodeableConcept"), f"{path}.medicationCodeableConcept"
        )
        if concept is not None:
            return concept, None
        reference = reader.obj(resource.get("medicationReference"), f"{path}.medicationReference")
        if reference is None:
            return None, None
        ref = reader.string(reference.get("reference"), f"{path}.medicationReference.reference")
        medication = None
        if ref and ref.startswith("#"):
            for _path, contained in reader.objects(resource.get("contained"), f"{path}.contained"):
                if contained.get("id") == ref[1:] and contained.get("resourceType") == "Medication":
                    medication = contained
                    break
        elif ref:
            medication = medications.get(ref) or medications.get(ref.rsplit("/", 1)[-1])
        if medication is None:
            display = reader.string(reference.get("display"), f"{path}.medicationReference.display")
            return ({"text": display} if display else None), None
        code = reader.obj(medication.get("code"), "Medication.code")
        return code, medication

    def _drug(
        self,
        concept: dict[str, Any] | None,
        medication: dict[str, Any] | None,
        reader: Reader,
        path: str,
    ) -> Drug | None:
        if medication is not None and medication.get("ingredient"):
            from_ingredients = self._medication_ingredients(medication, reader)
            if from_ingredients is not None:
                return from_ingredients
        if concept is None:
            return None
        cpath = f"{path}.medicationCodeableConcept"
        names: list[str] = []
        codes: list[str] = []
        for kpath, coding in reader.objects(concept.get("coding"), f"{cpath}.coding"):
            display = reader.string(coding.get("display"), f"{kpath}.display")
            code = reader.string(coding.get("code"), f"{kpath}.code")
            if coding.get("system") == RXNORM and code:
                codes.append(code.strip())
            if display:
                names.append(display)
        text = reader.string(concept.get("text"), f"{cpath}.text")
        if text:
            names.insert(0, text)
        # 1. a code the knowledge base knows
        for code in codes:
            match = self.resolver.resolve(f"rxcui:{code}")
            if match is not None and not match.is_ambiguous:
                label = names[0] if names else f"RxNorm {code}"
                if match.is_product or match.is_combination:
                    # a product whose unit's content the knowledge base knows: dose in units
                    return Drug(
                        match.product or f"rxcui:{code}",
                        label,
                        parse_rxnorm_name(match.product, self.terminology),
                        combination_units=True,
                        single_product=len(match.ingredients) == 1,
                    )
                by_name = self._by_grammar(names)
                if by_name is not None:
                    return by_name  # the product name carries its strength
                return Drug(match.ingredients[0][0], label)
        # 2. a name the knowledge base knows as written (brand, generic, "Norco 10/325")
        for name in names:
            match = self.resolver.resolve(name)
            if match is not None:
                product = match.is_combination or getattr(match, "is_product", False)
                return Drug(
                    name,
                    name,
                    parse_rxnorm_name(match.product, self.terminology) if match.product else None,
                    combination_units=product,
                    single_product=product and len(match.ingredients) == 1,
                )
        # 3. an RxNorm normalized name: ingredients and strengths
        by_name = self._by_grammar(names)
        if by_name is not None:
            return by_name
        if names:
            return Drug(names[0], names[0])
        if codes:
            return Drug(f"rxcui:{codes[0]}", f"RxNorm {codes[0]}")
        return None

    def _by_grammar(self, names: list[str]) -> Drug | None:
        for name in names:
            parsed = parse_rxnorm_name(name, self.terminology)
            if parsed is not None:
                if len(parsed.strengths) == 1:
                    return Drug(parsed.strengths[0].ingredient, name, parsed)
                return Drug(name, name, parsed)
        return None

    def _medication_ingredients(self, medication: dict[str, Any], reader: Reader) -> Drug | None:
        """A Medication with ``ingredient[].strength`` (per unit): a product of those amounts."""
        strengths = []
        for ipath, part in reader.objects(medication.get("ingredient"), "Medication.ingredient"):
            item = reader.obj(part.get("itemCodeableConcept"), f"{ipath}.itemCodeableConcept")
            name = None
            if item is not None:
                name = reader.string(item.get("text"), f"{ipath}.itemCodeableConcept.text")
                for kpath, coding in reader.objects(
                    item.get("coding"), f"{ipath}.itemCodeableConcept.coding"
                ):
                    code = reader.string(coding.get("code"), f"{kpath}.code")
                    if not name and coding.get("system") == RXNORM and code:
                        name = f"rxcui:{code}"
                    name = name or reader.string(coding.get("display"), f"{kpath}.display")
            strength = reader.obj(part.get("strength"), f"{ipath}.strength") or {}
            numerator = reader.obj(strength.get("numerator"), f"{ipath}.strength.numerator") or {}
            value = reader.number(
                numerator.get("value"), f"{ipath}.strength.numerator.value", positive=True
            )
            unit = str(numerator.get("code") or numerator.get("unit") or "").casefold()
            if not name or value is None or unit not in MASS_MG:
                return None
            strengths.append(Strength(name, value * MASS_MG[unit], "MG"))
        if not strengths:
            return None
        code = medication.get("code") if isinstance(medication.get("code"), dict) else {}
        text = code.get("text") if isinstance(code.get("text"), str) else ""
        label = text or " / ".join(s.ingredient for s in strengths)
        form = self._form(medication)
        parsed = RxNormName(tuple(strengths), form, bool(form and form.extended_release), "")
        return Drug(text, label, parsed, explicit=True)

    def _form(self, medication: dict[str, Any] | None) -> DoseForm | None:
        if not medication or not isinstance(medication.get("form"), dict):
            return None
        form = medication["form"]
        names = [form.get("text")] + [
            c.get("display") for c in form.get("coding") or [] if isinstance(c, dict)
        ]
        for name in names:
            if isinstance(name, str) and name.casefold() in self.terminology.dose_forms:
                return self.terminology.dose_forms[name.casefold()]
        return None

    def _form_extended(self, medication: dict[str, Any] | None) -> bool:
        form = self._form(medication)
        return bool(form and form.extended_release)

    # --- the dose ---------------------------------------------------------------------------

    def _stopped_amount(
        self,
        order: MedicationOrder,
        dosage: dict[str, Any],
        drug: Any,
        route: Any,
        reader: Reader,
        path: str,
    ) -> MedicationOrder | None:
        """A STOP order with the amount and timing its dosage gives, or None when they cannot
        be read (the order is then kept without them)."""
        probe = Reader()
        dpath = f"{path}.dosageInstruction[0]"
        amount = self._amount(dosage, drug, route, probe, dpath)
        if isinstance(amount, str):
            return None
        per_day = self._doses_per_day(dosage, probe, dpath, amount)
        if probe.issues:
            return None
        if per_day is None:
            per_day = 1.0 if amount.rate_mcg_per_hour > 0 else 0.0
        return _with(
            order,
            dose_mg=amount.dose_mg,
            ingredients=amount.ingredients,
            rate_mcg_per_hour=amount.rate_mcg_per_hour,
            units_per_dose=amount.units_per_dose,
            doses_per_day=per_day,
            as_needed=self._as_needed(dosage, probe, dpath),
        )

    def _first_dosage(
        self, resource: dict[str, Any], reader: Reader, path: str
    ) -> dict[str, Any] | None:
        dosages = reader.objects(resource.get("dosageInstruction"), f"{path}.dosageInstruction")
        return dosages[0][1] if dosages else None

    def _route(self, dosage: dict[str, Any] | None, drug: Drug, reader: Reader, path: str) -> Route:
        if dosage is not None:
            rpath = f"{path}.dosageInstruction[0].route"
            route = reader.obj(dosage.get("route"), rpath)
            for kpath, coding in reader.objects((route or {}).get("coding"), f"{rpath}.coding"):
                code = reader.string(coding.get("code"), f"{kpath}.code")
                if coding.get("system") == SNOMED and code in self.terminology.routes:
                    return self.terminology.routes[code]
        if drug.parsed is not None and drug.parsed.dose_form is not None:
            return drug.parsed.dose_form.route
        return Route.ORAL

    def _amount(
        self, dosage: dict[str, Any], drug: Drug, route: Route, reader: Reader, path: str
    ) -> _Amount | str:
        """The per-administration amount, or why it cannot be known."""
        dose, rate = None, None
        for apath, item in reader.objects(dosage.get("doseAndRate"), f"{path}.doseAndRate"):
            quantity = reader.obj(item.get("doseQuantity"), f"{apath}.doseQuantity")
            qpath = f"{apath}.doseQuantity"
            if quantity is None:
                dose_range = reader.obj(item.get("doseRange"), f"{apath}.doseRange")
                if dose_range is not None:
                    quantity = reader.obj(dose_range.get("high"), f"{apath}.doseRange.high")
                    qpath = f"{apath}.doseRange.high"
                    if quantity is None:
                        quantity = reader.obj(dose_range.get("low"), f"{apath}.doseRange.low")
                        qpath = f"{apath}.doseRange.low"
            if quantity is not None and dose is None:
                dose = _Quantity.read(quantity, reader, qpath)
            rate_quantity = reader.obj(item.get("rateQuantity"), f"{apath}.rateQuantity")
            if rate_quantity is not None and rate is None:
                rate = _Quantity.read(rate_quantity, reader, f"{apath}.rateQuantity")
        if rate is not None and rate.unit in RATE_MCG_PER_HOUR:
            return _Amount(rate_mcg_per_hour=rate.value * RATE_MCG_PER_HOUR[rate.unit])
        if dose is None:
            return "it has no dose (doseQuantity or doseRange)"
        parsed = drug.parsed
        if drug.combination_units:
            # a product of the knowledge base: its unit is a tablet, a patch, or a gram or mL of
            # a gel or solution (its strength per G or per ML)
            if dose.unit in COUNT_UNITS:
                return _Amount(units_per_dose=dose.value)
            per = "g" if dose.unit == "g" else "ml" if dose.unit in VOLUME_ML else None
            if per is not None and parsed is not None and _concentrated(parsed, per):
                return _Amount(units_per_dose=dose.value * VOLUME_ML.get(dose.unit, 1.0))
        if dose.unit in COUNT_UNITS:
            if parsed is None:
                return f"its dose is {dose.value:g} {dose.unit_text} but the product's strength is not known"
            if len(parsed.strengths) == 1 and parsed.strengths[0].unit in PATCH_RATE:
                strength = parsed.strengths[0]
                return _Amount(
                    rate_mcg_per_hour=strength.value * PATCH_RATE[strength.unit] * dose.value
                )
            amounts = []
            for strength in parsed.strengths:
                if strength.unit not in STRENGTH_MG:
                    return f"its strength {strength.value:g} {strength.unit} is not per unit"
                amounts.append(
                    (strength.ingredient, strength.value * STRENGTH_MG[strength.unit] * dose.value)
                )
            if drug.explicit:
                parts = tuple(IngredientDose(name, mg) for name, mg in amounts)
                return _Amount(ingredients=parts, count_units=dose.value)
            return replace(_Amount.of(amounts), count_units=dose.value)
        if dose.unit in VOLUME_ML or (dose.unit == "g" and parsed and _concentrated(parsed, "g")):
            if parsed is None:
                return f"its dose is {dose.value:g} {dose.unit_text} but the product's concentration is not known"
            unit = "ml" if dose.unit in VOLUME_ML else "g"
            volume = dose.value * VOLUME_ML.get(dose.unit, 1.0)
            amounts = []
            for strength in parsed.strengths:
                if CONCENTRATION.get(strength.unit) != unit:
                    return f"its dose is in {dose.unit_text} but its strength is {strength.value:g} {strength.unit}"
                amounts.append((strength.ingredient, strength.value * volume))
            return _Amount.of(amounts)
        if dose.unit in MASS_MG:
            mg = dose.value * MASS_MG[dose.unit]
            if parsed is not None and len(parsed.strengths) > 1:
                return "its dose is a mass, but the product has several ingredients (give units)"
            if drug.combination_units and not drug.single_product:
                return "its dose is a mass, but the product is a combination (give units)"
            return _Amount(dose_mg=mg)
        return f"its dose unit {dose.unit_text!r} is not one RegimenGuard reads"

    def _doses_per_day(
        self, dosage: dict[str, Any], reader: Reader, path: str, amount: _Amount
    ) -> float | None:
        timing = reader.obj(dosage.get("timing"), f"{path}.timing") or {}
        repeat = reader.obj(timing.get("repeat"), f"{path}.timing.repeat") or {}
        rpath = f"{path}.timing.repeat"
        frequency = reader.number(repeat.get("frequency"), f"{rpath}.frequency", positive=True)
        frequency_max = reader.number(
            repeat.get("frequencyMax"), f"{rpath}.frequencyMax", positive=True
        )
        period = reader.number(repeat.get("period"), f"{rpath}.period", positive=True)
        period_max = reader.number(repeat.get("periodMax"), f"{rpath}.periodMax", positive=True)
        unit = reader.string(repeat.get("periodUnit"), f"{rpath}.periodUnit")
        times = reader.array(repeat.get("timeOfDay"), f"{rpath}.timeOfDay")
        when = reader.array(repeat.get("when"), f"{rpath}.when")
        per_day: float | None = None
        count = max(frequency or 0, frequency_max or 0) or None
        if period is not None:
            if unit not in PERIOD_DAYS:
                reader.add(f"{rpath}.periodUnit", f"must be one of {sorted(PERIOD_DAYS)}")
                return None
            shortest = min(period, period_max) if period_max else period
            per_day = (count or 1) / (shortest * PERIOD_DAYS[unit])
        elif times or when:
            per_day = float(max(len(times), len(when), count or 0))
        elif count:
            per_day = count  # a frequency without a period: per day
        else:
            code = reader.obj(timing.get("code"), f"{path}.timing.code") or {}
            for kpath, coding in reader.objects(code.get("coding"), f"{path}.timing.code.coding"):
                value = reader.string(coding.get("code"), f"{kpath}.code")
                if value and value.upper() in self.terminology.timing_codes:
                    per_day = self.terminology.timing_codes[value.upper()]
                    break
        cap = self._max_per_day(dosage, reader, path, amount)
        if cap is not None:
            per_day = cap if per_day is None else min(per_day, cap)
        return per_day

    def _max_per_day(
        self, dosage: dict[str, Any], reader: Reader, path: str, amount: _Amount
    ) -> float | None:
        """``maxDosePerPeriod`` as administrations per day (in units or mass of this order)."""
        mpath = f"{path}.maxDosePerPeriod"
        ratio = reader.obj(dosage.get("maxDosePerPeriod"), mpath)
        if ratio is None:
            return None
        numerator = reader.obj(ratio.get("numerator"), f"{mpath}.numerator")
        denominator = reader.obj(ratio.get("denominator"), f"{mpath}.denominator")
        if numerator is None or denominator is None:
            return None
        top = _Quantity.read(numerator, reader, f"{mpath}.numerator")
        bottom = _Quantity.read(denominator, reader, f"{mpath}.denominator")
        if top is None or bottom is None or bottom.unit not in PERIOD_DAYS or not bottom.value:
            return None
        per_day = top.value / (bottom.value * PERIOD_DAYS[bottom.unit])
        if top.unit in COUNT_UNITS and amount.units_per_dose:
            return per_day / amount.units_per_dose
        if top.unit in MASS_MG and amount.dose_mg:
            return per_day * MASS_MG[top.unit] / amount.dose_mg
        if top.unit in COUNT_UNITS and not amount.units_per_dose and amount.count_units:
            return per_day / amount.count_units
        return None

    def _as_needed(self, dosage: dict[str, Any], reader: Reader, path: str) -> bool:
        if reader.obj(dosage.get("asNeededCodeableConcept"), f"{path}.asNeededCodeableConcept"):
            return True
        return bool(reader.boolean(dosage.get("asNeededBoolean"), f"{path}.asNeededBoolean"))

    # --- the rest ---------------------------------------------------------------------------

    def _planned_days(self, dispense: dict[str, Any], reader: Reader, path: str) -> int:
        quantity = reader.obj(
            dispense.get("expectedSupplyDuration"), f"{path}.expectedSupplyDuration"
        )
        if quantity is None:
            return 0
        duration = _Quantity.read(quantity, reader, f"{path}.expectedSupplyDuration")
        if duration is None:
            return 0
        if duration.unit not in DURATION_DAYS:
            reader.add(
                f"{path}.expectedSupplyDuration.code", "must be a UCUM time unit (d, wk, mo)"
            )
            return 0
        return math.ceil(duration.value * DURATION_DAYS[duration.unit])

    def _indication(self, resource: dict[str, Any], reader: Reader, path: str) -> str:
        for rpath, reason in reader.objects(resource.get("reasonCode"), f"{path}.reasonCode"):
            for kpath, coding in reader.objects(reason.get("coding"), f"{rpath}.coding"):
                code = reader.string(coding.get("code"), f"{kpath}.code")
                system = coding.get("system")
                if code and isinstance(system, str):
                    rows = self.terminology.condition_fields(system, code)
                    if any(row.patient_field == LOW_BACK_PAIN for row in rows):
                        return ""
            text = reader.string(reason.get("text"), f"{rpath}.text")
            if not text:
                displays = [
                    c.get("display") for c in reason.get("coding") or [] if isinstance(c, dict)
                ]
                text = next((d for d in displays if isinstance(d, str) and d), None)
            if text:
                return "" if text.strip().casefold() in BACK_PAIN_WORDS else text.strip()
        return ""

    def _response(self, resource: dict[str, Any], reader: Reader, path: str) -> TherapyResponse:
        for epath, extension in reader.objects(resource.get("extension"), f"{path}.extension"):
            if extension.get("url") == THERAPY_RESPONSE_URL:
                code = reader.string(extension.get("valueCode"), f"{epath}.valueCode")
                if code not in RESPONSES:
                    reader.add(f"{epath}.valueCode", f"must be one of {sorted(RESPONSES)}")
                    return TherapyResponse.UNASSESSED
                return RESPONSES[code]
        return TherapyResponse.UNASSESSED


@dataclass(frozen=True, slots=True)
class _Quantity:
    value: float
    unit: str  # casefolded UCUM code (or unit text when there is no code)
    unit_text: str

    @staticmethod
    def read(quantity: dict[str, Any], reader: Reader, path: str) -> _Quantity | None:
        value = reader.number(quantity.get("value"), f"{path}.value")
        code = reader.string(quantity.get("code"), f"{path}.code")
        unit = reader.string(quantity.get("unit"), f"{path}.unit")
        if value is None:
            if "value" not in quantity:
                reader.add(f"{path}.value", "is required")
            return None
        shown = unit or code or ""
        return _Quantity(value, (code or unit or "").strip().casefold(), shown)


@dataclass(frozen=True, slots=True)
class _Amount:
    dose_mg: float = 0.0
    ingredients: tuple[IngredientDose, ...] = ()
    units_per_dose: float = 0.0
    rate_mcg_per_hour: float = 0.0
    count_units: float = 0.0  # tablets per administration of a product read from its name

    @staticmethod
    def of(amounts: list[tuple[str, float]]) -> _Amount:
        if len(amounts) == 1:
            return _Amount(dose_mg=amounts[0][1])
        return _Amount(ingredients=tuple(IngredientDose(name, mg) for name, mg in amounts))


def _concentrated(parsed: RxNormName, unit: str) -> bool:
    return any(CONCENTRATION.get(s.unit) == unit for s in parsed.strengths)


def _with(order: MedicationOrder, **changes: Any) -> MedicationOrder:
    return replace(order, **changes)
