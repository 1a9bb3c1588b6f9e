"""`regimen-guard` (regimenguard.client.cli.main) in-process: check, drugs, rules; exit codes and output,
both --local and against a real server (--target)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from google.protobuf import json_format

from regimenguard.client.cli import main
from regimenguard.v1 import regimen_checker_pb2 as pb
from tests.grpc_helpers import (
    CONTRACT_EXAMPLE_JSON,
    RULE_IDS,
    accept_request,
    free_port,
    invalid_request,
    order,
    reject_request,
    request,
    start_server,
)

EXIT_ACCEPT, EXIT_REVIEW, EXIT_REJECT = 0, 1, 2
EXIT_USAGE, EXIT_INPUT, EXIT_CONNECTION = 3, 4, 5


@pytest.fixture(scope="module")
def running(checker):  # type: ignore[no-untyped-def]
    server = start_server(checker)
    yield server
    server.stop(0)


@pytest.fixture(params=["local", "remote"])
def backend(request, running) -> list[str]:  # type: ignore[no-untyped-def]
    """The backend flags: in-process, or the module's server."""
    if request.param == "local":
        return ["--local"]
    return ["--target", f"127.0.0.1:{running.port}"]


def write_json(tmp_path: Path, message: pb.CheckRegimenRequest, name: str = "regimen.json") -> str:
    path = tmp_path / name
    path.write_text(json_format.MessageToJson(message), encoding="utf-8")
    return str(path)


@pytest.fixture
def contract_file(tmp_path: Path) -> str:
    path = tmp_path / "rx-1.json"
    path.write_text(CONTRACT_EXAMPLE_JSON, encoding="utf-8")
    return str(path)


def one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("regimen-guard: ")
    return lines[0]


def finding_block(report: str, rule_id: str) -> str:
    """The lines of the report that belong to the finding of ``rule_id``."""
    blocks = report.split("\n\n")
    matching = [block for block in blocks if f" {rule_id}" in block.splitlines()[0]]
    assert len(matching) == 1, report
    return matching[0]


# --- check: verdicts and exit codes -----------------------------------------------------------


def test_check_contract_example(capsys, backend, contract_file) -> None:  # type: ignore[no-untyped-def]
    assert main(["check", contract_file, *backend]) == EXIT_REVIEW
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines()[0].startswith("== REVIEW ==")
    assert "(request rx-1)" in out.splitlines()[0]
    assert "SEROTONERGIC_COMBINATION" in out
    assert "tizanidine" in out
    block = finding_block(out, "SEROTONERGIC_COMBINATION")
    assert block.startswith("WARNING SEROTONERGIC_COMBINATION")
    assert "(NCPDP AT)" in block
    assert "serotonergic agents 2" in out
    assert "\033[" not in out  # no colour when stdout is not a terminal


def test_check_serotonergic_finding_recommends_tizanidine(capsys, backend, contract_file) -> None:  # type: ignore[no-untyped-def]
    """The tizanidine advice belongs to the serotonergic finding itself (not only to Beers)."""
    main(["check", contract_file, *backend])
    block = finding_block(capsys.readouterr().out, "SEROTONERGIC_COMBINATION")
    do_line = block[block.index("Do: ") :]
    assert "tizanidine" in do_line


