"""The rules build a Finding with ``tuple.__new__`` and every field (rules.base.new_finding):
that is the named tuple the class builds, field for field, as long as the fields are these."""

from __future__ import annotations

from regimenguard.interactions.severity import Severity
from regimenguard.regimen.model import Finding
from regimenguard.regimen.rules.base import make_finding, new_finding


def test_a_finding_built_from_its_fields_is_the_named_tuple() -> None:
    assert Finding._fields == (
        "rule_id",
        "severity",
        "drugs",
        "message",
        "recommendation",
        "guideline_section",
        "ncpdp_reason_code",
        "acknowledged",
    )
    fields = ("R", Severity.WARNING, ("a", "b"), "m", "r", "s", "c", False)
    built = new_finding(Finding, fields)
    assert type(built) is Finding
    assert built == Finding(*fields[:-1])
    assert built.acknowledged is False and built.drugs == ("a", "b")
    assert built._replace(acknowledged=True).acknowledged is True


def test_make_finding_fills_the_rule_defaults(knowledge) -> None:  # type: ignore[no-untyped-def]
    spec = next(spec for spec in knowledge.rules if spec.rule_id == "DUPLICATE_THERAPY")
    finding = make_finding(spec, drugs=["b", "a", "b"], message="m", recommendation="r")
    assert finding == Finding(
        "DUPLICATE_THERAPY",
        spec.default_severity,
        ("a", "b"),
        "m",
        "r",
        spec.guideline_section,
        spec.ncpdp_reason_code,
    )
