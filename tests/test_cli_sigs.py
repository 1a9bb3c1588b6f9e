"""The terminal side of issue 12: the issue's sigs through the checker, errors in the user's
words, the report's units and frequencies, NO_COLOR, and drugs finding what check resolves."""

from __future__ import annotations

import json

import pytest
from google.protobuf import json_format

from regimenguard.client import report
from regimenguard.client.cli import main
from regimenguard.v1 import regimen_checker_pb2 as pb
from tests.grpc_helpers import free_port

EXIT_ACCEPT, EXIT_REVIEW, EXIT_REJECT, EXIT_INPUT, EXIT_CONNECTION = 0, 1, 2, 4, 5


def check(capsys, *meds: str, extra: tuple[str, ...] = ()) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    argv = ["check", "--local", "--json", "--as-of", "2026-11-23", *extra]
    for med in meds:
        argv += ["--med", med]
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def rule_ids(answer: dict) -> set[str]:
    return {finding["ruleId"] for finding in answer["findings"]}


@pytest.mark.parametrize(
    ("sig", "mme"),
    [("Duragesic 50 mcg q72h", 120), ("fentanyl 25 mcg patch q72h", 60)],
)
def test_a_patch_strength_is_a_rate(capsys, sig: str, mme: float) -> None:  # type: ignore[no-untyped-def]
    code, answer = check(capsys, sig)
    assert answer["summary"]["morphineMgEquivalentsPerDay"] == pytest.approx(mme)
    assert code in (EXIT_REVIEW, EXIT_REJECT)
    assert "OPIOID_DAILY_MME" in rule_ids(answer)


def test_butrans_weekly_is_a_rate_not_a_dose(capsys) -> None:  # type: ignore[no-untyped-def]
    _, answer = check(capsys, "Butrans 10 mcg weekly")
    fentanyl_free = answer["summary"]["orders"][0]["ingredients"][0]
    assert fentanyl_free["name"] == "buprenorphine"
    assert fentanyl_free["mgPerDay"] == pytest.approx(0.24)  # 10 mcg/h x 24 h


@pytest.mark.parametrize(
    ("sig", "rule"),
    [
        ("ketorolac 10 mg q6h x 7 days", "NSAID_RISK"),
        ("carisoprodol 350 mg tid x 6 weeks", "MUSCLE_RELAXANT_DURATION"),
    ],
)
def test_a_duration_without_start_is_a_planned_course(capsys, sig: str, rule: str) -> None:  # type: ignore[no-untyped-def]
    code, answer = check(capsys, sig)
    assert rule in rule_ids(answer)
    assert code != EXIT_ACCEPT


@pytest.mark.parametrize(
    ("sig", "mg_per_day"),
    [("Tylenol ES 500 mg 2 tabs q6h", 4000), ("Tylenol Arthritis 650 mg 2 tabs q8h", 3900)],
)
def test_acetaminophen_brands_count_their_strength(capsys, sig: str, mg_per_day: float) -> None:  # type: ignore[no-untyped-def]
    code, answer = check(capsys, sig)
    assert answer["summary"]["acetaminophenMgPerDay"] == pytest.approx(mg_per_day)
    assert code == EXIT_REJECT
    assert "ACETAMINOPHEN_DAILY_MAX" in rule_ids(answer)


def test_anaprox_ds_resolves_to_naproxen(capsys) -> None:  # type: ignore[no-untyped-def]
    _, answer = check(capsys, "Anaprox DS 550 mg bid")
    assert "UNKNOWN_DRUG" not in rule_ids(answer)
    assert answer["summary"]["orders"][0]["ingredients"][0]["name"] == "naproxen"


def test_the_report_flags_each_assumption(capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["check", "--local", "--med", "Norco 10/325 1-2 tabs q4-6h prn pain max 8/day"])
    out = " ".join(capsys.readouterr().out.split())
    assert code in (EXIT_REVIEW, EXIT_REJECT)
    assert 'assumed: counted "1-2 tabs" at 2 tabs' in out
    assert 'assumed: "max 8/day" bounds the count: 8 tabs a day = 4 doses (not 6)' in out


def test_report_shows_rates_and_frequencies_as_written(capsys) -> None:  # type: ignore[no-untyped-def]
    main(["check", "--local", "--med", "fentanyl 25 mcg/h patch q72h"])
    out = " ".join(capsys.readouterr().out.split())
    assert "fentanyl 25 mcg/h (0.6 mg/day); change every 72 h" in out
    assert "0.0 mg/dose" not in out and "0.333" not in out


