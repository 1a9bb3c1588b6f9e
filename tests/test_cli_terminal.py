"""The terminal workflow: --med sigs, patient flags, --ack, the report, --explain, --graph,
check-batch. Each runs both in-process (--local) and against a real server (--target)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from google.protobuf import json_format

from regimenguard.client import report
from regimenguard.client.cli import main
from regimenguard.v1 import regimen_checker_pb2 as pb
from tests.grpc_helpers import accept_request, invalid_request, reject_request, start_server

EXIT_ACCEPT, EXIT_REVIEW, EXIT_REJECT, EXIT_USAGE, EXIT_INPUT = 0, 1, 2, 3, 4
ISSUE_EXAMPLE = [
    "--age",
    "72",
    "--as-of",
    "2026-11-23",
    "--med",
    "Norco 10/325 1 tab q4h prn",
    "--med",
    "Tylenol 500 mg 2 tabs q6h prn",
    "--med",
    "duloxetine 30 mg daily started 2026-10-01",
    "--med",
    "start cyclobenzaprine 5 mg tid prn for 14 days",
]


@pytest.fixture(scope="module")
def running(checker):  # type: ignore[no-untyped-def]
    server = start_server(checker)
    yield server
    server.stop(0)


@pytest.fixture(params=["local", "remote"])
def backend(request, running) -> list[str]:  # type: ignore[no-untyped-def]
    if request.param == "local":
        return ["--local"]
    return ["--target", f"127.0.0.1:{running.port}"]


def check_json(capsys, argv: list[str]) -> tuple[int, pb.CheckRegimenResponse]:  # type: ignore[no-untyped-def]
    code = main(["check", *argv, "--json"])
    out = capsys.readouterr().out
    return code, json_format.Parse(out, pb.CheckRegimenResponse())


def findings(response: pb.CheckRegimenResponse) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in response.findings:
        found.setdefault(finding.rule_id, []).append(pb.Severity.Name(finding.severity))
    return found


def test_issue_example_rejects_with_the_acetaminophen_total(capsys, backend) -> None:  # type: ignore[no-untyped-def]
    code, response = check_json(capsys, [*ISSUE_EXAMPLE, *backend])
    assert code == EXIT_REJECT
    assert response.verdict == pb.VERDICT_REJECT
    # Norco 10/325 q4h = 6 x 325 = 1,950 mg; Tylenol 2 x 500 q6h = 4,000 mg; limit 2,000 at 72.
    assert response.summary.acetaminophen_mg_per_day == pytest.approx(5950)
    assert response.summary.acetaminophen_limit_mg_per_day == pytest.approx(2000)
    assert response.summary.morphine_mg_equivalents_per_day == pytest.approx(
        60
    )  # hydrocodone 60 mg
    assert response.summary.serotonergic_agents == 2
    found = findings(response)
    assert found["ACETAMINOPHEN_DAILY_MAX"] == ["SEVERITY_CRITICAL"]
    assert found["SEROTONERGIC_COMBINATION"] == ["SEVERITY_WARNING"]
    assert found["OPIOID_DAILY_MME"] == ["SEVERITY_WARNING"]
    assert "SEVERITY_WARNING" in found["OLDER_ADULT_CAUTION"]  # cyclobenzaprine at 72 (Beers)
    apap = next(f for f in response.findings if f.rule_id == "ACETAMINOPHEN_DAILY_MAX")
    assert "5,950 mg" in apap.message and "2,000 mg" in apap.message


def test_issue_example_report_shows_how_each_med_was_read(capsys, backend) -> None:  # type: ignore[no-untyped-def]
    assert main(["check", *ISSUE_EXAMPLE, *backend]) == EXIT_REJECT
    out = capsys.readouterr().out
    assert "\033[" not in out  # piped (captured): plain text, no colour codes
    assert out.index("Orders as read:") < out.index("== REJECT ==")
    flat = " ".join(out.split())  # the report wraps long lines
    assert (
        '"Norco 10/325 1 tab q4h prn" -> Norco 10/325, 1 tab of Norco 10/325, '
        "every 4 h at most (as needed), oral" in flat
    )
    assert (
        '"Tylenol 500 mg 2 tabs q6h prn" -> Tylenol, 1,000 mg (2 tabs of 500 mg), '
        "every 6 h at most (as needed)" in flat
    )
    assert "start, for 14 days" in flat
    # findings most severe first, then the totals
    assert out.index("CRITICAL ACETAMINOPHEN_DAILY_MAX") < out.index(
        "WARNING SEROTONERGIC_COMBINATION"
    )
    assert "acetaminophen 5,950 mg/day (limit 2,000 mg/day)" in out
    assert "opioids 60 MME/day" in out
    assert "serotonergic agents 2" in out


@pytest.mark.parametrize(
    ("flag", "field"),
    [
        ("--hepatic-impairment", "hepatic_impairment"),
        ("--renal-impairment", "renal_impairment"),
        ("--alcohol-use-disorder", "alcohol_use_disorder"),
        ("--substance-use-disorder", "substance_use_disorder"),
        ("--seizure-disorder", "seizure_disorder"),
        ("--gi-bleed-history", "gi_bleed_history"),
        ("--cardiovascular-disease", "cardiovascular_disease"),
        ("--refractory", "refractory_symptoms"),
    ],
)
def test_every_patient_flag_sets_its_field(flag: str, field: str) -> None:
    from regimenguard.client.cli import build_parser, build_request

    args = build_parser().parse_args(
        ["check", "--med", "naproxen 500 mg bid", flag, "--age", "70", "--pain-weeks", "20"]
    )
    built, _ = build_request(args)
    assert getattr(built.patient, field) is True
    assert built.patient.age_years == 70
    assert built.patient.pain_duration_weeks == 20
    others = [name for name in FLAG_FIELDS if name != field]
    assert not any(getattr(built.patient, name) for name in others)


FLAG_FIELDS = (
    "hepatic_impairment",
    "renal_impairment",
    "alcohol_use_disorder",
    "substance_use_disorder",
    "seizure_disorder",
    "gi_bleed_history",
    "cardiovascular_disease",
    "refractory_symptoms",
)


def test_patient_flags_reach_the_rules(capsys, backend) -> None:  # type: ignore[no-untyped-def]
    code, response = check_json(
        capsys, ["--med", "naproxen 500 mg bid", "--gi-bleed-history", *backend]
    )
    assert code == EXIT_REVIEW
    assert findings(response) == {"NSAID_RISK": ["SEVERITY_WARNING"]}


def test_topical_gel_and_patch_sigs(capsys, backend) -> None:  # type: ignore[no-untyped-def]
    code, response = check_json(
        capsys,
        [
            "--med",
            "diclofenac 1% gel 4 g qid topical",
            "--med",
            "acetaminophen 650 mg q6h prn",
            "--med",
            "fentanyl 25 mcg/h patch",
            *backend,
        ],
    )
    # topical diclofenac is not a systemic NSAID: no NSAID_WITH_ACETAMINOPHEN
    assert "NSAID_WITH_ACETAMINOPHEN" not in findings(response)
    assert response.summary.morphine_mg_equivalents_per_day == pytest.approx(60)  # 25 mcg/h x 2.4
    assert findings(response)["OPIOID_DAILY_MME"] == ["SEVERITY_WARNING"]
    diclofenac = response.summary.orders[0].ingredients[0]
    # 4 g of the 1% gel is 40 mg of diclofenac sodium, counted as 37.2 mg of diclofenac
    assert diclofenac.name == "diclofenac" and diclofenac.mg_per_dose == pytest.approx(37.236348)
    assert code == EXIT_REVIEW


def test_change_dose_and_response_words(capsys, backend) -> None:  # type: ignore[no-untyped-def]
    code, response = check_json(
        capsys,
        [
            "--as-of",
            "2026-11-23",
            "--med",
            "increase duloxetine from 30 mg to 60 mg daily started 2026-11-20",
            "--med",
            "naproxen 500 mg bid no benefit",
            *backend,
        ],
    )
    assert code == EXIT_REVIEW
    assert findings(response) == {
        "TITRATION_INTERVAL": ["SEVERITY_WARNING"],
        "NSAID_PREVIOUSLY_INEFFECTIVE": ["SEVERITY_WARNING"],
        "NSAID_RISK": ["SEVERITY_INFO"],  # the NSAID with an SNRI (duloxetine): bleeding
    }


def test_indication_orders_are_not_judged_as_back_pain_therapy(capsys, backend) -> None:  # type: ignore[no-untyped-def]
    code, response = check_json(
        capsys,
        [
            "--med",
            "duloxetine 60 mg daily",
            "--med",
            "sertraline 50 mg daily for depression",
            *backend,
        ],
    )
    assert code == EXIT_REVIEW
    assert findings(response) == {"SEROTONERGIC_COMBINATION": ["SEVERITY_WARNING"]}


def test_ack_lifts_a_warning(capsys, backend) -> None:  # type: ignore[no-untyped-def]
    meds = ["--med", "duloxetine 60 mg daily", "--med", "start cyclobenzaprine 5 mg tid prn"]
    code, response = check_json(
        capsys, [*meds, "--ack", "SEROTONERGIC_COMBINATION:short course, monitored", *backend]
    )
    assert code == EXIT_ACCEPT
    assert [f.acknowledged for f in response.findings] == [True]


def test_unreadable_sig_is_one_line_quoting_the_part(capsys, backend) -> None:  # type: ignore[no-untyped-def]
    assert main(["check", "--med", "ibuprofen 400 mg xyz bid", *backend]) == EXIT_INPUT
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert '"xyz"' in captured.err and "Traceback" not in captured.err


def test_sig_without_frequency_is_an_input_error(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["check", "--local", "--med", "ibuprofen 400 mg"]) == EXIT_INPUT
    assert "no frequency" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--local"],  # neither a file nor --med
        ["check", "some.json", "--med", "naproxen 500 mg bid", "--local"],  # both
    ],
)
def test_check_needs_exactly_one_source(capsys, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert main(argv) == EXIT_USAGE
    assert capsys.readouterr().err.startswith("regimen-guard:")


def test_explain_adds_codes_classes_and_fired_edges(capsys, backend) -> None:  # type: ignore[no-untyped-def]
    argv = [
        "check",
        "--med",
        "naproxen 500 mg bid",
        "--med",
        "acetaminophen 650 mg q6h prn",
        "--explain",
    ]
    assert main([*argv, *backend]) == EXIT_REVIEW
    out = capsys.readouterr().out
    assert "RxCUI 7258" in out  # naproxen
    assert "RxCUI 161" in out  # acetaminophen
    assert "nsaid" in out
    assert "Interactions that fired (knowledge-graph edges):" in out
    assert "class:nsaid -- drug:acetaminophen: NSAID_WITH_ACETAMINOPHEN WARNING" in out


def test_graph_writes_the_interaction_subgraph_as_dot(tmp_path: Path, capsys, backend) -> None:  # type: ignore[no-untyped-def]
    dot = tmp_path / "regimen.dot"
    argv = [
        "check",
        "--med",
        "oxycodone 5 mg q6h prn",
        "--med",
        "diazepam 5 mg bid",
        "--graph",
        str(dot),
    ]
    assert main([*argv, *backend]) == EXIT_REJECT
    capsys.readouterr()
    text = dot.read_text(encoding="utf-8")
    assert text.startswith("graph regimen {") and text.rstrip().endswith("}")
    assert '"drug:oxycodone" [label="oxycodone", shape=box' in text
    assert '"drug:diazepam" -- "class:benzodiazepine" [style=dashed' in text
    assert re.search(
        r'"class:benzodiazepine" -- "class:opioid" \[label="BENZODIAZEPINE_WITH_OPIOID", color=red',
        text,
    )


def test_colour_on_a_terminal_only() -> None:
    response = json_format.Parse(
        json.dumps(
            {
                "verdict": "VERDICT_REVIEW",
                "findings": [{"ruleId": "X", "severity": "SEVERITY_WARNING"}],
            }
        ),
        pb.CheckRegimenResponse(),
    )
    coloured = report.render(response, colour=True)
    plain = report.render(response, colour=False)
    assert "\033[1;33m== REVIEW ==\033[0m" in coloured
    assert "\033[" not in plain and "== REVIEW ==" in plain


# --- check-batch -------------------------------------------------------------------------------


def write_lines(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "regimens.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def as_line(message: pb.CheckRegimenRequest) -> str:
    return json_format.MessageToJson(message, indent=None)


@pytest.mark.parametrize("mode", [[], ["--stream"]], ids=["batch", "stream"])
def test_check_batch_answers_every_line_in_order(tmp_path: Path, capsys, backend, mode) -> None:  # type: ignore[no-untyped-def]
    lines = [
        as_line(accept_request("one")),
        as_line(reject_request("two")),
        "{not json",
        as_line(invalid_request("four")),
        as_line(accept_request("five")),
    ]
    out_file = tmp_path / "answers.jsonl"
    code = main(
        ["check-batch", str(write_lines(tmp_path, lines)), "--out", str(out_file), *mode, *backend]
    )
    assert code == EXIT_INPUT  # some lines could not be checked
    assert capsys.readouterr().out == ""
    answers = [
        json_format.Parse(line, pb.CheckRegimenResponse())
        for line in out_file.read_text().splitlines()
    ]
    assert len(answers) == 5
    assert [a.request_id for a in answers] == ["one", "two", "", "four", "five"]
    assert [a.HasField("error") for a in answers] == [False, False, True, True, False]
    assert answers[0].verdict == pb.VERDICT_ACCEPT and answers[1].verdict == pb.VERDICT_REJECT
    assert "line 3" in answers[2].error.message
    assert answers[3].error.code == 3  # INVALID_ARGUMENT with its field paths


def test_check_batch_exit_status_is_the_worst_verdict(tmp_path: Path, capsys, backend) -> None:  # type: ignore[no-untyped-def]
    path = write_lines(tmp_path, [as_line(accept_request("a")), as_line(reject_request("b"))])
    assert main(["check-batch", str(path), *backend]) == EXIT_REJECT
    out = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["requestId"] for line in out] == ["a", "b"]


def test_check_batch_more_lines_than_one_call(tmp_path: Path, capsys, backend) -> None:  # type: ignore[no-untyped-def]
    lines = [as_line(accept_request(f"r{n}")) for n in range(1203)]  # three CheckRegimenBatch calls
    assert main(["check-batch", str(write_lines(tmp_path, lines)), *backend]) == EXIT_ACCEPT
    ids = [json.loads(line)["requestId"] for line in capsys.readouterr().out.splitlines()]
    assert ids == [f"r{n}" for n in range(1203)]


def test_check_batch_from_stdin(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO(as_line(accept_request("in")) + "\n"))
    assert main(["check-batch", "-", "--local"]) == EXIT_ACCEPT
    assert json.loads(capsys.readouterr().out)["requestId"] == "in"
