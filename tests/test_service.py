"""The service layer every front door shares: answers, domain validation with paths, observers."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import (
    Acknowledgement,
    CheckResult,
    IngredientDose,
    MedicationOrder,
    OrderAction,
    Patient,
    RegimenRequest,
    Verdict,
)
from regimenguard.regimen.observers import CallRecord, CheckRecord
from regimenguard.regimen.service import CheckFailed, RegimenService
from regimenguard.regimen.settings import SettingsError
from regimenguard.regimen.validation import FieldViolation, RequestInvalid, validate
from tests.conftest import AS_OF
from tests.rule_helpers import order

REPO = Path(__file__).resolve().parents[1]


def regimen(*orders: MedicationOrder, request_id: str = "svc", **fields) -> RegimenRequest:  # type: ignore[no-untyped-def]
    return RegimenRequest(request_id=request_id, as_of=AS_OF, medications=orders, **fields)


# Guideline-endorsed (ACCEPT, nothing above INFO), a WARNING (duloxetine + tramadol: two
# serotonergic agents) and one that cannot be checked (a negative dose).
ENDORSED = regimen(order("naproxen", 500, 2), request_id="ok")
SEROTONERGIC = regimen(order("duloxetine", 60, 1), order("tramadol", 50, 4), request_id="warn")
NEGATIVE = regimen(order("naproxen", 500, 2), order("ibuprofen", -400, 3), request_id="neg")


class Recorder:
    """An observer that keeps what it is told."""

    def __init__(self) -> None:
        self.checks: list[tuple[CallRecord, CheckRecord]] = []
        self.calls: list[CallRecord] = []

    def checked(self, call: CallRecord, check: CheckRecord) -> None:
        self.checks.append((call, check))

    def call_ended(self, call: CallRecord) -> None:
        self.calls.append(call)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def service(knowledge: Knowledge, checker: RegimenChecker, recorder: Recorder) -> RegimenService:
    return RegimenService(knowledge, [recorder], checker=checker)


# --- answers ----------------------------------------------------------------------------------


def test_check_answers_as_the_engine_does(service: RegimenService, checker: RegimenChecker) -> None:
    result = service.check(SEROTONERGIC)
    assert result == checker.check(SEROTONERGIC)
    assert result.verdict is Verdict.REVIEW
    assert "SEROTONERGIC_COMBINATION" in {f.rule_id for f in result.findings}
    endorsed = service.check(ENDORSED)
    assert endorsed.verdict is Verdict.ACCEPT
    assert all(f.severity.name == "INFO" for f in endorsed.findings)


def test_check_refuses_invalid_values_naming_each_path(service: RegimenService) -> None:
    with pytest.raises(RequestInvalid) as raised:
        service.check(NEGATIVE)
    (violation,) = raised.value.violations
    assert violation.path == ("medications", 1, "dose_mg")
    assert violation.proto_path() == "medications[1].dose_mg"
    assert violation.fhir_path() == "medications[1].doseMg"
    assert violation.description == "must not be negative"
    assert raised.value.reason == "INVALID_REGIMEN"


def test_texts_are_stripped_after_validation(service: RegimenService) -> None:
    result = service.check(regimen(order("  naproxen ", 500, 2), request_id=" rx-9 "))
    assert result.request_id == "rx-9"
    assert result.summary.orders[0].resolved
    # a control character at either end is refused, not stripped away
    with pytest.raises(RequestInvalid) as raised:
        service.check(regimen(order("naproxen\n", 500, 2)))
    assert [v.proto_path() for v in raised.value.violations] == ["medications[0].drug"]


def test_check_many_one_answer_per_item_in_order(service: RegimenService) -> None:
    undecodable = RequestInvalid([FieldViolation(("as_of",), "must be a date")], request_id="x")
    answers = list(service.check_many([ENDORSED, NEGATIVE, undecodable, SEROTONERGIC]))
    assert [type(answer) for answer in answers] == [
        CheckResult,
        RequestInvalid,
        RequestInvalid,
        CheckResult,
    ]
    first, second, third, fourth = answers
    assert isinstance(first, CheckResult) and first.request_id == "ok"
    assert isinstance(second, RequestInvalid)
    assert [v.proto_path() for v in second.violations] == ["medications[1].dose_mg"]
    assert third is undecodable
    assert isinstance(fourth, CheckResult) and fourth.verdict is Verdict.REVIEW


def test_check_many_is_lazy(service: RegimenService) -> None:
    taken: list[str] = []

    def requests() -> Iterator[RegimenRequest]:
        for request in (ENDORSED, SEROTONERGIC):
            taken.append(request.request_id)
            yield request

    answers = service.check_many(requests())
    next(answers)
    assert taken == ["ok"]  # the second is not read before its answer is asked for
    answers.close()


class FailsOn(RegimenChecker):
    """A checker with a bug on one request id."""

    def check(self, request: RegimenRequest) -> CheckResult:
        if request.request_id == "boom":
            raise ZeroDivisionError("a bug")
        return super().check(request)


def test_a_failing_item_costs_only_itself(knowledge: Knowledge, recorder: Recorder) -> None:
    service = RegimenService(knowledge, [recorder], checker=FailsOn(knowledge))
    boom = dataclasses.replace(ENDORSED, request_id="boom")
    answers = list(service.check_many([ENDORSED, boom, SEROTONERGIC]))
    assert isinstance(answers[1], CheckFailed) and answers[1].request_id == "boom"
    assert isinstance(answers[0], CheckResult) and isinstance(answers[2], CheckResult)
    (call,) = recorder.calls
    assert (call.items, call.errors) == (3, 1)
    assert [check.code for _, check in recorder.checks] == ["OK", "INTERNAL", "OK"]
    with pytest.raises(ZeroDivisionError):
        service.check(boom)
    assert recorder.calls[-1].code == "INTERNAL"


def test_drugs_and_rules(service: RegimenService, knowledge: Knowledge) -> None:
    names = [entry.name for entry in service.drugs("nsaid")]
    assert "naproxen" in names and "ibuprofen" in names and "duloxetine" not in names
    assert [entry.name for entry in service.drugs("ZOLOFT")] == ["sertraline"]
    assert len(service.drugs("")) == len(knowledge.data.ingredients)
    assert [spec.rule_id for spec in service.rules()] == [s.rule_id for s in knowledge.rules]


def test_from_config(tmp_path: Path) -> None:
    service = RegimenService.from_config(None)
    assert service.check(ENDORSED).verdict is Verdict.ACCEPT
    site = tmp_path / "site.toml"
    site.write_text("[opioids]\nmme_warning_per_day = 40\n")
    assert RegimenService.from_config(site).settings.mme_warning_per_day == 40
    site.write_text("[opioids]\nmme_warnings = 40\n")
    with pytest.raises(SettingsError, match=r"opioids\.mme_warnings"):
        RegimenService.from_config(site)


# --- domain validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "path"),
    [
        (order("naproxen", math.nan, 2), ("medications", 0, "dose_mg")),
        (order("naproxen", 500, 0), ("medications", 0, "doses_per_day")),
        (order("naproxen", 500, math.inf), ("medications", 0, "doses_per_day")),
        (order("naproxen", 500, 2, planned_days=-1), ("medications", 0, "planned_days")),
        (order("n" * 201, 500, 2), ("medications", 0, "drug")),
        (
            MedicationOrder(
                drug="", ingredients=(IngredientDose("acetaminophen", -325),), doses_per_day=2
            ),
            ("medications", 0, "ingredients", 0, "dose_mg"),
        ),
        (order("Norco 10/325", 10, 4), ("medications", 0, "dose_mg")),
    ],
)
def test_validate_names_the_path(
    knowledge: Knowledge, bad: MedicationOrder, path: tuple[str | int, ...]
) -> None:
    violations = validate(regimen(bad), knowledge.settings, knowledge)
    assert [v.path for v in violations] == [path]


def test_validate_patient_acknowledgements_and_counts(knowledge: Knowledge) -> None:
    request = regimen(
        order("naproxen", 500, 2),
        patient=Patient(age_years=-1),
        acknowledgements=(Acknowledgement("NO_SUCH_RULE", ""),),
    )
    paths = [v.proto_path() for v in validate(request, knowledge.settings, knowledge)]
    assert paths == [
        "patient.age_years",
        "acknowledgements[0].rule_id",
        "acknowledgements[0].reason",
    ]
    many = regimen(*[order("naproxen", 500, 2)] * 101)
    (too_many,) = validate(many, knowledge.settings)
    assert too_many.path == ("medications",) and "100" in too_many.description
    assert validate(SEROTONERGIC, knowledge.settings, knowledge) == []


def test_the_scheduled_order_rule_spares_stop_orders(knowledge: Knowledge) -> None:
    stop = order("ibuprofen", 0, 0, action=OrderAction.STOP)
    assert validate(regimen(stop, order("naproxen", 500, 2)), knowledge.settings, knowledge) == []


# --- observers --------------------------------------------------------------------------------


def test_observers_see_each_check_and_each_call_once(
    service: RegimenService, recorder: Recorder
) -> None:
    service.check(SEROTONERGIC)
    with pytest.raises(RequestInvalid):
        service.check(NEGATIVE)
    list(service.check_many([ENDORSED, NEGATIVE]))
    service.drugs("zoloft")
    assert [call.method for call in recorder.calls] == ["check", "check", "check_many", "drugs"]
    single, refused, batch, drugs = recorder.calls
    assert (single.code, single.items, single.medications, single.verdict) == ("OK", 1, 2, "REVIEW")
    assert single.findings == len(service.check(SEROTONERGIC).findings)
    assert (refused.code, refused.items, refused.medications, refused.errors) == (
        "INVALID_ARGUMENT",
        1,
        2,
        0,
    )
    assert (batch.code, batch.items, batch.medications, batch.errors) == ("OK", 2, 3, 1)
    assert batch.verdict is None and batch.request_id == "ok"
    assert drugs.query == "zoloft"
    checks = [check for _, check in recorder.checks][:4]
    assert [(c.request_id, c.code, c.verdict) for c in checks] == [
        ("warn", "OK", "REVIEW"),
        ("neg", "INVALID_ARGUMENT", None),
        ("ok", "OK", "ACCEPT"),
        ("neg", "INVALID_ARGUMENT", None),
    ]
    assert ("SEROTONERGIC_COMBINATION", "WARNING") in checks[0].findings
    assert checks[1].drugs == ("naproxen", "ibuprofen")  # PHI, for an observer allowed it
    assert all(call.seconds >= 0 and call.ended for call in recorder.calls)


def test_a_door_ends_its_own_calls(service: RegimenService, recorder: Recorder) -> None:
    call = service.start_call("/x.Y/CheckRegimenBatch", "grpc")
    list(service.check_many([ENDORSED, SEROTONERGIC], call=call))
    assert recorder.calls == []  # the door's call is still open
    service.end_call(call, "CANCELLED")
    service.end_call(call, "OK")  # once only
    assert [(c.door, c.code, c.items) for c in recorder.calls] == [("grpc", "CANCELLED", 2)]


def test_a_failing_observer_does_not_cost_the_answer(knowledge: Knowledge) -> None:
    class Broken:
        def checked(self, call: CallRecord, check: CheckRecord) -> None:
            raise RuntimeError("observer bug")

        def call_ended(self, call: CallRecord) -> None:
            raise RuntimeError("observer bug")

    assert RegimenService(knowledge, [Broken()]).check(ENDORSED).verdict is Verdict.ACCEPT


# --- purity -----------------------------------------------------------------------------------


def test_domain_packages_import_no_grpc_or_protobuf() -> None:
    """interactions/, dosing/ and regimen/ (every module) load without grpc or protobuf."""
    script = """
