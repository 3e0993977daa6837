"""Tier 1 as a suite: isolation of crashes, cancellation, leaving the user's model untouched, measurements."""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn

from tbwidgets.checks import tier_suite
from tbwidgets.checks.tier1 import (
    GradientFlow,
    InferenceSpeed,
    LossAtInit,
    MemoryProfile,
    OverfitBatch,
    ShapeRobustness,
    tier1_suite,
)
from tbwidgets.core import CheckProgress, Runner, Status
from tbwidgets.loading import LoadedModel, load_model
from tests.checks.tier1.zoo import V, ZooLM

IDS = [
    "tier1.shape_robustness",
    "tier1.gradient_flow",
    "tier1.numerical_stability",
    "tier1.parameter_init",
    "tier1.loss_at_init",
    "tier1.causal_leakage",
    "tier1.batch_independence",
    "tier1.padding_invariance",
    "tier1.determinism",
    "tier1.memory_profile",
    "tier1.inference_speed",
    "tier1.overfit_batch",
]


def _zoo(**flags: object) -> LoadedModel:
    torch.manual_seed(0)
    return load_model(model=ZooLM(**flags), task="causal-lm")  # type: ignore[arg-type]


def test_suite_lists_the_twelve_checks_in_order() -> None:
    assert tier1_suite().check_ids == IDS
    assert tier_suite(1).check_ids == IDS


class TrainModeCrash(ZooLM):
    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if self.training:
            raise RuntimeError("boom: this model cannot run in train mode")
        return super().forward(ids)


def test_a_crash_inside_a_check_is_an_error_and_the_suite_goes_on() -> None:
    torch.manual_seed(0)
    report = Runner(load_model(model=TrainModeCrash(), task="causal-lm"), tier1_suite()).run()
    crashed = report["tier1.gradient_flow"]
    assert crashed.status is Status.ERROR and "boom" in (crashed.error or "")
    assert len(report.results) == len(IDS)
    assert report["tier1.numerical_stability"].status is Status.PASS  # ran after the crash
    assert report["tier1.causal_leakage"].status is Status.PASS


def test_cancel_stops_the_running_check_within_a_step() -> None:
    loaded = _zoo()
    slow_speed = InferenceSpeed(max_repeats=10**6, time_box_s=30.0)  # would run a minute uncancelled
    runner = Runner(loaded, [ShapeRobustness(), slow_speed, OverfitBatch()])

    def listener(event: object) -> None:
        if isinstance(event, CheckProgress) and event.check_id == "tier1.inference_speed":
            runner.cancel()

    runner.listeners.append(listener)
    t0 = time.perf_counter()
    report = runner.run()
    assert time.perf_counter() - t0 < 10
    assert report.cancelled
    assert report["tier1.shape_robustness"].status is Status.PASS
    assert report["tier1.inference_speed"].status is Status.SKIPPED
    assert report["tier1.inference_speed"].duration_s < 5
    assert report["tier1.overfit_batch"].summary.startswith("Not run")


def test_gradient_flow_leaves_grads_and_modes_as_they_were() -> None:
    loaded = _zoo()
    model = loaded.module
    model.eval()
    model.blocks[1].train()  # a mixed state must come back exactly
    for p in model.parameters():
        p.grad = torch.full_like(p, 0.5)
    before_modes = [m.training for m in model.modules()]
    before_grads = [p.grad.clone() for p in model.parameters()]  # type: ignore[union-attr]
    assert Runner(loaded, [GradientFlow()]).run()["tier1.gradient_flow"].status is Status.PASS
    assert [m.training for m in model.modules()] == before_modes
    for p, g in zip(model.parameters(), before_grads, strict=True):
        assert p.grad is not None and torch.equal(p.grad, g)


