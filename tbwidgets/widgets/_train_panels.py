"""Pieces of the Train view that only draw: buttons, progress line, checkpoint list, results, files.

Each takes plain state (`RunState`, `Histories`) and sets widget values; none starts work itself.
Clicks go to callbacks; an exception in one is shown under the buttons (the widget stays usable).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ipywidgets

from tbwidgets.widgets._history import Histories
from tbwidgets.widgets._train_run import (
    ACTIVE,
    DONE,
    FAILED,
    IDLE,
    RUNNING,
    STOPPED,
    STOPPING,
    Checkpoint,
    RunState,
)
from tbwidgets.widgets._work import describe_problem

STATE_TEXT = {
    IDLE: "Not trained yet",
    RUNNING: "Training",
    STOPPING: "Stopping",
    STOPPED: "Stopped",
    DONE: "Done",
    FAILED: "Failed",
}
FINAL_KEYS = (
    "loss",
    "accuracy",
    "perplexity",
    "val_loss",
    "val_accuracy",
    "val_perplexity",
    "lr",
    "grad_norm",
    "tokens_per_s",
)


def heading(text: str) -> Any:
    return ipywidgets.HTML(f"<h4 style='margin:8px 0 4px 0'>{html.escape(text)}</h4>")


class Problems:
    """Where a failed click says what went wrong and what to do."""

    def __init__(self) -> None:
        self.html = ipywidgets.HTML("")

    def show(self, exc: BaseException | None) -> None:
        if exc is None:
            self.html.value = ""
            return
        p = describe_problem(exc)
        fix = f"<br><b>What to do:</b> {html.escape(p.fix)}" if p.fix and not p.trace else ""
        self.html.value = f"<div style='color:#b00020'>⚠ {html.escape(p.cause)}{fix}</div>"


def guarded(action: Callable[..., None], problems: Problems) -> Callable[..., None]:
    def click(*args: Any) -> None:
        try:
            problems.show(None)
            action(*args)
        except Exception as exc:  # noqa: BLE001 - a bad click must leave the widget usable
            problems.show(exc)

    return click


class Buttons:
    """Train / Stop / Resume and the line that explains a refused click."""

    def __init__(
        self, train: Callable[[], None], stop: Callable[[], None], resume: Callable[[], None]
    ) -> None:
        self.problems = Problems()
        self.train = ipywidgets.Button(description="Train", button_style="primary", icon="play")
        self.stop = ipywidgets.Button(description="Stop", icon="stop", disabled=True)
        self.resume = ipywidgets.Button(description="Resume", icon="forward", disabled=True)
        for button, action in ((self.train, train), (self.stop, stop), (self.resume, resume)):
            button.add_class(f"tbw-train-{button.description.lower()}")  # for tests and users' CSS
            click = guarded(action, self.problems)
            button.on_click(lambda _b, click=click: click())
        self.box = ipywidgets.VBox(
            [ipywidgets.HBox([self.train, self.stop, self.resume]), self.problems.html]
        )

    def show(self, state: str, form_problems: bool, can_resume: bool) -> None:
        active = state in ACTIVE
        self.train.disabled = active or form_problems
        self.train.tooltip = "Fix the settings marked in red first" if form_problems else "Start a new run"
        self.stop.disabled = state != RUNNING
        self.resume.disabled = active or not can_resume


def state_line(s: RunState, with_speed: bool = True) -> str:
    """ "Training: step 120 / 500 · 3,400 tokens/s · ETA 45 s" (timings left out for the repr)."""
    text = STATE_TEXT.get(s.state, s.state)
    if s.state == IDLE:
        return text
    parts = [f"{text}: step {s.step} / {s.total_steps or '?'}"]
    if with_speed and s.tokens_per_s:
        parts.append(f"{s.tokens_per_s:,.0f} tokens/s")
    eta = s.eta_s() if with_speed else None
    if eta is not None:
        parts.append(f"ETA {_duration(eta)}")
    if with_speed and s.epoch:
        parts.append(f"epoch {s.epoch}")
    return " · ".join(parts)


def _duration(seconds: float) -> str:
    whole = round(seconds)  # round first: 299.7 s is "5 min 00 s", not "4 min 60 s"
    return f"{whole} s" if whole < 90 else f"{whole // 60} min {whole % 60:02d} s"


class Status:
    """Progress bar, the state line, the failure box and one-line notes ("Saved …")."""

    def __init__(self) -> None:
        self.bar = ipywidgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, layout=ipywidgets.Layout(width="320px")
        )
        self.line = ipywidgets.HTML(STATE_TEXT[IDLE])
        self.problem = ipywidgets.HTML("")
        self.notes = ipywidgets.HTML("")
        self.box = ipywidgets.VBox([ipywidgets.HBox([self.bar, self.line]), self.problem, self.notes])
        self._shown: tuple[Any, ...] = ()

    def show(self, s: RunState) -> int:
        """Update from the state; returns how many widgets changed (each is one message)."""
        line = html.escape(state_line(s))
        fraction = min(1.0, s.step / s.total_steps) if s.total_steps else 0.0
        problem = _problem_html(s.problem) if s.state == FAILED else ""
        sent = 0
        bar = round(fraction, 2)  # 1 % steps: at most 100 bar messages a run
        for widget, value in ((self.line, line), (self.bar, bar), (self.problem, problem)):
            if widget.value != value:
                widget.value = value
                sent += 1
        self.bar.bar_style = {DONE: "success", FAILED: "danger", STOPPED: "warning"}.get(s.state, "")
        return sent

    def note(self, text: str) -> None:
        self.notes.value = f"<span style='color:#444'>{html.escape(text)}</span>"


def _problem_html(problem: dict[str, str] | None) -> str:
    if not problem:
        return ""
    kept = problem.get("checkpoint") or ""
    keep = f"<br>The checkpoint written so far is kept: <code>{html.escape(kept)}</code>" if kept else ""
    return (
        f"<div role='alert' style='border-left:3px solid #b00020;padding:4px 8px;margin:4px 0'>"
        f"<b>{html.escape(problem.get('cause', ''))}</b><br><b>What to do:</b> {html.escape(problem.get('fix', ''))}{keep}</div>"
    )


class CheckpointList:
    """The run's checkpoints, newest first, each with "Load weights into the model" and "Resume from here"."""

    def __init__(self, load: Callable[[str], None], resume: Callable[[str], None]) -> None:
        self.problems = Problems()
        self._load, self._resume = guarded(load, self.problems), guarded(resume, self.problems)
        self.rows = ipywidgets.VBox([])
        self.box = ipywidgets.VBox([heading("Checkpoints"), self.rows, self.problems.html])
        self.box.layout.display = "none"
        self._shown: tuple[tuple[str, bool], ...] = ()

    def show(self, checkpoints: Sequence[Checkpoint], busy: bool) -> None:
        # keep_last / keep_best delete older files: list only what can still be loaded
        checkpoints = [c for c in checkpoints if Path(c.path).exists()]
        key = (*((c.path, busy) for c in checkpoints),)
        if key == self._shown:
            return
        self._shown = key
        self.rows.children = [self._row(c, busy) for c in sorted(checkpoints, key=lambda c: -c.step)]
        self.box.layout.display = "" if checkpoints else "none"

    def _row(self, c: Checkpoint, busy: bool) -> Any:
        label = ipywidgets.HTML(
            f"step <b>{c.step}</b> · {html.escape(c.reason)} · <code>{html.escape(Path(c.path).name)}</code>"
        )
        load = ipywidgets.Button(
            description="Load weights into the model", disabled=busy, layout=ipywidgets.Layout(width="auto")
        )
        resume = ipywidgets.Button(
            description="Resume from here", disabled=busy, layout=ipywidgets.Layout(width="auto")
        )
        load.on_click(lambda _b: self._load(c.path))
        resume.on_click(lambda _b: self._resume(c.path))
        return ipywidgets.HBox([label, load, resume], layout=ipywidgets.Layout(align_items="center"))


