"""Fixture models for Tier 2 tests, each with a way to compute its attention independently."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from tbwidgets.loading.adapter import ModelAdapter
from tbwidgets.loading.model import LoadedModel, ModelFacts, Provenance, Task


def loaded(module: nn.Module, task: Task = Task.CAUSAL_LM, max_len: int = 128) -> LoadedModel:
    """A LoadedModel built by hand (the loader is tested elsewhere)."""
    emb = next(m for m in module.modules() if isinstance(m, nn.Embedding))
    n = sum(p.numel() for p in module.parameters())
    facts = ModelFacts(
        emb.num_embeddings, max_len, "test", n, n, torch.device("cpu"), torch.float32, pad_token_id=0
    )
    return LoadedModel(
        module,
        ModelAdapter(module),
        type(module).__name__,
        task,
        "test",
        facts,
        Provenance("module"),
        token_embedding=emb,
        token_embedding_name="emb",
    )


def mha_reference(
    mha: nn.MultiheadAttention, x: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Per-head softmax(q kᵀ/√d + mask) of an nn.MultiheadAttention from its own weights, `(H, T, T)`."""
    d, H = mha.embed_dim, mha.num_heads
    q, k, _ = F.linear(x[0], mha.in_proj_weight, mha.in_proj_bias).split(d, dim=-1)  # (T, d) each
    q = q.view(-1, H, d // H).transpose(0, 1)
    k = k.view(-1, H, d // H).transpose(0, 1)  # (H, T, hd)
    scores = q @ k.transpose(-1, -2) / math.sqrt(d // H)
    if mask is not None:
        scores = scores + mask
    return scores.softmax(-1)


def causal_mask(T: int) -> torch.Tensor:
    return torch.full((T, T), float("-inf")).triu(1)


class TBStyle(nn.Module):
    """Transformer Builder export shape: flat attributes, positional `input_0_tokens`, MHA batch_first."""

    def __init__(self, vocab: int = 300, d: int = 32, heads: int = 4, causal: bool = True) -> None:
        super().__init__()
        self.causal = causal
        self.embedding_0_token = nn.Embedding(vocab, d)
        self.embedding_0_pos = nn.Embedding(128, d)
        self.mhsa_0 = nn.MultiheadAttention(d, heads, batch_first=True)
        self.layernorm_0 = nn.LayerNorm(d)
        self.mhsa_1 = nn.MultiheadAttention(d, heads, batch_first=True)
        self.layernorm_1 = nn.LayerNorm(d)
        self.ffn_0 = nn.Sequential(nn.Linear(d, 2 * d), nn.ReLU(), nn.Linear(2 * d, d))
        self.output_0 = nn.Linear(d, vocab)
        self.inputs: list[torch.Tensor] = []  # inputs of mhsa_0/1, kept for the reference maps

    def forward(self, input_0_tokens: torch.Tensor) -> torch.Tensor:
        T = input_0_tokens.shape[1]
        x = self.embedding_0_token(input_0_tokens) + self.embedding_0_pos(torch.arange(T))
        mask = causal_mask(T) if self.causal else None
        self.inputs = [x]
        x = self.layernorm_0(x + self.mhsa_0(x, x, x, attn_mask=mask, need_weights=False)[0])
        self.inputs.append(x)
        a, _ = self.mhsa_1(x, x, x, None, True, mask)  # positional arguments, as some exports do
        x = self.layernorm_1(x + a)
        return self.output_0(x + self.ffn_0(x))


class EncoderLM(nn.Module):
    """An nn.TransformerEncoder stack (fused fast path in eval mode)."""

    def __init__(self, vocab: int = 300, d: int = 32, heads: int = 4, layers: int = 2) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        layer = nn.TransformerEncoderLayer(d, heads, 64, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.out = nn.Linear(d, vocab)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.out(self.encoder(self.emb(input_ids)))


class GQAAttention(nn.Module):
    def __init__(self, d: int, heads: int, kv_heads: int, use_flag: bool) -> None:
        super().__init__()
        self.h, self.kv, self.hd, self.use_flag = heads, kv_heads, d // heads, use_flag
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, kv_heads * self.hd)
        self.v = nn.Linear(d, kv_heads * self.hd)
        self.o = nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        q = self.q(x).view(B, T, self.h, self.hd).transpose(1, 2)  # (B, H, T, hd)
        k = self.k(x).view(B, T, self.kv, self.hd).transpose(1, 2)  # (B, KV, T, hd)
        v = self.v(x).view(B, T, self.kv, self.hd).transpose(1, 2)
        if self.use_flag:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True, scale=0.3)
        else:  # repeated kv heads and an explicit boolean mask
            rep = self.h // self.kv
            mask = torch.ones(T, T, dtype=torch.bool).tril()
            y = F.scaled_dot_product_attention(
                q, k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1), attn_mask=mask, scale=0.3
            )
        return self.o(y.transpose(1, 2).reshape(B, T, -1))


class GQALM(nn.Module):
    def __init__(self, vocab: int = 300, d: int = 32, use_flag: bool = True) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.attn = nn.ModuleList(GQAAttention(d, 4, 2, use_flag) for _ in range(2))
        self.out = nn.Linear(d, vocab)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        x = self.emb(input_ids)
        for a in self.attn:
            x = x + a(x)
        return self.out(x)

    def reference(self, ids: torch.Tensor) -> list[torch.Tensor]:
        x, maps = self.emb(ids), []
        for a in self.attn:
            q = a.q(x)[0].view(-1, 4, a.hd).transpose(0, 1)
            k = a.k(x)[0].view(-1, 2, a.hd).transpose(0, 1).repeat_interleave(2, 0)
            T = ids.shape[1]
            maps.append((q @ k.transpose(-1, -2) * 0.3 + causal_mask(T)).softmax(-1))
            x = x + a(x)
        return maps


class StoringAttention(nn.Module):
    """Keeps its softmax weights in `self.attn_weights` and returns them too when asked."""

    def __init__(self, d: int, returns: bool) -> None:
        super().__init__()
        self.qk = nn.Linear(d, 2 * d)
        self.returns = returns
        self.attn_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        q, k = self.qk(x).chunk(2, -1)
        w = (q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])).softmax(-1)  # (B, T, T): one head
        if self.returns:
            return w @ x, w
        self.attn_weights = w
        return w @ x


