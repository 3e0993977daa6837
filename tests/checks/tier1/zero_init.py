"""Healthy models that zero-initialise parameters on purpose, in the styles real code uses."""

from __future__ import annotations

import torch
from torch import nn

from tests.checks.tier1.zoo import D, L, V, ZooLM


class ZeroPosLM(ZooLM):
    """minGPT/ViT style: a learned position table `nn.Parameter(torch.zeros(1, T, D))` added to tokens."""

    def __init__(self) -> None:
        super().__init__()
        del self.pos
        self.pos_table = nn.Parameter(torch.zeros(1, L, D))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.tok(ids) + self.pos_table[:, : ids.shape[1]]  # (B, T, D)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def zero_residual_lm() -> ZooLM:
    """modded-nanoGPT style: every residual branch's output projection starts at zero."""
    model = ZooLM()
    for block in model.blocks:
        nn.init.zeros_(block.attn.proj.weight)
        nn.init.zeros_(block.mlp[2].weight)
    return model


class LoRALinear(nn.Module):
    """A frozen base weight plus a low-rank update B·A with B = 0 (the LoRA paper's init)."""

    def __init__(self, base: nn.Linear, rank: int = 4) -> None:
        super().__init__()
        self.base = base.requires_grad_(False)
        self.A = nn.Parameter(torch.randn(rank, base.in_features) / rank)
        self.B = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + x @ self.A.T @ self.B.T


def lora_lm() -> ZooLM:
    model = ZooLM()
    for block in model.blocks:
        block.attn.qkv = LoRALinear(block.attn.qkv)
    return model


class LayerScaleLM(ZooLM):
    """CaiT style layer-scale: each block's change is multiplied by a per-channel gamma starting at 0."""

    def __init__(self) -> None:
        super().__init__()
        self.gammas = nn.Parameter(torch.zeros(len(self.blocks), D))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.tok(ids) + self.pos(torch.arange(ids.shape[1], device=ids.device))
        for gamma, block in zip(self.gammas, self.blocks, strict=True):
            x = x + gamma * (block(x) - x)
        return self.head(self.ln_f(x))


ZERO_INIT = {
    "zero_position_table": ZeroPosLM,
    "zero_init_residual": zero_residual_lm,
    "lora_b_zero": lora_lm,
    "layer_scale_zero": LayerScaleLM,
}
__all__ = ["ZERO_INIT", "V"]
