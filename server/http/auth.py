"""CDS Hooks security: the EHR's bearer JWT, verified as the CDS Hooks 2.0 specification asks.

The site configuration's ``[cds_hooks]`` section (the same TOML file as ``--config``)::

    [cds_hooks]
    base_url = "https://cds.example.org"   # tokens' audience: base_url + /cds-services/{id}
    verify_tokens = true                   # false only on a trusted network, explicitly

    [[cds_hooks.issuers]]
    iss = "https://ehr.example.org"
    jwks_file = "ehr-jwks.json"            # or jwks_url = "https://ehr.example.org/jwks"

A token is accepted only when its ``iss`` is one of the issuers, its signature verifies with a
key of that issuer's JWKS (RS/ES/PS 256-512, chosen by ``kid``), its ``aud`` is the URL of the
service called, it has not expired (``exp``, 60 s leeway) and its ``jti`` has not been seen
before (a replay cache kept until each token's expiry). Anything else is 401. With
``verify_tokens = false`` no token is needed (and one given is not looked at).
"""

from __future__ import annotations

import json
import threading
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jwt

from regimenguard.regimen.settings import SettingsError

ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512")
LEEWAY_SECONDS = 60
JWKS_CACHE_SECONDS = 600
MAX_REMEMBERED_TOKENS = 100_000


class AuthError(Exception):
    """The request's token is missing or not acceptable; the message says why (no secrets)."""


@dataclass(frozen=True)
class Issuer:
    iss: str
    jwks: Mapping[str, Any] | None = None  # loaded from jwks_file (or given)
    jwks_url: str = ""


@dataclass(frozen=True)
class CdsSecurity:
    verify_tokens: bool = True
    base_url: str = ""
    issuers: Mapping[str, Issuer] = field(default_factory=lambda: MappingProxyType({}))


def load_security(path: Path | None) -> CdsSecurity:
    """The ``[cds_hooks]`` section of the site configuration (defaults without one: tokens are
    verified and no issuer is trusted, so every CDS call is refused until one is configured)."""
    if path is None:
        return CdsSecurity()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"{path}: cannot read: {error}") from None
    section = document.get("cds_hooks", {})
    if not isinstance(section, dict):
        raise SettingsError(f"{path}: [cds_hooks] must be a table")
    unknown = set(section) - {"base_url", "verify_tokens", "issuers"}
    if unknown:
        raise SettingsError(f"{path}: unknown key cds_hooks.{sorted(unknown)[0]}")
    verify = section.get("verify_tokens", True)
    if not isinstance(verify, bool):
        raise SettingsError(f"{path}: cds_hooks.verify_tokens must be true or false")
    base_url = section.get("base_url", "")
    if not isinstance(base_url, str):
        raise SettingsError(f"{path}: cds_hooks.base_url must be a string")
    issuers: dict[str, Issuer] = {}
    for i, entry in enumerate(section.get("issuers", [])):
        where = f"{path}: cds_hooks.issuers[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("iss"), str):
            raise SettingsError(f"{where} needs iss")
        jwks = None
        if "jwks_file" in entry:
            jwks_path = (path.parent / str(entry["jwks_file"])).resolve()
            try:
                jwks = json.loads(jwks_path.read_text(encoding="utf-8"))
                jwt.PyJWKSet.from_dict(jwks)
            except (OSError, ValueError, jwt.PyJWTError) as error:
                raise SettingsError(f"{where}.jwks_file {jwks_path}: not a JWKS: {error}") from None
        url = entry.get("jwks_url", "")
        if jwks is None and not (isinstance(url, str) and url.startswith("https://")):
            raise SettingsError(f"{where} needs jwks_file or an https:// jwks_url")
        issuers[entry["iss"]] = Issuer(entry["iss"], jwks, url if isinstance(url, str) else "")
    return CdsSecurity(verify, base_url.rstrip("/"), MappingProxyType(issuers))


class TokenVerifier:
    """Verifies bearer tokens; thread-safe (the replay cache and JWKS cache take a lock)."""

    def __init__(
        self,
        security: CdsSecurity,
        *,
        fetch_jwks=None,
        clock=time.time,  # type: ignore[no-untyped-def]
    ) -> None:
        self.security = security
        self._clock = clock
        self._fetch = fetch_jwks or _fetch_jwks
        self._seen: dict[tuple[str, str], float] = {}
        self._jwks: dict[str, tuple[float, jwt.PyJWKSet]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.security.verify_tokens

    def verify(self, authorization: str | None, audience: str) -> dict[str, Any] | None:
        """The token's claims; None when verification is off. Raises AuthError."""
        if not self.security.verify_tokens:
            return None
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthError("a bearer token is required")
        token = authorization[len("Bearer ") :].strip()
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AuthError("the token is not a JWT") from None
        issuer = self.security.issuers.get(str(unverified.get("iss", "")))
        if issuer is None:
            raise AuthError("the token's issuer is not trusted")
        if header.get("alg") not in ALGORITHMS:
            raise AuthError("the token's algorithm is not accepted")
        key = self._key(issuer, header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=audience,
                issuer=issuer.iss,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "exp", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError("the token's audience is not this service") from None
        except jwt.PyJWTError as error:
            raise AuthError(f"the token is not valid ({type(error).__name__})") from None
        self._remember(issuer.iss, str(claims["jti"]), float(claims["exp"]))
        return claims

    def _key(self, issuer: Issuer, kid: str | None):  # type: ignore[no-untyped-def]
        keys = self._keyset(issuer)
        for key in keys.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise AuthError("no key of the issuer's JWKS matches the token's kid")

    def _keyset(self, issuer: Issuer) -> jwt.PyJWKSet:
        if issuer.jwks is not None:
            return jwt.PyJWKSet.from_dict(dict(issuer.jwks))
        now = self._clock()
        with self._lock:
            cached = self._jwks.get(issuer.iss)
            if cached is not None and now - cached[0] < JWKS_CACHE_SECONDS:
                return cached[1]
        try:
            keyset = jwt.PyJWKSet.from_dict(self._fetch(issuer.jwks_url))
        except Exception:
            raise AuthError("the issuer's JWKS cannot be fetched") from None
        with self._lock:
            self._jwks[issuer.iss] = (now, keyset)
        return keyset

    def _remember(self, iss: str, jti: str, expires: float) -> None:
        now = self._clock()
        with self._lock:
            if (iss, jti) in self._seen:
                raise AuthError("the token has been used before (jti)")
            if len(self._seen) >= MAX_REMEMBERED_TOKENS:
                for key in [k for k, exp in self._seen.items() if exp + LEEWAY_SECONDS < now]:
                    del self._seen[key]
                if len(self._seen) >= MAX_REMEMBERED_TOKENS:
                    raise AuthError("too many tokens in flight; try again")
            self._seen[(iss, jti)] = expires


def _fetch_jwks(url: str) -> dict[str, Any]:
    import httpx

    response = httpx.get(url, timeout=5.0)
    response.raise_for_status()
    return response.json()
