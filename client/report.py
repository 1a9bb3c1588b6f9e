"""The human-readable report of a CheckRegimenResponse: verdict, findings, totals, orders."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Sequence
from typing import IO

from regimenguard.regimen.sig import SigReading
from regimenguard.regimen.sig.words import frequency_words, number
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
MIN_WIDTH = 40


def colour_wanted(stream: IO[str]) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def terminal_width(stream: IO[str]) -> int:
    """The terminal's width (COLUMNS honoured); WIDTH when the output is not a terminal."""
    if not stream.isatty():
        return WIDTH
    return max(shutil.get_terminal_size((WIDTH, 24)).columns, MIN_WIDTH)


def render_readings(readings: Sequence[SigReading], *, width: int = WIDTH) -> str:
    """How each --med was read, with every assumption the reading made flagged."""
    lines = ["Orders as read:"]
    for index, reading in enumerate(readings):
        lines += _wrapped(f"[{index}] ", f'"{reading.text.strip()}" -> {reading.describe()}', width)
        for assumption in reading.assumptions:
            lines += _wrapped("      assumed: ", assumption, width)
    return "\n".join(lines) + "\n"


def _paint(text: str, key: str, colour: bool) -> str:
    return f"\033[1;{_COLOURS[key]}m{text}\033[0m" if colour else text


def _mg(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def render(
    response: pb.CheckRegimenResponse,
    *,
    colour: bool = False,
    explain: bool = False,
    width: int = WIDTH,
    request: pb.CheckRegimenRequest | None = None,
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
        lines += _wrapped("", finding.message, width)
        lines += _wrapped("Do: ", finding.recommendation, width)
        lines += _wrapped(
            "Source: ", f"{finding.guideline_section} (NCPDP {finding.ncpdp_reason_code})", width
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
    typed = list(request.medications) if request is not None else []
    for order in summary.orders:
        index = order.medication_index
        sent = typed[index] if 0 <= index < len(typed) else None
        lines += _wrapped(
            f"[{index}] ",
            f"{order.drug or '(ingredients)'}: {_order_text(order, explain, sent)}",
            width,
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


def _order_text(
    order: pb.ResolvedOrder, explain: bool, sent: pb.MedicationOrder | None = None
) -> str:
    action = (
        pb.OrderAction.Name(order.action).removeprefix("ORDER_ACTION_").lower().replace("_", " ")
    )
    if not order.ingredients:
        return f"{action}; NOT RESOLVED"
    parts = []
    rate = sent.rate_mcg_per_hour if sent is not None else 0.0
    for ingredient in order.ingredients:
        if rate:
            amount = f" {number(rate)} mcg/h ({_mg(ingredient.mg_per_day)} mg/day)"
        elif ingredient.mg_per_day:
            amount = (
                f" {_amount(ingredient.mg_per_dose)}/dose, {_amount(ingredient.mg_per_day)}/day"
            )
        else:
            amount = " amount unknown"
        text = f"{ingredient.name}{amount}"
        if explain:
            text += f" (RxCUI {ingredient.rxcui or '-'}; {', '.join(ingredient.classes)})"
        parts.append(text)
    product = f"{order.product}: " if order.product else ""
    unresolved = "" if order.resolved else " (partly unresolved)"
    how_often = ""
    if sent is not None and sent.doses_per_day > 0:
        words = frequency_words(sent.doses_per_day)
        how_often = f"; {'change ' if rate else ''}{words}" + (
            " at most (as needed)" if sent.as_needed else ""
        )
    return f"{action}; {product}{'; '.join(parts)}{unresolved}{how_often}"


def _amount(mg: float) -> str:
    """An amount in the unit a prescriber would write it in: mcg below 1 mg, else mg."""
    if 0 < mg < 1:
        return f"{number(round(mg * 1000, 3))} mcg"
    return f"{_mg(mg)} mg"


def _wrapped(prefix: str, text: str, width: int = WIDTH) -> list[str]:
    return textwrap.wrap(
        prefix + text,
        width=max(width, MIN_WIDTH),
        initial_indent="  ",
        subsequent_indent="  " + " " * len(prefix),
        break_on_hyphens=False,
    ) or ["  " + prefix]
