"""Shared pieces of the search tests: a tiny model factory, a model folder for worker processes, a config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tbwidgets.loading.examples.tiny_gpt import TinyGPT, TinyGPTConfig
from tbwidgets.training.config import TrainingConfig

MODEL_PY = """
import torch
from torch import nn


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(32, 16)
        self.pos = nn.Embedding(24, 16)
        self.mix = nn.Linear(16, 16)
        self.head = nn.Linear(16, 32)

    def forward(self, input_ids):
        x = self.tok(input_ids) + self.pos(torch.arange(input_ids.shape[1]))
        return self.head(torch.tanh(self.mix(x)))
"""


def tiny_factory(d_model: int = 16) -> TinyGPT:
    return TinyGPT(
        TinyGPTConfig(vocab_size=32, max_seq_len=24, d_model=d_model, n_heads=2, n_layers=1, dropout=0.0)
    )


def model_folder(tmp_path: Path) -> Path:
    """A model.py folder: a source that worker processes can load by path."""
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    (folder / "model.py").write_text(MODEL_PY)
    return folder


def search_config(tmp_path: Path, **changes: Any) -> TrainingConfig:
    base: dict[str, Any] = {
        "max_steps": 6,
        "batch_size": 16,
        "learning_rate": 3e-3,
        "val_every_n_steps": 2,
        "checkpoint_every_n_steps": None,
        "keep_best": 0,
        "checkpoint_dir": str(tmp_path / "runs"),
        "accelerator": "cpu",
        "validation_split": 0.01,  # 100 copy examples: validation costs little next to the steps
    }
    base.update(changes)
    return TrainingConfig(**base)


def tbwidgets_process(*args: str, log: Path) -> subprocess.Popen[bytes]:
    """`python -m tbwidgets ARGS` in a new process (stdout and stderr to `log`)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    handle = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "tbwidgets", *args], stdout=handle, stderr=subprocess.STDOUT, env=env
    )
