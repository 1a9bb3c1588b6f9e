"""UNKNOWN_DRUG: a name the knowledge base cannot resolve, with close matches suggested."""

from __future__ import annotations

from collections.abc import Iterable

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.interactions.resolver import SUGGESTED_NAMES_PER_REQUEST
from regimenguard.regimen.facts import RegimenFacts
from regimenguard.regimen.model import Finding
from regimenguard.regimen.rules.base import join, make_finding


def unknown_drug(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """Each unresolved name of the resulting regimen; the rest of the regimen is still checked.

    A brand sold in several strengths (``Norco``) is reported the same way, listing its
    strengths: its ingredients still count for interactions, but its amounts cannot. Names in
    STOP orders are not reported: they do not change the resulting regimen. Close matches are
    searched for the first SUGGESTED_NAMES_PER_REQUEST unknown names only, so that a request
    full of unknown names costs a bounded amount of work.
    """
    resolver = facts.knowledge.resolver
    findings = []
    searches_left = SUGGESTED_NAMES_PER_REQUEST
    for order in facts.active_orders:
        for name in order.unresolved_names:
            match = resolver.resolve(name)
            drugs = [name]
            if match is not None and match.is_ambiguous:
                drugs = [ingredient for ingredient, _ in match.ingredients]
                message = (
                    f"{name!r} is sold in several strengths ({join(match.candidates)}); its amounts "
                    "cannot be counted, though its ingredients are still checked for interactions."
                )
                advice = (
                    "Give the strength (e.g. "
                    + match.candidates[-1]
                    + ") or list the ingredients with their doses."
                )
            else:
                suggestions: tuple[str, ...] = ()
                if searches_left > 0:
                    searches_left -= 1
                    suggestions = facts.close_matches(name)
                message = f"{name!r} is not in the knowledge base; it could not be checked."
                advice = (
                    (f"Did you mean {join(suggestions, 'or')}? " if suggestions else "")
                    + "Use a generic name, a brand, or rxcui:NNNN, and have a pharmacist review the order."
                )
            findings.append(make_finding(spec, drugs=drugs, message=message, recommendation=advice))
    return findings
