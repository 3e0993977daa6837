"""What the Search and Benchmarks sections record while their engine runs in a worker thread.

The worker's event listener only appends to these records under a lock and bumps `seq`; the
section's timer thread copies a snapshot and redraws when `seq` changed. No widget is touched from
the listener, so a burst of step events costs the kernel a few dictionary writes each.
"""

from __future__ import annotations

import copy
import math
import threading
from dataclasses import dataclass, field
from typing import Any

IDLE, RUNNING, STOPPING, STOPPED, DONE, FAILED = "idle", "running", "stopping", "stopped", "done", "failed"
ACTIVE = (RUNNING, STOPPING)


@dataclass
class Problem:
    """An error to show in place: what went wrong and what to do."""

    cause: str
    fix: str


def problem_of(exc: BaseException, fix: str) -> Problem:
    """TrainingError and LoadError carry their own advice; other errors get the section's `fix`."""
    advice = getattr(exc, "advice", None) or getattr(exc, "fix", None)
    cause = getattr(exc, "message", None) or getattr(exc, "cause", None) or f"{type(exc).__name__}: {exc}"
    if advice:
        return Problem(str(cause), str(advice))
    return Problem(str(cause), fix)


@dataclass
class TrialRow:
    """One trial of the table; `curve` holds its (step, validation loss) points."""

    number: int
    params: dict[str, Any]
    state: str = "running"
    value: float | None = None
    step: int = 0
    total: int | None = None
    pruned_at: int | None = None
    duration_s: float | None = None
    error: str | None = None
    retry_of: int | None = None
    curve: list[tuple[int, float]] = field(default_factory=list)


class Record:
    """Phase, problem, result and a change counter, shared by both sections' records."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.phase = IDLE
        self.problem: Problem | None = None
        self.result: Any = None
        self.seq = 0

    def set_phase(self, phase: str, problem: Problem | None = None) -> None:
        with self.lock:
            self.phase, self.seq = phase, self.seq + 1
            if problem is not None:
                self.problem = problem

    def finish(self, stopped: bool) -> None:
        """The worker ended without an exception."""
        with self.lock:
            if self.phase in ACTIVE:
                self.phase = STOPPED if stopped or self.phase == STOPPING else DONE
            self.seq += 1


class SearchRecord(Record):
    """Listener for `search(on_event=...)`: trials by number, the study's facts, the SearchResult."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__()
        self.stop = stop
        self.trials: dict[int, TrialRow] = {}
        self.study_name = ""
        self.n_trials = 0
        self.finished_before = 0
        self.run_dir = ""

    def __call__(self, event: Any) -> None:
        name = type(event).__name__
        with self.lock:
            self.seq += 1
            if name == "SearchStarted":
                self.study_name, self.n_trials = event.study_name, event.n_trials
                self.finished_before, self.run_dir = event.finished_before, event.run_dir
            elif name == "TrialStarted":
                self.trials[event.number] = TrialRow(
                    event.number, dict(event.params), retry_of=event.retry_of
                )
            elif name == "TrialEvent":
                self._training(event.number, event.event)
            elif name == "TrialFinished":
                self._finished(event)
            elif name == "SearchFinished":
                self.result = event.result

    def _training(self, number: int, event: Any) -> None:
        row = self.trials.get(number)
        if row is None:
            return
        kind = type(event).__name__
        if kind == "TrainingStarted":
            row.total = event.total_steps
        elif kind == "StepMetrics":
            row.step = event.step
        elif kind == "ValidationMetrics":
            value = float(event.metrics.get("val_loss", math.nan))
            if math.isfinite(value):
                row.curve.append((event.step, value))

    def _finished(self, event: Any) -> None:
        row = self.trials.setdefault(event.number, TrialRow(event.number, dict(event.params)))
        state = {"fail": "failed"}.get(event.state, event.state)
        if state == "failed" and not event.error and self.stop.is_set():
            state = "stopped"  # Stop ended it; a resumed study runs these parameters again
        row.state, row.value, row.error = state, event.value, event.error
        row.pruned_at, row.duration_s = event.pruned_at, event.duration_s
        if event.steps is not None:
            row.step = event.steps

    def snapshot(self) -> SearchRecord:
        """A deep copy the timer thread can read without the lock."""
        with self.lock:
            copied = copy.copy(self)
            copied.trials = copy.deepcopy(self.trials)
        return copied


class BenchRecord(Record):
    """Listener for `glue(...)`/`lm(...)`: rows as they are ready, which run trains, its step."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Any] = []
        self.current = ""  # "model on sst2"
        self.step = 0
        self.total: int | None = None
        self.reports: list[Any] = []
        self.notes: list[str] = []
        self.meta: dict[str, Any] = {}

    def __call__(self, event: Any) -> None:
        name = type(event).__name__
        with self.lock:
            self.seq += 1
            if name == "BenchmarkStarted":
                self.meta = dict(event.meta)
            elif name == "RunStarted":
                self.current, self.step, self.total = f"{event.model} on {event.task}", 0, None
            elif name == "BenchmarkTrainingEvent":
                inner = type(event.event).__name__
                if inner == "TrainingStarted":
                    self.total = event.event.total_steps
                elif inner == "StepMetrics":
                    self.step = event.event.step
            elif name == "RowReady":
                self.rows.append(event.row)
            elif name == "BenchmarkFinished":
                self.reports.append(event.report)
                self.notes.extend(n for n in event.report.notes if n not in self.notes)

    def snapshot(self) -> BenchRecord:
        with self.lock:
            copied = copy.copy(self)
            copied.rows, copied.reports, copied.notes = list(self.rows), list(self.reports), list(self.notes)
        return copied
