"""Helpers for the hardening tests: throwaway PKI, server subprocesses, health polling."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2
from grpc_status import rpc_status

from regimenguard.server.errors import ERROR_DOMAIN, field_violations
from regimenguard.v1 import regimen_checker_pb2 as pb
from tests.grpc_helpers import free_port, health_status

REPO = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-23"


# --- requests ---------------------------------------------------------------------------------


def review_request(request_id: str = "rx-1") -> pb.CheckRegimenRequest:
    """The contract's example, duloxetine + cyclobenzaprine in a 70-year-old: REVIEW."""
    return pb.CheckRegimenRequest(
        request_id=request_id,
        patient=pb.Patient(age_years=70),
        as_of=AS_OF,
        medications=[
            pb.MedicationOrder(
                drug="duloxetine", dose_mg=60, doses_per_day=1, started_on="2026-09-01"
            ),
            pb.MedicationOrder(
                drug="cyclobenzaprine",
                dose_mg=5,
                doses_per_day=3,
                as_needed=True,
                action=pb.ORDER_ACTION_START,
            ),
        ],
    )


REVIEW_REQUEST_JSON = """{
  "requestId": "rx-1",
  "patient": {"ageYears": 70},
  "asOf": "2026-11-23",
  "medications": [
    {"drug": "duloxetine", "doseMg": 60, "dosesPerDay": 1, "startedOn": "2026-09-01"},
    {"drug": "cyclobenzaprine", "doseMg": 5, "dosesPerDay": 3, "asNeeded": true,
     "action": "ORDER_ACTION_START"}
  ]
}
"""


# --- rich errors ------------------------------------------------------------------------------


