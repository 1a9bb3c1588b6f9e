"""Site configuration: loading, validation, and that every key changes what the checker does.

Each test writes a TOML file to tmp_path, loads it with regimenguard.regimen.settings.load_settings, builds
the checker from it and checks through the real gRPC API (or the CLI), so a key counts as
working only when its effect reaches an answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from grpc_status import rpc_status

from regimenguard.client.cli import EXIT_ACCEPT, EXIT_REJECT, EXIT_REVIEW, EXIT_STARTUP, main
from regimenguard.interactions.datafile import DataError
from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.knowledge import load_knowledge
from regimenguard.regimen.settings import Settings, SettingsError, load_bounds, load_settings
from regimenguard.server.app import ServerOptions, create_server
from regimenguard.server.errors import field_violations
from regimenguard.server.main import StartupError, load_checker
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc

AS_OF = "2026-11-23"
TIMEOUT = 10.0
EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "site.example.toml"
SEVERITY = {
    pb.SEVERITY_INFO: "INFO",
    pb.SEVERITY_WARNING: "WARNING",
    pb.SEVERITY_CRITICAL: "CRITICAL",
}


# --- helpers ----------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "site.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def checker_for(path: Path | None) -> RegimenChecker:
    return RegimenChecker(load_knowledge(load_settings(path)))


@contextmanager
def serving(checker: RegimenChecker) -> Iterator[pb_grpc.RegimenCheckerServiceStub]:
    running = create_server(checker, ServerOptions(host="127.0.0.1", port=0, threads=4))
    running.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
        yield pb_grpc.RegimenCheckerServiceStub(channel)
    finally:
        channel.close()
        running.stop(grace=0.5)


def request(*meds: dict[str, Any], patient: dict[str, Any] | None = None, **fields: Any):
    body: dict[str, Any] = {"asOf": AS_OF, "medications": list(meds), **fields}
    if patient:
        body["patient"] = patient
    return json_format.ParseDict(body, pb.CheckRegimenRequest())


def med(drug: str, dose: float, per_day: float, **fields: Any) -> dict[str, Any]:
    return {"drug": drug, "doseMg": dose, "dosesPerDay": per_day, **fields}


Api = Callable[[Path | None, pb.CheckRegimenRequest], pb.CheckRegimenResponse]


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    """``api(config_path, request)``: CheckRegimen on a server built from that file.

    One server per configuration file (path and content), kept for the module.
    """
    stubs: dict[tuple[str, bytes] | None, pb_grpc.RegimenCheckerServiceStub] = {}
    with ExitStack() as stack:

        def call(path: Path | None, message: pb.CheckRegimenRequest) -> pb.CheckRegimenResponse:
            key = None if path is None else (str(path), path.read_bytes())
            if key not in stubs:
                stubs[key] = stack.enter_context(serving(checker_for(path)))
            return stubs[key].CheckRegimen(message, timeout=TIMEOUT)

        yield call


def rules(response: pb.CheckRegimenResponse) -> dict[str, list[str]]:
    """rule id -> severities of its findings."""
    found: dict[str, list[str]] = {}
    for finding in response.findings:
        found.setdefault(finding.rule_id, []).append(SEVERITY[finding.severity])
    return found


def verdict(response: pb.CheckRegimenResponse) -> str:
    return pb.Verdict.Name(response.verdict).removeprefix("VERDICT_")


def violations(error: grpc.RpcError) -> list[str]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, "INVALID_ARGUMENT must carry a google.rpc.Status"
    return [violation.field for violation in field_violations(status)]


# Regimens whose answers the settings move.
APAP_3250 = request(med("acetaminophen", 650, 5, asNeeded=True), patient={"ageYears": 45})
APAP_2000_OLDER = request(med("acetaminophen", 500, 4), patient={"ageYears": 70})
TRAMADOL_40_MME = request(
    med("tramadol", 50, 4, asNeeded=True, startedOn="2026-06-01"), patient={"ageYears": 45}
)
OXYCODONE_60_MME = request(
    med("oxycodone", 10, 4, startedOn="2026-06-01"),
    patient={"ageYears": 45, "refractorySymptoms": True},
)
NORCO_50_MME = request(
    {"drug": "Norco 10/325", "dosesPerDay": 5, "startedOn": "2026-06-01"},
    patient={"ageYears": 45, "refractorySymptoms": True},
)
OXYCODONE_90_MME = request(
    med("oxycodone", 15, 4, startedOn="2026-06-01"),
    patient={"ageYears": 45, "refractorySymptoms": True},
)
NAPROXEN_OLDER = request(med("naproxen", 500, 2), patient={"ageYears": 70})
DULOXETINE_PRN = request(
    med("duloxetine", 30, 1, asNeeded=True, startedOn="2026-10-01"), patient={"ageYears": 45}
)


def relaxant(drug: str, started_on: str, dose: float = 5) -> pb.CheckRegimenRequest:
    return request(
        med(drug, dose, 3, asNeeded=True, startedOn=started_on), patient={"ageYears": 45}
    )


# --- defaults and the example file ------------------------------------------------------------


def test_defaults_when_no_file() -> None:
    settings = load_settings(None)
    assert settings == Settings()
    assert settings.acetaminophen.standard_mg_per_day == 3000
    assert settings.acetaminophen.reduced_mg_per_day == 2000
    assert (settings.mme_warning_per_day, settings.mme_critical_per_day) == (50, 90)
    assert settings.muscle_relaxant_max_days is None
    assert dict(settings.muscle_relaxant_max_days_by_drug) == {}
    assert settings.max_medications_per_request == 100
    assert settings.max_requests_per_batch == 1000
    assert settings.minimum_severity.name == "INFO"
    assert (settings.name, settings.identity) == ("default", "default")


def test_default_checker_answers_with_catalogue_limits(api: Api) -> None:
    response = api(None, APAP_3250)
    assert rules(response)["ACETAMINOPHEN_DAILY_MAX"] == ["CRITICAL"]
    assert response.summary.acetaminophen_limit_mg_per_day == 3000
    assert response.knowledge_base_version.endswith(".site.default.default")


def test_example_file_is_valid_and_keeps_the_catalogue_defaults(api: Api) -> None:
    settings = load_settings(EXAMPLE)
    defaults = Settings()
    assert settings.name == "example-pharmacy"
    assert settings.acetaminophen == defaults.acetaminophen
    assert (settings.mme_warning_per_day, settings.mme_critical_per_day) == (50, 90)
    assert settings.muscle_relaxant_max_days == 28
    assert dict(settings.muscle_relaxant_max_days_by_drug) == {"carisoprodol": 21}
    assert settings.max_medications_per_request == defaults.max_medications_per_request
    assert settings.max_requests_per_batch == defaults.max_requests_per_batch
    assert settings.minimum_severity == defaults.minimum_severity
    # Same clinical answers as with no file.
    for message in (APAP_3250, relaxant("cyclobenzaprine", "2026-10-25"), NAPROXEN_OLDER):
        with_file, without = api(EXAMPLE, message), api(None, message)
        assert list(with_file.findings) == list(without.findings)
        assert with_file.verdict == without.verdict


def test_empty_file_gives_defaults_under_its_own_identity(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing configured\n", "empty-site.toml")
    settings = load_settings(path)
    assert settings.acetaminophen == Settings().acetaminophen
    assert settings.name == "empty-site"
    assert settings.identity == hashlib.sha256(path.read_bytes()).hexdigest()[:12]


# --- every key changes behaviour --------------------------------------------------------------


def test_acetaminophen_standard_limit_cannot_be_raised(tmp_path: Path) -> None:
    """The FDA label allows 4,000 mg/day, the guideline 3,000: the lower binds, and a site
    may only lower it (issue 11, point 9)."""
    for value in (4000, 3000.5):
        path = write(tmp_path, f"[acetaminophen]\nstandard_limit_mg_per_day = {value}\n")
        with pytest.raises(SettingsError) as raised:
            load_settings(path)
        message = str(raised.value)
        assert f"acetaminophen.standard_limit_mg_per_day = {value:g} is above 3000" in message
        assert "Guideline: Nonopioid analgesics" in message and str(path) in message
    equal = write(tmp_path, "[acetaminophen]\nstandard_limit_mg_per_day = 3000\n")
    assert load_settings(equal).acetaminophen.standard_mg_per_day == 3000


def test_acetaminophen_reduced_limit_cannot_be_raised(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[acetaminophen]\nstandard_limit_mg_per_day = 3000\nreduced_limit_mg_per_day = 2500\n",
    )
    with pytest.raises(SettingsError, match=r"reduced_limit_mg_per_day = 2500 is above 2000"):
        load_settings(path)


def test_acetaminophen_standard_limit_lowered(api: Api, tmp_path: Path) -> None:
    path = write(tmp_path, "[acetaminophen]\nstandard_limit_mg_per_day = 2500\n")
    response = api(path, request(med("acetaminophen", 650, 4), patient={"ageYears": 45}))
    assert rules(response)["ACETAMINOPHEN_DAILY_MAX"] == ["CRITICAL"]
    assert "2,500" in response.findings[0].message


def test_acetaminophen_reduced_limit(api: Api, tmp_path: Path) -> None:
    assert "ACETAMINOPHEN_DAILY_MAX" not in rules(api(None, APAP_2000_OLDER))
    path = write(tmp_path, "[acetaminophen]\nreduced_limit_mg_per_day = 1500\n")
    response = api(path, APAP_2000_OLDER)
    assert rules(response)["ACETAMINOPHEN_DAILY_MAX"] == ["CRITICAL"]
    assert response.summary.acetaminophen_limit_mg_per_day == 1500
    hepatic = api(
        path,
        request(med("acetaminophen", 500, 4), patient={"ageYears": 40, "hepaticImpairment": True}),
    )
    assert rules(hepatic)["ACETAMINOPHEN_DAILY_MAX"] == ["CRITICAL"]
    # Adults without liver risk keep the standard limit.
    adult = api(path, request(med("acetaminophen", 1000, 3), patient={"ageYears": 40}))
    assert "ACETAMINOPHEN_DAILY_MAX" not in rules(adult)


def test_mme_thresholds_lowered(api: Api, tmp_path: Path) -> None:
    assert "OPIOID_DAILY_MME" not in rules(api(None, TRAMADOL_40_MME))
    path = write(tmp_path, "[opioids]\nmme_warning_per_day = 40\nmme_critical_per_day = 60\n")
    assert rules(api(path, TRAMADOL_40_MME))["OPIOID_DAILY_MME"] == ["WARNING"]
    response = api(path, OXYCODONE_60_MME)
    assert rules(response)["OPIOID_DAILY_MME"] == ["CRITICAL"]
    assert verdict(response) == "REJECT"


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        (
            "[opioids]\nmme_warning_per_day = 60\nmme_critical_per_day = 120\n",
            "opioids.mme_warning_per_day = 60 is above 50",
        ),
        (
            "[opioids]\nmme_critical_per_day = 120\n",
            "opioids.mme_critical_per_day = 120 is above 90",
        ),
    ],
)
def test_mme_thresholds_cannot_be_raised(tmp_path: Path, text: str, refusal: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(write(tmp_path, text))
    assert refusal in str(raised.value) and "CDC 2022" in str(raised.value)


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("[limits]\nmax_medications_per_request = 101\n", "max_medications_per_request = 101"),
        ("[limits]\nmax_requests_per_batch = 5000\n", "max_requests_per_batch = 5000"),
        ("[limits]\nmax_text_length = 201\n", "max_text_length = 201 is above 200"),
    ],
)
def test_request_and_batch_sizes_cannot_be_raised(tmp_path: Path, text: str, refusal: str) -> None:
    with pytest.raises(SettingsError, match=refusal):
        load_settings(write(tmp_path, text))


def test_the_defaults_are_within_the_bounds() -> None:
    """Every bound names a key and a source, and the catalogue's defaults respect them."""
    defaults = Settings()
    values = {
        "acetaminophen.standard_limit_mg_per_day": defaults.acetaminophen.standard_mg_per_day,
        "acetaminophen.reduced_limit_mg_per_day": defaults.acetaminophen.reduced_mg_per_day,
        "opioids.mme_warning_per_day": defaults.mme_warning_per_day,
        "opioids.mme_critical_per_day": defaults.mme_critical_per_day,
        "limits.max_medications_per_request": defaults.max_medications_per_request,
        "limits.max_requests_per_batch": defaults.max_requests_per_batch,
        "limits.max_text_length": defaults.max_text_length,
    }
    bounds = load_bounds()
    assert set(bounds) == set(values)
    for key, bound in bounds.items():
        assert values[key] <= bound.ceiling and bound.source, key
    # The example configuration shows the defaults: it must load as it is.
    assert load_checker(EXAMPLE).knowledge.settings.mme_critical_per_day == 90


