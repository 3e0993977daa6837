"""Training listeners for the CLI: one live line on a terminal, plain lines in logs and pipes."""

from __future__ import annotations

import math
import shutil
import sys
import time
from typing import Any, TextIO

from tbwidgets.training.events import (
    CheckpointSaved,
    StepMetrics,
    TrainingStarted,
    TrainingStopped,
    ValidationMetrics,
)


def _step_text(total: int, e: StepMetrics) -> str:
    m = e.metrics
    acc = m.get("accuracy", math.nan)
    acc_text = f"  acc {acc:6.1%}" if acc == acc else ""
    return (
        f"step {e.step}/{total}  loss {m['loss']:.4f}{acc_text}  lr {m['lr']:.2e}  "
        f"|g| {m['grad_norm']:.2f}  {m['tokens_per_s']:,.0f} tok/s"
    )


def _val_text(e: ValidationMetrics) -> str:
    m = e.metrics
    return f"step {e.step}: val_loss {m['val_loss']:.4f}  val_acc {m['val_accuracy']:.1%}  val_ppl {m['val_perplexity']:.3g}"


class PlainTrainingLines:
    """About 20 step lines per run plus every validation, checkpoint and stop: readable in CI logs."""

    def __init__(self, stream: TextIO | None = None, lines: int = 20) -> None:
        self.stream = stream or sys.stderr
        self.lines, self.every, self.total = lines, 1, 0

    def __call__(self, event: Any) -> None:
        if isinstance(event, TrainingStarted):
            self.total = event.total_steps
            self.every = max(1, (event.total_steps - event.start_step) // self.lines)
            start = f" from step {event.start_step}" if event.start_step else ""
            self._write(
                f"Training {event.total_steps} steps{start}: {event.data_description} ({event.out_dir})"
            )
        elif isinstance(event, StepMetrics):
            if event.step % self.every == 0 or event.step == self.total:
                self._write(_step_text(self.total, event))
        elif isinstance(event, ValidationMetrics):
            self._write(_val_text(event))
        elif isinstance(event, CheckpointSaved):
            self._write(f"step {event.step}: saved {event.reason} checkpoint {event.path}")
        elif isinstance(event, TrainingStopped):
            self._write(f"Stopped at step {event.step}")

    def _write(self, line: str) -> None:
        print(line, file=self.stream, flush=True)


class LiveTrainingLine(PlainTrainingLines):
    """One status line redrawn in place (≤ 10 times a second); validations and stops scroll above it."""

    def __init__(self, stream: TextIO | None = None, min_interval_s: float = 0.1) -> None:
        super().__init__(stream)
        self.min_interval_s, self._last = min_interval_s, 0.0
        self._val = ""

    def __call__(self, event: Any) -> None:
        if isinstance(event, StepMetrics):
            now = time.monotonic()
            if now - self._last >= self.min_interval_s or event.step == self.total:
                self._last = now
                self._draw(_step_text(self.total, event) + self._val)
            return
        if isinstance(event, ValidationMetrics):
            self._val = f"  val_loss {event.metrics['val_loss']:.4f}"
        if isinstance(event, CheckpointSaved):
            return  # the run folder is printed at the end; a line per checkpoint would scroll
        self._clear()
        super().__call__(event)

    def _draw(self, line: str) -> None:
        width = shutil.get_terminal_size((100, 20)).columns
        self.stream.write("\r" + line[: width - 1].ljust(width - 1))
        self.stream.flush()

    def _clear(self) -> None:
        width = shutil.get_terminal_size((100, 20)).columns
        self.stream.write("\r" + " " * (width - 1) + "\r")
        self.stream.flush()
