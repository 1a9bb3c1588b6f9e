"""Fetching what the prefetch lacks from the EHR's FHIR server (``fhirServer`` +
``fhirAuthorization``), as CDS Hooks 2.0 allows: the same queries as the prefetch templates.

Only when both are given (no anonymous fetches), only http(s) URLs, a short timeout, at most
``MAX_PAGES`` pages of a searchset; a failure is reported to the caller (an info card) and the
regimen is checked with what the request carried.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

TIMEOUT_SECONDS = 5.0
MAX_PAGES = 5
QUERIES = {
    "Patient": "Patient/{id}",
    "Condition": "Condition?patient={id}&clinical-status=active,recurrence,relapse,resolved",
    "MedicationRequest": "MedicationRequest?patient={id}&status=active",
}


class FhirFetchError(Exception):
    """The FHIR server could not be read; the message names what and why (no token)."""


async def fetch_missing(
    body: dict[str, Any], patient_id: str, missing: set[str]
) -> list[tuple[dict[str, Any], str]]:
    """The resources of each missing kind, with where they came from; [] without authorization."""
    server = body.get("fhirServer")
    authorization = body.get("fhirAuthorization")
    if not isinstance(server, str) or not isinstance(authorization, dict):
        return []
    token = authorization.get("access_token")
    if not isinstance(token, str) or not token:
        return []
    if urlsplit(server).scheme not in ("http", "https"):
        raise ValueError("fhirServer must be an http or https URL")
    base = server.rstrip("/")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    found: list[tuple[dict[str, Any], str]] = []
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, headers=headers) as client:
        for kind in ("Patient", "Condition", "MedicationRequest"):
            if kind not in missing:
                continue
            url: str | None = f"{base}/{QUERIES[kind].format(id=patient_id)}"
            pages = 0
            while url and pages < MAX_PAGES:
                pages += 1
                try:
                    response = await client.get(url)
                except httpx.HTTPError as error:
                    raise FhirFetchError(
                        f"{kind} from the FHIR server: {type(error).__name__}"
                    ) from None
                if response.status_code == 404 and kind == "Patient":
                    break
                if response.status_code != 200:
                    raise FhirFetchError(
                        f"{kind} from the FHIR server: HTTP {response.status_code}"
                    )
                try:
                    document = response.json()
                except ValueError:
                    raise FhirFetchError(f"{kind} from the FHIR server: not JSON") from None
                url = None
                if document.get("resourceType") == "Bundle":
                    for i, entry in enumerate(document.get("entry") or []):
                        resource = entry.get("resource") if isinstance(entry, dict) else None
                        if isinstance(resource, dict) and resource.get("resourceType") == kind:
                            found.append((resource, f"fhirServer {kind} search, entry {i}"))
                    url = next(
                        (
                            link.get("url")
                            for link in document.get("link") or []
                            if isinstance(link, dict) and link.get("relation") == "next"
                        ),
                        None,
                    )
                elif document.get("resourceType") == kind:
                    found.append((document, f"fhirServer {kind}"))
    return found
