"""How a run ends: the result built from the events, and the errors `fit` raises with their advice."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tbwidgets.training.events import CheckpointSaved, TrainingEvent, TrainingStopped
from tbwidgets.training.result import HistoryRecorder, TrainingResult


class TrainingError(RuntimeError):
    """Training failed; `advice` says what to try, `checkpoint` is the last one written (if any)."""

    def __init__(self, message: str, advice: str, *, step: int = 0, checkpoint: str | None = None) -> None:
        super().__init__(f"{message}\nWhat to try: {advice}")
        self.message, self.advice, self.step, self.checkpoint = message, advice, step, checkpoint


class TrainingDiverged(ArithmeticError):
    """The loss became NaN or infinite."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a blocking `fit`; `checkpoint` resumes at `step`, `result` holds the run so far."""

    def __init__(self, step: int, checkpoint: str | None) -> None:
        super().__init__(f"training interrupted at step {step}; resume from {checkpoint}")
        self.step, self.checkpoint = step, checkpoint
        self.result: TrainingResult | None = None


def failure_advice(exc: BaseException) -> tuple[str, str]:
    """(cause, fix) for the errors users hit; anything else keeps its own message."""
    text = f"{type(exc).__name__}: {exc}".strip()
    if isinstance(exc, TrainingDiverged):
        return str(exc), (
            "Lower learning_rate (try a third), keep max_grad_norm at 1.0, use more warmup_ratio, or "
            "bf16-mixed instead of 16-mixed precision; then resume from the last checkpoint or start again."
        )
    if "out of memory" in text.lower():
        return f"Out of memory: {exc}".strip(), (
            "Lower batch_size and raise gradient_accumulation_steps to keep the effective batch, or use "
            "bf16-mixed precision, or a shorter seq_len."
        )
    if isinstance(exc, (ValueError, TypeError)) and "shape" in text.lower():
        return (
            text,
            "The model's output does not fit the task's labels: check the task (causal-lm, masked-lm, classification).",
        )
    return text, "See the traceback above (the cause is chained); fix it and resume from the last checkpoint."


class ResultBuilder:
    """Listener gathering what the result needs, from events only (so DDP children can feed it too)."""

    def __init__(self) -> None:
        self.history = HistoryRecorder()
        self.saved: list[CheckpointSaved] = []
        self.stopped: TrainingStopped | None = None

    def __call__(self, event: TrainingEvent) -> None:
        self.history(event)
        if isinstance(event, CheckpointSaved):
            self.saved.append(event)
        elif isinstance(event, TrainingStopped):
            self.stopped = event

    def build(self, engine: Any, duration_s: float) -> TrainingResult:
        frame = self.history.frame()
        present = [c.path for c in self.saved if Path(c.path).exists()]  # pruned ones are gone
        best = [c.path for c in self.saved if c.reason == "best" and c.path in present]
        final: dict[str, float] = {}
        if len(frame):
            last = frame.iloc[-1].to_dict()
            final = {k: float(v) for k, v in last.items() if k not in ("step", "epoch") and v == v}
            validated = frame.dropna(subset=["val_loss"])
            if len(validated):
                final.update(
                    {k: float(validated.iloc[-1][k]) for k in ("val_loss", "val_accuracy", "val_perplexity")}
                )
        best_step = None
        if frame["val_loss"].notna().any():
            best_step = int(frame.loc[frame["val_loss"].idxmin(), "step"])
        seconds = frame["step_time_s"].sum() if "step_time_s" in frame else 0.0
        tokens = (frame["tokens_per_s"] * frame["step_time_s"]).sum() if "step_time_s" in frame else 0.0
        return TrainingResult(
            run_id=engine.plan.run_id,
            history=frame,
            best_step=best_step,
            final=final,
            checkpoints=list(dict.fromkeys(present)),
            duration_s=duration_s,
            tokens_per_s=float(tokens / seconds) if seconds > 0 else math.nan,
            stopped=self.stopped is not None,
            out_dir=str(engine.plan.out_dir),
            config=engine.config.to_dict(),
            steps=int(frame["step"].max()) if len(frame) else engine.start_step,
            start_step=engine.start_step,
            stop_checkpoint=self.stopped.checkpoint if self.stopped else None,
            best_checkpoint=best[-1] if best else None,
            wandb_sync=engine.wandb_sync(),
            messages=list(engine.messages),
        )
