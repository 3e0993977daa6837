"""Tier 2 through the loader and the Runner: sources, calibration on healthy models, progress, cancel, exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import tbwidgets
from tbwidgets.checks import tier_suite
from tbwidgets.checks.tier2.capture import capture_attention
from tbwidgets.core import CheckProgress, Event, Runner, Status
from tbwidgets.loading import load_model
from tests.checks.tier2.models import GQALM, EncoderLM, mha_reference

TB_GIST = Path(tbwidgets.__file__).parent / "loading" / "examples" / "tb_gist"


def test_public_names() -> None:
    assert tbwidgets.capture_attention is capture_attention
    from tbwidgets.checks.tier2.attribution import integrated_gradients

    assert tbwidgets.integrated_gradients is integrated_gradients
    assert tier_suite(2).check_ids == ["tier2.attention_patterns", "tier2.attribution", "tier2.perturbation"]
    from tbwidgets.checks.tier2 import tier2_suite

    assert all(c.text == "abc" for c in tier2_suite(text="abc").checks)  # type: ignore[attr-defined]


def test_sources_accepted_by_load_model() -> None:
    assert capture_attention(None).sources == ["scaled_dot_product_attention"] * 2  # built-in example
    maps = capture_attention(EncoderLM(), input_ids=[4, 5, 6, 7])  # a bare nn.Module
    assert maps.weights.shape == (2, 4, 4, 4)


def test_tb_gist_example_matches_reference_with_bool_mask() -> None:
    lm = load_model(path=TB_GIST)
    module = lm.module
    inputs: list[torch.Tensor] = []
    for mha in (module.mhsa_0, module.mhsa_1):
        mha.register_forward_pre_hook(
            lambda m, a, kw: inputs.append((a or (kw["query"],))[0]), with_kwargs=True
        )
    maps = capture_attention(lm, text="Transformer Builder")
    T = 19
    mask = torch.zeros(T, T).masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
    with torch.no_grad():
        for i, mha in enumerate((module.mhsa_0, module.mhsa_1)):
            torch.testing.assert_close(
                maps.weights[i], mha_reference(mha, inputs[i], mask), atol=1e-3, rtol=0
            )
    assert maps.causal == [True, True] and float(maps.weights.triu(1).abs().max()) == 0.0


def _healthy_source(name: str) -> object:
    if name == "builtin":
        return None
    if name == "tb-gist":
        return TB_GIST
    if name == "encoder":
        return EncoderLM()
    if name == "gqa":
        return GQALM()
    transformers = pytest.importorskip("transformers")
    cfg = transformers.GPT2Config(n_layer=2, n_head=4, n_embd=32, vocab_size=300, n_positions=64, bos_token_id=0,
                                  eos_token_id=0)  # fmt: skip
    return transformers.GPT2LMHeadModel(cfg)


@pytest.mark.parametrize("name", ["builtin", "tb-gist", "encoder", "gqa", "hf-gpt2"])
def test_random_init_healthy_models_get_no_fail_in_tier2(name: str) -> None:
    source = _healthy_source(name)
    task = "masked-lm" if name == "encoder" else None
    lm = load_model(path=source, task=task) if isinstance(source, Path) else load_model(source, task=task)
    report = Runner(lm, tier_suite(2)).run()
    bad = [(r.check_id, r.status.value, r.summary) for r in report.results if r.status.is_problem]
    assert not bad, bad
    assert [r.status for r in report.results] == [Status.PASS] * 3, report.to_frame()[["check_id", "summary"]]


def test_progress_exports_and_cancellation() -> None:
    events: list[Event] = []
    report = Runner(load_model(), tier_suite(2), listeners=[events.append]).run()
    progressed = {e.check_id for e in events if isinstance(e, CheckProgress)}
    assert progressed == set(tier_suite(2).check_ids)
    frame = report.to_frame()
    assert frame.loc[frame.check_id == "tier2.attribution", "metric.relative_delta"].notna().all()
    assert frame.loc[frame.check_id == "tier2.perturbation", "metric.noise_0.1.top1"].notna().all()
    data = json.loads(report.to_json())
    assert {r["check_id"] for r in data["results"]} == set(tier_suite(2).check_ids)
    assert data["results"][0]["table"][0]["class"]

    runner = Runner(load_model(), tier_suite(2))

    def stop_on_first_progress(event: Event) -> None:
        if isinstance(event, CheckProgress):
            runner.cancel()

    runner.listeners.append(stop_on_first_progress)
    stopped = runner.run()
    assert [r.status for r in stopped.results] == [Status.SKIPPED] * 3 and stopped.cancelled


class MeanPooledClassifier(torch.nn.Module):
    """One output per sequence (B, C): Tier 2 must handle it, not index positions that do not exist."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(300, 16)
        self.attn = torch.nn.MultiheadAttention(16, 2, batch_first=True)
        self.head = torch.nn.Linear(16, 3)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        x = self.emb(input_ids)
        return self.head((x + self.attn(x, x, x)[0]).mean(1))


def test_classifier_with_one_output_per_sequence() -> None:
    lm = load_model(MeanPooledClassifier(), task="classification")
    report = Runner(lm, tier_suite(2)).run()
    assert [r.status for r in report.results] == [Status.PASS] * 3, report.to_frame()[["check_id", "summary"]]
    assert "sequence output" in report["tier2.perturbation"].summary
    assert report["tier2.attribution"].metrics["target"] < 3
    assert report["tier2.attribution"].artifacts["target_token"].startswith("class ")


@pytest.mark.parametrize("style", ["mingpt", "per_head"])
def test_hand_written_attention_gets_the_whole_tier2_suite(style: str) -> None:
    """minGPT-style and per-head attention used to give "No attention layer found"."""
    from tests.checks.tier2.handwritten import HandWrittenLM

    torch.manual_seed(0)
    report = Runner(load_model(model=HandWrittenLM(style), task="causal-lm"), tier_suite(2)).run()
    problems = [f"{r.check_id}: {r.status} {r.summary}" for r in report.results if r.status.is_problem]
    assert not problems, problems
    patterns = report["tier2.attention_patterns"]
    assert patterns.status is not Status.SKIPPED, patterns.summary