def test_report_keeps_micrograms_in_micrograms(capsys) -> None:  # type: ignore[no-untyped-def]
    main(["check", "--local", "--med", "fentanyl 100 mcg buccal q6h prn"])
    out = " ".join(capsys.readouterr().out.split())
    assert "fentanyl 100 mcg/dose, 400 mcg/day; 4 times a day at most (as needed)" in out


def test_unreadable_sig_names_the_med_and_says_what_was_expected(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(
        ["check", "--local", "--med", "naproxen 500 mg bid", "--med", "ibuprofen 1-2 q6h"]
    ) == (EXIT_INPUT)
    err = capsys.readouterr().err
    assert err.startswith('regimen-guard: --med 1: could not read "1-2" in "ibuprofen 1-2 q6h"')
    assert "a range needs a unit" in err and err.count("\n") == 1


def test_server_input_error_names_the_typed_order(capsys) -> None:  # type: ignore[no-untyped-def]
    argv = ["check", "--local", "--med", "naproxen 500 mg bid", "--med", "ibuprofen tid"]
    assert main(argv) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.startswith('regimen-guard: --med 1 "ibuprofen tid": no dose')
    assert "medications[" not in err and "dose_mg" not in err


def test_no_server_says_how_to_start_one(capsys) -> None:  # type: ignore[no-untyped-def]
    target = f"127.0.0.1:{free_port()}"
    argv = ["check", "--med", "naproxen 500 mg bid", "--target", target, "--timeout", "2"]
    assert main(argv) == EXIT_CONNECTION
    err = capsys.readouterr().err
    assert "make run" in err and "--local" in err


def test_no_color_is_honoured(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert report.colour_wanted(Tty()) is True  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "1")
    assert report.colour_wanted(Tty()) is False  # type: ignore[arg-type]


def test_long_lines_wrap_to_the_width() -> None:
    response = json_format.Parse(
        json.dumps(
            {
                "verdict": "VERDICT_REVIEW",
                "findings": [
                    {"ruleId": "X", "severity": "SEVERITY_WARNING", "message": "word " * 60}
                ],
            }
        ),
        pb.CheckRegimenResponse(),
    )
    text = report.render(response, width=50)
    assert max(len(line) for line in text.splitlines() if "word" in line) <= 50


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Norco", {"hydrocodone", "acetaminophen"}),
        ("Norco 10/325", {"hydrocodone", "acetaminophen"}),
        ("rxcui:856999", {"hydrocodone", "acetaminophen"}),
        ("856999", {"hydrocodone", "acetaminophen"}),
        ("rxcui:7258", {"naproxen"}),
        ("naproxn", {"naproxen"}),
        ("tizanidne", {"tizanidine"}),
    ],
)
def test_drugs_finds_what_check_resolves(capsys, query: str, expected: set[str]) -> None:  # type: ignore[no-untyped-def]
    assert main(["drugs", query, "--local", "--json"]) == 0
    found = {drug["name"] for drug in json.loads(capsys.readouterr().out)["drugs"]}
    assert expected <= found
    assert len(found) <= 4


def test_drugs_explains_its_markers(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["drugs", "--local", "--json"]) == 0
    unconfirmed = [
        d for d in json.loads(capsys.readouterr().out)["drugs"] if d.get("needsConfirmation")
    ]
    assert unconfirmed, "the knowledge base marks some values needs_confirmation"
    assert main(["drugs", unconfirmed[0]["name"], "--local"]) == 0
    out = capsys.readouterr().out
    assert "*confirm*" in out.splitlines()[0]
    assert "*confirm*: a class or dose limit" in out


@pytest.mark.parametrize(
    "meds",
    [
        ("naproxen 500 mg bid with food", "duloxetine 60 mg daily"),
        ("Voltaren gel 4 g to lower back qid max 32 g/day", "tizanidine 2 mg qhs prn spasm"),
        (
            "acetaminophen 500 mg 1-2 tabs q6h prn pain max 3 g/day",
            "Lidoderm 5% patch 12h on 12h off",
        ),
        ("celecoxib 200 mg daily with food", "atorvastatin 40 mg qhs", "lisinopril 10 mg daily"),
    ],
    ids=["nsaid+duloxetine", "topical+tizanidine", "apap+lidocaine", "coxib+comeds"],
)
def test_endorsed_regimens_typed_as_sigs_are_quiet(capsys, meds: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    code, answer = check(capsys, *meds, extra=("--age", "50", "--pain-weeks", "16"))
    above_info = [f["ruleId"] for f in answer["findings"] if f["severity"] != "SEVERITY_INFO"]
    assert above_info == []
    assert code == EXIT_ACCEPT
