"""Stop at step k, resume, and get the uninterrupted run's losses at every later step (CPU, exact)."""

from __future__ import annotations

import signal
from typing import Any

import pytest
import torch
from fit_helpers import StopAt, small_loaders, tiny_config, tiny_model

from tbwidgets.training.checkpoints import read_checkpoint
from tbwidgets.training.fit import TrainingInterrupted, fit


def _data(kind: str) -> Any:
    return "copy" if kind == "copy" else small_loaders()


@pytest.mark.parametrize(
    ("kind", "changes", "k"),
    [
        ("copy", {}, 5),  # validation every 4 steps, dropout on
        (
            "loaders",
            {"gradient_accumulation_steps": 2, "max_steps": 9},
            4,
        ),  # 3 steps an epoch: crosses epochs
    ],
)
def test_stopped_then_resumed_run_equals_the_uninterrupted_one(
    tmp_path: Any, kind: str, changes: dict, k: int
) -> None:
    cfg = tiny_config(tmp_path, **changes)
    full = fit(tiny_model(), _data(kind), cfg, out_dir=tmp_path / "full")
    stopper = StopAt(k)
    first = fit(
        tiny_model(), _data(kind), cfg, on_event=stopper, stop=stopper.event, out_dir=tmp_path / "cut"
    )
    assert first.stopped and first.steps == k
    assert first.stop_checkpoint is not None and read_checkpoint(first.stop_checkpoint)["global_step"] == k
    # a fresh model with other weights: everything must come from the checkpoint
    resumed = fit(tiny_model(seed=1), _data(kind), cfg, resume_from="last", out_dir=tmp_path / "cut")
    assert resumed.start_step == k and not resumed.stopped
    later = full.history[full.history.step > k].reset_index(drop=True)
    got = resumed.history.reset_index(drop=True)
    assert list(got.step) == list(later.step)
    for column in ("loss", "lr", "grad_norm", "accuracy"):
        torch.testing.assert_close(
            torch.tensor(got[column].to_numpy()), torch.tensor(later[column].to_numpy()), rtol=0, atol=1e-6
        )
    if kind == "copy":
        val = later.dropna(subset=["val_loss"])
        assert list(resumed.history.dropna(subset=["val_loss"]).step) == list(val.step)


def test_ctrl_c_leaves_a_checkpoint_and_raises_keyboard_interrupt(tmp_path: Any) -> None:
    def interrupt(event: Any) -> None:
        if type(event).__name__ == "StepMetrics" and event.step == 3:
            signal.raise_signal(signal.SIGINT)  # what Ctrl-C or a kernel interrupt delivers

    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(TrainingInterrupted) as info:
        fit(tiny_model(), "copy", tiny_config(tmp_path), on_event=interrupt, out_dir=tmp_path / "run")
    exc = info.value
    assert isinstance(exc, KeyboardInterrupt) and exc.step == 3
    assert exc.checkpoint and read_checkpoint(exc.checkpoint)["global_step"] == 3
    assert exc.result is not None and exc.result.stopped and exc.result.steps == 3
    assert signal.getsignal(signal.SIGINT) is before


def test_second_ctrl_c_interrupts_at_once_without_system_exit(tmp_path: Any) -> None:
    def interrupt_twice(event: Any) -> None:
        if type(event).__name__ == "StepMetrics" and event.step == 2:
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)

    with pytest.raises(TrainingInterrupted) as info:
        fit(tiny_model(), "copy", tiny_config(tmp_path), on_event=interrupt_twice, out_dir=tmp_path / "run")
    assert not isinstance(info.value, SystemExit)
