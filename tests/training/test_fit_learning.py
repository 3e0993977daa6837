"""fit proves learning: the built-in example learns `copy` (> 90 % answer accuracy); two broken copies
of it (attention output detached, attention restricted to the token itself) stay near chance."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from tbwidgets.loading import load_model
from tbwidgets.loading.examples.tiny_gpt import build_example
from tbwidgets.training.config import TrainingConfig
from tbwidgets.training.fit import fit

BUDGET = 300  # optimizer steps: measured 93 % at 250, 100 % at 300 (27 s on a busy 2-core CPU)
CHANCE = 1 / 16  # copy draws from 16 symbols


class DetachedAttention(nn.Module):
    """Planted bug: the attention output is cut from the graph, so attention never trains."""

    def __init__(self, attn: nn.Module) -> None:
        super().__init__()
        self.attn = attn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attn(x).detach()


class SelfOnlyAttention(nn.Module):
    """Planted bug: each position attends only to itself (a diagonal mask), so no token mixing."""

    def __init__(self, attn: nn.Module) -> None:
        super().__init__()
        self.attn = attn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, _, v = self.attn.qkv(x).split(x.shape[-1], dim=2)
        return self.attn.proj(v)  # softmax over one key is 1: the output is the token's own value


def _example(bug: type[nn.Module] | None) -> Any:
    model = build_example(seed=0)
    if bug is not None:
        for block in model.blocks:
            block.attn = bug(block.attn)
    return load_model(model=model)


@pytest.fixture
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # two threads stall on a busy 2-core runner (training-recipes §2)
    yield
    torch.set_num_threads(before)


def _train(bug: type[nn.Module] | None, tmp_path: Path) -> tuple[float, float]:
    cfg = TrainingConfig(
        max_steps=BUDGET,
        batch_size=32,
        learning_rate=1e-3,
        val_every_n_steps=BUDGET,
        validation_split=0.05,
        checkpoint_every_n_steps=None,
        keep_best=0,
        checkpoint_dir=str(tmp_path),
        accelerator="cpu",
    )
    t0 = time.perf_counter()
    result = fit(_example(bug), "copy", cfg, out_dir=tmp_path / "run")
    return result.final["val_accuracy"], time.perf_counter() - t0


@pytest.mark.slow
def test_example_learns_copy(tmp_path: Path, one_thread: None) -> None:
    accuracy, seconds = _train(None, tmp_path)
    print(f"example model, copy, {BUDGET} steps: answer accuracy {accuracy:.1%} in {seconds:.1f}s")
    assert accuracy > 0.9


@pytest.mark.slow
@pytest.mark.parametrize("bug", [DetachedAttention, SelfOnlyAttention])
def test_broken_attention_stays_near_chance(tmp_path: Path, one_thread: None, bug: type[nn.Module]) -> None:
    accuracy, seconds = _train(bug, tmp_path)
    print(f"{bug.__name__}, copy, {BUDGET} steps: answer accuracy {accuracy:.1%} in {seconds:.1f}s")
    assert accuracy < 3 * CHANCE
