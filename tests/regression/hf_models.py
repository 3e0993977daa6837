"""Hugging Face architectures built from tiny configs (no downloads): name → (build, load_model kwargs).

Sizes are the smallest each architecture accepts comfortably: width 32, 2 layers, 2 heads, vocab 128,
64 positions, so that Tier 1 and 2 run in seconds each on a laptop CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

V, D, L, H, FF, T = 128, 32, 2, 2, 64, 64
_IDS = {"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0}  # inside the tiny vocabulary

Case = tuple[Callable[[], nn.Module], dict[str, Any]]


def _tf() -> Any:
    import transformers

    return transformers


def _build(config_name: str, model_name: str, **kwargs: Any) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        tf = _tf()
        torch.manual_seed(0)
        return getattr(tf, model_name)(getattr(tf, config_name)(**kwargs)).eval()

    return build


_LLAMA_LIKE = dict(
    vocab_size=V, hidden_size=D, intermediate_size=FF, num_hidden_layers=L, num_attention_heads=H,
    num_key_value_heads=1, max_position_embeddings=T, **_IDS,
)  # fmt: skip
_BERT_LIKE = dict(
    vocab_size=V, hidden_size=D, num_hidden_layers=L, num_attention_heads=H, intermediate_size=FF,
    max_position_embeddings=T,
)  # fmt: skip

CASES: dict[str, Case] = {
    "gpt2": (
        _build(
            "GPT2Config",
            "GPT2LMHeadModel",
            vocab_size=V,
            n_positions=T,
            n_embd=D,
            n_layer=L,
            n_head=H,
            bos_token_id=1,
            eos_token_id=2,
        ),
        {},
    ),
    "gpt-neo": (
        _build(
            "GPTNeoConfig",
            "GPTNeoForCausalLM",
            vocab_size=V,
            max_position_embeddings=T,
            hidden_size=D,
            num_layers=L,
            num_heads=H,
            attention_types=[[["global", "local"], 1]],
            window_size=16,
            bos_token_id=1,
            eos_token_id=2,
        ),
        {},
    ),
    "gpt-neox": (
        _build(
            "GPTNeoXConfig",
            "GPTNeoXForCausalLM",
            vocab_size=V,
            hidden_size=D,
            num_hidden_layers=L,
            num_attention_heads=H,
            intermediate_size=FF,
            max_position_embeddings=T,
            bos_token_id=1,
            eos_token_id=2,
        ),
        {},
    ),
    "gpt-j": (
        _build(
            "GPTJConfig",
            "GPTJForCausalLM",
            vocab_size=V,
            n_positions=T,
            n_embd=D,
            n_layer=L,
            n_head=H,
            rotary_dim=8,
            bos_token_id=1,
            eos_token_id=2,
        ),
        {},
    ),
    "opt-offset": (
        _build(
            "OPTConfig",
            "OPTForCausalLM",
            vocab_size=V,
            hidden_size=D,
            num_hidden_layers=L,
            ffn_dim=FF,
            num_attention_heads=H,
            max_position_embeddings=130,
            word_embed_proj_dim=D,
            **_IDS,
        ),
        {"config": {"max_seq_len": 128}},
    ),
    "bloom": (
        _build("BloomConfig", "BloomForCausalLM", vocab_size=V, hidden_size=D, n_layer=L, n_head=H, **_IDS),
        {},
    ),
    "falcon": (
        _build(
            "FalconConfig",
            "FalconForCausalLM",
            vocab_size=V,
            hidden_size=D,
            num_hidden_layers=L,
            num_attention_heads=H,
            max_position_embeddings=T,
            bos_token_id=1,
            eos_token_id=2,
        ),
        {},
    ),
    "llama": (_build("LlamaConfig", "LlamaForCausalLM", **_LLAMA_LIKE), {}),
    "llama-2048-context": (
        _build("LlamaConfig", "LlamaForCausalLM", **{**_LLAMA_LIKE, "max_position_embeddings": 2048}),
        {},
    ),
    "mistral": (_build("MistralConfig", "MistralForCausalLM", **_LLAMA_LIKE, sliding_window=16), {}),
    "qwen2": (_build("Qwen2Config", "Qwen2ForCausalLM", **_LLAMA_LIKE), {}),
    "qwen3": (_build("Qwen3Config", "Qwen3ForCausalLM", **_LLAMA_LIKE, head_dim=16), {}),
    "gemma": (_build("GemmaConfig", "GemmaForCausalLM", **_LLAMA_LIKE, head_dim=16), {}),
    "phi": (
        _build(
            "PhiConfig",
            "PhiForCausalLM",
            vocab_size=V,
            hidden_size=D,
            intermediate_size=FF,
            num_hidden_layers=L,
            num_attention_heads=H,
            max_position_embeddings=T,
            bos_token_id=1,
            eos_token_id=2,
        ),
        {},
    ),
    "phi3": (_build("Phi3Config", "Phi3ForCausalLM", **_LLAMA_LIKE), {}),
    "stablelm": (_build("StableLmConfig", "StableLmForCausalLM", **_LLAMA_LIKE), {}),
    "bert": (_build("BertConfig", "BertForMaskedLM", **_BERT_LIKE), {}),
    "roberta-offset": (
        _build("RobertaConfig", "RobertaForMaskedLM", **{**_BERT_LIKE, "max_position_embeddings": 130}),
        {"config": {"max_seq_len": 128}},
    ),
    "xlm-roberta": (
        _build(
            "XLMRobertaConfig", "XLMRobertaForMaskedLM", **{**_BERT_LIKE, "max_position_embeddings": T + 2}
        ),
        {},
    ),
    "distilbert": (
        _build(
            "DistilBertConfig",
            "DistilBertForMaskedLM",
            vocab_size=V,
            dim=D,
            n_layers=L,
            n_heads=H,
            hidden_dim=FF,
            max_position_embeddings=T,
        ),
        {},
    ),
    "deberta-v2": (_build("DebertaV2Config", "DebertaV2ForMaskedLM", **_BERT_LIKE), {}),
    "electra": (_build("ElectraConfig", "ElectraForMaskedLM", **_BERT_LIKE, embedding_size=D), {}),
    "albert": (_build("AlbertConfig", "AlbertForMaskedLM", **_BERT_LIKE, embedding_size=16), {}),
    "bert-classifier": (
        _build("BertConfig", "BertForSequenceClassification", **_BERT_LIKE, num_labels=3),
        {},
    ),
    "roberta-classifier": (
        _build(
            "RobertaConfig",
            "RobertaForSequenceClassification",
            **{**_BERT_LIKE, "max_position_embeddings": T + 2},
            num_labels=2,
        ),
        {},
    ),
}
