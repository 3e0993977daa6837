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

from tbwidgets.checks.tier2._resolve import logits_of
from tbwidgets.core.context import eval_mode

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
