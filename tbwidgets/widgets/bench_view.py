"""The Tier 3 Benchmarks section: GLUE tasks and held-out LM, Run/Stop, a live results table, export.

Plain ipywidgets and HTML only (Colab breaks `Tab`, `Accordion` and `Output`). `glue(...)` and
`lm(...)` run in a worker thread whose listener only records (`BenchRecord`); a `CurveTimer` redraws
at most 4 times a second. Stop sets the engines' `stop` event: the contender training now ends within
one optimizer step and no further task starts.
"""

from __future__ import annotations

import html
import threading
from pathlib import Path
from typing import Any

import ipywidgets

from tbwidgets.widgets._bench_panels import BenchForm, results_html
from tbwidgets.widgets._search_record import ACTIVE, FAILED, IDLE, RUNNING, STOPPING, BenchRecord, problem_of
from tbwidgets.widgets._section import WorkerSection, problem_html, tag
from tbwidgets.widgets._train_panels import Problems, guarded, heading

PHASE_TEXT = {IDLE: "No benchmark yet", RUNNING: "Running", STOPPING: "Stopping after this optimizer step",
              "stopped": "Stopped", "done": "Done", FAILED: "Failed"}  # fmt: skip
FIX = "Check the tasks, the GLUE folder, the LM text, the steps and the batch size above, fix them and press Run again."


