"""Text renderers for a Report: a self-contained HTML page and JUnit XML (no network, no scripts)."""

from __future__ import annotations

import html
import time
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from tbwidgets.core.result import CheckResult, Status

if TYPE_CHECKING:
    from tbwidgets.core.report import Report

STATUS_COLOURS = {
    Status.PASS: ("#1a7f37", "#dafbe1"),
    Status.WARN: ("#9a6700", "#fff8c5"),
    Status.FAIL: ("#cf222e", "#ffebe9"),
    Status.ERROR: ("#8250df", "#fbefff"),
    Status.SKIPPED: ("#57606a", "#f6f8fa"),
}

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;margin:2rem auto;
max-width:960px;padding:0 1rem}
h1{font-size:1.4rem;margin:0 0 .25rem}.sub{color:#57606a;margin:0 0 1.25rem}
.badge{display:inline-block;border-radius:999px;padding:.05rem .6rem;font-weight:600;font-size:.8rem}
.counts span{margin-right:.75rem}
details{border:1px solid #d0d7de;border-radius:6px;margin:.5rem 0;background:#fff}
summary{cursor:pointer;padding:.55rem .75rem;display:flex;gap:.75rem;align-items:baseline}
summary .title{font-weight:600;min-width:12rem}summary .dur{margin-left:auto;color:#57606a;font-size:.85rem;white-space:nowrap}
.body{padding:0 .9rem .8rem;border-top:1px solid #eaeef2}.body p{white-space:pre-wrap}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
td,th{border:1px solid #d0d7de;padding:.2rem .5rem;text-align:left}th{background:#f6f8fa}
pre{background:#f6f8fa;padding:.5rem;overflow:auto;font-size:.8rem}
dl.model{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0 0 1rem}
dl.model dt{color:#57606a}dl.model dd{margin:0}
.incomplete{border:1px solid #d4a72c;background:#fff8c5;border-radius:6px;padding:.5rem .75rem}
.findings{border:1px solid #d0d7de;border-radius:6px;padding:.25rem .9rem;margin:0 0 1rem}
.findings h2{font-size:1rem;margin:.4rem 0}.findings li{margin:.25rem 0}.findings .fix{color:#57606a}
"""

# A finding's level → the status whose colours show it (findings are not check results).
_FINDING_STATUS = {"info": Status.SKIPPED, "warn": Status.WARN, "error": Status.ERROR}


def report_html(report: Report) -> str:
    """The whole report as one HTML page with inline CSS."""
    model = report.model
    name = html.escape(str(model.get("name", "model")))
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(report.started_at or time.time()))
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>tbwidgets report: {name}</title><style>{_CSS}</style></head><body>",
        f"<h1>{name} {_badge(report.status)}</h1>",
        f"<p class='sub'>{when} · {report.duration_s:.1f} s"
        f"{' · stopped by the user' if report.cancelled else ''}</p>",
        _incomplete_block(report),
        _model_block(model),
        _findings_block(model.get("findings") or []),
        "<p class='counts'>"
        + "".join(f"<span>{_badge(Status(s))} {n}</span>" for s, n in report.counts().items() if n)
        + "</p>",
    ]
    parts += [_result_block(r) for r in report.results]
    parts.append("</body></html>")
    return "\n".join(parts)


def _badge(status: Status) -> str:
    fg, bg = STATUS_COLOURS[status]
    return f"<span class='badge' style='color:{fg};background:{bg}'>{status.value}</span>"


def _incomplete_block(report: Report) -> str:
    if not report.cancelled:
        return ""
    not_done = sum(r.summary.startswith(("Not run", "Not finished")) for r in report.results)
    return (
        "<p class='incomplete'><strong>Incomplete:</strong> the run was stopped before the end"
        f"{f'; {not_done} of {len(report.results)} checks did not finish' if not_done else ''}. "
        "The results below are those finished before the stop.</p>"
    )


def _findings_block(findings: Any) -> str:
    """What the loader noticed (e.g. config and model disagree): shown above the check results."""
    if not findings:
        return ""
    items = []
    for f in findings:
        level = str(f.get("level", "info"))
        fg, bg = STATUS_COLOURS[_FINDING_STATUS.get(level, Status.SKIPPED)]
        fix = f" <span class='fix'>What to do: {html.escape(str(f['fix']))}</span>" if f.get("fix") else ""
        items.append(
            f"<li><span class='badge' style='color:{fg};background:{bg}'>{html.escape(level)}</span> "
            f"{html.escape(str(f.get('message', '')))}{fix}</li>"
        )
    return f"<section class='findings'><h2>Found while loading</h2><ul>{''.join(items)}</ul></section>"


def _model_block(model: dict[str, Any] | Any) -> str:
    facts = model.get("facts", {}) if hasattr(model, "get") else {}
    source = model.get("source", {}) if hasattr(model, "get") else {}
    rows = {
        "Task": f"{model.get('task', '?')} ({model.get('task_reason', '')})",
        "Parameters": f"{facts.get('n_params', 0):,}",
        "Vocabulary": facts.get("vocab_size"),
        "Max length": f"{facts.get('max_len')} ({facts.get('max_len_source', '')})",
        "Device": f"{facts.get('device')} · {facts.get('dtype')}",
        "Source": source.get("label"),
    }
    items = "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in rows.items() if v is not None
    )
    return f"<dl class='model'>{items}</dl>"


def _result_block(result: CheckResult) -> str:
    body = []
    if result.details:
        body.append(f"<p>{html.escape(result.details)}</p>")
    if result.metrics:
        body.append(_table([{"metric": k, "value": _fmt(v)} for k, v in result.metrics.items()]))
    if result.table:
        body.append(_table(result.table))
    if result.error:
        body.append(f"<pre>{html.escape(result.error)}</pre>")
    return (
        f"<details{' open' if result.status.is_problem else ''}><summary>{_badge(result.status)}"
        f"<span class='title'>{html.escape(result.title or result.check_id)}</span>"
        f"<span>{html.escape(result.summary)}</span><span class='dur'>{result.duration_s:.2f} s</span>"
        f"</summary><div class='body'><p><code>{html.escape(result.check_id)}</code></p>{''.join(body)}"
        "</div></details>"
    )


def _table(rows: Any) -> str:
    rows = [dict(r) for r in rows]
    if not rows:
        return ""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c, '')))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def report_junit(report: Report) -> str:
    """JUnit XML: one testcase per check; fail → <failure>, error → <error>, skipped → <skipped>."""
    counts = report.counts()
    suite = ET.Element(
        "testsuite",
        name=f"tbwidgets: {report.model.get('name', 'model')}",
        tests=str(len(report.results)),
        failures=str(counts["fail"]),
        errors=str(counts["error"]),
        skipped=str(counts["skipped"]),
        time=f"{report.duration_s:.3f}",
    )
    if report.cancelled:
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="incomplete", value="true")
    _junit_findings(suite, report.model.get("findings") or [])
    for r in report.results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=r.check_id.rsplit(".", 1)[0],
            name=r.check_id,
            time=f"{r.duration_s:.3f}",
        )
        tag = {Status.FAIL: "failure", Status.ERROR: "error", Status.SKIPPED: "skipped"}.get(r.status)
        if tag:
            element = ET.SubElement(case, tag, message=r.summary)
            element.text = r.error or r.details
        elif r.status is Status.WARN:
            ET.SubElement(case, "system-out").text = f"WARN: {r.summary}\n{r.details}"
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _junit_findings(suite: ET.Element, findings: Any) -> None:
    """Load findings as one passing test case holding their text: CI shows them without failing the
    build (they do not change the exit code either; the checks judge the model)."""
    if not findings:
        return
    case = ET.SubElement(suite, "testcase", classname="loading", name="loading.findings", time="0.000")
    lines = []
    for f in findings:
        fix = f"\n  What to do: {f['fix']}" if f.get("fix") else ""
        lines.append(f"{str(f.get('level', '')).upper()}: {f.get('message', '')}{fix}")
    ET.SubElement(case, "system-out").text = "\n".join(lines)
    suite.set("tests", str(int(suite.get("tests", "0")) + 1))
