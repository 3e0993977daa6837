"""tier2.perturbation: influence maps and noise curves; verdicts only for planted pathologies."""

from __future__ import annotations

from typing import Any

import torch

from tbwidgets.checks.tier2.perturbation import substitution_influence
from tbwidgets.checks.tier2.perturbation_check import Perturbation
from tbwidgets.core import CheckResult, Runner, Status
from tbwidgets.loading.examples.tiny_gpt import build_example
from tbwidgets.loading.model import Task
from tests.checks.tier2.models import EncoderLM, IgnoresInput, SqrtOfDifference, TBStyle, loaded


def _run(model: torch.nn.Module, task: Task = Task.CAUSAL_LM, **kw: Any) -> CheckResult:
    return Runner(loaded(model, task), [Perturbation(**kw)]).run().results[0]


def test_causal_model_is_never_influenced_by_later_tokens() -> None:
    lm = loaded(build_example())
    ids = torch.arange(40, 72)[None]
    with torch.no_grad():
        infl = substitution_influence(lm, ids, max_positions=8)
    assert infl.positions[0] == 0 and infl.positions[-1] == 31 and infl.kl.shape == (8, 32)
    assert float(infl.earlier().abs().max()) == 0.0  # exactly: earlier outputs cannot see the change
    assert float(infl.at_or_after().mean()) > 0.0


def test_healthy_random_init_models_pass_with_curves() -> None:
    for model, task in (
        (build_example(), Task.CAUSAL_LM),
        (TBStyle(), Task.CAUSAL_LM),
        (EncoderLM(), Task.MASKED_LM),
    ):
        r = _run(model, task)
        assert r.status is Status.PASS, (type(model).__name__, r.summary)
        art = r.artifacts
        assert art["noise_levels"] == [0.0, 0.01, 0.03, 0.1, 0.3, 1.0]
        assert art["noise_kl"][0] == 0.0 and art["noise_top1"][0] == 1.0  # no noise, no change
        assert art["noise_kl"][-1] > art["noise_kl"][1]  # more noise moves the output more
        assert art["influence"].shape == (16, 64) and len(r.table or []) == 6


def test_masked_lm_may_look_both_ways() -> None:
    r = _run(EncoderLM(), Task.MASKED_LM)
    assert r.status is Status.PASS and r.metrics["earlier_max_kl"] > 0.0


def test_causal_lm_without_mask_fails() -> None:
    r = _run(TBStyle(causal=False))
    assert r.status is Status.FAIL and "LATER tokens" in r.summary


def test_output_independent_of_input_fails() -> None:
    r = _run(IgnoresInput())
    assert r.status is Status.FAIL and "does not depend on the input" in r.summary


def test_nan_under_small_noise_fails() -> None:
    r = _run(SqrtOfDifference())
    assert r.status is Status.FAIL and "σ=0.01" in r.summary
