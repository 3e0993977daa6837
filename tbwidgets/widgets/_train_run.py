"""One training run of the Train view: `fit` in a worker thread, its events folded into plain state.

The worker thread calls `fit` and its listener only records: metrics go into `Histories`, the rest
into `RunState` under a lock. Nothing here touches a widget or prints (a thread's output lands in
whichever cell ran last); the view's timer reads the state a few times a second.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tbwidgets.widgets._history import Histories
from tbwidgets.widgets._work import describe_problem

IDLE, RUNNING, STOPPING, STOPPED, DONE, FAILED = "idle", "running", "stopping", "stopped", "done", "failed"
ACTIVE = (RUNNING, STOPPING)
_SERIAL = itertools.count(1)  # names threads only


@dataclass
class Checkpoint:
    step: int
    path: str
    reason: str


@dataclass
class RunState:
    """What the view shows; written by the worker under `TrainRun.lock`."""

    state: str = IDLE
    run_id: str = ""
    step: int = 0
    start_step: int = 0
    total_steps: int = 0
    epoch: int = 0
    tokens_per_s: float = 0.0
    started_at: float = 0.0  # time.monotonic() at TrainingStarted
    out_dir: str = ""
    data_description: str = ""
    checkpoints: list[Checkpoint] = field(default_factory=list)
    problem: dict[str, str] | None = None  # {cause, fix, checkpoint}
    result: Any = None  # the TrainingResult of the last run that did not fail
    seq: int = 0  # bumps on every change the view must redraw beyond the curves

    step_s: float = 0.0  # seconds per step, a moving average (the first steps are slow warm-up)
    last_step_at: float = 0.0

    def eta_s(self) -> float | None:
        """Seconds left at the recent pace, or None before the pace is known."""
        if self.state != RUNNING or not self.step_s or not self.total_steps:
            return None
        return max(0.0, (self.total_steps - self.step) * self.step_s)


class TrainRun:
    """Starts `fit` in a daemon thread and folds its events into `state` and `histories`."""

    def __init__(self, histories: Histories, fit: Callable[..., Any] | None = None) -> None:
        self.histories = histories
        self.state = RunState()
        self.lock = threading.RLock()
        self._fit = fit  # injectable for tests of the view alone; default: tbwidgets.training's fit
        self._stop = threading.Event()
        self._done = threading.Event()  # our own flag: Thread.is_alive() can lie after an interrupted join
        self._done.set()
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return not self._done.is_set()

    def start(
        self, source: Any, data: Any, config: Any, *, resume_from: str | None = None, **kwargs: Any
    ) -> None:
        """Run `fit(source, data, config, ...)` in a worker thread; raises RuntimeError while one runs."""
        if self.active:
            raise RuntimeError("A training run is in progress: press Stop (or call .stop()) first.")
        self._stop = threading.Event()
        self._done.clear()
        with self.lock:
            keep = self.state.checkpoints if resume_from else []
            self.state = RunState(state=RUNNING, checkpoints=list(keep), seq=self.state.seq + 1)
        args = (source, data, config, resume_from, kwargs)
        self._thread = threading.Thread(
            target=self._work, args=args, name=f"tbwidgets-train-{next(_SERIAL)}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Ask the run to stop after the current optimizer step (it writes a resumable checkpoint)."""
        self._stop.set()
        with self.lock:
            if self.state.state == RUNNING:
                self._change(state=STOPPING)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ended; True when it did within `timeout`."""
        return self._done.wait(timeout)

    def _work(
        self, source: Any, data: Any, config: Any, resume_from: str | None, kwargs: dict[str, Any]
    ) -> None:
        try:
            fit = self._fit or _default_fit()
            fit(
                source,
                data,
                config,
                on_event=self.on_event,
                resume_from=resume_from,
                stop=self._stop,
                **kwargs,
            )
        except Exception as exc:  # noqa: BLE001 - shown in the tab; the widget stays usable
            with self.lock:
                if self.state.state != FAILED:  # a TrainingFailed event already said it better
                    self._fail(*explain(exc), None)
        finally:
            with self.lock:
                if self.state.state in ACTIVE:  # fit returned without a final event
                    self._change(state=STOPPED if self._stop.is_set() else DONE)
            self._done.set()

    def on_event(self, event: Any) -> None:
        """The `fit` listener (worker thread): cheap, records only."""
        kind = type(event).__name__
        if kind == "StepMetrics":
            self.histories.record(event.step, dict(event.metrics))
            with self.lock:
                s = self.state
                now = time.monotonic()
                if s.last_step_at and event.step > s.step:
                    dt = (now - s.last_step_at) / (event.step - s.step)
                    s.step_s = dt if not s.step_s else 0.9 * s.step_s + 0.1 * dt  # ~ the last 10 steps
                s.step, s.epoch, s.last_step_at = event.step, event.epoch, now
                s.tokens_per_s = float(event.metrics.get("tokens_per_s", s.tokens_per_s) or 0.0)
            return
        if kind == "ValidationMetrics":
            self.histories.record(event.step, dict(event.metrics))
            return
        with self.lock:
            self._apply(kind, event)

    def _apply(self, kind: str, event: Any) -> None:
        s = self.state
        if kind == "TrainingStarted":
            start = int(getattr(event, "start_step", 0) or 0)
            self._change(
                run_id=event.run_id, total_steps=int(event.total_steps), out_dir=str(event.out_dir),
                data_description=str(event.data_description), start_step=start, step=start,
                started_at=time.monotonic(),
            )  # fmt: skip
        elif kind == "CheckpointSaved":
            s.checkpoints = [c for c in s.checkpoints if c.path != event.path]
            s.checkpoints.append(Checkpoint(int(event.step), str(event.path), str(event.reason)))
            self._change()
        elif kind == "TrainingStopped":
            self._change(state=STOPPED, step=int(event.step))
        elif kind == "TrainingFinished":
            result = event.result
            self._change(state=STOPPED if getattr(result, "stopped", False) else DONE, result=result)
        elif kind == "TrainingFailed":
            self._fail(str(event.message), str(event.advice), event.checkpoint)

    def _fail(self, cause: str, fix: str, checkpoint: str | None) -> None:
        kept = checkpoint or (self.state.checkpoints[-1].path if self.state.checkpoints else "")
        self._change(state=FAILED, problem={"cause": cause, "fix": fix, "checkpoint": kept or ""})

    def _change(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self.state, name, value)
        self.state.seq += 1

    def snapshot(self) -> RunState:
        """A copy of the state to draw from without holding the lock."""
        with self.lock:
            s = self.state
            return RunState(**{**s.__dict__, "checkpoints": list(s.checkpoints)})

    def resume_point(self) -> Checkpoint | None:
        """The checkpoint Resume continues from: the newest one."""
        with self.lock:
            kept = [c for c in self.state.checkpoints if Path(c.path).exists()]  # keep_last deletes old ones
        # at one step "stop"/"final" beat "periodic"/"best": same weights, but written last
        return max(kept, key=lambda c: (c.step, c.reason in ("stop", "final")), default=None)


def explain(exc: BaseException) -> tuple[str, str]:
    """(cause, fix) for an exception `fit` raised without a TrainingFailed event (before it started)."""
    if getattr(exc, "cause", None):
        return str(exc.cause), str(getattr(exc, "fix", "") or "")  # type: ignore[attr-defined]
    if isinstance(exc, ImportError) and (exc.name or "").split(".")[0] in (
        "lightning",
        "torchmetrics",
        "optuna",
    ):
        return (
            f"Training needs {exc.name}, which is not installed.",
            'Run `pip install "tbwidgets[training]"` in a new cell, then restart the runtime.',
        )
    if isinstance(exc, (ValueError, TypeError, FileNotFoundError, KeyError)):
        return str(exc), "Fix the data or the setting it names, then press Train again."
    problem = describe_problem(exc)
    return problem.cause, problem.fix


def _default_fit() -> Callable[..., Any]:
    from tbwidgets.training.fit import fit

    return fit
