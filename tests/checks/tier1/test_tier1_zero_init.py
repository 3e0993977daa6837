"""parameter_init judges an all-zero matrix by its gradient: zero-init styles pass, stuck zeros fail."""

from __future__ import annotations

import pytest
import torch

from tbwidgets.checks.tier1 import ParameterInit, tier1_suite
from tbwidgets.core import Runner, Status
from tbwidgets.loading import load_model
from tests.checks.tier1.zero_init import ZERO_INIT
from tests.checks.tier1.zoo import ZooLM


def _loaded(name: str):
    torch.manual_seed(0)
    return load_model(model=ZERO_INIT[name](), task="causal-lm")


@pytest.mark.parametrize("name", sorted(ZERO_INIT))
def test_zero_init_styles_pass_the_whole_suite(name: str) -> None:
    report = Runner(_loaded(name), tier1_suite()).run()
    problems = [f"{r.check_id}: {r.status} {r.summary}" for r in report.results if r.status.is_problem]
    assert not problems, problems
    assert report["tier1.parameter_init"].status is Status.PASS


@pytest.mark.parametrize("name", ["zero_position_table", "zero_init_residual", "lora_b_zero"])
def test_zero_matrices_that_train_are_noted(name: str) -> None:
    result = Runner(_loaded(name), [ParameterInit()]).run()["tier1.parameter_init"]
    assert result.status is Status.PASS, result.summary
    assert "train from the first step" in result.details
    notes = {row["parameter"]: row["note"] for row in result.table or []}
    assert "all zero, trains from step one" in notes.values()


def test_zero_residual_note_names_what_waits_for_step_two() -> None:
    result = Runner(_loaded("zero_init_residual"), [ParameterInit()]).run()["tier1.parameter_init"]
    assert "hold back the gradient of" in result.details and "attn.qkv" in result.details


def test_two_zeroed_layers_in_a_row_fail_and_are_named() -> None:
    torch.manual_seed(0)
    result = Runner(load_model(model=ZooLM(zero_weight=True), task="causal-lm"), [ParameterInit()]).run()
    verdict = result["tier1.parameter_init"]
    assert verdict.status is Status.FAIL
    assert "mlp.0" in verdict.summary and "mlp.2" in verdict.summary, verdict.summary
    notes = {row["parameter"]: row["note"] for row in verdict.table or []}
    assert notes["blocks.0.mlp.2.weight"] == "all zero, no gradient"


def test_the_users_weights_and_grads_are_untouched() -> None:
    loaded = _loaded("lora_b_zero")
    before = {n: p.detach().clone() for n, p in loaded.module.named_parameters()}
    Runner(loaded, [ParameterInit()]).run()
    for n, p in loaded.module.named_parameters():
        assert torch.equal(p, before[n]), n
        assert p.grad is None, n