def test_muscle_relaxant_max_days_tightened(api: Api, tmp_path: Path) -> None:
    twenty_days = relaxant("cyclobenzaprine", "2026-11-03")
    assert "MUSCLE_RELAXANT_DURATION" not in rules(api(None, twenty_days))
    path = write(tmp_path, "[muscle_relaxants]\nmax_days = 14\n")
    response = api(path, twenty_days)
    assert rules(response)["MUSCLE_RELAXANT_DURATION"] == ["WARNING"]
    assert "14" in response.findings[0].message
    assert "MUSCLE_RELAXANT_DURATION" not in rules(
        api(path, relaxant("tizanidine", "2026-11-09", 2))
    )
    planned = request(
        {
            "drug": "tizanidine",
            "doseMg": 2,
            "dosesPerDay": 3,
            "action": "ORDER_ACTION_START",
            "plannedDays": 15,
        },
        patient={"ageYears": 45},
    )
    assert rules(api(path, planned))["MUSCLE_RELAXANT_DURATION"] == ["WARNING"]


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("[muscle_relaxants]\nmax_days = 42\n", "muscle_relaxants.max_days = 42 is above 28 days"),
        (
            "[muscle_relaxants]\nmax_days_by_drug = { tizanidine = 60 }\n",
            "muscle_relaxants.max_days_by_drug.tizanidine = 60 is above 28 days",
        ),
        (
            "[muscle_relaxants]\nmax_days_by_drug = { Soma = 25 }\n",
            "muscle_relaxants.max_days_by_drug.soma = 25 is above 21 days",
        ),
    ],
)
def test_muscle_relaxant_courses_cannot_be_lengthened(
    tmp_path: Path, text: str, refusal: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(StartupError) as raised:
        load_checker(path)
    message = str(raised.value)
    assert refusal in message and str(path) in message and "\n" not in message


def test_muscle_relaxant_max_days_tightened_binds_carisoprodol_too(
    api: Api, tmp_path: Path
) -> None:
    path = write(tmp_path, "[muscle_relaxants]\nmax_days = 14\n")
    eighteen_days = request(
        med("carisoprodol", 250, 3, startedOn="2026-11-05"), patient={"ageYears": 45}
    )
    assert "MUSCLE_RELAXANT_DURATION" in rules(api(path, eighteen_days))


def test_muscle_relaxant_max_days_by_drug(api: Api, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[muscle_relaxants]\nmax_days_by_drug = { tizanidine = 14, carisoprodol = 14 }\n",
    )
    twenty_days = "2026-11-03"
    assert "MUSCLE_RELAXANT_DURATION" not in rules(
        api(None, relaxant("tizanidine", twenty_days, 2))
    )
    assert rules(api(path, relaxant("tizanidine", twenty_days, 2)))["MUSCLE_RELAXANT_DURATION"] == [
        "WARNING"
    ]
    # Other relaxants keep the catalogue's 28 days.
    assert "MUSCLE_RELAXANT_DURATION" not in rules(
        api(path, relaxant("cyclobenzaprine", twenty_days))
    )
    fifteen_days = request(
        med("carisoprodol", 250, 3, startedOn="2026-11-08"), patient={"ageYears": 45}
    )
    assert "MUSCLE_RELAXANT_DURATION" not in rules(api(None, fifteen_days))
    assert rules(api(path, fifteen_days))["MUSCLE_RELAXANT_DURATION"] == ["WARNING"]


def test_max_medications_per_request(tmp_path: Path) -> None:
    path = write(tmp_path, "[limits]\nmax_medications_per_request = 3\n")
    three = [med("naproxen", 500, 2), med("duloxetine", 30, 1), med("tizanidine", 2, 3)]
    four = [*three, med("acetaminophen", 500, 2)]
    with serving(checker_for(path)) as stub:
        stub.CheckRegimen(request(*three), timeout=TIMEOUT)
        with pytest.raises(grpc.RpcError) as raised:
            stub.CheckRegimen(request(*four), timeout=TIMEOUT)
        assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert violations(raised.value) == ["medications"]
        # In a batch, the oversized item gets its own error and the others are answered.
        batch = stub.CheckRegimenBatch(
            pb.CheckRegimenBatchRequest(requests=[request(*three), request(*four)]),
            timeout=TIMEOUT,
        )
        first, second = batch.responses
        assert not first.HasField("error")
        assert second.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
        assert [v.field for v in field_violations(second.error)] == ["medications"]
    with serving(checker_for(None)) as stub:
        stub.CheckRegimen(request(*four), timeout=TIMEOUT)


def test_max_requests_per_batch(tmp_path: Path) -> None:
    path = write(tmp_path, "[limits]\nmax_requests_per_batch = 2\n")
    item = request(med("naproxen", 500, 2))
    with serving(checker_for(path)) as stub:
        answer = stub.CheckRegimenBatch(
            pb.CheckRegimenBatchRequest(requests=[item, item]), timeout=TIMEOUT
        )
        assert len(answer.responses) == 2
        with pytest.raises(grpc.RpcError) as raised:
            stub.CheckRegimenBatch(
                pb.CheckRegimenBatchRequest(requests=[item, item, item]), timeout=TIMEOUT
            )
        assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert violations(raised.value) == ["requests"]


def test_max_text_length(tmp_path: Path) -> None:
    path = write(tmp_path, "[limits]\nmax_text_length = 12\n")
    long_name = request({"drug": "Tylenol with Codeine #3", "dosesPerDay": 4})
    with serving(checker_for(path)) as stub:
        with pytest.raises(grpc.RpcError) as raised:
            stub.CheckRegimen(long_name, timeout=TIMEOUT)
        assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert violations(raised.value) == ["medications[0].drug"]
    with serving(checker_for(None)) as stub:
        stub.CheckRegimen(long_name, timeout=TIMEOUT)


def test_minimum_severity_warning_drops_info(api: Api, tmp_path: Path) -> None:
    assert rules(api(None, NAPROXEN_OLDER)) == {"NSAID_RISK": ["INFO"]}
    path = write(tmp_path, '[reporting]\nminimum_severity = "WARNING"\n')
    response = api(path, NAPROXEN_OLDER)
    assert list(response.findings) == []
    assert verdict(response) == "ACCEPT"
    # WARNING and CRITICAL findings are still reported, with the same verdicts.
    warned = api(path, DULOXETINE_PRN)
    assert rules(warned) == {"DOSING_SCHEDULE": ["WARNING"]}
    assert verdict(warned) == "REVIEW"
    assert rules(api(path, APAP_3250)) == {"ACETAMINOPHEN_DAILY_MAX": ["CRITICAL"]}


def test_minimum_severity_does_not_change_the_verdict(tmp_path: Path) -> None:
    path = write(tmp_path, '[reporting]\nminimum_severity = "CRITICAL"\n')
    try:
        checker = checker_for(path)
    except SettingsError as error:  # refusing a severity that would hide warnings is also fine
        assert "reporting.minimum_severity" in str(error)
        return
    with serving(checker) as stub:
        response = stub.CheckRegimen(DULOXETINE_PRN, timeout=TIMEOUT)
    assert verdict(response) == "REVIEW"


# --- identity in knowledge_base_version -------------------------------------------------------


def test_configuration_identity_in_knowledge_base_version(api: Api, tmp_path: Path) -> None:
    first = write(
        tmp_path, '[site]\nname = "north"\n[opioids]\nmme_warning_per_day = 40\n', "a.toml"
    )
    second = write(
        tmp_path, '[site]\nname = "north"\n[opioids]\nmme_warning_per_day = 45\n', "b.toml"
    )
    same_as_first = write(tmp_path, first.read_text(encoding="utf-8"), "c.toml")
    message = request(med("naproxen", 500, 2))
    versions = [
        api(path, message).knowledge_base_version for path in (first, second, same_as_first)
    ]
    default_version = api(None, message).knowledge_base_version
    identity = hashlib.sha256(first.read_bytes()).hexdigest()[:12]
    assert load_settings(first).identity == identity
    assert versions[0].endswith(f".site.north.{identity}")
    assert versions[0] != versions[1]
    assert versions[0] == versions[2]
    assert default_version not in versions
    # The knowledge-base part is the same: only the configuration differs.
    assert versions[0].split(".site.")[0] == default_version.split(".site.")[0]


def test_site_name_defaults_to_the_file_stem(tmp_path: Path) -> None:
    path = write(tmp_path, "[opioids]\nmme_warning_per_day = 40\n", "clinic-7.toml")
    assert ".site.clinic-7." in checker_for(path).knowledge.version


# --- invalid files ----------------------------------------------------------------------------

INVALID = {
    "unknown_key": ("[opioids]\nmme_warning = 50\n", "opioids.mme_warning"),
    "unknown_section": ("[pharmacy]\nname = 'x'\n", "pharmacy.name"),
    "section_not_a_table": ('site = "x"\n', "[site]"),
    "negative_number": (
        "[acetaminophen]\nstandard_limit_mg_per_day = -3000\n",
        "acetaminophen.standard_limit_mg_per_day",
    ),
    "zero": ("[muscle_relaxants]\nmax_days = 0\n", "muscle_relaxants.max_days"),
    "string_instead_of_number": (
        '[opioids]\nmme_critical_per_day = "90"\n',
        "opioids.mme_critical_per_day",
    ),
    "boolean_instead_of_number": (
        "[limits]\nmax_requests_per_batch = true\n",
        "limits.max_requests_per_batch",
    ),
    "fraction_for_whole_number": (
        "[limits]\nmax_medications_per_request = 2.5\n",
        "limits.max_medications_per_request",
    ),
    "bad_severity": ('[reporting]\nminimum_severity = "LOUD"\n', "reporting.minimum_severity"),
    "warning_above_critical": (
        "[opioids]\nmme_warning_per_day = 100\nmme_critical_per_day = 90\n",
        "mme_warning_per_day",
    ),
    "reduced_above_standard": (
        "[acetaminophen]\nreduced_limit_mg_per_day = 3500\n",
        "reduced_limit_mg_per_day",
    ),
    "by_drug_not_a_table": (
        "[muscle_relaxants]\nmax_days_by_drug = 14\n",
        "muscle_relaxants.max_days_by_drug",
    ),
    "by_drug_negative": (
        "[muscle_relaxants]\nmax_days_by_drug = { carisoprodol = -21 }\n",
        "muscle_relaxants.max_days_by_drug.carisoprodol",
    ),
    "not_toml": ("[opioids\nmme_warning_per_day = 50\n", "not valid TOML"),
}


@pytest.mark.parametrize(("text", "key"), list(INVALID.values()), ids=list(INVALID))
def test_invalid_file_raises_settings_error_naming_the_key(
    tmp_path: Path, text: str, key: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as raised:
        load_settings(path)
    message = str(raised.value)
    assert key in message
    assert str(path) in message
    assert "\n" not in message


NUMERIC_KEYS = [
    ("acetaminophen", "standard_limit_mg_per_day"),
    ("acetaminophen", "reduced_limit_mg_per_day"),
    ("opioids", "mme_warning_per_day"),
    ("opioids", "mme_critical_per_day"),
    ("muscle_relaxants", "max_days"),
    ("limits", "max_medications_per_request"),
    ("limits", "max_requests_per_batch"),
    ("limits", "max_text_length"),
]


@pytest.mark.parametrize("number", ["inf", "-inf", "nan", "+nan"])
@pytest.mark.parametrize(("section", "key"), NUMERIC_KEYS, ids=[k for _, k in NUMERIC_KEYS])
def test_non_finite_numbers_are_refused_in_every_key(
    tmp_path: Path, section: str, key: str, number: str
) -> None:
    """inf switches a limit off, nan makes a rule fire on every order (issue 16)."""
    path = write(tmp_path, f"[{section}]\n{key} = {number}\n")
    with pytest.raises(SettingsError) as raised:
        load_settings(path)
    assert f"{section}.{key} = {number.lstrip('+')} is not a finite number" in str(raised.value)


@pytest.mark.parametrize("number", ["inf", "-inf", "nan"])
def test_non_finite_max_days_by_drug_is_refused(tmp_path: Path, number: str) -> None:
    path = write(
        tmp_path, f"[muscle_relaxants]\nmax_days_by_drug = {{ tizanidine = 14, Soma = {number} }}\n"
    )
    with pytest.raises(SettingsError, match=r"max_days_by_drug\.Soma = .* is not a finite number"):
        load_settings(path)


def test_missing_file_raises_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings(tmp_path / "absent.toml")


@pytest.mark.parametrize("drug", ["cyclobenzaprin", "naproxen"])
def test_max_days_by_drug_rejects_names_that_are_not_muscle_relaxants(
    tmp_path: Path, drug: str
) -> None:
    path = write(tmp_path, f"[muscle_relaxants]\nmax_days_by_drug = {{ {drug} = 10 }}\n")
    with pytest.raises((SettingsError, StartupError, DataError)) as raised:
        load_checker(path)
    assert f"muscle_relaxants.max_days_by_drug.{drug}" in str(raised.value)


def test_max_days_by_drug_brand_is_resolved_or_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "[muscle_relaxants]\nmax_days_by_drug = { Flexeril = 10 }\n")
    try:
        checker = load_checker(path)
    except (SettingsError, StartupError, DataError) as error:
        assert "max_days_by_drug" in str(error)
        return
    with serving(checker) as stub:
        response = stub.CheckRegimen(relaxant("cyclobenzaprine", "2026-11-08"), timeout=TIMEOUT)
    assert "MUSCLE_RELAXANT_DURATION" in rules(response)


# --- the CLI ----------------------------------------------------------------------------------


SERVE_FAILURES = {
    "unknown_key": ("[opioids]\nmme_warn = 50\n", "opioids.mme_warn"),
    "negative_number": ("[muscle_relaxants]\nmax_days = -14\n", "muscle_relaxants.max_days"),
    "string_instead_of_number": (
        '[limits]\nmax_medications_per_request = "3"\n',
        "limits.max_medications_per_request",
    ),
    "bad_severity": ('[reporting]\nminimum_severity = "NOTICE"\n', "reporting.minimum_severity"),
    "warning_above_critical": ("[opioids]\nmme_warning_per_day = 95\n", "mme_warning_per_day"),
    "not_toml": ("minimum_severity = \n", "not valid TOML"),
    "acetaminophen_raised": (
        "[acetaminophen]\nstandard_limit_mg_per_day = 4000\n",
        "acetaminophen.standard_limit_mg_per_day = 4000 is above 3000",
    ),
    "mme_raised": (
        "[opioids]\nmme_critical_per_day = 120\n",
        "opioids.mme_critical_per_day = 120 is above 90",
    ),
    "course_lengthened": (
        "[muscle_relaxants]\nmax_days = 42\n",
        "muscle_relaxants.max_days = 42 is above 28 days",
    ),
    "batch_raised": (
        "[limits]\nmax_requests_per_batch = 5000\n",
        "limits.max_requests_per_batch = 5000 is above 1000",
    ),
    "inf_by_drug": (
        "[muscle_relaxants]\nmax_days_by_drug = { carisoprodol = inf }\n",
        "muscle_relaxants.max_days_by_drug.carisoprodol = inf is not a finite number",
    ),
    "nan_mme": (
        "[opioids]\nmme_warning_per_day = nan\n",
        "opioids.mme_warning_per_day = nan is not a finite number",
    ),
}


@pytest.mark.parametrize(("text", "key"), list(SERVE_FAILURES.values()), ids=list(SERVE_FAILURES))
@pytest.mark.usefixtures("keep_logging")
def test_serve_with_bad_config_exits_6_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, key: str
) -> None:
    bad = write(tmp_path, text, "bad.toml")
    status = main(["serve", "--config", str(bad), "--port", "0", "--workers", "1"])
    assert status == EXIT_STARTUP == 6
    err = capsys.readouterr().err.strip()
    lines = [line for line in err.splitlines() if "regimen-guard" in line]
    assert len(lines) == 1, err
    assert key in lines[0]
    assert "Traceback" not in err


