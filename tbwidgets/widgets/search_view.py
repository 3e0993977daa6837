"""The Tier 3 Search section: an editable space, Start/Stop, a live trial table and two bqplot figures.

Composed from plain ipywidgets (VBox/HBox, buttons, text) and bqplot only: Colab's widget manager
breaks `Tab`, `Accordion` and `Output`. `search(...)` runs in a worker thread whose listener only
records (`SearchRecord`); a `CurveTimer` redraws at most 4 times a second. Stop sets the engine's
`stop` event: the running trial ends within one optimizer step and is queued again for a resume.
"""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets

from tbwidgets.widgets._search_panels import SearchPlots, SpaceForm, trials_html
from tbwidgets.widgets._search_record import (
    ACTIVE,
    DONE,
    FAILED,
    IDLE,
    RUNNING,
    STOPPING,
    SearchRecord,
    problem_of,
)
from tbwidgets.widgets._section import WorkerSection, problem_html, tag
from tbwidgets.widgets._train_panels import Problems, guarded, heading

PHASE_TEXT = {IDLE: "No search yet", RUNNING: "Searching", STOPPING: "Stopping after this optimizer step",
              "stopped": "Stopped", DONE: "Done", FAILED: "Failed"}  # fmt: skip
SEARCH_DEFAULTS: dict[str, Any] = {"checkpoint_every_n_steps": None, "keep_best": 0, "epochs": None}
FIX = "Check the space, the data and the steps above, fix them and press Start search again."


