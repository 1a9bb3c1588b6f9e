"""The human-readable report of a CheckRegimenResponse: verdict, findings, totals, orders."""

from __future__ import annotations

import textwrap

from regimenguard.v1 import regimen_checker_pb2 as pb

SEVERITY_NAMES = {
    pb.SEVERITY_INFO: "INFO",
    pb.SEVERITY_WARNING: "WARNING",
    pb.SEVERITY_CRITICAL: "CRITICAL",
}
VERDICT_NAMES = {
    pb.VERDICT_ACCEPT: "ACCEPT",
    pb.VERDICT_REVIEW: "REVIEW",
    pb.VERDICT_REJECT: "REJECT",
}
_COLOURS = {
    "ACCEPT": "32",
    "REVIEW": "33",
    "REJECT": "31",
    "INFO": "36",
    "WARNING": "33",
    "CRITICAL": "31",
}
WIDTH = 88


def _paint(text: str, key: str, colour: bool) -> str:
    return f"\033[1;{_COLOURS[key]}m{text}\033[0m" if colour else text


def _mg(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def render(
    response: pb.CheckRegimenResponse, *, colour: bool = False, explain: bool = False
) -> str:
    verdict = VERDICT_NAMES.get(response.verdict, "UNSPECIFIED")
    lines = [_paint(f"== {verdict} ==", verdict, colour)]
    if response.request_id:
        lines[0] += f"  (request {response.request_id})"
    counts = {name: 0 for name in ("CRITICAL", "WARNING", "INFO")}
    for finding in response.findings:
        counts[SEVERITY_NAMES[finding.severity]] += 1
    lines.append(
        f"{len(response.findings)} finding(s): "
        + ", ".join(f"{count} {name}" for name, count in counts.items() if count)
        if response.findings
        else "No findings."
    )
    for finding in response.findings:
        severity = SEVERITY_NAMES[finding.severity]
        ack = " [acknowledged]" if finding.acknowledged else ""
        lines.append("")
        lines.append(
            f"{_paint(severity, severity, colour)} {finding.rule_id}{ack}  [{', '.join(finding.drugs)}]"
        )
        lines += _wrapped("", finding.message)
        lines += _wrapped("Do: ", finding.recommendation)
        lines += _wrapped(
            "Source: ", f"{finding.guideline_section} (NCPDP {finding.ncpdp_reason_code})"
        )
    summary = response.summary
    lines += [
        "",
        "Totals:",
        f"  acetaminophen {_mg(summary.acetaminophen_mg_per_day)} mg/day "
        f"(limit {_mg(summary.acetaminophen_limit_mg_per_day)} mg/day)",
        f"  opioids {_mg(summary.morphine_mg_equivalents_per_day)} MME/day",
        f"  serotonergic agents {summary.serotonergic_agents}",
        "",
        "Orders as understood:",
    ]
    for order in summary.orders:
        lines.append(
            f"  [{order.medication_index}] {order.drug or '(ingredients)'}: {_order_text(order, explain)}"
        )
    if explain and summary.interactions:
        lines += ["", "Interactions that fired (knowledge-graph edges):"]
        for fired in summary.interactions:
            severity = SEVERITY_NAMES.get(fired.severity, "?")
            lines.append(
                f"  {fired.node_a} -- {fired.node_b}: {fired.rule_id} {severity} [{', '.join(fired.drugs)}]"
            )
    lines.append("")
    lines.append(f"Knowledge base {response.knowledge_base_version}")
    return "\n".join(lines) + "\n"


def _order_text(order: pb.ResolvedOrder, explain: bool) -> str:
    action = (
        pb.OrderAction.Name(order.action).removeprefix("ORDER_ACTION_").lower().replace("_", " ")
    )
    if not order.ingredients:
        return f"{action}; NOT RESOLVED"
    parts = []
    for ingredient in order.ingredients:
        amount = (
            f" {_mg(ingredient.mg_per_dose)} mg/dose, {_mg(ingredient.mg_per_day)} mg/day"
            if ingredient.mg_per_day
            else " amount unknown"
        )
        text = f"{ingredient.name}{amount}"
        if explain:
            text += f" (RxCUI {ingredient.rxcui or '-'}; {', '.join(ingredient.classes)})"
        parts.append(text)
    product = f"{order.product}: " if order.product else ""
    unresolved = "" if order.resolved else " (partly unresolved)"
    return f"{action}; {product}{'; '.join(parts)}{unresolved}"


def _wrapped(prefix: str, text: str) -> list[str]:
    return textwrap.wrap(
        prefix + text, width=WIDTH, initial_indent="  ", subsequent_indent="  " + " " * len(prefix)
    ) or ["  " + prefix]