import importlib, pkgutil, sys
names = []
for package in ("interactions", "dosing", "regimen"):
    module = importlib.import_module(package)
    names.append(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
        names.append(info.name)
leaked = sorted(m for m in sys.modules if m == "grpc" or m.startswith(("grpc.", "google.protobuf")))
print(len(names), "modules;", "leaked:", leaked)
sys.exit(1 if leaked or len(names) < 20 else 0)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- the CLI's local door ---------------------------------------------------------------------


def test_local_backend_is_the_service_layer_in_process() -> None:
    from regimenguard.client.backend import CallFailed, LocalBackend, item_error
    from regimenguard.v1 import regimen_checker_pb2 as pb

    def message(request_id: str, dose: float) -> pb.CheckRegimenRequest:
        return pb.CheckRegimenRequest(
            request_id=request_id,
            as_of="2026-11-23",
            medications=[pb.MedicationOrder(drug="naproxen", dose_mg=dose, doses_per_day=2)],
        )

    backend = LocalBackend()
    assert backend.check(message("a", 500)).verdict == pb.VERDICT_ACCEPT
    with pytest.raises(CallFailed) as raised:
        backend.check(message("b", -500))
    assert raised.value.code == "INVALID_ARGUMENT"
    assert raised.value.violations == [("medications[0].dose_mg", "must not be negative")]
    answers = backend.check_batch([message("c", 500), message("d", math.nan), message("e", 500)])
    assert [answer.request_id for answer in answers] == ["c", "d", "e"]
    failed = item_error(answers[1])
    assert failed is not None and failed.violations == [
        ("medications[0].dose_mg", "must be a finite number")
    ]
    assert item_error(answers[0]) is None and answers[2].verdict == pb.VERDICT_ACCEPT
    assert [drug.name for drug in backend.list_drugs("zoloft").drugs] == ["sertraline"]
    assert len(backend.list_rules().rules) > 20
