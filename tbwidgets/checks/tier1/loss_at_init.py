"""tier1.loss_at_init: the task loss on random tokens should be close to ln(V), an untrained model's score.

Far above ln(V): logits too large or a badly initialised output layer. Far below on random data: the
model sees the answer. Tolerances follow BlackHC/neural_net_checklist (relative to ln(V)).
"""

from __future__ import annotations

import math

import torch

from tbwidgets.checks.tier1._common import (
    Tier1Check,
    forward_problem,
    guessed_task_note,
    loss_name,
    standard_ids,
    task_batch,
)
from tbwidgets.core.check import register
from tbwidgets.core.context import RunContext
from tbwidgets.core.result import CheckResult, Status
from tbwidgets.loading.model import Task


@register
class LossAtInit(Tier1Check):
    check_id = "tier1.loss_at_init"
    title = "Loss at initialisation"
    budget_s = 60.0

    def __init__(
        self,
        warn_above: float = 1.5,
        fail_above: float = 2.0,
        warn_below: float = 0.75,
        fail_below: float = 0.5,
    ) -> None:
        # ratios loss / ln(V). Healthy untrained models give 1.0–1.1; logit std s adds ≈ s²/2 nats.
        self.warn_above, self.fail_above = warn_above, fail_above
        # below chance on random tokens is impossible without seeing the targets
        self.warn_below, self.fail_below = warn_below, fail_below

    def skip_reason(self, ctx: RunContext) -> str | None:
        return forward_problem(ctx)

    def run(self, ctx: RunContext) -> CheckResult:
        loaded = ctx.loaded
        ids = standard_ids(ctx)
        batch = task_batch(loaded, ids, ctx.generator(4))
        ctx.progress(0.2, "loss on random tokens")
        logits = ctx.eval_logits(batch.inputs)  # the shared forward when inputs are the raw ids
        loss = float(batch.loss(logits))
        chance = batch.chance_loss(logits)
        ratio = loss / chance if chance > 0 else float("nan")
        metrics = {"loss": loss, "ln_vocab": chance, "ratio": ratio, "logit_std": _std(logits)}
        what = "ln(classes)" if loaded.task is Task.CLASSIFICATION else "ln(V)"
        head = f"Loss {loss:.4g} vs {what} = {chance:.4g} (ratio {ratio:.2f})"
        basis = f"The {loss_name(loaded.task)} on random tokens.{guessed_task_note(loaded)}"
        if not math.isfinite(loss):
            return self.result(
                Status.FAIL,
                f"{head}: the loss is not finite.",
                f"{basis} See Numerical stability.",
                metrics=metrics,
            )
        if ratio > self.fail_above or ratio > self.warn_above:
            status = Status.FAIL if ratio > self.fail_above else Status.WARN
            return self.result(
                status,
                f"{head}: far above chance — the model is confidently wrong from the start.",
                f"{basis} An untrained model should spread its probability evenly (loss ≈ {what}); "
                f"logits with spread {metrics['logit_std']:.3g} are too large. Scale down the output "
                "layer's init (std 0.02), add a final LayerNorm, or remove a multiplier on the logits. "
                "(A trained model scores above chance on random tokens; then ignore this.)",
                metrics=metrics,
            )
        if ratio < self.warn_below:
            status = Status.FAIL if ratio < self.fail_below else Status.WARN
            return self.result(
                status,
                f"{head}: far below chance on random data — the model sees the answer.",
                f"{basis} Random tokens are unpredictable, so a loss below {what} means the targets leak "
                "into the inputs: a missing causal mask, an off-by-one shift, or labels fed to forward. "
                "See Causal leakage.",
                metrics=metrics,
            )
        return self.result(
            Status.PASS,
            f"{head}: as expected for an untrained model.",
            f"{basis} Close to {what} means the model starts with no preference, as it should.",
            metrics=metrics,
        )


def _std(logits: torch.Tensor) -> float:
    return float(logits.float().std(dim=-1).mean()) if logits.shape[-1] > 1 else 0.0
