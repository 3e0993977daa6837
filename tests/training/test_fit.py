"""fit on a tiny model: events, one history row per optimizer step, the schedule applied, quiet output."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import torch
from fit_helpers import small_loaders, tiny_config, tiny_model

from tbwidgets.loading import load_model
from tbwidgets.training.events import (
    CheckpointSaved,
    StepMetrics,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    ValidationMetrics,
)
from tbwidgets.training.fit import TrainingError, fit
from tbwidgets.training.module import lr_lambda


def test_events_history_schedule_and_checkpoints(tmp_path: Any, capfd: pytest.CaptureFixture[str]) -> None:
    events: list[Any] = []
    cfg = tiny_config(tmp_path, max_steps=8, checkpoint_every_n_steps=3, keep_last=1, max_grad_norm=1e-3)
    result = fit(tiny_model(), "copy", cfg, on_event=events.append, out_dir=tmp_path / "run")
    out, err = capfd.readouterr()
    assert out == "" and "Tip" not in err and "GPU available" not in err and "Epoch" not in err
    assert isinstance(events[0], TrainingStarted) and events[0].total_steps == 8
    assert isinstance(events[-1], TrainingFinished) and events[-1].result is result
    steps = [e.step for e in events if isinstance(e, StepMetrics)]
    assert steps == list(range(1, 9))  # one event per optimizer step, the one axis
    assert [e.step for e in events if isinstance(e, ValidationMetrics)] == [4, 8]
    saved = {(e.step, e.reason) for e in events if isinstance(e, CheckpointSaved)}
    assert {(3, "periodic"), (6, "periodic"), (4, "best"), (8, "final")} <= saved
    h = result.history
    assert list(h.step) == steps and h.loc[h.step == 4, "val_loss"].notna().all()
    assert h.loc[h.step == 3, "val_loss"].isna().all()
    # the LR each step used is warmup then cosine, per optimizer step
    factor = lr_lambda(warmup_steps=2, total_steps=8)
    assert list(h.lr) == pytest.approx([cfg.learning_rate * factor(s) for s in range(8)])
    assert (h.grad_norm > 1e-3).all()  # measured before clipping to 1e-3
    assert ((h.accuracy >= 0) & (h.accuracy <= 1)).all() and (h.tokens_per_s > 0).all()
    # keep_last=1: the step-3 periodic checkpoint was replaced by step 6's
    assert not any("step-0000003-periodic" in p for p in result.checkpoints)
    assert any(p.endswith("step-0000008-final.ckpt") for p in result.checkpoints)
    assert result.best_step in (4, 8) and not result.stopped and result.steps == 8
    data = json.loads(result.to_json(tmp_path / "r.json"))
    assert data["steps"] == 8 and len(data["history"]) == 8 and data["history"][0]["val_loss"] is None


def test_accumulation_counts_optimizer_steps_and_epochs_convert_to_steps(tmp_path: Any) -> None:
    cfg = tiny_config(
        tmp_path,
        max_steps=None,
        epochs=2,
        gradient_accumulation_steps=2,
        val_every_n_steps=None,
        warmup_ratio=0.0,
    )
    train, val = small_loaders()  # 5 batches an epoch -> 3 optimizer steps an epoch (the last one short)
    result = fit(tiny_model(), (train, val), cfg, out_dir=tmp_path / "run")
    assert list(result.history.step) == [1, 2, 3, 4, 5, 6]
    assert list(result.history.epoch) == [0, 0, 0, 1, 1, 1]
    assert not math.isnan(result.final["val_loss"])  # validated at the last step


class NaNAfter(torch.nn.Module):
    """A model whose logits turn NaN from its 4th training call on: a diverged run, made certain."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner, self.calls = inner, 0

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        self.calls += int(self.training)
        logits = self.inner(input_ids)
        return logits * math.nan if self.calls > 3 else logits


def test_divergence_fails_with_advice(tmp_path: Any) -> None:
    events: list[Any] = []
    model = load_model(model=NaNAfter(tiny_model().module))
    cfg = tiny_config(tmp_path, checkpoint_every_n_steps=2)
    with pytest.raises(TrainingError) as info:
        fit(model, "copy", cfg, on_event=events.append, out_dir=tmp_path / "run")
    assert "learning_rate" in info.value.advice and info.value.step == 4
    assert info.value.checkpoint is not None and info.value.checkpoint.endswith("step-0000002-periodic.ckpt")
    assert isinstance(events[-1], TrainingFailed) and "loss became nan at step 4" in events[-1].message


def test_early_stopping_ends_with_a_final_checkpoint(tmp_path: Any) -> None:
    # a learning rate of ~0: the validation loss cannot improve after its first value
    cfg = tiny_config(tmp_path, learning_rate=1e-12, val_every_n_steps=2, early_stopping_patience=2)
    result = fit(tiny_model(dropout=0.0), "copy", cfg, out_dir=tmp_path / "run")
    assert result.steps == 6 and not result.stopped  # validations at 2 (best), 4 and 6 (no better)
    assert result.best_step == 2
    assert any(p.endswith("step-0000006-final.ckpt") for p in result.checkpoints)


def test_bf16_mixed_precision_trains_on_cpu(tmp_path: Any) -> None:
    cfg = tiny_config(tmp_path, max_steps=3, val_every_n_steps=3, precision="bf16-mixed")
    result = fit(tiny_model(), "copy", cfg, out_dir=tmp_path / "run")
    assert (
        result.steps == 3 and math.isfinite(result.final["loss"]) and math.isfinite(result.final["val_loss"])
    )
