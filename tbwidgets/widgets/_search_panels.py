"""Pieces of the Search section that only draw: the space form, the trial table, the two figures.

The form turns its fields into a dict spec for `search(space=...)`; the table and the figures take a
`SearchRecord` snapshot and set widget values (called from the section's timer thread only).
"""

from __future__ import annotations

import html
import math
from typing import Any

import bqplot
import ipywidgets

from tbwidgets.widgets._curves import _VERTICAL, step_ticks
from tbwidgets.widgets._search_record import SearchRecord, TrialRow

STATE_COLOURS = {
    "running": "#1565c0",
    "complete": "#2e7d32",
    "pruned": "#ef6c00",
    "failed": "#b00020",
    "stopped": "#616161",
    "waiting": "#616161",
}
SHORT = {
    "learning_rate": "learning rate",
    "batch_size": "batch",
    "warmup_ratio": "warmup",
    "weight_decay": "weight decay",
}
MAX_CURVES = 12  # intermediate curves drawn: the newest trials (older ones only in the table)
LABEL = ipywidgets.Layout(width="150px")
NUMBER = ipywidgets.Layout(width="110px")


def _range(low: float, high: float) -> tuple[Any, Any]:
    return ipywidgets.FloatText(value=low, layout=NUMBER), ipywidgets.FloatText(value=high, layout=NUMBER)


def _row(label: str, *widgets: Any, note: str = "") -> Any:
    parts = [ipywidgets.HTML(html.escape(label), layout=LABEL), *widgets]
    if note:
        parts.append(ipywidgets.HTML(f"<span style='color:#555'>{html.escape(note)}</span>"))
    return ipywidgets.HBox(parts, layout=ipywidgets.Layout(align_items="center"))


class SpaceForm:
    """The default search space, editable: ranges, batch sizes, trials and steps per trial, data."""

    def __init__(self) -> None:
        self.lr = _range(1e-4, 1e-2)
        self.batch = ipywidgets.Text(value="16, 32, 64", layout=ipywidgets.Layout(width="226px"))
        self.warmup = _range(0.0, 0.2)
        self.wd = _range(1e-4, 0.3)
        self.n_trials = ipywidgets.BoundedIntText(value=8, min=1, max=1000, layout=NUMBER)
        self.steps = ipywidgets.BoundedIntText(value=60, min=2, max=10_000_000, layout=NUMBER)
        self.data = ipywidgets.Text(value="copy", layout=ipywidgets.Layout(width="226px"))
        for widget, name in ((self.n_trials, "trials"), (self.steps, "steps"), (self.data, "data")):
            widget.add_class(f"tbw-search-{name}")  # the browser test types into these
        to = "to"
        self.box = ipywidgets.VBox(
            [
                _row(
                    "Learning rate",
                    self.lr[0],
                    ipywidgets.HTML(to),
                    self.lr[1],
                    note="sampled on a log scale",
                ),
                _row("Batch sizes", self.batch, note="choices, comma-separated"),
                _row(
                    "Warmup ratio",
                    self.warmup[0],
                    ipywidgets.HTML(to),
                    self.warmup[1],
                    note="share of the steps",
                ),
                _row(
                    "Weight decay", self.wd[0], ipywidgets.HTML(to), self.wd[1], note="sampled on a log scale"
                ),
                _row("Trials", self.n_trials, note="each trains a fresh copy of the model"),
                _row("Steps per trial", self.steps, note="validated 5 times, so bad trials are pruned early"),
                _row(
                    "Data",
                    self.data,
                    note="a synthetic task (copy, reverse, …), a text file or a datasets name",
                ),
            ]
        )

    def space(self) -> tuple[dict[str, Any] | None, list[str]]:
        """The dict spec and the problems that stop it from being searched."""
        from tbwidgets.training.hpo.space import validate_spec

        problems: list[str] = []
        try:
            sizes = [int(s) for s in self.batch.value.replace(";", ",").split(",") if s.strip()]
        except ValueError:
            sizes = []
        if not sizes or min(sizes) < 1:
            problems.append("Batch sizes: give whole numbers ≥ 1 separated by commas, e.g. 16, 32, 64.")
        spec: dict[str, Any] = {
            "learning_rate": {"low": self.lr[0].value, "high": self.lr[1].value, "log": True},
            "batch_size": sizes or [32],
            "warmup_ratio": {"low": self.warmup[0].value, "high": self.warmup[1].value},
            "weight_decay": {"low": self.wd[0].value, "high": self.wd[1].value, "log": True},
        }
        try:
            validate_spec(spec)
        except ValueError as exc:
            problems.append(str(exc))
        if not (self.warmup[0].value >= 0 and self.warmup[1].value <= 1):
            problems.append("Warmup ratio: a share of the steps, between 0 and 1.")
        return (None if problems else spec), problems


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if math.isfinite(value) else "–"
    return html.escape(str(value))