class SearchView(WorkerSection):
    """The Search section. `host` is the ValidatorWidget; `train_view` receives the best parameters."""

    kind = "search"

    def __init__(
        self, host: Any, *, train_view: Any = None, search: Any = None, interval: float = 0.25
    ) -> None:
        super().__init__(host, interval)
        self.train_view = train_view
        self._search = search  # the engine's search(); injectable for tests of failures
        self.form = SpaceForm()
        self.plots = SearchPlots()
        self.record = SearchRecord(threading.Event())
        self._data: Any = None
        self._config: Any = None
        self.problems = Problems()
        self.start_button = ipywidgets.Button(description="Start search", button_style="primary", icon="play")
        self.stop_button = ipywidgets.Button(description="Stop", icon="stop", disabled=True)
        self.best_button = ipywidgets.Button(description="Train with the best parameters", icon="trophy", disabled=True,
                                             layout=ipywidgets.Layout(width="auto"))  # fmt: skip
        self.start_button.on_click(guarded(lambda _: self.start(), self.problems))
        self.stop_button.on_click(guarded(lambda _: self.stop(), self.problems))
        self.best_button.on_click(guarded(lambda _: self.train_best(), self.problems))
        self.status = ipywidgets.HTML(self._status_html(self.record))
        self.table = ipywidgets.HTML("")
        intro = ipywidgets.HTML(
            "<div style='color:#444'>Each trial trains a fresh copy of the loaded model with sampled settings "
            "(Optuna TPE); trials whose validation loss trails the median are pruned early. The study is kept in "
            "a SQLite file in the run folder, so a search started again with the same name resumes.</div>"
        )
        buttons = ipywidgets.HBox([self.start_button, self.stop_button, self.best_button])
        self.box = ipywidgets.VBox(
            [
                heading("Search"),
                intro,
                self.form.box,
                buttons,
                self.problems.html,
                self.status,
                self.table,
                self.plots.box,
            ],
            layout=ipywidgets.Layout(width="100%", padding="0 4px", margin="16px 0 0 0"),
        )
        tag("tbw-search", {"": self.box, "status": self.status, "trials": self.table, "start": self.start_button,
                           "stop": self.stop_button, "best": self.best_button})  # fmt: skip
        self.plots.box.layout.display = "none"  # shown once the first trial reports

    # -- control ------------------------------------------------------------------------------------
    def start(
        self, data: Any = None, *, n_trials: int | None = None, space: Any = None, config: Any = None
    ) -> None:
        """Start a search on the loaded model; arguments given in code override the form."""
        if self.active:
            raise RuntimeError("A search is running: press Stop first, or wait for it to finish.")
        loaded = self._loaded_model()
        run = getattr(getattr(self.train_view, "run", None), "active", False)
        if run:
            raise RuntimeError(
                "The Train section is training: stop it first (both would share the CPU or GPU)."
            )
        spec, problems = self.form.space()
        if space is None and problems:
            raise ValueError("The search space has problems: " + " ".join(problems))
        self._data = data if data is not None else (self.form.data.value.strip() or "copy")
        self._config = self._base_config(config)
        self.record = SearchRecord(threading.Event())
        spec = space if space is not None else spec
        self._launch(self._work, (loaded, self._data, spec, n_trials or self.form.n_trials.value))

    def _base_config(self, config: Any) -> Any:
        """The given config, else the Train section's settings, with the form's steps and quick validation."""
        from tbwidgets.training.config import TrainingConfig

        if config is not None:
            return config if isinstance(config, TrainingConfig) else TrainingConfig.from_dict(dict(config))
        base = None
        form = getattr(self.train_view, "form", None)
        if form is not None:
            base, problems = form.config()
            base = None if problems else base
        steps = int(self.form.steps.value)
        every = max(1, steps // 5)  # 5 validations: the pruner gets a value to compare 5 times a trial
        return (base or TrainingConfig()).replace(max_steps=steps, val_every_n_steps=every, **SEARCH_DEFAULTS)

    def _work(self, loaded: Any, data: Any, space: Any, n_trials: int) -> None:
        record = self.record
        try:
            search = self._search or _engine()
            search(loaded, data, space, n_trials=n_trials, config=self._config, on_event=record, stop=record.stop,
                   tokenizer=getattr(self.host, "tokenizer", None))  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - shown in the section with cause and fix
            record.set_phase(FAILED, problem_of(exc, FIX))
        else:
            record.finish(record.stop.is_set())

    def _stop_event(self) -> threading.Event:
        return self.record.stop  # the running trial is queued again for a resumed search

    def _outcome(self) -> Any:
        return self.result

    def _clear(self) -> None:
        self.record = SearchRecord(threading.Event())
        self.plots.box.layout.display = "none"

    @property
    def result(self) -> Any:
        return self.record.result

    def train_best(self) -> None:
        """Hand the best parameters to the Train section and train there (curves, Stop, checkpoints)."""
        from tbwidgets.training.hpo.space import split_values

        result = self.result
        if result is None or not result.best_params:
            raise RuntimeError(
                "No trial has completed yet: run the search until at least one trial is complete."
            )
        if self.train_view is None:
            raise RuntimeError(
                "The Train section is not available here: call result.train_best() in code instead."
            )
        changes, extra = split_values(result.best_params)
        if extra:
            raise RuntimeError(
                f"The best parameters include model values {sorted(extra)}: use result.train_best() in code."
            )
        form_cfg, problems = self.train_view.form.config()
        base = form_cfg if form_cfg is not None and not problems else self._config
        self.train_view.train(data=self._data, config=base.replace(**changes))

    # -- drawing (timer thread) -----------------------------------------------------------------------
    def _redraw(self, final: bool) -> None:
        snap = self.record.snapshot()
        if snap.seq == self._drawn and not final:
            return
        self._drawn = snap.seq
        best = snap.result.best_trial if snap.result is not None else _best(snap)
        self.status.value = self._status_html(snap)
        self.table.value = trials_html(snap, best)
        if snap.trials:
            self.plots.box.layout.display = ""
            self.plots.show(snap)
        running = snap.phase in ACTIVE
        self.start_button.disabled, self.stop_button.disabled = running, snap.phase != RUNNING
        self.best_button.disabled = running or snap.result is None or not snap.result.best_params

    def _status_html(self, snap: SearchRecord) -> str:
        counts = {
            s: sum(r.state == s for r in snap.trials.values())
            for s in ("complete", "pruned", "failed", "stopped")
        }
        parts = [f"<b>{PHASE_TEXT.get(snap.phase, snap.phase)}</b>"]
        if snap.study_name:
            parts.append(
                f"study {html.escape(snap.study_name)}: {len(snap.trials)} of {snap.n_trials} trials run here"
            )
            parts.append(", ".join(f"{n} {s}" for s, n in counts.items() if n or s != "stopped"))
        best = _best(snap)
        if best is not None:
            parts.append(f"best val loss {snap.trials[best].value:.4g} (trial {best})")
        line = " · ".join(parts) + problem_html(snap.problem)
        return f"<div>{line}</div>"

    def text(self) -> str:
        """One line for the host's repr (no timings)."""
        return PHASE_TEXT.get(self.record.phase, self.record.phase)


def _engine() -> Any:
    from tbwidgets.training.hpo import search

    return search


def _best(snap: SearchRecord) -> int | None:
    done = [r for r in snap.trials.values() if r.state == "complete" and r.value is not None]
    return min(done, key=lambda r: r.value).number if done else None  # type: ignore[arg-type,return-value]
