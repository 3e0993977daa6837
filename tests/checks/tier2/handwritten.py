"""Hand-written attention in two common styles, with the reference maps computed independently."""

from __future__ import annotations

import math

import torch
from torch import nn

V, D, H = 300, 32, 4


class MinGPTAttention(nn.Module):
    """minGPT style: one fused projection, `softmax(q @ kᵀ · scale)` with a causal buffer, dropout after."""

    def __init__(self) -> None:
        super().__init__()
        self.c_attn, self.c_proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
        self.attn_drop = nn.Dropout(0.1)
        self.register_buffer("bias", torch.tril(torch.ones(128, 128)).view(1, 1, 128, 128))
        self.q_k: tuple[torch.Tensor, torch.Tensor] | None = None  # kept for the test's reference

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in self.c_attn(x).split(C, dim=2))
        self.q_k = (q.detach(), k.detach())
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))  # (B, H, T, T)
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = self.attn_drop(torch.nn.functional.softmax(att, dim=-1))
        return self.c_proj((att @ v).transpose(1, 2).contiguous().view(B, T, C))

    def reference(self) -> torch.Tensor:
        assert self.q_k is not None
        q, k = self.q_k
        T = q.shape[2]
        scores = q[0] @ k[0].transpose(-1, -2) / math.sqrt(q.shape[-1])
        return scores.masked_fill(torch.ones(T, T).triu(1).bool(), float("-inf")).softmax(-1)  # (H, T, T)


class Head(nn.Module):
    """One head of the "let's build GPT" tutorial: its own key/query/value and a manual softmax."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.key, self.query, self.value = (nn.Linear(D, size, bias=False) for _ in range(3))
        self.k_q: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = x.shape[1]
        k, q = self.key(x), self.query(x)
        self.k_q = (k.detach(), q.detach())
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, T, T)
        wei = wei.masked_fill(torch.tril(torch.ones(T, T)) == 0, float("-inf"))
        return wei.softmax(dim=-1) @ self.value(x)

    def reference(self) -> torch.Tensor:
        assert self.k_q is not None
        k, q = self.k_q
        T = k.shape[1]
        wei = q[0] @ k[0].T * k.shape[-1] ** -0.5
        return wei.masked_fill(torch.ones(T, T).triu(1).bool(), float("-inf")).softmax(-1)  # (T, T)


class MultiHead(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.heads = nn.ModuleList(Head(D // H) for _ in range(H))
        self.proj = nn.Linear(D, D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(torch.cat([h(x) for h in self.heads], dim=-1))

    def reference(self) -> torch.Tensor:
        return torch.stack([h.reference() for h in self.heads])  # (H, T, T)


class HandWrittenLM(nn.Module):
    """Two layers of `style` attention ("mingpt" or "per_head") with a minGPT zero-init position table."""

    def __init__(self, style: str) -> None:
        super().__init__()
        self.tok = nn.Embedding(V, D)
        self.pos_emb = nn.Parameter(torch.zeros(1, 128, D))
        make = MinGPTAttention if style == "mingpt" else MultiHead
        self.layers = nn.ModuleList(make() for _ in range(2))
        self.ln = nn.LayerNorm(D)
        self.head = nn.Linear(D, V)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.tok(idx) + self.pos_emb[:, : idx.shape[1]]
        for layer in self.layers:
            x = x + layer(x)
        return self.head(self.ln(x))
