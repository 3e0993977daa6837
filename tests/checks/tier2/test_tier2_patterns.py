"""tier2.attention_patterns: fair metrics, planted heads classified, calibrated verdicts."""

from __future__ import annotations

import torch

from tbwidgets.checks.tier2.capture import capture_attention
from tbwidgets.checks.tier2.head_metrics import layer_metrics
from tbwidgets.checks.tier2.patterns import AttentionPatterns, describe_heads
from tbwidgets.core import Runner, Status
from tbwidgets.loading.examples.tiny_gpt import build_example
from tests.checks.tier2.models import PlantedLM, TBStyle, copied_heads, loaded


def test_uniform_causal_head_is_fair_not_collapsed() -> None:
    T = 16
    uniform = torch.ones(T, T).tril()
    uniform = (uniform / uniform.sum(-1, keepdim=True))[None]  # row 0 is 1.0 on key 0, as in every causal map
    m = layer_metrics(uniform, causal=True)
    assert abs(float(m["entropy"][0]) - 1.0) < 1e-5  # uniform over visible keys = 1, not "collapsed"
    assert abs(float(m["distance_ratio"][0]) - 1.0) < 1e-5
    assert float(m["max_weight"][0]) < 0.5  # row 0 (one visible key) is left out


def test_planted_previous_token_and_first_token_heads_are_classified() -> None:
    maps = capture_attention(loaded(PlantedLM()), text="planted heads are easy to spot")
    metrics, classes, _ = describe_heads(maps)
    assert classes[0][0] == "previous-token" and float(metrics["previous"][0, 0]) > 0.99
    assert classes[0][1] == "first-token" and float(metrics["sink"][0, 1]) > 0.99
    assert classes[0][2] not in ("previous-token", "first-token")


def test_random_init_models_pass() -> None:
    for model in (build_example(), TBStyle(), copied_heads(build_example(), copy=False)):
        result = Runner(loaded(model), [AttentionPatterns()]).run().results[0]
        assert result.status is Status.PASS, (type(model).__name__, result.summary)
        assert result.metrics["duplicate_pairs"] == 0


def test_sharp_random_heads_are_focused_not_broad() -> None:
    maps = capture_attention(loaded(copied_heads(build_example(), copy=False)))
    _, classes, dups = describe_heads(maps)
    assert {c for layer in classes for c in layer} == {"focused"} and dups == []


def test_copied_heads_warn() -> None:
    result = Runner(loaded(copied_heads(build_example(), copy=True)), [AttentionPatterns()]).run().results[0]
    assert result.status is Status.WARN and "copies" in result.summary
    assert result.metrics["duplicate_pairs"] >= 6  # 4 identical heads = 6 pairs per layer
    assert any(row["duplicate_of"] for row in result.table or [])


def test_unmasked_causal_lm_warns() -> None:
    result = Runner(loaded(TBStyle(causal=False)), [AttentionPatterns()]).run().results[0]
    assert result.status is Status.WARN and "later tokens" in result.summary


def test_nan_attention_fails() -> None:
    model = PlantedLM()
    with torch.no_grad():
        model.attn.qkv.weight[0, 0] = float("nan")
    result = Runner(loaded(model), [AttentionPatterns()]).run().results[0]
    assert result.status is Status.FAIL and "NaN" in result.summary


def test_artifacts_and_table_for_the_explorer() -> None:
    result = Runner(loaded(build_example()), [AttentionPatterns()]).run().results[0]
    art = result.artifacts
    L, H, T, _ = art["maps"].shape
    assert (L, H) == (2, 4) and art["maps"].dtype.name == "float16" and len(art["tokens"]) == T
    assert art["head_metrics"]["entropy"].shape == (2, 4) and len(art["head_classes"][0]) == 4
    assert len(result.table or []) == 8 and {"class", "entropy", "sink", "previous"} <= set(result.table[0])
    assert result.metrics["layer1.entropy"] > 0.9  # untrained TinyGPT heads are near uniform
