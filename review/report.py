"""``report.html``: one self-contained page (Vega-Altair, its JavaScript inlined) over the output.

Counts by verdict, findings by rule and severity, the distributions of daily MME and daily
acetaminophen, the most frequent interacting pairs and the patients with the most critical
findings (by id only). Everything is aggregated before it goes into the page, so its size does
not grow with the population; it opens offline.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import altair as alt
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from regimenguard.review.tables import read_output

TOP = 20
SEVERITIES = ("SEVERITY_CRITICAL", "SEVERITY_WARNING", "SEVERITY_INFO")
VERDICTS = ("VERDICT_ACCEPT", "VERDICT_REVIEW", "VERDICT_REJECT")
_COLOURS = {"ACCEPT": "#2e7d32", "REVIEW": "#f9a825", "REJECT": "#c62828"}


def _short(name: str) -> str:
    return name.split("_", 1)[1] if "_" in name else name


def _counts(column: pa.ChunkedArray) -> dict[str, int]:
    return {row["values"]: row["counts"] for row in pc.value_counts(column).to_pylist()}


def _histogram(values: np.ndarray, label: str, bins: int = 30) -> list[dict]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return []
    high = float(values.max()) or 1.0
    counts, edges = np.histogram(values, bins=bins, range=(0.0, high))
    return [
        {"from": float(edges[i]), "to": float(edges[i + 1]), "patients": int(n), "what": label}
        for i, n in enumerate(counts)
    ]


def summarize(out: Path) -> dict:
    """The report's numbers, from the output tables."""
    verdicts = read_output(out, "verdicts")
    findings = read_output(out, "findings").select(["patient_id", "rule_id", "severity"])
    errors = read_output(out, "errors").select(["patient_id"])
    by_verdict = _counts(verdicts["verdict"])
    pairs = pc.list_flatten(verdicts["interacting_pairs"])
    rules = (
        findings.group_by(["rule_id", "severity"]).aggregate([("patient_id", "count")]).to_pylist()
    )
    with_id = pc.drop_null(errors["patient_id"])
    critical = verdicts.select(["patient_id", "critical_findings"]).filter(
        pc.greater(verdicts["critical_findings"], 0)
    )
    top = critical.sort_by([("critical_findings", "descending"), ("patient_id", "ascending")])
    return {
        "patients": verdicts.num_rows + len(pc.unique(with_id)),
        "verdicts": {name: by_verdict.get(name, 0) for name in VERDICTS},
        "error_patients": len(pc.unique(with_id)),
        "rows_without_patient": errors.num_rows - len(with_id),
        "error_rows": errors.num_rows,
        "findings": findings.num_rows,
        "rules": sorted(
            (
                {
                    "rule": r["rule_id"],
                    "severity": _short(r["severity"]),
                    "findings": r["patient_id_count"],
                }
                for r in rules
            ),
            key=lambda r: (-r["findings"], r["rule"], r["severity"]),
        ),
        "mme": _histogram(verdicts["morphine_mg_equivalents_per_day"].to_numpy(), "MME/day"),
        "acetaminophen": _histogram(
            verdicts["acetaminophen_mg_per_day"].to_numpy(), "acetaminophen mg/day"
        ),
        "pairs": [
            {"pair": row["values"], "patients": row["counts"]}
            for row in sorted(
                pc.value_counts(pairs).to_pylist(), key=lambda r: (-r["counts"], r["values"])
            )[:TOP]
        ],
        "most_critical": top.slice(0, TOP).to_pylist(),
    }


