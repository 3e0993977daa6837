"""`tier2.perturbation`: token-substitution influence and embedding-noise curves, judged only for pathologies.

FAIL for: output independent of the input; NaN/Inf under small embedding noise; a causal language
model whose earlier outputs change when a later token changes. Sensitivity itself is described.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from tbwidgets.checks.tier2._resolve import logits_of, model_device, token_input
from tbwidgets.checks.tier2.perturbation import Influence, NoiseCurves, noise_curves, substitution_influence
from tbwidgets.core.check import Check, register
from tbwidgets.core.context import RunContext, eval_mode
from tbwidgets.core.result import CheckResult, Status
from tbwidgets.loading.model import Task


@register
class Perturbation(Check):
    """Token substitution influence and embedding-noise curves on the sample text."""

    check_id = "tier2.perturbation"
    title = "Perturbation sensitivity"
    tier = 2
    budget_s = 60.0

    def __init__(
        self,
        text: str | None = None,
        tokenizer: Any = None,
        max_tokens: int = 64,  # substitution costs one forward row per probed position
        max_positions: int = 16,  # positions probed by substitution, evenly spaced
        levels: Sequence[float] = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0),  # σ relative to the embedding norm
        n_samples: int = 4,  # sequences for the noise curves: the text plus random ones
        independence_kl: float = 1e-9,  # below this everywhere, the output ignores the input
        leak_kl: float = 1e-6,  # KL at earlier positions above this (and leak_share of the rest) leaks
        leak_share: float = 1e-3,
        small_noise: float = 0.1,  # NaN at or below this σ is a numerical bug, not sensitivity
    ) -> None:
        self.text, self.tokenizer, self.max_tokens, self.max_positions = (
            text,
            tokenizer,
            max_tokens,
            max_positions,
        )
        self.levels, self.n_samples = tuple(levels), n_samples
        self.independence_kl, self.leak_kl, self.leak_share = independence_kl, leak_kl, leak_share
        self.small_noise = small_noise

    def run(self, ctx: RunContext) -> CheckResult:
        loaded = ctx.loaded
        tok = token_input(loaded, text=self.text, tokenizer=self.tokenizer, max_tokens=self.max_tokens)
        ids = tok.ids.to(model_device(loaded.module))
        with eval_mode(loaded.module), torch.no_grad():
            if not bool(torch.isfinite(logits_of(loaded, ids)).all()):
                return self.result(
                    Status.FAIL, "The model outputs NaN/Inf on the clean sample input.",
                    "Nothing can be measured on non-finite outputs; see Tier 1's numerics checks for where "
                    "they start.",
                )  # fmt: skip
            infl = substitution_influence(
                loaded, ids, max_positions=self.max_positions, seed=ctx.seed,
                progress=lambda f, n: ctx.progress(0.05 + 0.5 * f, n),
            )  # fmt: skip
            noise = None
            if loaded.token_embedding is not None:
                extra = ctx.random_tokens(max(0, self.n_samples - 1), ids.shape[1], offset=7).to(ids.device)
                noise = noise_curves(
                    loaded, torch.cat([ids, extra]), self.levels, seed=ctx.seed,
                    progress=lambda f, n: ctx.progress(0.55 + 0.4 * f, n),
                )  # fmt: skip
        return self._verdict(ctx, tok.tokens, infl, noise)

    def _verdict(
        self, ctx: RunContext, tokens: list[str], infl: Influence, noise: NoiseCurves | None
    ) -> CheckResult:
        offsets, by_offset = infl.by_offset()
        earlier, later = infl.earlier(), infl.at_or_after()
        earlier_max = float(earlier.max()) if earlier.numel() else 0.0
        later_mean = float(later.mean()) if later.numel() else 0.0
        fields = _fields(tokens, infl, offsets, by_offset, noise, earlier_max, later_mean)
        noise_max = max((k for k in noise.kl if k == k), default=0.0) if noise else 0.0
        if float(infl.kl.max()) < self.independence_kl and noise_max < self.independence_kl:
            return self.result(
                Status.FAIL, "The output does not depend on the input: changing tokens or embeddings moves nothing.",
                "Every position's prediction is the same whatever the tokens. Look for an input that is never "
                "used (forward ignores its argument), a zero-multiplied embedding, or logits computed from a "
                "constant.", **fields,
            )  # fmt: skip
        if noise is not None:
            broken = [
                s
                for s, ok in zip(noise.levels, noise.finite, strict=True)
                if not ok and s <= self.small_noise
            ]
            if broken:
                return self.result(
                    Status.FAIL, f"Small embedding noise (σ={broken[0]:g}) makes the output NaN/Inf.",
                    "A healthy model stays finite under small input noise. Look for divisions by a norm or "
                    "variance without an epsilon, log of values that can reach 0, or float16 overflow.", **fields,
                )  # fmt: skip
        leaks = earlier_max > self.leak_kl and earlier_max > self.leak_share * later_mean
        if ctx.loaded.task is Task.CAUSAL_LM and leaks:
            return self.result(
                Status.FAIL, f"This causal model's predictions change when LATER tokens change (KL up to {earlier_max:.2g}).",
                "A next-token model that sees the future learns to copy the answer: training loss drops but "
                "generation fails. Mask attention causally (attn_mask=nn.Transformer.generate_square_subsequent_"
                "mask(T) or is_causal=True) and check other mixing across positions.", **fields,
            )  # fmt: skip
        return self.result(Status.PASS, _summary(infl, by_offset, offsets, noise), _details(), **fields)


def _summary(
    infl: Influence, by_offset: torch.Tensor, offsets: torch.Tensor, noise: NoiseCurves | None
) -> str:
    if infl.pooled:
        text = (
            f"Substituting one token moves the sequence output by KL {float(by_offset.mean()):.3g} on average"
        )
    else:
        text = f"Substituting a token moves its own position's output by KL {float(by_offset[offsets == 0][0]):.3g}"
    if noise is not None and 0.1 in noise.levels:
        text += f"; noise σ=0.1 keeps {noise.top1[noise.levels.index(0.1)]:.0%} of top-1 predictions"
    return text + "."


def _details() -> str:
    return (
        "Sensitivity is described, not judged: untrained models react strongly to any change. The "
        "influence-by-distance and noise curves show how far information travels and how smooth the model is."
    )


def _fields(
    tokens: list[str], infl: Influence, offsets: torch.Tensor, by_offset: torch.Tensor,
    noise: NoiseCurves | None, earlier_max: float, later_mean: float,
) -> dict[str, Any]:  # fmt: skip
    metrics: dict[str, float] = {"earlier_max_kl": earlier_max, "later_mean_kl": later_mean,
                                 "positions_probed": len(infl.positions)}  # fmt: skip
    for off in () if infl.pooled else (0, 1, 2):
        hit = by_offset[offsets == off]
        if hit.numel():
            metrics[f"kl_at_offset_{off}"] = float(hit[0])
    rows: list[dict[str, Any]] = []
    if noise is not None:
        for s, k, t, ok in zip(noise.levels, noise.kl, noise.top1, noise.finite, strict=True):
            metrics[f"noise_{s:g}.kl"], metrics[f"noise_{s:g}.top1"] = k, t
            rows.append({"sigma": s, "kl": k, "top1_agreement": t, "finite": ok})
    artifacts = {"tokens": tokens, "positions": infl.positions, "influence": infl.kl.numpy(),
                 "offsets": offsets.numpy(), "influence_by_offset": by_offset.numpy()}  # fmt: skip
    if noise is not None:
        artifacts.update(noise_levels=noise.levels, noise_kl=noise.kl, noise_top1=noise.top1)
    return {"metrics": metrics, "table": rows, "artifacts": artifacts}
