"""Shared pieces of the fit tests: a tiny model, a tiny config, small resumable loaders."""

from __future__ import annotations

from typing import Any

import torch

from tbwidgets.loading import LoadedModel, load_model
from tbwidgets.loading.examples.tiny_gpt import TinyGPT, TinyGPTConfig
from tbwidgets.training.config import TrainingConfig
from tbwidgets.training.data import ResumableLoader


def tiny_model(seed: int = 0, dropout: float = 0.1) -> LoadedModel:
    """A 1-layer GPT with a 32-token vocabulary: a step takes milliseconds on a CPU."""
    torch.manual_seed(seed)
    cfg = TinyGPTConfig(vocab_size=32, max_seq_len=24, d_model=32, n_heads=2, n_layers=1, dropout=dropout)
    return load_model(model=TinyGPT(cfg))


def tiny_config(tmp_path: Any, **changes: Any) -> TrainingConfig:
    base: dict[str, Any] = {
        "max_steps": 12,
        "batch_size": 8,
        "learning_rate": 3e-3,
        "warmup_ratio": 0.25,
        "val_every_n_steps": 4,
        "checkpoint_every_n_steps": None,
        "checkpoint_dir": str(tmp_path / "runs"),
        "accelerator": "cpu",
    }
    base.update(changes)
    return TrainingConfig(**base)


class _Rows(torch.utils.data.Dataset):  # type: ignore[type-arg]
    def __init__(self, n: int, length: int, vocab: int, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(5, vocab, (n, length), generator=g)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


def small_loaders(n: int = 20, batch_size: int = 4, seed: int = 0) -> tuple[ResumableLoader, ResumableLoader]:
    """Resumable loaders over n random sequences: 5 batches an epoch, so runs cross epochs."""
    train = ResumableLoader(_Rows(n, 16, 32, seed), batch_size=batch_size, seed=seed)
    val = ResumableLoader(_Rows(8, 16, 32, seed + 1), batch_size=batch_size, seed=seed, shuffle=False)
    return train, val


class StopAt:
    """Listener that sets a Stop event once step `k` is reported."""

    def __init__(self, k: int) -> None:
        import threading

        self.k, self.event = k, threading.Event()

    def __call__(self, event: Any) -> None:
        if getattr(event, "step", None) == self.k and type(event).__name__ == "StepMetrics":
            self.event.set()
