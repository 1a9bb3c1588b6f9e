"""The model's assemblers: a domain object built from all its fields' values, positionally,
without its ``__init__`` (regimenguard.regimen.model._assembler). What they make must be the
very thing the class's constructor makes: same type, equal, same hash and repr, frozen."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import pickle

import pytest

from regimenguard.regimen.model import (
    IngredientDose,
    MedicationOrder,
    OrderAction,
    Patient,
    RegimenRequest,
    ResolvedIngredient,
    ResolvedOrder,
    Route,
    TherapyResponse,
    _assembler,
    assemble_ingredient,
    assemble_order,
    assemble_patient,
    assemble_request,
    assemble_resolved_order,
)

ORDER = (
    "Norco 10/325",
    0.0,
    (IngredientDose("hydrocodone", 10.0),),
    0.0,
    4.0,
    True,
    Route.ORAL,
    False,
    OrderAction.START,
    dt.date(2026, 11, 1),
    0.0,
    7,
    TherapyResponse.BENEFIT,
    "",
    1.0,
    None,
)
INGREDIENT = ("oxycodone", "7804", 5.0, 30.0, frozenset({"drug:oxycodone"}), ("opioid",), "", 1.0)
PATIENT = (72, True, False, False, False, False, True, False, False, 16, False, False, False)
RESOLVED = (2, MedicationOrder(*ORDER), "Norco", (ResolvedIngredient(*INGREDIENT),), (), None)
REQUEST = ("r-1", dt.date(2026, 11, 23), Patient(*PATIENT), (MedicationOrder(*ORDER),), (), ())


@pytest.mark.parametrize(
    ("assemble", "cls", "values"),
    [
        (assemble_order, MedicationOrder, ORDER),
        (assemble_ingredient, ResolvedIngredient, INGREDIENT),
        (assemble_patient, Patient, PATIENT),
        (assemble_request, RegimenRequest, REQUEST),
        (assemble_resolved_order, ResolvedOrder, RESOLVED),
    ],
    ids=["order", "ingredient", "patient", "request", "resolved-order"],
)
def test_an_assembled_object_is_the_one_its_class_builds(assemble, cls, values) -> None:  # type: ignore[no-untyped-def]
    made, built = assemble(*values), cls(*values)
    assert type(made) is cls
    assert made == built and hash(made) == hash(built) and repr(made) == repr(built)
    assert tuple(getattr(made, field.name) for field in dataclasses.fields(cls)) == values
    name = dataclasses.fields(cls)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, name, "changed")
    assert dataclasses.replace(made) == built
    assert pickle.loads(pickle.dumps(made)) == built and copy.copy(made) == built


def test_an_assembled_order_keeps_its_behaviour() -> None:
    order = assemble_order(*ORDER)
    assert order.is_active and order.is_back_pain_therapy
    stopped = dataclasses.replace(order, action=OrderAction.STOP, indication="anxiety")
    assert not stopped.is_active and not stopped.is_back_pain_therapy
    assert {order: 1}[MedicationOrder(*ORDER)] == 1  # a key like the constructor's


def test_every_field_must_be_given() -> None:
    with pytest.raises(TypeError):
        assemble_order(*ORDER[:-1])


def test_only_a_plain_slots_dataclass_can_be_assembled() -> None:
    @dataclasses.dataclass(frozen=True)
    class WithoutSlots:
        value: int

    with pytest.raises(TypeError, match="plain slots dataclass"):
        _assembler(WithoutSlots)