def _charts(numbers: dict) -> alt.VConcatChart:
    verdicts = [
        {"verdict": _short(name), "patients": count} for name, count in numbers["verdicts"].items()
    ]
    verdict_chart = (
        alt.Chart(alt.Data(values=verdicts), title="Patients by verdict")
        .mark_bar()
        .encode(
            x=alt.X("verdict:N", sort=list(_COLOURS)),
            y="patients:Q",
            color=alt.Color(
                "verdict:N",
                scale=alt.Scale(domain=list(_COLOURS), range=list(_COLOURS.values())),
                legend=None,
            ),
            tooltip=["verdict:N", "patients:Q"],
        )
        .properties(width=260, height=200)
    )
    rules_chart = (
        alt.Chart(alt.Data(values=numbers["rules"] or [{}]), title="Findings by rule and severity")
        .mark_bar()
        .encode(
            y=alt.Y("rule:N", sort="-x", title=None),
            x=alt.X("findings:Q", stack=True),
            color=alt.Color(
                "severity:N",
                scale=alt.Scale(
                    domain=["CRITICAL", "WARNING", "INFO"], range=["#c62828", "#f9a825", "#1565c0"]
                ),
            ),
            tooltip=["rule:N", "severity:N", "findings:Q"],
        )
        .properties(width=420)
    )

    def histogram(rows: list[dict], title: str) -> alt.Chart:
        return (
            alt.Chart(alt.Data(values=rows or [{}]), title=title)
            .mark_bar()
            .encode(
                x=alt.X("from:Q", bin="binned", title=title),
                x2="to:Q",
                y=alt.Y("patients:Q", scale=alt.Scale(type="symlog")),
                tooltip=["from:Q", "to:Q", "patients:Q"],
            )
            .properties(width=300, height=200)
        )

    pairs_chart = (
        alt.Chart(
            alt.Data(values=numbers["pairs"] or [{}]), title="Most frequent interacting pairs"
        )
        .mark_bar(color="#6a1b9a")
        .encode(
            y=alt.Y("pair:N", sort="-x", title=None),
            x="patients:Q",
            tooltip=["pair:N", "patients:Q"],
        )
        .properties(width=420)
    )
    return alt.vconcat(
        alt.hconcat(verdict_chart, rules_chart).resolve_scale(color="independent"),
        alt.hconcat(
            histogram(numbers["mme"], "Daily MME (morphine mg equivalents)"),
            histogram(numbers["acetaminophen"], "Daily acetaminophen (mg)"),
        ),
        pairs_chart,
    ).resolve_scale(color="independent")


def _summary_html(numbers: dict, title: str) -> str:
    def rows(items) -> str:  # type: ignore[no-untyped-def]
        return "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(f'{v:,}')}</td></tr>"
            for k, v in items
        )

    counts = [
        ("patients in the input", numbers["patients"]),
        *((f"verdict {_short(k)}", v) for k, v in numbers["verdicts"].items()),
        ("patients not checked (see errors)", numbers["error_patients"]),
        ("input rows without a patient_id", numbers["rows_without_patient"]),
        ("error rows", numbers["error_rows"]),
        ("findings", numbers["findings"]),
    ]
    critical = "".join(
        f"<tr><td>{html.escape(row['patient_id'])}</td><td>{row['critical_findings']}</td></tr>"
        for row in numbers["most_critical"]
    )
    return f"""
<style>
  body {{ font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }}
  table {{ border-collapse: collapse; margin: 0.5em 2em 1em 0; display: inline-table;
           vertical-align: top; }}
  th, td {{ border: 1px solid #ccc; padding: 2px 8px; text-align: left; }}
  td {{ text-align: right; }}
</style>
<h1>{html.escape(title)}</h1>
<table id="counts"><caption>Counts</caption>{rows(counts)}</table>
<table id="most-critical"><caption>Patients with the most critical findings (id only)</caption>
<tr><th>patient_id</th><th>critical findings</th></tr>{critical}</table>
"""


def write_report(out: Path, as_of: dt.date, engine: str) -> Path:
    numbers = summarize(out)
    page = _charts(numbers).to_html(inline=True)
    title = f"RegimenGuard population review, as of {as_of.isoformat()} ({engine} engine)"
    marker = "</head>\n<body>"
    if marker not in page:
        raise RuntimeError("unexpected Altair page layout")
    page = page.replace("<head>", f"<head>\n  <title>{html.escape(title)}</title>", 1).replace(
        marker, marker + _summary_html(numbers, title), 1
    )
    path = out / "report.html"
    temporary = out / ".report.html.tmp"
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(path)
    return path
