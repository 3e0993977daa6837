"""Lightning stores and restores ResumableLoader's position: a stopped-then-resumed fit sees the same batches.

The engine's own stop/resume test compares losses; this one pins the loader protocol itself against the
installed Lightning (checkpoint saved in on_train_batch_end, recipes §1), mid-epoch and at an epoch's end,
with validation running mid-epoch in between.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from torch.utils.data import Dataset

from tbwidgets.training.data.loader import ResumableLoader

L = pytest.importorskip("lightning", reason="the training stack (requirements-training.txt) is not installed")


class Numbers(Dataset[torch.Tensor]):
    def __len__(self) -> int:
        return 37  # 5 batches of 8 an epoch, the last one short

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.tensor([float(i)])


class Recorder(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(1, 1)
        self.seen: list[tuple[int, ...]] = []

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        self.seen.append(tuple(int(x) for x in batch.flatten()))
        return self.lin(batch).sum()

    def validation_step(self, batch: torch.Tensor, batch_idx: int) -> None:
        self.lin(batch)

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=0.0)


class StopAt(L.Callback):
    def __init__(self, step: int, path: Path) -> None:
        self.step, self.path = step, path

    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if trainer.global_step == self.step and not trainer.should_stop:
            trainer.save_checkpoint(self.path)
            trainer.should_stop = True


def _fit(steps: int, callbacks: list[Any], ckpt: Path | None = None) -> list[tuple[int, ...]]:
    module = Recorder()
    trainer = L.Trainer(
        accelerator="cpu",
        max_steps=steps,
        val_check_interval=2,
        enable_progress_bar=False,
        enable_model_summary=False,
        logger=False,
        enable_checkpointing=False,
        num_sanity_val_steps=0,
        callbacks=callbacks,
    )
    train = ResumableLoader(Numbers(), batch_size=8, seed=5)
    val = ResumableLoader(Numbers(), batch_size=8, seed=5, shuffle=False)
    trainer.fit(module, train, val, ckpt_path=ckpt)
    return module.seen


@pytest.fixture(autouse=True)
def _quiet() -> Any:
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.slow  # four Lightning fits: ~10 s of CPU
@pytest.mark.parametrize("stop", [3, 5])  # mid-epoch; the epoch's last batch
def test_stopped_and_resumed_fit_sees_the_uninterrupted_batches(tmp_path: Path, stop: int) -> None:
    reference = _fit(8, [])
    path = tmp_path / "stop.ckpt"
    first = _fit(8, [StopAt(stop, path)])
    state = torch.load(path, weights_only=False)["loops"]["fit_loop"]["state_dict"]["combined_loader"]
    assert state[0]["batches_consumed"] in (stop, 0) and len(first) == stop
    assert first + _fit(8, [], ckpt=path) == reference
