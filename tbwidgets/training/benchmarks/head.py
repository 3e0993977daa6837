"""A classification or regression head on a language model's final hidden states.

The final hidden states are the input of the model's output projection (the last `nn.Linear` whose
outputs are the vocabulary), caught with a forward pre-hook, so any model that ends in such a layer
works without changes. Pooling over real tokens (the attention mask):
- bidirectional models (masked LM): the mean of all real tokens' states;
- causal models: the state of the last real token, the only one that has seen the whole input.
A model whose logits come from something other than a Linear gets its logits pooled instead (noted).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn


def output_projection(model: nn.Module, vocab_size: int) -> nn.Linear | None:
    """The last Linear layer producing `vocab_size` outputs (the LM head), or None."""
    found = [m for m in model.modules() if isinstance(m, nn.Linear) and m.out_features == vocab_size]
    return found[-1] if found else None


def pool(hidden: torch.Tensor, mask: torch.Tensor | None, causal: bool) -> torch.Tensor:
    """(B, T, D) states → (B, D): last real token (causal) or mean over real tokens."""
    if mask is None:
        mask = torch.ones(hidden.shape[:2], dtype=torch.long, device=hidden.device)
    if causal:
        last = mask.long().sum(1).clamp(min=1) - 1  # right padding: the last real position
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    weights = mask.to(hidden.dtype).unsqueeze(-1)  # (B, T, 1)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)


class SequenceHead(nn.Module):
    """`body` (the user's model) + pooling + Linear(hidden, n_outputs); (B,) outputs for regression."""

    def __init__(self, body: nn.Module, adapter: Any, vocab_size: int, n_outputs: int, causal: bool) -> None:
        super().__init__()
        self.body = body
        self.adapter, self.causal, self.n_outputs = adapter, causal, n_outputs
        self.projection = output_projection(body, vocab_size)
        width = self.projection.in_features if self.projection is not None else vocab_size
        self.head = nn.Linear(width, n_outputs)
        self._hidden: torch.Tensor | None = None
        if self.projection is not None:
            self.projection.register_forward_pre_hook(self._catch)

    @property
    def pooling(self) -> str:
        where = (
            "final hidden states"
            if self.projection is not None
            else "output logits (no vocabulary Linear found)"
        )
        return f"{'last token' if self.causal else 'mean'} of the {where}"

    def _catch(self, module: nn.Module, args: tuple[Any, ...]) -> None:
        self._hidden = args[0]

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        self._hidden = None
        logits = self.adapter(input_ids, attention_mask)
        states = self._hidden if self._hidden is not None else logits  # (B, T, D)
        out = self.head(pool(states, attention_mask, self.causal))  # (B, C)
        return out.squeeze(-1) if self.n_outputs == 1 else out


def with_head(loaded: Any, n_outputs: int) -> Any:
    """A LoadedModel whose module is `loaded`'s model + a fresh head (the task becomes classification)."""
    from tbwidgets.loading.model import Task

    causal = loaded.task == Task.CAUSAL_LM
    head = SequenceHead(loaded.module, loaded.adapter, loaded.facts.vocab_size, n_outputs, causal)
    n_params = sum(p.numel() for p in head.parameters())
    facts = dataclasses.replace(loaded.facts, num_labels=n_outputs, n_params=n_params, n_trainable=n_params)
    return dataclasses.replace(
        loaded,
        module=head,
        adapter=head,
        task=Task.CLASSIFICATION,
        task_reason=f"GLUE head: {head.pooling}",
        facts=facts,
    )
