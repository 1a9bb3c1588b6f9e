"""The HTTP door in-process for tests: one app per knowledge base, a fixed check date, tokens."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from regimenguard.regimen.service import RegimenService
from regimenguard.server.http.app import Health, create_http_app
from regimenguard.server.http.auth import CdsSecurity, Issuer
from regimenguard.server.http.metrics import HttpMetrics

AS_OF = dt.date(2026, 11, 23)
BASE_URL = "https://cds.example.test"
ISSUER = "https://ehr.example.test"
SIGN = "/cds-services/regimenguard-order-sign"
SELECT = "/cds-services/regimenguard-order-select"


class EhrKeys:
    """An EHR's signing key and its JWKS, as the site configuration would hold it."""

    def __init__(self, kid: str = "ehr-key-1") -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        public.update(kid=kid, alg="RS384", use="sig")
        self.jwks = {"keys": [public]}

    def token(
        self,
        *,
        iss: str = ISSUER,
        aud: str = BASE_URL + SIGN,
        expires_in: float = 300,
        jti: str | None = None,
    ) -> str:
        now = time.time()
        claims = {
            "iss": iss,
            "aud": aud,
            "exp": int(now + expires_in),
            "iat": int(now),
            "jti": jti or str(uuid.uuid4()),
            "sub": "ehr-client",
        }
        return jwt.encode(claims, self.private, algorithm="RS384", headers={"kid": self.kid})


def make_client(
    service: RegimenService, *, keys: EhrKeys | None = None, metrics: HttpMetrics | None = None
) -> TestClient:
    """A client of the HTTP door; with ``keys``, tokens are verified against that EHR."""
    if keys is None:
        security = CdsSecurity(verify_tokens=False, base_url=BASE_URL)
    else:
        security = CdsSecurity(
            verify_tokens=True,
            base_url=BASE_URL,
            issuers={ISSUER: Issuer(ISSUER, keys.jwks)},
        )
    health = Health()
    health.serving = True
    app = create_http_app(
        service,
        security=security,
        metrics=metrics or HttpMetrics(),
        today=lambda: AS_OF,
        health=health,
    )
    return TestClient(app, base_url=BASE_URL, raise_server_exceptions=False)


def cards_by_rule(response_json: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The cards of a CDS response keyed by rule id (info cards of unmapped orders left out)."""
    found = {}
    for card in response_json["cards"]:
        rule = card.get("extension", {}).get("regimenguard", {}).get("ruleId")
        if rule:
            found[rule] = card
    return found