def _request_file(tmp_path: Path) -> Path:
    body = {
        "requestId": "cli-1",
        "patient": {"ageYears": 45},
        "asOf": AS_OF,
        "medications": [
            {"drug": "acetaminophen", "doseMg": 650, "dosesPerDay": 4, "asNeeded": True}
        ],
    }
    path = tmp_path / "regimen.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_check_local_applies_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    regimen = _request_file(tmp_path)
    # 2,600 mg/day of acetaminophen: within the default 3,000, above this ward's 2,500.
    strict = write(
        tmp_path, '[site]\nname = "ward-4"\n[acetaminophen]\nstandard_limit_mg_per_day = 2500\n'
    )
    assert main(["check", str(regimen), "--local"]) == EXIT_ACCEPT
    capsys.readouterr()
    assert (
        main(["check", str(regimen), "--local", "--config", str(strict), "--json"]) == EXIT_REJECT
    )
    answer = json.loads(capsys.readouterr().out)
    assert answer["verdict"] == "VERDICT_REJECT"
    assert answer["summary"]["acetaminophenLimitMgPerDay"] == 2500
    assert ".site.ward-4." in answer["knowledgeBaseVersion"]
    assert [f["ruleId"] for f in answer["findings"]] == ["ACETAMINOPHEN_DAILY_MAX"]


