"""AttentionExplorer: payload budgets, head messages, masks, state without float JSON, attribution."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from ipywidgets.widgets.widget import _remove_buffers

from tbwidgets.widgets._explorer_payload import decode_payload, synthetic_maps
from tbwidgets.widgets.explorer import AttentionExplorer, float_json_arrays, state_size


def _decode(content: dict, buffers: list) -> np.ndarray:
    raw = np.frombuffer(bytes(buffers[0]), dtype=np.dtype(content["dtype"])).reshape(content["shape"])
    row_scale = np.frombuffer(bytes(buffers[content["row_scale"]["buffer"]]), dtype=np.float32)
    return raw.astype(np.float32) * row_scale[:, None]


@pytest.fixture(scope="module")
def small_maps() -> torch.Tensor:
    return synthetic_maps(3, 5, 40, causal=True, seed=1)


@pytest.fixture(scope="module")
def explorer(small_maps: torch.Tensor) -> AttentionExplorer:
    return AttentionExplorer(maps=small_maps, tokens=[f"t{i}" for i in range(40)])


def test_head_message_round_trip_within_quantisation_error(explorer, small_maps):
    for layer, head in [(0, 0), (1, 3), (2, 4)]:
        content, buffers = explorer.head_message(layer, head)
        assert content["type"] == "head" and content["shape"] == [40, 40] and content["dtype"] == "uint8"
        decoded = _decode(content, buffers)
        truth = small_maps[layer, head].float().numpy()
        # uint8 with a per-row scale: at most half a step (row max/510) off, plus float16 input rounding
        bound = truth.max(axis=1, keepdims=True) / 510 + truth * 1e-3 + 1e-6
        assert (np.abs(decoded - truth) <= bound).all()


def test_head_average_message(explorer, small_maps):
    content, buffers = explorer.head_message(1, 5)  # n_heads means the layer's average
    assert content["average"] is True
    truth = small_maps[1].float().mean(0).numpy()
    bound = truth.max(axis=1, keepdims=True) / 255 + 2e-3
    assert (np.abs(_decode(content, buffers) - truth) <= bound).all()


def test_bad_head_names_the_shape(explorer):
    with pytest.raises(IndexError, match="3 layers × 5 heads"):
        explorer.head_message(3, 0)


def test_causal_region_is_flagged_masked_not_zero():
    causal = AttentionExplorer(maps=synthetic_maps(1, 2, 16, causal=True))
    full = AttentionExplorer(maps=synthetic_maps(1, 2, 16, causal=False))
    assert causal.head_message(0, 0)[0]["mask"] == "causal"
    assert full.head_message(0, 1)[0]["mask"] == "none"
    assert causal.overview["causal"] == [True] and full.overview["causal"] == [False]
    # thumbnails: cells above the diagonal are marked invisible, so the front end hatches them
    visible = decode_payload(causal.overview["visible"])
    assert visible[0, 0, -1] == 0 and visible[0, -1, 0] == 255


def test_state_has_no_float_json_arrays(explorer):
    state, _paths, buffers = _remove_buffers(explorer.get_state())
    assert float_json_arrays(state) == []
    assert buffers, "thumbnails and metrics must travel as binary buffers"
    assert not re.search(r"\d\.\d{4,}", str(state["overview"]["classes"]))


def test_thumbnails_in_one_buffer_with_layer_average(explorer):
    thumbs = explorer.overview["thumbs"]
    assert thumbs["dtype"] == "uint8" and thumbs["shape"] == [3, 6, 32, 32]
    stats = decode_payload(explorer.overview["stats"])
    assert stats.shape == (3, 5, len(explorer.overview["stats"]["names"]))


def test_planted_heads_get_their_class(explorer):
    # synthetic_maps cycles previous-token, first-token, self, local, broad over (layer + head)
    assert explorer.overview["classes"][0][:3] == ["previous-token", "first-token", "self"]


def test_budgets_grow_with_heads_not_with_length():
    ex = AttentionExplorer(maps=synthetic_maps(12, 12, 128, seed=2))
    size = state_size(ex)
    assert size["total"] <= 2_000_000
    # 144 thumbnails (and 12 layer averages) of 32×32 bytes dominate; tokens and metrics are small
    assert size["buffers"] >= 12 * 13 * 32 * 32


def test_one_head_at_1024_tokens_within_budget():
    maps = synthetic_maps(1, 5, 1024, seed=3)
    ex = AttentionExplorer(maps=maps)
    content, buffers = ex.head_message(0, 4)  # a broad head: weights near 1/i in row i
    assert sum(memoryview(b).nbytes for b in buffers) + len(str(content)) <= 1_100_000
    # per-row scales keep long rows exact to ~0.2% of their max (a per-head scale would round them to 0)
    truth = maps[0, 4].float().numpy()
    rows = _decode(content, buffers)
    assert np.abs(rows[1000] - truth[1000]).max() <= truth[1000].max() / 500 + truth[1000].max() * 1e-3


def test_float32_input_is_not_modified():
    maps = synthetic_maps(1, 2, 24).float()
    before = maps.clone()
    AttentionExplorer(maps=maps)
    assert torch.equal(maps, before)


def test_front_end_request_is_answered_with_a_buffer(explorer, monkeypatch):
    sent = []
    monkeypatch.setattr(explorer, "send", lambda content, buffers=None: sent.append((content, buffers)))
    explorer._on_front_end_msg(explorer, {"type": "head", "layer": 2, "head": 1, "seq": 7}, [])
    explorer._on_front_end_msg(explorer, {"type": "head", "layer": 9, "head": 1, "seq": 8}, [])
    assert (
        sent[0][0]["seq"] == 7
        and len(bytes(sent[0][1][0])) == 40 * 40
        and len(bytes(sent[0][1][1])) == 40 * 4
    )
    assert sent[1][0]["type"] == "error" and "layers" in sent[1][0]["message"]


def test_tokens_must_match_length(small_maps):
    with pytest.raises(ValueError, match="one token per position"):
        AttentionExplorer(maps=small_maps, tokens=["a", "b"])


def test_maps_must_be_square():
    with pytest.raises(ValueError, match=r"\(layers, heads, T, T\)"):
        AttentionExplorer(maps=torch.rand(2, 3, 4, 5))


def test_repr_is_stable(explorer):
    assert repr(explorer) == (
        "<AttentionExplorer 3 layers × 5 heads × 40 tokens (causal) | attribution: none>"
    )
