"""capture_attention on Hugging Face GPT-2 and BERT built from small configs (no downloads).

Hugging Face models default to `attn_implementation="sdpa"`, where `output_attentions=True` returns
nothing; there the maps come from the intercepted SDPA call. They must equal what the same weights
give in eager mode with `output_attentions=True` (ATOL 1e-3, float16 storage).
"""

from __future__ import annotations

import pytest
import torch

from tbwidgets.checks.tier2.capture import capture_attention
from tbwidgets.loading.model import Task
from tests.checks.tier2.models import loaded

transformers = pytest.importorskip("transformers")
ATOL = 1e-3


def _make(kind: str, impl: str) -> torch.nn.Module:
    if kind == "gpt2":
        return transformers.GPT2LMHeadModel(
            transformers.GPT2Config(
                n_layer=2,
                n_head=4,
                n_embd=32,
                vocab_size=300,
                n_positions=64,
                bos_token_id=0,
                eos_token_id=0,
                attn_implementation=impl,
            )
        )
    return transformers.BertForMaskedLM(
        transformers.BertConfig(
            num_hidden_layers=2,
            num_attention_heads=4,
            hidden_size=32,
            intermediate_size=64,
            vocab_size=300,
            max_position_embeddings=64,
            attn_implementation=impl,
        )
    )


def _pair(kind: str) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The same random model twice: once with SDPA attention, once eager."""
    torch.manual_seed(0)
    sdpa = _make(kind, "sdpa").eval()
    eager = _make(kind, "eager").eval()
    eager.load_state_dict(sdpa.state_dict())
    return sdpa, eager


@pytest.mark.parametrize("kind", ["gpt2", "bert"])
def test_hf_sdpa_and_eager_capture_match_output_attentions(kind: str) -> None:
    sdpa, eager = _pair(kind)
    task = Task.CAUSAL_LM if kind == "gpt2" else Task.MASKED_LM
    ids = torch.arange(5, 21)[None]
    with torch.no_grad():
        ref = torch.stack(
            [a[0] for a in eager(input_ids=ids, output_attentions=True).attentions]
        )  # (L, H, T, T)
    for model in (sdpa, eager):
        maps = capture_attention(loaded(model, task, max_len=64), input_ids=ids)
        assert maps.weights.shape == (2, 4, 16, 16), maps
        torch.testing.assert_close(maps.weights, ref, atol=ATOL, rtol=0)
        assert maps.causal == [kind == "gpt2"] * 2
    if kind == "gpt2":
        assert float(maps.weights.triu(1).abs().max()) == 0.0