def test_check_local_reads_config_from_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    regimen = _request_file(tmp_path)
    strict = write(
        tmp_path,
        '[acetaminophen]\nstandard_limit_mg_per_day = 2800\n[reporting]\nminimum_severity = "INFO"\n',
    )
    monkeypatch.setenv("REGIMENGUARD_CONFIG", str(strict))
    assert main(["check", str(regimen), "--local", "--json"]) == EXIT_ACCEPT
    assert json.loads(capsys.readouterr().out)["summary"]["acetaminophenLimitMgPerDay"] == 2800
    lowered = write(tmp_path, "[acetaminophen]\nstandard_limit_mg_per_day = 2400\n", "lower.toml")
    assert main(["check", str(regimen), "--local", "--config", str(lowered)]) == EXIT_REJECT


def test_check_local_warning_exit_status_with_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A config that moves a finding from WARNING territory to CRITICAL moves the exit status;
    one that would move it the other way is refused."""
    regimen = tmp_path / "opioid.json"
    regimen.write_text(
        json.dumps(
            {
                "asOf": AS_OF,
                "patient": {"ageYears": 50, "refractorySymptoms": True},
                "medications": [
                    {"drug": "oxycodone", "doseMg": 10, "dosesPerDay": 4, "startedOn": "2026-01-01"}
                ],
            }
        ),
        encoding="utf-8",
    )
    # 40 mg/day of oxycodone: 60 MME/day, a WARNING by default (50), CRITICAL at this site's 60.
    assert main(["check", str(regimen), "--local"]) == EXIT_REVIEW
    stricter = write(tmp_path, "[opioids]\nmme_critical_per_day = 60\n")
    assert main(["check", str(regimen), "--local", "--config", str(stricter)]) == EXIT_REJECT
    capsys.readouterr()
    looser = write(tmp_path, "[opioids]\nmme_critical_per_day = 120\n", "looser.toml")
    assert main(["check", str(regimen), "--local", "--config", str(looser)]) >= 3
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "opioids.mme_critical_per_day = 120 is above 90" in line


def test_check_local_with_bad_config_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    regimen = _request_file(tmp_path)
    bad = write(tmp_path, "[opioids]\nmme_warn = 50\n", "bad.toml")
    status = main(["check", str(regimen), "--local", "--config", str(bad)])
    assert status >= 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "opioids.mme_warn" in err