class Results:
    """After a run: the final metrics table, CSV and PNG, and Tier 1 + 2 on the trained weights."""

    def __init__(self, csv: Callable[[], None], png: Callable[[], None], recheck: Callable[[], None]) -> None:
        self.problems = Problems()
        self.table = ipywidgets.HTML("")
        buttons = []
        for text, action, icon in (("History CSV", csv, "download"), ("Curves PNG", png, "image"),
                                   ("Re-run Tier 1 + 2 on the trained weights", recheck, "refresh")):  # fmt: skip
            button = ipywidgets.Button(description=text, icon=icon, layout=ipywidgets.Layout(width="auto"))
            click = guarded(action, self.problems)
            button.on_click(lambda _b, click=click: click())
            buttons.append(button)
        self.box = ipywidgets.VBox(
            [heading("Results"), self.table, ipywidgets.HBox(buttons), self.problems.html]
        )
        self.box.layout.display = "none"

    def show(self, s: RunState, histories: Histories) -> None:
        ended = s.state in (DONE, STOPPED, FAILED) and bool(histories.rows)
        self.box.layout.display = "" if ended else "none"
        if ended:
            self.table.value = final_table(histories.rows)


def final_table(rows: list[dict[str, float]]) -> str:
    """metric | first step | final | best: "loss at init vs trained" at a glance."""
    lines = []
    for key in FINAL_KEYS:
        points = [(r["step"], r[key]) for r in rows if key in r and math.isfinite(r[key])]
        if not points:
            continue
        lower = "loss" in key or "perplexity" in key
        # "best" only means something for the quality metrics, not for lr or speed
        best = _fmt((min if lower else max)(v for _, v in points)) if lower or "accuracy" in key else "—"
        lines.append(
            f"<tr><td>{key}</td><td>{_fmt(points[0][1])}</td><td>{_fmt(points[-1][1])}</td><td>{best}</td></tr>"
        )
    head = "<tr><th>metric</th><th>first step (≈ init)</th><th>final</th><th>best</th></tr>"
    style = "<style>.tbw-final td,.tbw-final th{padding:2px 10px;text-align:right}</style>"
    return f"{style}<table class='tbw-final'>{head}{''.join(lines)}</table>"


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def history_frame(result: Any, histories: Histories) -> Any:
    """The run's history: the TrainingResult's when there is one, else the rows the view recorded."""
    import pandas as pd

    frame = getattr(result, "history", None)
    if frame is not None and len(frame):
        return frame
    rows = histories.rows
    if not rows:
        raise RuntimeError("No history yet: train first.")
    frame = pd.DataFrame(rows).groupby("step", as_index=False).last()  # validation joins its step's row
    frame["step"] = frame["step"].astype(int)
    return frame


def curves_png(frame: Any, path: Path) -> Path:
    """All four curves from the full history in one PNG (matplotlib, no browser needed)."""
    from matplotlib.figure import Figure  # no pyplot: nothing global changes, no display is needed

    fig = Figure(figsize=(10, 6), dpi=100)
    for i, (keys, title) in enumerate(((("loss", "val_loss"), "loss"), (("accuracy", "val_accuracy"), "token accuracy"),
                                       (("lr",), "learning rate"), (("grad_norm",), "gradient norm"))):  # fmt: skip
        ax = fig.add_subplot(2, 2, i + 1)
        for key in keys:
            if key in frame:
                part = frame[["step", key]].dropna()
                ax.plot(
                    part["step"], part[key], marker="o" if key.startswith("val") else None, label=key, ms=3
                )
        ax.set_title(title)
        ax.set_xlabel("optimizer step")
        if len(keys) > 1:
            ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path
