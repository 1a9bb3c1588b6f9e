"""TLS and mutual TLS for the server and for the CLI's client side.

Certificate files are read and checked once, at start-up, with the standard library's ``ssl``
module (PEM syntax, the key matching the certificate, a CA file holding certificates) and with
``cryptography`` (every certificate in the chain and in a CA file valid now: not expired, not yet
to come), so a bad file stops start-up with one line naming it and the dates instead of failing
every handshake later. Only PEM
bytes are kept: the gRPC credential objects are made where they are used (in each worker
process, after any fork).
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc


class TLSConfigError(ValueError):
    """A certificate, key or CA file that cannot be used; the message names the file."""


def read_pem(path: Path, what: str) -> bytes:
    """The bytes of a PEM file, or TLSConfigError naming it."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise TLSConfigError(f"cannot read {what} {path}: {error.strerror}") from None
    if b"-----BEGIN " not in data:
        raise TLSConfigError(f"{what} {path} is not a PEM file")
    return data


def _check_dates(
    data: bytes, path: Path, what: str, now: Callable[[], dt.datetime] | None = None
) -> None:
    """Every certificate in a PEM file is valid at this moment, or TLSConfigError with its
    dates (a handshake with an expired or not-yet-valid certificate fails for every client)."""
    from cryptography import x509  # only with TLS flags: it costs start-up time otherwise

    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as error:
        raise TLSConfigError(f"{what} {path} cannot be read: {error}") from None
    moment = now() if now is not None else dt.datetime.now(dt.UTC)
    for number, certificate in enumerate(certificates, start=1):
        start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
        which = f"{what} {path}" + (f" (certificate {number})" if len(certificates) > 1 else "")
        valid = f"valid from {start:%Y-%m-%d %H:%M:%S} to {end:%Y-%m-%d %H:%M:%S} UTC"
        if moment > end:
            raise TLSConfigError(f"{which} expired on {end:%Y-%m-%d %H:%M:%S} UTC ({valid})")
        if moment < start:
            raise TLSConfigError(
                f"{which} is not valid until {start:%Y-%m-%d %H:%M:%S} UTC ({valid})"
            )


def _check_pair(cert_path: Path, key_path: Path) -> None:
    """The certificate chain parses and the private key (unencrypted: gRPC takes no
    passphrase) belongs to it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert_path, key_path, password=b"")
    except (ssl.SSLError, OSError) as error:
        reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or str(error)
        raise TLSConfigError(
            f"certificate {cert_path} and key {key_path} cannot be used together: {reason}"
        ) from None


def _check_ca(ca: bytes, path: Path) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_verify_locations(cadata=ca.decode("ascii", errors="replace"))
    except (ssl.SSLError, ValueError) as error:
        reason = getattr(error, "reason", None) or str(error)
        raise TLSConfigError(f"CA certificates {path} cannot be used: {reason}") from None


@dataclass(frozen=True)
class ServerTLS:
    """The server's certificate chain and key; with ``client_ca``, client certificates are
    required and must chain to it (mutual TLS)."""

    cert_chain: bytes
    private_key: bytes
    client_ca: bytes | None = None

    @classmethod
    def load(cls, cert: Path, key: Path, client_ca: Path | None = None) -> ServerTLS:
        chain = read_pem(cert, "TLS certificate")
        private_key = read_pem(key, "TLS key")
        _check_pair(cert, key)
        _check_dates(chain, cert, "TLS certificate")
        ca = None
        if client_ca is not None:
            ca = read_pem(client_ca, "client CA")
            _check_ca(ca, client_ca)
            _check_dates(ca, client_ca, "client CA")
        return cls(chain, private_key, ca)

    @property
    def mutual(self) -> bool:
        return self.client_ca is not None

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.private_key, self.cert_chain)],
            root_certificates=self.client_ca,
            require_client_auth=self.client_ca is not None,
        )


def channel_credentials(
    ca: Path | None = None, cert: Path | None = None, key: Path | None = None
) -> grpc.ChannelCredentials:
    """Client credentials: trust ``ca`` (default: the system's roots); present ``cert``/``key``
    to a server that requires client certificates."""
    if (cert is None) != (key is None):
        raise TLSConfigError("a client certificate needs its key, and a key its certificate")
    root = None
    if ca is not None:
        root = read_pem(ca, "CA certificates")
        _check_ca(root, ca)
    chain = private_key = None
    if cert is not None and key is not None:
        chain = read_pem(cert, "TLS certificate")
        private_key = read_pem(key, "TLS key")
        _check_pair(cert, key)
    return grpc.ssl_channel_credentials(
        root_certificates=root, private_key=private_key, certificate_chain=chain
    )
