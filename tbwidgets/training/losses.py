"""Loss and metrics per task, as plain functions of logits and labels (no Lightning here).

Labels use -100 for "no loss here" (padding, prompts, unmasked tokens). Every function returns the
summed loss and counts, never a mean over zero items: a batch with no target token gives loss 0 and
`count` 0 instead of NaN, and the caller divides only when the count is positive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100

PERPLEXITY_LOSS_CAP = 20.0
"""Perplexity is exp(min(loss, 20)) ≈ 4.9e8 at most: an untrained model's loss is ln(vocab) (≈ 6.2 for
512 tokens, ≈ 10.8 for 50k), so the cap only clips diverged runs, whose curves would otherwise hit inf."""


@dataclass
class BatchStats:
    """Sums over one batch: `loss` is a mean over targets (graph attached), the rest detached counts."""

    loss: torch.Tensor
    n_targets: torch.Tensor  # positions (or sequences) that carry a label
    n_correct: torch.Tensor
    n_tokens: torch.Tensor | int  # input tokens processed (attention mask applied), for tokens/s


def perplexity(loss: float) -> float:
    """exp(loss) capped at exp(PERPLEXITY_LOSS_CAP); NaN stays NaN."""
    if math.isnan(loss):
        return math.nan
    return math.exp(min(loss, PERPLEXITY_LOSS_CAP))


def _token_stats(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, ...]:
    flat_logits = logits.reshape(-1, logits.shape[-1]).float()  # fp32 CE: stable under bf16/fp16
    flat_labels = labels.reshape(-1)
    keep = flat_labels != IGNORE_INDEX
    n = keep.sum()
    summed = F.cross_entropy(flat_logits, flat_labels, ignore_index=IGNORE_INDEX, reduction="sum")
    loss = summed / n.clamp(min=1)  # 0 / 1 when nothing is labelled: no NaN, no gradient
    with torch.no_grad():
        correct = ((flat_logits.argmax(-1) == flat_labels) & keep).sum()
    return loss, n.detach(), correct


def causal_lm_stats(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Next-token CE: position t predicts label t+1 (labels are aligned with input_ids)."""
    return _token_stats(logits[:, :-1], labels[:, 1:])  # (B, T-1, V) vs (B, T-1)


def masked_lm_stats(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """CE on the masked positions only (labels are -100 elsewhere)."""
    return _token_stats(logits, labels)


def classification_stats(
    logits: torch.Tensor, labels: torch.Tensor, attention_mask: torch.Tensor | None
) -> tuple[torch.Tensor, ...]:
    """CE over sequences. Per-token logits (B, T, C) are read at each sequence's last real token."""
    if logits.dim() == 3:
        if attention_mask is None:
            last = torch.full((logits.shape[0],), logits.shape[1] - 1, device=logits.device)
        else:
            last = attention_mask.long().sum(1).clamp(min=1) - 1
        logits = logits[torch.arange(logits.shape[0], device=logits.device), last]  # (B, C)
    return _token_stats(logits, labels)


def regression_stats(
    logits: torch.Tensor, labels: torch.Tensor, attention_mask: torch.Tensor | None
) -> tuple[torch.Tensor, ...]:
    """MSE (in float32) of one score per sequence; "correct" is NaN: accuracy means nothing here."""
    if logits.dim() == 3:  # (B, T, 1): the score at each sequence's last real token
        last = (
            attention_mask.long().sum(1).clamp(min=1) - 1
            if attention_mask is not None
            else torch.full((logits.shape[0],), logits.shape[1] - 1, device=logits.device)
        )
        logits = logits[torch.arange(logits.shape[0], device=logits.device), last]
    scores = logits.reshape(logits.shape[0], -1)[:, 0].float()  # (B,)
    loss = F.mse_loss(scores, labels.float().reshape(-1))
    n = torch.tensor(labels.shape[0], device=labels.device)
    return loss, n, torch.tensor(math.nan, device=labels.device)


def batch_stats(kind: str, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> BatchStats:
    """Loss, target count and correct count for one batch of the given task kind."""
    labels = batch["labels"]
    mask = batch.get("attention_mask")
    if kind == "causal-lm":
        loss, n, correct = causal_lm_stats(logits, labels)
    elif kind == "masked-lm":
        loss, n, correct = masked_lm_stats(logits, labels)
    elif kind == "classification":
        loss, n, correct = classification_stats(logits, labels, mask)
    elif kind == "regression":
        loss, n, correct = regression_stats(logits, labels, mask)
    else:
        raise ValueError(
            f"unknown task kind {kind!r}; expected causal-lm, masked-lm, classification or regression"
        )
    ids = batch["input_ids"]
    # A tensor, not int(): converting here would sync with the GPU on every micro-batch.
    n_tokens = mask.sum() if mask is not None else ids.numel()
    return BatchStats(loss, n, correct, n_tokens)
