"""TLS and mutual TLS, end to end: `regimen-guard serve` with certificates made here, and the
CLI's check, check-batch, drugs and rules against it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from regimenguard.client.cli import main
from regimenguard.server.tls import ServerTLS, TLSConfigError, channel_credentials
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests.hardening_support import (
    REVIEW_REQUEST_JSON,
    Pki,
    ServerProcess,
    make_pki,
    review_request,
    run_cli,
)

pytestmark = pytest.mark.e2e

EXIT_REVIEW, EXIT_USAGE, EXIT_CONNECTION, EXIT_STARTUP = 1, 3, 5, 6


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def regimen_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("regimen") / "regimen.json"
    path.write_text(REVIEW_REQUEST_JSON, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tls_server(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess.start(
        tmp_path_factory.mktemp("tls"),
        "--workers",
        "1",
        "--grace",
        "2",
        "--tls-cert",
        str(pki.server_cert),
        "--tls-key",
        str(pki.server_key),
    )
    try:
        server.wait_serving(channel_credentials(pki.ca))
        yield server
    finally:
        assert server.stop() == 0, server.log


@pytest.fixture(scope="module")
def mtls_server(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess.start(
        tmp_path_factory.mktemp("mtls"),
        "--workers",
        "1",
        "--grace",
        "2",
        "--tls-cert",
        str(pki.server_cert),
        "--tls-key",
        str(pki.server_key),
        "--tls-client-ca",
        str(pki.ca),
        "--log-phi",
    )
    try:
        server.wait_serving(channel_credentials(pki.ca, pki.client_cert, pki.client_key))
        yield server
    finally:
        assert server.stop() == 0, server.log


def target(server: ServerProcess, host: str = "localhost") -> list[str]:
    return ["--target", f"{host}:{server.port}", "--timeout", "5"]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    """The CLI in this process (quicker than a subprocess; the server is one)."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return Run(code, out, err)


# --- TLS --------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_cli_checks_over_tls(tls_server: ServerProcess, pki: Pki, regimen_file, host) -> None:
    result = run_cli("check", str(regimen_file), *target(tls_server, host), "--tls-ca", str(pki.ca))
    assert result.returncode == EXIT_REVIEW, result.stderr
    assert "REVIEW" in result.stdout and "SEROTONERGIC_COMBINATION" in result.stdout
    assert "serving" in tls_server.log and ", TLS (pid" in tls_server.log


def test_cli_lists_and_batches_over_tls(
    capsys, tls_server: ServerProcess, pki: Pki, regimen_file: Path, tmp_path: Path
) -> None:
    tls = ["--tls-ca", str(pki.ca)]
    assert cli(capsys, "rules", *target(tls_server), *tls).returncode == 0
    drugs = cli(capsys, "drugs", "duloxetine", *target(tls_server), *tls)
    assert drugs.returncode == 0 and "duloxetine" in drugs.stdout
    lines = tmp_path / "batch.jsonl"
    lines.write_text(" ".join(REVIEW_REQUEST_JSON.split()) + "\n", encoding="utf-8")
    for mode in ([], ["--stream"]):
        batch = cli(capsys, "check-batch", str(lines), *mode, *target(tls_server), *tls)
        assert batch.returncode == EXIT_REVIEW, batch.stderr
        assert '"verdict": "VERDICT_REVIEW"' in batch.stdout


def test_plaintext_client_cannot_talk_to_a_tls_server(
    capsys, tls_server: ServerProcess, regimen_file
) -> None:
    result = cli(capsys, "check", str(regimen_file), *target(tls_server))
    assert result.returncode == EXIT_CONNECTION
    assert "UNAVAILABLE" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_client_that_does_not_trust_the_server_ca_is_refused(
    capsys, tls_server: ServerProcess, pki: Pki, regimen_file
) -> None:
    result = cli(
        capsys, "check", str(regimen_file), *target(tls_server), "--tls-ca", str(pki.other_ca)
    )
    assert result.returncode == EXIT_CONNECTION, result.stderr


# --- mutual TLS -------------------------------------------------------------------------------


def test_mtls_client_with_a_certificate_from_the_ca_succeeds(
    mtls_server: ServerProcess, pki: Pki, regimen_file
) -> None:
    result = run_cli(
        "check",
        str(regimen_file),
        *target(mtls_server),
        "--tls-ca",
        str(pki.ca),
        "--tls-cert",
        str(pki.client_cert),
        "--tls-key",
        str(pki.client_key),
    )
    assert result.returncode == EXIT_REVIEW, result.stderr
    log = mtls_server.log_with('"client":"pharmacy-client"')
    assert ", mutual TLS (pid" in log
    assert '"client":"pharmacy-client"' in log  # the access log names the client


@pytest.mark.parametrize("client", ["no-certificate", "other-ca", "plaintext"])
def test_mtls_refuses_clients_without_a_valid_certificate(
    capsys, mtls_server: ServerProcess, pki: Pki, regimen_file, client: str
) -> None:
    flags = {
        "no-certificate": ["--tls-ca", str(pki.ca)],
        "other-ca": [
            "--tls-ca",
            str(pki.ca),
            "--tls-cert",
            str(pki.other_client_cert),
            "--tls-key",
            str(pki.other_client_key),
        ],
        "plaintext": [],
    }[client]
    result = cli(capsys, "check", str(regimen_file), *target(mtls_server), *flags)
    assert result.returncode == EXIT_CONNECTION, (result.returncode, result.stderr)
    assert "UNAVAILABLE" in result.stderr


