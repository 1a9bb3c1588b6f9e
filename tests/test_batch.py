"""check-batch: the input is read as a stream, answers keep input order, the summary and exit
status say what happened."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from google.protobuf import json_format

from regimenguard.client import batch
from regimenguard.client.cli import main
from regimenguard.v1 import regimen_checker_pb2 as pb
from tests.grpc_helpers import accept_request, invalid_request, reject_request

EXIT_ACCEPT, EXIT_REJECT, EXIT_INPUT = 0, 2, 4


class EchoBackend:
    """Answers ACCEPT to every request, recording how many requests it has been sent."""

    def __init__(self) -> None:
        self.sent = 0

    def check_batch(self, requests: list[pb.CheckRegimenRequest]) -> list[pb.CheckRegimenResponse]:
        self.sent += len(requests)
        return [self._answer(request) for request in requests]

    def check_stream(
        self, requests: Iterable[pb.CheckRegimenRequest]
    ) -> Iterator[pb.CheckRegimenResponse]:
        for request in requests:
            self.sent += 1
            yield self._answer(request)

    @staticmethod
    def _answer(request: pb.CheckRegimenRequest) -> pb.CheckRegimenResponse:
        return pb.CheckRegimenResponse(request_id=request.request_id, verdict=pb.VERDICT_ACCEPT)


def counted_lines(total: int, consumed: list[int]) -> Iterator[str]:
    """``total`` request lines, generated on demand; ``consumed[0]`` counts those read."""
    line = json_format.MessageToJson(accept_request("r"), indent=None)
    for _ in range(total):
        consumed[0] += 1
        yield line


@pytest.mark.parametrize("stream", [False, True], ids=["batch", "stream"])
def test_input_is_read_as_a_stream_not_all_at_once(stream: bool) -> None:
    consumed = [0]
    items = batch.read_requests(counted_lines(1_000_000, consumed))
    answers = batch.check_all(EchoBackend(), items, stream=stream)
    first_item, first_answer = next(answers)
    assert first_item.line == 1 and first_answer.verdict == pb.VERDICT_ACCEPT
    # a million lines are waiting; only the first chunk has been read
    assert consumed[0] <= batch.CHUNK + 1
    for _ in range(batch.CHUNK * 2):
        next(answers)
    assert consumed[0] <= batch.CHUNK * 3 + 1


@pytest.mark.parametrize("stream", [False, True], ids=["batch", "stream"])
def test_unreadable_lines_keep_their_place(stream: bool) -> None:
    good = json_format.MessageToJson(accept_request("a"), indent=None)
    lines = [good, "{not json", "", good, "[1]", good]
    answered = list(batch.check_all(EchoBackend(), batch.read_requests(lines), stream=stream))
    assert [item.line for item, _ in answered] == [1, 2, 4, 5, 6]
    assert [answer.HasField("error") for _, answer in answered] == [
        False,
        True,
        False,
        True,
        False,
    ]
    assert answered[1][1].error.message.startswith("line 2: not a CheckRegimenRequest")


def test_summary_counts_verdicts_and_names_failed_lines() -> None:
    summary = batch.Summary()
    summary.add(batch.Item(1, accept_request("a")), pb.CheckRegimenResponse())
    summary.add(
        batch.Item(2, reject_request("b")), pb.CheckRegimenResponse(verdict=pb.VERDICT_REJECT)
    )
    bad = batch.read_requests(["{nope"])
    item = next(bad)
    summary.add(item, pb.CheckRegimenResponse(error=item.error))
    text = summary.render()
    assert text.splitlines()[0] == "checked 3 regimens: 0 ACCEPT, 0 REVIEW, 1 REJECT, 1 failed"
    assert "  line 1: not a CheckRegimenRequest" in text


def test_summary_lists_a_bounded_number_of_failures() -> None:
    summary = batch.Summary()
    for number in range(1, 31):
        item = next(batch.read_requests(["{nope"]))
        summary.add(batch.Item(number, error=item.error), pb.CheckRegimenResponse(error=item.error))
    lines = summary.render().splitlines()
    assert len(lines) == 1 + batch.FAILURES_SHOWN + 1
    assert lines[-1] == "  ... and 10 more failed lines"


def write_lines(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "regimens.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def as_line(message: pb.CheckRegimenRequest) -> str:
    return json_format.MessageToJson(message, indent=None)


def test_cli_summary_on_stderr_and_exit_status(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    lines = [
        as_line(accept_request("one")),
        as_line(reject_request("two")),
        "{not json",
        as_line(invalid_request("four")),
    ]
    code = main(["check-batch", str(write_lines(tmp_path, lines)), "--local"])
    assert code == EXIT_INPUT
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 4
    err = captured.err.splitlines()
    assert err[0] == "checked 4 regimens: 1 ACCEPT, 0 REVIEW, 1 REJECT, 2 failed"
    assert err[1].startswith("  line 3: not a CheckRegimenRequest")
    assert err[2].startswith("  line 4: INVALID_ARGUMENT: as_of: must be a date")


def test_cli_exit_status_is_the_worst_verdict_when_every_line_is_checked(
    tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    path = write_lines(tmp_path, [as_line(accept_request("a")), as_line(reject_request("b"))])
    assert main(["check-batch", str(path), "--local", "--stream"]) == EXIT_REJECT
    assert capsys.readouterr().err.startswith("checked 2 regimens: 1 ACCEPT, 0 REVIEW, 1 REJECT")
    path = write_lines(tmp_path, [as_line(accept_request("a"))])
    assert main(["check-batch", str(path), "--local"]) == EXIT_ACCEPT


def test_batch_output_prints_zero_values(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = write_lines(tmp_path, [as_line(accept_request("a"))])
    assert main(["check-batch", str(path), "--local"]) == EXIT_ACCEPT
    answer = json.loads(capsys.readouterr().out)
    assert answer["summary"]["acetaminophenMgPerDay"] == 0
    assert answer["summary"]["orders"][0]["medicationIndex"] == 0
    assert answer["findings"] == []


def test_check_json_prints_zero_values(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["check", "--local", "--json", "--med", "naproxen 500 mg bid"]) == EXIT_ACCEPT
    answer = json.loads(capsys.readouterr().out)
    assert answer["summary"]["acetaminophenMgPerDay"] == 0
    assert answer["summary"]["morphineMgEquivalentsPerDay"] == 0
    assert answer["summary"]["orders"][0]["medicationIndex"] == 0


class FakeTerminal:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_progress_shows_count_rate_and_eta_of_a_file(tmp_path: Path) -> None:
    path = write_lines(tmp_path, [as_line(accept_request(f"r{n}")) for n in range(10)])
    with path.open("rb") as handle:
        source = batch.Source.of(handle)
        terminal = FakeTerminal()
        progress = batch.Progress(terminal, source)  # type: ignore[arg-type]
        items = list(batch.read_requests(source))
        for item, _ in batch.check_all(EchoBackend(), items, stream=False):
            progress.update(item.line)
        progress.update(len(items), final=True)
    last = terminal.text.rsplit("\r", 1)[-1]
    assert last.startswith("10 checked  ") and "/s" in last
    assert "100%  ETA 0:00" in last and last.endswith("\n")


def test_progress_of_a_pipe_has_no_eta() -> None:
    source = batch.Source.of(io.StringIO(as_line(accept_request("a")) + "\n"))
    terminal = FakeTerminal()
    progress = batch.Progress(terminal, source)  # type: ignore[arg-type]
    list(batch.read_requests(source))
    progress.update(1, final=True)
    assert "1 checked" in terminal.text and "ETA" not in terminal.text


def test_a_line_that_is_not_utf8_fails_alone(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "mixed.jsonl"
    good = as_line(accept_request("ok")).encode()
    path.write_bytes(good + b"\n" + b'{"requestId": "\xff"}\n' + good + b"\n")
    assert main(["check-batch", str(path), "--local"]) == EXIT_INPUT
    captured = capsys.readouterr()
    answers = [json.loads(line) for line in captured.out.splitlines()]
    assert [a["requestId"] for a in answers] == ["ok", "", "ok"]
    assert "line 2: not UTF-8 text (byte 15)" in captured.err
