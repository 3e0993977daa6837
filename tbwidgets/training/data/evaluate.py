"""Answer accuracy of a language model on TrainingData batches, teacher-forced or generated.

Teacher-forced accuracy (every position sees the true tokens before it) is what the training loop
measures. It cannot expose a model whose attention sees the future (a leaked causal mask): such a
model copies the answer token from the next position. Generated accuracy feeds only the question
and lets the model write the answer greedily, one token at a time, so the future is not there to
copy: a leaky model that looks perfect teacher-forced falls to chance here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

Adapter = Callable[..., torch.Tensor]  # adapter(input_ids, attention_mask=None) -> (B, T, V) logits


@torch.no_grad()
def answer_accuracy(
    adapter: Adapter,
    batches: Iterable[dict[str, Any]],
    *,
    generate: bool = False,
    max_batches: int | None = None,
    device: torch.device | str | None = None,
) -> float:
    """Fraction of labelled causal-LM positions (labels != -100) predicted right; NaN when there are none.

    With `generate`, each row's answer (its labelled tail) is written greedily from the prompt before it;
    rows must share where the answer starts (true for the synthetic tasks).
    """
    hits = total = 0
    for n, batch in enumerate(batches):
        if max_batches is not None and n >= max_batches:
            break
        ids, labels = batch["input_ids"].to(device), batch["labels"].to(device)
        pred = _generated(adapter, ids, labels) if generate else adapter(ids).argmax(-1)[:, :-1]
        target = labels[:, 1:]
        keep = target != -100
        hits += int((pred[keep] == target[keep]).sum())
        total += int(keep.sum())
    return hits / total if total else float("nan")


def _generated(adapter: Adapter, ids: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(B, T-1) predictions where answer positions hold greedily generated tokens."""
    labelled = (labels != -100).any(0).nonzero().flatten()
    if labelled.numel() == 0:
        return torch.zeros_like(ids[:, 1:])
    start = int(labelled[0])  # first answer position: everything before it is the prompt
    seq = ids[:, :start].clone()
    for _ in range(start, ids.shape[1]):
        next_token = adapter(seq).argmax(-1)[:, -1:]  # (B, 1)
        seq = torch.cat([seq, next_token], dim=1)
    pred = torch.zeros_like(ids[:, 1:])
    pred[:, start - 1 :] = seq[:, start:]  # pred[t - 1] is the model's token for position t
    return pred
