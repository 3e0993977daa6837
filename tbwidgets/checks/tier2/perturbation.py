"""`tier2.perturbation`: how the output moves when the input moves — meaningful for untrained models too.

(a) Substitute one token at a time and measure KL(clean ‖ perturbed) of the output distribution
at every position: an influence map over distance. A causal model must not react at positions
before the substituted one. (b) Add Gaussian noise to the token embedding's output (a forward
hook, so the model needs no `inputs_embeds`), scaled to each embedding vector's norm, and record
KL and top-1 agreement per noise level. Untrained models are sensitive by nature: sensitivity is
described, never judged. Verdicts are for pathologies only: output independent of the input,
NaN under small noise, a causal model influenced by later tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from tbwidgets.checks.tier2._resolve import logits_of, model_device, token_input
from tbwidgets.core.check import Check, register
from tbwidgets.core.context import RunContext, eval_mode
from tbwidgets.core.result import CheckResult, Status
from tbwidgets.loading.model import Task

CHUNK_ELEMENTS = 1 << 25  # logits per forward chunk (128 MiB float32): bounds memory for big vocabs
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Influence:
    """KL at every position `(P, T)` after substituting the token at each of `positions`."""

    positions: list[int]
    kl: torch.Tensor  # (P, T); (P, 1) for models with one output per sequence (classification)

    @property
    def pooled(self) -> bool:
        """One output for the whole sequence: influence is per substituted position, not per distance."""
        return self.kl.shape[1] == 1 and max(self.positions) > 0

    def by_offset(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Offsets q − p `(2T−1,)` and the mean KL at each (NaN where no pair has that offset).

        For pooled outputs: the substituted positions and the KL of the one output.
        """
        if self.pooled:
            return torch.tensor(self.positions), self.kl[:, 0]
        T = self.kl.shape[1]
        offsets = torch.arange(-(T - 1), T)
        total = torch.zeros(2 * T - 1, dtype=torch.float64)
        count = torch.zeros(2 * T - 1, dtype=torch.float64)
        for row, p in enumerate(self.positions):
            idx = torch.arange(T) - p + (T - 1)
            total.index_add_(0, idx, self.kl[row].double())
            count.index_add_(0, idx, torch.ones(T, dtype=torch.float64))
        return offsets, (total / count).float()  # 0/0 → NaN where no pair exists

    def earlier(self) -> torch.Tensor:
        """KL at positions before the substituted one, flattened (empty when p = 0 only)."""
        if self.pooled:
            return self.kl[:0, 0]
        T = self.kl.shape[1]
        mask = torch.arange(T)[None, :] < torch.tensor(self.positions)[:, None]  # (P, T)
        return self.kl[mask]

    def at_or_after(self) -> torch.Tensor:
        if self.pooled:
            return self.kl[:, 0]
        T = self.kl.shape[1]
        mask = torch.arange(T)[None, :] >= torch.tensor(self.positions)[:, None]
        return self.kl[mask]


def kl_rows(clean_logits: torch.Tensor, other_logits: torch.Tensor) -> torch.Tensor:
    """KL(clean ‖ other) over the last axis, in float32: `(..., V)` → `(...)`."""
    p = torch.log_softmax(clean_logits.float(), -1)
    q = torch.log_softmax(other_logits.float(), -1)
    return (p.exp() * (p - q)).sum(-1).clamp_min(0.0)


def _chunk_rows(length: int, vocab: int) -> int:
    return max(2, CHUNK_ELEMENTS // max(1, length * vocab))


@torch.no_grad()
def substitution_influence(
    loaded: Any,
    ids: torch.Tensor,
    *,
    max_positions: int = 16,
    seed: int = 0,
    progress: Progress | None = None,
) -> Influence:
    """Substitute the token at up to `max_positions` evenly spaced positions; KL at every position.

    Each chunk of perturbed rows is run together with the clean row, so clean and perturbed
    outputs come from the same batched computation (no batch-size rounding differences).
    """
    T, vocab = ids.shape[1], loaded.facts.vocab_size
    positions = sorted({round(i * (T - 1) / max(1, max_positions - 1)) for i in range(min(T, max_positions))})
    gen = torch.Generator().manual_seed(seed)
    shift = torch.randint(1, max(2, vocab), (len(positions),), generator=gen)  # never the same token
    rows = ids.repeat(len(positions), 1)  # (P, T)
    for r, p in enumerate(positions):
        rows[r, p] = (ids[0, p] + shift[r].to(ids.device)) % vocab
    per_chunk = _chunk_rows(T, vocab) - 1
    out = []
    for start in range(0, len(positions), per_chunk):
        batch = torch.cat([ids, rows[start : start + per_chunk]])  # clean row first
        with eval_mode(loaded.module):  # dropout would move the output by itself
            logits = logits_of(loaded, batch)  # (1 + P', T, V)
        out.append(kl_rows(logits[:1], logits[1:]).cpu())
        if progress is not None:
            progress(min(1.0, (start + per_chunk) / len(positions)), "token substitution")
    return Influence(positions, torch.cat(out))


@dataclass(frozen=True)
class NoiseCurves:
    """Output change per noise level σ (noise norm = σ × the embedding vector's norm)."""

    levels: list[float]
    kl: list[float]  # mean KL(clean ‖ noisy) over sequences and positions
    top1: list[float]  # share of positions whose argmax is unchanged
    finite: list[bool]  # whether every noisy output was finite


@torch.no_grad()
def noise_curves(
    loaded: Any,
    ids: torch.Tensor,
    levels: Sequence[float],
    *,
    seed: int = 0,
    progress: Progress | None = None,
) -> NoiseCurves:
    """Run `ids` `(B, T)` with Gaussian noise on the token embedding output at each level."""
    emb = loaded.token_embedding
    if emb is None:
        raise ValueError("No token embedding (nn.Embedding) was found to add noise to.")
    gen = torch.Generator().manual_seed(seed)
    sigma = {"value": 0.0}

    def add_noise(module: torch.nn.Module, args: Any, output: torch.Tensor) -> torch.Tensor:
        if sigma["value"] == 0.0:
            return output
        noise = torch.randn(output.shape, generator=gen).to(output.device, output.dtype)
        scale = output.norm(dim=-1, keepdim=True) / output.shape[-1] ** 0.5  # per-vector RMS
        return output + sigma["value"] * scale * noise

    kl, top1, finite = [], [], []
    with eval_mode(loaded.module):  # dropout would move the output by itself
        clean = logits_of(loaded, ids)
    handle = emb.register_forward_hook(add_noise)
    try:
        for i, level in enumerate(levels):
            sigma["value"] = float(level)
            with eval_mode(loaded.module):
                noisy = logits_of(loaded, ids)
            ok = bool(torch.isfinite(noisy).all())
            finite.append(ok)
            kl.append(float(kl_rows(clean, noisy).mean()) if ok else float("nan"))
            top1.append(float((noisy.argmax(-1) == clean.argmax(-1)).float().mean()))
            if progress is not None:
                progress((i + 1) / len(levels), f"noise σ={level:g}")
    finally:
        handle.remove()
    return NoiseCurves([float(x) for x in levels], kl, top1, finite)


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