@pytest.mark.parametrize("client", ["no-certificate", "other-ca"])
def test_mtls_refusal_is_unavailable_for_grpc_clients(
    mtls_server: ServerProcess, pki: Pki, client: str
) -> None:
    if client == "no-certificate":
        credentials = channel_credentials(pki.ca)
    else:
        credentials = channel_credentials(pki.ca, pki.other_client_cert, pki.other_client_key)
    with grpc.secure_channel(f"localhost:{mtls_server.port}", credentials) as channel:
        stub = pb_grpc.RegimenCheckerServiceStub(channel)
        with pytest.raises(grpc.RpcError) as raised:
            stub.CheckRegimen(review_request(), timeout=5)
        assert raised.value.code() is grpc.StatusCode.UNAVAILABLE
    good = channel_credentials(pki.ca, pki.client_cert, pki.client_key)
    with grpc.secure_channel(f"localhost:{mtls_server.port}", good) as channel:
        stub = pb_grpc.RegimenCheckerServiceStub(channel)
        assert stub.CheckRegimen(review_request(), timeout=5).request_id == "rx-1"


# --- bad flags and files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "flags",
    [
        ["--tls-cert", "{server_cert}"],
        ["--tls-key", "{server_key}"],
        ["--tls-client-ca", "{ca}"],
        ["--tls-client-ca", "{ca}", "--tls-key", "{server_key}"],
    ],
    ids=["cert-without-key", "key-without-cert", "client-ca-alone", "client-ca-and-key"],
)
def test_serve_bad_tls_flag_combinations_are_usage_errors(
    capsys, pki: Pki, flags: list[str]
) -> None:
    paths = {"server_cert": pki.server_cert, "server_key": pki.server_key, "ca": pki.ca}
    result = cli(
        capsys, "serve", "--port", "0", "--workers", "1", *[f.format(**paths) for f in flags]
    )
    assert result.returncode == EXIT_USAGE, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "flags",
    [
        ["--tls-cert", "{client_cert}"],
        ["--tls-ca", "{ca}", "--tls-key", "{client_key}"],
        ["--local", "--tls-ca", "{ca}"],
        ["--tls-ca", "{missing}"],
    ],
    ids=["cert-without-key", "key-without-cert", "local", "missing-ca"],
)
def test_client_bad_tls_flags_are_usage_errors(
    capsys, pki: Pki, regimen_file: Path, tmp_path: Path, flags: list[str]
) -> None:
    paths = {
        "client_cert": pki.client_cert,
        "client_key": pki.client_key,
        "ca": pki.ca,
        "missing": tmp_path / "missing.pem",
    }
    result = cli(capsys, "check", str(regimen_file), *[f.format(**paths) for f in flags])
    assert result.returncode == EXIT_USAGE, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "problem", ["missing-cert", "missing-key", "not-pem", "wrong-key", "bad-ca"]
)
@pytest.mark.usefixtures("keep_logging")
def test_serve_unusable_certificate_files_are_startup_errors(
    capsys, pki: Pki, tmp_path: Path, problem: str
) -> None:
    cert, key, ca = pki.server_cert, pki.server_key, None
    if problem == "missing-cert":
        cert = tmp_path / "nope.crt"
    elif problem == "missing-key":
        key = tmp_path / "nope.key"
    elif problem == "not-pem":
        cert = tmp_path / "garbage.crt"
        cert.write_text("this is not a certificate\n")
    elif problem == "wrong-key":
        key = pki.client_key
    else:
        ca = tmp_path / "bad-ca.pem"
        ca.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    flags = ["--tls-cert", str(cert), "--tls-key", str(key)]
    if ca is not None:
        flags += ["--tls-client-ca", str(ca)]
    result = cli(capsys, "serve", "--port", "0", "--workers", "1", *flags)
    assert result.returncode == EXIT_STARTUP, result.stderr
    lines = result.stderr.strip().splitlines()
    # serve logs JSON lines (regimenguard.server.log_setup), the start-up error too.
    assert len(lines) == 1, lines
    line = json.loads(lines[0])
    assert line["level"] == "ERROR"
    assert line["message"].startswith("regimen-guard: cannot start: "), line
    assert "Traceback" not in result.stderr


def test_server_tls_load_names_the_file(pki: Pki, tmp_path: Path) -> None:
    with pytest.raises(TLSConfigError, match=r"nope\.crt"):
        ServerTLS.load(tmp_path / "nope.crt", pki.server_key)
    tls = ServerTLS.load(pki.server_cert, pki.server_key, pki.ca)
    assert tls.mutual and tls.client_ca == pki.ca.read_bytes()
    assert not ServerTLS.load(pki.server_cert, pki.server_key).mutual


# --- the access log of a real server ----------------------------------------------------------


def test_serve_access_log_has_drug_names_only_with_log_phi(
    capsys, tls_server: ServerProcess, mtls_server: ServerProcess, pki: Pki, regimen_file: Path
) -> None:
    mutual = ["--tls-cert", str(pki.client_cert), "--tls-key", str(pki.client_key)]
    for server, extra in ((tls_server, []), (mtls_server, mutual)):
        result = cli(
            capsys,
            "check",
            str(regimen_file),
            "--request-id",
            "phi-probe",
            *target(server),
            "--tls-ca",
            str(pki.ca),
            *extra,
        )
        assert result.returncode == EXIT_REVIEW, result.stderr
    plain_log, phi_log = (server.log_with("phi-probe") for server in (tls_server, mtls_server))
    plain = [json.loads(line) for line in plain_log.splitlines() if '"phi-probe"' in line]
    phi = [json.loads(line) for line in phi_log.splitlines() if '"phi-probe"' in line]
    assert len(plain) == 1 and len(phi) == 1  # one bare JSON line per call
    assert "drugs" not in plain[0] and "cyclobenzaprine" not in plain_log
    assert phi[0]["drugs"] == ["duloxetine", "cyclobenzaprine"]
    assert phi[0]["patients"][0]["age_years"] == 70
