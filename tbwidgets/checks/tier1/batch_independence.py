"""tier1.batch_independence: in eval mode a sample's output is the same alone and inside a batch.

Batched matmuls use other kernels than single rows, so outputs differ by float noise
(transformers#25420); the tolerance is relative to the logits' scale, far above that noise.
"""

from __future__ import annotations

import torch

from tbwidgets.checks.tier1._common import (
    Tier1Check,
    first_line,
    max_abs_diff,
    nondeterminism_problem,
    standard_ids,
)
from tbwidgets.checks.tier1._dtype import param_dtype, scaled_tol
from tbwidgets.core.check import register
from tbwidgets.core.context import RunContext, eval_mode
from tbwidgets.core.result import CheckResult, Status


@register
class BatchIndependence(Tier1Check):
    check_id = "tier1.batch_independence"
    title = "Batch independence"
    budget_s = 60.0

    def __init__(self, samples: int = 2, atol: float = 1e-4, rtol: float = 1e-3) -> None:
        self.samples = samples  # rows re-run alone: the first and the last of the shared batch
        # batched vs single-row float noise is ~1e-6 relative; mixing moves outputs by O(1)
        self.atol, self.rtol = atol, rtol

    def skip_reason(self, ctx: RunContext) -> str | None:
        return nondeterminism_problem(ctx)

    def run(self, ctx: RunContext) -> CheckResult:
        ids = standard_ids(ctx)  # (B, T)
        batched = ctx.eval_logits(ids).float()
        B = ids.shape[0]
        picks = sorted({0, B - 1, *range(min(self.samples, B))})[: max(self.samples, 1)]
        scale = float(batched.nan_to_num(0.0, 0.0, 0.0).abs().max())
        # half precision rounds differently per batch shape: allow 8 rounding steps of its dtype
        tol = self.atol + scaled_tol(self.rtol, param_dtype(ctx.model), ulps=8) * scale
        rows = []
        with eval_mode(ctx.model), torch.no_grad():
            for i, row in enumerate(picks):
                ctx.progress((i + 1) / (len(picks) + 1), f"sample {row} alone")
                try:
                    alone = ctx.adapter(ids[row : row + 1]).float()
                except Exception as exc:  # noqa: BLE001 - batch-1 failures belong to shape_robustness
                    return self.result(
                        Status.SKIPPED,
                        f"The model cannot run a single sample ({first_line(exc)}); see Shape robustness.",
                    )
                diff = max_abs_diff(alone[0], batched[row])
                rows.append({"sample": row, "max_abs_diff": diff, "tolerance": tol, "mixed": diff > tol})
        mixed = [r for r in rows if r["mixed"]]
        worst = max(r["max_abs_diff"] for r in rows)
        metrics = {"max_abs_diff": worst, "tolerance": tol, "batch": float(B)}
        if mixed:
            return self.result(
                Status.FAIL,
                f"Samples mix: sample {mixed[0]['sample']}'s output changes by {mixed[0]['max_abs_diff']:.3g} "
                f"when run in a batch of {B} (tolerance {tol:.2g}).",
                "One sample's prediction depends on the other samples in its batch, so results change "
                "with batch size and composition and the model can cheat during training. Look for "
                "reductions over dim 0 (x.mean(0), BatchNorm in eval mode is fine, in train mode not), "
                "reshapes that merge batch and length (view(-1, C) then back with the wrong order), or "
                "attention over the batch dimension (nn.MultiheadAttention without batch_first=True).",
                metrics=metrics,
                table=rows,
            )
        return self.result(
            Status.PASS,
            f"Each sample gives the same output alone and in a batch of {B} (max diff {worst:.2g}).",
            "Outputs do not depend on the other samples in the batch.",
            metrics=metrics,
            table=rows,
        )
