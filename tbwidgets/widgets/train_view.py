"""The Tier 3 Train view: settings form, data picker, Train/Stop/Resume, progress, checkpoints, curves.

Composed from plain ipywidgets (VBox/HBox, buttons, text) and bqplot figures only: Colab's widget
manager breaks `Tab`, `Accordion` and `Output`. The validator places `box` under its shell, in the
Tier 3 area. Threads: `TrainRun` runs `fit` in a worker thread that only records; a `CurveTimer`
redraws at most 4 times a second (curves, progress, checkpoints, results) and stops with the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets

from tbwidgets.widgets import _train_panels as panels
from tbwidgets.widgets._curves import Curves, CurveTimer
from tbwidgets.widgets._history import Histories
from tbwidgets.widgets._section import loaded_model
from tbwidgets.widgets._train_data import DataPicker
from tbwidgets.widgets._train_form import TrainForm
from tbwidgets.widgets._train_run import ACTIVE, FAILED, STOPPED, TrainRun

# 400 buckets → ≤ ~800 points a curve: a min and a max per pixel column of a half-width figure, so
# the drawing is the same as with every point, and spikes survive (recipes §3 allows up to ~2,000)
DISPLAY_BUCKETS = 400
# A curve is resent once it gained 5 % new points (checked ≤ 4 times a second): every tick early on,
# every 500 steps at step 10,000 (a 5 % step of the x axis), so bytes grow with the log of the run's
# length, not with its duration (benchmarks/live_curves.py); the progress line stays live meanwhile
MIN_GROWTH = 0.05
FIGURE_NAMES = ("loss", "accuracy", "lr", "grad-norm")


class TrainView:
    """The Train section. `host` is the ValidatorWidget (model, tokenizer, downloads, Tier 1/2 runs)."""

    def __init__(self, host: Any, *, fit: Any = None, interval: float = 0.25) -> None:
        from tbwidgets.training.config import TrainingConfig

        self.host = host
        self.interval = interval  # seconds between redraws: ≤ 4 updates a second
        self.histories = Histories(DISPLAY_BUCKETS)
        self.run = TrainRun(self.histories, fit=fit)
        self.curves = Curves(self.histories)
        self.form = TrainForm(TrainingConfig, on_change=self._refresh_buttons)
        self.data = DataPicker(getattr(host, "tokenizer", None))
        self._timer: CurveTimer | None = None
        self._drawn_seq = -1
        self._last_data: tuple[Any, str] | None = None
        self._last_config: Any = None
        self.messages = 0  # comm messages the redraws sent (the benchmark reads it)
        self.buttons = panels.Buttons(self.train, self.stop, self.resume)
        self.status = panels.Status()
        self.checkpoints = panels.CheckpointList(self.load_weights, self.resume)
        self.results = panels.Results(self.save_csv, self.save_png, self.recheck)
        self.box = ipywidgets.VBox(
            [panels.heading("Train"), self.data.box, self.form.box, self.buttons.box, self.status.box,
             self.curves.box, self.checkpoints.box, self.results.box],
            layout=ipywidgets.Layout(width="100%", padding="0 4px"),
        )  # fmt: skip
        # classes name the parts for the browser tests (and for users' own CSS)
        for widget, name in ((self.box, "tbw-train"), (self.status.line, "tbw-train-status"),
                             (self.checkpoints.box, "tbw-train-checkpoints"), (self.results.box, "tbw-train-results")):  # fmt: skip
            widget.add_class(name)
        for figure, name in zip(self.curves.figures, FIGURE_NAMES, strict=True):
            figure.add_class(f"tbw-curve-{name}")
        self._refresh_buttons()

    # -- control (main thread, or the front end's click handler) -------------------------------------
    def train(self, data: Any = None, config: Any = None, *, resume_from: str | None = None) -> None:
        """Start a run: `data` (task name, path, text…) and `config` override the form when given."""
        if config is not None:
            self.form.set_config(config)
        if data is not None:
            self.data.select(data)
        cfg, problems = self.form.config()
        if cfg is None or problems:
            raise ValueError(
                "The settings have problems (shown under each field): "
                + "; ".join(f"{n}: {m}" if n else m for n, m in problems)
            )
        loaded = loaded_model(self.host)
        # data given in code goes to fit as it is (a bad path must fail loudly, not train the picker's task)
        picked = (data, _describe(data)) if data is not None else self.data.data()
        self._begin(loaded, picked, cfg, resume_from)

    def _begin(self, loaded: Any, picked: tuple[Any, str], cfg: Any, resume_from: str | None) -> None:
        if resume_from is None:
            self.histories.clear()
        self.curves.reset_sent()
        self._last_data, self._last_config = picked, cfg
        tokenizer = getattr(self.host, "tokenizer", None)
        self.run.start(loaded, picked[0], cfg, resume_from=resume_from, tokenizer=tokenizer)
        self._start_timer()

    def stop(self) -> None:
        """Stop after the current optimizer step; a resumable checkpoint is written at that step."""
        self.run.stop()
        self._redraw(False)

    def resume(self, checkpoint: str | None = None) -> None:
        """Continue from `checkpoint` (default: the newest) with the same data and settings."""
        point = self.run.resume_point() if checkpoint is None else _find(self.run, checkpoint)
        if point is None:
            raise RuntimeError("No checkpoint to resume from: train first (Stop writes one).")
        if self._last_data is None:
            raise RuntimeError("Resume needs the run's data: press Train once in this session first.")
        loaded = getattr(self.host, "loaded", None)
        if loaded is None:
            raise RuntimeError("No model is loaded: load one in the header first.")
        self.histories.truncate_after(point.step)  # the steps after it are trained again
        self._begin(loaded, self._last_data, self._last_config, point.path)

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the run ended and the view showed its end; return the TrainingResult (or None)."""
        self.run.wait(timeout)
        if self._timer is not None:
            self._timer.stop()
        self._redraw(True)
        return self.result

    def reset(self) -> None:
        """A new model: stop the old run (waiting for it) and clear its curves, checkpoints and results."""
        self.run.stop()
        self.run.wait(60)
        if self._timer is not None:
            self._timer.stop()
        self.histories.clear()
        self.curves.reset_sent()
        self.run = TrainRun(self.histories, fit=self.run._fit)
        self._last_data = self._last_config = None
        self._drawn_seq = -1
        self._redraw(True)

    @property
    def result(self) -> Any:
        """The TrainingResult of the last run that did not fail (None before)."""
        return self.run.snapshot().result

    def text(self) -> str:
        """One line for the host's repr: state and step, no timings (nbval compares it)."""
        return panels.state_line(self.run.snapshot(), with_speed=False)

    # -- buttons in the panels ---------------------------------------------------------------------
    def load_weights(self, path: str) -> None:
        from tbwidgets.training import load_checkpoint

        loaded = getattr(self.host, "loaded", None)
        if loaded is None:
            raise RuntimeError("No model is loaded to put the weights into.")
        load_checkpoint(loaded, path)
        self.status.note(f"Loaded the weights of {Path(path).name} into the model.")

    def save_csv(self) -> None:
        frame = panels.history_frame(self.result, self.histories)
        path = Path(self.run.snapshot().out_dir or ".") / "history.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = frame.to_csv(index=False)
        path.write_text(text, encoding="utf-8")
        self._download(path.name, "text/csv", text)
        self.status.note(f"Saved {path} ({len(frame)} rows) and sent it as a download.")

    def save_png(self) -> None:
        path = Path(self.run.snapshot().out_dir or ".") / "curves.png"
        panels.curves_png(panels.history_frame(self.result, self.histories), path)
        for figure, name in zip(self.curves.figures, FIGURE_NAMES, strict=True):
            figure.save_png(f"tbwidgets-{name}.png")  # the browser downloads what it drew
        self.status.note(f"Saved {path}; the browser downloads each figure as PNG.")

    def recheck(self) -> None:
        self.host.run("all")
        self.status.note("Running Tier 1 and Tier 2 on the trained weights: see their tabs.")

    def _download(self, filename: str, mime: str, text: str) -> None:
        send = getattr(self.host, "send", None)
        if send is not None:
            send({"type": "download", "filename": filename, "mime": mime, "text": text})

    # -- redraw (timer thread) ----------------------------------------------------------------------
    def _start_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = CurveTimer(self._tick, self.interval).start()

    def _tick(self, final: bool) -> None:
        self._redraw(final)
        if not final and not self.run.active and self._timer is not None:
            self._timer.stop(wait=False)  # the loop ends after one last, final redraw

    def _redraw(self, final: bool) -> None:
        self.messages += self.curves.push(min_growth=0.0 if final else MIN_GROWTH, force=final)
        snap = self.run.snapshot()
        self.messages += self.status.show(snap)
        if snap.seq != self._drawn_seq:
            self._drawn_seq = snap.seq
            self.checkpoints.show(snap.checkpoints, busy=snap.state in ACTIVE)
            self.results.show(snap, self.histories)
            self._refresh_buttons()

    def _refresh_buttons(self) -> None:
        if not hasattr(self, "buttons"):
            return  # the form validates once while it is built, before the buttons exist
        snap = self.run.snapshot()
        problems = bool(self.form.config()[1])
        can_resume = snap.state in (STOPPED, FAILED) and bool(snap.checkpoints)
        self.buttons.show(snap.state, problems, can_resume)


def _describe(data: Any) -> str:
    return str(data) if isinstance(data, (str, Path)) else f"{type(data).__name__} given to .train()"


def _find(run: TrainRun, path: str) -> Any:
    with run.lock:
        return next((c for c in run.state.checkpoints if c.path == path), None)