def _progress(row: TrialRow) -> str:
    if row.state == "pruned" and row.pruned_at is not None:
        return f"pruned at {row.pruned_at}"
    return f"{row.step} / {row.total}" if row.total else str(row.step)


def trials_html(record: SearchRecord, best: int | None) -> str:
    """The live trial table: number, state badge, parameters, validation loss, steps, time."""
    rows = sorted(record.trials.values(), key=lambda r: r.number)
    if not rows:
        return ""
    names = list(dict.fromkeys(k for r in rows for k in r.params))
    head = ["Trial", "State", *(SHORT.get(n, n) for n in names), "val loss", "steps", "time"]
    cells = []
    for r in rows:
        colour = STATE_COLOURS.get(r.state, "#616161")
        badge = f"<span style='color:{colour};font-weight:600'>{html.escape(r.state)}</span>"
        star = " ★" if r.number == best else ""
        why = f"<br><span style='color:#b00020'>{html.escape(r.error)}</span>" if r.error else ""
        value = r.value if r.value is not None else (r.curve[-1][1] if r.curve else None)
        values = [f"{r.number}{star}", badge + why, *(_number(r.params.get(n, "")) for n in names),
                  _number(value) if value is not None else "–", _progress(r),
                  f"{r.duration_s:.1f} s" if r.duration_s is not None else "–"]  # fmt: skip
        cells.append(f"<tr class='tbw-trial-{r.state}'>" + "".join(f"<td>{v}</td>" for v in values) + "</tr>")
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    style = "border-collapse:collapse;font-size:13px"
    return (
        f"<table class='tbw-search-table' style='{style}'><thead><tr>{header}</tr></thead><tbody>{''.join(cells)}"
        "</tbody></table><style>.tbw-search-table td,.tbw-search-table th{padding:2px 10px;text-align:right}"
        ".tbw-search-table th{border-bottom:1px solid #888}</style>"
    )


def _figure(title: str, x_label: str, y_label: str, marks: list[Any], scales: dict[str, Any]) -> Any:
    axes = [bqplot.Axis(scale=scales["x"], label=x_label, tick_format="d", num_ticks=6),
            bqplot.Axis(scale=scales["y"], label=y_label, tick_format=".3g", label_offset="48px", num_ticks=5, **_VERTICAL)]  # fmt: skip
    # a top margin of 40 keeps the highest tick label clear of the title
    return bqplot.Figure(
        marks=marks, axes=axes, title=title, fig_margin={"top": 40, "bottom": 40, "left": 60, "right": 16},
        layout=ipywidgets.Layout(width="49%", min_width="300px", height="280px"),
    )  # fmt: skip


