"""Typed training events: `fit` emits them, the widget, the CLI and tests listen.

They follow the model of `tbwidgets.core.events` (frozen plain data, one listener callable). The
only metric axis is the optimizer step (`step`, 1-based: the number of optimizer steps done);
`epoch` is a field, never an axis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from tbwidgets.training.result import TrainingResult

STEP_METRIC_KEYS = ("loss", "accuracy", "lr", "grad_norm", "tokens_per_s", "perplexity")
"""Keys of `StepMetrics.metrics`; `step_time_s` is always added, `cuda_peak_memory_mb` on CUDA."""

VALIDATION_METRIC_KEYS = ("val_loss", "val_accuracy", "val_perplexity")

CHECKPOINT_REASONS = ("periodic", "best", "stop", "final")


@dataclass(frozen=True)
class TrainingStarted:
    run_id: str
    total_steps: int  # optimizer steps the run will do if nothing stops it
    config: Mapping[str, Any]  # TrainingConfig.to_dict(): allow-listed, no secrets
    data_description: str
    out_dir: str
    start_step: int = 0  # > 0 when resuming


@dataclass(frozen=True)
class StepMetrics:
    run_id: str
    step: int  # optimizer steps done, 1-based
    epoch: int
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ValidationMetrics:
    run_id: str
    step: int
    epoch: int
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckpointSaved:
    run_id: str
    step: int
    path: str
    reason: str  # one of CHECKPOINT_REASONS


@dataclass(frozen=True)
class TrainingStopped:
    """Stop (or Ctrl-C) ended the run; `checkpoint` resumes it at `step`."""

    run_id: str
    step: int
    checkpoint: str | None


@dataclass(frozen=True)
class TrainingFinished:
    """The last event of every run that did not fail (also after a Stop, with `result.stopped`)."""

    run_id: str
    result: TrainingResult


@dataclass(frozen=True)
class TrainingFailed:
    run_id: str
    step: int
    message: str  # the cause, one line
    advice: str  # what to try
    checkpoint: str | None  # the last checkpoint written, if any


TrainingEvent = Union[
    TrainingStarted,
    StepMetrics,
    ValidationMetrics,
    CheckpointSaved,
    TrainingStopped,
    TrainingFinished,
    TrainingFailed,
]
TrainingListener = Callable[[TrainingEvent], None]
