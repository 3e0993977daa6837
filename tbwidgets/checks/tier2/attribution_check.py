"""`tier2.attribution`: Integrated Gradients for the next-token prediction, WARN when it does not converge."""

from __future__ import annotations

from typing import Any

from tbwidgets.checks.tier2.attribution import DEFAULT_TOLERANCE, integrated_gradients
from tbwidgets.core.check import Check, register
from tbwidgets.core.context import RunContext
from tbwidgets.core.result import CheckResult, Status


@register
class AttributionCheck(Check):
    """Integrated Gradients for the next-token prediction at the end of the sample text."""

    check_id = "tier2.attribution"
    title = "Token attribution (Integrated Gradients)"
    tier = 2
    budget_s = 90.0

    def __init__(
        self,
        text: str | None = None,
        tokenizer: Any = None,
        n_steps: int = 50,  # captum's default; raised automatically while the delta is large
        max_steps: int = 200,  # the check's cap; the function's own cap is higher
        tolerance: float = DEFAULT_TOLERANCE,
        max_tokens: int = 64,  # IG costs n_steps forward+backward passes over the whole input
    ) -> None:
        self.text, self.tokenizer = text, tokenizer
        self.n_steps, self.max_steps, self.tolerance, self.max_tokens = (
            n_steps,
            max_steps,
            tolerance,
            max_tokens,
        )

    def skip_reason(self, ctx: RunContext) -> str | None:
        if ctx.loaded.token_embedding is None:
            return "No token embedding (nn.Embedding) was found, so there is no layer to attribute through."
        return None

    def run(self, ctx: RunContext) -> CheckResult:
        ctx.progress(0.05, "integrated gradients")
        a = integrated_gradients(
            ctx.loaded, text=self.text, tokenizer=self.tokenizer, n_steps=self.n_steps, max_steps=self.max_steps,
            tolerance=self.tolerance, max_tokens=self.max_tokens, time_budget_s=max(ctx.time_left * 0.8, 1.0),
            progress=ctx.progress, check_stop=ctx.raise_if_cancelled,
        )  # fmt: skip
        top = max(a.rows(), key=lambda r: r["share"])
        fields: dict[str, Any] = {
            "metrics": {
                "delta": a.delta, "relative_delta": a.relative_delta, "n_steps": a.n_steps, "tries": len(a.tries),
                "f_input": a.f_input, "f_baseline": a.f_baseline, "sum_scores": float(a.scores.sum()),
                "target": a.target, "position": a.position, "top_share": top["share"],
            },
            "table": a.rows(),
            "artifacts": {"scores": a.scores.numpy(), "tokens": list(a.tokens), "target_token": a.target_token,
                          "position": a.position, "tries": list(a.tries)},
        }  # fmt: skip
        done = "; ".join(a.notes) or f"{a.n_steps} steps"
        if not a.converged:
            return self.result(
                Status.WARN,
                f"Attributions did not converge: delta is {a.relative_delta:.0%} of the logit change ({done}).",
                "Integrated Gradients approximates an integral; a large convergence delta means the scores do "
                "not add up to the model's output change and may mislead. Try a shorter text, a larger "
                "max_steps, or another baseline token (baseline_id).",
                **fields,
            )
        return self.result(
            Status.PASS,
            f"The {a.target_token!r} logit at position {a.position} leans most on token {top['token']!r} "
            f"(position {top['position']}, {top['share']:.0%} of the attribution).",
            f"Scores add up to the logit change within {a.relative_delta:.1%} ({done}). Positive scores push "
            "towards the predicted token, negative ones away from it.",
            **fields,
        )
