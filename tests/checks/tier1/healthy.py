"""Healthy models of every shape users bring: each must finish Tier 1 with no FAIL and no ERROR."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from tbwidgets.loading import LoadedModel, load_model
from tbwidgets.loading.examples import TB_GIST_DIR

V, D, L = 128, 32, 64  # tiny: the suite's cost is what is being tested, not the model's


class EncoderMLM(nn.Module):
    """A masked-LM built on nn.TransformerEncoder (post-norm, fused fast path in eval)."""

    def __init__(self) -> None:
        super().__init__()
        self.tok = nn.Embedding(V, D)
        self.pos = nn.Embedding(L, D)
        layer = nn.TransformerEncoderLayer(D, 2, 4 * D, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(D, V)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        x = self.tok(input_ids) + self.pos(torch.arange(input_ids.shape[1], device=input_ids.device))
        return self.head(self.encoder(x))


@dataclass
class DecoderOutput:
    logits: torch.Tensor


class MHADecoder(nn.Module):
    """A causal decoder on nn.MultiheadAttention that returns an object with `.logits`."""

    def __init__(self, n_layers: int = 2) -> None:
        super().__init__()
        self.tok = nn.Embedding(V, D)
        self.pos = nn.Embedding(L, D)
        self.attn = nn.ModuleList(
            nn.MultiheadAttention(D, 2, dropout=0.1, batch_first=True) for _ in range(n_layers)
        )
        self.norms = nn.ModuleList(nn.LayerNorm(D) for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(D)
        self.out = nn.Linear(D, V)

    def forward(self, input_ids: torch.Tensor) -> DecoderOutput:
        T = input_ids.shape[1]
        x = self.tok(input_ids) + self.pos(torch.arange(T, device=input_ids.device))
        mask = nn.Transformer.generate_square_subsequent_mask(T, device=input_ids.device)
        for attn, norm in zip(self.attn, self.norms, strict=True):
            h = norm(x)
            x = x + attn(h, h, h, attn_mask=mask, is_causal=True, need_weights=False)[0]
        return DecoderOutput(self.out(self.ln_f(x)))


class Classifier(nn.Module):
    """Sequence classification: (B, T) tokens -> (B, 3) logits."""

    def __init__(self) -> None:
        super().__init__()
        self.tok = nn.Embedding(V, D)
        layer = nn.TransformerEncoderLayer(D, 2, 4 * D, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.classifier = nn.Linear(D, 3)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.encoder(self.tok(input_ids)).mean(dim=1))


def hf_gpt2() -> LoadedModel:
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = GPT2Config(vocab_size=V, n_positions=L, n_embd=D, n_layer=2, n_head=2)
    return load_model(model=GPT2LMHeadModel(cfg))


def hf_bert() -> LoadedModel:
    from transformers import BertConfig, BertForMaskedLM

    cfg = BertConfig(
        vocab_size=V,
        hidden_size=D,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=4 * D,
        max_position_embeddings=L,
    )
    return load_model(model=BertForMaskedLM(cfg))


def _seeded(build: Callable[[], LoadedModel]) -> Callable[[], LoadedModel]:
    def wrapped() -> LoadedModel:
        torch.manual_seed(0)
        return build()

    return wrapped


HEALTHY: dict[str, Callable[[], LoadedModel]] = {
    "example_tiny_gpt": _seeded(load_model),
    "tb_gist_example": _seeded(lambda: load_model(path=TB_GIST_DIR)),
    "transformer_encoder_mlm": _seeded(lambda: load_model(model=EncoderMLM(), task="masked-lm")),
    "mha_decoder_logits_object": _seeded(lambda: load_model(model=MHADecoder(), task="causal-lm")),
    "hf_gpt2": _seeded(hf_gpt2),
    "hf_bert": _seeded(hf_bert),
    "classifier": _seeded(lambda: load_model(model=Classifier(), task="classification")),
}