class BenchView(WorkerSection):
    """The Benchmarks section. `host` is the ValidatorWidget (model, tokenizer, downloads)."""

    kind = "bench"

    def __init__(self, host: Any, *, interval: float = 0.25) -> None:
        super().__init__(host, interval)
        self.form = BenchForm()
        self.record = BenchRecord()
        self._stop = threading.Event()
        self._config: Any = None
        self.problems = Problems()
        self.run_button = ipywidgets.Button(description="Run benchmarks", button_style="primary", icon="play")
        self.stop_button = ipywidgets.Button(description="Stop", icon="stop", disabled=True)
        self.json_button = ipywidgets.Button(description="Export JSON", icon="download", disabled=True)
        self.html_button = ipywidgets.Button(description="Export HTML", icon="download", disabled=True)
        for button, action in ((self.run_button, self.run), (self.stop_button, self.stop),
                               (self.json_button, lambda: self.export("json")), (self.html_button, lambda: self.export("html"))):  # fmt: skip
            button.on_click(guarded(lambda _, act=action: act(), self.problems))
        self.status = ipywidgets.HTML(self._status_html(self.record))
        self.note = ipywidgets.HTML("")
        self.table = ipywidgets.HTML("")
        intro = ipywidgets.HTML(
            "<div style='color:#444'>Fine-tunes a fresh copy of the loaded model per task with a small head "
            "(mean pooling for bidirectional models, last token for causal ones) and scores the dev split with "
            "the official metric, next to the majority class and a same-budget standard Transformer.</div>"
        )
        buttons = ipywidgets.HBox([self.run_button, self.stop_button, self.json_button, self.html_button])
        self.box = ipywidgets.VBox(
            [
                heading("Benchmarks"),
                intro,
                self.form.box,
                buttons,
                self.problems.html,
                self.status,
                self.table,
                self.note,
            ],
            layout=ipywidgets.Layout(width="100%", padding="0 4px", margin="16px 0 0 0"),
        )
        tag("tbw-bench", {"": self.box, "status": self.status, "results": self.table, "run": self.run_button,
                          "stop": self.stop_button, "json": self.json_button, "html": self.html_button})  # fmt: skip

    # -- control ------------------------------------------------------------------------------------
    def run(self, tasks: Any = None, *, data_dir: Any = None, lm_data: Any = None, config: Any = None,
            max_examples: int | None = None) -> None:  # fmt: skip
        """Start the benchmarks on the loaded model; arguments given in code override the form."""
        if self.active:
            raise RuntimeError("Benchmarks are running: press Stop first, or wait for them to finish.")
        loaded = self._loaded_model()
        if tasks is not None:
            self.form.tasks.value = _task_names(tasks, [v for _, v in self.form.tasks.options])
        if data_dir is not None:
            self.form.data_dir.value = str(data_dir)
        if lm_data is not None and isinstance(lm_data, (str, Path)):
            self.form.lm_data.value = str(lm_data)
        glue, folder, text, problems = self.form.choice()
        if lm_data is not None:  # text given in code (a list of strings, a Dataset…) goes to lm() as it is
            text, problems = lm_data, [p for p in problems if not p.startswith("LM text")]
        if problems:
            raise ValueError(" ".join(problems))
        self._config = self._make_config(config)
        limit = max_examples if max_examples is not None else (self.form.max_examples.value or None)
        self.record, self._stop = BenchRecord(), threading.Event()
        self._launch(self._work, (loaded, glue, folder, text, limit))

    def _make_config(self, config: Any) -> Any:
        from tbwidgets.training.benchmarks.runs import BENCH_DEFAULTS
        from tbwidgets.training.config import TrainingConfig

        if config is not None:
            return config if isinstance(config, TrainingConfig) else TrainingConfig.from_dict(dict(config))
        steps = int(self.form.steps.value)
        return TrainingConfig(
            **{
                **BENCH_DEFAULTS,
                "max_steps": steps,
                "val_every_n_steps": max(1, steps // 5),
                "batch_size": int(self.form.batch.value),
            }
        )

    def _work(self, loaded: Any, glue_tasks: list[str], folder: Any, text: Any, limit: int | None) -> None:
        from tbwidgets.training import benchmarks

        record, tokenizer = self.record, getattr(self.host, "tokenizer", None)
        try:
            if glue_tasks:
                benchmarks.glue(loaded, glue_tasks, data_dir=folder, config=self._config, on_event=record,
                                stop=self._stop, tokenizer=tokenizer, max_examples=limit)  # fmt: skip
            if text is not None and not self._stop.is_set():
                benchmarks.lm(
                    loaded, text, config=self._config, on_event=record, stop=self._stop, tokenizer=tokenizer
                )
        except Exception as exc:  # noqa: BLE001 - shown in the section with cause and fix; rows so far stay
            record.set_phase(FAILED, problem_of(exc, FIX))
        else:
            record.finish(self._stop.is_set())

    def _stop_event(self) -> threading.Event:
        return self._stop

    def _outcome(self) -> Any:
        return self.report

    def _clear(self) -> None:
        self.record = BenchRecord()

    @property
    def report(self) -> Any:
        """One BenchmarkReport with every row so far (GLUE and LM together), or None before any row."""
        from tbwidgets.training.benchmarks import BenchmarkReport

        snap = self.record.snapshot()
        if not snap.rows and not snap.reports:
            return None
        kinds = "+".join(dict.fromkeys(r.kind for r in snap.reports)) or "glue"
        meta = {k: v for r in snap.reports for k, v in r.meta.items()} or dict(snap.meta)
        stopped = snap.phase not in ("done",)
        return BenchmarkReport(
            kinds, rows=list(snap.rows), meta=meta, notes=list(snap.notes), stopped=stopped
        )

    def export(self, kind: str) -> Path:
        """Write the report as JSON or HTML next to the runs and send it to the browser as a download."""
        report = self.report
        if report is None:
            raise RuntimeError("No results yet: run a benchmark first.")
        folder = Path(self._config.checkpoint_dir if self._config is not None else ".")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"benchmark-{report.kind.replace('+', '-')}.{kind}"
        text = report.to_json(path) if kind == "json" else report.to_html(path)
        send = getattr(self.host, "send", None)
        if send is not None:
            mime = "application/json" if kind == "json" else "text/html"
            send({"type": "download", "filename": path.name, "mime": mime, "text": text})
        self.note.value = (
            f"<div style='color:#2e7d32'>Saved {html.escape(str(path))} and sent it as a download.</div>"
        )
        return path

    # -- drawing (timer thread) -----------------------------------------------------------------------
    def _redraw(self, final: bool) -> None:
        snap = self.record.snapshot()
        if snap.seq == self._drawn and not final:
            return
        self._drawn = snap.seq
        running = snap.phase in ACTIVE
        line = ""
        if running and snap.current:
            line = f"training {html.escape(snap.current)}: step {snap.step} / {snap.total or '?'}"
        self.status.value = self._status_html(snap)
        self.table.value = results_html(snap.rows, line)
        self.run_button.disabled, self.stop_button.disabled = running, snap.phase != RUNNING
        self.json_button.disabled = self.html_button.disabled = running or not snap.rows

    def _status_html(self, snap: BenchRecord) -> str:
        parts = [f"<b>{PHASE_TEXT.get(snap.phase, snap.phase)}</b>"]
        if snap.meta:
            m = snap.meta
            parts.append(f"{html.escape(str(m.get('model')))} ({_count(m.get('model_params'))} parameters) against a "
                         f"baseline of {_count(m.get('baseline_params'))}; {html.escape(str(m.get('pooling', '')))}")  # fmt: skip
        if snap.rows:
            parts.append(f"{len(snap.rows)} result row{'s' if len(snap.rows) != 1 else ''}")
        text = " · ".join(p for p in parts if p) + problem_html(snap.problem)
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in snap.notes)
        return f"<div>{text}</div>" + (f"<ul style='color:#555;margin:2px 0'>{notes}</ul>" if notes else "")

    def text(self) -> str:
        return PHASE_TEXT.get(self.record.phase, self.record.phase)


def _task_names(tasks: Any, known: list[str]) -> tuple[str, ...]:
    names = [
        t.strip().lower().replace("-", "") for t in (tasks.split(",") if isinstance(tasks, str) else tasks)
    ]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"Unknown task(s) {unknown}: pick from {', '.join(known)}.")
    return tuple(names)


def _count(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) else "–"
