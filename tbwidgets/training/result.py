"""TrainingResult (plain data) and the listener that builds its history from the events."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tbwidgets.training.events import (
    STEP_METRIC_KEYS,
    VALIDATION_METRIC_KEYS,
    StepMetrics,
    TrainingEvent,
    ValidationMetrics,
)

if TYPE_CHECKING:
    import pandas as pd


class HistoryRecorder:
    """Listener keeping one row per optimizer step; validation metrics join the row of their step."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, Any]] = {}

    def __call__(self, event: TrainingEvent) -> None:
        if isinstance(event, (StepMetrics, ValidationMetrics)):
            row = self.rows.setdefault(event.step, {"step": event.step, "epoch": event.epoch})
            row.update(event.metrics)

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        columns = ["step", "epoch", *STEP_METRIC_KEYS, *VALIDATION_METRIC_KEYS]
        frame = pd.DataFrame([self.rows[s] for s in sorted(self.rows)])
        for c in columns:
            if c not in frame:
                frame[c] = math.nan if c not in ("step", "epoch") else pd.Series(dtype="int64")
        extra = [c for c in frame.columns if c not in columns]
        return frame[columns + extra].reset_index(drop=True)


def _plain(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null (strict JSON, like the check reports)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@dataclass
class TrainingResult:
    """What a run produced. `history` has one row per optimizer step (validation columns where validated)."""

    run_id: str
    history: pd.DataFrame
    best_step: int | None  # step of the lowest validation loss (None without validation)
    final: dict[str, float]  # last step's metrics and the last validation's
    checkpoints: list[str]
    duration_s: float
    tokens_per_s: float  # training tokens over training time (validation and start-up excluded)
    stopped: bool  # ended by Stop / Ctrl-C (resume from `stop_checkpoint`)
    out_dir: str
    config: dict[str, Any]
    steps: int = 0  # optimizer steps done (counting the ones before a resume)
    start_step: int = 0
    stop_checkpoint: str | None = None
    best_checkpoint: str | None = None
    wandb_sync: str | None = None  # e.g. "wandb sync DIR" for an offline W&B run
    messages: list[str] = field(default_factory=list)  # notes for the user (shown by the CLI/widget)

    @property
    def last_checkpoint(self) -> str | None:
        return self.checkpoints[-1] if self.checkpoints else None

    def to_dict(self) -> dict[str, Any]:
        return _plain(
            {
                "run_id": self.run_id,
                "steps": self.steps,
                "start_step": self.start_step,
                "best_step": self.best_step,
                "final": self.final,
                "checkpoints": self.checkpoints,
                "stop_checkpoint": self.stop_checkpoint,
                "best_checkpoint": self.best_checkpoint,
                "duration_s": self.duration_s,
                "tokens_per_s": self.tokens_per_s,
                "stopped": self.stopped,
                "out_dir": self.out_dir,
                "config": self.config,
                "wandb_sync": self.wandb_sync,
                "messages": self.messages,
                "history": self.history.to_dict(orient="records"),
            }
        )

    def to_json(self, path: str | Path | None = None) -> str:
        """Strict JSON text (NaN → null); also written to `path` when given."""
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def __repr__(self) -> str:
        loss = self.final.get("loss", math.nan)
        how = "stopped" if self.stopped else "finished"
        return f"<TrainingResult {self.run_id}: {how} at step {self.steps}, loss {loss:.4g}, {self.out_dir}>"
