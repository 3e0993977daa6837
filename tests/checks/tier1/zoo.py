"""Bug zoo: tiny language models that each plant exactly one bug, plus healthy models of several shapes.

`ZooLM(**flags)` with no flags is a healthy pre-LN causal transformer; each flag plants one bug.
`BUGS` maps a bug name to (model factory, load_model config, the check that must FAIL, a phrase the
FAIL summary must contain).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

V, D, H, L = 64, 32, 2, 32  # vocab, width, heads, max length: tiny and fast


class Attention(nn.Module):
    def __init__(self, mask: str, pad_use: str = "key", kv_cache: bool = False) -> None:
        super().__init__()
        self.qkv, self.proj, self.mask = nn.Linear(D, 3 * D), nn.Linear(D, D), mask
        self.pad_use = pad_use  # "key": correct; "ignore" or "additive01": padding bugs
        self.kv_cache = kv_cache  # carried state: eval calls keep and reuse earlier keys/values
        self.past: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in self.qkv(x).split(C, dim=2))
        k, v, P = self._cached(k, v)
        scores = q @ k.transpose(-2, -1) / math.sqrt(C // H)  # (B, H, T, P + T)
        if self.mask != "none":
            diagonal = 2 if self.mask == "off_by_one" else 1  # off-by-one: position t also sees t+1
            ones = torch.ones(T, P + T, dtype=torch.bool, device=x.device)
            scores = scores.masked_fill(torch.triu(ones, diagonal=P + diagonal), float("-inf"))
        if real is not None and self.pad_use == "key":
            scores = scores.masked_fill(~real[:, None, None, :], float("-inf"))
        elif real is not None and self.pad_use == "additive01":  # bug: 0/1 added, pads keep weight
            scores = scores + real[:, None, None, :].float()
        y = scores.softmax(-1) @ v  # (B, H, T, hd)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))

    def _cached(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
        """The bug: in eval mode, earlier calls' keys/values are prepended and never reset."""
        if not self.kv_cache or self.training:
            return k, v, 0
        T = k.shape[2]
        if self.past is not None and self.past[0].shape[0] == k.shape[0]:  # same batch: reuse
            k = torch.cat([self.past[0], k], dim=2)[:, :, -2 * L :]
            v = torch.cat([self.past[1], v], dim=2)[:, :, -2 * L :]
        self.past = (k.detach(), v.detach())
        return k, v, k.shape[2] - T


class Block(nn.Module):
    def __init__(
        self, mask: str, norms: bool, detach: bool = False, inplace: bool = False, **attn: Any
    ) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(D) if norms else nn.Identity()
        self.attn = Attention(mask, **attn)
        self.ln_2 = nn.LayerNorm(D) if norms else nn.Identity()
        self.mlp = nn.Sequential(nn.Linear(D, 4 * D), nn.GELU(), nn.Linear(4 * D, D))
        self.detach, self.inplace = detach, inplace

    def forward(self, x: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
        a = self.attn(self.ln_1(x), real)
        x = x + (a.detach() if self.detach else a)  # detach: the attention never learns
        h = self.mlp(self.ln_2(x))
        if self.inplace:
            g = torch.sigmoid(h)  # sigmoid saves its output for backward ...
            g.mul_(2.0)  # ... which this in-place op then overwrites
            h = h * g
        return x + h


class ZooLM(nn.Module):
    """A small causal LM; every keyword plants one bug (all False: healthy)."""

    def __init__(
        self,
        mask: str = "causal",
        n_layers: int = 2,
        pos_len: int = L,
        norms: bool = True,
        init_std: float | None = None,
        out_width: int = V,
        logit_scale: float = 1.0,
        unused_module: bool = False,
        detach_block: bool = False,
        batch_mix: bool = False,
        eval_dropout: bool = False,
        hard_batch: int | None = None,
        nan_token: int | None = None,
        inplace: bool = False,
        zero_weight: bool = False,
        kv_cache: bool = False,
    ) -> None:
        super().__init__()
        self.tok = nn.Embedding(V, D)
        self.pos = nn.Embedding(pos_len, D)
        self.blocks = nn.ModuleList(
            Block(mask, norms, detach=detach_block and i == 0, inplace=inplace, kv_cache=kv_cache)
            for i in range(n_layers)
        )
        self.ln_f = nn.LayerNorm(D) if norms else nn.Identity()
        self.head = nn.Linear(D, out_width)
        if unused_module:
            self.extra = nn.Linear(D, D)  # defined, never called
        self.logit_scale, self.batch_mix, self.eval_dropout = logit_scale, batch_mix, eval_dropout
        self.hard_batch, self.nan_token = hard_batch, nan_token
        if init_std is not None:
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, std=init_std)
        if zero_weight:  # both MLP layers zeroed: each blocks the other's gradient, forever
            mlp = self.blocks[0].mlp
            for p in (mlp[0].weight, mlp[0].bias, mlp[2].weight):
                nn.init.zeros_(p)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        T = ids.shape[1]
        x = self.tok(ids) + self.pos(torch.arange(T, device=ids.device))  # (B, T, D)
        if self.nan_token is not None:
            x = x.masked_fill((ids == self.nan_token).unsqueeze(-1), float("nan"))
        if self.batch_mix:
            x = x + x.mean(dim=0, keepdim=True)  # every sample sees the batch average
        if self.eval_dropout:
            x = F.dropout(x, 0.1, training=True)  # ignores model.eval()
        if self.hard_batch is not None:
            x = x.view(self.hard_batch, T, D)  # only works for one batch size
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x)) * self.logit_scale  # (B, T, out_width)


