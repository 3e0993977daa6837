"""tier1.determinism: two eval-mode forwards on the same input agree; reports whether train mode is stochastic."""

from __future__ import annotations

import torch

from tbwidgets.checks.tier1._common import Tier1Check, forward_problem, max_abs_diff, own_rng, standard_ids
from tbwidgets.core.check import register
from tbwidgets.core.context import RunContext, eval_mode
from tbwidgets.core.result import CheckResult, Status


@register
class Determinism(Tier1Check):
    check_id = "tier1.determinism"
    title = "Determinism"
    budget_s = 60.0

    def __init__(self, atol: float = 1e-5, train_length: int = 16) -> None:
        self.atol = atol  # the same computation twice is bit-identical on CPU; GPUs stay far below this
        self.train_length = train_length  # a short input suffices to see dropout in train mode

    def skip_reason(self, ctx: RunContext) -> str | None:
        return forward_problem(ctx)

    def run(self, ctx: RunContext) -> CheckResult:
        ids = standard_ids(ctx)
        first = ctx.eval_logits(ids).float()  # the shared forward
        ctx.progress(0.3, "second eval forward")
        with eval_mode(ctx.model), torch.no_grad(), own_rng():
            torch.manual_seed(ctx.seed + 7919)  # a state the first forward surely did not start from
            second = ctx.adapter(ids).float()
        diff = max_abs_diff(first, second)
        ctx.progress(0.6, "train-mode forwards")
        train_diff = self._train_diff(ctx, ids[:2, : self.train_length])
        metrics = {"eval_max_abs_diff": diff, "train_max_abs_diff": train_diff}
        stochastic = "stochastic (dropout; expected)" if train_diff > self.atol else "deterministic"
        if not diff <= self.atol:
            return self.result(
                Status.FAIL,
                f"Two eval forwards on the same input differ by {diff:.3g}: dropout or randomness active in eval mode?",
                "model.eval() should make the model deterministic; otherwise validation scores are noisy "
                "and generation is not reproducible. Look for F.dropout(x, p) without "
                "training=self.training, torch.rand/randn inside forward, or a module kept in train "
                f"mode. (Train mode is {stochastic}.)",
                metrics=metrics,
            )
        return self.result(
            Status.PASS,
            f"Two eval forwards agree (max diff {diff:.2g}); train mode is {stochastic}.",
            "The model is deterministic in eval mode, so validation scores and generation are reproducible.",
            metrics=metrics,
        )

    def _train_diff(self, ctx: RunContext, ids: torch.Tensor) -> float:
        with eval_mode(ctx.model, train=True), torch.no_grad(), own_rng():
            a = ctx.adapter(ids).float()
            b = ctx.adapter(ids).float()
        return max_abs_diff(a, b)
