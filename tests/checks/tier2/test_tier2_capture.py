"""capture_attention: maps from every supported architecture equal independently computed ones.

Tolerance: maps are stored as float16, so captured and reference maps agree within ATOL = 1e-3
(float16 keeps ~3 decimal digits of values in 0..1).
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from tbwidgets.checks.tier2.capture import capture_attention
from tbwidgets.checks.tier2.sdpa import sdpa_probabilities
from tbwidgets.loading.examples.tiny_gpt import build_example
from tbwidgets.loading.model import Task
from tests.checks.tier2.models import (
    GQALM,
    EncoderLM,
    StoringLM,
    TBStyle,
    causal_mask,
    loaded,
    mha_reference,
)

ATOL = 1e-3


def _rows_sum_to_one(w: torch.Tensor) -> None:
    assert torch.allclose(w.sum(-1), torch.ones(w.shape[:-1]), atol=2e-3)


def _upper_is_zero(w: torch.Tensor) -> None:
    assert float(w.triu(diagonal=1).abs().max()) == 0.0


def test_builtin_example_sdpa_matches_manual_softmax() -> None:
    model = build_example()
    qkv: list[torch.Tensor] = []
    hooks = [b.attn.qkv.register_forward_hook(lambda m, a, o: qkv.append(o)) for b in model.blocks]
    maps = capture_attention(loaded(model), text="Hello, attention!")
    for h in hooks:
        h.remove()
    assert maps.weights.shape == (2, 4, 17, 17)
    assert maps.sources == ["scaled_dot_product_attention"] * 2
    assert maps.layer_names == ["blocks.0.attn", "blocks.1.attn"]
    assert maps.tokens[:5] == ["H", "e", "l", "l", "o"] and maps.tokens[6] == "␣"
    assert maps.data.dtype == torch.float16
    for layer, out in enumerate(qkv[-2:]):
        q, k, _ = out[0].split(64, dim=-1)
        q, k = (t.view(17, 4, 16).transpose(0, 1) for t in (q, k))
        ref = (q @ k.transpose(-1, -2) / 4.0 + causal_mask(17)).softmax(-1)
        torch.testing.assert_close(maps.weights[layer], ref, atol=ATOL, rtol=0)
    _rows_sum_to_one(maps.weights)
    _upper_is_zero(maps.weights)
    assert maps.causal == [True, True]


def test_tb_style_mha_with_need_weights_false_and_positional_args() -> None:
    model = TBStyle()
    maps = capture_attention(loaded(model), input_ids=torch.arange(1, 21))
    assert maps.layer_names == ["mhsa_0", "mhsa_1"] and maps.weights.shape == (2, 4, 20, 20)
    with torch.no_grad():
        for layer, (mha, x) in enumerate(zip((model.mhsa_0, model.mhsa_1), model.inputs, strict=True)):
            torch.testing.assert_close(
                maps.weights[layer], mha_reference(mha, x, causal_mask(20)), atol=ATOL, rtol=0
            )
    _upper_is_zero(maps.weights)


def test_tb_style_without_mask_is_not_causal() -> None:
    maps = capture_attention(loaded(TBStyle(causal=False)), input_ids=torch.arange(1, 11))
    assert maps.causal == [False, False]
    _rows_sum_to_one(maps.weights)


def test_transformer_encoder_fast_path_in_eval_mode() -> None:
    model = EncoderLM().eval()
    inputs: list[torch.Tensor] = []
    for layer in model.encoder.layers:
        layer.register_forward_pre_hook(lambda m, a: inputs.append(a[0]))
    maps = capture_attention(loaded(model, Task.MASKED_LM), input_ids=torch.arange(5, 17))
    assert maps.sources == ["nn.MultiheadAttention"] * 2
    assert maps.layer_names == ["encoder.layers.0.self_attn", "encoder.layers.1.self_attn"]
    with torch.no_grad():
        for i, layer in enumerate(model.encoder.layers):
            torch.testing.assert_close(
                maps.weights[i], mha_reference(layer.self_attn, inputs[i]), atol=ATOL, rtol=0
            )
    assert torch.backends.mha.get_fastpath_enabled()  # restored afterwards
    assert model.training is False


@pytest.mark.parametrize("use_flag", [True, False], ids=["enable_gqa", "repeated-kv-bool-mask"])
def test_grouped_query_attention(use_flag: bool) -> None:
    model = GQALM(use_flag=use_flag)
    ids = torch.arange(3, 15)[None]
    maps = capture_attention(loaded(model), input_ids=ids)
    with torch.no_grad():
        ref = model.reference(ids)
    assert maps.weights.shape == (2, 4, 12, 12)
    for layer in range(2):
        torch.testing.assert_close(maps.weights[layer], ref[layer], atol=ATOL, rtol=0)
    _upper_is_zero(maps.weights)


@pytest.mark.parametrize("returns", [False, True], ids=["attribute", "returned"])
def test_stored_and_returned_weights(returns: bool) -> None:
    model = StoringLM(returns=returns)
    ids = torch.arange(2, 10)[None]
    maps = capture_attention(loaded(model), input_ids=ids)
    assert maps.layer_names == ["layers.0", "layers.1"] and maps.heads_per_layer == [1, 1]
    x = model.emb(ids)
    with torch.no_grad():
        for i, layer in enumerate(model.layers):
            q, k = layer.qk(x).chunk(2, -1)
            ref = (q @ k.transpose(-1, -2) / 4.0).softmax(-1)
            torch.testing.assert_close(maps.weights[i], ref, atol=ATOL, rtol=0)
            y = layer(x)
            x = x + (y[0] if isinstance(y, tuple) else y)


def test_sdpa_probabilities_float_mask_and_dead_rows() -> None:
    q, k = torch.randn(1, 2, 3, 4), torch.randn(1, 2, 3, 4)
    mask = torch.tensor([[0.0, -1.0, float("-inf")]] * 3)
    mask[2] = float("-inf")  # a fully masked row: zeros, not NaN
    p = sdpa_probabilities(q, k, mask)
    ref = (q[0] @ k[0].transpose(-1, -2) / math.sqrt(4) + mask).softmax(-1)
    torch.testing.assert_close(p[:, :2], ref[:, :2])
    assert float(p[:, 2].abs().sum()) == 0.0


def test_no_attention_gives_empty_maps_with_a_note() -> None:
    model = nn.Sequential(nn.Embedding(300, 8), nn.Linear(8, 300))
    maps = capture_attention(loaded(model), text="abc")
    assert maps.n_layers == 0 and "No attention found" in maps.notes[0]


def test_long_inputs_are_cut_to_max_tokens() -> None:
    maps = capture_attention(loaded(build_example()), text="x" * 500, max_tokens=40)
    assert maps.weights.shape[-1] == 40 and "cut from 500" in maps.notes[0]
    assert maps.nbytes == 2 * 2 * 4 * 40 * 40  # float16 (L, H, T, T)


class PreTrainedModel(nn.Module):
    """Stands in for transformers' base class: capture recognises Hugging Face models by this name."""


