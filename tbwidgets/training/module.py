"""The LightningModule around a loaded model's adapter: loss per task, AdamW groups, warmup + cosine.

Metrics are gathered as detached tensors in a `StepAccumulator` and read once per optimizer step by
the events callback, so a step never waits for the GPU just to report its loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightning as L
import torch
from torch import nn

from tbwidgets.training.losses import batch_stats


@dataclass
class OptimSettings:
    """What the optimizer and schedule need, taken from TrainingConfig."""

    learning_rate: float = 5e-4
    weight_decay: float = 0.01
    warmup_steps: int = 0
    total_steps: int = 1
    max_grad_norm: float = 1.0  # <= 0 means no clipping (the norm is still measured)


@dataclass
class StepAccumulator:
    """Sums over the micro-batches of one optimizer step (tensors stay on the device)."""

    loss_sum: Any = 0.0
    n_micro: int = 0
    n_targets: Any = 0
    n_correct: Any = 0
    n_tokens: Any = 0
    grad_norm: Any = None
    lr: float = math.nan
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, loss: torch.Tensor, n_targets: Any, n_correct: Any, n_tokens: Any) -> None:
        self.loss_sum = self.loss_sum + loss.detach()
        self.n_micro += 1
        self.n_targets = self.n_targets + n_targets
        self.n_correct = self.n_correct + n_correct
        self.n_tokens = self.n_tokens + n_tokens


def lr_lambda(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """Linear warmup to 1 over `warmup_steps`, then cosine decay towards 0 at `total_steps`.

    `step` is the number of optimizer steps already taken, so the first step uses 1/(warmup+1) of the
    peak instead of 0 (a zero-LR step would waste a batch).
    """

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW groups: decay on weight matrices only; none on biases, norms (1-D) and embeddings."""
    embedding_ids = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for p in model.parameters():  # tied weights appear once
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or id(p) in embedding_ids else decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return [g for g in groups if g["params"]]


class TrainingModule(L.LightningModule):
    """Trains `model` through `adapter(input_ids, attention_mask) -> logits` on batches of one task kind."""

    def __init__(
        self,
        model: nn.Module,
        adapter: Callable[..., torch.Tensor],
        kind: str,
        optim: OptimSettings,
        compile_model: bool = False,
    ) -> None:
        super().__init__()
        self.model = model  # registered so Lightning moves, saves and wraps it
        self.kind = kind
        self.optim = optim
        self._call: Callable[..., torch.Tensor] = torch.compile(adapter) if compile_model else adapter
        self.train_acc = StepAccumulator()
        self.val_acc = StepAccumulator()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        return self._call(input_ids, attention_mask)

    def _stats(self, batch: dict[str, torch.Tensor]) -> Any:
        logits = self(batch["input_ids"], batch.get("attention_mask"))
        return batch_stats(self.kind, logits, batch)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        s = self._stats(batch)
        self.train_acc.add(s.loss, s.n_targets, s.n_correct, s.n_tokens)
        return s.loss

    def eval_step(self, batch: dict[str, torch.Tensor]) -> None:
        """One validation batch (not `validation_step`: Lightning would look for its own val loader)."""
        s = self._stats(batch)
        # Summed CE (mean × count) so the validation loss is a mean over all targets, not over batches.
        self.val_acc.add(s.loss * s.n_targets, s.n_targets, s.n_correct, s.n_tokens)

    def configure_optimizers(self) -> Any:
        o = self.optim
        fused = all(p.is_cuda for p in self.model.parameters())  # fused AdamW: CUDA only
        optimizer = torch.optim.AdamW(
            parameter_groups(self.model, o.weight_decay), lr=o.learning_rate, fused=fused or None
        )
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(o.warmup_steps, o.total_steps))
        # interval "step": the schedule advances once per optimizer step (not per micro-batch, not per epoch)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        self.train_acc.lr = float(optimizer.param_groups[0]["lr"])  # the LR this step uses

    def configure_gradient_clipping(
        self, optimizer: Any, gradient_clip_val: Any = None, gradient_clip_algorithm: Any = None
    ) -> None:
        # Lightning calls this after unscaling (16-mixed), so the norm is the true one, before clipping.
        params = [p for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        if self.optim.max_grad_norm > 0:
            norm = torch.nn.utils.clip_grad_norm_(params, self.optim.max_grad_norm)
        else:
            norm = torch.nn.utils.get_total_norm([p.grad for p in params if p.grad is not None])
        self.train_acc.grad_norm = norm.detach()