class StoringLM(nn.Module):
    def __init__(self, vocab: int = 300, d: int = 16, returns: bool = False) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(StoringAttention(d, returns) for _ in range(2))
        self.out = nn.Linear(d, vocab)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        x = self.emb(input_ids)
        for layer in self.layers:
            y = layer(x)
            x = x + (y[0] if isinstance(y, tuple) else y)
        return self.out(x)


class PlantedAttention(nn.Module):
    """Four causal SDPA heads; head 0 is planted to look at the previous token, head 1 at the first."""

    def __init__(self, d: int, plant: bool = True) -> None:
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d)
        self.o = nn.Linear(d, d)
        self.plant = plant

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = (t.view(B, T, 4, C // 4).transpose(1, 2) for t in self.qkv(x).split(C, -1))
        bias = causal_mask(T).expand(4, T, T).clone()  # (H, T, T)
        if self.plant:
            i = torch.arange(1, T)
            bias[0, i, i - 1] += 30.0  # previous-token head
            bias[1, :, 0] += 30.0  # first-token (sink) head
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias[None])
        return self.o(y.transpose(1, 2).reshape(B, T, C))


class PlantedLM(nn.Module):
    def __init__(self, vocab: int = 300, d: int = 32) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(128, d)
        self.attn = PlantedAttention(d)
        self.out = nn.Linear(d, vocab)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        x = self.emb(input_ids) + self.pos(torch.arange(input_ids.shape[1]))
        return self.out(x + self.attn(x))


class IgnoresInput(nn.Module):
    """Planted bug: the embedding is multiplied by zero, so the output never depends on the tokens."""

    def __init__(self, vocab: int = 300, d: int = 16) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.out = nn.Linear(d, vocab)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.out(self.emb(input_ids) * 0.0)


class SqrtOfDifference(nn.Module):
    """Planted bug: sqrt of a quantity that is exactly 0 on clean input and negative under any noise."""

    def __init__(self, vocab: int = 300, d: int = 16) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.out = nn.Linear(d, vocab)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        x = self.emb(input_ids)
        return self.out(x + torch.sqrt(x - self.emb.weight[input_ids]))


def copied_heads(model: nn.Module, copy: bool) -> nn.Module:
    """TinyGPT with sharp random q/k weights; with `copy`, every head gets head 0's q/k/v weights."""
    with torch.no_grad():
        for block in model.blocks:
            w = block.attn.qkv.weight  # (3C, C): rows of q, k, v, 16 per head
            w[:128].normal_(0.0, 0.5)
            if copy:
                for part in range(3):
                    base = w[part * 64 : part * 64 + 16].clone()
                    for h in range(1, 4):
                        w[part * 64 + 16 * h : part * 64 + 16 * (h + 1)] = base
                block.attn.qkv.bias.zero_()
    return model
