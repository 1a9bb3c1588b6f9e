"""CDS Hooks security: the EHR's bearer JWT (issuer allow-list with its JWKS, audience = the
service URL, expiry, jti replay) and the site configuration that sets it up."""

from __future__ import annotations

import json

import pytest

from regimenguard.regimen.service import RegimenService
from regimenguard.regimen.settings import SettingsError, load_settings
from regimenguard.server.http.auth import load_security
from tests.fhir_helpers import cds_request, med_request, patient
from tests.http_helpers import BASE_URL, ISSUER, SIGN, EhrKeys, make_client


@pytest.fixture(scope="module")
def keys() -> EhrKeys:
    return EhrKeys()


@pytest.fixture(scope="module")
def client(keys):  # type: ignore[no-untyped-def]
    return make_client(RegimenService.from_config(None), keys=keys)


def call(client, token: str | None):  # type: ignore[no-untyped-def]
    body = cds_request(
        "order-sign",
        [med_request("ibu", rxnorm="5640", dose=(400, "mg"), frequency=3, period=1)],
        {"patient": patient()},
    )
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(SIGN, json=body, headers=headers)


def refused(response, words: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert words in outcome["issue"][0]["diagnostics"]


def test_valid_token_is_accepted(client, keys):
    response = call(client, keys.token())
    assert response.status_code == 200
    assert "cards" in response.json()


def test_no_token_is_refused(client):
    refused(call(client, None), "bearer token is required")


def test_expired_token_is_refused(client, keys):
    refused(call(client, keys.token(expires_in=-600)), "expired")


def test_wrong_issuer_is_refused(client, keys):
    refused(call(client, keys.token(iss="https://evil.example.test")), "issuer is not trusted")


def test_token_signed_by_another_key_is_refused(client):
    forged = EhrKeys()  # same kid, different key: the signature does not verify
    refused(call(client, forged.token()), "not valid")


def test_wrong_audience_is_refused(client, keys):
    refused(call(client, keys.token(aud=BASE_URL + "/cds-services/someone-else")), "audience")


def test_replayed_jti_is_refused(client, keys):
    token = keys.token(jti="once-only")
    assert call(client, token).status_code == 200
    refused(call(client, token), "used before")


def test_discovery_needs_no_token(client):
    assert client.get("/cds-services").status_code == 200


def test_feedback_needs_a_token_too(client):
    response = client.post(SIGN + "/feedback", json={"feedback": []})
    assert response.status_code == 401


def test_site_configuration_sets_issuers_and_can_turn_verification_off(tmp_path, keys):
    (tmp_path / "ehr.json").write_text(json.dumps(keys.jwks))
    site = tmp_path / "site.toml"
    site.write_text(
        f'[site]\nname = "clinic"\n\n[cds_hooks]\nbase_url = "{BASE_URL}/"\n'
        f'[[cds_hooks.issuers]]\niss = "{ISSUER}"\njwks_file = "ehr.json"\n'
    )
    security = load_security(site)
    assert security.verify_tokens and security.base_url == BASE_URL
    assert security.issuers[ISSUER].jwks == keys.jwks
    assert load_settings(site).name == "clinic"  # the checker's settings ignore [cds_hooks]
    site.write_text("[cds_hooks]\nverify_tokens = false\n")
    assert load_security(site).verify_tokens is False
    assert load_security(None).verify_tokens is True  # the default: verify, trust no one


@pytest.mark.parametrize(
    "text",
    [
        '[cds_hooks]\nverify_tokens = "no"\n',
        "[cds_hooks]\nunknown = 1\n",
        '[[cds_hooks.issuers]]\niss = "https://x"\n',
        '[[cds_hooks.issuers]]\niss = "https://x"\njwks_url = "http://plain"\n',
        '[[cds_hooks.issuers]]\niss = "https://x"\njwks_file = "missing.json"\n',
    ],
)
def test_bad_security_configuration_names_the_key(tmp_path, text):
    site = tmp_path / "site.toml"
    site.write_text(text)
    with pytest.raises(SettingsError, match="cds_hooks"):
        load_security(site)


def test_issuer_keys_by_jwks_url_are_fetched_once_and_cached(keys):
    from regimenguard.server.http.auth import CdsSecurity, Issuer, TokenVerifier

    fetched: list[str] = []

    def fetch(url: str) -> dict:  # type: ignore[type-arg]
        fetched.append(url)
        return keys.jwks

    security = CdsSecurity(
        base_url=BASE_URL,
        issuers={ISSUER: Issuer(ISSUER, jwks_url="https://ehr.example.test/jwks")},
    )
    verifier = TokenVerifier(security, fetch_jwks=fetch)
    for _ in range(3):
        claims = verifier.verify(f"Bearer {keys.token()}", BASE_URL + SIGN)
        assert claims is not None and claims["iss"] == ISSUER
    assert fetched == ["https://ehr.example.test/jwks"]
