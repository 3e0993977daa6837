"""The plain-text results table and summary the CLI prints after a run (golden-tested)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tbwidgets.cli.progress import STATUS_MARKS
from tbwidgets.core import Report

FINDING_MARKS = {"info": "INFO", "warn": "WARN", "error": "ERROR"}


def results_table(report: Report, *, timings: bool = True) -> str:
    """A fixed-width table: status, check id, duration, summary; load findings; then a verdict."""
    rows = [("STATUS", "CHECK", "TIME", "SUMMARY")]
    for r in report.results:
        rows.append(
            (STATUS_MARKS[r.status.value], r.check_id, f"{r.duration_s:.2f}s" if timings else "-", r.summary)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}".rstrip() for a, b, c, d in rows]
    notes = findings_lines(report.model.get("findings") or [])
    return "\n".join([*lines, *(["", *notes] if notes else []), "", verdict_line(report)])


def findings_lines(findings: Sequence[Mapping[str, Any]]) -> list[str]:
    """What the loader noticed (e.g. config and model disagree), one entry per finding with its fix."""
    if not findings:
        return []
    lines = [f"Found while loading ({len(findings)}):"]
    for f in findings:
        mark = FINDING_MARKS.get(str(f.get("level", "")), str(f.get("level", "")).upper())
        lines.append(f"  {mark:<5} {f.get('message', '')}")
        if f.get("fix"):
            lines.append(f"        what to do: {f['fix']}")
    return lines


def verdict_line(report: Report) -> str:
    counts = ", ".join(f"{n} {status}" for status, n in report.counts().items() if n)
    name = report.model.get("name", "model")
    if report.cancelled:
        return f"{name}: stopped before the end ({counts})."
    if not report.ok:
        return f"{name}: problems found ({counts}). Details above; --html writes a full report."
    return f"{name}: no failures ({counts})."
