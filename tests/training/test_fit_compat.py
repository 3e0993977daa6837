"""The reference's Tier 3 names in tbwidgets.compat: test_fine_tuning keys, MetricsTracker rows."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from fit_helpers import tiny_model

import tbwidgets.compat as compat  # not `from … import test_fine_tuning`: pytest would collect it

KEYS = {
    "loss_history",
    "final_loss",
    "initial_loss",
    "training_time_seconds",
    "samples_per_second",
    "metrics_summary",
    "best_epoch",
    "grad_norm_history",
    "amp_enabled",
}


def test_fine_tuning_returns_the_reference_keys_on_variable_length_data(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    g = torch.Generator().manual_seed(0)
    rows = [torch.randint(5, 32, (int(n),), generator=g) for n in torch.randint(6, 17, (30,), generator=g)]
    out = compat.test_fine_tuning(
        tiny_model(),
        None,
        train_data=rows,
        n_epochs=2,
        batch_size=4,
        learning_rate=1e-3,
        out_dir=str(tmp_path),
    )
    assert set(out) >= KEYS
    summary = out["metrics_summary"]
    assert list(summary["epoch"]) == [0, 1]
    assert {"train/loss", "val/loss", "val/perplexity", "learning_rate", "gradient_norm"} <= set(
        summary.columns
    )
    assert summary["val/loss"].notna().all()  # validated at the end of every epoch
    assert out["best_epoch"] in (0, 1) and out["amp_enabled"] is False
    assert len(out["loss_history"]) == len(out["grad_norm_history"]) == 2 * 6  # 24 train rows / 4 per batch
    assert out["initial_loss"] == out["loss_history"][0] and out["samples_per_second"] > 0
    assert capfd.readouterr().out == ""


def test_metrics_tracker_rows_best_epoch_and_scalars() -> None:
    tracker = compat.MetricsTracker(use_wandb=False, gradient_accumulation_steps=2)
    tracker.log_epoch(0, {"loss": 2.0, "accuracy": 0.1}, {"loss": 1.5, "accuracy": 0.2}, 1e-3, 0.5, 3.0)
    row = tracker.log_epoch(1, {"loss": 1.0, "accuracy": 0.4}, {"loss": 1.7, "accuracy": 0.3}, 5e-4, 0.4, 3.0)
    assert row["val/perplexity"] == pytest.approx(math.exp(1.7))
    assert tracker.get_best_epoch() == 0 and tracker.get_best_epoch("train/loss") == 1
    assert list(tracker.get_summary()["epoch"]) == [0, 1]
    tracker.log_scalar("train/loss", 1.0)
    tracker.log_scalar("train/loss", 0.9)
    assert list(tracker.get_step_metrics()["effective_step"]) == [0, 0]
    with pytest.raises(ValueError, match="finite"):
        tracker.log_scalar("train/loss", float("nan"))
    with pytest.raises(ValueError, match="val/accuracy"):
        compat.MetricsTracker().get_best_epoch("val/accuracy")
