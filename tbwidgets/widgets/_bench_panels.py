"""Pieces of the Benchmarks section that only draw: the task picker form and the results table.

Every result row stands next to its two references (majority class, same-budget baseline); the best
of the three is bold, so the table answers "does my architecture help?" at a glance.
"""

from __future__ import annotations

import html
import importlib.util
import math
from typing import Any

import ipywidgets

GLUE_TITLES = (("CoLA", "cola"), ("SST-2", "sst2"), ("MRPC", "mrpc"), ("STS-B", "stsb"), ("QQP", "qqp"),
               ("MNLI (matched + mismatched)", "mnli"), ("QNLI", "qnli"), ("RTE", "rte"), ("WNLI", "wnli"))  # fmt: skip
LM = "lm"
LOWER_IS_BETTER = ("perplexity", "loss")
WIDE = ipywidgets.Layout(width="360px")


def _row(label: str, widget: Any, note: str = "") -> Any:
    parts = [ipywidgets.HTML(html.escape(label), layout=ipywidgets.Layout(width="150px")), widget]
    if note:
        parts.append(ipywidgets.HTML(f"<span style='color:#555;margin-left:6px'>{html.escape(note)}</span>"))
    return ipywidgets.HBox(parts, layout=ipywidgets.Layout(align_items="center"))


class BenchForm:
    """Tasks, where the data comes from, and the budget each contender trains with."""

    def __init__(self) -> None:
        options = [*GLUE_TITLES, ("Language modelling (held-out text)", LM)]
        self.tasks = ipywidgets.SelectMultiple(options=options, value=("sst2",), rows=6, layout=WIDE)
        hub = (
            "empty: nyu-mll/glue through datasets"
            if importlib.util.find_spec("datasets")
            else "official TSV layout"
        )
        self.data_dir = ipywidgets.Text(value="", placeholder=f"GLUE folder ({hub})", layout=WIDE)
        self.lm_data = ipywidgets.Text(value="", placeholder="text file or datasets name", layout=WIDE)
        self.steps = ipywidgets.BoundedIntText(
            value=300, min=1, max=10_000_000, layout=ipywidgets.Layout(width="110px")
        )
        self.batch = ipywidgets.BoundedIntText(
            value=32, min=1, max=65536, layout=ipywidgets.Layout(width="110px")
        )
        self.max_examples = ipywidgets.BoundedIntText(
            value=0, min=0, max=10**9, layout=ipywidgets.Layout(width="110px")
        )
        for widget, name in (
            (self.tasks, "tasks"),
            (self.data_dir, "data-dir"),
            (self.steps, "steps"),
            (self.batch, "batch"),
        ):
            widget.add_class(f"tbw-bench-{name}")  # the browser test types into these
        self.box = ipywidgets.VBox(
            [
                _row("Tasks", self.tasks, "ctrl/shift-click for several"),
                _row("GLUE data", self.data_dir, "a folder with CoLA/, SST-2/, … as distributed"),
                _row("LM text", self.lm_data, "for the language-modelling row"),
                _row("Steps per model", self.steps, "the model and the baseline train the same steps"),
                _row("Batch size", self.batch, "at most the number of train examples"),
                _row("Train examples", self.max_examples, "per task; 0 = all"),
            ]
        )

    def choice(self) -> tuple[list[str], Any, Any, list[str]]:
        """(GLUE task names, data folder or None, LM text or None, problems)."""
        chosen = list(self.tasks.value)
        glue = [t for t in chosen if t != LM]
        folder = self.data_dir.value.strip() or None
        text = self.lm_data.value.strip() or None
        problems = []
        if not chosen:
            problems.append("Pick at least one task.")
        if glue and folder is None and importlib.util.find_spec("datasets") is None:
            problems.append(
                "GLUE data: give the folder of the GLUE files (CoLA/, SST-2/, … in the official layout), or "
                "install `datasets` to download nyu-mll/glue."
            )
        if LM in chosen and text is None:
            problems.append(
                "LM text: give a text file or a datasets name for the language-modelling benchmark."
            )
        return glue, folder, text, problems


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.4f}" if isinstance(value, float) else html.escape(str(value))


def _best(row: Any) -> str | None:
    """Which column is best: "model", "majority" or "baseline" (lower is better for perplexity)."""
    values = {k: getattr(row, k) for k in ("model", "majority", "baseline")}
    finite = {k: v for k, v in values.items() if isinstance(v, (int, float)) and math.isfinite(v)}
    if not finite:
        return None
    pick = min if row.metric in LOWER_IS_BETTER else max
    return pick(finite, key=lambda k: finite[k])


def results_html(rows: list[Any], running: str = "") -> str:
    """The results table: one row per (task, metric), the model beside both references."""
    if not rows and not running:
        return ""
    head = ("task", "metric", "your model", "majority", "same-budget baseline", "steps")
    body = []
    for r in rows:
        best = _best(r)
        cells = [html.escape(r.task), html.escape(r.metric)]
        for key in ("model", "majority", "baseline"):
            text = _fmt(getattr(r, key))
            cells.append(f"<b>{text}</b>" if key == best else text)
        cells.append(str(r.steps))
        body.append("<tr class='tbw-bench-row'>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    if running:
        body.append(
            f"<tr class='tbw-bench-running'><td colspan='6' style='color:#1565c0;text-align:left'>{running}</td></tr>"
        )
    header = "".join(f"<th>{h}</th>" for h in head)
    return (
        f"<table class='tbw-bench-table' style='border-collapse:collapse;font-size:13px'><thead><tr>{header}</tr>"
        f"</thead><tbody>{''.join(body)}</tbody></table><style>.tbw-bench-table td,.tbw-bench-table th"
        "{padding:2px 10px;text-align:right}.tbw-bench-table th{border-bottom:1px solid #888}</style>"
        "<div style='color:#555;font-size:12px'>Bold: the best of the three. Majority: always the most frequent "
        "class (the mean for STS-B). Baseline: a standard pre-LN Transformer with the same parameter count, "
        "tokenizer, data and steps.</div>"
    )