class SearchPlots:
    """Optimisation history (values and best so far) and the validation curves of recent trials."""

    def __init__(self) -> None:
        hs = self.hs = {"x": bqplot.LinearScale(), "y": bqplot.LinearScale()}
        tip = bqplot.Tooltip(fields=["x", "y"], labels=["trial", "val loss"], formats=["d", ".4g"])
        self.done = bqplot.Scatter(
            x=[], y=[], scales=hs, colors=[STATE_COLOURS["complete"]], tooltip=tip, default_size=48
        )
        self.pruned = bqplot.Scatter(
            x=[], y=[], scales=hs, colors=[STATE_COLOURS["pruned"]], default_size=32, marker="triangle-down"
        )
        self.best = bqplot.Lines(
            x=[], y=[], scales=hs, colors=["#212121"], line_style="dashed", interpolation="step-after"
        )
        self.history = _figure("Optimisation history",
                               "trial", "val loss", [self.done, self.pruned, self.best], hs)  # fmt: skip
        # steps from 0 (unpadded): a pruned trial's lone first point stays clear of the y axis
        self.cs = {"x": bqplot.LinearScale(min=0.0, allow_padding=False), "y": bqplot.LinearScale()}
        self.curves = _figure("Validation loss of each trial",
                              "step", "val loss", [], self.cs)  # fmt: skip
        self.lines: dict[int, Any] = {}
        self.history.add_class("tbw-search-history")
        self.curves.add_class("tbw-search-curves")
        legend = ipywidgets.HTML(
            "<div style='color:#555;font-size:12px'>Left: the validation loss of each trial — "
            f"<span style='color:{STATE_COLOURS['complete']}'>● complete</span>, "
            f"<span style='color:{STATE_COLOURS['pruned']}'>▼ pruned</span> (its last value), "
            "dashed: best so far. Right: validation loss per optimizer step of the newest trials — "
            f"<span style='color:{STATE_COLOURS['running']}'><b>running</b></span>, "
            f"<span style='color:{STATE_COLOURS['complete']}'>complete</span>, "
            f"<span style='color:{STATE_COLOURS['pruned']}'>pruned</span>.</div>"
        )
        figures = ipywidgets.HBox(
            [self.history, self.curves], layout=ipywidgets.Layout(width="100%", flex_flow="row wrap")
        )
        self.box = ipywidgets.VBox([figures, legend], layout=ipywidgets.Layout(width="100%"))

    def show(self, record: SearchRecord) -> None:
        rows = sorted(record.trials.values(), key=lambda r: r.number)
        done = [(r.number, r.value) for r in rows if r.state == "complete" and r.value is not None]
        pruned = [(r.number, r.curve[-1][1]) for r in rows if r.state == "pruned" and r.curve]
        with self.done.hold_sync():
            self.done.x, self.done.y = [n for n, _ in done], [v for _, v in done]
        with self.pruned.hold_sync():
            self.pruned.x, self.pruned.y = [n for n, _ in pruned], [v for _, v in pruned]
        xs, ys, best = [], [], math.inf
        for n, v in done:
            best = min(best, v)
            xs.append(n)
            ys.append(best)
        if xs and rows[-1].number > xs[-1]:
            xs.append(rows[-1].number)  # the best-so-far line reaches the newest trial
            ys.append(best)
        with self.best.hold_sync():
            self.best.x, self.best.y = xs, ys
        last = rows[-1].number if rows else 0
        # whole trial numbers only (a linear axis would label 0, 0.5, 1 as "0 0 1")
        self.history.axes[0].tick_values = list(range(0, last + 1, max(1, (last + 1) // 8)))
        self.hs["x"].min, self.hs["x"].max = -0.5, last + 0.5
        self._pad_values([v for _, v in done + pruned])
        self._curves(rows[-MAX_CURVES:])

    def _pad_values(self, values: list[float]) -> None:
        """Leave 8 % above and below the values: markers at the edge would touch the title or axis."""
        finite = [v for v in values if math.isfinite(v)]
        if finite:
            lo, hi = min(finite), max(finite)
            pad = (hi - lo) * 0.08 or abs(hi) * 0.05 or 0.1
            self.hs["y"].min, self.hs["y"].max = lo - pad, hi + pad

    def _curves(self, rows: list[TrialRow]) -> None:
        keep = {r.number for r in rows if r.curve}
        changed = set(self.lines) != keep
        for r in rows:
            if not r.curve:
                continue
            line = self.lines.get(r.number)
            if line is None:
                line = self.lines[r.number] = bqplot.Lines(
                    x=[], y=[], scales=self.cs, marker="circle", marker_size=16
                )
            width = 3 if r.state == "running" else 1.5
            with line.hold_sync():
                line.x, line.y = [s for s, _ in r.curve], [v for _, v in r.curve]
                line.colors, line.stroke_width = [STATE_COLOURS.get(r.state, "#616161")], width
                line.labels = [f"trial {r.number}"]
        for number in set(self.lines) - keep:
            self.lines.pop(number).close()
        if changed:
            self.curves.marks = [self.lines[n] for n in sorted(self.lines)]
        steps = [s for r in rows for s, _ in r.curve]
        if steps:  # whole, round optimizer steps, about 5 labels
            self.curves.axes[0].tick_values = step_ticks(min(steps), max(steps))  # no "0" on the corner
