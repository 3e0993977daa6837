"""Lightning callbacks that are the seam between the loop and everything else (DESIGN §3.1).

`RunState` is what they share. `StepSeed` makes dropout a function of the step, `StepEvents` turns the
module's per-step sums into `StepMetrics`, `PeriodicValidation` runs the validation set at chosen steps
(inside the step boundary, so a checkpoint written after it is a clean resume point). Checkpoints and
Stop live in `tbwidgets.training.checkpoints`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightning as L
import torch

from tbwidgets.training.events import StepMetrics, TrainingEvent, ValidationMetrics
from tbwidgets.training.losses import perplexity
from tbwidgets.training.module import StepAccumulator, TrainingModule
from tbwidgets.training.outcome import TrainingDiverged

Emit = Callable[[TrainingEvent], None]


@dataclass
class RunState:
    """Shared by the callbacks of one run (and read by `fit` afterwards)."""

    run_id: str
    total_steps: int
    emit: Emit
    step: int = 0  # optimizer steps done
    epoch: int = 0
    boundary: bool = False  # True inside on_train_batch_end right after an optimizer step
    last_val: dict[str, float] = field(default_factory=dict)
    last_val_step: int = -1
    best_val_loss: float = math.inf
    best_step: int | None = None
    bad_validations: int = 0  # validations in a row without improvement, for early stopping
    stopped_at: int | None = None
    stop_checkpoint: str | None = None
    last_checkpoint: str | None = None
    checkpoints: list[str] = field(default_factory=list)
    tokens: int = 0
    train_seconds: float = 0.0
    stopping: bool = False  # Stop requested and honoured: skip validation


def step_boundary(trainer: L.Trainer, state: RunState) -> bool:
    """True once per optimizer step: Lightning calls on_train_batch_end per micro-batch."""
    if trainer.global_step == state.step:
        return False
    state.step = trainer.global_step
    state.epoch = trainer.current_epoch
    return True


class StepSeed(L.Callback):
    """Reseed torch before every micro-batch from (seed, rank, step, micro-batch).

    Dropout masks then depend only on the step, so a run resumed at step k draws exactly what the
    uninterrupted run drew: Lightning checkpoints hold no RNG state, and data-loader iterators consume
    the global generator whenever they are created (one draw per epoch and per validation).
    """

    def __init__(self, seed: int, accumulation: int) -> None:
        self.seed, self.accumulation = seed, accumulation

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: Any, batch: Any, batch_idx: int) -> None:
        micro = trainer.global_step * self.accumulation + batch_idx % self.accumulation
        seed = hash((self.seed, trainer.global_rank, micro)) & 0x7FFF_FFFF_FFFF_FFFF
        # The generators themselves, not torch.manual_seed: that one visits every backend (~5 ms a call).
        torch.default_generator.manual_seed(seed)
        device = pl_module.device
        if device.type == "cuda":
            torch.cuda.default_generators[device.index or 0].manual_seed(seed)


def _number(x: Any) -> float:
    return float(x.item()) if isinstance(x, torch.Tensor) else float(x)


def step_metrics(acc: StepAccumulator, seconds: float, kind: str = "") -> tuple[dict[str, float], int]:
    """Plain floats from one step's sums (this is where the GPU is synced) and the tokens it saw.

    Regression reports its MSE as the loss; accuracy and perplexity are NaN there (they mean nothing)."""
    loss = _number(acc.loss_sum) / max(1, acc.n_micro)
    targets, tokens = _number(acc.n_targets), int(_number(acc.n_tokens))
    metrics = {
        "loss": loss,
        "accuracy": _number(acc.n_correct) / targets if targets > 0 else math.nan,
        "lr": acc.lr,
        "grad_norm": _number(acc.grad_norm) if acc.grad_norm is not None else math.nan,
        "tokens_per_s": tokens / seconds if seconds > 0 else math.nan,
        "perplexity": perplexity(loss) if kind != "regression" else math.nan,
        "step_time_s": seconds,
        **acc.extra,
    }
    return metrics, tokens


class StepEvents(L.Callback):
    """Emit StepMetrics once per optimizer step (rank 0 only).

    On CUDA the metrics of step k are read at the end of step k+1 (`lag`): by then the GPU is working
    on k+1, so `.item()` waits for finished work only and the device never idles for a report.
    """

    def __init__(self, state: RunState, lag: bool = False) -> None:
        self.state, self.lag = state, lag
        self._pending: tuple[int, int, StepAccumulator, float] | None = None
        self._t_last = 0.0
        self.kind = ""

    def on_train_start(self, trainer: L.Trainer, pl_module: Any) -> None:
        self.state.step = trainer.global_step
        self._t_last = time.perf_counter()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self.state.boundary = step_boundary(trainer, self.state)
        if not self.state.boundary:
            return
        module: TrainingModule = pl_module
        now = time.perf_counter()
        acc, module.train_acc = module.train_acc, StepAccumulator()
        if torch.cuda.is_available() and module.device.type == "cuda":
            acc.extra["cuda_peak_memory_mb"] = torch.cuda.max_memory_allocated(module.device) / 2**20
        self.kind = module.kind
        record = (self.state.step, self.state.epoch, acc, now - self._t_last)
        self._t_last = now
        if self.lag:
            record, self._pending = self._pending, record  # type: ignore[assignment]
        if record is not None:
            self._publish(trainer, *record)

    def flush(self, trainer: L.Trainer) -> None:
        """Publish a step held back by `lag` (before a stop, a validation or the end)."""
        if self._pending is not None:
            record, self._pending = self._pending, None
            self._publish(trainer, *record)

    def on_train_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        self.flush(trainer)

    def _publish(self, trainer: L.Trainer, step: int, epoch: int, acc: StepAccumulator, dt: float) -> None:
        metrics, tokens = step_metrics(acc, dt, self.kind)
        if trainer.world_size > 1:  # every rank trained a batch this big: report the total throughput
            metrics["tokens_per_s"] *= trainer.world_size
            tokens *= trainer.world_size
        if not math.isfinite(metrics["loss"]):
            raise TrainingDiverged(f"The training loss became {metrics['loss']} at step {step}.")
        self.state.tokens += tokens
        self.state.train_seconds += dt
        if trainer.is_global_zero:
            self.state.emit(StepMetrics(self.state.run_id, step, epoch, metrics))


def _summed(trainer: L.Trainer, acc: StepAccumulator) -> tuple[float, float, float]:
    """(loss sum, targets, correct) over every rank: under DDP each rank validated its shard."""
    values = [acc.loss_sum, acc.n_targets, acc.n_correct]
    if trainer.world_size > 1:
        device = trainer.strategy.root_device
        stacked = torch.stack([torch.as_tensor(v, dtype=torch.float64, device=device) for v in values])
        values = list(trainer.strategy.reduce(stacked, reduce_op="sum"))
    return _number(values[0]), _number(values[1]), _number(values[2])


class PeriodicValidation(L.Callback):
    """Run the validation loader every `every` steps and at the last step; emit ValidationMetrics.

    Our own loop instead of Lightning's: it runs exactly at optimizer-step boundaries, before the
    checkpoint of that step, and never after a Stop (Lightning validates once more when asked to stop).
    """

    def __init__(self, state: RunState, loader: Any, every: int | None, events: StepEvents) -> None:
        self.state, self.loader, self.every, self.events = state, loader, every, events

    def due(self, step: int) -> bool:
        if self.loader is None or self.state.stopping:
            return False
        return step >= self.state.total_steps or bool(self.every and step % self.every == 0)

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.state.boundary and self.due(self.state.step):
            self.events.flush(trainer)
            self.run(trainer, pl_module)

    def run(self, trainer: L.Trainer, module: TrainingModule) -> dict[str, float]:
        t0 = time.perf_counter()
        module.eval()
        module.val_acc = StepAccumulator()
        try:
            with torch.no_grad(), trainer.precision_plugin.val_step_context():
                for batch in self.loader:
                    module.eval_step(trainer.strategy.batch_to_device(batch))
        finally:
            module.train()
        loss_sum, targets, correct = _summed(trainer, module.val_acc)
        loss = loss_sum / targets if targets > 0 else math.nan
        metrics = {
            "val_loss": loss,
            "val_accuracy": correct / targets if targets > 0 else math.nan,
            "val_perplexity": perplexity(loss) if module.kind != "regression" else math.nan,
        }
        self.state.last_val, self.state.last_val_step = metrics, self.state.step
        self.events._t_last += time.perf_counter() - t0  # validation time is not training time
        if trainer.is_global_zero:
            self.state.emit(ValidationMetrics(self.state.run_id, self.state.step, self.state.epoch, metrics))
        return metrics