def test_check_accept(capsys, backend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert main(["check", write_json(tmp_path, accept_request()), *backend]) == EXIT_ACCEPT
    out = capsys.readouterr().out
    assert out.startswith("== ACCEPT ==")
    assert "No findings." in out
    assert "naproxen 500 mg/dose, 1,000 mg/day" in out


def test_check_reject(capsys, backend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert main(["check", write_json(tmp_path, reject_request()), *backend]) == EXIT_REJECT
    out = capsys.readouterr().out
    assert out.startswith("== REJECT ==")
    assert "CRITICAL ACETAMINOPHEN_DAILY_MAX" in out
    assert "acetaminophen 6,000 mg/day (limit 3,000 mg/day)" in out


def test_check_json_output(capsys, backend, contract_file) -> None:  # type: ignore[no-untyped-def]
    assert main(["check", contract_file, "--json", *backend]) == EXIT_REVIEW
    out = capsys.readouterr().out
    response = json_format.Parse(out, pb.CheckRegimenResponse())
    assert response.verdict == pb.VERDICT_REVIEW
    assert response.request_id == "rx-1"
    assert "SEROTONERGIC_COMBINATION" in [f.rule_id for f in response.findings]
    raw = json.loads(out)
    assert raw["verdict"] == "VERDICT_REVIEW"  # enum names, camelCase fields
    assert "knowledgeBaseVersion" in raw


def test_check_reads_standard_input(capsys, monkeypatch, backend) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO(CONTRACT_EXAMPLE_JSON))
    assert main(["check", "-", *backend]) == EXIT_REVIEW
    assert capsys.readouterr().out.startswith("== REVIEW ==")


def test_check_as_of_overrides_the_file(capsys, backend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Cyclobenzaprine started 2026-09-01: 14 days on the file's date, 83 days on --as-of."""
    message = request(order("cyclobenzaprine", 5, 3, started_on="2026-09-01"), as_of="2026-09-15")
    path = write_json(tmp_path, message)
    assert main(["check", path, *backend]) == EXIT_ACCEPT
    assert "MUSCLE_RELAXANT_DURATION" not in capsys.readouterr().out
    assert main(["check", path, "--as-of", "2026-11-23", *backend]) == EXIT_REVIEW
    assert "WARNING MUSCLE_RELAXANT_DURATION" in capsys.readouterr().out


# --- check: input errors exit 4 with one line -------------------------------------------------


def test_check_invalid_request(capsys, backend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert main(["check", write_json(tmp_path, invalid_request()), *backend]) == EXIT_INPUT
    out, err = capsys.readouterr()
    assert out == ""
    line = one_error_line(err)
    assert "INVALID_ARGUMENT" in line
    assert "medications[0].dose_mg" in line
    assert "as_of" in line


def test_check_invalid_as_of_flag(capsys, backend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_json(tmp_path, accept_request())
    assert main(["check", path, "--as-of", "yesterday", *backend]) == EXIT_INPUT
    assert "as_of" in one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_check_unreadable_file(capsys, tmp_path, kind: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "nope.json" if kind == "missing" else tmp_path
    assert main(["check", str(path), "--local"]) == EXIT_INPUT
    out, err = capsys.readouterr()
    assert out == ""
    assert f"cannot read {path}" in one_error_line(err)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("{not json", id="syntax"),
        pytest.param("", id="empty"),
        pytest.param('{"medications": "naproxen"}', id="wrong-type"),
        pytest.param('{"noSuchField": 1}', id="unknown-field"),
        pytest.param('{"medications": [{"drug": "x", "route": "ROUTE_NASAL"}]}', id="enum-name"),
        pytest.param("[1, 2]", id="array"),
    ],
)
def test_check_malformed_json(capsys, tmp_path, text: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    assert main(["check", str(path), "--local"]) == EXIT_INPUT
    out, err = capsys.readouterr()
    assert out == ""
    assert "not a CheckRegimenRequest" in one_error_line(err)


def test_check_file_that_is_not_utf8(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "latin1.json"
    path.write_bytes('{"requestId": "caf\xe9"}'.encode("latin-1"))
    assert main(["check", str(path), "--local"]) == EXIT_INPUT
    one_error_line(capsys.readouterr().err)


# --- usage errors exit 3, connection errors 5 -------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["check", "x.json", "--local", "--no-such-flag"], id="unknown-flag"),
        pytest.param([], id="no-command"),
        pytest.param(["frobnicate"], id="unknown-command"),
        pytest.param(["check", "x.json", "--local", "--target", "h:1"], id="local-and-target"),
        pytest.param(["check", "x.json", "--timeout", "soon"], id="bad-number"),
        pytest.param(["serve", "--port", "70000"], id="port-out-of-range"),
        pytest.param(["serve", "--workers", "0"], id="no-workers"),
    ],
)
def test_usage_errors_exit_3(capsys, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert main(argv) == EXIT_USAGE  # not argparse's 2, which means REJECT here
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("regimen-guard: ")


@pytest.mark.parametrize("command", [["check"], ["drugs"], ["rules"]])
def test_no_server_exits_5(capsys, tmp_path, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    target = f"127.0.0.1:{free_port()}"  # nothing listens there
    files = [write_json(tmp_path, accept_request())] if command == ["check"] else []
    assert main([*command, *files, "--target", target, "--timeout", "3"]) == EXIT_CONNECTION
    out, err = capsys.readouterr()
    assert out == ""
    assert "UNAVAILABLE" in one_error_line(err)


# --- drugs and rules --------------------------------------------------------------------------


def test_drugs_query(capsys, backend) -> None:  # type: ignore[no-untyped-def]
    assert main(["drugs", "tizanidine", *backend]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("tizanidine (Zanaflex)  rxcui ")
    assert "skeletal_muscle_relaxant" in lines[0]


def test_drugs_by_class_and_no_match(capsys, backend) -> None:  # type: ignore[no-untyped-def]
    assert main(["drugs", "nsaid", *backend]) == 0
    listing = capsys.readouterr().out.split("\n\n")[0]  # then the legend of the markers
    names = [line.split()[0] for line in listing.splitlines()]
    assert {"ibuprofen", "naproxen", "celecoxib"} <= set(names)
    assert main(["drugs", "zzz-nothing", *backend]) == 0
    assert capsys.readouterr().out.strip() == "no drug matches 'zzz-nothing'"


def test_drugs_json(capsys, backend) -> None:  # type: ignore[no-untyped-def]
    assert main(["drugs", "--json", *backend]) == 0
    response = json_format.Parse(capsys.readouterr().out, pb.ListDrugsResponse())
    names = [drug.name for drug in response.drugs]
    assert names == sorted(names)
    assert {"acetaminophen", "duloxetine", "tizanidine"} <= set(names)
    duloxetine = next(d for d in response.drugs if d.name == "duloxetine")
    assert "Cymbalta" in duloxetine.brands


def test_rules_list(capsys, backend) -> None:  # type: ignore[no-untyped-def]
    assert main(["rules", *backend]) == 0
    lines = capsys.readouterr().out.splitlines()
    listed = [line.split()[0] for line in lines if line and not line[0].isspace()]
    assert listed == list(RULE_IDS)
    assert len(listed) == len(RULE_IDS) == 37  # 28 + issue 11's 6 + issue 10's 3
    first = next(line for line in lines if line.startswith("ACETAMINOPHEN_DAILY_MAX"))
    assert first.split()[1:3] == ["CRITICAL", "HD"]


def test_rules_json(capsys, backend) -> None:  # type: ignore[no-untyped-def]
    assert main(["rules", "--json", *backend]) == 0
    response = json_format.Parse(capsys.readouterr().out, pb.ListRulesResponse())
    assert [rule.rule_id for rule in response.rules] == list(RULE_IDS)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["rules"], id="rules"),
        pytest.param(["drugs", "opioid"], id="drugs"),
        pytest.param(["check", "CONTRACT", "--json"], id="check-json"),
    ],
)
def test_local_and_remote_answer_alike(capsys, running, contract_file, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    """--local runs the server's own code: the same answer as the server, byte for byte."""
    argv = [contract_file if arg == "CONTRACT" else arg for arg in argv]
    local_code = main([*argv, "--local"])
    local = capsys.readouterr()
    remote_code = main([*argv, "--target", f"127.0.0.1:{running.port}"])
    remote = capsys.readouterr()
    assert local_code == remote_code
    assert local.out == remote.out
    assert local.err == remote.err == ""