class OnlyOutputAttentions(PreTrainedModel):
    """Attention computed inline (no module to hook, no SDPA): only `output_attentions=True` exposes it."""

    class config:  # mimics a HF config object (lower-case name on purpose)
        _attn_implementation = "eager"

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(300, 8)
        self.out = nn.Linear(8, 300)

    def forward(self, input_ids: torch.Tensor, output_attentions: bool = False) -> object:
        x = self.emb(input_ids)
        w = (x @ x.transpose(-1, -2)).softmax(-1)[:, None]  # (B, 1, T, T)
        logits = self.out(w[:, 0] @ x)
        return type("Out", (), {"logits": logits, "attentions": (w,) if output_attentions else None})()


def test_hf_output_attentions_is_the_last_resort() -> None:
    model = OnlyOutputAttentions()
    maps = capture_attention(loaded(model), input_ids=torch.arange(1, 7))
    assert maps.sources == ["output_attentions"] and maps.layer_names == ["attentions.0"]
    x = model.emb(torch.arange(1, 7))
    torch.testing.assert_close(maps.weights[0, 0], (x @ x.T).softmax(-1).detach(), atol=1e-3, rtol=0)


@pytest.mark.parametrize(("style", "name"), [("mingpt", "layers.{i}"), ("per_head", "layers.{i}.heads")])
def test_hand_written_softmax_attention_is_captured_and_exact(style: str, name: str) -> None:
    from tests.checks.tier2.handwritten import HandWrittenLM

    torch.manual_seed(0)
    model = HandWrittenLM(style)
    maps = capture_attention(loaded(model), text="Hand-written heads")
    assert maps.weights.shape == (2, 4, 18, 18), maps
    assert maps.sources == ["softmax in forward"] * 2
    assert maps.layer_names == [name.format(i=i) for i in range(2)]
    for i, layer in enumerate(model.layers):
        torch.testing.assert_close(maps.weights[i], layer.reference(), atol=ATOL, rtol=0)
    assert maps.causal == [True, True]


def test_softmax_over_other_axes_is_not_taken_for_attention() -> None:
    class VocabSoftmax(nn.Module):  # a softmax over the vocabulary, shaped (B, T, V) with V != T
        def __init__(self) -> None:
            super().__init__()
            self.emb, self.out = nn.Embedding(300, 8), nn.Linear(8, 300)

        def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
            return self.out(self.emb(input_ids)).softmax(-1).log()

    maps = capture_attention(loaded(VocabSoftmax()), text="abc")
    assert maps.n_layers == 0
    assert "softmax over a (3, 3) score tensor" in maps.notes[0] and "self.attn_weights" in maps.notes[0]