def test_overfit_trains_a_copy_not_the_users_model() -> None:
    loaded = _zoo()
    before = {k: v.clone() for k, v in loaded.module.state_dict().items()}
    result = Runner(loaded, [OverfitBatch()]).run()["tier1.overfit_batch"]
    assert result.status is Status.PASS
    assert result.metrics["final_loss"] < 0.2 * result.metrics["start_loss"]
    assert len(result.artifacts["loss_curve"]) == result.metrics["steps"] + 1
    for k, v in loaded.module.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_memory_profile_measures_activations_on_cpu() -> None:
    result = Runner(load_model(), [MemoryProfile()]).run()["tier1.memory_profile"]
    assert result.status is Status.PASS
    rows = {(r["batch"], r["length"]): r["activation_mb"] for r in result.table or []}
    L = 128
    assert rows[(1, L)] > rows[(1, L // 2)] > rows[(1, L // 4)] > 0  # CPU memory is not "0 MB"
    assert 1.7 < rows[(2, L)] / rows[(1, L)] < 2.3  # linear in batch
    assert 0.8 < result.metrics["length_exponent"] < 2.2
    assert result.metrics["max_batch_at_max_len"] >= 1
    params_mb = sum(p.numel() * 4 for p in load_model().module.parameters()) / 2**20
    assert abs(result.metrics["params_mb"] - params_mb) < 1e-6


def test_memory_profile_warns_when_nothing_fits_the_budget() -> None:
    result = Runner(load_model(), [MemoryProfile(budget_gb=1e-4)]).run()["tier1.memory_profile"]
    assert result.status is Status.WARN and "fits" in result.summary


class SeesTheAnswer(nn.Module):
    """Feeds the next token into position t's logits: loss far below ln(V) at init."""

    def __init__(self) -> None:
        super().__init__()
        self.tok = nn.Embedding(V, 8)
        self.head = nn.Linear(8, V)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        nxt = torch.roll(ids, -1, dims=1)
        return self.head(self.tok(ids)) + 20 * F.one_hot(nxt, V).float()


def test_loss_far_below_chance_is_flagged_as_seeing_the_answer() -> None:
    loaded = load_model(model=SeesTheAnswer(), task="causal-lm", config={"max_seq_len": 32})
    result = Runner(loaded, [LossAtInit()]).run()["tier1.loss_at_init"]
    assert result.status is Status.FAIL and "sees the answer" in result.summary


def test_shape_table_has_one_row_per_case() -> None:
    result = Runner(_zoo(), [ShapeRobustness()]).run()["tier1.shape_robustness"]
    cases = {(r["batch"], r["length"]) for r in result.table or []}
    assert {(1, 1), (1, 32), (8, 32), (3, 17), (2, 16)} <= cases
    assert all(r["status"] == "pass" for r in result.table or [])


def test_overfit_out_of_time_is_a_warning_not_a_verdict_on_the_model() -> None:
    result = Runner(_zoo(), [OverfitBatch(time_box_s=0.0)]).run()["tier1.overfit_batch"]
    assert result.status is Status.WARN and result.summary.startswith("Out of time after 1 step:")


def test_memory_profile_extrapolates_beyond_the_cpu_length_cap() -> None:
    full = Runner(load_model(), [MemoryProfile()]).run().results[0]
    capped = Runner(load_model(), [MemoryProfile(cpu_max_len=64)]).run().results[0]
    assert max(r["length"] for r in capped.table or []) == 64
    assert "extrapolated" in capped.details
    ratio = (
        capped.metrics["activation_mb_per_sample_at_max_len"]
        / full.metrics["activation_mb_per_sample_at_max_len"]
    )
    assert 0.7 < ratio < 1.5  # the power-law estimate lands near the measured value


def test_cancel_during_overfit_stops_training_at_the_next_step() -> None:
    runner = Runner(_zoo(), [OverfitBatch(target_fraction=0.0, patience=10**6, time_box_s=60.0)])

    def listener(event: object) -> None:
        if isinstance(event, CheckProgress) and event.note.startswith("step"):
            runner.cancel()

    runner.listeners.append(listener)
    result = runner.run()["tier1.overfit_batch"]
    assert result.status is Status.SKIPPED and "Stopped" in result.summary
    assert result.duration_s < 5


class LongTable(nn.Module):
    """No attention, a 5000-position table: cheap at any length."""

    def __init__(self) -> None:
        super().__init__()
        self.tok, self.pos, self.head = nn.Embedding(V, 8), nn.Embedding(5000, 8), nn.Linear(8, V)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.tok(ids) + self.pos(torch.arange(ids.shape[1])))


def test_cpu_caps_the_longest_length_tried() -> None:
    result = Runner(load_model(model=LongTable(), task="causal-lm"), [ShapeRobustness()]).run().results[0]
    assert result.status is Status.PASS
    assert max(r["length"] for r in result.table or []) == 4096
    assert "up to 4096" in result.details


def test_checks_do_not_advance_the_users_random_state() -> None:
    loaded = load_model()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    Runner(loaded, tier1_suite()).run()
    assert torch.equal(torch.rand(3), expected)
