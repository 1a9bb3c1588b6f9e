"""Table rows to ``CheckRegimenRequest`` messages, one patient at a time.

A cell that cannot be read (an unknown enum name, text in a number column) is a ``RowError``
naming the column; everything that can be read goes on to the same validation and check as a
``CheckRegimenBatch`` item (``regimenguard.review.check``), which names any further bad field.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

from google.protobuf.descriptor import FieldDescriptor

from regimenguard.review.schema import (
    MEDICATIONS,
    ORDER_FIELDS,
    PATIENT_FIELDS,
    PATIENTS,
    STOPPED_ON,
)
from regimenguard.v1 import regimen_checker_pb2 as pb

Row = Mapping[str, str | None]
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
_INT32_MAX = 2**31 - 1


@dataclass(frozen=True, slots=True)
class RowError:
    """One thing wrong with one input row (or with a patient as a whole)."""

    source: str  # medications or patients
    field: str
    reason: str
    drug: str = ""


class _Cell(ValueError):
    pass


def _text(value: str | None) -> str:
    return "" if value is None else value.strip()


def _number(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise _Cell(f"is not a number (got {value[:40]!r})") from None
    if not math.isfinite(number):
        raise _Cell("must be a finite number")
    return number


def _integer(value: str) -> int:
    number = _number(value)
    if number != int(number) or abs(number) > _INT32_MAX:
        raise _Cell(f"is not a whole number (got {value[:40]!r})")
    return int(number)


def _boolean(value: str) -> bool:
    folded = value.casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise _Cell(f"is not true or false (got {value[:40]!r})")


def _enum(field: FieldDescriptor, value: str) -> int:
    member = field.enum_type.values_by_name.get(value)
    if member is None:
        raise _Cell(
            f"unknown enum value {value[:60]!r} (expected one of "
            f"{', '.join(field.enum_type.values_by_name)})"
        )
    return member.number


_PARSERS = {
    FieldDescriptor.TYPE_DOUBLE: _number,
    FieldDescriptor.TYPE_FLOAT: _number,
    FieldDescriptor.TYPE_INT32: _integer,
    FieldDescriptor.TYPE_INT64: _integer,
    FieldDescriptor.TYPE_BOOL: _boolean,
}


def _fill(message, fields: Mapping[str, FieldDescriptor], row: Row, errors: list, source: str):  # type: ignore[no-untyped-def]
    """Set every non-empty cell of ``row`` on ``message``; unreadable cells go to ``errors``."""
    drug = _text(row.get("drug")) if source == MEDICATIONS else ""
    for name, field in fields.items():
        raw = row.get(name)
        value = raw if field.type == FieldDescriptor.TYPE_STRING else _text(raw)
        if not value:
            continue
        try:
            if field.type == FieldDescriptor.TYPE_STRING:
                parsed: object = value
            elif field.type == FieldDescriptor.TYPE_ENUM:
                parsed = _enum(field, value)
            else:
                parsed = _PARSERS[field.type](value)
            setattr(message, name, parsed)
        except _Cell as cell:
            errors.append(RowError(source, name, str(cell), drug))
        except (TypeError, ValueError):  # out of the proto type's range
            errors.append(RowError(source, name, f"is out of range (got {value[:40]!r})", drug))
    return message


def _date(value: str | None) -> dt.date | None:
    text = _text(value)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10]) if len(text) in (10, 19) else None
    except ValueError:
        return None


def medication_order(row: Row, as_of: dt.date, errors: list[RowError]) -> pb.MedicationOrder:
    """The order a medications row describes; a row stopped by ``as_of`` is a STOP order.

    A warehouse row carries the day a drug was stopped rather than an action: stopped on or
    before the review date, the order is a STOP order that keeps its ``stopped_on`` (a drug
    stopped within its washout still counts for those interactions); stopped after it, the drug
    is still taken on the review date, so the order stays active and the future date is dropped.
    """
    order = _fill(pb.MedicationOrder(), ORDER_FIELDS, row, errors, MEDICATIONS)
    text = _text(row.get(STOPPED_ON))
    if text:
        stopped = _date(text)
        if stopped is None:
            if STOPPED_ON not in ORDER_FIELDS:
                errors.append(
                    RowError(MEDICATIONS, STOPPED_ON, "must be a date YYYY-MM-DD", order.drug)
                )
        elif stopped <= as_of:
            order.action = pb.ORDER_ACTION_STOP
        elif order.action != pb.ORDER_ACTION_STOP:
            order.ClearField(STOPPED_ON)
    return order


def patient_message(row: Row, errors: list[RowError]) -> pb.Patient:
    return _fill(pb.Patient(), PATIENT_FIELDS, row, errors, PATIENTS)


@dataclass(frozen=True, slots=True)
class PatientRegimen:
    """One patient's request, its orders in canonical order, and what could not be read."""

    request: pb.CheckRegimenRequest
    errors: tuple[RowError, ...]


def regimen_request(
    patient_id: str, patient_rows: list[Row], medication_rows: list[Row], as_of: dt.date
) -> PatientRegimen:
    """The request for one patient's rows (patient rows first, then the medications rows).

    Orders are sorted by their content, so the answer never depends on how the input was
    split into files or partitions: both engines, and any rerun, see the same request.
    """
    errors: list[RowError] = []
    if not patient_rows:
        errors.append(
            RowError(
                MEDICATIONS,
                "patient_id",
                f"no row in patients for this patient_id ({len(medication_rows)} medication "
                "rows not checked)",
            )
        )
    elif len(patient_rows) > 1:
        errors.append(
            RowError(PATIENTS, "patient_id", f"{len(patient_rows)} rows in patients, expected 1")
        )
    patient = patient_message(patient_rows[0], errors) if patient_rows else pb.Patient()
    orders = [medication_order(row, as_of, errors) for row in medication_rows]
    orders.sort(key=lambda order: order.SerializeToString(deterministic=True))
    request = pb.CheckRegimenRequest(
        request_id=patient_id, as_of=as_of.isoformat(), patient=patient, medications=orders
    )
    return PatientRegimen(request, tuple(errors))
