"""ListDrugs and ListRules answers: the service layer's listings as messages."""

from __future__ import annotations

from collections.abc import Iterable

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.catalogue import DrugEntry
from regimenguard.server.convert import SEVERITY_TO_PROTO
from regimenguard.v1 import regimen_checker_pb2 as pb


def drug_message(entry: DrugEntry) -> pb.Drug:
    return pb.Drug(
        name=entry.name,
        rxcui=entry.rxcui,
        brands=entry.brands,
        aliases=entry.aliases,
        classes=entry.classes,
        needs_confirmation=entry.needs_confirmation,
        combination_products=entry.combination_products,
    )


def rule_messages(rules: Iterable[RuleSpec]) -> list[pb.Rule]:
    return [
        pb.Rule(
            rule_id=spec.rule_id,
            default_severity=SEVERITY_TO_PROTO[spec.default_severity],
            summary=spec.summary,
            guideline_section=spec.guideline_section,
            ncpdp_reason_code=spec.ncpdp_reason_code,
        )
        for spec in rules
    ]


def page(items: list, page_size: int, page_token: str) -> tuple[list, str]:  # type: ignore[type-arg]
    """One page of ``items``; the token is the offset of the next page.

    Raises ValueError(field, description) for a bad size or token.
    """
    if page_size < 0:
        raise ValueError("page_size", "must not be negative (0 = everything)")
    start = 0
    if page_token:
        if not page_token.isdigit() or int(page_token) > len(items):
            raise ValueError("page_token", "is not a token returned by ListDrugs")
        start = int(page_token)
    end = len(items) if page_size == 0 else min(start + page_size, len(items))
    return items[start:end], (str(end) if end < len(items) else "")