def rich_status(error: grpc.RpcError) -> status_pb2.Status:
    """The google.rpc.Status of a failed call (its grpc-status-details-bin)."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, f"no rich status on {error.code()}: {error.details()}"  # type: ignore[attr-defined]
    return status


def error_infos(status: status_pb2.Status) -> list[error_details_pb2.ErrorInfo]:
    infos = []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            infos.append(info)
    return infos


def assert_rich_invalid(
    status: status_pb2.Status, *, reason: str | None = None, fields: list[str] | None = None
) -> None:
    """INVALID_ARGUMENT with a BadRequest naming fields by path and one ErrorInfo (reason in
    UPPER_SNAKE, domain regimenguard.v1)."""
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0], status
    violations = field_violations(status)
    assert violations, f"no BadRequest field violations in {status}"
    for violation in violations:
        assert violation.field and violation.description, violation
    infos = error_infos(status)
    assert len(infos) == 1, infos
    assert infos[0].domain == ERROR_DOMAIN == "regimenguard.v1"
    assert infos[0].reason and infos[0].reason == infos[0].reason.upper(), infos[0]
    assert all(part.isalnum() for part in infos[0].reason.split("_")), infos[0].reason
    if reason is not None:
        assert infos[0].reason == reason
    if fields is not None:
        assert sorted(v.field for v in violations) == sorted(fields)
    assert status.message


# --- ports and health -------------------------------------------------------------------------


def wait_serving(channel: grpc.Channel, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if health_status(channel, timeout=1.0) == health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.RpcError as error:
            last = error
        time.sleep(0.05)
    raise AssertionError(f"server not SERVING within {timeout} s: {last}")


# --- server subprocesses ----------------------------------------------------------------------


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "regimenguard.client.cli", *args]


def run_cli(
    *args: str, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        cli_command(*args),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


@dataclass
class ServerProcess:
    """`regimen-guard serve` in a subprocess on 127.0.0.1; stderr goes to a file."""

    process: subprocess.Popen
    port: int
    log_path: Path

    @classmethod
    def start(
        cls, tmp_path: Path, *args: str, port: int | None = None, host: str | None = "127.0.0.1"
    ) -> ServerProcess:
        """``host`` None: no --host flag (the default bind)."""
        port = port or free_port()
        log_path = tmp_path / f"server-{port}.log"
        log = log_path.open("wb")
        where = ["--host", host] if host is not None else []
        process = subprocess.Popen(
            cli_command("serve", *where, "--port", str(port), *args),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        return cls(process, port, log_path)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_with(self, *texts: str, timeout: float = 10.0) -> str:
        """The log once it contains every one of ``texts`` (the access log is written out
        every 0.5 s), or as it stands after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        log = self.log
        while not all(text in log for text in texts) and time.monotonic() < deadline:
            time.sleep(0.05)
            log = self.log
        return log

    def wait_serving(self, credentials: grpc.ChannelCredentials | None = None, **kw) -> None:
        if credentials is None:
            channel = grpc.insecure_channel(self.target)
        else:
            channel = grpc.secure_channel(f"localhost:{self.port}", credentials)
        with channel:
            try:
                wait_serving(channel, **kw)
            except AssertionError:
                raise AssertionError(
                    f"server did not come up (exit {self.process.poll()}):\n{self.log}"
                ) from None

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 15.0) -> int:
        self.terminate()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            raise

    def rss_kib(self) -> int:
        """Resident set size of the server process, from /proc/<pid>/status."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS line")


# --- throwaway PKI ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path
    other_client_cert: Path
    other_client_key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    server: bool = False,
    valid: tuple[dt.timedelta, dt.timedelta] = (dt.timedelta(minutes=-5), dt.timedelta(days=1)),
) -> x509.Certificate:
    """A certificate valid from now + valid[0] to now + valid[1]."""
    now = dt.datetime.now(dt.UTC)
    issuer_name = issuer[0].subject if issuer else _name(subject)
    signing_key = issuer[1] if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + valid[0])
        .not_valid_after(now + valid[1])
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(signing_key, hashes.SHA256())


def _write(folder: Path, name: str, cert: x509.Certificate, key=None) -> tuple[Path, Path | None]:  # type: ignore[no-untyped-def]
    cert_path = folder / f"{name}.crt"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = None
    if key is not None:
        key_path = folder / f"{name}.key"
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path


def make_pki(folder: Path) -> Pki:
    """A CA with a server certificate (localhost, 127.0.0.1) and a client certificate, and a
    second, unrelated CA with a client certificate of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca_cert = _certificate("RegimenGuard test CA", ca_key, None, ca=True)
    server_key, client_key = _key(), _key()
    server_cert = _certificate("localhost", server_key, (ca_cert, ca_key), server=True)
    client_cert = _certificate("pharmacy-client", client_key, (ca_cert, ca_key))
    other_key = _key()
    other_cert = _certificate("Some other CA", other_key, None, ca=True)
    rogue_key = _key()
    rogue_cert = _certificate("rogue-client", rogue_key, (other_cert, other_key))
    ca_path, _ = _write(folder, "ca", ca_cert)
    server_cert_path, server_key_path = _write(folder, "server", server_cert, server_key)
    client_cert_path, client_key_path = _write(folder, "client", client_cert, client_key)
    other_ca_path, _ = _write(folder, "other-ca", other_cert)
    rogue_cert_path, rogue_key_path = _write(folder, "rogue", rogue_cert, rogue_key)
    assert server_key_path and client_key_path and rogue_key_path
    return Pki(
        ca=ca_path,
        server_cert=server_cert_path,
        server_key=server_key_path,
        client_cert=client_cert_path,
        client_key=client_key_path,
        other_ca=other_ca_path,
        other_client_cert=rogue_cert_path,
        other_client_key=rogue_key_path,
    )


def make_dated_pki(
    folder: Path,
    *,
    server_valid: tuple[dt.timedelta, dt.timedelta] | None = None,
    ca_valid: tuple[dt.timedelta, dt.timedelta] | None = None,
) -> Pki:
    """Like make_pki, with the server certificate and/or the CA valid only in the given window
    (offsets from now): for expired and not-yet-valid certificates."""
    folder.mkdir(parents=True, exist_ok=True)
    default = (dt.timedelta(minutes=-5), dt.timedelta(days=1))
    ca_key, server_key, client_key = _key(), _key(), _key()
    ca_cert = _certificate("RegimenGuard test CA", ca_key, None, ca=True, valid=ca_valid or default)
    server_cert = _certificate(
        "localhost", server_key, (ca_cert, ca_key), server=True, valid=server_valid or default
    )
    client_cert = _certificate("pharmacy-client", client_key, (ca_cert, ca_key))
    ca_path, _ = _write(folder, "ca", ca_cert)
    server_cert_path, server_key_path = _write(folder, "server", server_cert, server_key)
    client_cert_path, client_key_path = _write(folder, "client", client_cert, client_key)
    assert server_key_path and client_key_path
    return Pki(
        ca=ca_path,
        server_cert=server_cert_path,
        server_key=server_key_path,
        client_cert=client_cert_path,
        client_key=client_key_path,
        other_ca=ca_path,
        other_client_cert=client_cert_path,
        other_client_key=client_key_path,
    )
