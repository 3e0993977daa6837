"""Checks respect the model's dtype: half-precision models get no NaN from the checks' own arithmetic."""

from __future__ import annotations

import pytest
import torch

from tbwidgets.checks.tier1 import NumericalStability, OverfitBatch
from tbwidgets.checks.tier1._dtype import param_dtype, scaled_tol
from tbwidgets.core import Runner, Status
from tbwidgets.loading import load_model
from tests.checks.tier1.zoo import ZooLM


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_overfit_batch_trains_half_precision_models_without_nan(dtype: torch.dtype) -> None:
    """Adam's eps of 1e-8 is 0 in float16: 0/0 on every zero gradient used to give "loss became NaN"."""
    torch.manual_seed(0)
    loaded = load_model(model=ZooLM().to(dtype), task="causal-lm")
    result = Runner(loaded, [OverfitBatch(max_steps=8, time_box_s=60.0)]).run()["tier1.overfit_batch"]
    curve = result.artifacts["loss_curve"]
    assert all(torch.isfinite(torch.tensor(curve))), curve
    assert curve[-1] < curve[0] and result.status is not Status.FAIL, result.summary
    assert param_dtype(loaded.module) is dtype  # the user's model keeps its dtype


def test_half_precision_model_is_not_autocast_to_another_half_dtype() -> None:
    torch.manual_seed(0)
    loaded = load_model(model=ZooLM().to(torch.float16), task="causal-lm")
    result = Runner(loaded, [NumericalStability()]).run()["tier1.numerical_stability"]
    assert result.status is Status.PASS, result.summary
    assert not any("autocast" in str(row.get("input")) for row in result.table or [])


def test_tolerances_scale_with_the_dtype() -> None:
    assert scaled_tol(1e-5, torch.float32) == 1e-5
    assert scaled_tol(1e-5, torch.float16) == pytest.approx(50 * 2**-10)
    assert scaled_tol(1e-5, torch.bfloat16) > scaled_tol(1e-5, torch.float16)


def test_overfit_batch_with_bfloat16_moments_still_memorises() -> None:
    """Big models get a compact optimizer (no momentum, bfloat16 second moment); same verdict."""
    torch.manual_seed(0)
    loaded = load_model(model=ZooLM())
    full = Runner(loaded, [OverfitBatch(time_box_s=60.0)]).run()["tier1.overfit_batch"]
    compact = Runner(loaded, [OverfitBatch(time_box_s=60.0, compact_above=0)]).run()["tier1.overfit_batch"]
    assert full.status is Status.PASS and compact.status is Status.PASS, compact.summary
    curve = compact.artifacts["loss_curve"]
    assert curve[-1] < 0.2 * curve[0] and len(curve) <= 2 * len(full.artifacts["loss_curve"]) + 5
