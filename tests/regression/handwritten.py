"""Hand-written model styles seen in real user code, written for these tests (tiny: seconds per suite).

Each class is healthy: any FAIL or ERROR on it is a false alarm of tbwidgets.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

V, D, H, T = 96, 32, 2, 48  # vocab, width, heads, max length: small enough for 2 CPU cores


class _MLP(nn.Sequential):
    def __init__(self) -> None:
        super().__init__(nn.Linear(D, 4 * D), nn.GELU(), nn.Linear(4 * D, D))


class SinusoidalEncoderLM(nn.Module):
    """The PyTorch tutorial's sinusoidal table kept as a buffer (max_len, 1, D), used batch-first here,
    with nn.TransformerEncoder layers and a causal mask."""

    def __init__(self, layout: str = "T1D") -> None:
        super().__init__()
        self.tok = nn.Embedding(V, D)
        position = torch.arange(T).unsqueeze(1)
        div = torch.exp(torch.arange(0, D, 2) * (-math.log(10000.0) / D))
        pe = torch.zeros(T, D)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(position * div), torch.cos(position * div)
        self.layout = layout
        self.register_buffer("pe", pe.unsqueeze(1) if layout == "T1D" else pe.unsqueeze(0))
        layer = nn.TransformerEncoderLayer(D, H, 4 * D, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(D, V)

    def forward(self, src: torch.Tensor) -> torch.Tensor:
        n = src.shape[1]
        pos = self.pe[:n].transpose(0, 1) if self.layout == "T1D" else self.pe[:, :n]  # (1, n, D)
        x = self.tok(src) * math.sqrt(D) + pos
        mask = nn.Transformer.generate_square_subsequent_mask(n, device=src.device)
        return self.head(self.encoder(x, mask=mask, is_causal=True))


class Head(nn.Module):
    """One attention head as its own module with a hand-written softmax (lecture-notebook style)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.key, self.query, self.value = (nn.Linear(D, size, bias=False) for _ in range(3))
        self.register_buffer("tril", torch.tril(torch.ones(T, T)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[1]
        k, q = self.key(x), self.query(x)
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, n, n)
        wei = F.softmax(wei.masked_fill(self.tril[:n, :n] == 0, float("-inf")), dim=-1)
        return wei @ self.value(x)


class PerHeadLM(nn.Module):
    """Heads in an nn.ModuleList, concatenated and projected; learned nn.Embedding positions."""

    def __init__(self) -> None:
        super().__init__()
        self.tok, self.pos = nn.Embedding(V, D), nn.Embedding(T, D)
        self.heads = nn.ModuleList([Head(D // H) for _ in range(H)])
        self.proj = nn.Linear(D, D)
        self.ln1, self.ln2, self.ln_f = nn.LayerNorm(D), nn.LayerNorm(D), nn.LayerNorm(D)
        self.mlp = _MLP()
        self.lm_head = nn.Linear(D, V)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        h = self.ln1(x)
        x = x + self.proj(torch.cat([head(h) for head in self.heads], dim=-1))
        x = x + self.mlp(self.ln2(x))
        return self.lm_head(self.ln_f(x))


class OffsetTableLM(nn.Module):
    """Position ids start after the padding index (RoBERTa's scheme): the table has T + 2 rows."""

    PAD = 1

    def __init__(self) -> None:
        super().__init__()
        self.tok = nn.Embedding(V, D, padding_idx=self.PAD)
        self.position_embeddings = nn.Embedding(T + self.PAD + 1, D, padding_idx=self.PAD)
        layer = nn.TransformerEncoderLayer(D, H, 4 * D, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(D, V)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(input_ids.shape[1], device=input_ids.device) + self.PAD + 1
        x = self.tok(input_ids) + self.position_embeddings(pos)
        mask = nn.Transformer.generate_square_subsequent_mask(input_ids.shape[1], device=input_ids.device)
        return self.head(self.encoder(x, mask=mask, is_causal=True))


class DictOutputLM(nn.Module):
    """Returns a dict without 'logits': the scores sit under 'scores' beside hidden states."""

    def __init__(self) -> None:
        super().__init__()
        self.tok, self.pos = nn.Embedding(V, D), nn.Embedding(T, D)
        layer = nn.TransformerEncoderLayer(D, H, 4 * D, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        self.head = nn.Linear(D, V)

    def forward(self, ids: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.tok(ids) + self.pos(torch.arange(ids.shape[1], device=ids.device))
        mask = nn.Transformer.generate_square_subsequent_mask(ids.shape[1], device=ids.device)
        hidden = self.encoder(x, mask=mask, is_causal=True)
        return {"hidden": hidden, "scores": self.head(hidden)}


class SeqFirstLM(nn.Module):
    """The PyTorch tutorial's layout: (length, batch) ids and batch_first=False layers (unsupported)."""

    def __init__(self) -> None:
        super().__init__()
        self.tok, self.pos = nn.Embedding(V, D), nn.Embedding(T, D)
        layer = nn.TransformerEncoderLayer(D, H, 4 * D, dropout=0.0)
        self.encoder = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        self.head = nn.Linear(D, V)

    def forward(self, src: torch.Tensor) -> torch.Tensor:  # src: (length, batch)
        x = self.tok(src) + self.pos(torch.arange(src.shape[0], device=src.device)).unsqueeze(1)
        return self.head(self.encoder(x))
