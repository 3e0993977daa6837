"""Healthy models finish Tier 1 with no FAIL and no ERROR (the calibration principle, DESIGN §5)."""

from __future__ import annotations

import math

import pytest

from tbwidgets.checks.tier1 import TIER1_CHECKS, tier1_suite
from tbwidgets.core import Runner, Status
from tbwidgets.loading import Task
from tests.checks.tier1.healthy import HEALTHY

_FAST = (
    "example_tiny_gpt",
    "tb_gist_example",
    "transformer_encoder_mlm",
    "mha_decoder_logits_object",
    "classifier",
)
_SLOW = ("hf_gpt2", "hf_bert")


def _assert_healthy(name: str) -> None:
    loaded = HEALTHY[name]()
    report = Runner(loaded, tier1_suite()).run()
    assert [r.check_id for r in report.results] == [c.check_id for c in TIER1_CHECKS]
    problems = [
        f"{r.check_id}: {r.status} {r.summary}\n{r.error or ''}"
        for r in report.results
        if r.status.is_problem
    ]
    assert not problems, "\n".join(problems)
    for r in report.results:
        assert r.summary and "\n" not in r.summary, r.check_id
        assert all(isinstance(v, float) for v in r.metrics.values()), r.check_id
        if r.status is not Status.SKIPPED:
            assert r.details, f"{r.check_id} gives no details"
    if loaded.task is Task.CLASSIFICATION:
        assert report["tier1.causal_leakage"].status is Status.SKIPPED
    else:
        assert report["tier1.loss_at_init"].status is Status.PASS
        assert math.isclose(report["tier1.loss_at_init"].metrics["ratio"], 1.0, abs_tol=0.15)


@pytest.mark.parametrize("name", _FAST)
def test_healthy_model_has_no_fail_or_error(name: str) -> None:
    _assert_healthy(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", _SLOW)
def test_healthy_hugging_face_model_has_no_fail_or_error(name: str) -> None:
    _assert_healthy(name)


def test_masked_lm_reports_bidirectional_attention_as_expected() -> None:
    result = Runner(HEALTHY["transformer_encoder_mlm"](), tier1_suite()).run()["tier1.causal_leakage"]
    assert result.status is Status.PASS
    assert "bidirectional" in result.summary.lower()


def test_guessed_task_says_how_it_was_guessed_and_how_to_state_it() -> None:
    from tbwidgets.loading import load_model

    loaded = load_model(model=HEALTHY["tb_gist_example"]().module)  # without its config the task is a guess
    assert loaded.task_reason.startswith("guessed")
    from tbwidgets.checks.tier1 import CausalLeakage

    result = Runner(loaded, [CausalLeakage()]).run()["tier1.causal_leakage"]
    assert "guessed" in result.details and "task='masked-lm'" in result.details
