"""tier1.causal_leakage: changing tokens after position t must not move the outputs at positions ≤ t.

Each variant runs alone (batch of one) so that a model that mixes samples cannot fake a leak.
"""

from __future__ import annotations

import torch

from tbwidgets.checks.tier1._common import (
    Tier1Check,
    abs_diff,
    guessed_task_note,
    nondeterminism_problem,
    ranges,
)
from tbwidgets.checks.tier1._dtype import param_dtype, scaled_tol
from tbwidgets.core.check import register
from tbwidgets.core.context import RunContext, eval_mode
from tbwidgets.core.result import CheckResult, Status
from tbwidgets.loading.model import Task

_COPY = (
    "With a leak, next-token training lets position t read token t+1, so the model learns to copy "
    "instead of predicting and generation fails. "
)


@register
class CausalLeakage(Tier1Check):
    check_id = "tier1.causal_leakage"
    title = "Causal leakage"
    budget_s = 60.0

    def __init__(
        self, length: int = 32, atol: float = 1e-5, rtol: float = 1e-4, local_lookahead: int = 4
    ) -> None:
        self.length = length  # enough positions for several cut points, cheap on CPU
        # a leak reaching at most this many tokens ahead is a shifted mask (one step per layer)
        self.local_lookahead = local_lookahead
        # a truly causal model gives identical earlier outputs; float noise stays far below this
        self.atol, self.rtol = atol, rtol

    def skip_reason(self, ctx: RunContext) -> str | None:
        if ctx.loaded.task is Task.CLASSIFICATION:
            return "Classification models give one output per sequence, so there are no positions to leak between."
        if ctx.loaded.facts.max_len < 2:
            return "The model accepts only one position."
        return nondeterminism_problem(ctx)

    def cut_points(self, T: int) -> list[int]:
        return sorted({t for t in (0, 1, 2, T // 4, T // 2, T - 2) if 0 <= t <= T - 2})

    def run(self, ctx: RunContext) -> CheckResult:
        V = ctx.loaded.facts.vocab_size
        T = min(self.length, ctx.loaded.facts.max_len)
        base = ctx.random_tokens(1, T, offset=5)
        shift = torch.randint(1, max(V, 2), (1, T), generator=ctx.generator(6)).to(base.device)
        cuts = self.cut_points(T)
        rows, leaks = [], {}
        with eval_mode(ctx.model), torch.no_grad():
            ref = ctx.adapter(base).float()  # (1, T, V)
            finite = bool(torch.isfinite(ref).all())
            rtol = scaled_tol(self.rtol, param_dtype(ctx.model), ulps=8)  # half precision: 8 rounding steps
            tol = self.atol + rtol * float(ref.nan_to_num(0.0, 0.0, 0.0).abs().max())
            for i, t in enumerate(cuts):
                ctx.progress((i + 1) / (len(cuts) + 1), f"changing tokens after position {t}")
                variant = base.clone()
                variant[:, t + 1 :] = (base[:, t + 1 :] + shift[:, t + 1 :]) % V  # every later token differs
                out = ctx.adapter(variant)
                finite = finite and bool(torch.isfinite(out).all())
                moved = abs_diff(out[0, : t + 1], ref[0, : t + 1]).amax(dim=-1)  # (t+1,)
                leaking = (moved > tol).nonzero().flatten().tolist()
                if leaking:
                    leaks[t] = leaking
                rows.append(
                    {
                        "changed_after": t,
                        "leaking_positions": ranges(leaking),
                        "max_change": float(moved.max()),
                    }
                )
        if not finite:  # NaN spreads through masked attention (0 × NaN), which is no leak of information
            return self.result(
                Status.SKIPPED,
                "Outputs contain NaN/Inf, so leakage cannot be measured; see Numerical stability.",
            )
        metrics = {"cut_points": float(len(cuts)), "leaking_cuts": float(len(leaks)), "tolerance": tol}
        if ctx.loaded.task is Task.MASKED_LM:
            return self._bidirectional(ctx, leaks, metrics, rows)
        return self._causal(ctx, leaks, metrics, rows)

    def _causal(self, ctx: RunContext, leaks: dict[int, list[int]], metrics: dict, rows: list) -> CheckResult:
        guessed = guessed_task_note(ctx.loaded, "task='masked-lm'")
        if not leaks:
            return self.result(
                Status.PASS,
                f"No leak: outputs at positions ≤ t never move when later tokens change ({len(rows)} cut points).",
                "Earlier positions ignore later tokens, as next-token prediction requires." + guessed,
                metrics=metrics,
                table=rows,
            )
        # how far ahead the earliest moved position sees: 1 per layer for an off-by-one mask, all for none
        lookahead = max(t + 1 - min(pos) for t, pos in leaks.items())
        metrics["lookahead"] = float(lookahead)
        if lookahead <= self.local_lookahead and max(leaks) + 1 > 2 * lookahead:
            summary = (
                f"Off-by-one causal mask: position t sees token t+1, the very token it must predict "
                f"(reach {lookahead} token(s) ahead; each layer adds one)."
            )
            fix = "Build the mask with torch.triu(ones(T, T), diagonal=1) (True = blocked), or use is_causal=True. "
        else:
            positions = sorted({p for pos in leaks.values() for p in pos})
            summary = (
                f"Causal leak: outputs at positions {ranges(positions)} change when later tokens change."
            )
            fix = (
                "Pass a causal mask to attention (nn.MultiheadAttention: attn_mask=nn.Transformer."
                "generate_square_subsequent_mask(T), is_causal=True; F.scaled_dot_product_attention: "
                "is_causal=True), and check that nothing else (pooling, convolutions) looks ahead. "
            )
        return self.result(Status.FAIL, summary, _COPY + fix + guessed, metrics=metrics, table=rows)

    def _bidirectional(
        self, ctx: RunContext, leaks: dict[int, list[int]], metrics: dict, rows: list
    ) -> CheckResult:
        guessed = guessed_task_note(ctx.loaded, "task='causal-lm'")
        if leaks:
            return self.result(
                Status.PASS,
                "Bidirectional attention, as expected for a masked-LM/encoder model.",
                "Earlier outputs depend on later tokens; a masked language model must see both sides. "
                f"Task: masked-LM ({ctx.loaded.task_reason})." + guessed,
                metrics=metrics,
                table=rows,
            )
        return self.result(
            Status.PASS,
            "This masked-LM model only looks backwards (outputs never depend on later tokens).",
            "That is unusual for a masked LM, which normally uses context on both sides; if the model "
            "is a causal language model, state it with task='causal-lm'." + guessed,
            metrics=metrics,
            table=rows,
        )