class MaskedEncoder(ZooLM):
    """A bidirectional masked LM with forward(input_ids, attention_mask=None); `pad_use` plants mask bugs."""

    def __init__(self, pad_use: str = "key") -> None:
        super().__init__(mask="none")
        for block in self.blocks:
            block.attn.pad_use = pad_use

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        T = input_ids.shape[1]
        real = attention_mask.bool() if attention_mask is not None else None
        x = self.tok(input_ids) + self.pos(torch.arange(T, device=input_ids.device))
        for block in self.blocks:
            x = block(x, real)
        return self.head(self.ln_f(x))


class SigmoidStack(nn.Module):
    """Deep stack of Linear + sigmoid blocks, no residuals, no norms: gradients vanish with depth."""

    def __init__(self, depth: int = 12) -> None:
        super().__init__()
        self.tok = nn.Embedding(V, D)
        self.pos = nn.Embedding(L, D)
        self.blocks = nn.ModuleList(nn.Sequential(nn.Linear(D, D), nn.Sigmoid()) for _ in range(depth))
        self.head = nn.Linear(D, V)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.tok(ids) + self.pos(torch.arange(ids.shape[1], device=ids.device))
        for block in self.blocks:
            x = block(x)
        return self.head(x)


class TBNoMask(nn.Module):
    """A Transformer Builder export whose nn.MultiheadAttention gets no causal mask (a common real bug)."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding_0_token = nn.Embedding(V, D)
        self.embedding_0_pos = nn.Embedding(L, D)
        for i in range(2):
            setattr(self, f"mhsa_{i}", nn.MultiheadAttention(D, H, batch_first=True))
            setattr(self, f"layernorm_{i}", nn.LayerNorm(D))
            setattr(self, f"ffn_{i}", nn.Sequential(nn.Linear(D, 4 * D), nn.GELU(), nn.Linear(4 * D, D)))
        self.output_0_proj = nn.Linear(D, V)

    def forward(self, input_0_tokens: torch.Tensor) -> torch.Tensor:
        T = input_0_tokens.shape[1]
        x = self.embedding_0_token(input_0_tokens) + self.embedding_0_pos(torch.arange(T))
        for i in range(2):
            x = x + getattr(self, f"mhsa_{i}")(x, x, x, need_weights=False)[0]  # no attn_mask
            x = getattr(self, f"layernorm_{i}")(x + getattr(self, f"ffn_{i}")(x))
        return self.output_0_proj(x)


@dataclass(frozen=True)
class Bug:
    factory: Callable[[], nn.Module]
    check_id: str
    phrase: str  # must appear in the FAIL summary (case-insensitive)
    config: dict[str, Any] | None = None
    task: str | None = "causal-lm"  # None: let the loader guess, as for a gist


BUGS: dict[str, Bug] = {
    "no_causal_mask": Bug(lambda: ZooLM(mask="none"), "tier1.causal_leakage", "causal leak"),
    "tb_export_without_mask": Bug(TBNoMask, "tier1.causal_leakage", "causal leak", task=None),
    "off_by_one_mask": Bug(lambda: ZooLM(mask="off_by_one"), "tier1.causal_leakage", "off-by-one"),
    "module_never_called": Bug(lambda: ZooLM(unused_module=True), "tier1.gradient_flow", "extra"),
    "detached_sub_block": Bug(lambda: ZooLM(detach_block=True), "tier1.gradient_flow", "attn in blocks 0"),
    "batch_mixing": Bug(lambda: ZooLM(batch_mix=True), "tier1.batch_independence", "samples mix"),
    "dropout_in_eval": Bug(lambda: ZooLM(eval_dropout=True), "tier1.determinism", "dropout"),
    "short_position_table": Bug(
        lambda: ZooLM(pos_len=L // 2), "tier1.shape_robustness", "position table", {"max_seq_len": L}
    ),
    "hard_coded_batch": Bug(lambda: ZooLM(hard_batch=4), "tier1.shape_robustness", "batch 1"),
    "output_width_not_vocab": Bug(
        lambda: ZooLM(out_width=V - 1), "tier1.shape_robustness", "expected logits"
    ),
    "nan_on_token": Bug(lambda: ZooLM(nan_token=37), "tier1.numerical_stability", "37"),
    "exploding_init": Bug(
        lambda: ZooLM(norms=False, init_std=1.0, n_layers=4), "tier1.parameter_init", "activations grow"
    ),
    "deep_sigmoid_stack": Bug(SigmoidStack, "tier1.gradient_flow", "vanishing"),
    "huge_logit_scale": Bug(lambda: ZooLM(logit_scale=100.0), "tier1.loss_at_init", "far above chance"),
    "inplace_backward": Bug(lambda: ZooLM(inplace=True), "tier1.gradient_flow", "backward pass fails"),
    "ignored_mask": Bug(
        lambda: MaskedEncoder(pad_use="ignore"), "tier1.padding_invariance", "padding moves", task="masked-lm"
    ),
    "mask_added_as_0_1": Bug(
        lambda: MaskedEncoder(pad_use="additive01"),
        "tier1.padding_invariance",
        "padding moves",
        task="masked-lm",
    ),
    "kv_cache_never_reset": Bug(lambda: ZooLM(kv_cache=True), "tier1.determinism", "earlier calls"),
    "all_zero_weight": Bug(lambda: ZooLM(zero_weight=True), "tier1.parameter_init", "all-zero weight matrix"),
}
