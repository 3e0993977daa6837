"""Answer accuracy: teacher-forced vs generated; a model that reads the future only fools the former."""

from __future__ import annotations

import math

import torch
from data_helpers import fake_loaded

from tbwidgets.training.config import TrainingConfig
from tbwidgets.training.data import make_data
from tbwidgets.training.data.evaluate import answer_accuracy

VOCAB, N = 512, 8


def _one_hot(tokens: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.one_hot(tokens.clamp(min=0), VOCAB).float()  # (B, T, V)


def copier(ids: torch.Tensor) -> torch.Tensor:
    """Causal and correct: at position p predicts the token N + 1 places back (the one to copy)."""
    back = torch.zeros_like(ids)
    back[:, N:] = ids[:, : ids.shape[1] - N]
    return _one_hot(back)


def cheater(ids: torch.Tensor) -> torch.Tensor:
    """Reads the future: at position p predicts ids[p + 1] (what a leaked causal mask allows)."""
    ahead = torch.zeros_like(ids)
    ahead[:, :-1] = ids[:, 1:]
    return _one_hot(ahead)


def test_a_causal_copier_is_right_both_ways_a_cheater_only_teacher_forced() -> None:
    data = make_data("copy", fake_loaded(), TrainingConfig(batch_size=64))
    assert answer_accuracy(copier, data.val) == 1.0
    assert answer_accuracy(copier, data.val, generate=True, max_batches=3) == 1.0
    assert answer_accuracy(cheater, data.val) == 1.0
    assert answer_accuracy(cheater, data.val, generate=True, max_batches=3) < 0.1


def test_no_labelled_position_gives_nan() -> None:
    batch = {"input_ids": torch.ones(2, 12, dtype=torch.long), "labels": torch.full((2, 12), -100)}
    assert math.isnan(answer_accuracy(copier, [batch]))
    assert math.isnan(answer_accuracy(copier, [batch], generate=True))
