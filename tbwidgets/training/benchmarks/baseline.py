"""The same-budget baseline: a standard pre-LN Transformer with the user's model's parameter count.

GPT-2 style (tied token embedding and output, learned positions, pre-LN blocks with a 4× GELU MLP,
a final LayerNorm), causal for causal models and bidirectional otherwise, with the same vocabulary,
maximum length and number of layers. Its width is the multiple of the head count whose parameter
count is closest to the user's model, so a score difference reflects the architecture, not its size.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class PreLNTransformer(nn.Module):
    def __init__(
        self, vocab_size: int, max_len: int, d_model: int, n_layers: int, n_heads: int, causal: bool
    ) -> None:
        super().__init__()
        self.causal = causal
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, 4 * d_model, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # tied, as in GPT-2
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        # GPT-2's N(0, 0.02): with PyTorch's N(0, 1) embeddings the tied head starts with huge logits
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        T = input_ids.shape[1]
        x = self.tok_emb(input_ids) + self.pos_emb(torch.arange(T, device=input_ids.device))  # (B, T, D)
        mask = (
            nn.Transformer.generate_square_subsequent_mask(T, device=input_ids.device)
            if self.causal
            else None
        )
        padding = (attention_mask == 0) if attention_mask is not None and not self.causal else None
        x = self.blocks(x, mask=mask, src_key_padding_mask=padding, is_causal=self.causal)
        return self.head(self.ln_f(x))  # (B, T, V)


def parameter_count(vocab: int, max_len: int, d: int, layers: int) -> int:
    """Parameters of PreLNTransformer (tied head): embeddings + blocks + final norm."""
    per_block = (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d) + 4 * d
    return vocab * d + max_len * d + layers * per_block + 2 * d


def choose_width(target: int, vocab: int, max_len: int, layers: int, heads: int) -> int:
    widths = range(heads, 4097, heads)
    return min(widths, key=lambda d: abs(parameter_count(vocab, max_len, d, layers) - target))


def build_baseline(loaded: Any, seed: int = 0) -> Any:
    """A LoadedModel of the baseline matching `loaded` (vocabulary, length, layers, parameters, task)."""
    from tbwidgets.loading import load_model
    from tbwidgets.loading.model import Task

    facts = loaded.facts
    layers = facts.n_layers or 2
    heads = 4 if facts.n_params > 50_000 else 2
    d = choose_width(facts.n_params, facts.vocab_size, facts.max_len, layers, heads)
    causal = loaded.task == Task.CAUSAL_LM
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = PreLNTransformer(facts.vocab_size, facts.max_len, d, layers, heads, causal)
    return load_model(model=model, task=loaded.task.value)
