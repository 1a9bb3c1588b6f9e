"""Start-up refuses what would fail later: certificates outside their validity dates, data files
that are not UTF-8 or are cut short, and a port another instance owns. Each is one line on
stderr and exit status 6."""

from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
import socket
from pathlib import Path

import pytest

from regimenguard.client.cli import main
from regimenguard.interactions.datafile import DataError
from regimenguard.regimen.knowledge import DOSING_DATA_DIR, INTERACTION_DATA_DIR, load_knowledge
from regimenguard.server import main as server_main
from regimenguard.server.tls import ServerTLS, TLSConfigError
from tests.hardening_support import ServerProcess, make_dated_pki, run_cli

EXIT_STARTUP = 6
DAY = dt.timedelta(days=1)
PAST = (-30 * DAY, -DAY)  # expired yesterday
FUTURE = (DAY, 30 * DAY)  # valid from tomorrow


def one_startup_line(stderr: str) -> str:
    """The one start-up error line (a JSON record, as every line ``serve`` writes): its message."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    message = json.loads(lines[0])["message"]
    assert message.startswith("regimen-guard: cannot start: "), lines
    return message


# --- certificates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("which", "window", "says"),
    [
        ("server", PAST, "TLS certificate .*server.crt expired on "),
        ("server", FUTURE, "TLS certificate .*server.crt is not valid until "),
        ("ca", PAST, "client CA .*ca.crt expired on "),
        ("ca", FUTURE, "client CA .*ca.crt is not valid until "),
    ],
    ids=["expired-cert", "future-cert", "expired-ca", "future-ca"],
)
def test_serve_refuses_certificates_outside_their_dates(
    capsys, tmp_path: Path, which: str, window: tuple[dt.timedelta, dt.timedelta], says: str
) -> None:
    dates = {"server_valid" if which == "server" else "ca_valid": window}
    pki = make_dated_pki(tmp_path, **dates)
    flags = ["--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key)]
    flags += ["--tls-client-ca", str(pki.ca)]
    status = main(["serve", "--host", "127.0.0.1", "--port", "0", "--workers", "1", *flags])
    assert status == EXIT_STARTUP
    line = one_startup_line(capsys.readouterr().err)
    assert __import__("re").search(says, line), line
    # Both dates, so the operator sees the window.
    start, end = (dt.datetime.now(dt.UTC) + offset for offset in window)
    assert f"valid from {start:%Y-%m-%d}" in line and f"to {end:%Y-%m-%d}" in line


def test_certificates_within_their_dates_load(tmp_path: Path) -> None:
    pki = make_dated_pki(tmp_path)
    assert ServerTLS.load(pki.server_cert, pki.server_key, pki.ca).mutual


def test_expired_certificate_in_a_chain_is_named_by_position(tmp_path: Path) -> None:
    good = make_dated_pki(tmp_path / "good")
    old = make_dated_pki(tmp_path / "old", ca_valid=PAST)
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(good.ca.read_bytes() + old.ca.read_bytes())
    with pytest.raises(TLSConfigError, match=r"bundle\.pem \(certificate 2\) expired on"):
        ServerTLS.load(good.server_cert, good.server_key, bundle)


# --- data files -------------------------------------------------------------------------------


def data_copy(tmp_path: Path) -> tuple[Path, Path]:
    interaction_dir = tmp_path / "interactions" / "data"
    dosing_dir = tmp_path / "dosing" / "data"
    shutil.copytree(INTERACTION_DATA_DIR, interaction_dir)
    shutil.copytree(DOSING_DATA_DIR, dosing_dir)
    return interaction_dir, dosing_dir


def replace_line(path: Path, line: int, new: bytes) -> None:
    lines = path.read_bytes().split(b"\n")
    lines[line - 1] = new
    path.write_bytes(b"\n".join(lines))


def test_invalid_utf8_names_the_file_and_row(tmp_path: Path) -> None:
    interaction_dir, dosing_dir = data_copy(tmp_path)
    path = interaction_dir / "aliases.csv"
    replace_line(path, 3, path.read_bytes().split(b"\n")[2] + b"\xff\xfe")
    with pytest.raises(DataError, match=r"^aliases\.csv row 3: not UTF-8 text \(byte 0xff"):
        load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)


@pytest.mark.parametrize(
    ("name", "folder"), [("ingredients.csv", "interactions"), ("dose_limits.csv", "dosing")]
)
def test_truncated_file_names_itself_and_the_cut_row(
    tmp_path: Path, name: str, folder: str
) -> None:
    interaction_dir, dosing_dir = data_copy(tmp_path)
    path = (interaction_dir if folder == "interactions" else dosing_dir) / name
    data = path.read_bytes()
    cut = data.index(b"\n", len(data) // 2) + 8  # eight bytes into a row in the middle
    path.write_bytes(data[:cut])
    row = data[:cut].count(b"\n") + 1
    with pytest.raises(DataError, match=rf"^{name} row {row}: the file ends in the middle"):
        load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)


def test_unterminated_quote_names_the_file(tmp_path: Path) -> None:
    interaction_dir, dosing_dir = data_copy(tmp_path)
    path = interaction_dir / "classes.csv"
    path.write_bytes(path.read_bytes() + b'"never closed,\n')
    with pytest.raises(DataError, match=r"^classes\.csv row \d+: "):
        load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)


def test_serve_with_an_undecodable_data_file_is_one_line_and_exit_6(
    capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    interaction_dir, dosing_dir = data_copy(tmp_path)
    path = dosing_dir / "dose_limits.csv"
    replace_line(path, 4, b"ibuprofen,oral,\xc3(")
    monkeypatch.setattr(
        server_main,
        "load_knowledge",
        functools.partial(load_knowledge, interaction_dir=interaction_dir, dosing_dir=dosing_dir),
    )
    status = main(["serve", "--host", "127.0.0.1", "--port", "0", "--workers", "1"])
    assert status == EXIT_STARTUP
    line = one_startup_line(capsys.readouterr().err)
    assert "dose_limits.csv row 4: not UTF-8 text" in line


# --- one owner per port -----------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("first", "second"),
    [(1, 1), (2, 1), (1, 2), (2, 2)],
    ids=["one-then-one", "workers-then-one", "one-then-workers", "workers-then-workers"],
)
def test_a_second_instance_on_a_taken_port_exits_6_with_one_line(
    tmp_path: Path, first: int, second: int
) -> None:
    server = ServerProcess.start(tmp_path, "--workers", str(first))
    try:
        server.wait_serving()
        result = run_cli(
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(server.port),
            "--workers",
            str(second),
            timeout=30,
        )
        assert result.returncode == EXIT_STARTUP, result.stderr
        line = one_startup_line(result.stderr)
        assert f"port {server.port} is already in use" in line
        assert server.process.poll() is None  # the first instance is untouched
    finally:
        assert server.stop() == 0


@pytest.mark.e2e
def test_a_port_another_program_listens_on_is_in_use(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        for workers in ("1", "2"):
            result = run_cli(
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                workers,
                timeout=30,
            )
            assert result.returncode == EXIT_STARTUP, result.stderr
            assert f"port {port} is already in use" in one_startup_line(result.stderr)
